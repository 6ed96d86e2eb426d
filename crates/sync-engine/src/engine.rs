//! The supervisor and the one handle the outside world uses.
//!
//! [`Engine::start`] opens the store, then runs one supervisor task per account. A supervisor
//! connects (handshake, with backoff while the server is unreachable), checks that each folder
//! still belongs to the same server and Immich user, and then runs the four workers until the
//! engine shuts down or the account is reconfigured. [`EngineHandle`] is what the daemon and
//! the tray app hold: status snapshots, the event stream, pause/resume, sync now, reconfigure,
//! and shutdown. [`run_once`] is the same work done once, in order, for `--once`.

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
use crate::policy;
use crate::secret::ApiKey;
use crate::status::{AccountState, FolderState, Status, StatusBoard};
use crate::store::{
    Decision, FolderBinding, HeldDelete, JournalEntry, MissingFile, Store, StoreError, Tombstone,
};
use crate::supervisor::{WorkerEnd, WorkerFuture, supervise};
use crate::undo::{UndoOutcome, UndoSelection};
use crate::workers::{reconciler, scanner, uploader, watcher};

/// How long shutdown waits for workers to finish what they are doing.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);
/// Retry delay for an account whose key or server needs the user: checked again rarely.
const ACCOUNT_PROBLEM_RETRY: Duration = Duration::from_secs(300);

/// What a delete policy would do now with the local deletes waiting in a folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeletePreview {
    /// Local deletes waiting (for their batch to close, or for the user).
    pub waiting: u64,
    /// How many of them the policy would send to the Immich trash (at most: Immich may know
    /// some photos to be older).
    pub to_immich_trash: u64,
    /// The sentence to show, if there is anything to say.
    pub sentence: Option<String>,
}

impl DeletePreview {
    fn new(waiting: u64, to_immich_trash: u64) -> DeletePreview {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let sentence = match (waiting, to_immich_trash) {
            (0, _) => None,
            (w, 0) => Some(format!(
                "{w} local delete{} waiting would stay in Immich",
                plural(w)
            )),
            (_, t) => Some(format!(
                "{t} local delete{} waiting would go to the Immich trash",
                plural(t)
            )),
        };
        DeletePreview {
            waiting,
            to_immich_trash,
            sentence,
        }
    }
}

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

struct AccountSlot {
    paused: watch::Sender<bool>,
    cancel: CancellationToken,
    live: Arc<Mutex<Option<Arc<Account>>>>,
    /// The account's supervisor: it ends once every worker has.
    task: tokio::task::JoinHandle<()>,
}

struct Inner {
    status: StatusBoard,
    events: EventBus,
    store: Store,
    options: EngineOptions,
    config: Mutex<Arc<Config>>,
    accounts: Mutex<HashMap<String, AccountSlot>>,
    cancel: CancellationToken,
    tasks: TaskTracker,
}

/// The engine's one handle; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle").finish_non_exhaustive()
    }
}

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
            }),
        };
        handle.start_accounts();
        Ok(handle)
    }
}

impl EngineHandle {
    /// A full status snapshot.
    pub fn status(&self) -> Status {
        self.inner.status.snapshot()
    }

    /// Wakes whenever the status changes (coalesced).
    pub fn watch_status(&self) -> watch::Receiver<u64> {
        self.inner.status.watch()
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.inner
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Pauses one account, or all with `None`. In-flight uploads finish; nothing new starts.
    pub fn pause(&self, account: Option<&str>) {
        self.set_paused(account, true);
    }

    /// Resumes one account, or all with `None`.
    pub fn resume(&self, account: Option<&str>) {
        self.set_paused(account, false);
    }

    /// Asks every running account for a full scan, upload and remote check now.
    pub fn sync_now(&self) {
        for slot in self.lock_accounts().values() {
            if let Some(account) = slot.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                account.sync_now();
            }
        }
    }

