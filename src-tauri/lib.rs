//! Immich Sync tray app: a thin Tauri shell around the sync engine.
//!
//! The engine (`sync-engine`) does all the work and knows nothing of Tauri. This crate only
//! adapts it: [`commands`] for the web UI, [`bridge`] for engine events and status, [`tray`] for
//! the icon and menu, [`intents`] for what menu items and buttons ask for, [`settings`] and
//! [`secrets`] for the settings file and the keychain.
//!
//! The windows run in a second process of the same program, started for them and ended after
//! them: [`window_process`] is the tray's side, [`window_host`] the windows' side, [`wire`]
//! what they say to each other and [`windows`] the windows themselves.

pub mod bridge;
pub mod commands;
pub mod intents;
pub mod logs;
pub mod secrets;
pub mod settings;
pub mod tray;
pub mod window_host;
pub mod window_process;
pub mod windows;
pub mod wire;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sync_engine::config::Config;
use sync_engine::events::{Event, EventKind};
use sync_engine::{Engine, EngineHandle, EngineOptions};
use tauri::{AppHandle, Manager, RunEvent, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_notification::NotificationExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::bridge::{RecentEvents, UiError};
use crate::intents::Intent;
use crate::secrets::Secrets;
use crate::settings::{AppPaths, AppPrefs, SettingsDto};
use crate::tray::{MenuAccount, Tray};
use crate::window_process::WindowProcess;
use crate::windows::AppWindow;

/// A window asked for by a second launch while the engine was still starting.
static PENDING_WINDOW: Mutex<Option<AppWindow>> = Mutex::new(None);

/// How long a server may stay unreachable before the user is notified.
const OFFLINE_NOTIFY_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Everything the commands and handlers share.
pub struct AppState {
    /// The engine.
    pub engine: EngineHandle,
    /// Where settings live.
    pub paths: AppPaths,
    /// Where keys live.
    pub secrets: Secrets,
    prefs: Mutex<AppPrefs>,
    /// The configuration the tray menu was built for, and its accounts and folders.
    menu: Mutex<Option<(Arc<Config>, Vec<MenuAccount>)>>,
    /// The control socket (`immich-syncd status`, `pause`...); dropped at exit.
    control: Mutex<Option<sync_engine::control::ControlServer>>,
    /// Recent events for newly opened windows.
    pub recent: RecentEvents,
    /// The process the windows live in.
    pub windows: WindowProcess,
    tray: Mutex<Option<Tray<Wry>>>,
    notified: Mutex<HashSet<String>>,
    offline_since: Mutex<HashMap<String, Instant>>,
}

impl AppState {
    /// The settings as the window edits them.
    pub fn settings_dto(&self) -> SettingsDto {
        let config = self.engine.config();
        let prefs = lock(&self.prefs).clone();
        settings::to_dto(&config, &prefs, &self.secrets)
    }

    /// Folder paths in configuration order (the tray's "Open folder" numbering).
    pub fn folder_paths(&self) -> Vec<PathBuf> {
        self.engine
            .config()
            .accounts
            .iter()
            .flat_map(|a| a.folders.iter().map(|f| f.path.clone()))
            .collect()
    }

    fn menu_accounts(config: &Config) -> Vec<MenuAccount> {
        config
            .accounts
            .iter()
            .map(|a| MenuAccount {
                name: a.name.clone(),
                folders: a
                    .folders
                    .iter()
                    .map(|f| f.path.to_string_lossy().into_owned())
                    .collect(),
            })
            .collect()
    }

    /// Saves settings and applies them to the running engine.
    pub async fn save(
        &self,
        app: &AppHandle,
        dto: &SettingsDto,
        keys: &HashMap<String, String>,
    ) -> Result<SettingsDto, UiError> {
        let current = self.engine.config();
        let saved = settings::validate(dto, keys, &current, &self.paths, &self.secrets)?;
        // The keychain may be a D-Bus round trip: off the runtime's threads.
        let secrets = self.secrets.clone();
        let typed: Vec<(String, String)> = keys
            .iter()
            .map(|(a, k)| (a.trim().to_owned(), k.clone()))
            .collect();
        let removed: Vec<String> = current
            .accounts
            .iter()
            .filter(|old| !saved.config.accounts.iter().any(|a| a.name == old.name))
            .map(|old| old.name.clone())
            .collect();
        tauri::async_runtime::spawn_blocking(move || {
            for (account, key) in typed {
                let key = sync_engine::secret::ApiKey::new(key.as_str());
                if !key.is_empty() {
                    secrets.set(&account, &key)?;
                }
            }
            for name in removed {
                secrets.delete(&name);
            }
            Ok::<(), String>(())
        })
        .await
        .map_err(|e| UiError::new("keychain", e.to_string()))?
        .map_err(|e| UiError::new("keychain", e))?;
        // The engine validates, writes the file atomically and applies it (reading keychain
        // keys itself when each account starts).
        self.engine
            .apply_config(&saved.config, &self.paths.config_file)
            .await
            .map_err(|e| UiError::new("write", e.to_string()))?;
        let prefs_text = serde_json::to_string_pretty(&saved.prefs).unwrap_or_default();
        let prefs_file = self.paths.prefs_file.clone();
        let wrote = tauri::async_runtime::spawn_blocking(move || {
            sync_engine::config::write_file(&prefs_file, &prefs_text)
        })
        .await;
        if !matches!(wrote, Ok(Ok(()))) {
            tracing::warn!("cannot save app preferences");
        }
        apply_autostart(app, saved.prefs.start_at_login);
        *lock(&self.prefs) = saved.prefs.clone();
        self.refresh_menu(app);
        Ok(self.settings_dto())
    }

    /// "I used the older sync service": takes its `config.toml` (accounts, folders, policies;
    /// keys into the keychain) and its state file, which each account imports at its start,
    /// so nothing is uploaded again and every photo keeps its age.
    pub async fn move_over(
        &self,
        app: &AppHandle,
        config_file: &std::path::Path,
    ) -> Result<commands::MoveOverDto, UiError> {
        let path = config_file.to_owned();
        // Reading the file and its keys (a key file, a variable) happens off the runtime.
        let (setup, keys) = tauri::async_runtime::spawn_blocking(move || {
            let setup = sync_engine::older_service::read_older_setup(&path)?;
            let keys: HashMap<String, String> = setup
                .config
                .accounts
                .iter()
                .filter_map(|account| {
                    let key = account.api_key.resolve(&account.name).ok()?;
                    Some((account.name.clone(), key.expose().to_owned()))
                })
                .collect();
            Ok::<_, sync_engine::config::ConfigError>((setup, keys))
        })
        .await
        .map_err(|e| UiError::new("error", e.to_string()))?
        .map_err(|e| {
            UiError::new(
                "invalid",
                format!("{} cannot be used: {e}", config_file.display()),
            )
        })?;
        let mut dto = settings::to_dto(&setup.config, &AppPrefs::default(), &self.secrets);
        dto.first_run = false;
        let current = self.settings_dto();
        dto.start_at_login = current.start_at_login;
        dto.notifications = current.notifications;
        // Checked before anything is changed: a file the app cannot take changes nothing.
        let config_now = self.engine.config();
        settings::validate(&dto, &keys, &config_now, &self.paths, &self.secrets)?;
        if let Some(state_file) = &setup.state_file {
            self.engine
                .adopt_older_state(state_file.clone())
                .await
                .map_err(|e| UiError::new("store", e.to_string()))?;
        }
        let saved = self.save(app, &dto, &keys).await?;
        Ok(commands::MoveOverDto {
            accounts: saved.accounts.len(),
            folders: saved.accounts.iter().map(|a| a.folders.len()).sum(),
            state_file: setup.state_file.map(|p| p.to_string_lossy().into_owned()),
            settings: saved,
        })
    }

    /// Rebuilds the tray menu when the accounts or folders changed: after Settings saved, or
    /// after `immich-syncd reload` applied the settings file.
    fn refresh_menu(&self, app: &AppHandle) {
        let config = self.engine.config();
        let mut built = lock(&self.menu);
        // Called on every status change: only a new configuration is looked at.
        if built
            .as_ref()
            .is_some_and(|(seen, _)| Arc::ptr_eq(seen, &config))
        {
            return;
        }
        let accounts = Self::menu_accounts(&config);
        if built.as_ref().is_none_or(|(_, shown)| *shown != accounts) {
            if let Some(tray) = lock(&self.tray).as_mut() {
                if let Err(e) = tray.rebuild(app, &accounts) {
                    tracing::warn!("cannot rebuild the tray menu: {e}");
                    return;
                }
            }
        }
        *built = Some((config, accounts));
    }

    fn notify_once(&self, app: &AppHandle, key: String, title: &str, body: &str) {
        if !lock(&self.prefs).notifications || !lock(&self.notified).insert(key) {
            return;
        }
        if let Err(e) = app.notification().builder().title(title).body(body).show() {
            tracing::debug!("notification not shown: {e}");
        }
    }

    /// Turns events that need the user into notifications (once per problem).
    fn on_event(&self, app: &AppHandle, event: &Event) {
        let account = &event.user_id;
        let detail = event.detail.clone().unwrap_or_default();
        match event.event {
            EventKind::AccountError => self.notify_once(
                app,
                format!("error:{account}:{detail}"),
                "Immich Sync needs your attention",
                &detail,
            ),
            EventKind::FolderUnavailable => self.notify_once(
                app,
                format!(
                    "folder:{account}:{}",
                    event.path.clone().unwrap_or_default()
                ),
                "A synced folder is not available",
                &detail,
            ),
            EventKind::Offline => {
                let since = *lock(&self.offline_since)
                    .entry(account.clone())
                    .or_insert_with(Instant::now);
                if since.elapsed() >= OFFLINE_NOTIFY_AFTER {
                    self.notify_once(
                        app,
                        format!("offline:{account}"),
                        "Can't reach your Immich server",
                        &detail,
                    );
                }
            }
            EventKind::Connected => {
                lock(&self.offline_since).remove(account);
                lock(&self.notified).retain(|k| {
                    !k.ends_with(&format!(":{account}")) && !k.contains(&format!(":{account}:"))
                });
            }
            _ => {}
        }
    }
}

/// The guarded value, even after a panic elsewhere poisoned the lock (nothing here leaves a
/// value half-changed).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn apply_autostart(app: &AppHandle, enabled: bool) {
    let autostart = app.autolaunch();
    let result = if enabled {
        autostart.enable()
    } else {
        autostart.disable()
    };
    if let Err(e) = result {
        tracing::warn!("cannot change start at login: {e}");
    }
}

