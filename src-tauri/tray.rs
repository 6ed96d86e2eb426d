//! The tray: an icon per state, a status line in plain words, and a menu of intents.
//!
//! The engine's `summary` says what the tray shows (state, line, tooltip); this module maps
//! that to icons and menu text. [`Tray`] holds the menu items whose text changes and applies
//! a summary to them. On Linux
//! tray clicks and tooltips are not delivered, so every action is a menu item.

use sync_engine::status::{AccountState, Status};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Runtime};

use crate::intents::ids;

pub use sync_engine::summary::{
    BatchProgress, OverallState as TrayState, Summary as TraySummary, summarize, thousands,
};

/// Panel brightness the tray icons are drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelTheme {
    /// Dark glyph.
    Light,
    /// Light glyph.
    Dark,
    /// Monochrome template the OS tints (macOS).
    Template,
}

impl PanelTheme {
    /// macOS tints template icons itself; elsewhere panels are dark by default (GNOME, KDE,
    /// Windows 10/11). `IMMICH_SYNC_TRAY_THEME=light` picks dark glyphs for light panels.
    pub fn detect() -> PanelTheme {
        if cfg!(target_os = "macos") {
            return PanelTheme::Template;
        }
        match std::env::var("IMMICH_SYNC_TRAY_THEME").as_deref() {
            Ok("light") => PanelTheme::Light,
            _ => PanelTheme::Dark,
        }
    }
}

/// The PNG for `state` on `theme` panels (2x, downscaled by the OS as needed).
pub fn icon_png(state: TrayState, theme: PanelTheme) -> &'static [u8] {
    macro_rules! set {
        ($name:literal) => {
            match theme {
                PanelTheme::Light => {
                    include_bytes!(concat!("../icons/tray/", $name, "-light@2x.png")).as_slice()
                }
                PanelTheme::Dark => {
                    include_bytes!(concat!("../icons/tray/", $name, "-dark@2x.png")).as_slice()
                }
                PanelTheme::Template => {
                    include_bytes!(concat!("../icons/tray/", $name, "-template@2x.png")).as_slice()
                }
            }
        };
    }
    match state {
        TrayState::Idle => set!("idle"),
        TrayState::Syncing => set!("syncing"),
        TrayState::Paused => set!("paused"),
        TrayState::Attention => set!("attention"),
        TrayState::Offline => set!("offline"),
    }
}

/// The tray icon and the menu items whose text follows the status.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    status_line: MenuItem<R>,
    pause_all: MenuItem<R>,
    accounts: Vec<(String, MenuItem<R>)>,
    theme: PanelTheme,
    shown: Option<TraySummary>,
    batch: BatchProgress,
}

/// An account and its folders, as the menu lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuAccount {
    /// Account name.
    pub name: String,
    /// Folder paths.
    pub folders: Vec<String>,
}

/// The menu and the items whose text follows the status.
struct BuiltMenu<R: Runtime> {
    menu: Menu<R>,
    status_line: MenuItem<R>,
    pause_all: MenuItem<R>,
    accounts: Vec<(String, MenuItem<R>)>,
}

