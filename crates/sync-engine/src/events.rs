//! The engine's event vocabulary and the JSONL event log.
//!
//! Every decision a user may later ask about — uploaded, linked to an existing asset, skipped
//! and why, deleted and why, kept and why — becomes one [`Event`]. Events go to three places:
//! the tracing log, the optional JSONL event log (written synchronously, so no decision is ever
//! missing from it), and a bounded broadcast channel for live views. A live view that falls
//! behind loses events, not correctness: it can always ask for a fresh status snapshot.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// Events kept for slow live subscribers before the oldest are dropped for them.
pub const EVENT_CHANNEL_CAPACITY: usize = 1024;

/// Which part of the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Worker {
    /// The supervisor: start, stop, connection, pause.
    Engine,
    /// OS file events.
    Watcher,
    /// Full walks.
    Scanner,
    /// Uploads.
    Uploader,
    /// Deletes in both directions.
    Reconciler,
}

impl Worker {
    /// The worker's name in a sentence ("The uploader stopped: …").
    pub fn noun(self) -> &'static str {
        match self {
            Worker::Engine => "engine",
            Worker::Watcher => "watcher",
            Worker::Scanner => "scanner",
            Worker::Uploader => "uploader",
            Worker::Reconciler => "reconciler",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Connected to the server (detail: version, user).
    Connected,
    /// The account cannot sync until the user acts (detail says what to do).
    AccountError,
    /// The server could not be reached; the engine retries.
    Offline,
    /// Syncing paused by the user.
    Paused,
    /// Syncing resumed.
    Resumed,
    /// A full walk of a folder started.
    ScanStarted,
    /// A full walk of a folder finished (detail: counts).
    ScanFinished,
    /// A folder is not available (unmounted, missing, unreadable).
    FolderUnavailable,
    /// A new or changed file is waiting for upload.
    Queued,
    /// A file was uploaded as a new asset.
    Uploaded,
    /// A file was linked to an asset Immich already had (no upload).
    Linked,
    /// An asset was taken out of the Immich trash because the file is here again.
    RestoredInImmich,
    /// A file is not uploaded (detail: why).
    Skipped,
    /// An upload failed for good (detail: why and what to do).
    UploadFailed,
    /// An upload failed for now and will be retried (detail: when).
    RetryScheduled,
    /// A synced file disappeared locally.
    LocalFileGone,
    /// A local delete was carried to the Immich trash.
    DeletedInImmich,
    /// A local delete was not carried to Immich (detail: the policy reason).
    KeptInImmich,
    /// An asset was deleted or trashed in Immich.
    RemoteDeleted,
    /// The local file was moved to the OS trash after its asset was deleted in Immich.
    MovedToTrash,
    /// The local file was kept although its asset was deleted in Immich (detail: why).
    KeptLocal,
    /// Too many deletes at once: held until the user approves or rejects them.
    DeletesHeld,
    /// The older service's records were imported (detail: how many photos).
    MovedOver,
    /// A delete the engine made was undone: the file or the asset is back (detail: where).
    Undone,
    /// A photo was added to the album its folder rule names (detail: which album).
    AddedToAlbum,
    /// An album the engine made was deleted in Immich: it is not made again (detail: which).
    AlbumDeleted,
    /// A sidecar written or edited after the upload was sent as metadata (detail: what).
    MetadataUpdated,
    /// A RAW and its JPEG were stacked in Immich (detail: with which file).
    Stacked,
    /// A dry run would have done this (detail: what).
    WouldDo,
    /// Any other error (detail: what and what to do).
    Error,
}

/// One thing that happened, with the older service's event-log fields.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// When, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// Who.
    pub worker: Worker,
    /// What.
    pub event: EventKind,
    /// The account (the older service's `user_id`).
    pub user_id: String,
    /// The file, when there is one (absolute path, lossy for display).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The Immich asset, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    /// Why, or any other detail in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// A new event stamped now.
    pub fn new(account: &str, worker: Worker, event: EventKind) -> Event {
        Event {
            timestamp: OffsetDateTime::now_utc(),
            worker,
            event,
            user_id: account.to_owned(),
            path: None,
            asset_id: None,
            detail: None,
        }
    }

