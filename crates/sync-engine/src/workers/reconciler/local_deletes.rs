//! Local → Immich: files deleted here, and the old assets of changed files.
//!
//! A folder's candidates are judged together once its batch is complete (see
//! `policy::batch_due`). Each is planned first from what the store knows; a delete that the
//! local age allows is then looked up in Immich, whose creation time for the asset can make the
//! photo older (content that was in Immich before this engine linked it), and planned again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;

use super::{GuardItem, ReconcileSummary, guard_holds, holds, store_call, waits_for_the_user};
use crate::account::{Account, Folder, now_ms};
use crate::events::{EventKind, Worker};
use crate::immich::ApiError;
use crate::plan::{self, Action, DeleteFacts, Local, Remote};
use crate::status::FolderState;
use crate::store::{
    Decision, DeleteDirection, FolderId, MissingFile, NewJournalEntry, RemoteGone, ReplacedAsset,
    Sighting,
};

/// A delete that would go to Immich.
#[derive(Debug, Clone)]
struct Candidate {
    file_id: i64,
    /// Set for the old asset of a changed file.
    replaced: Option<Replaced>,
    folder: FolderId,
    rel: PathBuf,
    asset_id: String,
    sha1: Option<String>,
    born_at: i64,
    since_ms: i64,
    decision: Option<Decision>,
}

#[derive(Debug, Clone)]
struct Replaced {
    id: i64,
    new_asset_id: String,
}

impl Candidate {
    fn from_missing(file: MissingFile) -> Candidate {
        Candidate {
            file_id: file.id,
            replaced: None,
            folder: file.folder,
            rel: file.rel,
            asset_id: file.asset_id,
            sha1: file.sha1,
            born_at: file.born_at,
            since_ms: file.missing_since,
            decision: None,
        }
    }

    fn from_replaced(r: ReplacedAsset) -> Candidate {
        Candidate {
            file_id: r.file_id,
            replaced: Some(Replaced {
                id: r.id,
                new_asset_id: r.new_asset_id,
            }),
            folder: r.folder,
            rel: r.rel,
            asset_id: r.asset_id,
            sha1: Some(r.sha1),
            born_at: r.born_at,
            since_ms: r.replaced_at,
            decision: None,
        }
    }

    fn guard_item(&self) -> GuardItem {
        GuardItem {
            file_id: self.file_id,
            replaced_id: self.replaced.as_ref().map(|r| r.id),
        }
    }

    fn what(&self) -> &'static str {
        if self.replaced.is_some() {
            "the previous version of this changed file"
        } else {
            "deleted here"
        }
    }
}

/// What becomes of a candidate once planned.
enum Outcome {
    Trash { confirmed: bool },
    Keep(String),
    Forget(Option<RemoteGone>),
    Wait,
}

/// Decides and carries out the local deletes waiting in the store.
pub async fn pass(account: &Arc<Account>) -> ReconcileSummary {
    let mut summary = ReconcileSummary::default();
    let name = account.name.clone();
    let Some((missing, replaced)) = store_call(account, "read deleted files", move |db| {
        Ok((db.missing_files(&name)?, db.replaced_assets(&name)?))
    })
    .await
    else {
        summary.errors += 1;
        return summary;
    };
    if missing.is_empty() && replaced.is_empty() {
        return summary;
    }
    let decisions: HashMap<(i64, Option<i64>), Decision> =
        holds(account, DeleteDirection::ToImmich)
            .await
            .into_iter()
            .map(|h| ((h.file_id, h.replaced_id), h.decision))
            .collect();
    let present = present_folders(account).await;
    let mut by_folder: BTreeMap<FolderId, Vec<Candidate>> = BTreeMap::new();
    // A file back on disk is left to the next scan or event, which restores its row.
    let candidates = missing
        .into_iter()
        .map(Candidate::from_missing)
        .chain(replaced.into_iter().map(Candidate::from_replaced))
        .collect();
    for mut c in still_gone(account, candidates).await {
        if !present.contains(&c.folder) {
            continue;
        }
        c.decision = decisions
            .get(&(c.file_id, c.replaced.as_ref().map(|r| r.id)))
            .copied();
        by_folder.entry(c.folder).or_default().push(c);
    }
    let now = now_ms();
    for (folder_id, candidates) in by_folder {
        let Some(folder) = account.folder(folder_id).cloned() else {
            continue;
        };
        // The undecided ones are one batch, judged once no new delete came for a while.
        // The previous version of a changed file is not a delete by the user: it does not set
        // the batch's timing (its change may be long before its new version reached Immich).
        let undecided: Vec<i64> = candidates
            .iter()
            .filter(|c| c.decision.is_none() && c.replaced.is_none())
            .map(|c| c.since_ms)
            .collect();
        let batch_open = summary.batch_open(&undecided, account.delete_guard.grace, now);
        let ready: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| c.decision.is_some() || !batch_open)
            .filter(|c| !held_for_the_user(&folder, c))
            .collect();
        let mut to_guard = Vec::new();
        let mut to_trash = Vec::new();
        // Each plan may look the asset up in Immich: a few at a time, so that a mass delete
        // of thousands is judged in seconds rather than one round trip after another.
        let decided: Vec<(Candidate, Result<Outcome, ApiError>)> =
            futures_util::stream::iter(ready)
                .map(|c| {
                    let folder = &folder;
                    async move {
                        let outcome = decide(account, folder, &c).await;
                        (c, outcome)
                    }
                })
                .buffered(LOOKUPS_IN_FLIGHT)
                .collect()
                .await;
        for (c, outcome) in decided {
            match outcome {
                Ok(Outcome::Trash { confirmed: true }) => to_trash.push(c),
                Ok(Outcome::Trash { confirmed: false }) => to_guard.push(c),
                Ok(Outcome::Keep(reason)) => {
                    keep_in_immich(account, &folder, &c, reason, &mut summary).await
                }
                Ok(Outcome::Forget(tombstone)) => forget(account, &folder, &c, tombstone).await,
                Ok(Outcome::Wait) => {}
                Err(error) => {
                    summary.errors += 1;
                    account.emit(Worker::Reconciler, EventKind::Error, |e| {
                        e.path(&folder.path_of(&c.rel)).asset(&c.asset_id).detail(format!(
                            "cannot check this photo in Immich before deleting it there ({error}); it is looked at again later"
                        ))
                    });
                }
            }
        }
        let items: Vec<GuardItem> = to_guard.iter().map(Candidate::guard_item).collect();
        if guard_holds(account, folder_id, DeleteDirection::ToImmich, &items).await {
            summary.held += to_guard.len() as u64;
        } else {
            to_trash.extend(to_guard);
        }
        if !to_trash.is_empty() {
            trash_in_immich(account, &folder, to_trash, &mut summary).await;
        }
    }
    summary
}

