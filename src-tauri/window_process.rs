//! The windows live in a process of their own: the tray starts it when a window opens and ends
//! it [`LINGER`] after the last one closed.
//!
//! Why: a webview leaves memory in the process that showed it for the rest of that process's
//! life. On Linux, WebKitGTK keeps its GL display (Mesa's software driver and its 44 MB of
//! LLVM), and the pages of WebKit and JavaScriptCore it read stay resident; closing the window
//! gives none of it back, so an app that had shown Activity once sat 30 MB above its idle size
//! for good. In a process of its own, all of that ends with the process, and the tray process
//! never loads a GL driver at all (it has nothing to draw with one; see [`crate::run`]).
//!
//! The window process shows the same pages and they call the same commands. It carries out
//! only what belongs to a window (closing it, the native file choosers); every other command
//! is sent here and carried out by [`crate::commands::call`], next to the engine, the settings
//! and the keychain. Status and events reach it as they reached the windows before
//! ([`crate::bridge`]), and only while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tauri::AppHandle;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::oneshot;

use crate::lock;
use crate::windows::AppWindow;
use crate::wire::{self, ToTray, ToWindows};

/// How long the window process stays after its last window closed, so that a window opened
/// soon after (Settings closed, then Activity from the tray) appears at once.
pub const LINGER: Duration = Duration::from_secs(30);

/// The argument that makes `immich-sync` the window process, followed by the window to show.
pub const WINDOW_PROCESS_ARG: &str = "--window-process";

/// Set when the tray process turned GL off for itself; the window process gets it back.
static GL_OFF_HERE: AtomicBool = AtomicBool::new(false);

/// The window to show when this process is the window process (`--window-process activity`).
pub fn requested(args: &[String]) -> Option<AppWindow> {
    match args.get(1..3) {
        Some([flag, window]) if flag == WINDOW_PROCESS_ARG => AppWindow::parse(window),
        _ => None,
    }
}

/// The tray process draws nothing with GL, yet on Linux GTK opens the GL driver when it
/// connects to the display, only to choose visuals: Mesa's and its LLVM, about 50 MB resident
/// for the app's life. Turned off here unless the user set `GDK_GL` themselves; the window
/// process, whose webviews do draw with GL, starts without it. Called first thing, before any
/// thread starts.
pub fn tray_draws_without_gl() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        // SAFETY: no other thread exists yet to read the environment concurrently.
        unsafe { std::env::set_var("GDK_GL", "disable") };
        GL_OFF_HERE.store(true, Ordering::Relaxed);
    }
}

/// How long the window process has to end after being told to, before it is ended by force.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Whether this process turned GL off for itself ([`tray_draws_without_gl`]): the programs it
/// starts must not inherit that.
pub fn gl_off_here() -> bool {
    GL_OFF_HERE.load(Ordering::Relaxed)
}

/// Messages waiting for the window process. Status and event messages beyond it are skipped
/// (the next status is a full snapshot); replies wait for room.
const QUEUE: usize = 256;

/// The tray's side of the window process: starts it, talks to it, ends it. Cheap to clone.
#[derive(Clone, Default)]
pub struct WindowProcess(Arc<Mutex<Running>>);

#[derive(Default)]
struct Running {
    /// The window process, while one runs.
    link: Option<Link>,
    /// How many have been started (numbers them, so a late message of an ended one is ignored).
    started: u64,
}

struct Link {
    generation: u64,
    to_windows: mpsc::Sender<String>,
    /// Ends the process by force (when it did not end [`EXIT_GRACE`] after being asked).
    kill: oneshot::Sender<()>,
    /// How many times it has said how many windows are open.
    reports: u64,
    /// Set to that count when it said none are open, until a window is asked for.
    idle_since: Option<u64>,
}