/// Carries out what the user asked for, from the tray menu or a window.
pub fn apply_intent(app: &AppHandle, intent: Intent) {
    let state = app.state::<AppState>();
    match intent {
        Intent::PauseAll => state.engine.pause(None),
        Intent::ResumeAll => state.engine.resume(None),
        Intent::Pause(account) => state.engine.pause(Some(&account)),
        Intent::Resume(account) => state.engine.resume(Some(&account)),
        Intent::SyncNow => state.engine.sync_now(),
        Intent::OpenFolder(index) => {
            if let Some(path) = state.folder_paths().get(index) {
                open_external(app, External::Path(path.to_string_lossy().into_owned()));
            }
        }
        Intent::OpenUrl(url) => open_external(app, External::Url(url)),
        Intent::OpenLogFolder => {
            if let Some(dir) = logs::log_dir() {
                open_external(app, External::Path(dir.to_string_lossy().into_owned()));
            }
        }
        Intent::OpenSettings => state.windows.open(app, AppWindow::Settings),
        Intent::OpenActivity => state.windows.open(app, AppWindow::Activity),
        Intent::Quit => {
            // The command line stops reaching an engine that is stopping.
            drop(lock(&state.control).take());
            let app = app.clone();
            let engine = state.engine.clone();
            tauri::async_runtime::spawn(async move {
                // Uploads in flight finish (or are safely resumable: their intent is stored).
                engine.shutdown().await;
                app.exit(0);
            });
        }
    }
}

