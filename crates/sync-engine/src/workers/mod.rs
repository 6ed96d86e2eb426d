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

pub mod reconciler;
pub mod scanner;
pub mod uploader;
pub mod watcher;

use std::path::Path;

use crate::account::{Account, Folder, now_ms};
use crate::events::{EventKind, Worker};
use crate::local::{self, ObserveError};
use crate::store::{ApplyEffect, Observation, Stat};

/// Records observations and tells the other workers: queued files wake the uploader, missing
/// ones the reconciler. Returns the effects in input order.
pub(crate) fn record(
    account: &Account,
    folder: &Folder,
    worker: Worker,
    observations: &[Observation],
    announce_queued: bool,
) -> Vec<ApplyEffect> {
    if observations.is_empty() {
        return Vec::new();
    }
    let effects = match account
        .store
        .with(|db| db.apply_observations(folder.id, observations, now_ms()))
    {
        Ok(effects) => effects,
        Err(e) => {
            account.emit(worker, EventKind::Error, |ev| {
                ev.detail(format!("cannot record files in the state database: {e}"))
            });
            return Vec::new();
        }
    };
    let mut queued = false;
    let mut missing = false;
    for (observation, effect) in observations.iter().zip(&effects) {
        let rel = match observation {
            Observation::Hashed { rel, .. }
            | Observation::Skipped { rel, .. }
            | Observation::Gone { rel } => rel,
        };
        let path = folder.path_of(rel);
        match (effect, observation) {
            (ApplyEffect::Queued, _) => {
                queued = true;
                if announce_queued {
                    account.emit(worker, EventKind::Queued, |e| e.path(&path));
                }
            }
            (ApplyEffect::Skipped, Observation::Skipped { reason, .. }) => {
                account.emit(worker, EventKind::Skipped, |e| {
                    e.path(&path).detail(reason.clone())
                });
            }
            (ApplyEffect::Missing, _) => {
                missing = true;
                account.emit(worker, EventKind::LocalFileGone, |e| e.path(&path));
            }
            _ => {}
        }
    }
    if queued {
        account.wake_uploader.notify_one();
    }
    if missing {
        account.wake_reconciler.notify_one();
    }
    effects
}

/// Hashes one candidate; `None` when it should simply be looked at again later.
pub(crate) fn hash_candidate(
    account: &Account,
    folder: &Folder,
    worker: Worker,
    rel: &Path,
    stat: Stat,
) -> Option<Observation> {
    let path = folder.path_of(rel);
    match local::hash_stable(&path, stat) {
        Ok(sha1) => Some(Observation::Hashed {
            rel: rel.to_owned(),
            stat,
            sha1,
        }),
        Err(ObserveError::Gone) => Some(Observation::Gone {
            rel: rel.to_owned(),
        }),
        Err(ObserveError::Unstable) => None,
        Err(ObserveError::Io(e)) => {
            account.emit(worker, EventKind::Error, |ev| {
                ev.path(&path).detail(format!(
                    "cannot read the file ({e}); it will be tried again at the next scan"
                ))
            });
            None
        }
    }
}
