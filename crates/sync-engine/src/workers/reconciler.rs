//! The reconciler: makes both sides agree on deletions, within each folder's policy.
//!
//! Local → Immich: a synced file that is gone from a folder that is present is decided by
//! [`policy::local_delete`]; allowed ones go to the Immich **trash** (never a forced delete), in
//! batches, and only if no other local file still uses the asset.
//!
//! Immich → local (§11.4 of the API notes): every linked checksum is checked with
//! bulk-upload-check in batches; an asset reported trashed is a remote delete, an absent one is
//! confirmed gone with `GET /assets/{id}` before anything happens. The local file then goes to
//! the **OS trash**, and only if its content still hashes to what was uploaded.
//!
//! The mass-delete guard sits in front of both directions: a local delete waits a grace period,
//! then the deletes of a folder are evaluated as one batch; a batch that, with the deletes of
//! the last hour, exceeds the limits is *held* — nothing is deleted on either side until the
//! user approves or rejects it (`immich-syncd deletions …`, or the tray app).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::account::{Account, now_ms};
use crate::events::{EventKind, Worker};
use crate::immich::{ApiError, CheckResult};
use crate::local;
use crate::policy::{self, LocalDeleteDecision, RemoteDeleteDecision};
use crate::status::FolderState;
use crate::store::{Decision, DeleteDirection, FolderId, HeldDelete, MissingFile, SyncedFile};

use super::uploader::report_account_problem;

/// What one reconciliation did.
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
    /// Errors.
    pub errors: u64,
    /// When the next local delete leaves its grace period (unix ms).
    pub next_due_ms: Option<i64>,
}

/// The guard's window: deletes carried out within it count towards the limits.
const GUARD_WINDOW_MS: i64 = 3_600_000;
/// How often decisions on held deletes are looked for (they come from another process).
const DECISION_CHECK: std::time::Duration = std::time::Duration::from_secs(15);

/// Runs until cancelled: local deletes whenever woken and when their grace period ends, the
/// remote check on its schedule, and a look for decisions while deletes are held.
pub async fn run(account: Arc<Account>) {
    let mut next_remote = tokio::time::Instant::now();
    let mut failures = 0;
    loop {
        if !account.wait_unpaused().await {
            return;
        }
        let local = local_deletes(&account).await;
        let mut held = local.held;
        if tokio::time::Instant::now() >= next_remote || has_decisions(&account).await {
            let wait = match remote_deletes(&account).await {
                Ok(summary) => {
                    failures = 0;
                    held += summary.held;
                    account.intervals.reconcile
                }
                Err(error) => {
                    report_account_problem(&account, &error);
                    failures += 1;
                    // A failed check is retried soon (with backoff), not at the next schedule.
                    policy::retry_delay(failures - 1, error.retry_after())
                        .min(account.intervals.reconcile)
                }
            };
            next_remote = tokio::time::Instant::now() + wait;
        }
        let any_holds = show_held(&account).await;
        account.refresh_counts().await;
        let mut next_local = local.next_due_ms.map(|at| {
            tokio::time::Instant::now()
                + std::time::Duration::from_millis((at - now_ms()).max(0) as u64)
        });
        if held > 0 || any_holds {
            let check = tokio::time::Instant::now() + DECISION_CHECK;
            next_local = Some(next_local.map_or(check, |t| t.min(check)));
        }
        let next_local = next_local.unwrap_or(next_remote);
        tokio::select! {
            _ = account.cancel.cancelled() => return,
            _ = account.wake_reconciler.notified() => {
                // Let a burst of deletes (a folder removed) arrive before deciding.
                tokio::time::sleep(account.intervals.stable_after).await;
            }
            _ = tokio::time::sleep_until(next_remote) => {}
            _ = tokio::time::sleep_until(next_local) => {}
        }
    }
}

async fn holds(account: &Account, direction: DeleteDirection) -> HashMap<i64, HeldDelete> {
    let name = account.name.clone();
    account
        .store
        .call(move |db| db.held_deletes(Some(&name)))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.direction == direction)
        .map(|h| (h.file_id, h))
        .collect()
}

async fn has_decisions(account: &Account) -> bool {
    let name = account.name.clone();
    account
        .store
        .call(move |db| db.held_deletes(Some(&name)))
        .await
        .is_ok_and(|h| {
            h.iter()
                .any(|h| h.direction == DeleteDirection::ToLocal && h.decision != Decision::Waiting)
        })
}

