//! Bad input: every case shows the exact words a user reads and proves nothing was lost.
//!
//! Each test builds one kind of trouble — a wrong address, a server that is not Immich, a
//! broken TLS setup, a rejected or weak key, a full quota, files that cannot or should not be
//! uploaded, files that change under the engine's feet, odd names, a damaged or locked state
//! file, a bad configuration value — and checks two things: the message (in the JSONL event
//! log, the `--once` report, the status snapshot, or `immich-syncd`'s stderr and exit status),
//! and that the photo folder and the server are exactly as they should be afterwards. The last
//! tests grep everything the engine writes for the API key.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Harness, eventually, photo};
use fake_immich::Profile;
use sha1::{Digest, Sha1};
use sync_engine::status::AccountState;
use sync_engine::{Engine, EngineOptions, OnceReport, run_once};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn syncd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immich-syncd"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// What `immich-syncd` printed and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

async fn run_daemon(mut cmd: Command) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().expect("immich-syncd runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("the daemon's runner thread")
}

/// A configuration file in the current shape for the harness's folder, pointing at
/// `server_url` with `key`, with `extra` lines added to `[defaults]`.
fn config_file(h: &Harness, server_url: &str, key: &str, extra: &str) -> PathBuf {
    let path = h.dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"database_path = "{state}"
event_log = "{events}"
[defaults]
stable_after = "300ms"
upload_poll_interval = "1h"
reconcile_interval = "1h"
full_scan_interval = "1h"
{extra}
[[account]]
name = "alice"
server_url = "{server_url}"
api_key = "{key}"
[[account.folder]]
path = "{photos}"
"#,
            state = h.state_path().display(),
            events = h.event_log().display(),
            photos = h.photos.display(),
        ),
    )
    .expect("write the config file");
    path
}

fn once_cmd(config: &Path) -> Command {
    let mut cmd = syncd();
    cmd.arg("--config").arg(config).arg("--once");
    cmd
}

async fn once(h: &Harness) -> OnceReport {
    run_once(h.config(), EngineOptions::default())
        .await
        .expect("the pass runs")
}

/// Every file below `root` (symbolic links not followed) with its content; links map to
/// their target.
fn folder_snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = entry.expect("the test folder is readable");
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("below the root")
            .to_owned();
        let kind = entry.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).expect("link");
            out.insert(rel, target.into_os_string().into_encoded_bytes());
        } else if kind.is_file() {
            out.insert(rel, std::fs::read(entry.path()).expect("read"));
        }
    }
    out
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// The details of the events of one kind.
fn details(h: &Harness, kind: &str) -> Vec<String> {
    h.events_of(kind)
        .into_iter()
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// POST /api/assets requests the server received.
fn upload_requests(h: &Harness) -> usize {
    h.server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/assets")
        .count()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A web server that is not Immich. `respond(path, request_head)` gives the status line,
/// content type and body of the answer; every connection serves one request.
async fn web_server<F>(respond: F) -> String
where
    F: Fn(&str, &str) -> (&'static str, &'static str, String) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let respond = respond.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, content_type, body) = respond(&path, &head);
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

/// Reads a request head and any body it announces.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - end;
    while have < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        have += n;
    }
    Some(head)
}

const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p><hr><address>Apache/2.4.62 (Debian)</address></body></html>";

// ---------------------------------------------------------------------------------------------
// The server and the key
// ---------------------------------------------------------------------------------------------

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

    let mut config = h.config();
    config.accounts[0].server_url = url.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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
    let mut config = h.config();
    let url = format!("{}/photos", h.server.url());
    config.accounts[0].server_url = url.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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
    let mut config = h.config();
    config.accounts[0].server_url = url.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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
    let mut config = h.config();
    config.accounts[0].server_url = url.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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

    let mut config = h.config();
    config.accounts[0].server_url = https.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Idle)
        .await
    );

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

