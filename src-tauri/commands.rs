//! The commands the web UI may call: each checks its arguments and delegates.
//!
//! The windows run in a process of their own ([`crate::window_process`]); what they call
//! arrives here by name with its arguments as the page passed them, and [`call`] carries it out
//! beside the engine. Closing a window and the native choosers stay in the window process
//! ([`crate::window_host`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sync_engine::config::{DeleteMode, DeletePolicy};
use sync_engine::engine::DeletePreview;
use sync_engine::events::Event;
use sync_engine::secret::ApiKey;
use sync_engine::status::Status;
use sync_engine::store::{HeldDelete, TombstonePage};
use tauri::{AppHandle, Manager as _};

use crate::bridge::{RECENT_EVENTS, UiError};
use crate::intents::Intent;
use crate::settings::SettingsDto;
use crate::{AppState, apply_intent};

/// Longest text accepted for a URL, key, name or path from the UI.
const MAX_TEXT: usize = 4096;

fn check_text(field: &str, value: &str) -> Result<(), UiError> {
    if value.len() > MAX_TEXT {
        return Err(UiError::new("invalid", format!("{field} is too long")));
    }
    Ok(())
}

/// A command a window called, with its arguments as the page passes them (`ui/js/backend.js`):
/// the one list of what the tray carries out for the windows.
#[derive(Debug, Deserialize)]
#[serde(
    tag = "command",
    content = "args",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Command {
    GetStatus {},
    RecentEvents {
        limit: usize,
    },
    GetSettings {},
    SaveSettings {
        settings: SettingsDto,
        keys: HashMap<String, String>,
    },
    TestConnection {
        server_url: String,
        api_key: String,
        account: Option<String>,
    },
    Pause {
        account: Option<String>,
    },
    Resume {
        account: Option<String>,
    },
    SyncNow {},
    OpenPath {
        path: String,
    },
    OpenLogFolder {},
    CountExcluded {
        path: String,
        patterns: Vec<String>,
    },
    OpenInImmich {
        account: String,
        asset: String,
    },
    DeleteExample {
        mode: DeleteMode,
        threshold: f64,
        max_age: f64,
    },
    HeldDeletes {
        limit: usize,
    },
    DecideDeletes {
        ids: Option<Vec<i64>>,
        approve: bool,
    },
    DeletesDone {
        limit: usize,
    },
    UndoDeletes {
        ids: Vec<i64>,
    },
    DeletedInImmich {
        limit: usize,
    },
    UploadAgain {
        ids: Option<Vec<i64>>,
    },
    DeletePreview {
        account: String,
        folder: String,
        mode: DeleteMode,
        threshold: f64,
        max_age: f64,
    },
    MoveOver {
        path: String,
    },
}

impl Command {
    /// Command `name` with `args`, the JSON object the page passed; a message naming what is
    /// wrong otherwise.
    pub fn parse(name: &str, args: &str) -> Result<Command, UiError> {
        let name_json = serde_json::to_string(name).unwrap_or_default();
        let tagged = format!(r#"{{"command":{name_json},"args":{args}}}"#);
        serde_json::from_str(&tagged)
            .map_err(|e| UiError::new("invalid", format!("`{name}` cannot be carried out: {e}")))
    }
}

/// Carries out command `name` with `args` (see [`Command::parse`]) and returns its answer as
/// JSON.
pub async fn call(app: &AppHandle, name: &str, args: &str) -> Result<Box<RawValue>, UiError> {
    let command = Command::parse(name, args)?;
    let state = app.state::<AppState>();
    let state = state.inner();
    match command {
        Command::GetStatus {} => answer(&get_status(state)),
        Command::RecentEvents { limit } => answer(&recent_events(state, limit)),
        Command::GetSettings {} => answer(&get_settings(state)),
        Command::SaveSettings { settings, keys } => {
            answer(&save_settings(app, state, settings, keys).await?)
        }
        Command::TestConnection {
            server_url,
            api_key,
            account,
        } => answer(&test_connection(state, server_url, api_key, account).await?),
        Command::Pause { account } => answer(&pause(app, account)),
        Command::Resume { account } => answer(&resume(app, account)),
        Command::SyncNow {} => answer(&sync_now(app)),
        Command::OpenPath { path } => answer(&open_path(app, state, path)?),
        Command::OpenLogFolder {} => answer(&open_log_folder(app)?),
        Command::CountExcluded { path, patterns } => answer(&count_excluded(path, patterns).await?),
        Command::OpenInImmich { account, asset } => answer(&open_in_immich(app, account, asset)?),
        Command::DeleteExample {
            mode,
            threshold,
            max_age,
        } => answer(&delete_example(mode, threshold, max_age)?),
        Command::HeldDeletes { limit } => answer(&held_deletes(state, limit).await?),
        Command::DecideDeletes { ids, approve } => {
            answer(&decide_deletes(state, ids, approve).await?)
        }
        Command::DeletesDone { limit } => answer(&deletes_done(state, limit).await?),
        Command::UndoDeletes { ids } => answer(&undo_deletes(state, ids).await?),
        Command::DeletedInImmich { limit } => answer(&deleted_in_immich(state, limit).await?),
        Command::UploadAgain { ids } => answer(&upload_again(state, ids).await?),
        Command::DeletePreview {
            account,
            folder,
            mode,
            threshold,
            max_age,
        } => answer(&delete_preview(state, account, folder, mode, threshold, max_age).await?),
        Command::MoveOver { path } => answer(&move_over(app, state, path).await?),
    }
}

/// A command's answer as JSON.
fn answer<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, UiError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| UiError::new("error", format!("the answer cannot be sent: {e}")))
}

