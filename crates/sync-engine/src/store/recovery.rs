//! Opening the state file when something is wrong with it: damaged, locked, or in use by
//! another engine.
//!
//! The state file is a cache of what the engine learned — every fact in it can be learned
//! again from a scan of the folders plus Immich's bulk-upload-check, which links files to the
//! assets the server already holds without uploading anything. So a damaged file is not a
//! reason to stop syncing: it is moved aside (renamed with a timestamp, kept for inspection,
//! never deleted) and a new one is built. What is lost is only what cannot be learned again
//! from the two sides: deletes that were decided but not yet carried out, which is the safe
//! direction.
//!
//! A locked file is different: another program is writing it right now. Waiting would hang
//! a `--once` pass or a daemon start without saying why, and two engines on one state file
//! would race each other, so opening fails with a message naming the file, after SQLite's
//! busy timeout has given a short lock the chance to clear. An engine also holds a lock of
//! its own for as long as it runs (a small `*.lock` SQLite file next to the state file, in
//! exclusive locking mode): the operating system releases it when the process ends, even on
//! a crash, so it never needs cleaning up. Tools that only read or edit a few rows
//! (`Store::open`) do not take it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};
use time::OffsetDateTime;
use time::macros::format_description;

use super::StoreError;

/// A state file that could not be used and was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The damaged file.
    pub path: PathBuf,
    /// Where it is now; `None` for a dry run, which leaves it in place.
    pub moved_to: Option<PathBuf>,
    /// What SQLite said about it.
    pub reason: String,
}

impl Recovery {
    /// What the user reads about it.
    pub fn message(&self) -> String {
        match &self.moved_to {
            Some(moved_to) => format!(
                "the state database {} was damaged ({}); it was moved aside to {} (kept, not deleted) and a new one is being built from a scan of your folders: photos already in Immich are linked again, not uploaded twice",
                self.path.display(),
                self.reason,
                moved_to.display()
            ),
            None => format!(
                "the state database {} is damaged ({}); this dry run starts from an empty one and leaves the file in place (a real run moves it aside and rebuilds it)",
                self.path.display(),
                self.reason
            ),
        }
    }
}

fn sqlite_code(error: &StoreError) -> Option<ErrorCode> {
    let sqlite = match error {
        StoreError::Sqlite(e) => e,
        StoreError::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => err,
        _ => return None,
    };
    match sqlite {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.code),
        _ => None,
    }
}

/// What was wrong, in SQLite's words.
pub(super) fn describe(error: &StoreError) -> String {
    // SQLite appends the file name to some messages; the caller names the file already.
    let sqlite = |e: &rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(failure, _) if failure.code == ErrorCode::CannotOpen => {
            "unable to open database file".to_owned()
        }
        other => other.to_string(),
    };
    match error {
        StoreError::Sqlite(e) => sqlite(e),
        StoreError::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => sqlite(err),
        StoreError::Corrupt(verdict) => {
            let findings: Vec<&str> = verdict
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("***"))
                .collect();
            format!(
                "it failed SQLite's integrity check: {}",
                findings.join("; ")
            )
        }
        other => other.to_string(),
    }
}

/// True when the file is not a usable database: garbage, truncated, or failing its check.
pub(super) fn is_damage(error: &StoreError) -> bool {
    matches!(error, StoreError::Corrupt(_))
        || matches!(
            sqlite_code(error),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
        )
}

/// True when another connection holds a lock that did not clear within the busy timeout.
pub(super) fn is_busy(error: &StoreError) -> bool {
    matches!(
        sqlite_code(error),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// True when the file cannot be opened or written at all: the user must fix where it is.
pub(super) fn is_unusable(error: &StoreError) -> bool {
    matches!(
        sqlite_code(error),
        Some(
            ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
        )
    )
}

/// SQLite's own structural check (b-trees, free list), without the slower index checks.
pub(super) fn check_integrity(conn: &Connection) -> Result<(), StoreError> {
    let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt(verdict))
    }
}

