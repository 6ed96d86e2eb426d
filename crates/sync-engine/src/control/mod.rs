//! Control of a running engine from the command line: `immich-syncd status`, `pause`,
//! `resume`, `sync-now`, `reload`, `deletions …`, `tombstones …`, `journal`, `undo …`.
//!
//! Whoever runs the engine — the daemon or the tray app — serves the same protocol on a local
//! socket beside its state file (`state.db` → `state.db.sock`): one JSON [`Request`] line in,
//! one JSON [`Reply`] line out. Only the user can open it (a Unix socket, mode 0600; on Windows
//! a named pipe whose access list names only its owner); it is never a TCP port. The socket belongs to the state file, not to a process, because the state
//! file is what one engine owns (the store's engine lock): whichever front end runs it answers.
//!
//! Every command is carried out by one function, [`execute`], against a [`Backend`]: the running
//! engine, or — when nothing runs — the state file itself for the commands that only need it
//! (held deletes, journal, undo, tombstones). So both ways print the same sentences, and the
//! command line only prints what it is given.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod commands;
mod socket;

pub use commands::{Backend, execute};
pub use socket::{ControlServer, send, serve};

/// Exit statuses of `immich-syncd` (also in the README): the control commands use the same.
pub mod exit {
    /// In sync, or done.
    pub const OK: u8 = 0;
    /// `--once` left files failed or pending; an undo did not all go back.
    pub const INCOMPLETE: u8 = 1;
    /// The configuration (or the command line) needs fixing.
    pub const CONFIG: u8 = 2;
    /// The server or the API key needs fixing.
    pub const ACCOUNT: u8 = 3;
    /// The server could not be reached.
    pub const UNREACHABLE: u8 = 4;
    /// The state database or the event log cannot be used.
    pub const STATE: u8 = 5;
    /// Nothing is running on this state file (for commands that need a running engine).
    pub const NOT_RUNNING: u8 = 6;
}

/// One command for the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Request {
    /// The status snapshot, with the engine's own sentences.
    Status,
    /// Pause one account, or all.
    Pause {
        /// The account's name; `None` for all.
        account: Option<String>,
    },
    /// Resume one account, or all.
    Resume {
        /// The account's name; `None` for all.
        account: Option<String>,
    },
    /// A full scan, upload and remote check now.
    SyncNow,
    /// Read the configuration file again and apply it; a broken one is refused.
    Reload,
    /// Deletes held by the mass-delete guard.
    HeldDeletes,
    /// Approve or reject held deletes (`None`: every waiting one).
    Decide {
        /// Ids from the held deletes.
        ids: Option<Vec<i64>>,
        /// Approve (or reject).
        approve: bool,
    },
    /// Deletes the engine carried out since a time (unix ms).
    Journal {
        /// Only those since this time.
        since: Option<i64>,
    },
    /// Put back deletes by journal id, or every one since a time (unix ms).
    Undo {
        /// Journal ids.
        ids: Vec<i64>,
        /// Every delete since this time.
        since: Option<i64>,
    },
    /// Photos remembered as deleted in Immich.
    Tombstones,
    /// Upload them again (`None`: all).
    Forget {
        /// Ids from the tombstones.
        ids: Option<Vec<i64>>,
    },
}

impl Request {
    /// Whether the command needs a running engine (the others work on the state file too).
    pub fn needs_engine(&self) -> bool {
        matches!(
            self,
            Request::Status
                | Request::Pause { .. }
                | Request::Resume { .. }
                | Request::SyncNow
                | Request::Reload
        )
    }
}

/// What a command did: lines for the terminal, data for `--json`, and the exit status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The exit status (see [`exit`]).
    pub exit: u8,
    /// What to print on standard output.
    pub lines: Vec<String>,
    /// Problems, for standard error.
    pub problems: Vec<String>,
    /// The result as data (`--json`).
    pub data: serde_json::Value,
}

