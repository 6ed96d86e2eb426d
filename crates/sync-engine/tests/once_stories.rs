//! Engine stories driven through `run_once` (the daemon's `--once`): each pass is scan, upload,
//! reconcile against the fake Immich server, with a real folder and a real state file.

use std::time::Duration;

use crate::common::{Harness, exists, in_trash, photo};
use fake_immich::Profile;
use sync_engine::{EngineOptions, run_once};

/// One pass with the harness's own configuration.
async fn once(h: &Harness) -> sync_engine::OnceReport {
    crate::common::once(&h.config()).await
}

async fn once_with(h: &Harness, folder_extra: &str) -> sync_engine::OnceReport {
    run_once(h.config_with(folder_extra), EngineOptions::default())
        .await
        .expect("pass runs")
}

async fn initial_import_uploads_each_file_once(profile: Profile) {
    let h = Harness::new(profile).await;
    for n in 0..12 {
        h.write(&format!("2024/IMG_{n:04}.jpg"), &photo(n));
    }
    h.write("clip.mp4", &photo(100));
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 13);
    assert_eq!(
        h.server.created_uploads(),
        13,
        "each file is uploaded exactly once"
    );
    let names: std::collections::BTreeSet<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert!(
        names.contains("IMG_0000.jpg") && names.contains("clip.mp4"),
        "{names:?}"
    );

    // A restart finds nothing to do and sends no upload.
    h.server.clear_requests();
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.uploaded, 0);
    assert_eq!(
        h.server.created_uploads(),
        13,
        "restart uploads nothing again"
    );
    let posts = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/assets")
        .count();
    assert_eq!(posts, 0, "no upload request at all after a restart");
}

#[tokio::test]
async fn initial_import_uploads_each_file_once_v3() {
    initial_import_uploads_each_file_once(Profile::V3).await;
}

#[tokio::test]
async fn initial_import_uploads_each_file_once_v2() {
    initial_import_uploads_each_file_once(Profile::V2).await;
}

#[tokio::test]
async fn identical_content_in_two_files_is_uploaded_once() {
    let h = Harness::new(Profile::V3).await;
    h.write("a/beach.jpg", &photo(1));
    h.write("b/beach copy.jpg", &photo(1));
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 1, "one content, one upload");
    assert_eq!(
        report.uploaded + report.linked,
        2,
        "both files are linked: {report:?}"
    );
}

#[tokio::test]
async fn content_already_on_the_server_is_linked_not_uploaded() {
    let h = Harness::new(Profile::V3).await;
    h.server
        .insert_asset(&h.user_id, "from-phone.jpg", &photo(7));
    h.write("IMG_7.jpg", &photo(7));
    let report = once(&h).await;
    assert_eq!(report.linked, 1, "{report:?}");
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(h.live_assets().len(), 1);
}

#[tokio::test]
async fn a_changed_file_becomes_a_new_asset() {
    let mut h = Harness::new(Profile::V3).await;
    // A key that may also move albums and favourites (`asset.copy`, optional).
    let mut permissions = crate::common::ALL_PERMISSIONS.to_vec();
    permissions.push("asset.copy");
    h.key = h.server.add_api_key(&h.user_id, &permissions);
    let path = h.write("edit.jpg", &photo(1));
    once(&h).await;
    let old = h.live_assets()[0].id.clone();
    h.server.set_favorite(&old, true);
    std::fs::write(&path, photo(2)).unwrap();
    let report = once(&h).await;
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    let live = h.live_assets();
    assert_eq!(
        live.len(),
        1,
        "the previous version follows the folder's policy like a local delete: {live:?}"
    );
    assert_ne!(live[0].id, old);
    assert!(
        live[0].is_favorite,
        "the favourite moved to the new version"
    );
    let old_now = h.server.assets(&h.user_id);
    assert!(
        old_now.iter().any(|a| a.id == old && a.is_trashed),
        "the previous version is in the Immich trash, recoverable: {old_now:?}"
    );
}

