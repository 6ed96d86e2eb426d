//! Every control command, carried out against a running engine or the state file, with the
//! sentences both print.

use std::path::Path;

use serde_json::json;

use super::{Reply, Request, exit};
use crate::EngineHandle;
use crate::config::Config;
use crate::store::{
    Decision, DeleteDirection, HeldDelete, JournalEntry, RemoteGone, Store, Tombstone,
};
use crate::summary::{BatchProgress, summarize};
use crate::undo::{UndoOutcome, UndoSelection};

/// What a command acts on.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// The running engine (the daemon's or the tray app's).
    Running {
        /// Its handle.
        engine: &'a EngineHandle,
        /// The file `reload` reads.
        config_file: Option<&'a Path>,
    },
    /// Nothing runs: the state file itself.
    StateFile {
        /// The configuration naming it (undo needs the accounts' servers).
        config: &'a Config,
        /// The opened state file.
        store: &'a Store,
    },
}

impl Backend<'_> {
    /// The state file either way: what the read-only commands query.
    fn store(&self) -> &Store {
        match self {
            Backend::Running { engine, .. } => engine.store(),
            Backend::StateFile { store, .. } => store,
        }
    }
}

/// Carries out `request`.
pub async fn execute(backend: Backend<'_>, request: Request) -> Reply {
    let result = match (&backend, request) {
        (Backend::Running { engine, .. }, Request::Status) => Ok(status(engine)),
        (Backend::Running { engine, .. }, Request::Pause { account }) => {
            Ok(pause(engine, account.as_deref(), true))
        }
        (Backend::Running { engine, .. }, Request::Resume { account }) => {
            Ok(pause(engine, account.as_deref(), false))
        }
        (Backend::Running { engine, .. }, Request::SyncNow) => {
            engine.sync_now();
            Ok(Reply::ok(
                vec!["every account is scanning, uploading and checking Immich now".into()],
                json!({"sync_now": true}),
            ))
        }
        (
            Backend::Running {
                engine,
                config_file,
            },
            Request::Reload,
        ) => Ok(reload(engine, *config_file).await),
        (Backend::StateFile { .. }, request) if request.needs_engine() => Ok(Reply::failed(
            exit::NOT_RUNNING,
            "nothing is running on this state file: start immich-syncd or the Immich Sync app",
        )),
        (_, Request::HeldDeletes) => held_deletes(&backend).await,
        (_, Request::Decide { ids, approve }) => decide(&backend, ids, approve).await,
        (_, Request::Journal { since }) => journal(&backend, since.unwrap_or(i64::MIN)).await,
        (_, Request::Undo { ids, since }) => undo(&backend, ids, since).await,
        (_, Request::Tombstones) => tombstones(&backend).await,
        (_, Request::Forget { ids }) => forget(&backend, ids).await,
        (Backend::StateFile { .. }, _) => unreachable!("needs_engine covers the rest"),
    };
    result.unwrap_or_else(|error| Reply::failed(exit::STATE, error.to_string()))
}

fn status(engine: &EngineHandle) -> Reply {
    let status = engine.status();
    let summary = summarize(&status, &mut BatchProgress::default());
    let mut lines = vec![summary.line.clone()];
    for account in &status.accounts {
        lines.push(format!("{}: {}", account.name, account.line));
        if let (Some(user), Some(version)) = (&account.user, &account.server_version) {
            lines.push(format!(
                "  {} · Immich {version} as {user}",
                account.server_url
            ));
        }
        for folder in &account.folders {
            let c = &folder.counts;
            let mut line = format!(
                "  {}: {} synced, {} waiting, {} failed, {} skipped",
                folder.path, c.synced, c.queued, c.failed, c.skipped
            );
            if folder.held_deletes > 0 {
                line.push_str(&format!(
                    ", {} deletes held (see `deletions list`)",
                    folder.held_deletes
                ));
            }
            if let Some(message) = &folder.message {
                line.push_str(&format!(" · {message}"));
            }
            lines.push(line);
        }
    }
    let data = json!({
        "state": summary.state,
        "line": summary.line,
        "all_paused": summary.all_paused,
        "accounts": status.accounts,
    });
    Reply::ok(lines, data)
}

