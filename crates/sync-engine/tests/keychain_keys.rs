//! One `config.toml` for both front ends: a key the tray app keeps in the OS keychain is read by
//! `immich-syncd` on the same machine, and a machine without a keychain says what to use.

use crate::common::daemon::{run_daemon, syncd};
use crate::common::{Harness, photo};
use fake_immich::Profile;

/// The tray app's way of naming a key: `api_key_keyring = true`, the key itself in the keychain.
fn keychain_config(h: &Harness) -> std::path::PathBuf {
    let text = h
        .config_text(&h.server.url(), "unused", "", "")
        .replace("api_key = \"unused\"", "api_key_keyring = true");
    let path = h.dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write the config file");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_the_daemon_says_to_use_a_key_file_or_variable() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = keychain_config(&h);
    let mut cmd = syncd();
    // A session bus that is not there: what a NAS or a service without a login session has.
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", h.dir.path().join("no-bus").display()),
    )
    .arg("--config")
    .arg(&config)
    .arg("--once");
    let run = run_daemon(cmd).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("account `alice`: the OS keychain cannot be read")
            && run.stderr.contains("set api_key_env or api_key_file"),
        "{}",
        run.all()
    );
    assert_eq!(h.server.created_uploads(), 0, "nothing was uploaded");
}

/// Needs a Secret Service: `scripts/test` runs it in a D-Bus session with gnome-keyring.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service (scripts/test runs it under dbus-run-session with gnome-keyring)"]
async fn a_key_the_app_kept_in_the_keychain_runs_the_daemon() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = keychain_config(&h);
    let key = sync_engine::secret::ApiKey::new(h.key.clone());
    tokio::task::spawn_blocking(move || sync_engine::keychain::set("alice", &key))
        .await
        .expect("keychain thread")
        .expect("the test session's keychain stores the key");

    let mut cmd = syncd();
    cmd.arg("--config").arg(&config).arg("--once");
    let run = run_daemon(cmd).await;
    tokio::task::spawn_blocking(|| sync_engine::keychain::delete("alice"))
        .await
        .expect("keychain thread")
        .expect("the key is removed again");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("uploaded 1"), "{}", run.all());
    assert_eq!(h.server.created_uploads(), 1);
}
