//! Pure rules: delete decisions and retry delays.
//!
//! Nothing here reads the clock or the disk: time comes in as arguments, so every rule is tested
//! with plain values, and the workers only carry out what these functions decide.

use std::time::Duration;

use crate::config::{DeleteGuard, DeleteMode, DeletePolicy};

const DAY_MS: f64 = 86_400_000.0;

/// What to do in Immich about a file deleted locally.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalDeleteDecision {
    /// Move the asset to the Immich trash.
    TrashInImmich,
    /// Leave the asset in Immich, for this reason (plain words).
    Keep(String),
}

/// What to do locally about an asset deleted or trashed in Immich.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteDeleteDecision {
    /// Move the local file to the OS trash (if its content still matches).
    MoveToTrash,
    /// Keep the local file, for this reason.
    Keep(String),
}

/// Decides a local delete. `born_ms` is where the photo's age starts (the earliest of its birth
/// time, the older service's `created_at` and the asset's creation in Immich), `deleted_ms`
/// when the engine found it gone. The age between them must be plausible and under the
/// threshold.
pub fn local_delete(policy: &DeletePolicy, born_ms: i64, deleted_ms: i64) -> LocalDeleteDecision {
    match policy.mode {
        DeleteMode::UploadOnly => {
            return LocalDeleteDecision::Keep(
                "upload-only folder: deletes here never remove photos from Immich".into(),
            );
        }
        DeleteMode::Mirror | DeleteMode::KeepLocal => {}
    }
    if born_ms == crate::store::UNKNOWN_BIRTH {
        return LocalDeleteDecision::Keep(
            "its age is unknown (the older sync service recorded none): never deleted automatically"
                .into(),
        );
    }
    let age_days = (deleted_ms.saturating_sub(born_ms)) as f64 / DAY_MS;
    if !age_days.is_finite() || age_days < 0.0 || age_days > policy.max_age_days {
        return LocalDeleteDecision::Keep(format!(
            "its age ({}) is implausible (limit {} days): never deleted automatically",
            days(age_days),
            policy.max_age_days
        ));
    }
    if age_days > policy.threshold_days {
        return LocalDeleteDecision::Keep(format!(
            "added {} ago, older than the {}-day delete threshold: kept in Immich",
            days(age_days),
            policy.threshold_days
        ));
    }
    LocalDeleteDecision::TrashInImmich
}

/// Decides what a remote delete does to the local copy.
pub fn remote_delete(policy: &DeletePolicy) -> RemoteDeleteDecision {
    match policy.mode {
        DeleteMode::Mirror => RemoteDeleteDecision::MoveToTrash,
        DeleteMode::UploadOnly => RemoteDeleteDecision::Keep(
            "upload-only folder: deletes in Immich never remove local files".into(),
        ),
        DeleteMode::KeepLocal => RemoteDeleteDecision::Keep(
            "keep-local folder: deletes in Immich never remove local files".into(),
        ),
    }
}

/// Whether deleting `batch` files now (after `recent` deletes within the guard's window) in a
/// folder of `tracked` synced files is a mass delete that needs the user's confirmation.
pub fn is_mass_delete(guard: &DeleteGuard, batch: u64, recent: u64, tracked: u64) -> bool {
    let total = batch + recent;
    if total > guard.max_files {
        return true;
    }
    tracked > 0 && total * 100 > guard.max_percent * tracked
}

/// Longest a batch of deletes keeps waiting for more deletes to arrive.
pub const BATCH_WAIT_MAX: Duration = Duration::from_secs(300);

/// When a folder's batch of deletes, seen first at `first_ms` and last at `last_ms`, is
/// complete and can be judged as a whole: `grace` after the last delete, so a delete spread over
/// seconds or minutes (a slow `rm -r`) is one batch — but no later than [`BATCH_WAIT_MAX`] (or
/// `grace`, if longer) after the first, so a folder that keeps losing files is still judged.
pub fn batch_due(first_ms: i64, last_ms: i64, grace: Duration) -> i64 {
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let cap_ms = i64::try_from(BATCH_WAIT_MAX.max(grace).as_millis()).unwrap_or(i64::MAX);
    last_ms
        .saturating_add(grace_ms)
        .min(first_ms.saturating_add(cap_ms))
}

/// When the batch made of deletes seen at `times` is complete (see [`batch_due`]); `None` for
/// no deletes. Deletes seen more than [`BATCH_WAIT_MAX`] before the latest one (a lookup that
/// keeps failing, a delete left from long ago) do not shorten the wait of the new ones.
pub fn batch_due_of(times: &[i64], grace: Duration) -> Option<i64> {
    let last = *times.iter().max()?;
    let cap_ms = i64::try_from(BATCH_WAIT_MAX.max(grace).as_millis()).unwrap_or(i64::MAX);
    let first = times
        .iter()
        .copied()
        .filter(|t| *t >= last.saturating_sub(cap_ms))
        .min()
        .unwrap_or(last);
    Some(batch_due(first, last, grace))
}