/// Fails with [`StoreError::Locked`] (after the busy timeout) when another connection is
/// writing: reads alone would not notice it in WAL mode.
pub(super) fn probe_write_lock(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Renames the damaged file (and its WAL and shared-memory files) to
/// `<name>.corrupt-<UTC time>`, never over an existing file. Returns the new name.
pub(super) fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "unknown-time".to_owned());
    let base = with_suffix(path, &format!(".corrupt-{stamp}"));
    let mut target = base.clone();
    let mut n = 1;
    while target.exists() || with_suffix(&target, "-wal").exists() {
        n += 1;
        target = with_suffix(&base, &format!("-{n}"));
    }
    std::fs::rename(path, &target)?;
    for side in ["-wal", "-shm", "-journal"] {
        let from = with_suffix(path, side);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&target, side))?;
        }
    }
    Ok(target)
}

/// The lock a running engine holds on its state file (see the module docs).
pub(super) struct EngineLock {
    _conn: Connection,
}

impl std::fmt::Debug for EngineLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineLock")
    }
}

impl EngineLock {
    /// Takes the lock for the state file at `db`, or fails at once with
    /// [`StoreError::InUse`].
    pub(super) fn acquire(db: &Path) -> Result<EngineLock, StoreError> {
        let lock_path = with_suffix(db, ".lock");
        match Self::try_acquire(&lock_path) {
            Ok(lock) => Ok(lock),
            Err(e) if is_busy(&e) => Err(StoreError::InUse {
                path: db.to_owned(),
            }),
            // The lock file holds nothing worth keeping: a damaged one is made anew.
            Err(e) if is_damage(&e) => {
                let _ = std::fs::remove_file(&lock_path);
                Self::try_acquire(&lock_path).map_err(|e| {
                    if is_busy(&e) {
                        StoreError::InUse {
                            path: db.to_owned(),
                        }
                    } else {
                        e
                    }
                })
            }
            Err(e) => Err(e),
        }
    }

    fn try_acquire(lock_path: &Path) -> Result<EngineLock, StoreError> {
        let conn = Connection::open(lock_path)?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        // In exclusive locking mode the lock taken by the first write is kept until the
        // connection closes.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.execute_batch(
            "BEGIN EXCLUSIVE;
             CREATE TABLE IF NOT EXISTS engine (pid INTEGER NOT NULL, since TEXT NOT NULL);
             DELETE FROM engine;",
        )?;
        conn.execute(
            "INSERT INTO engine (pid, since) VALUES (?1, ?2)",
            rusqlite::params![
                std::process::id(),
                OffsetDateTime::now_utc().unix_timestamp().to_string()
            ],
        )?;
        conn.execute_batch("COMMIT;")?;
        Ok(EngineLock { _conn: conn })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_renamed_with_its_companions_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(&db, b"garbage").unwrap();
        std::fs::write(with_suffix(&db, "-wal"), b"wal").unwrap();
        let first = move_aside(&db).unwrap();
        assert!(!db.exists());
        assert_eq!(std::fs::read(&first).unwrap(), b"garbage");
        assert_eq!(std::fs::read(with_suffix(&first, "-wal")).unwrap(), b"wal");
        std::fs::write(&db, b"more garbage").unwrap();
        let second = move_aside(&db).unwrap();
        assert_ne!(first, second, "an earlier copy is never overwritten");
        assert_eq!(std::fs::read(&first).unwrap(), b"garbage");
        assert_eq!(std::fs::read(&second).unwrap(), b"more garbage");
    }

    #[test]
    fn only_one_engine_holds_a_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let lock = EngineLock::acquire(&db).unwrap();
        assert!(matches!(
            EngineLock::acquire(&db),
            Err(StoreError::InUse { .. })
        ));
        drop(lock);
        assert!(EngineLock::acquire(&db).is_ok(), "released with its holder");
    }
}