fn pause(engine: &EngineHandle, account: Option<&str>, paused: bool) -> Reply {
    let config = engine.config();
    if let Some(name) = account {
        if !config.accounts.iter().any(|a| a.name == name) {
            let known: Vec<&str> = config.accounts.iter().map(|a| a.name.as_str()).collect();
            return Reply::failed(
                exit::CONFIG,
                format!(
                    "there is no account named `{name}` (accounts: {})",
                    known.join(", ")
                ),
            );
        }
    }
    if paused {
        engine.pause(account);
    } else {
        engine.resume(account);
    }
    let who = account.map_or_else(|| "every account".to_owned(), |a| format!("`{a}`"));
    let line = if paused {
        format!("paused {who}: uploads in flight finish, nothing new starts")
    } else {
        format!("resumed {who}")
    };
    Reply::ok(vec![line], json!({"account": account, "paused": paused}))
}

async fn reload(engine: &EngineHandle, file: Option<&Path>) -> Reply {
    let Some(file) = file else {
        return Reply::failed(
            exit::CONFIG,
            "this engine was not started from a configuration file",
        );
    };
    let path = file.to_owned();
    let loaded = crate::blocking::spawn(move || crate::config::load(&path)).await;
    let config = match loaded {
        Ok(Ok(config)) => config,
        Ok(Err(error)) => {
            return Reply::failed(
                exit::CONFIG,
                format!(
                    "{} was not applied; the running configuration is kept:\n{error}",
                    file.display()
                ),
            );
        }
        Err(error) => return Reply::failed(exit::STATE, error.to_string()),
    };
    let running = engine.config();
    if config.database_path != running.database_path {
        return Reply::failed(
            exit::CONFIG,
            format!(
                "{} now names another state file ({}); a running engine keeps its own ({}): restart it to switch",
                file.display(),
                config.database_path.display(),
                running.database_path.display()
            ),
        );
    }
    let warnings = config.warnings.clone();
    let folders: usize = config.accounts.iter().map(|a| a.folders.len()).sum();
    let accounts = config.accounts.len();
    engine.reconfigure(config).await;
    let mut reply = Reply::ok(
        vec![format!(
            "applied {}: {accounts} account(s), {folders} folder(s)",
            file.display()
        )],
        json!({"applied": true, "accounts": accounts, "folders": folders, "warnings": warnings}),
    );
    reply.problems = warnings;
    reply
}

async fn held_deletes(backend: &Backend<'_>) -> Result<Reply, crate::store::StoreError> {
    let held = backend.store().call(|db| db.held_deletes(None)).await?;
    let waiting: Vec<HeldDelete> = held
        .into_iter()
        .filter(|h| h.decision == Decision::Waiting)
        .collect();
    let mut lines = Vec::new();
    if waiting.is_empty() {
        lines.push("no deletes are waiting for confirmation".to_owned());
    }
    for h in &waiting {
        let what = match h.direction {
            DeleteDirection::ToImmich => "deleted here     -> would go to the Immich trash",
            DeleteDirection::ToLocal => "deleted in Immich -> would go to this computer's trash",
        };
        let path = Path::new(&h.folder).join(&h.path);
        lines.push(format!(
            "{:>6}  {}  {}  ({what})",
            h.id,
            h.account,
            path.display()
        ));
    }
    Ok(Reply::ok(lines, json!(waiting)))
}

async fn decide(
    backend: &Backend<'_>,
    ids: Option<Vec<i64>>,
    approve: bool,
) -> Result<Reply, crate::store::StoreError> {
    if ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Reply::failed(
            exit::CONFIG,
            "name the ids to decide (see `deletions list`) or pass --all",
        ));
    }
    let changed = match backend {
        Backend::Running { engine, .. } => engine.decide_deletes(ids, approve).await?,
        Backend::StateFile { store, .. } => {
            let decision = if approve {
                Decision::Approved
            } else {
                Decision::Rejected
            };
            store
                .call(move |db| db.decide(ids.as_deref(), decision))
                .await?
        }
    };
    let line = match (approve, backend) {
        (true, Backend::Running { .. }) => {
            format!("approved {changed} held delete(s): carried out now")
        }
        (true, Backend::StateFile { .. }) => {
            format!("approved {changed} held delete(s): carried out at the next start")
        }
        (false, _) => format!("rejected {changed} held delete(s): nothing is deleted either side"),
    };
    Ok(Reply::ok(
        vec![line],
        json!({"decided": changed, "approved": approve}),
    ))
}

