//! Which files in a synced folder are photos or videos to upload, and why the others are not.
//!
//! A synced folder holds more than photos. Android and Syncthing keep deleted files as
//! `.trashed-*` and `.stversions/`, a Synology NAS writes thumbnails into `@eaDir`, browsers leave
//! `.crdownload` files behind, and Windows and macOS drop `Thumbs.db` and `.DS_Store` everywhere.
//! Uploading any of these would put junk into the user's library, or upload a photo a second
//! time under another name. The rules are pure functions of the path relative to the folder root
//! (and the size), so the scanner and the watcher decide alike, a walk can prune whole
//! directories, and every rule is covered by a table-driven test.
//!
//! Every skip has a [`SkipReason`] with a stable [`code`](SkipReason::code) for the store and
//! events, and a [sentence](SkipReason::describe) for the activity list.
//!
//! Names are compared as bytes after lower-casing, so names that are not valid UTF-8 (old
//! cameras, Samba shares, Latin-1 disks) are judged like any other and never cause a panic.
//! Lossy conversion is used only to put an extension into a message.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Component, Path};

/// Why a path is not uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// A dotfile, or anything inside a dot directory.
    Hidden,
    /// Deleted or old versions kept by Android or Syncthing: `.trashed-*`, `.stversions/`,
    /// `.stfolder/`.
    SyncthingTrash,
    /// Files and folders written by the operating system or a NAS: `@eaDir`, `Thumbs.db`,
    /// `desktop.ini`, `.DS_Store`, `$RECYCLE.BIN`, `System Volume Information`, `.Trash-1000`.
    SystemJunk,
    /// A download or copy still in progress: `.part`, `.crdownload`, `.tmp`, `.partial`,
    /// `.download`, or an Office lock file (`~$` prefix).
    PartialDownload,
    /// The file has no content (0 bytes), often a copy that has not started yet.
    Empty,
    /// A sidecar such as `.xmp`: metadata that belongs to a photo, not an asset of its own.
    Sidecar,
    /// The name ends with an entry of `exclude_extensions`; holds that entry as normalised by
    /// [`normalise_extension`] (e.g. `tar.gz`).
    Excluded(String),
    /// The path matches an `exclude` pattern; holds the pattern as written.
    ExcludedByPattern(String),
    /// The extension is not one of the server's image or video types; holds the extension in
    /// lower case with its dot (e.g. `.docx`), or an empty string when the name has none.
    UnsupportedType(String),
}

