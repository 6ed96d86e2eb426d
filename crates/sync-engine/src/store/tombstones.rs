//! Tombstones: content the user deleted in Immich, which must stay deleted.
//!
//! A photo trashed or deleted in Immich by anyone but this engine is remembered per account by
//! its checksum. While the tombstone stands, that content is neither restored from the Immich
//! trash nor uploaded again, from any path or folder: renaming or copying the kept file does not
//! bring it back. The user ends a tombstone by asking to upload it again (`forgive`), or by
//! restoring the asset in Immich (`end`).

use rusqlite::{OptionalExtension, params};

use super::{Db, RemoteGone, StoreError};
use crate::paths;

/// Content deleted in Immich.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tombstone {
    /// Id the user forgets it by.
    pub id: i64,
    /// Account.
    pub account: String,
    /// SHA-1 of the content, hex.
    pub sha1: String,
    /// The asset that held it.
    pub asset_id: Option<String>,
    /// Trashed or deleted for good.
    pub how: RemoteGone,
    /// When the engine first saw it gone (unix ms).
    pub seen_at: i64,
    /// A local path that held it (lossy, for display).
    pub path: Option<String>,
    /// The user asked to upload it again; the tombstone goes once that is done.
    pub forgiven: bool,
}

/// The standing tombstones, counted, and the newest of them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TombstonePage {
    /// How many stand.
    pub standing: u64,
    /// The newest, newest first.
    pub newest: Vec<Tombstone>,
}

/// A new sighting of content gone from Immich.
#[derive(Debug, Clone)]
pub struct Sighting {
    /// SHA-1, hex.
    pub sha1: String,
    /// Its asset.
    pub asset_id: Option<String>,
    /// How it left.
    pub how: RemoteGone,
    /// A local path that held it.
    pub path: Option<std::path::PathBuf>,
}

fn tombstone_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Tombstone> {
    Ok(Tombstone {
        id: r.get(0)?,
        account: r.get(1)?,
        sha1: r.get(2)?,
        asset_id: r.get(3)?,
        how: RemoteGone::parse(&r.get::<_, String>(4)?),
        seen_at: r.get(5)?,
        path: r
            .get::<_, Option<Vec<u8>>>(6)?
            .map(|b| paths::from_bytes(&b).to_string_lossy().into_owned()),
        forgiven: r.get::<_, Option<i64>>(7)?.is_some(),
    })
}

const COLUMNS: &str = "id, account, sha1, asset_id, how, seen_at, path, forgiven_at";

