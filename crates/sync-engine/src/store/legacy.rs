//! The older headless service's state file, read as it is and imported once.
//!
//! That service kept one `assets` table (see `immich-api.md` §12): per user and path, the raw
//! SHA-1, the asset id and `created_at`, the file's birth time, which is what its delete age was
//! measured from. Users moving over point `database_path` at that file (or run
//! `immich-syncd import-state --from OLD.db`), and expect nothing to be uploaded twice and no
//! photo to be deleted that the older service would have kept. So each row becomes a file row
//! with its checksum, asset and age, recorded against the file's current size, mtime and inode
//! without reading it (the older service trusted the same), and the `assets` table itself is
//! never written, so the user can go back.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Db, FolderId, StoreError};
use crate::local;
use crate::paths;

/// Where the age of a photo is unknown: the older service recorded no `created_at`, which it
/// took as "never delete". The delete policy keeps such photos.
pub const UNKNOWN_BIRTH: i64 = i64::MIN;

/// One row of the older service's `assets` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRow {
    /// The `[[user]].user_id` of its config (this engine's account name).
    pub user_id: String,
    /// Path relative to that user's folder.
    pub rel: PathBuf,
    /// SHA-1 of the whole file, hex.
    pub sha1: String,
    /// The Immich asset, once uploaded.
    pub asset_id: Option<String>,
    /// The file's birth time (unix ms); `None` where it recorded none.
    pub created_at: Option<i64>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LegacyImport {
    /// Files recorded as in Immich, with their asset and age.
    pub imported: u64,
    /// Files the older service had not uploaded yet: queued with their checksum.
    pub queued: u64,
    /// Uploaded files that are gone from disk: judged by the delete policy with their age.
    pub missing: u64,
    /// Paths this store already knew: left as they are.
    pub known: u64,
}

/// Reads the older service's rows from the file at `path`; `None` when it has no `assets`
/// table of that shape. The file is opened read-only.
pub fn legacy_rows(path: &Path) -> Result<Option<Vec<LegacyRow>>, StoreError> {
    if !path.is_file() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    let columns: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('assets')")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let wanted = [
        "user_id",
        "asset_path",
        "checksum",
        "asset_id",
        "created_at",
    ];
    if !wanted.iter().all(|w| columns.iter().any(|c| c == w)) {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT user_id, asset_path, checksum, asset_id, created_at FROM assets ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let checksum: Vec<u8> = r.get(2)?;
        let created: Option<String> = r.get(4)?;
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            checksum,
            r.get::<_, Option<String>>(3)?,
            created,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (user_id, asset_path, checksum, asset_id, created) = row?;
        // A checksum that is not 20 bytes is not a SHA-1: that file is hashed again instead.
        if checksum.len() != 20 {
            continue;
        }
        out.push(LegacyRow {
            user_id,
            rel: PathBuf::from(asset_path),
            sha1: hex::encode(checksum),
            asset_id: asset_id.filter(|a| !a.is_empty()),
            created_at: created.as_deref().and_then(parse_created_at),
        });
    }
    Ok(Some(out))
}

