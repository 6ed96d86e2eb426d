//! The engine's memory: one SQLite file per installation.
//!
//! All SQL lives under `store/`. The store is the source of truth for resuming: every intent
//! (an upload about to start, a file gone missing, a delete decided) is written here before it
//! is acted on, so a crash at any point is recovered on the next start. Multi-row changes run in
//! one transaction. The connection is owned by a mutex and used from blocking threads through
//! [`Store::call`], so the async workers never block the runtime on disk I/O.
//!
//! Opening checks the file first (`recovery`): a damaged one is moved aside and rebuilt from a
//! scan plus bulk-upload-check, a locked one is refused with a message naming it, and a running
//! engine holds a lock so that a second one on the same file is refused too.

mod albums;
mod deletes;
mod files;
mod folders;
mod journal;
mod legacy;
mod live_photos;
mod migrations;
mod recovery;
mod sidecars;
#[cfg(test)]
mod test_fixtures;
mod tombstones;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use albums::AlbumRecord;
pub use deletes::{Decision, DeleteDirection, HeldCount, HeldDelete};
pub use files::{
    ApplyEffect, FileState, FolderCounts, IndexEntry, LinkedFile, MissingFile, Observation,
    PendingUpload, RemoteGone, RemoteGoneMark, ReplacedAsset, Stat, SyncedFile,
};
pub use folders::{FolderBinding, FolderId};
pub use journal::{JournalEntry, NewJournalEntry};
pub use legacy::{LegacyImport, LegacyRow, UNKNOWN_BIRTH, legacy_rows};
pub use live_photos::Sibling;
pub use recovery::Recovery;
pub use sidecars::SidecarDue;
pub use tombstones::{Sighting, Tombstone, TombstonePage};

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
    /// SQLite's integrity check failed (the file is then moved aside and rebuilt).
    #[error("the state database is damaged: {0}")]
    Corrupt(String),
    /// Another program holds a write lock on the state file.
    #[error(
        "the state database {} is locked by another program (another immich-syncd, or the Immich Sync app, using the same file?): stop it, or set database_path to a file of this configuration's own",
        path.display()
    )]
    Locked {
        /// The state file.
        path: PathBuf,
    },
    /// Another engine runs on the state file.
    #[error(
        "the state database {} is in use by another running Immich Sync (immich-syncd or the tray app): stop that one first, or set database_path to a file of this configuration's own",
        path.display()
    )]
    InUse {
        /// The state file.
        path: PathBuf,
    },
    /// The state file is damaged and could not be moved aside to make room for a new one.
    #[error(
        "the state database {} is damaged ({reason}) and could not be moved aside: {source}",
        path.display()
    )]
    CannotMoveAside {
        /// The state file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
        /// Why the rename failed.
        source: std::io::Error,
    },
    /// The state file cannot be opened or written (permissions, a folder in its place, a
    /// read-only disk).
    #[error(
        "the state database {} cannot be used ({reason}): check that it is a file this user may read and write, in a folder this user may write",
        path.display()
    )]
    Unusable {
        /// The state file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// The state file was written by a newer version with a schema this one does not know.
    #[error(
        "the state database {} was written by a newer version of Immich Sync: update this one, or set database_path to another file",
        path.display()
    )]
    TooNew {
        /// The state file.
        path: PathBuf,
    },
}

/// A handle to the state file; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
    recovery: Option<Recovery>,
    engine_lock: Arc<Mutex<Option<recovery::EngineLock>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// What the state file held at one moment, as far as counting goes: equal stamps mean nothing
/// was written in between ([`Db::change_stamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeStamp {
    /// Rows inserted, changed or deleted through the engine's connection since it was opened.
    own_changes: u64,
    /// SQLite's `data_version`: moves when another connection (an `immich-syncd` command
    /// beside the engine) commits.
    others: i64,
}

/// A connection borrowed for one unit of work (see [`Store::call`]).
pub struct Db<'a> {
    conn: &'a mut Connection,
}

