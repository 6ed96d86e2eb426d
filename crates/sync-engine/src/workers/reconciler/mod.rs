//! The reconciler: makes both sides agree on deletions, within each folder's policy.
//!
//! Each pass gathers facts, asks the pure plan (`crate::plan`) what to do with each file, and
//! carries out the answer; the decision table is in `docs/reconciliation.md`.
//!
//! - Local → Immich ([`local_deletes`]): a synced file gone from a folder that is present, or the
//!   old asset of a file whose content changed. Its age is where the photo began (see the
//!   README's safety model); before a delete goes out, Immich is asked about the asset, whose
//!   creation time counts too. Allowed deletes go to the Immich **trash**, never a forced delete.
//! - Immich → local ([`remote`]): a trash feed every `remote_check_interval` (one small search
//!   for assets trashed since the last look) finds trashes within a minute; a full check of
//!   every linked checksum every `reconcile_interval` also finds purges. Content deleted in
//!   Immich by someone else becomes a tombstone: it is never restored or uploaded again until
//!   the user says so. In mirror folders the file then goes to the **OS trash**, and only if it
//!   still holds the uploaded content.
//!
//! The mass-delete guard sits in front of both directions. A folder's deletes form one batch
//! that closes only after `delete_grace` without a new delete there (at most five minutes after
//! the first), so a delete that reaches the engine in bursts is judged whole; a batch that, with
//! the deletes of the last hour, exceeds the limits is *held* until the user approves or rejects
//! it. Every delete carried out is journaled and can be undone (`crate::undo`).

pub mod local_deletes;
pub mod remote;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::account::{Account, Folder, now_ms};
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::policy;
use crate::store::{Decision, DeleteDirection, FolderId, HeldDelete, StoreError};

use super::uploader::report_account_problem;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileSummary {
    /// Assets moved to the Immich trash.
    pub trashed_in_immich: u64,
    /// Local deletes kept in Immich by policy.
    pub kept_in_immich: u64,
    /// Local files moved to the OS trash.
    pub moved_to_trash: u64,
    /// Local files kept although their asset was deleted.
    pub kept_local: u64,
    /// Deletes held for the user's confirmation.
    pub held: u64,
    /// Deletes waiting for their batch to close (more may follow).
    pub waiting: u64,
    /// Errors.
    pub errors: u64,
    /// When the next waiting batch closes (unix ms).
    pub next_due_ms: Option<i64>,
}

impl ReconcileSummary {
    pub(crate) fn due_at(&mut self, at_ms: i64) {
        self.next_due_ms = Some(self.next_due_ms.map_or(at_ms, |d| d.min(at_ms)));
    }

    /// Whether a folder's batch of undecided deletes, seen at `times`, is still gathering
    /// (`policy::batch_due_of`); if so the pass wakes again when it closes.
    pub(crate) fn batch_open(
        &mut self,
        times: &[i64],
        grace: std::time::Duration,
        now: i64,
    ) -> bool {
        match policy::batch_due_of(times, grace) {
            Some(due) if due > now => {
                self.due_at(due);
                self.waiting += times.len() as u64;
                true
            }
            _ => false,
        }
    }

    fn add(&mut self, other: &ReconcileSummary) {
        self.trashed_in_immich += other.trashed_in_immich;
        self.kept_in_immich += other.kept_in_immich;
        self.moved_to_trash += other.moved_to_trash;
        self.kept_local += other.kept_local;
        self.held += other.held;
        self.waiting += other.waiting;
        self.errors += other.errors;
        if let Some(at) = other.next_due_ms {
            self.due_at(at);
        }
    }
}

/// The guard's window: deletes carried out within it count towards the limits.
const GUARD_WINDOW_MS: i64 = 3_600_000;
/// How often decisions on held deletes are looked for (they may come from another process).
const DECISION_CHECK: Duration = Duration::from_secs(15);

