//! Bad input: every case shows the exact words a user reads and proves nothing was lost.
//!
//! Each test builds one kind of trouble — a wrong address, a server that is not Immich, a
//! broken TLS setup, a rejected or weak key, a full quota, files that cannot or should not be
//! uploaded, files that change under the engine's feet, odd names, a damaged or locked state
//! file, a bad configuration value — and checks two things: the message (in the JSONL event
//! log, the `--once` report, the status snapshot, or `immich-syncd`'s stderr and exit status),
//! and that the photo folder and the server are exactly as they should be afterwards. The last
//! tests grep everything the engine writes for the API key.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::common::daemon::{config_file, once_cmd, run_daemon, syncd};
use crate::common::web::{NOT_FOUND_PAGE, closed_port, web_server};
use crate::common::{Harness, PATIENCE, eventually, goes_idle, photo};
use fake_immich::Profile;
use sha1::{Digest, Sha1};
use sync_engine::status::AccountState;
use sync_engine::{Engine, EngineOptions, run_once};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// One pass with the harness's own configuration.
async fn once(h: &Harness) -> sync_engine::OnceReport {
    crate::common::once(&h.config()).await
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

// ---------------------------------------------------------------------------------------------
// The server and the key
// ---------------------------------------------------------------------------------------------

mod config;
mod files;
mod keys;
mod secrets;
mod server;
mod state_file;
