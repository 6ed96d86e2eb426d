//! A fresh store with one folder and the hashed files the store's own tests feed it, written
//! once so each test module states only what it checks.

use std::path::Path;

use super::{FolderId, Observation, Stat, Store};

pub(super) const STAT: Stat = Stat {
    size: 10,
    mtime_ns: 1_000,
    file_key: Some(7),
};

/// A file the scan read and hashed, born at 1 ms.
pub(super) fn hashed(rel: &str, sha1: &str) -> Observation {
    Observation::Hashed {
        rel: rel.into(),
        stat: STAT,
        sha1: sha1.into(),
        born_ms: 1,
    }
}

/// A store in a temporary directory with alice's `/photos` folder.
pub(super) fn setup() -> (tempfile::TempDir, Store, FolderId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.db")).unwrap();
    let folder = store
        .with(|db| db.ensure_folder("alice", Path::new("/photos")))
        .unwrap();
    (dir, store, folder)
}
