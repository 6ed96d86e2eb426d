//! One author per sentence: the words the tray, the windows and the daemon show for a status.
//!
//! [`summarize`] turns a status snapshot into the engine's state in one word (the tray's icon),
//! one line ("Up to date · 1,204 photos", "Uploading 12 of 40") and a tooltip; [`account_line`]
//! says how one account is doing; [`delete_examples`] says what a delete policy means. The
//! status snapshot carries each account's line, so the front ends display these sentences and
//! never compose their own.

use crate::config::{DeleteMode, DeletePolicy};
use crate::policy::{self, LocalDeleteDecision, RemoteDeleteDecision};
use crate::status::{AccountState, AccountStatus, FolderState, Status};

/// The engine as a whole, in one word: which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallState {
    /// Up to date.
    Idle,
    /// Scanning or uploading.
    Syncing,
    /// Everything paused.
    Paused,
    /// Something needs the user.
    Attention,
    /// The server cannot be reached.
    Offline,
}

/// What the tray shows for a status: the one sentence every front end uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Icon.
    pub state: OverallState,
    /// First menu line, e.g. "Up to date · 1,204 photos".
    pub line: String,
    /// Tooltip (where the platform shows one).
    pub tooltip: String,
    /// Whether every account is paused (Pause all becomes Resume all).
    pub all_paused: bool,
}

/// Remembers how big the current upload batch is, for "Uploading 12 of 40".
#[derive(Debug, Default, Clone)]
pub struct BatchProgress {
    total: u64,
}

/// What the tray shows for `status`.
pub fn summarize(status: &Status, batch: &mut BatchProgress) -> Summary {
    let accounts = &status.accounts;
    let all_paused =
        !accounts.is_empty() && accounts.iter().all(|a| a.state == AccountState::Paused);
    let waiting: u64 = accounts
        .iter()
        .filter(|a| a.state != AccountState::Paused)
        .map(|a| a.queue_depth)
        .sum();
    if waiting == 0 {
        batch.total = 0;
    } else {
        batch.total = batch.total.max(waiting);
    }
    let (state, line) = if accounts.is_empty() {
        (
            OverallState::Attention,
            "Not set up: open Settings… to add your Immich server".to_owned(),
        )
    } else if let Some(problem) = attention(status) {
        (OverallState::Attention, problem)
    } else if all_paused {
        (OverallState::Paused, "Paused".to_owned())
    } else if let Some(offline) = accounts.iter().find(|a| a.state == AccountState::Offline) {
        (
            OverallState::Offline,
            format!("Can't reach {}", host(&offline.server_url)),
        )
    } else if waiting > 0 {
        let done = batch.total - waiting;
        (
            OverallState::Syncing,
            format!(
                "Uploading {} of {}",
                thousands(done + 1),
                thousands(batch.total)
            ),
        )
    } else if accounts.iter().any(|a| {
        matches!(
            a.state,
            AccountState::Scanning | AccountState::Starting | AccountState::Syncing
        )
    }) {
        (OverallState::Syncing, "Checking for new photos…".to_owned())
    } else {
        let photos: u64 = accounts
            .iter()
            .flat_map(|a| &a.folders)
            .map(|f| f.counts.synced)
            .sum();
        let noun = if photos == 1 { "photo" } else { "photos" };
        (
            OverallState::Idle,
            format!("Up to date · {} {noun}", thousands(photos)),
        )
    };
    Summary {
        tooltip: format!("Immich Sync — {line}"),
        state,
        line,
        all_paused,
    }
}

fn attention(status: &Status) -> Option<String> {
    for account in &status.accounts {
        if account.state == AccountState::Error {
            let why = account
                .message
                .as_deref()
                .unwrap_or("the account needs attention");
            return Some(format!("{}: {}", account.name, short(why)));
        }
        for folder in &account.folders {
            if folder.held_deletes > 0 {
                return Some(format!(
                    "{} deletes waiting for your confirmation",
                    thousands(folder.held_deletes)
                ));
            }
            if folder.state != FolderState::Active {
                let name = folder
                    .path
                    .rsplit(['/', '\\'])
                    .find(|s| !s.is_empty())
                    .unwrap_or(&folder.path);
                return Some(format!("Folder not available: {name}"));
            }
        }
    }
    None
}

