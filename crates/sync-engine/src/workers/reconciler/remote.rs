//! Immich → local: finding what was deleted in Immich, and what that does to local files.
//!
//! Two ways to look (`immich-api.md` §7.3, §11.4), both with the API key alone:
//! - [`trash_feed`]: `search/metadata` with `trashedAfter`, from the server's own clock minus an
//!   overlap, intersected with the linked assets. One small request per `remote_check_interval`
//!   while nothing happens; it sees trashes, not purges.
//! - [`full_check`]: bulk-upload-check over every linked checksum, each "absent" confirmed with
//!   `GET /assets/{id}` before anything happens. It sees purges, restores and relinks, and
//!   also whether content remembered as deleted was restored in Immich.
//!
//! What they find is recorded first (a tombstone for content deleted by someone else, and the
//! time the file's asset was seen gone); [`judge`] then plans each file once its folder's batch
//! is complete and carries the plan out.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use time::OffsetDateTime;

use super::{GuardItem, ReconcileSummary, guard_holds, holds, store_call, waits_for_the_user};
use crate::account::{Account, FeedPosition, Folder, now_ms};
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::immich::{BULK_CHECK_BATCH, CheckResult};
use crate::local;
use crate::os_trash;
use crate::plan::{self, Action, DeleteFacts, Local, Remote};
use crate::status::FolderState;
use crate::store::{
    Decision, DeleteDirection, FolderId, LinkedFile, NewJournalEntry, RemoteGone, RemoteGoneMark,
    Sighting, SyncedFile,
};

/// The trash feed asks from the last answer's server time minus this, so that a trash made
/// while the previous answer travelled, or a clock step, is not missed.
const FEED_OVERLAP: Duration = Duration::from_secs(120);
/// How far back the very first trash feed looks (the full check at start covers the rest).
const FEED_FIRST_LOOKBACK: Duration = Duration::from_secs(600);
/// How often the feed's position is written to the state file when the feed finds nothing.
/// Reading the feed again from an older position after a restart only finds what was already
/// recorded (every feed overlaps the last), and the full check at start covers the rest; a
/// write every 30 s, on the other hand, made each idle look count a million rows again.
const FEED_SAVE_EVERY: Duration = Duration::from_secs(600);

/// Bulk-upload-checks the full check keeps in flight: while the server answers one, the next
/// is on its way, and the engine reads the page after.
const CHECKS_IN_FLIGHT: usize = 2;

/// Every linked checksum checked with bulk-upload-check; absent ones confirmed by asset id.
///
/// The library streams through in pages of one request each, read from the store just ahead
/// of the answers, so a library of any size is checked in the same memory.
pub async fn full_check(account: &Arc<Account>) -> Result<(), Error> {
    // Assets confirmed gone or alive by id, so that files sharing one are asked about once.
    let mut confirmed: HashMap<String, Remote> = HashMap::new();
    // What changes something, from every page: recorded together once the whole library was
    // checked, so a check that fails halfway records nothing and the delete guard always sees
    // a check's deletes as one batch. Alive files that were never gone are not kept, so this
    // holds what changed, not the library.
    let mut sightings = Vec::new();
    let store = account.store.clone();
    let name = account.name.clone();
    let pages = futures_util::stream::try_unfold(Some(0), move |after| {
        let (store, name) = (store.clone(), name.clone());
        async move {
            let Some(after_id) = after else {
                return Ok(None);
            };
            let page = store
                .call(move |db| db.linked_page(&name, after_id, BULK_CHECK_BATCH))
                .await?;
            let next = match page.last() {
                Some(last) if page.len() == BULK_CHECK_BATCH => Some(last.id),
                Some(_) => None,
                None => return Ok::<_, Error>(None),
            };
            Ok(Some((page, next)))
        }
    });
    let answered = pages
        .map_ok(|page| ask(account.clone(), page))
        .try_buffered(CHECKS_IN_FLIGHT);
    let mut answered = std::pin::pin!(answered);
    while let Some((page, checks)) = answered.try_next().await? {
        sightings.extend(check_page(account, page, checks, &mut confirmed).await?);
    }
    record(account, sightings, &HashMap::new()).await;
    restored_in_immich(account).await
}

