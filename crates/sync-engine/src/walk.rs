//! A folder's full walk, in the order the store keeps its paths, stat'ing each file through
//! its directory.
//!
//! The scanner compares the walk with the store page by page, so the walk must come in the
//! order of the stored path bytes ([`paths::walk_key`]). `walkdir` can sort, but it stats every
//! entry by its full path, so the kernel resolves each component of each path again (at a
//! million files, path lookups were a fifth of a rescan's CPU; through the open directory one
//! component is left to look up). Here each directory is read whole,
//! each entry's sort key is made once, and a file's metadata comes from `DirEntry::metadata`:
//! `statx`/`fstatat` relative to the open directory on Linux, the directory listing itself on
//! Windows (as `walkdir` did there), the full path elsewhere.
//!
//! Symbolic links are not followed (a link is reported as itself, with its own metadata), and
//! `descend` decides which directories are entered, before they are read.

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::paths;

/// Directories kept open at once (one per level being walked). A tree deeper than this is
/// still walked; its deeper files are stat'ed by their full path.
const OPEN_LEVELS: usize = 64;

/// One thing the walk found.
#[derive(Debug)]
pub(crate) enum Step {
    /// A file (or anything that is not a directory) and its metadata, which may fail: a file
    /// removed since its directory was read answers `NotFound`.
    File {
        /// Relative to the walked root.
        rel: PathBuf,
        metadata: io::Result<Metadata>,
    },
    /// A directory (the root included) that could not be read: nothing below it was seen.
    Unreadable { path: PathBuf, error: io::Error },
}

/// Depth first, each directory's entries in the store's order.
pub(crate) struct Walk<F> {
    root: PathBuf,
    descend: F,
    levels: Vec<Level>,
    /// Parts of directories already read that could not be read, told before going on.
    problems: Vec<Step>,
    started: bool,
}

struct Level {
    rel: PathBuf,
    entries: std::vec::IntoIter<Entry>,
}

struct Entry {
    key: Vec<u8>,
    name: OsString,
    is_dir: bool,
    /// Kept while the level is shallow enough to hold its directory open.
    handle: Option<fs::DirEntry>,
}

impl<F: FnMut(&Path) -> bool> Walk<F> {
    /// Walks below `root` (not `root` itself); `descend(rel)` says whether a directory is
    /// entered.
    pub(crate) fn new(root: &Path, descend: F) -> Self {
        Walk {
            root: root.to_owned(),
            descend,
            levels: Vec::new(),
            problems: Vec::new(),
            started: false,
        }
    }

    /// Reads the directory `rel` whole and sorted. What could not be read of it (the listing
    /// failing halfway, an entry whose type cannot be told) goes to `self.problems`; what was
    /// read is kept.
    fn read_level(&mut self, rel: PathBuf) -> io::Result<Level> {
        let dir = if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(&rel)
        };
        let keep_open = self.levels.len() < OPEN_LEVELS;
        let mut entries = Vec::new();
        for item in fs::read_dir(&dir)? {
            let item = match item {
                Ok(item) => item,
                Err(error) => {
                    self.problems.push(Step::Unreadable {
                        path: dir.clone(),
                        error,
                    });
                    break;
                }
            };
            let file_type = match item.file_type() {
                Ok(file_type) => file_type,
                // Gone since the listing: as if it had not been listed.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => {
                    self.problems.push(Step::Unreadable {
                        path: item.path(),
                        error,
                    });
                    continue;
                }
            };
            let name = item.file_name();
            let is_dir = file_type.is_dir();
            entries.push(Entry {
                key: paths::walk_key(&name, is_dir),
                name,
                is_dir,
                handle: keep_open.then_some(item),
            });
        }
        entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Ok(Level {
            rel,
            entries: entries.into_iter(),
        })
    }
}

