//! Configuration values that are wrong.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_values_exit_2_naming_each_key() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let path = h.dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"database_path = "{state}"
[defaults]
upload_concurrency = 99
stable_after = "soon"
[[account]]
name = "alice"
server_url = "{url}"
api_key = "{key}"
[[account.folder]]
path = "{photos}"
delete_mode = "sometimes"
"#,
            state = h.state_path().display(),
            url = h.server.url(),
            key = h.key,
            photos = h.photos.display(),
        ),
    )
    .unwrap();
    let run = run_daemon(once_cmd(&path)).await;
    assert_eq!(run.code, 2, "{}", run.all());
    for line in [
        format!("immich-syncd: configuration error in {}:", path.display()),
        "defaults.upload_concurrency: must be between 1 and 16, got 99".to_owned(),
        "defaults.stable_after: `soon` is not a duration: use seconds or 90s/5m/6h/1d".to_owned(),
        "account[0].folder[0].delete_mode: unknown delete mode `sometimes`: use one of mirror, upload-only, keep-local".to_owned(),
    ] {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "missing `{line}`:\n{}",
            run.all()
        );
    }
    assert!(!run.all().contains(&h.key));
    assert!(h.server.requests().is_empty(), "nothing was sent");
    assert!(!h.state_path().exists(), "no state file was made");
    assert_eq!(folder_snapshot(&h.photos), before);
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------
