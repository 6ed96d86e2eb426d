//! `immich-bench`: the Rust half of `scripts/bench`.
//!
//! The orchestration (starting processes, timing them, sampling memory, writing results) lives
//! in `scripts/lib/bench.py`; this binary does the parts that must be fast or that need the fake
//! server's insides:
//!
//! ```text
//! immich-bench jpegs --count N --out DIR          N distinct, really encoded JPEG photos
//! immich-bench small-files --count N --out DIR    N distinct small files in nested folders
//! immich-bench serve --storage DIR --user E:N:KEY a fake Immich server that counts requests
//! ```

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Parser, Subcommand};
use fake_immich::{FakeImmich, Options, Profile};

#[derive(Parser, Debug)]
#[command(name = "immich-bench", about = "Helpers for scripts/bench.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes COUNT distinct JPEG photos (`NNN/IMG_NNNNNN.jpg`) into OUT.
    Jpegs {
        #[arg(long)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1600)]
        width: u16,
        #[arg(long, default_value_t = 1200)]
        height: u16,
        #[arg(long, default_value_t = 85)]
        quality: u8,
        /// Files per subfolder, so both tools walk a realistic tree.
        #[arg(long, default_value_t = 250)]
        per_dir: usize,
    },
    /// Writes COUNT distinct files of SIZE bytes (`NNN/NNN/FNNNNNNN.jpg`) into OUT.
    SmallFiles {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100)]
        per_dir: usize,
    },
    /// Runs a fake Immich server with its request log on.
    ///
    /// Prints one JSON line `{"url": …, "users": {KEY: USER_ID}}` when ready, then answers
    /// commands on standard input, one per line, each with one JSON line:
    /// `requests` (counts per route since the last `reset`), `reset`, `record on|off`.
    /// Stops at the end of standard input.
    Serve {
        #[arg(long, default_value = "v3")]
        profile: Profile,
        #[arg(long)]
        storage: Option<PathBuf>,
        /// `email:name:apikey`, with every permission. Repeatable.
        #[arg(long = "user", value_name = "EMAIL:NAME:APIKEY")]
        users: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Jpegs {
            count,
            out,
            width,
            height,
            quality,
            per_dir,
        } => jpegs(count, &out, width, height, quality, per_dir.max(1)),
        Command::SmallFiles {
            count,
            size,
            out,
            per_dir,
        } => small_files(count, size.max(16), &out, per_dir.max(1)),
        Command::Serve {
            profile,
            storage,
            users,
        } => serve(profile, storage, &users),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("immich-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// splitmix64: fast, seedable, and good enough to make every file differ.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Runs `work(i)` for every i in 0..count on all cores.
fn parallel(count: usize, work: impl Fn(usize) -> Result<()> + Sync) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(());
                        }
                        work(i)?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a worker thread panicked")?)
    })
}

/// Writes through a temporary name so an interrupted run never leaves a truncated photo that
/// a later run would take for a finished one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn jpegs(
    count: usize,
    out: &Path,
    width: u16,
    height: u16,
    quality: u8,
    per_dir: usize,
) -> Result<()> {
    parallel(count, |i| {
        let dir = out.join(format!("{:03}", i / per_dir));
        let path = dir.join(format!("IMG_{:06}.jpg", i + 1));
        if path.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&dir)?;
        let pixels = photo_pixels(i as u64, width as usize, height as usize);
        let mut encoded = Vec::with_capacity(pixels.len() / 4);
        jpeg_encoder::Encoder::new(&mut encoded, quality).encode(
            &pixels,
            width,
            height,
            jpeg_encoder::ColorType::Rgb,
        )?;
        write_atomically(&path, &encoded)
    })
}