/// What [`open_external`] opens.
enum External {
    /// A folder, in the file manager.
    Path(String),
    /// An address, in the browser.
    Url(String),
}

/// Opens a folder or an address with the desktop's own program, on the main thread, where the
/// platforms' openers expect to be called (a command arrives on the runtime's threads). On
/// Linux the program is started through `xdg-open` without the tray's `GDK_GL=disable`, which
/// a file manager or a browser must not inherit.
fn open_external(app: &AppHandle, what: External) {
    let handle = app.clone();
    let _ = app.run_on_main_thread(move || {
        let target = match &what {
            External::Path(target) | External::Url(target) => target.clone(),
        };
        #[cfg(target_os = "linux")]
        if window_process::gl_off_here() {
            let started = std::process::Command::new("xdg-open")
                .arg(&target)
                .env_remove("GDK_GL")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            match started {
                Ok(mut child) => {
                    // Reaped when it is done (xdg-open hands over and ends at once).
                    std::thread::spawn(move || child.wait());
                    return;
                }
                Err(e) => tracing::debug!("xdg-open: {e}; the opener plugin opens {target}"),
            }
        }
        let opened = match what {
            External::Path(path) => handle.opener().open_path(path, None::<&str>),
            External::Url(url) => handle.opener().open_url(url, None::<&str>),
        };
        if let Err(e) = opened {
            tracing::warn!("cannot open {target}: {e}");
        }
    });
}

