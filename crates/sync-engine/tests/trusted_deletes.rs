//! Deletes at the seams real users cross: moving over from the older service with its state
//! file, photos deleted in Immich that must stay deleted, deletes made in Immich reaching a
//! running engine, a mass delete arriving in bursts, and undoing what the engine deleted.
//! Each story runs against the fake Immich server with a real folder and a real state file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::common::{Harness, PATIENCE, eventually, exists, in_trash, off_runtime, once, photo};
use fake_immich::Profile;
use fake_immich::older_service::{OlderRow, write_state_file};
use sync_engine::config::{self, Config};
use sync_engine::store::Store;
use sync_engine::{Engine, EngineOptions};
use time::OffsetDateTime;
const DAY: Duration = Duration::from_secs(86_400);

fn syncd(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_immich-syncd"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("immich-syncd runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_config(h: &Harness, config: &Config) -> PathBuf {
    let path = h.dir.path().join("config.toml");
    std::fs::write(&path, config::to_toml(config)).unwrap();
    path
}

/// A row of the older service's table as stored: user_id, asset_path, checksum, asset_id,
/// created_at.
type StoredRow = (String, String, Vec<u8>, Option<String>, Option<String>);

/// The older service's rows, as they are in its table.
fn older_rows(path: &Path) -> Vec<StoredRow> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT user_id, asset_path, checksum, asset_id, created_at FROM assets ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The older service's `config.toml`, as its users have it, pointing at its state file.
fn older_config(h: &Harness, key: &str, state: &Path) -> Config {
    let text = format!(
        r#"
database_path = "{state}"
event_log = "{events}"

[immich]
server_url = "{url}"
delete_threshold = 14
delete_max_age = 3650
delete_poll_interval = 3600
import_poll_interval = 3600
upload_poll_interval = 3600

[[user]]
user_id = "alice"
user_key = "{key}"
path = "{photos}"
"#,
        state = state.display(),
        events = h.event_log().display(),
        url = h.server.url(),
        photos = h.photos.display(),
    );
    let mut config = config::parse(&text, h.dir.path()).expect("the older config loads");
    // Judge deletes at once in these stories (the grace period has its own story).
    config.delete_guard.grace = Duration::ZERO;
    config.delete_guard.max_percent = 100;
    config
}

fn ago(d: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() - d
}

/// Moving over from the older service keeps every photo's age: two photos it uploaded two
/// years ago and that are deleted now stay in Immich (threshold 14 days), while one it
/// uploaded last week goes to the Immich trash, as the older service would have done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_over_from_the_older_service_keeps_each_photos_age() {
    let h = Harness::new(Profile::V3).await;
    let state = h.dir.path().join("older-state.db");
    let mut rows = Vec::new();
    for (n, name, age) in [
        (1, "2024/old-1.jpg", 730),
        (2, "2024/old-2.jpg", 731),
        (3, "2026/recent.jpg", 7),
        (4, "2024/kept.jpg", 730),
    ] {
        h.write(name, &photo(n));
        // The older service uploaded them; Immich shows them as added just now (its clock
        // cannot tell), so only the recorded age can protect them.
        let id = h.server.insert_asset(&h.user_id, name, &photo(n));
        rows.push(OlderRow {
            user_id: "alice".into(),
            asset_path: name.into(),
            content: photo(n),
            asset_id: Some(id),
            created_at: Some(ago(DAY * age)),
        });
    }
    write_state_file(&state, &rows).unwrap();
    let before = older_rows(&state);
    let config = older_config(&h, &h.key, &state);

    let first = once(&config).await;
    assert!(first.is_clean(), "{first:?}");
    assert_eq!(
        (first.uploaded, h.server.created_uploads()),
        (0, 0),
        "nothing is uploaded again"
    );
    assert!(
        h.events_of("queued").is_empty() && first.linked == 0,
        "nothing was hashed and queued again: {:?}",
        h.events_of("queued")
    );
    let bulk_checks = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/bulk-upload-check"))
        .count();
    assert!(bulk_checks <= 1, "only the remote check asks about content");

    for name in ["2024/old-1.jpg", "2024/old-2.jpg", "2026/recent.jpg"] {
        std::fs::remove_file(h.photos.join(name)).unwrap();
    }
    let second = once(&config).await;
    assert_eq!(second.trashed_in_immich, 1, "{second:?}");
    let live: Vec<String> = h
        .live_assets()
        .into_iter()
        .map(|a| a.original_file_name)
        .collect();
    assert!(
        live.contains(&"2024/old-1.jpg".to_owned()) && live.contains(&"2024/old-2.jpg".to_owned()),
        "the two-year-old photos stay in Immich: {live:?}"
    );
    assert!(!live.contains(&"2026/recent.jpg".to_owned()), "{live:?}");
    let kept = h.events_of("kept_in_immich");
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept.iter().all(|e| e["detail"]
            .as_str()
            .unwrap()
            .contains("older than the 14-day delete threshold")),
        "{kept:?}"
    );
    assert_eq!(
        older_rows(&state),
        before,
        "the older service's table is left untouched, so the user can go back"
    );
}