/// First retry delay after a transient failure.
pub const RETRY_BASE: Duration = Duration::from_secs(5);
/// Longest wait between retries.
pub const RETRY_MAX: Duration = Duration::from_secs(15 * 60);

/// Delay before attempt number `attempt + 1` (exponential, capped); a server's `Retry-After`
/// wins when it asks for longer.
pub fn retry_delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponential = RETRY_BASE
        .checked_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .unwrap_or(RETRY_MAX)
        .min(RETRY_MAX);
    match retry_after {
        Some(asked) => asked.min(RETRY_MAX),
        None => exponential,
    }
}

fn days(d: f64) -> String {
    if !d.is_finite() {
        return "unknown".into();
    }
    let whole = d.round() as i64;
    match whole {
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: DeleteMode) -> DeletePolicy {
        DeletePolicy {
            mode,
            threshold_days: 7.0,
            max_age_days: 365.0,
        }
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn young_local_deletes_go_to_the_immich_trash() {
        assert_eq!(
            local_delete(&policy(DeleteMode::Mirror), 0, 3 * DAY),
            LocalDeleteDecision::TrashInImmich
        );
        assert_eq!(
            local_delete(&policy(DeleteMode::KeepLocal), 0, 3 * DAY),
            LocalDeleteDecision::TrashInImmich,
            "keep-local only protects local files"
        );
    }

    #[test]
    fn old_implausible_and_upload_only_deletes_are_kept() {
        let p = policy(DeleteMode::Mirror);
        assert!(
            matches!(local_delete(&p, 0, 8 * DAY), LocalDeleteDecision::Keep(r) if r.contains("threshold"))
        );
        assert!(
            matches!(local_delete(&p, 0, 400 * DAY), LocalDeleteDecision::Keep(r) if r.contains("implausible"))
        );
        assert!(
            matches!(local_delete(&p, 5 * DAY, 0), LocalDeleteDecision::Keep(r) if r.contains("implausible")),
            "negative age"
        );
        assert!(matches!(
            local_delete(&policy(DeleteMode::UploadOnly), 0, DAY),
            LocalDeleteDecision::Keep(_)
        ));
    }

    #[test]
    fn only_mirror_folders_follow_remote_deletes() {
        assert_eq!(
            remote_delete(&policy(DeleteMode::Mirror)),
            RemoteDeleteDecision::MoveToTrash
        );
        assert!(matches!(
            remote_delete(&policy(DeleteMode::KeepLocal)),
            RemoteDeleteDecision::Keep(_)
        ));
        assert!(matches!(
            remote_delete(&policy(DeleteMode::UploadOnly)),
            RemoteDeleteDecision::Keep(_)
        ));
    }

    #[test]
    fn large_or_sweeping_deletes_need_confirmation() {
        let guard = DeleteGuard::default(); // 10 files, 25 %
        assert!(
            !is_mass_delete(&guard, 10, 0, 1000),
            "10 files is the limit, not over it"
        );
        assert!(is_mass_delete(&guard, 11, 0, 1000));
        assert!(
            is_mass_delete(&guard, 4, 7, 1000),
            "deletes within the window count too"
        );
        assert!(!is_mass_delete(&guard, 1, 0, 4), "25 % of 4 is allowed");
        assert!(is_mass_delete(&guard, 2, 0, 4), "50 % of a folder is held");
        assert!(
            !is_mass_delete(&guard, 1, 0, 0),
            "nothing tracked: no percentage"
        );
    }

    #[test]
    fn a_batch_closes_after_a_quiet_grace_period_or_the_cap() {
        let grace = Duration::from_secs(30);
        assert_eq!(batch_due(0, 0, grace), 30_000);
        assert_eq!(
            batch_due(0, 250, grace),
            30_250,
            "a second burst 250 ms later extends the batch"
        );
        assert_eq!(
            batch_due(0, 290_000, grace),
            300_000,
            "a folder that keeps losing files is judged after five minutes"
        );
        assert_eq!(batch_due(0, 0, Duration::ZERO), 0);
        let long = Duration::from_secs(600);
        assert_eq!(
            batch_due(0, 0, long),
            600_000,
            "the cap is never below the grace"
        );
    }

    #[test]
    fn a_stale_delete_does_not_close_a_new_batch() {
        let grace = Duration::from_secs(30);
        assert_eq!(batch_due_of(&[], grace), None);
        let hour = 3_600_000;
        assert_eq!(
            batch_due_of(&[0, hour, hour + 250], grace),
            Some(hour + 30_250),
            "a delete from an hour ago that is still waiting does not close the new batch"
        );
    }

    #[test]
    fn retries_back_off_and_honour_retry_after() {
        assert_eq!(retry_delay(0, None), Duration::from_secs(5));
        assert_eq!(retry_delay(1, None), Duration::from_secs(10));
        assert_eq!(retry_delay(30, None), RETRY_MAX);
        assert_eq!(
            retry_delay(0, Some(Duration::from_secs(40))),
            Duration::from_secs(40)
        );
        assert_eq!(retry_delay(0, Some(Duration::from_secs(86_400))), RETRY_MAX);
    }
}
