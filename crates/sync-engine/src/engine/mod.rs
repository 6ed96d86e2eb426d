//! Starting the engine, and the one handle the outside world uses.
//!
//! [`Engine::start`] opens the store (on the blocking pool), then runs one supervisor task per
//! account (`supervisor`). A supervisor connects (`connect`: handshake, with backoff while the
//! server is unreachable; folder bindings; the move-over import), then runs the four named
//! workers until the engine shuts down or the account is reconfigured. [`EngineHandle`]
//! (`handle`) is what the daemon and the tray app hold: status snapshots, the event stream,
//! pause/resume, sync now, held deletes, the journal and undo, tombstones, configuration and
//! shutdown. [`run_once`] (`once`) is the same work done once for `--once` (the scan beside the
//! remote check, then uploads, then deletes);
//! [`import_state`] (`import`) is `immich-syncd import-state`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::account::{Account, Folder, now_ms};
use crate::config::{AccountConfig, Config};
use crate::error::{Error, LocalError};
use crate::events::{Event, EventBus, EventKind, Worker};
use crate::filter::{Filter, MediaTypes};
use crate::immich::{ApiError, ImmichClient, ServerInfo};
use crate::named_workers::{WorkerEnd, WorkerFuture, supervise};
use crate::policy;
use crate::secret::ApiKey;
use crate::status::{AccountState, FolderState, Status, StatusBoard};
use crate::store::{
    Decision, FolderBinding, HeldDelete, JournalEntry, MissingFile, Store, StoreError,
    TombstonePage,
};
use crate::undo::{UndoOutcome, UndoSelection};
use crate::workers::{reconciler, scanner, uploader, watcher};

mod connect;
mod handle;
mod import;
mod once;
mod supervisor;

use connect::connect;
pub(crate) use connect::handshake;
pub use connect::{CheckedConnection, check_connection, test_connection};
use handle::Inner;
pub use handle::{DeletePreview, EngineHandle};
pub use import::{ImportStateError, import_state};
pub use once::{OnceReport, run_once, run_once_checked};
use supervisor::{Supervisor, report_connect_error};

/// How long shutdown waits for workers to finish what they are doing.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Retry delay for an account whose key or server needs the user: checked again rarely.
const ACCOUNT_PROBLEM_RETRY: Duration = Duration::from_secs(300);

/// What stops the engine from starting: the state file or the event log (always local).
pub type EngineError = LocalError;

/// How the engine runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineOptions {
    /// Change nothing on either side; log what would happen.
    pub dry_run: bool,
}

/// Starts engines.
#[derive(Debug)]
pub struct Engine;

/// Opens the store the configuration names (a private copy for dry runs). A real run holds
/// the engine lock on it, so a second engine on the same file stops with a clear message.
pub fn open_store(config: &Config, options: EngineOptions) -> Result<Store, StoreError> {
    let store = if options.dry_run {
        Store::snapshot_of(&config.database_path)?
    } else {
        Store::open_for_engine(&config.database_path)?
    };
    store.with(|db| db.requeue_interrupted())?;
    Ok(store)
}

/// The state file (integrity check, migrations) and the event log, opened on a blocking thread.
async fn open_files(
    config: &Config,
    options: EngineOptions,
) -> Result<(Store, EventBus), LocalError> {
    let config = config.clone();
    crate::blocking::spawn(move || {
        let store = open_store(&config, options)?;
        Ok((store, open_events(&config)?))
    })
    .await
    .map_err(|e| LocalError::Task(e.to_string()))?
}

/// Tells every account (event log, log, activity list) that the state file was damaged and
/// is being rebuilt.
fn announce_recovery(store: &Store, events: &EventBus, config: &Config) {
    let Some(recovery) = store.recovery() else {
        return;
    };
    for account in &config.accounts {
        events.emit(
            Event::new(&account.name, Worker::Engine, EventKind::Error).detail(recovery.message()),
        );
    }
}

fn open_events(config: &Config) -> Result<EventBus, EngineError> {
    EventBus::new(config.event_log.as_deref()).map_err(|source| LocalError::EventLog {
        path: config.event_log.clone().unwrap_or_default(),
        source,
    })
}

impl Engine {
    /// Opens the store and starts every configured account.
    pub async fn start(
        config: Config,
        options: EngineOptions,
    ) -> Result<EngineHandle, EngineError> {
        let (store, events) = open_files(&config, options).await?;
        announce_recovery(&store, &events, &config);
        let handle = EngineHandle {
            inner: Arc::new(Inner {
                status: StatusBoard::default(),
                events,
                store,
                options,
                config: Mutex::new(Arc::new(config)),
                accounts: Mutex::new(HashMap::new()),
                cancel: CancellationToken::new(),
                tasks: TaskTracker::new(),
                reconfiguring: tokio::sync::Mutex::new(()),
            }),
        };
        handle.start_accounts();
        Ok(handle)
    }
}
