//! The HTTP routes, one module per area of the API, and the helpers they share.

mod account;
mod assets;
mod discovery;
mod search;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::state::Shared;

pub(crate) type App = Arc<Shared>;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/.well-known/immich", get(discovery::well_known))
        .route("/api/server/ping", get(discovery::ping))
        .route("/api/server/version", get(discovery::version))
        .route("/api/server/media-types", get(discovery::media_types))
        .route("/api/server/features", get(discovery::features))
        .route("/api/server/config", get(discovery::config))
        .route("/api/server/about", get(discovery::about))
        .route("/api/users/me", get(account::me))
        .route("/api/api-keys/me", get(account::api_key_me))
        .route("/api/albums", get(account::albums))
        .route("/api/assets", post(upload::upload).delete(assets::delete))
        .route(
            "/api/assets/bulk-upload-check",
            post(assets::bulk_upload_check),
        )
        .route("/api/assets/statistics", get(assets::statistics))
        .route("/api/assets/copy", axum::routing::put(assets::copy))
        .route("/api/assets/{id}", get(assets::get_one))
        .route("/api/search/metadata", post(search::metadata))
        .route("/api/trash/restore/assets", post(assets::restore_assets))
        .route("/api/trash/restore", post(assets::restore_all))
        .route("/api/trash/empty", post(assets::empty_trash))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

/// NestJS's answer for a route it does not have: 404 `Cannot <METHOD> <path>`.
async fn not_found(
    axum::extract::State(app): axum::extract::State<App>,
    method: Method,
    uri: Uri,
) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("Cannot {} {}", method, uri.path()),
    )
    .render(app.profile)
}

/// Parses a JSON body as Express does: a body that is not declared as JSON (or is empty)
/// reads as `{}`; malformed JSON is a 400.
pub(crate) fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    if !is_json(headers) || body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "Unexpected token in JSON at line {} column {}",
            e.line(),
            e.column()
        ))
    })
}

/// Whether the request declares a JSON body (`application/json` or `*/*+json`).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
}

/// A 200 JSON answer.
pub(crate) fn ok_json(value: Value) -> Response {
    use axum::response::IntoResponse;
    (StatusCode::OK, axum::Json(value)).into_response()
}