impl SkipReason {
    /// A stable identifier for the store, events and the UI (never changes between versions).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Hidden => "hidden",
            Self::SyncthingTrash => "syncthing-trash",
            Self::SystemJunk => "system-junk",
            Self::PartialDownload => "partial-download",
            Self::Empty => "empty",
            Self::Sidecar => "sidecar",
            Self::Excluded(_) => "excluded",
            Self::ExcludedByPattern(_) => "excluded-by-pattern",
            Self::UnsupportedType(_) => "unsupported-type",
        }
    }

    /// A plain-English sentence for the activity list and the log.
    pub fn describe(&self) -> String {
        match self {
            Self::Hidden => "skipped: hidden file or folder (its name starts with a dot)".into(),
            Self::SyncthingTrash => {
                "skipped: a deleted or old version kept by the phone or Syncthing".into()
            }
            Self::SystemJunk => {
                "skipped: a file the operating system or the NAS keeps for itself".into()
            }
            Self::PartialDownload => "skipped: a download or copy that is not finished".into(),
            Self::Empty => "skipped: the file is empty (0 bytes)".into(),
            Self::Sidecar => {
                "skipped: a sidecar file holds metadata for a photo, not a photo itself".into()
            }
            Self::Excluded(entry) => {
                format!("skipped: .{entry} files are excluded by exclude_extensions")
            }
            Self::ExcludedByPattern(pattern) => format!("{EXCLUDED_BY_PATTERN}`{pattern}`"),
            Self::UnsupportedType(ext) if ext.is_empty() => {
                "skipped: files without an extension are not photos or videos Immich accepts".into()
            }
            Self::UnsupportedType(ext) => {
                format!("skipped: {ext} files are not photos or videos Immich accepts")
            }
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// How the skip reason of a file an `exclude` pattern leaves out begins (the store finds such
/// files by it).
pub const EXCLUDED_BY_PATTERN: &str = "skipped: excluded by the pattern ";

/// The file types the server accepts, from Immich's `GET /server/media-types`.
///
/// Immich lists lower-case extensions with a leading dot; they are stored that way, and every
/// look-up is case-insensitive and tolerates a missing dot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaTypes {
    image: HashSet<String>,
    video: HashSet<String>,
    sidecar: HashSet<String>,
}

impl MediaTypes {
    /// Builds the sets from the server's three lists.
    pub fn new(image: &[String], video: &[String], sidecar: &[String]) -> Self {
        let set = |list: &[String]| list.iter().filter_map(|ext| dotted_lower(ext)).collect();
        Self {
            image: set(image),
            video: set(video),
            sidecar: set(sidecar),
        }
    }

    /// True for an image or video extension, e.g. `.jpg` or `.MOV`.
    pub fn is_supported(&self, ext: &str) -> bool {
        self.is_image(ext) || self.is_video(ext)
    }

    /// True for an image extension.
    pub fn is_image(&self, ext: &str) -> bool {
        contains(&self.image, ext)
    }

    /// True for a video extension.
    pub fn is_video(&self, ext: &str) -> bool {
        contains(&self.video, ext)
    }

    /// True for a sidecar extension such as `.xmp`.
    pub fn is_sidecar(&self, ext: &str) -> bool {
        contains(&self.sidecar, ext)
    }
}

fn contains(set: &HashSet<String>, ext: &str) -> bool {
    dotted_lower(ext).is_some_and(|ext| set.contains(&ext))
}

/// `JPG`, `.jpg` and ` .Jpg ` all become `.jpg`; an empty extension becomes `None`.
fn dotted_lower(ext: &str) -> Option<String> {
    let bare = ext.trim().trim_start_matches('.');
    (!bare.is_empty()).then(|| format!(".{}", bare.to_lowercase()))
}

/// Normalises an `exclude_extensions` entry: trimmed, lower-case, without the leading `*` or
/// dot people write out of habit (`"*.TMP"` and `".tmp"` both become `tmp`). Compound
/// extensions keep their inner dot (`tar.gz`). Returns `None` when nothing is left.
pub fn normalise_extension(raw: &str) -> Option<String> {
    let bare = raw
        .trim()
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim();
    (!bare.is_empty()).then(|| bare.to_lowercase())
}

/// The user's `exclude` patterns for one folder, gitignore-like: `*.tmp` matches at any depth,
/// `Private/` a folder named so anywhere, `/Private/` only at the top, `**/Screenshots/**`
/// everything below any `Screenshots`, and `!keep.jpg` takes a file back. Matching ignores case
/// on every platform: photo folders move between file systems that differ on it.
#[derive(Clone, Debug, Default)]
pub struct Exclusions {
    matcher: Option<ignore::gitignore::Gitignore>,
}

impl Exclusions {
    /// Compiles `patterns` (relative to the folder `root`); the first that cannot be read is
    /// the error.
    pub fn new(root: &Path, patterns: &[String]) -> Result<Exclusions, String> {
        if patterns.is_empty() {
            return Ok(Exclusions::default());
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
        builder.case_insensitive(true).map_err(|e| e.to_string())?;
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|e| glob_message(&e))?;
        }
        let matcher = builder.build().map_err(|e| glob_message(&e))?;
        Ok(Exclusions {
            matcher: Some(matcher),
        })
    }

    /// True when no pattern is set.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// The pattern that excludes `relative` (a file, or a folder when `is_dir`), looking at its
    /// parent folders too, if one does.
    pub fn matched(&self, relative: &Path, is_dir: bool) -> Option<String> {
        let matcher = self.matcher.as_ref()?;
        if relative.as_os_str().is_empty() {
            return None;
        }
        match matcher.matched_path_or_any_parents(relative, is_dir) {
            ignore::Match::Ignore(glob) => Some(glob.original().to_owned()),
            _ => None,
        }
    }
}

