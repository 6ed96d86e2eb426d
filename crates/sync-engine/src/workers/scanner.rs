//! The scanner: a full walk of every folder, at start, on schedule and on demand.
//!
//! Events can be missed (the engine was not running, the OS queue overflowed, a network share
//! does not send them), so the walk is the ground truth. It is cheap when nothing changed: a file
//! whose (size, mtime, file id) matches the store is not read again. New and changed files are
//! hashed on all cores and recorded in batches, and the uploader is woken after each batch, so
//! uploads begin while the walk goes on.
//!
//! A file modified less than `stable_after` ago may still be being written (a copy in progress,
//! a camera app saving): it is hashed only if its size, mtime and file id are still the same
//! after waiting out `stable_after`, otherwise it is left for the watcher or the next scan, so
//! a half-written photo is never uploaded. Files and folders that cannot be read are counted
//! and named in events, and a partial walk never turns into deletes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::account::{Account, Folder, now_ms};
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::local::{self, Found};
use crate::paths;
use crate::status::{AccountState, FolderState};
use crate::store::{ApplyEffect, FileState, IndexEntry, Observation, Stat};

use super::{Hashing, STILL_BEING_WRITTEN, hash_candidate, is_recent, pause, record};

/// Observations recorded per transaction during a walk, at most: every commit writes the
/// touched index pages to the WAL again, so small transactions bound a first scan of many small
/// files (256 per transaction: 62,000 files/s; 8192: 91,000 files/s here).
const RECORD_BATCH: usize = 8192;
/// How long a hashed file waits at most before its batch is recorded (and the uploader woken).
const RECORD_LATENCY: Duration = Duration::from_millis(250);
/// How often an unavailable folder, or a file still being written, is checked again.
const UNAVAILABLE_RECHECK: Duration = Duration::from_secs(60);

/// What one walk found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    /// Files seen.
    pub files: u64,
    /// Files hashed (new or changed).
    pub hashed: u64,
    /// New or changed files queued for upload.
    pub queued: u64,
    /// Files newly skipped.
    pub skipped: u64,
    /// Synced files found missing.
    pub missing: u64,
    /// Files still being written (or changed while read): looked at again later.
    pub unstable: u64,
    /// Files and folders that could not be read; events name them.
    pub unreadable: u64,
}