/// One page's question: its files sorted by content, each checksum asked once.
async fn ask(
    account: Arc<Account>,
    mut page: Vec<LinkedFile>,
) -> Result<(Vec<LinkedFile>, Vec<CheckResult>), Error> {
    page.sort_unstable_by(|a, b| a.sha1.cmp(&b.sha1));
    let mut items: Vec<(String, String)> = Vec::with_capacity(page.len());
    for file in &page {
        if items.last().is_none_or(|(sha1, _)| *sha1 != file.sha1) {
            items.push((file.sha1.clone(), file.sha1.clone()));
        }
    }
    let checks = account.client.bulk_upload_check(&items).await?;
    Ok((page, checks))
}

/// One page's answers (the page sorted by content, one answer per checksum), each "absent"
/// confirmed by asset id. Returns the files whose state in Immich changes something, read
/// whole.
async fn check_page(
    account: &Arc<Account>,
    page: Vec<LinkedFile>,
    checks: Vec<CheckResult>,
    confirmed: &mut HashMap<String, Remote>,
) -> Result<Vec<(SyncedFile, Remote)>, Error> {
    let mut changed: Vec<(LinkedFile, Remote)> = Vec::new();
    let groups = page.chunk_by(|a, b| a.sha1 == b.sha1);
    if groups.clone().count() != checks.len() {
        return Err(crate::immich::ApiError::Protocol(format!(
            "bulk-upload-check answered {} results for {} checksums",
            checks.len(),
            groups.count()
        ))
        .into());
    }
    for (group, check) in groups.zip(checks) {
        for file in group {
            let remote = match &check {
                CheckResult::Present {
                    asset_id,
                    is_trashed: false,
                } if *asset_id == file.asset_id => Remote::Alive,
                CheckResult::Present {
                    asset_id,
                    is_trashed: false,
                } => Remote::Moved(asset_id.clone()),
                CheckResult::Present {
                    is_trashed: true, ..
                } => Remote::Gone(RemoteGone::Trashed),
                CheckResult::Absent => match confirmed.get(&file.asset_id) {
                    Some(remote) => remote.clone(),
                    None => {
                        // Only a "not found" for the asset itself confirms a purge; an asset
                        // that lives on under another checksum is alive.
                        let remote = match account.client.asset(&file.asset_id).await? {
                            None => Remote::Gone(RemoteGone::Purged),
                            Some(info) if info.is_trashed => Remote::Gone(RemoteGone::Trashed),
                            Some(_) => Remote::Alive,
                        };
                        confirmed.insert(file.asset_id.clone(), remote.clone());
                        remote
                    }
                },
            };
            // Only what changes something is kept: an alive asset matters only when it was
            // seen gone before (restored in Immich).
            if remote != Remote::Alive || file.seen_gone {
                changed.push((file.clone(), remote));
            }
        }
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    // Read whole now; a file that moved on to other content or another asset meanwhile is
    // not what was asked about, and is left alone.
    let ids: Vec<i64> = changed.iter().map(|(f, _)| f.id).collect();
    let mut whole: HashMap<i64, SyncedFile> = account
        .store
        .call(move |db| db.synced_files_by_id(&ids))
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(changed
        .into_iter()
        .filter_map(|(asked, remote)| {
            let file = whole.remove(&asked.id)?;
            (file.asset_id == asked.asset_id && file.sha1 == asked.sha1).then_some((file, remote))
        })
        .collect())
}

/// Assets trashed in Immich since the last look, for the linked ones.
pub async fn trash_feed(account: &Arc<Account>) -> Result<(), Error> {
    let key = format!("trash_feed:{}", account.name);
    let remembered = *account.trash_feed.lock().unwrap_or_else(|p| p.into_inner());
    let since_ms = match remembered {
        Some(position) => position.since_ms,
        None => {
            let stored_key = key.clone();
            account
                .store
                .call(move |db| db.meta(&stored_key))
                .await?
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or_else(|| now_ms() - FEED_FIRST_LOOKBACK.as_millis() as i64)
        }
    };
    let since = OffsetDateTime::from_unix_timestamp_nanos(i128::from(since_ms) * 1_000_000)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let feed = account
        .client
        .trashed_since(&account.server.user_id, since)
        .await?;
    let ids: Vec<String> = feed.assets.iter().map(|a| a.id.clone()).collect();
    // When each was trashed, on this computer's clock: the server's time of the change, moved
    // by the difference between the two clocks at the answer. The guard's batch then closes
    // `delete_grace` after the trash itself, not after the poll that happened to see it.
    let now = now_ms();
    let skew = feed
        .server_time
        .map_or(0, |t| now - (t.unix_timestamp_nanos() / 1_000_000) as i64);
    let when: HashMap<String, i64> = feed
        .assets
        .iter()
        .filter_map(|a| {
            let at = (a.updated_at?.unix_timestamp_nanos() / 1_000_000) as i64 + skew;
            Some((a.id.clone(), at.clamp(since_ms.min(now), now)))
        })
        .collect();
    let found = !ids.is_empty();
    if found {
        let name = account.name.clone();
        let files = account
            .store
            .call(move |db| db.synced_with_assets(&name, &ids))
            .await?;
        let sightings = files
            .into_iter()
            .filter(|f| f.remote_gone.is_none())
            .map(|f| (f, Remote::Gone(RemoteGone::Trashed)))
            .collect();
        record(account, sightings, &when).await;
    }
    let answered = feed.server_time.unwrap_or_else(OffsetDateTime::now_utc);
    let next_ms =
        (answered.unix_timestamp_nanos() / 1_000_000) as i64 - FEED_OVERLAP.as_millis() as i64;
    let saved_at_ms = match remembered {
        Some(position)
            if !found && now - position.saved_at_ms < FEED_SAVE_EVERY.as_millis() as i64 =>
        {
            position.saved_at_ms
        }
        _ => {
            account
                .store
                .call(move |db| db.set_meta(&key, &next_ms.to_string()))
                .await?;
            now
        }
    };
    *account.trash_feed.lock().unwrap_or_else(|p| p.into_inner()) = Some(FeedPosition {
        since_ms: next_ms,
        saved_at_ms,
    });
    Ok(())
}

/// Records what a check found: relinks, restores, and content gone from Immich (a tombstone
/// unless this engine trashed it, and when it left, from `when` by asset id or else now, which
/// starts the guard's batch).
async fn record(
    account: &Arc<Account>,
    sightings: Vec<(SyncedFile, Remote)>,
    when: &HashMap<String, i64>,
) {
    if sightings.is_empty() {
        return;
    }
    let name = account.name.clone();
    let mut relinks = Vec::new();
    let mut back = Vec::new();
    let mut gone = Vec::new();
    for (file, remote) in sightings {
        match remote {
            Remote::Alive | Remote::Unknown => {
                if file.remote_gone.is_some() {
                    back.push(file);
                }
            }
            Remote::Moved(new_id) => relinks.push((file, new_id)),
            Remote::Gone(how) => gone.push((file, how)),
        }
    }
    let now = now_ms();
    let relinked: Vec<(i64, String, String)> = relinks
        .iter()
        .map(|(f, id)| (f.id, f.asset_id.clone(), id.clone()))
        .collect();
    let restored: Vec<(i64, String)> = back.iter().map(|f| (f.id, f.asset_id.clone())).collect();
    let marks: Vec<RemoteGoneMark> = gone
        .iter()
        .map(|(f, how)| RemoteGoneMark {
            file_id: f.id,
            asset_id: f.asset_id.clone(),
            how: *how,
            at_ms: when.get(&f.asset_id).copied().unwrap_or(now),
        })
        .collect();
    // The content itself was deleted in Immich, whatever became of the local file since.
    let stones: Vec<(String, String, RemoteGone, PathBuf)> = gone
        .iter()
        .map(|(f, how)| {
            (
                f.sha1.clone(),
                f.asset_id.clone(),
                *how,
                f.root.join(&f.rel),
            )
        })
        .collect();
    // Each change applies only to a file still linked to the asset it was about (the scan
    // and the uploads run beside the check); what is told is what was changed.
    let changed = store_call(account, "record deletes made in Immich", move |db| {
        let mut changed = std::collections::HashSet::new();
        for (id, old_id, new_id) in &relinked {
            if db.relink(*id, old_id, new_id)? {
                changed.insert(*id);
            }
        }
        for (id, asset_id) in &restored {
            if db.clear_remote_gone_of(*id, asset_id)? {
                db.release_hold(*id, DeleteDirection::ToLocal)?;
                changed.insert(*id);
            }
        }
        let mut sightings = Vec::new();
        for (sha1, asset_id, how, path) in stones {
            if !db.trashed_by_engine(&name, &asset_id)? {
                sightings.push(Sighting {
                    sha1,
                    asset_id: Some(asset_id),
                    how,
                    path: Some(path),
                });
            }
        }
        db.add_tombstones(&name, &sightings, now)?;
        changed.extend(db.mark_remote_gone(&marks)?);
        Ok(changed)
    })
    .await
    .unwrap_or_default();
    for (file, new_id) in relinks.iter().filter(|(f, _)| changed.contains(&f.id)) {
        let path = path_of(account, file);
        account.emit(Worker::Reconciler, EventKind::Linked, |e| {
            e.path(&path)
                .asset(new_id)
                .detail("the content now belongs to another asset: relinked")
        });
    }
    for file in back.iter().filter(|f| changed.contains(&f.id)) {
        let path = path_of(account, file);
        account.emit(Worker::Reconciler, EventKind::RestoredInImmich, |e| {
            e.path(&path)
                .asset(&file.asset_id)
                .detail("restored in Immich: the file stays and is in sync again")
        });
    }
    let newly_gone = gone
        .iter()
        .filter(|(f, _)| f.remote_gone.is_none() && changed.contains(&f.id));
    for (file, how) in newly_gone {
        let path = path_of(account, file);
        let what = match how {
            RemoteGone::Trashed => "moved to the Immich trash",
            RemoteGone::Purged => "deleted from Immich",
        };
        account.emit(Worker::Reconciler, EventKind::RemoteDeleted, |e| {
            e.path(&path)
                .asset(&file.asset_id)
                .detail(format!("the asset was {what}"))
        });
    }
    account.wake_reconciler.notify_one();
}

/// Content remembered as deleted in Immich that is there again (restored from the Immich
/// trash, or uploaded anew by another device): its tombstone ends, kept files are linked again,
/// and in mirror folders files this engine moved to the OS trash come back.
async fn restored_in_immich(account: &Arc<Account>) -> Result<(), Error> {
    let name = account.name.clone();
    let stones = account
        .store
        .call(move |db| db.tombstones(Some(&name)))
        .await?;
    let standing: Vec<_> = stones.into_iter().filter(|t| !t.forgiven).collect();
    if standing.is_empty() {
        return Ok(());
    }
    let items: Vec<(String, String)> = standing
        .iter()
        .map(|t| (t.sha1.clone(), t.sha1.clone()))
        .collect();
    let checks = account.client.bulk_upload_check(&items).await?;
    for (stone, check) in standing.into_iter().zip(checks) {
        let CheckResult::Present {
            asset_id,
            is_trashed: false,
        } = check
        else {
            continue;
        };
        let name = account.name.clone();
        let sha1 = stone.sha1.clone();
        let asset = asset_id.clone();
        let Some(trashed_here) = store_call(account, "end a tombstone", move |db| {
            db.end_tombstone(&name, &sha1, &asset)?;
            let mut entries = db.trashed_locally(&name, &sha1)?;
            // A live photo's video went to the trash with its still: it comes back with it.
            if let Some(video) = db.live_video_of(&name, &asset)? {
                entries.extend(db.trashed_locally_of_asset(&name, &video)?);
            }
            Ok(entries)
        })
        .await
        else {
            continue;
        };
        account.emit(Worker::Reconciler, EventKind::RestoredInImmich, |e| {
            let e = e
                .asset(&asset_id)
                .detail("restored in Immich: no longer remembered as deleted, and synced again");
            match &stone.path {
                Some(p) => e.path(std::path::Path::new(p)),
                None => e,
            }
        });
        for entry in trashed_here {
            let mirrors = account.folders.iter().any(|f| {
                entry.path.starts_with(&f.root)
                    && f.policy.mode == crate::config::DeleteMode::Mirror
            });
            if mirrors && !account.dry_run {
                crate::undo::undo_local(account, &entry).await;
            }
        }
    }
    account.rescan.notify_one();
    Ok(())
}

/// Plans the files whose asset was seen gone from Immich, folder by folder once the folder's
/// batch is complete, and carries the plan out.
pub async fn judge(account: &Arc<Account>) -> ReconcileSummary {
    let mut summary = ReconcileSummary::default();
    let name = account.name.clone();
    let Some(rows) = store_call(account, "read deletes made in Immich", move |db| {
        db.remote_gone_files(&name)
    })
    .await
    else {
        summary.errors += 1;
        return summary;
    };
    if rows.is_empty() {
        return summary;
    }
    let (rows, motion_of) = with_motion_videos(account, rows).await;
    let decisions: HashMap<i64, Decision> = holds(account, DeleteDirection::ToLocal)
        .await
        .into_iter()
        .filter(|h| h.replaced_id.is_none())
        .map(|h| (h.file_id, h.decision))
        .collect();
    let mut by_folder: BTreeMap<FolderId, Vec<SyncedFile>> = BTreeMap::new();
    for row in rows {
        by_folder.entry(row.folder).or_default().push(row);
    }
    let now = now_ms();
    for (folder_id, rows) in by_folder {
        let Some(folder) = account.folder(folder_id).cloned() else {
            continue;
        };
        if folder.state() != FolderState::Active {
            continue;
        }
        let undecided: Vec<i64> = rows
            .iter()
            .filter(|r| !decisions.contains_key(&r.id))
            .filter_map(|r| r.remote_gone.map(|(at, _)| at))
            .collect();
        let batch_open = summary.batch_open(&undecided, account.delete_guard.grace, now);
        let ready: Vec<SyncedFile> = rows
            .into_iter()
            .filter(|r| decisions.contains_key(&r.id) || !batch_open)
            .filter(|r| !waits_for_the_user(decisions.get(&r.id).copied(), &folder, &r.rel))
            .collect();
        let locals = local_facts(&folder, &ready).await;
        let mut to_guard = Vec::new();
        for (file, local) in ready.into_iter().zip(locals) {
            let Some((gone_at, how)) = file.remote_gone else {
                continue;
            };
            if let Some(pattern) = folder.filter.excluded_by_pattern(&file.rel) {
                let path = folder.path_of(&file.rel);
                let reason = format!(
                    "kept: the pattern `{pattern}` excludes it, and excluded files are no longer synced either way"
                );
                keep_local(account, &file, &path, reason, &mut summary).await;
                continue;
            }
            let name = account.name.clone();
            let asset = file.asset_id.clone();
            let by_engine = store_call(account, "read the journal", move |db| {
                db.trashed_by_engine(&name, &asset)
            })
            .await
            .unwrap_or(false);
            let planned = plan::plan_delete(&DeleteFacts {
                local,
                remote: Remote::Gone(how),
                policy: &folder.policy,
                born_ms: file.born_at,
                deleted_ms: gone_at,
                shared: false,
                decision: decisions.get(&file.id).copied(),
                trashed_by_engine: by_engine,
            });
            let path = folder.path_of(&file.rel);
            match planned.action {
                Action::MoveToOsTrash { confirmed: true } => {
                    let still = motion_of.get(&file.id).cloned();
                    move_to_os_trash(
                        account,
                        &folder,
                        file,
                        &path,
                        &mut summary,
                        still.as_deref(),
                    )
                    .await
                }
                Action::MoveToOsTrash { confirmed: false } => to_guard.push((file, path)),
                Action::KeepLocal(reason) => {
                    keep_local(account, &file, &path, reason, &mut summary).await
                }
                Action::Forget => {
                    let id = file.id;
                    store_call(account, "forget a file deleted on both sides", move |db| {
                        db.forget(&[id])
                    })
                    .await;
                }
                Action::RestoreInImmich => restore(account, &file, &path).await,
                Action::Wait => {}
                _ => {
                    let id = file.id;
                    store_call(account, "record a photo back in Immich", move |db| {
                        db.clear_remote_gone(id)
                    })
                    .await;
                }
            }
        }
        let items: Vec<GuardItem> = to_guard
            .iter()
            .map(|(f, _)| GuardItem {
                file_id: f.id,
                replaced_id: None,
            })
            .collect();
        if guard_holds(account, folder_id, DeleteDirection::ToLocal, &items).await {
            summary.held += to_guard.len() as u64;
            continue;
        }
        for (file, path) in to_guard {
            {
                let still = motion_of.get(&file.id).cloned();
                move_to_os_trash(
                    account,
                    &folder,
                    file,
                    &path,
                    &mut summary,
                    still.as_deref(),
                )
                .await
            };
        }
    }
    summary
}

/// Whether each file still holds the content that was uploaded. Blocking work (stat, hash) on
/// a blocking thread.
async fn local_facts(folder: &Arc<Folder>, files: &[SyncedFile]) -> Vec<Local> {
    let checks: Vec<(PathBuf, crate::store::Stat, String)> = files
        .iter()
        .map(|f| (folder.path_of(&f.rel), f.stat, f.sha1.clone()))
        .collect();
    let n = checks.len();
    crate::blocking::spawn(move || {
        checks
            .into_iter()
            .map(|(path, expected, sha1)| {
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    return Local::Gone;
                };
                let stat = local::stat_of(&meta);
                if stat != expected {
                    return Local::Changed;
                }
                match local::hash_stable(&path, stat) {
                    Ok(hash) if hash == sha1 => Local::Present,
                    _ => Local::Changed,
                }
            })
            .collect()
    })
    .await
    // A failed check must never look like "unchanged": keep the files.
    .unwrap_or_else(|_| vec![Local::Changed; n])
}