/// A state file whose photos belong to another Immich user is refused, with a clear message,
/// and nothing is uploaded or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_state_file_of_another_user_is_refused() {
    let h = Harness::new(Profile::V3).await;
    let bob = h.server.add_user("bob@example.com", "Bob");
    let state = h.dir.path().join("older-state.db");
    let mut rows = Vec::new();
    for n in 0..3 {
        let name = format!("bob-{n}.jpg");
        h.write(&name, &photo(n));
        let id = h.server.insert_asset(&bob, &name, &photo(n));
        rows.push((name, photo(n), id));
    }
    let rows: Vec<OlderRow> = rows
        .into_iter()
        .map(|(name, content, id)| OlderRow {
            user_id: "alice".into(),
            asset_path: name,
            content,
            asset_id: Some(id),
            created_at: Some(ago(DAY * 30)),
        })
        .collect();
    write_state_file(&state, &rows).unwrap();
    let config = older_config(&h, &h.key, &state);
    let report = once(&config).await;
    assert_eq!(
        h.server.created_uploads(),
        0,
        "nothing uploaded: {report:?}"
    );
    let errors = h.events_of("account_error");
    assert!(
        errors.iter().any(|e| {
            let d = e["detail"].as_str().unwrap();
            d.contains("none of the 3 checked belongs to Alice <alice@example.com>")
                && d.contains("nothing was imported, uploaded or deleted")
        }),
        "{errors:?}"
    );
    assert!(
        !report.is_clean(),
        "--once says the folder needs the user: {report:?}"
    );
}

/// `immich-syncd import-state --from OLD.db` imports a state file kept elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_state_takes_an_older_state_file_from_elsewhere() {
    let h = Harness::new(Profile::V3).await;
    let old = h.dir.path().join("elsewhere/old.db");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    h.write("a.jpg", &photo(1));
    let id = h.server.insert_asset(&h.user_id, "a.jpg", &photo(1));
    write_state_file(
        &old,
        &[OlderRow {
            user_id: "family".into(),
            asset_path: "a.jpg".into(),
            content: photo(1),
            asset_id: Some(id),
            created_at: Some(ago(DAY * 400)),
        }],
    )
    .unwrap();
    let config = write_config(&h, &h.config());
    let (code, _, err) = syncd(&config, &["import-state", "--from", old.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("records no photos of `alice`; it has photos of `family`"),
        "{err}"
    );
    let (code, out, err) = syncd(
        &config,
        &[
            "import-state",
            "--from",
            old.to_str().unwrap(),
            "--user",
            "family",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 photos already in Immich"), "{out}");
    std::fs::remove_file(h.photos.join("a.jpg")).unwrap();
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert_eq!(report.trashed_in_immich, 0, "400 days old: kept in Immich");
}

/// A photo trashed in Immich in a keep-local folder is kept here, and renaming or copying the
/// kept file does not bring it back: it is not restored from the Immich trash, and once purged
/// it is not uploaded again. "Upload again" does bring it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_deleted_in_immich_stays_deleted() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_with("delete_mode = \"keep-local\"");
    let path = h.write("beach.jpg", &photo(1));
    once(&config).await;
    let id = h.live_assets()[0].id.clone();
    h.server.trash_asset(&id);
    let report = once(&config).await;
    assert!(exists(&path), "keep-local: the file stays");
    assert_eq!(report.moved_to_trash, 0);

    std::fs::rename(&path, h.photos.join("beach-renamed.jpg")).unwrap();
    std::fs::copy(
        h.photos.join("beach-renamed.jpg"),
        h.photos.join("Copies/beach.jpg").tap_mkdir(),
    )
    .unwrap();
    let report = once(&config).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    let asset = h.server.assets(&h.user_id);
    assert!(
        asset.iter().all(|a| a.id != id || a.is_trashed),
        "not restored from the Immich trash: {asset:?}"
    );
    let skipped: Vec<String> = h
        .events_of("skipped")
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        skipped
            .iter()
            .any(|d| d.starts_with("deleted in Immich on ")),
        "{skipped:?}"
    );

    h.server.purge_asset(&id);
    std::fs::copy(
        h.photos.join("beach-renamed.jpg"),
        h.photos.join("beach-again.jpg"),
    )
    .unwrap();
    let report = once(&config).await;
    assert_eq!(
        (report.uploaded, h.server.created_uploads()),
        (0, 1),
        "purged content is not uploaded again: {report:?}"
    );

    let config_path = write_config(&h, &config);
    let (code, out, err) = syncd(&config_path, &["tombstones", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("deleted from Immich on"), "{out}");
    let id_of_stone = out.split_whitespace().next().unwrap().to_owned();
    let (code, out, err) = syncd(&config_path, &["tombstones", "forget", &id_of_stone]);
    assert_eq!(code, 0, "{out}{err}");
    let report = once(&config).await;
    assert_eq!(
        report.uploaded, 1,
        "upload again: one upload for the content, the copies linked: {report:?}"
    );
    assert_eq!(h.live_assets().len(), 1);
    let (_, out, _) = syncd(&config_path, &["tombstones", "list"]);
    assert!(out.contains("no photos are remembered"), "{out}");
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(self.parent().unwrap()).unwrap();
        self
    }
}

