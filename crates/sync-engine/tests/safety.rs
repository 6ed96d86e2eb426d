//! Guards that protect a library from the wrong server, the wrong drive, crashes and outages.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Harness, eventually, photo};
use fake_immich::Profile;
use sync_engine::{Engine, EngineOptions, run_once};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_stays_with_the_immich_user_it_was_synced_with() {
    let mut h = Harness::new(Profile::V3).await;
    for n in 0..5 {
        h.write(&format!("bound-{n}.jpg"), &photo(n));
    }
    run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    // The key now belongs to someone else on the same server.
    let bob = h.server.add_user("bob@example.com", "Bob");
    let alice_key = std::mem::replace(
        &mut h.key,
        h.server.add_api_key(&bob, crate::common::ALL_PERMISSIONS),
    );
    h.write("new.jpg", &photo(50));
    std::fs::remove_file(h.photos.join("bound-0.jpg")).unwrap();
    let report = run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(!report.is_clean());
    let problem = report.problems.join("\n");
    assert!(
        problem.contains("another Immich user") && problem.contains("Bob <bob@example.com>"),
        "{problem}"
    );
    assert_eq!(
        h.server.assets(&bob).len(),
        0,
        "nothing went to Bob's library"
    );
    assert!(
        h.server.assets(&h.user_id).iter().all(|a| !a.is_trashed),
        "nothing deleted in Alice's"
    );
    assert_eq!(h.server.created_uploads(), 5);
    // With Alice's key back, syncing continues.
    h.key = alice_key;
    let report = run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_drive_at_the_same_path_pauses_the_folder() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..3 {
        h.write(&format!("drive-{n}.jpg"), &photo(n));
    }
    run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    // Pretend the folder was first synced on another volume (as if a different disk is now
    // mounted at this path).
    let db = rusqlite::Connection::open(h.state_path()).unwrap();
    db.execute("UPDATE folders SET root_device = root_device + 1", [])
        .unwrap();
    drop(db);
    std::fs::remove_file(h.photos.join("drive-0.jpg")).unwrap();
    h.write("other-disk.jpg", &photo(9));
    let report = run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    let problem = report.problems.join("\n");
    assert!(problem.contains("different drive"), "{problem}");
    assert_eq!(
        h.server.created_uploads(),
        3,
        "nothing uploaded from the other drive"
    );
    assert!(
        h.server.assets(&h.user_id).iter().all(|a| !a.is_trashed),
        "nothing deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_backs_off_and_says_so() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(20), || h.server.created_uploads() == 1).await);
    // The server starts failing every request.
    h.server
        .faults()
        .fail_next_matching("/api/assets", 10_000, 503);
    h.server.clear_requests();
    h.write("b.jpg", &photo(2));
    assert!(
        eventually(Duration::from_secs(20), || {
            engine.status().accounts[0]
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("Server unavailable — retrying in"))
        })
        .await,
        "{:?}",
        engine.status()
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    let attempts = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/assets"))
        .count();
    // Backoff: 5 s, then 10 s... so within ~8 s at most a handful of tries, not a busy loop.
    assert!(
        attempts <= 4,
        "{attempts} requests in 8 s while the server fails"
    );
    h.server.faults().clear();
    assert!(
        eventually(Duration::from_secs(30), || h.server.created_uploads() == 2).await,
        "recovers by itself"
    );
    engine.shutdown().await;
}

/// Small deterministic pseudo-random numbers, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_daemon_at_random_moments_loses_and_duplicates_nothing() {
    let h = Harness::new(Profile::V3).await;
    const FILES: u32 = 300;
    for n in 0..FILES {
        h.write(
            &format!("crash/{:02}/IMG_{n:04}.jpg", n % 17),
            &photo(5000 + n),
        );
    }
    let config_path = h.dir.path().join("crash.toml");
    std::fs::write(&config_path, sync_engine::config::to_toml(&h.config())).unwrap();
    h.server.faults().set_delay(Duration::from_millis(5));
    let mut rng = Lcg(0x5eed);
    for _ in 0..10 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_immich-syncd"))
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150 + rng.next(700))).await;
        child.kill().unwrap(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
    }
    h.server.faults().clear();
    let status = Command::new(env!("CARGO_BIN_EXE_immich-syncd"))
        .arg("--config")
        .arg(&config_path)
        .arg("--once")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the final pass finishes cleanly");
    let assets = h.server.assets(&h.user_id);
    assert_eq!(
        assets.len(),
        FILES as usize,
        "each file exists on the server exactly once"
    );
    let duplicate_uploads = h
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/assets" && r.status == 200)
        .count();
    assert_eq!(duplicate_uploads, 0, "no content was sent twice");
    for n in 0..FILES {
        let path = h.photos.join(format!("crash/{:02}/IMG_{n:04}.jpg", n % 17));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            photo(5000 + n),
            "local files are intact"
        );
    }
    // The store agrees: every file synced, linked to an asset that exists.
    let db = rusqlite::Connection::open(h.state_path()).unwrap();
    let mut stmt = db.prepare("SELECT state, asset_id FROM files").unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), FILES as usize);
    let ids: std::collections::HashSet<String> = assets.into_iter().map(|a| a.id).collect();
    for (state, asset) in rows {
        assert_eq!(state, "synced");
        assert!(
            ids.contains(&asset.unwrap()),
            "linked to an asset on the server"
        );
    }
}
