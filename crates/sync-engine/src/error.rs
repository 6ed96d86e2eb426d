//! The engine's errors, in two tiers: what lies on this computer, and what lies with Immich.
//!
//! A worker step fails for one of two kinds of reasons, and the user's next move differs: a
//! local cause (the state file, the disk, where the API key is kept, the event log) is fixed on
//! this computer; a remote one ([`ApiError`]: the server, the network, the key's rights) with
//! Immich or the network. Both keep their source. [`Error::is_transient`] says whether waiting
//! may help, which is all the supervisor and the workers ask before retrying.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;
use crate::immich::ApiError;
use crate::store::StoreError;

/// Why a step of the engine could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// On this computer.
    #[error(transparent)]
    Local(#[from] LocalError),
    /// With Immich, or on the way to it.
    #[error(transparent)]
    Remote(#[from] ApiError),
}

/// A cause on this computer.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The state file.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Where the account's API key is kept (a file, an environment variable, the keychain).
    #[error(transparent)]
    KeySource(ConfigError),
    /// The JSONL event log.
    #[error("cannot open the event log {}: {source}", path.display())]
    EventLog {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A blocking task of the engine panicked (it is worth trying again).
    #[error("a background task stopped unexpectedly ({0})")]
    Task(String),
    /// A file or folder on disk.
    #[error("{}: {source}", path.display())]
    Disk {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Error {
        Error::Local(LocalError::Store(error))
    }
}

impl Error {
    /// True when waiting may help: a server that is down or busy, a network that failed, a
    /// task that panicked. Other local causes wait for the user.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Remote(e) => e.is_transient(),
            Error::Local(LocalError::Task(_)) => true,
            Error::Local(_) => false,
        }
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Remote(e) => e.retry_after(),
            Error::Local(_) => None,
        }
    }

    /// The remote cause, if that is where it lies.
    pub fn remote(&self) -> Option<&ApiError> {
        match self {
            Error::Remote(e) => Some(e),
            Error::Local(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_causes_keep_their_words_and_their_tier() {
        let store: Error = StoreError::Task("the task panicked".into()).into();
        assert!(matches!(store, Error::Local(LocalError::Store(_))));
        assert!(!store.is_transient());
        assert_eq!(
            store.to_string(),
            "state database task failed: the task panicked"
        );
        let remote: Error = ApiError::Transient {
            status: Some(503),
            message: "down".into(),
            retry_after: Some(Duration::from_secs(7)),
        }
        .into();
        assert!(remote.is_transient());
        assert_eq!(remote.retry_after(), Some(Duration::from_secs(7)));
        assert!(remote.remote().is_some());
    }
}
