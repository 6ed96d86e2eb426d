//! Test fixtures: a fake Immich server on 127.0.0.1, a real photo folder in a temp dir, a real
//! state file, and the configuration that ties them together.
#![allow(dead_code)]

pub mod daemon;
pub mod web;

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use fake_immich::{FakeImmich, Profile};
use sync_engine::config::{self, Config};

/// Every permission the engine needs (albums aside): `asset.update` sends sidecars edited
/// after the upload.
pub const ALL_PERMISSIONS: &[&str] = &[
    "asset.upload",
    "asset.read",
    "asset.delete",
    "user.read",
    "asset.update",
];

/// A library on disk and an account on a fake server.
pub struct Harness {
    pub server: FakeImmich,
    pub user_id: String,
    pub key: String,
    pub dir: tempfile::TempDir,
    pub photos: PathBuf,
}

impl Harness {
    pub async fn new(profile: Profile) -> Harness {
        isolate_trash();
        let server = FakeImmich::start(profile).await;
        let user_id = server.add_user("alice@example.com", "Alice");
        let key = server.add_api_key(&user_id, ALL_PERMISSIONS);
        let dir = tempfile::tempdir().expect("temp dir");
        let photos = dir.path().join("Photos");
        std::fs::create_dir_all(&photos).expect("photos dir");
        Harness {
            server,
            user_id,
            key,
            dir,
            photos,
        }
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state/state.db")
    }

    pub fn event_log(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }

    /// A configuration for this harness with `folder_extra` TOML lines added to the folder.
    /// Deletes are evaluated at once and the percentage limit of the mass-delete guard is off,
    /// so stories about one photo in a small folder stay small; the guard's own tests use
    /// [`Harness::config_guarded`].
    pub fn config_with(&self, folder_extra: &str) -> Config {
        self.config_full(
            "delete_grace = \"0s\"\nmass_delete_percent = 100",
            folder_extra,
        )
    }

    /// The mass-delete guard with its default limits (10 files, 25 %) and no grace period.
    pub fn config_guarded(&self) -> Config {
        self.config_full("delete_grace = \"0s\"", "")
    }

    /// A configuration with extra `[defaults]` and folder lines.
    pub fn config_full(&self, defaults_extra: &str, folder_extra: &str) -> Config {
        let text = self.config_text(&self.server.url(), &self.key, defaults_extra, folder_extra);
        config::parse(&text, self.dir.path()).expect("test config is valid")
    }

    /// The configuration file's text: this harness's folder, state file and event log, the
    /// given server and key, every interval long (so only events and requests explain what
    /// happens), and extra `[defaults]` and folder lines. Paths are literal strings, so a
    /// Windows path's backslashes stay as they are.
    pub fn config_text(
        &self,
        server_url: &str,
        key: &str,
        defaults_extra: &str,
        folder_extra: &str,
    ) -> String {
        format!(
            r#"
database_path = '{state}'
event_log = '{events}'
[defaults]
stable_after = "300ms"
upload_poll_interval = "1h"
reconcile_interval = "1h"
full_scan_interval = "1h"
{defaults_extra}
[[account]]
name = "alice"
server_url = "{url}"
api_key = "{key}"
[[account.folder]]
path = '{photos}'
{folder_extra}
"#,
            state = self.state_path().display(),
            events = self.event_log().display(),
            url = server_url,
            photos = self.photos.display(),
        )
    }

    pub fn config(&self) -> Config {
        self.config_with("")
    }

    /// One `--once` pass with the usual configuration, pointed at `server_url` instead.
    pub async fn once_against(&self, server_url: &str) -> sync_engine::OnceReport {
        let mut config = self.config();
        config.accounts[0].server_url = server_url.to_owned();
        once(&config).await
    }

    /// Writes a file below the photo folder, creating directories.
    pub fn write(&self, rel: &str, content: &[u8]) -> PathBuf {
        let path = self.photos.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(&path, content).expect("write");
        path
    }

    /// Live (not trashed) assets of the user.
    pub fn live_assets(&self) -> Vec<fake_immich::AssetSnapshot> {
        self.server
            .assets(&self.user_id)
            .into_iter()
            .filter(|a| !a.is_trashed)
            .collect()
    }

    /// The id of the user's asset named `name` (live or trashed).
    pub fn asset_id(&self, name: &str) -> String {
        self.server
            .assets(&self.user_id)
            .into_iter()
            .find(|a| a.original_file_name == name)
            .unwrap_or_else(|| panic!("{name} is in Immich"))
            .id
    }

    /// Events from the JSONL log.
    pub fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.event_log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("event log lines are JSON"))
            .collect()
    }

    /// Events of one kind.
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }
}

/// Runs blocking test code (a look into the state file, a write to it) on a thread of its own,
/// off the test's runtime: the engine's store refuses to block a runtime thread.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .expect("the work off the runtime ends")
    })
}

/// Distinct, JPEG-looking content number `n` (Immich only hashes bytes).
pub fn photo(n: u32) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(format!("photo number {n} ").repeat(50).as_bytes());
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// The OS trash of this test process (XDG_DATA_HOME points into a private temp dir, so tests
/// never touch the real trash of whoever runs them).
pub fn trash_dir() -> PathBuf {
    isolate_trash();
    PathBuf::from(std::env::var_os("XDG_DATA_HOME").expect("set")).join("Trash/files")
}

fn isolate_trash() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!("immich-sync-test-xdg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("xdg dir");
        // SAFETY: set once, before any engine thread of this process reads the environment;
        // every test calls this first.
        unsafe { std::env::set_var("XDG_DATA_HOME", &dir) };
    });
}

/// Waits until `f` holds, up to `limit`.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// Finds a file in the OS trash by name.
pub fn in_trash(name: &str) -> Option<PathBuf> {
    let path = trash_dir().join(name);
    path.exists().then_some(path)
}

pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// How long a test waits for something the engine does within a few seconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Whether the first account settles to idle (all queued work done) within [`PATIENCE`].
pub async fn goes_idle(engine: &sync_engine::EngineHandle) -> bool {
    eventually(PATIENCE, || {
        engine.status().accounts[0].state == sync_engine::status::AccountState::Idle
    })
    .await
}

/// One `--once` pass with `config`, as `immich-syncd --once` runs it.
pub async fn once(config: &Config) -> sync_engine::OnceReport {
    sync_engine::run_once(config.clone(), sync_engine::EngineOptions::default())
        .await
        .expect("the pass runs")
}
