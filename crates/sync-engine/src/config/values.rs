//! Parsing and normalising single values: durations, server URLs, paths, delete modes.
//!
//! Each function takes the text as written and returns the value or a message that quotes the
//! input and says what would be accepted. The caller adds the key's name.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::DeleteMode;

/// The hint every duration message ends with.
const DURATION_HINT: &str = "use seconds or 90s/5m/6h/1d";

/// Parses `90`, `90s`, `5m`, `6h`, `1d`, `500ms` or `1.5h` (one number, one optional unit;
/// spaces around the unit are tolerated). A bare number is seconds.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("`{text}` is not a duration: {DURATION_HINT}");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(invalid()),
    };
    let number: f64 = number.parse().map_err(|_| invalid())?;
    Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| invalid())
}

/// A duration given as a number of seconds (integer or decimal).
pub(super) fn duration_from_seconds(seconds: f64) -> Result<Duration, String> {
    if seconds < 0.0 {
        return Err(format!("must not be negative, got {seconds}"));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("`{seconds}` is not a duration: {DURATION_HINT}"))
}

/// Checks a server URL and normalises it: scheme in lower case, no trailing slash, no
/// trailing `/api` (people paste the API URL; the client adds `/api` itself).
pub(super) fn normalise_server_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("must start with http:// or https://, got `{url}`"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("must start with http:// or https://, got `{url}`"));
    }
    if rest.chars().any(char::is_whitespace) {
        return Err(format!("must not contain spaces, got `{url}`"));
    }
    if rest.contains(['?', '#']) {
        return Err(format!(
            "must be the server's address without `?` or `#` parts, got `{url}`"
        ));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    check_authority(authority).map_err(|reason| format!("{reason}, got `{url}`"))?;
    let path = path.trim_end_matches('/');
    let path = path
        .strip_suffix("/api")
        .unwrap_or(path)
        .trim_end_matches('/');
    Ok(format!("{scheme}://{authority}{path}"))
}

/// `host`, `host:port`, `[::1]:port`: a host must be there and a port must be a number.
fn check_authority(authority: &str) -> Result<(), String> {
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match authority[host_end..].rfind(':') {
        Some(colon) => authority.split_at(host_end + colon),
        None => (authority, ""),
    };
    if host.is_empty() || host.ends_with('@') {
        return Err("has no host name".to_owned());
    }
    match port.strip_prefix(':') {
        Some(port) if port.parse::<u16>().is_err() => {
            Err(format!("port `{port}` is not a number from 1 to 65535"))
        }
        _ => Ok(()),
    }
}

/// Reads a delete mode, tolerating case and `_` for `-` (`Upload_Only`).
pub(super) fn parse_delete_mode(text: &str) -> Result<DeleteMode, String> {
    let wanted = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    DeleteMode::ALL
        .into_iter()
        .find(|mode| mode.as_str() == wanted)
        .ok_or_else(|| {
            let valid: Vec<&str> = DeleteMode::ALL.iter().map(|m| m.as_str()).collect();
            format!(
                "unknown delete mode `{text}`: use one of {}",
                valid.join(", ")
            )
        })
}

/// Where paths in the file are resolved: the config file's folder and the user's home.
#[derive(Clone, Debug, Default)]
pub(super) struct PathContext {
    /// The folder relative paths are resolved against; relative paths are refused when this is
    /// not absolute.
    pub base_dir: PathBuf,
    /// What `~` expands to; `~` is refused when unknown.
    pub home: Option<PathBuf>,
}

impl PathContext {
    /// Expands `~`, resolves a relative path against the base folder, and removes `.` and
    /// `..` components, so that equal folders compare equal.
    pub fn resolve(&self, raw: &str) -> Result<PathBuf, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("is empty: give a path".to_owned());
        }
        let expanded = self.expand_home(text)?;
        let path = if expanded.is_absolute() {
            expanded
        } else {
            self.base_dir.join(expanded)
        };
        if !path.is_absolute() {
            return Err(format!(
                "`{text}` is a relative path and there is no config file folder to resolve it \
                 against: use an absolute path"
            ));
        }
        Ok(normalise_lexically(&path))
    }

    fn expand_home(&self, text: &str) -> Result<PathBuf, String> {
        let Some(after) = text.strip_prefix('~') else {
            return Ok(PathBuf::from(text));
        };
        let rest = if after.is_empty() {
            ""
        } else if let Some(rest) = after.strip_prefix(['/', std::path::MAIN_SEPARATOR]) {
            rest
        } else {
            return Err(format!(
                "`{text}`: only `~` alone (your own home folder) is expanded; write the full path"
            ));
        };
        match &self.home {
            Some(home) => Ok(home.join(rest)),
            None => Err(format!(
                "`{text}`: the home folder is unknown, so `~` cannot be expanded; write the full path"
            )),
        }
    }
}

