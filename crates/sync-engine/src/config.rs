//! The configuration file: read once, checked completely, then trusted.
//!
//! One TOML file drives the headless daemon `immich-syncd`, and the desktop app writes the same
//! shape from its settings. Two shapes load, also mixed in one file:
//!
//! - the older headless service's file, which must keep loading unchanged: an `[immich]` table
//!   (server, delete policy, poll intervals) and one `[[user]]` block per Immich user with its
//!   key and one folder;
//! - the current shape: `[defaults]` and `[[account]]` blocks, each with `[[account.folder]]`s
//!   that may override the delete policy and add excluded extensions.
//!
//! Loading has two steps, kept apart on purpose. `raw` holds serde structs in which every key
//! is optional and a value of the wrong type is kept with the reason instead of stopping the
//! parse. `build` turns them into the validated types below and collects *every* problem under
//! its key's full name (`account[0].folder[1].delete_threshold`), so the file can be fixed in
//! one go. Unknown keys are warnings, never errors: a typo shows in the log, and an old file
//! never stops loading.
//!
//! Once [`load`] succeeds nothing else re-checks: server URLs are usable, every account has
//! exactly one key source, folder paths are absolute and no two overlap, and every delete
//! policy is consistent. A folder that does not exist is *not* a config error: a drive may be
//! unmounted, and the engine pauses that folder instead.

mod api_key;
mod build;
mod error;
mod raw;
mod render;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use api_key::ApiKeySource;
pub use error::{ConfigError, ConfigProblem};
pub use render::to_toml;

/// Parallel uploads per account when the file does not say.
pub const DEFAULT_UPLOAD_CONCURRENCY: usize = 4;
/// The most parallel uploads per account the file may ask for; more only hurts the server.
pub const MAX_UPLOAD_CONCURRENCY: usize = 16;

/// A validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The engine's SQLite store.
    pub database_path: PathBuf,
    /// Where every event is also appended as one JSON line, if anywhere.
    pub event_log: Option<PathBuf>,
    /// Parallel uploads per account, 1 to [`MAX_UPLOAD_CONCURRENCY`].
    pub upload_concurrency: usize,
    /// How often the workers wake up.
    pub intervals: Intervals,
    /// When deletes are held for the user's confirmation.
    pub delete_guard: DeleteGuard,
    /// The accounts, in file order (`[[user]]` blocks first).
    pub accounts: Vec<AccountConfig>,
    /// Things worth logging that do not stop loading, e.g.
    /// ``unknown key `delete_treshold` in [immich] (ignored)``.
    pub warnings: Vec<String>,
}

/// How often the workers wake up, the same for every account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intervals {
    /// Between full scans of every folder (`full_scan_interval`; default 24 h).
    pub full_scan: Duration,
    /// Between reconciliations of deletions with the server (`reconcile_interval`; default 1 h):
    /// every linked checksum is checked, which also finds assets deleted for good.
    pub reconcile: Duration,
    /// Between looks at the Immich trash for photos trashed there (`remote_check_interval`;
    /// default 30 s): one small request, so deletes made in Immich arrive within a minute.
    pub remote_check: Duration,
    /// The uploader's fallback wake-up when no work was signalled (`upload_poll_interval`;
    /// default 60 s).
    pub upload_poll: Duration,
    /// How long a file's size and mtime must stay unchanged before it counts as complete
    /// (`stable_after`; default 2 s).
    pub stable_after: Duration,
}

/// The mass-delete guard: deletes wait `grace`, then are evaluated as a batch; a batch (plus
/// the deletes of the last hour) over either limit is held until the user confirms it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteGuard {
    /// How long a local delete waits before it is evaluated (`delete_grace`; default 30 s).
    pub grace: Duration,
    /// More files than this in one go are held (`mass_delete_files`; default 10).
    pub max_files: u64,
    /// More than this percentage of a folder's synced files are held (`mass_delete_percent`;
    /// default 25).
    pub max_percent: u64,
}

