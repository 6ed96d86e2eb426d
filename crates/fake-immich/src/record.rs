//! The log of every request the server received, so tests can assert what a client sent
//! (and check it against Immich's OpenAPI document) without a proxy in between.
//!
//! Secrets are redacted before anything is stored: the `x-api-key` header (and the other
//! credential headers) and an `apiKey` query parameter.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;

/// Stands in for a credential in recorded headers and queries.
pub const REDACTED: &str = "<redacted>";

const SECRET_HEADERS: [&str; 4] = [
    "x-api-key",
    "authorization",
    "cookie",
    "x-immich-user-token",
];

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path as sent, e.g. `/api/assets`.
    pub path: String,
    /// The raw query string, `apiKey` redacted.
    pub query: Option<String>,
    /// Header names in lower case, in the order received; credentials redacted.
    pub headers: Vec<(String, String)>,
    pub body: RecordedBody,
    /// The status answered; 0 while the request is in flight, or when the connection was
    /// dropped without an answer (see [`crate::Faults::reset_next_uploads`]).
    pub status: u16,
}

impl RecordedRequest {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The multipart fields, if the body was multipart.
    pub fn multipart(&self) -> Option<&[MultipartField]> {
        match &self.body {
            RecordedBody::Multipart(fields) => Some(fields),
            _ => None,
        }
    }
}

/// What the request carried.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordedBody {
    /// No body was sent.
    Empty,
    /// A JSON body that parsed.
    Json(serde_json::Value),
    /// A multipart body, field by field, as far as the server read it.
    Multipart(Vec<MultipartField>),
    /// Any other body, or one the server never read: the number of bytes it did read.
    Other(usize),
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartField {
    pub name: String,
    /// The part's filename; `Some` for file parts.
    pub file_name: Option<String>,
    /// The value of a text part.
    pub text: Option<String>,
    /// Bytes received for this part.
    pub len: u64,
}

/// Where the upload handler leaves the multipart field list for the request log.
#[derive(Clone, Default)]
pub(crate) struct RecordSlot(Arc<Mutex<Option<RecordedBody>>>);

impl RecordSlot {
    pub(crate) fn set(&self, body: RecordedBody) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(body);
    }

    pub(crate) fn take(&self) -> Option<RecordedBody> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Headers in order, credentials redacted.
pub(crate) fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_string();
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// The query string with any `apiKey` value redacted.
pub(crate) fn redact_query(query: Option<&str>) -> Option<String> {
    query.map(|q| {
        q.split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("apiKey", _)) => format!("apiKey={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "secret".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        let recorded = redact_headers(&headers);
        assert!(recorded.contains(&("x-api-key".to_string(), REDACTED.to_string())));
        assert!(recorded.contains(&("accept".to_string(), "application/json".to_string())));
        assert_eq!(
            redact_query(Some("a=1&apiKey=secret")).as_deref(),
            Some("a=1&apiKey=<redacted>")
        );
    }
}
