//! The OS keychain (Keychain, Credential Manager, Secret Service), where the desktop app keeps
//! API keys.
//!
//! It lives in the engine, not the shell, so that one `config.toml` runs in both front ends: a
//! key the tray app saved under an account's name is read by `immich-syncd` on the same
//! machine too (in the user's session, where the keychain is unlocked). A machine with no
//! keychain — a NAS, a server — answers with [`KeychainError`], and the message says to use
//! `api_key_env` or `api_key_file` there.

use crate::secret::ApiKey;

/// The service name keys are stored under; the account name is the entry's user.
pub const SERVICE: &str = "immich-sync";

/// The keychain could not be used (none on this machine, locked, refused).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeychainError(String);

fn entry(account: &str) -> Result<keyring::Entry, KeychainError> {
    keyring::Entry::new(SERVICE, account).map_err(|e| KeychainError(e.to_string()))
}

/// The key stored for `account`, `None` when there is none. Blocking (it may talk to a
/// keychain daemon): call it off the async runtime.
pub fn get(account: &str) -> Result<Option<ApiKey>, KeychainError> {
    match entry(account)?.get_password() {
        Ok(secret) => Ok(Some(ApiKey::new(secret))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(KeychainError(e.to_string())),
    }
}

/// Stores the key of `account`.
pub fn set(account: &str, key: &ApiKey) -> Result<(), KeychainError> {
    entry(account)?
        .set_password(key.expose())
        .map_err(|e| KeychainError(e.to_string()))
}

/// Forgets the key of `account` (nothing to forget is not an error).
pub fn delete(account: &str) -> Result<(), KeychainError> {
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(KeychainError(e.to_string())),
    }
}

/// Whether a keychain answers on this machine.
pub fn available() -> Result<(), KeychainError> {
    get("availability-check").map(|_| ())
}
