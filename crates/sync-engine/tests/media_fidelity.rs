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

    // Editing the sidecar later never uploads the photo again…
    h.write(
        "2024/IMG_0001.jpg.xmp",
        xmp("Grandma and the cake", 5).as_bytes(),
    );
    let again = once(&config).await;
    assert_eq!(again.uploaded, 0, "{again:?}");
    assert_eq!(h.server.created_uploads(), 2);
    // …but what it says reaches the asset.
    let edited = h
        .live_assets()
        .into_iter()
        .find(|a| a.original_file_name == "IMG_0001.jpg")
        .expect("the photo");
    assert_eq!(
        (edited.description.as_deref(), edited.rating),
        (Some("Grandma and the cake"), Some(5)),
        "the edit is sent as metadata"
    );
    let updated = h.events_of("metadata_updated");
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(
        updated[0]["detail"],
        "updated from its sidecar IMG_0001.jpg.xmp: description, rating"
    );

    // A sidecar only touched (same content) sends nothing.
    let sidecar = h.photos.join("2024/IMG_0001.jpg.xmp");
    let content = std::fs::read(&sidecar).unwrap();
    std::fs::write(&sidecar, b"").unwrap();
    std::fs::write(&sidecar, &content).unwrap();
    h.server.clear_requests();
    once(&config).await;
    assert!(
        h.server
            .requests()
            .iter()
            .all(|r| !(r.method == "PUT" && r.path.starts_with("/api/assets/"))),
        "no update for the same sidecar"
    );
    assert_eq!(h.events_of("metadata_updated").len(), 1);
}