/// The glob library's error without its file and line decoration.
fn glob_message(error: &ignore::Error) -> String {
    match error {
        ignore::Error::Glob { err, .. } => err.clone(),
        ignore::Error::WithLineNumber { err, .. } | ignore::Error::WithPath { err, .. } => {
            glob_message(err)
        }
        other => other.to_string(),
    }
}

/// Decides what is uploaded from a synced folder.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    media: MediaTypes,
    /// Normalised exclude entries with a leading dot (`.tar.gz`), matched as name suffixes.
    exclude: Vec<String>,
    /// The folder's `exclude` patterns.
    patterns: Exclusions,
}

impl Filter {
    /// A filter for the server's media types and the folder's `exclude_extensions` (entries
    /// are normalised with [`normalise_extension`]; empty ones are ignored).
    pub fn new(media: MediaTypes, exclude_extensions: &[String]) -> Self {
        let mut exclude: Vec<String> = Vec::new();
        for entry in exclude_extensions
            .iter()
            .filter_map(|e| normalise_extension(e))
        {
            let suffix = format!(".{entry}");
            if !exclude.contains(&suffix) {
                exclude.push(suffix);
            }
        }
        Self {
            media,
            exclude,
            patterns: Exclusions::default(),
        }
    }

    /// The same filter with the folder's `exclude` patterns.
    pub fn with_patterns(mut self, patterns: Exclusions) -> Self {
        self.patterns = patterns;
        self
    }

    /// The `exclude` pattern that takes `relative` (a file) out of syncing, if one does. A file
    /// excluded so that was synced before is left alone on both sides: never deleted, never
    /// uploaded again.
    pub fn excluded_by_pattern(&self, relative: &Path) -> Option<String> {
        self.patterns.matched(relative, false)
    }

    /// The media types this filter accepts.
    pub fn media_types(&self) -> &MediaTypes {
        &self.media
    }

    /// Decides on a file by its path relative to the synced folder root.
    ///
    /// Every directory above the file is checked first (as by [`Filter::check_dir`]), so
    /// anything below a hidden, junk or Syncthing directory is skipped; then the file name
    /// (Syncthing trash, system files, unfinished downloads, dotfiles), then its type
    /// (`exclude_extensions`, sidecars, the server's media types). `.` components are ignored.
    pub fn check_path(&self, relative: &Path) -> Result<(), SkipReason> {
        let names: Vec<&OsStr> = normal_components(relative).collect();
        let Some((file, dirs)) = names.split_last() else {
            return Err(SkipReason::UnsupportedType(String::new()));
        };
        if let Some(reason) = dirs.iter().find_map(|dir| dir_reason(&lower_name(dir))) {
            return Err(reason);
        }
        if let Some(pattern) = self.patterns.matched(relative, false) {
            return Err(SkipReason::ExcludedByPattern(pattern));
        }
        let name = lower_name(file);
        match file_name_reason(&name) {
            Some(reason) => Err(reason),
            None => self.check_type(&name),
        }
    }