/// `(file name, detail)` of the events of one kind, sorted.
fn named_details(h: &Harness, kind: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = h
        .events_of(kind)
        .into_iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default();
            let name = path.rsplit('/').next().unwrap_or_default().to_owned();
            (name, e["detail"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_immich_does_not_take_are_skipped_once_with_the_reason() {
    let h = Harness::new(Profile::V3).await;
    h.server.set_media_types(&[".jpg"], &[".mp4"]);
    h.write("a.jpg", &photo(1));
    h.write("notes.txt", b"shopping list");
    h.write("IMG_2.heic", &photo(2));
    h.write("README", b"no extension");
    h.write("a.jpg.xmp", b"<x:xmpmeta/>");
    h.write("empty.jpg", b"");
    h.write("download.jpg.part", &photo(3));
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1);
    assert_eq!(report.skipped, 6);
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            (
                "IMG_2.heic".to_owned(),
                "skipped: .heic files are not photos or videos Immich accepts".to_owned()
            ),
            (
                "README".to_owned(),
                "skipped: files without an extension are not photos or videos Immich accepts"
                    .to_owned()
            ),
            (
                "a.jpg.xmp".to_owned(),
                "skipped: a sidecar file holds metadata for a photo, not a photo itself".to_owned()
            ),
            (
                "download.jpg.part".to_owned(),
                "skipped: a download or copy that is not finished".to_owned()
            ),
            (
                "empty.jpg".to_owned(),
                "skipped: the file is empty (0 bytes)".to_owned()
            ),
            (
                "notes.txt".to_owned(),
                "skipped: .txt files are not photos or videos Immich accepts".to_owned()
            ),
        ]
    );

    // Reported once: the next pass says nothing new.
    let again = once(&h).await;
    assert_eq!(again.skipped, 0, "{again:?}");
    assert_eq!(h.events_of("skipped").len(), 6);
    assert_eq!(h.server.created_uploads(), 1);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_and_sockets_are_skipped_without_being_opened() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let fifo = h.photos.join("pipe.jpg");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let _socket = std::os::unix::net::UnixListener::bind(h.photos.join("socket.jpg")).unwrap();

    // Opening the pipe for reading would block forever: the pass finishing proves it is not.
    let report = tokio::time::timeout(PATIENCE, once(&h))
        .await
        .expect("the pass does not hang on a pipe");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1);
    let reason = "skipped: not a regular file (a named pipe, socket or device)";
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            ("pipe.jpg".to_owned(), reason.to_owned()),
            ("socket.jpg".to_owned(), reason.to_owned()),
        ]
    );
    assert!(fifo.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_files_and_folders_are_reported_and_never_taken_as_deleted() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new(Profile::V3).await;
    h.write("locked/inside.jpg", &photo(1));
    let first = once(&h).await;
    assert_eq!(first.uploaded, 1);

    let private = h.write("private.jpg", &photo(2));
    let locked = h.photos.join("locked");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (as in CI containers) reads files whatever their permissions say.
    let permissions_bind = std::fs::read(&private).is_err();

    let report = once(&h).await;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();

    if permissions_bind {
        let errors = named_details(&h, "error");
        assert_eq!(
            errors,
            vec![
                (
                    "locked".to_owned(),
                    "cannot read this part of the folder (Permission denied (os error 13)); nothing below it is treated as deleted".to_owned()
                ),
                (
                    "private.jpg".to_owned(),
                    "cannot read the file (Permission denied (os error 13)); it is tried again at the next scan".to_owned()
                ),
            ]
        );
        assert_eq!(
            report.problems,
            vec![format!(
                "alice: {}: 2 files or folders could not be read (the event log names them)",
                h.photos.display()
            )]
        );
        assert_eq!(report.uploaded, 0);
    } else {
        assert!(h.events_of("error").is_empty(), "root reads everything");
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.uploaded, 1);
    }
    // Either way the photo behind the locked folder was not taken for deleted.
    assert!(h.live_assets().iter().all(|a| !a.is_trashed));
    assert!(h.server.requests().iter().all(|r| r.method != "DELETE"));
    assert_eq!(std::fs::read(locked.join("inside.jpg")).unwrap(), photo(1));

    // Readable again: everything is in sync.
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    assert_eq!(std::fs::read(&private).unwrap(), photo(2));
}