/// `'%Y-%m-%dT%H:%M:%SZ'` (UTC) as unix ms; other RFC 3339 forms are accepted too.
fn parse_created_at(text: &str) -> Option<i64> {
    let parsed =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

fn meta_key(account: &str) -> String {
    format!("legacy_import:{account}")
}

impl Db<'_> {
    /// When the older service's rows of `account` were imported (unix ms), if they were.
    pub fn legacy_imported_at(&mut self, account: &str) -> Result<Option<i64>, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [meta_key(account)],
                |r| r.get(0),
            )
            .optional()?;
        Ok(value.and_then(|v| v.parse().ok()))
    }

    /// Records `account` as imported with nothing to import (the older file has none of its
    /// rows), so the file is not read again at every start.
    pub fn mark_legacy_imported(&mut self, account: &str, now_ms: i64) -> Result<(), StoreError> {
        self.set_meta(&meta_key(account), &now_ms.to_string())
    }

    /// Forgets which accounts were imported, so that a newly named state file is imported.
    pub fn clear_legacy_imports(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key LIKE 'legacy_import:%'", [])?;
        Ok(())
    }

    /// Imports `rows` into `folder` (rooted at `root`), in one transaction, and records that
    /// `account` was imported. Blocking: stats every file (never reads one).
    pub fn import_legacy(
        &mut self,
        account: &str,
        folder: FolderId,
        root: &Path,
        rows: &[LegacyRow],
        now_ms: i64,
    ) -> Result<LegacyImport, StoreError> {
        let mut report = LegacyImport::default();
        let tx = self.conn.transaction()?;
        {
            let mut exists =
                tx.prepare_cached("SELECT 1 FROM files WHERE folder_id = ?1 AND rel_path = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO files (folder_id, rel_path, size, mtime_ns, file_key, sha1, asset_id,
                                    state, first_seen_at, born_at, synced_at, missing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for row in rows {
                let rel = paths::to_bytes(&row.rel);
                if exists
                    .query_row(params![folder.0, rel], |_| Ok(()))
                    .optional()?
                    .is_some()
                {
                    report.known += 1;
                    continue;
                }
                let meta = std::fs::symlink_metadata(root.join(&row.rel))
                    .ok()
                    .filter(|m| m.is_file());
                let birth = meta.as_ref().map(local::birth_ms);
                let born = match (row.created_at, &row.asset_id) {
                    (Some(created), _) => birth.map_or(created, |b| b.min(created)),
                    // Uploaded, but with no age: the older service never deleted those.
                    (None, Some(_)) => UNKNOWN_BIRTH,
                    (None, None) => birth.unwrap_or(now_ms),
                };
                let (state, missing_since) = match (&meta, &row.asset_id) {
                    (Some(_), Some(_)) => ("synced", None),
                    (Some(_), None) => ("queued", None),
                    (None, Some(_)) => ("missing", Some(now_ms)),
                    (None, None) => continue,
                };
                let stat = meta.as_ref().map(local::stat_of);
                insert.execute(params![
                    folder.0,
                    rel,
                    stat.map_or(0, |s| s.size as i64),
                    stat.map_or(0, |s| s.mtime_ns),
                    stat.and_then(|s| s.file_key).map(|k| k as i64),
                    row.sha1,
                    row.asset_id,
                    state,
                    now_ms,
                    born,
                    (state == "synced").then_some(now_ms),
                    missing_since
                ])?;
                match state {
                    "synced" => report.imported += 1,
                    "queued" => report.queued += 1,
                    _ => report.missing += 1,
                }
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![meta_key(account), now_ms.to_string()],
        )?;
        tx.commit()?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileState, Store};
    use fake_immich::older_service::{OlderRow, write_state_file};
    use time::macros::datetime;

    #[test]
    fn the_older_state_file_is_imported_in_place_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("photos");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("old.jpg"), b"old").unwrap();
        std::fs::write(root.join("new.jpg"), b"new").unwrap();
        let db = dir.path().join("state.db");
        let row =
            |user: &str, path: &str, content: &[u8], asset: Option<&str>, created_at| OlderRow {
                user_id: user.into(),
                asset_path: path.into(),
                content: content.to_vec(),
                asset_id: asset.map(Into::into),
                created_at,
            };
        write_state_file(
            &db,
            &[
                row(
                    "alice",
                    "old.jpg",
                    b"old",
                    Some("asset-old"),
                    Some(datetime!(2024-11-25 10:00 UTC)),
                ),
                row(
                    "alice",
                    "new.jpg",
                    b"new",
                    None,
                    Some(datetime!(2026-11-20 10:00 UTC)),
                ),
                row("alice", "gone.jpg", b"gone", Some("asset-gone"), None),
                row("bob", "b.jpg", b"b", Some("asset-b"), None),
            ],
        )
        .unwrap();
        let rows = legacy_rows(&db).unwrap().expect("an assets table");
        assert_eq!(rows.len(), 4);
        let store = Store::open(&db).unwrap();
        let alice: Vec<LegacyRow> = rows.into_iter().filter(|r| r.user_id == "alice").collect();
        let report = store
            .with(|db| {
                let folder = db.ensure_folder("alice", &root)?;
                let report = db.import_legacy("alice", folder, &root, &alice, 1_000)?;
                assert_eq!(
                    db.file_state(folder, Path::new("old.jpg"))?,
                    Some((FileState::Synced, Some("asset-old".into())))
                );
                let missing = db.missing_files("alice")?;
                assert_eq!(missing.len(), 1);
                assert_eq!(
                    missing[0].born_at, UNKNOWN_BIRTH,
                    "no created_at: never deleted"
                );
                assert!(db.legacy_imported_at("alice")?.is_some());
                let again = db.import_legacy("alice", folder, &root, &alice, 2_000)?;
                assert_eq!(again.known, 3, "a second import changes nothing");
                Ok(report)
            })
            .unwrap();
        assert_eq!(
            report,
            LegacyImport {
                imported: 1,
                queued: 1,
                missing: 1,
                known: 0
            }
        );
        let synced = store.with(|db| db.synced_files("alice")).unwrap();
        assert_eq!(
            synced[0].born_at,
            parse_created_at("2024-11-25T10:00:00Z").unwrap(),
            "the age the older service measured from"
        );
        drop(store);
        assert_eq!(
            legacy_rows(&db).unwrap().unwrap().len(),
            4,
            "the older service's table is left as it was"
        );
    }
}