#[tokio::test]
async fn a_changed_old_photo_keeps_its_previous_version_in_immich() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("edit.jpg", &photo(1));
    let sixty_days_ago = std::time::SystemTime::now() - Duration::from_secs(60 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(sixty_days_ago)
        .unwrap();
    once(&h).await;
    std::fs::write(&path, photo(2)).unwrap();
    let report = once(&h).await;
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(
        h.live_assets().len(),
        2,
        "older than the 30-day threshold: the previous version stays in Immich"
    );
}

#[tokio::test]
async fn a_local_delete_within_the_threshold_goes_to_the_immich_trash() {
    let h = Harness::new(Profile::V3).await;
    h.write("keeper.jpg", &photo(99));
    let path = h.write("oops.jpg", &photo(1));
    once(&h).await;
    std::fs::remove_file(&path).unwrap();
    let report = once(&h).await;
    assert_eq!(report.trashed_in_immich, 1, "{report:?}");
    let assets = h.server.assets(&h.user_id);
    let oops: Vec<_> = assets
        .iter()
        .filter(|a| a.original_file_name == "oops.jpg")
        .collect();
    assert_eq!(oops.len(), 1, "trashed, not purged");
    assert!(
        oops[0].is_trashed,
        "the asset is in the Immich trash, recoverable"
    );
    assert_eq!(h.live_assets().len(), 1, "the other photo is untouched");
    let deletes: Vec<_> = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    match &deletes[0].body {
        fake_immich::RecordedBody::Json(body) => {
            assert_eq!(body["force"], false, "never a forced delete")
        }
        other => panic!("unexpected body {other:?}"),
    }
    assert_eq!(h.events_of("deleted_in_immich").len(), 1);
}

#[tokio::test]
async fn a_local_delete_beyond_the_threshold_is_kept_in_immich() {
    let h = Harness::new(Profile::V3).await;
    // 0.00001 days is under a second: by the time the file is deleted it is older than that.
    let policy = "delete_threshold = 0.00001\ndelete_max_age = 365";
    h.write("keeper.jpg", &photo(99));
    let path = h.write("old.jpg", &photo(1));
    once_with(&h, policy).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::remove_file(&path).unwrap();
    let report = once_with(&h, policy).await;
    assert_eq!(report.trashed_in_immich, 0, "{report:?}");
    assert_eq!(h.live_assets().len(), 2, "the photo stays in Immich");
    let kept = h.events_of("kept_in_immich");
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0]["detail"].as_str().unwrap().contains("threshold"),
        "{kept:?}"
    );
}

#[tokio::test]
async fn a_local_delete_with_an_implausible_age_is_never_sent() {
    let h = Harness::new(Profile::V3).await;
    // Ages above delete_max_age (here under two seconds) are implausible.
    let policy = "delete_threshold = 0.00001\ndelete_max_age = 0.00002";
    h.write("keeper.jpg", &photo(99));
    let path = h.write("weird.jpg", &photo(1));
    once_with(&h, policy).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    std::fs::remove_file(&path).unwrap();
    let report = once_with(&h, policy).await;
    assert_eq!(report.trashed_in_immich, 0);
    assert_eq!(h.live_assets().len(), 2);
    let kept = h.events_of("kept_in_immich");
    assert!(
        kept[0]["detail"].as_str().unwrap().contains("implausible"),
        "{kept:?}"
    );
}

#[tokio::test]
async fn upload_only_folders_never_delete_in_immich() {
    let h = Harness::new(Profile::V3).await;
    h.write("keeper.jpg", &photo(99));
    let path = h.write("keep.jpg", &photo(1));
    once_with(&h, "delete_mode = \"upload-only\"").await;
    std::fs::remove_file(&path).unwrap();
    once_with(&h, "delete_mode = \"upload-only\"").await;
    assert_eq!(h.live_assets().len(), 2);
    assert!(
        h.server.requests().iter().all(|r| r.method != "DELETE"),
        "no delete request at all"
    );
}