// ---------------------------------------------------------------------------------------------
// Odd trees and names
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_loops_end_the_scan_with_one_note_each() {
    let h = Harness::new(Profile::V3).await;
    h.write("album/a.jpg", &photo(1));
    std::os::unix::fs::symlink("..", h.photos.join("album/up")).unwrap();
    std::os::unix::fs::symlink(".", h.photos.join("here")).unwrap();
    std::os::unix::fs::symlink(h.photos.join("album/a.jpg"), h.photos.join("link.jpg")).unwrap();
    let before = folder_snapshot(&h.photos);

    let report = tokio::time::timeout(PATIENCE, once(&h))
        .await
        .expect("the scan terminates");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 1, "the photo once, not once per loop");
    let reason = "skipped: a symbolic link is not followed (sync the folder it points to instead)";
    assert_eq!(
        named_details(&h, "skipped"),
        vec![
            ("here".to_owned(), reason.to_owned()),
            ("link.jpg".to_owned(), reason.to_owned()),
            ("up".to_owned(), reason.to_owned()),
        ]
    );
    assert!(h.events_of("error").is_empty());

    // The running engine (file events included) stays calm too.
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Idle)
        .await,
        "{:?}",
        engine.status()
    );
    h.write("album/b.jpg", &photo(2));
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 2).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.shutdown().await;
    assert!(
        h.events_of("error").is_empty(),
        "{:?}",
        h.events_of("error")
    );
    assert_eq!(
        h.events_of("skipped").len(),
        3,
        "each link is reported once"
    );
    assert_eq!(h.server.created_uploads(), 2);
    let mut after = folder_snapshot(&h.photos);
    after.remove(Path::new("album/b.jpg"));
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_are_not_utf8_are_uploaded_and_kept_apart() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let h = Harness::new(Profile::V3).await;
    // Latin-1 names from an old camera or Samba share: é and è as single bytes.
    let e_acute = h.photos.join(OsStr::from_bytes(b"caf\xe9.jpg"));
    let e_grave = h.photos.join(OsStr::from_bytes(b"caf\xe8.jpg"));
    std::fs::write(&e_acute, photo(1)).unwrap();
    std::fs::write(&e_grave, photo(2)).unwrap();
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 2, "two names, two photos");
    let names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(names, vec!["caf\u{FFFD}.jpg", "caf\u{FFFD}.jpg"]);
    let paths: Vec<String> = h
        .events_of("uploaded")
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        paths.iter().all(|p| p.ends_with("/caf\u{FFFD}.jpg")),
        "{paths:?}"
    );

    // The store keeps the exact bytes: the next pass finds both unchanged.
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(h.server.created_uploads(), 2);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn very_long_names_and_deep_folders_are_uploaded() {
    let h = Harness::new(Profile::V3).await;
    let long_name = format!("{}.jpg", "x".repeat(251));
    assert_eq!(
        long_name.len(),
        255,
        "the longest name most file systems allow"
    );
    let long_utf8 = format!("{}.jpg", "é".repeat(125));
    assert_eq!(long_utf8.len(), 254);
    h.write(&long_name, &photo(1));
    h.write(&long_utf8, &photo(2));
    // About 3,900 bytes of path: close to Linux's 4,096-byte limit.
    let mut deep = PathBuf::new();
    while h.photos.join(&deep).as_os_str().len() < 3_700 {
        deep.push("d".repeat(200));
    }
    let deep_file = deep.join("deep.jpg");
    h.write(deep_file.to_str().unwrap(), &photo(3));
    let before = folder_snapshot(&h.photos);

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 3);
    let mut names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    names.sort();
    let mut expected = vec!["deep.jpg".to_owned(), long_utf8.clone(), long_name.clone()];
    expected.sort();
    assert_eq!(names, expected);
    let again = once(&h).await;
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_differ_only_in_case_are_two_photos() {
    let h = Harness::new(Profile::V3).await;
    h.write("IMG.jpg", &photo(1));
    h.write("img.JPG", &photo(2));
    let before = folder_snapshot(&h.photos);
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 2);
    let mut assets: Vec<(String, String)> = h
        .live_assets()
        .into_iter()
        .map(|a| (a.original_file_name, a.checksum_hex))
        .collect();
    assets.sort();
    assert_eq!(
        assets,
        vec![
            ("IMG.jpg".to_owned(), sha1_hex(&photo(1))),
            ("img.JPG".to_owned(), sha1_hex(&photo(2))),
        ]
    );
    let again = once(&h).await;
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