impl Default for DeleteGuard {
    fn default() -> Self {
        DeleteGuard {
            grace: Duration::from_secs(30),
            max_files: 10,
            max_percent: 25,
        }
    }
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            full_scan: Duration::from_secs(24 * 3600),
            reconcile: Duration::from_secs(3600),
            remote_check: Duration::from_secs(30),
            upload_poll: Duration::from_secs(60),
            stable_after: Duration::from_secs(2),
        }
    }
}

/// One Immich user on one server, with its folders.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountConfig {
    /// Unique among the accounts; names the account in logs, the store and the keychain.
    pub name: String,
    /// The server's address without a trailing slash or `/api`, e.g.
    /// `https://photos.example.com`.
    pub server_url: String,
    /// Where the API key comes from.
    pub api_key: ApiKeySource,
    /// Configured as paused: nothing is uploaded or deleted until resumed.
    pub paused: bool,
    /// The synced folders; none of them overlaps another folder of any account.
    pub folders: Vec<FolderConfig>,
}

impl AccountConfig {
    /// The API-key permissions this account needs: the album ones only when a folder puts its
    /// photos into albums, the stack one only when a folder stacks RAW+JPEG pairs.
    pub fn permissions_needed(&self) -> Vec<&'static str> {
        let mut needed = crate::immich::REQUIRED_PERMISSIONS.to_vec();
        if self.folders.iter().any(|f| f.album != AlbumRule::None) {
            needed.extend(crate::immich::ALBUM_PERMISSIONS);
        }
        if self.folders.iter().any(|f| f.stack_raw_jpeg) {
            needed.push(crate::immich::STACK_PERMISSION);
        }
        needed
    }
}

/// One synced folder.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderConfig {
    /// Absolute, with `~`, `.` and `..` resolved. It need not exist.
    pub path: PathBuf,
    /// How deletions propagate for this folder.
    pub policy: DeletePolicy,
    /// The global `exclude_extensions` followed by the folder's own, normalised (lower case,
    /// no leading dot, e.g. `tar.gz`) and without duplicates.
    pub exclude_extensions: Vec<String>,
    /// The global `exclude` patterns followed by the folder's own (gitignore-like, relative to
    /// the folder: `**/Screenshots/**`, `*.tmp`, `Private/`), as written and each valid.
    pub exclude: Vec<String>,
    /// Which Immich album the folder's photos are added to.
    pub album: AlbumRule,
    /// Whether a RAW and the JPEG beside it are stacked in Immich, the JPEG on top.
    pub stack_raw_jpeg: bool,
}

/// Checks one `exclude` pattern as the file's are checked: the pattern trimmed, or why it
/// cannot be read (for an editor that checks patterns as they are typed).
pub fn check_exclude_pattern(pattern: &str) -> Result<String, String> {
    build::pattern_entry(pattern)
}

/// Which Immich album a folder's photos go into (`album = "none" | "folder" | "NAME"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum AlbumRule {
    /// No album (the default).
    #[default]
    None,
    /// One album per sub-folder, named by its path relative to the synced folder
    /// (`Trips/Rome`); photos at the top go into an album named after the folder itself.
    PerFolder,
    /// One album of this name for the whole folder.
    Named(String),
}

impl AlbumRule {
    /// Reads the file's value: `none`, `folder`, or an album name.
    pub fn parse(written: &str) -> Result<AlbumRule, String> {
        match written.trim() {
            "" => Err("is empty: write \"none\", \"folder\" or an album name".into()),
            "none" => Ok(AlbumRule::None),
            "folder" => Ok(AlbumRule::PerFolder),
            name => Ok(AlbumRule::Named(name.to_owned())),
        }
    }

    /// The value as the file writes it.
    pub fn as_written(&self) -> &str {
        match self {
            AlbumRule::None => "none",
            AlbumRule::PerFolder => "folder",
            AlbumRule::Named(name) => name,
        }
    }

