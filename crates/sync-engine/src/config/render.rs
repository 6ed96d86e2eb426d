//! Writing a [`Config`] back as TOML in the current shape.
//!
//! The desktop app edits settings as a `Config` and saves them with [`to_toml`]; the file is
//! then read back with [`super::parse`], so a saved file is always one the daemon accepts too.
//! Account-level and `[immich]` defaults are written out per folder, which keeps their meaning
//! while giving every folder its own, explicit policy.

use std::time::Duration;

use serde::Serialize;

use super::{AccountConfig, AlbumRule, ApiKeySource, Config, DeleteMode, FolderConfig};

#[derive(Serialize)]
struct File<'a> {
    database_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_log: Option<String>,
    defaults: Defaults,
    account: Vec<Account<'a>>,
}

#[derive(Serialize)]
struct Defaults {
    upload_concurrency: usize,
    full_scan_interval: String,
    reconcile_interval: String,
    remote_check_interval: String,
    upload_poll_interval: String,
    stable_after: String,
    delete_grace: String,
    mass_delete_files: u64,
    mass_delete_percent: u64,
}

#[derive(Serialize)]
struct Account<'a> {
    name: &'a str,
    server_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_env: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_keyring: Option<bool>,
    paused: bool,
    folder: Vec<Folder<'a>>,
}

#[derive(Serialize)]
struct Folder<'a> {
    path: String,
    delete_mode: &'static str,
    delete_threshold: f64,
    delete_max_age: f64,
    exclude_extensions: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    exclude: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    album: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stack_raw_jpeg: bool,
}

/// The configuration as a TOML file that [`super::parse`] reads back to the same `Config`.
pub fn to_toml(config: &Config) -> String {
    let file = File {
        database_path: config.database_path.to_string_lossy().into_owned(),
        event_log: config
            .event_log
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        defaults: Defaults {
            upload_concurrency: config.upload_concurrency,
            full_scan_interval: duration(config.intervals.full_scan),
            reconcile_interval: duration(config.intervals.reconcile),
            remote_check_interval: duration(config.intervals.remote_check),
            upload_poll_interval: duration(config.intervals.upload_poll),
            stable_after: duration(config.intervals.stable_after),
            delete_grace: duration(config.delete_guard.grace),
            mass_delete_files: config.delete_guard.max_files,
            mass_delete_percent: config.delete_guard.max_percent,
        },
        account: config.accounts.iter().map(account).collect(),
    };
    let body = toml::to_string_pretty(&file).unwrap_or_else(|e| {
        // Every field above is a plain string, number or list: serialising cannot fail.
        unreachable!("config serialisation failed: {e}")
    });
    format!(
        "# Immich Sync settings. Written by the app; safe to edit while it is not running.\n\n{body}"
    )
}

fn account(a: &AccountConfig) -> Account<'_> {
    let mut out = Account {
        name: &a.name,
        server_url: &a.server_url,
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        api_key_keyring: None,
        paused: a.paused,
        folder: a.folders.iter().map(folder).collect(),
    };
    match &a.api_key {
        ApiKeySource::Inline(key) => out.api_key = Some(key.expose()),
        ApiKeySource::Env(var) => out.api_key_env = Some(var),
        ApiKeySource::File(path) => out.api_key_file = Some(path.to_string_lossy().into_owned()),
        ApiKeySource::Keyring => out.api_key_keyring = Some(true),
    }
    out
}

fn folder(f: &FolderConfig) -> Folder<'_> {
    Folder {
        path: f.path.to_string_lossy().into_owned(),
        delete_mode: match f.policy.mode {
            DeleteMode::Mirror => "mirror",
            DeleteMode::UploadOnly => "upload-only",
            DeleteMode::KeepLocal => "keep-local",
        },
        delete_threshold: f.policy.threshold_days,
        delete_max_age: f.policy.max_age_days,
        exclude_extensions: &f.exclude_extensions,
        exclude: &f.exclude,
        album: (f.album != AlbumRule::None).then(|| f.album.as_written()),
        stack_raw_jpeg: f.stack_raw_jpeg,
    }
}

fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn a_written_config_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("Pictures");
        let text = format!(
            r#"
database_path = "{db}"
event_log = "{db}.events"
exclude_extensions = ["tar.gz"]
exclude = ["*.tmp"]
[immich]
server_url = "https://photos.example.com"
delete_threshold = 7.5
delete_max_age = 365
import_poll_interval = 3600
[[user]]
user_id = "alice"
user_key = "secret-key"
path = "{photos}/alice"
[[account]]
name = "family"
server_url = "http://10.0.0.2:2283/api"
api_key_keyring = true
paused = true
[[account.folder]]
path = "{photos}/family"
delete_mode = "keep-local"
exclude_extensions = ["mov"]
exclude = ["**/Screenshots/**", "Private/"]
album = "folder"
[[account.folder]]
path = "{photos}/trip"
album = "Trip 2024"
stack_raw_jpeg = true
"#,
            db = dir.path().join("state.db").display(),
            photos = photos.display(),
        );
        let first = parse(&text, dir.path()).unwrap();
        let written = to_toml(&first);
        let mut second = parse(&written, dir.path()).unwrap();
        second.warnings = first.warnings.clone();
        assert_eq!(second, first, "written:\n{written}");
    }
}
