//! The uploader: every queued file ends up linked to exactly one asset.
//!
//! A round takes the due files from the store, groups them by content, and asks Immich with one
//! bulk-upload-check per 5000 checksums which contents it already has: those are linked without
//! uploading (this is also how an upload cut off by a crash or a reset connection is recovered —
//! the next round finds it on the server). One file per unknown content is then uploaded,
//! streamed from disk, with at most `upload_concurrency` in flight. The intent (`uploading`) is
//! written before each request, and the outcome right after.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::account::{Account, Folder, now_ms};
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::immich::{ApiError, CheckResult, UploadRequest};
use crate::local;
use crate::plan::{self, Check, Stone, UploadAction};
use crate::policy;
use crate::status::{AccountState, FolderState};
use crate::store::{
    FileState, Observation, PendingUpload, RemoteGone, Sighting, StoreError, Tombstone,
};

use super::{hash_candidate, record, settled};

/// Files taken from the store per round.
const ROUND_SIZE: usize = 2000;

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundSummary {
    /// Files taken from the queue.
    pub considered: u64,
    /// New assets created.
    pub uploaded: u64,
    /// Files linked to assets Immich already had.
    pub linked: u64,
    /// Files that failed for good.
    pub failed: u64,
    /// Files put back for a later retry.
    pub retried: u64,
}

/// The account cannot continue (key, permission, quota, server, state file): the message says
/// why.
#[derive(Debug)]
pub struct AccountProblem(pub Error);

