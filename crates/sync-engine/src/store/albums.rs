//! Albums the engine made from folders, and what it put in them; RAW+JPEG pairs it stacked.
//!
//! Album names are not unique in Immich, so an album is found again by the id kept here, never
//! by its name. An album the user deleted in Immich is remembered as deleted and not made again:
//! the user's word is final. The members recorded are only those this engine added, so taking
//! a moved photo out of its old album never touches what the user put there by hand.

use rusqlite::params;

use super::{Db, StoreError};

/// An album of an account, as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlbumRecord {
    /// Row id.
    pub id: i64,
    /// Its name (what the folder rule gave).
    pub name: String,
    /// Its id in Immich, once made.
    pub album_id: Option<String>,
    /// When the engine found it deleted in Immich (unix ms).
    pub deleted_at: Option<i64>,
}

fn album_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlbumRecord> {
    Ok(AlbumRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        album_id: r.get(2)?,
        deleted_at: r.get(3)?,
    })
}

impl Db<'_> {
    /// Every album of `account`.
    pub fn albums(&mut self, account: &str) -> Result<Vec<AlbumRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, album_id, deleted_at FROM albums WHERE account = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([account], album_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The album named `name` of `account`, recorded now if it is new (not yet made in Immich).
    pub fn album_named(&mut self, account: &str, name: &str) -> Result<AlbumRecord, StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO albums (account, name) VALUES (?1, ?2)")?
            .execute(params![account, name])?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, album_id, deleted_at FROM albums WHERE account = ?1 AND name = ?2",
        )?;
        Ok(stmt.query_row(params![account, name], album_row)?)
    }

    /// The album was made in Immich with this id.
    pub fn set_album_id(&mut self, id: i64, album_id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE albums SET album_id = ?2 WHERE id = ?1")?
            .execute(params![id, album_id])?;
        Ok(())
    }

    /// The user deleted the album in Immich: it is not made again.
    pub fn mark_album_deleted(&mut self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE albums SET deleted_at = COALESCE(deleted_at, ?2) WHERE id = ?1",
            )?
            .execute(params![id, now_ms])?;
        self.conn
            .prepare_cached("DELETE FROM album_assets WHERE album = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// The members of the albums of `account` the engine knows of: (album row, asset id,
    /// whether the engine put it there).
    pub fn album_members(&mut self, account: &str) -> Result<Vec<(i64, String, bool)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.album, m.asset_id, m.ours FROM album_assets m JOIN albums a ON a.id = m.album
             WHERE a.account = ?1",
        )?;
        let rows = stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Records assets as in an album: put there by the engine (`ours`), or found there or
    /// refused (never taken out, never asked again).
    pub fn add_album_members(
        &mut self,
        album: i64,
        assets: &[String],
        ours: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO album_assets (album, asset_id, ours) VALUES (?1, ?2, ?3)",
            )?;
            for asset in assets {
                stmt.execute(params![album, asset, ours])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records assets taken out of an album.
    pub fn remove_album_members(
        &mut self,
        album: i64,
        assets: &[String],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("DELETE FROM album_assets WHERE album = ?1 AND asset_id = ?2")?;
            for asset in assets {
                stmt.execute(params![album, asset])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Db<'_> {
    /// The RAW+JPEG pairs of `account` already stacked: (JPEG asset, RAW asset).
    pub fn stacked_pairs(&mut self, account: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT primary_asset, other_asset FROM stacks WHERE account = ?1")?;
        let rows = stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The pair is stacked (or Immich refused it for good): never asked again.
    pub fn record_stack(
        &mut self,
        account: &str,
        primary: &str,
        other: &str,
        stack_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO stacks (account, primary_asset, other_asset, stack_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![account, primary, other, stack_id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn an_album_is_recorded_once_and_a_deleted_one_forgets_its_members() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        store
            .with(|db| {
                let trip = db.album_named("alice", "Trip 2024")?;
                assert_eq!(trip.album_id, None);
                assert_eq!(db.album_named("alice", "Trip 2024")?.id, trip.id);
                assert_ne!(db.album_named("bob", "Trip 2024")?.id, trip.id);
                db.set_album_id(trip.id, "album-1")?;
                db.add_album_members(trip.id, &["a".into(), "b".into(), "a".into()], true)?;
                db.add_album_members(trip.id, &["c".into()], false)?;
                assert_eq!(db.album_members("alice")?.len(), 3);
                db.remove_album_members(trip.id, &["a".into(), "c".into()])?;
                assert_eq!(
                    db.album_members("alice")?,
                    [(trip.id, "b".to_owned(), true)]
                );
                db.mark_album_deleted(trip.id, 5)?;
                let again = db.album_named("alice", "Trip 2024")?;
                assert_eq!(
                    (again.album_id.as_deref(), again.deleted_at),
                    (Some("album-1"), Some(5))
                );
                assert!(db.album_members("alice")?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