/// Shows the number of held deletes per folder in the status; returns whether any hold is
/// still in the store (waiting, or decided and not yet carried out).
pub async fn show_held(account: &Account) -> bool {
    let name = account.name.clone();
    let Ok(held) = account
        .store
        .call(move |db| db.held_deletes(Some(&name)))
        .await
    else {
        return false;
    };
    for folder in &account.folders {
        let waiting = held
            .iter()
            .filter(|h| {
                h.decision == Decision::Waiting && std::path::Path::new(&h.folder) == folder.root
            })
            .count() as u64;
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
    !held.is_empty()
}

/// Decides and carries out the local deletes waiting in the store.
pub async fn local_deletes(account: &Arc<Account>) -> ReconcileSummary {
    let mut summary = ReconcileSummary::default();
    let name = account.name.clone();
    let missing = match account.store.call(move |db| db.missing_files(&name)).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("cannot read missing files: {e}");
            summary.errors += 1;
            return summary;
        }
    };
    let held = holds(account, DeleteDirection::ToImmich).await;
    let now = now_ms();
    let grace_ms = account.delete_guard.grace.as_millis() as i64;
    let mut candidates: BTreeMap<FolderId, Vec<MissingFile>> = BTreeMap::new();
    let mut approved: Vec<MissingFile> = Vec::new();
    let mut forget = Vec::new();
    for file in missing {
        let Some(folder) = account.folder(file.folder).cloned() else {
            continue;
        };
        // A folder that is not there is not "everything deleted".
        if folder.state() != FolderState::Active
            || super::scanner::check_root(&folder.root).is_err()
            || crate::volume::check(
                recorded_volume(account, &folder).await,
                crate::volume::volume_id(&folder.root),
            )
            .is_err()
        {
            continue;
        }
        let path = folder.path_of(&file.rel);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue; // back again; the next scan or event restores the row
        }
        match held.get(&file.id).map(|h| h.decision) {
            Some(Decision::Waiting) => continue,
            Some(Decision::Approved) => {
                approved.push(file);
                continue;
            }
            Some(Decision::Rejected) => {
                account.emit(Worker::Reconciler, EventKind::KeptInImmich, |e| {
                    e.path(&path)
                        .asset(&file.asset_id)
                        .detail("you chose to keep it in Immich")
                });
                forget.push(file.id);
                summary.kept_in_immich += 1;
                continue;
            }
            None => {}
        }
        let due = file.missing_since + grace_ms;
        if due > now {
            summary.next_due_ms = Some(summary.next_due_ms.map_or(due, |d: i64| d.min(due)));
            continue;
        }
        let asset = file.asset_id.clone();
        let name = account.name.clone();
        let refs = account
            .store
            .call(move |db| db.live_references(&name, &asset))
            .await
            .unwrap_or(1);
        if refs > 0 {
            account.emit(Worker::Reconciler, EventKind::KeptInImmich, |e| {
                e.path(&path)
                    .asset(&file.asset_id)
                    .detail("another synced file has the same content: the asset stays")
            });
            forget.push(file.id);
            summary.kept_in_immich += 1;
            continue;
        }
        match policy::local_delete(&folder.policy, file.first_seen_at, file.missing_since) {
            LocalDeleteDecision::TrashInImmich => {
                candidates.entry(file.folder).or_default().push(file)
            }
            LocalDeleteDecision::Keep(reason) => {
                account.emit(Worker::Reconciler, EventKind::KeptInImmich, |e| {
                    e.path(&path).asset(&file.asset_id).detail(reason)
                });
                forget.push(file.id);
                summary.kept_in_immich += 1;
            }
        }
    }
    forget_rows(account, forget).await;
    let mut to_trash = approved;
    for (folder, batch) in candidates {
        if guard_holds(
            account,
            folder,
            DeleteDirection::ToImmich,
            &batch
                .iter()
                .map(|f| (f.id, folder_path(account, f)))
                .collect::<Vec<_>>(),
        )
        .await
        {
            summary.held += batch.len() as u64;
        } else {
            to_trash.extend(batch);
        }
    }
    if to_trash.is_empty() {
        return summary;
    }
    trash_in_immich(account, to_trash, &mut summary).await;
    summary
}

async fn recorded_volume(account: &Account, folder: &crate::account::Folder) -> Option<u64> {
    let id = folder.id;
    account
        .store
        .call(move |db| db.root_volume(id, None))
        .await
        .ok()
        .flatten()
}