/// Content the user trashed in Immich before this engine ever saw it (a fresh state file, a
/// new folder) is not restored from the Immich trash either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_found_in_the_immich_trash_is_not_restored() {
    let h = Harness::new(Profile::V3).await;
    let id = h.server.insert_asset(&h.user_id, "old.jpg", &photo(5));
    h.server.trash_asset(&id);
    h.write("old.jpg", &photo(5));
    let report = once(&h.config()).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert!(h.live_assets().is_empty(), "still in the Immich trash");
    let restores = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/trash/restore"))
        .count();
    assert_eq!(restores, 0);
}

/// What this engine itself trashed after a local delete comes back when the file does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_back_on_disk_restores_what_the_engine_trashed() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config();
    h.write("keep.jpg", &photo(99));
    let path = h.write("oops.jpg", &photo(1));
    once(&config).await;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(once(&config).await.trashed_in_immich, 1);
    h.write("oops.jpg", &photo(1));
    once(&config).await;
    assert_eq!(h.live_assets().len(), 2, "restored from the Immich trash");
    assert_eq!(h.server.created_uploads(), 2, "not uploaded again");
}

/// A photo's age survives a rename and a state file rebuilt from scratch: the file's mtime
/// (60 days ago) and the asset's creation in Immich (two years ago) count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photos_age_survives_renames_and_a_new_state_file() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config();
    h.write("keep.jpg", &photo(99));
    // An emptied folder pauses deletes (is the drive mounted?): one photo always stays.
    h.write("stays.jpg", &photo(98));
    let path = h.write("a.jpg", &photo(1));
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(SystemTime::now() - DAY * 60)
        .unwrap();
    once(&config).await;
    // A rename: the copy under the new name has a new birth time, but the same content.
    std::fs::copy(&path, h.photos.join("renamed.jpg")).unwrap();
    std::fs::remove_file(&path).unwrap();
    once(&config).await;
    std::fs::remove_file(h.photos.join("renamed.jpg")).unwrap();
    let report = once(&config).await;
    assert_eq!(
        report.trashed_in_immich, 0,
        "60 days old: kept ({report:?})"
    );
    assert_eq!(h.live_assets().len(), 3);

    // A new state file over a library uploaded two years ago (by this engine, the CLI, ...).
    let id = h.asset_id("keep.jpg");
    h.server.set_created_at(&id, ago(DAY * 730));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", h.state_path().display()));
    }
    let report = once(&config).await;
    assert_eq!((report.uploaded, report.linked), (0, 2), "{report:?}");
    std::fs::remove_file(h.photos.join("keep.jpg")).unwrap();
    let report = once(&config).await;
    assert_eq!(
        report.trashed_in_immich, 0,
        "in Immich for two years: kept ({report:?})"
    );
    let kept = h.events_of("kept_in_immich");
    assert!(
        kept.last().unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("added 730 days ago"),
        "{:#?}",
        h.events()
    );
}

