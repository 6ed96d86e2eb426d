//! RAW+JPEG stacks (`stack_raw_jpeg = true`): a camera's RAW and the JPEG it wrote beside it
//! show as one photo in Immich, the JPEG on top.
//!
//! Both files are uploaded as they always are (Immich treats them as two assets); afterwards
//! the synced pairs — the same name in the same folder, one JPEG and one RAW — are stacked with
//! `POST /stacks`, each pair once. Like albums this is worked out from the store after the
//! uploads, so a RAW that arrives later than its JPEG is stacked when it does.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::account::Account;
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::immich::ApiError;

/// Extensions of camera RAW files (lower case).
const RAW: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "rwl",
    "pef", "srw", "x3f", "3fr", "iiq", "erf", "mef", "mos", "kdc", "dcr",
];

/// Extensions of the JPEG a camera writes beside its RAW.
const JPEG: &[&str] = &["jpg", "jpeg"];

/// Stacks every synced RAW+JPEG pair not stacked yet; how many were.
pub async fn sync(account: &Arc<Account>) -> Result<u64, Error> {
    if account.dry_run || !account.folders.iter().any(|f| f.stack_raw_jpeg) {
        return Ok(0);
    }
    let name = account.name.clone();
    let (files, done, hidden) = account
        .store
        .call(move |db| {
            Ok((
                db.synced_files(&name)?,
                db.stacked_pairs(&name)?,
                db.live_videos(&name)?,
            ))
        })
        .await?;
    let done: HashSet<(String, String)> = done.into_iter().collect();
    let hidden: HashSet<String> = hidden.into_iter().collect();

    // (folder, folder path, stem) → (JPEG, RAW), each as (asset, path).
    type Side = Option<(String, PathBuf)>;
    let mut pairs: BTreeMap<(i64, PathBuf, String), (Side, Side)> = BTreeMap::new();
    for file in files {
        let Some(folder) = account.folder(file.folder) else {
            continue;
        };
        if !folder.stack_raw_jpeg || hidden.contains(&file.asset_id) {
            continue;
        }
        let (Some(stem), Some(ext)) = (file.rel.file_stem(), file.rel.extension()) else {
            continue;
        };
        let ext = ext.to_string_lossy().to_lowercase();
        let key = (
            folder.id.0,
            file.rel.parent().map(PathBuf::from).unwrap_or_default(),
            stem.to_string_lossy().into_owned(),
        );
        let side = (file.asset_id.clone(), folder.path_of(&file.rel));
        let entry = pairs.entry(key).or_default();
        if JPEG.contains(&ext.as_str()) {
            entry.0 = Some(side);
        } else if RAW.contains(&ext.as_str()) {
            entry.1 = Some(side);
        }
    }

    let mut stacked = 0;
    for (jpeg, raw) in pairs.into_values() {
        let (Some((top, top_path)), Some((other, other_path))) = (jpeg, raw) else {
            continue;
        };
        if top == other || done.contains(&(top.clone(), other.clone())) {
            continue;
        }
        let stack = match account
            .client
            .create_stack(&[top.clone(), other.clone()])
            .await
        {
            Ok(id) => Some(id),
            // One of them is gone or not this user's: nothing to stack, do not ask again.
            Err(ApiError::NotFound { .. } | ApiError::Rejected { status: 400, .. }) => None,
            Err(error) => return Err(error.into()),
        };
        if stack.is_some() {
            stacked += 1;
            let raw_name = other_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            account.emit(Worker::Uploader, EventKind::Stacked, |e| {
                e.path(&top_path)
                    .asset(&top)
                    .detail(format!("stacked with {raw_name}, the JPEG on top"))
            });
        }
        let account_name = account.name.clone();
        account
            .store
            .call(move |db| db.record_stack(&account_name, &top, &other, stack.as_deref()))
            .await?;
    }
    Ok(stacked)
}