// ---------------------------------------------------------------------------------------------
// Files that change under the engine's feet
// ---------------------------------------------------------------------------------------------

/// Waits (blocking) until this process has `path` open: the engine runs in the test process,
/// so its hashing and uploading show in `/proc/self/fd`.
fn wait_until_open(path: &Path, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            for entry in entries.flatten() {
                if std::fs::read_link(entry.path()).is_ok_and(|target| target == path) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// `len` bytes of content number `seed` (no two seeds alike).
fn content(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed as u64 * 97) as u8
        })
        .collect();
    bytes[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, seed]);
    bytes
}

/// The state file's row for `rel`: `(state, sha1, asset_id)`.
fn stored_row(h: &Harness, rel: &str) -> Option<(String, Option<String>, Option<String>)> {
    let db = rusqlite::Connection::open(h.state_path()).expect("open the state file");
    db.query_row(
        "SELECT state, sha1, asset_id FROM files WHERE rel_path = ?1",
        [rel.as_bytes()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_while_it_is_hashed_is_simply_gone() {
    let h = Harness::new(Profile::V3).await;
    let big = h.photos.join("big.mp4");
    // Large enough that hashing takes a noticeable time; sparse, so it costs no disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let watch = big.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let seen = wait_until_open(&watch, PATIENCE);
        if seen {
            std::fs::remove_file(&watch).unwrap();
        }
        seen
    });
    let report = once(&h).await;
    assert!(seen.await.unwrap(), "the scanner opened the file");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert!(h.events_of("error").is_empty(), "{:?}", h.events());
    assert!(h.events_of("queued").is_empty());
    assert!(stored_row(&h, "big.mp4").is_none(), "nothing recorded");
    assert!(upload_requests(&h) == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_while_it_is_hashed_waits_for_its_final_content() {
    let h = Harness::new(Profile::V3).await;
    let path = h.photos.join("edit.mp4");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let watch = path.clone();
    let rewrite = tokio::task::spawn_blocking(move || {
        let seen = wait_until_open(&watch, PATIENCE);
        // The editor saves the final version over it.
        std::fs::write(&watch, photo(9)).unwrap();
        seen
    });
    let report = once(&h).await;
    assert!(rewrite.await.unwrap(), "the scanner opened the file");
    assert_eq!(report.pending, 1, "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "edit.mp4".to_owned(),
            "the file is still being written: it is uploaded once it stops changing".to_owned()
        )]
    );
    assert_eq!(h.server.created_uploads(), 0, "no half-read upload");

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&photo(9)));
    assert_eq!(std::fs::read(&path).unwrap(), photo(9));
}

