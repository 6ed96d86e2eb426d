//! Wrong server addresses, servers that are not Immich, TLS that fails.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_at_the_url_exits_4_saying_so() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let port = closed_port();
    let config = config_file(&h, &format!("http://127.0.0.1:{port}"), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "immich-syncd: account `alice`: cannot reach the server: nothing answers at 127.0.0.1:{port} (connection refused): is Immich running, and is the port right?"
        )),
        "{}",
        run.all()
    );
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_name_that_does_not_exist_says_so() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = config_file(&h, "http://photos.example.invalid:2283", &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains(
            "immich-syncd: account `alice`: cannot reach the server: the name photos.example.invalid cannot be found: check the server URL, or the network if it is right"
        ),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_url_in_the_config_exits_2_naming_the_key() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let config = config_file(&h, "htps://photos.example.com", &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("server_url"), "{}", run.all());
    assert!(
        run.stderr.contains("htps://photos.example.com"),
        "{}",
        run.all()
    );
    assert_eq!(folder_snapshot(&h.photos), before);
    assert!(h.server.requests().is_empty(), "nothing was sent anywhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_server_that_is_not_immich_is_named_as_such() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let url = web_server(|_, _| ("404 Not Found", "text/html", NOT_FOUND_PAGE.to_owned())).await;

    let report = h.once_against(&url).await;
    let expected = format!(
        "{url} does not look like an Immich server (it answered 404 Not Found with a web page titled \"404 Not Found\"); check the server URL"
    );
    assert_eq!(report.problems, vec![format!("alice: {expected}")]);
    assert_eq!(details(&h, "account_error"), vec![expected.clone()]);

    let config = config_file(&h, &url, &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr
            .contains(&format!("immich-syncd: account `alice`: {expected}")),
        "{}",
        run.all()
    );
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_with_a_wrong_path_or_a_login_in_front_is_not_immich() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    // Immich itself, at a path it is not served under.
    let url = format!("{}/photos", h.server.url());
    let report = h.once_against(&url).await;
    assert_eq!(
        report.problems,
        vec![format!(
            "alice: {url} does not look like an Immich server (it answered 404 Not Found: Cannot GET /photos/api/server/ping); check the server URL"
        )]
    );
    // A proxy that wants its own sign-in first.
    let url = web_server(|_, _| {
        (
            "401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"photos\"",
            "text/html",
            "<html><head><title>401 Authorization Required</title></head></html>".to_owned(),
        )
    })
    .await;
    let report = h.once_against(&url).await;
    assert_eq!(
        report.problems,
        vec![format!(
            "alice: {url} does not look like an Immich server (it asks for a sign-in before Immich answers: is a proxy with its own login in front of it?); check the server URL"
        )]
    );
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_answering_every_path_is_not_immich_either() {
    // A router's login page or a catch-all web app answers 200 with HTML everywhere.
    let h = Harness::new(Profile::V3).await;
    let url = web_server(|_, _| {
        (
            "200 OK",
            "text/html",
            "<html><head><title>Router login</title></head><body>Log in</body></html>".to_owned(),
        )
    })
    .await;
    let report = h.once_against(&url).await;
    assert_eq!(
        report.problems,
        vec![format!(
            "alice: {url} does not look like an Immich server (it answered with a web page titled \"Router login\"); check the server URL"
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_is_a_secure_connection_problem() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    let https = h.server.url().replace("http://", "https://");
    let host = https.trim_start_matches("https://").to_owned();

    let report = h.once_against(&https).await;
    let expected = format!(
        "secure connection to {host} failed: the server does not speak HTTPS on this port (try http:// instead of https://, or the port of the HTTPS proxy)"
    );
    assert_eq!(report.problems, vec![format!("alice: {expected}")]);

    let config = config_file(&h, &https, &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 3, "TLS problems need the user: {}", run.all());
    assert!(
        run.stderr
            .contains(&format!("immich-syncd: account `alice`: {expected}")),
        "{}",
        run.all()
    );
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}