fn on_menu(app: &AppHandle, id: &str) {
    let Some(intent) = Intent::from_menu_id(id) else {
        return;
    };
    let state = app.state::<AppState>();
    let all_paused = lock(&state.tray).as_ref().is_some_and(|t| t.all_paused());
    let intent = match intent {
        Intent::PauseAll if all_paused => Intent::ResumeAll,
        Intent::Pause(name) if is_paused(&state.engine, &name) => Intent::Resume(name),
        other => other,
    };
    apply_intent(app, intent);
}

fn is_paused(engine: &EngineHandle, account: &str) -> bool {
    engine
        .status()
        .accounts
        .iter()
        .any(|a| a.name == account && a.state == sync_engine::status::AccountState::Paused)
}

/// The app's Tauri context (configuration, pages, capabilities), for both of its processes.
fn context() -> tauri::Context {
    tauri::generate_context!()
}

/// Starts the app: engine, tray, windows. Returns when the user quits.
pub fn run() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(window) = window_process::requested(&args) {
        window_host::run(window);
        return;
    }
    window_process::tray_draws_without_gl();
    sync_engine::allocator::use_few_arenas();
    // Dropped when the app exits (RunEvent::Exit), so the last lines reach the file.
    let mut log = Some(logs::init());
    tracing::info!("Immich Sync {} starting", sync_engine::VERSION);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("immich-sync: cannot start: {e}");
            std::process::exit(1);
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());

    let paths = AppPaths::detect();
    let secrets = Secrets::detect(&paths.config_dir);
    let (config, load_error) = match settings::load_config(&paths) {
        Ok(config) => (config, None),
        Err(error) => (settings::empty_config(), Some(error.to_string())),
    };
    if let Some(error) = &load_error {
        tracing::error!(
            "the settings file {} cannot be used: {error}",
            paths.config_file.display()
        );
    }
    let prefs = settings::load_prefs(&paths);
    let first_run = config.accounts.is_empty();
    let open_at_start = windows::requested(&args)
        .or((first_run || load_error.is_some()).then_some(AppWindow::Settings));
    let runtime_handle = runtime.handle().clone();
    let mut parts = Some((config, prefs, paths, secrets));

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            // A second launch shows the running app instead of starting another engine.
            let window = windows::requested(&args).unwrap_or(AppWindow::Settings);
            match app.try_state::<AppState>() {
                Some(state) => state.windows.open(app, window),
                // Opened once the engine has started.
                None => *lock(&PENDING_WINDOW) = Some(window),
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            // The engine starts here, after the single-instance check: a second launch hands
            // over to the running app before it could compete for the state file.
            let handle = app.handle().clone();
            let Some((config, prefs, paths, secrets)) = parts.take() else {
                return Ok(());
            };
            // Opening the state file (integrity check, migrations) happens on the runtime's
            // blocking pool; the main thread waits for it before the tray exists.
            let socket = sync_engine::control::socket_path(&config.database_path);
            let engine = runtime_handle.block_on(Engine::start(config, EngineOptions::default()));
            let engine = match engine {
                Ok(engine) => engine,
                Err(error) => {
                    use tauri_plugin_dialog::DialogExt as _;
                    eprintln!("immich-sync: {error}");
                    handle
                        .dialog()
                        .message(format!("Immich Sync cannot start: {error}"))
                        .title("Immich Sync")
                        .kind(tauri_plugin_dialog::MessageDialogKind::Error)
                        .blocking_show();
                    std::process::exit(1);
                }
            };
            app.manage(AppState {
                engine: engine.clone(),
                paths,
                secrets,
                prefs: Mutex::new(prefs),
                menu: Mutex::new(None),
                control: Mutex::new(None),
                recent: RecentEvents::default(),
                windows: WindowProcess::default(),
                tray: Mutex::new(None),
                notified: Mutex::new(HashSet::new()),
                offline_since: Mutex::new(HashMap::new()),
            });
            let state = handle.state::<AppState>();
            let config = state.engine.config();
            let accounts = AppState::menu_accounts(&config);
            match Tray::create(&handle, &accounts, on_menu) {
                Ok(tray) => {
                    *lock(&state.tray) = Some(tray);
                    *lock(&state.menu) = Some((config, accounts));
                }
                Err(e) => tracing::warn!("no tray icon ({e}); use the windows to control the app"),
            }
            bridge::start(
                handle.clone(),
                engine.clone(),
                state.recent.clone(),
                state.windows.clone(),
                |app, event| app.state::<AppState>().on_event(app, event),
                |app, status| {
                    let state = app.state::<AppState>();
                    state.refresh_menu(app);
                    if let Some(tray) = lock(&state.tray).as_mut() {
                        tray.apply(status);
                    }
                },
            );
            // The same control socket as the daemon's, so `immich-syncd status` (pause,
            // resume, sync-now, reload, deletions...) reaches the running app.
            let config_file = state.paths.config_file.clone();
            match runtime_handle.block_on(sync_engine::control::serve(
                engine.clone(),
                socket,
                Some(config_file),
            )) {
                Ok(server) => {
                    tracing::info!("control socket {}", server.path().display());
                    *lock(&state.control) = Some(server);
                }
                Err(e) => tracing::warn!("{e}; the command line cannot reach the app"),
            }
            let pending = lock(&PENDING_WINDOW).take();
            for window in open_at_start.into_iter().chain(pending) {
                state.windows.open(&handle, window);
            }
            Ok(())
        })
        .build(context());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("immich-sync: cannot start the app: {e}");
            std::process::exit(1);
        }
    };
    app.run(move |_app, event| match event {
        // Only Quit exits the app in the tray (its windows are the window process's).
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => drop(log.take()),
        _ => {}
    });
    drop(runtime);
}
