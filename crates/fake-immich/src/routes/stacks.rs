//! Stacks: `POST /stacks` and `GET /stacks/{id}`.
//!
//! `POST /stacks {"assetIds":[primary, ...]}` needs at least two ids (else a validation 400)
//! that all belong to the caller (else 400 `Not found or no asset.update access`, as Immich
//! checks the assets with the `asset.update` access); the first becomes the primary. An
//! asset that is already stacked is handled as Immich's stack repository does (see
//! `State::create_stack`): a stack whose primary is listed is merged into the
//! new one, any other listed member moves over. The answer, like `GET /stacks/{id}`, lists
//! the members that are not in the trash, the primary first.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::Value;

use super::{App, created_json, json_body, ok_json};
use crate::auth::authenticate;
use crate::dto;
use crate::errors::{ApiError, reply};
use crate::fields::{Checker, Source, key};

pub(crate) async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("stack.create"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let ids = c.uuid_array(&key("assetIds"), body.get("assetIds"));
            if let Some(items) = body.get("assetIds").and_then(Value::as_array) {
                c.min_items(&key("assetIds"), items.len(), 2);
            }
            c.finish()?;
            let ids = ids.unwrap_or_default();
            let mut state = app.lock();
            if ids
                .iter()
                .any(|id| state.owned(&caller.user_id, id).is_none())
            {
                return Err(ApiError::no_access("asset.update"));
            }
            let id = state.create_stack(&caller.user_id, &ids);
            let stack = state.stacks.get(&id).expect("just created");
            Ok(created_json(dto::stack(app.profile, stack, &state)))
        })(),
    )
}

pub(crate) async fn get_one(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("stack.read"))?;
            let mut c = Checker::new(app.profile, Source::Json);
            c.uuid(&key("id"), Some(&Value::String(id.clone())), true);
            c.finish()?;
            let state = app.lock();
            let stack = state
                .stacks
                .get(&id)
                .filter(|s| s.owner_id == caller.user_id)
                .ok_or_else(|| ApiError::no_access("stack.read"))?;
            Ok(ok_json(dto::stack(app.profile, stack, &state)))
        })(),
    )
}
