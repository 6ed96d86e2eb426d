//! The state file the older `immich-sync` service leaves behind, as `immich-api.md` §12
//! records it: one `assets` table in WAL mode, a raw 20-byte SHA-1 per file, and times as
//! `YYYY-MM-DDTHH:MM:SSZ`. Tests of moving over from that service write it with
//! [`write_state_file`], so every test starts from the same file a user brings.

use std::path::Path;

use rusqlite::{Connection, params};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use time::macros::format_description;

/// One row of the older service's `assets` table.
pub struct OlderRow {
    pub user_id: String,
    pub asset_path: String,
    /// The file's content: the row keeps its SHA-1.
    pub content: Vec<u8>,
    pub asset_id: Option<String>,
    pub created_at: Option<OffsetDateTime>,
}

/// Creates (or adds to) the older service's state file at `path`.
pub fn write_state_file(path: &Path, rows: &[OlderRow]) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS assets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            asset_path TEXT NOT NULL,
            checksum BLOB NOT NULL,
            asset_id TEXT,
            created_at TEXT,
            UNIQUE(user_id, asset_path)
         );
         CREATE INDEX IF NOT EXISTS idx_assets_checksum ON assets(user_id, checksum);
         CREATE INDEX IF NOT EXISTS idx_assets_asset_id ON assets(asset_id);",
    )?;
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    for row in rows {
        let sum: [u8; 20] = Sha1::digest(&row.content).into();
        let created_at = row
            .created_at
            .map(|t| t.format(&format))
            .transpose()
            .expect("a UTC time formats");
        conn.execute(
            "INSERT INTO assets (user_id, asset_path, checksum, asset_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.user_id,
                row.asset_path,
                sum.to_vec(),
                row.asset_id,
                created_at
            ],
        )?;
    }
    Ok(())
}
