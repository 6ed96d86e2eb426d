//! Input formats on which Immich v2 and v3 disagree, checked the way each generation does.
//!
//! v3 (zod) wants `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z` or `±HH:MM` and a real calendar
//! date, and UUIDs in v4 format. v2 (class-validator on top of JavaScript's `Date`) took almost
//! any date and any UUID. Checksums arrive as 40 hex digits or 28 base64 characters; the server
//! tells them apart by length alone.

use base64::Engine as _;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses a date the way Immich does: `strict` is v3's zod rule, otherwise v2's JavaScript
/// `Date` leniency (missing zone read as the server's local time, assumed UTC here; date only;
/// a space instead of `T`; lower-case `z`; offsets without a colon). Returns the instant in UTC.
pub(crate) fn parse_date(text: &str, strict: bool) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let mut i = 0;
    let year = digits(b, &mut i, 4)?;
    expect(b, &mut i, b'-')?;
    let month = digits(b, &mut i, 2)?;
    expect(b, &mut i, b'-')?;
    let day = digits(b, &mut i, 2)?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    if i == b.len() {
        return if strict {
            None
        } else {
            Some(date.midnight().assume_utc())
        };
    }
    match b[i] {
        b'T' => {}
        b't' | b' ' if !strict => {}
        _ => return None,
    }
    i += 1;
    let hour = digits(b, &mut i, 2)?;
    expect(b, &mut i, b':')?;
    let minute = digits(b, &mut i, 2)?;
    let (mut second, mut nanos) = (0, 0);
    if b.get(i) == Some(&b':') {
        i += 1;
        second = digits(b, &mut i, 2)?;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            let mut frac: String = text[start..i].chars().take(9).collect();
            while frac.len() < 9 {
                frac.push('0');
            }
            nanos = frac.parse().ok()?;
        }
    }
    let offset = match b.get(i) {
        None if strict => return None,
        None => UtcOffset::UTC,
        Some(b'Z') => {
            i += 1;
            UtcOffset::UTC
        }
        Some(b'z') if !strict => {
            i += 1;
            UtcOffset::UTC
        }
        Some(&sign @ (b'+' | b'-')) => {
            i += 1;
            let oh = digits(b, &mut i, 2)?;
            let om = if b.get(i) == Some(&b':') {
                i += 1;
                digits(b, &mut i, 2)?
            } else if strict {
                return None;
            } else if i < b.len() {
                digits(b, &mut i, 2)?
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * oh as i8, sign * om as i8, 0).ok()?
        }
        Some(_) => return None,
    };
    if i != b.len() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// v3's date-time rule (the `pattern` in Immich's OpenAPI document).
pub(crate) fn is_strict_date_time(text: &str) -> bool {
    parse_date(text, true).is_some()
}

fn digits(b: &[u8], i: &mut usize, n: usize) -> Option<u32> {
    let part = b.get(*i..*i + n)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *i += n;
    Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn expect(b: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (b.get(*i) == Some(&c)).then(|| *i += 1)
}

/// Formats an instant as JavaScript's `toISOString()` does: UTC, millisecond precision.
pub(crate) fn iso(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Any UUID shape (8-4-4-4-12 hex digits).
fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// UUID v4 format (the `pattern` in Immich's OpenAPI document; v2 checked the same with
/// class-validator's `IsUUID('4')`).
pub(crate) fn is_uuid_v4(text: &str) -> bool {
    is_uuid(text)
        && text.as_bytes()[14] == b'4'
        && matches!(text.as_bytes()[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

/// A SHA-1 checksum sent as 28 base64 characters or (any other length) hex digits.
pub(crate) fn decode_checksum(text: &str) -> Option<[u8; 20]> {
    let bytes = if text.len() == 28 {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?
    } else {
        hex::decode(text).ok()?
    };
    bytes.try_into().ok()
}

/// The form responses use for checksums.
pub(crate) fn checksum_base64(sum: &[u8; 20]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_dates_follow_v3() {
        for ok in [
            "2024-05-01T08:00:00.000Z",
            "2024-05-01T08:00Z",
            "2024-05-01T08:00:00+02:00",
            "2024-02-29T00:00:00Z",
            "2000-02-29T00:00:00.123456789123-23:59",
        ] {
            assert!(is_strict_date_time(ok), "{ok}");
        }
        for bad in [
            "2024-05-01T10:00:00",
            "2024-05-01",
            "2024-05-01 10:00:00Z",
            "2024-05-01T10:00:00z",
            "2024-05-01T10:00:00+0200",
            "1714550400000",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:00.5Z",
            "2024-05-01T10:00:00.Z",
        ] {
            assert!(!is_strict_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn lenient_dates_follow_v2() {
        for ok in [
            "2024-05-01T10:00:00",
            "2024-05-01",
            "2024-05-01 10:00:00Z",
            "2024-05-01T10:00:00z",
            "2024-05-01T10:00:00+0200",
        ] {
            assert!(parse_date(ok, false).is_some(), "{ok}");
        }
        let at = parse_date("2024-05-01T10:00:00+02:00", false).unwrap();
        assert_eq!(iso(at), "2024-05-01T08:00:00.000Z");
    }

    #[test]
    fn uuids_and_checksums() {
        let id = uuid::Uuid::new_v4().to_string();
        assert!(is_uuid_v4(&id));
        assert!(!is_uuid_v4("00000000-0000-1000-8000-000000000000"));
        assert!(is_uuid("00000000-0000-1000-8000-000000000000"));
        let hex = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        let sum = decode_checksum(hex).unwrap();
        let b64 = checksum_base64(&sum);
        assert_eq!(b64.len(), 28);
        assert_eq!(decode_checksum(&b64), Some(sum));
        assert_eq!(decode_checksum("zz"), None);
    }
}
