//! `immich-syncd`: the sync engine without a GUI, for NAS boxes and servers.
//!
//! Exit statuses (also in the README):
//! 0 in sync (or stopped cleanly), 1 a `--once` pass left files failed or pending,
//! 2 missing or invalid configuration, 3 the server or key needs fixing (wrong URL, not Immich,
//! key rejected, permission missing), 4 the server could not be reached, 5 the state database or
//! event log cannot be used.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sync_engine::config::{self, Config};
use sync_engine::control::{self, Backend, ControlError, Request};
use sync_engine::engine::{CheckedConnection, check_connection};
use sync_engine::immich::ApiError;
use sync_engine::store::Store;
use sync_engine::{Engine, EngineHandle, EngineOptions, run_once_checked};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "immich-syncd",
    version = sync_engine::VERSION,
    about = "Keeps folders in sync with an Immich server (headless).",
    after_help = "Exit status: 0 in sync, 1 files failed or pending (--once), 2 configuration error, \
                  3 server or API key needs fixing, 4 server unreachable, 5 state database or event log unusable, \
                  6 nothing is running (status, pause, resume, sync-now, reload)."
)]
struct Cli {
    /// The TOML configuration file (the older immich-sync service's config.toml works as is).
    /// By default the desktop app's settings file.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do one full pass (scan, upload, reconcile) and exit.
    #[arg(long)]
    once: bool,
    /// Change nothing on either side; log what would be done.
    #[arg(short = 'n', long)]
    dry_run: bool,
    /// More detail in the log.
    #[arg(short, long)]
    verbose: bool,
    /// Print a command's result as JSON (status, deletions, journal, undo, tombstones...).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// How the running engine (this daemon, or the desktop app) is doing.
    Status,
    /// Pause syncing of one account, or all: uploads in flight finish, nothing new starts.
    Pause {
        /// The account (all when left out).
        account: Option<String>,
    },
    /// Resume syncing of one account, or all.
    Resume {
        /// The account (all when left out).
        account: Option<String>,
    },
    /// A full scan, upload and check against Immich now.
    SyncNow,
    /// Apply the changed configuration file without a restart (like SIGHUP); a broken file is
    /// refused with its problems and the running configuration kept.
    Reload,
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
    /// Let held deletes go ahead (a running engine carries them out at once).
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

use control::exit::{
    ACCOUNT as EXIT_ACCOUNT, CONFIG as EXIT_CONFIG, INCOMPLETE as EXIT_INCOMPLETE,
    NOT_RUNNING as EXIT_NOT_RUNNING, STATE as EXIT_STATE, UNREACHABLE as EXIT_UNREACHABLE,
};

fn main() -> ExitCode {
    sync_engine::allocator::use_few_arenas();
    let cli = Cli::parse();
    let default = if cli.verbose { "debug" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(config_path) = cli.config.clone().or_else(config::app_config_file) else {
        eprintln!("immich-syncd: no configuration file: pass --config FILE");
        return ExitCode::from(EXIT_CONFIG);
    };
    let config = match config::load(&config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!(
                "immich-syncd: configuration error in {}:\n{error}",
                config_path.display()
            );
            if matches!(cli.command, Some(Command::Reload)) {
                eprintln!(
                    "immich-syncd: not applied: the running engine keeps its configuration until the file is fixed"
                );
            } else if cli.config.is_none() {
                eprintln!(
                    "immich-syncd: (the desktop app's settings file; pass --config FILE for another)"
                );
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for warning in &config.warnings {
        tracing::warn!("{}: {warning}", config_path.display());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("immich-syncd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(command) = &cli.command {
        if let Command::ImportState {
            from,
            account,
            user,
        } = command
        {
            return runtime.block_on(import_state(
                config,
                from,
                account.as_deref(),
                user.as_deref(),
            ));
        }
        return match request_of(command) {
            Ok(request) => control_command(&runtime, &config, request, cli.json),
            Err(message) => {
                eprintln!("immich-syncd: {message}");
                ExitCode::from(EXIT_CONFIG)
            }
        };
    }
    let options = EngineOptions {
        dry_run: cli.dry_run,
    };
    runtime.block_on(async move {
        if cli.once {
            once(config, options).await
        } else {
            daemon(config, config_path, options).await
        }
    })
}

/// The control request a subcommand stands for.
fn request_of(command: &Command) -> Result<Request, String> {
    let all_or = |ids: &[i64], all: bool| (!all).then(|| ids.to_vec());
    Ok(match command {
        Command::Status => Request::Status,
        Command::Pause { account } => Request::Pause {
            account: account.clone(),
        },
        Command::Resume { account } => Request::Resume {
            account: account.clone(),
        },
        Command::SyncNow => Request::SyncNow,
        Command::Reload => Request::Reload,
        Command::Deletions { action } => match action {
            DeletionsAction::List => Request::HeldDeletes,
            DeletionsAction::Approve { ids, all } => Request::Decide {
                ids: all_or(ids, *all),
                approve: true,
            },
            DeletionsAction::Reject { ids, all } => Request::Decide {
                ids: all_or(ids, *all),
                approve: false,
            },
        },
        Command::Tombstones { action } => match action {
            TombstonesAction::List => Request::Tombstones,
            TombstonesAction::Forget { ids, all } => Request::Forget {
                ids: all_or(ids, *all),
            },
        },
        Command::Journal { since } => Request::Journal {
            since: since.as_deref().map(parse_since).transpose()?,
        },
        Command::Undo { ids, since } => Request::Undo {
            ids: ids.clone(),
            since: since.as_deref().map(parse_since).transpose()?,
        },
        Command::ImportState { .. } => unreachable!("import-state runs by itself"),
    })
}

/// Sends a command to the running engine (the daemon or the desktop app) on this state file;
/// with nothing running, the commands that only need the state file work on it directly.
fn control_command(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    request: Request,
    json: bool,
) -> ExitCode {
    let socket = control::socket_path(&config.database_path);
    let reply = match runtime.block_on(control::send(&socket, &request)) {
        Ok(reply) => reply,
        Err(ControlError::NotRunning(_)) if request.needs_engine() => {
            eprintln!(
                "immich-syncd: nothing is running on the state file {}: start `immich-syncd --config FILE` or the Immich Sync app",
                config.database_path.display()
            );
            return ExitCode::from(EXIT_NOT_RUNNING);
        }
        Err(ControlError::Unsupported) if request.needs_engine() => {
            eprintln!("immich-syncd: {}", ControlError::Unsupported);
            return ExitCode::from(EXIT_NOT_RUNNING);
        }
        Err(ControlError::NotRunning(_) | ControlError::Unsupported) => {
            // Opened here, before the runtime runs: opening checks and migrates the file.
            let store = match Store::open(&config.database_path) {
                Ok(store) => store,
                Err(error) => {
                    eprintln!("immich-syncd: {error}");
                    return ExitCode::from(EXIT_STATE);
                }
            };
            let backend = Backend::StateFile {
                config,
                store: &store,
            };
            runtime.block_on(control::execute(backend, request))
        }
        Err(error @ ControlError::NoAnswer(_)) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_INCOMPLETE);
        }
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_STATE);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reply.data).unwrap_or_default()
        );
    } else {
        for line in &reply.lines {
            println!("{line}");
        }
    }
    for problem in &reply.problems {
        eprintln!("immich-syncd: {problem}");
    }
    ExitCode::from(reply.exit)
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
    let (problem, checked) = preflight(&config, true).await;
    if let Some(code) = problem {
        return code;
    }
    // The pass uses the connections just checked: one handshake per account.
    let report = match run_once_checked(config, options, checked).await {
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

async fn daemon(config: Config, config_path: PathBuf, options: EngineOptions) -> ExitCode {
    // Taken first: a SIGHUP (systemctl reload) while the daemon starts must not end it.
    let signals = Signals::new();
    if let (Some(code), _) = preflight(&config, false).await {
        return code;
    }
    let socket = control::socket_path(&config.database_path);
    let engine = match Engine::start(config, options).await {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("immich-syncd: {error}");
            return ExitCode::from(EXIT_STATE);
        }
    };
    // A dry run works on a copy of the state file: nothing to control.
    let control = if options.dry_run {
        None
    } else {
        match control::serve(engine.clone(), socket, Some(config_path.clone())).await {
            Ok(server) => {
                tracing::info!(
                    "control socket {} (immich-syncd status, pause, resume, sync-now, reload)",
                    server.path().display()
                );
                Some(server)
            }
            Err(error) => {
                tracing::warn!("{error}; the command line cannot reach this daemon");
                None
            }
        }
    };
    tracing::info!("running; stop with Ctrl-C or SIGTERM, reload the configuration with SIGHUP");
    signals.run_until_stopped(&engine, &config_path).await;
    tracing::info!("stopping: finishing work in flight");
    drop(control);
    engine.shutdown().await;
    ExitCode::SUCCESS
}

/// Checks every active account before starting, so a wrong key or URL fails loudly at once.
/// An unreachable server is fatal only for `--once`; the daemon keeps retrying.
async fn preflight(
    config: &Config,
    unreachable_is_fatal: bool,
) -> (Option<ExitCode>, HashMap<String, CheckedConnection>) {
    let mut worst: Option<u8> = None;
    let mut checked = HashMap::new();
    for account in config.accounts.iter().filter(|a| !a.paused) {
        // Reading a key may be a keychain round trip: off the runtime's threads.
        let (source, name) = (account.api_key.clone(), account.name.clone());
        let resolved = tokio::task::spawn_blocking(move || source.resolve(&name)).await;
        let key = match resolved {
            Ok(Ok(key)) => key,
            // At login the keychain may not be unlocked yet: the daemon keeps trying.
            Ok(Err(error))
                if !unreachable_is_fatal
                    && matches!(account.api_key, config::ApiKeySource::Keyring) =>
            {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                tracing::warn!("account `{}`: will keep retrying", account.name);
                continue;
            }
            Ok(Err(error)) => {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                worst = Some(EXIT_CONFIG);
                continue;
            }
            Err(error) => {
                eprintln!("immich-syncd: account `{}`: {error}", account.name);
                worst = Some(EXIT_STATE);
                continue;
            }
        };
        match check_connection(&account.server_url, key).await {
            Ok(connection)
                if connection
                    .server
                    .lacks(&account.permissions_needed())
                    .is_empty() =>
            {
                let info = &connection.server;
                tracing::info!(
                    "account `{}`: Immich {} as {} <{}>",
                    account.name,
                    info.version,
                    info.user_name,
                    info.user_email
                );
                checked.insert(account.name.clone(), connection);
            }
            Ok(connection) => {
                let info = &connection.server;
                eprintln!(
                    "immich-syncd: account `{}`: the API key lacks these permissions: {}. Edit the key in Immich (Account Settings → API Keys) and allow them.",
                    account.name,
                    info.lacks(&account.permissions_needed()).join(", ")
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
    (worst.map(ExitCode::from), checked)
}

/// The signals the daemon answers: Ctrl-C and SIGTERM stop it, SIGHUP reloads the configuration.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                hup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Waits for Ctrl-C or SIGTERM; SIGHUP reloads the configuration file meanwhile.
    #[cfg_attr(not(unix), allow(unused_mut))]
    async fn run_until_stopped(mut self, engine: &EngineHandle, config_path: &std::path::Path) {
        #[cfg(unix)]
        loop {
            let term = async {
                match self.term.as_mut() {
                    Some(term) => term.recv().await,
                    None => std::future::pending().await,
                }
            };
            let hup = async {
                match self.hup.as_mut() {
                    Some(hup) => hup.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = term => return,
                _ = hup => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    let backend = Backend::Running { engine, config_file: Some(config_path) };
                    let reply = control::execute(backend, Request::Reload).await;
                    for line in &reply.lines {
                        tracing::info!("{line}");
                    }
                    for problem in &reply.problems {
                        tracing::error!("{problem}");
                    }
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (engine, config_path);
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