/// Removes `.` and resolves `..` without touching the disk (the folder may not exist).
fn normalise_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A form of a folder path for overlap checks: case-folded where the usual file systems
/// ignore case (Windows, macOS).
pub(super) fn comparable(path: &Path) -> PathBuf {
    if cfg!(any(windows, target_os = "macos")) {
        PathBuf::from(path.to_string_lossy().to_lowercase())
    } else {
        path.to_path_buf()
    }
}

/// Days as people write them: `7`, `0.5`.
pub(super) fn days(value: f64) -> String {
    format!("{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_and_units() {
        let cases = [
            ("90", 90.0),
            ("90s", 90.0),
            ("5m", 300.0),
            ("6h", 21_600.0),
            ("1d", 86_400.0),
            (" 2 s ", 2.0),
            ("1.5h", 5_400.0),
            ("500ms", 0.5),
            ("0", 0.0),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs_f64(seconds)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn durations_refuse_anything_else_with_a_hint() {
        for text in [
            "5 minutes",
            "",
            "s",
            "1w",
            "-5s",
            "1.2.3s",
            "5m30s",
            "1e9999d",
        ] {
            let error = parse_duration(text).expect_err(text);
            assert_eq!(
                error,
                format!("`{text}` is not a duration: use seconds or 90s/5m/6h/1d")
            );
        }
        assert!(duration_from_seconds(-1.0).is_err());
        assert_eq!(duration_from_seconds(1.5), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn server_urls_are_normalised() {
        let cases = [
            ("https://photos.example.com", "https://photos.example.com"),
            (
                " https://photos.example.com/ ",
                "https://photos.example.com",
            ),
            (
                "https://photos.example.com/api",
                "https://photos.example.com",
            ),
            (
                "https://photos.example.com/api/",
                "https://photos.example.com",
            ),
            ("HTTP://nas.local:2283/api", "http://nas.local:2283"),
            (
                "https://example.com/immich/api",
                "https://example.com/immich",
            ),
            ("http://[::1]:2283", "http://[::1]:2283"),
            ("http://127.0.0.1:2283//", "http://127.0.0.1:2283"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_server_url(raw).as_deref(), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn bad_server_urls_say_why() {
        let cases = [
            (
                "photos.example.com",
                "must start with http:// or https://, got `photos.example.com`",
            ),
            (
                "ftp://photos.example.com",
                "must start with http:// or https://, got `ftp://photos.example.com`",
            ),
            ("https://", "has no host name, got `https://`"),
            ("https:///api", "has no host name, got `https:///api`"),
            (
                "http://nas:port",
                "port `port` is not a number from 1 to 65535, got `http://nas:port`",
            ),
            (
                "https://photos example.com",
                "must not contain spaces, got `https://photos example.com`",
            ),
            (
                "https://x.com/?a=1",
                "must be the server's address without `?` or `#` parts, got `https://x.com/?a=1`",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_server_url(raw), Err(expected.to_owned()), "{raw}");
        }
    }

    #[test]
    fn delete_modes_tolerate_case_and_underscores() {
        assert_eq!(parse_delete_mode("mirror"), Ok(DeleteMode::Mirror));
        assert_eq!(parse_delete_mode("Upload_Only"), Ok(DeleteMode::UploadOnly));
        assert_eq!(parse_delete_mode("keep-local"), Ok(DeleteMode::KeepLocal));
        assert_eq!(
            parse_delete_mode("both"),
            Err("unknown delete mode `both`: use one of mirror, upload-only, keep-local".into())
        );
    }

    #[cfg(unix)]
    #[test]
    fn paths_expand_home_and_resolve_against_the_config_folder() {
        let context = PathContext {
            base_dir: PathBuf::from("/etc/immich-sync"),
            home: Some(PathBuf::from("/home/alice")),
        };
        let cases = [
            ("~", "/home/alice"),
            ("~/Pictures", "/home/alice/Pictures"),
            ("/photos/./alice/", "/photos/alice"),
            ("photos", "/etc/immich-sync/photos"),
            ("../data/state.db", "/etc/data/state.db"),
        ];
        for (raw, expected) in cases {
            assert_eq!(context.resolve(raw), Ok(PathBuf::from(expected)), "{raw}");
        }
        assert!(context.resolve("~bob/Pictures").is_err());
        assert!(context.resolve("  ").is_err());
        let homeless = PathContext::default();
        assert!(homeless.resolve("~/Pictures").is_err());
        assert!(
            homeless
                .resolve("Pictures")
                .expect_err("relative without a base")
                .contains("relative")
        );
        assert_eq!(homeless.resolve("/p"), Ok(PathBuf::from("/p")));
    }
}