/// Runs until cancelled: a walk of every folder, then sleep until the schedule or a request.
pub async fn run(account: Arc<Account>) -> Result<(), Error> {
    loop {
        if !account.wait_unpaused().await {
            return Ok(());
        }
        account.status.edit(&account.name, |s| {
            if matches!(
                s.state,
                AccountState::Idle | AccountState::Syncing | AccountState::Starting
            ) {
                s.state = AccountState::Scanning;
                s.message = Some("Scanning folders…".into());
            }
        });
        let mut recheck_soon = false;
        for folder in &account.folders {
            if account.cancel.is_cancelled() || account.is_paused() {
                break;
            }
            let summary = scan_folder(&account, folder).await;
            recheck_soon |= folder.state() == FolderState::Unavailable || summary.unstable > 0;
        }
        account.status.edit(&account.name, |s| {
            if s.state == AccountState::Scanning {
                if s.queue_depth > 0 {
                    s.state = AccountState::Syncing;
                    s.message = Some(format!("{} files waiting for upload", s.queue_depth));
                } else {
                    s.state = AccountState::Idle;
                    s.message = None;
                }
            }
        });
        account.wake_uploader.notify_one();
        let wait = if recheck_soon {
            account.intervals.full_scan.min(UNAVAILABLE_RECHECK)
        } else {
            account.intervals.full_scan
        };
        tokio::select! {
            _ = account.cancel.cancelled() => return Ok(()),
            _ = account.rescan.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One full walk of `folder`. Never fails: problems become events and folder status.
pub async fn scan_folder(account: &Arc<Account>, folder: &Arc<Folder>) -> ScanSummary {
    if folder.state() == FolderState::Mismatch {
        return ScanSummary::default();
    }
    let acc = account.clone();
    let fold = folder.clone();
    let result = crate::blocking::spawn(move || scan_blocking(&acc, &fold)).await;
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            account.emit(Worker::Scanner, EventKind::Error, |ev| {
                ev.path(&folder.root)
                    .detail(format!("the scan stopped unexpectedly: {e}"))
            });
            return ScanSummary::default();
        }
    };
    account.refresh_counts().await;
    summary
}

fn scan_blocking(account: &Account, folder: &Folder) -> ScanSummary {
    if let Err(reason) = check_root(&folder.root) {
        mark_unavailable(account, folder, &reason);
        return ScanSummary::default();
    }
    let current = crate::volume::volume_id(&folder.root);
    let recorded = account.store.with(|db| db.root_volume(folder.id, current));
    if let Err(reason) = crate::volume::check(recorded.ok().flatten(), current) {
        mark_unavailable(account, folder, &reason);
        return ScanSummary::default();
    }
    account.emit(Worker::Scanner, EventKind::ScanStarted, |e| {
        e.path(&folder.root)
    });
    // Hashing and recording run beside the walk, fed in walk order through a bounded channel.
    let (to_hash, queue) = mpsc::sync_channel(RECORD_BATCH);
    std::thread::scope(|scope| {
        let hashing = scope.spawn(move || hash_all(account, folder, queue.into_iter()));
        let scan = Scan::new(account, folder, to_hash);
        walk_and_merge(account, folder, scan, hashing)
    })
}

/// The walk, each file compared with its row as it comes; then what the walk did not find.
fn walk_and_merge<'s>(
    account: &Account,
    folder: &Folder,
    mut scan: Scan<'_>,
    hashing: std::thread::ScopedJoinHandle<'s, HashCounts>,
) -> ScanSummary {
    let walk = crate::walk::Walk::new(&folder.root, |rel| folder.filter.check_dir(rel).is_ok());
    for step in walk {
        if account.cancel.is_cancelled() {
            scan.complete = false;
            break;
        }
        let (rel, metadata) = match step {
            crate::walk::Step::File { rel, metadata } => (rel, metadata),
            crate::walk::Step::Unreadable { path, error } => {
                scan.complete = false;
                scan.summary.unreadable += 1;
                // The event carries the path; the message only needs the OS's reason.
                account.emit(Worker::Scanner, EventKind::Error, |ev| {
                    ev.path(&path).detail(format!(
                        "cannot read this part of the folder ({error}); nothing below it is treated as deleted"
                    ))
                });
                continue;
            }
        };
        let meta = match metadata {
            Ok(meta) => meta,
            // Vanished between listing and stat: the merge leaves its row unmatched, and the
            // re-check at the end sees it gone.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            // Any other failure (a share that answered EIO or ESTALE for a moment) says nothing
            // about the file: nothing in this walk is taken as deleted.
            Err(_) => {
                scan.complete = false;
                scan.summary.unreadable += 1;
                continue;
            }
        };
        if let Err(e) = scan.file(&rel, &meta) {
            account.emit(Worker::Scanner, EventKind::Error, |ev| {
                ev.detail(format!("cannot read the state database: {e}"))
            });
            return scan.abandon(hashing);
        }
    }
    match scan.finish(hashing) {
        Ok(summary) => summary,
        Err(e) => {
            account.emit(Worker::Scanner, EventKind::Error, |ev| {
                ev.detail(format!("cannot read the state database: {e}"))
            });
            ScanSummary::default()
        }
    }
}

/// Rows of the store read per query while a walk goes on.
const INDEX_PAGE: usize = 4096;

/// One walk compared with the store as it goes: the walk visits files in the order of their
/// stored path bytes (`paths::walk_key`) and the store's rows of the folder are read in
/// pages in that same order, so the two are merged like sorted lists. What a scan holds is a
/// page of rows, a batch of observations, the files waiting to be hashed and the rows the walk
/// did not find, whatever the size of the folder.
///
/// Rows are read ahead of what is recorded: a file is recorded only after the walk reached it,
/// and the walk reaches a path only after every row up to that path was read, so a row the
/// scan itself writes is never read back as one the walk did not find.
struct Scan<'a> {
    account: &'a Account,
    folder: &'a Folder,
    /// Rows read and not yet compared, in order.
    page: std::collections::VecDeque<(Vec<u8>, IndexEntry)>,
    /// The last path read from the store.
    read_up_to: Vec<u8>,
    /// No rows left to read.
    read_all: bool,
    /// Rows the walk did not find (to be checked, then recorded as gone).
    unmatched: Vec<Vec<u8>>,
    /// Rows of synced or missing files: an empty walk of a folder with some is suspect.
    tracked: u64,
    skips: Vec<Observation>,
    /// Changed or new files, in walk order, to the hashing threads.
    to_hash: mpsc::SyncSender<(PathBuf, Stat)>,
    /// Files modified moments ago: checked for stability once, after the walk.
    recent: Vec<(PathBuf, Stat)>,
    /// False when part of the tree could not be read: then nothing is taken as deleted.
    complete: bool,
    summary: ScanSummary,
}

