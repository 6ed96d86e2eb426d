//! `immich-syncd`: the sync engine without a GUI, for NAS boxes and servers.
//!
//! Exit statuses (also in the README):
//! 0 in sync (or stopped cleanly), 1 a `--once` pass left files failed or pending,
//! 2 missing or invalid configuration, 3 the server or key needs fixing (wrong URL, not Immich,
//! key rejected, permission missing), 4 the server could not be reached, 5 the state database or
//! event log cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sync_engine::config::{self, Config};
use sync_engine::immich::ApiError;
use sync_engine::store::{Decision, DeleteDirection, Store};
use sync_engine::{Engine, EngineOptions, run_once, test_connection};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "immich-syncd",
    version,
    about = "Keeps folders in sync with an Immich server (headless).",
    after_help = "Exit status: 0 in sync, 1 files failed or pending (--once), 2 configuration error, \
                  3 server or API key needs fixing, 4 server unreachable, 5 state database or event log unusable."
)]
struct Cli {
    /// The TOML configuration file (the older immich-sync service's config.toml works as is).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Do one full pass (scan, upload, reconcile) and exit.
    #[arg(long)]
    once: bool,
    /// Change nothing on either side; log what would be done.
    #[arg(short = 'n', long)]
    dry_run: bool,
    /// More detail in the log.
    #[arg(short, long)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Review deletes held by the mass-delete guard.
    Deletions {
        #[command(subcommand)]
        action: DeletionsAction,
    },
    /// Photos deleted in Immich, which are never restored or uploaded again by themselves.
    Tombstones {
        #[command(subcommand)]
        action: TombstonesAction,
    },
    /// List the deletes the engine carried out, either way, with the ids `undo` takes.
    Journal {
        /// Only those since TIME (2026-11-25, 2026-11-25T10:00:00Z, or a span ago: 30m, 2h, 3d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
    /// Put back what the engine deleted: files from the OS trash, assets from the Immich trash.
    Undo {
        /// Ids from `journal`.
        ids: Vec<i64>,
        /// Every delete since TIME (2026-11-25, 2026-11-25T10:00:00Z, or a span ago: 30m, 2h, 3d).
        #[arg(long, value_name = "TIME", conflicts_with = "ids")]
        since: Option<String>,
    },
    /// Import the older immich-sync service's state file: nothing is uploaded again and every
    /// photo keeps its age. (A state file named by `database_path` is imported by itself.)
    ImportState {
        /// The older service's state file.
        #[arg(long, value_name = "OLD.db")]
        from: PathBuf,
        /// The account to import into (needed when the configuration has several).
        #[arg(long)]
        account: Option<String>,
        /// The older service's `user_id` to take (by default the account's name).
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TombstonesAction {
    /// List photos remembered as deleted in Immich.
    List,
    /// Upload them again: the files holding them go back in the queue, and an asset still in
    /// the Immich trash is restored.
    Forget {
        /// Ids from `tombstones list`.
        ids: Vec<i64>,
        /// Every one.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DeletionsAction {
    /// List held deletes with their ids.
    List,
    /// Let held deletes go ahead (the running daemon carries them out within a minute).
    Approve {
        /// Ids from `deletions list`.
        ids: Vec<i64>,
        /// Every waiting delete.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Cancel held deletes: nothing is deleted on either side.
    Reject {
        /// Ids from `deletions list`.
        ids: Vec<i64>,
        /// Every waiting delete.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

const EXIT_INCOMPLETE: u8 = 1;
const EXIT_CONFIG: u8 = 2;
const EXIT_ACCOUNT: u8 = 3;
const EXIT_UNREACHABLE: u8 = 4;
const EXIT_STATE: u8 = 5;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = if cli.verbose { "debug" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match config::load(&cli.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!(
                "immich-syncd: configuration error in {}:\n{error}",
                cli.config.display()
            );
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for warning in &config.warnings {
        tracing::warn!("{}: {warning}", cli.config.display());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("immich-syncd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &cli.command {
        Some(Command::Deletions { action }) => return deletions(&config, action),
        Some(Command::Tombstones { action }) => return tombstones(&config, action),
        Some(Command::Journal { since }) => return journal(&config, since.as_deref()),
        Some(Command::Undo { ids, since }) => {
            // Opened here, before the runtime runs: opening checks and migrates the file.
            let store = match open_state(&config) {
                Ok(store) => store,
                Err(code) => return code,
            };
            return runtime.block_on(undo(&config, store, ids, since.as_deref()));
        }
        Some(Command::ImportState {
            from,
            account,
            user,
        }) => {
            return runtime.block_on(import_state(
                config,
                from,
                account.as_deref(),
                user.as_deref(),
            ));
        }
        None => {}
    }
    let options = EngineOptions {
        dry_run: cli.dry_run,
    };
    runtime.block_on(async move {
        if cli.once {
            once(config, options).await
        } else {
            daemon(config, options).await
        }
    })
}

/// `deletions list|approve|reject`: works on the state file directly, also while the daemon
/// runs (SQLite's WAL lets both use it).
fn deletions(config: &Config, action: &DeletionsAction) -> ExitCode {
    let store = match Store::open(&config.database_path) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_STATE);
        }
    };
    let result = store.with(|db| {
        let (ids, all, decision) = match action {
            DeletionsAction::List => {
                let held = db.held_deletes(None)?;
                let waiting: Vec<_> = held
                    .iter()
                    .filter(|h| h.decision == Decision::Waiting)
                    .collect();
                if waiting.is_empty() {
                    println!("no deletes are waiting for confirmation");
                }
                for h in waiting {
                    let what = match h.direction {
                        DeleteDirection::ToImmich => {
                            "deleted here     -> would go to the Immich trash"
                        }
                        DeleteDirection::ToLocal => {
                            "deleted in Immich -> would go to this computer's trash"
                        }
                    };
                    let path = std::path::Path::new(&h.folder).join(&h.path);
                    println!("{:>6}  {}  {}  ({what})", h.id, h.account, path.display());
                }
                return Ok(0);
            }
            DeletionsAction::Approve { ids, all } => (ids, *all, Decision::Approved),
            DeletionsAction::Reject { ids, all } => (ids, *all, Decision::Rejected),
        };
        if !all && ids.is_empty() {
            eprintln!("immich-syncd: name the ids to decide (see `deletions list`) or pass --all");
            return Ok(EXIT_CONFIG);
        }
        let changed = db.decide(if all { None } else { Some(ids) }, decision)?;
        let verb = if decision == Decision::Approved {
            "approved"
        } else {
            "rejected"
        };
        println!("{verb} {changed} held delete(s)");
        Ok(0)
    });
    exit_with(result)
}

/// The exit status of a command on the state file: its own code, or 5 when the file failed.
fn exit_with(result: Result<u8, sync_engine::store::StoreError>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            ExitCode::from(EXIT_STATE)
        }
    }
}

fn open_state(config: &Config) -> Result<Store, ExitCode> {
    Store::open(&config.database_path).map_err(|error| {
        eprintln!("immich-syncd: {error}");
        ExitCode::from(EXIT_STATE)
    })
}

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

/// `tombstones list|forget`: works on the state file directly, also while the daemon runs.
fn tombstones(config: &Config, action: &TombstonesAction) -> ExitCode {
    let store = match open_state(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let result = store.with(|db| match action {
        TombstonesAction::List => {
            let stones = db.tombstones(None)?;
            if stones.is_empty() {
                println!("no photos are remembered as deleted in Immich");
            }
            for t in stones {
                let how = match t.how {
                    sync_engine::store::RemoteGone::Trashed => "trashed in Immich",
                    sync_engine::store::RemoteGone::Purged => "deleted from Immich",
                };
                let state = if t.forgiven { "  (upload again: pending)" } else { "" };
                println!(
                    "{:>6}  {}  {how} on {}  {}{state}",
                    t.id,
                    t.account,
                    day(t.seen_at),
                    t.path.as_deref().unwrap_or(&t.sha1)
                );
            }
            Ok(0)
        }
        TombstonesAction::Forget { ids, all } => {
            if !all && ids.is_empty() {
                eprintln!(
                    "immich-syncd: name the ids to upload again (see `tombstones list`) or pass --all"
                );
                return Ok(EXIT_CONFIG);
            }
            let now = sync_engine::account::now_ms();
            let n = db.forgive_tombstones(if *all { None } else { Some(ids) }, now)?;
            println!(
                "{n} photo(s) will be uploaded again (or restored from the Immich trash) at the next sync"
            );
            Ok(0)
        }
    });
    exit_with(result)
}

/// A time on the command line: a date, an RFC 3339 time, or a span ago (`30m`, `2h`, `3d`).
fn parse_since(text: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let now = sync_engine::account::now_ms();
    if let Some(n) = text
        .strip_suffix('d')
        .or_else(|| text.strip_suffix('h'))
        .or_else(|| text.strip_suffix('m'))
        .and_then(|n| n.parse::<i64>().ok())
    {
        let unit = match text.chars().last() {
            Some('d') => 86_400_000,
            Some('h') => 3_600_000,
            _ => 60_000,
        };
        return Ok(now - n * unit);
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    if let Ok(date) = time::Date::parse(
        text,
        &time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        return Ok((date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64);
    }
    Err(format!(
        "cannot read the time `{text}`: use a date (2026-11-25), a time (2026-11-25T10:00:00Z) or a span ago (30m, 2h, 3d)"
    ))
}

/// `journal`: the deletes the engine carried out, newest first.
fn journal(config: &Config, since: Option<&str>) -> ExitCode {
    let since = match since.map(parse_since).transpose() {
        Ok(since) => since.unwrap_or(i64::MIN),
        Err(message) => {
            eprintln!("immich-syncd: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let store = match open_state(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.with(|db| db.journal(None, since, 10_000)) {
        Ok(entries) => {
            if entries.is_empty() {
                println!("the engine has deleted nothing");
            }
            for e in entries {
                let what = match e.direction {
                    DeleteDirection::ToImmich => "-> Immich trash",
                    DeleteDirection::ToLocal => "-> this computer's trash",
                };
                let undone = if e.undone_at.is_some() {
                    "  (undone)"
                } else {
                    ""
                };
                println!(
                    "{:>6}  {}  {}  {}  {what}: {}{undone}",
                    e.id,
                    day(e.at),
                    e.account,
                    e.path.display(),
                    e.reason
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            ExitCode::from(EXIT_STATE)
        }
    }
}

/// `undo IDS|--since TIME`.
async fn undo(config: &Config, store: Store, ids: &[i64], since: Option<&str>) -> ExitCode {
    use sync_engine::undo::{UndoSelection, undo};
    let selection = match (since, ids.is_empty()) {
        (Some(since), _) => match parse_since(since) {
            Ok(at) => UndoSelection::Since(at),
            Err(message) => {
                eprintln!("immich-syncd: {message}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        (None, false) => UndoSelection::Ids(ids.to_vec()),
        (None, true) => {
            eprintln!("immich-syncd: name the ids to undo (see `journal`) or pass --since TIME");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match undo(config, &store, selection).await {
        Ok(outcomes) => {
            if outcomes.is_empty() {
                println!("nothing to undo");
            }
            let mut failed = false;
            for outcome in outcomes {
                match outcome.result {
                    Ok(done) => println!("{:>6}  undone: {done}", outcome.id),
                    Err(error) => {
                        failed = true;
                        eprintln!("immich-syncd: {}: not undone: {error}", outcome.id);
                    }
                }
            }
            if failed {
                ExitCode::from(EXIT_INCOMPLETE)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            ExitCode::from(EXIT_STATE)
        }
    }
}

/// `import-state --from OLD.db`.
async fn import_state(
    config: Config,
    from: &std::path::Path,
    account: Option<&str>,
    user: Option<&str>,
) -> ExitCode {
    use sync_engine::engine::ImportStateError;
    match sync_engine::engine::import_state(config, from, account, user).await {
        Ok((account, report)) => {
            println!(
                "imported into `{account}`: {} photos already in Immich, {} waiting for upload, {} gone from disk (judged by the delete policy), {} already known",
                report.imported, report.queued, report.missing, report.known
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            ExitCode::from(match error {
                ImportStateError::Engine(_) => EXIT_STATE,
                ImportStateError::Account(_) => EXIT_CONFIG,
                ImportStateError::Connect(e) if e.is_transient() => EXIT_UNREACHABLE,
                ImportStateError::Connect(_) => EXIT_ACCOUNT,
                ImportStateError::Import(sync_engine::older_service::ImportError::Store(_)) => {
                    EXIT_STATE
                }
                ImportStateError::Import(_) => EXIT_ACCOUNT,
            })
        }
    }
}

async fn once(config: Config, options: EngineOptions) -> ExitCode {
    if let Some(code) = preflight(&config, true).await {
        return code;
    }
    let report = match run_once(config, options).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_STATE);
        }
    };
    let verb = if options.dry_run {
        "would upload"
    } else {
        "uploaded"
    };
    println!(
        "{verb} {}, linked {}, failed {}, pending {}, skipped {}, moved to Immich trash {}, moved to local trash {}, deletes held {}",
        report.uploaded,
        report.linked,
        report.failed,
        report.pending,
        report.skipped,
        report.trashed_in_immich,
        report.moved_to_trash,
        report.held_deletes
    );
    if report.held_deletes > 0 {
        eprintln!(
            "immich-syncd: {} deletes are waiting for your confirmation: review them with `immich-syncd --config FILE deletions list`",
            report.held_deletes
        );
    }
    for problem in &report.problems {
        eprintln!("immich-syncd: {problem}");
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    }
}

async fn daemon(config: Config, options: EngineOptions) -> ExitCode {
    if let Some(code) = preflight(&config, false).await {
        return code;
    }
    let engine = match Engine::start(config, options).await {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_STATE);
        }
    };
    tracing::info!("running; stop with Ctrl-C or SIGTERM");
    wait_for_signal().await;
    tracing::info!("stopping: finishing work in flight");
    engine.shutdown().await;
    ExitCode::SUCCESS
}

/// Checks every active account before starting, so a wrong key or URL fails loudly at once.
/// An unreachable server is fatal only for `--once`; the daemon keeps retrying.
async fn preflight(config: &Config, unreachable_is_fatal: bool) -> Option<ExitCode> {
    let mut worst: Option<u8> = None;
    for account in config.accounts.iter().filter(|a| !a.paused) {
        let key = match account.api_key.resolve(&account.name) {
            Ok(key) => key,
            Err(error) => {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                worst = Some(EXIT_CONFIG);
                continue;
            }
        };
        match test_connection(&account.server_url, key).await {
            Ok(info) if info.missing_permissions.is_empty() => {
                tracing::info!(
                    "account `{}`: Immich {} as {} <{}>",
                    account.name,
                    info.version,
                    info.user_name,
                    info.user_email
                );
            }
            Ok(info) => {
                eprintln!(
                    "immich-syncd: account `{}`: the API key lacks these permissions: {}. Edit the key in Immich (Account Settings → API Keys) and allow them.",
                    account.name,
                    info.missing_permissions.join(", ")
                );
                worst = worst.max(Some(EXIT_ACCOUNT));
            }
            Err(error) if error.is_transient() => {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                if unreachable_is_fatal {
                    worst = worst.max(Some(EXIT_UNREACHABLE));
                } else {
                    tracing::warn!("account `{}`: will keep retrying", account.name);
                }
            }
            Err(error) => {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                worst = worst.max(Some(match error {
                    ApiError::InvalidUrl { .. } => EXIT_CONFIG,
                    _ => EXIT_ACCOUNT,
                }));
            }
        }
    }
    worst.map(ExitCode::from)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