async fn remote_delete_moves_the_file_to_the_os_trash(purge: bool, name: &str) {
    let h = Harness::new(Profile::V3).await;
    let content = photo(41);
    let path = h.write(name, &content);
    once(&h).await;
    let asset = h.live_assets().pop().expect("uploaded");
    if purge {
        h.server.purge_asset(&asset.id);
    } else {
        h.server.trash_asset(&asset.id);
    }
    let report = once(&h).await;
    assert_eq!(report.moved_to_trash, 1, "{report:?}");
    assert!(!exists(&path), "the file left the folder");
    let trashed = in_trash(name).expect("the file is in the OS trash, recoverable");
    assert_eq!(
        std::fs::read(trashed).unwrap(),
        content,
        "the content is intact"
    );
    assert_eq!(h.events_of("moved_to_trash").len(), 1);
}

#[tokio::test]
async fn a_remote_trash_moves_the_file_to_the_os_trash() {
    remote_delete_moves_the_file_to_the_os_trash(false, "remote-trashed-1.jpg").await;
}

#[tokio::test]
async fn a_remote_purge_moves_the_file_to_the_os_trash() {
    remote_delete_moves_the_file_to_the_os_trash(true, "remote-purged-1.jpg").await;
}

#[tokio::test]
async fn a_remote_delete_never_touches_a_file_changed_since_upload() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("changed-after-upload.jpg", &photo(1));
    once(&h).await;
    let asset = h.live_assets().pop().unwrap();
    h.server.trash_asset(&asset.id);
    std::fs::write(&path, photo(2)).unwrap();
    once(&h).await;
    assert!(exists(&path), "the edited file stays");
    assert_eq!(std::fs::read(&path).unwrap(), photo(2));
    assert!(in_trash("changed-after-upload.jpg").is_none());
}

#[tokio::test]
async fn keep_local_folders_keep_files_deleted_in_immich() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("keep-local.jpg", &photo(5));
    once_with(&h, "delete_mode = \"keep-local\"").await;
    let asset = h.live_assets().pop().unwrap();
    h.server.purge_asset(&asset.id);
    once_with(&h, "delete_mode = \"keep-local\"").await;
    assert!(exists(&path));
    assert_eq!(h.events_of("kept_local").len(), 1);
    // And it is not uploaded again: the user deleted it in Immich on purpose.
    let report = once_with(&h, "delete_mode = \"keep-local\"").await;
    assert_eq!(report.uploaded, 0);
    assert_eq!(h.server.created_uploads(), 1);
}

#[tokio::test]
async fn unsupported_and_junk_files_are_skipped_with_a_reason_once() {
    let h = Harness::new(Profile::V3).await;
    h.write("notes.txt", b"not a photo");
    h.write("IMG_1.jpg.xmp", b"<xmp/>");
    h.write(".hidden.jpg", &photo(1));
    h.write("@eaDir/IMG_1.jpg/SYNOPHOTO_THUMB.jpg", &photo(2));
    h.write(".stversions/old.jpg", &photo(3));
    h.write("download.jpg.part", &photo(4));
    h.write("empty.jpg", b"");
    h.write("Thumbs.db", b"junk");
    h.write("good.jpg", &photo(5));
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 1, "only the photo is uploaded");
    let skipped = h.events_of("skipped");
    let paths: Vec<&str> = skipped
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for name in [
        "notes.txt",
        "IMG_1.jpg.xmp",
        "download.jpg.part",
        "empty.jpg",
        "Thumbs.db",
        ".hidden.jpg",
    ] {
        assert!(
            paths.iter().any(|p| p.ends_with(name)),
            "{name} is reported as skipped: {paths:?}"
        );
    }
    assert!(
        skipped
            .iter()
            .all(|e| !e["detail"].as_str().unwrap_or_default().is_empty()),
        "every skip has a reason"
    );
    once(&h).await;
    assert_eq!(
        h.events_of("skipped").len(),
        skipped.len(),
        "a skip is reported once, not on every pass"
    );
}

