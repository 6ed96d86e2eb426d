//! Knobs that make the server misbehave the way real deployments do: error statuses from a
//! struggling server or proxy (with or without `Retry-After`), slow answers, uploads cut off
//! mid-body, and a server that is restarting and refuses every connection.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A handle to the fault knobs of one server; clones share them.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Default)]
struct FaultState {
    rules: Vec<FailRule>,
    delay: Duration,
    resets: usize,
    down: bool,
}

struct FailRule {
    /// `None`: any `/api` path except `/api/server/*`.
    prefix: Option<String>,
    remaining: usize,
    status: u16,
    retry_after: Option<u64>,
}

impl FailRule {
    fn matches(&self, path: &str) -> bool {
        match &self.prefix {
            None => {
                path.starts_with("/api/")
                    && !path.starts_with("/api/server/")
                    && path != "/api/server"
            }
            Some(prefix) => {
                path.starts_with(prefix.as_str())
                    || (!prefix.starts_with("/api")
                        && path
                            .strip_prefix("/api")
                            .is_some_and(|rest| rest.starts_with(prefix.as_str())))
            }
        }
    }
}

/// An injected failure to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Injected {
    pub status: u16,
    pub retry_after: Option<u64>,
}

impl Faults {
    fn state(&self) -> MutexGuard<'_, FaultState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, prefix: Option<String>, n: usize, status: u16, retry_after: Option<u64>) {
        if n > 0 {
            self.state().rules.push(FailRule {
                prefix,
                remaining: n,
                status,
                retry_after,
            });
        }
    }

    /// The next `n` requests to any `/api` path except `/api/server/*` are answered with
    /// `status` and an error body of the profile's shape. The request body is read first, so
    /// the client always sees the answer.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push(None, n, status, None);
    }

    /// Like [`Faults::fail_next`], for paths starting with `path_prefix`. The prefix may be
    /// given with or without `/api` (`"/assets"` and `"/api/assets"` are the same). `/server`
    /// paths are not excluded here.
    pub fn fail_next_matching(&self, path_prefix: &str, n: usize, status: u16) {
        self.push(Some(path_prefix.to_string()), n, status, None);
    }

    /// Like [`Faults::fail_next`], with a `Retry-After: <secs>` header.
    pub fn fail_next_with_retry_after(&self, n: usize, status: u16, retry_after_secs: u64) {
        self.push(None, n, status, Some(retry_after_secs));
    }

    /// Delays every answer by `d` (zero turns it off).
    pub fn set_delay(&self, d: Duration) {
        self.state().delay = d;
    }

    /// The next `n` `POST /api/assets` requests: part of the body is read, then the
    /// connection is dropped without an answer. Nothing is stored.
    pub fn reset_next_uploads(&self, n: usize) {
        self.state().resets = n;
    }

    /// While down, every new connection is accepted and closed at once, and requests
    /// arriving on connections opened earlier have their connection dropped unanswered.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        *self.state() = FaultState::default();
    }

    /// Takes one failure meant for this path, if any is pending (oldest rule first).
    pub(crate) fn take_failure(&self, path: &str) -> Option<Injected> {
        let mut state = self.state();
        let index = state.rules.iter().position(|r| r.matches(path))?;
        let rule = &mut state.rules[index];
        rule.remaining -= 1;
        let injected = Injected {
            status: rule.status,
            retry_after: rule.retry_after,
        };
        if rule.remaining == 0 {
            state.rules.remove(index);
        }
        Some(injected)
    }

    /// Takes one pending upload reset.
    pub(crate) fn take_reset(&self) -> bool {
        let mut state = self.state();
        if state.resets > 0 {
            state.resets -= 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn delay(&self) -> Duration {
        self.state().delay
    }

    pub(crate) fn is_down(&self) -> bool {
        self.state().down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_and_run_out() {
        let faults = Faults::default();
        faults.fail_next(1, 503);
        assert_eq!(faults.take_failure("/api/server/ping"), None);
        assert_eq!(faults.take_failure("/.well-known/immich"), None);
        assert_eq!(
            faults.take_failure("/api/users/me").map(|f| f.status),
            Some(503)
        );
        assert_eq!(faults.take_failure("/api/users/me"), None);

        faults.fail_next_matching("/assets", 2, 500);
        assert_eq!(faults.take_failure("/api/users/me"), None);
        assert_eq!(
            faults.take_failure("/api/assets").map(|f| f.status),
            Some(500)
        );
        assert_eq!(
            faults
                .take_failure("/api/assets/bulk-upload-check")
                .map(|f| f.status),
            Some(500)
        );
        assert_eq!(faults.take_failure("/api/assets"), None);

        faults.fail_next_with_retry_after(1, 429, 7);
        assert_eq!(
            faults.take_failure("/api/assets"),
            Some(Injected {
                status: 429,
                retry_after: Some(7)
            })
        );
        faults.reset_next_uploads(1);
        assert!(faults.take_reset());
        assert!(!faults.take_reset());
        faults.set_down(true);
        faults.clear();
        assert!(!faults.is_down());
    }
}
