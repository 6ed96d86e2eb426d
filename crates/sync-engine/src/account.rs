//! Everything the four workers of one account share.
//!
//! An [`Account`] is built after a successful handshake (the filter needs the server's media
//! types). Workers receive it as `Arc<Account>` and coordinate through it: `Notify` handles wake
//! the uploader and reconciler as soon as work is recorded (no polling delay), the pause flag is
//! a `watch` channel every worker waits on, and the cancellation token stops them all.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::config::{DeleteGuard, DeletePolicy, Intervals};
use crate::events::{Event, EventBus, EventKind, Worker};
use crate::filter::Filter;
use crate::immich::{ImmichClient, ServerInfo};
use crate::status::{FolderState, StatusBoard};
use crate::store::{ChangeStamp, FolderId, Store};

/// One synced folder of an account.
#[derive(Debug)]
pub struct Folder {
    /// Row id in the store.
    pub id: FolderId,
    /// Absolute root.
    pub root: PathBuf,
    /// Root as shown to users.
    pub display: String,
    /// Delete policy.
    pub policy: DeletePolicy,
    /// What is uploaded.
    pub filter: Filter,
    /// Which album its photos go into.
    pub album: crate::config::AlbumRule,
    /// Whether RAW+JPEG pairs are stacked.
    pub stack_raw_jpeg: bool,
    state: AtomicU8,
}

impl Folder {
    /// A folder, active until proven otherwise.
    pub fn new(id: FolderId, root: PathBuf, policy: DeletePolicy, filter: Filter) -> Folder {
        Folder {
            id,
            display: root.to_string_lossy().into_owned(),
            root,
            policy,
            filter,
            album: crate::config::AlbumRule::None,
            stack_raw_jpeg: false,
            state: AtomicU8::new(0),
        }
    }

    /// The same folder, stacking its RAW+JPEG pairs or not.
    pub fn with_stacking(mut self, stack_raw_jpeg: bool) -> Folder {
        self.stack_raw_jpeg = stack_raw_jpeg;
        self
    }

    /// The same folder, putting its photos into albums by `rule`.
    pub fn with_album(mut self, rule: crate::config::AlbumRule) -> Folder {
        self.album = rule;
        self
    }

    /// Whether the folder may sync (and delete) right now.
    pub fn state(&self) -> FolderState {
        match self.state.load(Ordering::Acquire) {
            0 => FolderState::Active,
            1 => FolderState::Unavailable,
            _ => FolderState::Mismatch,
        }
    }

    /// Records a new availability; returns true if it changed.
    pub fn set_state(&self, state: FolderState) -> bool {
        let code = match state {
            FolderState::Active => 0,
            FolderState::Unavailable => 1,
            FolderState::Mismatch => 2,
        };
        self.state.swap(code, Ordering::AcqRel) != code
    }

    /// The absolute path of `rel`.
    pub fn path_of(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }
}

/// The shared context of one account's workers.
#[derive(Debug)]
pub struct Account {
    /// Account name (the event log's `user_id`).
    pub name: String,
    /// The Immich client.
    pub client: ImmichClient,
    /// What the handshake learned.
    pub server: ServerInfo,
    /// The state file.
    pub store: Store,
    /// Events.
    pub events: EventBus,
    /// Status.
    pub status: StatusBoard,
    /// Folders.
    pub folders: Vec<Arc<Folder>>,
    /// Schedules.
    pub intervals: Intervals,
    /// Parallel uploads.
    pub upload_concurrency: usize,
    /// When deletes wait for the user.
    pub delete_guard: DeleteGuard,
    /// Log what would happen; change nothing on either side.
    pub dry_run: bool,
    /// Wakes the uploader when files are queued.
    pub wake_uploader: Notify,
    /// Wakes the reconciler when files go missing.
    pub wake_reconciler: Notify,
    /// Asks the scanner for a full walk (overflow, sync now).
    pub rescan: Notify,
    /// Asks the reconciler for a full remote check at its next wake-up (sync now).
    pub check_remote_now: AtomicBool,
    /// Something was uploaded or linked since the last album pass.
    pub albums_due: AtomicBool,
    /// True while paused.
    pub paused: watch::Receiver<bool>,
    /// Stops every worker of the account.
    pub cancel: CancellationToken,
    /// The state file's change stamp when the status counts were last read
    /// ([`Account::refresh_counts`]).
    pub counts_stamp: std::sync::Mutex<Option<ChangeStamp>>,
    /// Where the next trash feed starts (unix ms), and when that was last written to the state
    /// file (`workers::reconciler::remote::trash_feed`).
    pub trash_feed: std::sync::Mutex<Option<FeedPosition>>,
}

