//! Reading an XMP sidecar: the metadata that a sidecar edited after its photo was uploaded
//! sends to Immich with `PUT /assets/{id}` (Immich keeps the sidecar it got with the upload and
//! never takes another one).
//!
//! darktable, digiKam, Lightroom and Capture One write the same few properties, either as
//! elements or as attributes of `rdf:Description`: the description (`dc:description`, an
//! `rdf:Alt` whose `x-default` entry wins), the rating (`xmp:Rating`, `-1` meaning rejected),
//! the time taken (`exif:DateTimeOriginal`, else `photoshop:DateCreated`, else
//! `xmp:CreateDate`), the position (`exif:GPSLatitude`/`exif:GPSLongitude` in the XMP form
//! `48,51.396N`) and keywords (`dc:subject`). The conventional prefixes are assumed, as every
//! one of these programs writes them.

use quick_xml::events::{BytesStart, Event};

/// What a sidecar says about its photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmpMetadata {
    /// The caption.
    pub description: Option<String>,
    /// -1 (rejected), 0 (none) to 5 stars.
    pub rating: Option<i32>,
    /// When it was taken, as written (`2024-05-01T08:00:00`, with an offset when known).
    pub taken: Option<String>,
    /// Degrees north and east.
    pub position: Option<(f64, f64)>,
    /// Keywords (`dc:subject`).
    pub keywords: Vec<String>,
}

impl XmpMetadata {
    /// The names of what it holds, for a sentence ("description, rating").
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.description.is_some() {
            out.push("description");
        }
        if self.rating.is_some() {
            out.push("rating");
        }
        if self.taken.is_some() {
            out.push("date taken");
        }
        if self.position.is_some() {
            out.push("location");
        }
        out
    }
}

