//! Files that cannot or should not be uploaded, odd names, and files that change under the engine.

use super::*;
use crate::common::web::HoldingProxy;

/// `(file name, detail)` of the events of one kind, sorted.
fn named_details(h: &Harness, kind: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = h
        .events_of(kind)
        .into_iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default();
            let name = path.rsplit('/').next().unwrap_or_default().to_owned();
            (name, e["detail"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_immich_does_not_take_are_skipped_once_with_the_reason() {
    let h = Harness::new(Profile::V3).await;
    h.server.set_media_types(&[".jpg"], &[".mp4"]);
    h.write("a.jpg", &photo(1));
    h.write("notes.txt", b"shopping list");
    h.write("IMG_2.heic", &photo(2));
    h.write("README", b"no extension");
    h.write("a.jpg.xmp", b"<x:xmpmeta/>");
    h.write("empty.jpg", b"");
    h.write("download.jpg.part", &photo(3));
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1);
    assert_eq!(report.skipped, 6);
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            (
                "IMG_2.heic".to_owned(),
                "skipped: .heic files are not photos or videos Immich accepts".to_owned()
            ),
            (
                "README".to_owned(),
                "skipped: files without an extension are not photos or videos Immich accepts"
                    .to_owned()
            ),
            (
                "a.jpg.xmp".to_owned(),
                "skipped: a sidecar file holds metadata for a photo, not a photo itself".to_owned()
            ),
            (
                "download.jpg.part".to_owned(),
                "skipped: a download or copy that is not finished".to_owned()
            ),
            (
                "empty.jpg".to_owned(),
                "skipped: the file is empty (0 bytes)".to_owned()
            ),
            (
                "notes.txt".to_owned(),
                "skipped: .txt files are not photos or videos Immich accepts".to_owned()
            ),
        ]
    );

    // Reported once: the next pass says nothing new.
    let again = once(&h).await;
    assert_eq!(again.skipped, 0, "{again:?}");
    assert_eq!(h.events_of("skipped").len(), 6);
    assert_eq!(h.server.created_uploads(), 1);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_and_sockets_are_skipped_without_being_opened() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let fifo = h.photos.join("pipe.jpg");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let _socket = std::os::unix::net::UnixListener::bind(h.photos.join("socket.jpg")).unwrap();

    // Opening the pipe for reading would block forever: the pass finishing proves it is not.
    let report = tokio::time::timeout(PATIENCE, once(&h))
        .await
        .expect("the pass does not hang on a pipe");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1);
    let reason = "skipped: not a regular file (a named pipe, socket or device)";
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            ("pipe.jpg".to_owned(), reason.to_owned()),
            ("socket.jpg".to_owned(), reason.to_owned()),
        ]
    );
    assert!(fifo.exists());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_files_and_folders_are_reported_and_never_taken_as_deleted() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new(Profile::V3).await;
    h.write("locked/inside.jpg", &photo(1));
    let first = once(&h).await;
    assert_eq!(first.uploaded, 1);

    let private = h.write("private.jpg", &photo(2));
    let locked = h.photos.join("locked");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (as in CI containers) reads files whatever their permissions say.
    let permissions_bind = std::fs::read(&private).is_err();

    let report = once(&h).await;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();

    if permissions_bind {
        let errors = named_details(&h, "error");
        assert_eq!(
            errors,
            vec![
                (
                    "locked".to_owned(),
                    "cannot read this part of the folder (Permission denied (os error 13)); nothing below it is treated as deleted".to_owned()
                ),
                (
                    "private.jpg".to_owned(),
                    "cannot read the file (Permission denied (os error 13)); it is tried again at the next scan".to_owned()
                ),
            ]
        );
        assert_eq!(
            report.problems,
            vec![format!(
                "alice: {}: 2 files or folders could not be read (the event log names them)",
                h.photos.display()
            )]
        );
        assert_eq!(report.uploaded, 0);
    } else {
        assert!(h.events_of("error").is_empty(), "root reads everything");
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.uploaded, 1);
    }
    // Either way the photo behind the locked folder was not taken for deleted.
    assert!(h.live_assets().iter().all(|a| !a.is_trashed));
    assert!(h.server.requests().iter().all(|r| r.method != "DELETE"));
    assert_eq!(std::fs::read(locked.join("inside.jpg")).unwrap(), photo(1));

    // Readable again: everything is in sync.
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    assert_eq!(std::fs::read(&private).unwrap(), photo(2));
}

