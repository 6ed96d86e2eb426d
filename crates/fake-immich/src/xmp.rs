//! What Immich's metadata extraction takes from an XMP sidecar, as far as the engine's stories
//! need it: the description (`dc:description`, its first `rdf:li`, or an attribute) and the
//! rating (`xmp:Rating`, element or attribute). A real server reads far more (exiftool); the
//! fake reads these two so a story can see that a sidecar arrived with its photo.

/// The metadata a sidecar gives an asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SidecarMetadata {
    /// `exifInfo.description`.
    pub description: Option<String>,
    /// `exifInfo.rating`: 1 to 5 (0 and "rejected" mean none).
    pub rating: Option<i64>,
}

/// Reads `text`, an XMP packet.
pub fn read(text: &str) -> SidecarMetadata {
    let description = element(text, "dc:description")
        .map(|inner| element(inner, "rdf:li").unwrap_or(inner).trim().to_owned())
        .or_else(|| attribute(text, "dc:description"))
        .map(|d| unescape(&d))
        .filter(|d| !d.is_empty());
    let rating = element(text, "xmp:Rating")
        .map(str::to_owned)
        .or_else(|| attribute(text, "xmp:Rating"))
        .and_then(|r| r.trim().parse::<i64>().ok())
        .filter(|r| (1..=5).contains(r));
    SidecarMetadata {
        description,
        rating,
    }
}

/// The text between `<name ...>` and `</name>`.
fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = text.find(&format!("<{name}"))?;
    let after_name = &text[open + name.len() + 1..];
    if !after_name.starts_with(['>', ' ', '\n', '\t', '\r']) {
        return None;
    }
    let start = open + name.len() + 1 + after_name.find('>')? + 1;
    let end = start + text[start..].find(&format!("</{name}>"))?;
    Some(&text[start..end])
}

/// The value of `name="..."` anywhere in the packet.
fn attribute(text: &str, name: &str) -> Option<String> {
    let at = text.find(&format!("{name}=\""))? + name.len() + 2;
    let end = at + text[at..].find('"')?;
    Some(text[at..end].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_and_rating_as_darktable_and_lightroom_write_them() {
        let element_style = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>
          <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
            <xmp:Rating>4</xmp:Rating>
            <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Grandma &amp; the cake</rdf:li></rdf:Alt></dc:description>
          </rdf:Description></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(
            read(element_style),
            SidecarMetadata {
                description: Some("Grandma & the cake".into()),
                rating: Some(4)
            }
        );
        let attribute_style = r#"<rdf:Description xmp:Rating="5" dc:description="Beach"/>"#;
        assert_eq!(read(attribute_style).rating, Some(5));
        assert_eq!(read(attribute_style).description.as_deref(), Some("Beach"));
        assert_eq!(read("<x:xmpmeta/>"), SidecarMetadata::default());
        assert_eq!(read(r#"<rdf:Description xmp:Rating="0"/>"#).rating, None);
    }
}