impl<'a> Scan<'a> {
    fn new(
        account: &'a Account,
        folder: &'a Folder,
        to_hash: mpsc::SyncSender<(PathBuf, Stat)>,
    ) -> Self {
        Scan {
            account,
            folder,
            page: Default::default(),
            read_up_to: Vec::new(),
            read_all: false,
            unmatched: Vec::new(),
            tracked: 0,
            skips: Vec::new(),
            to_hash,
            recent: Vec::new(),
            complete: true,
            summary: ScanSummary::default(),
        }
    }

    /// A file the walk found.
    fn file(&mut self, rel: &std::path::Path, meta: &std::fs::Metadata) -> Result<(), Error> {
        self.summary.files += 1;
        if self.summary.files == 1 {
            self.available();
        }
        let entry = self.row_for(&paths::to_bytes(rel))?;
        match local::classify(&self.folder.filter, rel, meta) {
            Found::Skip(observation) => {
                if !already_skipped(entry.as_ref(), &observation) {
                    self.skips.push(observation);
                    if self.skips.len() >= RECORD_BATCH {
                        self.record_skips();
                    }
                }
            }
            Found::Candidate(stat) => {
                if needs_hash(entry.as_ref(), stat) {
                    if is_recent(stat, self.account.intervals.stable_after) {
                        self.recent.push((rel.to_owned(), stat));
                    } else {
                        self.hash(rel.to_owned(), stat);
                    }
                }
            }
        }
        Ok(())
    }

    /// The row stored for `key`, if any; rows before it are ones the walk did not find.
    fn row_for(&mut self, key: &[u8]) -> Result<Option<IndexEntry>, Error> {
        loop {
            if self.page.is_empty() && !self.read_page()? {
                return Ok(None);
            }
            let Some((next, _)) = self.page.front() else {
                return Ok(None);
            };
            match next.as_slice().cmp(key) {
                std::cmp::Ordering::Greater => return Ok(None),
                std::cmp::Ordering::Equal => return Ok(Some(self.take_row().1)),
                std::cmp::Ordering::Less => {
                    let (rel, _) = self.take_row();
                    self.unmatched.push(rel);
                }
            }
        }
    }

    /// Every row after the last file the walk found: none of them was found.
    fn drain_rows(&mut self) -> Result<(), Error> {
        while !self.page.is_empty() || self.read_page()? {
            let (rel, _) = self.take_row();
            self.unmatched.push(rel);
        }
        Ok(())
    }

    /// Reads the next page of rows; false when there are none left.
    fn read_page(&mut self) -> Result<bool, Error> {
        if self.read_all {
            return Ok(false);
        }
        let page = self
            .account
            .store
            .with(|db| db.folder_index_page(self.folder.id, &self.read_up_to, INDEX_PAGE))?;
        self.read_all = page.len() < INDEX_PAGE;
        if let Some((last, _)) = page.last() {
            self.read_up_to = last.clone();
        }
        self.page.extend(page);
        Ok(!self.page.is_empty())
    }

    fn take_row(&mut self) -> (Vec<u8>, IndexEntry) {
        let row = self.page.pop_front().expect("a row was read");
        if matches!(row.1.state, FileState::Synced | FileState::Missing) {
            self.tracked += 1;
        }
        row
    }

    /// The walk found files: the folder is there.
    fn available(&self) {
        if self.folder.set_state(FolderState::Active) {
            self.account
                .status
                .edit_folder(&self.account.name, &self.folder.display, |f| {
                    f.state = FolderState::Active;
                    f.message = None;
                });
        }
    }

    fn record_skips(&mut self) {
        let skips = std::mem::take(&mut self.skips);
        self.summary.skipped += count(
            &record(self.account, self.folder, Worker::Scanner, &skips, false),
            &ApplyEffect::Skipped,
        );
    }

    fn hash(&mut self, rel: PathBuf, stat: Stat) {
        self.summary.hashed += 1;
        // An error means the hashing threads stopped (cancelled): the file waits for the
        // next scan.
        let _ = self.to_hash.send((rel, stat));
    }

    /// Ends a scan cut short: nothing more is recorded, and the hashing threads finish what
    /// they were given.
    fn abandon(self, hashing: std::thread::ScopedJoinHandle<'_, HashCounts>) -> ScanSummary {
        let mut summary = self.summary.clone();
        drop(self);
        summary.add(&join(hashing));
        summary
    }