    /// Decides whether a walk descends into a directory, given its path relative to the synced
    /// folder root: hidden, system and Syncthing directories (and anything below them) are
    /// pruned. The root itself (an empty path) is always walked.
    ///
    /// Folders an `exclude` pattern leaves out are walked all the same (their files are
    /// skipped one by one): a photo moved into one is then seen there, and its old path is not
    /// taken for a delete.
    pub fn check_dir(&self, relative_dir: &Path) -> Result<(), SkipReason> {
        match normal_components(relative_dir).find_map(|dir| dir_reason(&lower_name(dir))) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// [`Filter::check_path`], and then refuses empty files.
    pub fn check_file(&self, relative: &Path, size: u64) -> Result<(), SkipReason> {
        self.check_path(relative)?;
        if size == 0 {
            return Err(SkipReason::Empty);
        }
        Ok(())
    }

    /// Type rules on a lower-cased file name: excludes first (the user's word is final), then
    /// sidecars, then the server's media types.
    fn check_type(&self, name: &[u8]) -> Result<(), SkipReason> {
        if let Some(entry) = self.excluded(name) {
            return Err(SkipReason::Excluded(entry));
        }
        let ext = extension(name);
        let ext_text = ext.and_then(|ext| std::str::from_utf8(ext).ok());
        match ext_text {
            Some(ext) if self.media.sidecar.contains(ext) => Err(SkipReason::Sidecar),
            Some(ext) if self.media.image.contains(ext) || self.media.video.contains(ext) => Ok(()),
            _ => Err(SkipReason::UnsupportedType(
                ext.map(|ext| String::from_utf8_lossy(ext).into_owned())
                    .unwrap_or_default(),
            )),
        }
    }

    /// The exclude entry the name ends with, if any. The name must be longer than the suffix:
    /// a file named just `.tmp` has no extension (and is hidden anyway).
    fn excluded(&self, name: &[u8]) -> Option<String> {
        self.exclude
            .iter()
            .find(|suffix| name.len() > suffix.len() && name.ends_with(suffix.as_bytes()))
            .map(|suffix| suffix[1..].to_owned())
    }
}

/// Directories whose content is never a user's photo, written by a NAS or an operating system.
const JUNK_DIRS: &[&str] = &[
    "@eadir",
    "$recycle.bin",
    "system volume information",
    "#recycle",
    "#snapshot",
    "@recycle",
    "@recently-snapshot",
    "lost+found",
    ".trash",
    ".trashes",
    ".spotlight-v100",
    ".fseventsd",
    ".temporaryitems",
    ".documentrevisions-v100",
];

/// Files an operating system, a file manager or a photo app writes beside photos.
const JUNK_FILES: &[&str] = &[
    "thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    ".ds_store",
    ".directory",
    ".picasa.ini",
    "picasa.ini",
    ".nomedia",
];

/// Suffixes of downloads and copies that are still being written.
const PARTIAL_SUFFIXES: &[&str] = &[".part", ".crdownload", ".tmp", ".partial", ".download"];

/// Prefixes of lock and temporary files: Office (`~$`), Syncthing on Windows and elsewhere.
const PARTIAL_PREFIXES: &[&str] = &["~$", "~syncthing~", ".syncthing."];

/// Why a directory (lower-cased name) is pruned, if it is.
fn dir_reason(name: &[u8]) -> Option<SkipReason> {
    if name == b".stversions" || name == b".stfolder" || name.starts_with(b".trashed-") {
        Some(SkipReason::SyncthingTrash)
    } else if is_one_of(name, JUNK_DIRS) || name.starts_with(b".trash-") {
        Some(SkipReason::SystemJunk)
    } else if name.starts_with(b".") {
        Some(SkipReason::Hidden)
    } else {
        None
    }
}

/// Why a file (lower-cased name) is skipped whatever its type, if it is. The specific reasons
/// come before `Hidden` so that `.trashed-*` or `.DS_Store` say what they are.
fn file_name_reason(name: &[u8]) -> Option<SkipReason> {
    if name.starts_with(b".trashed-") {
        Some(SkipReason::SyncthingTrash)
    } else if is_one_of(name, JUNK_FILES) || name.starts_with(b"._") {
        // `._*` are AppleDouble files macOS writes next to every file on non-Apple disks.
        Some(SkipReason::SystemJunk)
    } else if is_partial(name) {
        Some(SkipReason::PartialDownload)
    } else if name.starts_with(b".") {
        Some(SkipReason::Hidden)
    } else {
        None
    }
}

fn is_partial(name: &[u8]) -> bool {
    PARTIAL_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix.as_bytes()))
        || PARTIAL_SUFFIXES
            .iter()
            .any(|suffix| name.len() > suffix.len() && name.ends_with(suffix.as_bytes()))
}

