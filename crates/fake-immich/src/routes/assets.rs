//! Reading, checking, trashing, restoring and purging assets: `GET /assets/{id}`,
//! `POST /assets/bulk-upload-check`, `DELETE /assets` and the `/trash` endpoints.
//!
//! Access is all-or-nothing as in Immich: one id the caller does not own (or that no longer
//! exists) fails the whole request with 400 `Not found or no <permission> access`.

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, json_body, ok_json};
use crate::auth::authenticate;
use crate::dto;
use crate::errors::{ApiError, reply};
use crate::fields::{Checker, Seg, Source, key};
use crate::state::AssetKind;
use crate::validate::decode_checksum;

pub(crate) async fn get_one(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.read"))?;
            let mut checker = Checker::new(app.profile, Source::Json);
            checker.uuid(&key("id"), Some(&Value::String(id.clone())), true);
            checker.finish()?;
            let state = app.lock();
            let asset = state
                .owned(&caller.user_id, &id)
                .ok_or_else(|| ApiError::no_access("asset.read"))?;
            Ok(ok_json(dto::asset(app.profile, asset)))
        })(),
    )
}

/// `GET /assets/statistics` (the CLI's `server-info` shows it): counts of the caller's assets.
pub(crate) async fn statistics(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.statistics"))?;
            let value = |name: &str| query.get(name).map(|v| Value::String(v.clone()));
            let mut checker = Checker::new(app.profile, Source::Form);
            let is_favorite = checker.boolean(&key("isFavorite"), value("isFavorite").as_ref());
            let is_trashed = checker
                .boolean(&key("isTrashed"), value("isTrashed").as_ref())
                .unwrap_or(false);
            let visibility = checker.one_of(
                &key("visibility"),
                value("visibility").as_ref(),
                &["archive", "timeline", "hidden", "locked"],
            );
            checker.finish()?;
            let state = app.lock();
            let (mut images, mut videos) = (0, 0);
            for asset in state.assets.values().filter(|a| {
                a.owner_id == caller.user_id
                    && a.is_trashed() == is_trashed
                    && is_favorite.is_none_or(|f| a.is_favorite == f)
                    && visibility
                        .as_ref()
                        .map_or(a.visibility != "locked", |v| &a.visibility == v)
            }) {
                match asset.kind {
                    AssetKind::Image => images += 1,
                    AssetKind::Video => videos += 1,
                }
            }
            Ok(ok_json(
                json!({ "images": images, "videos": videos, "total": images + videos }),
            ))
        })(),
    )
}

pub(crate) async fn bulk_upload_check(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.upload"))?;
            let body = json_body(&headers, &body)?;
            let mut checker = Checker::new(app.profile, Source::Json);
            let mut items = Vec::new();
            if let Some(assets) = checker.array(&key("assets"), body.get("assets"), true) {
                for (i, item) in assets.iter().enumerate() {
                    let id_path = [Seg::Key("assets"), Seg::Idx(i), Seg::Key("id")];
                    let sum_path = [Seg::Key("assets"), Seg::Idx(i), Seg::Key("checksum")];
                    let id = checker.string(&id_path, item.get("id"), true, true);
                    let checksum = checker.string(&sum_path, item.get("checksum"), true, true);
                    items.push((id.unwrap_or_default(), checksum.unwrap_or_default()));
                }
            }
            checker.finish()?;
            let state = app.lock();
            let results: Vec<Value> = items
                .into_iter()
                .map(|(id, checksum)| {
                    let existing = decode_checksum(&checksum)
                        .and_then(|sum| state.by_checksum(&caller.user_id, &sum));
                    match existing {
                        Some(asset) => json!({
                            "id": id,
                            "action": "reject",
                            "reason": "duplicate",
                            "assetId": asset.id,
                            "isTrashed": asset.is_trashed(),
                        }),
                        None => json!({ "id": id, "action": "accept" }),
                    }
                })
                .collect();
            Ok(ok_json(json!({ "results": results })))
        })(),
    )
}