/// A TCP proxy in front of the fake server that can stop the first upload in mid-body: once
/// `hold_after` bytes of a `POST /api/assets` request have passed, it stops forwarding (and
/// tells the test) until released. Its receive buffer is small, so the client cannot read far
/// ahead of what was forwarded.
struct HoldingProxy {
    url: String,
    held: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

impl HoldingProxy {
    async fn start(upstream: &str, hold_after: u64) -> HoldingProxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(32 * 1024).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let held = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let armed = Arc::new(AtomicBool::new(true));
        let (held2, release2) = (held.clone(), release.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let (held, release, armed) = (held2.clone(), release2.clone(), armed.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut upload_bytes: Option<u64> = None;
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let chunk = &buf[..n];
                        if chunk
                            .windows(26)
                            .any(|w| w == b"POST /api/assets HTTP/1.1\r")
                        {
                            upload_bytes = Some(0);
                        }
                        if let Some(sent) = upload_bytes.as_mut() {
                            *sent += n as u64;
                            if *sent >= hold_after && armed.swap(false, Ordering::SeqCst) {
                                held.notify_one();
                                release.notified().await;
                                upload_bytes = None;
                            }
                        }
                        if server_write.write_all(chunk).await.is_err() {
                            break;
                        }
                    }
                    let _ = server_write.shutdown().await;
                });
            }
        });
        HoldingProxy { url, held, release }
    }
}

/// Large enough that the client cannot have read it all into socket buffers (Linux allows a
/// sender up to 4 MiB by default, tuned hosts 16 MiB) when the proxy holds the upload.
const BIG: usize = 32 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_replaced_while_it_is_uploaded_ends_up_with_its_final_content() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("video.mp4", &content(1, BIG));
    let proxy = HoldingProxy::start(&h.server.url(), 256 * 1024).await;
    let mut config = h.config();
    config.accounts[0].server_url = proxy.url.clone();

    let pass = tokio::spawn(run_once(config, EngineOptions::default()));
    tokio::time::timeout(PATIENCE, proxy.held.notified())
        .await
        .expect("the upload started");
    // The camera app saves a new version while the old one is on its way.
    std::fs::write(&path, content(2, BIG)).unwrap();
    proxy.release.notify_one();
    let report = pass.await.unwrap().unwrap();

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "video.mp4".to_owned(),
            "the file changed while it was being uploaded: the upload was stopped (Immich kept nothing of it) and the new version is uploaded once it stops changing".to_owned()
        )]
    );
    // Immich holds the final content, once, and nothing mixed from both versions.
    assert_eq!(h.server.created_uploads(), 1);
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&content(2, BIG)));
    // The state file links the file to that asset with the checksum of what it holds.
    assert_eq!(
        stored_row(&h, "video.mp4"),
        Some((
            "synced".to_owned(),
            Some(sha1_hex(&content(2, BIG))),
            Some(assets[0].id.clone())
        ))
    );
    assert_eq!(std::fs::read(&path).unwrap(), content(2, BIG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_while_it_is_uploaded_leaves_nothing_behind() {
    let h = Harness::new(Profile::V3).await;
    h.write("keep.jpg", &photo(1));
    let path = h.write("video.mp4", &content(3, BIG));
    let proxy = HoldingProxy::start(&h.server.url(), 256 * 1024).await;
    let mut config = h.config();
    config.accounts[0].server_url = proxy.url.clone();
    config.upload_concurrency = 1;

    let pass = tokio::spawn(run_once(config, EngineOptions::default()));
    tokio::time::timeout(PATIENCE, proxy.held.notified())
        .await
        .expect("the upload started");
    std::fs::remove_file(&path).unwrap();
    proxy.release.notify_one();
    let report = pass.await.unwrap().unwrap();

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "skipped"),
        vec![(
            "video.mp4".to_owned(),
            "skipped: the file was deleted while it was being uploaded; Immich kept nothing of it"
                .to_owned()
        )]
    );
    let names: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(names, vec!["keep.jpg"], "no partial video in Immich");
    assert!(stored_row(&h, "video.mp4").is_none());
    assert_eq!(std::fs::read(h.photos.join("keep.jpg")).unwrap(), photo(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_between_hashing_and_upload_is_read_again() {
    let h = Harness::new(Profile::V3).await;
    let path = h.write("IMG_1.jpg", &photo(1));
    // A slow server: the bulk-upload-check answer takes a second to come back.
    h.server.faults().set_delay(Duration::from_secs(1));
    let pass = tokio::spawn(run_once(h.config(), EngineOptions::default()));
    let server = h.server.clone();
    let asked = eventually(PATIENCE, move || {
        server
            .requests()
            .iter()
            .any(|r| r.path == "/api/assets/bulk-upload-check")
    })
    .await;
    assert!(asked, "the check went out");
    std::fs::write(&path, photo(2)).unwrap();
    let report = pass.await.unwrap().unwrap();
    h.server.faults().set_delay(Duration::ZERO);

    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "IMG_1.jpg".to_owned(),
            "the file changed after it was read: the new version is uploaded once it stops changing"
                .to_owned()
        )]
    );
    assert_eq!(h.server.created_uploads(), 1, "only the new version");
    let assets = h.live_assets();
    assert_eq!(assets[0].checksum_hex, sha1_hex(&photo(2)));
    assert_eq!(
        stored_row(&h, "IMG_1.jpg"),
        Some((
            "synced".to_owned(),
            Some(sha1_hex(&photo(2))),
            Some(assets[0].id.clone())
        ))
    );
}