impl WindowProcess {
    /// Shows `window`: in the running window process, or in a new one.
    pub fn open(&self, app: &AppHandle, window: AppWindow) {
        let mut running = lock(&self.0);
        if let Some(link) = running.link.as_mut() {
            link.idle_since = None;
            let open = wire::line(&ToWindows::Open(window.label().into()));
            match link.to_windows.try_send(open) {
                Ok(()) => return,
                Err(TrySendError::Full(_)) => {
                    tracing::warn!("the window process is busy; {} not opened", window.label());
                    return;
                }
                // It ended a moment ago: start another.
                Err(TrySendError::Closed(_)) => running.link = None,
            }
        }
        running.started += 1;
        let generation = running.started;
        match self.start(app, window, generation) {
            Ok(link) => running.link = Some(link),
            Err(error) => {
                tracing::error!("cannot open the {} window: {error}", window.label());
                use tauri_plugin_notification::NotificationExt as _;
                let _ = app
                    .notification()
                    .builder()
                    .title("Immich Sync cannot open its window")
                    .body(format!(
                        "{error}. Syncing goes on; see the log folder for more."
                    ))
                    .show();
            }
        }
    }

    /// Sends a UI event to the windows, if any are open (nothing is serialized otherwise).
    pub fn emit<S: Serialize + ?Sized>(&self, event: &str, payload: &S) {
        let Some(to_windows) = lock(&self.0).link.as_ref().map(|l| l.to_windows.clone()) else {
            return;
        };
        let Ok(payload) = serde_json::value::to_raw_value(payload) else {
            return;
        };
        let message = wire::line(&ToWindows::Emit {
            event: event.to_owned(),
            payload,
        });
        if let Err(TrySendError::Full(_)) = to_windows.try_send(message) {
            tracing::debug!("the windows are behind: one {event} skipped");
        }
    }

    fn start(&self, app: &AppHandle, window: AppWindow, generation: u64) -> std::io::Result<Link> {
        // The pipes need the runtime's reactor; menu clicks arrive on the main thread.
        let _runtime = tauri::async_runtime::handle().inner().enter();
        let mut child = this_program()?
            .arg(WINDOW_PROCESS_ARG)
            .arg(window.label())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(std::io::Error::other("the window process has no pipes"));
        };
        tracing::debug!("window process {:?} started", child.id());
        let (to_windows, mut outgoing) = mpsc::channel::<String>(QUEUE);
        tauri::async_runtime::spawn(async move {
            while let Some(mut message) = outgoing.recv().await {
                message.push('\n');
                if stdin.write_all(message.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        // What it logs goes to the app's log, marked as the windows'. Libraries write what
        // they like there, so a line is taken as text whatever its bytes.
        tauri::async_runtime::spawn(async move {
            let mut stderr = BufReader::new(stderr);
            while let Some(line) = read_line(&mut stderr).await {
                tracing::info!(target: "immich_sync::windows", "{line}");
            }
        });
        let this = self.clone();
        let app = app.clone();
        let replies = to_windows.clone();
        let (kill, mut killed) = oneshot::channel::<()>();
        tauri::async_runtime::spawn(async move {
            let mut stdout = BufReader::new(stdout);
            // Until the link that can send a kill is dropped without sending one.
            let mut killable = true;
            loop {
                tokio::select! {
                    line = read_line(&mut stdout) => match line {
                        Some(line) => this.received(&app, generation, &replies, &line),
                        None => break,
                    },
                    asked = &mut killed, if killable => {
                        killable = false;
                        if asked.is_ok() {
                            tracing::warn!("the window process did not end when told to: ended by force");
                            let _ = child.start_kill();
                            break;
                        }
                    }
                }
            }
            drop(replies);
            let ended = child.wait().await;
            this.ended(generation);
            match ended {
                Ok(status) if status.success() => tracing::debug!("window process ended"),
                Ok(status) => tracing::warn!("the window process ended: {status}"),
                Err(error) => tracing::warn!("the window process: {error}"),
            }
        });
        Ok(Link {
            generation,
            to_windows,
            kill,
            reports: 0,
            idle_since: None,
        })
    }

    fn received(
        &self,
        app: &AppHandle,
        generation: u64,
        replies: &mpsc::Sender<String>,
        line: &str,
    ) {
        match serde_json::from_str::<ToTray>(line) {
            Ok(ToTray::Call { id, command, args }) => {
                let app = app.clone();
                let replies = replies.clone();
                tauri::async_runtime::spawn(async move {
                    // A command that failed outright still answers, so the page never waits
                    // for nothing.
                    let name = command.clone();
                    let carried_out = tauri::async_runtime::spawn(async move {
                        crate::commands::call(&app, &command, args.get()).await
                    })
                    .await
                    .unwrap_or_else(|error| {
                        tracing::error!("the command {name} failed: {error}");
                        Err(crate::bridge::UiError::new(
                            "error",
                            "Something went wrong; the app's log says what",
                        ))
                    });
                    let result = carried_out.map_err(|error| {
                        serde_json::value::to_raw_value(&error).unwrap_or_default()
                    });
                    let _ = replies
                        .send(wire::line(&ToWindows::Reply { id, result }))
                        .await;
                });
            }
            Ok(ToTray::Windows(open)) => self.windows_open(generation, open),
            Err(error) => tracing::warn!("the window process sent something unreadable: {error}"),
        }
    }

    fn windows_open(&self, generation: u64, open: usize) {
        let mut running = lock(&self.0);
        let Some(link) = running
            .link
            .as_mut()
            .filter(|link| link.generation == generation)
        else {
            return;
        };
        link.reports += 1;
        if open > 0 {
            link.idle_since = None;
            return;
        }
        let report = link.reports;
        link.idle_since = Some(report);
        let this = self.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(LINGER).await;
            this.linger_over(generation, report);
        });
    }

    /// Ends the window process if no window was open or asked for since report `report`.
    fn linger_over(&self, generation: u64, report: u64) {
        let mut running = lock(&self.0);
        let still_idle = running
            .link
            .as_ref()
            .is_some_and(|link| link.generation == generation && link.idle_since == Some(report));
        if !still_idle {
            return;
        }
        // From here on a window asked for starts a new process.
        if let Some(link) = running.link.take() {
            let _ = link.to_windows.try_send(wire::line(&ToWindows::Exit));
            tracing::debug!(
                "no window for {} s: the window process ends",
                LINGER.as_secs()
            );
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(EXIT_GRACE).await;
                // Nobody listens any more once it has ended.
                let _ = link.kill.send(());
            });
        }
    }

    fn ended(&self, generation: u64) {
        let mut running = lock(&self.0);
        if running
            .link
            .as_ref()
            .is_some_and(|link| link.generation == generation)
        {
            running.link = None;
        }
    }
}

