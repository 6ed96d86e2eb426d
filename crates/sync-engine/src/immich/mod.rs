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

mod dto;
mod error;

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

/// bulk-upload-check items per request: the official CLI sends 5000; the JSON limit is 10 MB.
pub const BULK_CHECK_BATCH: usize = 5000;
/// Asset ids per `DELETE /assets`, as §11.3 recommends.
pub const DELETE_BATCH: usize = 500;
/// Time allowed to establish a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for a whole JSON request (uploads have no total limit, only a read timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Time without any byte moving before an upload counts as stalled.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Read buffer for streaming files to the server: large enough for throughput, small enough
/// that four parallel uploads stay far below a megabyte of buffers.
const UPLOAD_CHUNK: usize = 128 * 1024;
/// Permissions this client needs (§2). `all` covers them all.
pub const REQUIRED_PERMISSIONS: [&str; 4] =
    ["asset.upload", "asset.read", "asset.delete", "user.read"];

/// Which API dialect the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiProfile {
    /// Immich v1.137 – v2.x: device fields required, lenient validation.
    V2,
    /// Immich v3.x: strict validation, device fields dropped.
    V3,
}

/// What the handshake learned about the server and the key's owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerInfo {
    /// `major.minor.patch` as reported.
    pub version: String,
    /// The dialect used from now on.
    pub profile: ApiProfile,
    /// Owner id of every asset we create.
    pub user_id: String,
    /// The Immich user's email.
    pub user_email: String,
    /// The Immich user's display name.
    pub user_name: String,
    /// Storage quota in bytes, if the admin set one.
    pub quota_bytes: Option<i64>,
    /// Bytes used so far.
    pub quota_used_bytes: Option<i64>,
    /// Permissions from [`REQUIRED_PERMISSIONS`] that the key lacks, by name.
    pub missing_permissions: Vec<String>,
    /// Extensions the server accepts as images (lower-case, with dot).
    pub image_types: Vec<String>,
    /// Extensions the server accepts as videos.
    pub video_types: Vec<String>,
    /// Sidecar extensions (never uploaded as assets).
    pub sidecar_types: Vec<String>,
    /// Whether the server keeps deleted assets in a trash.
    pub trash_enabled: bool,
    /// Days the trash keeps assets.
    pub trash_days: u32,
    /// Whether `PUT /assets/copy` can be used (v2.2 and later, and the key may `asset.copy`):
    /// albums, favourite and stack then move from a changed file's old asset to the new one.
    pub can_copy_assets: bool,
}

/// One answer of bulk-upload-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// The owner has no asset with this content.
    Absent,
    /// The owner already has this content as `asset_id`.
    Present {
        /// The existing asset.
        asset_id: String,
        /// Whether that asset is in the Immich trash.
        is_trashed: bool,
    },
}

/// Everything needed to upload one file.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Name Immich shows (`originalFileName`).
    pub file_name: String,
    /// Stable local key of the file (v2 requires it; v3 ignores it).
    pub device_asset_id: String,
    /// SHA-1 of the content, hex.
    pub sha1_hex: String,
    /// Bytes to send; the stream is cut at this length.
    pub size: u64,
    /// Creation time (earliest of birth time and mtime).
    pub created_at: OffsetDateTime,
    /// Modification time.
    pub modified_at: OffsetDateTime,
    /// The file's identity (size, mtime, file id) when it was hashed. It is checked again after
    /// every chunk read for the upload; if the file changed or vanished, the body is cut off
    /// before its end (the server keeps nothing of an incomplete upload) and the error is
    /// [`ApiError::FileChanged`]. A photo is never uploaded with content other than what
    /// was hashed.
    pub expected: Option<Stat>,
}

/// Result of a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    /// The asset that now holds the content.
    pub asset_id: String,
    /// True when the server already had it (200 duplicate) rather than creating it (201).
    pub duplicate: bool,
}

/// An asset as `GET /assets/{id}` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    /// Asset id.
    pub id: String,
    /// Owner id.
    pub owner_id: String,
    /// SHA-1 of the content, hex.
    pub sha1_hex: String,
    /// Whether it is in the trash.
    pub is_trashed: bool,
    /// When it was added to Immich.
    pub created_at: Option<OffsetDateTime>,
    /// When it last changed in Immich (for a trashed asset: when it was trashed, unless it
    /// was edited since), by the server's clock.
    pub updated_at: Option<OffsetDateTime>,
}

