//! `--once`: the same work as the running engine, done once: the scan and the remote check
//! side by side (one reads the disk, the other asks Immich about what was synced before, and a
//! million-file pass takes the longer of the two, not their sum), then the uploads, then the
//! deletes both found, judged together.

use super::*;

/// What a `--once` pass did, per account and in total.
#[derive(Debug, Default, Clone)]
pub struct OnceReport {
    /// New assets created.
    pub uploaded: u64,
    /// Files linked to existing assets.
    pub linked: u64,
    /// Files that failed for good.
    pub failed: u64,
    /// Files still waiting (transient errors that did not clear).
    pub pending: u64,
    /// Files skipped in this pass (newly).
    pub skipped: u64,
    /// Assets moved to the Immich trash.
    pub trashed_in_immich: u64,
    /// Local files moved to the OS trash.
    pub moved_to_trash: u64,
    /// Deletes held for the user's confirmation.
    pub held_deletes: u64,
    /// Account-level problems, one line each.
    pub problems: Vec<String>,
}

impl OnceReport {
    /// True when everything is in sync.
    pub fn is_clean(&self) -> bool {
        self.failed == 0 && self.pending == 0 && self.held_deletes == 0 && self.problems.is_empty()
    }
}

/// Transient failures `--once` waits out before giving up on a file.
pub(super) const ONCE_MAX_ATTEMPTS: u32 = 5;

/// One full pass for every account: scan and remote check, upload, deletes. Dry runs check and
/// judge before they pretend to upload, so that pretend links are never mistaken for remote
/// deletes.
pub async fn run_once(config: Config, options: EngineOptions) -> Result<OnceReport, EngineError> {
    run_once_checked(config, options, HashMap::new()).await
}