/// A photo trashed in Immich reaches a running engine's mirror folder through the trash feed
/// (one small request per interval), and "Sync now" looks at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trash_in_immich_reaches_a_running_engine() {
    let h = Harness::new(Profile::V3).await;
    let mut config = h.config();
    config.intervals.remote_check = Duration::from_secs(1);
    h.write("keep.jpg", &photo(99));
    let path = h.write("gone.jpg", &photo(1));
    let engine = Engine::start(config, EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.live_assets().len() == 2).await);
    // Idle: nothing but the trash feed, and the state file is left alone (a NAS's disks may
    // sleep): the feed keeps its position in memory and saves it now and then.
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.server.clear_requests();
    let state_file = || {
        ["", "-wal"].map(|suffix| {
            let path = format!("{}{suffix}", h.state_path().display());
            std::fs::metadata(&path)
                .map(|m| (m.len(), m.modified().ok()))
                .ok()
        })
    };
    let before = state_file();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let idle = h.server.requests();
    assert!(idle.len() >= 2, "the feed polls: {idle:?}");
    assert!(
        idle.iter()
            .all(|r| r.method == "POST" && r.path.ends_with("/search/metadata")),
        "{:?}",
        idle.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(
        state_file(),
        before,
        "nothing is written while nothing happens"
    );
    let id = h.asset_id("gone.jpg");
    h.server.trash_asset(&id);
    assert!(
        eventually(PATIENCE, || !exists(&path)).await,
        "moved out of the folder"
    );
    assert!(in_trash("gone.jpg").is_some(), "into the OS trash");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        h.events_of("local_file_gone").is_empty(),
        "the engine's own move is not mistaken for a delete here: {:?}",
        h.events_of("local_file_gone")
    );
    engine.shutdown().await;

    // "Sync now" with the default feed interval (30 s) looks at once.
    let h2 = Harness::new(Profile::V3).await;
    let path = h2.write("now.jpg", &photo(2));
    let engine = Engine::start(h2.config(), EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h2.live_assets().len() == 1).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    h2.server.trash_asset(&h2.live_assets()[0].id);
    engine.sync_now();
    assert!(
        eventually(Duration::from_secs(10), || !exists(&path)).await,
        "sync now found the trash"
    );
    engine.shutdown().await;
}

/// One `rm` of 15 files that reaches the engine in bursts is judged as one batch: all 15 are
/// held, none leaks to the Immich trash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mass_delete_arriving_in_bursts_is_held_whole() {
    let h = Harness::new(Profile::V3).await;
    let mut config = h.config_guarded();
    config.delete_guard.grace = Duration::from_secs(2);
    let files: Vec<PathBuf> = (0..40)
        .map(|i| h.write(&format!("p{i:02}.jpg"), &photo(100 + i)))
        .collect();
    let engine = Engine::start(config, EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.live_assets().len() == 40).await);
    std::fs::remove_file(&files[0]).unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for f in &files[1..8] {
        std::fs::remove_file(f).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for f in &files[8..15] {
        std::fs::remove_file(f).unwrap();
    }
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].folders[0]
            .held_deletes
            == 15)
        .await,
        "{:?}",
        engine.status()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        h.live_assets().len(),
        40,
        "nothing leaked to the Immich trash"
    );
    engine.shutdown().await;
}