/// Reads an XMP packet; what cannot be read is left out.
pub fn read(bytes: &[u8]) -> XmpMetadata {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut out = XmpMetadata::default();
    let mut raw = Raw::default();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut lang_default = false;
    let mut buf = Vec::new();
    // An element's text arrives in pieces (entities such as `&amp;` apart): kept until its end.
    let mut text = String::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(tag)) => {
                attributes(&tag, &mut raw);
                lang_default = tag
                    .try_get_attribute("xml:lang")
                    .ok()
                    .flatten()
                    .is_some_and(|a| a.value.as_ref() == b"x-default");
                path.push(tag.name().as_ref().to_vec());
                text.clear();
            }
            Ok(Event::Empty(tag)) => attributes(&tag, &mut raw),
            Ok(Event::Text(piece)) => {
                if let Ok(piece) = piece.decode() {
                    text.push_str(&piece);
                }
            }
            Ok(Event::GeneralRef(entity)) => {
                let name = entity.decode().unwrap_or_default();
                let resolved = match name.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => entity.resolve_char_ref().ok().flatten(),
                };
                text.extend(resolved);
            }
            Ok(Event::End(_)) => {
                let value = std::mem::take(&mut text).trim().to_owned();
                let top = path.pop().unwrap_or_default();
                let inside = |name: &[u8]| path.iter().any(|p| p == name);
                if value.is_empty() {
                } else if top == b"rdf:li" && inside(b"dc:description") {
                    if lang_default || raw.description.is_none() {
                        raw.description = Some(value);
                    }
                } else if top == b"rdf:li" && inside(b"dc:subject") {
                    out.keywords.push(value);
                } else {
                    raw.set(&top, value);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    out.description = raw.description.filter(|d| !d.trim().is_empty());
    out.rating = raw
        .rating
        .and_then(|r| r.trim().parse::<f64>().ok())
        .map(|r| r.round() as i32)
        .filter(|r| (-1..=5).contains(r));
    out.taken = raw
        .date_time_original
        .or(raw.date_created)
        .or(raw.create_date)
        .filter(|t| t.len() >= 10);
    out.position = match (raw.latitude, raw.longitude) {
        (Some(lat), Some(lon)) => coordinate(&lat)
            .filter(|lat| lat.abs() <= 90.0)
            .zip(coordinate(&lon)),
        _ => None,
    };
    out
}

/// The properties as written, before they are checked.
#[derive(Default)]
struct Raw {
    description: Option<String>,
    rating: Option<String>,
    date_time_original: Option<String>,
    date_created: Option<String>,
    create_date: Option<String>,
    latitude: Option<String>,
    longitude: Option<String>,
}

impl Raw {
    fn set(&mut self, name: &[u8], value: String) {
        let slot = match name {
            b"dc:description" => &mut self.description,
            b"xmp:Rating" => &mut self.rating,
            b"exif:DateTimeOriginal" => &mut self.date_time_original,
            b"photoshop:DateCreated" => &mut self.date_created,
            b"xmp:CreateDate" => &mut self.create_date,
            b"exif:GPSLatitude" => &mut self.latitude,
            b"exif:GPSLongitude" => &mut self.longitude,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

/// Properties written as attributes (`<rdf:Description xmp:Rating="4" …>`).
fn attributes(tag: &BytesStart<'_>, raw: &mut Raw) {
    for attribute in tag.attributes().flatten() {
        if let Ok(value) = attribute.unescape_value() {
            raw.set(attribute.key.as_ref(), value.into_owned());
        }
    }
}

/// An XMP GPS coordinate (`48,51.396N`, `2,17,40.2E`, or plain decimal degrees) in degrees,
/// negative to the south and west.
fn coordinate(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, sign) = match text.chars().last()? {
        'N' | 'E' | 'n' | 'e' => (&text[..text.len() - 1], 1.0),
        'S' | 'W' | 's' | 'w' => (&text[..text.len() - 1], -1.0),
        _ => (text, 1.0),
    };
    let parts: Vec<f64> = number
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let degrees = match parts.as_slice() {
        [d] => *d,
        [d, m] => d + m / 60.0,
        [d, m, s] => d + m / 60.0 + s / 3600.0,
        _ => return None,
    };
    let value = sign * degrees;
    (value.is_finite() && value.abs() <= 180.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darktable_writes_elements() {
        let packet = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/">
   <xmp:Rating>4</xmp:Rating>
   <exif:DateTimeOriginal>2024-05-01T08:00:00+02:00</exif:DateTimeOriginal>
   <exif:GPSLatitude>48,51.396N</exif:GPSLatitude>
   <exif:GPSLongitude>2,17,40.2W</exif:GPSLongitude>
   <dc:description><rdf:Alt>
     <rdf:li xml:lang="fr">Mamie &amp; le gâteau</rdf:li>
     <rdf:li xml:lang="x-default">Grandma &amp; the cake</rdf:li>
   </rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>family</rdf:li><rdf:li>birthday</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#;
        let read = read(packet.as_bytes());
        assert_eq!(read.description.as_deref(), Some("Grandma & the cake"));
        assert_eq!(read.rating, Some(4));
        assert_eq!(read.taken.as_deref(), Some("2024-05-01T08:00:00+02:00"));
        let (lat, lon) = read.position.unwrap();
        assert!((lat - 48.8566).abs() < 1e-4, "{lat}");
        assert!((lon + 2.2945).abs() < 1e-4, "{lon}");
        assert_eq!(read.keywords, ["family", "birthday"]);
        assert_eq!(
            read.fields(),
            ["description", "rating", "date taken", "location"]
        );
    }

    #[test]
    fn lightroom_writes_attributes() {
        let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 xmp:Rating="-1" photoshop:DateCreated="2023-12-24T18:30:00"/></rdf:RDF></x:xmpmeta>"#;
        let read = read(packet.as_bytes());
        assert_eq!(read.rating, Some(-1), "rejected");
        assert_eq!(read.taken.as_deref(), Some("2023-12-24T18:30:00"));
        assert_eq!(read.description, None);
        assert_eq!(read.position, None);
    }

    #[test]
    fn broken_packets_give_what_could_be_read() {
        assert_eq!(read(b"not xml at all"), XmpMetadata::default());
        let half = read(b"<rdf:Description><xmp:Rating>9</xmp:Rating><exif:GPSLatitude>1N");
        assert_eq!(half.rating, None, "out of range");
        assert_eq!(half.position, None, "no longitude");
    }
}
