//! API-key authentication and per-endpoint permissions, with Immich's exact answers.
//!
//! Immich looks for a session token first (`Authorization: Bearer`, `x-immich-user-token`,
//! the `immich_access_token` cookie), then an API key (`x-api-key`, or the `apiKey` query
//! parameter). This server has no sessions, so any session token is `Invalid user token` —
//! which is what an API key sent as a Bearer token gets from the real server.

use axum::http::{HeaderMap, header};

use crate::errors::ApiError;
use crate::state::Shared;

/// The caller behind a valid API key.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user_id: String,
    pub key_secret: String,
}

fn session_token_sent(headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(';')
                .any(|c| c.trim().starts_with("immich_access_token="))
        });
    bearer || cookie || headers.contains_key("x-immich-user-token")
}

fn api_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("x-api-key") {
        return Some(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("apiKey="))
        .map(str::to_string)
}

/// Authenticates the request; `permission` is the one the endpoint declares (`None` for
/// endpoints any key may call, like `GET /api-keys/me`).
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    permission: Option<&str>,
) -> Result<Caller, ApiError> {
    if session_token_sent(headers) {
        return Err(ApiError::unauthorized("Invalid user token"));
    }
    let Some(secret) = api_key(headers, query) else {
        return Err(ApiError::unauthorized("Authentication required"));
    };
    let state = shared.lock();
    let Some(key) = state.keys.get(&secret) else {
        return Err(ApiError::unauthorized("Invalid API key"));
    };
    if let Some(permission) = permission {
        if !key.allows(permission) {
            return Err(ApiError::forbidden(format!(
                "Missing required permission: {permission}"
            )));
        }
    }
    Ok(Caller {
        user_id: key.user_id.clone(),
        key_secret: secret,
    })
}