/// The current status snapshot.
pub fn get_status(state: &AppState) -> Status {
    state.engine.status()
}

/// Recent events, newest first.
pub fn recent_events(state: &AppState, limit: usize) -> Vec<Event> {
    state.recent.newest(limit.min(RECENT_EVENTS))
}

/// The settings as the window edits them.
pub fn get_settings(state: &AppState) -> SettingsDto {
    state.settings_dto()
}

/// Validates, stores keys, writes the file and applies it to the running engine.
pub async fn save_settings(
    app: &AppHandle,
    state: &AppState,
    settings: SettingsDto,
    keys: HashMap<String, String>,
) -> Result<SettingsDto, UiError> {
    for (name, key) in &keys {
        check_text("an account name", name)?;
        check_text("an API key", key)?;
    }
    state.save(app, &settings, &keys).await
}

/// What "Test connection" shows.
#[derive(Debug, Serialize)]
pub struct ConnectionDto {
    /// Server version.
    pub version: String,
    /// API dialect.
    pub profile: sync_engine::immich::ApiProfile,
    /// Immich user name.
    pub user_name: String,
    /// Immich user email.
    pub user_email: String,
    /// Permissions the key lacks.
    pub missing_permissions: Vec<String>,
}

/// Connects with the given URL and key (or the stored key of `account`).
pub async fn test_connection(
    state: &AppState,
    server_url: String,
    api_key: String,
    account: Option<String>,
) -> Result<ConnectionDto, UiError> {
    check_text("the server URL", &server_url)?;
    check_text("the API key", &api_key)?;
    let key = if api_key.trim().is_empty() {
        account
            .as_deref()
            .and_then(|name| state.secrets.get(name))
            .ok_or_else(|| {
                UiError::new("unauthorized", "enter the API key to test the connection")
            })?
    } else {
        ApiKey::new(api_key)
    };
    let info = sync_engine::test_connection(&server_url, key).await?;
    Ok(ConnectionDto {
        version: info.version,
        profile: info.profile,
        user_name: info.user_name,
        user_email: info.user_email,
        missing_permissions: info.missing_permissions,
    })
}

/// Pauses one account, or all.
pub fn pause(app: &AppHandle, account: Option<String>) {
    apply_intent(app, account.map_or(Intent::PauseAll, Intent::Pause));
}

/// Resumes one account, or all.
pub fn resume(app: &AppHandle, account: Option<String>) {
    apply_intent(app, account.map_or(Intent::ResumeAll, Intent::Resume));
}

/// Sync now.
pub fn sync_now(app: &AppHandle) {
    apply_intent(app, Intent::SyncNow);
}

/// Opens a synced folder in the file manager. Only configured folders can be opened.
pub fn open_path(app: &AppHandle, state: &AppState, path: String) -> Result<(), UiError> {
    check_text("the path", &path)?;
    let wanted = PathBuf::from(&path);
    let index = state
        .folder_paths()
        .iter()
        .position(|p| *p == wanted)
        .ok_or_else(|| UiError::new("invalid", "only synced folders can be opened"))?;
    apply_intent(app, Intent::OpenFolder(index));
    Ok(())
}

