//! The tray: an icon per state, a status line in plain words, and a menu of intents.
//!
//! [`summarize`] turns a status snapshot into what the tray shows; it is pure and tested.
//! [`Tray`] holds the menu items whose text changes and applies a summary to them. On Linux
//! tray clicks and tooltips are not delivered, so every action is a menu item.

use sync_engine::status::{AccountState, FolderState, Status};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Runtime};

use crate::intents::ids;

/// Which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    /// Up to date.
    Idle,
    /// Scanning or uploading.
    Syncing,
    /// Everything paused.
    Paused,
    /// Something needs the user.
    Attention,
    /// The server cannot be reached.
    Offline,
}

/// What the tray shows for a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraySummary {
    /// Icon.
    pub state: TrayState,
    /// First menu line, e.g. "Up to date · 1,204 photos".
    pub line: String,
    /// Tooltip (where the platform shows one).
    pub tooltip: String,
    /// Whether every account is paused (Pause all becomes Resume all).
    pub all_paused: bool,
}

/// Remembers how big the current upload batch is, for "Uploading 12 of 40".
#[derive(Debug, Default, Clone)]
pub struct BatchProgress {
    total: u64,
}

/// What the tray shows for `status`.
pub fn summarize(status: &Status, batch: &mut BatchProgress) -> TraySummary {
    let accounts = &status.accounts;
    let all_paused =
        !accounts.is_empty() && accounts.iter().all(|a| a.state == AccountState::Paused);
    let waiting: u64 = accounts
        .iter()
        .filter(|a| a.state != AccountState::Paused)
        .map(|a| a.queue_depth)
        .sum();
    if waiting == 0 {
        batch.total = 0;
    } else {
        batch.total = batch.total.max(waiting);
    }
    let (state, line) = if accounts.is_empty() {
        (
            TrayState::Attention,
            "Not set up: open Settings… to add your Immich server".to_owned(),
        )
    } else if let Some(problem) = attention(status) {
        (TrayState::Attention, problem)
    } else if all_paused {
        (TrayState::Paused, "Paused".to_owned())
    } else if let Some(offline) = accounts.iter().find(|a| a.state == AccountState::Offline) {
        (
            TrayState::Offline,
            format!("Can't reach {}", host(&offline.server_url)),
        )
    } else if waiting > 0 {
        let done = batch.total - waiting;
        (
            TrayState::Syncing,
            format!(
                "Uploading {} of {}",
                thousands(done + 1),
                thousands(batch.total)
            ),
        )
    } else if accounts.iter().any(|a| {
        matches!(
            a.state,
            AccountState::Scanning | AccountState::Starting | AccountState::Syncing
        )
    }) {
        (TrayState::Syncing, "Checking for new photos…".to_owned())
    } else {
        let photos: u64 = accounts
            .iter()
            .flat_map(|a| &a.folders)
            .map(|f| f.counts.synced)
            .sum();
        let noun = if photos == 1 { "photo" } else { "photos" };
        (
            TrayState::Idle,
            format!("Up to date · {} {noun}", thousands(photos)),
        )
    };
    TraySummary {
        tooltip: format!("Immich Sync — {line}"),
        state,
        line,
        all_paused,
    }
}

fn attention(status: &Status) -> Option<String> {
    for account in &status.accounts {
        if account.state == AccountState::Error {
            let why = account
                .message
                .as_deref()
                .unwrap_or("the account needs attention");
            return Some(format!("{}: {}", account.name, short(why)));
        }
        for folder in &account.folders {
            if folder.held_deletes > 0 {
                return Some(format!(
                    "{} deletes waiting for your confirmation",
                    thousands(folder.held_deletes)
                ));
            }
            if folder.state != FolderState::Active {
                let name = folder
                    .path
                    .rsplit(['/', '\\'])
                    .find(|s| !s.is_empty())
                    .unwrap_or(&folder.path);
                return Some(format!("Folder not available: {name}"));
            }
        }
    }
    None
}