/// This very program. On Linux through `/proc/self/exe`, which stays this version's file
/// even after an upgrade replaced it on disk, so the windows always speak the tray's wire.
fn this_program() -> std::io::Result<tokio::process::Command> {
    let path = std::env::current_exe()?;
    #[cfg(target_os = "linux")]
    let mut command = {
        let mut command = tokio::process::Command::new("/proc/self/exe");
        command.arg0(path);
        command
    };
    #[cfg(not(target_os = "linux"))]
    let mut command = tokio::process::Command::new(path);
    if GL_OFF_HERE.load(Ordering::Relaxed) {
        command.env_remove("GDK_GL");
    }
    Ok(command)
}

/// The next line of `input` without its newline, as text whatever its bytes; `None` at its end
/// or when it cannot be read.
async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R) -> Option<String> {
    let mut bytes = Vec::new();
    match input.read_until(b'\n', &mut bytes).await {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_from_the_window_process_are_read_whatever_their_bytes() {
        let mut input: &[u8] = b"plain\n\xffbroken \xfe\n\nlast";
        assert_eq!(read_line(&mut input).await.as_deref(), Some("plain"));
        assert_eq!(
            read_line(&mut input).await.as_deref(),
            Some("\u{fffd}broken \u{fffd}"),
            "a line that is not UTF-8 is kept, not the end of the reading"
        );
        assert_eq!(read_line(&mut input).await.as_deref(), Some(""));
        assert_eq!(read_line(&mut input).await.as_deref(), Some("last"));
        assert_eq!(read_line(&mut input).await, None);
    }

    #[test]
    fn only_the_window_process_argument_first_makes_a_window_process() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            requested(&args(&["immich-sync", "--window-process", "activity"])),
            Some(AppWindow::Activity)
        );
        assert_eq!(requested(&args(&["immich-sync", "--window-process"])), None);
        assert_eq!(
            requested(&args(&["immich-sync", "--window-process", "nope"])),
            None
        );
        assert_eq!(
            requested(&args(&[
                "immich-sync",
                "--open",
                "--window-process",
                "settings"
            ])),
            None,
            "a second launch's arguments never start a window process"
        );
        assert_eq!(requested(&args(&["immich-sync"])), None);
    }
}
