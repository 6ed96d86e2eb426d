//! The engine's stories, in one test binary: one link instead of one per theme, which counts
//! on a 2-core machine. Each module is a theme; `common` holds what they share (a fake Immich
//! with a real folder and state file, the daemon's command line, small web servers).

mod common;

mod bad_input;
mod config_files;
mod control;
mod daemon_cli;
mod delete_guard;
// The keychain stories use the Secret Service (D-Bus), which is Linux's.
#[cfg(target_os = "linux")]
mod keychain_keys;
mod live_engine;
mod media_fidelity;
mod once_stories;
mod safety;
mod server_faults;
mod trusted_deletes;
