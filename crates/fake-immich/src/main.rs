//! `fake-immich`: runs the stand-in Immich server as a process, for benchmarks that drive
//! other clients (such as the official Immich CLI) against it.
//!
//! ```text
//! fake-immich --port 0 --profile v3 --storage DIR --user email:name:apikey ...
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT` once ready and serves until SIGINT (or
//! SIGTERM), then removes its temporary storage.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Parser;
use fake_immich::{FakeImmich, Options, Profile};

#[derive(Parser, Debug)]
#[command(
    name = "fake-immich",
    about = "A stand-in Immich server (v2 or v3 profile)."
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Server generation to imitate: v2 (2.7.5) or v3 (3.1.0).
    #[arg(long, default_value = "v3")]
    profile: Profile,
    /// Where uploaded files are stored (default: a temporary directory, removed on exit).
    #[arg(long)]
    storage: Option<PathBuf>,
    /// A user with an API key holding every permission, as `email:name:apikey`. Repeatable.
    #[arg(long = "user", value_name = "EMAIL:NAME:APIKEY")]
    users: Vec<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut users = Vec::new();
    for spec in &args.users {
        let mut parts = spec.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(email), Some(name), Some(key)) if !email.is_empty() && !key.is_empty() => {
                users.push((email.to_string(), name.to_string(), key.to_string()));
            }
            _ => {
                eprintln!("fake-immich: --user wants EMAIL:NAME:APIKEY, got {spec:?}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let server = match FakeImmich::start_with(Options {
        profile: args.profile,
        storage_dir: args.storage,
        port: args.port,
    })
    .await
    {
        Ok(server) => server,
        Err(err) => {
            eprintln!("fake-immich: cannot start: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Nobody can read the request log of a separate process; keep memory flat.
    server.set_record_requests(false);
    for (email, name, key) in &users {
        let id = server.add_user(email, name);
        server.add_api_key_with_secret(&id, key, &["all"]);
    }
    println!("listening on {}", server.url());
    let _ = std::io::stdout().flush();
    wait_for_stop_signal().await;
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
