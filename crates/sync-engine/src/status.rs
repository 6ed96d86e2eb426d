//! The status snapshot: everything a tray icon, a settings window or `--once` summary shows.
//!
//! Workers write their part into a shared [`StatusBoard`]; readers get a full [`Status`] copy.
//! A snapshot is cheap to rebuild and always complete, so a view that missed events simply asks
//! again. Changes are announced on a `watch` channel, which coalesces bursts for free.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;

use crate::store::FolderCounts;

/// How an account is doing, in the order a tray icon cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Connecting to the server.
    Starting,
    /// Walking folders or hashing.
    Scanning,
    /// Uploading or deleting.
    Syncing,
    /// Nothing to do: up to date.
    Idle,
    /// Paused by the user.
    Paused,
    /// The server cannot be reached; retrying.
    Offline,
    /// Needs the user (wrong key, missing permission...).
    Error,
}

/// How a folder is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderState {
    /// Syncing normally.
    Active,
    /// The folder root is missing, unreadable or was emptied: nothing is deleted either way.
    Unavailable,
    /// The folder belongs to another server or Immich user than the key now does.
    Mismatch,
}

/// One upload in flight.
#[derive(Debug, Clone, Serialize)]
pub struct UploadProgress {
    /// The file.
    pub path: String,
    /// Bytes sent so far.
    pub sent: u64,
    /// File size.
    pub total: u64,
}

/// One folder.
#[derive(Debug, Clone, Serialize)]
pub struct FolderStatus {
    /// Folder root.
    pub path: String,
    /// Availability.
    pub state: FolderState,
    /// Files per state.
    pub counts: FolderCounts,
    /// Last completed full scan, unix ms.
    pub last_full_scan: Option<i64>,
    /// Deletes waiting for the user's confirmation (mass-delete guard).
    pub held_deletes: u64,
    /// Last problem in plain words.
    pub message: Option<String>,
}

/// One account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    /// Account name.
    pub name: String,
    /// Server URL.
    pub server_url: String,
    /// The server's host, as every front end names it ("photos.example.com").
    pub host: String,
    /// State.
    pub state: AccountState,
    /// What the state means right now, in plain words ("Can't reach photos.example.com").
    pub message: Option<String>,
    /// Server version once connected.
    pub server_version: Option<String>,
    /// Immich user name and email once connected.
    pub user: Option<String>,
    /// Files waiting for upload.
    pub queue_depth: u64,
    /// Uploads in flight.
    pub uploads: Vec<UploadProgress>,
    /// Folders.
    pub folders: Vec<FolderStatus>,
    /// The last error, kept until the next success.
    pub last_error: Option<String>,
    /// How the account is doing, in the words every front end shows (`summary::account_line`).
    pub line: String,
}

/// The whole engine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// One entry per configured account.
    pub accounts: Vec<AccountStatus>,
}

#[derive(Debug)]
struct InFlight {
    path: String,
    sent: Arc<AtomicU64>,
    total: u64,
}

#[derive(Debug, Default)]
struct Board {
    accounts: BTreeMap<String, (AccountStatus, BTreeMap<u64, InFlight>)>,
    order: Vec<String>,
}

/// Shared, mutable status; cheap to clone.
#[derive(Debug, Clone)]
pub struct StatusBoard {
    board: Arc<Mutex<Board>>,
    changed: watch::Sender<u64>,
}

impl Default for StatusBoard {
    fn default() -> Self {
        let (changed, _) = watch::channel(0);
        StatusBoard {
            board: Arc::default(),
            changed,
        }
    }
}

/// Removes an in-flight upload from the board when dropped.
#[derive(Debug)]
pub struct UploadTicket {
    board: StatusBoard,
    account: String,
    key: u64,
    /// Counter the uploader adds sent bytes to.
    pub sent: Arc<AtomicU64>,
}

impl Drop for UploadTicket {
    fn drop(&mut self) {
        self.board.edit_inner(&self.account, |_, uploads| {
            uploads.remove(&self.key);
        });
    }
}

