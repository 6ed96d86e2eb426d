//! The four workers of an account.
//!
//! Each worker is a loop around one step that can also run on its own (`--once` runs the steps
//! in order without the loops). Every loop waits on a `Notify`, a timer and the cancellation
//! token together, so an idle engine sleeps instead of polling, and shutdown is immediate.
//!
//! - [`watcher`]: OS file events → debounced until stable → hashed → store → uploader woken.
//! - [`scanner`]: full walk at start, on schedule and on demand; catches what events missed.
//! - [`uploader`]: bulk-upload-check, then streamed uploads with bounded concurrency.
//! - [`reconciler`]: local deletes → Immich trash (policy); remote deletes → OS trash.
//!
//! `observe` is the one step from disk to store that the watcher, the scanner and the
//! uploader (a file that changed under it) share.

pub mod albums;
pub mod reconciler;
pub mod scanner;
pub mod sidecars;
pub mod stacks;
pub mod uploader;
pub mod watcher;

mod observe;

pub(crate) use observe::{
    Hashing, STILL_BEING_WRITTEN, hash_candidate, is_recent, pause, record, settled,
};
