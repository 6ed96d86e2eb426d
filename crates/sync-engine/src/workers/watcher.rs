//! The watcher: OS file events, debounced until each file is stable, then hashed and queued.
//!
//! The notify callback runs on notify's thread and only does a `try_send` into a bounded
//! channel. When the channel is full, or the OS reports that its own queue overflowed, no event
//! is dropped silently: the scanner is asked for a full walk instead. Paths then wait in a
//! pending map until their size and mtime have not changed for `stable_after`, so a photo that
//! is still being copied is never uploaded half-written. A path that no longer exists is a
//! delete (this covers Syncthing renaming deleted files to `.trashed-*`); a directory that
//! appears is walked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::{EventKind as NotifyKind, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::account::{Account, Folder};
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::local::{self, Found};
use crate::status::FolderState;
use crate::store::{Observation, Stat};

use super::{hash_candidate, record};

/// Raw OS events buffered between notify's thread and the watcher task. A burst larger than
/// this (a whole card copied at once) turns into one rescan rather than lost work.
pub const EVENT_QUEUE: usize = 8192;
/// How often pending paths are looked at while any are waiting.
const SETTLE_TICK: Duration = Duration::from_millis(250);
/// Paths waiting to settle; beyond this the watcher hands over to a full rescan.
const MAX_PENDING: usize = 50_000;

enum Raw {
    Paths(Vec<PathBuf>),
    Overflow,
}

struct Pending {
    folder: usize,
    last: Option<Stat>,
    since: Instant,
}

/// Runs until cancelled.
pub async fn run(account: Arc<Account>) -> Result<(), Error> {
    let (tx, mut rx) = mpsc::channel::<Raw>(EVENT_QUEUE);
    let overflow_tx = tx.clone();
    let handler = move |result: notify::Result<notify::Event>| {
        let raw = match result {
            Ok(event) if event.need_rescan() => Raw::Overflow,
            Ok(event) => match event.kind {
                NotifyKind::Access(_) => return,
                _ => Raw::Paths(event.paths),
            },
            Err(_) => Raw::Overflow,
        };
        if tx.try_send(raw).is_err() {
            let _ = overflow_tx.try_send(Raw::Overflow);
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            account.emit(Worker::Watcher, EventKind::Error, |ev| {
                ev.detail(format!("file events are not available ({e}); changes are found by the scheduled scan only"))
            });
            return Ok(());
        }
    };
    let mut watched = vec![false; account.folders.len()];
    (watcher, watched) = watch_available(&account, watcher, watched).await?;

    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut tick = tokio::time::interval(SETTLE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rewatch = tokio::time::interval(Duration::from_secs(30));
    rewatch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = account.cancel.cancelled() => return Ok(()),
            raw = rx.recv() => match raw {
                None => return Ok(()),
                Some(Raw::Overflow) => {
                    account.rescan.notify_one();
                }
                Some(Raw::Paths(paths)) => {
                    for path in paths {
                        if let Some(folder) = folder_of(&account, &path) {
                            pending.entry(path).or_insert(Pending { folder, last: None, since: Instant::now() });
                        }
                    }
                    if pending.len() > MAX_PENDING {
                        pending.clear();
                        account.rescan.notify_one();
                    }
                }
            },
            // Paused accounts still notice and hash new files (local work only), so the user
            // sees them waiting; the uploader is what waits.
            _ = tick.tick(), if !pending.is_empty() => {
                settle(&account, &mut pending).await;
            }
            _ = rewatch.tick() => {
                (watcher, watched) = watch_available(&account, watcher, watched).await?;
            }
        }
    }
}

/// Starts watching folders that became available (a drive plugged back in), on a blocking
/// thread: a recursive watch walks the whole folder.
async fn watch_available(
    account: &Arc<Account>,
    mut watcher: notify::RecommendedWatcher,
    mut watched: Vec<bool>,
) -> Result<(notify::RecommendedWatcher, Vec<bool>), Error> {
    let account = account.clone();
    crate::blocking::spawn(move || {
        watch_folders(&account, &mut watcher, &mut watched);
        (watcher, watched)
    })
    .await
    .map_err(|e| Error::Local(crate::error::LocalError::Task(e.to_string())))
}

fn watch_folders(
    account: &Account,
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut [bool],
) {
    for (i, folder) in account.folders.iter().enumerate() {
        let exists = folder.root.is_dir();
        if watched[i] && !exists {
            let _ = watcher.unwatch(&folder.root);
            watched[i] = false;
        }
        if !watched[i] && exists {
            match watcher.watch(&folder.root, RecursiveMode::Recursive) {
                Ok(()) => watched[i] = true,
                Err(e) => account.emit(Worker::Watcher, EventKind::Error, |ev| {
                    ev.path(&folder.root).detail(format!(
                        "cannot watch this folder for changes ({e}); changes are found by the scheduled scan"
                    ))
                }),
            }
        }
    }
}

fn folder_of(account: &Account, path: &Path) -> Option<usize> {
    account
        .folders
        .iter()
        .enumerate()
        .filter(|(_, f)| path.starts_with(&f.root) && path != f.root)
        .max_by_key(|(_, f)| f.root.as_os_str().len())
        .map(|(i, _)| i)
}

