//! From the file as written to a [`Config`]: every rule applied, every problem collected.
//!
//! Values are checked where they are written, so a bad `[defaults]` value is reported once
//! under `defaults.…` rather than once per folder that inherits it. Rules that relate several
//! values (a policy's two ages, overlapping folders, duplicate names) run on the merged result
//! and name the key that was written.

use std::mem::take;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::DeleteGuard;
use super::error::line_and_column;
use super::raw::{
    Blocks, Count, Days, Extensions, Field, Interval, Patterns, RawAccount, RawDefaults, RawFile,
    RawFolder, RawImmich, RawUser, Section, Unknown,
};
use super::values::{PathContext, comparable, days, normalise_server_url};
use super::{
    AccountConfig, AlbumRule, ApiKeySource, Config, ConfigError, ConfigProblem,
    DEFAULT_UPLOAD_CONCURRENCY, DeleteMode, DeletePolicy, FolderConfig, Intervals,
    MAX_UPLOAD_CONCURRENCY,
};
use crate::filter::normalise_extension;
use crate::secret::ApiKey;

/// Parses and validates `text`; `default_db` is used when `database_path` is not set.
pub(super) fn parse_in(
    text: &str,
    context: &PathContext,
    default_db: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|error| syntax_error(text, &error))?;
    Builder::new(context).build(raw, default_db)
}

fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let (line, column) = error
        .span()
        .map_or((1, 1), |span| line_and_column(text, span.start));
    ConfigError::Syntax {
        path: None,
        line,
        column,
        message: error.message().trim().to_owned(),
    }
}

/// A warning for a config file that holds API keys and that other users can read.
#[cfg(unix)]
pub(super) fn shared_secret_warning(path: &Path, config: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let has_inline_key = config
        .accounts
        .iter()
        .any(|account| matches!(account.api_key, ApiKeySource::Inline(_)));
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (has_inline_key && mode & 0o077 != 0).then(|| {
        format!(
            "{0} holds API keys and other users can read it: run `chmod 600 {0}`, \
             or move the keys to api_key_file or api_key_env",
            path.display()
        )
    })
}

/// A warning for a config file that holds API keys and that other users can read.
#[cfg(not(unix))]
pub(super) fn shared_secret_warning(_path: &Path, _config: &Config) -> Option<String> {
    None
}

/// `prefix.name`, or `name` at the top level.
fn key(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A setting and the key it was written under (`None`: the built-in default).
#[derive(Clone, Debug)]
struct Sourced<T> {
    value: T,
    key: Option<String>,
}

/// The delete-policy keys written at one level (folder, account, `[defaults]`, `[immich]`).
#[derive(Clone, Debug, Default)]
struct PolicyLayer {
    mode: Option<DeleteMode>,
    threshold: Option<Sourced<f64>>,
    max_age: Option<Sourced<f64>>,
}

impl PolicyLayer {
    /// This level, with what it leaves open taken from `below`.
    fn over(self, below: &PolicyLayer) -> PolicyLayer {
        PolicyLayer {
            mode: self.mode.or(below.mode),
            threshold: self.threshold.or_else(|| below.threshold.clone()),
            max_age: self.max_age.or_else(|| below.max_age.clone()),
        }
    }
}

/// A folder already accepted, for the overlap check.
struct FolderSeen {
    key: String,
    path: PathBuf,
    comparable: PathBuf,
}

/// Collects problems and warnings while turning raw structs into validated ones.
struct Builder<'a> {
    context: &'a PathContext,
    problems: Vec<ConfigProblem>,
    warnings: Vec<String>,
    folders: Vec<FolderSeen>,
    names: Vec<(String, String)>,
}

impl<'a> Builder<'a> {
    fn new(context: &'a PathContext) -> Self {
        Self {
            context,
            problems: Vec::new(),
            warnings: Vec::new(),
            folders: Vec::new(),
            names: Vec::new(),
        }
    }

    fn build(mut self, raw: RawFile, default_db: Option<PathBuf>) -> Result<Config, ConfigError> {
        self.unknown_keys(&raw.unknown, "at the top level");
        let database_path = self.database_path(raw.database_path, default_db);
        let event_log = self.path(raw.event_log, "event_log");
        let excludes = Excludes {
            extensions: self.extensions(raw.exclude_extensions, "exclude_extensions", &[]),
            patterns: self.patterns(raw.exclude, "exclude", &[]),
        };
        let mut defaults: RawDefaults = self.section(raw.defaults, "defaults");
        let mut immich: RawImmich = self.section(raw.immich, "immich");
        self.unknown_keys(&defaults.unknown, "in [defaults]");
        self.unknown_keys(&immich.unknown, "in [immich]");

        let upload_concurrency = self.upload_concurrency(take(&mut defaults.upload_concurrency));
        let intervals = self.intervals(&mut defaults, &mut immich);
        let delete_guard = self.delete_guard(&mut defaults);
        let defaults_policy = self.policy_layer(
            "defaults",
            defaults.delete_mode,
            defaults.delete_threshold,
            defaults.delete_max_age,
        );
        let immich_policy = self
            .policy_layer(
                "immich",
                Field::Absent,
                immich.delete_threshold,
                immich.delete_max_age,
            )
            .over(&defaults_policy);

        let blocks_unreadable = raw.user.is_bad() || raw.account.is_bad();
        let users = self.blocks(raw.user, "user");
        let accounts = self.blocks(raw.account, "account");
        if !blocks_unreadable && users.is_empty() && accounts.is_empty() {
            self.problem("", "no accounts: add an [[account]] (or [[user]]) block");
        }
        let legacy_server = self.legacy_server(immich.server_url, !users.is_empty());
        let mut built = Vec::new();
        for (index, user) in users.into_iter().enumerate() {
            let server_url = legacy_server.as_deref();
            built.extend(self.user(index, user, server_url, &immich_policy, &excludes));
        }
        for (index, account) in accounts.into_iter().enumerate() {
            built.extend(self.account(index, account, &defaults_policy, &excludes));
        }
        self.check_duplicate_names();
        self.check_overlapping_folders();

        // A missing database path has always been reported as a problem.
        let (Some(database_path), true) = (database_path, self.problems.is_empty()) else {
            return Err(ConfigError::Invalid(self.problems));
        };
        Ok(Config {
            database_path,
            event_log,
            upload_concurrency,
            intervals,
            delete_guard,
            accounts: built,
            warnings: self.warnings,
        })
    }

