//! The tray app in a real webview: first-run setup, uploads seen in Activity, pause and resume.
//!
//! Run by `scripts/test` (it installs Xvfb, WebKitWebDriver and tauri-driver and builds the app):
//! `cargo test -p e2e-tests -- --ignored --test-threads=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_immich::{FakeImmich, Profile};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const PATIENCE: Duration = Duration::from_secs(30);

/// The app, tauri-driver and their private folders; everything is stopped on drop.
struct App {
    driver: Child,
    home: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The app may outlive the driver for a moment; make sure it does not linger.
        let _ = Command::new("pkill")
            .args(["-f", &app_binary().to_string_lossy()])
            .status();
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug/immich-sync")
}

impl App {
    fn env(&self, cmd: &mut Command) {
        let home = self.home.path();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("TMPDIR", home.join("tmp"))
            .env("IMMICH_SYNC_KEYSTORE", "file")
            .env("IMMICH_SYNC_TEST_PICK_FOLDER", home.join("Pictures"));
    }

    fn start() -> App {
        // Not a hidden folder: the GTK chooser treats those specially.
        let home = tempfile::Builder::new()
            .prefix("immich-sync-e2e-")
            .tempdir()
            .expect("home");
        for dir in ["config", "data", "cache", "tmp"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("dir");
        }
        let mut app = App {
            driver: Command::new("true").spawn().expect("placeholder"),
            home,
        };
        let mut cmd = Command::new("tauri-driver");
        cmd.args(["--port", "4444"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        app.env(&mut cmd);
        app.driver = cmd
            .spawn()
            .expect("tauri-driver is installed (scripts/test installs it)");
        app
    }

    fn photos(&self) -> PathBuf {
        self.home.path().join("Pictures")
    }

    /// A second launch, as a user double-clicking the app while it runs.
    fn launch_again(&self, window: &str) {
        let mut cmd = Command::new(app_binary());
        cmd.args(["--open", window]);
        self.env(&mut cmd);
        let status = cmd.status().expect("second launch");
        assert!(
            status.success(),
            "a second launch hands over to the running app and exits 0"
        );
    }
}

async fn connect() -> Client {
    let caps = serde_json::json!({
        "browserName": "wry",
        "tauri:options": { "application": app_binary() },
    });
    let deadline = Instant::now() + PATIENCE;
    loop {
        let attempt = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps.as_object().expect("object").clone())
            .connect("http://127.0.0.1:4444")
            .await;
        match attempt {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("cannot start a WebDriver session: {e}"),
        }
    }
}

async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} appears: {e}"))
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap_or_default()
}

