//! The settings window's view of the configuration, and saving it.
//!
//! The UI edits a [`SettingsDto`]. Saving turns it into an engine `Config`, renders it with
//! `config::to_toml` and parses that text with `config::parse`: the engine's validation is the
//! only validation, its problems come back keyed by field (`account[0].server_url`), and a file
//! that saved is a file the headless daemon accepts too. Keys typed in the window go to the
//! keychain (see `secrets`), never into the file.
//!
//! Exclusions typed for every folder (`exclude_extensions`, `exclude`) are written into each
//! folder's list; the app preferences remember which were global. A bad pattern is reported
//! on the list it was typed in (`exclude` or `account[0].folder[1].exclude`), found by the
//! engine's own parser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sync_engine::config::{
    self, AccountConfig, AlbumRule, Config, ConfigError, ConfigProblem, DeleteGuard, DeleteMode,
    DeletePolicy, FolderConfig, Intervals,
};
use sync_engine::secret::ApiKey;

use crate::bridge::UiError;
use crate::secrets::Secrets;

/// One synced folder as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderDto {
    /// Absolute folder path.
    pub path: String,
    /// Delete mode.
    pub delete_mode: DeleteMode,
    /// Days within which a local delete reaches the Immich trash.
    pub delete_threshold: f64,
    /// Ages above this are implausible.
    pub delete_max_age: f64,
    /// Extensions never uploaded from this folder (besides the global ones).
    #[serde(default)]
    pub exclude_extensions: Vec<String>,
    /// Exclusion patterns of this folder (besides the global ones), gitignore-like and
    /// relative to the folder: `**/Screenshots/**`, `*.tmp`, `Private/`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Which Immich album the folder's photos go into.
    #[serde(default)]
    pub album: AlbumDto,
    /// Stack a RAW and the JPEG beside it, the JPEG on top.
    #[serde(default)]
    pub stack_raw_jpeg: bool,
}

/// Which Immich album a folder's photos go into, as the window edits it:
/// `{"kind": "none"}`, `{"kind": "folder"}` or `{"kind": "named", "name": "Family"}`.
///
/// The settings file writes the same choice as one string (`album = "none" | "folder" |
/// "NAME"`); a tagged shape lets the window tell an album called "folder" from the choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AlbumDto {
    /// No album.
    #[default]
    None,
    /// One album per sub-folder, named by its path relative to the synced folder; photos at
    /// the top go into an album named after the folder.
    Folder,
    /// One album of this name for the whole folder.
    Named {
        /// The album's name.
        name: String,
    },
}

impl From<&AlbumRule> for AlbumDto {
    fn from(rule: &AlbumRule) -> AlbumDto {
        match rule {
            AlbumRule::None => AlbumDto::None,
            AlbumRule::PerFolder => AlbumDto::Folder,
            AlbumRule::Named(name) => AlbumDto::Named { name: name.clone() },
        }
    }
}

impl AlbumDto {
    /// The engine's rule, or what is wrong with the choice.
    fn to_rule(&self) -> Result<AlbumRule, String> {
        match self {
            AlbumDto::None => Ok(AlbumRule::None),
            AlbumDto::Folder => Ok(AlbumRule::PerFolder),
            AlbumDto::Named { name } => {
                let name = name.trim();
                if name.is_empty() {
                    return Err("type the album's name, or choose another album option".into());
                }
                // The file writes the choice as one string: these two names mean the choices.
                match AlbumRule::parse(name) {
                    Ok(AlbumRule::Named(name)) => Ok(AlbumRule::Named(name)),
                    _ => Err(format!(
                        "an album cannot be called \"{name}\" here: the settings file uses that word for another choice. Choose another name"
                    )),
                }
            }
        }
    }
}

