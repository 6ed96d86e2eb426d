//! The running engine: file events, pause and resume, status, shutdown.

use std::time::{Duration, Instant};

use crate::common::{Harness, PATIENCE, eventually, goes_idle, photo};
use fake_immich::Profile;
use sync_engine::status::AccountState;
use sync_engine::{Engine, EngineOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_is_uploaded_without_waiting_for_a_poll() {
    let h = Harness::new(Profile::V3).await;
    h.write("before.jpg", &photo(0));
    // Every poll interval in the harness is an hour: only file events can explain a quick upload.
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() == 1).await,
        "initial scan uploads"
    );
    h.write("Camera/new.jpg", &photo(1));
    assert!(
        eventually(PATIENCE, || h
            .live_assets()
            .iter()
            .any(|a| a.original_file_name == "new.jpg"))
        .await,
        "the new file arrived through the watcher"
    );
    assert!(
        goes_idle(&engine).await,
        "the account settles as up to date: {:?}",
        engine.status()
    );
    let status = engine.status();
    assert_eq!(status.accounts[0].folders[0].counts.synced, 2);
    assert_eq!(
        status.accounts[0].user.as_deref(),
        Some("Alice <alice@example.com>")
    );
    let started = Instant::now();
    engine.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an idle engine stops at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_accounts_wait_and_resume_where_they_left_off() {
    let h = Harness::new(Profile::V3).await;
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(goes_idle(&engine).await);
    engine.pause(None);
    assert_eq!(engine.status().accounts[0].state, AccountState::Paused);
    h.write("while-paused.jpg", &photo(3));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        h.server.created_uploads(),
        0,
        "nothing is uploaded while paused"
    );
    engine.resume(None);
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() == 1).await,
        "resuming uploads the waiting photo"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syncthing_trash_rename_counts_as_a_delete() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("sync/IMG_9.jpg", &photo(9));
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 1).await);
    assert!(goes_idle(&engine).await);
    std::fs::rename(&path, h.photos.join("sync/.trashed-1712345678-IMG_9.jpg")).unwrap();
    assert!(
        eventually(PATIENCE, || h
            .server
            .assets(&h.user_id)
            .iter()
            .all(|a| a.is_trashed))
        .await,
        "the asset went to the Immich trash"
    );
    assert_eq!(
        h.server.created_uploads(),
        1,
        "the renamed copy is not uploaded"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_folder_pauses_itself_and_deletes_nothing() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("b.jpg", &photo(2));
    sync_engine::run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    // The drive is unplugged.
    let moved = h.dir.path().join("unplugged");
    std::fs::rename(&h.photos, &moved).unwrap();
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].folders[0].state
            == sync_engine::status::FolderState::Unavailable)
        .await,
        "{:?}",
        engine.status()
    );
    let message = engine.status().accounts[0].folders[0]
        .message
        .clone()
        .unwrap();
    assert!(message.starts_with("Folder not available"), "{message}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        h.server.assets(&h.user_id).iter().all(|a| !a.is_trashed),
        "nothing deleted in Immich"
    );
    assert!(h.server.requests().iter().all(|r| r.method != "DELETE"));
    engine.shutdown().await;
    assert_eq!(
        std::fs::read_dir(&moved).unwrap().count(),
        2,
        "nothing deleted locally"
    );
}

/// A settings window saves through the engine: an invalid configuration is refused with the
/// key of each problem and nothing is written or applied; a valid one is written and applied
/// at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_is_validated_written_and_applied_by_the_engine() {
    let h = Harness::new(Profile::V3).await;
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    let file = h.dir.path().join("settings/config.toml");
    let mut bad = h.config();
    bad.upload_concurrency = 99;
    let refused = engine.apply_config(&bad, &file).await.expect_err("refused");
    assert!(
        refused.to_string().contains("defaults.upload_concurrency"),
        "{refused}"
    );
    assert!(!file.exists(), "nothing written");
    assert_eq!(
        engine.config().upload_concurrency,
        h.config().upload_concurrency
    );

    let mut good = h.config();
    let second = h.dir.path().join("Second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(second.join("s.jpg"), photo(7)).unwrap();
    let mut folder = good.accounts[0].folders[0].clone();
    folder.path = second.clone();
    good.accounts[0].folders.push(folder);
    let saved = engine.apply_config(&good, &file).await.unwrap();
    assert_eq!(saved.accounts[0].folders.len(), 2);
    let written = sync_engine::config::load(&file).expect("the daemon reads what was saved");
    assert_eq!(written.accounts[0].folders.len(), 2);
    assert!(
        eventually(PATIENCE, || h
            .live_assets()
            .iter()
            .any(|a| a.original_file_name == "s.jpg"))
        .await,
        "the new folder syncs at once"
    );
    engine.shutdown().await;
}
