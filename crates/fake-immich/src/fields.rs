//! Field-by-field checks of request bodies, reporting failures as each server generation does.
//!
//! v2 validated DTOs with class-validator (messages such as `fileCreatedAt must be a Date
//! instance`, `assets.0.id should not be empty`); v3 validates with zod (issues with `code`,
//! `path` and `message`). The rules differ too: v3 rejects `null` for optional fields, wants
//! JSON booleans and integers in JSON bodies, strict dates and UUID v4; multipart values are
//! text in both, so booleans there must be exactly `"true"`/`"false"`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Profile;
use crate::errors::{ApiError, Issues};
use crate::validate::{is_uuid_v4, parse_date};

/// One step of a field path: an object key or an array index.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

/// Where the values come from: a JSON body or the text parts of a multipart body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Json,
    Form,
}

/// Collects the failures of one request body.
pub(crate) struct Checker {
    profile: Profile,
    source: Source,
    issues: Issues,
}

fn v2_path(path: &[Seg]) -> String {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(k) => (*k).to_string(),
            Seg::Idx(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn v3_path(path: &[Seg]) -> Value {
    Value::Array(
        path.iter()
            .map(|seg| match seg {
                Seg::Key(k) => json!(k),
                Seg::Idx(i) => json!(i),
            })
            .collect(),
    )
}

fn received(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

impl Checker {
    pub(crate) fn new(profile: Profile, source: Source) -> Self {
        Checker {
            profile,
            source,
            issues: Issues::default(),
        }
    }

    /// `Err(400 validation)` if anything failed.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.issues.is_empty_for(self.profile) {
            Ok(())
        } else {
            Err(ApiError::validation(self.issues))
        }
    }

    fn v2(&self) -> bool {
        self.profile == Profile::V2
    }

    fn type_issue(
        &mut self,
        path: &[Seg],
        expected: &str,
        got: Option<&Value>,
        v2_messages: &[&str],
    ) {
        let p = v2_path(path);
        for m in v2_messages {
            self.issues.push_v2(format!("{p} {m}"));
        }
        self.issues.push_v3(json!({
            "expected": expected,
            "code": "invalid_type",
            "path": v3_path(path),
            "message": format!("Invalid input: expected {expected}, received {}", received(got)),
        }));
    }

    fn format_issue(&mut self, path: &[Seg], format: &str, v2_message: &str, v3_message: &str) {
        self.issues
            .push_v2(format!("{} {v2_message}", v2_path(path)));
        self.issues.push_v3(json!({
            "origin": "string",
            "code": "invalid_format",
            "format": format,
            "path": v3_path(path),
            "message": v3_message,
        }));
    }

    /// Records a failure with both generations' wording.
    pub(crate) fn custom(
        &mut self,
        path: &[Seg],
        v2_message: &str,
        v3_code: &str,
        v3_message: &str,
    ) {
        self.issues
            .push_v2(format!("{} {v2_message}", v2_path(path)));
        self.issues.push_v3(json!({
            "code": v3_code,
            "path": v3_path(path),
            "message": v3_message,
        }));
    }

    /// v2's `@IsOptional()` treats `null` as absent; v3's `.optional()` does not.
    fn present<'v>(&self, value: Option<&'v Value>) -> Option<&'v Value> {
        match value {
            Some(Value::Null) if self.v2() => None,
            other => other,
        }
    }

    /// A string field. `non_empty` is v2's `@IsNotEmpty()` (v3 accepts any string).
    pub(crate) fn string(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        required: bool,
        non_empty: bool,
    ) -> Option<String> {
        match self.present(value) {
            None => {
                if required {
                    let msgs: &[&str] = if non_empty {
                        &["should not be empty", "must be a string"]
                    } else {
                        &["must be a string"]
                    };
                    self.type_issue(path, "string", value, msgs);
                }
                None
            }
            Some(Value::String(s)) => {
                if s.is_empty() && non_empty && self.v2() {
                    self.issues
                        .push_v2(format!("{} should not be empty", v2_path(path)));
                    return None;
                }
                Some(s.clone())
            }
            Some(other) => {
                self.type_issue(path, "string", Some(other), &["must be a string"]);
                None
            }
        }
    }

    /// An optional boolean.
    pub(crate) fn boolean(&mut self, path: &[Seg], value: Option<&Value>) -> Option<bool> {
        let v = self.present(value)?;
        let parsed = match (v, self.source, self.profile) {
            (Value::Bool(b), Source::Json, _) => Some(*b),
            (Value::String(s), Source::Form, _) | (Value::String(s), Source::Json, Profile::V2) => {
                match s.as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                }
            }
            _ => None,
        };
        if parsed.is_none() {
            if self.source == Source::Form {
                self.issues
                    .push_v2(format!("{} must be a boolean value", v2_path(path)));
                self.issues.push_v3(json!({
                    "code": "invalid_value",
                    "values": ["true", "false"],
                    "path": v3_path(path),
                    "message": "Invalid option: expected one of \"true\"|\"false\"",
                }));
            } else {
                self.type_issue(path, "boolean", Some(v), &["must be a boolean value"]);
            }
        }
        parsed
    }

    /// An optional integer within `min..=max`.
    pub(crate) fn integer(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let v = self.present(value)?;
        let lenient_text = self.source == Source::Form || self.v2();
        let parsed = match v {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_991e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) if lenient_text => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(n) = parsed else {
            self.type_issue(
                path,
                "int",
                Some(v),
                &[
                    "must be an integer number",
                    &format!("must not be less than {min}"),
                ],
            );
            return None;
        };
        if n < min {
            self.issues
                .push_v2(format!("{} must not be less than {min}", v2_path(path)));
            self.issues.push_v3(json!({
                "origin": "number",
                "code": "too_small",
                "minimum": min,
                "inclusive": true,
                "path": v3_path(path),
                "message": format!("Too small: expected number to be >={min}"),
            }));
            return None;
        }
        if n > max {
            self.issues
                .push_v2(format!("{} must not be greater than {max}", v2_path(path)));
            self.issues.push_v3(json!({
                "origin": "number",
                "code": "too_big",
                "maximum": max,
                "inclusive": true,
                "path": v3_path(path),
                "message": format!("Too big: expected number to be <={max}"),
            }));
            return None;
        }
        Some(n)
    }

    /// An optional number within `min..=max`. `v2_message` is class-validator's complaint
    /// (e.g. `must be a latitude string or number`), used for a wrong type and a wrong range.
    pub(crate) fn number(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        min: f64,
        max: f64,
        v2_message: &str,
    ) -> Option<f64> {
        let v = self.present(value)?;
        let parsed = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if self.v2() => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        let Some(n) = parsed else {
            self.type_issue(path, "number", Some(v), &[v2_message]);
            return None;
        };
        let (code, bound, message) = if n < min {
            (
                "too_small",
                min,
                format!("Too small: expected number to be >={min}"),
            )
        } else if n > max {
            (
                "too_big",
                max,
                format!("Too big: expected number to be <={max}"),
            )
        } else {
            return Some(n);
        };
        self.issues
            .push_v2(format!("{} {v2_message}", v2_path(path)));
        let limit = if code == "too_small" {
            "minimum"
        } else {
            "maximum"
        };
        self.issues.push_v3(json!({
            "origin": "number",
            "code": code,
            limit: bound,
            "inclusive": true,
            "path": v3_path(path),
            "message": message,
        }));
        None
    }

    /// A date: v3 strict ISO with zone, v2 anything JavaScript's `Date` would take.
    pub(crate) fn date(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        required: bool,
    ) -> Option<OffsetDateTime> {
        let Some(v) = self.present(value) else {
            if required {
                if self.v2() {
                    self.issues
                        .push_v2(format!("{} must be a Date instance", v2_path(path)));
                } else {
                    self.type_issue(path, "string", value, &[]);
                }
            }
            return None;
        };
        let parsed = match v {
            Value::String(s) => parse_date(s, !self.v2()),
            Value::Number(n) if self.v2() && self.source == Source::Json => {
                n.as_i64().and_then(|ms| {
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
                })
            }
            _ => None,
        };
        if parsed.is_none() {
            if !self.v2() && !v.is_string() {
                self.type_issue(path, "string", Some(v), &[]);
            } else {
                self.format_issue(
                    path,
                    "datetime",
                    "must be a Date instance",
                    "Invalid ISO datetime",
                );
            }
        }
        parsed
    }

    /// A UUID in v4 format.
    pub(crate) fn uuid(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        required: bool,
    ) -> Option<String> {
        let Some(v) = self.present(value) else {
            if required {
                self.type_issue(path, "string", value, &["must be a UUID"]);
            }
            return None;
        };
        match v {
            Value::String(s) if self.uuid_ok(s) => Some(s.clone()),
            Value::String(_) => {
                self.format_issue(path, "uuid", "must be a UUID", "Invalid UUID");
                None
            }
            other => {
                self.type_issue(path, "string", Some(other), &["must be a UUID"]);
                None
            }
        }
    }

    /// Both generations want v4 (v2 through class-validator's `IsUUID('4')`).
    fn uuid_ok(&self, s: &str) -> bool {
        is_uuid_v4(s)
    }

    /// A required array of UUIDs (`ids` of the bulk endpoints).
    pub(crate) fn uuid_array(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
    ) -> Option<Vec<String>> {
        let items = self.array(path, value, true)?;
        let mut ids = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if self.uuid_ok(s) => ids.push(s.to_string()),
                _ => {
                    ok = false;
                    let mut at = path.to_vec();
                    at.push(Seg::Idx(i));
                    self.issues
                        .push_v2(format!("each value in {} must be a UUID", v2_path(path)));
                    self.issues.push_v3(json!({
                        "origin": "string",
                        "code": "invalid_format",
                        "format": "uuid",
                        "path": v3_path(&at),
                        "message": "Invalid UUID",
                    }));
                }
            }
        }
        ok.then_some(ids)
    }

    /// A required array of strings: v2's `@IsString({ each: true })` with
    /// `@IsNotEmpty({ each: true })` (each complaint once, however many items fail it), v3's
    /// `z.array(z.string())` (any string, one issue per item that is not one).
    pub(crate) fn string_array(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
    ) -> Option<Vec<String>> {
        let p = v2_path(path);
        let Some(Value::Array(items)) = self.present(value) else {
            self.issues
                .push_v2(format!("each value in {p} should not be empty"));
            self.issues
                .push_v2(format!("each value in {p} must be a string"));
            self.type_issue(path, "array", value, &[]);
            return None;
        };
        let (mut empty, mut not_string) = (false, false);
        let mut strings = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => {
                    empty |= s.is_empty();
                    strings.push(s.clone());
                }
                other => {
                    empty |= other.is_null();
                    not_string = true;
                    let mut at = path.to_vec();
                    at.push(Seg::Idx(i));
                    self.issues.push_v3(json!({
                        "expected": "string",
                        "code": "invalid_type",
                        "path": v3_path(&at),
                        "message": format!(
                            "Invalid input: expected string, received {}",
                            received(Some(other))
                        ),
                    }));
                }
            }
        }
        if empty {
            self.issues
                .push_v2(format!("each value in {p} should not be empty"));
        }
        if not_string {
            self.issues
                .push_v2(format!("each value in {p} must be a string"));
        }
        Some(strings)
    }

    /// class-validator's `@ArrayMinSize(min)` / zod's `.min(min)` on an array.
    pub(crate) fn min_items(&mut self, path: &[Seg], len: usize, min: usize) {
        if len >= min {
            return;
        }
        self.issues.push_v2(format!(
            "{} must contain at least {min} elements",
            v2_path(path)
        ));
        self.issues.push_v3(json!({
            "origin": "array",
            "code": "too_small",
            "minimum": min,
            "inclusive": true,
            "path": v3_path(path),
            "message": format!("Too small: expected array to have >={min} items"),
        }));
    }

    /// An array (the items are checked by the caller).
    pub(crate) fn array<'v>(
        &mut self,
        path: &[Seg],
        value: Option<&'v Value>,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        match self.present(value) {
            None => {
                if required {
                    self.type_issue(path, "array", value, &["must be an array"]);
                }
                None
            }
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                self.type_issue(path, "array", Some(other), &["must be an array"]);
                None
            }
        }
    }

    /// An optional value out of a fixed list.
    pub(crate) fn one_of(
        &mut self,
        path: &[Seg],
        value: Option<&Value>,
        allowed: &[&str],
    ) -> Option<String> {
        let v = self.present(value)?;
        match v.as_str() {
            Some(s) if allowed.contains(&s) => Some(s.to_string()),
            _ => {
                self.issues.push_v2(format!(
                    "{} must be one of the following values: {}",
                    v2_path(path),
                    allowed.join(", ")
                ));
                let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                self.issues.push_v3(json!({
                    "code": "invalid_value",
                    "values": allowed,
                    "path": v3_path(path),
                    "message": format!("Invalid option: expected one of {}", quoted.join("|")),
                }));
                None
            }
        }
    }
}

/// Shorthand for a single-key path.
pub(crate) fn key(name: &str) -> [Seg<'_>; 1] {
    [Seg::Key(name)]
}
