//! The client itself: one reqwest client per account, the key only ever sent to the configured
//! server, answers read and classified, network failures put into words.

use super::*;

/// Time allowed to establish a connection.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Time allowed for a whole JSON request (uploads have no total limit, only a read timeout).
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Time without any byte moving before an upload counts as stalled.
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Lower-case fragments of TLS failures as rustls and hyper-rustls word them.
pub(super) const TLS_SIGNS: &[&str] = &[
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
pub(super) fn tls_reason(lower: &str, cause: &str) -> String {
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
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The most specific cause of a network error (`Connection reset by peer (os error 104)`).
pub(super) fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    cause
}

pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
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

impl ImmichClient {
    /// The same client, sending this installation's device id with uploads (a client made
    /// for a connection check before the state file was open).
    pub(crate) fn set_device_id(&mut self, device_id: &str) {
        self.device_id = device_id.to_owned();
    }

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

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base, path)
    }

    pub(super) fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut headers = HeaderMap::new();
        if let Ok(mut value) = HeaderValue::from_str(self.key.expose()) {
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        self.http.request(method, url).headers(headers)
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        auth: bool,
    ) -> Result<T, ApiError> {
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

    pub(super) async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let response = self.send_body(method, path, body).await?;
        self.read_json(response).await
    }

    pub(super) async fn send_no_content<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<(), ApiError> {
        let response = self.send_body(method, path, body).await?;
        self.check_status(response).await.map(|_| ())
    }

    /// Sends `body` as JSON; the answer's status is left to the caller.
    async fn send_body<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response, ApiError> {
        self.request(method, &self.url(path))
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| self.network_error(e))
    }

    pub(super) async fn read_json<T: DeserializeOwned>(
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
    pub(super) fn network_error(&self, error: reqwest::Error) -> ApiError {
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
    pub(super) fn not_immich(&self, error: ApiError) -> ApiError {
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

    pub(super) async fn check_status(
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
    pub(super) fn redact(&self, text: String) -> String {
        let key = self.key.expose();
        if key.is_empty() || !text.contains(key) {
            return text;
        }
        text.replace(key, "****")
    }
}
