//! The settings and activity windows: created when opened, destroyed when closed.
//!
//! A hidden webview keeps a ~170 MB WebKit process alive, so nothing is kept around: the idle
//! app is a tray icon and the engine. Opening a window that exists focuses it instead.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The app's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppWindow {
    /// Settings (and the first-run guide).
    Settings,
    /// Live status and recent events.
    Activity,
}

impl AppWindow {
    /// Window label (also used by capabilities).
    pub fn label(self) -> &'static str {
        match self {
            AppWindow::Settings => "settings",
            AppWindow::Activity => "activity",
        }
    }

    /// Parses `--open settings|activity`.
    pub fn parse(name: &str) -> Option<AppWindow> {
        match name {
            "settings" => Some(AppWindow::Settings),
            "activity" => Some(AppWindow::Activity),
            _ => None,
        }
    }
}

/// Shows `window`, creating it if needed.
pub fn open<R: Runtime>(app: &AppHandle<R>, window: AppWindow) {
    if let Some(existing) = app.get_webview_window(window.label()) {
        let _ = existing.unminimize();
        let _ = existing.show();
        let _ = existing.set_focus();
        return;
    }
    let (page, title, size) = match window {
        AppWindow::Settings => ("settings.html", "Immich Sync — Settings", (760.0, 720.0)),
        AppWindow::Activity => ("activity.html", "Immich Sync — Activity", (820.0, 680.0)),
    };
    let built = WebviewWindowBuilder::new(app, window.label(), WebviewUrl::App(page.into()))
        .title(title)
        .inner_size(size.0, size.1)
        .min_inner_size(560.0, 480.0)
        .center()
        .focused(true)
        .build();
    if let Err(error) = built {
        tracing::error!("cannot open the {} window: {error}", window.label());
    }
}

/// The `--open <window>` argument, if given (used by tests and the single-instance handoff).
pub fn requested(args: &[String]) -> Option<AppWindow> {
    args.iter()
        .position(|a| a == "--open")
        .and_then(|i| args.get(i + 1))
        .and_then(|name| AppWindow::parse(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_argument_names_a_window() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            requested(&args(&["app", "--open", "activity"])),
            Some(AppWindow::Activity)
        );
        assert_eq!(requested(&args(&["app", "--open"])), None);
        assert_eq!(requested(&args(&["app", "--open", "nope"])), None);
    }
}
