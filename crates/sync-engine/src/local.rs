//! Reading the local disk: stat, stable-content hashing, birth times, and turning a path into
//! an [`Observation`]. The facts the disk gives ([`Stat`], [`Observation`]) are defined here,
//! where they are learned; the store records them.
//!
//! A file's identity for change detection is (size, mtime, inode/file id). Hashing reads the
//! file in fixed-size chunks (memory does not grow with file size) and checks the stat again
//! afterwards: if the file changed while it was read, the result is thrown away, because a
//! half-written photo must never be uploaded.

use std::fs::Metadata;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use crate::filter::Filter;

/// What identifies a version of a file without reading it: if all three are unchanged the
/// content is taken as unchanged and never hashed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Inode (Unix) or file index (Windows), when known.
    pub file_key: Option<u64>,
}

/// A fact learned about one file on disk.
#[derive(Debug, Clone)]
pub enum Observation {
    /// The file is complete and has this content.
    Hashed {
        /// Path relative to the folder root.
        rel: PathBuf,
        /// Its stat when hashed.
        stat: Stat,
        /// Its SHA-1, hex.
        sha1: String,
        /// Its birth time (unix ms; the mtime where the filesystem keeps none): where its age
        /// starts, unless the same content is known to be older.
        born_ms: i64,
    },
    /// The file is not to be uploaded, for `reason`.
    Skipped {
        /// Path relative to the folder root.
        rel: PathBuf,
        /// Its stat.
        stat: Stat,
        /// Why (a `SkipReason` description).
        reason: String,
    },
    /// The file no longer exists.
    Gone {
        /// Path relative to the folder root.
        rel: PathBuf,
    },
}

/// Read buffer for hashing.
const HASH_CHUNK: usize = 256 * 1024;

/// Why a file could not be observed.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The file vanished.
    #[error("the file disappeared")]
    Gone,
    /// The file changed while it was being read: try again once it is stable.
    #[error("the file is still being written")]
    Unstable,
    /// The OS refused (permissions, I/O error).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The change-detection identity of a file.
pub fn stat_of(meta: &Metadata) -> Stat {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Stat {
        size: meta.len(),
        mtime_ns,
        file_key: file_key(meta),
    }
}

#[cfg(unix)]
fn file_key(meta: &Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn file_key(_meta: &Metadata) -> Option<u64> {
    // std exposes the NTFS file index only on nightly; size + mtime still detect changes.
    None
}

/// What hashing a file learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// SHA-1 of the whole file, hex.
    pub sha1: String,
    /// Its birth time (see [`birth_ms`]).
    pub born_ms: i64,
}

/// SHA-1 of the file at `path` (hex), guaranteed to match `expected` stat before and after.
pub fn hash_stable(path: &Path, expected: Stat) -> Result<String, ObserveError> {
    hash_content(path, expected).map(|c| c.sha1)
}

/// [`hash_stable`], with the file's birth time.
pub fn hash_content(path: &Path, expected: Stat) -> Result<Content, ObserveError> {
    let mut file = std::fs::File::open(path).map_err(not_found_is_gone)?;
    let before = stat_of(&file.metadata()?);
    if before != expected {
        return Err(ObserveError::Unstable);
    }
    let mut hasher = Sha1::new();
    // One buffer per hashing thread, reused: clearing a fresh 256 KiB buffer for every small
    // file cost more than hashing it.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| -> std::io::Result<()> {
        let mut buf = buffer.borrow_mut();
        if buf.len() < HASH_CHUNK {
            buf.resize(HASH_CHUNK, 0);
        }
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            hasher.update(&buf[..n]);
        }
    })?;
    let after = std::fs::metadata(path).map_err(not_found_is_gone)?;
    if stat_of(&after) != expected {
        return Err(ObserveError::Unstable);
    }
    Ok(Content {
        sha1: hex::encode(hasher.finalize()),
        born_ms: birth_ms(&after),
    })
}

/// When the file came to be, in unix ms: the earliest of its birth time and its modification
/// time (a copy keeps the mtime but gets a new birth time; some filesystems keep no birth time).
pub fn birth_ms(meta: &Metadata) -> i64 {
    let ms = |t: SystemTime| match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let modified = meta.modified().ok().map(ms);
    let created = meta.created().ok().map(ms);
    match (created, modified) {
        (Some(c), Some(m)) => c.min(m),
        (c, m) => c.or(m).unwrap_or_else(|| ms(SystemTime::now())),
    }
}

fn not_found_is_gone(e: std::io::Error) -> ObserveError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ObserveError::Gone
    } else {
        ObserveError::Io(e)
    }
}

/// What a walk or a file event found at one path, before hashing.
#[derive(Debug)]
pub enum Found {
    /// Not to be uploaded: record the skip.
    Skip(Observation),
    /// A candidate with this stat; hash it unless the stat is already known.
    Candidate(Stat),
}