impl StatusBoard {
    /// Registers an account (idempotent), keeping configuration order.
    pub fn add_account(&self, name: &str, server_url: &str, folders: &[String]) {
        let mut board = self.lock();
        if !board.order.iter().any(|n| n == name) {
            board.order.push(name.to_owned());
        }
        let status = AccountStatus {
            name: name.to_owned(),
            server_url: server_url.to_owned(),
            host: crate::immich::host(server_url).to_owned(),
            state: AccountState::Starting,
            message: Some("Connecting…".into()),
            server_version: None,
            user: None,
            queue_depth: 0,
            uploads: Vec::new(),
            folders: folders
                .iter()
                .map(|p| FolderStatus {
                    path: p.clone(),
                    state: FolderState::Active,
                    counts: FolderCounts::default(),
                    last_full_scan: None,
                    held_deletes: 0,
                    message: None,
                })
                .collect(),
            last_error: None,
            line: String::new(),
        };
        board
            .accounts
            .insert(name.to_owned(), (status, BTreeMap::new()));
        drop(board);
        self.bump();
    }

    /// Changes one account's status.
    pub fn edit(&self, account: &str, f: impl FnOnce(&mut AccountStatus)) {
        self.edit_inner(account, |status, _| f(status));
    }

    /// Sets state and message together.
    pub fn set_state(&self, account: &str, state: AccountState, message: Option<String>) {
        self.edit(account, |s| {
            s.state = state;
            s.message = message;
        });
    }

    /// Changes one folder's status.
    pub fn edit_folder(&self, account: &str, folder: &str, f: impl FnOnce(&mut FolderStatus)) {
        self.edit(account, |s| {
            if let Some(folder) = s.folders.iter_mut().find(|x| x.path == folder) {
                f(folder);
            }
        });
    }

    /// Shows an upload in flight until the returned ticket is dropped.
    pub fn start_upload(&self, account: &str, path: String, total: u64) -> UploadTicket {
        let sent = Arc::new(AtomicU64::new(0));
        let mut key = 0;
        self.edit_inner(account, |_, uploads| {
            key = uploads.keys().next_back().map_or(0, |k| k + 1);
            uploads.insert(
                key,
                InFlight {
                    path,
                    sent: sent.clone(),
                    total,
                },
            );
        });
        UploadTicket {
            board: self.clone(),
            account: account.to_owned(),
            key,
            sent,
        }
    }

    /// A full copy of the current status.
    pub fn snapshot(&self) -> Status {
        let board = self.lock();
        Status {
            accounts: board
                .order
                .iter()
                .filter_map(|name| board.accounts.get(name))
                .map(|(status, uploads)| {
                    let mut status = status.clone();
                    status.uploads = uploads
                        .values()
                        .map(|u| UploadProgress {
                            path: u.path.clone(),
                            sent: u.sent.load(Ordering::Relaxed).min(u.total),
                            total: u.total,
                        })
                        .collect();
                    status.line = crate::summary::account_line(&status);
                    status
                })
                .collect(),
        }
    }

    /// Wakes whenever the status changes.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn edit_inner(
        &self,
        account: &str,
        f: impl FnOnce(&mut AccountStatus, &mut BTreeMap<u64, InFlight>),
    ) {
        let mut board = self.lock();
        if let Some((status, uploads)) = board.accounts.get_mut(account) {
            f(status, uploads);
        }
        drop(board);
        self.bump();
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_show_progress_until_they_finish() {
        let board = StatusBoard::default();
        board.add_account("alice", "http://x", &["/p".into()]);
        let ticket = board.start_upload("alice", "/p/a.jpg".into(), 100);
        ticket.sent.fetch_add(40, Ordering::Relaxed);
        let s = board.snapshot();
        assert_eq!(s.accounts[0].uploads.len(), 1);
        assert_eq!(s.accounts[0].uploads[0].sent, 40);
        drop(ticket);
        assert!(board.snapshot().accounts[0].uploads.is_empty());
    }
}