/// Runs until cancelled: rounds while there is work, then sleeps until woken, the next retry
/// is due, or the fallback poll interval passes.
pub async fn run(account: Arc<Account>) -> Result<(), Error> {
    loop {
        if !account.wait_unpaused().await {
            return Ok(());
        }
        let mut blocked = false;
        match round(&account).await {
            Ok(summary) if summary.considered > 0 => {
                account.refresh_counts().await;
                continue;
            }
            // The queue is empty: changed sidecars go out as metadata, and the photos just
            // synced go into their albums and stacks; one failing does not hold up the other.
            Ok(_) => {
                let sidecars = super::sidecars::apply_due(&account).await.map(|_| ());
                let albums = super::albums::sync_if_due(&account).await.map(|_| ());
                for (what, result) in [("sidecars", sidecars), ("albums", albums)] {
                    match result {
                        Ok(()) => {}
                        Err(error @ Error::Local(_)) => return Err(error),
                        Err(error) if error.is_transient() => {
                            tracing::warn!(
                                "{what} of {}: {error}; tried again later",
                                account.name
                            );
                        }
                        Err(error) => {
                            report_account_problem(&account, &error);
                            blocked = true;
                        }
                    }
                }
            }
            // A local cause (the state file) is not the server's: the supervisor says so.
            Err(AccountProblem(error @ Error::Local(_))) => return Err(error),
            Err(AccountProblem(error)) => {
                report_account_problem(&account, &error);
                blocked = true;
            }
        }
        account.refresh_counts().await;
        set_idle_if_done(&account);
        // A key, permission or quota problem is the user's to fix: the queue stays due, and the
        // next try waits for new work or the poll interval, never a tight loop.
        let wait = if blocked {
            account.intervals.upload_poll
        } else {
            next_wait(&account).await
        };
        tokio::select! {
            _ = account.cancel.cancelled() => return Ok(()),
            _ = account.wake_uploader.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

fn set_idle_if_done(account: &Account) {
    account.status.edit(&account.name, |s| {
        if s.state == AccountState::Syncing && s.queue_depth == 0 {
            s.state = AccountState::Idle;
            s.message = None;
        }
    });
}

async fn next_wait(account: &Account) -> Duration {
    let next = next_retry_at(account).await;
    let poll = account.intervals.upload_poll;
    match next {
        Some(at) => Duration::from_millis((at - now_ms()).max(50) as u64).min(poll),
        None => poll,
    }
}

/// When the earliest failed upload of `account` is due again (ms), if any is waiting; a store
/// that cannot answer counts as none waiting.
pub(crate) async fn next_retry_at(account: &Account) -> Option<i64> {
    let name = account.name.clone();
    account
        .store
        .call(move |db| db.next_retry_at(&name))
        .await
        .ok()
        .flatten()
}

/// Shows an account-level problem; for a transient one, when the next try is.
pub(crate) fn report_account_problem(account: &Account, error: &Error) {
    let (state, message) = if error.is_transient() {
        (
            AccountState::Offline,
            format!("Server unavailable — {error}"),
        )
    } else {
        (AccountState::Error, error.to_string())
    };
    account.status.edit(&account.name, |s| {
        s.state = state;
        s.message = Some(message.clone());
        s.last_error = Some(message.clone());
    });
    account.emit(Worker::Uploader, EventKind::AccountError, |e| {
        e.detail(message)
    });
}

/// How long a live photo's still waits at least for its motion video's upload before it looks
/// again.
const LIVE_WAIT: Duration = Duration::from_secs(2);

/// Where a file stands as a live photo's still.
enum Live {
    /// Not a still, no motion video beside it, or one that is not its other half, or whose
    /// upload failed (Immich links the two itself by their identifier when the video comes):
    /// uploaded on its own, never held back by a video that cannot go up.
    Alone,
    /// Its motion video (file name) is on its way to Immich, not there yet: look again once
    /// it is due (unix ms).
    Wait { video: String, until: i64 },
    /// Its motion video is in Immich as `asset`.
    Ready { asset: String, name: String },
}

async fn live_partner(account: &Account, folder: &Arc<Folder>, file: &PendingUpload) -> Live {
    if !crate::live_photos::is_still(&file.rel) {
        return Live::Alone;
    }
    let (folder_id, rel) = (folder.id, file.rel.clone());
    let videos: Vec<_> = match account
        .store
        .call(move |db| db.siblings(folder_id, &rel))
        .await
    {
        Ok(siblings) => siblings
            .into_iter()
            .filter(|s| crate::live_photos::is_motion(&s.rel))
            .map(|s| (folder.path_of(&s.rel), s))
            .collect(),
        Err(_) => return Live::Alone,
    };
    if videos.is_empty() {
        return Live::Alone;
    }
    let still = folder.path_of(&file.rel);
    let found = crate::blocking::spawn(move || {
        videos
            .into_iter()
            .find(|(path, _)| crate::live_photos::are_one(&still, path))
    })
    .await
    .ok()
    .flatten();
    let Some((path, video)) = found else {
        return Live::Alone;
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match (video.state, video.asset_id) {
        (FileState::Synced, Some(asset)) => Live::Ready { asset, name },
        (FileState::Queued | FileState::Uploading, _) if video.attempts == 0 => Live::Wait {
            video: name,
            until: video.next_attempt_at.unwrap_or(0),
        },
        _ => Live::Alone,
    }
}

/// Files queued before an `exclude` pattern took them out of syncing are skipped now, not
/// uploaded: their folder may be pruned from every walk, so nothing else would tell the queue.
fn leave_excluded(account: &Account, due: Vec<PendingUpload>) -> Vec<PendingUpload> {
    let mut kept = Vec::with_capacity(due.len());
    let mut skipped: BTreeMap<crate::store::FolderId, Vec<Observation>> = BTreeMap::new();
    for file in due {
        let pattern = account
            .folder(file.folder)
            .and_then(|folder| folder.filter.excluded_by_pattern(&file.rel));
        match pattern {
            Some(pattern) => skipped
                .entry(file.folder)
                .or_default()
                .push(Observation::Skipped {
                    rel: file.rel,
                    stat: file.stat,
                    reason: crate::filter::SkipReason::ExcludedByPattern(pattern).describe(),
                }),
            None => kept.push(file),
        }
    }
    for (folder_id, observations) in skipped {
        if let Some(folder) = account.folder(folder_id) {
            record(account, folder, Worker::Uploader, &observations, false);
        }
    }
    kept
}

/// One pass over the due part of the queue.
pub async fn round(account: &Arc<Account>) -> Result<RoundSummary, AccountProblem> {
    let name = account.name.clone();
    let due = account
        .store
        .call(move |db| db.due_uploads(&name, now_ms(), ROUND_SIZE))
        .await
        .map_err(|e| AccountProblem(e.into()))?;
    let due = leave_excluded(account, due);
    let due: Vec<PendingUpload> = due
        .into_iter()
        .filter(|f| {
            account
                .folder(f.folder)
                .is_some_and(|d| d.state() == FolderState::Active)
        })
        .collect();
    let mut summary = RoundSummary {
        considered: due.len() as u64,
        ..RoundSummary::default()
    };
    if due.is_empty() {
        return Ok(summary);
    }
    let total = due.len();
    account.status.edit(&account.name, |s| {
        if s.state != AccountState::Scanning {
            s.state = AccountState::Syncing;
            s.message = Some(format!("Uploading {total} files"));
        }
    });

    // Group by content: one check and at most one upload per checksum.
    let mut groups: BTreeMap<String, Vec<PendingUpload>> = BTreeMap::new();
    for file in due {
        groups.entry(file.sha1.clone()).or_default().push(file);
    }
    let items: Vec<(String, String)> = groups.keys().map(|s| (s.clone(), s.clone())).collect();
    let checks = match account.client.bulk_upload_check(&items).await {
        Ok(checks) => checks,
        Err(error) => {
            let ids: Vec<i64> = groups.values().flatten().map(|f| f.id).collect();
            let attempts = groups
                .values()
                .flatten()
                .map(|f| f.attempts)
                .max()
                .unwrap_or(0);
            return handle_batch_error(account, &ids, attempts, error, &mut summary)
                .await
                .map(|_| summary);
        }
    };

    // The server answered: whatever kept the account offline is over.
    account.status.edit(&account.name, |s| {
        if matches!(s.state, AccountState::Offline | AccountState::Error) {
            s.state = AccountState::Syncing;
            s.message = Some(format!("Uploading {total} files"));
            s.last_error = None;
        }
    });
    let groups: Vec<(String, Vec<PendingUpload>, Check)> = groups
        .into_iter()
        .zip(checks)
        .map(|((sha1, files), check)| {
            let check = match check {
                CheckResult::Absent => Check::Absent,
                CheckResult::Present {
                    asset_id,
                    is_trashed,
                } => Check::Present {
                    asset_id,
                    trashed: is_trashed,
                },
            };
            (sha1, files, check)
        })
        .collect();
    let facts = deletion_facts(account, &groups).await?;
    let mut to_upload = Vec::new();
    let mut to_restore = Vec::new();
    let mut present = Vec::new();
    let mut deleted = Vec::new();
    for ((sha1, files, check), (stone, by_engine)) in groups.into_iter().zip(facts) {
        let action = plan::plan_upload(
            &check,
            stone.as_ref().map_or(Stone::None, |t| {
                if t.forgiven {
                    Stone::Forgiven
                } else {
                    Stone::Standing(t.how)
                }
            }),
            by_engine,
        );
        match (action, check) {
            (UploadAction::Upload, _) => to_upload.push((sha1, files)),
            (UploadAction::Link, Check::Present { asset_id, .. }) => {
                summary.linked += files.len() as u64;
                present.push((files, asset_id, false, stone.is_some()));
            }
            (UploadAction::RestoreAndLink, Check::Present { asset_id, .. }) => {
                to_restore.push(asset_id.clone());
                summary.linked += files.len() as u64;
                present.push((files, asset_id, true, stone.is_some()));
            }
            (UploadAction::KeepDeleted { new_tombstone }, check) => {
                let asset_id = match check {
                    Check::Present { asset_id, .. } => Some(asset_id),
                    Check::Absent => stone.as_ref().and_then(|t| t.asset_id.clone()),
                };
                deleted.push(DeletedGroup {
                    sha1,
                    files,
                    asset_id,
                    new_tombstone,
                    stone,
                });
            }
            // Link and restore always come with an asset.
            (_, Check::Absent) => to_upload.push((sha1, files)),
        }
    }
    if !to_restore.is_empty()
        && let Err(error) = restore(account, &to_restore).await
    {
        // Not restored: nothing is linked to an asset still in the trash (the next check
        // would take it for a new delete in Immich). The files wait and are tried again.
        let (waiting, rest): (Vec<_>, Vec<_>) = present
            .into_iter()
            .partition(|(_, _, was_trashed, _)| *was_trashed);
        present = rest;
        let ids: Vec<i64> = waiting
            .iter()
            .flat_map(|(files, _, _, _)| files.iter().map(|f| f.id))
            .collect();
        let attempts = waiting
            .iter()
            .flat_map(|(files, _, _, _)| files.iter().map(|f| f.attempts))
            .max()
            .unwrap_or(0);
        summary.linked -= ids.len() as u64;
        handle_batch_error(account, &ids, attempts, error, &mut summary).await?;
    }
    link_present(account, &present).await?;
    keep_deleted(account, deleted).await;

    let semaphore = Arc::new(Semaphore::new(account.upload_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (_, files) in to_upload {
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            break;
        };
        if account.cancel.is_cancelled() {
            break;
        }
        let account = account.clone();
        tasks.spawn(async move {
            let _permit = permit;
            upload_group(&account, files).await
        });
    }
    let mut problem = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(outcome)) => {
                summary.uploaded += outcome.uploaded;
                summary.linked += outcome.linked;
                summary.failed += outcome.failed;
                summary.retried += outcome.retried;
            }
            Ok(Err(p)) => problem = Some(p),
            Err(e) => tracing::error!("an upload task failed: {e}"),
        }
    }
    if summary.uploaded + summary.linked > 0 {
        account
            .albums_due
            .store(true, std::sync::atomic::Ordering::Release);
    }
    match problem {
        Some(p) => Err(p),
        None => Ok(summary),
    }
}

/// For each content group: what the store remembers of it being deleted in Immich, and
/// whether this engine itself trashed the asset Immich has for it.
async fn deletion_facts(
    account: &Account,
    groups: &[(String, Vec<PendingUpload>, Check)],
) -> Result<Vec<(Option<Tombstone>, bool)>, AccountProblem> {
    let name = account.name.clone();
    let keys: Vec<(String, Option<String>)> = groups
        .iter()
        .map(|(sha1, _, check)| {
            let trashed_asset = match check {
                Check::Present {
                    asset_id,
                    trashed: true,
                } => Some(asset_id.clone()),
                _ => None,
            };
            (sha1.clone(), trashed_asset)
        })
        .collect();
    account
        .store
        .call(move |db| {
            keys.iter()
                .map(|(sha1, trashed_asset)| {
                    let stone = db.tombstone(&name, sha1)?;
                    let by_engine = match trashed_asset {
                        Some(asset) => db.trashed_by_engine(&name, asset)?,
                        None => false,
                    };
                    Ok((stone, by_engine))
                })
                .collect()
        })
        .await
        .map_err(|e| AccountProblem(e.into()))
}

/// Records every file whose content Immich already has, in one transaction, then tells. Content
/// that was remembered as deleted in Immich and is there again is no longer a tombstone.
async fn link_present(
    account: &Account,
    present: &[(Vec<PendingUpload>, String, bool, bool)],
) -> Result<(), AccountProblem> {
    if present.is_empty() {
        return Ok(());
    }
    let groups: Vec<(Vec<i64>, String)> = present
        .iter()
        .map(|(files, asset, _, _)| (files.iter().map(|f| f.id).collect(), asset.clone()))
        .collect();
    let ended: Vec<(String, String)> = present
        .iter()
        .filter(|(_, _, _, stone)| *stone)
        .filter_map(|(files, asset, _, _)| files.first().map(|f| (f.sha1.clone(), asset.clone())))
        .collect();
    let name = account.name.clone();
    account
        .store
        .call(move |db| {
            let now = now_ms();
            db.link_groups(&groups, now)?;
            for (sha1, asset) in &ended {
                db.end_tombstone(&name, sha1, asset)?;
            }
            // Each asset is in Immich now: an earlier trash of it by this engine is over.
            for (_, asset) in &groups {
                db.close_engine_trash(&name, asset, now)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| AccountProblem(e.into()))?;
    for (files, asset_id, was_trashed, _) in present {
        announce_links(
            account,
            files,
            asset_id,
            EventKind::Linked,
            *was_trashed,
            None,
        );
    }
    Ok(())
}

/// Content found deleted in Immich, with the files that hold it.
struct DeletedGroup {
    sha1: String,
    files: Vec<PendingUpload>,
    asset_id: Option<String>,
    new_tombstone: Option<RemoteGone>,
    stone: Option<Tombstone>,
}

/// Content deleted in Immich by someone else is neither restored nor uploaded again: its files
/// are kept as "deleted in Immich", and it is remembered (a tombstone) if it was not yet.
async fn keep_deleted(account: &Account, deleted: Vec<DeletedGroup>) {
    if deleted.is_empty() {
        return;
    }
    let now = now_ms();
    let mut sightings = Vec::new();
    let mut marks = Vec::new();
    for DeletedGroup {
        sha1,
        files,
        asset_id,
        new_tombstone,
        stone,
    } in &deleted
    {
        let seen_at = stone.as_ref().map_or(now, |t| t.seen_at);
        let reason = format!(
            "deleted in Immich on {}: not uploaded again (choose \"Upload again\" in Activity, or `immich-syncd tombstones forget`, to bring it back)",
            date_of(seen_at)
        );
        if let Some(how) = new_tombstone {
            sightings.push(Sighting {
                sha1: sha1.clone(),
                asset_id: asset_id.clone(),
                how: *how,
                path: files.first().map(|f| f.root.join(&f.rel)),
            });
        }
        marks.push((
            files.iter().map(|f| f.id).collect::<Vec<_>>(),
            asset_id.clone(),
            reason.clone(),
        ));
        for file in files {
            let path = file.root.join(&file.rel);
            account.emit(Worker::Uploader, EventKind::Skipped, |e| {
                let e = e.path(&path).detail(reason.clone());
                match asset_id {
                    Some(asset) => e.asset(asset),
                    None => e,
                }
            });
        }
    }
    let name = account.name.clone();
    if let Err(e) = account
        .store
        .call(move |db| {
            db.add_tombstones(&name, &sightings, now)?;
            for (ids, asset, reason) in &marks {
                db.mark_tombstoned(ids, asset.as_deref(), reason)?;
            }
            Ok(())
        })
        .await
    {
        account.emit(Worker::Uploader, EventKind::Error, |ev| {
            ev.detail(format!("cannot record photos deleted in Immich: {e}"))
        });
    }
}

/// A day as people read it in the activity list (UTC).
fn date_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_else(|_| "an unknown date".into())
}

/// Records that `files` hold `asset_id` (and that content forgiven by the user is in Immich
/// again), then tells. A store failure stops the round: the next one finds the asset with
/// bulk-upload-check and links it then.
async fn link(
    account: &Account,
    files: &[PendingUpload],
    asset_id: &str,
    kind: EventKind,
    detail: Option<String>,
) -> Result<(), AccountProblem> {
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let (name, asset) = (account.name.clone(), asset_id.to_owned());
    let sha1 = files.first().map(|f| f.sha1.clone()).unwrap_or_default();
    account
        .store
        .call(move |db| {
            let now = now_ms();
            db.link(&ids, &asset, now)?;
            db.close_engine_trash(&name, &asset, now)?;
            db.end_tombstone(&name, &sha1, &asset)
        })
        .await
        .map_err(|e| AccountProblem(e.into()))?;
    announce_links(account, files, asset_id, kind, false, detail.as_deref());
    Ok(())
}

fn announce_links(
    account: &Account,
    files: &[PendingUpload],
    asset_id: &str,
    kind: EventKind,
    was_trashed: bool,
    uploaded_detail: Option<&str>,
) {
    for file in files {
        let path = file.root.join(&file.rel);
        account.emit(Worker::Uploader, kind, |e| {
            let e = e.path(&path).asset(asset_id);
            match (kind, was_trashed, uploaded_detail) {
                (EventKind::Linked, true, _) => e.detail(
                    "already in Immich (in its trash): restored and linked, not uploaded again",
                ),
                (EventKind::Linked, false, _) => {
                    e.detail("already in Immich: linked, not uploaded again")
                }
                (_, _, Some(detail)) => e.detail(detail),
                _ => e,
            }
        });
    }
}

async fn restore(account: &Account, ids: &[String]) -> Result<(), ApiError> {
    if account.dry_run {
        for id in ids {
            account.emit(Worker::Uploader, EventKind::WouldDo, |e| {
                e.asset(id)
                    .detail("would restore this asset from the Immich trash")
            });
        }
        return Ok(());
    }
    match account.client.restore_from_trash(ids).await {
        Ok(()) => {
            for id in ids {
                account.emit(Worker::Uploader, EventKind::RestoredInImmich, |e| {
                    e.asset(id).detail(
                        "the file is in a synced folder again, so its asset left the Immich trash",
                    )
                });
            }
            Ok(())
        }
        Err(error) => {
            account.emit(Worker::Uploader, EventKind::Error, |e| {
                e.detail(format!(
                    "cannot restore assets from the Immich trash: {error}"
                ))
            });
            Err(error)
        }
    }
}

async fn upload_group(
    account: &Arc<Account>,
    files: Vec<PendingUpload>,
) -> Result<RoundSummary, AccountProblem> {
    let mut summary = RoundSummary::default();
    let Some(first) = files.first() else {
        return Ok(summary);
    };
    let Some(folder) = account.folder(first.folder).cloned() else {
        return Ok(summary);
    };
    let path = first.root.join(&first.rel);

    // The file must still be the one that was hashed.
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let meta = match tokio::fs::symlink_metadata(&path).await {
        Ok(meta) if local::stat_of(&meta) == first.stat => meta,
        found => {
            let gone = found.is_err();
            let error = ApiError::FileChanged {
                path: path.display().to_string(),
                gone,
            };
            put_off(account, &folder, first, &ids, &error, false)
                .await
                .map_err(|e| AccountProblem(e.into()))?;
            summary.retried += files.len() as u64;
            return Ok(summary);
        }
    };
    if account.dry_run {
        account.emit(Worker::Uploader, EventKind::WouldDo, |e| {
            e.path(&path)
                .detail(format!("would upload ({} bytes)", first.stat.size))
        });
        // The dry run's own copy of the store remembers the pretend upload, so the same
        // content is reported once.
        let fake_id = format!("dry-run-{}", first.sha1);
        let ids2 = ids.clone();
        account
            .store
            .call(move |db| db.link(&ids2, &fake_id, now_ms()))
            .await
            .map_err(|e| AccountProblem(e.into()))?;
        summary.uploaded += 1;
        return Ok(summary);
    }

    // A live photo's still goes up after its motion video, naming it.
    let live = match live_partner(account, &folder, first).await {
        Live::Wait { video, until } => {
            let waiting = ids.clone();
            let reason = format!("waiting for its motion video {video} to be uploaded first");
            let next = until.max(now_ms() + LIVE_WAIT.as_millis() as i64);
            account
                .store
                .call(move |db| db.retry_later(&waiting, &reason, next, false))
                .await
                .map_err(|e| AccountProblem(e.into()))?;
            summary.retried += files.len() as u64;
            return Ok(summary);
        }
        Live::Ready { asset, name } => Some((asset, name)),
        Live::Alone => None,
    };

    // The intent is in the store before the request goes out, or nothing goes out.
    let marked = ids.clone();
    account
        .store
        .call(move |db| db.mark_uploading(&marked))
        .await
        .map_err(|e| AccountProblem(e.into()))?;
    let (created_at, modified_at) = local::file_times(&meta);
    let beside = path.clone();
    let sidecar = crate::blocking::spawn(move || local::read_sidecar(&beside))
        .await
        .ok()
        .flatten();
    let sent_with = sidecar
        .as_ref()
        .map(|s| (s.file_name.clone(), s.sha1_hex()));
    let request = UploadRequest {
        path: path.clone(),
        file_name: first
            .rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into()),
        device_asset_id: format!("{}-{}", first.sha1, first.stat.size),
        sha1_hex: first.sha1.clone(),
        size: first.stat.size,
        created_at,
        modified_at,
        expected: Some(first.stat),
        sidecar,
        live_photo_video_id: live.as_ref().map(|(asset, _)| asset.clone()),
    };
    let ticket = account.status.start_upload(
        &account.name,
        path.to_string_lossy().into_owned(),
        first.stat.size,
    );
    let result = account
        .client
        .upload(&request, Some(ticket.sent.clone()))
        .await;
    drop(ticket);
    match result {
        Ok(outcome) => {
            let kind = if outcome.duplicate {
                EventKind::Linked
            } else {
                EventKind::Uploaded
            };
            let mut notes = Vec::new();
            if let (Some((name, _)), false) = (&sent_with, outcome.duplicate) {
                notes.push(format!("sent with its sidecar {name}"));
            }
            if let (Some((video, name)), false) = (&live, outcome.duplicate) {
                notes.push(format!("paired with {name}"));
                let (account_name, still, video) = (
                    account.name.clone(),
                    outcome.asset_id.clone(),
                    video.clone(),
                );
                account
                    .store
                    .call(move |db| db.record_live_pair(&account_name, &still, &video))
                    .await
                    .map_err(|e| AccountProblem(e.into()))?;
            }
            let detail = (!notes.is_empty()).then(|| notes.join("; "));
            link(account, &files, &outcome.asset_id, kind, detail).await?;
            if let (Some((_, sha1)), false) = (sent_with, outcome.duplicate) {
                let ids = ids.clone();
                account
                    .store
                    .call(move |db| db.set_sidecar_sent(&ids, &sha1))
                    .await
                    .map_err(|e| AccountProblem(e.into()))?;
            }
            if outcome.duplicate {
                summary.linked += files.len() as u64;
            } else {
                summary.uploaded += 1;
                summary.linked += files.len() as u64 - 1;
            }
            Ok(summary)
        }
        Err(error @ (ApiError::LocalFile { .. } | ApiError::FileChanged { .. })) => {
            // Changed, vanished or unreadable mid-upload: nothing reached Immich. Look at the
            // file again rather than fail it.
            put_off(account, &folder, first, &ids, &error, true)
                .await
                .map_err(|e| AccountProblem(e.into()))?;
            summary.retried += files.len() as u64;
            Ok(summary)
        }
        Err(error) => {
            handle_batch_error(account, &ids, first.attempts, error, &mut summary).await?;
            Ok(summary)
        }
    }
}

/// Transient: back to the queue with backoff. Account-wide: back to the queue without counting
/// an attempt, and stop the round. Otherwise: the files failed for good.
async fn handle_batch_error(
    account: &Account,
    ids: &[i64],
    attempts: u32,
    error: ApiError,
    summary: &mut RoundSummary,
) -> Result<(), AccountProblem> {
    let message = error.to_string();
    if error.is_transient() || error.is_account_problem() {
        // Account problems leave the files due: the uploader's loop paces the next try, and a
        // later `--once` pass tries at once instead of waiting out a deadline set by this one.
        let delay = if error.is_transient() {
            policy::retry_delay(attempts, error.retry_after())
        } else {
            Duration::ZERO
        };
        let next = now_ms() + delay.as_millis() as i64;
        let ids_owned = ids.to_vec();
        let msg = message.clone();
        let counted = error.is_transient();
        account
            .store
            .call(move |db| db.retry_later(&ids_owned, &msg, next, counted))
            .await
            .map_err(|e| AccountProblem(e.into()))?;
        summary.retried += ids.len() as u64;
        if error.is_transient() {
            account.emit(Worker::Uploader, EventKind::RetryScheduled, |e| {
                e.detail(format!(
                    "{message}; retrying in {} s",
                    delay.as_secs().max(1)
                ))
            });
            account.status.edit(&account.name, |s| {
                s.state = AccountState::Offline;
                s.message = Some(format!(
                    "Server unavailable — retrying in {} s",
                    delay.as_secs().max(1)
                ));
                s.last_error = Some(message.clone());
            });
            return Ok(());
        }
        return Err(AccountProblem(error.into()));
    }
    let ids_owned = ids.to_vec();
    let msg = message.clone();
    account
        .store
        .call(move |db| db.fail(&ids_owned, &msg))
        .await
        .map_err(|e| AccountProblem(e.into()))?;
    summary.failed += ids.len() as u64;
    account.emit(Worker::Uploader, EventKind::UploadFailed, |e| {
        e.detail(format!(
            "{message} (it is tried again when the file changes)"
        ))
    });
    Ok(())
}

/// A file that changed, vanished or could not be read before or during its upload (`started`
/// says which): tells the user, puts it back in the queue and looks at it again. A changed
/// file is hashed anew (the new content is what gets uploaded); a deleted one is forgotten.
async fn put_off(
    account: &Arc<Account>,
    folder: &Arc<Folder>,
    file: &PendingUpload,
    ids: &[i64],
    error: &ApiError,
    started: bool,
) -> Result<(), StoreError> {
    let path = file.root.join(&file.rel);
    let message = error.to_string();
    defer(account, ids, &message).await?;
    let (kind, detail) = match (error, started) {
        (ApiError::FileChanged { gone: true, .. }, true) => (
            EventKind::Skipped,
            "skipped: the file was deleted while it was being uploaded; Immich kept nothing of it"
                .to_owned(),
        ),
        (ApiError::FileChanged { gone: true, .. }, false) => (
            EventKind::Skipped,
            "skipped: the file was deleted before it was uploaded".to_owned(),
        ),
        (ApiError::FileChanged { gone: false, .. }, true) => (
            EventKind::RetryScheduled,
            "the file changed while it was being uploaded: the upload was stopped (Immich kept nothing of it) and the new version is uploaded once it stops changing".to_owned(),
        ),
        (ApiError::FileChanged { gone: false, .. }, false) => (
            EventKind::RetryScheduled,
            "the file changed after it was read: the new version is uploaded once it stops changing".to_owned(),
        ),
        (other, _) => (
            EventKind::Error,
            format!("{other}; it is tried again once the file can be read"),
        ),
    };
    account.emit(Worker::Uploader, kind, |e| e.path(&path).detail(detail));
    if !recheck(account, folder, file).await {
        // Still changing: the watcher records the new version once it settles. Until then
        // the old entry waits with a growing delay, so a file that keeps changing costs a few
        // looks, not a loop.
        let ids = ids.to_vec();
        let next = now_ms() + policy::retry_delay(file.attempts, None).as_millis() as i64;
        account
            .store
            .call(move |db| db.retry_later(&ids, &message, next, true))
            .await?;
    }
    Ok(())
}

/// Puts files back in the queue until they have been stable for a while, without counting an
/// attempt: a file being rewritten is not the server's fault.
async fn defer(account: &Account, ids: &[i64], reason: &str) -> Result<(), StoreError> {
    let ids = ids.to_vec();
    let reason = reason.to_owned();
    let next = now_ms() + account.intervals.stable_after.as_millis().max(500) as i64;
    account
        .store
        .call(move |db| db.retry_later(&ids, &reason, next, false))
        .await
}

/// Looks at a file again after it changed or vanished between hashing and upload. Returns
/// false when it is still changing: nothing is recorded then, and a half-written version is
/// never hashed.
async fn recheck(account: &Arc<Account>, folder: &Arc<Folder>, file: &PendingUpload) -> bool {
    let account = account.clone();
    let folder = folder.clone();
    let rel = file.rel.clone();
    crate::blocking::spawn(move || {
        let path = folder.path_of(&rel);
        let observation = match std::fs::symlink_metadata(&path) {
            Err(_) => Some(Observation::Gone { rel: rel.clone() }),
            Ok(meta) => match local::classify(&folder.filter, &rel, &meta) {
                local::Found::Skip(obs) => Some(obs),
                local::Found::Candidate(stat) => {
                    if !settled(&path, stat, account.intervals.stable_after, &account) {
                        return false;
                    }
                    hash_candidate(&account, &folder, Worker::Uploader, &rel, stat).observation()
                }
            },
        };
        match observation {
            Some(observation) => {
                record(&account, &folder, Worker::Uploader, &[observation], false);
                true
            }
            None => false,
        }
    })
    .await
    .unwrap_or(false)
}