/// Reads `{"ids":[...]}` (plus `force` for delete) and checks the caller owns every id.
fn owned_ids(
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
    with_force: bool,
) -> Result<(String, Vec<String>, bool), ApiError> {
    let caller = authenticate(app, headers, uri.query(), Some("asset.delete"))?;
    let body = json_body(headers, body)?;
    let mut checker = Checker::new(app.profile, Source::Json);
    let ids = checker.uuid_array(&key("ids"), body.get("ids"));
    let force = if with_force {
        checker.boolean(&key("force"), body.get("force"))
    } else {
        None
    };
    checker.finish()?;
    let ids = ids.unwrap_or_default();
    let state = app.lock();
    if ids
        .iter()
        .any(|id| state.owned(&caller.user_id, id).is_none())
    {
        return Err(ApiError::no_access("asset.delete"));
    }
    Ok((caller.user_id, ids, force.unwrap_or(false)))
}

pub(crate) async fn delete(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let (_, ids, force) = owned_ids(&app, &headers, &uri, &body, true)?;
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            for id in &ids {
                if force {
                    state.purge(id);
                } else if let Some(asset) = state.assets.get_mut(id) {
                    asset.deleted_at = Some(now);
                    asset.updated_at = now;
                }
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        })(),
    )
}

pub(crate) async fn restore_assets(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let (_, ids, _) = owned_ids(&app, &headers, &uri, &body, false)?;
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            let mut count = 0;
            for id in &ids {
                if let Some(asset) = state.assets.get_mut(id).filter(|a| a.is_trashed()) {
                    asset.deleted_at = None;
                    asset.updated_at = now;
                    count += 1;
                }
            }
            Ok(ok_json(json!({ "count": count })))
        })(),
    )
}

/// `PUT /assets/copy`: moves a changed photo's albums, favourite, shared links and stack from
/// the old asset to the new one. Both must be the caller's (else 400, as for every id check).
/// This server keeps no albums, stacks or shared links: the favourite is what moves.
pub(crate) async fn copy(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.copy"))?;
            let body = json_body(&headers, &body)?;
            let mut checker = Checker::new(app.profile, Source::Json);
            let source = checker.uuid(&key("sourceId"), body.get("sourceId"), true);
            let target = checker.uuid(&key("targetId"), body.get("targetId"), true);
            let mut flags = HashMap::new();
            for name in ["albums", "favorite", "sharedLinks", "sidecar", "stack"] {
                flags.insert(name, checker.boolean(&key(name), body.get(name)));
            }
            checker.finish()?;
            let (Some(source), Some(target)) = (source, target) else {
                return Err(ApiError::no_access("asset.copy"));
            };
            let mut state = app.lock();
            let favorite = match (
                state.owned(&caller.user_id, &source),
                state.owned(&caller.user_id, &target),
            ) {
                (Some(s), Some(_)) => s.is_favorite,
                _ => return Err(ApiError::no_access("asset.copy")),
            };
            if flags.get("favorite").copied().flatten().unwrap_or(true)
                && let Some(t) = state.assets.get_mut(&target)
            {
                t.is_favorite = t.is_favorite || favorite;
                t.updated_at = OffsetDateTime::now_utc();
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        })(),
    )
}

pub(crate) async fn restore_all(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.delete"))?;
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            let mut count = 0;
            for asset in state.assets.values_mut() {
                if asset.owner_id == caller.user_id && asset.is_trashed() {
                    asset.deleted_at = None;
                    asset.updated_at = now;
                    count += 1;
                }
            }
            Ok(ok_json(json!({ "count": count })))
        })(),
    )
}

pub(crate) async fn empty_trash(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.delete"))?;
            let mut state = app.lock();
            let trashed: Vec<String> = state
                .assets
                .values()
                .filter(|a| a.owner_id == caller.user_id && a.is_trashed())
                .map(|a| a.id.clone())
                .collect();
            for id in &trashed {
                state.purge(id);
            }
            Ok(ok_json(json!({ "count": trashed.len() })))
        })(),
    )
}
