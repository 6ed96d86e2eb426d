//! Immich Sync engine: keeps folders on this computer in sync with an Immich server.
//!
//! # Theory of operation
//!
//! ```text
//! disk ──► watcher ──┐                      ┌──► uploader ──► Immich (bulk-upload-check, POST /assets)
//!                    ├──► store (SQLite) ◄──┤
//! disk ──► scanner ──┘                      └──► reconciler ◄─► Immich (bulk-upload-check, GET/DELETE)
//!                              │
//!                status snapshot + events ──► tray, settings UI, JSONL event log
//! ```
//!
//! The store is the source of truth: workers record what they observe and what they are about
//! to do before doing it, and a restart resumes from it. A file is uploaded only after its
//! SHA-1 is stored, and only when bulk-upload-check says the server lacks that content, so the
//! same content is never uploaded twice. Deletes follow each folder's policy, go to the Immich
//! trash or the OS trash (never a permanent delete), and never happen for a folder that is not
//! there.
//!
//! Modules: [`config`] (TOML, validated once), [`store`] (all SQL), [`immich`] (all HTTP),
//! [`filter`] and [`policy`] (pure rules), [`local`] (stat and hashing), [`workers`] (the four
//! loops), [`engine`] (supervisor and [`engine::EngineHandle`]), [`events`] and [`status`]
//! (what the outside world sees).
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod account;
mod blocking;
pub mod config;
pub mod engine;
pub mod error;
pub mod events;
pub mod filter;
pub mod immich;
pub mod local;
pub mod older_service;
pub mod os_trash;
pub mod paths;
pub mod plan;
pub mod policy;
pub mod secret;
pub mod status;
pub mod store;
pub mod summary;
mod supervisor;
pub mod undo;
pub mod volume;
pub mod workers;

pub use engine::{Engine, EngineHandle, EngineOptions, OnceReport, run_once, test_connection};