/// Applies the mass-delete guard to one folder's batch; returns true if it was held.
async fn guard_holds(
    account: &Account,
    folder: FolderId,
    direction: DeleteDirection,
    batch: &[(i64, std::path::PathBuf)],
) -> bool {
    let since = now_ms() - GUARD_WINDOW_MS;
    let counts = account
        .store
        .call(move |db| {
            Ok((
                db.recent_deletes(folder, direction, since)?,
                db.tracked_files(folder)?,
            ))
        })
        .await;
    let Ok((recent, tracked)) = counts else {
        return true;
    };
    if !policy::is_mass_delete(&account.delete_guard, batch.len() as u64, recent, tracked) {
        return false;
    }
    let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    if let Err(e) = account
        .store
        .call(move |db| db.hold(&ids, direction, now_ms()))
        .await
    {
        tracing::error!("cannot record held deletes: {e}");
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

/// Moves the assets of `files` to the Immich trash, in batches; records what was done.
async fn trash_in_immich(
    account: &Arc<Account>,
    files: Vec<MissingFile>,
    summary: &mut ReconcileSummary,
) {
    // Several missing rows may share an asset (identical copies all deleted).
    let mut by_asset: BTreeMap<String, Vec<MissingFile>> = BTreeMap::new();
    for file in files {
        by_asset
            .entry(file.asset_id.clone())
            .or_default()
            .push(file);
    }
    let ids: Vec<String> = by_asset.keys().cloned().collect();
    if account.dry_run {
        for (asset, files) in &by_asset {
            for f in files {
                let path = folder_path(account, f);
                account.emit(Worker::Reconciler, EventKind::WouldDo, |e| {
                    e.path(&path)
                        .asset(asset)
                        .detail("would move this asset to the Immich trash (deleted locally)")
                });
            }
        }
        return;
    }
    let trashed = match account.client.trash_assets(&ids).await {
        Ok(()) => ids,
        Err(ApiError::NotFound { .. }) => trash_one_by_one(account, &ids).await,
        Err(error) => {
            summary.errors += 1;
            account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.detail(format!(
                    "cannot move deleted photos to the Immich trash yet: {error}"
                ))
            });
            return;
        }
    };
    let mut done = Vec::new();
    let mut per_folder: BTreeMap<FolderId, usize> = BTreeMap::new();
    for asset in &trashed {
        for f in by_asset.get(asset).into_iter().flatten() {
            let path = folder_path(account, f);
            account.emit(Worker::Reconciler, EventKind::DeletedInImmich, |e| {
                e.path(&path).asset(asset).detail(
                    "deleted here within the delete threshold: moved to the Immich trash (recoverable there)",
                )
            });
            done.push(f.id);
            *per_folder.entry(f.folder).or_default() += 1;
            summary.trashed_in_immich += 1;
        }
    }
    let now = now_ms();
    let _ = account
        .store
        .call(move |db| {
            for (folder, n) in per_folder {
                db.record_deletes(folder, DeleteDirection::ToImmich, n, now)?;
            }
            Ok(())
        })
        .await;
    forget_rows(account, done).await;
}

/// After Immich rejected a batch (all-or-nothing 400), find the ids that still exist and
/// trash those; ids that are already gone need nothing.
async fn trash_one_by_one(account: &Account, ids: &[String]) -> Vec<String> {
    let mut done = Vec::new();
    for id in ids {
        match account.client.asset(id).await {
            Ok(None) => done.push(id.clone()),
            Ok(Some(_)) => {
                if account
                    .client
                    .trash_assets(std::slice::from_ref(id))
                    .await
                    .is_ok()
                {
                    done.push(id.clone());
                }
            }
            Err(error) => account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.asset(id)
                    .detail(format!("cannot check this asset: {error}"))
            }),
        }
    }
    done
}

fn folder_path(account: &Account, file: &MissingFile) -> std::path::PathBuf {
    account
        .folder(file.folder)
        .map(|f| f.path_of(&file.rel))
        .unwrap_or_else(|| file.rel.clone())
}

async fn forget_rows(account: &Account, ids: Vec<i64>) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = account.store.call(move |db| db.forget(&ids)).await {
        tracing::error!("cannot update the state database: {e}");
    }
}

/// What the server says about one linked file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RemoteFate {
    Alive,
    Moved(String),
    Trashed,
    Gone,
}