fn path_of(account: &Account, file: &SyncedFile) -> PathBuf {
    account
        .folder(file.folder)
        .map(|f| f.path_of(&file.rel))
        .unwrap_or_else(|| file.root.join(&file.rel))
}

async fn keep_local(
    account: &Account,
    file: &SyncedFile,
    path: &std::path::Path,
    reason: String,
    summary: &mut ReconcileSummary,
) {
    let id = file.id;
    let detail = reason.clone();
    store_call(account, "record a kept file", move |db| {
        db.mark_tombstoned(&[id], None, &detail)?;
        db.release_hold(id, DeleteDirection::ToLocal)
    })
    .await;
    account.emit(Worker::Reconciler, EventKind::KeptLocal, |e| {
        e.path(path).asset(&file.asset_id).detail(reason)
    });
    summary.kept_local += 1;
}

/// This engine trashed the asset after a local delete, and the file is back: out of the trash.
async fn restore(account: &Account, file: &SyncedFile, path: &std::path::Path) {
    if account.dry_run {
        account.emit(Worker::Reconciler, EventKind::WouldDo, |e| {
            e.path(path)
                .asset(&file.asset_id)
                .detail("would restore this asset from the Immich trash")
        });
        return;
    }
    match account
        .client
        .restore_from_trash(std::slice::from_ref(&file.asset_id))
        .await
    {
        Ok(()) => {
            let (id, name, asset) = (file.id, account.name.clone(), file.asset_id.clone());
            store_call(account, "record a restore", move |db| {
                db.clear_remote_gone(id)?;
                db.close_engine_trash(&name, &asset, now_ms())
            })
            .await;
            account.emit(Worker::Reconciler, EventKind::RestoredInImmich, |e| {
                e.path(path).asset(&file.asset_id).detail(
                    "the file is in a synced folder again, so its asset left the Immich trash",
                )
            });
        }
        Err(error) => account.emit(Worker::Reconciler, EventKind::Error, |e| {
            e.path(path).asset(&file.asset_id).detail(format!(
                "cannot restore the asset from the Immich trash: {error}"
            ))
        }),
    }
}

