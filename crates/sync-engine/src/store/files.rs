//! Files: what was seen in each folder, its content hash, and where it stands with Immich.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, params};

use super::{Db, FolderId, StoreError};
pub use crate::local::{Observation, Stat};
use crate::paths;

/// Where a file stands. Stored as text; see the schema for the meaning of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// Hashed, waiting for the uploader.
    Queued,
    /// An upload was started and its outcome is not recorded yet.
    Uploading,
    /// Linked to an Immich asset.
    Synced,
    /// Not uploadable (junk, unsupported, empty...).
    Skipped,
    /// Rejected by the server for good.
    Failed,
    /// Was synced; the file is gone locally.
    Missing,
    /// The asset was deleted in Immich; the local file was kept by policy.
    RemoteDeleted,
}

impl FileState {
    pub(crate) fn parse(s: &str) -> FileState {
        match s {
            "queued" => FileState::Queued,
            "uploading" => FileState::Uploading,
            "synced" => FileState::Synced,
            "skipped" => FileState::Skipped,
            "failed" => FileState::Failed,
            "missing" => FileState::Missing,
            _ => FileState::RemoteDeleted,
        }
    }
}

/// A row as the scanner compares it with the disk.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    /// Last recorded stat.
    pub stat: Stat,
    /// State of the row.
    pub state: FileState,
    /// Recorded SHA-1, hex.
    pub sha1: Option<String>,
    /// Skip reason or last error.
    pub last_error: Option<String>,
}

/// What recording an observation changed; the caller turns these into events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEffect {
    /// Nothing changed.
    Unchanged,
    /// New or changed content is waiting for upload.
    Queued,
    /// A synced file came back with the same content.
    Restored,
    /// Newly skipped (first time, or for a new reason).
    Skipped,
    /// A synced file disappeared: a delete decision is pending.
    Missing,
    /// A file that never reached Immich disappeared; its row was dropped.
    Forgotten,
}

/// A file waiting for the uploader.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    /// Row id.
    pub id: i64,
    /// Folder.
    pub folder: FolderId,
    /// Folder root.
    pub root: PathBuf,
    /// Path relative to the root.
    pub rel: PathBuf,
    /// Stat when hashed.
    pub stat: Stat,
    /// SHA-1, hex.
    pub sha1: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// A synced file whose local copy is gone.
#[derive(Debug, Clone)]
pub struct MissingFile {
    /// Row id.
    pub id: i64,
    /// Folder.
    pub folder: FolderId,
    /// Path relative to the root.
    pub rel: PathBuf,
    /// The linked asset.
    pub asset_id: String,
    /// Its content, hex.
    pub sha1: Option<String>,
    /// Where the photo's age starts (unix ms): see `born_at` in the schema.
    pub born_at: i64,
    /// When it went missing (unix ms).
    pub missing_since: i64,
}

/// A synced file, for remote-delete reconciliation.
#[derive(Debug, Clone)]
pub struct SyncedFile {
    /// Row id.
    pub id: i64,
    /// Folder.
    pub folder: FolderId,
    /// Folder root.
    pub root: PathBuf,
    /// Path relative to the root.
    pub rel: PathBuf,
    /// Recorded stat.
    pub stat: Stat,
    /// SHA-1, hex.
    pub sha1: String,
    /// Linked asset.
    pub asset_id: String,
    /// Where the photo's age starts (unix ms).
    pub born_at: i64,
    /// When its asset was first seen trashed or deleted in Immich, and how, while the remote
    /// delete waits for the guard.
    pub remote_gone: Option<(i64, RemoteGone)>,
}

/// A synced file as the full remote check reads it ([`Db::linked_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedFile {
    /// Row id.
    pub id: i64,
    /// SHA-1, hex.
    pub sha1: String,
    /// Linked asset.
    pub asset_id: String,
    /// Whether its asset was seen gone from Immich before.
    pub seen_gone: bool,
}

/// How an asset left Immich.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteGone {
    /// Moved to the Immich trash (restorable there).
    Trashed,
    /// Deleted for good.
    Purged,
}

impl RemoteGone {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RemoteGone::Trashed => "trashed",
            RemoteGone::Purged => "purged",
        }
    }

    pub(crate) fn parse(s: &str) -> RemoteGone {
        if s == "purged" {
            RemoteGone::Purged
        } else {
            RemoteGone::Trashed
        }
    }
}

/// A sighting of a file's asset gone from Immich, for [`Db::mark_remote_gone`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteGoneMark {
    /// The file's row.
    pub file_id: i64,
    /// The asset the file was linked to when it was read.
    pub asset_id: String,
    /// How the asset left.
    pub how: RemoteGone,
    /// When it was first seen gone (unix ms).
    pub at_ms: i64,
}

