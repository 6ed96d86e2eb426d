//! Which volume a folder lives on.
//!
//! An unplugged USB disk leaves an empty mount point behind; a different disk may get mounted
//! at the same path. Either must never look like "the user deleted every photo". The folder's
//! root records the id of the device it was first synced on; a root on another device pauses
//! the folder until the original volume is back.

use std::path::Path;

/// The device id of the file system holding `path` (Unix `st_dev`).
#[cfg(unix)]
pub fn volume_id(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.dev())
}

/// Windows exposes volume serial numbers only through platform calls the engine does not make
/// yet; the empty-folder and missing-folder checks still apply there.
#[cfg(not(unix))]
pub fn volume_id(_path: &Path) -> Option<u64> {
    None
}

/// Compares the volume now at a root with the one recorded; `Err` explains a mismatch.
pub fn check(recorded: Option<u64>, current: Option<u64>) -> Result<(), String> {
    match (recorded, current) {
        (Some(was), Some(now)) if was != now => Err(
            "a different drive is mounted at this path than the one synced before. Nothing is \
             synced or deleted here until the original drive is back; if you moved your photos \
             to a new drive on purpose, remove the folder and add it again"
                .into(),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_volume_at_the_same_path_is_refused() {
        assert!(check(Some(1), Some(1)).is_ok());
        assert!(check(None, Some(1)).is_ok(), "first sight records it");
        assert!(check(Some(1), None).is_ok(), "unknown on this platform");
        assert!(
            check(Some(1), Some(2))
                .unwrap_err()
                .contains("different drive")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_has_a_volume_id() {
        let dir = tempfile::tempdir().unwrap();
        assert!(volume_id(dir.path()).is_some());
    }
}