// ---------------------------------------------------------------------------------------------
// Odd trees and names
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_loops_end_the_scan_with_one_note_each() {
    let h = Harness::new(Profile::V3).await;
    h.write("album/a.jpg", &photo(1));
    std::os::unix::fs::symlink("..", h.photos.join("album/up")).unwrap();
    std::os::unix::fs::symlink(".", h.photos.join("here")).unwrap();
    std::os::unix::fs::symlink(h.photos.join("album/a.jpg"), h.photos.join("link.jpg")).unwrap();
    let before = folder_snapshot(&h.photos);

    let report = tokio::time::timeout(PATIENCE, once(&h))
        .await
        .expect("the scan terminates");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1, "the photo once, not once per loop");
    let reason = "skipped: a symbolic link is not followed (sync the folder it points to instead)";
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            ("here".to_owned(), reason.to_owned()),
            ("link.jpg".to_owned(), reason.to_owned()),
            ("up".to_owned(), reason.to_owned()),
        ]
    );
    assert!(h.events_of("error").is_empty());

    // The running engine (file events included) stays calm too.
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(goes_idle(&engine).await, "{:?}", engine.status());
    h.write("album/b.jpg", &photo(2));
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 2).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.shutdown().await;
    assert!(
        h.events_of("error").is_empty(),
        "{:?}",
        h.events_of("error")
    );
    assert_eq!(
        h.events_of("skipped").len(),
        3,
        "each link is reported once"
    );
    assert_eq!(h.server.created_uploads(), 2);
    let mut after = folder_snapshot(&h.photos);
    after.remove(Path::new("album/b.jpg"));
    assert_eq!(after, before);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_are_not_utf8_are_uploaded_and_kept_apart() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let h = Harness::new(Profile::V3).await;
    // Latin-1 names from an old camera or Samba share: é and è as single bytes.
    let e_acute = h.photos.join(OsStr::from_bytes(b"caf\xe9.jpg"));
    let e_grave = h.photos.join(OsStr::from_bytes(b"caf\xe8.jpg"));
    std::fs::write(&e_acute, photo(1)).unwrap();
    std::fs::write(&e_grave, photo(2)).unwrap();
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 2, "two names, two photos");
    let names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(names, vec!["caf\u{FFFD}.jpg", "caf\u{FFFD}.jpg"]);
    let paths: Vec<String> = h
        .events_of("uploaded")
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        paths.iter().all(|p| p.ends_with("/caf\u{FFFD}.jpg")),
        "{paths:?}"
    );

    // The store keeps the exact bytes: the next pass finds both unchanged.
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(h.server.created_uploads(), 2);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn very_long_names_and_deep_folders_are_uploaded() {
    let h = Harness::new(Profile::V3).await;
    let long_name = format!("{}.jpg", "x".repeat(251));
    assert_eq!(
        long_name.len(),
        255,
        "the longest name most file systems allow"
    );
    let long_utf8 = format!("{}.jpg", "é".repeat(125));
    assert_eq!(long_utf8.len(), 254);
    h.write(&long_name, &photo(1));
    h.write(&long_utf8, &photo(2));
    // About 3,900 bytes of path: close to Linux's 4,096-byte limit.
    let mut deep = PathBuf::new();
    while h.photos.join(&deep).as_os_str().len() < 3_700 {
        deep.push("d".repeat(200));
    }
    let deep_file = deep.join("deep.jpg");
    h.write(deep_file.to_str().unwrap(), &photo(3));
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 3);
    let mut names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    names.sort();
    let mut expected = vec!["deep.jpg".to_owned(), long_utf8.clone(), long_name.clone()];
    expected.sort();
    assert_eq!(names, expected);
    let again = once(&h).await;
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_differ_only_in_case_are_two_photos() {
    let h = Harness::new(Profile::V3).await;
    h.write("IMG.jpg", &photo(1));
    h.write("img.JPG", &photo(2));
    let before = folder_snapshot(&h.photos);
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 2);
    let mut assets: Vec<(String, String)> = h
        .live_assets()
        .into_iter()
        .map(|a| (a.original_file_name, a.checksum_hex))
        .collect();
    assets.sort();
    assert_eq!(
        assets,
        vec![
            ("IMG.jpg".to_owned(), sha1_hex(&photo(1))),
            ("img.JPG".to_owned(), sha1_hex(&photo(2))),
        ]
    );
    let again = once(&h).await;
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

// ---------------------------------------------------------------------------------------------
// Files that change under the engine's feet
// ---------------------------------------------------------------------------------------------

