//! The app's log: rolling daily files in the platform's log folder, because an app started at
//! login has no terminal to read stderr in. Seven days are kept. Activity's "Open log folder"
//! shows the folder; `RUST_LOG` sets the detail as for the daemon.
//!
//! Folders: `~/.local/state/immich-sync/logs` on Linux (`XDG_STATE_HOME`),
//! `~/Library/Logs/Immich Sync` on macOS, `%LOCALAPPDATA%\immich-sync\logs` on Windows.

use std::path::PathBuf;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Days of log files kept.
const KEEP_DAYS: usize = 7;

/// The platform's folder for this app's logs.
pub fn log_dir() -> Option<PathBuf> {
    #[cfg(target_os = "macos")]
    {
        directories::BaseDirs::new().map(|d| d.home_dir().join("Library/Logs/Immich Sync"))
    }
    #[cfg(not(target_os = "macos"))]
    {
        directories::ProjectDirs::from("app", "Immich Sync", "immich-sync").map(|d| {
            d.state_dir()
                .map(|s| s.join("logs"))
                .unwrap_or_else(|| d.data_local_dir().join("logs"))
        })
    }
}

/// Keeps the file writer flushing until the app exits.
#[must_use = "the log file is written only while the guard lives"]
pub struct LogGuard {
    _flush: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Logs to stderr and, where the folder can be made, to the rolling files.
pub fn init() -> LogGuard {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let file = log_dir().and_then(|dir| {
        // Made first: the appender lists the folder to prune old files as it starts.
        let _ = std::fs::create_dir_all(&dir);
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("immich-sync")
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(&dir)
            .map_err(|e| eprintln!("immich-sync: no log file in {}: {e}", dir.display()))
            .ok()
    });
    let (file_layer, guard) = match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .init();
    LogGuard { _flush: guard }
}
