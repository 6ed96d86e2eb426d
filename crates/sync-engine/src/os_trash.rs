//! The OS trash: the only place this engine ever puts a user's file, and where undo finds it.
//!
//! The engine never unlinks a photo. A file whose asset was deleted in Immich is moved to the
//! Trash (Recycle Bin on Windows), and the trash's own id for it is kept in the action journal,
//! so that "Undo" can put exactly that file back. Windows and the freedesktop trash (Linux,
//! BSD) can list and restore items; macOS cannot be asked, so there undo names the file to put
//! back from the Trash in Finder.

use std::path::Path;

/// What the trash is called on this platform.
pub fn name() -> &'static str {
    if cfg!(windows) {
        "Recycle Bin"
    } else {
        "Trash"
    }
}

/// Why a file could not be put back.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Something else is at the original path now.
    #[error("a file is already at {0}; move it away first")]
    Occupied(String),
    /// The trash no longer holds the file (emptied, or restored by hand).
    #[error("the {trash} no longer holds it (emptied, or put back by hand)", trash = name())]
    NotInTrash,
    /// This platform's trash cannot be asked.
    #[error("put it back from the {trash} yourself ({0})", trash = name())]
    Unsupported(String),
    /// The OS refused.
    #[error("the {trash} refused: {0}", trash = name())]
    Failed(String),
}

/// Moves `path` to the OS trash; returns the trash's id for it where the platform has one.
/// Blocking.
pub fn move_to_trash(path: &Path) -> Result<Option<Vec<u8>>, String> {
    trash::delete(path).map_err(|e| e.to_string())?;
    Ok(listing::find(path))
}

/// Puts the file trashed as `trash_id` (or, without an id, the latest one trashed from
/// `original`) back at `original`. Blocking.
pub fn restore(trash_id: Option<&[u8]>, original: &Path) -> Result<(), RestoreError> {
    if std::fs::symlink_metadata(original).is_ok() {
        return Err(RestoreError::Occupied(original.display().to_string()));
    }
    listing::restore(trash_id, original)
}

/// Trashes that can be listed and restored from: Windows and freedesktop.
#[cfg(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
))]
mod listing {
    use std::path::Path;

    use super::RestoreError;
    use crate::paths;

    fn latest(
        items: Vec<trash::TrashItem>,
        wanted: impl Fn(&trash::TrashItem) -> bool,
    ) -> Option<trash::TrashItem> {
        items
            .into_iter()
            .filter(|item| wanted(item))
            .max_by_key(|item| item.time_deleted)
    }

    pub(super) fn find(path: &Path) -> Option<Vec<u8>> {
        let items = trash::os_limited::list().ok()?;
        latest(items, |item| item.original_path() == path)
            .map(|item| paths::to_bytes(Path::new(&item.id)))
    }

    pub(super) fn restore(trash_id: Option<&[u8]>, original: &Path) -> Result<(), RestoreError> {
        let items = trash::os_limited::list().map_err(|e| RestoreError::Failed(e.to_string()))?;
        let item = latest(items, |item| match trash_id {
            Some(id) => paths::to_bytes(Path::new(&item.id)) == id,
            None => item.original_path() == original,
        })
        .ok_or(RestoreError::NotInTrash)?;
        trash::os_limited::restore_all([item]).map_err(|e| match e {
            trash::Error::RestoreCollision { path, .. } => {
                RestoreError::Occupied(path.display().to_string())
            }
            other => RestoreError::Failed(other.to_string()),
        })
    }
}

/// Trashes that cannot be asked (macOS): the user puts the file back in Finder.
#[cfg(not(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
)))]
mod listing {
    use std::path::Path;

    use super::RestoreError;

    pub(super) fn find(_path: &Path) -> Option<Vec<u8>> {
        None
    }

    pub(super) fn restore(_trash_id: Option<&[u8]>, original: &Path) -> Result<(), RestoreError> {
        Err(RestoreError::Unsupported(original.display().to_string()))
    }
}
