//! Live photos: a still (HEIC or JPEG) and a short video (MOV or MP4) that an iPhone took
//! together, which Immich shows as one photo when the still is uploaded with
//! `livePhotoVideoId` naming the video.
//!
//! Two files are the halves of one live photo when they share a name stem in the same folder
//! and carry the same Apple content identifier — in the still's Apple maker note (EXIF tag
//! 0x0011) and in the video's QuickTime metadata (`com.apple.quicktime.content.identifier`).
//! Where neither carries one (an export that stripped them), both must say when they were
//! taken, with the time zone (EXIF `DateTimeOriginal` and `OffsetTimeOriginal`; QuickTime's
//! `creationdate`), within three seconds of each other. The files' modification times are
//! never used: copies, downloads and archives give unrelated files the same ones, and a wrong
//! pair would hide a video in Immich and tie its deletes to a photo's.
//! Android motion photos are one JPEG with the video inside: nothing to pair.
//!
//! Reading is bounded: the first megabyte of a still, and only the metadata boxes of a video
//! (its media data is skipped, not read).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use time::OffsetDateTime;

/// Extensions of a live photo's still.
const STILL: &[&str] = &["heic", "heif", "jpg", "jpeg"];
/// Extensions of a live photo's motion video.
const MOTION: &[&str] = &["mov", "mp4"];
/// How far apart the capture times of two halves without identifiers may be.
const SAME_MOMENT: time::Duration = time::Duration::seconds(3);
/// How much of a still is searched for its maker note.
const STILL_HEAD: u64 = 1 << 20;
/// The largest metadata box of a video that is read.
const MAX_META_BOX: u64 = 4 << 20;

fn has_extension(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Whether `path` could be a live photo's still.
pub fn is_still(path: &Path) -> bool {
    has_extension(path, STILL)
}

/// Whether `path` could be a live photo's motion video.
pub fn is_motion(path: &Path) -> bool {
    has_extension(path, MOTION)
}

/// Whether the still and the video at these paths are the two halves of one live photo.
/// Blocking: reads both files' metadata.
pub fn are_one(still: &Path, video: &Path) -> bool {
    match (content_identifier(still), content_identifier(video)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => match (capture_time(still), capture_time(video)) {
            (Some(a), Some(b)) => (a - b).abs() <= SAME_MOMENT,
            _ => false,
        },
        _ => false,
    }
}

/// The Apple content identifier a still or a video carries, if any.
pub fn content_identifier(path: &Path) -> Option<String> {
    if is_motion(path) {
        quicktime_identifier(path)
    } else if is_still(path) {
        maker_note_identifier(path)
    } else {
        None
    }
}

/// The identifier in the Apple maker note of a JPEG or HEIC: searched for by its signature
/// (`Apple iOS\0`), whose offsets count from itself, so the container around it (a JPEG's EXIF
/// segment, a HEIC's Exif item) needs no parsing.
fn maker_note_identifier(path: &Path) -> Option<String> {
    let head = read_head(path)?;
    let note = find(&head, b"Apple iOS\0")?;
    // Signature, version (2 bytes), byte order ("MM" or "II"), then the IFD; offsets count
    // from the signature.
    let note = Tiff::new(&head[note..], 12)?;
    note.ascii(14, 0x0011)
}

/// The first megabyte of a still, where its metadata is.
fn read_head(path: &Path) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(STILL_HEAD)
        .read_to_end(&mut head)
        .ok()?;
    Some(head)
}

/// Where `signature` starts in `bytes`.
fn find(bytes: &[u8], signature: &[u8]) -> Option<usize> {
    bytes.windows(signature.len()).position(|w| w == signature)
}

