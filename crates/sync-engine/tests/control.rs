//! Controlling a running daemon from the command line: `status`, `pause`, `resume`,
//! `sync-now`, `reload` (and SIGHUP), `deletions` — over the private socket beside the state
//! file, or the owner-only named pipe on Windows — and what the same commands do when nothing is
//! running.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::common::daemon::{Run, run_daemon, syncd};
use crate::common::{Harness, PATIENCE, eventually, off_runtime, photo};
use fake_immich::Profile;

/// `immich-syncd --config FILE` running in the background; stopped (SIGTERM) when dropped.
struct Daemon {
    child: Child,
    #[cfg_attr(not(unix), allow(dead_code))]
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, &[])
    }

    fn start_with(config: &Path, env: &[(&str, &Path)]) -> Daemon {
        let log = config.with_file_name("daemon.log");
        let mut cmd = syncd();
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd
            .arg("--config")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("immich-syncd starts");
        Daemon { child, log }
    }

    /// What the daemon logged so far.
    #[cfg_attr(not(unix), allow(dead_code))]
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ends the daemon the hard way (a crash, a power cut): nothing is cleaned up.
    fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    #[cfg(unix)]
    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "signal {name} delivered");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        #[cfg(unix)]
        self.signal("TERM");
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `immich-syncd --config FILE ARGS...`.
async fn ctl(config: &Path, args: &[&str]) -> Run {
    ctl_with(config, &[], args).await
}

/// The same with extra environment variables.
async fn ctl_with(config: &Path, env: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut cmd = syncd();
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.arg("--config").arg(config).args(args);
    run_daemon(cmd).await
}