/// Appends `chunks` pieces of `piece` to `path`, one every `every`, like a slow copy.
fn slow_writer(
    path: PathBuf,
    piece: Vec<u8>,
    chunks: usize,
    every: Duration,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let mut written = Vec::new();
        for _ in 0..chunks {
            file.write_all(&piece).unwrap();
            file.flush().unwrap();
            written.extend_from_slice(&piece);
            std::thread::sleep(every);
        }
        written
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_being_written_is_not_uploaded_half_written_by_a_pass() {
    let h = Harness::new(Profile::V3).await;
    h.write("done.jpg", &photo(1));
    let path = h.photos.join("copying.mp4");
    let writer = slow_writer(
        path.clone(),
        content(5, 32 * 1024),
        60,
        Duration::from_millis(50),
    );
    tokio::time::sleep(Duration::from_millis(150)).await;

    let report = once(&h).await;
    assert_eq!(report.uploaded, 1, "the finished photo goes: {report:?}");
    assert_eq!(report.pending, 1, "the copy waits: {report:?}");
    assert_eq!(
        named_details(&h, "retry_scheduled"),
        vec![(
            "copying.mp4".to_owned(),
            "the file is still being written: it is uploaded once it stops changing".to_owned()
        )]
    );
    let written = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 2);
    let video: Vec<_> = h
        .live_assets()
        .into_iter()
        .filter(|a| a.original_file_name == "copying.mp4")
        .collect();
    assert_eq!(video.len(), 1);
    assert_eq!(
        video[0].checksum_hex,
        sha1_hex(&written),
        "only the whole file"
    );
    assert_eq!(std::fs::read(&path).unwrap(), written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_being_written_is_not_uploaded_half_written_by_the_running_engine() {
    let h = Harness::new(Profile::V3).await;
    let path = h.photos.join("copying.mp4");
    // The copy starts before the engine and goes on while it scans and watches.
    let writer = slow_writer(
        path.clone(),
        content(6, 32 * 1024),
        60,
        Duration::from_millis(50),
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    let written = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() >= 1).await,
        "{:?}",
        engine.status()
    );
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].state
            == AccountState::Idle)
        .await
    );
    engine.shutdown().await;
    assert_eq!(h.server.created_uploads(), 1, "one upload: the whole file");
    let assets = h.live_assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].checksum_hex, sha1_hex(&written));
    assert_eq!(std::fs::read(&path).unwrap(), written);
}

// ---------------------------------------------------------------------------------------------
// The state file
// ---------------------------------------------------------------------------------------------

/// Files next to the state file whose name starts with `prefix`.
fn state_dir_files(h: &Harness, prefix: &str) -> Vec<PathBuf> {
    let dir = h.state_path().parent().unwrap().to_owned();
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    out.sort();
    out
}

