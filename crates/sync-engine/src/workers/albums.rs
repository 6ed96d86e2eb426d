//! Folder → album: the photos of a folder that uses albums end up in the album its rule names.
//!
//! This is a reconciliation, not a side effect of each upload: the albums a folder's synced
//! photos belong in are worked out from the store, compared with what the engine put in its
//! albums before, and the difference is sent. So a folder switched to albums adds its photos
//! already synced, a photo moved between sub-folders moves between albums, and a crash between
//! the request and the record only repeats a request Immich answers as `duplicate`.
//!
//! Only what the engine added is ever taken out of an album, and only when the same photo now
//! belongs in another of the engine's albums (a move): photos the user put in albums by hand,
//! and a folder switched back to no album, are left as they are. An album the user deleted in
//! Immich is recorded and never made again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::account::{Account, now_ms};
use crate::config::AlbumRule;
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::immich::{ApiError, Membership};
use crate::store::AlbumRecord;

/// What one album pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlbumSummary {
    /// Albums made in Immich.
    pub created: u64,
    /// Photos added to an album.
    pub added: u64,
    /// Photos taken out of an album they no longer belong in (moved).
    pub removed: u64,
    /// Albums found deleted in Immich (not made again).
    pub deleted: u64,
}

/// Runs an album pass if one is due (something was uploaded or linked since the last one).
/// Problems are the caller's to report; the pass is due again after one.
/// RAW+JPEG stacks are made in the same pass.
pub async fn sync_if_due(account: &Arc<Account>) -> Result<AlbumSummary, Error> {
    if !account.albums_due.swap(false, Ordering::AcqRel) {
        return Ok(AlbumSummary::default());
    }
    let result = async {
        let summary = sync(account).await?;
        super::stacks::sync(account).await?;
        Ok(summary)
    }
    .await;
    if result.is_err() {
        account.albums_due.store(true, Ordering::Release);
    }
    result
}

