//! The engine's memory: one SQLite file per installation.
//!
//! All SQL lives under `store/`. The store is the source of truth for resuming: every intent
//! (an upload about to start, a file gone missing, a delete decided) is written here before it
//! is acted on, so a crash at any point is recovered on the next start. Multi-row changes run in
//! one transaction. The connection is owned by a mutex and used from blocking threads through
//! [`Store::call`], so the async workers never block the runtime on disk I/O.

mod deletes;
mod files;
mod folders;
mod migrations;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use deletes::{Decision, DeleteDirection, HeldDelete};
pub use files::{
    ApplyEffect, FileState, FolderCounts, IndexEntry, MissingFile, Observation, PendingUpload,
    Stat, SyncedFile,
};
pub use folders::{FolderBinding, FolderId};

/// How long a writer waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors of the state file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("state database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("state database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The folder holding the state file could not be created.
    #[error("cannot create the folder for the state database {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The blocking task running the query panicked or was cancelled.
    #[error("state database task failed: {0}")]
    Task(String),
}

/// A handle to the state file; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// A connection borrowed for one unit of work (see [`Store::call`]).
pub struct Db<'a> {
    conn: &'a mut Connection,
}

impl Store {
    /// Opens (or creates) the state file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::prepare(conn, Some(path.to_owned()))
    }

    /// A private in-memory store (tests, dry runs).
    pub fn in_memory() -> Result<Store, StoreError> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    /// An in-memory copy of the state file at `path`: a dry run works on it and the real
    /// file is never written.
    pub fn snapshot_of(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        if path.exists() {
            let source = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let backup = rusqlite::backup::Backup::new(&source, &mut conn)?;
            backup.run_to_completion(1024, Duration::ZERO, None)?;
        }
        Self::prepare(conn, None)
    }

    fn prepare(mut conn: Connection, path: Option<PathBuf>) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets readers (status snapshots) run while a worker writes; NORMAL is durable
        // across application crashes, which is what recovery relies on.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// The file behind this store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.with(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with the connection on the current thread (for blocking contexts).
    pub fn with<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<R, StoreError>,
    {
        // A panic while holding the lock leaves SQLite itself consistent (transactions roll
        // back), so a poisoned mutex is safe to reuse.
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        f(&mut Db { conn: &mut guard })
    }
}

impl Db<'_> {
    /// This installation's device id, sent as `deviceId` on uploads; created once.
    pub fn device_id(&mut self) -> Result<String, StoreError> {
        let existing: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
                r.get(0)
            })
            .ok();
        if let Some(id) = existing {
            return Ok(id);
        }
        let id = format!("immich-sync-{}", uuid::Uuid::new_v4());
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('device_id', ?1)",
            [&id],
        )?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_keeps_its_device_id_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let first = Store::open(&path)
            .unwrap()
            .with(|db| db.device_id())
            .unwrap();
        let second = Store::open(&path)
            .unwrap()
            .with(|db| db.device_id())
            .unwrap();
        assert_eq!(
            first, second,
            "a new device id would look like a new phone to Immich"
        );
    }
}