/// Finds assets deleted or trashed in Immich and applies the folder policy to their files.
pub async fn remote_deletes(account: &Arc<Account>) -> Result<ReconcileSummary, ApiError> {
    let mut summary = ReconcileSummary::default();
    let name = account.name.clone();
    let synced = account
        .store
        .call(move |db| db.synced_files(&name))
        .await
        .map_err(|e| ApiError::Protocol(format!("state database: {e}")))?;
    if synced.is_empty() {
        return Ok(summary);
    }
    let mut by_sha: BTreeMap<String, Vec<SyncedFile>> = BTreeMap::new();
    for file in synced {
        by_sha.entry(file.sha1.clone()).or_default().push(file);
    }
    let items: Vec<(String, String)> = by_sha.keys().map(|s| (s.clone(), s.clone())).collect();
    let checks = account.client.bulk_upload_check(&items).await?;
    let held = holds(account, DeleteDirection::ToLocal).await;
    let mut candidates: BTreeMap<FolderId, Vec<(SyncedFile, std::path::PathBuf)>> = BTreeMap::new();
    let mut confirmed: HashMap<String, bool> = HashMap::new();
    for ((_, files), check) in by_sha.into_iter().zip(checks) {
        for file in files {
            let fate = match &check {
                CheckResult::Present {
                    asset_id,
                    is_trashed: false,
                } if *asset_id == file.asset_id => RemoteFate::Alive,
                CheckResult::Present {
                    asset_id,
                    is_trashed: false,
                } => RemoteFate::Moved(asset_id.clone()),
                CheckResult::Present {
                    is_trashed: true, ..
                } => RemoteFate::Trashed,
                CheckResult::Absent => {
                    let gone = match confirmed.get(&file.asset_id) {
                        Some(gone) => *gone,
                        None => {
                            let gone = account.client.asset(&file.asset_id).await?.is_none();
                            confirmed.insert(file.asset_id.clone(), gone);
                            gone
                        }
                    };
                    if gone {
                        RemoteFate::Gone
                    } else {
                        RemoteFate::Alive
                    }
                }
            };
            let decision = held.get(&file.id).map(|h| h.decision);
            let deleted = matches!(fate, RemoteFate::Trashed | RemoteFate::Gone);
            match (decision, deleted) {
                // Restored in Immich meanwhile: nothing to decide any more.
                (Some(_), false) => release(account, file.id).await,
                (Some(Decision::Waiting), true) => continue,
                (Some(Decision::Approved), true) => {
                    let path = folder_path_of(account, &file);
                    move_to_trash(account, file, &path, &mut summary).await;
                    continue;
                }
                (Some(Decision::Rejected), true) => {
                    let path = folder_path_of(account, &file);
                    let id = file.id;
                    keep_local(
                        account,
                        &file,
                        &path,
                        "you chose to keep it on this computer".into(),
                        &mut summary,
                    )
                    .await;
                    release(account, id).await;
                    continue;
                }
                (None, _) => {}
            }
            if let Some((file, path)) = apply_fate(account, file, fate, &mut summary).await {
                candidates
                    .entry(file.folder)
                    .or_default()
                    .push((file, path));
            }
        }
    }
    for (folder, batch) in candidates {
        let ids: Vec<(i64, std::path::PathBuf)> =
            batch.iter().map(|(f, p)| (f.id, p.clone())).collect();
        if guard_holds(account, folder, DeleteDirection::ToLocal, &ids).await {
            summary.held += batch.len() as u64;
            continue;
        }
        for (file, path) in batch {
            move_to_trash(account, file, &path, &mut summary).await;
        }
    }
    Ok(summary)
}

fn folder_path_of(account: &Account, file: &SyncedFile) -> std::path::PathBuf {
    account
        .folder(file.folder)
        .map(|f| f.path_of(&file.rel))
        .unwrap_or_else(|| file.root.join(&file.rel))
}

async fn release(account: &Account, file_id: i64) {
    if let Err(e) = account.store.call(move |db| db.release_hold(file_id)).await {
        tracing::warn!("cannot release a held delete: {e}");
    }
}