/// Looks at every pending path once (on a blocking thread: up to [`MAX_PENDING`] stats);
/// hashes and records those that are stable.
async fn settle(account: &Arc<Account>, pending: &mut HashMap<PathBuf, Pending>) {
    let stable_after = account.intervals.stable_after;
    let mut waiting = std::mem::take(pending);
    let swept = crate::blocking::spawn(move || {
        let ready = sweep(&mut waiting, stable_after);
        (waiting, ready)
    })
    .await;
    let ready = match swept {
        Ok((waiting, ready)) => {
            *pending = waiting;
            ready
        }
        // The paths are lost with the thread: a full walk finds whatever they were.
        Err(_) => {
            account.rescan.notify_one();
            return;
        }
    };
    record_settled(account, pending, ready).await;
}

/// Takes the paths that are ready out of `pending`: gone, directories, and files unchanged for
/// `stable_after`. Blocking (a stat per path).
fn sweep(
    pending: &mut HashMap<PathBuf, Pending>,
    stable_after: Duration,
) -> Vec<(PathBuf, usize, Option<Stat>)> {
    let now = Instant::now();
    let mut ready: Vec<(PathBuf, usize, Option<Stat>)> = Vec::new();
    pending.retain(|path, p| {
        let stat = std::fs::symlink_metadata(path).ok().map(|meta| {
            if meta.is_dir() {
                // Directories are walked at once; files inside settle on their own.
                None
            } else {
                Some(local::stat_of(&meta))
            }
        });
        match stat {
            // Gone, or a directory: handled at once.
            None | Some(None) => {
                ready.push((path.clone(), p.folder, None));
                false
            }
            // Unchanged since the last look, and either watched that long or last modified
            // that long ago (a file moved in whole is ready at the next look).
            Some(Some(stat))
                if p.last == Some(stat)
                    && (now.duration_since(p.since) >= stable_after
                        || !super::is_recent(stat, stable_after)) =>
            {
                ready.push((path.clone(), p.folder, Some(stat)));
                false
            }
            Some(Some(stat)) => {
                if p.last != Some(stat) {
                    p.last = Some(stat);
                    p.since = now;
                }
                true
            }
        }
    });
    ready
}

/// Hashes and records the settled paths; directories that appeared add their files to
/// `pending`.
async fn record_settled(
    account: &Arc<Account>,
    pending: &mut HashMap<PathBuf, Pending>,
    ready: Vec<(PathBuf, usize, Option<Stat>)>,
) {
    if ready.is_empty() {
        return;
    }
    let worker_account = account.clone();
    let more: Vec<PathBuf> = crate::blocking::spawn(move || {
        let account = worker_account;
        let mut discovered = Vec::new();
        let mut by_folder: HashMap<usize, Vec<Observation>> = HashMap::new();
        for (path, index, stat) in ready {
            let folder = &account.folders[index];
            if folder.state() != FolderState::Active {
                continue;
            }
            let Ok(rel) = path.strip_prefix(&folder.root).map(Path::to_owned) else {
                continue;
            };
            for obs in observe_path(&account, folder, &path, &rel, stat, &mut discovered) {
                by_folder.entry(index).or_default().push(obs);
            }
        }
        for (index, observations) in by_folder {
            record(
                &account,
                &account.folders[index],
                Worker::Watcher,
                &observations,
                true,
            );
        }
        discovered
    })
    .await
    .unwrap_or_default();
    let now = Instant::now();
    for path in more {
        if let Some(folder) = folder_of(account, &path) {
            pending.entry(path).or_insert(Pending {
                folder,
                last: None,
                since: now,
            });
        }
    }
}

/// Turns one settled path into observations. Directories that appeared are walked; their
/// files are returned in `discovered` to settle like any other.
fn observe_path(
    account: &Account,
    folder: &Folder,
    path: &Path,
    rel: &Path,
    stat: Option<Stat>,
    discovered: &mut Vec<PathBuf>,
) -> Vec<Observation> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(_) => {
            // Gone: the path itself, or a directory with everything below it.
            return match account.store.with(|db| db.paths_under(folder.id, rel)) {
                Ok(rels) => rels
                    .into_iter()
                    .filter(|r| std::fs::symlink_metadata(folder.path_of(r)).is_err())
                    .map(|rel| Observation::Gone { rel })
                    .collect(),
                Err(_) => Vec::new(),
            };
        }
    };
    if meta.is_dir() {
        if folder.filter.check_dir(rel).is_ok() {
            for entry in walkdir::WalkDir::new(path)
                .follow_links(false)
                .min_depth(1)
                .into_iter()
                .flatten()
            {
                if !entry.file_type().is_dir() {
                    discovered.push(entry.into_path());
                }
            }
        }
        return Vec::new();
    }
    match local::classify(&folder.filter, rel, &meta) {
        Found::Skip(obs) => vec![obs],
        Found::Candidate(now) => {
            if stat != Some(now) {
                discovered.push(path.to_owned());
                return Vec::new();
            }
            hash_candidate(account, folder, Worker::Watcher, rel, now)
                .observation()
                .into_iter()
                .collect()
        }
    }
}
