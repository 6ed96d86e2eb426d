//! `immich-syncd` as a user runs it: the built binary, a configuration file for a harness, and
//! what a run printed and returned.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Harness;

pub fn syncd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immich-syncd"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// What `immich-syncd` printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub async fn run_daemon(mut cmd: Command) -> Run {
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
pub fn config_file(h: &Harness, server_url: &str, key: &str, extra: &str) -> PathBuf {
    let path = h.dir.path().join("config.toml");
    std::fs::write(&path, h.config_text(server_url, key, extra, ""))
        .expect("write the config file");
    path
}

pub fn once_cmd(config: &Path) -> Command {
    let mut cmd = syncd();
    cmd.arg("--config").arg(config).arg("--once");
    cmd
}