fn short(text: &str) -> String {
    let first = text.split(':').next().unwrap_or(text);
    let mut out: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        out.push('…');
    }
    out
}

pub use crate::immich::host;

/// 1204 → "1,204".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How one account is doing, in one line (the Activity window's account cards).
pub fn account_line(account: &AccountStatus) -> String {
    let photos: u64 = account.folders.iter().map(|f| f.counts.synced).sum();
    match account.state {
        AccountState::Paused => "Paused".to_owned(),
        AccountState::Idle => format!(
            "Up to date · {} {}",
            thousands(photos),
            if photos == 1 { "photo" } else { "photos" }
        ),
        AccountState::Syncing if account.queue_depth > 0 => format!(
            "Uploading · {} {} waiting",
            thousands(account.queue_depth),
            if account.queue_depth == 1 {
                "file"
            } else {
                "files"
            }
        ),
        AccountState::Syncing => "Syncing".to_owned(),
        AccountState::Scanning => "Checking for new photos…".to_owned(),
        AccountState::Starting => "Connecting to the server…".to_owned(),
        AccountState::Offline => format!(
            "Can't reach {} · will keep trying",
            host(&account.server_url)
        ),
        AccountState::Error => match account.message.as_deref() {
            Some(why) => format!("Needs attention: {}", short(why)),
            None => "Needs attention".to_owned(),
        },
    }
}

const DAY_MS: i64 = 86_400_000;

/// What a delete policy means, in two local examples (one photo younger than the threshold,
/// one older) and one remote example, decided by the engine's own rules: the settings
/// window shows these as the user edits the policy.
pub fn delete_examples(policy: DeletePolicy) -> Vec<String> {
    let young = (policy.threshold_days / 2.0)
        .max(1.0)
        .min(policy.threshold_days.max(1.0))
        .round()
        .max(1.0);
    let old = (policy.threshold_days * 2.0)
        .max(policy.threshold_days + 14.0)
        .round();
    let mut out = Vec::new();
    for days in [young, old] {
        if days > policy.max_age_days {
            continue;
        }
        let outcome = match policy::local_delete(&policy, 0, (days * DAY_MS as f64) as i64) {
            LocalDeleteDecision::TrashInImmich => {
                "moved to the Immich trash (you can restore it there)"
            }
            LocalDeleteDecision::Keep(_) => "kept in Immich",
        };
        out.push(format!(
            "A photo {} old that you delete here: {outcome}.",
            age(days)
        ));
        if policy.mode == DeleteMode::UploadOnly {
            break;
        }
    }
    out.push(match policy::remote_delete(&policy) {
        RemoteDeleteDecision::MoveToTrash => {
            "A photo you delete in Immich: moved to this computer's trash (only if unchanged here)."
                .to_owned()
        }
        RemoteDeleteDecision::Keep(_) => {
            "A photo you delete in Immich: stays on this computer.".to_owned()
        }
    });
    out
}

