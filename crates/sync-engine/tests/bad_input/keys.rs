//! Keys that are wrong, revoked or missing a permission, and a full quota.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_says_what_to_do() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let mut config = h.config();
    config.accounts[0].api_key =
        sync_engine::config::ApiKeySource::Inline(sync_engine::secret::ApiKey::new("wrong-key"));
    let report = run_once(config, EngineOptions::default()).await.unwrap();
    let expected = "the API key was rejected by the server (Invalid API key): create a new key in Immich under Account Settings → API Keys";
    assert_eq!(report.problems, vec![format!("alice: {expected}")]);
    assert_eq!(details(&h, "account_error"), vec![expected.to_owned()]);
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_while_running_stops_uploads_and_says_so() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 1).await);
    assert!(goes_idle(&engine).await);

    h.server.revoke_api_key(&h.key);
    h.write("b.jpg", &photo(2));
    let expected = "the API key was rejected by the server (Invalid API key): create a new key in Immich under Account Settings → API Keys";
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Error)
        .await,
        "{:?}",
        engine.status()
    );
    let status = engine.status();
    assert_eq!(status.accounts[0].message.as_deref(), Some(expected));
    assert!(details(&h, "account_error").contains(&expected.to_owned()));
    engine.shutdown().await;
    drop(engine);

    assert_eq!(h.server.created_uploads(), 1, "nothing more reached Immich");
    assert_eq!(std::fs::read(h.photos.join("b.jpg")).unwrap(), photo(2));
    // The new photo waits in the queue for a working key.
    let report = once(&h).await;
    assert_eq!(report.problems, vec![format!("alice: {expected}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_a_needed_permission_names_it() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let weak = h
        .server
        .add_api_key(&h.user_id, &["asset.upload", "asset.read", "user.read"]);
    let mut config = h.config();
    config.accounts[0].api_key =
        sync_engine::config::ApiKeySource::Inline(sync_engine::secret::ApiKey::new(&weak));
    let report = run_once(config.clone(), EngineOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.problems,
        vec![
            "alice: the API key lacks the `asset.delete` permission: edit the key in Immich (Account Settings → API Keys) and allow it"
                .to_owned()
        ]
    );

    let weaker = h.server.add_api_key(&h.user_id, &["user.read"]);
    config.accounts[0].api_key =
        sync_engine::config::ApiKeySource::Inline(sync_engine::secret::ApiKey::new(&weaker));
    let report = run_once(config, EngineOptions::default()).await.unwrap();
    assert_eq!(
        report.problems,
        vec![
            "alice: the API key lacks the `asset.upload`, `asset.read` and `asset.delete` permissions: edit the key in Immich (Account Settings → API Keys) and allow them"
                .to_owned()
        ]
    );
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_quota_keeps_the_file_and_does_not_hammer_the_server() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    h.server.set_quota(&h.user_id, Some(100));
    let report = once(&h).await;
    let expected = "your Immich storage quota is full: free space in Immich or ask the admin for a larger quota";
    assert_eq!(report.problems, vec![format!("alice: {expected}")]);
    assert_eq!(report.pending, 1, "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert_eq!(upload_requests(&h), 1, "one try per pass");
    assert_eq!(folder_snapshot(&h.photos), before);

    // The running engine tries once, shows why, and then waits for new work or the poll
    // interval (an hour here): it does not spin on a full quota.
    h.server.clear_requests();
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Error)
        .await,
        "{:?}",
        engine.status()
    );
    assert_eq!(
        engine.status().accounts[0].message.as_deref(),
        Some(expected)
    );
    // One try when the uploader starts, at most one more when the first scan wakes it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tries = upload_requests(&h);
    assert!((1..=2).contains(&tries), "{tries} tries at start");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(upload_requests(&h), tries, "no retry loop");
    engine.shutdown().await;
    drop(engine);
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);

    // With room again, the next pass uploads it at once.
    h.server.set_quota(&h.user_id, None);
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 1);
    assert_eq!(folder_snapshot(&h.photos), before);
}

// ---------------------------------------------------------------------------------------------
// Files that are not photos, or cannot be read
// ---------------------------------------------------------------------------------------------
