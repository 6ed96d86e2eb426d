//! The one step from disk to store: a candidate is hashed (a file that changes while it is
//! read is never recorded), the observation is recorded in one transaction, and the worker that
//! has work now is woken: the uploader for queued files, the reconciler for missing ones.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::account::{Account, Folder, now_ms};
use crate::events::{EventKind, Worker};
use crate::local::{self, ObserveError};
use crate::store::{ApplyEffect, Observation, Stat};

/// Records observations and tells the other workers: queued files wake the uploader, missing
/// ones the reconciler. Returns the effects in input order.
///
/// A file that an `exclude` pattern took out of syncing is out of reach both ways: its
/// disappearance is not recorded (it stays whatever it was: a synced photo is never deleted in
/// Immich because the user deleted an excluded file).
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
    let in_reach = |o: &Observation| match o {
        Observation::Gone { rel } => folder.filter.excluded_by_pattern(rel).is_none(),
        _ => true,
    };
    if !observations.iter().all(in_reach) {
        let kept: Vec<Observation> = observations
            .iter()
            .filter(|o| in_reach(o))
            .cloned()
            .collect();
        let mut applied = record(account, folder, worker, &kept, announce_queued).into_iter();
        return observations
            .iter()
            .map(|o| match in_reach(o) {
                true => applied.next().unwrap_or(ApplyEffect::Unchanged),
                false => ApplyEffect::Unchanged,
            })
            .collect();
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
    if sidecars_touched(account, folder, observations) {
        queued = true;
    }
    if queued {
        account.wake_uploader.notify_one();
    }
    if missing {
        account.wake_reconciler.notify_one();
    }
    effects
}

/// Sidecars seen new or changed mark their synced photos due a metadata look (the uploader
/// sends what changed); true when any was marked.
fn sidecars_touched(account: &Account, folder: &Folder, observations: &[Observation]) -> bool {
    let sidecars: Vec<&Path> = observations
        .iter()
        .filter_map(|o| match o {
            Observation::Skipped { rel, .. } => Some(rel.as_path()),
            _ => None,
        })
        .filter(|rel| {
            rel.extension().is_some_and(|ext| {
                folder
                    .filter
                    .media_types()
                    .is_sidecar(&ext.to_string_lossy())
            })
        })
        .collect();
    if sidecars.is_empty() {
        return false;
    }
    let marked = account.store.with(|db| {
        let mut marked = 0;
        for rel in &sidecars {
            marked += db.sidecar_touched(folder.id, rel)?;
        }
        Ok(marked)
    });
    match marked {
        Ok(marked) => marked > 0,
        Err(e) => {
            tracing::warn!("cannot record changed sidecars: {e}");
            false
        }
    }
}

/// What became of one attempt to hash a candidate.
#[derive(Debug)]
pub(crate) enum Hashing {
    /// Hashed, or found gone: record it.
    Observed(Observation),
    /// The file changed while it was read (still being written, or replaced): it is looked
    /// at again once it stops changing. An event says so.
    Unstable,
    /// The OS refused to read it (permissions, I/O error). An event names the file.
    Unreadable,
}

impl Hashing {
    /// The observation to record, if any.
    pub(crate) fn observation(self) -> Option<Observation> {
        match self {
            Hashing::Observed(observation) => Some(observation),
            Hashing::Unstable | Hashing::Unreadable => None,
        }
    }
}

/// True when the file was modified less than `stable_after` ago (or in the future, as with a
/// camera whose clock is wrong): it may still be being written.
pub(crate) fn is_recent(stat: Stat, stable_after: Duration) -> bool {
    let now_ns = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let window = i64::try_from(stable_after.as_nanos()).unwrap_or(i64::MAX);
    now_ns.saturating_sub(stat.mtime_ns) < window
}

/// Sleeps for `wait` in short steps, returning early (false) when the account stops.
pub(crate) fn pause(account: &Account, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if account.cancel.is_cancelled() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(wait));
    }
    true
}

/// Blocking: true when the file at `path` with `stat` counts as complete — modified at least
/// `stable_after` ago, or unchanged after waiting that long.
pub(crate) fn settled(path: &Path, stat: Stat, stable_after: Duration, account: &Account) -> bool {
    if !is_recent(stat, stable_after) {
        return true;
    }
    pause(account, stable_after)
        && std::fs::symlink_metadata(path).is_ok_and(|meta| local::stat_of(&meta) == stat)
}

/// What a user reads about a file that is not complete yet.
pub(crate) const STILL_BEING_WRITTEN: &str =
    "the file is still being written: it is uploaded once it stops changing";

/// Hashes one candidate. A file that changes while it is read is never recorded: a
/// half-written photo must not be uploaded.
pub(crate) fn hash_candidate(
    account: &Account,
    folder: &Folder,
    worker: Worker,
    rel: &Path,
    stat: Stat,
) -> Hashing {
    let path = folder.path_of(rel);
    match local::hash_content(&path, stat) {
        Ok(content) => Hashing::Observed(Observation::Hashed {
            rel: rel.to_owned(),
            stat,
            sha1: content.sha1,
            born_ms: content.born_ms,
        }),
        Err(ObserveError::Gone) => Hashing::Observed(Observation::Gone {
            rel: rel.to_owned(),
        }),
        Err(ObserveError::Unstable) => {
            account.emit(worker, EventKind::RetryScheduled, |ev| {
                ev.path(&path).detail(STILL_BEING_WRITTEN)
            });
            Hashing::Unstable
        }
        Err(ObserveError::Io(e)) => {
            account.emit(worker, EventKind::Error, |ev| {
                ev.path(&path).detail(format!(
                    "cannot read the file ({e}); it is tried again at the next scan"
                ))
            });
            Hashing::Unreadable
        }
    }
}