impl Reply {
    fn ok(lines: Vec<String>, data: serde_json::Value) -> Reply {
        Reply {
            exit: exit::OK,
            lines,
            problems: Vec::new(),
            data,
        }
    }

    fn failed(exit: u8, problem: impl Into<String>) -> Reply {
        Reply {
            exit,
            lines: Vec::new(),
            problems: vec![problem.into()],
            data: serde_json::Value::Null,
        }
    }
}

/// Why a command could not reach a running engine.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No engine listens on this state file's socket.
    #[error("nothing is running on the state file {0}")]
    NotRunning(PathBuf),
    /// Another engine already serves this state file.
    #[error(
        "another Immich Sync (the daemon or the app) already runs on the state file {0}: stop it first, or give this configuration a database_path of its own"
    )]
    AlreadyRunning(PathBuf),
    /// The socket could not be created or used.
    #[error("the control socket {path} cannot be used: {source}")]
    Socket {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The engine's answer could not be read.
    #[error("the running engine gave an answer that cannot be read: {0}")]
    Protocol(String),
    /// The engine took the command but did not answer in time (it may still carry it out).
    #[error(
        "the running engine did not answer within {} s: it may still be carrying the command out; see `status` and the log",
        .0.as_secs()
    )]
    NoAnswer(std::time::Duration),
    /// This platform has neither Unix sockets nor named pipes.
    #[error("controlling a running engine is not available on this platform")]
    Unsupported,
}

/// Where the engine using `database_path` listens: beside it, as `<name>.sock`. A path too
/// long for a Unix socket (about 100 bytes) moves to a private folder of this user's (the
/// runtime folder, or `immich-sync-<uid>` in the temp folder) under a name derived from the
/// state file's path, so the daemon and the command line still agree. On Windows it is a named
/// pipe named after the state file's path (compared without case, as Windows compares paths).
#[cfg(windows)]
pub fn socket_path(database_path: &Path) -> PathBuf {
    use sha1::Digest as _;
    let key = database_path.to_string_lossy().to_lowercase();
    let digest = sha1::Sha1::digest(key.as_bytes());
    PathBuf::from(format!(
        r"\\.\pipe\immich-sync-{}",
        &hex::encode(digest)[..16]
    ))
}

/// Where the engine using `database_path` listens (see the Windows version above).
#[cfg(not(windows))]
pub fn socket_path(database_path: &Path) -> PathBuf {
    let mut name = database_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "state.db".into());
    name.push(".sock");
    let beside = database_path.with_file_name(name);
    if beside.as_os_str().len() < 100 {
        return beside;
    }
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(crate::paths::to_bytes(database_path));
    private_dir().join(format!("{}.sock", &hex::encode(digest)[..16]))
}

/// This user's folder for sockets that cannot sit beside their state file.
#[cfg(not(windows))]
pub(crate) fn private_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(runtime) => PathBuf::from(runtime).join("immich-sync"),
        None => std::env::temp_dir().join(format!("immich-sync-{}", socket::user_id())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn the_socket_sits_beside_the_state_file_unless_the_path_is_too_long() {
        assert_eq!(
            socket_path(Path::new("/home/ann/.local/share/immich-sync/state.db")),
            Path::new("/home/ann/.local/share/immich-sync/state.db.sock")
        );
        let deep = PathBuf::from(format!("/{}/state.db", "d".repeat(120)));
        let moved = socket_path(&deep);
        assert!(moved.as_os_str().len() < 100, "{}", moved.display());
        assert_eq!(moved, socket_path(&deep), "the same file, the same socket");
        assert_ne!(
            moved,
            socket_path(&PathBuf::from(format!("/{}/other.db", "d".repeat(120))))
        );
    }

    #[test]
    fn requests_read_as_plain_json() {
        let text = r#"{"command":"pause","account":"family"}"#;
        let request: Request = serde_json::from_str(text).expect("a pause request");
        assert_eq!(
            request,
            Request::Pause {
                account: Some("family".into())
            }
        );
        assert!(request.needs_engine());
        assert!(!Request::Tombstones.needs_engine());
    }
}