/// What the trash feed found.
#[derive(Debug, Clone)]
pub struct TrashFeed {
    /// The owner's assets trashed since the time asked for.
    pub assets: Vec<AssetInfo>,
    /// The server's clock when it answered (its `Date` header), where it sent one: the next
    /// poll starts from it, so a wrong local clock cannot skip a trash.
    pub server_time: Option<OffsetDateTime>,
}

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

impl ImmichClient {
    /// A client for `server_url` (with or without a trailing `/api`). No request is made yet.
    pub fn new(server_url: &str, key: ApiKey, device_id: &str) -> Result<Self, ApiError> {
        let server_url = normalize_url(server_url)?;
        if key.is_empty() {
            return Err(ApiError::Unauthorized {
                message: "no API key configured".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .redirect(same_origin_redirects())
            .user_agent(concat!("immich-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Protocol(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            http,
            api_base: format!("{server_url}/api"),
            server_url,
            key,
            device_id: device_id.to_owned(),
            profile: ApiProfile::V3,
        })
    }

    /// The server URL without `/api`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The dialect in use (set by [`ImmichClient::handshake`]).
    pub fn profile(&self) -> ApiProfile {
        self.profile
    }

    /// §11.1: discovery, ping, version → profile, user, key permissions, media types, trash.
    pub async fn handshake(&mut self) -> Result<ServerInfo, ApiError> {
        if let Ok(known) = self
            .get_json::<dto::WellKnown>(&format!("{}/.well-known/immich", self.server_url), false)
            .await
        {
            let endpoint = known.api.endpoint.trim_end_matches('/');
            if endpoint.starts_with('/') {
                self.api_base = format!("{}{}", self.server_url, endpoint);
            } else if same_origin(endpoint, &self.server_url) {
                // An endpoint on another host is ignored: the API key goes to the configured
                // server only.
                self.api_base = endpoint.to_owned();
            }
        }
        let ping: dto::Ping = self
            .get_json(&self.url("/server/ping"), false)
            .await
            .map_err(|e| self.not_immich(e))?;
        if ping.res != "pong" {
            return Err(ApiError::NotImmich {
                url: self.server_url.clone(),
                detail: format!("ping answered `{}`", ping.res),
            });
        }
        let v: dto::Version = self
            .get_json(&self.url("/server/version"), false)
            .await
            .map_err(|e| self.not_immich(e))?;
        let version = format!("{}.{}.{}", v.major, v.minor, v.patch);
        self.profile = match (v.major, v.minor) {
            (m, _) if m >= 3 => ApiProfile::V3,
            (2, _) => ApiProfile::V2,
            (1, minor) if minor >= 137 => ApiProfile::V2,
            _ => return Err(ApiError::UnsupportedVersion { version }),
        };
        let me: dto::UserMe = self.get_json(&self.url("/users/me"), true).await?;
        let key: dto::ApiKeyMe = self.get_json(&self.url("/api-keys/me"), true).await?;
        let media: dto::MediaTypes = self
            .get_json(&self.url("/server/media-types"), false)
            .await?;
        let features: dto::Features = self.get_json(&self.url("/server/features"), false).await?;
        let config: dto::ServerConfig = self.get_json(&self.url("/server/config"), false).await?;
        let has_all = key.permissions.iter().any(|p| p == "all");
        let missing_permissions = REQUIRED_PERMISSIONS
            .iter()
            .filter(|p| !has_all && !key.permissions.iter().any(|k| k == *p))
            .map(|p| (*p).to_owned())
            .collect();
        let copy_exists = v.major >= 3 || (v.major == 2 && v.minor >= 2);
        let can_copy_assets =
            copy_exists && (has_all || key.permissions.iter().any(|p| p == "asset.copy"));
        Ok(ServerInfo {
            version,
            profile: self.profile,
            user_id: me.id,
            user_email: me.email,
            user_name: me.name,
            quota_bytes: me.quota_size_in_bytes,
            quota_used_bytes: me.quota_usage_in_bytes,
            missing_permissions,
            image_types: lower(media.image),
            video_types: lower(media.video),
            sidecar_types: lower(media.sidecar),
            trash_enabled: features.trash,
            trash_days: config.trash_days.unwrap_or(30),
            can_copy_assets,
        })
    }

    /// bulk-upload-check for `(id, sha1_hex)` pairs, in batches of [`BULK_CHECK_BATCH`].
    /// The answers come back in input order.
    pub async fn bulk_upload_check(
        &self,
        items: &[(String, String)],
    ) -> Result<Vec<CheckResult>, ApiError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(BULK_CHECK_BATCH) {
            let body = dto::BulkCheckRequest {
                assets: chunk
                    .iter()
                    .map(|(id, checksum)| dto::BulkCheckItem { id, checksum })
                    .collect(),
            };
            let response: dto::BulkCheckResponse = self
                .send_json(Method::POST, "/assets/bulk-upload-check", &body)
                .await?;
            if response.results.len() != chunk.len() {
                return Err(ApiError::Protocol(format!(
                    "bulk-upload-check answered {} results for {} items",
                    response.results.len(),
                    chunk.len()
                )));
            }
            for (result, (id, _)) in response.results.into_iter().zip(chunk) {
                if &result.id != id {
                    return Err(ApiError::Protocol(
                        "bulk-upload-check answered out of order".into(),
                    ));
                }
                out.push(match (result.action.as_str(), result.asset_id) {
                    ("reject", Some(asset_id)) => CheckResult::Present {
                        asset_id,
                        is_trashed: result.is_trashed.unwrap_or(false),
                    },
                    ("accept", _) => CheckResult::Absent,
                    (other, _) => {
                        return Err(ApiError::Protocol(format!(
                            "bulk-upload-check action `{other}` without an asset id"
                        )));
                    }
                });
            }
        }
        Ok(out)
    }

    /// `POST /assets`: text fields first, then the file streamed from disk. `progress` counts
    /// the bytes handed to the connection.
    pub async fn upload(
        &self,
        request: &UploadRequest,
        progress: Option<Arc<AtomicU64>>,
    ) -> Result<UploadOutcome, ApiError> {
        let shown = request.path.display().to_string();
        let changed = |gone: bool| ApiError::FileChanged {
            path: shown.clone(),
            gone,
        };
        let local_err = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => changed(true),
            _ => ApiError::LocalFile {
                path: shown.clone(),
                message: e.to_string(),
            },
        };
        let file = tokio::fs::File::open(&request.path)
            .await
            .map_err(local_err)?;
        if let Some(expected) = request.expected {
            let opened = file.metadata().await.map_err(local_err)?;
            if local::stat_of(&opened) != expected {
                return Err(changed(false));
            }
        }
        let limited = tokio::io::AsyncReadExt::take(file, request.size);
        let counter = progress.unwrap_or_default();
        // Set by the stream when reading the file failed or the file changed: the request then
        // fails because of the file, not the network.
        let local_problem: Arc<std::sync::Mutex<Option<ApiError>>> = Arc::default();
        let problem = local_problem.clone();
        let (path, expected) = (request.path.clone(), request.expected);
        let stream = ReaderStream::with_capacity(limited, UPLOAD_CHUNK).then(move |chunk| {
            let (path, counter, problem) = (path.clone(), counter.clone(), problem.clone());
            async move {
                let checked = match (chunk, expected) {
                    (Ok(bytes), Some(expected)) => match still_the_same(&path, expected).await {
                        Ok(()) => Ok(bytes),
                        Err(error) => Err(error),
                    },
                    (chunk, _) => chunk.map_err(|e| ApiError::LocalFile {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    }),
                };
                match checked {
                    Ok(bytes) => {
                        counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        Ok(bytes)
                    }
                    Err(error) => {
                        let text = error.to_string();
                        *problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                        Err(std::io::Error::other(text))
                    }
                }
            }
        });
        let local_failure = move || {
            local_problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
        };
        let body = reqwest::Body::wrap_stream(stream);
        let part = reqwest::multipart::Part::stream_with_length(body, request.size)
            .file_name(ascii_file_name(&request.file_name))
            .mime_str("application/octet-stream")
            .map_err(|e| ApiError::Protocol(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .text("deviceAssetId", request.device_asset_id.clone())
            .text("deviceId", self.device_id.clone())
            .text("fileCreatedAt", utc_millis(request.created_at))
            .text("fileModifiedAt", utc_millis(request.modified_at))
            .text("filename", request.file_name.clone())
            .part("assetData", part);
        let response = self
            .request(Method::POST, &self.url("/assets"))
            .header("x-immich-checksum", &request.sha1_hex)
            .multipart(form)
            .send()
            .await;
        // A file problem wins over whatever the server said about a body it did not get whole.
        if let Some(problem) = local_failure() {
            return Err(problem);
        }
        let response = response.map_err(|e| self.network_error(e))?;
        let status = response.status();
        let parsed: dto::UploadResponse = self.read_json(response).await?;
        match (status, parsed.status.as_str()) {
            (StatusCode::CREATED, _) | (StatusCode::OK, "created") => Ok(UploadOutcome {
                asset_id: parsed.id,
                duplicate: false,
            }),
            (StatusCode::OK, "duplicate") => Ok(UploadOutcome {
                asset_id: parsed.id,
                duplicate: true,
            }),
            (status, other) => Err(ApiError::Protocol(format!(
                "upload answered {status} with status `{other}`"
            ))),
        }
    }

    /// Moves assets to the Immich trash (never `force`), in batches of [`DELETE_BATCH`].
    /// Immich rejects a whole batch (400) if any id is not the caller's: the error is
    /// [`ApiError::NotFound`] and the caller re-checks the ids.
    pub async fn trash_assets(&self, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(DELETE_BATCH) {
            let body = dto::DeleteRequest {
                ids: chunk,
                force: false,
            };
            self.send_no_content(Method::DELETE, "/assets", &body)
                .await?;
        }
        Ok(())
    }

    /// Takes assets back out of the Immich trash.
    pub async fn restore_from_trash(&self, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(DELETE_BATCH) {
            let _: serde_json::Value = self
                .send_json(
                    Method::POST,
                    "/trash/restore/assets",
                    &dto::IdsRequest { ids: chunk },
                )
                .await?;
        }
        Ok(())
    }

    /// `GET /assets/{id}`: `None` when Immich says it does not exist (400 not found).
    pub async fn asset(&self, id: &str) -> Result<Option<AssetInfo>, ApiError> {
        let url = self.url(&format!("/assets/{id}"));
        match self.get_json::<dto::AssetResponse>(&url, true).await {
            Ok(asset) => Ok(Some(to_asset_info(asset)?)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            // v3 answers 400 `Validation failed` for ids that are not UUID v4: they cannot exist.
            Err(ApiError::Rejected { status: 400, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /assets/copy`: moves albums, favourite, shared links and stack from `source` to
    /// `target` (a changed file's old and new asset). The sidecar is left alone.
    pub async fn copy_asset(&self, source: &str, target: &str) -> Result<(), ApiError> {
        let body = dto::CopyRequest {
            source_id: source,
            target_id: target,
            albums: true,
            favorite: true,
            shared_links: true,
            stack: true,
            sidecar: false,
        };
        self.send_no_content(Method::PUT, "/assets/copy", &body)
            .await
    }

    /// Assets of `owner_id` trashed after `since` (§7.3 trash feed). v2 hides non-timeline
    /// assets unless asked per visibility, so it is asked three times there.
    pub async fn trashed_since(
        &self,
        owner_id: &str,
        since: OffsetDateTime,
    ) -> Result<TrashFeed, ApiError> {
        let visibilities: &[Option<&'static str>] = match self.profile {
            ApiProfile::V3 => &[None],
            ApiProfile::V2 => &[Some("timeline"), Some("archive"), Some("hidden")],
        };
        let mut out = Vec::new();
        let mut server_time = None;
        for visibility in visibilities {
            let mut page = 1;
            loop {
                let query = dto::TrashSearch {
                    trashed_after: utc_millis(since),
                    with_deleted: true,
                    size: 1000,
                    page,
                    visibility: *visibility,
                };
                let response = self
                    .request(Method::POST, &self.url("/search/metadata"))
                    .timeout(REQUEST_TIMEOUT)
                    .json(&query)
                    .send()
                    .await
                    .map_err(|e| self.network_error(e))?;
                if server_time.is_none() {
                    server_time = response
                        .headers()
                        .get(reqwest::header::DATE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| httpdate::parse_http_date(v).ok())
                        .map(OffsetDateTime::from);
                }
                let response: dto::SearchResponse = self.read_json(response).await?;
                for asset in response.assets.items {
                    if asset.owner_id == owner_id && asset.is_trashed {
                        out.push(to_asset_info(asset)?);
                    }
                }
                match response
                    .assets
                    .next_page
                    .and_then(|p| p.parse::<u32>().ok())
                {
                    Some(next) if next > page => page = next,
                    _ => break,
                }
            }
        }
        Ok(TrashFeed {
            assets: out,
            server_time,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base, path)
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut headers = HeaderMap::new();
        if let Ok(mut value) = HeaderValue::from_str(self.key.expose()) {
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        self.http.request(method, url).headers(headers)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str, auth: bool) -> Result<T, ApiError> {
        let builder = if auth {
            self.request(Method::GET, url)
        } else {
            self.http.get(url)
        };
        let response = builder
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.network_error(e))?;
        self.read_json(response).await
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let response = self
            .request(method, &self.url(path))
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| self.network_error(e))?;
        self.read_json(response).await
    }

    async fn send_no_content<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<(), ApiError> {
        let response = self
            .request(method, &self.url(path))
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| self.network_error(e))?;
        self.check_status(response).await.map(|_| ())
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, ApiError> {
        let response = self.check_status(response).await?;
        let bytes = response.bytes().await.map_err(|e| self.network_error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let text = self.redact(String::from_utf8_lossy(&bytes).into_owned());
            ApiError::Protocol(if error::looks_like_html(&text) {
                format!("it answered with {}", error::describe_body(&text))
            } else {
                let start: String = text.chars().take(120).collect();
                format!("{e} in `{start}`")
            })
        })
    }

    /// Turns a failure below HTTP into words: TLS problems need the user (exit status 3),
    /// everything else may pass (refused, unknown name, timeout, reset) and is retried.
    fn network_error(&self, error: reqwest::Error) -> ApiError {
        let chain = error_chain(&error);
        let lower = chain.to_lowercase();
        let host = host_of(&self.server_url);
        let https = self.server_url.starts_with("https://");
        if https
            && !lower.contains("connection refused")
            && !lower.contains("dns error")
            && !error.is_timeout()
            && TLS_SIGNS.iter().any(|sign| lower.contains(sign))
        {
            return ApiError::Tls {
                message: tls_reason(&lower, &root_cause(&error)),
                host,
            };
        }
        let message = if error.is_timeout() {
            "the server did not answer in time".to_owned()
        } else if lower.contains("dns error") {
            format!(
                "the name {} cannot be found: check the server URL, or the network if it is right",
                host_name(&host)
            )
        } else if lower.contains("connection refused") {
            format!(
                "nothing answers at {host} (connection refused): is Immich running, and is the port right?"
            )
        } else if error.is_connect() {
            format!("cannot connect to {host} ({})", root_cause(&error))
        } else {
            format!("the connection failed ({})", root_cause(&error))
        };
        ApiError::Transient {
            status: None,
            message,
            retry_after: None,
        }
    }

    /// During the handshake, an answer that is not Immich's means the URL points elsewhere.
    fn not_immich(&self, error: ApiError) -> ApiError {
        let detail = match error {
            ApiError::Rejected { status, message } => {
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!("{status} {r}"))
                    .unwrap_or_else(|| status.to_string());
                if message.starts_with("a web page") {
                    format!("it answered {reason} with {message}")
                } else {
                    format!("it answered {reason}: {message}")
                }
            }
            ApiError::NotFound { message } => format!("it answered 400 Bad Request: {message}"),
            // `/server/ping` needs no key: a 401 or 403 comes from something in front of Immich.
            ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
                "it asks for a sign-in before Immich answers: is a proxy with its own login in front of it?".to_owned()
            }
            ApiError::Protocol(detail) => detail,
            other => return other,
        };
        ApiError::NotImmich {
            url: self.server_url.clone(),
            detail,
        }
    }

    async fn check_status(
        &self,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, ApiError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers();
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if status.is_redirection() {
            // Only redirects within the server's own origin are followed (the key must not
            // travel elsewhere); any other is the user's to decide.
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("another address")
                .to_owned();
            return Err(ApiError::Rejected {
                status: status.as_u16(),
                message: format!(
                    "it redirects to {location}; if that is your Immich server, use its address as the server URL"
                ),
            });
        }
        let body = self.redact(response.text().await.unwrap_or_default());
        Err(ApiError::from_response(status.as_u16(), retry_after, &body))
    }

    /// Server-provided text may echo the request (a debugging proxy, an error page): the key
    /// is masked before the text can reach a message.
    fn redact(&self, text: String) -> String {
        let key = self.key.expose();
        if key.is_empty() || !text.contains(key) {
            return text;
        }
        text.replace(key, "****")
    }
}

/// Lower-case fragments of TLS failures as rustls and hyper-rustls word them.
const TLS_SIGNS: &[&str] = &[
    "certificate",
    "tls",
    "ssl",
    "handshake",
    "corrupt message",
    "invalidcontenttype",
    "alert",
];

/// What went wrong with TLS, in words that point at the fix; `lower` is the whole error chain
/// in lower case, `cause` its most specific part.
fn tls_reason(lower: &str, cause: &str) -> String {
    if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        "the server does not speak HTTPS on this port (try http:// instead of https://, or the port of the HTTPS proxy)".to_owned()
    } else if lower.contains("unknownissuer")
        || lower.contains("self-signed")
        || lower.contains("self signed")
    {
        "its certificate is not trusted (self-signed, or from an authority this computer does not know): install the certificate in the system's trust store, or use a certificate from a public authority".to_owned()
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "its certificate is for another name: use the host name the certificate was issued for"
            .to_owned()
    } else if lower.contains("expired") {
        "its certificate has expired: renew it on the server".to_owned()
    } else {
        format!("the TLS handshake failed ({cause})")
    }
}

/// `Retry-After` is either delta-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn to_asset_info(asset: dto::AssetResponse) -> Result<AssetInfo, ApiError> {
    Ok(AssetInfo {
        sha1_hex: checksum_to_hex(&asset.checksum)?,
        created_at: asset.created_at.as_deref().and_then(parse_time),
        updated_at: asset.updated_at.as_deref().and_then(parse_time),
        id: asset.id,
        owner_id: asset.owner_id,
        is_trashed: asset.is_trashed,
    })
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Immich answers checksums in base64; the engine stores hex.
pub fn checksum_to_hex(checksum: &str) -> Result<String, ApiError> {
    if checksum.len() == 40 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(checksum.to_ascii_lowercase());
    }
    base64::engine::general_purpose::STANDARD
        .decode(checksum)
        .map(hex::encode)
        .map_err(|e| ApiError::Protocol(format!("checksum `{checksum}` is not base64: {e}")))
}

/// Strict UTC with milliseconds, the one format every Immich version accepts (§3.3).
pub fn utc_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Checks, between two chunks of an upload, that the file is still the one that was hashed.
/// Whether the file is still the one that was hashed. The stat runs on the blocking pool
/// (`tokio::fs`): this is asked after every chunk of an upload.
async fn still_the_same(path: &std::path::Path, expected: Stat) -> Result<(), ApiError> {
    let shown = || path.display().to_string();
    match tokio::fs::symlink_metadata(path).await {
        Ok(meta) if local::stat_of(&meta) == expected => Ok(()),
        Ok(_) => Err(ApiError::FileChanged {
            path: shown(),
            gone: false,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::FileChanged {
            path: shown(),
            gone: true,
        }),
        Err(e) => Err(ApiError::LocalFile {
            path: shown(),
            message: e.to_string(),
        }),
    }
}

/// Makes `server_url` canonical: scheme required, no trailing slash, no trailing `/api`.
pub fn normalize_url(raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| invalid("it must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("it has no host name"));
    }
    let without_api = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    Ok(without_api.to_owned())
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(url)
        .to_owned()
}

/// `host:port` without the port (IPv6 literals keep their brackets).
fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Scheme, host and port of a URL, with the scheme's default port made explicit.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let authority = authority.rsplit('@').next()?.to_owned();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let authority = if has_port {
        authority
    } else {
        format!("{authority}{default_port}")
    };
    Some((scheme, authority))
}

fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin_of(a), origin_of(b)), (Some(x), Some(y)) if x == y)
}

/// Redirects are followed only to the same host and never from HTTPS down to HTTP, so the
/// `x-api-key` header (which reqwest does not know is secret) is never sent anywhere else.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let next = attempt.url();
        let same_host = first.host_str() == next.host_str()
            && (first.port_or_known_default() == next.port_or_known_default()
                || (first.scheme() == "http" && next.scheme() == "https"));
        let downgrade = first.scheme() == "https" && next.scheme() != "https";
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_host && !downgrade {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The most specific cause of a network error (`Connection reset by peer (os error 104)`).
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    cause
}

fn lower(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = inner.source();
    }
    parts.join(": ")
}

/// The multipart part's file name must be plain ASCII to survive every proxy; the real name
/// travels in the `filename` field, which Immich prefers.
fn ascii_file_name(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    if ascii.is_empty() {
        "file".into()
    } else {
        ascii
    }
}

#[cfg(test)]
mod tests {
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
