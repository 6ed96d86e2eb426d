//! The HTTP routes, one module per area of the API, and the helpers they share.

mod account;
mod albums;
mod assets;
mod discovery;
mod search;
mod stacks;
mod tags;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::state::{AssetKind, Shared, State};

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
        .route("/api/albums", get(albums::list).post(albums::create))
        .route("/api/albums/assets", put(albums::add_assets_to_albums))
        .route(
            "/api/albums/{id}",
            get(albums::get_one).delete(albums::delete_one),
        )
        .route(
            "/api/albums/{id}/assets",
            put(albums::add_assets).delete(albums::remove_assets),
        )
        .route("/api/stacks", post(stacks::create))
        .route("/api/stacks/{id}", get(stacks::get_one))
        .route("/api/tags", get(tags::list).put(tags::upsert))
        .route("/api/tags/assets", put(tags::tag_assets))
        .route(
            "/api/assets",
            post(upload::upload)
                .put(assets::update_many)
                .delete(assets::delete),
        )
        .route(
            "/api/assets/bulk-upload-check",
            post(assets::bulk_upload_check),
        )
        .route("/api/assets/statistics", get(assets::statistics))
        .route("/api/assets/copy", put(assets::copy))
        .route(
            "/api/assets/{id}",
            get(assets::get_one).put(assets::update_one),
        )
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

/// A 201 JSON answer.
pub(crate) fn created_json(value: Value) -> Response {
    use axum::response::IntoResponse;
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// The query string's parameters, percent-decoded, as JSON strings (the form the field
/// checker reads).
pub(crate) fn query_values(uri: &Uri) -> std::collections::HashMap<String, Value> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// Immich's checks before a still is linked to a motion video: the video must exist, be a
/// video, and belong to the caller.
pub(crate) fn check_motion_video(
    state: &State,
    owner_id: &str,
    video_id: &str,
) -> Result<(), ApiError> {
    let video = state
        .assets
        .get(video_id)
        .ok_or_else(|| ApiError::bad_request("Live photo video not found"))?;
    if video.kind != AssetKind::Video {
        return Err(ApiError::bad_request("Live photo video must be a video"));
    }
    if video.owner_id != owner_id {
        return Err(ApiError::bad_request(
            "Live photo video does not belong to the user",
        ));
    }
    Ok(())
}