/// A unix-ms time as `2026-11-25 10:00` (UTC).
fn day(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_else(|| "?".into())
}

async fn journal(backend: &Backend<'_>, since: i64) -> Result<Reply, crate::store::StoreError> {
    const LIMIT: usize = 10_000;
    let entries: Vec<JournalEntry> = backend
        .store()
        .call(move |db| db.journal(None, since, LIMIT))
        .await?;
    let mut lines = Vec::new();
    if entries.is_empty() {
        lines.push("the engine has deleted nothing".to_owned());
    }
    for e in &entries {
        let what = match e.direction {
            DeleteDirection::ToImmich => "-> Immich trash",
            DeleteDirection::ToLocal => "-> this computer's trash",
        };
        let undone = if e.undone_at.is_some() {
            "  (undone)"
        } else {
            ""
        };
        lines.push(format!(
            "{:>6}  {}  {}  {}  {what}: {}{undone}",
            e.id,
            day(e.at),
            e.account,
            e.path.display(),
            e.reason
        ));
    }
    Ok(Reply::ok(lines, json!(entries)))
}

async fn undo(
    backend: &Backend<'_>,
    ids: Vec<i64>,
    since: Option<i64>,
) -> Result<Reply, crate::store::StoreError> {
    let selection = match (since, ids.is_empty()) {
        (Some(at), _) => UndoSelection::Since(at),
        (None, false) => UndoSelection::Ids(ids),
        (None, true) => {
            return Ok(Reply::failed(
                exit::CONFIG,
                "name the ids to undo (see `journal`) or pass --since TIME",
            ));
        }
    };
    let outcomes: Vec<UndoOutcome> = match backend {
        Backend::Running { engine, .. } => engine.undo(selection).await?,
        Backend::StateFile { config, store } => crate::undo::undo(config, store, selection).await?,
    };
    let mut reply = Reply::ok(Vec::new(), serde_json::Value::Null);
    if outcomes.is_empty() {
        reply.lines.push("nothing to undo".to_owned());
    }
    let mut data = Vec::new();
    for outcome in outcomes {
        match outcome.result {
            Ok(done) => {
                reply
                    .lines
                    .push(format!("{:>6}  undone: {done}", outcome.id));
                data.push(json!({"id": outcome.id, "undone": true, "detail": done}));
            }
            Err(error) => {
                reply.exit = exit::INCOMPLETE;
                reply
                    .problems
                    .push(format!("{}: not undone: {error}", outcome.id));
                data.push(json!({"id": outcome.id, "undone": false, "detail": error.to_string()}));
            }
        }
    }
    reply.data = json!(data);
    Ok(reply)
}

async fn tombstones(backend: &Backend<'_>) -> Result<Reply, crate::store::StoreError> {
    let stones: Vec<Tombstone> = backend.store().call(|db| db.tombstones(None)).await?;
    let mut lines = Vec::new();
    if stones.is_empty() {
        lines.push("no photos are remembered as deleted in Immich".to_owned());
    }
    for t in &stones {
        let how = match t.how {
            RemoteGone::Trashed => "trashed in Immich",
            RemoteGone::Purged => "deleted from Immich",
        };
        let state = if t.forgiven {
            "  (upload again: pending)"
        } else {
            ""
        };
        lines.push(format!(
            "{:>6}  {}  {how} on {}  {}{state}",
            t.id,
            t.account,
            day(t.seen_at),
            t.path.as_deref().unwrap_or(&t.sha1)
        ));
    }
    Ok(Reply::ok(lines, json!(stones)))
}

async fn forget(
    backend: &Backend<'_>,
    ids: Option<Vec<i64>>,
) -> Result<Reply, crate::store::StoreError> {
    if ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Reply::failed(
            exit::CONFIG,
            "name the ids to upload again (see `tombstones list`) or pass --all",
        ));
    }
    let (n, when) = match backend {
        Backend::Running { engine, .. } => (engine.upload_again(ids).await?, "now"),
        Backend::StateFile { store, .. } => {
            let now = crate::account::now_ms();
            let n = store
                .call(move |db| db.forgive_tombstones(ids.as_deref(), now))
                .await?;
            (n, "at the next sync")
        }
    };
    Ok(Reply::ok(
        vec![format!(
            "{n} photo(s) will be uploaded again (or restored from the Immich trash) {when}"
        )],
        json!({"forgotten": n}),
    ))
}