/// Opens an asset in Immich's web app, in the browser: only on the account's own server, and
/// only for an id Immich could have given.
pub fn open_in_immich(app: &AppHandle, account: String, asset: String) -> Result<(), UiError> {
    check_text("the account", &account)?;
    check_text("the asset", &asset)?;
    let state = app.state::<AppState>();
    let config = state.engine.config();
    let server = config
        .accounts
        .iter()
        .find(|a| a.name == account)
        .map(|a| a.server_url.clone())
        .ok_or_else(|| UiError::new("invalid", format!("there is no account named `{account}`")))?;
    let url = sync_engine::immich::web_url(&server, &asset)
        .ok_or_else(|| UiError::new("invalid", "this is not an Immich asset id"))?;
    apply_intent(app, Intent::OpenUrl(url));
    Ok(())
}

/// Opens the folder of the app's log files in the file manager.
pub fn open_log_folder(app: &AppHandle) -> Result<(), UiError> {
    match crate::logs::log_dir() {
        Some(dir) if dir.is_dir() => {
            apply_intent(app, Intent::OpenLogFolder);
            Ok(())
        }
        _ => Err(UiError::new(
            "unavailable",
            "there is no log folder: the app could not create one (see its output instead)",
        )),
    }
}

/// Most exclusion patterns one count takes (far more than anyone types).
const MAX_PATTERNS: usize = 1000;

/// How many files below `path` the exclusion `patterns` (the global ones and the folder's)
/// would take out of syncing: the live line beside a folder's patterns in Settings. Walks the
/// folder on the blocking pool.
pub async fn count_excluded(path: String, patterns: Vec<String>) -> Result<u64, UiError> {
    check_text("the folder", &path)?;
    if patterns.len() > MAX_PATTERNS {
        return Err(UiError::new("invalid", "too many patterns"));
    }
    for pattern in &patterns {
        check_text("a pattern", pattern)?;
    }
    tauri::async_runtime::spawn_blocking(move || count_excluded_in(Path::new(&path), &patterns))
        .await
        .map_err(|e| UiError::new("error", format!("the files could not be counted: {e}")))?
}

/// [`count_excluded`] on the calling thread.
fn count_excluded_in(root: &Path, patterns: &[String]) -> Result<u64, UiError> {
    let patterns: Vec<String> = patterns
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    // The engine's own check names the pattern it cannot read.
    if let Some((_, message)) = crate::settings::bad_patterns(&patterns).into_iter().next() {
        return Err(UiError::new("invalid_pattern", message));
    }
    if patterns.is_empty() {
        return Ok(0);
    }
    if !root.is_absolute() {
        return Err(UiError::new("invalid", "the folder must be a full path"));
    }
    if !root.is_dir() {
        return Err(UiError::new(
            "unavailable",
            "the folder is not available, so its files cannot be counted",
        ));
    }
    sync_engine::local::count_excluded(root, &patterns)
        .map_err(|e| UiError::new("invalid_pattern", format!("a pattern cannot be read: {e}")))
}

/// Plain-language examples of a delete policy, computed by the engine's own rules.
pub fn delete_example(
    mode: DeleteMode,
    threshold: f64,
    max_age: f64,
) -> Result<Vec<String>, UiError> {
    if !threshold.is_finite() || !max_age.is_finite() || threshold < 0.0 || max_age <= 0.0 {
        return Err(UiError::new("invalid", "enter the number of days"));
    }
    Ok(sync_engine::summary::delete_examples(DeletePolicy {
        mode,
        threshold_days: threshold,
        max_age_days: max_age,
    }))
}