/// The asset a file used to hold before its content changed; it follows the folder's delete
/// policy like a local delete once the new version is linked.
#[derive(Debug, Clone)]
pub struct ReplacedAsset {
    /// Row id in `replaced_assets`.
    pub id: i64,
    /// The file that changed.
    pub file_id: i64,
    /// Folder.
    pub folder: FolderId,
    /// Path relative to the root.
    pub rel: PathBuf,
    /// The old asset.
    pub asset_id: String,
    /// The old content.
    pub sha1: String,
    /// Where the old version's age starts.
    pub born_at: i64,
    /// When the change was seen (unix ms).
    pub replaced_at: i64,
    /// The asset now linked to the file.
    pub new_asset_id: String,
}

/// Number of files per state in one folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FolderCounts {
    /// Linked to an asset.
    pub synced: u64,
    /// Waiting for upload (queued or uploading).
    pub queued: u64,
    /// Rejected by the server.
    pub failed: u64,
    /// Skipped with a reason.
    pub skipped: u64,
    /// Gone locally, delete decision pending.
    pub missing: u64,
}

fn stat_from(size: i64, mtime_ns: i64, file_key: Option<i64>) -> Stat {
    Stat {
        size: size.max(0) as u64,
        mtime_ns,
        file_key: file_key.map(|k| k as u64),
    }
}

fn key_param(stat: &Stat) -> Option<i64> {
    stat.file_key.map(|k| k as i64)
}

fn synced_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncedFile> {
    let gone_at: Option<i64> = r.get(10)?;
    let how: Option<String> = r.get(11)?;
    Ok(SyncedFile {
        id: r.get(0)?,
        folder: FolderId(r.get(1)?),
        root: paths::from_bytes(&r.get::<_, Vec<u8>>(2)?),
        rel: paths::from_bytes(&r.get::<_, Vec<u8>>(3)?),
        stat: stat_from(r.get(4)?, r.get(5)?, r.get(6)?),
        sha1: r.get(7)?,
        asset_id: r.get(8)?,
        born_at: r.get(9)?,
        remote_gone: gone_at.map(|at| (at, RemoteGone::parse(how.as_deref().unwrap_or("")))),
    })
}

/// The columns `synced_row` reads, of files joined with their folder; a query adds its `WHERE`.
macro_rules! synced_select {
    () => {
        "SELECT f.id, f.folder_id, d.root, f.rel_path, f.size, f.mtime_ns, f.file_key,
                f.sha1, f.asset_id, COALESCE(f.born_at, f.first_seen_at), f.remote_gone_at,
                f.remote_gone_how
         FROM files f CROSS JOIN folders d ON d.id = f.folder_id"
    };
}