/// `status --json`, once the daemon answers.
#[cfg_attr(not(unix), allow(dead_code))]
async fn status_json(config: &Path) -> serde_json::Value {
    let run = ctl(config, &["status", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    serde_json::from_str(&run.stdout).expect("status --json prints JSON")
}

/// Waits until `status --json` satisfies `f`.
async fn until_status(config: &Path, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    until_status_with(config, &[], f).await
}

/// The same with extra environment variables.
async fn until_status_with(
    config: &Path,
    env: &[(&str, &Path)],
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let run = ctl_with(config, env, &["status", "--json"]).await;
        if run.code == 0 {
            let status: serde_json::Value =
                serde_json::from_str(&run.stdout).expect("status --json prints JSON");
            if f(&status) || std::time::Instant::now() > deadline {
                return status;
            }
        } else if std::time::Instant::now() > deadline {
            panic!("the daemon never answered: {}", run.all());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn config_file(h: &Harness, defaults_extra: &str) -> PathBuf {
    let path = h.dir.path().join("config.toml");
    std::fs::write(
        &path,
        h.config_text(&h.server.url(), &h.key, defaults_extra, ""),
    )
    .expect("write the config file");
    path
}

fn idle(status: &serde_json::Value) -> bool {
    status["state"] == "idle"
}

/// A folder with one photo, a daemon running on it, and that photo synced.
async fn one_photo_synced() -> (Harness, PathBuf, Daemon) {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = config_file(&h, "");
    let daemon = Daemon::start(&config);
    until_status(&config, idle).await;
    (h, config, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_pause_resume_and_sync_now_reach_the_running_daemon() {
    let (h, config, _daemon) = one_photo_synced().await;

    let status = until_status(&config, idle).await;
    assert_eq!(status["line"], "Up to date · 1 photo", "{status:#}");
    assert_eq!(status["accounts"][0]["name"], "alice");
    assert_eq!(status["accounts"][0]["folders"][0]["counts"]["synced"], 1);
    let text = ctl(&config, &["status"]).await;
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout
            .starts_with("Up to date · 1 photo\nalice: Up to date · 1 photo\n"),
        "{}",
        text.all()
    );

    // The socket beside the state file is the user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let socket = h.state_path().with_file_name("state.db.sock");
        let mode = std::fs::metadata(&socket)
            .expect("the socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the user can open the socket");
    }

    let paused = ctl(&config, &["pause", "alice"]).await;
    assert_eq!(paused.code, 0, "{}", paused.all());
    let status = until_status(&config, |s| s["state"] == "paused").await;
    assert_eq!(status["line"], "Paused", "{status:#}");
    h.write("b.jpg", &photo(2));
    let asked = ctl(&config, &["sync-now"]).await;
    assert_eq!(asked.code, 0, "{}", asked.all());
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        h.server.created_uploads(),
        1,
        "nothing is uploaded while paused"
    );

    let resumed = ctl(&config, &["resume"]).await;
    assert_eq!(resumed.code, 0, "{}", resumed.all());
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() == 2).await,
        "the new photo is uploaded after resume"
    );

    let unknown = ctl(&config, &["pause", "nobody"]).await;
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown
            .stderr
            .contains("there is no account named `nobody` (accounts: alice)"),
        "{}",
        unknown.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_running_the_state_file_commands_still_work_and_the_others_say_so() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let config = config_file(&h, "");
    let once = ctl(&config, &["--once"]).await;
    assert_eq!(once.code, 0, "{}", once.all());

    for command in [
        &["status"][..],
        &["pause"],
        &["resume"],
        &["sync-now"],
        &["reload"],
    ] {
        let run = ctl(&config, command).await;
        assert_eq!(run.code, 6, "{command:?}: {}", run.all());
        assert!(
            run.stderr.contains("nothing is running on the state file"),
            "{command:?}: {}",
            run.all()
        );
    }
    let stones = ctl(&config, &["tombstones", "list"]).await;
    assert_eq!(stones.code, 0, "{}", stones.all());
    assert_eq!(
        stones.stdout,
        "no photos are remembered as deleted in Immich\n"
    );
    let journal = ctl(&config, &["journal", "--json"]).await;
    assert_eq!(journal.code, 0, "{}", journal.all());
    assert_eq!(journal.stdout.trim(), "[]");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_and_reload_apply_a_changed_config_and_refuse_a_broken_one() {
    let (h, config, daemon) = one_photo_synced().await;

    // A second folder, added to the file and applied with SIGHUP.
    let more = h.dir.path().join("More");
    std::fs::create_dir_all(&more).expect("second folder");
    std::fs::write(more.join("c.jpg"), photo(3)).expect("photo in the second folder");
    let text = std::fs::read_to_string(&config).expect("config text");
    std::fs::write(
        &config,
        format!("{text}[[account.folder]]\npath = \"{}\"\n", more.display()),
    )
    .expect("rewrite the config");
    daemon.signal("HUP");
    let status = until_status(&config, |s| {
        s["accounts"][0]["folders"].as_array().map(Vec::len) == Some(2) && idle(s)
    })
    .await;
    assert_eq!(
        status["accounts"][0]["folders"].as_array().map(Vec::len),
        Some(2),
        "{status:#}"
    );
    assert!(
        eventually(PATIENCE, || h.server.created_uploads() == 2).await,
        "the new folder's photo is uploaded"
    );

    // A broken file is refused with its problems, and the running configuration is kept.
    std::fs::write(
        &config,
        text.replace(
            "upload_poll_interval = \"1h\"",
            "upload_poll_interval = \"soon\"",
        ),
    )
    .expect("break the config");
    let refused = ctl(&config, &["reload"]).await;
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.stderr.contains("upload_poll_interval")
            && refused
                .stderr
                .contains("not applied: the running engine keeps its configuration"),
        "{}",
        refused.all()
    );
    daemon.signal("HUP");
    assert!(
        eventually(PATIENCE, || daemon
            .log()
            .contains("was not applied; the running configuration is kept"))
        .await,
        "the daemon says why it refused: {}",
        daemon.log()
    );
    assert!(
        daemon.log().contains("upload_poll_interval"),
        "{}",
        daemon.log()
    );
    // Fixed again, minus the second folder: `reload` applies it.
    std::fs::write(&config, &text).expect("fix the config");
    let status = status_json(&config).await;
    assert_eq!(
        status["accounts"][0]["folders"].as_array().map(Vec::len),
        Some(2),
        "a broken file changed nothing: {status:#}"
    );
    let applied = ctl(&config, &["reload"]).await;
    assert_eq!(applied.code, 0, "{}", applied.all());
    assert!(
        applied.stdout.contains("1 account(s), 1 folder(s)"),
        "{}",
        applied.all()
    );
    let status = status_json(&config).await;
    assert_eq!(
        status["accounts"][0]["folders"].as_array().map(Vec::len),
        Some(1),
        "{status:#}"
    );
}

/// A daemon over twelve synced photos, eleven of them then deleted and held by the guard
/// (`delete_grace` 0 s, and `defaults_extra`).
async fn eleven_deletes_held(h: &Harness, defaults_extra: &str) -> (PathBuf, Daemon) {
    for n in 0..12 {
        h.write(&format!("p{n}.jpg"), &photo(n));
    }
    let config = config_file(h, &format!("delete_grace = \"0s\"\n{defaults_extra}"));
    let daemon = Daemon::start(&config);
    until_status(&config, |s| {
        idle(s) && s["accounts"][0]["folders"][0]["counts"]["synced"] == 12
    })
    .await;
    for n in 0..11 {
        std::fs::remove_file(h.photos.join(format!("p{n}.jpg"))).expect("delete a photo");
    }
    let status = until_status(&config, |s| {
        s["accounts"][0]["folders"][0]["held_deletes"] == 11
    })
    .await;
    assert_eq!(
        status["accounts"][0]["folders"][0]["held_deletes"], 11,
        "{status:#}"
    );
    (config, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_deletes_approved_from_the_command_line_are_carried_out_at_once() {
    let h = Harness::new(Profile::V3).await;
    let (config, _daemon) = eleven_deletes_held(&h, "").await;
    let list = ctl(&config, &["deletions", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.all());
    assert_eq!(list.stdout.lines().count(), 11, "{}", list.all());
    assert!(
        list.stdout.contains("would go to the Immich trash"),
        "{}",
        list.all()
    );

    let approved = ctl(&config, &["deletions", "approve", "--all"]).await;
    assert_eq!(approved.code, 0, "{}", approved.all());
    assert!(
        approved
            .stdout
            .contains("approved 11 held delete(s): carried out now"),
        "{}",
        approved.all()
    );
    let trashed = || h.live_assets().len() == 1;
    assert!(
        eventually(PATIENCE, trashed).await,
        "the approved deletes reach the Immich trash without waiting for a poll"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_written_into_the_state_file_by_another_program_is_carried_out() {
    let h = Harness::new(Profile::V3).await;
    // No trash feed in the meantime: only the look for decisions can find this one.
    let (_config, _daemon) = eleven_deletes_held(&h, "remote_check_interval = \"1h\"").await;
    // A look with nothing written since the pass (15 s) judges nothing and changes nothing.
    tokio::time::sleep(std::time::Duration::from_secs(18)).await;
    assert_eq!(h.live_assets().len(), 12, "held: nothing deleted yet");

    // Another program (an older `immich-syncd`, a script) approves them in the file itself,
    // without the socket: the daemon is not told, and finds the decision at its next look.
    let state = h.state_path();
    off_runtime(move || {
        sync_engine::store::Store::open(&state)
            .expect("the state file opens beside the daemon")
            .with(|db| db.decide(None, sync_engine::store::Decision::Approved))
            .expect("the decision is written")
    });
    let trashed = || h.live_assets().len() == 1;
    assert!(
        eventually(std::time::Duration::from_secs(40), trashed).await,
        "the approved deletes reach the Immich trash at the daemon's next look"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_left_by_a_daemon_that_died_is_taken_over_by_the_next() {
    #[cfg_attr(not(unix), allow(unused_variables))]
    let (h, config, first) = one_photo_synced().await;
    first.kill_hard();
    // A Unix socket file outlives its process; a Windows pipe does not.
    #[cfg(unix)]
    {
        let socket = h.state_path().with_file_name("state.db.sock");
        assert!(socket.exists(), "a killed daemon leaves its socket behind");
    }

    let after = ctl(&config, &["status"]).await;
    assert_eq!(after.code, 6, "{}", after.all());
    assert!(
        after
            .stderr
            .contains("nothing is running on the state file"),
        "{}",
        after.all()
    );

    let _second = Daemon::start(&config);
    let status = until_status(&config, idle).await;
    assert_eq!(status["line"], "Up to date · 1 photo", "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_from_the_command_line_survives_a_reload() {
    let (h, config, _daemon) = one_photo_synced().await;
    assert_eq!(ctl(&config, &["pause"]).await.code, 0);
    let reloaded = ctl(&config, &["reload"]).await;
    assert_eq!(reloaded.code, 0, "{}", reloaded.all());
    let status = until_status(&config, |s| s["state"] == "paused").await;
    assert_eq!(
        status["state"], "paused",
        "a reload does not resume: {status:#}"
    );
    h.write("b.jpg", &photo(2));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        h.server.created_uploads(),
        1,
        "still paused after the reload"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_too_deep_for_a_socket_beside_it_is_served_from_a_private_folder() {
    let h = Harness::new(Profile::V3).await;
    h.write("a.jpg", &photo(1));
    let deep = h
        .dir
        .path()
        .join("a-folder-name-long-enough-to-push-the-socket-path-past-one-hundred-bytes");
    let text = std::fs::read_to_string(config_file(&h, ""))
        .expect("config text")
        .replace(
            &h.state_path().display().to_string(),
            &deep.join("state.db").display().to_string(),
        );
    let config = h.dir.path().join("deep.toml");
    std::fs::write(&config, text).expect("write the config");
    let runtime = h.dir.path().join("run");
    std::fs::create_dir_all(&runtime).expect("runtime folder");
    let _daemon = Daemon::start_with(&config, &[("XDG_RUNTIME_DIR", &runtime)]);

    let env = [("XDG_RUNTIME_DIR", runtime.as_path())];
    let status = until_status_with(&config, &env, idle).await;
    assert_eq!(status["line"], "Up to date · 1 photo", "{status:#}");
    let run = ctl_with(&config, &env, &["status"]).await;
    assert!(
        run.stdout.starts_with("Up to date · 1 photo"),
        "{}",
        run.all()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let folder = runtime.join("immich-sync");
        let mode = std::fs::metadata(&folder)
            .expect("the private folder")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "only the user can enter the sockets' folder"
        );
        let sockets: Vec<_> = std::fs::read_dir(&folder)
            .expect("list")
            .flatten()
            .collect();
        assert_eq!(sockets.len(), 1, "one socket, named after the state file");
    }
}