#[tokio::test]
async fn a_dry_run_changes_nothing_on_either_side() {
    let h = Harness::new(Profile::V3).await;
    let kept = h.write("a.jpg", &photo(1));
    once(&h).await;
    let asset = h.live_assets().pop().unwrap();
    h.server.trash_asset(&asset.id);
    h.write("new.jpg", &photo(2));
    let state_before = std::fs::read(h.state_path()).unwrap();
    h.server.clear_requests();
    let report = run_once(h.config(), EngineOptions { dry_run: true })
        .await
        .unwrap();
    assert_eq!(
        report.uploaded, 1,
        "the dry run reports what it would upload"
    );
    assert_eq!(h.server.created_uploads(), 1, "but uploads nothing");
    assert!(exists(&kept), "and moves nothing to the trash");
    assert_eq!(
        h.server
            .assets(&h.user_id)
            .iter()
            .filter(|a| a.is_trashed)
            .count(),
        1
    );
    assert!(
        h.server
            .requests()
            .iter()
            .all(|r| r.method != "DELETE" && !(r.method == "POST" && r.path == "/api/assets")),
        "no writing request reached the server"
    );
    assert_eq!(
        std::fs::read(h.state_path()).unwrap(),
        state_before,
        "the state file is untouched"
    );
    assert!(!h.events_of("would_do").is_empty());
}

#[tokio::test]
async fn every_request_the_client_sends_is_valid_against_the_openapi_document() {
    for profile in [Profile::V3, Profile::V2] {
        let h = Harness::new(profile).await;
        let doomed = h.write("delete-me.jpg", &photo(1));
        h.write("b.jpg", &photo(2));
        h.write("dup.jpg", &photo(2));
        once(&h).await;
        std::fs::remove_file(&doomed).unwrap();
        let b = h
            .live_assets()
            .into_iter()
            .find(|a| a.original_file_name == "b.jpg")
            .unwrap();
        h.server.purge_asset(&b.id);
        once(&h).await;
        let spec = fake_immich::openapi::Spec::bundled();
        let requests = h.server.requests();
        assert!(requests.len() > 10, "the story exercised the client");
        let mut seen = std::collections::BTreeSet::new();
        for request in &requests {
            seen.insert(format!(
                "{} {}",
                request.method,
                request
                    .path
                    .split('/')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("/")
            ));
            if let Err(problems) = spec.validate(request) {
                panic!(
                    "{} {} is not valid: {problems:?}",
                    request.method, request.path
                );
            }
        }
        for expected in ["POST /api/assets", "DELETE /api/assets", "GET /api/users"] {
            assert!(
                seen.iter().any(|s| s.starts_with(expected)),
                "{expected} was exercised: {seen:?}"
            );
        }
    }
}

/// A key file that cannot be read is a problem on this computer, said as such: not "the key
/// was rejected by the server".
#[tokio::test]
async fn an_unreadable_key_file_is_not_called_a_rejected_key() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let mut config = h.config();
    let missing = h.dir.path().join("no-such-key-file");
    config.accounts[0].api_key = sync_engine::config::ApiKeySource::File(missing.clone());
    let report = once_config(&config).await;
    assert_eq!(report.problems.len(), 1, "{report:?}");
    let problem = &report.problems[0];
    assert!(
        problem.contains(&format!("cannot read API key file {}", missing.display())),
        "{problem}"
    );
    assert!(!problem.contains("rejected"), "{problem}");
    assert_eq!(h.server.created_uploads(), 0);
}

async fn once_config(config: &sync_engine::config::Config) -> sync_engine::OnceReport {
    run_once(config.clone(), EngineOptions::default())
        .await
        .expect("pass runs")
}

