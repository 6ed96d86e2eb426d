//! Where API keys live: the OS keychain, or a private file where there is none.
//!
//! Keys never go into the settings file. On macOS (Keychain), Windows (Credential Manager) and
//! Linux desktops with a Secret Service (GNOME Keyring, KWallet) they are stored there under the
//! account name. Headless or minimal Linux sessions have no Secret Service: then each key is a
//! file readable only by the user (0600), and the settings window says so.

use std::path::{Path, PathBuf};

use sync_engine::config::ApiKeySource;
use sync_engine::keychain;
use sync_engine::secret::ApiKey;

/// The key store in use.
#[derive(Debug, Clone)]
pub enum Secrets {
    /// The OS keychain.
    Keychain,
    /// Private files in this folder.
    Files(PathBuf),
}

impl Secrets {
    /// Uses the keychain when it answers, else files under `config_dir/keys`.
    /// `IMMICH_SYNC_KEYSTORE=file` forces files (tests, and users who prefer them).
    pub fn detect(config_dir: &Path) -> Secrets {
        let files = Secrets::Files(config_dir.join("keys"));
        if std::env::var("IMMICH_SYNC_KEYSTORE").as_deref() == Ok("file") {
            return files;
        }
        match keychain::available() {
            Ok(()) => Secrets::Keychain,
            Err(error) => {
                tracing::info!("no usable keychain ({error}); API keys are kept in private files");
                files
            }
        }
    }

    /// A sentence for the settings window when keys are not in a keychain.
    pub fn note(&self) -> Option<String> {
        match self {
            Secrets::Keychain => None,
            Secrets::Files(dir) => Some(format!(
                "No system keychain was found, so API keys are stored in files only you can read ({}).",
                dir.display()
            )),
        }
    }

    /// Where the engine finds the key of `account`.
    pub fn source(&self, account: &str) -> ApiKeySource {
        match self {
            Secrets::Keychain => ApiKeySource::Keyring,
            Secrets::Files(dir) => ApiKeySource::File(key_file(dir, account)),
        }
    }

    /// The key of `account`, if stored.
    pub fn get(&self, account: &str) -> Option<ApiKey> {
        match self {
            Secrets::Keychain => keychain::get(account).ok().flatten(),
            Secrets::Files(dir) => std::fs::read_to_string(key_file(dir, account))
                .ok()
                .map(ApiKey::new)
                .filter(|k| !k.is_empty()),
        }
    }

    /// Stores the key of `account`.
    pub fn set(&self, account: &str, key: &ApiKey) -> Result<(), String> {
        match self {
            Secrets::Keychain => keychain::set(account, key)
                .map_err(|e| format!("cannot store the API key in the keychain: {e}")),
            Secrets::Files(dir) => write_private(&key_file(dir, account), key.expose())
                .map_err(|e| format!("cannot store the API key in {}: {e}", dir.display())),
        }
    }

    /// Forgets the key of `account`.
    pub fn delete(&self, account: &str) {
        let _ = match self {
            Secrets::Keychain => keychain::delete(account).map_err(|e| e.to_string()),
            Secrets::Files(dir) => {
                std::fs::remove_file(key_file(dir, account)).map_err(|e| e.to_string())
            }
        };
    }
}

/// One file per account; the name is made safe for every file system.
fn key_file(dir: &Path, account: &str) -> PathBuf {
    let safe: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.key"))
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("key.tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        std::io::Write::write_all(&mut file, secret.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::Files(dir.path().join("keys"));
        secrets
            .set("family photos", &ApiKey::new("abc123"))
            .unwrap();
        assert_eq!(secrets.get("family photos").unwrap().expose(), "abc123");
        let path = key_file(&dir.path().join("keys"), "family photos");
        assert!(path.is_file(), "the key is in its own file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the user can read the key");
        }
        assert!(secrets.note().is_some(), "the user is told where keys are");
        secrets.delete("family photos");
        assert!(secrets.get("family photos").is_none());
    }
}
