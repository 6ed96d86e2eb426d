//! The commands the web UI may call: each checks its arguments and delegates.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sync_engine::config::{DeleteMode, DeletePolicy};
use sync_engine::engine::DeletePreview;
use sync_engine::events::Event;
use sync_engine::secret::ApiKey;
use sync_engine::status::Status;
use sync_engine::store::{HeldDelete, TombstonePage};
use tauri::{AppHandle, Manager as _, State, WebviewWindow};

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

/// The current status snapshot.
#[tauri::command]
pub fn get_status(state: State<'_, AppState>) -> Status {
    state.engine.status()
}

/// Recent events, newest first.
#[tauri::command]
pub fn recent_events(state: State<'_, AppState>, limit: usize) -> Vec<Event> {
    state.recent.newest(limit.min(RECENT_EVENTS))
}

/// The settings as the window edits them.
#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> SettingsDto {
    state.settings_dto()
}

/// Validates, stores keys, writes the file and applies it to the running engine.
#[tauri::command]
pub async fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: SettingsDto,
    keys: HashMap<String, String>,
) -> Result<SettingsDto, UiError> {
    for (name, key) in &keys {
        check_text("an account name", name)?;
        check_text("an API key", key)?;
    }
    state.save(&app, &settings, &keys).await
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
#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
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

/// Set by the end-to-end tests: WebDriver cannot reach the native chooser, so the test names
/// the folder the "user" picks. Everything after the chooser runs as usual.
const TEST_PICK_FOLDER: &str = "IMMICH_SYNC_TEST_PICK_FOLDER";

/// The native folder picker.
#[tauri::command]
pub async fn pick_folder(app: AppHandle) -> Option<String> {
    choose(app, TEST_PICK_FOLDER, Choose::Folder).await
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

/// Pauses one account, or all.
#[tauri::command]
pub fn pause(app: AppHandle, account: Option<String>) {
    apply_intent(&app, account.map_or(Intent::PauseAll, Intent::Pause));
}

/// Resumes one account, or all.
#[tauri::command]
pub fn resume(app: AppHandle, account: Option<String>) {
    apply_intent(&app, account.map_or(Intent::ResumeAll, Intent::Resume));
}

/// Sync now.
#[tauri::command]
pub fn sync_now(app: AppHandle) {
    apply_intent(&app, Intent::SyncNow);
}

/// Opens a synced folder in the file manager. Only configured folders can be opened.
#[tauri::command]
pub fn open_path(app: AppHandle, state: State<'_, AppState>, path: String) -> Result<(), UiError> {
    check_text("the path", &path)?;
    let wanted = PathBuf::from(&path);
    let index = state
        .folder_paths()
        .iter()
        .position(|p| *p == wanted)
        .ok_or_else(|| UiError::new("invalid", "only synced folders can be opened"))?;
    apply_intent(&app, Intent::OpenFolder(index));
    Ok(())
}

/// Opens an asset in Immich's web app, in the browser: only on the account's own server, and
/// only for an id Immich could have given.
#[tauri::command]
pub fn open_in_immich(app: AppHandle, account: String, asset: String) -> Result<(), UiError> {
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
    apply_intent(&app, Intent::OpenUrl(url));
    Ok(())
}

/// Opens the folder of the app's log files in the file manager.
#[tauri::command]
pub fn open_log_folder(app: AppHandle) -> Result<(), UiError> {
    match crate::logs::log_dir() {
        Some(dir) if dir.is_dir() => {
            apply_intent(&app, Intent::OpenLogFolder);
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
#[tauri::command]
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
#[tauri::command]
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
#[tauri::command]
pub async fn held_deletes(
    state: State<'_, AppState>,
    limit: usize,
) -> Result<Vec<HeldDelete>, UiError> {
    state
        .engine
        .waiting_deletes(limit)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// Approves or rejects held deletes (`ids` absent: every waiting one).
#[tauri::command]
pub async fn decide_deletes(
    state: State<'_, AppState>,
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
#[tauri::command]
pub async fn deletes_done(
    state: State<'_, AppState>,
    limit: usize,
) -> Result<Vec<DeleteDoneDto>, UiError> {
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
#[tauri::command]
pub async fn undo_deletes(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<Vec<UndoDto>, UiError> {
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
#[tauri::command]
pub async fn deleted_in_immich(
    state: State<'_, AppState>,
    limit: usize,
) -> Result<TombstonePage, UiError> {
    state
        .engine
        .standing_tombstones(limit)
        .await
        .map_err(|e| UiError::new("store", e.to_string()))
}

/// "Upload again" for photos remembered as deleted in Immich (`ids` absent: all).
#[tauri::command]
pub async fn upload_again(
    state: State<'_, AppState>,
    ids: Option<Vec<i64>>,
) -> Result<usize, UiError> {
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
#[tauri::command]
pub async fn delete_preview(
    state: State<'_, AppState>,
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

/// Set by the end-to-end tests: the older service's `config.toml` the "user" picks.
const TEST_PICK_FILE: &str = "IMMICH_SYNC_TEST_PICK_FILE";

/// The native file picker, for the older service's `config.toml`.
#[tauri::command]
pub async fn pick_older_config(app: AppHandle) -> Option<String> {
    choose(app, TEST_PICK_FILE, Choose::OlderConfig).await
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
#[tauri::command]
pub async fn move_over(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<MoveOverDto, UiError> {
    check_text("the path", &path)?;
    state.move_over(&app, std::path::Path::new(&path)).await
}

/// Closes the calling window (it is destroyed, not hidden).
#[tauri::command]
pub fn close_window(window: WebviewWindow) {
    let _ = window.close();
}

#[cfg(test)]
mod tests {
    use super::*;

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