/// Waits (blocking) until this process has `path` open: the engine runs in the test process,
/// so its hashing and uploading show in `/proc/self/fd`.
fn wait_until_open(path: &Path, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            for entry in entries.flatten() {
                if std::fs::read_link(entry.path()).is_ok_and(|target| target == path) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// `len` bytes of content number `seed` (no two seeds alike).
fn content(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed as u64 * 97) as u8
        })
        .collect();
    bytes[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, seed]);
    bytes
}

/// The state file's row for `rel`: `(state, sha1, asset_id)`.
fn stored_row(h: &Harness, rel: &str) -> Option<(String, Option<String>, Option<String>)> {
    let db = rusqlite::Connection::open(h.state_path()).expect("open the state file");
    db.query_row(
        "SELECT state, sha1, asset_id FROM files WHERE rel_path = ?1",
        [rel.as_bytes()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_while_it_is_hashed_is_simply_gone() {
    let h = Harness::new(Profile::V3).await;
    let big = h.photos.join("big.mp4");
    // Large enough that hashing takes a noticeable time; sparse, so it costs no disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let watch = big.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let seen = wait_until_open(&watch, PATIENCE);
        if seen {
            std::fs::remove_file(&watch).unwrap();
        }
        seen
    });
    let report = once(&h).await;
    assert!(seen.await.unwrap(), "the scanner opened the file");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert!(h.events_of("error").is_empty(), "{:?}", h.events());
    assert!(h.events_of("queued").is_empty());
    assert!(stored_row(&h, "big.mp4").is_none(), "nothing recorded");
    assert!(upload_requests(&h) == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_while_it_is_hashed_waits_for_its_final_content() {
    let h = Harness::new(Profile::V3).await;
    let path = h.photos.join("edit.mp4");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let watch = path.clone();
    let rewrite = tokio::task::spawn_blocking(move || {
        let seen = wait_until_open(&watch, PATIENCE);
        // The editor saves the final version over it.
        std::fs::write(&watch, photo(9)).unwrap();
        seen
    });
    let report = once(&h).await;
    assert!(rewrite.await.unwrap(), "the scanner opened the file");
    assert_eq!(report.pending, 1, "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "edit.mp4".to_owned(),
            "the file is still being written: it is uploaded once it stops changing".to_owned()
        )]
    );
    assert_eq!(h.server.created_uploads(), 0, "no half-read upload");

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&photo(9)));
    assert_eq!(std::fs::read(&path).unwrap(), photo(9));
}

