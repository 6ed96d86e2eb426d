//! The file as written: every key optional, and a value of the wrong type kept with the reason.
//!
//! Serde stops at the first error, but someone fixing a config file wants every problem at
//! once. So every key is a [`Field`], which never fails to deserialize: a value of the wrong
//! type becomes [`Field::Bad`] with a message, and validation reports it under the key's full
//! name. Keys nobody knows land in `unknown` and become warnings.
//!
//! These structs deliberately do not derive `Debug`: they hold API keys as written.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use toml::Value;

use super::DeleteMode;
use super::values::{duration_from_seconds, parse_delete_mode, parse_duration};
use crate::secret::ApiKey;

/// Keys that no struct field claimed, with their values.
pub(super) type Unknown = BTreeMap<String, Value>;

/// The top level of the file (both shapes).
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawFile {
    pub database_path: Field<String>,
    pub event_log: Field<String>,
    pub exclude_extensions: Field<Extensions>,
    pub exclude: Field<Patterns>,
    pub defaults: Field<Section<RawDefaults>>,
    pub immich: Field<Section<RawImmich>>,
    pub user: Field<Blocks<RawUser>>,
    pub account: Field<Blocks<RawAccount>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[defaults]`: values every account and folder inherits.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawDefaults {
    pub delete_mode: Field<DeleteMode>,
    pub delete_threshold: Field<Days>,
    pub delete_max_age: Field<Days>,
    pub upload_concurrency: Field<Count>,
    pub full_scan_interval: Field<Interval>,
    pub reconcile_interval: Field<Interval>,
    pub remote_check_interval: Field<Interval>,
    pub upload_poll_interval: Field<Interval>,
    pub stable_after: Field<Interval>,
    pub delete_grace: Field<Interval>,
    pub mass_delete_files: Field<Count>,
    pub mass_delete_percent: Field<Count>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[immich]` of the older service's file: the server and policy of every `[[user]]`.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawImmich {
    pub server_url: Field<String>,
    pub delete_threshold: Field<Days>,
    pub delete_max_age: Field<Days>,
    pub delete_poll_interval: Field<Interval>,
    pub import_poll_interval: Field<Interval>,
    pub upload_poll_interval: Field<Interval>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[[user]]` of the older service's file: one Immich user with one folder.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawUser {
    pub user_id: Field<String>,
    pub user_key: Field<ApiKey>,
    pub path: Field<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[[account]]`: one Immich user on one server.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawAccount {
    pub name: Field<String>,
    pub server_url: Field<String>,
    pub api_key: Field<ApiKey>,
    pub api_key_env: Field<String>,
    pub api_key_file: Field<String>,
    pub api_key_keyring: Field<bool>,
    pub paused: Field<bool>,
    pub delete_mode: Field<DeleteMode>,
    pub delete_threshold: Field<Days>,
    pub delete_max_age: Field<Days>,
    pub folder: Field<Blocks<RawFolder>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `[[account.folder]]`: one synced folder.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct RawFolder {
    pub path: Field<String>,
    pub delete_mode: Field<DeleteMode>,
    pub delete_threshold: Field<Days>,
    pub delete_max_age: Field<Days>,
    pub exclude_extensions: Field<Extensions>,
    pub exclude: Field<Patterns>,
    pub album: Field<String>,
    pub stack_raw_jpeg: Field<bool>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One key: absent, read, or present with a value that could not be read.
#[derive(Default)]
pub(super) enum Field<T> {
    /// The key is not in the file.
    #[default]
    Absent,
    /// The key's value.
    Set(T),
    /// The key is there but its value has the wrong type or form; holds the reason.
    Bad(String),
}

impl<T> Field<T> {
    /// True when the key is there but its value could not be read.
    pub fn is_bad(&self) -> bool {
        matches!(self, Self::Bad(_))
    }
}

impl<'de, T: FromValue> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match T::from_value(value) {
            Ok(read) => Self::Set(read),
            Err(reason) => Self::Bad(reason),
        })
    }
}