/// Waits until the text of `css` satisfies `pred`; returns it.
async fn wait_text(client: &Client, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let current = match client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if pred(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: `{css}` reads `{current}`"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Scrolls `css` into view, as a user would, and clicks it.
async fn click(client: &Client, css: &str) {
    let element = find(client, css).await;
    let arg = serde_json::to_value(&element).expect("element reference");
    client
        .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
        .await
        .expect("scroll");
    tokio::time::sleep(Duration::from_millis(150)).await;
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn fill(client: &Client, css: &str, value: &str) {
    let field = find(client, css).await;
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

async fn switch_to(client: &Client, title_part: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        for handle in client.windows().await.unwrap_or_default() {
            if client.switch_to_window(handle).await.is_ok()
                && client
                    .title()
                    .await
                    .unwrap_or_default()
                    .contains(title_part)
            {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "a window titled `{title_part}` opens"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(name), &png).expect("write screenshot");
    if std::env::var_os("IMMICH_SYNC_UPDATE_SCREENSHOTS").is_some() {
        let docs = workspace_root().join("docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs dir");
        std::fs::write(docs.join(name), &png).expect("write docs screenshot");
    }
}

fn photo(n: u32) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(format!("e2e photo {n} ").repeat(64).as_bytes());
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, D-Bus, WebKitWebDriver and tauri-driver: run by scripts/test"]
async fn first_run_setup_then_uploads_pause_and_resume() {
    let server = FakeImmich::start(Profile::V3).await;
    let user = server.add_user("alice@example.com", "Alice Example");
    let key = server.add_api_key(
        &user,
        &["asset.upload", "asset.read", "asset.delete", "user.read"],
    );
    let app = App::start();
    std::fs::create_dir_all(app.photos()).unwrap();
    std::fs::write(app.photos().join("already-here.jpg"), photo(0)).unwrap();

    // First run: the settings window opens by itself with the guide.
    let client = connect().await;
    switch_to(&client, "Settings").await;
    fill(&client, "#server-url", &server.url()).await;
    fill(&client, "#api-key", "wrong-key").await;
    click(&client, "#test-connection").await;
    let error = wait_text(
        &client,
        "#connection-error",
        "a wrong key is reported",
        |t| !t.is_empty(),
    )
    .await;
    assert!(
        error.contains("rejected"),
        "the message says the key was rejected: {error}"
    );
    screenshot(&client, "first-run-wrong-key.png").await;

    fill(&client, "#api-key", &key).await;
    click(&client, "#test-connection").await;
    let ok = wait_text(
        &client,
        "#connection-result",
        "the right key connects",
        |t| t.contains("Alice Example"),
    )
    .await;
    assert!(
        ok.contains("alice@example.com") && ok.contains("3.1.0"),
        "{ok}"
    );

    // The native chooser is out of WebDriver's reach: the app is told which folder is picked.
    click(&client, "#add-folder").await;
    wait_text(
        &client,
        "#folder-list",
        "the chosen folder is listed",
        |t| t.contains("Pictures"),
    )
    .await;
    screenshot(&client, "first-run.png").await;
    click(&client, "#finish").await;

    // The existing photo is uploaded; the settings file holds no key.
    let deadline = Instant::now() + PATIENCE;
    while server.created_uploads() < 1 {
        assert!(
            Instant::now() < deadline,
            "the folder's photo is uploaded after setup"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settings_file = app.home.path().join("config/immich-sync/config.toml");
    let saved = std::fs::read_to_string(&settings_file).expect("settings saved");
    assert!(
        !saved.contains(&key),
        "the API key is not in the settings file"
    );

    // Activity shows a new photo arriving.
    app.launch_again("activity");
    switch_to(&client, "Activity").await;
    std::fs::write(app.photos().join("new-photo.jpg"), photo(1)).unwrap();
    wait_text(
        &client,
        "#activity-list",
        "the new photo shows as uploaded",
        |t| t.contains("new-photo.jpg"),
    )
    .await;
    find(&client, "#activity-list li[data-event='uploaded']").await;

    // Pause (the tray's code path), drop a photo: it waits.
    click(&client, "#pause-all").await;
    wait_text(
        &client,
        "#account-state",
        "the account shows as paused",
        |t| t.contains("Paused"),
    )
    .await;
    std::fs::write(app.photos().join("while-paused.jpg"), photo(2)).unwrap();
    wait_text(
        &client,
        "#activity-list",
        "the waiting photo is listed",
        |t| t.contains("while-paused.jpg"),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server.created_uploads(),
        2,
        "nothing is uploaded while paused"
    );
    screenshot(&client, "activity-paused.png").await;

    // Resume: it uploads.
    click(&client, "#resume-all").await;
    let deadline = Instant::now() + PATIENCE;
    while server.created_uploads() < 3 {
        assert!(
            Instant::now() < deadline,
            "resuming uploads the waiting photo"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_text(
        &client,
        "#account-state",
        "the account is up to date",
        |t| t.contains("Up to date"),
    )
    .await;
    screenshot(&client, "activity.png").await;

    // The settings window, as a returning user sees it.
    app.launch_again("settings");
    switch_to(&client, "Settings").await;
    find(&client, "#save").await;
    let masked = text(&client, "body").await;
    assert!(
        !masked.contains(&key),
        "the key is shown masked, never in full"
    );
    screenshot(&client, "settings.png").await;

    client.close().await.ok();
    drop(app);
    server.shutdown().await;
}