/// Deletes planned at once (each may ask Immich about its asset).
const LOOKUPS_IN_FLIGHT: usize = 8;

/// [`waits_for_the_user`]; the previous asset of a changed file is no file of the folder's,
/// so no pattern releases its hold.
fn held_for_the_user(folder: &Folder, c: &Candidate) -> bool {
    match c.replaced {
        Some(_) => c.decision == Some(Decision::Waiting),
        None => waits_for_the_user(c.decision, folder, &c.rel),
    }
}

/// Folders whose deletes may be judged: present, readable and on their own volume. A folder
/// that is not there is not "everything deleted".
async fn present_folders(account: &Arc<Account>) -> HashSet<FolderId> {
    let mut present = HashSet::new();
    for folder in &account.folders {
        if folder.state() != FolderState::Active {
            continue;
        }
        let id = folder.id;
        let recorded = store_call(account, "read the folder's volume", move |db| {
            db.root_volume(id, None)
        })
        .await
        .flatten();
        let root = folder.root.clone();
        let ok = crate::blocking::spawn(move || {
            crate::workers::scanner::check_root(&root).is_ok()
                && crate::volume::check(recorded, crate::volume::volume_id(&root)).is_ok()
        })
        .await
        .unwrap_or(false);
        if ok {
            present.insert(id);
        }
    }
    present
}

