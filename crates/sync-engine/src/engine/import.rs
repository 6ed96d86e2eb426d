//! `immich-syncd import-state`: importing the older service's state file kept elsewhere.

use super::*;

/// Why `import-state` could not import.
#[derive(Debug, thiserror::Error)]
pub enum ImportStateError {
    /// The state file or event log cannot be used.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// No such account, or several to choose from.
    #[error("{0}")]
    Account(String),
    /// The server could not be reached or refused the key, or the key cannot be read.
    #[error("cannot connect to Immich: {0}")]
    Connect(#[from] Error),
    /// The import itself.
    #[error(transparent)]
    Import(#[from] crate::older_service::ImportError),
}

/// `immich-syncd import-state --from OLD.db`: imports the older service's state file at
/// `from` into `account` (the only one, when not named). `user` is the older service's user id
/// to take; by default the account's own name. Returns the account and what was imported.
pub async fn import_state(
    config: Config,
    from: &std::path::Path,
    account: Option<&str>,
    user: Option<&str>,
) -> Result<(String, crate::store::LegacyImport), ImportStateError> {
    let chosen = match account {
        Some(name) => config
            .accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                ImportStateError::Account(format!("no account named `{name}` in the configuration"))
            })?,
        None => match config.accounts.as_slice() {
            [only] => only,
            _ => {
                return Err(ImportStateError::Account(
                    "the configuration has several accounts: name one with --account".into(),
                ));
            }
        },
    }
    .clone();
    let (store, events) = open_files(&config, EngineOptions::default()).await?;
    let status = StatusBoard::default();
    let (_paused, paused) = watch::channel(false);
    let account = connect(
        &chosen,
        &config,
        &store,
        &events,
        &status,
        EngineOptions::default(),
        paused,
        CancellationToken::new(),
        None,
    )
    .await?;
    let report = crate::older_service::import_file(&account, from, user).await?;
    Ok((chosen.name, report))
}
