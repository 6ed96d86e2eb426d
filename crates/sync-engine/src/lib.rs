//! Immich Sync engine: keeps folders on this computer in sync with an Immich server.
//!
//! # Theory of operation
//!
//! ```text
//! disk ──► watcher ──┐                      ┌──► uploader ──► Immich (bulk-upload-check, POST /assets)
//!                    ├──► store (SQLite) ◄──┤
//! disk ──► scanner ──┘                      └──► reconciler ◄─► Immich (bulk-upload-check, GET/DELETE)
//!                              │
//!                status snapshot + events ──► tray, settings UI, JSONL event log
//! ```
//!
//! The store is the source of truth: workers record what they observe and what they are about
//! to do before doing it, and a restart resumes from it. A file is uploaded only after its
//! SHA-1 is stored, and only when bulk-upload-check says the server lacks that content, so the
//! same content is never uploaded twice. Deletes follow each folder's policy, go to the Immich
//! trash or the OS trash (never a permanent delete), and never happen for a folder that is not
//! there.
//!
//! Deletes are decided by a pure plan ([`plan`], table in `docs/reconciliation.md`) from facts
//! the workers gather; content deleted in Immich is remembered (a tombstone) so it never comes
//! back by itself, and every delete the engine makes is journaled and can be undone ([`undo`]).
//!
//! # Modules
//!
//! [`config`] (TOML, validated once), [`store`] (all SQL), [`immich`] (all HTTP), [`filter`],
//! [`policy`] and [`plan`] (pure rules and decisions), [`local`] (stat, hashing, birth time),
//! [`os_trash`] (the only way a local file is removed), [`workers`] (the four loops),
//! [`engine`] (handle, per-account supervisor, connect, `--once`), [`control`] (the command
//! line's socket to a running engine), [`keychain`], [`older_service`] (moving over),
//! [`error`] (local vs remote causes), [`events`], [`status`] and [`summary`] (what the
//! outside world sees, in one set of words). `docs/architecture.md` draws them.
//!
//! # Concurrency
//!
//! One tokio runtime. Each account has a supervisor task running four named workers in a
//! `JoinSet`; a worker that panics or fails transiently is restarted alone with backoff, and a
//! fatal failure is shown in the account's status. Workers meet through the shared `Account`:
//! `Notify` handles wake the uploader and reconciler when work is recorded, a `watch` channel
//! carries pause, one `CancellationToken` stops them, and stopping awaits the supervisor.
//! Everything that blocks (stat, hashing, SQLite, the OS trash) runs on the blocking pool
//! through `blocking::spawn` or `Store::call`; in debug builds the store panics if it is queried
//! on a runtime thread, so the tests keep it that way. Every queue is bounded and says what
//! happens when it is full.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod account;
pub mod allocator;
mod blocking;
pub mod config;
pub mod control;
pub mod engine;
pub mod error;
pub mod events;
pub(crate) mod filter;
pub mod immich;
pub mod keychain;
pub mod live_photos;
pub mod local;
mod named_workers;
pub mod older_service;
pub(crate) mod os_trash;
pub(crate) mod paths;
pub(crate) mod plan;
pub(crate) mod policy;
pub mod secret;
pub mod status;
pub mod store;
pub mod summary;
pub mod undo;
pub(crate) mod volume;
pub(crate) mod walk;
pub(crate) mod workers;
pub(crate) mod xmp;

/// The version and the commit it was built from, e.g. `0.1.0 (3f9a2c1d0e)`: `--version` and the
/// app's About line.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("IMMICH_SYNC_COMMIT"),
    ")"
);

pub use engine::{
    Engine, EngineHandle, EngineOptions, OnceReport, run_once, run_once_checked, test_connection,
};
