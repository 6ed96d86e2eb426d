//! End-to-end tests of the tray app live in `tests/`; this crate has no code of its own.
//!
//! They need a display (Xvfb), a D-Bus session, WebKitWebDriver and `tauri-driver`, and the app
//! built with `cargo build --bin immich-sync`; `scripts/test` provides all of them and runs the
//! tests with `--ignored`, one at a time (tauri-driver listens on fixed ports).