fn is_one_of(name: &[u8], list: &[&str]) -> bool {
    list.iter().any(|entry| name == entry.as_bytes())
}

/// The extension of a lower-cased name, with its dot: `.jpg` for `img 001 (copy).jpg`. A name
/// that starts with its only dot, or ends with a dot, has none.
fn extension(name: &[u8]) -> Option<&[u8]> {
    let dot = name.iter().rposition(|&byte| byte == b'.')?;
    (dot > 0 && dot + 1 < name.len()).then(|| &name[dot..])
}

/// The names in a relative path, ignoring `.` (and any root or `..`, which a relative path
/// from a walk does not have).
fn normal_components(path: &Path) -> impl Iterator<Item = &OsStr> {
    path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name),
        _ => None,
    })
}

/// A name lower-cased for matching. Valid UTF-8 is lower-cased fully; other names keep their
/// bytes with ASCII letters lower-cased, which is all the rules need.
fn lower_name(name: &OsStr) -> Vec<u8> {
    match name.to_str() {
        Some(text) => text.to_lowercase().into_bytes(),
        None => name.as_encoded_bytes().to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn filter() -> Filter {
        let media = MediaTypes::new(
            &strings(&[".jpg", ".jpeg", ".heic", ".png", ".dng"]),
            &strings(&[".mp4", ".MOV", "mkv"]),
            &strings(&[".xmp"]),
        );
        Filter::new(media, &strings(&["tar.gz", "*.AVI", ".mkv", " ", "tar.gz"]))
    }

    fn excluded(entry: &str) -> Result<(), SkipReason> {
        Err(SkipReason::Excluded(entry.to_owned()))
    }

    fn unsupported(ext: &str) -> Result<(), SkipReason> {
        Err(SkipReason::UnsupportedType(ext.to_owned()))
    }

    #[test]
    fn files_are_judged_by_name_and_size() {
        use SkipReason::*;
        let cases: &[(&str, u64, Result<(), SkipReason>)] = &[
            ("IMG_0001.JPG", 10, Ok(())),
            ("IMG 001 (copy).JPG", 10, Ok(())),
            ("2024/Été à Nice/IMG_0001.heic", 10, Ok(())),
            ("./Album/./clip.MOV", 10, Ok(())),
            ("Vacances.2024.final.jpeg", 10, Ok(())),
            ("empty.jpg", 0, Err(Empty)),
            (".hidden.jpg", 10, Err(Hidden)),
            (".cache/thumb.jpg", 10, Err(Hidden)),
            ("Album/.git/x.jpg", 10, Err(Hidden)),
            (".trashed-1712345678-IMG_0001.jpg", 10, Err(SyncthingTrash)),
            ("DCIM/.trashed-1712-IMG.jpg", 10, Err(SyncthingTrash)),
            (
                ".stversions/IMG~20240101-101010.jpg",
                10,
                Err(SyncthingTrash),
            ),
            (".stfolder/x.jpg", 10, Err(SyncthingTrash)),
            ("photo.jpg.part", 10, Err(PartialDownload)),
            ("photo.jpg.crdownload", 10, Err(PartialDownload)),
            ("photo.JPG.TMP", 10, Err(PartialDownload)),
            ("photo.jpg.partial", 10, Err(PartialDownload)),
            ("photo.jpg.download", 10, Err(PartialDownload)),
            ("~$photo.jpg", 10, Err(PartialDownload)),
            ("~syncthing~photo.jpg.tmp", 10, Err(PartialDownload)),
            (".syncthing.photo.jpg.tmp", 10, Err(PartialDownload)),
            ("@eaDir/x.jpg", 10, Err(SystemJunk)),
            (
                "Album/@eaDir/IMG.jpg/SYNOPHOTO_THUMB_XL.jpg",
                10,
                Err(SystemJunk),
            ),
            ("Thumbs.db", 10, Err(SystemJunk)),
            ("Album/desktop.ini", 10, Err(SystemJunk)),
            (".DS_Store", 10, Err(SystemJunk)),
            ("._IMG_0001.JPG", 10, Err(SystemJunk)),
            ("$RECYCLE.BIN/S-1-5-21/x.jpg", 10, Err(SystemJunk)),
            ("System Volume Information/x.jpg", 10, Err(SystemJunk)),
            (".Trash-1000/files/x.jpg", 10, Err(SystemJunk)),
            ("IMG_0001.JPG.xmp", 10, Err(Sidecar)),
            ("IMG_0001.XMP", 10, Err(Sidecar)),
            ("clip.mkv", 10, excluded("mkv")),
            ("clip.avi", 10, excluded("avi")),
            ("backup.TAR.GZ", 10, excluded("tar.gz")),
            ("backup.gz", 10, unsupported(".gz")),
            ("report.docx", 10, unsupported(".docx")),
            ("README", 10, unsupported("")),
            ("IMG.", 10, unsupported("")),
            ("", 10, unsupported("")),
        ];
        let filter = filter();
        for (path, size, expected) in cases {
            let got = filter.check_file(Path::new(path), *size);
            assert_eq!(&got, expected, "{path} ({size} bytes)");
        }
    }

    #[test]
    fn directories_are_pruned_by_name() {
        use SkipReason::*;
        let cases: &[(&str, Result<(), SkipReason>)] = &[
            ("", Ok(())),
            ("2024/Summer", Ok(())),
            ("Album.2024", Ok(())),
            (".stversions", Err(SyncthingTrash)),
            ("Camera/.trashed-1712-old", Err(SyncthingTrash)),
            ("@eaDir", Err(SystemJunk)),
            ("Album/@EADIR", Err(SystemJunk)),
            ("#recycle", Err(SystemJunk)),
            (".Trash-1000", Err(SystemJunk)),
            ("$Recycle.Bin", Err(SystemJunk)),
            (".thumbnails", Err(Hidden)),
            (".hidden/visible", Err(Hidden)),
        ];
        let filter = filter();
        for (path, expected) in cases {
            assert_eq!(&filter.check_dir(Path::new(path)), expected, "{path}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_judged_without_panicking() {
        use std::os::unix::ffi::OsStrExt;
        let path = |bytes: &[u8]| Path::new(OsStr::from_bytes(bytes)).to_path_buf();
        let filter = filter();
        assert_eq!(filter.check_file(&path(b"caf\xe9.JPG"), 10), Ok(()));
        assert_eq!(
            filter.check_file(&path(b"\xe9t\xe9/IMG.jpg"), 10),
            Ok(()),
            "a non-UTF-8 directory is an ordinary directory"
        );
        assert_eq!(
            filter.check_file(&path(b".\xe9.jpg"), 10),
            Err(SkipReason::Hidden)
        );
        assert_eq!(
            filter.check_file(&path(b"caf\xe9.tar.GZ"), 10),
            excluded("tar.gz")
        );
        let odd = filter.check_file(&path(b"photo.d\xe9"), 10);
        assert_eq!(odd, unsupported(".d\u{fffd}"), "lossy only in the message");
        assert_eq!(
            filter.check_dir(&path(b"@eaDir/\xff")),
            Err(SkipReason::SystemJunk)
        );
    }

    #[test]
    fn media_types_compare_case_insensitively() {
        let media = MediaTypes::new(
            &strings(&[".JPG", "heic"]),
            &strings(&[".mp4"]),
            &strings(&[".xmp"]),
        );
        assert!(media.is_supported(".jpg"));
        assert!(media.is_supported("JPG"));
        assert!(media.is_image(".HEIC"));
        assert!(media.is_video(".MP4"));
        assert!(!media.is_video(".jpg"));
        assert!(media.is_sidecar("XMP"));
        assert!(!media.is_supported(".xmp"), "a sidecar is not an asset");
        assert!(!media.is_supported(""));
    }

    #[test]
    fn extension_entries_are_normalised() {
        let cases = [
            (".tmp", Some("tmp")),
            ("TAR.GZ", Some("tar.gz")),
            ("*.MOV", Some("mov")),
            (" raw ", Some("raw")),
            ("..x", Some("x")),
            ("", None),
            (".", None),
            ("*.", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_extension(raw).as_deref(), expected, "{raw:?}");
        }
    }

    #[test]
    fn every_reason_has_its_own_code_and_a_sentence() {
        let reasons = [
            SkipReason::Hidden,
            SkipReason::SyncthingTrash,
            SkipReason::SystemJunk,
            SkipReason::PartialDownload,
            SkipReason::Empty,
            SkipReason::Sidecar,
            SkipReason::Excluded("tar.gz".into()),
            SkipReason::UnsupportedType(".docx".into()),
        ];
        let codes: HashSet<&str> = reasons.iter().map(SkipReason::code).collect();
        assert_eq!(codes.len(), reasons.len());
        for reason in &reasons {
            assert!(reason.describe().starts_with("skipped: "), "{reason:?}");
        }
        assert_eq!(
            SkipReason::UnsupportedType(".docx".into()).describe(),
            "skipped: .docx files are not photos or videos Immich accepts"
        );
        assert_eq!(
            SkipReason::Excluded("tar.gz".into()).to_string(),
            "skipped: .tar.gz files are excluded by exclude_extensions"
        );
    }

    #[test]
    fn exclusion_patterns_read_like_gitignore() {
        let patterns = strings(&[
            "**/Screenshots/**",
            "*.tmp.jpg",
            "/Private/",
            "Drafts/",
            "!Drafts/keep.jpg",
        ]);
        let f = filter().with_patterns(Exclusions::new(Path::new("/photos"), &patterns).unwrap());
        let by = |p: &str| Err(SkipReason::ExcludedByPattern(p.to_owned()));
        let cases: &[(&str, Result<(), SkipReason>)] = &[
            ("IMG_0001.jpg", Ok(())),
            ("2024/Screenshots/shot.jpg", by("**/Screenshots/**")),
            ("screenshots/shot.jpg", by("**/Screenshots/**")),
            ("2024/Screenshots.jpg", Ok(())),
            ("a/b/edit.tmp.jpg", by("*.tmp.jpg")),
            ("Private/a.jpg", by("/Private/")),
            ("2024/Private/a.jpg", Ok(())),
            ("2024/Drafts/x/a.jpg", by("Drafts/")),
        ];
        for (path, expected) in cases {
            assert_eq!(&f.check_path(Path::new(path)), expected, "{path}");
        }
        // Excluded folders are walked (their files skipped one by one), so a photo moved into
        // one is seen there.
        assert_eq!(f.check_dir(Path::new("2024/Screenshots/edited")), Ok(()));
        assert_eq!(f.check_dir(Path::new("Private")), Ok(()));
        assert_eq!(
            f.check_path(Path::new("2024/Screenshots/edited/a.jpg")),
            by("**/Screenshots/**")
        );
        assert_eq!(f.excluded_by_pattern(Path::new("IMG_0001.jpg")), None);
        assert!(Exclusions::new(Path::new("/"), &strings(&["{a,b"])).is_err());
    }
}
