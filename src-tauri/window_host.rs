//! The window process: shows the Settings and Activity windows for the tray process that
//! started it ([`crate::window_process`] says why they live apart), and nothing else.
//!
//! Its pages call commands as in any Tauri app. Closing a window and the native choosers are
//! done here, where the window is; every other command goes to the tray process over the wire
//! ([`crate::wire`]) and its reply comes back as the command's result, so the pages cannot tell
//! the difference. Status and events from the tray become the same UI events as before.
//!
//! It ends when the tray says so (no window for a while) or when the tray's end of the pipe
//! closes (the app quit or crashed): a window never outlives the engine it shows.

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::value::RawValue;
use tauri::ipc::{Invoke, InvokeBody, InvokeError, InvokeResponseBody};
use tauri::{AppHandle, Emitter as _, Manager as _, RunEvent, WebviewWindow};
use tokio::sync::{mpsc, oneshot};

use crate::lock;
use crate::windows::{self, AppWindow};
use crate::wire::{self, ToTray, ToWindows};

/// Lines waiting to be written to the tray.
const QUEUE: usize = 256;

/// The commands carried out in this process; every other one goes to the tray.
pub(crate) const LOCAL_COMMANDS: &[&str] = &["pick_folder", "pick_older_config", "close_window"];

type Reply = Result<Box<RawValue>, Box<RawValue>>;

/// The way to the tray process: numbered calls and their replies. Cheap to clone.
#[derive(Clone)]
struct Tray(Arc<TrayInner>);

struct TrayInner {
    to_tray: mpsc::Sender<String>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    next_id: AtomicU64,
}

impl Tray {
    /// Carries out `command` in the tray process.
    async fn call(&self, command: String, args: Box<RawValue>) -> Reply {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, replied) = oneshot::channel();
        lock(&self.0.pending).insert(id, reply);
        let sent = self
            .0
            .to_tray
            .send(wire::line(&ToTray::Call { id, command, args }))
            .await;
        if sent.is_err() {
            lock(&self.0.pending).remove(&id);
            return Err(tray_gone());
        }
        replied.await.unwrap_or_else(|_| Err(tray_gone()))
    }

    /// Tells the tray how many windows are open.
    fn report(&self, app: &AppHandle) {
        let open = app.webview_windows().len();
        let _ = self.0.to_tray.try_send(wire::line(&ToTray::Windows(open)));
    }

    fn replied(&self, id: u64, result: Reply) {
        if let Some(waiting) = lock(&self.0.pending).remove(&id) {
            let _ = waiting.send(result);
        }
    }
}

/// What a command answers when the tray process is gone.
fn tray_gone() -> Box<RawValue> {
    let error = crate::bridge::UiError::new(
        "unavailable",
        "Immich Sync has stopped; start it again to see its settings and activity",
    );
    serde_json::value::to_raw_value(&error).unwrap_or_default()
}

/// Runs the window process, first showing `first`. Returns when the tray ends it.
pub fn run(first: AppWindow) {
    // Named apart from the tray process in system monitors (`/proc/PID/comm`, 15 bytes).
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes, which outlives
    // the call.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, c"immich-sync-ui".as_ptr());
    }
    // Its log lines go to stderr, which the tray writes into the app's log.
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let to_tray_file = match wire_output() {
        Ok(file) => file,
        Err(error) => {
            eprintln!("immich-sync: the window process has no way to the tray: {error}");
            std::process::exit(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("immich-sync: the window process cannot start: {error}");
            std::process::exit(1);
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());

    let (to_tray, mut outgoing) = mpsc::channel::<String>(QUEUE);
    std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(to_tray_file);
        while let Some(line) = outgoing.blocking_recv() {
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    let tray = Tray(Arc::new(TrayInner {
        to_tray,
        pending: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    }));

    let local = local_commands();
    let setup_tray = tray.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(tray.clone())
        .invoke_handler(move |invoke| {
            if LOCAL_COMMANDS.contains(&invoke.message.command()) {
                local(invoke)
            } else {
                forward(invoke)
            }
        })
        .setup(move |app| {
            let handle = app.handle().clone();
            listen_to_tray(handle.clone(), setup_tray.clone());
            windows::open(&handle, first);
            setup_tray.report(&handle);
            Ok(())
        })
        .build(crate::context());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("immich-sync: cannot show a window: {error}");
            std::process::exit(1);
        }
    };
    app.run(move |app, event| match event {
        // The last window closed: the tray decides when this process ends.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::WindowEvent {
            event: tauri::WindowEvent::Destroyed,
            ..
        } => tray.report(app),
        _ => {}
    });
    drop(runtime);
}