    /// Deletes held by the mass-delete guard, waiting or decided but not yet carried out.
    pub async fn held_deletes(&self) -> Result<Vec<HeldDelete>, StoreError> {
        self.inner.store.call(|db| db.held_deletes(None)).await
    }

    /// Approves (or rejects) held deletes — `None` means every waiting one — and lets the
    /// reconcilers act on the decision now. Returns how many were decided.
    pub async fn decide_deletes(
        &self,
        ids: Option<Vec<i64>>,
        approve: bool,
    ) -> Result<usize, StoreError> {
        let decision = if approve {
            Decision::Approved
        } else {
            Decision::Rejected
        };
        let changed = self
            .inner
            .store
            .call(move |db| db.decide(ids.as_deref(), decision))
            .await?;
        for slot in self.lock_accounts().values() {
            if let Some(account) = slot.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                account.wake_reconciler.notify_one();
            }
        }
        Ok(changed)
    }

    /// Deletes the engine carried out, either way, newest first (at most `limit`).
    pub async fn journal(&self, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        self.inner
            .store
            .call(move |db| db.journal(None, i64::MIN, limit))
            .await
    }

    /// Puts back what the engine deleted (journal ids): files from the OS trash, assets from
    /// the Immich trash. A scan follows, so a file that came back is seen at once.
    pub async fn undo(&self, ids: Vec<i64>) -> Result<Vec<UndoOutcome>, StoreError> {
        let config = self.config();
        let outcomes =
            crate::undo::undo(&config, &self.inner.store, UndoSelection::Ids(ids)).await?;
        for outcome in &outcomes {
            if let (Ok(done), Some(account), Some(path)) =
                (&outcome.result, &outcome.account, &outcome.path)
            {
                self.inner.events.emit(
                    Event::new(account, Worker::Engine, EventKind::Undone)
                        .path(path)
                        .detail(format!("undone: {done}")),
                );
            }
        }
        self.sync_now();
        Ok(outcomes)
    }

    /// Photos remembered as deleted in Immich (never restored or uploaded again by themselves).
    pub async fn tombstones(&self) -> Result<Vec<Tombstone>, StoreError> {
        self.inner.store.call(|db| db.tombstones(None)).await
    }

    /// "Upload again" for photos remembered as deleted in Immich (`None`: all of them).
    /// Returns how many.
    pub async fn upload_again(&self, ids: Option<Vec<i64>>) -> Result<usize, StoreError> {
        let n = self
            .inner
            .store
            .call(move |db| db.forgive_tombstones(ids.as_deref(), now_ms()))
            .await?;
        self.sync_now();
        Ok(n)
    }

    /// What `policy` would do now, for a folder of `account`, with the local deletes that are
    /// waiting (for their batch, or for the user): shown before a policy change is saved.
    pub async fn delete_preview(
        &self,
        account: &str,
        folder: &std::path::Path,
        policy: crate::config::DeletePolicy,
    ) -> Result<DeletePreview, StoreError> {
        let (account, folder) = (account.to_owned(), folder.to_owned());
        self.inner
            .store
            .call(move |db| {
                let id = db.folder_id(&account, &folder)?;
                let missing: Vec<MissingFile> = db
                    .missing_files(&account)?
                    .into_iter()
                    .filter(|m| Some(m.folder) == id)
                    .collect();
                let now = now_ms();
                let mut to_trash = 0;
                for m in &missing {
                    let shared = db.live_references(&account, &m.asset_id)? > 0;
                    let planned = crate::plan::plan_delete(&crate::plan::DeleteFacts {
                        local: crate::plan::Local::Gone,
                        remote: crate::plan::Remote::Alive,
                        policy: &policy,
                        born_ms: m.born_at,
                        deleted_ms: now,
                        shared,
                        decision: None,
                        trashed_by_engine: false,
                    });
                    if matches!(planned.action, crate::plan::Action::TrashInImmich { .. }) {
                        to_trash += 1;
                    }
                }
                Ok(DeletePreview::new(missing.len() as u64, to_trash))
            })
            .await
    }

    /// Moves over from the older service's state file at `path` (the tray app's "I used the
    /// older sync service"): each account imports it at its next start. Call before applying
    /// the configuration that came with it.
    pub async fn adopt_older_state(&self, path: std::path::PathBuf) -> Result<(), StoreError> {
        self.inner
            .store
            .call(move |db| crate::older_service::adopt(db, &path))
            .await
    }

    /// Saves and applies a configuration edited in a settings window: validated by the engine's
    /// own rules (every problem keyed by field), written to `file` atomically (on the blocking
    /// pool), then applied with `resolve` turning it into what runs (keys from the keychain
    /// read in). Returns the configuration as saved. Nothing is written or applied when it is
    /// invalid.
    pub async fn apply_config(
        &self,
        config: &Config,
        file: &std::path::Path,
        resolve: impl FnOnce(&Config) -> Config,
    ) -> Result<Config, crate::config::ConfigError> {
        let base = file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let (validated, text) = crate::config::validate(config, &base)?;
        let path = file.to_owned();
        crate::blocking::spawn(move || crate::config::write_file(&path, &text))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|written| written)
            .map_err(|source| crate::config::ConfigError::Write {
                path: file.to_owned(),
                source,
            })?;
        self.reconfigure(resolve(&validated)).await;
        Ok(validated)
    }

    /// Applies a new configuration: accounts are restarted with it, the store is kept.
    pub async fn reconfigure(&self, config: Config) {
        self.stop_accounts().await;
        // Folders no longer configured are forgotten, so adding one again starts over cleanly.
        let old = self.config();
        let removed: Vec<(String, std::path::PathBuf)> = old
            .accounts
            .iter()
            .flat_map(|a| {
                a.folders
                    .iter()
                    .map(move |f| (a.name.clone(), f.path.clone()))
            })
            .filter(|(name, path)| {
                !config
                    .accounts
                    .iter()
                    .any(|a| &a.name == name && a.folders.iter().any(|f| &f.path == path))
            })
            .collect();
        if !removed.is_empty() {
            let result = self
                .inner
                .store
                .call(move |db| {
                    for (account, root) in &removed {
                        db.forget_folder(account, root)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = result {
                tracing::warn!("cannot forget removed folders: {e}");
            }
        }
        *self.inner.config.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        self.start_accounts();
    }

    /// Stops every worker, waiting up to [`SHUTDOWN_DEADLINE`] for work in flight.
    pub async fn shutdown(&self) {
        self.inner.cancel.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "some workers did not stop within {SHUTDOWN_DEADLINE:?}; their work resumes at the next start"
            );
        } else {
            // Everything stopped: another engine may use the state file now.
            self.inner.store.release_engine_lock();
        }
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccountSlot>> {
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn set_paused(&self, account: Option<&str>, paused: bool) {
        for (name, slot) in self.lock_accounts().iter() {
            if account.is_some_and(|a| a != name) {
                continue;
            }
            if slot.paused.send_replace(paused) == paused {
                continue;
            }
            let kind = if paused {
                EventKind::Paused
            } else {
                EventKind::Resumed
            };
            self.inner
                .events
                .emit(Event::new(name, Worker::Engine, kind));
            if paused {
                self.inner
                    .status
                    .set_state(name, AccountState::Paused, Some("Paused".into()));
            } else {
                self.inner
                    .status
                    .set_state(name, AccountState::Syncing, Some("Resuming…".into()));
                if let Some(live) = slot.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                    live.wake_uploader.notify_one();
                    live.wake_reconciler.notify_one();
                }
            }
        }
    }

    fn start_accounts(&self) {
        let config = self.config();
        let mut slots = self.lock_accounts();
        for account in &config.accounts {
            let folders: Vec<String> = account
                .folders
                .iter()
                .map(|f| f.path.to_string_lossy().into_owned())
                .collect();
            self.inner
                .status
                .add_account(&account.name, &account.server_url, &folders);
            let (paused, paused_rx) = watch::channel(account.paused);
            if account.paused {
                self.inner.status.set_state(
                    &account.name,
                    AccountState::Paused,
                    Some("Paused".into()),
                );
            }
            let cancel = self.inner.cancel.child_token();
            let live = Arc::new(Mutex::new(None));
            let supervisor = Supervisor {
                config: account.clone(),
                engine: config.clone(),
                store: self.inner.store.clone(),
                events: self.inner.events.clone(),
                status: self.inner.status.clone(),
                options: self.inner.options,
                paused: paused_rx,
                cancel: cancel.clone(),
                live: live.clone(),
            };
            let task = self.inner.tasks.spawn(supervisor.run());
            slots.insert(
                account.name.clone(),
                AccountSlot {
                    paused,
                    cancel,
                    live,
                    task,
                },
            );
        }
    }

    async fn stop_accounts(&self) {
        let slots: Vec<AccountSlot> = self.lock_accounts().drain().map(|(_, s)| s).collect();
        for slot in &slots {
            slot.cancel.cancel();
        }
        // Wait for the supervisors of these accounts, and so for all their workers, to end.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        for slot in slots {
            if tokio::time::timeout_at(deadline, slot.task).await.is_err() {
                tracing::warn!(
                    "an account did not stop within {SHUTDOWN_DEADLINE:?}; its work resumes at the next start"
                );
            }
        }
    }
}