    /// With a file path.
    pub fn path(mut self, path: &Path) -> Event {
        self.path = Some(path.to_string_lossy().into_owned());
        self
    }

    /// With an asset id.
    pub fn asset(mut self, asset_id: &str) -> Event {
        self.asset_id = Some(asset_id.to_owned());
        self
    }

    /// With a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = Some(detail.into());
        self
    }
}

/// Where events go; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    log: Option<Arc<Mutex<LineWriter<File>>>>,
    log_path: Option<PathBuf>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("log", &self.log_path)
            .finish()
    }
}

/// How an event reads in the log: plain values, only those it has
/// (`Uploaded /photos/a.jpg [asset 6f1c…]: already in Immich`).
fn log_line(event: &Event) -> String {
    let mut line = format!("{:?}", event.event);
    if let Some(path) = &event.path {
        line.push(' ');
        line.push_str(path);
    }
    if let Some(asset) = &event.asset_id {
        line.push_str(&format!(" [asset {asset}]"));
    }
    if let Some(detail) = &event.detail {
        line.push_str(": ");
        line.push_str(detail);
    }
    line
}

impl EventBus {
    /// A bus that also appends to the JSONL file at `log`, if given.
    pub fn new(log: Option<&Path>) -> std::io::Result<EventBus> {
        let (sender, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let writer = match log {
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                Some(Arc::new(Mutex::new(LineWriter::new(file))))
            }
            None => None,
        };
        Ok(EventBus {
            sender,
            log: writer,
            log_path: log.map(Path::to_owned),
        })
    }

    /// Records and broadcasts `event`.
    pub fn emit(&self, event: Event) {
        let line = log_line(&event);
        match event.event {
            EventKind::AccountError | EventKind::UploadFailed | EventKind::Error => {
                tracing::warn!(account = %event.user_id, "{line}")
            }
            _ => tracing::info!(account = %event.user_id, "{line}"),
        }
        if let Some(log) = &self.log {
            let mut line = match serde_json::to_vec(&event) {
                Ok(line) => line,
                Err(e) => {
                    tracing::error!("cannot encode event: {e}");
                    return;
                }
            };
            line.push(b'\n');
            let mut writer = log.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = writer.write_all(&line) {
                tracing::error!("cannot write the event log: {e}");
            }
        }
        // No live subscriber is fine.
        let _ = self.sender.send(event);
    }

    /// A live stream of events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_show_plain_values_and_only_those_there_are() {
        let event = Event::new("alice", Worker::Uploader, EventKind::Uploaded)
            .path(Path::new("/photos/a.jpg"))
            .asset("6f1c")
            .detail("already in Immich");
        assert_eq!(
            log_line(&event),
            "Uploaded /photos/a.jpg [asset 6f1c]: already in Immich"
        );
        assert_eq!(
            log_line(&Event::new("alice", Worker::Engine, EventKind::Paused)),
            "Paused"
        );
    }

    #[test]
    fn the_event_log_has_one_object_per_line_with_the_older_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/events.jsonl");
        let bus = EventBus::new(Some(&path)).unwrap();
        bus.emit(
            Event::new("alice", Worker::Uploader, EventKind::Uploaded)
                .path(Path::new("/p/a.jpg"))
                .asset("id-1"),
        );
        bus.emit(Event::new("alice", Worker::Scanner, EventKind::Skipped).detail("empty file"));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "uploaded");
        assert_eq!(lines[0]["worker"], "uploader");
        assert_eq!(lines[0]["user_id"], "alice");
        assert_eq!(lines[0]["asset_id"], "id-1");
        assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(lines[1].get("path").is_none(), "absent fields are left out");
        assert_eq!(lines[1]["detail"], "empty file");
    }
}