/// One account as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDto {
    /// Unique name.
    pub name: String,
    /// Server URL.
    pub server_url: String,
    /// The stored key, masked ("••••3f9a"); `None` when no key is stored.
    #[serde(default)]
    pub key_masked: Option<String>,
    /// Paused.
    #[serde(default)]
    pub paused: bool,
    /// Folders.
    #[serde(default)]
    pub folders: Vec<FolderDto>,
}

/// Everything the settings window edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsDto {
    /// No account yet: the window shows the first-run guide.
    #[serde(default)]
    pub first_run: bool,
    /// Accounts.
    pub accounts: Vec<AccountDto>,
    /// Extensions never uploaded from any folder.
    #[serde(default)]
    pub exclude_extensions: Vec<String>,
    /// Exclusion patterns for every folder.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Parallel uploads per account.
    pub upload_concurrency: usize,
    /// Hours between full scans.
    pub full_scan_interval_hours: f64,
    /// Optional JSONL event log.
    #[serde(default)]
    pub event_log: Option<String>,
    /// Start the app when the user logs in.
    #[serde(default)]
    pub start_at_login: bool,
    /// Show notifications for problems that need the user.
    #[serde(default = "yes")]
    pub notifications: bool,
    /// Shown when keys are not kept in a system keychain.
    #[serde(default)]
    pub key_storage_note: Option<String>,
    /// Settings' About line: version, commit, and where the log files are.
    #[serde(default)]
    pub about: String,
    /// The engine's limits for the numbers the window edits (read-only).
    #[serde(default)]
    pub limits: Limits,
}

/// The ranges the engine accepts, so that the window checks as the engine does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Parallel uploads: 1 to this.
    pub upload_concurrency_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            upload_concurrency_max: config::MAX_UPLOAD_CONCURRENCY,
        }
    }
}

fn yes() -> bool {
    true
}