fn recovery_message(h: &Harness, reason: &str, moved_to: &Path) -> String {
    format!(
        "the state database {} was damaged ({reason}); it was moved aside to {} (kept, not deleted) and a new one is being built from a scan of your folders: photos already in Immich are linked again, not uploaded twice",
        h.state_path().display(),
        moved_to.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_full_of_garbage_is_moved_aside_and_rebuilt_without_uploading_again() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..3 {
        h.write(&format!("IMG_{n}.jpg"), &photo(n));
    }
    assert_eq!(once(&h).await.uploaded, 3);
    let before = folder_snapshot(&h.photos);
    let garbage = b"this is not a database, just bytes a crashed disk left behind\n".repeat(100);
    std::fs::write(h.state_path(), &garbage).unwrap();

    // A dry run leaves the damaged file where it is and works from an empty store.
    let mut dry = h.config();
    dry.event_log = None;
    let report = run_once(dry, EngineOptions { dry_run: true })
        .await
        .unwrap();
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert_eq!(std::fs::read(h.state_path()).unwrap(), garbage);
    assert!(state_dir_files(&h, "state.db.corrupt-").is_empty());

    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.uploaded, 0, "nothing is uploaded again");
    assert_eq!(
        report.linked, 3,
        "every photo is linked to its asset: {report:?}"
    );
    assert_eq!(h.server.created_uploads(), 3);
    assert_eq!(h.live_assets().len(), 3);
    let moved = state_dir_files(&h, "state.db.corrupt-");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(std::fs::read(&moved[0]).unwrap(), garbage, "kept as it was");
    assert_eq!(
        details(&h, "error"),
        vec![recovery_message(&h, "file is not a database", &moved[0])]
    );
    assert_eq!(folder_snapshot(&h.photos), before);

    // The rebuilt file works like the old one: the next pass has nothing to do.
    let again = once(&h).await;
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.uploaded + again.linked, 0, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_with_damaged_pages_is_rebuilt_and_the_daemon_says_so() {
    let h = Harness::new(Profile::V3).await;
    for n in 0..20 {
        h.write(&format!("2024/IMG_{n}.jpg"), &photo(n));
    }
    assert_eq!(once(&h).await.uploaded, 20);
    let before = folder_snapshot(&h.photos);
    // The header and schema survive; the page holding the file rows does not.
    let root_page: usize = {
        let conn = rusqlite::Connection::open(h.state_path()).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
        conn.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'files'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    };
    let mut bytes = std::fs::read(h.state_path()).unwrap();
    assert!(bytes.len() >= root_page * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[(root_page - 1) * 4096..root_page * 4096] {
        *b = 0xA5;
    }
    std::fs::write(h.state_path(), &bytes).unwrap();

    let config = config_file(&h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("uploaded 0, linked 20"),
        "{}",
        run.all()
    );
    let moved = state_dir_files(&h, "state.db.corrupt-");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(std::fs::read(&moved[0]).unwrap(), bytes);
    let event = details(&h, "error");
    assert_eq!(event.len(), 1, "{event:?}");
    let prefix = format!(
        "the state database {} was damaged (it failed SQLite's integrity check: ",
        h.state_path().display()
    );
    assert!(event[0].starts_with(&prefix), "{}", event[0]);
    assert!(
        event[0].ends_with(&format!(
            "); it was moved aside to {} (kept, not deleted) and a new one is being built from a scan of your folders: photos already in Immich are linked again, not uploaded twice",
            moved[0].display()
        )),
        "{}",
        event[0]
    );
    assert!(run.stderr.contains(&event[0]), "{}", run.all());
    assert_eq!(h.server.created_uploads(), 20, "nothing uploaded again");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_state_file_stops_with_exit_5_and_loses_nothing() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    assert_eq!(once(&h).await.uploaded, 1);
    h.write("b.jpg", &photo(2));
    let before = folder_snapshot(&h.photos);

    // Another program holds the write lock (BEGIN EXCLUSIVE in WAL mode) and keeps it.
    let holder = rusqlite::Connection::open(h.state_path()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let expected = format!(
        "the state database {} is locked by another program (another immich-syncd, or the Immich Sync app, using the same file?): stop it, or set database_path to a file of this configuration's own",
        h.state_path().display()
    );
    assert_state_file_refused(&h, &expected, "a locked file cannot be used").await;
    holder.execute_batch("ROLLBACK;").unwrap();
    drop(holder);

    // A lock is not damage: the file was left alone, and the next pass carries on from it.
    assert!(state_dir_files(&h, "state.db.corrupt-").is_empty());
    assert_eq!(h.server.created_uploads(), 1);
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.uploaded, report.linked), (1, 0), "{report:?}");
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_path_that_cannot_be_a_database_exits_5_naming_it() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let before = folder_snapshot(&h.photos);
    // A folder where the state file should be.
    std::fs::create_dir_all(h.state_path()).unwrap();
    let config = config_file(&h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 5, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "immich-syncd: the state database {} cannot be used (unable to open database file): check that it is a file this user may read and write, in a folder this user may write",
            h.state_path().display()
        )),
        "{}",
        run.all()
    );
    assert!(h.state_path().is_dir(), "left alone");
    assert_eq!(h.server.created_uploads(), 0);
    assert_eq!(folder_snapshot(&h.photos), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_state_file_is_refused() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let engine = Engine::start(h.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.server.created_uploads() == 1).await);
    let expected = format!(
        "the state database {} is in use by another running Immich Sync (immich-syncd or the tray app): stop that one first, or set database_path to a file of this configuration's own",
        h.state_path().display()
    );
    assert_state_file_refused(&h, &expected, "one engine per state file").await;
    // A dry run only reads: it may look while the engine runs.
    let dry = run_once(h.config(), EngineOptions { dry_run: true }).await;
    assert!(dry.is_ok(), "{dry:?}");

    engine.shutdown().await;
    let report = once(&h).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.server.created_uploads(), 1);
}

