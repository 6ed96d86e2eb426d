//! The Immich HTTP client: the only code that speaks the Immich API.
//!
//! It follows `immich-api.md` §11: a handshake that picks the v2 or v3 profile and names any
//! missing API-key permission, uploads that stream the file from disk with the checksum header,
//! bulk-upload-check in batches, deletes that only ever move assets to the Immich trash, and
//! remote-delete confirmation by asset id. Every method makes single attempts and returns a
//! classified [`ApiError`]; retrying is the caller's decision (see `crate::policy::retry_delay`), because only
//! the caller knows whether a re-check must come first.
//!
//! Bad input is answered in words that point at the fix: a refused connection, a name that
//! does not resolve, a port that does not speak HTTPS, an untrusted certificate, a web page
//! where Immich should be (named by its title, never pasted). The API key is confined to the
//! configured server: redirects are followed only within its origin, a `.well-known` endpoint
//! on another host is ignored, and server text that echoes the key is masked before it can
//! reach a message. An upload streams the file as it was hashed or not at all: the file is
//! checked between chunks, and a change cuts the body off so the server keeps nothing.
//!
//! Layout: `client` (the HTTP plumbing: requests, answers, network failures in words),
//! `handshake` (version, dialect, user, permissions), `assets` (bulk-upload-check, trash,
//! restore, the trash feed, copy), `albums` (create once, add and remove by id; stacks), `tags` (keywords), `upload` (the streamed `POST /assets`), `origin` (URLs, and
//! the origin the key is confined to), `error` (classified failures) and `dto` (wire types).

mod albums;
mod assets;
mod client;
mod dto;
mod error;
mod handshake;
mod origin;
mod tags;
mod upload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio_util::io::ReaderStream;

pub use error::ApiError;

use crate::local;
use crate::secret::ApiKey;
use crate::store::Stat;

pub use albums::{ALBUM_BATCH, ALBUM_PERMISSIONS, Membership, STACK_PERMISSION};
pub use assets::{
    AssetInfo, AssetUpdate, BULK_CHECK_BATCH, CheckResult, DELETE_BATCH, TrashFeed, checksum_to_hex,
};
use client::REQUEST_TIMEOUT;
pub use handshake::{ApiProfile, REQUIRED_PERMISSIONS, ServerInfo};
pub use origin::{host, normalize_url, web_url};
use origin::{host_name, host_of, same_origin, same_origin_redirects};
pub use tags::TAG_PERMISSIONS;
pub use upload::{UploadOutcome, UploadRequest, utc_millis};

/// A client for one account: one server, one API key.
#[derive(Clone)]
pub struct ImmichClient {
    http: reqwest::Client,
    server_url: String,
    api_base: String,
    key: ApiKey,
    device_id: String,
    profile: ApiProfile,
}

impl std::fmt::Debug for ImmichClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImmichClient")
            .field("server_url", &self.server_url)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::client::{parse_retry_after, tls_reason};
    use super::upload::ascii_file_name;
    use super::*;

    #[test]
    fn server_urls_are_normalized() {
        assert_eq!(
            normalize_url("https://photos.example.com/api/").unwrap(),
            "https://photos.example.com"
        );
        assert_eq!(
            normalize_url(" http://10.0.0.2:2283 ").unwrap(),
            "http://10.0.0.2:2283"
        );
        assert!(matches!(
            normalize_url("photos.example.com"),
            Err(ApiError::InvalidUrl { .. })
        ));
        assert!(normalize_url("https://").is_err());
    }

    #[test]
    fn timestamps_are_strict_utc_with_millis() {
        let t = time::macros::datetime!(2024-05-01 10:00:00.123456 +02:00);
        assert_eq!(utc_millis(t), "2024-05-01T08:00:00.123Z");
    }

    #[test]
    fn base64_checksums_become_hex() {
        // SHA-1 of "hello"
        let b64 = "qvTGHdzF6KLavt4PO0gs2a6pQ00=";
        assert_eq!(
            checksum_to_hex(b64).unwrap(),
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
        );
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("40"), Some(Duration::from_secs(40)));
        let past = httpdate::fmt_http_date(std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn the_key_only_travels_within_the_servers_origin() {
        assert!(same_origin(
            "https://photos.example.com/api",
            "https://PHOTOS.example.com:443"
        ));
        assert!(same_origin("http://10.0.0.2/api", "http://10.0.0.2:80"));
        assert!(!same_origin(
            "https://evil.example.net/api",
            "https://photos.example.com"
        ));
        assert!(!same_origin(
            "http://photos.example.com/api",
            "https://photos.example.com"
        ));
        assert!(!same_origin(
            "https://photos.example.com:8443/api",
            "https://photos.example.com"
        ));
        assert!(!same_origin("/api", "https://photos.example.com"));
    }

    #[test]
    fn tls_failures_point_at_the_fix() {
        let reason = |text: &str| {
            let cause = text.rsplit("): ").next().unwrap_or(text);
            tls_reason(&text.to_lowercase(), cause)
        };
        assert!(
            reason("client error (Connect): received corrupt message of type InvalidContentType")
                .starts_with("the server does not speak HTTPS on this port")
        );
        assert!(
            reason("client error (Connect): invalid peer certificate: UnknownIssuer")
                .starts_with("its certificate is not trusted")
        );
        assert!(
            reason("invalid peer certificate: certificate not valid for name \"a.example\"")
                .starts_with("its certificate is for another name")
        );
        assert!(
            reason("invalid peer certificate: Expired").starts_with("its certificate has expired")
        );
        assert_eq!(
            reason("client error (Connect): received fatal alert: HandshakeFailure"),
            "the TLS handshake failed (received fatal alert: HandshakeFailure)"
        );
    }

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("photos.example.com:2283"), "photos.example.com");
        assert_eq!(host_name("photos.example.com"), "photos.example.com");
        assert_eq!(host_name("[::1]:2283"), "[::1]");
    }

    #[test]
    fn multipart_file_names_are_ascii() {
        assert_eq!(ascii_file_name("Été \"1\".jpg"), "_t_ 1.jpg");
    }
}
