//! The `immich-syncd` binary: exit statuses and messages a NAS owner sees.

use std::process::Command;

use crate::common::daemon::syncd;
use crate::common::{Harness, photo};
use fake_immich::Profile;

fn write_config(h: &Harness, server_url: &str, key: &str) -> std::path::PathBuf {
    let path = h.dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "database_path = \"{}\"\n[immich]\nserver_url = \"{server_url}\"\n[[user]]\nuser_id = \"alice\"\nuser_key = \"{key}\"\npath = \"{}\"\n",
            h.state_path().display(),
            h.photos.display()
        ),
    )
    .unwrap();
    path
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("immich-syncd runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_with_the_older_services_config_syncs_and_exits_zero() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = write_config(&h, &h.server.url(), &h.key);
    let (code, out) = tokio::task::spawn_blocking(move || {
        run(syncd().arg("--config").arg(&config).arg("--once"))
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("uploaded 1"), "{out}");
    assert_eq!(h.server.created_uploads(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_file_exits_2_naming_the_file() {
    let (code, out) = run(syncd().args(["--config", "/nonexistent/immich-sync.toml", "--once"]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("/nonexistent/immich-sync.toml"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_exits_2_naming_the_key() {
    let h = Harness::new(Profile::V3).await;
    let config = write_config(&h, "photos.example.com", &h.key);
    let (code, out) = run(syncd().arg("--config").arg(&config).arg("--once"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("server_url"),
        "the message names the key: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_exits_3_and_says_what_to_do() {
    let h = Harness::new(Profile::V3).await;
    let config = write_config(&h, &h.server.url(), "not-the-key");
    let (code, out) = tokio::task::spawn_blocking(move || {
        run(syncd().arg("--config").arg(&config).arg("--once"))
    })
    .await
    .unwrap();
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("API key was rejected"), "{out}");
    assert!(
        !out.contains("not-the-key"),
        "the key never appears in output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_a_permission_exits_3_naming_it() {
    let h = Harness::new(Profile::V3).await;
    let weak = h
        .server
        .add_api_key(&h.user_id, &["asset.upload", "user.read", "asset.read"]);
    let config = write_config(&h, &h.server.url(), &weak);
    let (code, out) = tokio::task::spawn_blocking(move || {
        run(syncd().arg("--config").arg(&config).arg("--once"))
    })
    .await
    .unwrap();
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("asset.delete"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_4() {
    let h = Harness::new(Profile::V3).await;
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = write_config(&h, &format!("http://127.0.0.1:{port}"), &h.key);
    let (code, out) = run(syncd().arg("--config").arg(&config).arg("--once"));
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("cannot reach the server") || out.contains("cannot connect"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_once_pass_checks_the_connection_once() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = write_config(&h, &h.server.url(), &h.key);
    let (code, out) = tokio::task::spawn_blocking(move || {
        run(syncd().arg("--config").arg(&config).arg("--once"))
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    let requests = h.server.requests();
    let count = |path: &str| requests.iter().filter(|r| r.path == path).count();
    // The handshake before the pass is the pass's own: it is not made twice.
    for path in ["/api/server/version", "/api/users/me", "/api/api-keys/me"] {
        assert_eq!(count(path), 1, "{path}");
    }
    assert_eq!(
        h.server.created_uploads(),
        1,
        "and the pass uploads as before"
    );
}
