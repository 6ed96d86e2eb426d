//! The action journal: every delete the engine carried out, either way, so that the user can
//! see what was done and why, and undo it from the trash it went to.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, params};

use super::{Db, DeleteDirection, StoreError};
use crate::paths;

/// One delete the engine carried out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalEntry {
    /// Id the user undoes it by.
    pub id: i64,
    /// Account.
    pub account: String,
    /// `to_immich`: an asset moved to the Immich trash; `to_local`: a file moved to the OS
    /// trash.
    pub direction: DeleteDirection,
    /// The local file (absolute).
    pub path: PathBuf,
    /// The asset.
    pub asset_id: Option<String>,
    /// The content.
    pub sha1: Option<String>,
    /// Where the OS trash keeps the file (platform id), for `to_local`.
    #[serde(skip)]
    pub trash_id: Option<Vec<u8>>,
    /// When (unix ms).
    pub at: i64,
    /// Why, in plain words.
    pub reason: String,
    /// When it was undone, if it was.
    pub undone_at: Option<i64>,
}

/// A delete about to be journaled.
#[derive(Debug, Clone)]
pub struct NewJournalEntry {
    /// Which way.
    pub direction: DeleteDirection,
    /// The local file.
    pub path: PathBuf,
    /// The asset.
    pub asset_id: Option<String>,
    /// The content.
    pub sha1: Option<String>,
    /// Where the OS trash keeps the file.
    pub trash_id: Option<Vec<u8>>,
    /// Why.
    pub reason: String,
}

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    Ok(JournalEntry {
        id: r.get(0)?,
        account: r.get(1)?,
        direction: DeleteDirection::parse(&r.get::<_, String>(2)?),
        path: paths::from_bytes(&r.get::<_, Vec<u8>>(3)?),
        asset_id: r.get(4)?,
        sha1: r.get(5)?,
        trash_id: r.get(6)?,
        at: r.get(7)?,
        reason: r.get(8)?,
        undone_at: r.get(9)?,
    })
}

/// Writes one entry inside the caller's transaction; returns its id.
fn insert_entry(
    tx: &rusqlite::Transaction<'_>,
    account: &str,
    entry: &NewJournalEntry,
    now_ms: i64,
) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "INSERT INTO journal (account, direction, path, asset_id, sha1, trash_id, at, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        account,
        entry.direction.as_str(),
        paths::to_bytes(&entry.path),
        entry.asset_id,
        entry.sha1,
        entry.trash_id,
        now_ms,
        entry.reason
    ])?;
    Ok(tx.last_insert_rowid())
}

const COLUMNS: &str =
    "id, account, direction, path, asset_id, sha1, trash_id, at, reason, undone_at";

impl Db<'_> {
    /// Journals deletes about to be carried out for `account`; returns their ids, in order.
    pub fn journal_add(
        &mut self,
        account: &str,
        entries: &[NewJournalEntry],
        now_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.transaction()?;
        let ids = entries
            .iter()
            .map(|entry| insert_entry(&tx, account, entry, now_ms))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(ids)
    }

    /// Journals one delete about to be carried out, and forgets the file row `file_id` in the
    /// same transaction: from here on the engine no longer tracks the file, so its move to
    /// the OS trash reads as the engine's, not as a delete by the user. Returns the entry's id.
    pub fn journal_intent(
        &mut self,
        account: &str,
        entry: &NewJournalEntry,
        file_id: i64,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        let id = insert_entry(&tx, account, entry, now_ms)?;
        tx.execute("DELETE FROM files WHERE id = ?1", [file_id])?;
        tx.commit()?;
        Ok(id)
    }

    /// Completes a journaled delete: where the trash keeps the file.
    pub fn journal_done(&mut self, id: i64, trash_id: Option<&[u8]>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE journal SET trash_id = ?2 WHERE id = ?1",
            params![id, trash_id],
        )?;
        Ok(())
    }

    /// Drops a journaled delete that could not be carried out.
    pub fn journal_drop(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM journal WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Journaled deletes of `account` (every account with `None`) since `since_ms`, newest
    /// first, at most `limit`.
    pub fn journal(
        &mut self,
        account: Option<&str>,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM journal WHERE (?1 IS NULL OR account = ?1) AND at >= ?2
             ORDER BY at DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![account, since_ms, limit as i64], entry_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// One journal entry.
    pub fn journal_entry(&mut self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM journal WHERE id = ?1"))?;
        Ok(stmt.query_row([id], entry_row).optional()?)
    }

    /// Records that entry `id` was undone.
    pub fn mark_undone(&mut self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE journal SET undone_at = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Files of `account` with content `sha1` that this engine moved to the OS trash and that
    /// were not put back yet (for a photo restored in Immich).
    pub fn trashed_locally(
        &mut self,
        account: &str,
        sha1: &str,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM journal WHERE account = ?1 AND sha1 = ?2
               AND direction = 'to_local' AND undone_at IS NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![account, sha1], entry_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Files of the asset `asset_id` this engine moved to the OS trash and did not put back
    /// (a live photo's video, which follows its still).
    pub fn trashed_locally_of_asset(
        &mut self,
        account: &str,
        asset_id: &str,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM journal WHERE account = ?1 AND asset_id = ?2
               AND direction = 'to_local' AND undone_at IS NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![account, asset_id], entry_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The asset is in Immich again (restored by this engine for a file that came back, or by
    /// the user): the engine's earlier move of it to the Immich trash no longer stands, so a
    /// later trash of it is the user's and stays.
    pub fn close_engine_trash(
        &mut self,
        account: &str,
        asset_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE journal SET undone_at = ?3 WHERE account = ?1 AND asset_id = ?2
               AND direction = 'to_immich' AND undone_at IS NULL",
            params![account, asset_id, now_ms],
        )?;
        Ok(())
    }

    /// Whether this engine itself moved `asset_id` of `account` to the Immich trash (and that
    /// was not undone): only such an asset is ever restored from the Immich trash.
    pub fn trashed_by_engine(&mut self, account: &str, asset_id: &str) -> Result<bool, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM journal WHERE account = ?1 AND asset_id = ?2
               AND direction = 'to_immich' AND undone_at IS NULL",
            params![account, asset_id],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_journal_remembers_what_the_engine_trashed_until_undone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .with(|db| {
                db.journal_add(
                    "alice",
                    &[NewJournalEntry {
                        direction: DeleteDirection::ToImmich,
                        path: "/p/a.jpg".into(),
                        asset_id: Some("asset-1".into()),
                        sha1: Some("aa".into()),
                        trash_id: None,
                        reason: "deleted here".into(),
                    }],
                    10,
                )?;
                assert!(db.trashed_by_engine("alice", "asset-1")?);
                assert!(!db.trashed_by_engine("bob", "asset-1")?);
                let entries = db.journal(None, 0, 10)?;
                assert_eq!(entries.len(), 1);
                assert_eq!(db.journal(None, 11, 10)?.len(), 0, "--since filters");
                db.mark_undone(entries[0].id, 20)?;
                assert!(!db.trashed_by_engine("alice", "asset-1")?);
                assert_eq!(
                    db.journal_entry(entries[0].id)?.and_then(|e| e.undone_at),
                    Some(20)
                );
                Ok(())
            })
            .unwrap();
    }
}
