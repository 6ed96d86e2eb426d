//! The mass-delete guard: many deletes at once are held until the user decides, in both
//! directions, and the daemon's `deletions` command is how a NAS owner decides.

use std::process::Command;
use std::time::Duration;

use crate::common::{Harness, exists, in_trash, once, photo};
use fake_immich::Profile;
use sync_engine::config::Config;

/// `immich-syncd --config <file> deletions <args>` with `config` written to a file.
fn deletions(h: &Harness, config: &Config, args: &[&str]) -> String {
    let path = h.dir.path().join("guard.toml");
    std::fs::write(&path, sync_engine::config::to_toml(config)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_immich-syncd"))
        .arg("--config")
        .arg(&path)
        .arg("deletions")
        .args(args)
        .output()
        .expect("immich-syncd runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn library(h: &Harness, prefix: &str, n: u32) -> Vec<std::path::PathBuf> {
    (0..n)
        .map(|i| h.write(&format!("{prefix}{i:02}.jpg"), &photo(1000 + i)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_local_deletes_wait_for_approval() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_guarded();
    let files = library(&h, "local-approve-", 20);
    once(&config).await;
    for f in &files[..12] {
        std::fs::remove_file(f).unwrap();
    }
    let report = once(&config).await;
    assert_eq!(
        (report.trashed_in_immich, report.held_deletes),
        (0, 12),
        "{report:?}"
    );
    assert!(
        !report.is_clean(),
        "held deletes make --once report that something needs the user"
    );
    assert_eq!(h.live_assets().len(), 20, "nothing was deleted in Immich");
    let held = h.events_of("deletes_held");
    assert_eq!(held.len(), 1);
    assert!(
        held[0]["detail"]
            .as_str()
            .unwrap()
            .contains("deletions list"),
        "{held:?}"
    );

    let listed = deletions(&h, &config, &["list"]);
    assert_eq!(listed.lines().count(), 12, "{listed}");
    assert!(
        listed.contains("local-approve-00.jpg") && listed.contains("Immich trash"),
        "{listed}"
    );
    // Asking again does not hold them twice or forget them.
    assert_eq!(
        once(&config).await.held_deletes,
        0,
        "already held: waiting, not re-held"
    );
    assert_eq!(h.live_assets().len(), 20);

    assert!(deletions(&h, &config, &["approve", "--all"]).contains("approved 12"));
    let report = once(&config).await;
    assert_eq!(report.trashed_in_immich, 12, "{report:?}");
    assert_eq!(h.live_assets().len(), 8);
    assert!(deletions(&h, &config, &["list"]).contains("no deletes are waiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_local_deletes_keep_the_photos_in_immich() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_guarded();
    let files = library(&h, "local-reject-", 16);
    once(&config).await;
    for f in &files[..11] {
        std::fs::remove_file(f).unwrap();
    }
    assert_eq!(once(&config).await.held_deletes, 11);
    assert!(deletions(&h, &config, &["reject", "--all"]).contains("rejected 11"));
    let report = once(&config).await;
    assert_eq!(report.trashed_in_immich, 0);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.live_assets().len(), 16, "every photo stays in Immich");
    assert!(h.server.requests().iter().all(|r| r.method != "DELETE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_of_a_small_folder_is_already_a_mass_delete() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_guarded();
    let files = library(&h, "small-", 8);
    once(&config).await;
    for f in &files[..3] {
        std::fs::remove_file(f).unwrap();
    }
    let report = once(&config).await;
    assert_eq!(
        (report.trashed_in_immich, report.held_deletes),
        (0, 3),
        "3 of 8 is over 25 %"
    );
    // One more file in a fresh folder of 8 is fine.
    let h = Harness::new(Profile::V3).await;
    let config = h.config_guarded();
    let files = library(&h, "small-ok-", 8);
    once(&config).await;
    std::fs::remove_file(&files[0]).unwrap();
    assert_eq!(
        once(&config).await.trashed_in_immich,
        1,
        "1 of 8 goes through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_remote_deletes_wait_before_touching_local_files() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_guarded();
    let files = library(&h, "remote-guard-", 20);
    once(&config).await;
    for asset in h.live_assets().into_iter().take(12) {
        h.server.trash_asset(&asset.id);
    }
    let report = once(&config).await;
    assert_eq!(
        (report.moved_to_trash, report.held_deletes),
        (0, 12),
        "{report:?}"
    );
    assert!(files.iter().all(|f| exists(f)), "no local file was touched");
    let listed = deletions(&h, &config, &["list"]);
    assert!(listed.contains("this computer's trash"), "{listed}");
    let first_id = listed.split_whitespace().next().unwrap().to_owned();
    assert!(deletions(&h, &config, &["reject", &first_id]).contains("rejected 1"));
    assert!(deletions(&h, &config, &["approve", "--all"]).contains("approved 11"));
    let report = once(&config).await;
    assert_eq!(report.moved_to_trash, 11, "{report:?}");
    assert_eq!(
        files.iter().filter(|f| exists(f)).count(),
        9,
        "8 untouched + 1 kept by choice"
    );
    let moved = files
        .iter()
        .filter(|f| !exists(f))
        .filter_map(|f| in_trash(&f.file_name().unwrap().to_string_lossy()))
        .count();
    assert_eq!(moved, 11, "every removed file is in the OS trash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_deletes_wait_out_the_grace_period() {
    let h = Harness::new(Profile::V3).await;
    let config = h.config_full("delete_grace = \"2s\"", "");
    let files = library(&h, "grace-", 10);
    once(&config).await;
    std::fs::remove_file(&files[0]).unwrap();
    let report = once(&config).await;
    assert_eq!(
        report.trashed_in_immich, 0,
        "a fresh delete is not sent at once"
    );
    assert_eq!(h.live_assets().len(), 10);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        once(&config).await.trashed_in_immich,
        1,
        "after the grace period it is"
    );
}
