//! Named, supervised workers.
//!
//! An account's four workers run as tasks of one `JoinSet`, each known by its name. A worker
//! returns `Ok` when the account stops, or an error: a transient one (or a panic) restarts that
//! worker alone after a backoff, with its name in the account's status meanwhile; a fatal one
//! (a local cause such as an unusable state file) leaves it stopped, and the status says which
//! worker stopped and why, until the account is restarted. Shutdown cancels the account's token
//! and waits here for every task to end: nothing is left running behind a stopped account.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::events::Worker;
use crate::policy;

/// A worker's loop, as started (and started again) by the supervisor.
pub(crate) type WorkerFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Restarts of one worker before it is left stopped.
const MAX_RESTARTS: u32 = 8;

/// How a worker ended, for the account's status and the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkerEnd {
    /// It failed or panicked, and starts again after `after`.
    Restarting {
        /// What went wrong.
        error: String,
        /// The backoff.
        after: Duration,
    },
    /// It failed for good (a fatal error, or too many restarts): it stays stopped.
    Stopped {
        /// What went wrong.
        error: String,
    },
}

/// Runs `workers`, each started by `start`, until `cancel` fires and all have ended. `report`
/// hears of every failure.
pub(crate) async fn supervise(
    workers: &[Worker],
    start: impl Fn(Worker) -> WorkerFuture,
    cancel: CancellationToken,
    mut report: impl FnMut(Worker, WorkerEnd),
) {
    let mut set = JoinSet::new();
    let mut names = HashMap::new();
    let mut restarts: HashMap<Worker, u32> = HashMap::new();
    for worker in workers {
        let id = set.spawn(start(*worker)).id();
        names.insert(id, *worker);
    }
    while let Some(done) = set.join_next_with_id().await {
        let (id, result) = match done {
            Ok((id, result)) => (id, Ok(result)),
            Err(join) => (join.id(), Err(join)),
        };
        let Some(name) = names.remove(&id) else {
            continue;
        };
        if cancel.is_cancelled() {
            continue;
        }
        let error = match result {
            // A worker with nothing to do any more (no file events on this system).
            Ok(Ok(())) => continue,
            Ok(Err(error)) if !error.is_transient() => {
                report(
                    name,
                    WorkerEnd::Stopped {
                        error: error.to_string(),
                    },
                );
                continue;
            }
            Ok(Err(error)) => error.to_string(),
            Err(join) if join.is_cancelled() => continue,
            Err(join) => format!("it stopped unexpectedly ({})", panic_message(join)),
        };
        let count = restarts.entry(name).or_default();
        *count += 1;
        if *count > MAX_RESTARTS {
            report(name, WorkerEnd::Stopped { error });
            continue;
        }
        let after = policy::retry_delay(*count - 1, None);
        report(name, WorkerEnd::Restarting { error, after });
        let again = start(name);
        let stop = cancel.clone();
        let id = set
            .spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => Ok(()),
                    _ = tokio::time::sleep(after) => again.await,
                }
            })
            .id();
        names.insert(id, name);
    }
}

fn panic_message(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned()),
        Err(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LocalError;
    use crate::store::StoreError;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_panicking_worker_is_restarted_by_name_and_a_fatal_one_stays_stopped() {
        let cancel = CancellationToken::new();
        let uploads = Arc::new(AtomicU32::new(0));
        let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let start = {
            let (uploads, cancel) = (uploads.clone(), cancel.clone());
            move |worker: Worker| -> WorkerFuture {
                let (uploads, cancel) = (uploads.clone(), cancel.clone());
                Box::pin(async move {
                    match worker {
                        Worker::Uploader => {
                            if uploads.fetch_add(1, Ordering::SeqCst) == 0 {
                                panic!("the first run breaks");
                            }
                            cancel.cancelled().await;
                            Ok(())
                        }
                        Worker::Reconciler => Err(Error::Local(LocalError::Store(
                            StoreError::Task("the disk is full".into()),
                        ))),
                        _ => {
                            cancel.cancelled().await;
                            Ok(())
                        }
                    }
                })
            }
        };
        let supervised = {
            let (cancel, reports) = (cancel.clone(), reports.clone());
            tokio::spawn(async move {
                supervise(
                    &[Worker::Watcher, Worker::Uploader, Worker::Reconciler],
                    start,
                    cancel,
                    move |w, end| reports.lock().unwrap().push((w, end)),
                )
                .await
            })
        };
        // The first restart waits the first backoff step (5 s).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while uploads.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(uploads.load(Ordering::SeqCst), 2, "the uploader runs again");
        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), supervised)
            .await
            .expect("every worker ends on cancel")
            .unwrap();
        let reports = reports.lock().unwrap().clone();
        assert!(reports.contains(&(
            Worker::Uploader,
            WorkerEnd::Restarting {
                error: "it stopped unexpectedly (the first run breaks)".into(),
                after: Duration::from_secs(5)
            }
        )));
        assert!(reports.contains(&(
            Worker::Reconciler,
            WorkerEnd::Stopped {
                error: "state database task failed: the disk is full".into()
            }
        )));
        assert_eq!(reports.len(), 2, "{reports:?}");
    }
}