/// A sidecar with a date taken and a position, as digiKam writes them.
fn xmp_with_place(taken: &str, latitude: &str, longitude: &str) -> String {
    format!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exif:DateTimeOriginal="{taken}" exif:GPSLatitude="{latitude}" exif:GPSLongitude="{longitude}">
   <dc:subject><rdf:Bag><rdf:li>Paris</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_added_after_the_upload_sets_the_date_and_place() {
    let h = Harness::new(Profile::V3).await;
    h.write("IMG_0100.jpg", &photo(100));
    let config = h.config();
    assert_eq!(once(&config).await.uploaded, 1);

    // Lightroom's naming: the stem, not the whole file name.
    h.write(
        "IMG_0100.xmp",
        xmp_with_place("2019-07-14T21:30:00+02:00", "48,51.396N", "2,17.67E").as_bytes(),
    );
    let report = once(&config).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    let asset = h.live_assets().pop().expect("the photo");
    assert_eq!(h.live_assets().len(), 1, "the sidecar is not an asset");
    let (lat, lon) = (
        asset.latitude.expect("latitude"),
        asset.longitude.expect("longitude"),
    );
    assert!(
        (lat - 48.8566).abs() < 1e-3 && (lon - 2.2945).abs() < 1e-3,
        "{lat},{lon}"
    );
    assert!(
        asset
            .date_time_original
            .as_deref()
            .is_some_and(|t| t.starts_with("2019-07-14T19:30:00")),
        "taken 21:30 in Paris is 19:30 UTC: {:?}",
        asset.date_time_original
    );
    let updated = h.events_of("metadata_updated");
    assert_eq!(
        updated[0]["detail"],
        "updated from its sidecar IMG_0100.xmp: date taken, location; its keywords are not sent: the API key needs `tag.create` and `tag.asset` for them"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusion_patterns_stop_syncing_without_deleting_anything_on_either_side() {
    let h = Harness::new(Profile::V3).await;
    h.write("Camera/IMG_1.jpg", &photo(1));
    h.write("Camera/Screenshots/S_1.jpg", &photo(2));
    h.write("Private/P_1.jpg", &photo(3));
    h.write("edit-draft.jpg", &photo(4));
    assert_eq!(once(&h.config()).await.uploaded, 4, "all synced at first");

    // The user excludes screenshots, a private folder (written in another case) and drafts.
    let excluding = h.config_with(r#"exclude = ["**/Screenshots/**", "private/", "*-draft.jpg"]"#);
    h.write("Camera/Screenshots/S_2.jpg", &photo(5));
    h.write("Private/P_2.jpg", &photo(6));
    h.write("new-draft.jpg", &photo(7));
    h.write("Camera/IMG_2.jpg", &photo(8));
    let report = once(&excluding).await;
    assert_eq!(
        report.uploaded, 1,
        "only the photo no pattern excludes: {report:?}"
    );
    let names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert!(names.contains(&"IMG_2.jpg".to_owned()), "{names:?}");
    for excluded in ["S_2.jpg", "P_2.jpg", "new-draft.jpg"] {
        assert!(
            !names.contains(&excluded.to_owned()),
            "{excluded} is not uploaded"
        );
    }
    let skipped = h.events_of("skipped");
    assert!(
        skipped
            .iter()
            .any(|e| e["detail"] == "skipped: excluded by the pattern `*-draft.jpg`"),
        "Activity names the pattern: {skipped:?}"
    );

    // Excluded files that were synced before are left alone: deleting them here deletes
    // nothing in Immich…
    std::fs::remove_file(h.photos.join("Private/P_1.jpg")).unwrap();
    std::fs::remove_file(h.photos.join("edit-draft.jpg")).unwrap();
    let report = once(&excluding).await;
    assert_eq!(report.trashed_in_immich, 0, "{report:?}");
    assert_eq!(
        h.server
            .assets(&h.user_id)
            .iter()
            .filter(|a| a.is_trashed)
            .count(),
        0,
        "nothing excluded is trashed in Immich"
    );

    // …and deleting one in Immich does not delete it here.
    h.server.trash_asset(&h.asset_id("S_1.jpg"));
    let report = once(&excluding).await;
    assert_eq!(report.moved_to_trash, 0, "{report:?}");
    assert!(crate::common::exists(
        &h.photos.join("Camera/Screenshots/S_1.jpg")
    ));
    let kept = h.events_of("kept_local");
    assert!(
        kept.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the pattern `**/Screenshots/**` excludes it"))),
        "Activity says why the file stays: {kept:?}"
    );

    // What Settings counts beside the patterns: every excluded file still in the folder.
    let patterns = ["**/Screenshots/**", "private/", "*-draft.jpg"].map(String::from);
    assert_eq!(
        sync_engine::local::count_excluded(&h.photos, &patterns),
        Ok(4),
        "S_1, S_2, P_2 and new-draft"
    );
}

#[test]
fn a_pattern_that_cannot_be_read_is_named_in_the_configuration_error() {
    let text = r#"
[[account]]
name = "alice"
server_url = "http://127.0.0.1:1"
api_key = "k"
[[account.folder]]
path = "/photos"
exclude = ["ok/**", "{2024,2025"]
"#;
    let error = sync_engine::config::parse(text, std::path::Path::new("/"))
        .expect_err("the broken pattern is refused")
        .to_string();
    assert!(
        error.contains("account[0].folder[0].exclude[1]")
            && error.contains("unclosed alternate group"),
        "{error}"
    );
}

/// A harness whose key has `extra` permissions besides the usual ones.
async fn harness_allowing(extra: &[&str]) -> Harness {
    let mut h = Harness::new(Profile::V3).await;
    let permissions = [crate::common::ALL_PERMISSIONS, extra].concat();
    h.key = h.server.add_api_key(&h.user_id, &permissions);
    h
}

/// A harness whose key may also manage albums.
async fn album_harness() -> Harness {
    harness_allowing(&sync_engine::immich::ALBUM_PERMISSIONS).await
}

/// Album name → names of the photos in it, as Immich has them.
fn albums(h: &Harness) -> std::collections::BTreeMap<String, Vec<String>> {
    let names: std::collections::HashMap<String, String> = h
        .server
        .assets(&h.user_id)
        .into_iter()
        .map(|a| (a.id, a.original_file_name))
        .collect();
    h.server
        .albums(&h.user_id)
        .into_iter()
        .map(|album| {
            let mut photos: Vec<String> = album
                .asset_ids
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                .collect();
            photos.sort();
            (album.name, photos)
        })
        .collect()
}

fn album(entries: &[(&str, &[&str])]) -> std::collections::BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(name, photos)| {
            (
                (*name).to_owned(),
                photos.iter().map(|p| (*p).to_owned()).collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_per_sub_folder_and_a_photo_moved_between_them() {
    let h = album_harness().await;
    h.write("Trips/Rome/a.jpg", &photo(1));
    h.write("Trips/Rome/b.jpg", &photo(2));
    h.write("Family/c.jpg", &photo(3));
    h.write("top.jpg", &photo(4));
    let config = h.config_with(r#"album = "folder""#);

    let report = once(&config).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        albums(&h),
        album(&[
            ("Family", &["c.jpg"]),
            ("Photos", &["top.jpg"]),
            ("Trips/Rome", &["a.jpg", "b.jpg"]),
        ]),
        "one album per sub-folder; the top's photos in one named after the folder"
    );
    let added = h.events_of("added_to_album");
    assert!(
        added
            .iter()
            .any(|e| e["detail"] == "added to album Trips/Rome"
                && e["path"].as_str().is_some_and(|p| p.ends_with("a.jpg"))),
        "Activity says where each photo went: {added:?}"
    );

    // The user moves a photo to another sub-folder: it moves between albums, and is not
    // uploaded again.
    std::fs::rename(
        h.photos.join("Trips/Rome/b.jpg"),
        h.photos.join("Family/b.jpg"),
    )
    .unwrap();
    let report = once(&config).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert_eq!(
        albums(&h),
        album(&[
            ("Family", &["b.jpg", "c.jpg"]),
            ("Photos", &["top.jpg"]),
            ("Trips/Rome", &["a.jpg"]),
        ])
    );

    // Nothing changed: no album is made twice, no request repeated.
    let before = h.server.albums(&h.user_id).len();
    h.server.clear_requests();
    once(&config).await;
    assert_eq!(h.server.albums(&h.user_id).len(), before);
    assert!(
        h.server
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/api/albums")),
        "an album pass with nothing to do asks nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_deleted_in_immich_is_not_made_again() {
    let h = album_harness().await;
    h.write("a.jpg", &photo(1));
    let config = h.config_with(r#"album = "Trip 2024""#);
    once(&config).await;
    assert_eq!(albums(&h), album(&[("Trip 2024", &["a.jpg"])]));

    let id = h.server.albums(&h.user_id)[0].id.clone();
    h.server.delete_album(&id);
    h.write("b.jpg", &photo(2));
    let report = once(&config).await;
    assert_eq!(
        report.uploaded, 1,
        "the new photo is still uploaded: {report:?}"
    );
    assert!(
        albums(&h).is_empty(),
        "the user's delete stands: {:?}",
        albums(&h)
    );
    let deleted = h.events_of("album_deleted");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(
        deleted[0]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("the album Trip 2024 was deleted in Immich")),
        "{deleted:?}"
    );

    h.write("c.jpg", &photo(3));
    once(&config).await;
    assert!(albums(&h).is_empty(), "still not made again");
    assert_eq!(h.events_of("album_deleted").len(), 1, "said once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_switched_to_an_album_adds_the_photos_it_already_synced() {
    let h = album_harness().await;
    h.write("a.jpg", &photo(1));
    h.write("2024/b.jpg", &photo(2));
    once(&h.config()).await;
    assert!(albums(&h).is_empty(), "no album by default");

    let report = once(&h.config_with(r#"album = "Family""#)).await;
    assert_eq!((report.uploaded, report.linked), (0, 0), "{report:?}");
    assert_eq!(albums(&h), album(&[("Family", &["a.jpg", "b.jpg"])]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn album_permissions_are_asked_for_only_when_a_folder_uses_albums() {
    // The harness key has the asset and user permissions, not the album ones.
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let report = once(&h.config()).await;
    assert!(
        report.is_clean(),
        "no album, no album permission needed: {report:?}"
    );

    let report = once(&h.config_with(r#"album = "folder""#)).await;
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("album.read")
            && problems.contains("album.create")
            && problems.contains("albumAsset.create"),
        "the missing permissions are named: {problems}"
    );
    assert!(h.server.albums(&h.user_id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_engine_puts_a_new_photo_into_its_sub_folders_album() {
    let h = album_harness().await;
    h.write("Trips/Rome/a.jpg", &photo(1));
    let engine = sync_engine::Engine::start(
        h.config_with(r#"album = "folder""#),
        sync_engine::EngineOptions::default(),
    )
    .await
    .unwrap();
    // Every poll interval in the harness is an hour: the album follows the upload itself.
    assert!(
        crate::common::eventually(crate::common::PATIENCE, || albums(&h)
            == album(&[("Trips/Rome", &["a.jpg"])]))
        .await,
        "{:?}",
        albums(&h)
    );
    h.write("Trips/Paris/b.jpg", &photo(2));
    assert!(
        crate::common::eventually(crate::common::PATIENCE, || albums(&h)
            == album(&[("Trips/Paris", &["b.jpg"]), ("Trips/Rome", &["a.jpg"])]))
        .await,
        "{:?}",
        albums(&h)
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_update_permission_a_sidecar_edit_is_reported_not_sent() {
    let mut h = Harness::new(Profile::V3).await;
    h.key = h.server.add_api_key(
        &h.user_id,
        &["asset.upload", "asset.read", "asset.delete", "user.read"],
    );
    h.write("a.jpg", &photo(1));
    h.write("a.jpg.xmp", xmp("first", 2).as_bytes());
    let config = h.config();
    assert!(
        once(&config).await.is_clean(),
        "a key without it syncs as before"
    );

    h.write("a.jpg.xmp", xmp("second", 3).as_bytes());
    h.write("b.jpg", &photo(2));
    let report = once(&config).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1, "new photos still go up");
    let asset = h
        .live_assets()
        .into_iter()
        .find(|a| a.original_file_name == "a.jpg")
        .unwrap();
    assert_eq!(asset.description.as_deref(), Some("first"));
    let skipped = h.events_of("skipped");
    assert!(
        skipped
            .iter()
            .any(|e| e["detail"].as_str().is_some_and(|d| {
                d.contains("its sidecar a.jpg.xmp changed") && d.contains("`asset.update`")
            })),
        "{skipped:?}"
    );
}

/// An ISO box: its size, its type, its content.
fn iso_box(kind: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = ((content.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(content);
    out
}

/// A QuickTime movie as an iPhone writes it: media data first, then `moov`, whose `meta`
/// carries the Apple content identifier (when given) in `keys` and `ilst`.
fn movie(seed: u32, identifier: Option<&str>) -> Vec<u8> {
    match identifier {
        Some(id) => movie_with(seed, &[("com.apple.quicktime.content.identifier", id)]),
        None => movie_with(seed, &[]),
    }
}

/// A QuickTime movie with these metadata keys and values.
fn movie_with(seed: u32, metadata: &[(&str, &str)]) -> Vec<u8> {
    let mut out = iso_box(b"ftyp", b"qt  \0\0\0\0qt  ");
    out.extend(iso_box(b"wide", b""));
    out.extend(iso_box(
        b"mdat",
        &format!("frames of clip {seed} ").repeat(100).into_bytes(),
    ));
    let mut meta = iso_box(b"hdlr", &[&[0u8; 8][..], b"mdta", &[0u8; 13]].concat());
    if !metadata.is_empty() {
        let mut keys = vec![0, 0, 0, 0];
        keys.extend((metadata.len() as u32).to_be_bytes());
        let mut items = Vec::new();
        for (n, (key, value)) in metadata.iter().enumerate() {
            keys.extend(((key.len() + 8) as u32).to_be_bytes());
            keys.extend_from_slice(b"mdta");
            keys.extend_from_slice(key.as_bytes());
            let data = iso_box(
                b"data",
                &[&[0, 0, 0, 1, 0, 0, 0, 0][..], value.as_bytes()].concat(),
            );
            items.extend(iso_box(&(n as u32 + 1).to_be_bytes(), &data));
        }
        meta.extend(iso_box(b"keys", &keys));
        meta.extend(iso_box(b"ilst", &items));
    }
    let mvhd = iso_box(b"mvhd", &[0u8; 100]);
    out.extend(iso_box(b"moov", &[mvhd, iso_box(b"meta", &meta)].concat()));
    out
}

/// `jpeg` with an EXIF segment (APP1) holding `tiff`, right after its start marker.
fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let payload = [&b"Exif\0\0"[..], tiff].concat();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A JPEG whose EXIF says when it was taken (`2019:07:14 21:30:00`) and at which offset
/// (`+02:00`), without an Apple content identifier.
fn still_taken(seed: u32, taken: &str, offset: &str) -> Vec<u8> {
    let body = photo(seed);
    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend(8u32.to_be_bytes());
    // IFD0: the Exif IFD pointer.
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x8769u16.to_be_bytes());
    tiff.extend(4u16.to_be_bytes());
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(26u32.to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    // The Exif IFD: DateTimeOriginal and OffsetTimeOriginal, their text after it.
    let taken = format!("{taken}\0");
    let offset = format!("{offset}\0");
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(0x9003u16.to_be_bytes());
    tiff.extend(2u16.to_be_bytes());
    tiff.extend((taken.len() as u32).to_be_bytes());
    tiff.extend(56u32.to_be_bytes());
    tiff.extend(0x9011u16.to_be_bytes());
    tiff.extend(2u16.to_be_bytes());
    tiff.extend((offset.len() as u32).to_be_bytes());
    tiff.extend((56 + taken.len() as u32).to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    tiff.extend_from_slice(taken.as_bytes());
    tiff.extend_from_slice(offset.as_bytes());
    with_exif(&body, &tiff)
}

/// A JPEG whose EXIF holds an Apple maker note with the content identifier (when given).
fn still(seed: u32, identifier: Option<&str>) -> Vec<u8> {
    let body = photo(seed);
    let Some(id) = identifier else { return body };
    // The maker note: signature, version, byte order, one entry (0x0011, ASCII) pointing
    // past the IFD, relative to the note's own start.
    let mut note = b"Apple iOS\0\0\x01MM".to_vec();
    note.extend(1u16.to_be_bytes());
    note.extend(0x0011u16.to_be_bytes());
    note.extend(2u16.to_be_bytes());
    note.extend(((id.len() + 1) as u32).to_be_bytes());
    note.extend(32u32.to_be_bytes());
    note.extend(0u32.to_be_bytes());
    note.extend_from_slice(id.as_bytes());
    note.push(0);
    // TIFF: IFD0 with the Exif IFD pointer; the Exif IFD with the maker note.
    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend(8u32.to_be_bytes());
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x8769u16.to_be_bytes());
    tiff.extend(4u16.to_be_bytes());
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(26u32.to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x927cu16.to_be_bytes());
    tiff.extend(7u16.to_be_bytes());
    tiff.extend((note.len() as u32).to_be_bytes());
    tiff.extend(44u32.to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(note);
    with_exif(&body, &tiff)
}

fn asset_named<'a>(
    assets: &'a [fake_immich::AssetSnapshot],
    name: &str,
) -> &'a fake_immich::AssetSnapshot {
    assets
        .iter()
        .find(|a| a.original_file_name == name)
        .unwrap_or_else(|| panic!("{name} in Immich: {assets:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_photo_goes_up_as_one_and_other_videos_stay_videos() {
    let h = Harness::new(Profile::V3).await;
    // Matching identifiers: one live photo.
    h.write("IMG_0001.JPG", &still(1, Some("5A1E0F1C-0001")));
    h.write("IMG_0001.MOV", &movie(1, Some("5A1E0F1C-0001")));
    // Different identifiers: a photo and a video that happen to share a name.
    h.write("IMG_0002.JPG", &still(2, Some("5A1E0F1C-0002")));
    h.write("IMG_0002.MOV", &movie(2, Some("5A1E0F1C-9999")));
    // No identifiers, the same modification time (as a copy or an unzip gives), nothing else:
    // not paired, since nothing says they were taken together.
    h.write("IMG_0003.JPG", &still(3, None));
    h.write("IMG_0003.MOV", &movie(3, None));
    let same = std::fs::metadata(h.photos.join("IMG_0003.JPG"))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(h.photos.join("IMG_0003.MOV"))
        .unwrap()
        .set_modified(same)
        .unwrap();
    // No identifiers, taken at the same moment (the still in Paris time, the video in UTC
    // a second later): one live photo.
    h.write(
        "IMG_0004.JPG",
        &still_taken(4, "2019:07:14 21:30:00", "+02:00"),
    );
    h.write(
        "IMG_0004.MOV",
        &movie_with(
            4,
            &[("com.apple.quicktime.creationdate", "2019-07-14T19:30:01Z")],
        ),
    );
    // No identifiers, taken a minute apart: two things.
    h.write(
        "IMG_0006.JPG",
        &still_taken(6, "2019:07:14 21:30:00", "+02:00"),
    );
    h.write(
        "IMG_0006.MOV",
        &movie_with(
            6,
            &[(
                "com.apple.quicktime.creationdate",
                "2019-07-14T21:31:00+0200",
            )],
        ),
    );
    // A video alone.
    h.write("clip.MOV", &movie(5, Some("5A1E0F1C-0005")));
    assert_eq!(
        sync_engine::live_photos::content_identifier(&h.photos.join("IMG_0001.JPG")).as_deref(),
        Some("5A1E0F1C-0001"),
        "the still carries its identifier where iPhones put it"
    );
    assert_eq!(
        sync_engine::live_photos::content_identifier(&h.photos.join("IMG_0001.MOV")).as_deref(),
        Some("5A1E0F1C-0001")
    );

    let report = once(&h.config()).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 11, "every file is an asset");
    let assets = h.live_assets();
    for n in ["0001", "0004"] {
        let photo = asset_named(&assets, &format!("IMG_{n}.JPG"));
        let video = asset_named(&assets, &format!("IMG_{n}.MOV"));
        assert_eq!(
            photo.live_photo_video_id.as_deref(),
            Some(video.id.as_str()),
            "IMG_{n}"
        );
        assert_eq!(
            video.visibility, "hidden",
            "Immich shows IMG_{n} as one photo"
        );
    }
    for n in ["0002", "0003", "0006"] {
        assert_eq!(
            asset_named(&assets, &format!("IMG_{n}.JPG")).live_photo_video_id,
            None
        );
        assert_eq!(
            asset_named(&assets, &format!("IMG_{n}.MOV")).visibility,
            "timeline"
        );
    }
    assert_eq!(asset_named(&assets, "clip.MOV").visibility, "timeline");
    let uploaded = h.events_of("uploaded");
    assert!(
        uploaded
            .iter()
            .any(|e| e["detail"] == "paired with IMG_0001.MOV"),
        "Activity says which video went with the photo: {uploaded:?}"
    );
}

/// A live photo synced beside another photo: (still's asset, video's asset).
async fn one_live_photo(h: &Harness) -> (String, String) {
    h.write("IMG_0100.HEIC", &still(100, Some("CAFE-0100")));
    h.write("IMG_0100.MOV", &movie(100, Some("CAFE-0100")));
    // Another photo stays, so the folder never looks unmounted.
    h.write("other.jpg", &photo(101));
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 3, "{report:?}");
    let assets = h.live_assets();
    let photo = asset_named(&assets, "IMG_0100.HEIC");
    let video = asset_named(&assets, "IMG_0100.MOV");
    assert_eq!(
        photo.live_photo_video_id.as_deref(),
        Some(video.id.as_str())
    );
    (photo.id.clone(), video.id.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_halves_of_a_live_photo_are_deleted_here_together() {
    let h = Harness::new(Profile::V3).await;
    let (photo, video) = one_live_photo(&h).await;

    std::fs::remove_file(h.photos.join("IMG_0100.MOV")).unwrap();
    let report = once(&h.config()).await;
    assert_eq!(
        report.trashed_in_immich, 0,
        "not while the photo is here: {report:?}"
    );

    std::fs::remove_file(h.photos.join("IMG_0100.HEIC")).unwrap();
    let report = once(&h.config()).await;
    assert_eq!(report.trashed_in_immich, 2, "{report:?}");
    let trashed: Vec<String> = h
        .server
        .assets(&h.user_id)
        .into_iter()
        .filter(|a| a.is_trashed)
        .map(|a| a.id)
        .collect();
    assert!(
        trashed.contains(&photo) && trashed.contains(&video),
        "{trashed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_photo_trashed_in_immich_takes_both_files_to_the_trash() {
    let h = Harness::new(Profile::V3).await;
    let (photo, _) = one_live_photo(&h).await;

    h.server.trash_asset(&photo);
    let report = once(&h.config()).await;
    assert_eq!(report.moved_to_trash, 2, "{report:?}");
    for name in ["IMG_0100.HEIC", "IMG_0100.MOV"] {
        assert!(
            !crate::common::exists(&h.photos.join(name)),
            "{name} left the folder"
        );
        assert!(
            crate::common::in_trash(name).is_some(),
            "{name} is in the OS trash"
        );
    }
    let moved = h.events_of("moved_to_trash");
    assert!(
        moved.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("the motion part of the live photo IMG_0100.HEIC"))),
        "{moved:?}"
    );

    // Restored in Immich: both files come back.
    h.server.restore_asset(&photo);
    once(&h.config()).await;
    for name in ["IMG_0100.HEIC", "IMG_0100.MOV"] {
        assert!(
            crate::common::exists(&h.photos.join(name)),
            "{name} is back"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_photo_in_a_keep_local_folder_keeps_both_files() {
    let h = Harness::new(Profile::V3).await;
    h.write("IMG_0300.HEIC", &still(300, Some("CAFE-0300")));
    h.write("IMG_0300.MOV", &movie(300, Some("CAFE-0300")));
    let config = h.config_with("delete_mode = \"keep-local\"");
    assert_eq!(once(&config).await.uploaded, 2);
    let assets = h.live_assets();
    let photo = asset_named(&assets, "IMG_0300.HEIC").id.clone();

    h.server.trash_asset(&photo);
    let report = once(&config).await;
    assert_eq!(report.moved_to_trash, 0, "{report:?}");
    for name in ["IMG_0300.HEIC", "IMG_0300.MOV"] {
        assert!(crate::common::exists(&h.photos.join(name)), "{name} stays");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_still_is_not_held_back_by_a_video_whose_upload_failed() {
    let h = Harness::new(Profile::V3).await;
    h.write("IMG_0400.JPG", &still(400, Some("CAFE-0400")));
    h.write("IMG_0400.MOV", &movie(400, Some("CAFE-0400")));
    // The first round fails: both files wait for a retry, the video with a failed attempt.
    h.server.faults().fail_next_matching("/api/assets", 1, 500);
    h.server.set_record_requests(true);
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 2, "{report:?}");
    let checks = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/assets/bulk-upload-check")
        .count();
    assert!(
        checks <= 4,
        "no round every two seconds while waiting: {checks} checks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_immich_refuses_does_not_hold_up_the_others() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("b.jpg", &photo(2));
    let config = h.config();
    assert_eq!(once(&config).await.uploaded, 2);
    // A date no calendar has, then a good sidecar for the other photo.
    h.write(
        "a.jpg.xmp",
        xmp_with_place("2024-13-45T99:99:99", "1N", "1E").as_bytes(),
    );
    h.write("b.jpg.xmp", xmp("fine", 4).as_bytes());
    let report = once(&config).await;
    assert!(report.is_clean(), "{report:?}");
    let b = h
        .live_assets()
        .into_iter()
        .find(|a| a.original_file_name == "b.jpg")
        .unwrap();
    assert_eq!(
        (b.description.as_deref(), b.rating),
        (Some("fine"), Some(4))
    );
    let errors = h.events_of("error");
    assert!(
        errors
            .iter()
            .any(|e| e["path"].as_str().is_some_and(|p| p.ends_with("a.jpg"))
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("not accepted by Immich"))),
        "{errors:?}"
    );
    // Said once: not sent again until the sidecar changes.
    h.server.clear_requests();
    once(&config).await;
    assert!(h.server.requests().iter().all(|r| r.method != "PUT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_photo_in_two_sub_folders_is_in_both_albums_and_stays_there() {
    let h = album_harness().await;
    h.write("Rome/x.jpg", &photo(1));
    h.write("Best of/x.jpg", &photo(1));
    // A live photo: only its still goes into the album.
    h.write("Rome/IMG_0500.HEIC", &still(500, Some("CAFE-0500")));
    h.write("Rome/IMG_0500.MOV", &movie(500, Some("CAFE-0500")));
    let config = h.config_with(r#"album = "folder""#);
    once(&config).await;
    let expected = album(&[
        ("Best of", &["x.jpg"]),
        ("Rome", &["IMG_0500.HEIC", "x.jpg"]),
    ]);
    assert_eq!(albums(&h), expected);
    h.server.clear_requests();
    once(&config).await;
    h.write("Rome/y.jpg", &photo(2));
    once(&config).await;
    assert_eq!(
        albums(&h),
        album(&[
            ("Best of", &["x.jpg"]),
            ("Rome", &["IMG_0500.HEIC", "x.jpg", "y.jpg"])
        ])
    );
    assert!(
        h.server
            .requests()
            .iter()
            .all(|r| !(r.method == "DELETE" && r.path.starts_with("/api/albums"))),
        "nothing taken out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_moved_into_an_excluded_folder_is_not_deleted_in_immich() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("b.jpg", &photo(2));
    let config = h.config_with(r#"exclude = ["Private/"]"#);
    assert_eq!(once(&config).await.uploaded, 2);
    std::fs::create_dir_all(h.photos.join("Private")).unwrap();
    std::fs::rename(h.photos.join("a.jpg"), h.photos.join("Private/a.jpg")).unwrap();
    let report = once(&config).await;
    assert_eq!(report.trashed_in_immich, 0, "{report:?}");
    assert!(h.server.assets(&h.user_id).iter().all(|a| !a.is_trashed));
    let kept = h.events_of("kept_in_immich");
    assert!(
        kept.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("moved there?"))),
        "{kept:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_and_its_jpeg_are_stacked_with_the_jpeg_on_top() {
    let h = harness_allowing(&[sync_engine::immich::STACK_PERMISSION]).await;
    h.write("2024/DSC_0001.JPG", &photo(1));
    h.write("2024/DSC_0001.NEF", &photo(2));
    h.write("2024/DSC_0002.NEF", &photo(3));
    h.write("2024/DSC_0003.jpg", &photo(4));

    // Off by default: both uploaded, nothing stacked.
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 4, "{report:?}");
    assert!(h.server.stacks(&h.user_id).is_empty());

    let config = h.config_with("stack_raw_jpeg = true");
    assert!(once(&config).await.is_clean());
    let assets = h.live_assets();
    let jpeg = asset_named(&assets, "DSC_0001.JPG").id.clone();
    let raw = asset_named(&assets, "DSC_0001.NEF").id.clone();
    let stacks = h.server.stacks(&h.user_id);
    assert_eq!(stacks.len(), 1, "only the pair: {stacks:?}");
    assert_eq!(stacks[0].primary_asset_id, jpeg, "the JPEG on top");
    assert_eq!(stacks[0].asset_ids, [jpeg, raw]);
    let stacked = h.events_of("stacked");
    assert_eq!(stacked.len(), 1, "{stacked:?}");
    assert_eq!(
        stacked[0]["detail"],
        "stacked with DSC_0001.NEF, the JPEG on top"
    );

    // Once stacked, never asked again.
    h.server.clear_requests();
    once(&config).await;
    assert!(
        h.server.requests().iter().all(|r| r.path != "/api/stacks"),
        "the pair is stacked once"
    );
    assert_eq!(h.server.stacks(&h.user_id).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keywords_of_a_sidecar_edited_later_become_tags_where_the_key_may_tag() {
    let h = harness_allowing(&sync_engine::immich::TAG_PERMISSIONS).await;
    h.write("IMG_0200.jpg", &photo(200));
    let config = h.config();
    assert_eq!(once(&config).await.uploaded, 1);

    h.write(
        "IMG_0200.jpg.xmp",
        xmp_with_place("2019-07-14T21:30:00+02:00", "48,51.396N", "2,17.67E").as_bytes(),
    );
    assert!(once(&config).await.is_clean());
    let asset = h.live_assets().pop().expect("the photo");
    assert_eq!(
        asset.tags,
        ["Paris"],
        "dc:subject became a tag: {:?}",
        h.events()
    );
    let updated = h.events_of("metadata_updated");
    assert_eq!(
        updated[0]["detail"],
        "updated from its sidecar IMG_0200.jpg.xmp: date taken, location, keywords"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_from_before_the_store_kept_sidecars_is_not_sent_again() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let sidecar = h.write("a.jpg.xmp", xmp("as uploaded", 3).as_bytes());
    let config = h.config();
    assert_eq!(once(&config).await.uploaded, 1);
    // As a state file from an older version has it: the sidecar Immich got is not known.
    let db = rusqlite::Connection::open(h.state_path()).unwrap();
    db.execute("UPDATE files SET sidecar_sha1 = NULL", [])
        .unwrap();
    drop(db);
    // The sidecar is seen again (its time changed, as a copy or a backup restore does), but
    // it is older than the upload: Immich has it, and edits made there since must stay.
    std::fs::File::options()
        .write(true)
        .open(&sidecar)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    h.server.clear_requests();
    once(&config).await;
    assert!(
        h.server
            .requests()
            .iter()
            .all(|r| !(r.method == "PUT" && r.path.starts_with("/api/assets/"))),
        "nothing sent"
    );
}