/// Connects to the server and reports what a settings window shows for "Test connection".
pub async fn test_connection(server_url: &str, key: ApiKey) -> Result<ServerInfo, ApiError> {
    let mut client = ImmichClient::new(server_url, key, "immich-sync-connection-test")?;
    client.handshake().await
}

struct Supervisor {
    config: AccountConfig,
    engine: Arc<Config>,
    store: Store,
    events: EventBus,
    status: StatusBoard,
    options: EngineOptions,
    paused: watch::Receiver<bool>,
    cancel: CancellationToken,
    live: Arc<Mutex<Option<Arc<Account>>>>,
}

impl Supervisor {
    async fn run(self) {
        let name = self.config.name.clone();
        let mut attempt = 0;
        let account = loop {
            match connect(
                &self.config,
                &self.engine,
                &self.store,
                &self.events,
                &self.status,
                self.options,
                self.paused.clone(),
                self.cancel.clone(),
            )
            .await
            {
                Ok(account) => break account,
                Err(error) => {
                    let wait = if error.is_transient() {
                        attempt += 1;
                        policy::retry_delay(attempt - 1, error.retry_after())
                    } else {
                        ACCOUNT_PROBLEM_RETRY
                    };
                    report_connect_error(&self.events, &self.status, &name, &error, wait);
                    tokio::select! {
                        _ = self.cancel.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        };
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(account.clone());
        let start = {
            let account = account.clone();
            move |worker: Worker| -> WorkerFuture {
                let account = account.clone();
                match worker {
                    Worker::Watcher => Box::pin(watcher::run(account)),
                    Worker::Scanner => Box::pin(scanner::run(account)),
                    Worker::Uploader => Box::pin(uploader::run(account)),
                    Worker::Reconciler | Worker::Engine => Box::pin(reconciler::run(account)),
                }
            }
        };
        let reporting = account.clone();
        supervise(
            &[
                Worker::Watcher,
                Worker::Scanner,
                Worker::Uploader,
                Worker::Reconciler,
            ],
            start,
            account.cancel.clone(),
            move |worker, end| report_worker_end(&reporting, worker, end),
        )
        .await;
        self.live.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A worker that failed: the account's status names it ("The uploader stopped: …") until it
/// runs again.
fn report_worker_end(account: &Account, worker: Worker, end: WorkerEnd) {
    let (state, message) = match &end {
        WorkerEnd::Restarting { error, after } => (
            AccountState::Error,
            format!(
                "The {} stopped: {error}; it starts again in {} s",
                worker.noun(),
                after.as_secs().max(1)
            ),
        ),
        WorkerEnd::Stopped { error } => (
            AccountState::Error,
            format!("The {} stopped: {error}", worker.noun()),
        ),
    };
    account.status.edit(&account.name, |s| {
        s.state = state;
        s.message = Some(message.clone());
        s.last_error = Some(message.clone());
    });
    account.emit(Worker::Engine, EventKind::AccountError, |e| {
        e.detail(message)
    });
}

fn report_connect_error(
    events: &EventBus,
    status: &StatusBoard,
    name: &str,
    error: &Error,
    wait: Duration,
) {
    let (state, message, kind) = if error.is_transient() {
        (
            AccountState::Offline,
            format!("{error} — retrying in {} s", wait.as_secs().max(1)),
            EventKind::Offline,
        )
    } else {
        (
            AccountState::Error,
            error.to_string(),
            EventKind::AccountError,
        )
    };
    status.edit(name, |s| {
        if s.state != AccountState::Paused {
            s.state = state;
        }
        s.message = Some(message.clone());
        s.last_error = Some(message.clone());
    });
    events.emit(Event::new(name, Worker::Engine, kind).detail(message));
}

/// A client for the account, with this installation's device id, after the handshake.
pub(crate) async fn handshake(
    config: &AccountConfig,
    store: &Store,
) -> Result<(ImmichClient, ServerInfo), Error> {
    // The key may be a file to read: off the runtime's threads.
    let source = config.api_key.clone();
    let name = config.name.clone();
    let key = crate::blocking::spawn(move || source.resolve(&name))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(LocalError::KeySource)?;
    let device_id = store.call(|db| db.device_id()).await?;
    let mut client = ImmichClient::new(&config.server_url, key, &device_id)?;
    let server = client.handshake().await?;
    Ok((client, server))
}

/// Handshake, folder binding checks, and the shared context of the workers.
#[allow(clippy::too_many_arguments)]
async fn connect(
    config: &AccountConfig,
    engine: &Config,
    store: &Store,
    events: &EventBus,
    status: &StatusBoard,
    options: EngineOptions,
    paused: watch::Receiver<bool>,
    cancel: CancellationToken,
) -> Result<Arc<Account>, Error> {
    let (client, server) = handshake(config, store).await?;
    if let Some(permission) = server.missing_permissions.first() {
        return Err(Error::Remote(ApiError::MissingPermission {
            permission: if server.missing_permissions.len() == 1 {
                permission.clone()
            } else {
                server.missing_permissions.join("`, `")
            },
        }));
    }
    let media = MediaTypes::new(
        &server.image_types,
        &server.video_types,
        &server.sidecar_types,
    );
    let mut folders = Vec::new();
    for folder in &config.folders {
        let account_name = config.name.clone();
        let root = folder.path.clone();
        let id = store
            .call(move |db| db.ensure_folder(&account_name, &root))
            .await?;
        let filter = Filter::new(media.clone(), &folder.exclude_extensions);
        folders.push(Arc::new(Folder::new(
            id,
            folder.path.clone(),
            folder.policy,
            filter,
        )));
    }
    let account = Arc::new(Account {
        name: config.name.clone(),
        client,
        store: store.clone(),
        events: events.clone(),
        status: status.clone(),
        folders,
        intervals: engine.intervals,
        upload_concurrency: engine.upload_concurrency,
        delete_guard: engine.delete_guard,
        dry_run: options.dry_run,
        wake_uploader: Notify::new(),
        wake_reconciler: Notify::new(),
        rescan: Notify::new(),
        check_remote_now: Default::default(),
        paused,
        cancel,
        server,
    });
    check_bindings(&account).await;
    let names: Vec<String> = engine.accounts.iter().map(|a| a.name.clone()).collect();
    crate::older_service::import_in_place(&account, &engine.database_path, &names).await;
    account.emit(Worker::Engine, EventKind::Connected, |e| {
        e.detail(format!(
            "Immich {} ({:?} API) as {} <{}>",
            account.server.version,
            account.server.profile,
            account.server.user_name,
            account.server.user_email
        ))
    });
    status.edit(&config.name, |s| {
        s.server_version = Some(account.server.version.clone());
        s.user = Some(format!(
            "{} <{}>",
            account.server.user_name, account.server.user_email
        ));
        if s.state != AccountState::Paused {
            s.state = AccountState::Scanning;
            s.message = Some("Scanning folders…".into());
        }
        s.last_error = None;
    });
    Ok(account)
}

/// A folder stays with the server and Immich user it was first synced with. If the key now
/// belongs to someone else, the folder is held: nothing is uploaded to or deleted from the wrong
/// library.
async fn check_bindings(account: &Account) {
    let current = FolderBinding {
        server_url: account.client.server_url().to_owned(),
        immich_user_id: account.server.user_id.clone(),
    };
    for folder in &account.folders {
        let id = folder.id;
        let wanted = current.clone();
        let result = account
            .store
            .call(move |db| match db.folder_binding(id)? {
                None => db.set_folder_binding(id, &wanted).map(|_| None),
                Some(existing) => Ok(Some(existing)),
            })
            .await;
        let Ok(Some(existing)) = result else { continue };
        let mismatch = if existing.immich_user_id != current.immich_user_id {
            Some(format!(
                "this folder was synced with another Immich user (id {}), but the API key belongs to {} <{}>. Nothing is uploaded or deleted; use the right key or remove and re-add the folder",
                existing.immich_user_id, account.server.user_name, account.server.user_email
            ))
        } else if existing.server_url != current.server_url {
            Some(format!(
                "this folder was synced with {}, but the account now points at {}. Nothing is uploaded or deleted; fix the server URL or remove and re-add the folder",
                existing.server_url, current.server_url
            ))
        } else {
            None
        };
        if let Some(message) = mismatch {
            folder.set_state(FolderState::Mismatch);
            account.emit(Worker::Engine, EventKind::FolderUnavailable, |e| {
                e.path(&folder.root).detail(message.clone())
            });
            account
                .status
                .edit_folder(&account.name, &folder.display, |f| {
                    f.state = FolderState::Mismatch;
                    f.message = Some(message);
                });
        }
    }
}

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
    )
    .await?;
    let report = crate::older_service::import_file(&account, from, user).await?;
    Ok((chosen.name, report))
}

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
const ONCE_MAX_ATTEMPTS: u32 = 5;

/// One full pass for every account: scan, upload, reconcile. Dry runs reconcile before they
/// pretend to upload, so that pretend links are never mistaken for remote deletes.
pub async fn run_once(config: Config, options: EngineOptions) -> Result<OnceReport, EngineError> {
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
        for folder in &account.folders {
            let summary = scanner::scan_folder(&account, folder).await;
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
        if options.dry_run {
            reconcile_once(&account, &mut report).await;
            upload_once(&account, &mut report).await;
        } else {
            upload_once(&account, &mut report).await;
            reconcile_once(&account, &mut report).await;
        }
        let name = account.name.clone();
        report.pending += store
            .call(move |db| db.queue_depth(&name))
            .await
            .unwrap_or(0);
    }
    Ok(report)
}

async fn upload_once(account: &Arc<Account>, report: &mut OnceReport) {
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
        let name = account.name.clone();
        let next = account
            .store
            .call(move |db| db.next_retry_at(&name))
            .await
            .ok()
            .flatten();
        let name = account.name.clone();
        let exhausted = account
            .store
            .call(move |db| {
                Ok(db
                    .due_uploads(&name, i64::MAX, 1)?
                    .first()
                    .map(|f| f.attempts))
            })
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

async fn reconcile_once(account: &Arc<Account>, report: &mut OnceReport) {
    if let Err(error) = reconciler::remote::full_check(account).await {
        report
            .problems
            .push(format!("{}: remote check failed: {error}", account.name));
    }
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
