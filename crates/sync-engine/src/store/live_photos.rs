//! Live photos: which still and which motion video went up as one, and the files beside a
//! photo that could be its other half.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

use super::{Db, FileState, FolderId, StoreError};
use crate::paths;

/// A file beside another with the same name stem (`IMG_0001.HEIC` for `IMG_0001.MOV`).
#[derive(Debug, Clone)]
pub struct Sibling {
    /// Row id.
    pub id: i64,
    /// Path relative to the folder.
    pub rel: PathBuf,
    /// Its state.
    pub state: FileState,
    /// Its asset, once linked.
    pub asset_id: Option<String>,
    /// Failed upload attempts so far.
    pub attempts: u32,
    /// When its upload is tried next (unix ms), if it waits.
    pub next_attempt_at: Option<i64>,
}

impl Db<'_> {
    /// The other files of `folder` named `rel`'s stem plus an extension, in the same folder.
    pub fn siblings(&mut self, folder: FolderId, rel: &Path) -> Result<Vec<Sibling>, StoreError> {
        let Some(stem) = rel.file_stem() else {
            return Ok(Vec::new());
        };
        let mut found = self.named(folder, &rel.with_file_name(stem))?;
        found.retain(|s| s.rel != rel);
        Ok(found)
    }

    /// The files of `folder` named `base` plus one extension (`dir/X` → `dir/X.jpg`,
    /// `dir/X.MOV`; not `dir/X.2.jpg`, whose stem is `X.2`), in one range of the path index.
    pub(super) fn named(
        &mut self,
        folder: FolderId,
        base: &Path,
    ) -> Result<Vec<Sibling>, StoreError> {
        let Some(stem) = base.file_name() else {
            return Ok(Vec::new());
        };
        // `dir/X.` up to (not including) `dir/X/`.
        let mut low = paths::to_bytes(base);
        low.push(b'.');
        let mut high = low.clone();
        *high.last_mut().expect("not empty") += 1;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, rel_path, state, asset_id, attempts, next_attempt_at FROM files
             WHERE folder_id = ?1 AND rel_path >= ?2 AND rel_path < ?3",
        )?;
        let rows = stmt.query_map(params![folder.0, low, high], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rel_bytes, state, asset_id, attempts, next_attempt_at) = row?;
            let rel = paths::from_bytes(&rel_bytes);
            if rel.file_stem() != Some(stem) {
                continue;
            }
            out.push(Sibling {
                id,
                rel,
                state: FileState::parse(&state),
                asset_id,
                attempts: attempts.max(0) as u32,
                next_attempt_at,
            });
        }
        Ok(out)
    }

    /// The still and its motion video went up as one live photo.
    pub fn record_live_pair(
        &mut self,
        account: &str,
        still: &str,
        video: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO live_pairs (account, still_asset, video_asset)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![account, still, video])?;
        Ok(())
    }

    /// The other half of the live photo `asset` belongs to (a still's video, a video's still).
    pub fn live_partner(
        &mut self,
        account: &str,
        asset: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT video_asset FROM live_pairs WHERE account = ?1 AND still_asset = ?2
             UNION ALL
             SELECT still_asset FROM live_pairs WHERE account = ?1 AND video_asset = ?2
             LIMIT 1",
        )?;
        Ok(stmt
            .query_row(params![account, asset], |r| r.get(0))
            .optional()?)
    }

    /// The motion videos of the live photos of `account`: hidden in Immich, never put in an
    /// album or a stack of their own.
    pub fn live_videos(&mut self, account: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT video_asset FROM live_pairs WHERE account = ?1")?;
        let rows = stmt.query_map([account], |r| r.get(0))?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The motion video of the live photo whose still is `still`, if it is one.
    pub fn live_video_of(
        &mut self,
        account: &str,
        still: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT video_asset FROM live_pairs WHERE account = ?1 AND still_asset = ?2",
        )?;
        Ok(stmt
            .query_row(params![account, still], |r| r.get(0))
            .optional()?)
    }
}
