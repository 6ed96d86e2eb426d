//! Held deletes and delete history: the store side of the mass-delete guard.

use rusqlite::params;

use super::{Db, FolderId, StoreError};
use crate::paths;

/// Which way a delete would go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteDirection {
    /// A file deleted here would move its asset to the Immich trash.
    ToImmich,
    /// An asset deleted in Immich would move the local file to the OS trash.
    ToLocal,
}

impl DeleteDirection {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeleteDirection::ToImmich => "to_immich",
            DeleteDirection::ToLocal => "to_local",
        }
    }

    pub(crate) fn parse(s: &str) -> DeleteDirection {
        if s == "to_local" {
            DeleteDirection::ToLocal
        } else {
            DeleteDirection::ToImmich
        }
    }
}

/// What the user decided about a held delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Not decided yet: nothing happens.
    Waiting,
    /// Go ahead.
    Approved,
    /// Do not delete.
    Rejected,
}

/// One held delete.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeldDelete {
    /// Id the user approves or rejects by.
    pub id: i64,
    /// The file row.
    pub file_id: i64,
    /// Set when this is the previous asset of a changed file (its `replaced_assets` row).
    pub replaced_id: Option<i64>,
    /// Account.
    pub account: String,
    /// Folder root (lossy, for display).
    pub folder: String,
    /// Path relative to the folder root (lossy, for display).
    pub path: String,
    /// Linked asset.
    pub asset_id: Option<String>,
    /// Direction.
    pub direction: DeleteDirection,
    /// When it was held (unix ms).
    pub held_at: i64,
    /// Decision so far.
    pub decision: Decision,
}

/// The held deletes of one folder, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldCount {
    /// The folder.
    pub folder: FolderId,
    /// Waiting for a decision.
    pub waiting: u64,
    /// Held in all: waiting, or decided and not yet carried out.
    pub held: u64,
}

const HELD_COLUMNS: &str = "h.id, h.file_id, d.account, d.root, f.rel_path,
        COALESCE(r.asset_id, f.asset_id), h.direction, h.held_at, h.decision, h.replaced_id
     FROM held_deletes h JOIN files f ON f.id = h.file_id JOIN folders d ON d.id = f.folder_id
          LEFT JOIN replaced_assets r ON r.id = h.replaced_id";

fn held_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HeldDelete> {
    Ok(HeldDelete {
        id: r.get(0)?,
        file_id: r.get(1)?,
        replaced_id: r.get(9)?,
        account: r.get(2)?,
        folder: paths::from_bytes(&r.get::<_, Vec<u8>>(3)?)
            .to_string_lossy()
            .into_owned(),
        path: paths::from_bytes(&r.get::<_, Vec<u8>>(4)?)
            .to_string_lossy()
            .into_owned(),
        asset_id: r.get(5)?,
        direction: DeleteDirection::parse(&r.get::<_, String>(6)?),
        held_at: r.get(7)?,
        decision: match r.get::<_, Option<String>>(8)?.as_deref() {
            Some("approved") => Decision::Approved,
            Some("rejected") => Decision::Rejected,
            _ => Decision::Waiting,
        },
    })
}