/// Every delete the engine made is journaled and can be undone: a file it moved to the OS
/// trash comes back (and stays known as deleted in Immich), an asset it moved to the Immich
/// trash comes out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_puts_back_what_the_engine_deleted() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config();
    let config_path = write_config(&h, &config);
    h.write("keep.jpg", &photo(99));
    let here = h.write("deleted-in-immich.jpg", &photo(1));
    let there = h.write("deleted-here.jpg", &photo(2));
    once(&config).await;
    let remote_id = h.asset_id("deleted-in-immich.jpg");
    h.server.trash_asset(&remote_id);
    std::fs::remove_file(&there).unwrap();
    let report = once(&config).await;
    assert_eq!(
        (report.moved_to_trash, report.trashed_in_immich),
        (1, 1),
        "{report:?}"
    );
    assert!(!exists(&here));

    let (code, out, err) = syncd(&config_path, &["journal"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (code, out, err) = syncd(&config_path, &["undo", "--since", "1h"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().filter(|l| l.contains("undone:")).count(),
        2,
        "{out}"
    );
    assert!(exists(&here), "the file is back from the OS trash");
    assert_eq!(std::fs::read(&here).unwrap(), photo(1));
    assert!(
        h.live_assets()
            .iter()
            .any(|a| a.original_file_name == "deleted-here.jpg"),
        "the asset is back from the Immich trash"
    );
    let report = once(&config).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert!(
        h.server
            .assets(&h.user_id)
            .iter()
            .any(|a| a.id == remote_id && a.is_trashed),
        "undo reverted the engine's delete, not the user's: still trashed in Immich"
    );
    let (code, _, err) = syncd(&config_path, &["undo", "--since", "1h"]);
    assert_eq!(code, 0, "nothing left to undo: {err}");
}

/// A photo the user restores in Immich is no longer remembered as deleted, and in a mirror
/// folder the file comes back from the OS trash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_restored_in_immich_comes_back() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config();
    h.write("keep.jpg", &photo(99));
    let path = h.write("restore-me.jpg", &photo(7));
    once(&config).await;
    let id = h.asset_id("restore-me.jpg");
    h.server.trash_asset(&id);
    assert_eq!(once(&config).await.moved_to_trash, 1);
    assert!(!exists(&path));
    h.server.restore_asset(&id);
    once(&config).await;
    assert!(exists(&path), "back from the OS trash");
    let undone = h.events_of("undone");
    assert_eq!(undone.len(), 1, "{undone:?}");
    let state = h.state_path();
    let stones = off_runtime(move || {
        Store::open(&state)
            .unwrap()
            .with(|db| db.tombstones(None))
            .unwrap()
    });
    assert!(stones.is_empty(), "{stones:?}");
    let report = once(&config).await;
    assert_eq!(report.uploaded, 0, "{report:?}");
    assert_eq!(h.live_assets().len(), 2);
}

/// The requests of the delete paths (the trash feed, a changed file's copy, the age lookup,
/// restores) are valid against Immich's OpenAPI document, on both server generations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delete_paths_speak_the_openapi_contract() {
    for profile in [Profile::V3, Profile::V2] {
        let mut h = Harness::new(profile).await;
        let mut permissions = crate::common::ALL_PERMISSIONS.to_vec();
        permissions.push("asset.copy");
        h.key = h.server.add_api_key(&h.user_id, &permissions);
        let mut config = h.config();
        config.intervals.remote_check = Duration::from_millis(300);
        h.write("keep.jpg", &photo(99));
        let changed = h.write("changed.jpg", &photo(1));
        let deleted = h.write("deleted.jpg", &photo(2));
        let trashed = h.write("trashed.jpg", &photo(3));
        once(&config).await;
        std::fs::write(&changed, photo(4)).unwrap();
        std::fs::remove_file(&deleted).unwrap();
        once(&config).await;
        h.write("deleted.jpg", &photo(2));
        let engine = Engine::start(config, EngineOptions::default())
            .await
            .unwrap();
        // After the start's full check, only the trash feed can find the next trash.
        assert!(
            eventually(PATIENCE, || h
                .server
                .requests()
                .iter()
                .any(|r| r.path == "/api/search/metadata"))
            .await
        );
        let id = h.asset_id("trashed.jpg");
        h.server.trash_asset(&id);
        assert!(
            eventually(PATIENCE, || !exists(&trashed)).await,
            "{profile:?}"
        );
        engine.shutdown().await;
        let spec = fake_immich::openapi::Spec::bundled();
        let mut seen = std::collections::BTreeSet::new();
        for request in h.server.requests() {
            if let Err(problems) = spec.validate(&request) {
                panic!(
                    "{} {} is not valid: {problems:?}",
                    request.method, request.path
                );
            }
            let path = if request.path.starts_with("/api/assets/") && request.method == "GET" {
                "/api/assets/{id}".to_owned()
            } else {
                request.path.clone()
            };
            seen.insert(format!("{} {path}", request.method));
        }
        for expected in [
            "PUT /api/assets/copy",
            "POST /api/search/metadata",
            "POST /api/trash/restore/assets",
            "GET /api/assets/{id}",
            "DELETE /api/assets",
        ] {
            assert!(
                seen.contains(expected),
                "{profile:?}: {expected} in {seen:?}"
            );
        }
    }
}