/// Plans one candidate; a delete the local facts allow is checked in Immich first.
async fn decide(
    account: &Arc<Account>,
    folder: &Folder,
    c: &Candidate,
) -> Result<Outcome, ApiError> {
    // Excluded files stop syncing, nothing more: a pattern added after the file went missing
    // keeps it, and so does a photo moved to where a pattern leaves it out.
    if c.replaced.is_none() {
        if let Some(pattern) = folder.filter.excluded_by_pattern(&c.rel) {
            return Ok(Outcome::Keep(format!(
                "kept in Immich: the pattern `{pattern}` excludes it, and excluded files are no longer synced either way"
            )));
        }
        let id = c.file_id;
        let moved = store_call(
            account,
            "look for the photo where it is excluded",
            move |db| db.moved_out_of_sync(id, crate::filter::EXCLUDED_BY_PATTERN),
        )
        .await
        .unwrap_or(true);
        if moved {
            return Ok(Outcome::Keep(
                "kept in Immich: a file of the same name and size is now where an exclude pattern leaves it out (moved there?); excluded files are no longer synced either way".into(),
            ));
        }
    }
    // The halves of a live photo go together: neither while the other's file (beside it, the
    // same name) is still here. Unknown: wait, nothing is deleted.
    let (name, asset, folder_id, rel) = (
        account.name.clone(),
        c.asset_id.clone(),
        c.folder,
        c.rel.clone(),
    );
    let other_half_here = store_call(account, "find a live photo's other half", move |db| {
        let Some(other) = db.live_partner(&name, &asset)? else {
            return Ok(false);
        };
        Ok(db.siblings(folder_id, &rel)?.into_iter().any(|s| {
            s.asset_id.as_deref() == Some(other.as_str())
                && !matches!(s.state, crate::store::FileState::Missing)
        }))
    })
    .await
    .unwrap_or(true);
    if other_half_here {
        return Ok(Outcome::Wait);
    }
    let name = account.name.clone();
    let asset = c.asset_id.clone();
    let (refs, by_engine) = store_call(account, "count the files of an asset", move |db| {
        Ok((
            db.live_references(&name, &asset)?,
            db.trashed_by_engine(&name, &asset)?,
        ))
    })
    .await
    // Unknown: assume it is shared, so nothing is deleted.
    .unwrap_or((1, false));
    let mut facts = DeleteFacts {
        local: Local::Gone,
        remote: Remote::Unknown,
        policy: &folder.policy,
        born_ms: c.born_at,
        deleted_ms: c.since_ms,
        shared: refs > 0,
        decision: c.decision,
        trashed_by_engine: by_engine,
    };
    let mut planned = plan::plan_delete(&facts);
    if planned.action == Action::LookUp {
        let info = account.client.asset(&c.asset_id).await?;
        facts.remote = match &info {
            None => Remote::Gone(RemoteGone::Purged),
            Some(info) if info.is_trashed => Remote::Gone(RemoteGone::Trashed),
            Some(_) => Remote::Alive,
        };
        if let Some(created) = info.as_ref().and_then(|i| i.created_at) {
            let created_ms = (created.unix_timestamp_nanos() / 1_000_000) as i64;
            if created_ms < facts.born_ms {
                facts.born_ms = created_ms;
                if c.replaced.is_none() {
                    let id = c.file_id;
                    store_call(account, "record the photo's age", move |db| {
                        db.lower_born_at(id, created_ms)
                    })
                    .await;
                }
            }
        }
        planned = plan::plan_delete(&facts);
    }
    Ok(match planned.action {
        Action::TrashInImmich { confirmed } => Outcome::Trash { confirmed },
        Action::KeepInImmich(reason) => Outcome::Keep(reason),
        Action::Forget => Outcome::Forget(planned.tombstone),
        Action::Wait => Outcome::Wait,
        // Nothing else arises for a file that is gone; keep the asset to be safe.
        other => Outcome::Keep(format!("kept ({other:?})")),
    })
}

async fn keep_in_immich(
    account: &Account,
    folder: &Folder,
    c: &Candidate,
    reason: String,
    summary: &mut ReconcileSummary,
) {
    let path = folder.path_of(&c.rel);
    let detail = match &c.replaced {
        Some(_) => format!("the previous version of this changed file stays in Immich: {reason}"),
        None => reason,
    };
    account.emit(Worker::Reconciler, EventKind::KeptInImmich, |e| {
        e.path(&path).asset(&c.asset_id).detail(detail)
    });
    summary.kept_in_immich += 1;
    done(account, std::slice::from_ref(c)).await;
}

/// Both sides are gone: forget the candidate, remembering content deleted in Immich.
async fn forget(account: &Account, folder: &Folder, c: &Candidate, tombstone: Option<RemoteGone>) {
    if let (Some(how), Some(sha1)) = (tombstone, c.sha1.clone()) {
        let name = account.name.clone();
        let sighting = Sighting {
            sha1,
            asset_id: Some(c.asset_id.clone()),
            how,
            path: Some(folder.path_of(&c.rel)),
        };
        store_call(account, "remember a photo deleted in Immich", move |db| {
            db.add_tombstones(&name, &[sighting], now_ms())
        })
        .await;
    }
    done(account, std::slice::from_ref(c)).await;
}

/// Removes candidates from the store once dealt with.
async fn done(account: &Account, candidates: &[Candidate]) {
    let files: Vec<i64> = candidates
        .iter()
        .filter(|c| c.replaced.is_none())
        .map(|c| c.file_id)
        .collect();
    let replaced: Vec<i64> = candidates
        .iter()
        .filter_map(|c| c.replaced.as_ref().map(|r| r.id))
        .collect();
    store_call(account, "record finished deletes", move |db| {
        db.forget_missing(&files)?;
        db.forget_replaced(&replaced)
    })
    .await;
}

