//! Lossless conversion between OS paths and the bytes the store keeps.
//!
//! Photo folders hold names that are not valid UTF-8 (old cameras, Samba shares, Latin-1 disks).
//! Storing `to_string_lossy()` would map two different files to one row, so relative paths are
//! stored as raw bytes: the OS bytes on Unix, UTF-16 code units on Windows.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The bytes that identify `path` in the store.
#[cfg(unix)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

/// The path stored as `bytes`.
#[cfg(unix)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(bytes.to_vec()))
}

/// The bytes that identify `path` in the store.
#[cfg(windows)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str()
        .encode_wide()
        .flat_map(|unit| unit.to_le_bytes())
        .collect()
}

/// The path stored as `bytes`.
#[cfg(windows)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::windows::ffi::OsStringExt;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    PathBuf::from(OsString::from_wide(&units))
}

/// The key by which a folder's walk orders the entries of one directory, so that the whole
/// walk visits files in the order of their stored bytes (the store's index order): the name as
/// stored, a directory's as if it ended with the separator, which places everything below it
/// exactly where its stored paths sort.
pub fn walk_key(name: &OsStr, is_dir: bool) -> Vec<u8> {
    let mut key = to_bytes(Path::new(name));
    if is_dir {
        key.extend_from_slice(&to_bytes(Path::new(std::path::MAIN_SEPARATOR_STR)));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_bytes() {
        let p = Path::new("Vacances été/IMG 0001 (1).JPG");
        assert_eq!(from_bytes(&to_bytes(p)), p);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let a = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"));
        let b = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe8.jpg"));
        assert_ne!(
            to_bytes(a),
            to_bytes(b),
            "lossy conversion would merge them"
        );
        assert_eq!(from_bytes(&to_bytes(a)), a);
    }
}