/// The oldest `limit` deletes the mass-delete guard holds for review (the status counts them
/// all).
pub async fn held_deletes(state: &AppState, limit: usize) -> Result<Vec<HeldDelete>, UiError> {
    state
        .engine
        .waiting_deletes(limit)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// Approves or rejects held deletes (`ids` absent: every waiting one).
pub async fn decide_deletes(
    state: &AppState,
    ids: Option<Vec<i64>>,
    approve: bool,
) -> Result<usize, UiError> {
    if ids.as_ref().is_some_and(|ids| ids.len() > 1_000_000) {
        return Err(UiError::new("invalid", "too many ids"));
    }
    state
        .engine
        .decide_deletes(ids, approve)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// One delete the engine carried out, as Activity lists it.
#[derive(Debug, Serialize)]
pub struct DeleteDoneDto {
    /// Journal id ("Undo" takes it).
    pub id: i64,
    /// Account.
    pub account: String,
    /// `to_immich` or `to_local`.
    pub direction: sync_engine::store::DeleteDirection,
    /// The file (lossy, for display).
    pub path: String,
    /// When (unix ms).
    pub at: i64,
    /// Why.
    pub reason: String,
    /// Undone already.
    pub undone: bool,
}

/// Recent deletes the engine carried out, newest first.
pub async fn deletes_done(state: &AppState, limit: usize) -> Result<Vec<DeleteDoneDto>, UiError> {
    let entries = state
        .engine
        .journal(i64::MIN, limit.min(1000))
        .await
        .map_err(|e| UiError::new("store", e.to_string()))?;
    Ok(entries
        .into_iter()
        .map(|e| DeleteDoneDto {
            id: e.id,
            account: e.account,
            direction: e.direction,
            path: e.path.to_string_lossy().into_owned(),
            at: e.at,
            reason: e.reason,
            undone: e.undone_at.is_some(),
        })
        .collect())
}

/// What one undo did.
#[derive(Debug, Serialize)]
pub struct UndoDto {
    /// Journal id.
    pub id: i64,
    /// Whether it was undone.
    pub ok: bool,
    /// What was put back, or why not.
    pub message: String,
}

/// Puts back what the engine deleted: files from the OS trash, assets from the Immich trash.
pub async fn undo_deletes(state: &AppState, ids: Vec<i64>) -> Result<Vec<UndoDto>, UiError> {
    if ids.len() > 10_000 {
        return Err(UiError::new("invalid", "too many ids"));
    }
    let outcomes = state
        .engine
        .undo(sync_engine::undo::UndoSelection::Ids(ids))
        .await
        .map_err(|e| UiError::new("store", e.to_string()))?;
    Ok(outcomes
        .into_iter()
        .map(|o| UndoDto {
            id: o.id,
            ok: o.result.is_ok(),
            message: match o.result {
                Ok(done) => done,
                Err(error) => error.to_string(),
            },
        })
        .collect())
}

/// Photos remembered as deleted in Immich: how many, and the newest `limit`.
pub async fn deleted_in_immich(state: &AppState, limit: usize) -> Result<TombstonePage, UiError> {
    state
        .engine
        .standing_tombstones(limit)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// "Upload again" for photos remembered as deleted in Immich (`ids` absent: all).
pub async fn upload_again(state: &AppState, ids: Option<Vec<i64>>) -> Result<usize, UiError> {
    if ids.as_ref().is_some_and(|ids| ids.len() > 1_000_000) {
        return Err(UiError::new("invalid", "too many ids"));
    }
    state
        .engine
        .upload_again(ids)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// What a folder's delete policy, as edited, would do now with the deletes waiting there.
pub async fn delete_preview(
    state: &AppState,
    account: String,
    folder: String,
    mode: DeleteMode,
    threshold: f64,
    max_age: f64,
) -> Result<DeletePreview, UiError> {
    check_text("the account", &account)?;
    check_text("the folder", &folder)?;
    if !threshold.is_finite() || !max_age.is_finite() || threshold < 0.0 || max_age <= 0.0 {
        return Err(UiError::new("invalid", "enter the number of days"));
    }
    state
        .engine
        .delete_preview(
            &account,
            std::path::Path::new(&folder),
            DeletePolicy {
                mode,
                threshold_days: threshold,
                max_age_days: max_age,
            },
        )
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// What moving over from the older service set up.
#[derive(Debug, Serialize)]
pub struct MoveOverDto {
    /// The settings now in force.
    pub settings: SettingsDto,
    /// Accounts taken over.
    pub accounts: usize,
    /// Folders taken over.
    pub folders: usize,
    /// The older state file each account imports (none when it had none).
    pub state_file: Option<String>,
}

/// "I used the older sync service": takes its `config.toml` and state file.
pub async fn move_over(
    app: &AppHandle,
    state: &AppState,
    path: String,
) -> Result<MoveOverDto, UiError> {
    check_text("the path", &path)?;
    state.move_over(app, std::path::Path::new(&path)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ui/js/backend.js` sends for each command it carries to the tray.
    fn sent_by_the_pages() -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        let settings = json!({"first_run": false, "accounts": [], "upload_concurrency": 2,
            "full_scan_interval_hours": 24.0});
        vec![
            ("get_status", json!({})),
            ("recent_events", json!({"limit": 500})),
            ("get_settings", json!({})),
            (
                "save_settings",
                json!({"settings": settings, "keys": {"home": "key"}}),
            ),
            (
                "test_connection",
                json!({"serverUrl": "http://nas:2283", "apiKey": "k"}),
            ),
            (
                "test_connection",
                json!({"serverUrl": "u", "apiKey": "", "account": "home"}),
            ),
            ("pause", json!({})),
            ("pause", json!({"account": "home"})),
            ("resume", json!({"account": null})),
            ("sync_now", json!({})),
            ("open_path", json!({"path": "/home/a/Pictures"})),
            ("open_log_folder", json!({})),
            (
                "count_excluded",
                json!({"path": "/p", "patterns": ["*.png"]}),
            ),
            ("open_in_immich", json!({"account": "home", "asset": "id"})),
            (
                "delete_example",
                json!({"mode": "mirror", "threshold": 14, "maxAge": 30.5}),
            ),
            ("held_deletes", json!({"limit": 200})),
            ("decide_deletes", json!({"ids": [1, 2], "approve": true})),
            ("decide_deletes", json!({"approve": false})),
            ("deletes_done", json!({"limit": 50})),
            ("undo_deletes", json!({"ids": [3]})),
            ("deleted_in_immich", json!({"limit": 50})),
            ("upload_again", json!({"ids": null})),
            (
                "delete_preview",
                json!({"account": "home", "folder": "/p", "mode": "mirror",
                "threshold": 14, "maxAge": 30}),
            ),
            ("move_over", json!({"path": "/etc/immich-sync/config.toml"})),
        ]
    }

    #[test]
    fn every_command_a_window_may_call_is_carried_out_somewhere() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let allowed: std::collections::BTreeSet<String> = conf["app"]["security"]["capabilities"]
            [0]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        let handled: std::collections::BTreeSet<String> = sent_by_the_pages()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .chain(
                crate::window_host::LOCAL_COMMANDS
                    .iter()
                    .map(|n| (*n).to_owned()),
            )
            .collect();
        assert_eq!(
            allowed, handled,
            "what the windows may call is what the tray or the window process carries out"
        );
        for (name, args) in sent_by_the_pages() {
            if let Err(e) = Command::parse(name, &args.to_string()) {
                panic!("{name} {args}: {}", e.message);
            }
        }
    }

    #[test]
    fn an_unknown_command_or_wrong_arguments_are_refused_by_name() {
        let unknown = Command::parse("format_disk", "{}").unwrap_err();
        assert_eq!(unknown.code, "invalid");
        assert!(
            unknown.message.contains("`format_disk`"),
            "{}",
            unknown.message
        );
        let wrong = Command::parse("recent_events", r#"{"limit":"all"}"#).unwrap_err();
        assert!(
            wrong.message.contains("`recent_events`"),
            "{}",
            wrong.message
        );
        let missing = Command::parse("undo_deletes", "{}").unwrap_err();
        assert!(missing.message.contains("ids"), "{}", missing.message);
        assert!(
            Command::parse("pick_folder", "{}").is_err(),
            "the window process's own commands never reach the tray"
        );
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(delete_example(DeleteMode::Mirror, f64::NAN, 10.0).is_err());
        assert!(delete_example(DeleteMode::Mirror, 1.0, 0.0).is_err());
    }

    #[test]
    fn excluded_files_are_counted_and_bad_patterns_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("Screenshots")).unwrap();
        std::fs::create_dir_all(root.join("Trips/Screenshots")).unwrap();
        for file in [
            "a.jpg",
            "b.png",
            "Screenshots/c.png",
            "Trips/d.jpg",
            "Trips/Screenshots/e.png",
        ] {
            std::fs::write(root.join(file), b"x").unwrap();
        }
        let count = |patterns: &[&str]| {
            let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
            count_excluded_in(root, &patterns)
        };
        assert_eq!(count(&[]).unwrap(), 0);
        assert_eq!(count(&[" ", ""]).unwrap(), 0);
        assert_eq!(count(&["*.png"]).unwrap(), 3);
        assert_eq!(count(&["**/Screenshots/**"]).unwrap(), 2);
        assert_eq!(count(&["Screenshots/", "*.PNG"]).unwrap(), 3);
        let bad = count(&["*.png", "{raw,"]).unwrap_err();
        assert_eq!(bad.code, "invalid_pattern");
        assert!(bad.message.contains("`{raw,`"), "{}", bad.message);
        let gone = count_excluded_in(&root.join("not-there"), &["*.png".to_owned()]).unwrap_err();
        assert_eq!(gone.code, "unavailable");
    }
}
