//! Who the caller is: `GET /users/me` (owner id and quota) and `GET /api-keys/me` (granted
//! permissions).

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::{App, ok_json};
use crate::auth::authenticate;
use crate::dto;
use crate::errors::{ApiError, reply};

pub(crate) async fn me(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("user.read"))?;
            let state = app.lock();
            let user = state
                .users
                .get(&caller.user_id)
                .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
            Ok(ok_json(dto::user(user, state.usage(&caller.user_id))))
        })(),
    )
}

pub(crate) async fn api_key_me(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), None)?;
            let state = app.lock();
            let key = state
                .keys
                .get(&caller.key_secret)
                .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
            Ok(ok_json(dto::api_key(key)))
        })(),
    )
}