impl<F: FnMut(&Path) -> bool> Iterator for Walk<F> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        if !self.started {
            self.started = true;
            match self.read_level(PathBuf::new()) {
                Ok(level) => self.levels.push(level),
                Err(error) => {
                    return Some(Step::Unreadable {
                        path: self.root.clone(),
                        error,
                    });
                }
            }
        }
        loop {
            if let Some(problem) = self.problems.pop() {
                return Some(problem);
            }
            let level = self.levels.last_mut()?;
            let Some(entry) = level.entries.next() else {
                self.levels.pop();
                continue;
            };
            let rel = level.rel.join(&entry.name);
            if entry.is_dir {
                if !(self.descend)(&rel) {
                    continue;
                }
                match self.read_level(rel.clone()) {
                    Ok(level) => self.levels.push(level),
                    Err(error) => {
                        return Some(Step::Unreadable {
                            path: self.root.join(rel),
                            error,
                        });
                    }
                }
                continue;
            }
            let metadata = match &entry.handle {
                Some(handle) => handle.metadata(),
                None => fs::symlink_metadata(self.root.join(&rel)),
            };
            return Some(Step::File { rel, metadata });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"x").unwrap();
        }
        dir
    }

    fn walked(root: &Path, descend: impl FnMut(&Path) -> bool) -> Vec<Vec<u8>> {
        Walk::new(root, descend)
            .map(|step| match step {
                Step::File { rel, metadata } => {
                    assert!(metadata.unwrap().is_file());
                    paths::to_bytes(&rel)
                }
                Step::Unreadable { path, error } => panic!("{}: {error}", path.display()),
            })
            .collect()
    }

    #[test]
    fn files_come_in_stored_order() {
        // '-' (0x2D) and '.' (0x2E) sort before the separator '/' (0x2F), ' ' far before it:
        // comparing directory names alone would visit `a/…` before `a-b.jpg`.
        let files = [
            "a/x.jpg",
            "a-b.jpg",
            "a.jpg",
            "a b/c.jpg",
            "a/b/c.jpg",
            "a/b.jpg",
            "ab/c.jpg",
            "a/b-c/d.jpg",
            "a/b c.jpg",
            "Z.jpg",
            "été/1.jpg",
            "e/1.jpg",
        ];
        let dir = tree(&files);
        let walked = walked(dir.path(), |_| true);
        let mut stored = walked.clone();
        stored.sort();
        assert_eq!(walked, stored);
        assert_eq!(walked.len(), files.len());
    }

    #[test]
    fn a_directory_left_out_is_not_read() {
        let dir = tree(&["keep/a.jpg", "skip/b.jpg", "skip/deeper/c.jpg", "d.jpg"]);
        let mut asked = Vec::new();
        let walked = walked(dir.path(), |rel| {
            asked.push(rel.to_owned());
            rel != Path::new("skip")
        });
        let expected: Vec<Vec<u8>> = ["d.jpg", "keep/a.jpg"]
            .iter()
            .map(|p| paths::to_bytes(Path::new(p)))
            .collect();
        assert_eq!(walked, expected);
        assert_eq!(asked, [PathBuf::from("keep"), PathBuf::from("skip")]);
    }

    /// Deeper than the directories kept open, files are still found, with their metadata.
    #[test]
    fn a_tree_deeper_than_the_open_directories_is_walked_whole() {
        let deep: PathBuf = (0..OPEN_LEVELS + 6).map(|i| format!("d{i}")).collect();
        let file = deep.join("deep.jpg");
        let dir = tree(&[file.to_str().unwrap(), "top.jpg"]);
        let walked = walked(dir.path(), |_| true);
        assert_eq!(walked, [paths::to_bytes(&file), b"top.jpg".to_vec()]);
    }

    #[test]
    fn a_missing_root_is_reported_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("gone");
        let steps: Vec<Step> = Walk::new(&root, |_| true).collect();
        assert!(matches!(
            steps.as_slice(),
            [Step::Unreadable { path, error }]
                if *path == root && error.kind() == io::ErrorKind::NotFound
        ));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_reported_as_themselves() {
        let dir = tree(&["real/a.jpg"]);
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let steps: Vec<(PathBuf, bool)> = Walk::new(dir.path(), |_| true)
            .map(|step| match step {
                Step::File { rel, metadata } => (rel, metadata.unwrap().file_type().is_symlink()),
                Step::Unreadable { path, error } => panic!("{}: {error}", path.display()),
            })
            .collect();
        assert_eq!(
            steps,
            [
                (PathBuf::from("link"), true),
                (PathBuf::from("real/a.jpg"), false)
            ]
        );
    }
}