/// Before a policy change is saved, the engine says what it would do now with the local
/// deletes waiting in the folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_says_what_it_would_do_before_it_is_saved() {
    let h = Harness::new(Profile::V3).await;
    let mut config = h.config();
    // Deletes wait an hour for their batch: they stay waiting while the user edits settings.
    config.delete_guard.grace = Duration::from_secs(3600);
    h.write("keep.jpg", &photo(99));
    let files: Vec<PathBuf> = (0..3)
        .map(|i| h.write(&format!("d{i}.jpg"), &photo(i)))
        .collect();
    let engine = Engine::start(config, EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.live_assets().len() == 4).await);
    for f in &files {
        std::fs::remove_file(f).unwrap();
    }
    assert!(
        eventually(PATIENCE, || engine.status().accounts[0].folders[0]
            .counts
            .missing
            == 3)
        .await
    );
    let policy = |mode, threshold_days| sync_engine::config::DeletePolicy {
        mode,
        threshold_days,
        max_age_days: 3650.0,
    };
    use sync_engine::config::DeleteMode;
    let preview = engine
        .delete_preview("alice", &h.photos, policy(DeleteMode::Mirror, 30.0))
        .await
        .unwrap();
    assert_eq!(
        preview.sentence.as_deref(),
        Some("3 local deletes waiting would go to the Immich trash")
    );
    let preview = engine
        .delete_preview("alice", &h.photos, policy(DeleteMode::UploadOnly, 30.0))
        .await
        .unwrap();
    assert_eq!(
        preview.sentence.as_deref(),
        Some("3 local deletes waiting would stay in Immich")
    );
    let other = h.dir.path().join("elsewhere");
    let preview = engine
        .delete_preview("alice", &other, policy(DeleteMode::Mirror, 30.0))
        .await
        .unwrap();
    assert_eq!(preview.sentence, None, "a folder with nothing waiting");
    assert_eq!(h.live_assets().len(), 4, "a preview deletes nothing");
    engine.shutdown().await;
}

/// A trash found by the trash feed counts from when it happened in Immich (the asset's
/// `updatedAt`, on this computer's clock), not from the poll that saw it: the guard's batch
/// closes `delete_grace` after the trash itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trash_counts_from_when_it_happened_in_immich() {
    let h = Harness::new(Profile::V3).await;
    let mut config = h.config();
    config.intervals.remote_check = Duration::from_secs(3);
    config.delete_guard.grace = Duration::from_secs(3600);
    h.write("keep.jpg", &photo(99));
    h.write("trashed.jpg", &photo(1));
    let engine = Engine::start(config, EngineOptions::default())
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || h.live_assets().len() == 2).await);
    let polls = || {
        h.server
            .requests()
            .iter()
            .filter(|r| r.path == "/api/search/metadata")
            .count()
    };
    // Right after a poll, so that the next one sees the trash about 3 s after it happened.
    assert!(eventually(PATIENCE, || polls() >= 1).await);
    let seen = polls();
    assert!(eventually(PATIENCE, || polls() > seen).await);
    let id = h.asset_id("trashed.jpg");
    let trashed_at = sync_engine::account::now_ms();
    h.server.trash_asset(&id);
    let state = h.state_path();
    let gone_at = || {
        let state = state.clone();
        off_runtime(move || {
            Store::open(&state)
                .unwrap()
                .with(|db| db.remote_gone_files("alice"))
                .unwrap()
                .first()
                .and_then(|f| f.remote_gone.map(|(at, _)| at))
        })
    };
    assert!(eventually(PATIENCE, || gone_at().is_some()).await);
    let found_at = sync_engine::account::now_ms();
    let at = gone_at().unwrap();
    assert!(
        (trashed_at - 1000..=trashed_at + 1000).contains(&at),
        "recorded {} ms after the trash, found {} ms after it",
        at - trashed_at,
        found_at - trashed_at
    );
    engine.shutdown().await;
}

/// Once the engine has put back an asset it had trashed (the file came back), a later trash of
/// that asset in Immich is the user's: it stays, and in a mirror folder the file follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engines_old_trash_does_not_undo_a_later_delete_in_immich() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config();
    h.write("keep.jpg", &photo(99));
    let path = h.write("back-and-forth.jpg", &photo(1));
    once(&config).await;
    let id = h.asset_id("back-and-forth.jpg");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(once(&config).await.trashed_in_immich, 1, "deleted here");
    h.write("back-and-forth.jpg", &photo(1));
    once(&config).await;
    assert!(
        h.live_assets().iter().any(|a| a.id == id),
        "the file came back: the engine restored its own trash"
    );
    h.server.trash_asset(&id);
    let report = once(&config).await;
    assert!(
        h.server
            .assets(&h.user_id)
            .iter()
            .any(|a| a.id == id && a.is_trashed),
        "the user's trash stays: {report:?}"
    );
    assert!(!exists(&path), "a mirror folder follows the user's delete");
}
