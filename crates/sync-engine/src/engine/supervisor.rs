//! One supervisor task per account: connect (with backoff while the server is away), then
//! run the four named workers until the account stops, telling what goes wrong.

use super::*;

pub(super) struct Supervisor {
    pub(super) config: AccountConfig,
    pub(super) engine: Arc<Config>,
    pub(super) store: Store,
    pub(super) events: EventBus,
    pub(super) status: StatusBoard,
    pub(super) options: EngineOptions,
    pub(super) paused: watch::Receiver<bool>,
    pub(super) cancel: CancellationToken,
    pub(super) live: Arc<Mutex<Option<Arc<Account>>>>,
}

impl Supervisor {
    pub(super) async fn run(self) {
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
                None,
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
pub(super) fn report_worker_end(account: &Account, worker: Worker, end: WorkerEnd) {
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

pub(super) fn report_connect_error(
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