    /// The album for a file at `relative` (to the synced folder `root`), if any.
    pub fn album_for(&self, root: &std::path::Path, relative: &std::path::Path) -> Option<String> {
        match self {
            AlbumRule::None => None,
            AlbumRule::Named(name) => Some(name.clone()),
            AlbumRule::PerFolder => {
                let parent = relative.parent().filter(|p| !p.as_os_str().is_empty());
                match parent {
                    Some(dir) => Some(
                        dir.components()
                            .map(|c| c.as_os_str().to_string_lossy())
                            .collect::<Vec<_>>()
                            .join("/"),
                    ),
                    None => root
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned()),
                }
            }
        }
    }
}

/// Which way deletions propagate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteMode {
    /// Deletions propagate both ways, within the policy's ages.
    Mirror,
    /// Only upload: deletions propagate neither way.
    UploadOnly,
    /// Never delete local files; local deletes still propagate to Immich.
    KeepLocal,
}

impl DeleteMode {
    /// Every mode, in the order the settings show them.
    pub const ALL: [DeleteMode; 3] = [Self::Mirror, Self::UploadOnly, Self::KeepLocal];

    /// The name used in the file: `mirror`, `upload-only`, `keep-local`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mirror => "mirror",
            Self::UploadOnly => "upload-only",
            Self::KeepLocal => "keep-local",
        }
    }
}

/// How deletions propagate for one folder.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeletePolicy {
    /// Which ways deletions go.
    pub mode: DeleteMode,
    /// A local delete propagates to Immich only while the asset is younger than this many
    /// days (at least 0).
    pub threshold_days: f64,
    /// An age above this many days, below zero or unknown is implausible: never delete.
    /// Always at least `threshold_days` and above 0.
    pub max_age_days: f64,
}

impl Default for DeletePolicy {
    fn default() -> Self {
        Self {
            mode: DeleteMode::Mirror,
            threshold_days: 30.0,
            max_age_days: 3650.0,
        }
    }
}

/// Reads and validates the file at `path`. Relative paths in it are resolved against the
/// file's folder.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base_dir = absolute.parent().unwrap_or(Path::new(""));
    let mut config = parse(&text, base_dir).map_err(|error| match error {
        ConfigError::Syntax {
            line,
            column,
            message,
            ..
        } => ConfigError::Syntax {
            path: Some(path.to_path_buf()),
            line,
            column,
            message,
        },
        other => other,
    })?;
    if let Some(warning) = build::shared_secret_warning(path, &config) {
        config.warnings.push(warning);
    }
    Ok(config)
}

/// Validates a configuration given as text. Relative paths are resolved against `base_dir`
/// (the config file's folder); when it is not absolute, relative paths are refused.
pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    let home = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    let context = values::PathContext {
        base_dir: base_dir.to_path_buf(),
        home,
    };
    build::parse_in(text, &context, platform_database_path())
}

/// Writes `text` to the configuration file at `path` so that a crash leaves either the old or
/// the new file, never half of one: a temporary file beside it, flushed to disk, then renamed.
/// Blocking.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("toml.tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

/// Checks `config` with the same rules as a file read from disk: it is rendered with
/// [`to_toml`] and parsed back, so whatever passes is a file the daemon accepts too. Returns the
/// configuration as parsed and the file's text.
pub fn validate(config: &Config, base_dir: &Path) -> Result<(Config, String), ConfigError> {
    let text = to_toml(config);
    let parsed = parse(&text, base_dir)?;
    Ok((parsed, text))
}

/// Where the store lives when `database_path` is not set: `state.db` in the platform's data
/// folder (e.g. `~/.local/share/immich-sync/state.db` on Linux). Without a home folder, where
/// no data folder is known, it is `state.db` in the current folder.
pub fn default_database_path() -> PathBuf {
    platform_database_path().unwrap_or_else(|| PathBuf::from("state.db"))
}

/// The desktop app's settings file (`~/.config/immich-sync/config.toml` on Linux), which
/// `immich-syncd` uses when no `--config` is given. `None` without a home folder.
pub fn app_config_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Immich Sync", "immich-sync")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

fn platform_database_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Immich Sync", "immich-sync")
        .map(|dirs| dirs.data_dir().join("state.db"))
}
