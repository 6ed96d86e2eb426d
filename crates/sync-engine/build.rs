//! Records the commit the binaries are built from, for `--version` and the app's About line.
//! A build outside a git checkout (a source tarball) says `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = std::env::var("IMMICH_SYNC_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=10", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=IMMICH_SYNC_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=IMMICH_SYNC_COMMIT");
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        // Only files that exist: Cargo would run this again on every build for a missing one.
        let dir = std::path::Path::new(&dir);
        let head = git(&["symbolic-ref", "-q", "HEAD"]).map(|r| dir.join(r));
        for file in [Some(dir.join("HEAD")), head, Some(dir.join("packed-refs"))]
            .into_iter()
            .flatten()
            .filter(|f| f.exists())
        {
            println!("cargo:rerun-if-changed={}", file.display());
        }
    }
}