    // ----- reporting -----

    fn problem(&mut self, key: &str, message: impl Into<String>) {
        let problem = ConfigProblem {
            key: key.to_owned(),
            message: message.into(),
        };
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    /// Warns about keys nobody reads; `place` says where, e.g. `in [immich]`.
    fn unknown_keys(&mut self, unknown: &Unknown, place: &str) {
        for name in unknown.keys() {
            self.warnings
                .push(format!("unknown key `{name}` {place} (ignored)"));
        }
    }

    /// The value of an optional key; a value that could not be read is reported.
    fn read<T>(&mut self, field: Field<T>, key: &str) -> Option<T> {
        match field {
            Field::Absent => None,
            Field::Set(value) => Some(value),
            Field::Bad(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    /// The value of a required key; a missing key is reported with `missing`.
    fn require<T>(&mut self, field: Field<T>, key: &str, missing: &str) -> Option<T> {
        if matches!(field, Field::Absent) {
            self.problem(key, missing);
        }
        self.read(field, key)
    }

    /// Applies `check` to a value that was read, reporting its complaint under `key`.
    fn checked<T, U>(
        &mut self,
        value: Option<T>,
        key: &str,
        check: impl FnOnce(T) -> Result<U, String>,
    ) -> Option<U> {
        match check(value?) {
            Ok(value) => Some(value),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    // ----- top level -----

    fn section<T: Default>(&mut self, field: Field<Section<T>>, key: &str) -> T {
        self.read(field, key)
            .map(|Section(section)| section)
            .unwrap_or_default()
    }

    fn blocks<T>(&mut self, field: Field<Blocks<T>>, key: &str) -> Vec<T> {
        self.read(field, key)
            .map(|Blocks(blocks)| blocks)
            .unwrap_or_default()
    }

    fn database_path(&mut self, field: Field<String>, default: Option<PathBuf>) -> Option<PathBuf> {
        let written = !matches!(field, Field::Absent);
        let path = self.path(field, "database_path");
        if written {
            return path;
        }
        if default.is_none() {
            self.problem(
                "database_path",
                "not set, and there is no home folder for the default location: set database_path",
            );
        }
        default
    }

    fn upload_concurrency(&mut self, field: Field<Count>) -> usize {
        let key = "defaults.upload_concurrency";
        let count = self.read(field, key).map(|Count(count)| count);
        self.checked(count, key, |count| {
            usize::try_from(count)
                .ok()
                .filter(|count| (1..=MAX_UPLOAD_CONCURRENCY).contains(count))
                .ok_or_else(|| {
                    format!("must be between 1 and {MAX_UPLOAD_CONCURRENCY}, got {count}")
                })
        })
        .unwrap_or(DEFAULT_UPLOAD_CONCURRENCY)
    }

    /// The four intervals: `[defaults]` keys first, then the older service's `[immich]` keys.
    fn intervals(&mut self, defaults: &mut RawDefaults, immich: &mut RawImmich) -> Intervals {
        let built_in = Intervals::default();
        Intervals {
            full_scan: self.interval(
                (
                    take(&mut defaults.full_scan_interval),
                    "defaults.full_scan_interval",
                ),
                (
                    take(&mut immich.import_poll_interval),
                    "immich.import_poll_interval",
                ),
                built_in.full_scan,
            ),
            reconcile: self.interval(
                (
                    take(&mut defaults.reconcile_interval),
                    "defaults.reconcile_interval",
                ),
                (
                    take(&mut immich.delete_poll_interval),
                    "immich.delete_poll_interval",
                ),
                built_in.reconcile,
            ),
            remote_check: self.interval(
                (
                    take(&mut defaults.remote_check_interval),
                    "defaults.remote_check_interval",
                ),
                (Field::Absent, ""),
                built_in.remote_check,
            ),
            upload_poll: self.interval(
                (
                    take(&mut defaults.upload_poll_interval),
                    "defaults.upload_poll_interval",
                ),
                (
                    take(&mut immich.upload_poll_interval),
                    "immich.upload_poll_interval",
                ),
                built_in.upload_poll,
            ),
            stable_after: self.interval(
                (take(&mut defaults.stable_after), "defaults.stable_after"),
                (Field::Absent, ""),
                built_in.stable_after,
            ),
        }
    }

    /// The mass-delete guard: grace period and limits (`[defaults]` only).
    fn delete_guard(&mut self, defaults: &mut RawDefaults) -> DeleteGuard {
        let built_in = DeleteGuard::default();
        let key = "defaults.delete_grace";
        let grace = self.read(take(&mut defaults.delete_grace), key);
        let key = "defaults.mass_delete_files";
        let files = self
            .read(take(&mut defaults.mass_delete_files), key)
            .map(|Count(n)| n);
        let max_files = self.checked(files, key, |n| {
            u64::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("must be 1 or more, got {n}"))
        });
        let key = "defaults.mass_delete_percent";
        let percent = self
            .read(take(&mut defaults.mass_delete_percent), key)
            .map(|Count(n)| n);
        let max_percent = self.checked(percent, key, |n| {
            u64::try_from(n)
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| format!("must be between 1 and 100, got {n}"))
        });
        DeleteGuard {
            grace: grace.map_or(built_in.grace, |Interval(d)| d),
            max_files: max_files.unwrap_or(built_in.max_files),
            max_percent: max_percent.unwrap_or(built_in.max_percent),
        }
    }

    /// An interval from its current key, else from the older service's key, else `default`.
    fn interval(
        &mut self,
        (current, current_key): (Field<Interval>, &str),
        (legacy, legacy_key): (Field<Interval>, &str),
        default: Duration,
    ) -> Duration {
        let current = self.positive_interval(current, current_key);
        let legacy = self.positive_interval(legacy, legacy_key);
        if current.is_some() && legacy.is_some() {
            self.warnings.push(format!(
                "`{legacy_key}` is ignored because `{current_key}` is also set"
            ));
        }
        current.or(legacy).unwrap_or(default)
    }

    fn positive_interval(&mut self, field: Field<Interval>, key: &str) -> Option<Duration> {
        let interval = self.read(field, key).map(|Interval(duration)| duration);
        self.checked(interval, key, |duration| {
            if duration.is_zero() {
                Err("must be more than zero".to_owned())
            } else {
                Ok(duration)
            }
        })
    }

    /// `[immich].server_url`, which every `[[user]]` uses.
    fn legacy_server(&mut self, field: Field<String>, has_users: bool) -> Option<String> {
        let key = "immich.server_url";
        if !has_users {
            if matches!(field, Field::Set(_)) {
                self.warnings.push(format!(
                    "`{key}` is only used by [[user]] blocks and there are none (ignored)"
                ));
            }
            return None;
        }
        let missing = "missing: the [[user]] blocks take their server from [immich]";
        let url = self.require(field, key, missing);
        self.checked(url, key, |url| normalise_server_url(&url))
    }

    // ----- accounts -----

    /// One `[[user]]` block of the older service's file: one account with one folder.
    fn user(
        &mut self,
        index: usize,
        raw: RawUser,
        server_url: Option<&str>,
        policy: &PolicyLayer,
        excludes: &Excludes,
    ) -> Option<AccountConfig> {
        let prefix = format!("user[{index}]");
        self.unknown_keys(&raw.unknown, &format!("in {prefix}"));
        let name = self.name(raw.user_id, &key(&prefix, "user_id"));
        let api_key = self.inline_key(raw.user_key, &key(&prefix, "user_key"));
        let path = self.folder_path(raw.path, &key(&prefix, "path"));
        let policy = self.policy(policy.clone());
        let (Some(name), Some(server_url), Some(api_key), Some(path)) =
            (name, server_url, api_key, path)
        else {
            return None;
        };
        Some(AccountConfig {
            name,
            server_url: server_url.to_owned(),
            api_key,
            paused: false,
            folders: vec![FolderConfig {
                path,
                policy,
                exclude_extensions: excludes.extensions.clone(),
                exclude: excludes.patterns.clone(),
                album: AlbumRule::None,
                stack_raw_jpeg: false,
            }],
        })
    }

    /// One `[[account]]` block.
    fn account(
        &mut self,
        index: usize,
        raw: RawAccount,
        defaults: &PolicyLayer,
        excludes: &Excludes,
    ) -> Option<AccountConfig> {
        let prefix = format!("account[{index}]");
        self.unknown_keys(&raw.unknown, &format!("in {prefix}"));
        let name = self.name(raw.name, &key(&prefix, "name"));
        let server_key = key(&prefix, "server_url");
        let missing = "missing: the server's address, e.g. \"https://photos.example.com\"";
        let server_url = self.require(raw.server_url, &server_key, missing);
        let server_url = self.checked(server_url, &server_key, |url| normalise_server_url(&url));
        let api_key = self.key_source(
            &prefix,
            raw.api_key,
            raw.api_key_env,
            raw.api_key_file,
            raw.api_key_keyring,
        );
        let paused = self
            .read(raw.paused, &key(&prefix, "paused"))
            .unwrap_or(false);
        let layer = self
            .policy_layer(
                &prefix,
                raw.delete_mode,
                raw.delete_threshold,
                raw.delete_max_age,
            )
            .over(defaults);
        let blocks = self.blocks(raw.folder, &key(&prefix, "folder"));
        if blocks.is_empty() {
            let shown = name.as_deref().unwrap_or(&prefix);
            self.warnings.push(format!(
                "account `{shown}` has no [[account.folder]] blocks: nothing to sync"
            ));
        }
        let mut folders = Vec::new();
        for (index, folder) in blocks.into_iter().enumerate() {
            let folder_prefix = format!("{prefix}.folder[{index}]");
            folders.extend(self.folder(&folder_prefix, folder, &layer, excludes));
        }
        let (Some(name), Some(server_url), Some(api_key)) = (name, server_url, api_key) else {
            return None;
        };
        Some(AccountConfig {
            name,
            server_url,
            api_key,
            paused,
            folders,
        })
    }

    /// An account's name: trimmed, not empty, remembered for the duplicate check.
    fn name(&mut self, field: Field<String>, key: &str) -> Option<String> {
        let missing = "missing: every account needs a unique name, e.g. \"family\"";
        let name = self.require(field, key, missing);
        let name = self.checked(name, key, |name| {
            let trimmed = name.trim();
            if trimmed.is_empty() {
                Err("is empty: every account needs a unique name".to_owned())
            } else {
                Ok(trimmed.to_owned())
            }
        })?;
        self.names.push((key.to_owned(), name.clone()));
        Some(name)
    }

    /// `user_key` of a `[[user]]` block.
    fn inline_key(&mut self, field: Field<ApiKey>, key: &str) -> Option<ApiKeySource> {
        let api_key = self.require(field, key, "missing: the user's Immich API key")?;
        self.non_empty_key(api_key, key)
    }

    fn non_empty_key(&mut self, api_key: ApiKey, key: &str) -> Option<ApiKeySource> {
        if api_key.is_empty() {
            self.problem(
                key,
                "is empty: create an API key in Immich under Account Settings → API Keys",
            );
            return None;
        }
        Some(ApiKeySource::Inline(api_key))
    }

    /// Exactly one of `api_key`, `api_key_env`, `api_key_file`, `api_key_keyring = true`.
    fn key_source(
        &mut self,
        prefix: &str,
        inline: Field<ApiKey>,
        env: Field<String>,
        file: Field<String>,
        keyring: Field<bool>,
    ) -> Option<ApiKeySource> {
        // Each key that is written, with its source when the value is usable.
        let mut written: Vec<(&str, Option<ApiKeySource>)> = Vec::new();
        let inline_key = key(prefix, "api_key");
        if let Some(api_key) = self.read(inline, &inline_key) {
            written.push(("api_key", self.non_empty_key(api_key, &inline_key)));
        }
        let env_key = key(prefix, "api_key_env");
        if let Some(name) = self.read(env, &env_key) {
            written.push(("api_key_env", self.env_source(&name, &env_key)));
        }
        let file_key = key(prefix, "api_key_file");
        if let Some(raw) = self.read(file, &file_key) {
            let context = self.context;
            let path = self.checked(Some(raw), &file_key, |raw| context.resolve(&raw));
            written.push(("api_key_file", path.map(ApiKeySource::File)));
        }
        if self.read(keyring, &key(prefix, "api_key_keyring")) == Some(true) {
            written.push(("api_key_keyring", Some(ApiKeySource::Keyring)));
        }
        match written.len() {
            0 => {
                self.problem(
                    &inline_key,
                    "missing: set one of api_key, api_key_env, api_key_file or api_key_keyring = true",
                );
                None
            }
            1 => written.pop().and_then(|(_, source)| source),
            _ => {
                let names: Vec<&str> = written.iter().map(|(name, _)| *name).collect();
                self.problem(
                    prefix,
                    format!(
                        "has {}: set only one of api_key, api_key_env, api_key_file, api_key_keyring",
                        names.join(" and ")
                    ),
                );
                None
            }
        }
    }

    fn env_source(&mut self, name: &str, key: &str) -> Option<ApiKeySource> {
        let name = name.trim();
        if name.is_empty() {
            self.problem(
                key,
                "is empty: name the environment variable that holds the key",
            );
            return None;
        }
        Some(ApiKeySource::Env(name.to_owned()))
    }

    // ----- folders -----

    /// One `[[account.folder]]` block.
    fn folder(
        &mut self,
        prefix: &str,
        raw: RawFolder,
        account: &PolicyLayer,
        excludes: &Excludes,
    ) -> Option<FolderConfig> {
        self.unknown_keys(&raw.unknown, &format!("in {prefix}"));
        let path = self.folder_path(raw.path, &key(prefix, "path"));
        let layer = self
            .policy_layer(
                prefix,
                raw.delete_mode,
                raw.delete_threshold,
                raw.delete_max_age,
            )
            .over(account);
        let policy = self.policy(layer);
        let exclude_key = key(prefix, "exclude_extensions");
        let exclude_extensions =
            self.extensions(raw.exclude_extensions, &exclude_key, &excludes.extensions);
        let exclude = self.patterns(raw.exclude, &key(prefix, "exclude"), &excludes.patterns);
        let album_key = key(prefix, "album");
        let album = self.read(raw.album, &album_key);
        let album = self
            .checked(album, &album_key, |written| AlbumRule::parse(&written))
            .unwrap_or_default();
        let stack_raw_jpeg = self
            .read(raw.stack_raw_jpeg, &key(prefix, "stack_raw_jpeg"))
            .unwrap_or(false);
        Some(FolderConfig {
            path: path?,
            policy,
            exclude_extensions,
            exclude,
            album,
            stack_raw_jpeg,
        })
    }

    /// A folder's path, remembered for the overlap check.
    fn folder_path(&mut self, field: Field<String>, key: &str) -> Option<PathBuf> {
        let missing = "missing: the folder to sync, e.g. \"~/Pictures\"";
        let written = self.require(field, key, missing);
        let context = self.context;
        let path = self.checked(written, key, |raw| context.resolve(&raw))?;
        self.folders.push(FolderSeen {
            key: key.to_owned(),
            comparable: comparable(&path),
            path: path.clone(),
        });
        Some(path)
    }

    fn path(&mut self, field: Field<String>, key: &str) -> Option<PathBuf> {
        let raw = self.read(field, key);
        let context = self.context;
        self.checked(raw, key, |raw| context.resolve(&raw))
    }

    /// `inherited` followed by the entries of `field`, normalised and without duplicates.
    fn extensions(
        &mut self,
        field: Field<Extensions>,
        key: &str,
        inherited: &[String],
    ) -> Vec<String> {
        let mut merged = inherited.to_vec();
        let written = self
            .read(field, key)
            .map(|Extensions(list)| list)
            .unwrap_or_default();
        for (index, raw) in written.iter().enumerate() {
            let entry_key = format!("{key}[{index}]");
            if let Some(ext) = self.checked(Some(raw), &entry_key, |raw| extension_entry(raw)) {
                if !merged.contains(&ext) {
                    merged.push(ext);
                }
            }
        }
        merged
    }

    /// Exclusion patterns: the inherited ones, then the valid written ones not already there.
    fn patterns(&mut self, field: Field<Patterns>, key: &str, inherited: &[String]) -> Vec<String> {
        let mut merged = inherited.to_vec();
        let written = self
            .read(field, key)
            .map(|Patterns(list)| list)
            .unwrap_or_default();
        for (index, raw) in written.iter().enumerate() {
            let entry_key = format!("{key}[{index}]");
            if let Some(pattern) = self.checked(Some(raw), &entry_key, |raw| pattern_entry(raw)) {
                if !merged.contains(&pattern) {
                    merged.push(pattern);
                }
            }
        }
        merged
    }

    // ----- delete policy -----

    fn policy_layer(
        &mut self,
        prefix: &str,
        mode: Field<DeleteMode>,
        threshold: Field<Days>,
        max_age: Field<Days>,
    ) -> PolicyLayer {
        let mode = self.read(mode, &key(prefix, "delete_mode"));
        let threshold_key = key(prefix, "delete_threshold");
        let threshold = self.read(threshold, &threshold_key).map(|Days(days)| days);
        let threshold = self.checked(threshold, &threshold_key, check_threshold);
        let max_age_key = key(prefix, "delete_max_age");
        let max_age = self.read(max_age, &max_age_key).map(|Days(days)| days);
        let max_age = self.checked(max_age, &max_age_key, check_max_age);
        PolicyLayer {
            mode,
            threshold: threshold.map(|value| Sourced {
                value,
                key: Some(threshold_key),
            }),
            max_age: max_age.map(|value| Sourced {
                value,
                key: Some(max_age_key),
            }),
        }
    }

    /// The effective policy; a `delete_max_age` below `delete_threshold` is reported under the
    /// key that was written.
    fn policy(&mut self, layer: PolicyLayer) -> DeletePolicy {
        let built_in = DeletePolicy::default();
        let threshold = layer.threshold.unwrap_or(Sourced {
            value: built_in.threshold_days,
            key: None,
        });
        let max_age = layer.max_age.unwrap_or(Sourced {
            value: built_in.max_age_days,
            key: None,
        });
        if max_age.value < threshold.value {
            self.report_inverted_ages(&threshold, &max_age);
        }
        DeletePolicy {
            mode: layer.mode.unwrap_or(built_in.mode),
            threshold_days: threshold.value,
            max_age_days: max_age.value,
        }
    }

    fn report_inverted_ages(&mut self, threshold: &Sourced<f64>, max_age: &Sourced<f64>) {
        let origin = |sourced: &Sourced<f64>| match &sourced.key {
            Some(key) => format!("from `{key}`"),
            None => "by default".to_owned(),
        };
        match (&max_age.key, &threshold.key) {
            (Some(key), _) => self.problem(
                key,
                format!(
                    "must be at least delete_threshold ({} days {}), got {}",
                    days(threshold.value),
                    origin(threshold),
                    days(max_age.value)
                ),
            ),
            (None, Some(key)) => self.problem(
                key,
                format!(
                    "must not be more than delete_max_age ({} days {}), got {}",
                    days(max_age.value),
                    origin(max_age),
                    days(threshold.value)
                ),
            ),
            (None, None) => {}
        }
    }

    // ----- rules across accounts -----

    fn check_duplicate_names(&mut self) {
        let names = take(&mut self.names);
        for (index, (key, name)) in names.iter().enumerate() {
            if let Some((first, _)) = names[..index].iter().find(|(_, other)| other == name) {
                self.problem(
                    key,
                    format!("duplicate account name `{name}` (also {first}): names must be unique"),
                );
            }
        }
    }

    /// Two entries syncing the same photos would upload and delete them twice over.
    fn check_overlapping_folders(&mut self) {
        let folders = take(&mut self.folders);
        for (index, later) in folders.iter().enumerate() {
            for earlier in &folders[..index] {
                let relation = if later.comparable == earlier.comparable {
                    "is the same folder as"
                } else if later.comparable.starts_with(&earlier.comparable) {
                    "is inside"
                } else if earlier.comparable.starts_with(&later.comparable) {
                    "contains"
                } else {
                    continue;
                };
                self.problem(
                    &later.key,
                    format!(
                        "{relation} {} ({}): two entries would sync the same photos",
                        earlier.key,
                        earlier.path.display()
                    ),
                );
            }
        }
    }
}

/// One `exclude` pattern, trimmed and checked by the same matcher the scanner uses.
pub(super) fn pattern_entry(raw: &str) -> Result<String, String> {
    let pattern = raw.trim();
    if pattern.is_empty() {
        return Err("is empty: write a pattern such as \"**/Screenshots/**\" or \"*.tmp\"".into());
    }
    crate::filter::Exclusions::new(std::path::Path::new(""), &[pattern.to_owned()])
        .map(|_| pattern.to_owned())
        .map_err(|e| format!("`{pattern}` is not a pattern this app can read: {e}"))
}

/// The exclusions every folder inherits from the top of the file.
struct Excludes {
    extensions: Vec<String>,
    patterns: Vec<String>,
}

/// One `exclude_extensions` entry, normalised (`".MOV"` becomes `mov`).
fn extension_entry(raw: &str) -> Result<String, String> {
    match normalise_extension(raw) {
        Some(ext) if !ext.contains(['/', '\\']) => Ok(ext),
        _ if raw.trim().is_empty() => Err("is empty: write an extension such as \"tmp\"".into()),
        _ => Err(format!(
            "`{raw}` is not a file extension: write one such as \"tmp\""
        )),
    }
}

fn check_threshold(days_value: f64) -> Result<f64, String> {
    if days_value.is_nan() {
        Err("must be a number of days, got nan".to_owned())
    } else if days_value < 0.0 {
        Err(format!("must be 0 days or more, got {}", days(days_value)))
    } else if days_value.is_infinite() {
        Err("must be a finite number of days, got inf".to_owned())
    } else {
        Ok(days_value)
    }
}

fn check_max_age(days_value: f64) -> Result<f64, String> {
    if days_value.is_nan() {
        Err("must be a number of days, got nan".to_owned())
    } else if days_value <= 0.0 {
        Err(format!(
            "must be more than 0 days, got {}",
            days(days_value)
        ))
    } else if days_value.is_infinite() {
        Err("must be a finite number of days, got inf".to_owned())
    } else {
        Ok(days_value)
    }
}

/// Paths in these tests are Unix paths; the rules themselves are the same everywhere.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn context() -> PathContext {
        PathContext {
            base_dir: PathBuf::from("/etc/immich-sync"),
            home: Some(PathBuf::from("/home/alice")),
        }
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_in(text, &context(), Some(PathBuf::from("/data/state.db")))
    }

    fn config(text: &str) -> Config {
        match parse(text) {
            Ok(config) => config,
            Err(error) => panic!("expected a valid config, got:\n{error}"),
        }
    }

    fn problems(text: &str) -> Vec<(String, String)> {
        match parse(text) {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(error) => error
                .problems()
                .iter()
                .map(|p| (p.key.clone(), p.message.clone()))
                .collect(),
        }
    }

    fn keys(text: &str) -> Vec<String> {
        problems(text).into_iter().map(|(key, _)| key).collect()
    }

    fn message_for(text: &str, key: &str) -> String {
        problems(text)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, message)| message)
            .unwrap_or_else(|| panic!("no problem for `{key}` in {:?}", problems(text)))
    }