    /// After the walk: the rest of the rows, what is left to record, and what is gone.
    fn finish(
        mut self,
        hashing: std::thread::ScopedJoinHandle<'_, HashCounts>,
    ) -> Result<ScanSummary, Error> {
        if self.account.cancel.is_cancelled() {
            // Stopped (the app quits, or its accounts restart with new settings): a walk cut
            // short says nothing about the folder, neither that files are gone nor that it is
            // empty.
            return Ok(self.abandon(hashing));
        }
        self.drain_rows()?;
        if self.summary.files == 0 && self.tracked > 0 {
            mark_unavailable(
                self.account,
                self.folder,
                "the folder is suddenly empty although it held synced photos (is the drive mounted?)",
            );
            return Ok(ScanSummary::default());
        }
        if self.summary.files == 0 {
            self.available();
        }
        self.record_skips();
        let recent = std::mem::take(&mut self.recent);
        let (ready, unstable) = wait_for_recent(self.account, self.folder, recent);
        self.summary.unstable += unstable;
        for (rel, stat) in ready {
            self.hash(rel, stat);
        }
        let Scan {
            account,
            folder,
            unmatched,
            complete,
            mut summary,
            to_hash,
            ..
        } = self;
        drop(to_hash);
        summary.add(&join(hashing));

        if complete {
            let gone: Vec<Observation> = unmatched
                .iter()
                .map(|rel| paths::from_bytes(rel))
                // Re-check: a walk error must never look like a delete, and only "not found"
                // is gone (a share that cannot answer now is not an empty one).
                .filter(|rel| {
                    matches!(
                        std::fs::symlink_metadata(folder.path_of(rel)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound
                    )
                })
                .map(|rel| Observation::Gone { rel })
                .collect();
            summary.missing = count(
                &record(account, folder, Worker::Scanner, &gone, false),
                &ApplyEffect::Missing,
            );
            if let Err(e) = account
                .store
                .with(|db| db.set_last_full_scan(folder.id, now_ms()))
            {
                tracing::warn!("cannot record the scan time: {e}");
            }
        }
        account.emit(Worker::Scanner, EventKind::ScanFinished, |e| {
            e.path(&folder.root).detail(format!(
                "{} files, {} new or changed, {} skipped, {} gone",
                summary.files, summary.queued, summary.skipped, summary.missing
            ))
        });
        Ok(summary)
    }
}

fn count(effects: &[ApplyEffect], wanted: &ApplyEffect) -> u64 {
    effects.iter().filter(|e| *e == wanted).count() as u64
}

fn already_skipped(entry: Option<&IndexEntry>, observation: &Observation) -> bool {
    match (entry, observation) {
        (Some(entry), Observation::Skipped { reason, stat, .. }) => {
            entry.state == FileState::Skipped
                && entry.last_error.as_deref() == Some(reason.as_str())
                && entry.stat == *stat
        }
        _ => false,
    }
}

/// An unchanged file (same size, mtime and file id) is never hashed again; a failed one is
/// retried only once it changes.
fn needs_hash(entry: Option<&IndexEntry>, stat: Stat) -> bool {
    match entry {
        Some(entry) if entry.stat == stat && entry.sha1.is_some() => false,
        Some(entry) if entry.stat == stat && entry.state == FileState::Failed => false,
        _ => true,
    }
}

/// Is the root there and readable?
pub(crate) fn check_root(root: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(root)
            .map(|_| ())
            .map_err(|e| format!("the folder cannot be read ({e})")),
        Ok(_) => Err("the path is not a folder".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("the folder does not exist (is the drive mounted?)".into())
        }
        Err(e) => Err(format!("the folder cannot be opened ({e})")),
    }
}

fn mark_unavailable(account: &Account, folder: &Folder, reason: &str) {
    if folder.set_state(FolderState::Unavailable) {
        account.emit(Worker::Scanner, EventKind::FolderUnavailable, |e| {
            e.path(&folder.root).detail(format!(
                "Folder not available: {reason}. Syncing and deletes are paused for it until it is back."
            ))
        });
    }
    account
        .status
        .edit_folder(&account.name, &folder.display, |f| {
            f.state = FolderState::Unavailable;
            f.message = Some(format!("Folder not available: {reason}"));
        });
}

