//! Engine → UI: status snapshots and events become Tauri events; errors become `{code, message}`.
//!
//! Status is pushed as a full snapshot (coalesced, at most every [`STATUS_THROTTLE`]), so a window
//! that opens late or misses an update is never wrong for long. Events also go into a bounded
//! ring buffer that a newly opened Activity window reads first.
//!
//! Events reach the windows in batches, at most every [`EVENT_BATCH_EVERY`]: a first import of
//! a large library makes thousands of events a second, and one message per event would keep the
//! webview busy receiving them. A batch carries at most [`RECENT_EVENTS`], the most a window
//! shows; the tray's notifications and the ring buffer still see every event at once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use sync_engine::EngineHandle;
use sync_engine::config::ConfigProblem;
use sync_engine::events::Event;
use sync_engine::immich::ApiError;
use sync_engine::status::Status;
use tauri::{AppHandle, Runtime};

use crate::window_process::WindowProcess;

/// UI event carrying a full [`Status`].
pub const STATUS_EVENT: &str = "sync://status";
/// UI event carrying the engine [`Event`]s of the last moment, oldest first.
pub const EVENTS_EVENT: &str = "sync://events";
/// How long events gather before they go to the windows together. Every batch is a script the
/// webview evaluates; during a large import ten a second kept Activity's page busy and growing,
/// and the list follows no faster than twice a second anyway.
const EVENT_BATCH_EVERY: Duration = Duration::from_millis(500);
/// Events kept for windows that open later.
pub const RECENT_EVENTS: usize = 500;
/// Minimum time between two status pushes.
const STATUS_THROTTLE: Duration = Duration::from_millis(200);

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UiError {
    /// Stable code the UI may branch on.
    pub code: String,
    /// What happened and what to do, in plain words.
    pub message: String,
    /// Field-level problems (`account[0].server_url: …`).
    pub problems: Vec<ProblemDto>,
}

/// One field-level problem.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProblemDto {
    /// The field, as the engine names it.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl UiError {
    /// An error without field problems.
    pub fn new(code: &str, message: impl Into<String>) -> UiError {
        UiError {
            code: code.to_owned(),
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// Validation problems.
    pub fn invalid(problems: Vec<ConfigProblem>) -> UiError {
        UiError {
            code: "invalid".into(),
            message: match problems.len() {
                1 => "1 setting needs fixing".into(),
                n => format!("{n} settings need fixing"),
            },
            problems: problems
                .into_iter()
                .map(|p| ProblemDto {
                    key: p.key,
                    message: p.message,
                })
                .collect(),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> UiError {
        UiError::new(error.code(), error.to_string())
    }
}

/// The most recent events, newest last.
#[derive(Debug, Default, Clone)]
pub struct RecentEvents(Arc<Mutex<VecDeque<Event>>>);

impl RecentEvents {
    /// Remembers `event`, dropping the oldest beyond [`RECENT_EVENTS`].
    pub fn push(&self, event: Event) {
        let mut events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() == RECENT_EVENTS {
            events.pop_front();
        }
        events.push_back(event);
    }

    /// Up to `limit` events, newest first.
    pub fn newest(&self, limit: usize) -> Vec<Event> {
        let events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        events.iter().rev().take(limit).cloned().collect()
    }
}

/// The events gathered for the next message to the windows: the newest [`RECENT_EVENTS`].
#[derive(Debug, Default)]
struct EventBatch(VecDeque<Event>);

impl EventBatch {
    fn push(&mut self, event: Event) {
        if self.0.len() == RECENT_EVENTS {
            self.0.pop_front();
        }
        self.0.push_back(event);
    }

    /// The batch, oldest first, leaving it empty.
    fn take(&mut self) -> Vec<Event> {
        self.0.drain(..).collect()
    }
}

/// Forwards engine events and status to the windows (while any are open) and to `on_status`
/// (the tray), until the app exits.
pub fn start<R: Runtime>(
    app: AppHandle<R>,
    engine: EngineHandle,
    recent: RecentEvents,
    windows: WindowProcess,
    on_event: impl Fn(&AppHandle<R>, &Event) + Send + 'static,
    on_status: impl Fn(&AppHandle<R>, &Status) + Send + 'static,
) {
    let mut events = engine.subscribe();
    let event_app = app.clone();
    let event_windows = windows.clone();
    tauri::async_runtime::spawn(async move {
        let mut batch = EventBatch::default();
        loop {
            // Nothing is sent while nothing happens; a batch opens with its first event.
            let closes = match events.recv().await {
                Ok(event) => {
                    recent.push(event.clone());
                    on_event(&event_app, &event);
                    batch.push(event);
                    tokio::time::Instant::now() + EVENT_BATCH_EVERY
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!("activity view skipped {n} events");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let closed = loop {
                match tokio::time::timeout_at(closes, events.recv()).await {
                    Ok(Ok(event)) => {
                        recent.push(event.clone());
                        on_event(&event_app, &event);
                        batch.push(event);
                    }
                    // A burst outran us: the UI still has the full status snapshot.
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                        tracing::debug!("activity view skipped {n} events");
                    }
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break true,
                    Err(_) => break false,
                }
            };
            event_windows.emit(EVENTS_EVENT, &batch.take());
            if closed {
                return;
            }
        }
    });
    let mut changes = engine.watch_status();
    tauri::async_runtime::spawn(async move {
        loop {
            let status = engine.status();
            on_status(&app, &status);
            windows.emit(STATUS_EVENT, &status);
            tokio::time::sleep(STATUS_THROTTLE).await;
            if changes.changed().await.is_err() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_engine::events::{EventKind, Worker};

    #[test]
    fn recent_events_are_bounded_and_newest_first() {
        let recent = RecentEvents::default();
        for i in 0..RECENT_EVENTS + 10 {
            recent
                .push(Event::new("a", Worker::Uploader, EventKind::Uploaded).detail(i.to_string()));
        }
        let newest = recent.newest(3);
        assert_eq!(
            newest[0].detail.as_deref(),
            Some(&*(RECENT_EVENTS + 9).to_string())
        );
        assert_eq!(recent.newest(usize::MAX).len(), RECENT_EVENTS);
    }

    #[test]
    fn a_batch_for_the_windows_keeps_the_newest_events_oldest_first() {
        let mut batch = EventBatch::default();
        for i in 0..RECENT_EVENTS + 2 {
            batch
                .push(Event::new("a", Worker::Uploader, EventKind::Uploaded).detail(i.to_string()));
        }
        let sent = batch.take();
        assert_eq!(sent.len(), RECENT_EVENTS, "no more than a window shows");
        assert_eq!(
            sent[0].detail.as_deref(),
            Some("2"),
            "the oldest two were left out"
        );
        assert_eq!(
            sent.last().unwrap().detail.as_deref(),
            Some(&*(RECENT_EVENTS + 1).to_string())
        );
        assert!(batch.take().is_empty(), "the next batch starts empty");
    }

    #[test]
    fn api_errors_keep_their_code_and_plain_message() {
        let error: UiError = ApiError::MissingPermission {
            permission: "asset.delete".into(),
        }
        .into();
        assert_eq!(error.code, "missing_permission");
        assert!(error.message.contains("asset.delete"));
    }
}