/// One album pass for every folder of `account` that uses albums.
pub async fn sync(account: &Arc<Account>) -> Result<AlbumSummary, Error> {
    let mut summary = AlbumSummary::default();
    if account.dry_run || account.folders.iter().all(|f| f.album == AlbumRule::None) {
        return Ok(summary);
    }
    let name = account.name.clone();
    let (files, members, records, hidden) = account
        .store
        .call(move |db| {
            Ok((
                db.synced_files(&name)?,
                db.album_members(&name)?,
                db.albums(&name)?,
                db.live_videos(&name)?,
            ))
        })
        .await?;
    // A live photo's video is part of its still: Immich keeps it out of albums.
    let hidden: HashSet<String> = hidden.into_iter().collect();

    // Where each synced photo belongs: album name → asset → a path that holds it.
    let mut wanted: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        if hidden.contains(&file.asset_id) {
            continue;
        }
        let Some(folder) = account.folder(file.folder) else {
            continue;
        };
        if let Some(album) = folder.album.album_for(&folder.root, &file.rel) {
            let path = folder.path_of(&file.rel);
            wanted
                .entry(album)
                .or_default()
                .entry(file.asset_id)
                .or_insert(path);
        }
    }
    // Album row → asset → whether the engine put it there.
    let mut recorded: HashMap<i64, HashMap<String, bool>> = HashMap::new();
    for (album, asset, ours) in members {
        recorded.entry(album).or_default().insert(asset, ours);
    }
    let mut by_name: HashMap<String, AlbumRecord> =
        records.into_iter().map(|r| (r.name.clone(), r)).collect();

    // Adds, album by album. `placed`: every album each asset belongs in now (the same content
    // may sit in two sub-folders).
    let mut placed: HashMap<String, HashSet<i64>> = HashMap::new();
    for (album_name, assets) in &wanted {
        let record = match by_name.get(album_name) {
            Some(record) => record.clone(),
            None => {
                let (account_name, album) = (account.name.clone(), album_name.clone());
                let record = account
                    .store
                    .call(move |db| db.album_named(&account_name, &album))
                    .await?;
                by_name.insert(album_name.clone(), record.clone());
                record
            }
        };
        if record.deleted_at.is_some() {
            continue;
        }
        for asset in assets.keys() {
            placed.entry(asset.clone()).or_default().insert(record.id);
        }
        let have = recorded.get(&record.id);
        let missing: Vec<String> = assets
            .keys()
            .filter(|a| have.is_none_or(|h| !h.contains_key(*a)))
            .cloned()
            .collect();
        if missing.is_empty() {
            continue;
        }
        let album_id = match &record.album_id {
            Some(id) => id.clone(),
            None => {
                let id = account.client.create_album(album_name).await?;
                let (row, remote) = (record.id, id.clone());
                account
                    .store
                    .call(move |db| db.set_album_id(row, &remote))
                    .await?;
                summary.created += 1;
                id
            }
        };
        let answers = match account.client.add_to_album(&album_id, &missing).await {
            Ok(answers) => answers,
            Err(error) if gone(&error) && !account.client.album_exists(&album_id).await? => {
                album_deleted(account, &record).await?;
                summary.deleted += 1;
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let mut added = Vec::new();
        let mut found = Vec::new();
        for (asset, answer) in missing.into_iter().zip(answers) {
            match answer {
                Membership::Added => {
                    let path = &assets[&asset];
                    account.emit(Worker::Uploader, EventKind::AddedToAlbum, |e| {
                        e.path(path)
                            .asset(&asset)
                            .detail(format!("added to album {album_name}"))
                    });
                    added.push(asset);
                }
                Membership::AlreadyThere => found.push(asset),
                Membership::Refused(why) => {
                    tracing::info!("album {album_name}: Immich refused asset {asset} ({why})");
                    found.push(asset);
                }
            }
        }
        summary.added += added.len() as u64;
        let row = record.id;
        account
            .store
            .call(move |db| {
                db.add_album_members(row, &added, true)?;
                db.add_album_members(row, &found, false)
            })
            .await?;
    }

    // Moves: out of an album the engine put a photo in, once the photo belongs only in others.
    let mut leaving: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (album, assets) in &recorded {
        for (asset, ours) in assets {
            let now = placed.get(asset);
            if *ours && now.is_some_and(|albums| !albums.is_empty() && !albums.contains(album)) {
                leaving.entry(*album).or_default().push(asset.clone());
            }
        }
    }
    for (row, assets) in leaving {
        let Some(record) = by_name.values().find(|r| r.id == row).cloned() else {
            continue;
        };
        let Some(album_id) = record.album_id.clone() else {
            continue;
        };
        match account.client.remove_from_album(&album_id, &assets).await {
            Ok(_) => {}
            Err(error) if gone(&error) && !account.client.album_exists(&album_id).await? => {
                album_deleted(account, &record).await?;
                summary.deleted += 1;
                continue;
            }
            Err(error) => return Err(error.into()),
        }
        summary.removed += assets.len() as u64;
        account
            .store
            .call(move |db| db.remove_album_members(row, &assets))
            .await?;
    }
    Ok(summary)
}

/// An answer that may mean the album is gone: confirmed with `GET /albums/{id}` before acting.
fn gone(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::NotFound { .. } | ApiError::Rejected { status: 400, .. }
    )
}

async fn album_deleted(account: &Account, record: &AlbumRecord) -> Result<(), Error> {
    let row = record.id;
    account
        .store
        .call(move |db| db.mark_album_deleted(row, now_ms()))
        .await?;
    let name = record.name.clone();
    account.emit(Worker::Uploader, EventKind::AlbumDeleted, |e| {
        e.detail(format!(
            "the album {name} was deleted in Immich: it is not made again, and its photos stay in Immich"
        ))
    });
    Ok(())
}
