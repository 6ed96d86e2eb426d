//! Config files as users have them, loaded from disk: the older service's file must load
//! unchanged, the current shape and a mix of both must load, and broken files must say
//! everything that is wrong, with the key or the line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sync_engine::config::{
    self, ApiKeySource, Config, ConfigError, DeleteMode, DeletePolicy, Intervals,
};
use sync_engine::secret::ApiKey;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> Config {
    match config::load(&fixture(name)) {
        Ok(config) => config,
        Err(error) => panic!("{name} should load, got:\n{error}"),
    }
}

fn load_error(name: &str) -> ConfigError {
    match config::load(&fixture(name)) {
        Ok(_) => panic!("{name} should not load"),
        Err(error) => error,
    }
}

fn home() -> PathBuf {
    directories::BaseDirs::new()
        .expect("tests run with a home folder")
        .home_dir()
        .to_path_buf()
}

/// Warnings other than the advice about file permissions, which depends on the checkout.
fn content_warnings(config: &Config) -> Vec<&str> {
    config
        .warnings
        .iter()
        .map(String::as_str)
        .filter(|warning| !warning.contains("other users can read it"))
        .collect()
}

fn policy(mode: DeleteMode, threshold_days: f64, max_age_days: f64) -> DeletePolicy {
    DeletePolicy {
        mode,
        threshold_days,
        max_age_days,
    }
}

#[test]
fn the_older_services_file_loads_unchanged() {
    let config = load("legacy-config.toml");
    assert_eq!(
        config.database_path,
        Path::new("/var/lib/immich-sync/state.db")
    );
    assert_eq!(
        config.event_log.as_deref(),
        Some(Path::new("/var/log/immich-sync/events.jsonl"))
    );
    assert_eq!(config.upload_concurrency, 4);
    assert_eq!(
        config.intervals,
        Intervals {
            full_scan: Duration::from_secs(3600),
            reconcile: Duration::from_secs(300),
            remote_check: Duration::from_secs(30),
            upload_poll: Duration::from_secs(60),
            stable_after: Duration::from_secs(2),
        }
    );
    assert!(
        content_warnings(&config).is_empty(),
        "{:?}",
        config.warnings
    );

    let expected = [
        ("alice", "the-api-key", "/photos/alice"),
        ("bob", "...", "/photos/bob"),
    ];
    assert_eq!(config.accounts.len(), expected.len());
    for (account, (name, key, path)) in config.accounts.iter().zip(expected) {
        assert_eq!(account.name, name);
        assert_eq!(account.server_url, "https://photos.example.com");
        assert_eq!(account.api_key, ApiKeySource::Inline(ApiKey::new(key)));
        assert!(!account.paused);
        assert_eq!(account.folders.len(), 1);
        let folder = &account.folders[0];
        assert_eq!(folder.path, Path::new(path));
        assert_eq!(folder.policy, policy(DeleteMode::Mirror, 7.0, 365.0));
        assert_eq!(folder.exclude_extensions, ["tmp", "tar.gz", "mov"]);
    }
}

#[test]
fn the_current_shape_loads_with_overrides_and_every_key_source() {
    let config = load("new-shape.toml");
    let fixtures = fixture("");
    assert_eq!(config.database_path, fixtures.join("state/state.db"));
    assert_eq!(
        config.event_log,
        Some(home().join("immich-sync/events.jsonl"))
    );
    assert_eq!(config.upload_concurrency, 3);
    assert_eq!(
        config.intervals,
        Intervals {
            full_scan: Duration::from_secs(12 * 3600),
            reconcile: Duration::from_secs(30 * 60),
            remote_check: Duration::from_secs(30),
            upload_poll: Duration::from_secs(90),
            stable_after: Duration::from_secs(5),
        }
    );
    assert!(
        content_warnings(&config).is_empty(),
        "{:?}",
        config.warnings
    );

    let [family, work, desktop] = &config.accounts[..] else {
        panic!("expected three accounts, got {:?}", config.accounts);
    };
    assert_eq!(family.name, "family");
    assert_eq!(family.server_url, "https://photos.example.com");
    assert_eq!(
        family.api_key,
        ApiKeySource::Env("IMMICH_FAMILY_KEY".into())
    );
    assert_eq!(family.folders[0].path, home().join("Pictures"));
    assert_eq!(
        family.folders[0].policy,
        policy(DeleteMode::UploadOnly, 7.0, 365.0)
    );
    assert_eq!(family.folders[0].exclude_extensions, ["tmp", "part", "raw"]);
    assert_eq!(family.folders[1].path, Path::new("/media/camera/DCIM"));
    assert_eq!(family.folders[1].policy, DeletePolicy::default());
    assert_eq!(family.folders[1].exclude_extensions, ["tmp", "part"]);

    assert_eq!(work.server_url, "http://nas.local:2283");
    assert_eq!(
        work.api_key,
        ApiKeySource::File(fixtures.join("keys/work.key"))
    );
    assert!(work.paused);
    assert_eq!(
        work.folders[0].policy,
        policy(DeleteMode::KeepLocal, 0.5, 3650.0),
        "the account's threshold applies to its folders"
    );

    assert_eq!(desktop.api_key, ApiKeySource::Keyring);
    assert_eq!(
        desktop.folders[0].path,
        Path::new("/home/shared/Camera Uploads")
    );
}