/// Runs until cancelled: the trash feed and the full remote check on their schedules (both at
/// once on "Sync now"), and the local and remote delete batches whenever woken or due.
pub async fn run(account: Arc<Account>) -> Result<(), Error> {
    let start = tokio::time::Instant::now();
    let mut next_full = start;
    let mut next_feed = start + account.intervals.remote_check;
    let mut failures = 0;
    loop {
        if !account.wait_unpaused().await {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        if account.take_remote_check_request() {
            next_full = now;
        }
        if now >= next_full {
            match remote::full_check(&account).await {
                Ok(()) => {
                    failures = 0;
                    next_full = now + account.intervals.reconcile;
                    next_feed = now + account.intervals.remote_check;
                }
                Err(error @ Error::Local(_)) => return Err(error),
                Err(error) => {
                    report_account_problem(&account, &error);
                    failures += 1;
                    // A failed check is retried soon (with backoff), not at the next schedule.
                    next_full = now
                        + policy::retry_delay(failures - 1, error.retry_after())
                            .min(account.intervals.reconcile);
                }
            }
        } else if now >= next_feed {
            match remote::trash_feed(&account).await {
                Ok(()) => {
                    failures = 0;
                    next_feed = now + account.intervals.remote_check;
                }
                Err(error @ Error::Local(_)) => return Err(error),
                Err(error) => {
                    report_account_problem(&account, &error);
                    failures += 1;
                    next_feed = now
                        + policy::retry_delay(failures - 1, error.retry_after())
                            .max(account.intervals.remote_check);
                }
            }
        }
        let mut summary = local_deletes::pass(&account).await;
        summary.add(&remote::judge(&account).await);
        let any_holds = show_held(&account).await;
        account.refresh_counts().await;
        let mut next = next_full.min(next_feed);
        if let Some(at) = summary.next_due_ms {
            next = next.min(
                tokio::time::Instant::now() + Duration::from_millis((at - now_ms()).max(0) as u64),
            );
        }
        // Held deletes wait for a decision, which may be written into the state file by
        // another program: looked for every DECISION_CHECK, by the file's change stamp.
        let looking_for_decisions = summary.held > 0 || any_holds;
        // A pass that failed somewhere (the server did not answer) tries again at the next look.
        let passed = if looking_for_decisions && summary.errors == 0 {
            change_stamp(&account).await
        } else {
            None
        };
        loop {
            let look = tokio::time::Instant::now() + DECISION_CHECK;
            let wake = if looking_for_decisions {
                next.min(look)
            } else {
                next
            };
            tokio::select! {
                _ = account.cancel.cancelled() => return Ok(()),
                _ = account.wake_reconciler.notified() => {
                    // Let a burst of deletes (a folder removed) arrive before looking.
                    tokio::time::sleep(account.intervals.stable_after).await;
                    break;
                }
                _ = tokio::time::sleep_until(wake) => {}
            }
            // Nothing written since the pass (no decision, no file seen again, no upload):
            // another pass would find what this one found, and at a hundred thousand holds
            // it costs a second of CPU. The next look is DECISION_CHECK later.
            let unchanged = passed.is_some() && change_stamp(&account).await == passed;
            if !(unchanged && wake < next) {
                break;
            }
        }
    }
}

/// The state file's change stamp, or `None` when it cannot be read (then the pass runs).
async fn change_stamp(account: &Account) -> Option<crate::store::ChangeStamp> {
    account.store.call(|db| db.change_stamp()).await.ok()
}

/// Runs a store call for the reconciler; a failure is told as an error event (nothing was
/// done, and the next pass tries again) and gives `None`.
pub(crate) async fn store_call<F, R>(account: &Account, what: &str, f: F) -> Option<R>
where
    F: FnOnce(&mut crate::store::Db<'_>) -> Result<R, StoreError> + Send + 'static,
    R: Send + 'static,
{
    match account.store.call(f).await {
        Ok(r) => Some(r),
        Err(e) => {
            account.emit(Worker::Reconciler, EventKind::Error, |ev| {
                ev.detail(format!("cannot {what} in the state database: {e}"))
            });
            None
        }
    }
}

/// Held deletes of the account in `direction`.
pub(crate) async fn holds(account: &Account, direction: DeleteDirection) -> Vec<HeldDelete> {
    let name = account.name.clone();
    store_call(account, "read held deletes", move |db| {
        db.held_deletes(Some(&name))
    })
    .await
    .unwrap_or_default()
    .into_iter()
    .filter(|h| h.direction == direction)
    .collect()
}

/// Whether a held delete of `rel` with `decision` is still waiting for the user: nothing but
/// the decision changes it, so a pass leaves it alone (judging it again cost several store
/// round trips each, and a mass delete holds thousands). A pattern that now excludes the file
/// is the exception: the file is then kept and the hold goes.
pub(crate) fn waits_for_the_user(decision: Option<Decision>, folder: &Folder, rel: &Path) -> bool {
    decision == Some(Decision::Waiting) && folder.filter.excluded_by_pattern(rel).is_none()
}

/// Shows the number of held deletes per folder in the status; returns whether any hold is
/// still in the store (waiting, or decided and not yet carried out).
pub async fn show_held(account: &Account) -> bool {
    let name = account.name.clone();
    let Ok(counts) = account.store.call(move |db| db.held_counts(&name)).await else {
        return false;
    };
    for folder in &account.folders {
        let waiting = counts
            .iter()
            .find(|c| c.folder == folder.id)
            .map_or(0, |c| c.waiting);
        account
            .status
            .edit_folder(&account.name, &folder.display, |f| {
                let was = f.held_deletes;
                f.held_deletes = waiting;
                if waiting > 0 {
                    f.message = Some(format!("Deletes waiting for your confirmation ({waiting})"));
                } else if was > 0 {
                    f.message = None;
                }
            });
    }
    counts.iter().any(|c| c.held > 0)
}

/// One delete the guard judges: a file row, or the previous asset of a changed file.
#[derive(Debug, Clone)]
pub(crate) struct GuardItem {
    pub file_id: i64,
    pub replaced_id: Option<i64>,
}

/// Applies the mass-delete guard to one folder's closed batch; returns true if it was held.
pub(crate) async fn guard_holds(
    account: &Account,
    folder: FolderId,
    direction: DeleteDirection,
    batch: &[GuardItem],
) -> bool {
    if batch.is_empty() {
        return false;
    }
    let since = now_ms() - GUARD_WINDOW_MS;
    let counts = store_call(account, "count recent deletes", move |db| {
        Ok((
            db.recent_deletes(folder, direction, since)?,
            db.tracked_files(folder)?,
        ))
    })
    .await;
    // Without the counts the guard cannot judge: nothing is deleted this time.
    let Some((recent, tracked)) = counts else {
        return true;
    };
    if !policy::is_mass_delete(&account.delete_guard, batch.len() as u64, recent, tracked) {
        return false;
    }
    let items: Vec<(i64, Option<i64>)> = batch.iter().map(|i| (i.file_id, i.replaced_id)).collect();
    if store_call(account, "record held deletes", move |db| {
        db.hold_items(&items, direction, now_ms())
    })
    .await
    .is_none()
    {
        return true;
    }
    let (what, how) = match direction {
        DeleteDirection::ToImmich => ("files deleted here", "nothing was deleted in Immich"),
        DeleteDirection::ToLocal => ("photos deleted in Immich", "no local file was touched"),
    };
    let folder_root = account
        .folder(folder)
        .map(|f| f.root.clone())
        .unwrap_or_default();
    account.emit(Worker::Reconciler, EventKind::DeletesHeld, |e| {
        e.path(&folder_root).detail(format!(
            "{} {what} at once ({} in this folder's last hour, {} synced): {how}. Review them with `immich-syncd deletions list`, then approve or reject",
            batch.len(),
            recent,
            tracked
        ))
    });
    true
}