// ---------------------------------------------------------------------------------------------
// The configuration
// ---------------------------------------------------------------------------------------------

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_gets_no_chance_to_move_the_key_elsewhere_or_echo_it() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    // A second server records any request carrying the key.
    let leaked = Arc::new(AtomicU64::new(0));
    let counter = leaked.clone();
    let key = h.key.clone();
    let elsewhere = web_server(move |_, head| {
        if head.contains(&key) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        ("200 OK", "application/json", "{}".to_owned())
    })
    .await;
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
    let mut config = h.config();
    config.accounts[0].server_url = hostile.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
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
    let leaked = Arc::new(AtomicU64::new(0));
    let counter = leaked.clone();
    let key = h.key.clone();
    let elsewhere = web_server(move |_, head| {
        if head.contains(&key) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        ("200 OK", "application/json", "{}".to_owned())
    })
    .await;
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
    let mut config = h.config();
    config.accounts[0].server_url = moved.clone();
    let report = run_once(config, EngineOptions::default()).await.unwrap();
    assert_eq!(
        report.problems,
        vec![format!(
            "alice: the server rejected the request (308): it redirects to {elsewhere}/api/users/me; if that is your Immich server, use its address as the server URL"
        )]
    );
    assert_eq!(leaked.load(Ordering::SeqCst), 0, "the key stayed home");
}

/// A state file that cannot be used stops both a pass and the daemon (exit 5) with `expected`.
async fn assert_state_file_refused(h: &Harness, expected: &str, why: &str) {
    let error = run_once(h.config(), EngineOptions::default())
        .await
        .expect_err(why);
    assert_eq!(error.to_string(), expected);
    let config = config_file(h, &h.server.url(), &h.key, "");
    let run = run_daemon(once_cmd(&config)).await;
    assert_eq!(run.code, 5, "{}", run.all());
    assert!(
        run.stderr.contains(&format!("immich-syncd: {expected}")),
        "{}",
        run.all()
    );
}
