//! Albums: `GET /albums`, `POST /albums`, `GET /albums/{id}`, `DELETE /albums/{id}`,
//! `PUT /albums/{id}/assets`, `DELETE /albums/{id}/assets` and `PUT /albums/assets`.
//!
//! The caller sees only their own albums (no sharing here). As in Immich:
//! - an album id the caller cannot reach is 400 `Not found or no <permission> access`, except
//!   that `PUT /albums/{id}/assets` looks the album up first and answers an id that does not
//!   exist with 400 `Album not found`;
//! - adding and removing assets is not all-or-nothing: each id gets `{id, success, error?}`,
//!   with `duplicate` for an asset already in the album, `no_permission` for one the caller
//!   may not add (another user's, a locked one, or one that does not exist) and, on removal,
//!   `not_found` for an asset that is not in the album;
//! - `POST /albums` quietly drops `assetIds` the caller may not add;
//! - `GET /albums` lists the newest album first; v3 filters by `id` and `name` (exact), v2
//!   and v3 by `assetId` (which overrides the other filters). Nothing is shared, so
//!   `shared=true` (v2), `isShared=true` and `isOwned=false` (v3) find nothing;
//! - `assetCount` and the dates count the members that are not in the trash; v2's
//!   `GET /albums/{id}` embeds them (unless `withoutAssets=true`), v3's does not.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, created_json, json_body, ok_json, query_values};
use crate::Profile;
use crate::auth::authenticate;
use crate::dto;
use crate::errors::{ApiError, reply};
use crate::fields::{Checker, Source, key};
use crate::state::{Album, State as Data};

/// Whether the caller may put the asset in an album (Immich's `asset.share` access for the
/// owner): their own asset, trashed or not, unless it is in the locked folder.
fn can_add(state: &Data, owner_id: &str, asset_id: &str) -> bool {
    state
        .owned(owner_id, asset_id)
        .is_some_and(|a| a.visibility != "locked")
}

/// Checks the `{id}` path parameter.
fn path_id(app: &App, id: &str) -> Result<(), ApiError> {
    let mut checker = Checker::new(app.profile, Source::Json);
    checker.uuid(&key("id"), Some(&Value::String(id.to_string())), true);
    checker.finish()
}

pub(crate) async fn list(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("album.read"))?;
            let query = query_values(&uri);
            let mut c = Checker::new(app.profile, Source::Form);
            let asset_id = c.uuid(&key("assetId"), query.get("assetId"), false);
            let (id, name, is_owned, is_shared) = match app.profile {
                Profile::V3 => (
                    c.uuid(&key("id"), query.get("id"), false),
                    c.string(&key("name"), query.get("name"), false, false),
                    c.boolean(&key("isOwned"), query.get("isOwned")),
                    c.boolean(&key("isShared"), query.get("isShared")),
                ),
                Profile::V2 => (
                    None,
                    None,
                    None,
                    c.boolean(&key("shared"), query.get("shared")),
                ),
            };
            c.finish()?;
            let state = app.lock();
            let mut albums: Vec<&Album> = state
                .albums
                .values()
                .filter(|a| a.owner_id == caller.user_id)
                .filter(|a| match &asset_id {
                    Some(asset) => a.contains(asset),
                    None => {
                        id.as_ref().is_none_or(|id| &a.id == id)
                            && name.as_ref().is_none_or(|n| &a.name == n)
                            && is_owned != Some(false)
                            && is_shared != Some(true)
                    }
                })
                .collect();
            albums.sort_by_key(|a| std::cmp::Reverse(a.seq));
            let body: Vec<Value> = albums
                .into_iter()
                .map(|a| dto::album(app.profile, a, &state, false))
                .collect();
            Ok(ok_json(Value::Array(body)))
        })(),
    )
}

pub(crate) async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("album.create"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let name = c.string(&key("albumName"), body.get("albumName"), true, false);
            let description = match body.get("description") {
                Some(Value::Null) | None => None,
                value => c.string(&key("description"), value, false, false),
            };
            let asset_ids = match body.get("assetIds") {
                Some(Value::Null) | None => Vec::new(),
                value => c.uuid_array(&key("assetIds"), value).unwrap_or_default(),
            };
            c.finish()?;
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            let mut members: Vec<String> = Vec::new();
            for id in asset_ids {
                if !members.contains(&id) && can_add(&state, &caller.user_id, &id) {
                    members.push(id);
                }
            }
            let id = uuid::Uuid::new_v4().to_string();
            let seq = state.next_seq();
            let album = Album {
                id: id.clone(),
                owner_id: caller.user_id.clone(),
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
                thumbnail_asset_id: members.first().cloned(),
                asset_ids: members,
                created_at: now,
                updated_at: now,
                seq,
            };
            let body = dto::album(app.profile, &album, &state, true);
            state.albums.insert(id, album);
            Ok(created_json(body))
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
            let caller = authenticate(&app, &headers, uri.query(), Some("album.read"))?;
            let query = query_values(&uri);
            let mut c = Checker::new(app.profile, Source::Form);
            c.uuid(&key("id"), Some(&Value::String(id.clone())), true);
            let without_assets = match app.profile {
                Profile::V2 => c.boolean(&key("withoutAssets"), query.get("withoutAssets")),
                Profile::V3 => None,
            };
            c.finish()?;
            let state = app.lock();
            let album = state
                .albums
                .get(&id)
                .filter(|a| a.owner_id == caller.user_id)
                .ok_or_else(|| ApiError::no_access("album.read"))?;
            let with_assets = !without_assets.unwrap_or(false);
            Ok(ok_json(dto::album(app.profile, album, &state, with_assets)))
        })(),
    )
}

