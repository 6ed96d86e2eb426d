//! Moving over from the older headless service (`immich-sync`).
//!
//! Its users bring their `config.toml` (read as is by `config`) and its state file. When
//! `database_path` is that file, each account imports its rows on its first start
//! ([`import_in_place`]); `immich-syncd import-state --from OLD.db` does the same for a state
//! file elsewhere ([`import_file`]). Either way nothing is hashed or uploaded again, and each
//! photo keeps the age the older service measured, so nothing is deleted that it would have
//! kept. Before importing, a few of the recorded assets are looked up: if none belongs to the
//! key's Immich user, the file is someone else's and is refused, and the folder is held.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::account::{Account, now_ms};
use crate::events::{EventKind, Worker};
use crate::immich::ApiError;
use crate::status::FolderState;
use crate::store::{LegacyImport, LegacyRow, StoreError, legacy_rows};

/// Assets looked up to check that the state file belongs to the key's user.
const OWNERSHIP_SAMPLE: usize = 5;

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file has no `assets` table of the older service.
    #[error("{0} is not a state file of the older immich-sync service (it has no `assets` table)")]
    NotOlderStateFile(String),
    /// The file records no photos of this account.
    #[error(
        "the state file records no photos of `{account}`; it has photos of {found}. Pass --user with one of those to import them into `{account}`"
    )]
    NoRowsForAccount {
        /// The account.
        account: String,
        /// The user ids it has, quoted.
        found: String,
    },
    /// The recorded assets belong to another Immich user.
    #[error(
        "the older sync service's state file records photos of `{user_id}`, but none of the {checked} checked belongs to {owner}, the user of this API key: nothing was imported, uploaded or deleted. Use that user's API key, or move the state file aside to start afresh"
    )]
    NotThisUser {
        /// The user id in the old file.
        user_id: String,
        /// How many assets were looked up.
        checked: usize,
        /// The key's user, "Name <email>".
        owner: String,
    },
    /// The account has no folder to import into.
    #[error("the account `{0}` has no folder to import into")]
    NoFolder(String),
    /// Immich could not be asked.
    #[error("cannot check the recorded photos in Immich: {0}")]
    Server(#[from] ApiError),
    /// The state file could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store's key naming a state file to move over from (see [`adopt`]).
const ADOPTED: &str = "older_state_file";

/// What the older service's `config.toml` holds, for the tray app's "I used the older sync
/// service": its accounts, folders, keys and policies, and its state file if it has one.
#[derive(Debug, Clone)]
pub struct OlderSetup {
    /// The configuration, as the engine reads it.
    pub config: crate::config::Config,
    /// The older service's state file, when it exists and is one.
    pub state_file: Option<PathBuf>,
}

/// Reads the older service's `config.toml` at `path` (blocking).
pub fn read_older_setup(path: &Path) -> Result<OlderSetup, crate::config::ConfigError> {
    let config = crate::config::load(path)?;
    let state_file = matches!(legacy_rows(&config.database_path), Ok(Some(_)))
        .then(|| config.database_path.clone());
    Ok(OlderSetup { config, state_file })
}

/// Names `path` as a state file every account moves over from at its next start (the tray
/// app's own state file lives elsewhere).
pub fn adopt(db: &mut crate::store::Db<'_>, path: &Path) -> Result<(), StoreError> {
    db.set_meta(ADOPTED, &path.to_string_lossy())?;
    db.clear_legacy_imports()
}

/// On an account's first start with the older service's state file as `database_path` (or
/// named by [`adopt`]): imports its rows, once. A file that belongs to another Immich user
/// holds the account's folders.
pub async fn import_in_place(account: &Arc<Account>, database_path: &Path, accounts: &[String]) {
    let name = account.name.clone();
    let adopted = match account
        .store
        .call(move |db| Ok((db.legacy_imported_at(&name)?, db.meta(ADOPTED)?)))
        .await
    {
        Ok((None, adopted)) => adopted.map(PathBuf::from),
        Ok((Some(_), _)) => return,
        Err(e) => {
            account.emit(Worker::Engine, EventKind::Error, |ev| {
                ev.detail(format!("cannot read the state database: {e}"))
            });
            return;
        }
    };
    let path = adopted.unwrap_or_else(|| database_path.to_owned());
    let rows = match crate::blocking::spawn(move || legacy_rows(&path)).await {
        Ok(Ok(Some(rows))) => rows,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            account.emit(Worker::Engine, EventKind::Error, |ev| {
                ev.detail(format!(
                    "cannot read the older sync service's records in the state file: {e}"
                ))
            });
            return;
        }
        Err(_) => return,
    };
    let strangers: Vec<String> = distinct_users(&rows)
        .into_iter()
        .filter(|u| !accounts.contains(u))
        .collect();
    if !strangers.is_empty() && account.name == accounts.first().cloned().unwrap_or_default() {
        account.emit(Worker::Engine, EventKind::Error, |ev| {
            ev.detail(format!(
                "the state file has photos of {} from the older sync service, but no account of that name is configured: they were not imported",
                quoted(&strangers)
            ))
        });
    }
    let mine: Vec<LegacyRow> = rows
        .into_iter()
        .filter(|r| r.user_id == account.name)
        .collect();
    if mine.is_empty() {
        // Nothing of this account there: not read again at every start.
        let name = account.name.clone();
        if let Err(e) = account
            .store
            .call(move |db| db.mark_legacy_imported(&name, now_ms()))
            .await
        {
            tracing::warn!("cannot record the older state file as read: {e}");
        }
        return;
    }
    match import_rows(account, &account.name.clone(), mine).await {
        Ok(_) => {}
        Err(error @ ImportError::NotThisUser { .. }) => {
            let message = error.to_string();
            for folder in &account.folders {
                folder.set_state(FolderState::Mismatch);
                account
                    .status
                    .edit_folder(&account.name, &folder.display, |f| {
                        f.state = FolderState::Mismatch;
                        f.message = Some(message.clone());
                    });
            }
            account.emit(Worker::Engine, EventKind::AccountError, |ev| {
                ev.detail(message)
            });
        }
        Err(error) => account.emit(Worker::Engine, EventKind::Error, |ev| {
            ev.detail(format!(
                "cannot import the older sync service's records: {error}; it is tried again at the next start"
            ))
        }),
    }
}

