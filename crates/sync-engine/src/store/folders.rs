//! Folders: which roots an account syncs, and what each is bound to.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{Db, StoreError};
use crate::paths;

/// Row id of a synced folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderId(pub i64);

/// The server and Immich user a folder's assets belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderBinding {
    /// Server URL the folder was first synced with.
    pub server_url: String,
    /// Immich user id that owns the folder's assets.
    pub immich_user_id: String,
}

impl Db<'_> {
    /// The id of `root` in `account`, creating the row on first sight.
    pub fn ensure_folder(&mut self, account: &str, root: &Path) -> Result<FolderId, StoreError> {
        let root = paths::to_bytes(root);
        self.conn.execute(
            "INSERT INTO folders (account, root) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![account, root],
        )?;
        let id = self.conn.query_row(
            "SELECT id FROM folders WHERE account = ?1 AND root = ?2",
            params![account, root],
            |r| r.get(0),
        )?;
        Ok(FolderId(id))
    }

    /// The id of `root` in `account`, if it was ever synced.
    pub fn folder_id(
        &mut self,
        account: &str,
        root: &Path,
    ) -> Result<Option<FolderId>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM folders WHERE account = ?1 AND root = ?2",
                params![account, paths::to_bytes(root)],
                |r| r.get(0),
            )
            .optional()?
            .map(FolderId))
    }

    /// The binding recorded for `folder`, if it was ever synced.
    pub fn folder_binding(
        &mut self,
        folder: FolderId,
    ) -> Result<Option<FolderBinding>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT server_url, immich_user_id FROM folders WHERE id = ?1",
                [folder.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(server_url), Some(immich_user_id))) => Some(FolderBinding {
                server_url,
                immich_user_id,
            }),
            _ => None,
        })
    }

    /// Records the server and user `folder` syncs with.
    pub fn set_folder_binding(
        &mut self,
        folder: FolderId,
        binding: &FolderBinding,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE folders SET server_url = ?2, immich_user_id = ?3 WHERE id = ?1",
            params![folder.0, binding.server_url, binding.immich_user_id],
        )?;
        Ok(())
    }

    /// The volume id recorded for the folder's root, recording `current` on first sight.
    pub fn root_volume(
        &mut self,
        folder: FolderId,
        current: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        let recorded: Option<i64> = self
            .conn
            .query_row(
                "SELECT root_device FROM folders WHERE id = ?1",
                [folder.0],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if recorded.is_none() {
            if let Some(id) = current {
                self.conn.execute(
                    "UPDATE folders SET root_device = ?2 WHERE id = ?1",
                    params![folder.0, id as i64],
                )?;
            }
            return Ok(current);
        }
        Ok(recorded.map(|id| id as u64))
    }

    /// Forgets a folder and everything recorded about its files (it was removed from the
    /// configuration; adding it again starts over with a scan and bulk-upload-check, which
    /// links what Immich already has instead of uploading it again).
    pub fn forget_folder(&mut self, account: &str, root: &Path) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM folders WHERE account = ?1 AND root = ?2",
            params![account, paths::to_bytes(root)],
        )?;
        Ok(())
    }

    /// When the last complete walk of `folder` finished (unix ms).
    pub fn last_full_scan(&mut self, folder: FolderId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_full_scan FROM folders WHERE id = ?1",
                [folder.0],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Records a completed walk of `folder`.
    pub fn set_last_full_scan(&mut self, folder: FolderId, at_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE folders SET last_full_scan = ?2 WHERE id = ?1",
            params![folder.0, at_ms],
        )?;
        Ok(())
    }
}