pub(crate) async fn delete_one(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("album.delete"))?;
            path_id(&app, &id)?;
            let mut state = app.lock();
            if state
                .albums
                .get(&id)
                .is_none_or(|a| a.owner_id != caller.user_id)
            {
                return Err(ApiError::no_access("album.delete"));
            }
            state.albums.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        })(),
    )
}

/// Reads `{"ids":[...]}` after checking the path's album id.
fn bulk_ids(
    app: &App,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<String>, ApiError> {
    let body = json_body(headers, body)?;
    let mut c = Checker::new(app.profile, Source::Json);
    c.uuid(&key("id"), Some(&Value::String(id.to_string())), true);
    let ids = c.uuid_array(&key("ids"), body.get("ids"));
    c.finish()?;
    Ok(ids.unwrap_or_default())
}

fn result(id: &str, error: Option<&str>) -> Value {
    match error {
        None => json!({ "id": id, "success": true }),
        Some(error) => json!({ "id": id, "success": false, "error": error }),
    }
}

pub(crate) async fn add_assets(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("albumAsset.create"))?;
            let ids = bulk_ids(&app, &id, &headers, &body)?;
            let mut state = app.lock();
            let album = state
                .albums
                .get(&id)
                .ok_or_else(|| ApiError::bad_request("Album not found"))?;
            if album.owner_id != caller.user_id {
                return Err(ApiError::no_access("albumAsset.create"));
            }
            let mut present = album.asset_ids.clone();
            let mut added = Vec::new();
            let mut results = Vec::with_capacity(ids.len());
            for asset_id in &ids {
                let error = if present.contains(asset_id) {
                    Some("duplicate")
                } else if !can_add(&state, &caller.user_id, asset_id) {
                    Some("no_permission")
                } else {
                    present.push(asset_id.clone());
                    added.push(asset_id.clone());
                    None
                };
                results.push(result(asset_id, error));
            }
            if !added.is_empty() {
                let album = state.albums.get_mut(&id).expect("looked up above");
                if album.thumbnail_asset_id.is_none() {
                    album.thumbnail_asset_id = added.first().cloned();
                }
                album.asset_ids.extend(added);
                album.updated_at = OffsetDateTime::now_utc();
            }
            Ok(ok_json(Value::Array(results)))
        })(),
    )
}

pub(crate) async fn remove_assets(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("albumAsset.delete"))?;
            let ids = bulk_ids(&app, &id, &headers, &body)?;
            let mut state = app.lock();
            let album = state
                .albums
                .get_mut(&id)
                .filter(|a| a.owner_id == caller.user_id)
                .ok_or_else(|| ApiError::no_access("albumAsset.delete"))?;
            let mut removed: Vec<&str> = Vec::new();
            let mut results = Vec::with_capacity(ids.len());
            for asset_id in &ids {
                let error = if album.contains(asset_id) && !removed.contains(&asset_id.as_str()) {
                    removed.push(asset_id);
                    None
                } else {
                    Some("not_found")
                };
                results.push(result(asset_id, error));
            }
            album.remove(&removed);
            Ok(ok_json(Value::Array(results)))
        })(),
    )
}

/// `PUT /albums/assets` (Immich 1.139+): adds every asset to every album and answers one
/// `{success, error?}`: `no_permission` if none of the albums or none of the assets may be
/// used, `duplicate` if every asset was already in every album.
pub(crate) async fn add_assets_to_albums(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("albumAsset.create"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let album_ids = c.uuid_array(&key("albumIds"), body.get("albumIds"));
            let asset_ids = c.uuid_array(&key("assetIds"), body.get("assetIds"));
            c.finish()?;
            let mut state = app.lock();
            let mut albums: Vec<String> = Vec::new();
            for id in album_ids.unwrap_or_default() {
                let mine = state
                    .albums
                    .get(&id)
                    .is_some_and(|a| a.owner_id == caller.user_id);
                if mine && !albums.contains(&id) {
                    albums.push(id);
                }
            }
            let mut assets: Vec<String> = Vec::new();
            for id in asset_ids.unwrap_or_default() {
                if can_add(&state, &caller.user_id, &id) && !assets.contains(&id) {
                    assets.push(id);
                }
            }
            if albums.is_empty() || assets.is_empty() {
                return Ok(ok_json(
                    json!({ "success": false, "error": "no_permission" }),
                ));
            }
            let now = OffsetDateTime::now_utc();
            let mut success = false;
            for album_id in &albums {
                let album = state.albums.get_mut(album_id).expect("checked above");
                let missing: Vec<String> = assets
                    .iter()
                    .filter(|a| !album.contains(a))
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                success = true;
                if album.thumbnail_asset_id.is_none() {
                    album.thumbnail_asset_id = missing.first().cloned();
                }
                album.asset_ids.extend(missing);
                album.updated_at = now;
            }
            Ok(ok_json(if success {
                json!({ "success": true })
            } else {
                json!({ "success": false, "error": "duplicate" })
            }))
        })(),
    )
}
