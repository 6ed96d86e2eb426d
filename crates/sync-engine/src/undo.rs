//! Undo: puts back what the engine deleted, from the trash it went to.
//!
//! Every delete the engine carries out is in the action journal (`store::journal`). Undoing
//! one reverts exactly what the engine did, and nothing the user did: a file the engine moved
//! to the OS trash comes back to its folder (its content stays remembered as deleted in
//! Immich, so it is not uploaded again unless the user asks), and an asset the engine moved to
//! the Immich trash comes out of it (the local file the user deleted stays deleted).

use std::collections::HashMap;

use crate::account::{Account, now_ms};
use crate::config::Config;
use crate::events::{EventKind, Worker};
use crate::immich::{ApiError, ImmichClient};
use crate::os_trash::{self, RestoreError};
use crate::store::{DeleteDirection, JournalEntry, Store, StoreError};

/// Which journal entries to undo.
#[derive(Debug, Clone)]
pub enum UndoSelection {
    /// These ids (from the journal listing).
    Ids(Vec<i64>),
    /// Every delete since this time (unix ms).
    Since(i64),
}

/// Why one entry could not be undone.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    /// No entry with that id.
    #[error("no delete with id {0} in the journal (see `immich-syncd journal`)")]
    NoSuchEntry(i64),
    /// It was undone before.
    #[error("already undone")]
    AlreadyUndone,
    /// The OS trash could not give the file back.
    #[error("cannot put the file back: {0}")]
    Local(#[from] RestoreError),
    /// Immich refused or could not be reached.
    #[error("cannot restore the asset from the Immich trash: {0}")]
    Remote(#[from] ApiError),
    /// No connection to the account's server.
    #[error("cannot connect to Immich: {0}")]
    Connect(String),
    /// The account is not in the configuration any more.
    #[error("the account `{0}` is not in the configuration")]
    NoAccount(String),
    /// The entry names no asset.
    #[error("the journal does not name its asset")]
    NoAsset,
}

/// The outcome for one journal entry.
#[derive(Debug)]
pub struct UndoOutcome {
    /// The entry, or its id when it does not exist.
    pub id: i64,
    /// Its account, when the entry exists.
    pub account: Option<String>,
    /// The file it was about.
    pub path: Option<std::path::PathBuf>,
    /// What was put back, in words, or why not.
    pub result: Result<String, UndoError>,
}

/// Undoes the selected deletes. Files come back from the OS trash; assets come back from the
/// Immich trash through each account's server (connected on demand). Store failures stop the
/// whole run; anything else is reported per entry.
pub async fn undo(
    config: &Config,
    store: &Store,
    selection: UndoSelection,
) -> Result<Vec<UndoOutcome>, StoreError> {
    let entries: Vec<Result<JournalEntry, i64>> = match selection {
        UndoSelection::Ids(ids) => {
            store
                .call(move |db| {
                    ids.into_iter()
                        .map(|id| Ok(db.journal_entry(id)?.ok_or(id)))
                        .collect::<Result<Vec<_>, StoreError>>()
                })
                .await?
        }
        UndoSelection::Since(since) => store
            .call(move |db| db.journal(None, since, usize::MAX >> 1))
            .await?
            .into_iter()
            .filter(|e| e.undone_at.is_none())
            .map(Ok)
            .collect(),
    };
    let mut clients: HashMap<String, Result<ImmichClient, String>> = HashMap::new();
    let mut out = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(id) => {
                out.push(UndoOutcome {
                    id,
                    account: None,
                    path: None,
                    result: Err(UndoError::NoSuchEntry(id)),
                });
                continue;
            }
        };
        let id = entry.id;
        let result = if entry.undone_at.is_some() {
            Err(UndoError::AlreadyUndone)
        } else {
            match entry.direction {
                DeleteDirection::ToLocal => put_file_back(&entry).await,
                DeleteDirection::ToImmich => {
                    if !clients.contains_key(&entry.account) {
                        let client = connect(config, store, &entry.account).await;
                        clients.insert(entry.account.clone(), client);
                    }
                    match clients.get(&entry.account) {
                        Some(Ok(client)) => restore_asset(client, &entry).await,
                        Some(Err(e)) => Err(UndoError::Connect(e.clone())),
                        None => Err(UndoError::NoAccount(entry.account.clone())),
                    }
                }
            }
        };
        if result.is_ok() {
            store.call(move |db| db.mark_undone(id, now_ms())).await?;
        }
        out.push(UndoOutcome {
            id,
            account: Some(entry.account.clone()),
            path: Some(entry.path.clone()),
            result,
        });
    }
    Ok(out)
}

async fn connect(config: &Config, store: &Store, account: &str) -> Result<ImmichClient, String> {
    let Some(account) = config.accounts.iter().find(|a| a.name == account) else {
        return Err(format!(
            "the account `{account}` is not in the configuration"
        ));
    };
    crate::engine::handshake(account, store, None)
        .await
        .map(|(client, _)| client)
        .map_err(|e| e.to_string())
}

async fn put_file_back(entry: &JournalEntry) -> Result<String, UndoError> {
    let trash_id = entry.trash_id.clone();
    let path = entry.path.clone();
    crate::blocking::spawn(move || os_trash::restore(trash_id.as_deref(), &path))
        .await
        .map_err(|e| UndoError::Local(RestoreError::Failed(e.to_string())))??;
    Ok(format!(
        "{} is back from the {}",
        entry.path.display(),
        os_trash::name()
    ))
}

async fn restore_asset(client: &ImmichClient, entry: &JournalEntry) -> Result<String, UndoError> {
    let asset = entry.asset_id.clone().ok_or(UndoError::NoAsset)?;
    client
        .restore_from_trash(std::slice::from_ref(&asset))
        .await?;
    Ok(format!(
        "the photo of {} is back from the Immich trash",
        entry.path.display()
    ))
}

/// Puts a file the engine moved to the OS trash back (a photo restored in Immich, in a mirror
/// folder), and tells.
pub(crate) async fn undo_local(account: &Account, entry: &JournalEntry) {
    let id = entry.id;
    match put_file_back(entry).await {
        Ok(detail) => {
            if let Err(e) = account
                .store
                .call(move |db| db.mark_undone(id, now_ms()))
                .await
            {
                tracing::error!("cannot record an undo: {e}");
            }
            account.emit(Worker::Reconciler, EventKind::Undone, |e| {
                e.path(&entry.path)
                    .detail(format!("restored in Immich, so {detail}"))
            });
        }
        Err(error) => account.emit(Worker::Reconciler, EventKind::Error, |e| {
            e.path(&entry.path).detail(format!(
                "restored in Immich, but the file could not come back: {error}"
            ))
        }),
    }
}