/// Applies the filter to a file found at `rel` with metadata `meta` (from `symlink_metadata`).
/// Only regular files are ever candidates: links, pipes, sockets and devices are skipped
/// without being opened.
pub fn classify(filter: &Filter, rel: &Path, meta: &Metadata) -> Found {
    let stat = stat_of(meta);
    let kind = meta.file_type();
    let reason = if kind.is_symlink() {
        Some(
            "skipped: a symbolic link is not followed (sync the folder it points to instead)"
                .to_owned(),
        )
    } else if !kind.is_file() {
        // Opening a named pipe for reading blocks until someone writes to it; a device can be
        // endless. Neither is a photo.
        Some("skipped: not a regular file (a named pipe, socket or device)".to_owned())
    } else {
        filter
            .check_file(rel, meta.len())
            .err()
            .map(|r| r.describe())
    };
    match reason {
        Some(reason) => Found::Skip(Observation::Skipped {
            rel: rel.to_owned(),
            stat,
            reason,
        }),
        None => Found::Candidate(stat),
    }
}

/// Creation and modification times for the upload: created = earliest of birth time and
/// mtime (§3.3), both falling back to now when the OS reports nothing.
pub fn file_times(meta: &Metadata) -> (OffsetDateTime, OffsetDateTime) {
    let modified = meta.modified().ok();
    let created = meta.created().ok();
    let created = match (created, modified) {
        (Some(c), Some(m)) => Some(c.min(m)),
        (c, m) => c.or(m),
    };
    let to = |t: Option<SystemTime>| t.map_or_else(OffsetDateTime::now_utc, OffsetDateTime::from);
    (to(created), to(modified))
}

/// The largest XMP sidecar sent with a photo: metadata people write is a few kilobytes.
const MAX_SIDECAR: u64 = 4 * 1024 * 1024;

/// An XMP sidecar read from beside a photo, to go with its upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// Its file name (`IMG_0001.jpg.xmp`).
    pub file_name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl Sidecar {
    /// The SHA-1 of its content, hex: what the store keeps of the sidecar Immich has.
    pub fn sha1_hex(&self) -> String {
        hex::encode(Sha1::digest(&self.bytes))
    }
}

/// The XMP sidecar of the photo at `path`, if one sits next to it: `IMG_0001.jpg.xmp` (darktable,
/// digiKam; the name Immich prefers) or else `IMG_0001.xmp` (Lightroom, Capture One), the
/// extension in either case. One larger than 4 MiB, or unreadable, is left out (the photo is
/// uploaded without it). Blocking: call it off the runtime.
pub fn read_sidecar(path: &Path) -> Option<Sidecar> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let candidates = [
        format!("{name}.xmp"),
        format!("{name}.XMP"),
        format!("{stem}.xmp"),
        format!("{stem}.XMP"),
    ];
    candidates.into_iter().find_map(|file_name| {
        let candidate = path.with_file_name(&file_name);
        let meta = std::fs::metadata(&candidate).ok()?;
        if !meta.is_file() || meta.len() > MAX_SIDECAR {
            return None;
        }
        let bytes = std::fs::read(&candidate).ok()?;
        Some(Sidecar { file_name, bytes })
    })
}

/// How many files below `root` the `exclude` patterns would take out of syncing: the live
/// count beside the patterns in Settings. Folders that are never synced anyway (hidden, system,
/// Syncthing) are not entered. Walks the whole folder: call it off the async threads.
pub fn count_excluded(root: &Path, patterns: &[String]) -> Result<u64, String> {
    let exclusions = crate::filter::Exclusions::new(root, patterns)?;
    if exclusions.is_empty() {
        return Ok(0);
    }
    let always = Filter::default();
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_owned();
    let walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .filter_entry(|entry| {
            !entry.file_type().is_dir() || always.check_dir(&relative(entry.path())).is_ok()
        });
    let count = walk
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter(|entry| exclusions.matched(&relative(entry.path()), false).is_some())
        .count();
    Ok(count as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sidecar_named_after_the_whole_file_name_wins() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("IMG_0001.JPG");
        std::fs::write(&photo, b"photo").unwrap();
        assert_eq!(read_sidecar(&photo), None, "no sidecar: none sent");
        std::fs::write(dir.path().join("IMG_0001.xmp"), b"lightroom").unwrap();
        let found = read_sidecar(&photo).expect("the Lightroom-style sidecar");
        assert_eq!(found.file_name, "IMG_0001.xmp");
        std::fs::write(dir.path().join("IMG_0001.JPG.xmp"), b"darktable").unwrap();
        let found = read_sidecar(&photo).expect("the darktable-style sidecar");
        assert_eq!(
            (found.file_name.as_str(), found.bytes.as_slice()),
            ("IMG_0001.JPG.xmp", &b"darktable"[..])
        );
    }

    #[test]
    fn hashing_matches_sha1_and_refuses_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"hello").unwrap();
        let stat = stat_of(&std::fs::metadata(&path).unwrap());
        assert_eq!(
            hash_stable(&path, stat).unwrap(),
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
        );
        std::fs::write(&path, b"hello, longer").unwrap();
        assert!(matches!(
            hash_stable(&path, stat),
            Err(ObserveError::Unstable)
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(hash_stable(&path, stat), Err(ObserveError::Gone)));
    }
}
