//! Giving memory back when the last window closes, so the app in the tray stays small.
//!
//! Windows are destroyed when closed (see `windows`), which ends WebKit's web process. Two
//! things outlive them on Linux: WebKit's network process (about 60 MB), which WebKitGTK never
//! stops by itself and Tauri keeps for the app's lifetime (it reuses its web context there),
//! and heap the webview freed in this process but glibc keeps. Once no window is left, the
//! network process is ended — WebKit starts a new one for the next window — and the heap is
//! trimmed. Both happen on the main thread, where windows are created, so a window opening at
//! that moment cannot race them. Other platforms end their helpers themselves.

use tauri::{AppHandle, Manager, Runtime};

/// How long after the last window closed: a window reopened at once keeps its helpers.
const AFTER_LAST_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// Called when a window was destroyed; acts if no window is open a moment later.
pub fn window_destroyed<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(AFTER_LAST_WINDOW);
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || {
            if handle.webview_windows().is_empty() {
                release();
            }
        });
    });
}

#[cfg(target_os = "linux")]
fn release() {
    let ended = end_children_named("WebKitNetworkPr");
    // SAFETY: malloc_trim only returns free heap pages to the OS; it is safe to call at any
    // time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
    tracing::debug!("no window open: ended {ended} WebKit network process(es), trimmed the heap");
}

#[cfg(not(target_os = "linux"))]
fn release() {}

/// Sends SIGTERM to this process's children whose name (`/proc/PID/comm`, 15 characters) is
/// `name`. Returns how many.
#[cfg(target_os = "linux")]
fn end_children_named(name: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let children: Vec<i32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    let mut ended = 0;
    for pid in children {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == name {
            // SAFETY: a plain kill(2) of our own child process.
            if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
                ended += 1;
            }
        }
    }
    ended
}