impl Db<'_> {
    /// Records content seen gone from Immich. A purge upgrades a trash; a new sighting of
    /// forgiven content makes it stand again.
    pub fn add_tombstones(
        &mut self,
        account: &str,
        sightings: &[Sighting],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO tombstones (account, sha1, asset_id, how, seen_at, path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (account, sha1) DO UPDATE SET
                    how = CASE WHEN how = 'purged' THEN 'purged' ELSE excluded.how END,
                    asset_id = COALESCE(excluded.asset_id, asset_id),
                    seen_at = CASE WHEN forgiven_at IS NULL THEN seen_at ELSE excluded.seen_at END,
                    path = COALESCE(path, excluded.path),
                    forgiven_at = NULL",
            )?;
            for s in sightings {
                stmt.execute(params![
                    account,
                    s.sha1,
                    s.asset_id,
                    s.how.as_str(),
                    now_ms,
                    s.path.as_deref().map(paths::to_bytes)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The tombstone of `sha1` in `account`, if any (forgiven ones too).
    pub fn tombstone(
        &mut self,
        account: &str,
        sha1: &str,
    ) -> Result<Option<Tombstone>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tombstones WHERE account = ?1 AND sha1 = ?2"
        ))?;
        Ok(stmt
            .query_row(params![account, sha1], tombstone_row)
            .optional()?)
    }

    /// Tombstones of `account` (every account with `None`), newest first.
    pub fn tombstones(&mut self, account: Option<&str>) -> Result<Vec<Tombstone>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tombstones WHERE ?1 IS NULL OR account = ?1
             ORDER BY seen_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([account], tombstone_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// How many tombstones stand (not forgiven), and the newest `limit` of them: what a
    /// window lists. Emptying the Immich trash can leave a whole library of them.
    pub fn standing_tombstones(&mut self, limit: usize) -> Result<TombstonePage, StoreError> {
        let standing: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM tombstones WHERE forgiven_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tombstones WHERE forgiven_at IS NULL
             ORDER BY seen_at DESC, id DESC LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let newest = stmt
            .query_map([limit], tombstone_row)?
            .collect::<Result<_, _>>()?;
        Ok(TombstonePage {
            standing: standing as u64,
            newest,
        })
    }

    /// The user asked to upload this content again ("Upload again", `tombstones forget`): the
    /// files that hold it go back to the queue, and the uploader may now restore the asset
    /// from the Immich trash or upload it anew. `None` forgives every standing tombstone.
    /// Returns how many were forgiven.
    pub fn forgive_tombstones(
        &mut self,
        ids: Option<&[i64]>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let chosen: Vec<(i64, String, String)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, account, sha1 FROM tombstones WHERE forgiven_at IS NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|(id, _, _)| ids.is_none_or(|ids| ids.contains(id)))
                .collect()
        };
        {
            let mut forgive =
                tx.prepare_cached("UPDATE tombstones SET forgiven_at = ?2 WHERE id = ?1")?;
            let mut requeue = tx.prepare_cached(
                "UPDATE files SET state = 'queued', asset_id = NULL, attempts = 0,
                        last_error = NULL, next_attempt_at = NULL, remote_gone_at = NULL,
                        remote_gone_how = NULL
                 WHERE state = 'remote_deleted' AND sha1 = ?2
                   AND folder_id IN (SELECT id FROM folders WHERE account = ?1)",
            )?;
            for (id, account, sha1) in &chosen {
                forgive.execute(params![id, now_ms])?;
                requeue.execute(params![account, sha1])?;
            }
        }
        tx.commit()?;
        Ok(chosen.len())
    }

    /// The content is in Immich again (restored there, or uploaded again after the user
    /// forgave it): the tombstone ends, and files kept as "deleted in Immich" are linked to
    /// `asset_id` again.
    pub fn end_tombstone(
        &mut self,
        account: &str,
        sha1: &str,
        asset_id: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM tombstones WHERE account = ?1 AND sha1 = ?2",
            params![account, sha1],
        )?;
        tx.execute(
            "UPDATE files SET state = 'synced', asset_id = ?3, remote_gone_at = NULL,
                    remote_gone_how = NULL, last_error = NULL
             WHERE state = 'remote_deleted' AND sha1 = ?2
               AND folder_id IN (SELECT id FROM folders WHERE account = ?1)",
            params![account, sha1, asset_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Files kept as "deleted in Immich" get that state, linked to the asset that was deleted.
    pub fn mark_tombstoned(
        &mut self,
        ids: &[i64],
        asset_id: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET state = 'remote_deleted', asset_id = COALESCE(?2, asset_id),
                        last_error = ?3, next_attempt_at = NULL
                 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, asset_id, reason])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RemoteGoneMark;
    use crate::store::test_fixtures::{hashed, setup};

    #[test]
    fn tombstones_stand_until_forgiven_and_requeue_their_files() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                db.apply_observations(folder, &[hashed("a.jpg", "aa")], 1)?;
                let id = db.due_uploads("alice", 1, 10)?[0].id;
                let sighting = Sighting {
                    sha1: "aa".into(),
                    asset_id: Some("asset-1".into()),
                    how: RemoteGone::Trashed,
                    path: Some("/photos/a.jpg".into()),
                };
                db.add_tombstones("alice", std::slice::from_ref(&sighting), 5)?;
                db.add_tombstones(
                    "alice",
                    &[Sighting {
                        how: RemoteGone::Purged,
                        ..sighting.clone()
                    }],
                    6,
                )?;
                let stone = db.tombstone("alice", "aa")?.expect("recorded");
                assert_eq!(
                    (stone.how, stone.seen_at, stone.forgiven),
                    (RemoteGone::Purged, 5, false),
                    "a purge upgrades the first sighting"
                );
                assert!(db.tombstone("bob", "aa")?.is_none(), "per account");
                db.mark_remote_gone(&[RemoteGoneMark {
                    file_id: id,
                    asset_id: "asset-1".into(),
                    how: RemoteGone::Trashed,
                    at_ms: 5,
                }])?;
                db.mark_tombstoned(&[id], Some("asset-1"), "deleted in Immich")?;
                assert!(db.due_uploads("alice", 10, 10)?.is_empty());
                assert_eq!(db.forgive_tombstones(None, 7)?, 1);
                assert!(db.tombstone("alice", "aa")?.expect("kept").forgiven);
                assert_eq!(
                    db.due_uploads("alice", 10, 10)?.len(),
                    1,
                    "upload again puts the file back in the queue"
                );
                db.link(&[id], "asset-2", 8)?;
                assert!(
                    db.remote_gone_files("alice")?.is_empty(),
                    "uploaded again: no longer waiting to be deleted here"
                );
                db.end_tombstone("alice", "aa", "asset-2")?;
                assert!(db.tombstones(None)?.is_empty());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_window_gets_the_newest_standing_tombstones_and_how_many_stand() {
        let (_dir, store, _folder) = setup();
        store
            .with(|db| {
                for (i, at) in [(1, 10), (2, 30), (3, 20), (4, 40)] {
                    let sighting = Sighting {
                        sha1: format!("{i:02}"),
                        asset_id: Some(format!("asset-{i}")),
                        how: RemoteGone::Trashed,
                        path: Some(format!("/photos/{i}.jpg").into()),
                    };
                    db.add_tombstones("alice", &[sighting], at)?;
                }
                let newest = db.tombstone("alice", "04")?.expect("recorded").id;
                db.forgive_tombstones(Some(&[newest]), 50)?;

                let page = db.standing_tombstones(2)?;
                assert_eq!(page.standing, 3, "a forgiven one no longer stands");
                let seen: Vec<i64> = page.newest.iter().map(|t| t.seen_at).collect();
                assert_eq!(
                    seen,
                    vec![30, 20],
                    "the newest standing ones, no more than asked"
                );
                Ok(())
            })
            .unwrap();
    }
}
