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
        M::up(
            r#"
        -- A photo's age origin (unix ms), which the delete policy judges: the earliest of the
        -- file's birth time (its mtime where the filesystem keeps none), the created_at the older
        -- service recorded, and the creation time of the asset in Immich. Rows from before this
        -- column start from the earliest time this store knew of them.
        ALTER TABLE files ADD COLUMN born_at INTEGER;
        UPDATE files SET born_at = MIN(first_seen_at, mtime_ns / 1000000);

        -- A synced file whose asset was trashed ('trashed') or deleted ('purged') in Immich,
        -- waiting for the delete guard: when that was first seen, and how.
        ALTER TABLE files ADD COLUMN remote_gone_at INTEGER;
        ALTER TABLE files ADD COLUMN remote_gone_how TEXT;

        -- The asset a changed file used to be: it follows the folder's delete policy like a
        -- local delete once the new version is in Immich.
        CREATE TABLE replaced_assets (
            id          INTEGER PRIMARY KEY,
            file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            asset_id    TEXT NOT NULL,
            sha1        TEXT NOT NULL,
            born_at     INTEGER NOT NULL,
            replaced_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX replaced_assets_by_file ON replaced_assets (file_id);

        -- Content that was trashed or deleted in Immich by someone other than this engine. It
        -- is never restored from the Immich trash and never uploaded again until the user says
        -- so. `how` is 'trashed' or 'purged'; `forgiven_at` is set when the user asked to upload
        -- it again (the row goes once that is done).
        CREATE TABLE tombstones (
            id          INTEGER PRIMARY KEY,
            account     TEXT NOT NULL,
            sha1        TEXT NOT NULL,
            asset_id    TEXT,
            how         TEXT NOT NULL,
            seen_at     INTEGER NOT NULL,
            path        BLOB,
            forgiven_at INTEGER,
            UNIQUE (account, sha1)
        ) STRICT;
        CREATE INDEX tombstones_by_asset ON tombstones (asset_id);

        -- Every delete the engine carried out, either way, so that it can be reviewed and
        -- undone. `direction` is 'to_immich' (an asset moved to the Immich trash) or 'to_local'
        -- (a file moved to the OS trash; `trash_id` finds it there).
        CREATE TABLE journal (
            id          INTEGER PRIMARY KEY,
            account     TEXT NOT NULL,
            direction   TEXT NOT NULL,
            path        BLOB NOT NULL,
            asset_id    TEXT,
            sha1        TEXT,
            trash_id    BLOB,
            at          INTEGER NOT NULL,
            reason      TEXT NOT NULL,
            undone_at   INTEGER
        ) STRICT;
        CREATE INDEX journal_by_account ON journal (account, at);
        CREATE INDEX journal_by_asset ON journal (asset_id);

        -- A held delete may now also be the previous asset of a changed file (`replaced_id`).
        CREATE TABLE held_deletes_v3 (
            id          INTEGER PRIMARY KEY,
            file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            replaced_id INTEGER REFERENCES replaced_assets(id) ON DELETE CASCADE,
            direction   TEXT NOT NULL,
            held_at     INTEGER NOT NULL,
            decision    TEXT
        ) STRICT;
        INSERT INTO held_deletes_v3 (id, file_id, direction, held_at, decision)
            SELECT id, file_id, direction, held_at, decision FROM held_deletes;
        DROP TABLE held_deletes;
        ALTER TABLE held_deletes_v3 RENAME TO held_deletes;
        CREATE UNIQUE INDEX held_deletes_once
            ON held_deletes (file_id, direction, COALESCE(replaced_id, 0));
        "#,
        ),
        // Albums this engine made (folder → album): the id is kept because names are not
        // unique, `deleted_at` marks one the user deleted in Immich (never made again), and
        // `album_assets` what the engine put in each, so a photo that moves between
        // sub-folders moves between albums.
        M::up(
            r#"
        CREATE TABLE albums (
            id          INTEGER PRIMARY KEY,
            account     TEXT NOT NULL,
            name        TEXT NOT NULL,
            album_id    TEXT,
            deleted_at  INTEGER,
            UNIQUE (account, name)
        ) STRICT;
        CREATE TABLE album_assets (
            album     INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
            asset_id  TEXT NOT NULL,
            PRIMARY KEY (album, asset_id)
        ) STRICT, WITHOUT ROWID;
        "#,
        ),
        // A photo's sidecar: the SHA-1 of the one Immich has (sent with the upload, or applied
        // with `PUT /assets/{id}` since), and whether the one beside the photo may differ.
        M::up(
            r#"
        ALTER TABLE files ADD COLUMN sidecar_sha1 TEXT;
        ALTER TABLE files ADD COLUMN sidecar_due INTEGER;
        CREATE INDEX files_sidecar_due ON files (folder_id) WHERE sidecar_due IS NOT NULL;
        "#,
        ),
        // RAW+JPEG pairs the engine stacked (`stack_raw_jpeg`): each pair is stacked once.
        M::up(
            r#"
        CREATE TABLE stacks (
            account        TEXT NOT NULL,
            primary_asset  TEXT NOT NULL,
            other_asset    TEXT NOT NULL,
            stack_id       TEXT,
            PRIMARY KEY (account, primary_asset, other_asset)
        ) STRICT, WITHOUT ROWID;
        "#,
        ),
        // Live photos uploaded as one: the still's asset and its motion video's.
        M::up(
            r#"
        CREATE TABLE live_pairs (
            account      TEXT NOT NULL,
            still_asset  TEXT NOT NULL,
            video_asset  TEXT NOT NULL,
            PRIMARY KEY (account, still_asset)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX live_pairs_video ON live_pairs (account, video_asset);
        "#,
        ),
        // Which album members the engine put there (`ours`), and which were there already or
        // refused: only the engine's own are ever taken out again.
        M::up(
            r#"
        ALTER TABLE album_assets ADD COLUMN ours INTEGER NOT NULL DEFAULT 1;
        "#,
        ),
        // Files whose asset was seen gone from Immich: a handful, looked for at every
        // reconciler pass, which otherwise read every synced row (0.1 s at a million files).
        M::up(
            r#"
        CREATE INDEX files_remote_gone ON files (remote_gone_at) WHERE remote_gone_at IS NOT NULL;
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

    /// A state file from before the age column: each row's age starts at the earliest time the
    /// store knew of it (first seen, or its mtime), never later.
    #[test]
    fn existing_rows_get_an_age_when_upgraded() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO folders (id, account, root) VALUES (1, 'alice', X'2F70');
             INSERT INTO files (folder_id, rel_path, size, mtime_ns, state, first_seen_at)
                VALUES (1, X'61', 1, 1800000000000000000, 'synced', 1700000000000),
                       (1, X'62', 1, 1600000000000000000, 'synced', 1700000000000);",
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let born: Vec<i64> = conn
            .prepare("SELECT born_at FROM files ORDER BY rel_path")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(born, [1_700_000_000_000, 1_600_000_000_000]);
    }
}