/// Conversion from a TOML value with a message for the person who wrote it.
pub(super) trait FromValue: Sized {
    fn from_value(value: Value) -> Result<Self, String>;
}

/// How a value's type is named in messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "a whole number",
        Value::Float(_) => "a decimal number",
        Value::Boolean(_) => "true/false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(format!("expected text in quotes, got {}", kind(&other))),
        }
    }
}

impl FromValue for ApiKey {
    fn from_value(value: Value) -> Result<Self, String> {
        String::from_value(value).map(ApiKey::new)
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Boolean(flag) => Ok(flag),
            other => Err(format!("expected true or false, got {}", kind(&other))),
        }
    }
}

impl FromValue for DeleteMode {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::String(text) => parse_delete_mode(&text),
            other => Err(format!(
                "expected one of \"mirror\", \"upload-only\", \"keep-local\", got {}",
                kind(&other)
            )),
        }
    }
}

/// A number of days, whole or not; range checks happen in validation.
pub(super) struct Days(pub f64);

impl FromValue for Days {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            // Day counts are far below 2^53, where the conversion would round.
            Value::Integer(days) => Ok(Self(days as f64)),
            Value::Float(days) => Ok(Self(days)),
            other => Err(format!("expected a number of days, got {}", kind(&other))),
        }
    }
}

/// A whole number; range checks happen in validation.
pub(super) struct Count(pub i64);

impl FromValue for Count {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Integer(count) => Ok(Self(count)),
            other => Err(format!("expected a whole number, got {}", kind(&other))),
        }
    }
}

/// A duration: a number of seconds, or text such as `90s`, `5m`, `6h`, `1d`.
pub(super) struct Interval(pub Duration);

impl FromValue for Interval {
    fn from_value(value: Value) -> Result<Self, String> {
        let duration = match value {
            Value::Integer(seconds) => duration_from_seconds(seconds as f64),
            Value::Float(seconds) => duration_from_seconds(seconds),
            Value::String(text) => parse_duration(&text),
            other => Err(format!(
                "expected a duration like \"90s\" or a number of seconds, got {}",
                kind(&other)
            )),
        };
        duration.map(Self)
    }
}

/// A list of file extensions as written; entries are normalised in validation.
pub(super) struct Extensions(pub Vec<String>);

impl FromValue for Extensions {
    fn from_value(value: Value) -> Result<Self, String> {
        let hint = "expected a list of extensions like [\".tmp\", \"tar.gz\"]";
        let Value::Array(items) = value else {
            return Err(format!("{hint}, got {}", kind(&value)));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text),
                other => Err(format!("{hint}, but item {index} is {}", kind(&other))),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// A list of exclusion patterns as written; each is checked in validation.
pub(super) struct Patterns(pub Vec<String>);

impl FromValue for Patterns {
    fn from_value(value: Value) -> Result<Self, String> {
        let hint =
            "expected a list of patterns like [\"**/Screenshots/**\", \"*.tmp\", \"Private/\"]";
        let Value::Array(items) = value else {
            return Err(format!("{hint}, got {}", kind(&value)));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text),
                other => Err(format!("{hint}, but item {index} is {}", kind(&other))),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// A table such as `[defaults]`.
pub(super) struct Section<T>(pub T);

impl<T: DeserializeOwned> FromValue for Section<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Table(_) => table(value).map(Self),
            other => Err(format!("expected a [table], got {}", kind(&other))),
        }
    }
}

/// An array of tables such as the `[[account]]` blocks.
pub(super) struct Blocks<T>(pub Vec<T>);

impl<T: DeserializeOwned> FromValue for Blocks<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        let hint = "expected [[double-bracket]] blocks";
        let Value::Array(items) = value else {
            return Err(format!("{hint}, got {}", kind(&value)));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::Table(_) => table(item),
                other => Err(format!("{hint}, but item {index} is {}", kind(&other))),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// Reads a table into a raw struct. This cannot fail on content, since every field is a
/// [`Field`]; the message is kept for completeness.
fn table<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    value.try_into().map_err(|error| error.message().to_owned())
}
