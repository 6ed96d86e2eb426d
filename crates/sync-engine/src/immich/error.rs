//! What can go wrong when talking to Immich, classified by what the engine should do next.
//!
//! Workers never look at status codes: they ask [`ApiError::is_transient`] (retry later with
//! backoff), [`ApiError::is_account_problem`] (stop the account and tell the user), or treat the
//! error as a verdict on one file (record it and move on). Messages are written for the person
//! reading them in the tray or the log, and never contain the API key.

use std::time::Duration;

/// A failed Immich request, classified.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ApiError {
    /// The server URL cannot be used at all.
    #[error("invalid server URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as configured.
        url: String,
        /// Why it is unusable.
        reason: String,
    },
    /// Something answered, but it is not an Immich server (no `/server/ping` pong).
    #[error("{url} does not look like an Immich server ({detail}); check the server URL")]
    NotImmich {
        /// The URL that answered.
        url: String,
        /// What it answered.
        detail: String,
    },
    /// The server runs an Immich version this client does not support.
    #[error("Immich {version} is not supported: update the server to v1.137 or later")]
    UnsupportedVersion {
        /// The reported version.
        version: String,
    },
    /// The API key is wrong, revoked or missing (401).
    #[error(
        "the API key was rejected by the server ({message}): create a new key in Immich under Account Settings → API Keys"
    )]
    Unauthorized {
        /// Immich's message, e.g. `Invalid API key`.
        message: String,
    },
    /// The API key lacks a permission (403 `Missing required permission: …`).
    #[error("{}", missing_permission_message(permission))]
    MissingPermission {
        /// The permission Immich named; several are joined by `` `, ` `` (as in
        /// ``asset.upload`, `asset.delete``).
        permission: String,
    },
    /// Forbidden for another reason (403).
    #[error("the server refused the request: {message}")]
    Forbidden {
        /// Immich's message.
        message: String,
    },
    /// Immich answers 400 `Not found or no … access` for missing, purged and foreign ids.
    #[error("not found on the server: {message}")]
    NotFound {
        /// Immich's message.
        message: String,
    },
    /// The user's storage quota is full.
    #[error(
        "your Immich storage quota is full: free space in Immich or ask the admin for a larger quota"
    )]
    QuotaExceeded,
    /// The server rejected the request for good (other 4xx): retrying the same request will not help.
    #[error("the server rejected the request ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Immich's message.
        message: String,
    },
    /// A failure that may pass: 5xx, 408, 429, timeouts, refused or reset connections.
    #[error("{}", transient_message(*status, message))]
    Transient {
        /// HTTP status, or `None` for network-level failures.
        status: Option<u16>,
        /// What happened.
        message: String,
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// TLS failed (certificate not trusted, wrong host name, not TLS at all).
    #[error("secure connection to {host} failed: {message}")]
    Tls {
        /// The host.
        host: String,
        /// The TLS library's explanation.
        message: String,
    },
    /// The local file could not be read while uploading it.
    #[error("cannot read {path}: {message}")]
    LocalFile {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file changed or vanished while it was read for the upload. The upload was cut off
    /// before its end, so the server kept nothing of it.
    #[error(
        "{path} {} while it was being uploaded; the upload was stopped and Immich kept nothing of it",
        if *gone { "was deleted" } else { "changed" }
    )]
    FileChanged {
        /// The file.
        path: String,
        /// True when it is gone rather than changed.
        gone: bool,
    },
    /// The server answered something this client cannot understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

fn missing_permission_message(permission: &str) -> String {
    let names: Vec<&str> = permission
        .split("`, `")
        .map(|p| p.trim().trim_matches('`'))
        .filter(|p| !p.is_empty())
        .collect();
    match names.as_slice() {
        [] | [_] => format!(
            "the API key lacks the `{}` permission: edit the key in Immich (Account Settings → API Keys) and allow it",
            permission.trim().trim_matches('`')
        ),
        [init @ .., last] => format!(
            "the API key lacks the `{}` and `{last}` permissions: edit the key in Immich (Account Settings → API Keys) and allow them",
            init.join("`, `")
        ),
    }
}

fn transient_message(status: Option<u16>, message: &str) -> String {
    match status {
        Some(429) => format!("the server is busy (429 Too Many Requests): {message}"),
        Some(code) => format!("the server is unavailable ({code}): {message}"),
        None => format!("cannot reach the server: {message}"),
    }
}

impl ApiError {
    /// True for failures worth retrying later with backoff.
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Transient { .. })
    }

    /// True when the whole account must stop until the user acts (key, permission, server).
    pub fn is_account_problem(&self) -> bool {
        matches!(
            self,
            ApiError::Unauthorized { .. }
                | ApiError::MissingPermission { .. }
                | ApiError::InvalidUrl { .. }
                | ApiError::NotImmich { .. }
                | ApiError::UnsupportedVersion { .. }
                | ApiError::Tls { .. }
                | ApiError::QuotaExceeded
        )
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short stable code for events, the UI and exit statuses.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidUrl { .. } => "invalid_url",
            ApiError::NotImmich { .. } => "not_immich",
            ApiError::UnsupportedVersion { .. } => "unsupported_version",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::MissingPermission { .. } => "missing_permission",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::QuotaExceeded => "quota_exceeded",
            ApiError::Rejected { .. } => "rejected",
            ApiError::Transient { .. } => "transient",
            ApiError::Tls { .. } => "tls",
            ApiError::LocalFile { .. } => "local_file",
            ApiError::FileChanged { .. } => "file_changed",
            ApiError::Protocol(_) => "protocol",
        }
    }

    /// Classifies a non-success HTTP answer from its status, `Retry-After` and body.
    pub fn from_response(status: u16, retry_after: Option<Duration>, body: &str) -> ApiError {
        let message = error_message(body).unwrap_or_else(|| describe_body(body));
        match status {
            401 => ApiError::Unauthorized { message },
            403 => match message.strip_prefix("Missing required permission: ") {
                Some(permission) => ApiError::MissingPermission {
                    permission: permission.trim().to_owned(),
                },
                None => ApiError::Forbidden { message },
            },
            400 if message.starts_with("Not found or no") => ApiError::NotFound { message },
            400 if message.contains("Quota has been exceeded") => ApiError::QuotaExceeded,
            408 | 429 | 500..=599 => ApiError::Transient {
                status: Some(status),
                message,
                retry_after,
            },
            _ => ApiError::Rejected { status, message },
        }
    }
}