/// Moves the assets of `candidates` to the Immich trash, in batches, and journals what was
/// done. A changed file's new asset first takes over albums, favourite and stack.
async fn trash_in_immich(
    account: &Arc<Account>,
    folder: &Folder,
    candidates: Vec<Candidate>,
    summary: &mut ReconcileSummary,
) {
    if account.dry_run {
        for c in &candidates {
            let path = folder.path_of(&c.rel);
            account.emit(Worker::Reconciler, EventKind::WouldDo, |e| {
                e.path(&path).asset(&c.asset_id).detail(format!(
                    "would move this asset to the Immich trash ({})",
                    c.what()
                ))
            });
        }
        return;
    }
    let mut ready = Vec::new();
    for c in candidates {
        if let Some(replaced) = &c.replaced
            && account.server.can_copy_assets
            && let Err(error) = account
                .client
                .copy_asset(&c.asset_id, &replaced.new_asset_id)
                .await
        {
            summary.errors += 1;
            account.emit(Worker::Reconciler, EventKind::Error, |e| {
                e.path(&folder.path_of(&c.rel)).asset(&c.asset_id).detail(format!(
                    "cannot move albums and favourite to the new version ({error}); the previous version stays in Immich for now"
                ))
            });
            continue;
        }
        ready.push(c);
    }
    // A file that came back while Immich was asked about it is not deleted after all.
    let ready = still_gone(account, ready).await;
    // Several rows may share an asset (identical copies all deleted).
    let mut by_asset: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for c in ready {
        by_asset.entry(c.asset_id.clone()).or_default().push(c);
    }
    if by_asset.is_empty() {
        return;
    }
    // The intent first: each delete is journaled before the request, so that after a crash
    // the asset found in the Immich trash is known as this engine's, not the user's.
    let mut entries = Vec::new();
    let mut owners = Vec::new();
    for (asset, candidates) in &by_asset {
        for c in candidates {
            let reason = match &c.replaced {
                Some(_) => "the file changed: its previous version was moved to the Immich trash (recoverable there)".to_owned(),
                None => "deleted here within the delete threshold: moved to the Immich trash (recoverable there)".to_owned(),
            };
            entries.push(NewJournalEntry {
                direction: DeleteDirection::ToImmich,
                path: folder.path_of(&c.rel),
                asset_id: Some(asset.clone()),
                sha1: c.sha1.clone(),
                trash_id: None,
                reason,
            });
            owners.push(asset.clone());
        }
    }
    let name = account.name.clone();
    let logged = entries.clone();
    let Some(journal_ids) = store_call(account, "journal deletes", move |db| {
        db.journal_add(&name, &logged, now_ms())
    })
    .await
    else {
        summary.errors += 1;
        return;
    };
    let ids: Vec<String> = by_asset.keys().cloned().collect();
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
            Vec::new()
        }
    };
    // Entries for what did not happen go again.
    let not_done: Vec<i64> = journal_ids
        .iter()
        .zip(&owners)
        .filter(|(_, asset)| !trashed.contains(asset))
        .map(|(id, _)| *id)
        .collect();
    if !not_done.is_empty() {
        store_call(account, "drop deletes that did not happen", move |db| {
            for id in &not_done {
                db.journal_drop(*id)?;
            }
            Ok(())
        })
        .await;
    }
    let mut finished = Vec::new();
    for (entry, asset) in entries.iter().zip(&owners) {
        if !trashed.contains(asset) {
            continue;
        }
        account.emit(Worker::Reconciler, EventKind::DeletedInImmich, |e| {
            e.path(&entry.path)
                .asset(asset)
                .detail(entry.reason.clone())
        });
        summary.trashed_in_immich += 1;
    }
    for asset in &trashed {
        finished.extend(by_asset.remove(asset).into_iter().flatten());
    }
    let folder_id = folder.id;
    let count = finished.len();
    store_call(account, "count deletes", move |db| {
        db.record_deletes(folder_id, DeleteDirection::ToImmich, count, now_ms())
    })
    .await;
    done(account, &finished).await;
}

/// Keeps the candidates whose file is still gone (the previous versions of changed files are
/// gone by definition; a folder no longer configured is left alone).
async fn still_gone(account: &Account, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let checks: Vec<Option<PathBuf>> = candidates
        .iter()
        .map(|c| match (&c.replaced, account.folder(c.folder)) {
            (Some(_), _) => None,
            (None, Some(folder)) => Some(folder.path_of(&c.rel)),
            (None, None) => Some(PathBuf::new()),
        })
        .collect();
    let gone = crate::blocking::spawn(move || {
        checks
            .into_iter()
            .map(|path| match path {
                None => true,
                Some(path) if path.as_os_str().is_empty() => false,
                Some(path) => std::fs::symlink_metadata(path).is_err(),
            })
            .collect::<Vec<bool>>()
    })
    .await;
    let Ok(gone) = gone else {
        account.emit(Worker::Reconciler, EventKind::Error, |e| {
            e.detail("cannot check whether deleted files came back; they are looked at again later")
        });
        return Vec::new();
    };
    candidates
        .into_iter()
        .zip(gone)
        .filter(|(_, gone)| *gone)
        .map(|(c, _)| c)
        .collect()
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