fn age(days: f64) -> String {
    let d = days.round() as i64;
    let (n, unit) = match d {
        0..=1 => (1, "day"),
        2..=13 => (d, "day"),
        14..=59 => (d / 7, "week"),
        60..=729 => (d / 30, "month"),
        _ => (d / 365, "year"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{AccountStatus, FolderStatus};
    use crate::store::FolderCounts;

    fn account(state: AccountState, queue: u64, synced: u64) -> AccountStatus {
        AccountStatus {
            name: "family".into(),
            server_url: "https://photos.example.com".into(),
            host: "photos.example.com".into(),
            state,
            message: None,
            server_version: Some("3.1.0".into()),
            user: None,
            queue_depth: queue,
            uploads: vec![],
            folders: vec![FolderStatus {
                path: "/home/a/Pictures".into(),
                state: FolderState::Active,
                counts: FolderCounts {
                    synced,
                    ..FolderCounts::default()
                },
                last_full_scan: None,
                held_deletes: 0,
                message: None,
            }],
            last_error: None,
            line: String::new(),
        }
    }

    fn status(accounts: Vec<AccountStatus>) -> Status {
        Status { accounts }
    }

    #[test]
    fn the_status_line_speaks_plainly() {
        let mut batch = BatchProgress::default();
        let s = summarize(
            &status(vec![account(AccountState::Idle, 0, 1204)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str()),
            (OverallState::Idle, "Up to date · 1,204 photos")
        );
        let s = summarize(
            &status(vec![account(AccountState::Paused, 3, 10)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str(), s.all_paused),
            (OverallState::Paused, "Paused", true)
        );
        let s = summarize(
            &status(vec![account(AccountState::Offline, 0, 10)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str()),
            (OverallState::Offline, "Can't reach photos.example.com")
        );
        let mut bad = account(AccountState::Error, 0, 0);
        bad.message = Some(
            "the API key was rejected by the server (Invalid API key): create a new key".into(),
        );
        let s = summarize(&status(vec![bad]), &mut batch);
        assert_eq!(s.state, OverallState::Attention);
        assert_eq!(
            s.line,
            "family: the API key was rejected by the server (Invalid API key)"
        );
        assert_eq!(
            summarize(&status(vec![]), &mut batch).state,
            OverallState::Attention
        );
    }

    #[test]
    fn uploads_count_up_through_the_batch() {
        let mut batch = BatchProgress::default();
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 40, 0)]),
            &mut batch,
        );
        assert_eq!(s.line, "Uploading 1 of 40");
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 29, 11)]),
            &mut batch,
        );
        assert_eq!(s.line, "Uploading 12 of 40");
        let s = summarize(
            &status(vec![account(AccountState::Idle, 0, 40)]),
            &mut batch,
        );
        assert_eq!(s.line, "Up to date · 40 photos");
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 2, 40)]),
            &mut batch,
        );
        assert_eq!(
            s.line, "Uploading 1 of 2",
            "a new batch starts from its own count"
        );
    }

    #[test]
    fn a_missing_folder_needs_attention() {
        let mut a = account(AccountState::Idle, 0, 5);
        a.folders[0].state = FolderState::Unavailable;
        let s = summarize(&status(vec![a]), &mut BatchProgress::default());
        assert_eq!(
            (s.state, s.line.as_str()),
            (OverallState::Attention, "Folder not available: Pictures")
        );
    }

    #[test]
    fn held_deletes_need_attention() {
        let mut a = account(AccountState::Idle, 0, 50);
        a.folders[0].held_deletes = 12;
        let s = summarize(&status(vec![a]), &mut BatchProgress::default());
        assert_eq!(
            (s.state, s.line.as_str()),
            (
                OverallState::Attention,
                "12 deletes waiting for your confirmation"
            )
        );
    }

    #[test]
    fn each_account_has_its_line() {
        assert_eq!(
            account_line(&account(AccountState::Idle, 0, 1)),
            "Up to date · 1 photo"
        );
        assert_eq!(
            account_line(&account(AccountState::Syncing, 3, 1)),
            "Uploading · 3 files waiting"
        );
        assert_eq!(
            account_line(&account(AccountState::Offline, 0, 1)),
            "Can't reach photos.example.com · will keep trying"
        );
        let mut stopped = account(AccountState::Error, 0, 1);
        stopped.message = Some("The uploader stopped: state database error: disk I/O error".into());
        assert_eq!(
            account_line(&stopped),
            "Needs attention: The uploader stopped"
        );
    }

    #[test]
    fn delete_examples_follow_the_engine_policy() {
        let mirror = delete_examples(DeletePolicy {
            mode: DeleteMode::Mirror,
            threshold_days: 30.0,
            max_age_days: 3650.0,
        });
        assert_eq!(
            mirror,
            vec![
                "A photo 2 weeks old that you delete here: moved to the Immich trash (you can restore it there).",
                "A photo 2 months old that you delete here: kept in Immich.",
                "A photo you delete in Immich: moved to this computer's trash (only if unchanged here).",
            ]
        );
        let upload_only = delete_examples(DeletePolicy {
            mode: DeleteMode::UploadOnly,
            threshold_days: 30.0,
            max_age_days: 3650.0,
        });
        assert_eq!(
            upload_only[0],
            "A photo 2 weeks old that you delete here: kept in Immich."
        );
        assert_eq!(
            upload_only[1],
            "A photo you delete in Immich: stays on this computer."
        );
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
