//! State files that are damaged, locked, in use or not files at all.

use super::*;

/// Files next to the state file whose name starts with `prefix`.
fn state_dir_files(h: &Harness, prefix: &str) -> Vec<PathBuf> {
    let dir = h.state_path().parent().unwrap().to_owned();
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    out.sort();
    out
}

fn recovery_message(h: &Harness, reason: &str, moved_to: &Path) -> String {
    format!(
        "the state database {} was damaged ({reason}); it was moved aside to {} (kept, not deleted) and a new one is being built from a scan of your folders: photos already in Immich are linked again, not uploaded twice",
        h.state_path().display(),
        moved_to.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_full_of_garbage_is_moved_aside_and_rebuilt_without_uploading_again() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..3 {
        h.write(&format!("IMG_{n}.jpg"), &photo(n));
    }
    assert_eq!(once(&h).await.uploaded, 3);
    let before = folder_snapshot(&h.photos);
    let garbage = b"this is not a database, just bytes a crashed disk left behind\n".repeat(100);
    std::fs::write(h.state_path(), &garbage).unwrap();

    // A dry run leaves the damaged file where it is and works from an empty store.
    let mut dry = h.config();
    dry.event_log = None;
    let report = run_once(dry, EngineOptions { dry_run: true })
        .await
        .unwrap();
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert_eq!(std::fs::read(h.state_path()).unwrap(), garbage);
    assert!(state_dir_files(&h, "state.db.corrupt-").is_empty());

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 0, "nothing is uploaded again");
    assert_eq!(
        report.linked, 3,
        "every photo is linked to its asset: {report:?}"
    );
    assert_eq!(h.server.created_uploads(), 3);
    assert_eq!(h.live_assets().len(), 3);
    let moved = state_dir_files(&h, "state.db.corrupt-");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(std::fs::read(&moved[0]).unwrap(), garbage, "kept as it was");
    assert_eq!(
        details(&h, "error"),
        vec![recovery_message(&h, "file is not a database", &moved[0])]
    );
    assert_eq!(folder_snapshot(&h.photos), before);

    // The rebuilt file works like the old one: the next pass has nothing to do.
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_with_damaged_pages_is_rebuilt_and_the_daemon_says_so() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..20 {
        h.write(&format!("2024/IMG_{n}.jpg"), &photo(n));
    }
    assert_eq!(once(&h).await.uploaded, 20);
    let before = folder_snapshot(&h.photos);
    // The header and schema survive; the page holding the file rows does not.
    let root_page: usize = {
        let conn = rusqlite::Connection::open(h.state_path()).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
        conn.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'files'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    };
    let mut bytes = std::fs::read(h.state_path()).unwrap();
    assert!(bytes.len() >= root_page * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[(root_page - 1) * 4096..root_page * 4096] {
        *b = 0xA5;
    }
    std::fs::write(h.state_path(), &bytes).unwrap();

    let config = config_file(&h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("uploaded 0, linked 20"),
        "{}",
        run.all()
    );
    let moved = state_dir_files(&h, "state.db.corrupt-");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(std::fs::read(&moved[0]).unwrap(), bytes);
    let event = details(&h, "error");
    assert_eq!(event.len(), 1, "{event:?}");
    let prefix = format!(
        "the state database {} was damaged (it failed SQLite's integrity check: ",
        h.state_path().display()
    );
    assert!(event[0].starts_with(&prefix), "{}", event[0]);
    assert!(
        event[0].ends_with(&format!(
            "); it was moved aside to {} (kept, not deleted) and a new one is being built from a scan of your folders: photos already in Immich are linked again, not uploaded twice",
            moved[0].display()
        )),
        "{}",
        event[0]
    );
    assert!(run.stderr.contains(&event[0]), "{}", run.all());
    assert_eq!(h.server.created_uploads(), 20, "nothing uploaded again");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_state_file_stops_with_exit_5_and_loses_nothing() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    assert_eq!(once(&h).await.uploaded, 1);
    h.write("b.jpg", &photo(2));
    let before = folder_snapshot(&h.photos);

    // Another program holds the write lock (BEGIN EXCLUSIVE in WAL mode) and keeps it.
    let holder = rusqlite::Connection::open(h.state_path()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let expected = format!(
        "the state database {} is locked by another program (another immich-syncd, or the Immich Sync app, using the same file?): stop it, or set database_path to a file of this configuration's own",
        h.state_path().display()
    );
    assert_state_file_refused(&h, &expected, "a locked file cannot be used").await;
    holder.execute_batch("ROLLBACK;").unwrap();
    drop(holder);

    // A lock is not damage: the file was left alone, and the next pass carries on from it.
    assert!(state_dir_files(&h, "state.db.corrupt-").is_empty());
    assert_eq!(h.server.created_uploads(), 1);
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.uploaded, report.linked), (1, 0), "{report:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_path_that_cannot_be_a_database_exits_5_naming_it() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    // A folder where the state file should be.
    std::fs::create_dir_all(h.state_path()).unwrap();
    let config = config_file(&h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 5, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "immich-syncd: the state database {} cannot be used (unable to open database file): check that it is a file this user may read and write, in a folder this user may write",
            h.state_path().display()
        )),
        "{}",
        run.all()
    );
    assert!(h.state_path().is_dir(), "left alone");
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_state_file_is_refused() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 1).await);
    let expected = format!(
        "the state database {} is in use by another running Immich Sync (immich-syncd or the tray app): stop that one first, or set database_path to a file of this configuration's own",
        h.state_path().display()
    );
    assert_state_file_refused(&h, &expected, "one engine per state file").await;
    // A dry run only reads: it may look while the engine runs.
    let dry = run_once(h.config(), EngineOptions { dry_run: true }).await;
    assert!(dry.is_ok(), "{dry:?}");

    engine.shutdown().await;
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 1);
}

// ---------------------------------------------------------------------------------------------
// The configuration
// ---------------------------------------------------------------------------------------------

/// A state file that cannot be used stops both a pass and the daemon (exit 5) with `expected`.
async fn assert_state_file_refused(h: &Harness, expected: &str, why: &str) {
    let error = run_once(h.config(), EngineOptions::default())
        .await
        .expect_err(why);
    assert_eq!(error.to_string(), expected);
    let config = config_file(h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 5, "{}", run.all());
    assert!(
        run.stderr.contains(&format!("immich-syncd: {expected}")),
        "{}",
        run.all()
    );
}