    /// One valid account with one folder, to which a test adds lines.
    const ACCOUNT: &str = r#"
[[account]]
name = "family"
server_url = "https://photos.example.com/api/"
api_key = "k-1"
[[account.folder]]
path = "~/Pictures"
"#;

    #[test]
    fn a_minimal_account_gets_every_default() {
        let config = config(ACCOUNT);
        assert_eq!(config.database_path, PathBuf::from("/data/state.db"));
        assert_eq!(config.event_log, None);
        assert_eq!(config.upload_concurrency, 4);
        assert_eq!(config.intervals, Intervals::default());
        assert_eq!(config.intervals.full_scan, Duration::from_secs(86_400));
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let account = &config.accounts[0];
        assert_eq!(account.name, "family");
        assert_eq!(account.server_url, "https://photos.example.com");
        assert_eq!(account.api_key, ApiKeySource::Inline(ApiKey::new("k-1")));
        assert!(!account.paused);
        let folder = &account.folders[0];
        assert_eq!(folder.path, PathBuf::from("/home/alice/Pictures"));
        assert_eq!(folder.policy, DeletePolicy::default());
        assert!(folder.exclude_extensions.is_empty());
    }

    #[test]
    fn policies_layer_folder_over_account_over_defaults() {
        let text = r#"
exclude_extensions = [".TMP", "tar.gz"]
[defaults]
delete_mode = "keep-local"
delete_threshold = 10
delete_max_age = 100
[[account]]
name = "family"
server_url = "https://photos.example.com"
api_key = "k"
delete_threshold = 5
[[account.folder]]
path = "/photos/a"
[[account.folder]]
path = "/photos/b"
delete_mode = "upload-only"
delete_max_age = 50.5
exclude_extensions = ["RAW", "tmp"]
"#;
        let folders = &config(text).accounts[0].folders;
        let policy = |mode, threshold_days, max_age_days| DeletePolicy {
            mode,
            threshold_days,
            max_age_days,
        };
        assert_eq!(folders[0].policy, policy(DeleteMode::KeepLocal, 5.0, 100.0));
        assert_eq!(folders[1].policy, policy(DeleteMode::UploadOnly, 5.0, 50.5));
        assert_eq!(folders[0].exclude_extensions, ["tmp", "tar.gz"]);
        assert_eq!(folders[1].exclude_extensions, ["tmp", "tar.gz", "raw"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
database_path = ""
[defaults]
upload_concurrency = 0
full_scan_interval = "5 minutes"
reconcile_interval = 0
delete_mode = "both"
[[account]]
server_url = "photos.example.com"
[[account.folder]]
delete_threshold = -1
[[account]]
name = "work"
server_url = "https://work.example.com"
api_key = ""
api_key_env = "KEY"
[[account.folder]]
path = "relative/../../.."
delete_max_age = 0
"#;
        assert_eq!(
            keys(text),
            [
                "database_path",
                "defaults.upload_concurrency",
                "defaults.full_scan_interval",
                "defaults.reconcile_interval",
                "defaults.delete_mode",
                "account[0].name",
                "account[0].server_url",
                "account[0].api_key",
                "account[0].folder[0].path",
                "account[0].folder[0].delete_threshold",
                "account[1].api_key",
                "account[1]",
                "account[1].folder[0].delete_max_age",
            ]
        );
    }

    #[test]
    fn messages_say_what_would_be_accepted() {
        let text = r#"
[defaults]
upload_concurrency = 17
full_scan_interval = "5 minutes"
stable_after = "0s"
delete_mode = "both"
delete_threshold = "seven"
delete_max_age = nan
[[account]]
name = "family"
server_url = "photos.example.com"
paused = "no"
api_key = 42
"#;
        let expected = [
            (
                "defaults.upload_concurrency",
                "must be between 1 and 16, got 17",
            ),
            (
                "defaults.full_scan_interval",
                "`5 minutes` is not a duration: use seconds or 90s/5m/6h/1d",
            ),
            ("defaults.stable_after", "must be more than zero"),
            (
                "defaults.delete_mode",
                "unknown delete mode `both`: use one of mirror, upload-only, keep-local",
            ),
            (
                "defaults.delete_threshold",
                "expected a number of days, got a string",
            ),
            (
                "defaults.delete_max_age",
                "must be a number of days, got nan",
            ),
            (
                "account[0].server_url",
                "must start with http:// or https://, got `photos.example.com`",
            ),
            (
                "account[0].api_key",
                "expected text in quotes, got a whole number",
            ),
            ("account[0].paused", "expected true or false, got a string"),
        ];
        let problems = problems(text);
        for (key, message) in expected {
            assert!(
                problems.contains(&(key.to_owned(), message.to_owned())),
                "missing {key}: {message} in {problems:#?}"
            );
        }
    }

    #[test]
    fn exactly_one_key_source_is_allowed() {
        let with = |lines: &str| {
            format!(
                "[[account]]\nname = \"a\"\nserver_url = \"https://x.example\"\n{lines}\n\
                 [[account.folder]]\npath = \"/p\"\n"
            )
        };
        let source = |lines: &str| config(&with(lines)).accounts[0].api_key.clone();
        assert_eq!(
            source("api_key_env = \" IMMICH_KEY \""),
            ApiKeySource::Env("IMMICH_KEY".into())
        );
        assert_eq!(
            source("api_key_file = \"keys/family\""),
            ApiKeySource::File(PathBuf::from("/etc/immich-sync/keys/family"))
        );
        assert_eq!(source("api_key_keyring = true"), ApiKeySource::Keyring);
        assert_eq!(
            source("api_key = \"k\"\napi_key_keyring = false"),
            ApiKeySource::Inline(ApiKey::new("k"))
        );

        assert_eq!(
            message_for(&with(""), "account[0].api_key"),
            "missing: set one of api_key, api_key_env, api_key_file or api_key_keyring = true"
        );
        assert_eq!(
            message_for(
                &with("api_key = \"k\"\napi_key_keyring = true"),
                "account[0]"
            ),
            "has api_key and api_key_keyring: set only one of api_key, api_key_env, \
             api_key_file, api_key_keyring"
        );
        assert!(
            message_for(&with("api_key = \"  \""), "account[0].api_key").starts_with("is empty")
        );
        assert!(
            message_for(&with("api_key_env = \"\""), "account[0].api_key_env")
                .starts_with("is empty")
        );
    }

    #[test]
    fn api_keys_never_appear_in_problems() {
        let text = r#"
[[account]]
name = "a"
server_url = "nope"
api_key = "s3cret-key"
api_key_env = "ALSO"
"#;
        let error = parse(text).expect_err("invalid").to_string();
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn folders_may_not_overlap_across_accounts() {
        let account = |name: &str, paths: &[&str]| {
            let mut block = format!(
                "[[account]]\nname = \"{name}\"\nserver_url = \"https://x.example\"\napi_key = \"k\"\n"
            );
            for path in paths {
                block.push_str(&format!("[[account.folder]]\npath = \"{path}\"\n"));
            }
            block
        };
        let text = [
            account("a", &["/photos/alice", "/photos/alice2"]),
            account("b", &["/photos/alice/2024", "/photos/./alice/"]),
            account("c", &["/photos"]),
        ]
        .concat();
        let problems = problems(&text);
        let expected = [
            (
                "account[1].folder[0].path",
                "is inside account[0].folder[0].path (/photos/alice): two entries would sync the same photos",
            ),
            (
                "account[1].folder[1].path",
                "is the same folder as account[0].folder[0].path (/photos/alice): two entries would sync the same photos",
            ),
            (
                "account[1].folder[1].path",
                "contains account[1].folder[0].path (/photos/alice/2024): two entries would sync the same photos",
            ),
            (
                "account[2].folder[0].path",
                "contains account[0].folder[0].path (/photos/alice): two entries would sync the same photos",
            ),
        ];
        for (key, message) in expected {
            assert!(
                problems.contains(&(key.to_owned(), message.to_owned())),
                "missing {key}: {message} in {problems:#?}"
            );
        }
        assert!(
            !problems
                .iter()
                .any(|(key, _)| key == "account[0].folder[1].path"),
            "/photos/alice2 is a sibling of /photos/alice, not inside it: {problems:#?}"
        );
    }

    #[test]
    fn account_names_are_unique_across_both_shapes() {
        let text = format!(
            "[immich]\nserver_url = \"https://x.example\"\n\
             [[user]]\nuser_id = \"family\"\nuser_key = \"k\"\npath = \"/u\"\n{ACCOUNT}"
        );
        assert_eq!(
            message_for(&text, "account[0].name"),
            "duplicate account name `family` (also user[0].user_id): names must be unique"
        );
    }

    #[test]
    fn inverted_ages_are_reported_once_where_written() {
        let text =
            format!("[defaults]\ndelete_threshold = 40\ndelete_max_age = 20\n{ACCOUNT}{ACCOUNT}");
        let text = text.replacen("name = \"family\"", "name = \"other\"", 1);
        let text = text.replacen("~/Pictures", "/elsewhere", 1);
        assert_eq!(
            problems(&text),
            [(
                "defaults.delete_max_age".to_owned(),
                "must be at least delete_threshold (40 days from `defaults.delete_threshold`), got 20"
                    .to_owned()
            )]
        );
        let text = ACCOUNT.replace(
            "path = \"~/Pictures\"",
            "path = \"/p\"\ndelete_threshold = 4000",
        );
        assert_eq!(
            message_for(&text, "account[0].folder[0].delete_threshold"),
            "must not be more than delete_max_age (3650 days by default), got 4000"
        );
    }

    #[test]
    fn unknown_keys_are_warnings_not_errors() {
        let text =
            format!("colour = \"blue\"\n[immich]\ndelete_treshold = 7\n{ACCOUNT}pathh = 1\n");
        let warnings = config(&text).warnings;
        assert_eq!(
            warnings,
            [
                "unknown key `colour` at the top level (ignored)",
                "unknown key `delete_treshold` in [immich] (ignored)",
                "unknown key `pathh` in account[0].folder[0] (ignored)",
            ]
        );
    }

    #[test]
    fn current_interval_keys_win_over_the_older_ones() {
        let text = format!(
            "[defaults]\nfull_scan_interval = \"6h\"\n\
             [immich]\nimport_poll_interval = 3600\ndelete_poll_interval = 300.5\n{ACCOUNT}"
        );
        let config = config(&text);
        assert_eq!(config.intervals.full_scan, Duration::from_secs(6 * 3600));
        assert_eq!(config.intervals.reconcile, Duration::from_secs_f64(300.5));
        assert_eq!(
            config.warnings,
            [
                "`immich.import_poll_interval` is ignored because `defaults.full_scan_interval` is also set"
            ]
        );
    }

    #[test]
    fn relative_paths_need_a_config_folder() {
        let text =
            format!("database_path = \"state.db\"\nevent_log = \"~/events.jsonl\"\n{ACCOUNT}")
                .replace("~/Pictures", "Pictures");
        let config = config(&text);
        assert_eq!(
            config.database_path,
            PathBuf::from("/etc/immich-sync/state.db")
        );
        assert_eq!(
            config.event_log,
            Some(PathBuf::from("/home/alice/events.jsonl"))
        );
        assert_eq!(
            config.accounts[0].folders[0].path,
            PathBuf::from("/etc/immich-sync/Pictures")
        );

        let nowhere = PathContext::default();
        let error = parse_in(&text, &nowhere, None).expect_err("relative paths without a base");
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["database_path", "event_log", "account[0].folder[0].path"]
        );
    }

    #[test]
    fn odd_values_and_shapes_are_problems_not_panics() {
        let text = format!(
            "when = 1979-05-27\n[defaults]\ndelete_threshold = [7]\n\
             upload_concurrency = 2.5\nreconcile_interval = -5\n{ACCOUNT}"
        );
        let problems = problems(&text);
        let expected = [
            (
                "defaults.delete_threshold",
                "expected a number of days, got a list",
            ),
            (
                "defaults.upload_concurrency",
                "expected a whole number, got a decimal number",
            ),
            (
                "defaults.reconcile_interval",
                "must not be negative, got -5",
            ),
        ];
        for (key, message) in expected {
            assert!(
                problems.contains(&(key.to_owned(), message.to_owned())),
                "missing {key}: {message} in {problems:#?}"
            );
        }
        assert_eq!(
            message_for("[account]\nname = \"a\"\n", "account"),
            "expected [[double-bracket]] blocks, got a table"
        );
        assert_eq!(
            message_for(&format!("defaults = 3\n{ACCOUNT}"), "defaults"),
            "expected a [table], got a whole number"
        );
    }

    #[test]
    fn without_a_home_the_database_path_must_be_set() {
        let error = parse_in(ACCOUNT, &context(), None).expect_err("no default location");
        assert_eq!(error.problems()[0].key, "database_path");
    }

    #[test]
    fn a_file_without_accounts_says_how_to_add_one() {
        assert_eq!(
            problems("[defaults]\ndelete_threshold = 3\n"),
            [(
                String::new(),
                "no accounts: add an [[account]] (or [[user]]) block".to_owned()
            )]
        );
        assert_eq!(
            keys("account = \"x\""),
            ["account"],
            "a wrong type is enough said"
        );
    }

    #[test]
    fn accounts_without_folders_load_with_a_warning() {
        let text =
            "[[account]]\nname = \"a\"\nserver_url = \"https://x.example\"\napi_key = \"k\"\n";
        let config = config(text);
        assert!(config.accounts[0].folders.is_empty());
        assert_eq!(
            config.warnings,
            ["account `a` has no [[account.folder]] blocks: nothing to sync"]
        );
    }

    #[test]
    fn bad_extension_entries_are_named_by_index() {
        let text = format!("exclude_extensions = [\"tmp\", \".\", \"a/b\"]\n{ACCOUNT}");
        assert_eq!(
            keys(&text),
            ["exclude_extensions[1]", "exclude_extensions[2]"]
        );
        let text = format!("exclude_extensions = \"tmp\"\n{ACCOUNT}");
        assert_eq!(
            message_for(&text, "exclude_extensions"),
            "expected a list of extensions like [\".tmp\", \"tar.gz\"], got a string"
        );
    }

    #[test]
    fn syntax_errors_carry_the_position() {
        let error = parse("[immich]\nserver_url = \"https://x\"\ndelete_threshold = = 7\n")
            .expect_err("syntax error");
        let ConfigError::Syntax { line, column, .. } = &error else {
            panic!("expected a syntax error, got {error}");
        };
        assert_eq!((*line, *column), (3, 20), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("syntax error at line 3, column 20: ")
        );
    }
}