/// Reads the tray's messages on a thread of its own until the tray says to end or is gone.
fn listen_to_tray(app: AppHandle, tray: Tray) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<ToWindows>(&line) {
                Ok(ToWindows::Open(label)) => {
                    let Some(window) = AppWindow::parse(&label) else {
                        continue;
                    };
                    let handle = app.clone();
                    let tray = tray.clone();
                    let _ = app.run_on_main_thread(move || {
                        windows::open(&handle, window);
                        tray.report(&handle);
                    });
                }
                Ok(ToWindows::Emit { event, payload }) => {
                    let _ = app.emit_str(&event, String::from(Box::<str>::from(payload)));
                }
                Ok(ToWindows::Reply { id, result }) => tray.replied(id, result),
                Ok(ToWindows::Exit) => break,
                Err(error) => tracing::warn!("unreadable message from the tray: {error}"),
            }
        }
        app.exit(0);
        // Should its event loop be stuck, the process still ends.
        std::thread::sleep(std::time::Duration::from_secs(5));
        std::process::exit(0);
    });
}

/// The commands carried out here ([`LOCAL_COMMANDS`]).
fn local_commands() -> impl Fn(Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![pick_folder, pick_older_config, close_window]
}

/// Sends a command the page called to the tray and answers the page with its reply.
fn forward(invoke: Invoke) -> bool {
    let Some(tray) = invoke
        .message
        .webview_ref()
        .try_state::<Tray>()
        .map(|t| t.inner().clone())
    else {
        return false;
    };
    let command = invoke.message.command().to_owned();
    let args = match invoke.message.payload() {
        InvokeBody::Json(value) => serde_json::value::to_raw_value(value).unwrap_or_default(),
        InvokeBody::Raw(_) => {
            invoke.resolver.reject("this command takes JSON arguments");
            return true;
        }
    };
    invoke.resolver.respond_async_serialized(async move {
        match tray.call(command, args).await {
            Ok(value) => Ok(InvokeResponseBody::Json(String::from(Box::<str>::from(
                value,
            )))),
            Err(error) => Err(InvokeError::from(
                serde_json::from_str::<serde_json::Value>(error.get()).unwrap_or_default(),
            )),
        }
    });
    true
}

/// Standard output carries the wire to the tray. So that nothing else printed there (a
/// library's stray line) can break a message, the wire gets a descriptor of its own and
/// standard output is pointed at standard error.
#[cfg(unix)]
fn wire_output() -> std::io::Result<std::fs::File> {
    use std::os::fd::AsFd as _;
    let wire = std::io::stdout().as_fd().try_clone_to_owned()?;
    // SAFETY: dup2 of two descriptors this process owns (0..2 are always open here); nothing
    // else writes to standard output at this point, before any thread starts.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(std::fs::File::from(wire))
}

#[cfg(not(unix))]
fn wire_output() -> std::io::Result<std::fs::File> {
    use std::os::windows::io::AsHandle as _;
    Ok(std::fs::File::from(
        std::io::stdout().as_handle().try_clone_to_owned()?,
    ))
}

/// Set by the end-to-end tests: WebDriver cannot reach the native chooser, so the test names
/// the folder the "user" picks. Everything after the chooser runs as usual.
const TEST_PICK_FOLDER: &str = "IMMICH_SYNC_TEST_PICK_FOLDER";

/// Set by the end-to-end tests: the older service's `config.toml` the "user" picks.
const TEST_PICK_FILE: &str = "IMMICH_SYNC_TEST_PICK_FILE";

/// The native folder picker.
#[tauri::command]
async fn pick_folder(app: AppHandle) -> Option<String> {
    choose(app, TEST_PICK_FOLDER, Choose::Folder).await
}

/// The native file picker, for the older service's `config.toml`.
#[tauri::command]
async fn pick_older_config(app: AppHandle) -> Option<String> {
    choose(app, TEST_PICK_FILE, Choose::OlderConfig).await
}

/// Closes the calling window (it is destroyed, not hidden).
#[tauri::command]
fn close_window(window: WebviewWindow) {
    let _ = window.close();
}

/// What a native chooser picks.
enum Choose {
    /// A folder to sync.
    Folder,
    /// The older service's `config.toml`.
    OlderConfig,
}

/// Opens the native chooser on a blocking thread; `test_env` names the path a test picks.
async fn choose(app: AppHandle, test_env: &str, what: Choose) -> Option<String> {
    use tauri_plugin_dialog::DialogExt;
    if let Ok(path) = std::env::var(test_env) {
        return Some(path);
    }
    let picked = tauri::async_runtime::spawn_blocking(move || {
        let dialog = app.dialog().file();
        match what {
            Choose::Folder => dialog
                .set_title("Choose a folder to sync")
                .blocking_pick_folder(),
            Choose::OlderConfig => dialog
                .set_title("Choose the older sync service's config.toml")
                .add_filter("Configuration", &["toml"])
                .blocking_pick_file(),
        }
    })
    .await
    .ok()
    .flatten()?;
    picked
        .into_path()
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}
