//! The schema, as an append-only list of migrations.
//!
//! Never edit a migration that has shipped: add a new one. `rusqlite_migration` records the
//! version in `user_version`, so every older state file upgrades step by step on open.

use rusqlite_migration::{M, Migrations};

/// Every schema change, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;

        -- One row per synced folder of an account. The binding columns remember which server and
        -- which Immich user the folder's assets belong to.
        CREATE TABLE folders (
            id              INTEGER PRIMARY KEY,
            account         TEXT NOT NULL,
            root            BLOB NOT NULL,
            server_url      TEXT,
            immich_user_id  TEXT,
            root_device     INTEGER,
            last_full_scan  INTEGER,
            UNIQUE (account, root)
        ) STRICT;

        -- One row per file seen in a folder. `state` is one of:
        --   queued     hashed, waiting for bulk-upload-check / upload
        --   uploading  an upload was started (intent written before the request)
        --   synced     linked to `asset_id`
        --   skipped    not uploadable; `last_error` holds the reason; retried only if it changes
        --   failed     rejected by the server for good; retried only if the file changes
        --   missing    was synced, the file is gone locally; waiting for the delete decision
        --   remote_deleted  the asset was deleted in Immich and the local file kept by policy
        CREATE TABLE files (
            id              INTEGER PRIMARY KEY,
            folder_id       INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            rel_path        BLOB NOT NULL,
            size            INTEGER NOT NULL,
            mtime_ns        INTEGER NOT NULL,
            file_key        INTEGER,
            sha1            TEXT,
            asset_id        TEXT,
            state           TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            next_attempt_at INTEGER,
            first_seen_at   INTEGER NOT NULL,
            synced_at       INTEGER,
            missing_since   INTEGER,
            UNIQUE (folder_id, rel_path)
        ) STRICT;

        CREATE INDEX files_by_state ON files (state, next_attempt_at);
        CREATE INDEX files_by_sha1 ON files (sha1);
        CREATE INDEX files_by_asset ON files (asset_id);
        "#,
        ),
        M::up(
            r#"
        -- Deletes held by the mass-delete guard until the user decides. `direction` is
        -- 'to_immich' (a local delete that would trash the asset in Immich) or 'to_local' (a
        -- remote delete that would move the local file to the OS trash). `decision` is NULL
        -- while waiting, then 'approved' or 'rejected'.
        CREATE TABLE held_deletes (
            id          INTEGER PRIMARY KEY,
            file_id     INTEGER NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,
            direction   TEXT NOT NULL,
            held_at     INTEGER NOT NULL,
            decision    TEXT
        ) STRICT;

        -- Deletes carried out, for the guard's window ("deletes within the last hour").
        CREATE TABLE delete_history (
            folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            direction   TEXT NOT NULL,
            at          INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX delete_history_by_folder ON delete_history (folder_id, direction, at);
        "#,
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
