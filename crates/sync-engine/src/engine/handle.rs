//! The one handle the outside world holds: status, events, pause and resume, sync now,
//! held deletes, the journal and undo, tombstones, configuration, shutdown.

use super::*;

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

pub(super) struct AccountSlot {
    pub(super) paused: watch::Sender<bool>,
    pub(super) cancel: CancellationToken,
    pub(super) live: Arc<Mutex<Option<Arc<Account>>>>,
    /// The account's supervisor: it ends once every worker has.
    pub(super) task: tokio::task::JoinHandle<()>,
}

pub(super) struct Inner {
    pub(super) status: StatusBoard,
    pub(super) events: EventBus,
    pub(super) store: Store,
    pub(super) options: EngineOptions,
    pub(super) config: Mutex<Arc<Config>>,
    pub(super) accounts: Mutex<HashMap<String, AccountSlot>>,
    pub(super) cancel: CancellationToken,
    pub(super) tasks: TaskTracker,
    /// One reconfiguration at a time (Settings, `reload`, SIGHUP may come together): two
    /// interleaved ones would leave accounts running that nothing can pause or stop.
    pub(super) reconfiguring: tokio::sync::Mutex<()>,
}

/// The engine's one handle; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct EngineHandle {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle").finish_non_exhaustive()
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

    /// The engine's state file, for the control commands that only read it.
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
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

    /// The oldest `limit` deletes the mass-delete guard holds that wait for a decision (the
    /// status counts them all, per folder).
    pub async fn waiting_deletes(&self, limit: usize) -> Result<Vec<HeldDelete>, StoreError> {
        self.inner
            .store
            .call(move |db| db.waiting_deletes(limit))
            .await
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

    /// Deletes the engine carried out since `since` (unix ms), either way, newest first (at
    /// most `limit`).
    pub async fn journal(&self, since: i64, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        self.inner
            .store
            .call(move |db| db.journal(None, since, limit))
            .await
    }

    /// Puts back what the engine deleted (journal ids, or all since a time): files from the OS
    /// trash, assets from the Immich trash. A scan follows, so a file that came back is seen at
    /// once.
    pub async fn undo(&self, selection: UndoSelection) -> Result<Vec<UndoOutcome>, StoreError> {
        let config = self.config();
        let outcomes = crate::undo::undo(&config, &self.inner.store, selection).await?;
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

    /// Photos remembered as deleted in Immich (never restored or uploaded again by
    /// themselves): how many, and the newest `limit`.
    pub async fn standing_tombstones(&self, limit: usize) -> Result<TombstonePage, StoreError> {
        self.inner
            .store
            .call(move |db| db.standing_tombstones(limit))
            .await
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
    /// pool), then applied. Returns the configuration as saved. Nothing is written or applied
    /// when it is invalid.
    pub async fn apply_config(
        &self,
        config: &Config,
        file: &std::path::Path,
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
        self.reconfigure(validated.clone()).await;
        Ok(validated)
    }

    /// Applies a new configuration: accounts are restarted with it, the store is kept. An
    /// account paused or resumed while running keeps that state unless the new configuration
    /// changes its `paused` setting.
    pub async fn reconfigure(&self, config: Config) {
        let _one_at_a_time = self.inner.reconfiguring.lock().await;
        let old = self.config();
        let paused_now: HashMap<String, bool> = self
            .lock_accounts()
            .iter()
            .map(|(name, slot)| (name.clone(), *slot.paused.borrow()))
            .collect();
        // Pause states to carry over: where the file's setting did not change but the user
        // paused or resumed the running account.
        let carried: Vec<(String, bool)> = config
            .accounts
            .iter()
            .filter_map(|account| {
                let was = old.accounts.iter().find(|a| a.name == account.name)?;
                let now = *paused_now.get(&account.name)?;
                (was.paused == account.paused && now != account.paused)
                    .then(|| (account.name.clone(), now))
            })
            .collect();
        self.stop_accounts().await;
        // Folders no longer configured are forgotten, so adding one again starts over cleanly.
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
        for (account, paused) in carried {
            self.set_paused(Some(&account), paused);
        }
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

    pub(super) fn start_accounts(&self) {
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