impl Db<'_> {
    /// Up to `limit` of the folder's rows whose path comes after `after`, in the order of
    /// their path bytes. The scanner walks folders in that same order and compares page by
    /// page, so a scan holds one page, not the folder.
    pub fn folder_index_page(
        &mut self,
        folder: FolderId,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, IndexEntry)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rel_path, size, mtime_ns, file_key, state, sha1, last_error
             FROM files WHERE folder_id = ?1 AND rel_path > ?2 ORDER BY rel_path LIMIT ?3",
        )?;
        let rows = stmt.query_map(rusqlite::params![folder.0, after, limit as i64], |r| {
            let state: String = r.get(4)?;
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                IndexEntry {
                    stat: stat_from(r.get(1)?, r.get(2)?, r.get(3)?),
                    state: FileState::parse(&state),
                    sha1: r.get(5)?,
                    last_error: r.get(6)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rows of `folder` whose path is `rel` or lies below it (a removed directory).
    pub fn paths_under(
        &mut self,
        folder: FolderId,
        rel: &std::path::Path,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let exact = paths::to_bytes(rel);
        let mut prefix = exact.clone();
        prefix.extend_from_slice(&paths::to_bytes(std::path::Path::new("/")));
        if rel.as_os_str().is_empty() {
            prefix.clear();
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT rel_path FROM files WHERE folder_id = ?1")?;
        let rows = stmt.query_map([folder.0], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let bytes = row?;
            if bytes == exact || bytes.starts_with(&prefix) {
                out.push(paths::from_bytes(&bytes));
            }
        }
        Ok(out)
    }

    /// Records what was seen on disk, in one transaction, and says what changed for each.
    pub fn apply_observations(
        &mut self,
        folder: FolderId,
        observations: &[Observation],
        now_ms: i64,
    ) -> Result<Vec<ApplyEffect>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut effects = Vec::with_capacity(observations.len());
        for observation in observations {
            effects.push(apply_one(&tx, folder, observation, now_ms)?);
        }
        tx.commit()?;
        Ok(effects)
    }

    /// Files of `account` waiting for upload whose retry time has come: files not tried yet
    /// in the order they were found, then retries, the longest due first.
    ///
    /// That is the order of the state index (`state, next_attempt_at`, then the row id), so a
    /// round reads its rows off the index and stops; ordering by row id alone made every round
    /// sort the whole queue (a first import of a million files: half a million sorts).
    pub fn due_uploads(
        &mut self,
        account: &str,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<PendingUpload>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.folder_id, d.root, f.rel_path, f.size, f.mtime_ns, f.file_key,
                    f.sha1, f.attempts
             FROM files f CROSS JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state = 'queued' AND f.sha1 IS NOT NULL
               AND COALESCE(f.next_attempt_at, 0) <= ?2
             ORDER BY f.next_attempt_at, f.id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![account, now_ms, limit as i64], |r| {
            Ok(PendingUpload {
                id: r.get(0)?,
                folder: FolderId(r.get(1)?),
                root: paths::from_bytes(&r.get::<_, Vec<u8>>(2)?),
                rel: paths::from_bytes(&r.get::<_, Vec<u8>>(3)?),
                stat: stat_from(r.get(4)?, r.get(5)?, r.get(6)?),
                sha1: r.get(7)?,
                attempts: r.get::<_, i64>(8)?.max(0) as u32,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The earliest retry time among queued files of `account` that are not due yet.
    pub fn next_retry_at(&mut self, account: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MIN(f.next_attempt_at) FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state = 'queued' AND f.next_attempt_at IS NOT NULL",
            [account],
            |r| r.get(0),
        )?)
    }

    /// The fewest attempts among queued files of `account` waiting to be tried again (`None`
    /// when none waits): `--once` stops waiting once every retry has used its attempts.
    pub fn fewest_retry_attempts(&mut self, account: &str) -> Result<Option<u32>, StoreError> {
        let fewest: Option<i64> = self.conn.query_row(
            "SELECT MIN(f.attempts) FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state = 'queued' AND f.next_attempt_at IS NOT NULL",
            [account],
            |r| r.get(0),
        )?;
        Ok(fewest.map(|n| n.max(0) as u32))
    }

    /// Number of files of `account` waiting for upload.
    pub fn queue_depth(&mut self, account: &str) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state IN ('queued', 'uploading')",
            [account],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Writes the intent to upload `ids` before the request goes out.
    pub fn mark_uploading(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.set_state(
            ids,
            "UPDATE files SET state = 'uploading' WHERE id = ?1 AND state = 'queued'",
        )
    }

    /// After a crash, uploads whose outcome is unknown go back to the queue; the next
    /// bulk-upload-check finds the ones that did arrive, so nothing is sent twice. A new start
    /// also tries waiting files at once instead of sitting out an earlier run's backoff.
    pub fn requeue_interrupted(&mut self) -> Result<usize, StoreError> {
        let interrupted = self.conn.execute(
            "UPDATE files SET state = 'queued', next_attempt_at = NULL WHERE state = 'uploading'",
            [],
        )?;
        self.conn.execute(
            "UPDATE files SET next_attempt_at = NULL WHERE state = 'queued'",
            [],
        )?;
        Ok(interrupted)
    }

    /// Links `ids` to `asset_id`.
    pub fn link(&mut self, ids: &[i64], asset_id: &str, now_ms: i64) -> Result<(), StoreError> {
        self.link_groups(&[(ids.to_vec(), asset_id.to_owned())], now_ms)
    }

    /// Links several groups of files, each to its asset, in one transaction (a round that finds
    /// thousands of photos already in Immich records them in one go).
    pub fn link_groups(
        &mut self,
        groups: &[(Vec<i64>, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET state = 'synced', asset_id = ?2, attempts = 0, last_error = NULL,
                        next_attempt_at = NULL, synced_at = ?3, remote_gone_at = NULL,
                        remote_gone_how = NULL
                 WHERE id = ?1 AND state IN ('queued', 'uploading')",
            )?;
            for (ids, asset_id) in groups {
                for id in ids {
                    stmt.execute(params![id, asset_id, now_ms])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts `ids` back in the queue after a transient failure, to be tried at `next_at_ms`.
    pub fn retry_later(
        &mut self,
        ids: &[i64],
        error: &str,
        next_at_ms: i64,
        count_attempt: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET state = 'queued', last_error = ?2, next_attempt_at = ?3,
                        attempts = attempts + ?4
                 WHERE id = ?1 AND state IN ('queued', 'uploading')",
            )?;
            for id in ids {
                stmt.execute(params![id, error, next_at_ms, i64::from(count_attempt)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that the server rejected `ids` for good.
    pub fn fail(&mut self, ids: &[i64], error: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET state = 'failed', last_error = ?2, attempts = attempts + 1,
                        next_attempt_at = NULL
                 WHERE id = ?1 AND state IN ('queued', 'uploading')",
            )?;
            for id in ids {
                stmt.execute(params![id, error])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Synced files of `account` whose local copy is gone.
    pub fn missing_files(&mut self, account: &str) -> Result<Vec<MissingFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.folder_id, f.rel_path, f.asset_id,
                    COALESCE(f.born_at, f.first_seen_at), f.missing_since, f.sha1
             FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state = 'missing' AND f.asset_id IS NOT NULL
             ORDER BY f.id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(MissingFile {
                id: r.get(0)?,
                folder: FolderId(r.get(1)?),
                rel: paths::from_bytes(&r.get::<_, Vec<u8>>(2)?),
                asset_id: r.get(3)?,
                born_at: r.get(4)?,
                sha1: r.get(6)?,
                missing_since: r.get::<_, Option<i64>>(5)?.unwrap_or_default(),
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// How many files of `account` other than the missing ones still use `asset_id`.
    pub fn live_references(&mut self, account: &str, asset_id: &str) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.asset_id = ?2 AND f.state <> 'missing'",
            params![account, asset_id],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Whether a file of the same name and size as the file `id` now sits, in the same folder,
    /// where an `exclude` pattern leaves it out (`reason_prefix` starts the skip reason): the
    /// photo was most likely moved there, which is not a delete.
    ///
    /// The skipped files are found through the state index (`+s.folder_id` keeps SQLite from
    /// walking the whole folder by its path index instead): this runs for every file of a
    /// mass delete, and reading the folder each time made 10,000 deletes in a folder of
    /// 100,000 take two minutes to judge.
    pub fn moved_out_of_sync(&mut self, id: i64, reason_prefix: &str) -> Result<bool, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.rel_path, s.rel_path FROM files m JOIN files s
               ON +s.folder_id = m.folder_id AND s.size = m.size AND s.id <> m.id
             WHERE m.id = ?1 AND s.state = 'skipped' AND substr(s.last_error, 1, ?3) = ?2",
        )?;
        let rows = stmt.query_map(
            params![id, reason_prefix, reason_prefix.chars().count() as i64],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )?;
        for row in rows {
            let (missing, skipped) = row?;
            if paths::from_bytes(&missing).file_name() == paths::from_bytes(&skipped).file_name() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Drops rows once a decision about them has been carried out.
    pub fn forget(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.set_state(ids, "DELETE FROM files WHERE id = ?1")
    }

    /// Drops rows of files deleted here once their delete was decided, unless the file came
    /// back meanwhile (the watcher made the row synced or queued again).
    pub fn forget_missing(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.set_state(ids, "DELETE FROM files WHERE id = ?1 AND state = 'missing'")
    }

    /// Up to `limit` synced files of `account` with a row id above `after_id`, in id order, as
    /// the full check asks about them: the library is read a page at a time, and only what the
    /// question needs (the rare file whose answer changes something is read whole afterwards,
    /// with [`Db::synced_files_by_id`]).
    pub fn linked_page(
        &mut self,
        account: &str,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<LinkedFile>, StoreError> {
        // Files by row id are the outer loop (`CROSS JOIN` fixes the order; `+` keeps the state
        // index out): a page is then a range of the table read in order, not every synced row
        // sorted again for each page (0.016 s instead of 0.2 s a page at a million files).
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.sha1, f.asset_id, f.remote_gone_at IS NOT NULL
             FROM files f CROSS JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.id > ?2 AND +f.state = 'synced'
               AND f.asset_id IS NOT NULL AND f.sha1 IS NOT NULL
             ORDER BY f.id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![account, after_id, limit as i64], |r| {
            Ok(LinkedFile {
                id: r.get(0)?,
                sha1: r.get(1)?,
                asset_id: r.get(2)?,
                seen_gone: r.get(3)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The synced files among `ids`, whole, in id order.
    pub fn synced_files_by_id(&mut self, ids: &[i64]) -> Result<Vec<SyncedFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(concat!(
            synced_select!(),
            " WHERE f.id = ?1 AND f.state = 'synced' AND f.asset_id IS NOT NULL
               AND f.sha1 IS NOT NULL"
        ))?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(file) = stmt.query_row([id], synced_row).optional()? {
                files.push(file);
            }
        }
        Ok(files)
    }

    /// Synced files of `account`, all of them.
    pub fn synced_files(&mut self, account: &str) -> Result<Vec<SyncedFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(concat!(
            synced_select!(),
            " WHERE d.account = ?1 AND f.state = 'synced' AND f.asset_id IS NOT NULL
               AND f.sha1 IS NOT NULL
             ORDER BY f.id"
        ))?;
        let rows = stmt.query_map([account], synced_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Synced files of `account` linked to one of `asset_ids` (the trash feed's answer).
    pub fn synced_with_assets(
        &mut self,
        account: &str,
        asset_ids: &[String],
    ) -> Result<Vec<SyncedFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(concat!(
            synced_select!(),
            " WHERE d.account = ?1 AND f.state = 'synced' AND f.asset_id = ?2
               AND f.sha1 IS NOT NULL
             ORDER BY f.id"
        ))?;
        let mut out = Vec::new();
        for asset in asset_ids {
            for row in stmt.query_map(params![account, asset], synced_row)? {
                out.push(row?);
            }
        }
        Ok(out)
    }

    /// Synced files of `account` whose asset was seen gone from Immich and that wait for the
    /// delete guard.
    pub fn remote_gone_files(&mut self, account: &str) -> Result<Vec<SyncedFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(concat!(
            synced_select!(),
            // `+` keeps the state index out: the few gone files come off their own index.
            " WHERE d.account = ?1 AND +f.state = 'synced' AND f.remote_gone_at IS NOT NULL
             ORDER BY f.id"
        ))?;
        let rows = stmt.query_map([account], synced_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Records that the assets of files were gone from Immich at the time given with each (the
    /// first sighting counts). Each mark names the asset it was made for, and a file that
    /// moved on to other content or another asset since it was read keeps its new link clean:
    /// the remote check runs beside the scan. Returns the files marked.
    pub fn mark_remote_gone(&mut self, marks: &[RemoteGoneMark]) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut marked = Vec::with_capacity(marks.len());
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET remote_gone_at = COALESCE(remote_gone_at, ?3),
                        remote_gone_how = CASE WHEN remote_gone_how = 'purged' THEN 'purged' ELSE ?2 END
                 WHERE id = ?1 AND asset_id = ?4",
            )?;
            for mark in marks {
                if stmt.execute(params![
                    mark.file_id,
                    mark.how.as_str(),
                    mark.at_ms,
                    mark.asset_id
                ])? > 0
                {
                    marked.push(mark.file_id);
                }
            }
        }
        tx.commit()?;
        Ok(marked)
    }

    /// The asset `asset_id` of the file `id` is alive again (restored in Immich), if the file
    /// is still linked to it: nothing waits any more. Returns whether it was.
    pub fn clear_remote_gone_of(&mut self, id: i64, asset_id: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE files SET remote_gone_at = NULL, remote_gone_how = NULL
             WHERE id = ?1 AND asset_id = ?2",
            params![id, asset_id],
        )?;
        Ok(changed > 0)
    }

    /// The asset of `id` is alive again (restored in Immich): nothing waits any more.
    pub fn clear_remote_gone(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE files SET remote_gone_at = NULL, remote_gone_how = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Lowers the age origin of the file `id` to `born_ms` if that is earlier (the asset in
    /// Immich turned out to be older than the local file).
    pub fn lower_born_at(&mut self, id: i64, born_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE files SET born_at = MIN(COALESCE(born_at, ?2), ?2) WHERE id = ?1",
            params![id, born_ms],
        )?;
        Ok(())
    }

    /// Old assets of changed files whose new version is linked, oldest first.
    pub fn replaced_assets(&mut self, account: &str) -> Result<Vec<ReplacedAsset>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.file_id, f.folder_id, f.rel_path, r.asset_id, r.sha1, r.born_at,
                    r.replaced_at, f.asset_id
             FROM replaced_assets r JOIN files f ON f.id = r.file_id
                  JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.state = 'synced' AND f.asset_id IS NOT NULL
             ORDER BY r.id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(ReplacedAsset {
                id: r.get(0)?,
                file_id: r.get(1)?,
                folder: FolderId(r.get(2)?),
                rel: paths::from_bytes(&r.get::<_, Vec<u8>>(3)?),
                asset_id: r.get(4)?,
                sha1: r.get(5)?,
                born_at: r.get(6)?,
                replaced_at: r.get(7)?,
                new_asset_id: r.get(8)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Forgets replaced assets once they were dealt with.
    pub fn forget_replaced(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.set_state(ids, "DELETE FROM replaced_assets WHERE id = ?1")
    }

    /// Points a synced file at another asset holding the same content, if it is still linked
    /// to `old_asset` (a file that changed since it was read is left to its new upload).
    /// Returns whether it was.
    pub fn relink(&mut self, id: i64, old_asset: &str, asset_id: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE files SET asset_id = ?2, remote_gone_at = NULL, remote_gone_how = NULL
             WHERE id = ?1 AND asset_id = ?3 AND state = 'synced'",
            params![id, asset_id, old_asset],
        )?;
        Ok(changed > 0)
    }

    /// Marks files whose asset was deleted in Immich but whose local copy is kept.
    pub fn mark_remote_deleted(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.set_state(
            ids,
            "UPDATE files SET state = 'remote_deleted' WHERE id = ?1",
        )
    }

    /// Counts per state for one folder.
    pub fn folder_counts(&mut self, folder: FolderId) -> Result<FolderCounts, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT state, COUNT(*) FROM files WHERE folder_id = ?1 GROUP BY state",
        )?;
        let rows = stmt.query_map([folder.0], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut counts = FolderCounts::default();
        for row in rows {
            let (state, n) = row?;
            let n = n.max(0) as u64;
            match FileState::parse(&state) {
                FileState::Synced | FileState::RemoteDeleted => counts.synced += n,
                FileState::Queued | FileState::Uploading => counts.queued += n,
                FileState::Failed => counts.failed += n,
                FileState::Skipped => counts.skipped += n,
                FileState::Missing => counts.missing += n,
            }
        }
        Ok(counts)
    }

    /// The state of one file, for tests and tools.
    pub fn file_state(
        &mut self,
        folder: FolderId,
        rel: &std::path::Path,
    ) -> Result<Option<(FileState, Option<String>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT state, asset_id FROM files WHERE folder_id = ?1 AND rel_path = ?2",
                params![folder.0, paths::to_bytes(rel)],
                |r| Ok((FileState::parse(&r.get::<_, String>(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    fn set_state(&mut self, ids: &[i64], sql: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(sql)?;
            for id in ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Current row of one path, as `apply_one` needs it.
struct Current {
    id: i64,
    state: FileState,
    sha1: Option<String>,
    stat: Stat,
    last_error: Option<String>,
    asset_id: Option<String>,
    born_at: Option<i64>,
}

/// The earliest age origin of `sha1` among the files of `folder`'s account.
fn earliest_birth(
    tx: &rusqlite::Transaction<'_>,
    folder: FolderId,
    sha1: &str,
) -> Result<Option<i64>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT MIN(f.born_at) FROM files f JOIN folders d ON d.id = f.folder_id
         WHERE f.sha1 = ?2 AND d.account = (SELECT account FROM folders WHERE id = ?1)",
    )?;
    Ok(stmt.query_row(params![folder.0, sha1], |r| r.get(0))?)
}

fn current(
    tx: &rusqlite::Transaction<'_>,
    folder: FolderId,
    rel: &[u8],
) -> Result<Option<Current>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, state, sha1, size, mtime_ns, file_key, last_error, asset_id, born_at
         FROM files WHERE folder_id = ?1 AND rel_path = ?2",
    )?;
    Ok(stmt
        .query_row(params![folder.0, rel], |r| {
            Ok(Current {
                id: r.get(0)?,
                state: FileState::parse(&r.get::<_, String>(1)?),
                sha1: r.get(2)?,
                stat: stat_from(r.get(3)?, r.get(4)?, r.get(5)?),
                last_error: r.get(6)?,
                asset_id: r.get(7)?,
                born_at: r.get(8)?,
            })
        })
        .optional()?)
}

fn apply_one(
    tx: &rusqlite::Transaction<'_>,
    folder: FolderId,
    observation: &Observation,
    now_ms: i64,
) -> Result<ApplyEffect, StoreError> {
    match observation {
        Observation::Hashed {
            rel,
            stat,
            sha1,
            born_ms,
        } => {
            let rel = paths::to_bytes(rel);
            // The same content elsewhere in the account (a rename, a move, a copy) keeps its age.
            let born = earliest_birth(tx, folder, sha1)?.map_or(*born_ms, |b| b.min(*born_ms));
            let Some(row) = current(tx, folder, &rel)? else {
                tx.prepare_cached(
                    "INSERT INTO files (folder_id, rel_path, size, mtime_ns, file_key, sha1, state,
                                        first_seen_at, born_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8)",
                )?
                .execute(params![
                    folder.0,
                    rel,
                    stat.size as i64,
                    stat.mtime_ns,
                    key_param(stat),
                    sha1,
                    now_ms,
                    born
                ])?;
                return Ok(ApplyEffect::Queued);
            };
            let same_content = row.sha1.as_deref() == Some(sha1.as_str());
            let effect = match row.state {
                FileState::Synced | FileState::RemoteDeleted if same_content => {
                    ApplyEffect::Unchanged
                }
                FileState::Missing if same_content => ApplyEffect::Restored,
                FileState::Uploading | FileState::Queued if same_content => ApplyEffect::Unchanged,
                _ => ApplyEffect::Queued,
            };
            match effect {
                ApplyEffect::Unchanged => {
                    tx.prepare_cached(
                        "UPDATE files SET size = ?2, mtime_ns = ?3, file_key = ?4,
                                born_at = MIN(COALESCE(born_at, ?5), ?5)
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        row.id,
                        stat.size as i64,
                        stat.mtime_ns,
                        key_param(stat),
                        born
                    ])?;
                }
                ApplyEffect::Restored => {
                    // Back again: a delete held for it is moot.
                    tx.prepare_cached(
                        "DELETE FROM held_deletes WHERE file_id = ?1 AND replaced_id IS NULL",
                    )?
                    .execute([row.id])?;
                    tx.prepare_cached(
                        "UPDATE files SET state = 'synced', missing_since = NULL, size = ?2,
                                mtime_ns = ?3, file_key = ?4,
                                born_at = MIN(COALESCE(born_at, ?5), ?5)
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        row.id,
                        stat.size as i64,
                        stat.mtime_ns,
                        key_param(stat),
                        born
                    ])?;
                }
                _ => {
                    // The asset of the old content follows the delete policy like a local
                    // delete, once the new version is in Immich.
                    if matches!(row.state, FileState::Synced | FileState::Missing)
                        && let (Some(asset), Some(old_sha1)) = (&row.asset_id, &row.sha1)
                    {
                        tx.prepare_cached(
                            "DELETE FROM held_deletes WHERE file_id = ?1 AND replaced_id IS NULL",
                        )?
                        .execute([row.id])?;
                        tx.prepare_cached(
                            "INSERT INTO replaced_assets (file_id, asset_id, sha1, born_at,
                                                          replaced_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(params![
                            row.id,
                            asset,
                            old_sha1,
                            row.born_at.unwrap_or(now_ms),
                            now_ms
                        ])?;
                    }
                    // New content is a new asset; its age is its own birth time, or that of the
                    // same content elsewhere.
                    tx.prepare_cached(
                        "UPDATE files SET state = 'queued', sha1 = ?2, size = ?3, mtime_ns = ?4,
                                file_key = ?5, asset_id = NULL, attempts = 0, last_error = NULL,
                                next_attempt_at = NULL, missing_since = NULL, synced_at = NULL,
                                first_seen_at = ?6, born_at = ?7, remote_gone_at = NULL,
                                remote_gone_how = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        row.id,
                        sha1,
                        stat.size as i64,
                        stat.mtime_ns,
                        key_param(stat),
                        now_ms,
                        born
                    ])?;
                }
            }
            Ok(effect)
        }
        Observation::Skipped { rel, stat, reason } => {
            let rel = paths::to_bytes(rel);
            match current(tx, folder, &rel)? {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO files (folder_id, rel_path, size, mtime_ns, file_key, state,
                                            last_error, first_seen_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'skipped', ?6, ?7)",
                    )?
                    .execute(params![
                        folder.0,
                        rel,
                        stat.size as i64,
                        stat.mtime_ns,
                        key_param(stat),
                        reason,
                        now_ms
                    ])?;
                    Ok(ApplyEffect::Skipped)
                }
                // A synced photo that turns empty or odd is being rewritten: keep its link.
                Some(row) if matches!(row.state, FileState::Synced | FileState::RemoteDeleted) => {
                    Ok(ApplyEffect::Unchanged)
                }
                Some(row)
                    if row.state == FileState::Skipped
                        && row.last_error.as_deref() == Some(reason.as_str()) =>
                {
                    if row.stat != *stat {
                        tx.prepare_cached(
                            "UPDATE files SET size = ?2, mtime_ns = ?3, file_key = ?4 WHERE id = ?1",
                        )?
                        .execute(params![row.id, stat.size as i64, stat.mtime_ns, key_param(stat)])?;
                    }
                    Ok(ApplyEffect::Unchanged)
                }
                Some(row) => {
                    tx.prepare_cached(
                        "UPDATE files SET state = 'skipped', last_error = ?2, size = ?3,
                                mtime_ns = ?4, file_key = ?5, sha1 = NULL, asset_id = NULL,
                                next_attempt_at = NULL, missing_since = NULL
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        row.id,
                        reason,
                        stat.size as i64,
                        stat.mtime_ns,
                        key_param(stat)
                    ])?;
                    Ok(ApplyEffect::Skipped)
                }
            }
        }
        Observation::Gone { rel } => {
            let rel = paths::to_bytes(rel);
            match current(tx, folder, &rel)? {
                None => Ok(ApplyEffect::Unchanged),
                Some(row) if row.state == FileState::Missing => Ok(ApplyEffect::Unchanged),
                Some(row) if row.state == FileState::Synced => {
                    tx.prepare_cached(
                        "UPDATE files SET state = 'missing', missing_since = ?2 WHERE id = ?1",
                    )?
                    .execute(params![row.id, now_ms])?;
                    Ok(ApplyEffect::Missing)
                }
                Some(row) => {
                    tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
                        .execute([row.id])?;
                    Ok(ApplyEffect::Forgotten)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::test_fixtures::{STAT, hashed, setup};

    #[test]
    fn a_file_goes_from_queued_to_synced_to_missing() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                assert_eq!(
                    db.apply_observations(folder, &[hashed("a.jpg", "aa")], 1)?,
                    vec![ApplyEffect::Queued]
                );
                let due = db.due_uploads("alice", 1, 10)?;
                assert_eq!(due.len(), 1);
                db.mark_uploading(&[due[0].id])?;
                db.link(&[due[0].id], "asset-1", 2)?;
                assert_eq!(
                    db.due_uploads("alice", 2, 10)?.len(),
                    0,
                    "synced files are not re-uploaded"
                );
                assert_eq!(
                    db.apply_observations(folder, &[hashed("a.jpg", "aa")], 3)?,
                    vec![ApplyEffect::Unchanged]
                );
                assert_eq!(
                    db.apply_observations(
                        folder,
                        &[Observation::Gone {
                            rel: "a.jpg".into()
                        }],
                        4
                    )?,
                    vec![ApplyEffect::Missing]
                );
                let missing = db.missing_files("alice")?;
                assert_eq!(missing.len(), 1);
                assert_eq!(missing[0].asset_id, "asset-1");
                assert_eq!(missing[0].born_at, 1);
                assert_eq!(missing[0].missing_since, 4);
                Ok(())
            })
            .unwrap();
    }

    /// The remote check reads a page of synced files and answers for them later; a file whose
    /// content changed and was uploaded again in between (the scan and the uploads run beside
    /// it) is not marked gone or relinked on the strength of its old asset: in a mirror folder
    /// a mark would send the new photo to the OS trash.
    #[test]
    fn remote_answers_apply_only_to_the_asset_they_were_about() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(folder, &[hashed("a.jpg", "aa"), hashed("b.jpg", "bb")], 1)?;
                let due = db.due_uploads("alice", 1, 10)?;
                let ids: Vec<i64> = due.iter().map(|f| f.id).collect();
                db.mark_uploading(&ids)?;
                db.link(&ids[..1], "asset-a", 2)?;
                db.link(&ids[1..], "asset-b", 2)?;
                let read = db.linked_page("alice", 0, 10)?;
                assert_eq!(read.len(), 2);
                // a.jpg is rewritten with other content before the answers come back.
                let changed = Observation::Hashed {
                    rel: "a.jpg".into(),
                    stat: Stat { size: 11, ..STAT },
                    sha1: "cc".into(),
                    born_ms: 1,
                };
                db.apply_observations(folder, &[changed], 3)?;
                // ... and the new content is uploaded before them too.
                db.mark_uploading(&ids[..1])?;
                db.link(&ids[..1], "asset-c", 3)?;
                let marks: Vec<RemoteGoneMark> = read
                    .iter()
                    .map(|f| RemoteGoneMark {
                        file_id: f.id,
                        asset_id: f.asset_id.clone(),
                        how: RemoteGone::Purged,
                        at_ms: 4,
                    })
                    .collect();
                assert_eq!(db.mark_remote_gone(&marks)?, [read[1].id]);
                let gone: Vec<String> = db
                    .remote_gone_files("alice")?
                    .into_iter()
                    .map(|f| f.asset_id)
                    .collect();
                assert_eq!(gone, ["asset-b"], "the new upload is not marked gone");
                assert!(!db.clear_remote_gone_of(read[0].id, "asset-a")?);
                assert!(!db.relink(read[0].id, "asset-a", "asset-x")?);
                assert!(db.relink(read[1].id, "asset-b", "asset-y")?);
                let linked: Vec<String> = db
                    .linked_page("alice", 0, 10)?
                    .into_iter()
                    .map(|f| f.asset_id)
                    .collect();
                assert_eq!(
                    linked,
                    ["asset-c", "asset-y"],
                    "the new upload keeps its asset"
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn new_files_go_first_in_the_order_found_then_retries_once_due() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(
                    folder,
                    &[
                        hashed("a.jpg", "aa"),
                        hashed("b.jpg", "bb"),
                        hashed("c.jpg", "cc"),
                    ],
                    1,
                )?;
                let b = db.due_uploads("alice", 1, 10)?[1].id;
                db.retry_later(&[b], "server busy", 100, true)?;
                let names = |due: Vec<PendingUpload>| -> Vec<String> {
                    due.iter().map(|p| p.rel.display().to_string()).collect()
                };
                assert_eq!(names(db.due_uploads("alice", 50, 10)?), ["a.jpg", "c.jpg"]);
                assert_eq!(
                    names(db.due_uploads("alice", 100, 10)?),
                    ["a.jpg", "c.jpg", "b.jpg"]
                );
                assert_eq!(names(db.due_uploads("alice", 100, 1)?), ["a.jpg"]);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn changed_content_is_queued_as_a_new_asset() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(folder, &[hashed("a.jpg", "aa")], 1)?;
                let id = db.due_uploads("alice", 1, 10)?[0].id;
                db.link(&[id], "asset-1", 2)?;
                assert_eq!(
                    db.apply_observations(folder, &[hashed("a.jpg", "bb")], 5)?,
                    vec![ApplyEffect::Queued]
                );
                let due = db.due_uploads("alice", 5, 10)?;
                assert_eq!(due[0].sha1, "bb");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn interrupted_uploads_return_to_the_queue_on_restart() {
        let (dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(folder, &[hashed("a.jpg", "aa")], 1)?;
                let id = db.due_uploads("alice", 1, 10)?[0].id;
                db.mark_uploading(&[id])
            })
            .unwrap();
        drop(store);
        let reopened = Store::open(&dir.path().join("state.db")).unwrap();
        let requeued = reopened.with(|db| db.requeue_interrupted()).unwrap();
        assert_eq!(requeued, 1);
        assert_eq!(
            reopened
                .with(|db| db.due_uploads("alice", 1, 10))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn skip_reasons_are_recorded_once() {
        let (_dir, store, folder) = setup();
        let skip = Observation::Skipped {
            rel: "notes.txt".into(),
            stat: STAT,
            reason: "unsupported".into(),
        };
        store
            .with(|db| {
                assert_eq!(
                    db.apply_observations(folder, std::slice::from_ref(&skip), 1)?,
                    vec![ApplyEffect::Skipped]
                );
                assert_eq!(
                    db.apply_observations(folder, std::slice::from_ref(&skip), 2)?,
                    vec![ApplyEffect::Unchanged]
                );
                assert_eq!(db.folder_counts(folder)?.skipped, 1);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn files_that_never_reached_immich_are_forgotten_when_gone() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(folder, &[hashed("a.jpg", "aa")], 1)?;
                assert_eq!(
                    db.apply_observations(
                        folder,
                        &[Observation::Gone {
                            rel: "a.jpg".into()
                        }],
                        2
                    )?,
                    vec![ApplyEffect::Forgotten]
                );
                assert!(
                    db.missing_files("alice")?.is_empty(),
                    "nothing to delete in Immich"
                );
                Ok(())
            })
            .unwrap();
    }
}