/// Candidates modified less than `stable_after` ago are hashed only if they have not changed
/// after waiting that long; the others are still being written. Returns the files to hash and
/// how many were left for later.
fn wait_for_recent(
    account: &Account,
    folder: &Folder,
    files: Vec<(PathBuf, Stat)>,
) -> (Vec<(PathBuf, Stat)>, u64) {
    let stable_after = account.intervals.stable_after;
    // A modification time in the future (a camera with a wrong clock) counts as recent: such
    // a file is hashed once it is seen not to change.
    let (recent, mut ready): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(_, stat)| is_recent(*stat, stable_after));
    if recent.is_empty() {
        return (ready, 0);
    }
    // One wait for all of them.
    if !pause(account, stable_after) {
        return (ready, 0);
    }
    let mut unstable = 0;
    for (rel, stat) in recent {
        let path = folder.path_of(&rel);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if local::stat_of(&meta) == stat => ready.push((rel, stat)),
            Ok(_) => {
                unstable += 1;
                account.emit(Worker::Scanner, EventKind::RetryScheduled, |e| {
                    e.path(&path).detail(STILL_BEING_WRITTEN)
                });
            }
            // Gone meanwhile: the next walk or the watcher sees it.
            Err(_) => {}
        }
    }
    (ready, unstable)
}

impl ScanSummary {
    fn add(&mut self, hashed: &HashCounts) {
        self.queued += hashed.queued;
        self.unstable += hashed.unstable;
        self.unreadable += hashed.unreadable;
    }
}

/// The hashing threads' counts, once they have finished.
fn join(hashing: std::thread::ScopedJoinHandle<'_, HashCounts>) -> HashCounts {
    hashing
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What hashing a batch of candidates did.
#[derive(Debug, Default)]
struct HashCounts {
    queued: u64,
    unstable: u64,
    unreadable: u64,
}

/// Hashes on every core, recording results in batches. Files come in walk order and each
/// batch is recorded in that order, whichever thread finished first, so that files with the
/// same content are recorded (and the first of them uploaded) in the same order every time.
fn hash_all(
    account: &Account,
    folder: &Folder,
    files: impl Iterator<Item = (PathBuf, Stat)> + Send,
) -> HashCounts {
    let unstable = AtomicU64::new(0);
    let unreadable = AtomicU64::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    // A thread waiting here for the walk holds the lock; the others wait for it, not spin.
    let work = std::sync::Mutex::new(files.enumerate());
    let (tx, rx) = mpsc::sync_channel::<(usize, Observation)>(RECORD_BATCH * 2);
    let mut queued = 0;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let work = &work;
            let (unstable, unreadable) = (&unstable, &unreadable);
            scope.spawn(move || {
                loop {
                    if account.cancel.is_cancelled() {
                        return;
                    }
                    let next = work.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((index, (rel, stat))) = next else {
                        return;
                    };
                    match hash_candidate(account, folder, Worker::Scanner, &rel, stat) {
                        Hashing::Observed(obs) => {
                            if tx.send((index, obs)).is_err() {
                                return;
                            }
                        }
                        Hashing::Unstable => {
                            unstable.fetch_add(1, Ordering::Relaxed);
                        }
                        Hashing::Unreadable => {
                            unreadable.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        drop(tx);
        let mut batch: Vec<(usize, Observation)> = Vec::with_capacity(RECORD_BATCH);
        let mut flush = |batch: &mut Vec<(usize, Observation)>| {
            batch.sort_by_key(|(index, _)| *index);
            let observations: Vec<Observation> = batch.drain(..).map(|(_, obs)| obs).collect();
            let effects = record(account, folder, Worker::Scanner, &observations, false);
            queued += count(&effects, &ApplyEffect::Queued);
        };
        // A batch is recorded when it is full, or once its first file has waited
        // RECORD_LATENCY: many small files go in few transactions, and large photos reach the
        // uploader while the walk goes on.
        let mut opened: Option<Instant> = None;
        loop {
            let wait = opened.map_or(RECORD_LATENCY, |at| {
                RECORD_LATENCY.saturating_sub(at.elapsed())
            });
            match rx.recv_timeout(wait) {
                Ok(item) => {
                    batch.push(item);
                    opened.get_or_insert_with(Instant::now);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            let due = opened.is_some_and(|at| at.elapsed() >= RECORD_LATENCY);
            if batch.len() >= RECORD_BATCH || (due && !batch.is_empty()) {
                flush(&mut batch);
                opened = None;
            }
        }
        flush(&mut batch);
    });
    HashCounts {
        queued,
        unstable: unstable.into_inner(),
        unreadable: unreadable.into_inner(),
    }
}
