//! Nothing blocking on the runtime's threads.
//!
//! The engine's async tasks share a few runtime threads; a stat, a file read or a SQLite call on
//! one of them stalls every other task (status updates, uploads in flight, shutdown). Blocking
//! work therefore runs in [`spawn`], on tokio's blocking pool, marked as a *blocking section*.
//! [`assert_may_block`] is called by the store before every query: in debug builds (every test)
//! it panics when a query runs on a thread of a runtime outside such a section, so a blocking
//! call that slips into async code fails the tests instead of slowing the app.

use std::cell::Cell;

thread_local! {
    static BLOCKING_SECTION: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on tokio's blocking pool, where blocking is allowed.
pub(crate) async fn spawn<R, F>(f: F) -> Result<R, tokio::task::JoinError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(move || section(f)).await
}

/// Runs `f` as a blocking section on the current thread (already a blocking one).
pub(crate) fn section<R>(f: impl FnOnce() -> R) -> R {
    let before = BLOCKING_SECTION.replace(true);
    let result = f();
    BLOCKING_SECTION.set(before);
    result
}

/// Panics in debug builds when called on a runtime's thread outside a blocking section.
/// Threads that belong to no runtime (the daemon's command-line tools, scoped hashing
/// threads, the app's main thread) may block.
pub(crate) fn assert_may_block() {
    debug_assert!(
        BLOCKING_SECTION.get() || tokio::runtime::Handle::try_current().is_err(),
        "blocking work on a runtime thread: run it with blocking::spawn (or Store::call)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_store_refuses_to_block_a_runtime_thread_in_debug_builds() {
        let store = crate::store::Store::in_memory().unwrap();
        let blocked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.with(|db| db.device_id())
        }));
        assert_eq!(blocked.is_err(), cfg!(debug_assertions));
        let id = store.call(|db| db.device_id()).await.unwrap();
        assert!(id.starts_with("immich-sync-"));
        let again = spawn(move || store.with(|db| db.device_id()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, id, "a blocking section may use the store directly");
    }
}