/// Pulls the human message out of an Immich error body (v2: string or array; v3: string plus
/// `errors`).
fn error_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = value.get("message")?;
    let mut text = match message {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
        let details: Vec<String> = errors
            .iter()
            .filter_map(|e| {
                let msg = e.get("message")?.as_str()?;
                let path = e
                    .get("path")
                    .and_then(|p| p.as_array())
                    .map(|p| {
                        p.iter()
                            .map(|s| s.to_string().trim_matches('"').to_owned())
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                Some(if path.is_empty() {
                    msg.to_owned()
                } else {
                    format!("{path}: {msg}")
                })
            })
            .collect();
        if !details.is_empty() {
            text = format!("{text} ({})", details.join("; "));
        }
    }
    Some(text)
}

/// A body as a message can show it: a web page by its title (never its markup), anything else
/// shortened.
pub(crate) fn describe_body(body: &str) -> String {
    if !looks_like_html(body) {
        return short(body);
    }
    match html_title(body) {
        Some(title) => format!("a web page titled \"{title}\""),
        None => "a web page".to_owned(),
    }
}

/// True for HTML documents: what web servers, proxies and login pages answer.
pub(crate) fn looks_like_html(body: &str) -> bool {
    let start: String = body
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with('<')
        && ["<!doctype html", "<html", "<head", "<body", "<title"]
            .iter()
            .any(|tag| start.contains(tag))
}

fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = body
        .get(start..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| short(&title))
}

fn short(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "no details".to_owned();
    }
    let mut out: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_immich_answers_by_what_to_do_next() {
        let e = ApiError::from_response(401, None, r#"{"message":"Invalid API key"}"#);
        assert!(e.is_account_problem() && !e.is_transient());
        let e = ApiError::from_response(
            403,
            None,
            r#"{"message":"Missing required permission: asset.upload"}"#,
        );
        assert_eq!(
            e,
            ApiError::MissingPermission {
                permission: "asset.upload".into()
            }
        );
        let e = ApiError::from_response(
            400,
            None,
            r#"{"message":"Not found or no asset.delete access","error":"Bad Request","statusCode":400}"#,
        );
        assert!(matches!(e, ApiError::NotFound { .. }));
        let e = ApiError::from_response(400, None, r#"{"message":"Quota has been exceeded!"}"#);
        assert_eq!(e, ApiError::QuotaExceeded);
        let e = ApiError::from_response(
            503,
            Some(Duration::from_secs(7)),
            "<html>bad gateway</html>",
        );
        assert!(e.is_transient());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let e = ApiError::from_response(413, None, "");
        assert!(
            matches!(e, ApiError::Rejected { status: 413, .. }),
            "413 from a proxy is final"
        );
    }

    #[test]
    fn web_pages_are_named_by_their_title_never_pasted() {
        let page = "<!DOCTYPE html>\n<html><head><title>\n 502 Bad   Gateway </title></head><body><h1>nginx</h1></body></html>";
        assert_eq!(describe_body(page), "a web page titled \"502 Bad Gateway\"");
        assert_eq!(describe_body("<html><body>hi</body></html>"), "a web page");
        assert_eq!(describe_body("  plain words "), "plain words");
        let e = ApiError::from_response(413, None, page);
        assert_eq!(
            e.to_string(),
            "the server rejected the request (413): a web page titled \"502 Bad Gateway\""
        );
    }

    #[test]
    fn missing_permissions_are_listed_in_one_sentence() {
        let one = ApiError::MissingPermission {
            permission: "asset.delete".into(),
        };
        assert_eq!(
            one.to_string(),
            "the API key lacks the `asset.delete` permission: edit the key in Immich (Account Settings → API Keys) and allow it"
        );
        let two = ApiError::MissingPermission {
            permission: "asset.upload`, `asset.delete".into(),
        };
        assert_eq!(
            two.to_string(),
            "the API key lacks the `asset.upload` and `asset.delete` permissions: edit the key in Immich (Account Settings → API Keys) and allow them"
        );
    }

    #[test]
    fn validation_errors_name_the_field() {
        let v3 = r#"{"message":"Validation failed","errors":[{"code":"invalid_format","path":["fileCreatedAt"],"message":"Invalid ISO datetime"}]}"#;
        let e = ApiError::from_response(400, None, v3);
        assert!(
            e.to_string()
                .contains("fileCreatedAt: Invalid ISO datetime"),
            "{e}"
        );
        let v2 = r#"{"message":["fileCreatedAt must be a Date instance"],"error":"Bad Request","statusCode":400}"#;
        let e = ApiError::from_response(400, None, v2);
        assert!(
            e.to_string()
                .contains("fileCreatedAt must be a Date instance"),
            "{e}"
        );
    }
}
