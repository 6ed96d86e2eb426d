//! A flaky server never costs a photo and never duplicates one.

use crate::common::{Harness, photo};
use fake_immich::Profile;
use sync_engine::{EngineOptions, run_once};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_mid_body_is_rechecked_and_not_duplicated() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..3 {
        h.write(&format!("IMG_{n}.jpg"), &photo(n));
    }
    h.server.faults().reset_next_uploads(2);
    let report = run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        h.server.created_uploads(),
        3,
        "every photo arrives exactly once"
    );
    assert_eq!(h.live_assets().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_and_failing_servers_are_retried_as_they_ask() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("b.jpg", &photo(2));
    // The first upload-related requests fail: 429 asking for a one-second pause, then a 503.
    h.server.faults().fail_next_matching("/api/assets", 1, 503);
    h.server.faults().fail_next_with_retry_after(1, 429, 1);
    let report = run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    let retries = h.events_of("retry_scheduled");
    assert!(!retries.is_empty(), "the retry is visible in the event log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_never_reaches_the_event_log() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("notes.txt", b"x");
    run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    h.server.revoke_api_key(&h.key);
    run_once(h.config(), EngineOptions::default())
        .await
        .unwrap();
    let log = std::fs::read_to_string(h.event_log()).unwrap();
    assert!(
        log.contains("API key was rejected"),
        "the revoked key is reported: {log}"
    );
    assert!(!log.contains(&h.key), "the key itself never is");
}
