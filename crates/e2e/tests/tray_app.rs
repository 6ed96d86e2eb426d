//! The tray app in a real webview: first-run setup, uploads seen in Activity, pause and resume,
//! a folder's album and exclusions in Settings.
//!
//! The windows live in the app's window process, a child of the app that tauri-driver starts;
//! WebKitWebDriver reaches it because it inherits the app's automation settings. That process
//! stays 30 s after its last window closes, so a story whose Settings window closes (the first
//! run's "Done") keeps its WebDriver session for the Activity window it opens next.
//!
//! Run by `scripts/test` (it installs Xvfb, WebKitWebDriver and tauri-driver and builds the app):
//! `cargo test -p e2e-tests -- --ignored --test-threads=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_immich::older_service::{OlderRow, write_state_file};
use fake_immich::{FakeImmich, Profile};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use time::macros::datetime;

const PATIENCE: Duration = Duration::from_secs(30);

/// The app, tauri-driver and their private folders; everything is stopped on drop.
struct App {
    driver: Child,
    home: tempfile::TempDir,
    /// The older service's config.toml the "user" picks, when the story needs one.
    older_config: Option<PathBuf>,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The app and WebKitWebDriver may outlive tauri-driver for a moment; make sure they
        // do not linger (the next story needs the driver's ports).
        let _ = Command::new("pkill")
            .args(["-f", &app_binary().to_string_lossy()])
            .status();
        let _ = Command::new("pkill")
            .args(["-f", "WebKitWebDriver"])
            .status();
        // A second story's app would otherwise hand over to this one (single instance).
        let deadline = Instant::now() + Duration::from_secs(15);
        while Command::new("pgrep")
            .args(["-f", &app_binary().to_string_lossy()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            if Instant::now() > deadline {
                let _ = Command::new("pkill")
                    .args(["-9", "-f", &app_binary().to_string_lossy()])
                    .status();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn built(binary: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join(binary)
}

fn app_binary() -> PathBuf {
    built("immich-sync")
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
        if let Some(file) = &self.older_config {
            cmd.env("IMMICH_SYNC_TEST_PICK_FILE", file);
        }
    }

    fn start() -> App {
        Self::start_with(|_| None)
    }

    /// Starts with a home prepared by `prepare`, which may return the older service's
    /// config.toml for the file chooser.
    fn start_with(prepare: impl FnOnce(&Path) -> Option<PathBuf>) -> App {
        // Not a hidden folder: the GTK chooser treats those specially.
        let home = tempfile::Builder::new()
            .prefix("immich-sync-e2e-")
            .tempdir()
            .expect("home");
        for dir in ["config", "data", "cache", "tmp"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("dir");
        }
        let older_config = prepare(home.path());
        wait_for_free_ports(&[4444, 4445]);
        let mut app = App {
            driver: Command::new("true").spawn().expect("placeholder"),
            home,
            older_config,
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

    /// `immich-syncd ARGS` as the same user would type it beside the app; its output, or a
    /// failure naming what it printed.
    fn syncd(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(built("immich-syncd"));
        cmd.args(args);
        self.env(&mut cmd);
        let out = cmd.output().expect("immich-syncd runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "immich-syncd {args:?}: {}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
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

/// tauri-driver listens on 4444 and starts WebKitWebDriver on 4445: a story waits until the
/// previous one's have let go of them.
fn wait_for_free_ports(ports: &[u16]) {
    let deadline = Instant::now() + PATIENCE;
    while !ports
        .iter()
        .all(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
    {
        assert!(
            Instant::now() < deadline,
            "the WebDriver ports {ports:?} are free"
        );
        std::thread::sleep(Duration::from_millis(200));
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

/// How many events the Activity list has a row for.
async fn event_rows(client: &Client) -> u64 {
    client
        .execute(
            "return document.querySelectorAll('#activity-list li').length;",
            vec![],
        )
        .await
        .expect("count the rows")
        .as_u64()
        .expect("a number")
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

/// Switches to the window whose page is `name` (`Settings` → settings.html): by its address,
/// since the page retitles itself ("Welcome to Immich Sync" on first run).
async fn switch_to(client: &Client, name: &str) {
    let page = format!("{}.html", name.to_lowercase());
    let deadline = Instant::now() + PATIENCE;
    loop {
        for handle in client.windows().await.unwrap_or_default() {
            if client.switch_to_window(handle).await.is_ok()
                && client
                    .current_url()
                    .await
                    .is_ok_and(|url| url.path().ends_with(&page))
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the {name} window opens");
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

    // A burst of photos: the list makes rows for the newest 100 events only, and shows
    // older ones when it is scrolled to its end.
    let burst = app.photos().join("Burst");
    std::fs::create_dir_all(&burst).unwrap();
    for n in 0..110 {
        std::fs::write(burst.join(format!("IMG_{n:04}.jpg")), photo(100 + n)).unwrap();
    }
    let deadline = Instant::now() + PATIENCE;
    while server.created_uploads() < 113 {
        assert!(Instant::now() < deadline, "the burst is uploaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let older = wait_text(
        &client,
        "#events-more",
        "older events wait below the list",
        |t| t.starts_with("Show ") && t.ends_with(" older"),
    )
    .await;
    assert_eq!(
        event_rows(&client).await,
        100,
        "rows for the newest 100: {older}"
    );
    // Scrolled to its end again and again, the list comes to its oldest events.
    let mut rows = 100;
    while find(&client, "#events-more")
        .await
        .is_displayed()
        .await
        .unwrap_or(false)
    {
        let more = find(&client, "#events-more").await;
        let arg = serde_json::to_value(&more).expect("element reference");
        client
            .execute("arguments[0].scrollIntoView({block: 'end'});", vec![arg])
            .await
            .expect("scroll to the end of the list");
        let deadline = Instant::now() + PATIENCE;
        while event_rows(&client).await <= rows {
            assert!(
                Instant::now() < deadline,
                "scrolling to the end shows older events"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        rows = event_rows(&client).await;
    }
    assert!(
        rows > 200,
        "every listed event has a row in the end: {rows}"
    );
    let listed = text(&client, "#activity-list").await;
    assert!(
        listed.contains("new-photo.jpg"),
        "the oldest events are listed again: {listed}"
    );

    // "Open log folder" is allowed to the window (the file manager itself is not checked).
    click(&client, "#open-logs").await;
    wait_text(
        &client,
        "#toolbar-status",
        "Open log folder is carried out",
        |t| t.contains("The log folder opens in your file manager."),
    )
    .await;

    // The command line reaches the running app, with no --config: it finds the app's settings.
    let status = app.syncd(&["status"]);
    assert!(
        status.starts_with("Up to date · 113 photos\n"),
        "immich-syncd status answers for the app: {status}"
    );
    app.syncd(&["pause"]);
    wait_text(
        &client,
        "#account-state",
        "a pause from the command line shows in Activity",
        |t| t.contains("Paused"),
    )
    .await;
    app.syncd(&["resume"]);
    wait_text(
        &client,
        "#account-state",
        "a resume from the command line shows in Activity",
        |t| t.contains("Up to date"),
    )
    .await;

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

    // A folder's album and exclusions. Its "Album and exclusions" are open: it is the
    // account's only folder. The live count walks the real folder.
    std::fs::create_dir_all(app.photos().join("Screens")).unwrap();
    std::fs::write(app.photos().join("Screens/screen.png"), b"not really a PNG").unwrap();
    let patterns = "#folder-list [data-field='exclude'] .chip-input";
    let count = "#folder-list .excluded-count";
    fill(&client, patterns, "*.png\u{E007}").await;
    wait_text(&client, count, "the pattern's files are counted", |t| {
        t == "1 file in this folder would be excluded"
    })
    .await;
    fill(&client, patterns, "{raw,\u{E007}").await;
    let bad = wait_text(&client, count, "a bad pattern is named", |t| {
        t.contains("is not a pattern")
    })
    .await;
    assert!(
        bad.starts_with("{raw,"),
        "the message names the pattern: {bad}"
    );
    click(
        &client,
        "#folder-list [data-field='exclude'] .chip:last-child .chip-remove",
    )
    .await;
    wait_text(
        &client,
        count,
        "removing the bad pattern counts again",
        |t| t == "1 file in this folder would be excluded",
    )
    .await;
    find(&client, "#folder-list [data-field='album'] select")
        .await
        .select_by_value("named")
        .await
        .expect("choose one album");
    fill(&client, "#folder-list .album-name", "Family").await;
    let summary = "#folder-list [data-bind='album-summary']";
    wait_text(&client, summary, "the choice is summed up", |t| {
        t == "Album “Family” · 1 exclusion"
    })
    .await;
    screenshot(&client, "settings-album.png").await;
    click(&client, "#save").await;
    wait_text(&client, "#save-status", "the album is saved", |t| {
        t == "Saved"
    })
    .await;
    let saved = std::fs::read_to_string(&settings_file).expect("settings saved");
    assert!(saved.contains(r#"album = "Family""#), "{saved}");
    assert!(saved.contains(r#"exclude = ["*.png"]"#), "{saved}");
    wait_text(&client, summary, "the saved choice is shown", |t| {
        t == "Album “Family” · 1 exclusion"
    })
    .await;

    // About: the version and commit, and where the logs are; the log file is there.
    click(&client, "[data-pane='general']").await;
    let logs = app.home.path().join(".local/state/immich-sync/logs");
    wait_text(
        &client,
        "#about-line",
        "the About line names the version, the commit and the log folder",
        |t| t.starts_with("Immich Sync 0.1.0 (") && t.contains(&*logs.to_string_lossy()),
    )
    .await;
    let log_text: String = std::fs::read_dir(&logs)
        .expect("the log folder exists")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert!(
        log_text.contains("Immich Sync 0.1.0 (")
            && log_text.contains(r#"control: {"command":"pause","account":null}"#),
        "the app writes its log to the log folder: {log_text}"
    );

    // Closing the windows ends the process they run in, a while later; the app goes on in the
    // tray, and a window asked for afterwards opens in a new one.
    let windows_before = window_process().expect("the windows run in a process of their own");
    for handle in client.windows().await.unwrap_or_default() {
        client.switch_to_window(handle).await.expect("switch");
        // As the page's own close does it (the window is destroyed, not hidden).
        let _ = client
            .execute("window.__TAURI__.core.invoke('close_window')", vec![])
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    while window_process().is_some() {
        assert!(
            Instant::now() < deadline,
            "the window process ends after its last window closed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = app.syncd(&["status"]);
    assert!(
        status.starts_with("Alice Example: "),
        "the app still runs in the tray (its engine answers, as signed in): {status}"
    );
    app.launch_again("settings");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let shown = Command::new("xdotool")
            .args(["search", "--name", "Immich Sync — Settings"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if shown {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Settings opens again after the window process ended"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let windows_after = window_process().expect("a new window process shows Settings");
    assert_ne!(
        windows_before, windows_after,
        "a new process, not the old one"
    );

    client.close().await.ok();
    drop(app);
    server.shutdown().await;
}

/// The app's window process (`immich-sync --window-process …`), if one runs.
fn window_process() -> Option<u32> {
    let binary = app_binary();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let mut args = cmdline.split(|b| *b == 0);
            let program = args.next()?;
            (program == binary.as_os_str().as_encoded_bytes()
                && args.any(|a| a == b"--window-process"))
            .then_some(pid)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, D-Bus, WebKitWebDriver and tauri-driver: run by scripts/test"]
async fn moving_over_from_the_older_service_then_undoing_a_delete() {
    let server = FakeImmich::start(Profile::V3).await;
    let user = server.add_user("alice@example.com", "Alice Example");
    let key = server.add_api_key(
        &user,
        &["asset.upload", "asset.read", "asset.delete", "user.read"],
    );
    let url = server.url();
    let user_id = user.clone();
    let key_for_setup = key.clone();
    let server_for_setup = server.clone();
    let app = App::start_with(move |home| {
        // What a user of the older service has: its folder, its config.toml, its state file.
        let folder = home.join("OldPhotos");
        std::fs::create_dir_all(&folder).unwrap();
        let mut assets = Vec::new();
        for n in 0..5 {
            let name = format!("IMG_{n:04}.jpg");
            std::fs::write(folder.join(&name), photo(100 + n)).unwrap();
            let id = server_for_setup.insert_asset(&user, &name, &photo(100 + n));
            assets.push(OlderRow {
                user_id: "alice".into(),
                asset_path: name,
                content: photo(100 + n),
                asset_id: Some(id),
                created_at: Some(datetime!(2024-06-01 10:00 UTC)),
            });
        }
        let state = home.join("older/state.db");
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        write_state_file(&state, &assets).unwrap();
        let config = home.join("older/config.toml");
        std::fs::write(
            &config,
            format!(
                "database_path = \"{}\"\n\n[immich]\nserver_url = \"{url}\"\ndelete_threshold = 14\n\n[[user]]\nuser_id = \"alice\"\nuser_key = \"{key_for_setup}\"\npath = \"{}\"\n",
                state.display(),
                folder.display()
            ),
        )
        .unwrap();
        Some(config)
    });
    let folder = app.home.path().join("OldPhotos");

    let client = connect().await;
    switch_to(&client, "Settings").await;
    click(&client, "#move-over").await;
    let done = wait_text(&client, ".done-panel", "the move-over is confirmed", |t| {
        t.contains("Took over 1 account and 1 folder")
    })
    .await;
    assert!(done.contains("keep their age"), "{done}");
    screenshot(&client, "move-over.png").await;

    // The account runs: its photos are linked from the older state file, not uploaded.
    app.launch_again("activity");
    switch_to(&client, "Activity").await;
    wait_text(&client, "#activity-list", "the import is reported", |t| {
        t.contains("Moved over from the older sync service")
            && t.contains("5 photos already in Immich")
    })
    .await;
    wait_text(&client, "#accounts", "the photos count as synced", |t| {
        t.contains("5 synced")
    })
    .await;
    assert_eq!(server.created_uploads(), 0, "nothing was uploaded again");
    let saved = std::fs::read_to_string(app.home.path().join("config/immich-sync/config.toml"))
        .expect("settings saved");
    assert!(!saved.contains(&key), "the key went to the keychain");
    assert!(saved.contains("delete_threshold = 14"), "{saved}");

    // A photo trashed in Immich leaves the folder for the OS trash; Undo brings it back.
    let alice = server
        .assets(&user_id)
        .into_iter()
        .find(|a| a.original_file_name == "IMG_0003.jpg")
        .expect("the photo is in Immich");
    server.trash_asset(&alice.id);
    click(&client, "#sync-now").await;
    let gone = folder.join("IMG_0003.jpg");
    let deadline = Instant::now() + Duration::from_secs(75);
    while gone.exists() {
        assert!(
            Instant::now() < deadline,
            "the photo trashed in Immich leaves the folder (after the delete grace period)"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_text(&client, "#done-list", "the delete is listed", |t| {
        t.contains("IMG_0003.jpg")
    })
    .await;
    wait_text(
        &client,
        "#stones-count",
        "it is remembered as deleted in Immich",
        |t| t.contains("(1)"),
    )
    .await;
    screenshot(&client, "activity-deletes.png").await;
    click(&client, "#done-list li button").await;
    wait_text(&client, "#deletes-notice", "the undo is confirmed", |t| {
        t.contains("back from the Trash")
    })
    .await;
    assert!(gone.exists(), "Undo put the file back");
    assert_eq!(std::fs::read(&gone).unwrap(), photo(103));
    assert_eq!(server.created_uploads(), 0, "and it is not uploaded again");

    client.close().await.ok();
    drop(app);
    server.shutdown().await;
}