#[test]
fn both_shapes_load_from_one_file() {
    let config = load("mixed.toml");
    assert_eq!(config.intervals.full_scan, Duration::from_secs(7200));
    assert_eq!(
        config.intervals.reconcile,
        Duration::from_secs(15 * 60),
        "[defaults] wins over [immich]"
    );
    assert_eq!(
        content_warnings(&config),
        [
            "`immich.delete_poll_interval` is ignored because `defaults.reconcile_interval` is also set"
        ]
    );

    let [user, account] = &config.accounts[..] else {
        panic!("expected two accounts, got {:?}", config.accounts);
    };
    assert_eq!(user.name, "alice");
    assert_eq!(user.server_url, "https://old.example.com");
    assert_eq!(
        user.folders[0].policy,
        policy(DeleteMode::UploadOnly, 3.0, 90.0),
        "[immich] ages first, then [defaults]"
    );
    assert_eq!(user.folders[0].exclude_extensions, ["tmp"]);

    assert_eq!(account.name, "alice-new-server");
    assert_eq!(account.server_url, "https://new.example.com");
    assert_eq!(
        account.folders[0].policy,
        policy(DeleteMode::UploadOnly, 14.0, 3650.0),
        "[immich] applies to [[user]] blocks only"
    );
    assert_eq!(account.folders[0].exclude_extensions, ["tmp", "mov"]);
}

#[test]
fn a_file_with_many_errors_reports_all_of_them() {
    let error = load_error("many-errors.toml");
    let keys: Vec<&str> = error.problems().iter().map(|p| p.key.as_str()).collect();
    let expected = [
        "database_path",
        "exclude_extensions[1]",
        "defaults.upload_concurrency",
        "defaults.full_scan_interval",
        "defaults.stable_after",
        "defaults.delete_mode",
        "immich.delete_threshold",
        "immich.server_url",
        "user[0].user_key",
        "account[0].server_url",
        "account[0]",
        "account[0].folder[0].delete_threshold",
        "account[0].folder[0].delete_max_age",
        "account[1].name",
        "account[1].api_key",
        "account[1].folder[0].path",
        "account[1].folder[0].delete_mode",
        "account[0].name",
        "account[0].folder[0].path",
    ];
    assert_eq!(keys, expected);

    let shown = error.to_string();
    assert_eq!(shown.lines().count(), expected.len(), "{shown}");
    for key in expected {
        assert!(
            shown
                .lines()
                .any(|line| line.starts_with(&format!("{key}: "))),
            "no line for {key} in:\n{shown}"
        );
    }
    for message in [
        "`5 minutes` is not a duration: use seconds or 90s/5m/6h/1d",
        "must start with http:// or https://, got `photos.example.com`",
        "expected a number of days, got a string",
        "use one of mirror, upload-only, keep-local",
        "must be between 1 and 16, got 64",
        "duplicate account name `alice`",
        "is inside user[0].path (/photos/alice)",
    ] {
        assert!(shown.contains(message), "missing `{message}` in:\n{shown}");
    }
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let error = load_error("syntax-error.toml");
    let ConfigError::Syntax { path, line, .. } = &error else {
        panic!("expected a syntax error, got {error}");
    };
    assert_eq!(
        path.as_deref(),
        Some(fixture("syntax-error.toml").as_path())
    );
    assert_eq!(*line, 3);
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!(
            "syntax error in {} at line 3, column ",
            fixture("syntax-error.toml").display()
        )),
        "{shown}"
    );
}

#[test]
fn unknown_keys_load_with_a_warning() {
    let config = load("unknown-key.toml");
    assert_eq!(
        content_warnings(&config),
        [
            "unknown key `exclude_extension` at the top level (ignored)",
            "unknown key `delete_treshold` in [immich] (ignored)",
        ]
    );
    assert_eq!(
        config.accounts[0].folders[0].policy,
        DeletePolicy::default(),
        "the misspelt key has no effect"
    );
}

#[test]
fn a_missing_file_says_so() {
    let path = fixture("absent.toml");
    let error = config::load(&path).expect_err("no such file");
    assert!(matches!(error, ConfigError::Read { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read config file {}: No such file or directory",
            path.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn a_readable_file_with_keys_in_it_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::copy(fixture("legacy-config.toml"), &path).expect("copy fixture");
    let chmod = |mode| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };

    chmod(0o644);
    let warnings = config::load(&path).expect("loads").warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("chmod 600"), "{warnings:?}");

    chmod(0o600);
    assert!(config::load(&path).expect("loads").warnings.is_empty());
}