/// `immich-syncd import-state --from OLD.db`: imports the rows of `user_id` (the account's own
/// name unless given) from another state file into `account`.
pub async fn import_file(
    account: &Arc<Account>,
    from: &Path,
    user_id: Option<&str>,
) -> Result<LegacyImport, ImportError> {
    let path = from.to_owned();
    let rows = crate::blocking::spawn(move || legacy_rows(&path))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??
        .ok_or_else(|| ImportError::NotOlderStateFile(from.display().to_string()))?;
    let user = user_id.unwrap_or(&account.name).to_owned();
    let found = distinct_users(&rows);
    let mine: Vec<LegacyRow> = rows.into_iter().filter(|r| r.user_id == user).collect();
    if mine.is_empty() {
        return Err(ImportError::NoRowsForAccount {
            account: account.name.clone(),
            found: quoted(&found),
        });
    }
    import_rows(account, &user, mine).await
}

async fn import_rows(
    account: &Arc<Account>,
    user_id: &str,
    rows: Vec<LegacyRow>,
) -> Result<LegacyImport, ImportError> {
    check_owner(account, user_id, &rows).await?;
    let folder = account
        .folders
        .first()
        .cloned()
        .ok_or_else(|| ImportError::NoFolder(account.name.clone()))?;
    let (name, root, id) = (account.name.clone(), folder.root.clone(), folder.id);
    let report = account
        .store
        .call(move |db| db.import_legacy(&name, id, &root, &rows, now_ms()))
        .await?;
    account.emit(Worker::Engine, EventKind::MovedOver, |ev| {
        ev.path(&folder.root).detail(format!(
            "{} photos already in Immich, {} waiting for upload, {} deleted while no sync ran (judged by the delete policy with their recorded age); nothing is uploaded again",
            report.imported, report.queued, report.missing
        ))
    });
    account.wake_uploader.notify_one();
    account.wake_reconciler.notify_one();
    Ok(report)
}

/// Looks up a few recorded assets: at least one must belong to the key's user.
async fn check_owner(
    account: &Account,
    user_id: &str,
    rows: &[LegacyRow],
) -> Result<(), ImportError> {
    let sample: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.asset_id.as_deref())
        .take(OWNERSHIP_SAMPLE)
        .collect();
    if sample.is_empty() {
        return Ok(());
    }
    for asset in &sample {
        if let Some(info) = account.client.asset(asset).await?
            && info.owner_id == account.server.user_id
        {
            return Ok(());
        }
    }
    Err(ImportError::NotThisUser {
        user_id: user_id.to_owned(),
        checked: sample.len(),
        owner: format!(
            "{} <{}>",
            account.server.user_name, account.server.user_email
        ),
    })
}

fn distinct_users(rows: &[LegacyRow]) -> Vec<String> {
    let mut users: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
    users.sort();
    users.dedup();
    users
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