/// A scan compares the walk with the state file page by page, in the order of the stored path
/// bytes. Names that sort around the separator (`a-b.jpg`, `a.jpg` and `a b/` before `a/`) and
/// a folder larger than one page must all be matched where they are, or a rescan would take
/// synced photos for deleted ones and trash them in Immich.
#[tokio::test]
async fn a_rescan_of_a_large_folder_with_tricky_names_finds_every_photo_where_it_was() {
    let h = Harness::new(Profile::V3).await;
    let tricky = [
        "a/x.jpg",
        "a-b.jpg",
        "a.jpg",
        "a b/c.jpg",
        "a/b/c.jpg",
        "a/b.jpg",
        "ab/c.jpg",
        "a/b-c/d.jpg",
        "a/b c.jpg",
        "été/1.jpg",
        "e/1.jpg",
        "Z.jpg",
    ];
    for (n, rel) in tricky.iter().enumerate() {
        h.write(rel, &photo(100_000 + n as u32));
    }
    let bulk = 4500;
    for n in 0..bulk {
        h.write(&format!("bulk/{:02}/IMG_{n:05}.jpg", n % 7), &photo(n));
    }
    let total = bulk as u64 + tricky.len() as u64;
    let first = once(&h).await;
    assert!(first.is_clean(), "{first:?}");
    assert_eq!(first.uploaded, total);

    // A rescan does not read a file whose size, time and file id are unchanged. To see that
    // it matched each of these to its own row, their bytes are swapped behind its back (same
    // size, same modification time, same file): a scan that lost its place would read them
    // again and upload them as changed.
    for (n, rel) in tricky.iter().enumerate() {
        let path = h.photos.join(rel);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut swapped = photo(200_000 + n as u32);
        swapped.truncate(std::fs::metadata(&path).unwrap().len() as usize);
        std::fs::write(&path, &swapped).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(
        (again.uploaded, again.linked, again.trashed_in_immich),
        (0, 0, 0),
        "a rescan with nothing changed changes nothing: {again:?}"
    );
    assert!(
        h.events_of("local_file_gone").is_empty(),
        "no photo was taken for deleted: {:?}",
        h.events_of("local_file_gone")
    );
    assert_eq!(h.live_assets().len() as u64, total);

    // Deleting two, one of them far into the folder, trashes exactly those two.
    std::fs::remove_file(h.photos.join("a-b.jpg")).unwrap();
    std::fs::remove_file(h.photos.join("bulk/03/IMG_04000.jpg")).unwrap();
    let after = once(&h).await;
    assert_eq!(after.trashed_in_immich, 2, "{after:?}");
    let trashed: std::collections::BTreeSet<String> = h
        .server
        .assets(&h.user_id)
        .into_iter()
        .filter(|a| a.is_trashed)
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(
        trashed,
        ["a-b.jpg".to_string(), "IMG_04000.jpg".to_string()].into()
    );
}

/// The full check reads the library in pages of two bulk-upload-check requests: a photo purged
/// in Immich is found wherever it sits, here in the last row of the second page, and the check
/// sends no more requests than checking everything at once would.
#[tokio::test]
async fn a_purge_is_found_beyond_the_first_page_of_a_large_library() {
    let h = Harness::new(Profile::V3).await;
    let bulk = 10_050;
    for n in 0..bulk {
        h.write(&format!("bulk/{:02}/IMG_{n:05}.jpg", n % 9), &photo(n));
    }
    // Recorded last (its name sorts last), so its row comes after every other.
    let last = h.write("zz-last.jpg", &photo(900_000));
    let first = once(&h).await;
    assert!(first.is_clean(), "{first:?}");
    assert_eq!(first.uploaded, bulk as u64 + 1);

    let asset = h.asset_id("zz-last.jpg");
    h.server.purge_asset(&asset);
    h.server.clear_requests();
    let report = once(&h).await;
    assert_eq!(report.moved_to_trash, 1, "{report:?}");
    assert!(!exists(&last), "the purged photo's file left the folder");
    assert!(in_trash("zz-last.jpg").is_some(), "it is in the OS trash");
    let checks = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/assets/bulk-upload-check")
        .count();
    assert_eq!(
        checks, 4,
        "10,051 checksums in batches of 5,000, then the new tombstone's content"
    );
}
