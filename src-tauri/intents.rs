//! What the user can ask for from the tray menu or a window, as one vocabulary.
//!
//! Menu item ids map to an [`Intent`]; the Activity window's Pause/Resume/Sync buttons produce
//! the same intents, so both go through one code path ([`crate::apply_intent`]).

/// Something the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Pause every account.
    PauseAll,
    /// Resume every account.
    ResumeAll,
    /// Pause one account.
    Pause(String),
    /// Resume one account.
    Resume(String),
    /// Scan, upload and check for remote deletes now.
    SyncNow,
    /// Open folder number `n` (configuration order) in the file manager.
    OpenFolder(usize),
    /// Show the folder of the app's log files (Activity's "Open log folder").
    OpenLogFolder,
    /// Open an address of the account's own server in the browser (Activity's "Open in
    /// Immich").
    OpenUrl(String),
    /// Show the settings window.
    OpenSettings,
    /// Show the activity window.
    OpenActivity,
    /// Finish work in flight and exit.
    Quit,
}

/// Menu item ids.
pub mod ids {
    /// The status line (disabled).
    pub const STATUS: &str = "status";
    /// Pause all / Resume all (one item, its text follows the state).
    pub const PAUSE_ALL: &str = "pause-all";
    /// Sync now.
    pub const SYNC_NOW: &str = "sync-now";
    /// Settings…
    pub const SETTINGS: &str = "settings";
    /// Activity…
    pub const ACTIVITY: &str = "activity";
    /// Quit.
    pub const QUIT: &str = "quit";
    /// Prefix of "pause account X" items.
    pub const PAUSE_ACCOUNT: &str = "pause-account:";
    /// Prefix of "resume account X" items.
    pub const RESUME_ACCOUNT: &str = "resume-account:";
    /// Prefix of "open folder N" items.
    pub const OPEN_FOLDER: &str = "open-folder:";
}

impl Intent {
    /// The intent behind a menu item id.
    pub fn from_menu_id(id: &str) -> Option<Intent> {
        Some(match id {
            ids::PAUSE_ALL => Intent::PauseAll,
            ids::SYNC_NOW => Intent::SyncNow,
            ids::SETTINGS => Intent::OpenSettings,
            ids::ACTIVITY => Intent::OpenActivity,
            ids::QUIT => Intent::Quit,
            _ => {
                if let Some(name) = id.strip_prefix(ids::PAUSE_ACCOUNT) {
                    Intent::Pause(name.to_owned())
                } else if let Some(name) = id.strip_prefix(ids::RESUME_ACCOUNT) {
                    Intent::Resume(name.to_owned())
                } else if let Some(n) = id.strip_prefix(ids::OPEN_FOLDER) {
                    Intent::OpenFolder(n.parse().ok()?)
                } else {
                    return None;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_map_to_intents() {
        assert_eq!(Intent::from_menu_id("pause-all"), Some(Intent::PauseAll));
        assert_eq!(Intent::from_menu_id("quit"), Some(Intent::Quit));
        assert_eq!(
            Intent::from_menu_id("pause-account:family photos"),
            Some(Intent::Pause("family photos".into()))
        );
        assert_eq!(
            Intent::from_menu_id("resume-account:a:b"),
            Some(Intent::Resume("a:b".into()))
        );
        assert_eq!(
            Intent::from_menu_id("open-folder:2"),
            Some(Intent::OpenFolder(2))
        );
        assert_eq!(Intent::from_menu_id("open-folder:x"), None);
        assert_eq!(
            Intent::from_menu_id("status"),
            None,
            "the status line does nothing"
        );
    }
}
