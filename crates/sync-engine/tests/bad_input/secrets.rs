//! The API key appears nowhere, and a hostile server cannot take it elsewhere.

use super::*;

/// Fails if `text` holds the key, or a long piece of it.
fn assert_no_key(key: &str, what: &str, text: &str) {
    assert!(key.len() >= 16, "test keys are long enough to grep for");
    let half = &key[..key.len() / 2];
    assert!(
        !text.contains(key) && !text.contains(half),
        "the API key leaked into {what}:\n{text}"
    );
}

fn with_log(mut cmd: Command, filter: &str) -> Command {
    cmd.arg("-v")
        .env("RUST_LOG", filter)
        .env("RUST_BACKTRACE", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_appears_nowhere_in_success_or_failure() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    h.write("notes.txt", b"not a photo");
    let mut seen = Vec::new();

    // 1. A good pass, with every log level on.
    let config = config_file(&h, &h.server.url(), &h.key, "");
    let run = run_daemon(with_log(once_cmd(&config), "trace")).await;
    assert_eq!(run.code, 0, "{}", run.all());
    seen.push(("a good pass", run.all()));

    // 2. A wrong key.
    let wrong = format!("wrong-{}", h.server.add_api_key(&h.user_id, &[]));
    h.server.revoke_api_key(wrong.trim_start_matches("wrong-"));
    let config = config_file(&h, &h.server.url(), &wrong, "");
    let run = run_daemon(with_log(once_cmd(&config), "debug")).await;
    assert_eq!(run.code, 3, "{}", run.all());
    assert_no_key(&wrong, "the wrong key's run", &run.all());

    // 3. A key without permissions, and TLS against a plain port.
    let weak = h.server.add_api_key(&h.user_id, &["user.read"]);
    let config = config_file(&h, &h.server.url(), &weak, "");
    let run = run_daemon(with_log(once_cmd(&config), "debug")).await;
    assert_eq!(run.code, 3, "{}", run.all());
    assert_no_key(&weak, "the weak key's run", &run.all());
    let config = config_file(&h, &h.server.url().replace("http:", "https:"), &h.key, "");
    let run = run_daemon(with_log(once_cmd(&config), "debug")).await;
    assert_eq!(run.code, 3, "{}", run.all());
    seen.push(("a TLS failure", run.all()));

    // 4. The daemon running when its key is revoked, then stopped with SIGTERM.
    let config = config_file(&h, &h.server.url(), &h.key, "");
    let scans = h.events_of("scan_finished").len();
    let child = with_log(syncd(), "debug")
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(PATIENCE, || h.events_of("scan_finished").len() > scans).await);
    h.server.revoke_api_key(&h.key);
    h.write("b.jpg", &photo(2));
    assert!(
        eventually(PATIENCE, || h.events_of("account_error").iter().any(|e| e
            ["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("rejected")))
        .await
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stopped cleanly");
    seen.push((
        "the daemon's output",
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ));

    // 5. What the tray and the settings window show: the status snapshot, the configuration
    // and error values as a panic message would print them.
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Error)
        .await
    );
    seen.push((
        "the status snapshot",
        serde_json::to_string(&engine.status()).unwrap(),
    ));
    seen.push((
        "the configuration's Debug",
        format!("{:?}", engine.config()),
    ));
    engine.shutdown().await;
    let error = sync_engine::test_connection(
        &h.server.url(),
        sync_engine::secret::ApiKey::new(h.key.clone()),
    )
    .await
    .unwrap_err();
    seen.push(("an error's Display and Debug", format!("{error} {error:?}")));

    seen.push((
        "the event log",
        std::fs::read_to_string(h.event_log()).unwrap(),
    ));
    for (what, text) in &seen {
        assert_no_key(&h.key, what, text);
    }
    assert!(
        seen.iter().any(|(_, t)| t.contains("API key was rejected")),
        "the failures were reported"
    );
}

/// A second server that counts the requests carrying `key`: its URL and the count.
async fn key_catcher(key: &str) -> (String, Arc<AtomicU64>) {
    let leaked = Arc::new(AtomicU64::new(0));
    let counter = leaked.clone();
    let key = key.to_owned();
    let url = web_server(move |_, head| {
        if head.contains(&key) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        ("200 OK", "application/json", "{}".to_owned())
    })
    .await;
    (url, leaked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_gets_no_chance_to_move_the_key_elsewhere_or_echo_it() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    // A second server records any request carrying the key.
    let (elsewhere, leaked) = key_catcher(&h.key).await;
    // The configured server claims its API lives elsewhere, redirects authenticated calls
    // there, and echoes request headers in its error pages.
    let target = elsewhere.clone();
    let hostile = web_server(move |path, head| match path {
        "/.well-known/immich" => (
            "200 OK",
            "application/json",
            format!(r#"{{"api":{{"endpoint":"{target}/api"}}}}"#),
        ),
        "/api/server/ping" => ("200 OK", "application/json", r#"{"res":"pong"}"#.to_owned()),
        "/api/server/version" => (
            "200 OK",
            "application/json",
            r#"{"major":3,"minor":1,"patch":0}"#.to_owned(),
        ),
        "/api/users/me" => (
            "401 Unauthorized",
            "application/json",
            serde_json::json!({ "message": format!("Invalid API key; you sent {head}") })
                .to_string(),
        ),
        _ => (
            "307 Temporary Redirect\r\nLocation: http://elsewhere.invalid/",
            "text/plain",
            String::new(),
        ),
    })
    .await;
    let report = h.once_against(&hostile).await;
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(
        report.problems[0].starts_with("alice: the API key was rejected by the server (Invalid API key; you sent GET /api/users/me HTTP/1.1"),
        "{report:?}"
    );
    assert!(report.problems[0].contains("x-api-key: ****"), "{report:?}");
    assert_no_key(&h.key, "the report", &report.problems[0]);
    assert_no_key(
        &h.key,
        "the event log",
        &std::fs::read_to_string(h.event_log()).unwrap(),
    );
    assert_eq!(
        leaked.load(Ordering::SeqCst),
        0,
        "the key never went to another host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_another_host_are_not_followed_with_the_key() {
    let h = Harness::new(Profile::V3).await;
    let (elsewhere, leaked) = key_catcher(&h.key).await;
    let target = elsewhere.clone();
    let moved = web_server(move |path, _| match path {
        "/api/server/ping" => ("200 OK", "application/json", r#"{"res":"pong"}"#.to_owned()),
        "/api/server/version" => (
            "200 OK",
            "application/json",
            r#"{"major":3,"minor":1,"patch":0}"#.to_owned(),
        ),
        // Leaked to `elsewhere` if followed: x-api-key is not a header reqwest knows to drop.
        _ => (
            if path == "/api/users/me" {
                Box::leak(
                    format!("308 Permanent Redirect\r\nLocation: {target}{path}").into_boxed_str(),
                )
            } else {
                "404 Not Found"
            },
            "text/plain",
            String::new(),
        ),
    })
    .await;
    let report = h.once_against(&moved).await;
    assert_eq!(
        report.problems,
        vec![format!(
            "alice: the server rejected the request (308): it redirects to {elsewhere}/api/users/me; if that is your Immich server, use its address as the server URL"
        )]
    );
    assert_eq!(leaked.load(Ordering::SeqCst), 0, "the key stayed home");
}