/// [`run_once`], using the connections checked just before (by account name) instead of a
/// second handshake: one connection check per pass.
pub async fn run_once_checked(
    config: Config,
    options: EngineOptions,
    mut checked: HashMap<String, CheckedConnection>,
) -> Result<OnceReport, EngineError> {
    let (store, events) = open_files(&config, options).await?;
    announce_recovery(&store, &events, &config);
    let status = StatusBoard::default();
    let mut report = OnceReport::default();
    for account_config in config.accounts.iter().filter(|a| !a.paused) {
        let folders: Vec<String> = account_config
            .folders
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        status.add_account(&account_config.name, &account_config.server_url, &folders);
        let (_paused_tx, paused) = watch::channel(false);
        let mut attempt = 0;
        let account = loop {
            let result = connect(
                account_config,
                &config,
                &store,
                &events,
                &status,
                options,
                paused.clone(),
                CancellationToken::new(),
                checked.remove(&account_config.name),
            )
            .await;
            match result {
                Ok(account) => break Some(account),
                Err(error) if error.is_transient() && attempt + 1 < ONCE_MAX_ATTEMPTS => {
                    let wait = policy::retry_delay(attempt, error.retry_after());
                    report_connect_error(&events, &status, &account_config.name, &error, wait);
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(error) => {
                    report_connect_error(
                        &events,
                        &status,
                        &account_config.name,
                        &error,
                        Duration::ZERO,
                    );
                    report
                        .problems
                        .push(format!("{}: {error}", account_config.name));
                    break None;
                }
            }
        };
        let Some(account) = account else { continue };
        if options.dry_run {
            scan_folders(&account, &status, &mut report).await;
            remote_check_once(&account, &mut report).await;
            judge_once(&account, &mut report).await;
            upload_once(&account, &mut report).await;
        } else {
            // The remote check asks Immich about what was synced before; the scan reads the
            // disk. Neither waits for the other (as in the running engine): the check's
            // answers apply only to files still linked to the asset they were about.
            let scans = scan_folders(&account, &status, &mut report);
            let (_, checked) = tokio::join!(scans, reconciler::remote::full_check(&account));
            if let Err(error) = checked {
                report_remote_check_failed(&account, &mut report, &error);
            }
            upload_once(&account, &mut report).await;
            judge_once(&account, &mut report).await;
            if let Err(error) = crate::workers::sidecars::apply_due(&account).await {
                report
                    .problems
                    .push(format!("{}: sidecars: {error}", account.name));
            }
            if let Err(error) = crate::workers::albums::sync(&account).await {
                report
                    .problems
                    .push(format!("{}: albums: {error}", account.name));
            }
            if let Err(error) = crate::workers::stacks::sync(&account).await {
                report
                    .problems
                    .push(format!("{}: stacks: {error}", account.name));
            }
        }
        let name = account.name.clone();
        report.pending += store
            .call(move |db| db.queue_depth(&name))
            .await
            .unwrap_or(0);
    }
    Ok(report)
}

/// Scans every folder of `account` once, adding what the scans found to `report`.
async fn scan_folders(account: &Arc<Account>, status: &StatusBoard, report: &mut OnceReport) {
    for folder in &account.folders {
        let summary = scanner::scan_folder(account, folder).await;
        report.skipped += summary.skipped;
        // Files still being written are not uploaded in this pass: they are pending.
        report.pending += summary.unstable;
        if summary.unreadable > 0 {
            report.problems.push(format!(
                "{}: {}: {} could not be read (the event log names them)",
                account.name,
                folder.display,
                match summary.unreadable {
                    1 => "1 file or folder".to_owned(),
                    n => format!("{n} files or folders"),
                }
            ));
        }
        if folder.state() != FolderState::Active {
            let message = status
                .snapshot()
                .accounts
                .iter()
                .flat_map(|a| a.folders.iter())
                .find(|f| f.path == folder.display)
                .and_then(|f| f.message.clone())
                .unwrap_or_else(|| "Folder not available".into());
            report
                .problems
                .push(format!("{}: {}: {message}", account.name, folder.display));
        }
    }
}

pub(super) async fn upload_once(account: &Arc<Account>, report: &mut OnceReport) {
    loop {
        match uploader::round(account).await {
            Ok(summary) => {
                report.uploaded += summary.uploaded;
                report.linked += summary.linked;
                report.failed += summary.failed;
                if summary.considered > 0 {
                    continue;
                }
            }
            Err(uploader::AccountProblem(error)) => {
                report.problems.push(format!("{}: {error}", account.name));
                return;
            }
        }
        // Nothing due now: wait for pending retries, within limits.
        let next = uploader::next_retry_at(account).await;
        let name = account.name.clone();
        let exhausted = account
            .store
            .call(move |db| db.fewest_retry_attempts(&name))
            .await
            .ok()
            .flatten()
            .is_none_or(|attempts| attempts >= ONCE_MAX_ATTEMPTS);
        match next {
            Some(at) if !exhausted => {
                let wait = Duration::from_millis((at - now_ms()).max(0) as u64);
                tokio::time::sleep(wait.min(policy::RETRY_MAX)).await;
            }
            _ => return,
        }
    }
}

/// The full remote check on its own (dry runs check before they pretend to upload, so that
/// pretend links are never mistaken for remote deletes).
async fn remote_check_once(account: &Arc<Account>, report: &mut OnceReport) {
    if let Err(error) = reconciler::remote::full_check(account).await {
        report_remote_check_failed(account, report, &error);
    }
}

fn report_remote_check_failed(account: &Account, report: &mut OnceReport, error: &Error) {
    report
        .problems
        .push(format!("{}: remote check failed: {error}", account.name));
}

/// Both directions' deletes, judged from what the scan and the remote check recorded.
async fn judge_once(account: &Arc<Account>, report: &mut OnceReport) {
    let remote = reconciler::remote::judge(account).await;
    report.moved_to_trash += remote.moved_to_trash;
    report.held_deletes += remote.held;
    let summary = reconciler::local_deletes::pass(account).await;
    report.trashed_in_immich += summary.trashed_in_immich;
    report.held_deletes += summary.held;
    if summary.errors + remote.errors > 0 {
        report.problems.push(format!(
            "{}: {} delete(s) could not be completed",
            account.name,
            summary.errors + remote.errors
        ));
    }
}