/// The files whose asset left Immich, and with each live photo's still its motion video
/// beside it (same folder, same name): Immich leaves a trashed still's video as it is, but the
/// two were one photo here. The videos are then judged like any file deleted in Immich — their
/// folder's policy, the guard, the check that the file is still what was uploaded — and the
/// map names each one's still.
async fn with_motion_videos(
    account: &Arc<Account>,
    rows: Vec<SyncedFile>,
) -> (Vec<SyncedFile>, HashMap<i64, String>) {
    let name = account.name.clone();
    let stills: Vec<SyncedFile> = rows.clone();
    let found = store_call(account, "find live photos' videos", move |db| {
        let mut out = Vec::new();
        for SyncedFile {
            asset_id: asset,
            remote_gone: gone,
            folder,
            rel,
            ..
        } in stills
        {
            let Some(video) = db.live_video_of(&name, &asset)? else {
                continue;
            };
            for mut file in db.synced_with_assets(&name, std::slice::from_ref(&video))? {
                let beside = file.folder == folder
                    && file.rel.parent() == rel.parent()
                    && file.rel.file_stem() == rel.file_stem();
                if beside {
                    file.remote_gone = file.remote_gone.or(gone);
                    let still = rel
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    out.push((file, still));
                }
            }
        }
        Ok(out)
    })
    .await
    .unwrap_or_default();
    let mut rows = rows;
    let mut motion_of = HashMap::new();
    for (file, still) in found {
        if rows.iter().any(|r| r.id == file.id) {
            continue;
        }
        motion_of.insert(file.id, still);
        rows.push(file);
    }
    (rows, motion_of)
}