fn short(text: &str) -> String {
    let first = text.split(':').next().unwrap_or(text);
    let mut out: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn host(url: &str) -> &str {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or(url)
}

/// 1204 → "1,204".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use sync_engine::status::{AccountStatus, FolderStatus};
    use sync_engine::store::FolderCounts;

    fn account(state: AccountState, queue: u64, synced: u64) -> AccountStatus {
        AccountStatus {
            name: "family".into(),
            server_url: "https://photos.example.com".into(),
            state,
            message: None,
            server_version: Some("3.1.0".into()),
            user: None,
            queue_depth: queue,
            uploads: vec![],
            folders: vec![FolderStatus {
                path: "/home/a/Pictures".into(),
                state: FolderState::Active,
                counts: FolderCounts {
                    synced,
                    ..FolderCounts::default()
                },
                last_full_scan: None,
                held_deletes: 0,
                message: None,
            }],
            last_error: None,
        }
    }

    fn status(accounts: Vec<AccountStatus>) -> Status {
        Status { accounts }
    }

    #[test]
    fn the_status_line_speaks_plainly() {
        let mut batch = BatchProgress::default();
        let s = summarize(
            &status(vec![account(AccountState::Idle, 0, 1204)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str()),
            (TrayState::Idle, "Up to date · 1,204 photos")
        );
        let s = summarize(
            &status(vec![account(AccountState::Paused, 3, 10)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str(), s.all_paused),
            (TrayState::Paused, "Paused", true)
        );
        let s = summarize(
            &status(vec![account(AccountState::Offline, 0, 10)]),
            &mut batch,
        );
        assert_eq!(
            (s.state, s.line.as_str()),
            (TrayState::Offline, "Can't reach photos.example.com")
        );
        let mut bad = account(AccountState::Error, 0, 0);
        bad.message = Some(
            "the API key was rejected by the server (Invalid API key): create a new key".into(),
        );
        let s = summarize(&status(vec![bad]), &mut batch);
        assert_eq!(s.state, TrayState::Attention);
        assert_eq!(
            s.line,
            "family: the API key was rejected by the server (Invalid API key)"
        );
        assert_eq!(
            summarize(&status(vec![]), &mut batch).state,
            TrayState::Attention
        );
    }

    #[test]
    fn uploads_count_up_through_the_batch() {
        let mut batch = BatchProgress::default();
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 40, 0)]),
            &mut batch,
        );
        assert_eq!(s.line, "Uploading 1 of 40");
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 29, 11)]),
            &mut batch,
        );
        assert_eq!(s.line, "Uploading 12 of 40");
        let s = summarize(
            &status(vec![account(AccountState::Idle, 0, 40)]),
            &mut batch,
        );
        assert_eq!(s.line, "Up to date · 40 photos");
        let s = summarize(
            &status(vec![account(AccountState::Syncing, 2, 40)]),
            &mut batch,
        );
        assert_eq!(
            s.line, "Uploading 1 of 2",
            "a new batch starts from its own count"
        );
    }

    #[test]
    fn a_missing_folder_needs_attention() {
        let mut a = account(AccountState::Idle, 0, 5);
        a.folders[0].state = FolderState::Unavailable;
        let s = summarize(&status(vec![a]), &mut BatchProgress::default());
        assert_eq!(
            (s.state, s.line.as_str()),
            (TrayState::Attention, "Folder not available: Pictures")
        );
    }

    #[test]
    fn held_deletes_need_attention() {
        let mut a = account(AccountState::Idle, 0, 50);
        a.folders[0].held_deletes = 12;
        let s = summarize(&status(vec![a]), &mut BatchProgress::default());
        assert_eq!(
            (s.state, s.line.as_str()),
            (
                TrayState::Attention,
                "12 deletes waiting for your confirmation"
            )
        );
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
