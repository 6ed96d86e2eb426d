//! What Immich shows matches what the folder holds: XMP sidecars travel with their photos.

use crate::common::{Harness, once, photo};
use fake_immich::Profile;

/// A real XMP packet as darktable writes it: a description and a rating.
fn xmp(description: &str, rating: u8) -> String {
    format!(
        r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/">
   <xmp:Rating>{rating}</xmp:Rating>
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">{description}</rdf:li>
    </rdf:Alt>
   </dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_beside_a_photo_is_sent_with_it_and_never_uploaded_itself() {
    let h = Harness::new(Profile::V3).await;
    h.write("2024/IMG_0001.jpg", &photo(1));
    h.write(
        "2024/IMG_0001.jpg.xmp",
        xmp("Grandma &amp; the birthday cake", 4).as_bytes(),
    );
    h.write("2024/IMG_0002.jpg", &photo(2));
    let config = h.config();

    let report = once(&config).await;
    assert_eq!(report.uploaded, 2, "{report:?}");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 2, "the sidecar is not an asset: {assets:?}");
    let with = assets
        .iter()
        .find(|a| a.original_file_name == "IMG_0001.jpg")
        .expect("the photo with a sidecar");
    assert_eq!(
        (with.description.as_deref(), with.rating),
        (Some("Grandma & the birthday cake"), Some(4)),
        "Immich reads the description and rating from the sidecar"
    );
    let without = assets
        .iter()
        .find(|a| a.original_file_name == "IMG_0002.jpg")
        .expect("the photo without one");
    assert_eq!(
        (without.description.as_deref(), without.rating),
        (None, None)
    );
    let uploaded = h.events_of("uploaded");
    assert!(
        uploaded
            .iter()
            .any(|e| e["detail"] == "sent with its sidecar IMG_0001.jpg.xmp"),
        "Activity says the sidecar went along: {uploaded:?}"
    );

    // Editing the sidecar later never uploads the photo again.
    h.write(
        "2024/IMG_0001.jpg.xmp",
        xmp("Grandma and the cake", 5).as_bytes(),
    );
    let again = once(&config).await;
    assert_eq!(again.uploaded, 0, "{again:?}");
    assert_eq!(h.server.created_uploads(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lightroom_style_sidecar_named_after_the_stem_is_found_too() {
    let h = Harness::new(Profile::V2).await;
    h.write("IMG_0003.JPG", &photo(3));
    h.write("IMG_0003.xmp", xmp("Lighthouse at dusk", 3).as_bytes());
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 1, "{report:?}");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(
        (assets[0].description.as_deref(), assets[0].rating),
        (Some("Lighthouse at dusk"), Some(3))
    );
}
