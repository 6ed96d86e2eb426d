//! Sidecars of synced photos: which one Immich has, and which photos' sidecars changed since.
//!
//! Immich takes a photo's sidecar with its upload and never another one, so a sidecar written
//! or edited later has to reach Immich as metadata (`PUT /assets/{id}`). The store remembers
//! the SHA-1 of the sidecar Immich has; a sidecar seen new or changed on disk marks its synced
//! photo due, and the uploader compares contents before it sends anything.

use std::path::{Path, PathBuf};

use rusqlite::params;

use super::{Db, FileState, FolderId, Sibling, StoreError};
use crate::paths;

/// A synced photo whose sidecar may have changed.
#[derive(Debug, Clone)]
pub struct SidecarDue {
    /// Row id.
    pub id: i64,
    /// Folder.
    pub folder: FolderId,
    /// Path of the photo relative to the folder.
    pub rel: PathBuf,
    /// Its asset.
    pub asset_id: String,
    /// SHA-1 of the sidecar Immich has, if any is known.
    pub sidecar_sha1: Option<String>,
    /// When the photo went up or was linked (unix ms).
    pub synced_at: Option<i64>,
}

impl Db<'_> {
    /// The photos went up with a sidecar of this content.
    pub fn set_sidecar_sent(&mut self, ids: &[i64], sha1: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE files SET sidecar_sha1 = ?2, sidecar_due = NULL WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, sha1])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The sidecar at `sidecar` (relative to the folder) is new or changed: its synced photos
    /// are due a look. `X.jpg.xmp` belongs to `X.jpg`; `X.xmp` to every `X.<ext>` beside it.
    /// Returns how many photos were marked.
    pub fn sidecar_touched(
        &mut self,
        folder: FolderId,
        sidecar: &Path,
    ) -> Result<usize, StoreError> {
        let Some(stem) = sidecar.file_stem() else {
            return Ok(0);
        };
        let named = sidecar.with_file_name(stem);
        let is_sidecar = |rel: &Path| {
            rel.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
        };
        // Every `X.<ext>` beside `X.xmp` (as `read_sidecar` looks for it by the stem)…
        let mut photos: Vec<Sibling> = self.named(folder, &named)?;
        photos.retain(|s| !is_sidecar(&s.rel));
        // …and for `X.jpg.xmp`, the photo `X.jpg` itself.
        if named.extension().is_some() {
            let exact = self.named(folder, &named.with_extension(""))?;
            photos.extend(exact.into_iter().filter(|s| s.rel == named));
        }
        let ids: Vec<i64> = photos
            .into_iter()
            .filter(|s| s.state == FileState::Synced)
            .map(|s| s.id)
            .collect();
        let mut mark = self
            .conn
            .prepare_cached("UPDATE files SET sidecar_due = 1 WHERE id = ?1")?;
        for id in &ids {
            mark.execute([id])?;
        }
        Ok(ids.len())
    }

    /// Up to `limit` synced photos of `account` whose sidecar is due a look.
    pub fn sidecars_due(
        &mut self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<SidecarDue>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.folder_id, f.rel_path, f.asset_id, f.sidecar_sha1, f.synced_at
             FROM files f JOIN folders d ON d.id = f.folder_id
             WHERE d.account = ?1 AND f.sidecar_due IS NOT NULL AND f.state = 'synced'
               AND f.asset_id IS NOT NULL
             ORDER BY f.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![account, limit as i64], |r| {
            Ok(SidecarDue {
                id: r.get(0)?,
                folder: FolderId(r.get(1)?),
                rel: paths::from_bytes(&r.get::<_, Vec<u8>>(2)?),
                asset_id: r.get(3)?,
                sidecar_sha1: r.get(4)?,
                synced_at: r.get(5)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// The look is done: Immich has the sidecar of `sha1` (`None`: unchanged, or none to send).
    pub fn sidecar_settled(&mut self, id: i64, sha1: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE files SET sidecar_due = NULL, sidecar_sha1 = COALESCE(?2, sidecar_sha1)
                 WHERE id = ?1",
            )?
            .execute(params![id, sha1])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::store::test_fixtures::{hashed, setup};

    #[test]
    fn a_sidecar_marks_the_synced_photos_it_belongs_to() {
        let (_dir, store, folder) = setup();
        store
            .with(|db| {
                let names = ["X.jpg", "X.mov", "X.2.jpg", "X.jpg.mov", "Y.jpg"];
                let observations: Vec<_> = names.iter().map(|n| hashed(n, n)).collect();
                db.apply_observations(folder, &observations, 1)?;
                for (n, due) in db.due_uploads("alice", 1, 10)?.into_iter().enumerate() {
                    db.link(&[due.id], &format!("asset-{n}"), 2)?;
                }
                let marked = |db: &mut crate::store::Db<'_>| -> Vec<String> {
                    let mut rels: Vec<String> = db
                        .sidecars_due("alice", 10)
                        .unwrap()
                        .into_iter()
                        .map(|d| d.rel.to_string_lossy().into_owned())
                        .collect();
                    rels.sort();
                    rels
                };
                // `X.jpg.xmp`: the photo `X.jpg`, and `X.jpg.<ext>` (its stem-named sidecar).
                assert_eq!(db.sidecar_touched(folder, Path::new("X.jpg.xmp"))?, 2);
                assert_eq!(marked(db), ["X.jpg", "X.jpg.mov"]);
                // `X.xmp`: every `X.<ext>`, not `X.2.jpg` (stem `X.2`).
                assert_eq!(db.sidecar_touched(folder, Path::new("X.xmp"))?, 2);
                assert_eq!(marked(db), ["X.jpg", "X.jpg.mov", "X.mov"]);
                Ok(())
            })
            .unwrap();
    }
}