/// Large enough that the client cannot have read it all into socket buffers (Linux allows a
/// sender up to 4 MiB by default, tuned hosts 16 MiB) when the proxy holds the upload.
const BIG: usize = 32 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_replaced_while_it_is_uploaded_ends_up_with_its_final_content() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("video.mp4", &content(1, BIG));
    let proxy = HoldingProxy::start(&h.server.url(), 256 * 1024).await;
    let mut config = h.config();
    config.accounts[0].server_url = proxy.url.clone();

    let pass = tokio::spawn(run_once(config, EngineOptions::default()));
    tokio::time::timeout(PATIENCE, proxy.held.notified())
        .await
        .expect("the upload started");
    // The camera app saves a new version while the old one is on its way.
    std::fs::write(&path, content(2, BIG)).unwrap();
    proxy.release.notify_one();
    let report = pass.await.unwrap().unwrap();

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "video.mp4".to_owned(),
            "the file changed while it was being uploaded: the upload was stopped (Immich kept nothing of it) and the new version is uploaded once it stops changing".to_owned()
        )]
    );
    // Immich holds the final content, once, and nothing mixed from both versions.
    assert_eq!(h.server.created_uploads(), 1);
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&content(2, BIG)));
    // The state file links the file to that asset with the checksum of what it holds.
    assert_eq!(
        stored_row(&h, "video.mp4"),
        Some((
            "synced".to_owned(),
            Some(sha1_hex(&content(2, BIG))),
            Some(assets[0].id.clone())
        ))
    );
    assert_eq!(std::fs::read(&path).unwrap(), content(2, BIG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_while_it_is_uploaded_leaves_nothing_behind() {
    let h = Harness::new(Profile::V3).await;
    h.write("keep.jpg", &photo(1));
    let path = h.write("video.mp4", &content(3, BIG));
    let proxy = HoldingProxy::start(&h.server.url(), 256 * 1024).await;
    let mut config = h.config();
    config.accounts[0].server_url = proxy.url.clone();
    config.upload_concurrency = 1;

    let pass = tokio::spawn(run_once(config, EngineOptions::default()));
    tokio::time::timeout(PATIENCE, proxy.held.notified())
        .await
        .expect("the upload started");
    std::fs::remove_file(&path).unwrap();
    proxy.release.notify_one();
    let report = pass.await.unwrap().unwrap();

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "skipped"),
        vec![(
            "video.mp4".to_owned(),
            "skipped: the file was deleted while it was being uploaded; Immich kept nothing of it"
                .to_owned()
        )]
    );
    let names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(names, vec!["keep.jpg"], "no partial video in Immich");
    assert!(stored_row(&h, "video.mp4").is_none());
    assert_eq!(std::fs::read(h.photos.join("keep.jpg")).unwrap(), photo(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_between_hashing_and_upload_is_read_again() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("IMG_1.jpg", &photo(1));
    // A slow server: the bulk-upload-check answer takes a second to come back.
    h.server.faults().set_delay(Duration::from_secs(1));
    let pass = tokio::spawn(run_once(h.config(), EngineOptions::default()));
    let server = h.server.clone();
    let asked = eventually(PATIENCE, move || {
        server
            .requests()
            .iter()
            .any(|r| r.path == "/api/assets/bulk-upload-check")
    })
    .await;
    assert!(asked, "the check went out");
    std::fs::write(&path, photo(2)).unwrap();
    let report = pass.await.unwrap().unwrap();
    h.server.faults().set_delay(Duration::ZERO);

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "IMG_1.jpg".to_owned(),
            "the file changed after it was read: the new version is uploaded once it stops changing"
                .to_owned()
        )]
    );
    assert_eq!(h.server.created_uploads(), 1, "only the new version");
    let assets = h.live_assets();
    assert_eq!(assets[0].checksum_hex, sha1_hex(&photo(2)));
    assert_eq!(
        stored_row(&h, "IMG_1.jpg"),
        Some((
            "synced".to_owned(),
            Some(sha1_hex(&photo(2))),
            Some(assets[0].id.clone())
        ))
    );
}

/// Appends `chunks` pieces of `piece` to `path`, one every `every`, like a slow copy.
fn slow_writer(
    path: PathBuf,
    piece: Vec<u8>,
    chunks: usize,
    every: Duration,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let mut written = Vec::new();
        for _ in 0..chunks {
            file.write_all(&piece).unwrap();
            file.flush().unwrap();
            written.extend_from_slice(&piece);
            std::thread::sleep(every);
        }
        written
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_being_written_is_not_uploaded_half_written_by_a_pass() {
    let h = Harness::new(Profile::V3).await;
    h.write("done.jpg", &photo(1));
    let path = h.photos.join("copying.mp4");
    let writer = slow_writer(
        path.clone(),
        content(5, 32 * 1024),
        60,
        Duration::from_millis(50),
    );
    tokio::time::sleep(Duration::from_millis(150)).await;

    let report = once(&h).await;
    assert_eq!(report.uploaded, 1, "the finished photo goes: {report:?}");
    assert_eq!(report.pending, 1, "the copy waits: {report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "copying.mp4".to_owned(),
            "the file is still being written: it is uploaded once it stops changing".to_owned()
        )]
    );
    let written = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    let video: Vec<_> = h
        .live_assets()
        .into_iter()
        .filter(|a| a.original_file_name == "copying.mp4")
        .collect();
    assert_eq!(video.len(), 1);
    assert_eq!(
        video[0].checksum_hex,
        sha1_hex(&written),
        "only the whole file"
    );
    assert_eq!(std::fs::read(&path).unwrap(), written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_being_written_is_not_uploaded_half_written_by_the_running_engine() {
    let h = Harness::new(Profile::V3).await;
    let path = h.photos.join("copying.mp4");
    // The copy starts before the engine and goes on while it scans and watches.
    let writer = slow_writer(
        path.clone(),
        content(6, 32 * 1024),
        60,
        Duration::from_millis(50),
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    let written = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() >= 1).await,
        "{:?}",
        engine.status()
    );
    assert!(goes_idle(&engine).await);
    engine.shutdown().await;
    assert_eq!(h.server.created_uploads(), 1, "one upload: the whole file");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&written));
    assert_eq!(std::fs::read(&path).unwrap(), written);
}

// ---------------------------------------------------------------------------------------------
// The state file
// ---------------------------------------------------------------------------------------------
