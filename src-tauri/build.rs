//! Declares the app's own commands so capabilities can allow exactly those (tauri.conf.json).

/// Every command the web UI may call. Adding one here and to `commands.rs` is not enough: the
/// capability in tauri.conf.json must allow it too.
const COMMANDS: &[&str] = &[
    "get_status",
    "recent_events",
    "get_settings",
    "save_settings",
    "test_connection",
    "pick_folder",
    "pause",
    "resume",
    "sync_now",
    "open_path",
    "open_log_folder",
    "count_excluded",
    "open_in_immich",
    "delete_example",
    "held_deletes",
    "decide_deletes",
    "close_window",
    "deletes_done",
    "undo_deletes",
    "deleted_in_immich",
    "upload_again",
    "delete_preview",
    "pick_older_config",
    "move_over",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build script");
}