/// The trash feed's position, kept in memory between looks and saved now and then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPosition {
    /// The next feed asks for assets trashed since this (unix ms).
    pub since_ms: i64,
    /// When the position was last written to the state file (unix ms).
    pub saved_at_ms: i64,
}

impl Account {
    /// Emits an event for this account.
    pub fn emit(&self, worker: Worker, kind: EventKind, f: impl FnOnce(Event) -> Event) {
        self.events.emit(f(Event::new(&self.name, worker, kind)));
    }

    /// The folder with id `id`.
    pub fn folder(&self, id: FolderId) -> Option<&Arc<Folder>> {
        self.folders.iter().find(|f| f.id == id)
    }

    /// Waits while paused; returns false if cancelled meanwhile.
    pub async fn wait_unpaused(&self) -> bool {
        let mut paused = self.paused.clone();
        loop {
            if self.cancel.is_cancelled() {
                return false;
            }
            if !*paused.borrow_and_update() {
                return true;
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return false,
                changed = paused.changed() => if changed.is_err() { return !self.cancel.is_cancelled() },
            }
        }
    }

    /// Asks for everything at once: a full walk, uploads, the trash feed and the full remote
    /// check ("Sync now").
    pub fn sync_now(&self) {
        self.check_remote_now.store(true, Ordering::Release);
        self.rescan.notify_one();
        self.wake_uploader.notify_one();
        self.wake_reconciler.notify_one();
    }

    /// Whether a full remote check was asked for; clears the request.
    pub fn take_remote_check_request(&self) -> bool {
        self.check_remote_now.swap(false, Ordering::AcqRel)
    }

    /// Whether the account is paused now.
    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Refreshes the per-folder counts and queue depth in the status board.
    pub async fn refresh_counts(&self) {
        let ids: Vec<(FolderId, String)> = self
            .folders
            .iter()
            .map(|f| (f.id, f.display.clone()))
            .collect();
        let name = self.name.clone();
        let last = *self.counts_stamp.lock().unwrap_or_else(|e| e.into_inner());
        let result = self
            .store
            .call(move |db| {
                // Counting a folder's states reads every row of it (0.2 s at a million files):
                // when nothing was written since the last count, the counts stand.
                let stamp = db.change_stamp()?;
                if last == Some(stamp) {
                    return Ok(None);
                }
                let mut out = Vec::new();
                for (id, display) in ids {
                    out.push((display, db.folder_counts(id)?, db.last_full_scan(id)?));
                }
                Ok(Some((out, db.queue_depth(&name)?, stamp)))
            })
            .await;
        match result {
            Ok(None) => {}
            Ok(Some((folders, depth, stamp))) => {
                *self.counts_stamp.lock().unwrap_or_else(|e| e.into_inner()) = Some(stamp);
                self.status.edit(&self.name, |s| {
                    s.queue_depth = depth;
                    for (display, counts, last_scan) in folders {
                        if let Some(f) = s.folders.iter_mut().find(|f| f.path == display) {
                            f.counts = counts;
                            f.last_full_scan = last_scan;
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(account = %self.name, "cannot read counts: {e}"),
        }
    }
}

/// Milliseconds since the epoch, the store's clock.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}