fn build_menu<R: Runtime>(
    app: &AppHandle<R>,
    accounts: &[MenuAccount],
) -> tauri::Result<BuiltMenu<R>> {
    let status_line = MenuItem::with_id(app, ids::STATUS, "Starting…", false, None::<&str>)?;
    let pause_all = MenuItem::with_id(app, ids::PAUSE_ALL, "Pause all", true, None::<&str>)?;
    let menu = Menu::new(app)?;
    menu.append(&status_line)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&pause_all)?;
    let mut account_items = Vec::new();
    if accounts.len() > 1 {
        for account in accounts {
            let item = MenuItem::with_id(
                app,
                format!("{}{}", ids::PAUSE_ACCOUNT, account.name),
                format!("Pause {}", account.name),
                true,
                None::<&str>,
            )?;
            menu.append(&item)?;
            account_items.push((account.name.clone(), item));
        }
    }
    menu.append(&MenuItem::with_id(
        app,
        ids::SYNC_NOW,
        "Sync now",
        true,
        None::<&str>,
    )?)?;
    let folders: Vec<&String> = accounts.iter().flat_map(|a| &a.folders).collect();
    match folders.as_slice() {
        [] => {}
        [_] => {
            menu.append(&MenuItem::with_id(
                app,
                format!("{}0", ids::OPEN_FOLDER),
                "Open folder",
                true,
                None::<&str>,
            )?)?;
        }
        many => {
            let sub = Submenu::new(app, "Open folder", true)?;
            for (i, path) in many.iter().enumerate() {
                sub.append(&MenuItem::with_id(
                    app,
                    format!("{}{i}", ids::OPEN_FOLDER),
                    path.as_str(),
                    true,
                    None::<&str>,
                )?)?;
            }
            menu.append(&sub)?;
        }
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::SETTINGS,
        "Settings…",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::ACTIVITY,
        "Activity…",
        true,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::QUIT,
        "Quit Immich Sync",
        true,
        None::<&str>,
    )?)?;
    Ok(BuiltMenu {
        menu,
        status_line,
        pause_all,
        accounts: account_items,
    })
}

impl<R: Runtime> Tray<R> {
    /// Creates the tray icon with its menu.
    pub fn create(
        app: &AppHandle<R>,
        accounts: &[MenuAccount],
        on_menu: impl Fn(&AppHandle<R>, &str) + Send + Sync + 'static,
    ) -> tauri::Result<Tray<R>> {
        let theme = PanelTheme::detect();
        let built = build_menu(app, accounts)?;
        let icon = TrayIconBuilder::with_id("main")
            .icon(tauri::image::Image::from_bytes(icon_png(
                TrayState::Syncing,
                theme,
            ))?)
            .icon_as_template(theme == PanelTheme::Template)
            .tooltip("Immich Sync")
            .menu(&built.menu)
            .show_menu_on_left_click(true)
            .on_menu_event(move |app, event| on_menu(app, event.id().as_ref()))
            .build(app)?;
        Ok(Tray {
            icon,
            status_line: built.status_line,
            pause_all: built.pause_all,
            accounts: built.accounts,
            theme,
            shown: None,
            batch: BatchProgress::default(),
        })
    }

    /// Rebuilds the menu after the accounts or folders changed.
    pub fn rebuild(&mut self, app: &AppHandle<R>, accounts: &[MenuAccount]) -> tauri::Result<()> {
        let built = build_menu(app, accounts)?;
        self.icon.set_menu(Some(built.menu))?;
        self.status_line = built.status_line;
        self.pause_all = built.pause_all;
        self.accounts = built.accounts;
        self.shown = None;
        Ok(())
    }

    /// Whether every account was paused at the last update.
    pub fn all_paused(&self) -> bool {
        self.shown.as_ref().is_some_and(|s| s.all_paused)
    }

    /// Shows `status`; returns what is shown.
    pub fn apply(&mut self, status: &Status) -> TraySummary {
        let summary = summarize(status, &mut self.batch);
        if self.shown.as_ref() != Some(&summary) {
            let _ = self.status_line.set_text(&summary.line);
            let _ = self.icon.set_tooltip(Some(&summary.tooltip));
            // One item: the menu handler reads `all_paused` to tell pause from resume.
            let text = if summary.all_paused {
                "Resume all"
            } else {
                "Pause all"
            };
            let _ = self.pause_all.set_text(text);
            if self.shown.as_ref().map(|s| s.state) != Some(summary.state) {
                if let Ok(image) =
                    tauri::image::Image::from_bytes(icon_png(summary.state, self.theme))
                {
                    let _ = self.icon.set_icon(Some(image));
                    let _ = self
                        .icon
                        .set_icon_as_template(self.theme == PanelTheme::Template);
                }
            }
            self.shown = Some(summary.clone());
        }
        for (name, item) in &self.accounts {
            let paused = status
                .accounts
                .iter()
                .any(|a| &a.name == name && a.state == AccountState::Paused);
            let _ = item.set_text(if paused {
                format!("Resume {name}")
            } else {
                format!("Pause {name}")
            });
        }
        summary
    }
}