impl Db<'_> {
    /// Holds deletes of `file_ids` until the user decides.
    pub fn hold(
        &mut self,
        file_ids: &[i64],
        direction: DeleteDirection,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let items: Vec<(i64, Option<i64>)> = file_ids.iter().map(|id| (*id, None)).collect();
        self.hold_items(&items, direction, now_ms)
    }

    /// Holds deletes of `(file_id, replaced_id)` items until the user decides.
    pub fn hold_items(
        &mut self,
        items: &[(i64, Option<i64>)],
        direction: DeleteDirection,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO held_deletes (file_id, replaced_id, direction, held_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (file_id, replaced_id) in items {
                stmt.execute(params![file_id, replaced_id, direction.as_str(), now_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Held deletes of `account` (every account with `None`), oldest first.
    pub fn held_deletes(&mut self, account: Option<&str>) -> Result<Vec<HeldDelete>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {HELD_COLUMNS} WHERE ?1 IS NULL OR d.account = ?1 ORDER BY h.id"
        ))?;
        let rows = stmt.query_map([account], held_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The oldest `limit` held deletes still waiting for a decision, of every account: what a
    /// window lists for review. A mass delete can hold a whole library; the count of all of
    /// them is [`Db::held_counts`].
    pub fn waiting_deletes(&mut self, limit: usize) -> Result<Vec<HeldDelete>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {HELD_COLUMNS} WHERE h.decision IS NULL ORDER BY h.id LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], held_row)?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Per folder of `account` with held deletes: how many wait for a decision and how many
    /// are held in all (waiting, or decided and not yet carried out). Counted in the store, so
    /// the status stays cheap however many are held.
    pub fn held_counts(&mut self, account: &str) -> Result<Vec<HeldCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.folder_id, SUM(h.decision IS NULL), COUNT(*)
             FROM held_deletes h JOIN files f ON f.id = h.file_id JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1
             GROUP BY f.folder_id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(HeldCount {
                folder: FolderId(r.get(0)?),
                waiting: r.get::<_, i64>(1)? as u64,
                held: r.get::<_, i64>(2)? as u64,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Records the user's decision for the held deletes `ids` (all waiting ones with `None`).
    /// Returns how many changed.
    pub fn decide(&mut self, ids: Option<&[i64]>, decision: Decision) -> Result<usize, StoreError> {
        let value = match decision {
            Decision::Approved => Some("approved"),
            Decision::Rejected => Some("rejected"),
            Decision::Waiting => None,
        };
        match ids {
            None => Ok(self.conn.execute(
                "UPDATE held_deletes SET decision = ?1 WHERE decision IS NULL",
                params![value],
            )?),
            Some(ids) => {
                let tx = self.conn.transaction()?;
                let mut changed = 0;
                {
                    let mut stmt =
                        tx.prepare_cached("UPDATE held_deletes SET decision = ?2 WHERE id = ?1")?;
                    for id in ids {
                        changed += stmt.execute(params![id, value])?;
                    }
                }
                tx.commit()?;
                Ok(changed)
            }
        }
    }

    /// Forgets the holds on `file_id` in `direction` (carried out, or no longer needed); the
    /// holds on previous versions of the file stay.
    pub fn release_hold(
        &mut self,
        file_id: i64,
        direction: DeleteDirection,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM held_deletes WHERE file_id = ?1 AND direction = ?2
               AND replaced_id IS NULL",
            params![file_id, direction.as_str()],
        )?;
        Ok(())
    }

    /// Records `count` deletes carried out in `folder`.
    pub fn record_deletes(
        &mut self,
        folder: FolderId,
        direction: DeleteDirection,
        count: usize,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO delete_history (folder_id, direction, at) VALUES (?1, ?2, ?3)",
            )?;
            for _ in 0..count {
                stmt.execute(params![folder.0, direction.as_str(), now_ms])?;
            }
        }
        tx.execute(
            "DELETE FROM delete_history WHERE at < ?1",
            [now_ms - 7 * 86_400_000],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes carried out in `folder` since `since_ms`.
    pub fn recent_deletes(
        &mut self,
        folder: FolderId,
        direction: DeleteDirection,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM delete_history WHERE folder_id = ?1 AND direction = ?2 AND at >= ?3",
            params![folder.0, direction.as_str(), since_ms],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Files of `folder` that are (or were until just now) in Immich: the base of the
    /// guard's percentage.
    pub fn tracked_files(&mut self, folder: FolderId) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM files WHERE folder_id = ?1
               AND state IN ('synced', 'missing', 'remote_deleted', 'uploading')",
            [folder.0],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Observation;
    use crate::store::test_fixtures::{hashed, setup};

    /// `n` new files of alice's folder, their deletes held; their ids.
    fn held_files(db: &mut Db<'_>, folder: FolderId, n: usize) -> Result<Vec<i64>, StoreError> {
        let obs: Vec<Observation> = (0..n)
            .map(|i| hashed(&format!("{i}.jpg"), &i.to_string()))
            .collect();
        db.apply_observations(folder, &obs, 1)?;
        let ids: Vec<i64> = db
            .due_uploads("alice", 1, 10)?
            .iter()
            .map(|f| f.id)
            .collect();
        db.hold(&ids, DeleteDirection::ToImmich, 5)?;
        Ok(ids)
    }

    #[test]
    fn holds_wait_for_a_decision_and_vanish_with_their_file() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                let ids = held_files(db, folder, 3)?;
                let held = db.held_deletes(Some("alice"))?;
                assert_eq!(held.len(), 3);
                assert!(held.iter().all(|h| h.decision == Decision::Waiting));
                assert_eq!(db.decide(Some(&[held[0].id]), Decision::Approved)?, 1);
                assert_eq!(
                    db.decide(None, Decision::Rejected)?,
                    2,
                    "--all decides the waiting ones"
                );
                db.forget(&[ids[0]])?;
                assert_eq!(
                    db.held_deletes(None)?.len(),
                    2,
                    "a forgotten file takes its hold along"
                );
                db.record_deletes(folder, DeleteDirection::ToImmich, 4, 100)?;
                assert_eq!(db.recent_deletes(folder, DeleteDirection::ToImmich, 50)?, 4);
                assert_eq!(db.recent_deletes(folder, DeleteDirection::ToLocal, 50)?, 0);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_window_lists_the_oldest_waiting_holds_and_the_status_counts_them_all() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                held_files(db, folder, 5)?;
                let first = db.held_deletes(None)?[0].id;
                db.decide(Some(&[first]), Decision::Rejected)?;

                let listed = db.waiting_deletes(2)?;
                assert_eq!(listed.len(), 2, "no more than asked for");
                assert!(listed.iter().all(|h| h.decision == Decision::Waiting));
                assert!(
                    listed.iter().all(|h| h.id != first),
                    "a decided hold is not listed for review"
                );
                assert!(listed[0].id < listed[1].id, "oldest first");
                assert_eq!(db.waiting_deletes(100)?.len(), 4);

                let counts = db.held_counts("alice")?;
                assert_eq!(
                    counts,
                    vec![HeldCount {
                        folder,
                        waiting: 4,
                        held: 5
                    }]
                );
                assert!(db.held_counts("bob")?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