impl Store {
    /// Opens (or creates) the state file at `path` and brings its schema up to date.
    ///
    /// A damaged file is moved aside and a new one created ([`Store::recovery`] says so); a
    /// file another program is writing fails with [`StoreError::Locked`] once the busy
    /// timeout has passed (see `store::recovery`).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        match Self::open_file(path) {
            Err(e) if recovery::is_damage(&e) => {
                let reason = recovery::describe(&e);
                let moved_to =
                    recovery::move_aside(path).map_err(|source| StoreError::CannotMoveAside {
                        path: path.to_owned(),
                        reason: reason.clone(),
                        source,
                    })?;
                let mut store = Self::open_file(path).map_err(|e| Self::explain(e, path))?;
                store.recovery = Some(Recovery {
                    path: path.to_owned(),
                    moved_to: Some(moved_to),
                    reason,
                });
                Ok(store)
            }
            other => other.map_err(|e| Self::explain(e, path)),
        }
    }

    /// [`Store::open`] for a running engine: also takes the engine lock, so that a second
    /// engine on the same file is refused with [`StoreError::InUse`] instead of racing this
    /// one. The lock is released by [`Store::release_engine_lock`] or when the last clone of
    /// the store is dropped.
    pub fn open_for_engine(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let lock = recovery::EngineLock::acquire(path)?;
        let store = Self::open(path)?;
        *store
            .engine_lock
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(lock);
        Ok(store)
    }

    /// Lets another engine use the state file (after shutdown).
    pub fn release_engine_lock(&self) {
        self.engine_lock
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
    }

    /// Set when the state file was damaged and had to be set aside while opening.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.recovery.as_ref()
    }

    fn open_file(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        recovery::check_integrity(&conn)?;
        let store = Self::prepare(conn, Some(path.to_owned()))?;
        store.with(|db| recovery::probe_write_lock(db.conn))?;
        Ok(store)
    }

    /// Names the file in errors a user must act on.
    fn explain(error: StoreError, path: &Path) -> StoreError {
        if recovery::is_busy(&error) {
            return StoreError::Locked {
                path: path.to_owned(),
            };
        }
        if recovery::is_unusable(&error) {
            return StoreError::Unusable {
                path: path.to_owned(),
                reason: recovery::describe(&error),
            };
        }
        match error {
            StoreError::Migration(rusqlite_migration::Error::MigrationDefinition(
                rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
            )) => StoreError::TooNew {
                path: path.to_owned(),
            },
            other => other,
        }
    }

    /// A private in-memory store (tests, dry runs).
    pub fn in_memory() -> Result<Store, StoreError> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    /// An in-memory copy of the state file at `path`: a dry run works on it and the real
    /// file is never written.
    ///
    /// A damaged file is left in place; the dry run starts from an empty store and
    /// [`Store::recovery`] says so.
    pub fn snapshot_of(path: &Path) -> Result<Store, StoreError> {
        let copy = || -> Result<Connection, StoreError> {
            let mut conn = Connection::open_in_memory()?;
            if path.exists() {
                let source = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                source.busy_timeout(BUSY_TIMEOUT)?;
                let backup = rusqlite::backup::Backup::new(&source, &mut conn)?;
                backup.run_to_completion(1024, Duration::ZERO, None)?;
            }
            recovery::check_integrity(&conn)?;
            Ok(conn)
        };
        match copy() {
            Ok(conn) => Self::prepare(conn, None).map_err(|e| Self::explain(e, path)),
            Err(e) if recovery::is_damage(&e) => {
                let mut store = Self::in_memory()?;
                store.recovery = Some(Recovery {
                    path: path.to_owned(),
                    moved_to: None,
                    reason: recovery::describe(&e),
                });
                Ok(store)
            }
            Err(e) => Err(Self::explain(e, path)),
        }
    }

    fn prepare(mut conn: Connection, path: Option<PathBuf>) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets readers (status snapshots) run while a worker writes; NORMAL is durable
        // across application crashes, which is what recovery relies on.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A first scan writes a million rows, each into a checksum index at random places.
        // Copying the WAL back every 4 MB (SQLite's default) wrote the same index pages back
        // over and over, with an fsync each time; every 32 MB the first scan of a million
        // files takes a second less. The WAL file may grow to about that size.
        conn.pragma_update(None, "wal_autocheckpoint", 8192)?;
        migrations::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
            recovery: None,
            engine_lock: Arc::default(),
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
        crate::blocking::spawn(move || store.with(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with the connection on the current thread, for blocking contexts only (a
    /// command-line tool, a blocking section of the engine); async code uses [`Store::call`].
    /// Debug builds panic when this runs on a runtime's thread (see `blocking`).
    pub fn with<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<R, StoreError>,
    {
        crate::blocking::assert_may_block();
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
    /// The state file's change stamp now.
    pub fn change_stamp(&mut self) -> Result<ChangeStamp, StoreError> {
        let others = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(ChangeStamp {
            own_changes: self.conn.total_changes(),
            others,
        })
    }

    /// A value the engine keeps between runs (the trash feed's position, imports done).
    pub fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a value the engine keeps between runs.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

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

    /// The status counts are read again only when the stamp moved: every write moves it, its
    /// own or another program's, and reading does not.
    #[test]
    fn the_change_stamp_moves_with_every_write_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let engine = Store::open(&path).unwrap();
        let stamp = || engine.with(|db| db.change_stamp()).unwrap();
        let before = stamp();
        engine.with(|db| db.meta("anything")).unwrap();
        assert_eq!(stamp(), before, "a read leaves it");
        engine.with(|db| db.set_meta("k", "1")).unwrap();
        let after_own = stamp();
        assert_ne!(after_own, before, "the engine's own write moves it");
        let other = Connection::open(&path).unwrap();
        other
            .execute("INSERT INTO meta (key, value) VALUES ('other', 'x')", [])
            .unwrap();
        assert_ne!(stamp(), after_own, "another program's write moves it");
    }

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
