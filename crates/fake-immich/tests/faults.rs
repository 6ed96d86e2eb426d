//! The fault knobs seen from a client, and the `fake-immich` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, json};
use fake_immich::Profile;
use serde_json::json;

#[tokio::test]
async fn injected_statuses_with_retry_after() {
    for profile in [Profile::V2, Profile::V3] {
        let env = Env::start(profile).await;
        let faults = env.server.faults();
        faults.fail_next_with_retry_after(2, 503, 7);

        // /server paths are never failed by fail_next.
        assert_eq!(env.get("/server/ping").await.status(), 200);
        for _ in 0..2 {
            let response = env.get("/users/me").await;
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers().get("retry-after").unwrap(), "7");
            let body = json(response).await;
            assert_eq!(body["message"], json!("Service Unavailable"));
            assert_eq!(body.get("statusCode").is_some(), profile == Profile::V2);
        }
        assert_eq!(env.get("/users/me").await.status(), 200);

        // Uploads are read in full before the failure is answered.
        faults.fail_next(1, 502);
        let response = env.upload("a.jpg", b"abc", false).await.unwrap();
        assert_eq!(response.status(), 502);
        assert!(response.headers().get("retry-after").is_none());
        assert!(env.server.assets(&env.user).is_empty());
        let last = env.server.requests().pop().unwrap();
        assert_eq!(last.status, 502);

        faults.fail_next_matching("/assets/bulk-upload-check", 1, 500);
        assert_eq!(env.get("/users/me").await.status(), 200);
        let check = json!({"assets": []});
        assert_eq!(
            env.post_json("/assets/bulk-upload-check", check.clone())
                .await
                .status(),
            500
        );
        assert_eq!(
            env.post_json("/assets/bulk-upload-check", check)
                .await
                .status(),
            200
        );

        faults.fail_next(5, 500);
        faults.clear();
        assert_eq!(env.get("/users/me").await.status(), 200);
    }
}

#[tokio::test]
async fn reset_uploads_fail_on_the_client_and_store_nothing() {
    let env = Env::start(Profile::V3).await;
    env.server.faults().reset_next_uploads(2);
    let big = vec![7u8; 512 * 1024];
    for content in [&b"small"[..], &big[..]] {
        let result = env.upload("a.jpg", content, false).await;
        let err = result.expect_err("the connection is dropped without an answer");
        assert!(!err.is_status(), "{err}");
    }
    assert!(env.server.assets(&env.user).is_empty());
    assert_eq!(env.server.created_uploads(), 0);
    let recorded = env.server.requests();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|r| r.status == 0));

    // The next upload goes through.
    let response = env.upload("a.jpg", &big, false).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(env.server.created_uploads(), 1);
    let incoming = env.server.storage_dir().join(".incoming");
    assert_eq!(
        std::fs::read_dir(incoming).map(|d| d.count()).unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn down_server_refuses_then_recovers() {
    let env = Env::start(Profile::V3).await;
    // Open a pooled connection first: requests on it are dropped too while down.
    assert_eq!(env.get("/users/me").await.status(), 200);
    env.server.faults().set_down(true);
    assert!(env.get_result("/users/me").await.is_err());
    let fresh = reqwest::Client::new();
    assert!(fresh.get(env.url("/server/ping")).send().await.is_err());
    env.server.faults().set_down(false);
    assert_eq!(
        fresh
            .get(env.url("/server/ping"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(env.get("/users/me").await.status(), 200);
}

#[tokio::test]
async fn delay_slows_every_answer() {
    let env = Env::start(Profile::V2).await;
    env.server.faults().set_delay(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(env.get("/server/ping").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    env.server.faults().set_delay(Duration::ZERO);
    let started = Instant::now();
    env.get("/server/ping").await;
    assert!(started.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let env = Env::start(Profile::V3).await;
    let url = env.url("/server/ping");
    let clone = env.server.clone();
    clone.shutdown().await;
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}

#[tokio::test]
async fn binary_serves_until_interrupted() {
    let storage = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-immich"))
        .args(["--port", "0", "--profile", "v2", "--storage"])
        .arg(storage.path())
        .args(["--user", "cli@example.com:CLI User:secret-key"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn fake-immich");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the ready line")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");

    let client = reqwest::Client::new();
    let version: serde_json::Value = client
        .get(format!("{url}/api/server/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version, json!({"major": 2, "minor": 7, "patch": 5}));
    let me: serde_json::Value = client
        .get(format!("{url}/api/users/me"))
        .header("x-api-key", "secret-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], json!("CLI User"));

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "fake-immich did not stop on SIGINT"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