/// A TIFF-style block (EXIF, a maker note): IFDs of 12-byte entries whose offsets count from
/// the block's start, in the byte order the block names.
struct Tiff<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl<'a> Tiff<'a> {
    /// The block at `bytes`, its byte order (`MM` or `II`) at `order_at`.
    fn new(bytes: &'a [u8], order_at: usize) -> Option<Tiff<'a>> {
        let big = match bytes.get(order_at..order_at + 2)? {
            b"MM" => true,
            b"II" => false,
            _ => return None,
        };
        Some(Tiff { bytes, big })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The entry `tag` of the IFD at `ifd`: its type, count, and where its value (or the
    /// offset of it) is.
    fn entry(&self, ifd: usize, tag: u16) -> Option<(u16, u32, usize)> {
        let count = self.u16(ifd)? as usize;
        (0..count.min(512)).find_map(|n| {
            let at = ifd + 2 + n * 12;
            if self.u16(at)? != tag {
                return None;
            }
            Some((self.u16(at + 2)?, self.u32(at + 4)?, at + 8))
        })
    }

    /// The text of the ASCII entry `tag` of the IFD at `ifd`.
    fn ascii(&self, ifd: usize, tag: u16) -> Option<String> {
        let (kind, len, value_at) = self.entry(ifd, tag)?;
        if kind != 2 {
            return None;
        }
        let len = len as usize;
        let bytes = if len <= 4 {
            self.bytes.get(value_at..value_at + len)?
        } else {
            let offset = self.u32(value_at)? as usize;
            self.bytes.get(offset..offset + len)?
        };
        text(bytes)
    }
}

/// An identifier as written: up to the first NUL, trimmed, not empty.
fn text(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let value = String::from_utf8_lossy(&bytes[..end]).trim().to_owned();
    (!value.is_empty()).then_some(value)
}

/// The identifier in a QuickTime file's `moov/meta` (`keys` names it, `ilst` holds it).
fn quicktime_identifier(path: &Path) -> Option<String> {
    quicktime_value(path, b"com.apple.quicktime.content.identifier")
}

/// The value of a QuickTime metadata key (`moov/meta`: `keys` names it, `ilst` holds it).
fn quicktime_value(path: &Path, wanted: &[u8]) -> Option<String> {
    let mut file = File::open(path).ok()?;
    let moov = top_level_box(&mut file, b"moov")?;
    let meta = child(&moov, b"meta")?;
    // QuickTime's `meta` has no version field; ISO's has four bytes of it.
    let meta = if meta.get(4..8) == Some(b"hdlr") || meta.get(4..8) == Some(b"keys") {
        meta
    } else {
        meta.get(4..)?
    };
    let keys = child(meta, b"keys")?;
    let ilst = child(meta, b"ilst")?;
    // keys: version and flags, a count, then (size, namespace, name) entries.
    let mut index = None;
    let mut at = 8;
    let mut number = 1u32;
    while at + 8 <= keys.len() {
        let size = u32::from_be_bytes(keys[at..at + 4].try_into().ok()?) as usize;
        if size < 8 || at + size > keys.len() {
            break;
        }
        if &keys[at + 8..at + size] == wanted {
            index = Some(number);
            break;
        }
        at += size;
        number += 1;
    }
    let index = index?.to_be_bytes();
    let item = child(ilst, &index)?;
    let data = child(item, b"data")?;
    // data: type (4 bytes), locale (4 bytes), value.
    text(data.get(8..)?)
}

/// When a still or a video was taken, where the file says so with its time zone: EXIF
/// `DateTimeOriginal` with `OffsetTimeOriginal` for a still, QuickTime's
/// `com.apple.quicktime.creationdate` for a video. A time without a zone is not a moment.
pub fn capture_time(path: &Path) -> Option<OffsetDateTime> {
    if is_motion(path) {
        let text = quicktime_value(path, b"com.apple.quicktime.creationdate")?;
        parse_moment(&text)
    } else if is_still(path) {
        exif_capture_time(path)
    } else {
        None
    }
}

/// `2019-07-14T21:30:00+0200` or `…+02:00` (Apple writes the first), or `…Z`.
fn parse_moment(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (local, zone) = if let Some(local) = text.strip_suffix('Z') {
        (local, "+00:00".to_owned())
    } else {
        let split = text.len().checked_sub(5)?;
        let tail = &text[split..];
        if tail.starts_with(['+', '-']) && tail[1..].bytes().all(|b| b.is_ascii_digit()) {
            (&text[..split], format!("{}:{}", &tail[..3], &tail[3..]))
        } else {
            let split = text.len().checked_sub(6)?;
            (&text[..split], text[split..].to_owned())
        }
    };
    let local = local.get(..19)?;
    exif_moment(&local.replace('T', " ").replace('-', ":"), &zone)
}

/// EXIF's `2019:07:14 21:30:00` at the offset `+02:00`.
fn exif_moment(local: &str, offset: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[year]:[month]:[day] [hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    OffsetDateTime::parse(&format!("{}{}", local.get(..19)?, offset.trim()), &format).ok()
}

/// `DateTimeOriginal` (0x9003) and `OffsetTimeOriginal` (0x9011) from the Exif IFD of the
/// TIFF block after the first `Exif\0\0` in the file's first megabyte (a JPEG's APP1
/// segment, a HEIC's Exif item).
fn exif_capture_time(path: &Path) -> Option<OffsetDateTime> {
    let head = read_head(path)?;
    let signature = b"Exif\0\0";
    let tiff = Tiff::new(&head[find(&head, signature)? + signature.len()..], 0)?;
    let (_, _, pointer_at) = tiff.entry(tiff.u32(4)? as usize, 0x8769)?;
    let exif = tiff.u32(pointer_at)? as usize;
    exif_moment(&tiff.ascii(exif, 0x9003)?, &tiff.ascii(exif, 0x9011)?)
}

/// The content of the first child box of `kind` in `parent`'s content.
fn child<'a>(parent: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    let mut at = 0;
    while at + 8 <= parent.len() {
        let size = u32::from_be_bytes(parent[at..at + 4].try_into().ok()?) as usize;
        let (header, size) = match size {
            1 => {
                let large = u64::from_be_bytes(parent.get(at + 8..at + 16)?.try_into().ok()?);
                (16, usize::try_from(large).ok()?)
            }
            0 => (8, parent.len() - at),
            n => (8, n),
        };
        if size < header || at + size > parent.len() {
            return None;
        }
        if &parent[at + 4..at + 8] == kind {
            return Some(&parent[at + header..at + size]);
        }
        at += size;
    }
    None
}

/// The content of the top-level box `kind`, skipping the others (media data) with seeks.
fn top_level_box(file: &mut File, kind: &[u8]) -> Option<Vec<u8>> {
    let length = file.metadata().ok()?.len();
    let mut at = 0u64;
    while at + 8 <= length {
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8]).ok()?;
        let mut size = u64::from(u32::from_be_bytes(header[..4].try_into().ok()?));
        let mut header_len = 8;
        if size == 1 {
            file.read_exact(&mut header[8..16]).ok()?;
            size = u64::from_be_bytes(header[8..16].try_into().ok()?);
            header_len = 16;
        } else if size == 0 {
            size = length - at;
        }
        if size < header_len || at + size > length {
            return None;
        }
        if &header[4..8] == kind {
            if size - header_len > MAX_META_BOX {
                return None;
            }
            let mut content = vec![0; (size - header_len) as usize];
            file.read_exact(&mut content).ok()?;
            return Some(content);
        }
        at += size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_moment;

    #[test]
    fn apple_creation_dates_read_with_their_zone() {
        let utc = |text: &str| parse_moment(text).map(|t| t.unix_timestamp());
        let moment = Some(1_563_132_600); // 2019-07-14T19:30:00Z
        assert_eq!(utc("2019-07-14T21:30:00+0200"), moment);
        assert_eq!(utc("2019-07-14T21:30:00+02:00"), moment);
        assert_eq!(utc("2019-07-14T19:30:00Z"), moment);
        assert_eq!(utc("2019-07-14T14:30:00-0500"), moment);
        assert_eq!(utc("2019-07-14T21:30:00"), None, "no zone, no moment");
        assert_eq!(utc("yesterday"), None);
    }
}