/// Carries out what needs no confirmation; returns the file when it should move to the OS
/// trash (the guard decides when).
async fn apply_fate(
    account: &Arc<Account>,
    file: SyncedFile,
    fate: RemoteFate,
    summary: &mut ReconcileSummary,
) -> Option<(SyncedFile, std::path::PathBuf)> {
    let folder = account.folder(file.folder).cloned()?;
    let path = folder.path_of(&file.rel);
    match fate {
        RemoteFate::Alive => None,
        RemoteFate::Moved(new_id) => {
            let id = file.id;
            let new = new_id.clone();
            let _ = account.store.call(move |db| db.relink(id, &new)).await;
            account.emit(Worker::Reconciler, EventKind::Linked, |e| {
                e.path(&path)
                    .asset(&new_id)
                    .detail("the content now belongs to another asset: relinked")
            });
            None
        }
        RemoteFate::Trashed | RemoteFate::Gone => {
            let what = if fate == RemoteFate::Trashed {
                "moved to the Immich trash"
            } else {
                "deleted from Immich"
            };
            account.emit(Worker::Reconciler, EventKind::RemoteDeleted, |e| {
                e.path(&path)
                    .asset(&file.asset_id)
                    .detail(format!("the asset was {what}"))
            });
            if folder.state() != FolderState::Active {
                return None;
            }
            match policy::remote_delete(&folder.policy) {
                RemoteDeleteDecision::Keep(reason) => {
                    keep_local(account, &file, &path, reason, summary).await;
                    None
                }
                RemoteDeleteDecision::MoveToTrash => Some((file, path)),
            }
        }
    }
}

async fn keep_local(
    account: &Account,
    file: &SyncedFile,
    path: &std::path::Path,
    reason: String,
    summary: &mut ReconcileSummary,
) {
    let id = file.id;
    let _ = account
        .store
        .call(move |db| db.mark_remote_deleted(&[id]))
        .await;
    account.emit(Worker::Reconciler, EventKind::KeptLocal, |e| {
        e.path(path).asset(&file.asset_id).detail(reason)
    });
    summary.kept_local += 1;
}

/// Moves the file to the OS trash only if it still holds the uploaded content.
async fn move_to_trash(
    account: &Arc<Account>,
    file: SyncedFile,
    path: &std::path::Path,
    summary: &mut ReconcileSummary,
) {
    let check_path = path.to_owned();
    let expected = file.stat;
    let sha = file.sha1.clone();
    let unchanged = tokio::task::spawn_blocking(move || {
        let Ok(meta) = std::fs::symlink_metadata(&check_path) else {
            return Err("the file is already gone".to_owned());
        };
        let stat = local::stat_of(&meta);
        if stat != expected {
            return Err("the file changed since it was uploaded".to_owned());
        }
        match local::hash_stable(&check_path, stat) {
            Ok(hash) if hash == sha => Ok(()),
            Ok(_) => Err("the file's content differs from what was uploaded".to_owned()),
            Err(e) => Err(format!("the file cannot be verified ({e})")),
        }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    if let Err(reason) = unchanged {
        if reason == "the file is already gone" {
            let id = file.id;
            let _ = account.store.call(move |db| db.forget(&[id])).await;
            return;
        }
        keep_local(account, &file, path, format!("kept: {reason}"), summary).await;
        return;
    }
    if account.dry_run {
        account.emit(Worker::Reconciler, EventKind::WouldDo, |e| {
            e.path(path)
                .asset(&file.asset_id)
                .detail("would move this file to the OS trash")
        });
        return;
    }
    let trash_path = path.to_owned();
    let result = tokio::task::spawn_blocking(move || trash::delete(&trash_path))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match result {
        Ok(()) => {
            let id = file.id;
            let folder = file.folder;
            let now = now_ms();
            let _ = account
                .store
                .call(move |db| {
                    db.record_deletes(folder, DeleteDirection::ToLocal, 1, now)?;
                    db.forget(&[id])
                })
                .await;
            account.emit(Worker::Reconciler, EventKind::MovedToTrash, |e| {
                e.path(path).asset(&file.asset_id).detail(format!(
                    "deleted in Immich: moved to the {} (recoverable there)",
                    os_trash_name()
                ))
            });
            summary.moved_to_trash += 1;
        }
        Err(error) => {
            summary.errors += 1;
            account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.path(path).asset(&file.asset_id).detail(format!(
                    "deleted in Immich, but the file could not be moved to the trash ({error}); it was left in place"
                ))
            });
        }
    }
}

fn os_trash_name() -> &'static str {
    if cfg!(windows) {
        "Recycle Bin"
    } else {
        "Trash"
    }
}