/// A smooth scene (gradients and a few soft discs, different for every seed) with sensor-like
/// noise on top: noise is what keeps a JPEG from shrinking to a few KB, the scene keeps it
/// from being pure noise (which would be megabytes), so files land at a few hundred KB like
/// a phone photo's.
fn photo_pixels(seed: u64, width: usize, height: usize) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x1234_5678);
    let base: [f32; 3] = std::array::from_fn(|_| (rng.next() % 200) as f32 + 28.0);
    let slope: [f32; 3] = std::array::from_fn(|_| (rng.next() % 120) as f32 - 60.0);
    let discs: Vec<(f32, f32, f32, [f32; 3])> = (0..6)
        .map(|_| {
            let x = (rng.next() % width as u64) as f32;
            let y = (rng.next() % height as u64) as f32;
            let r = (rng.next() % (height as u64 / 3) + 40) as f32;
            let c = std::array::from_fn(|_| (rng.next() % 160) as f32 - 80.0);
            (x, y, r, c)
        })
        .collect();
    let mut pixels = vec![0u8; width * height * 3];
    let mut noise = 0u64;
    for y in 0..height {
        let fy = y as f32 / height as f32;
        for x in 0..width {
            let fx = x as f32 / width as f32;
            let mut rgb = [0f32; 3];
            for c in 0..3 {
                rgb[c] = base[c] + slope[c] * (fx - fy);
            }
            for (dx, dy, r, col) in &discs {
                let d2 = (x as f32 - dx).powi(2) + (y as f32 - dy).powi(2);
                if d2 < r * r {
                    let w = 1.0 - d2 / (r * r);
                    for c in 0..3 {
                        rgb[c] += col[c] * w;
                    }
                }
            }
            if x % 8 == 0 {
                noise = rng.next();
            }
            let offset = (y * width + x) * 3;
            for c in 0..3 {
                let n = ((noise >> ((x % 8) * 8 + c * 2)) & 0x1f) as f32 - 16.0;
                pixels[offset + c] = (rgb[c] + n).clamp(0.0, 255.0) as u8;
            }
        }
    }
    pixels
}

fn small_files(count: usize, size: usize, out: &Path, per_dir: usize) -> Result<()> {
    parallel(count, |i| {
        let dir = out
            .join(format!("{:03}", i / (per_dir * per_dir)))
            .join(format!("{:03}", (i / per_dir) % per_dir));
        let path = dir.join(format!("F{:07}.jpg", i + 1));
        if path.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&dir)?;
        // The index up front makes every file distinct; the rest is noise so nothing
        // (a filesystem, a hash) can take a shortcut.
        let mut bytes = Vec::with_capacity(size);
        bytes.extend_from_slice(&(i as u64).to_le_bytes());
        let mut rng = Rng(i as u64);
        while bytes.len() < size {
            bytes.extend_from_slice(&rng.next().to_le_bytes());
        }
        bytes.truncate(size);
        write_atomically(&path, &bytes)
    })
}

#[tokio::main]
async fn serve(profile: Profile, storage: Option<PathBuf>, users: &[String]) -> Result<()> {
    let server = FakeImmich::start_with(Options {
        profile,
        storage_dir: storage,
        port: 0,
    })
    .await?;
    let mut ids = serde_json::Map::new();
    for spec in users {
        let mut parts = spec.splitn(3, ':');
        let (Some(email), Some(name), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("--user wants EMAIL:NAME:APIKEY, got {spec:?}").into());
        };
        let id = server.add_user(email, name);
        server.add_api_key_with_secret(&id, key, &["all"]);
        ids.insert(key.to_string(), id.into());
    }
    say(&serde_json::json!({ "url": server.url(), "users": ids }));

    // Standard input is read on its own thread so the server's runtime never blocks on it.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        match line.trim() {
            "requests" => say(&route_counts(&server)),
            "reset" => {
                server.clear_requests();
                say(&serde_json::json!({ "ok": true }));
            }
            "record on" | "record off" => {
                server.set_record_requests(line.trim().ends_with("on"));
                say(&serde_json::json!({ "ok": true }));
            }
            "" => {}
            other => say(&serde_json::json!({ "error": format!("unknown command {other:?}") })),
        }
    }
    server.shutdown().await;
    Ok(())
}

/// Requests per `METHOD /path`, with ids folded so that `GET /api/assets/<uuid>` is one route.
fn route_counts(server: &FakeImmich) -> serde_json::Value {
    let mut routes = std::collections::BTreeMap::<String, u64>::new();
    let requests = server.requests();
    for request in &requests {
        let path: Vec<&str> = request
            .path
            .split('/')
            .map(|part| if looks_like_id(part) { "{id}" } else { part })
            .collect();
        *routes
            .entry(format!("{} {}", request.method, path.join("/")))
            .or_default() += 1;
    }
    serde_json::json!({ "total": requests.len(), "routes": routes })
}

fn looks_like_id(part: &str) -> bool {
    part.len() == 36 && part.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn say(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}
