//! Where an account's API key comes from, and reading it when the account starts.
//!
//! The key is best kept out of the config file: the desktop app keeps it in the OS keychain,
//! and the daemon reads it from an environment variable or a file only the service user can
//! read. An inline key still works, because the older service's files have one per user.
//! Reading happens when an account starts, not when the file is validated, so a key that is
//! rotated in its file or variable is picked up on restart without touching the config.

use std::path::PathBuf;

use super::ConfigError;
use super::error::io_reason;
use crate::secret::ApiKey;

/// Where an account's API key comes from (exactly one per account).
#[derive(Clone, Debug, PartialEq)]
pub enum ApiKeySource {
    /// Written in the config file (`api_key`, or `user_key` in the older shape).
    Inline(ApiKey),
    /// Read from this environment variable (`api_key_env`).
    Env(String),
    /// Read from this file, surrounding whitespace trimmed (`api_key_file`).
    File(PathBuf),
    /// Kept in the OS keychain under the account's name (`api_key_keyring = true`).
    Keyring,
}

impl ApiKeySource {
    /// Reads the key for `account` (its name, used in messages and as the keychain entry).
    /// An empty key is an error whatever its source. Blocking: call it off the runtime.
    pub fn resolve(&self, account: &str) -> Result<ApiKey, ConfigError> {
        let key = match self {
            Self::Inline(key) => Ok(key.clone()),
            Self::Env(name) => from_env(name),
            Self::File(path) => from_file(account, path),
            Self::Keyring => from_keychain(account),
        }
        .map_err(|message| key_error(account, message))?;
        if key.is_empty() {
            let message = format!("the API key from {} is empty", self.describe());
            return Err(key_error(account, message));
        }
        Ok(key)
    }

    /// Where the key comes from, for messages, e.g. ``environment variable `IMMICH_KEY` ``.
    /// Never contains the key.
    pub fn describe(&self) -> String {
        match self {
            Self::Inline(_) => "the config file".to_owned(),
            Self::Env(name) => format!("environment variable `{name}`"),
            Self::File(path) => format!("file {}", path.display()),
            Self::Keyring => "the OS keychain".to_owned(),
        }
    }
}

fn key_error(account: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::ApiKey {
        account: account.to_owned(),
        message: message.into(),
    }
}

fn from_keychain(account: &str) -> Result<ApiKey, String> {
    match crate::keychain::get(account) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(
            "no API key for this account in the OS keychain: enter it again in the settings"
                .to_owned(),
        ),
        Err(error) => Err(format!(
            "the OS keychain cannot be read ({error}): run in the desktop session that holds it, or set api_key_env or api_key_file"
        )),
    }
}

fn from_env(name: &str) -> Result<ApiKey, String> {
    match std::env::var(name) {
        Ok(value) => Ok(ApiKey::new(value)),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("environment variable `{name}` is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable `{name}` is not valid UTF-8"))
        }
    }
}

fn from_file(account: &str, path: &std::path::Path) -> Result<ApiKey, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "cannot read API key file {}: {}",
            path.display(),
            io_reason(&error)
        )
    })?;
    warn_if_shared(account, path);
    Ok(ApiKey::new(text))
}

/// A key file others can read leaks the whole photo library; say so, but keep working.
#[cfg(unix)]
fn warn_if_shared(account: &str, path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                account,
                file = %path.display(),
                "the API key file can be read by other users: run `chmod 600` on it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_account: &str, _path: &std::path::Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<ApiKey, ConfigError>) -> String {
        result.expect_err("expected an error").to_string()
    }

    #[test]
    fn inline_keys_resolve_and_empty_ones_do_not() {
        let key = ApiKeySource::Inline(ApiKey::new("k-123")).resolve("family");
        assert_eq!(
            key.map(|k| k.expose().to_owned()).ok().as_deref(),
            Some("k-123")
        );
        assert_eq!(
            message(ApiKeySource::Inline(ApiKey::new(" ")).resolve("family")),
            "account `family`: the API key from the config file is empty"
        );
    }

    #[test]
    fn environment_keys_name_the_missing_variable() {
        let present = ApiKeySource::Env("PATH".into()).resolve("family");
        assert!(present.is_ok(), "PATH is set wherever tests run");
        let missing = ApiKeySource::Env("IMMICH_SYNC_TEST_UNSET_7f3a".into());
        assert_eq!(
            message(missing.resolve("family")),
            "account `family`: environment variable `IMMICH_SYNC_TEST_UNSET_7f3a` is not set"
        );
    }

    #[test]
    fn file_keys_are_trimmed_and_unreadable_files_say_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        std::fs::write(&path, "  k-from-file\n").expect("write key");
        let key = ApiKeySource::File(path.clone()).resolve("family");
        assert_eq!(
            key.ok().map(|k| k.expose().to_owned()).as_deref(),
            Some("k-from-file")
        );

        std::fs::write(&path, "\n").expect("write key");
        let empty = message(ApiKeySource::File(path.clone()).resolve("family"));
        assert!(empty.ends_with("is empty"), "{empty}");

        let absent = dir.path().join("absent");
        let unreadable = message(ApiKeySource::File(absent).resolve("family"));
        assert!(
            unreadable.contains("cannot read API key file"),
            "{unreadable}"
        );
    }

    #[test]
    fn messages_never_contain_the_key() {
        let source = ApiKeySource::Inline(ApiKey::new("s3cret-value"));
        assert!(!format!("{source:?} {}", source.describe()).contains("s3cret"));
    }
}