/// App preferences that are not engine configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppPrefs {
    /// Start at login.
    #[serde(default)]
    pub start_at_login: bool,
    /// Notifications on.
    #[serde(default = "yes")]
    pub notifications: bool,
    /// Extensions the user excluded for every folder. The settings file stores each folder's
    /// full list; this remembers which part of it was typed as global.
    #[serde(default)]
    pub exclude_extensions: Vec<String>,
    /// Exclusion patterns the user set for every folder; like `exclude_extensions`, the
    /// settings file stores each folder's full list.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Default for AppPrefs {
    fn default() -> Self {
        AppPrefs {
            start_at_login: false,
            notifications: true,
            exclude_extensions: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// Settings (engine config) file.
    pub config_file: PathBuf,
    /// App preferences file.
    pub prefs_file: PathBuf,
    /// Folder of both.
    pub config_dir: PathBuf,
}

impl AppPaths {
    /// The platform's config folder (XDG_CONFIG_HOME on Linux, Application Support on macOS,
    /// AppData\Roaming on Windows).
    pub fn detect() -> AppPaths {
        // The engine names the file, so `immich-syncd` finds the app's settings by itself.
        let dir = config::app_config_file()
            .and_then(|file| file.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        AppPaths::in_dir(&dir)
    }

    /// Paths inside `dir`.
    pub fn in_dir(dir: &Path) -> AppPaths {
        AppPaths {
            config_file: dir.join("config.toml"),
            prefs_file: dir.join("app.json"),
            config_dir: dir.to_owned(),
        }
    }
}

/// An empty configuration: the engine runs with no accounts until the first one is added.
pub fn empty_config() -> Config {
    Config {
        database_path: config::default_database_path(),
        event_log: None,
        upload_concurrency: config::DEFAULT_UPLOAD_CONCURRENCY,
        intervals: Intervals::default(),
        delete_guard: DeleteGuard::default(),
        accounts: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Loads the settings file; none yet means an empty configuration.
pub fn load_config(paths: &AppPaths) -> Result<Config, ConfigError> {
    if !paths.config_file.exists() {
        return Ok(empty_config());
    }
    config::load(&paths.config_file)
}

/// Loads the app preferences (defaults when absent or unreadable).
pub fn load_prefs(paths: &AppPaths) -> AppPrefs {
    std::fs::read_to_string(&paths.prefs_file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// "Immich Sync 0.1.0 (3f9a2c1d0e) · logs in /home/ann/.local/state/immich-sync/logs".
fn about_line() -> String {
    let mut line = format!("Immich Sync {}", sync_engine::VERSION);
    if let Some(dir) = crate::logs::log_dir() {
        line.push_str(&format!(" · logs in {}", dir.display()));
    }
    line
}

/// The window's view of `config`.
pub fn to_dto(config: &Config, prefs: &AppPrefs, secrets: &Secrets) -> SettingsDto {
    // Global exclusions are the remembered ones that every folder still has.
    let folders = || config.accounts.iter().flat_map(|a| &a.folders);
    let global: BTreeSet<String> = prefs
        .exclude_extensions
        .iter()
        .filter(|ext| folders().all(|f| f.exclude_extensions.contains(ext)))
        .cloned()
        .collect();
    // Patterns keep the order they were typed in: with `!` patterns, order matters.
    let global_patterns: Vec<String> = prefs
        .exclude
        .iter()
        .filter(|pattern| folders().all(|f| f.exclude.contains(pattern)))
        .cloned()
        .collect();
    SettingsDto {
        first_run: config.accounts.is_empty(),
        accounts: config
            .accounts
            .iter()
            .map(|a| AccountDto {
                name: a.name.clone(),
                server_url: a.server_url.clone(),
                key_masked: key_of(a, secrets).map(|k| k.masked()),
                paused: a.paused,
                folders: a
                    .folders
                    .iter()
                    .map(|f| FolderDto {
                        path: f.path.to_string_lossy().into_owned(),
                        delete_mode: f.policy.mode,
                        delete_threshold: f.policy.threshold_days,
                        delete_max_age: f.policy.max_age_days,
                        exclude_extensions: f
                            .exclude_extensions
                            .iter()
                            .filter(|e| !global.contains(*e))
                            .cloned()
                            .collect(),
                        exclude: f
                            .exclude
                            .iter()
                            .filter(|p| !global_patterns.contains(p))
                            .cloned()
                            .collect(),
                        album: AlbumDto::from(&f.album),
                        stack_raw_jpeg: f.stack_raw_jpeg,
                    })
                    .collect(),
            })
            .collect(),
        exclude_extensions: global.into_iter().collect(),
        exclude: global_patterns,
        upload_concurrency: config.upload_concurrency,
        full_scan_interval_hours: config.intervals.full_scan.as_secs_f64() / 3600.0,
        event_log: config
            .event_log
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        start_at_login: prefs.start_at_login,
        notifications: prefs.notifications,
        key_storage_note: secrets.note(),
        about: about_line(),
        limits: Limits::default(),
    }
}

fn key_of(account: &AccountConfig, secrets: &Secrets) -> Option<ApiKey> {
    match &account.api_key {
        config::ApiKeySource::Keyring => secrets.get(&account.name),
        other => other.resolve(&account.name).ok(),
    }
}

/// What saving produced: the validated configuration and the file text to write.
#[derive(Debug)]
pub struct Saved {
    /// Validated configuration (keys as stored, not resolved).
    pub config: Config,
    /// The settings file.
    pub text: String,
    /// Preferences.
    pub prefs: AppPrefs,
}

/// Validates `dto` against the engine's rules. `new_keys` are keys typed in the window; an
/// account without one must already have a stored key.
pub fn validate(
    dto: &SettingsDto,
    new_keys: &std::collections::HashMap<String, String>,
    current: &Config,
    paths: &AppPaths,
    secrets: &Secrets,
) -> Result<Saved, UiError> {
    let mut problems = Vec::new();
    for (i, account) in dto.accounts.iter().enumerate() {
        let typed = new_keys.get(&account.name).map(|k| ApiKey::new(k.as_str()));
        let has_key =
            typed.as_ref().is_some_and(|k| !k.is_empty()) || secrets.get(&account.name).is_some();
        if !has_key {
            problems.push(ConfigProblem {
                key: format!("account[{i}].api_key"),
                message: "enter the API key for this account".into(),
            });
        }
    }
    // Patterns are checked where they were typed: the file only has each folder's full list.
    problems.extend(pattern_problems("exclude", &dto.exclude));
    let mut albums = Vec::new();
    for (i, account) in dto.accounts.iter().enumerate() {
        for (j, folder) in account.folders.iter().enumerate() {
            let at = format!("account[{i}].folder[{j}]");
            problems.extend(pattern_problems(&format!("{at}.exclude"), &folder.exclude));
            albums.push(folder.album.to_rule().unwrap_or_else(|message| {
                problems.push(ConfigProblem {
                    key: format!("{at}.album"),
                    message,
                });
                AlbumRule::None
            }));
        }
    }
    let mut albums = albums.into_iter();
    let config = Config {
        database_path: current.database_path.clone(),
        event_log: dto
            .event_log
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        upload_concurrency: dto.upload_concurrency,
        intervals: Intervals {
            full_scan: hours(dto.full_scan_interval_hours),
            ..current.intervals
        },
        delete_guard: current.delete_guard,
        accounts: dto
            .accounts
            .iter()
            .map(|a| AccountConfig {
                name: a.name.trim().to_owned(),
                server_url: a.server_url.trim().to_owned(),
                api_key: secrets.source(a.name.trim()),
                paused: a.paused,
                folders: a
                    .folders
                    .iter()
                    .map(|f| FolderConfig {
                        path: PathBuf::from(f.path.trim()),
                        policy: DeletePolicy {
                            mode: f.delete_mode,
                            threshold_days: f.delete_threshold,
                            max_age_days: f.delete_max_age,
                        },
                        exclude_extensions: merged(&dto.exclude_extensions, &f.exclude_extensions),
                        exclude: merged_patterns(&dto.exclude, &f.exclude),
                        album: albums.next().unwrap_or_default(),
                        stack_raw_jpeg: f.stack_raw_jpeg,
                    })
                    .collect(),
            })
            .collect(),
        warnings: Vec::new(),
    };
    match config::validate(&config, &paths.config_dir) {
        Ok((validated, text)) if problems.is_empty() => Ok(Saved {
            config: validated,
            text,
            prefs: AppPrefs {
                start_at_login: dto.start_at_login,
                notifications: dto.notifications,
                exclude_extensions: merged(&dto.exclude_extensions, &[]),
                exclude: merged_patterns(&dto.exclude, &[]),
            },
        }),
        Ok(_) => Err(UiError::invalid(problems)),
        Err(ConfigError::Invalid(found)) => {
            let mut found = pattern_fields(dto, found, &problems);
            found.extend(problems);
            Err(UiError::invalid(found))
        }
        Err(other) => Err(UiError::new("invalid", other.to_string())),
    }
}

fn merged(global: &[String], folder: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ext in global.iter().chain(folder) {
        let ext = ext.trim().trim_start_matches('.').to_lowercase();
        if !ext.is_empty() && !out.contains(&ext) {
            out.push(ext);
        }
    }
    out
}

/// The global patterns followed by the folder's, trimmed, without empty ones and duplicates.
fn merged_patterns(global: &[String], folder: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for pattern in global.iter().chain(folder) {
        let pattern = pattern.trim();
        if !pattern.is_empty() && !out.iter().any(|p| p == pattern) {
            out.push(pattern.to_owned());
        }
    }
    out
}

/// The exclusion patterns in `patterns` that the engine cannot read, by position, with the
/// engine's message ("`{raw,` is not a pattern this app can read: …"). Checked as the engine
/// checks a settings file's `exclude` list, so a pattern accepted here is one the engine syncs
/// with.
pub fn bad_patterns(patterns: &[String]) -> Vec<(usize, String)> {
    patterns
        .iter()
        .enumerate()
        .filter_map(|(index, p)| config::check_exclude_pattern(p).err().map(|m| (index, m)))
        .collect()
}

/// The first bad pattern of a list the window edits, as a problem of that list (`key`).
fn pattern_problems(key: &str, patterns: &[String]) -> Option<ConfigProblem> {
    bad_patterns(&merged_patterns(patterns, &[]))
        .into_iter()
        .next()
        .map(|(_, message)| ConfigProblem {
            key: key.to_owned(),
            message,
        })
}

/// The window's field for the engine's key of one folder pattern
/// (`account[0].folder[1].exclude[3]`): the global list when the pattern came from it, the
/// folder's list otherwise.
fn field_of_pattern(dto: &SettingsDto, key: &str) -> Option<String> {
    let (folder_key, rest) = key.split_once(".exclude[")?;
    let index: usize = rest.strip_suffix(']')?.parse().ok()?;
    let (account, folder) = folder_key
        .strip_prefix("account[")?
        .split_once("].folder[")?;
    let account: usize = account.parse().ok()?;
    let folder: usize = folder.strip_suffix(']')?.parse().ok()?;
    let written = &dto.accounts.get(account)?.folders.get(folder)?.exclude;
    let pattern = merged_patterns(&dto.exclude, written)
        .into_iter()
        .nth(index)?;
    Some(if merged_patterns(&dto.exclude, &[]).contains(&pattern) {
        "exclude".to_owned()
    } else {
        format!("{folder_key}.exclude")
    })
}

/// The engine's problems with pattern keys moved to the window's fields, one per field, and
/// none for a field that `ours` (the window's own checks) already reports.
fn pattern_fields(
    dto: &SettingsDto,
    found: Vec<ConfigProblem>,
    ours: &[ConfigProblem],
) -> Vec<ConfigProblem> {
    let mut seen: BTreeSet<String> = ours.iter().map(|p| p.key.clone()).collect();
    found
        .into_iter()
        .filter_map(|p| match field_of_pattern(dto, &p.key) {
            Some(key) => seen.insert(key.clone()).then_some(ConfigProblem {
                key,
                message: p.message,
            }),
            None => Some(p),
        })
        .collect()
}

fn hours(h: f64) -> Duration {
    if h.is_finite() && h > 0.0 {
        Duration::from_secs_f64(h * 3600.0)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn dto(dir: &Path) -> SettingsDto {
        SettingsDto {
            first_run: false,
            accounts: vec![AccountDto {
                name: "family".into(),
                server_url: "https://photos.example.com".into(),
                key_masked: None,
                paused: false,
                folders: vec![FolderDto {
                    path: dir.join("Pictures").to_string_lossy().into_owned(),
                    delete_mode: DeleteMode::Mirror,
                    delete_threshold: 7.0,
                    delete_max_age: 365.0,
                    exclude_extensions: vec!["mov".into()],
                    exclude: Vec::new(),
                    album: AlbumDto::None,
                    stack_raw_jpeg: true,
                }],
            }],
            exclude_extensions: vec![".TMP".into()],
            exclude: Vec::new(),
            upload_concurrency: 4,
            full_scan_interval_hours: 24.0,
            event_log: None,
            start_at_login: false,
            notifications: true,
            key_storage_note: None,
            about: String::new(),
            limits: Limits::default(),
        }
    }

    #[test]
    fn saved_settings_round_trip_and_keep_keys_out_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::in_dir(dir.path());
        let secrets = Secrets::Files(dir.path().join("keys"));
        let keys = HashMap::from([("family".to_owned(), "secret-abc-1234".to_owned())]);
        let saved = validate(&dto(dir.path()), &keys, &empty_config(), &paths, &secrets).unwrap();
        assert!(
            !saved.text.contains("secret-abc-1234"),
            "keys never go into the settings file"
        );
        secrets
            .set("family", &ApiKey::new("secret-abc-1234"))
            .unwrap();
        let back = to_dto(&saved.config, &saved.prefs, &secrets);
        assert_eq!(back.exclude_extensions, vec!["tmp".to_owned()]);
        assert_eq!(
            back.accounts[0].folders[0].exclude_extensions,
            vec!["mov".to_owned()]
        );
        assert_eq!(back.accounts[0].key_masked.as_deref(), Some("••••1234"));
        assert!(!back.first_run);
    }

    #[test]
    fn albums_and_exclusion_patterns_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::in_dir(dir.path());
        let secrets = Secrets::Files(dir.path().join("keys"));
        let mut settings = dto(dir.path());
        settings.exclude = vec![" *.tmp ".into(), "".into()];
        let folder = &mut settings.accounts[0].folders[0];
        folder.exclude = vec![
            "**/Screenshots/**".into(),
            "Private/".into(),
            "*.tmp".into(),
        ];
        folder.album = AlbumDto::Named {
            name: " Family ".into(),
        };
        let mut trips = folder.clone();
        trips.path = dir.path().join("Trips").to_string_lossy().into_owned();
        trips.exclude = Vec::new();
        trips.album = AlbumDto::Folder;
        let mut plain = trips.clone();
        plain.path = dir.path().join("Scans").to_string_lossy().into_owned();
        plain.album = AlbumDto::None;
        settings.accounts[0].folders.extend([trips, plain]);
        let keys = HashMap::from([("family".to_owned(), "secret-abc-1234".to_owned())]);
        let saved = validate(&settings, &keys, &empty_config(), &paths, &secrets).unwrap();
        assert!(saved.text.contains(r#"album = "Family""#), "{}", saved.text);
        assert!(saved.text.contains(r#"album = "folder""#), "{}", saved.text);
        assert_eq!(
            saved.text.matches("album = ").count(),
            2,
            "no album is not written"
        );
        assert_eq!(
            saved.config.accounts[0].folders[0].exclude,
            ["*.tmp", "**/Screenshots/**", "Private/"],
            "the global patterns first, each once"
        );
        assert_eq!(saved.config.accounts[0].folders[1].exclude, ["*.tmp"]);

        let back = to_dto(&saved.config, &saved.prefs, &secrets);
        assert_eq!(back.exclude, ["*.tmp"]);
        let folders = &back.accounts[0].folders;
        assert_eq!(folders[0].exclude, ["**/Screenshots/**", "Private/"]);
        assert!(folders[1].exclude.is_empty());
        assert_eq!(
            folders[0].album,
            AlbumDto::Named {
                name: "Family".into()
            }
        );
        assert_eq!(folders[1].album, AlbumDto::Folder);
        assert_eq!(folders[2].album, AlbumDto::None);

        // A pattern no longer in every folder is no longer global.
        let mut config = saved.config.clone();
        config.accounts[0].folders[2].exclude.clear();
        let back = to_dto(&config, &saved.prefs, &secrets);
        assert!(back.exclude.is_empty());
        assert_eq!(back.accounts[0].folders[1].exclude, ["*.tmp"]);
    }

    #[test]
    fn the_album_choice_has_a_tagged_shape() {
        let json = |album: &AlbumDto| serde_json::to_value(album).unwrap();
        assert_eq!(json(&AlbumDto::None), serde_json::json!({"kind": "none"}));
        assert_eq!(
            json(&AlbumDto::Folder),
            serde_json::json!({"kind": "folder"})
        );
        assert_eq!(
            json(&AlbumDto::Named {
                name: "Family".into()
            }),
            serde_json::json!({"kind": "named", "name": "Family"})
        );
        // A folder sent without the new fields has no album and no patterns.
        let folder: FolderDto = serde_json::from_value(serde_json::json!({
            "path": "/photos",
            "delete_mode": "mirror",
            "delete_threshold": 30.0,
            "delete_max_age": 3650.0,
        }))
        .unwrap();
        assert_eq!(folder.album, AlbumDto::None);
        assert!(folder.exclude.is_empty());
    }

    #[test]
    fn bad_patterns_and_album_names_are_reported_on_their_field() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::in_dir(dir.path());
        let secrets = Secrets::Files(dir.path().join("keys"));
        let keys = HashMap::from([("family".to_owned(), "secret-abc-1234".to_owned())]);
        let mut bad = dto(dir.path());
        bad.exclude = vec!["*.tmp".into(), "{raw,".into()];
        bad.accounts[0].folders[0].exclude = vec!["Private/".into(), "[z-a]".into()];
        bad.accounts[0].folders[0].album = AlbumDto::Named { name: "  ".into() };
        let mut second = bad.accounts[0].folders[0].clone();
        second.path = dir.path().join("Trips").to_string_lossy().into_owned();
        second.exclude = Vec::new();
        second.album = AlbumDto::Named {
            name: "folder".into(),
        };
        bad.accounts[0].folders.push(second);
        let error = validate(&bad, &keys, &empty_config(), &paths, &secrets).unwrap_err();
        let problems: Vec<(&str, &str)> = error
            .problems
            .iter()
            .map(|p| (p.key.as_str(), p.message.as_str()))
            .collect();
        let on = |key: &str| -> Vec<&str> {
            problems
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, m)| *m)
                .collect()
        };
        assert_eq!(
            on("exclude").len(),
            1,
            "once, not once per folder: {problems:?}"
        );
        assert!(on("exclude")[0].contains("`{raw,`"), "{problems:?}");
        let folder = on("account[0].folder[0].exclude");
        assert_eq!(folder.len(), 1, "{problems:?}");
        assert!(folder[0].contains("`[z-a]`"), "{problems:?}");
        assert!(on("account[0].folder[0].album")[0].contains("album's name"));
        assert!(on("account[0].folder[1].album")[0].contains("\"folder\""));
        assert!(
            problems.iter().all(|(k, _)| !k.contains("exclude[")),
            "no key the window does not show: {problems:?}"
        );
    }

    #[test]
    fn bad_patterns_are_named_by_position() {
        let found = bad_patterns(&["*.jpg".into(), "{raw,".into(), "Private/".into()]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 1);
        assert!(found[0].1.contains("`{raw,`"), "{found:?}");
        assert!(bad_patterns(&["**/Screenshots/**".into(), "!keep.jpg".into()]).is_empty());
        assert!(bad_patterns(&[]).is_empty());
    }

    #[test]
    fn the_engines_pattern_keys_become_the_windows_fields() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = dto(dir.path());
        settings.exclude = vec!["*.tmp".into()];
        settings.accounts[0].folders[0].exclude = vec!["*.tmp".into(), "Private/".into()];
        let field = |key: &str| field_of_pattern(&settings, key);
        assert_eq!(
            field("account[0].folder[0].exclude[0]").as_deref(),
            Some("exclude")
        );
        assert_eq!(
            field("account[0].folder[0].exclude[1]").as_deref(),
            Some("account[0].folder[0].exclude")
        );
        assert_eq!(field("account[0].folder[0].exclude[2]"), None);
        assert_eq!(field("account[0].folder[0].delete_threshold"), None);
    }

    #[test]
    fn problems_name_the_field_they_belong_to() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::in_dir(dir.path());
        let secrets = Secrets::Files(dir.path().join("keys"));
        let mut bad = dto(dir.path());
        bad.accounts[0].server_url = "photos.example.com".into();
        bad.accounts[0].folders[0].delete_threshold = -1.0;
        let error = validate(&bad, &HashMap::new(), &empty_config(), &paths, &secrets).unwrap_err();
        let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"account[0].server_url"), "{keys:?}");
        assert!(
            keys.contains(&"account[0].folder[0].delete_threshold"),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"account[0].api_key"),
            "a missing key is reported too: {keys:?}"
        );
    }
}