/// Moves the file to the OS trash (never an unlink) and journals where it went. `still_of`
/// names the still whose delete in Immich takes this motion video along: its own asset is not
/// asked about then (Immich leaves a trashed still's video as it is).
async fn move_to_os_trash(
    account: &Arc<Account>,
    folder: &Folder,
    file: SyncedFile,
    path: &std::path::Path,
    summary: &mut ReconcileSummary,
    still_of: Option<&str>,
) {
    if account.dry_run {
        account.emit(Worker::Reconciler, EventKind::WouldDo, |e| {
            e.path(path)
                .asset(&file.asset_id)
                .detail("would move this file to the OS trash")
        });
        return;
    }
    // Asked again just before: a photo restored in Immich while its delete waited (for its
    // batch, or for the user) keeps its file.
    let checked = match still_of {
        Some(_) => Ok(None),
        None => account.client.asset(&file.asset_id).await,
    };
    match checked {
        Ok(Some(info)) if !info.is_trashed => {
            let (id, name, asset) = (file.id, account.name.clone(), file.asset_id.clone());
            let sha1 = file.sha1.clone();
            store_call(account, "record a photo back in Immich", move |db| {
                db.clear_remote_gone(id)?;
                db.release_hold(id, DeleteDirection::ToLocal)?;
                db.end_tombstone(&name, &sha1, &asset)
            })
            .await;
            account.emit(Worker::Reconciler, EventKind::RestoredInImmich, |e| {
                e.path(path)
                    .asset(&file.asset_id)
                    .detail("restored in Immich before its file was moved: the file stays")
            });
            return;
        }
        Ok(_) => {}
        Err(error) => {
            summary.errors += 1;
            account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.path(path).asset(&file.asset_id).detail(format!(
                    "cannot check this photo in Immich before moving its file to the trash ({error}); it is looked at again later"
                ))
            });
            return;
        }
    }
    // The intent first: the journal entry, and the file no longer tracked, so that the watcher
    // seeing it leave takes it for the engine's move, not for a delete by the user. A crash
    // before the move leaves the file in place, found again by the next scan and kept as
    // deleted in Immich.
    let reason = match still_of {
        Some(still) => format!(
            "the motion part of the live photo {still}, deleted in Immich: moved to the {} (recoverable there)",
            os_trash::name()
        ),
        None => format!(
            "deleted in Immich: moved to the {} (recoverable there)",
            os_trash::name()
        ),
    };
    let entry = NewJournalEntry {
        direction: DeleteDirection::ToLocal,
        path: path.to_owned(),
        asset_id: Some(file.asset_id.clone()),
        sha1: Some(file.sha1.clone()),
        trash_id: None,
        reason: reason.clone(),
    };
    let (file_id, name) = (file.id, account.name.clone());
    let Some(journal_id) = store_call(account, "journal a delete", move |db| {
        db.journal_intent(&name, &entry, file_id, now_ms())
    })
    .await
    else {
        summary.errors += 1;
        return;
    };
    let trash_path = path.to_owned();
    let result = crate::blocking::spawn(move || os_trash::move_to_trash(&trash_path))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match result {
        Ok(trash_id) => {
            let folder_id = folder.id;
            store_call(account, "journal a file moved to the trash", move |db| {
                db.journal_done(journal_id, trash_id.as_deref())?;
                db.record_deletes(folder_id, DeleteDirection::ToLocal, 1, now_ms())
            })
            .await;
            account.emit(Worker::Reconciler, EventKind::MovedToTrash, |e| {
                e.path(path).asset(&file.asset_id).detail(reason)
            });
            summary.moved_to_trash += 1;
        }
        Err(error) => {
            summary.errors += 1;
            store_call(account, "drop a delete that failed", move |db| {
                db.journal_drop(journal_id)
            })
            .await;
            // The file is looked at again: it stays, kept as deleted in Immich.
            account.rescan.notify_one();
            account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.path(path).asset(&file.asset_id).detail(format!(
                    "deleted in Immich, but the file could not be moved to the trash ({error}); it was left in place"
                ))
            });
        }
    }
}
