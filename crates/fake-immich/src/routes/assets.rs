//! Reading, checking, editing, trashing, restoring and purging assets: `GET /assets/{id}`,
//! `PUT /assets/{id}`, `PUT /assets`, `POST /assets/bulk-upload-check`, `DELETE /assets`,
//! `PUT /assets/copy` and the `/trash` endpoints.
//!
//! Access is all-or-nothing as in Immich: one id the caller does not own (or that no longer
//! exists) fails the whole request with 400 `Not found or no <permission> access`.
//!
//! `PUT /assets/{id}` (and, for many ids, `PUT /assets`, answered 204) edits `isFavorite`,
//! `visibility`, and the `exifInfo` fields `description`, `rating` (1 to 5 or -1; v3 refuses
//! 0, v2 reads it as "no rating"; `null` clears it on v3), `dateTimeOriginal` and
//! `latitude`/`longitude` (given together). A real server writes these to the sidecar and
//! re-reads it a moment later, which also moves `fileCreatedAt` to the new `dateTimeOriginal`;
//! the fake does both at once. `livePhotoVideoId` (single update only) links the still to a
//! motion video with the same checks and effects as the upload field, and `null` unlinks it,
//! giving the video the still's visibility back.

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, check_motion_video, json_body, ok_json};
use crate::Profile;
use crate::auth::authenticate;
use crate::dto;
use crate::errors::{ApiError, reply};
use crate::fields::{Checker, Seg, Source, key};
use crate::state::{AssetKind, State as Data};
use crate::validate::{decode_checksum, parse_date};

const VISIBILITIES: &[&str] = &["archive", "timeline", "hidden", "locked"];
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

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
            Ok(ok_json(dto::asset_in_full(app.profile, asset, &state)))
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
            let results: Vec<BulkCheckResult<'_>> = items
                .into_iter()
                .map(|(id, checksum)| {
                    let existing = decode_checksum(&checksum)
                        .and_then(|sum| state.by_checksum(&caller.user_id, &sum));
                    match existing {
                        Some(asset) => BulkCheckResult {
                            id,
                            action: "reject",
                            reason: Some("duplicate"),
                            asset_id: Some(&asset.id),
                            is_trashed: Some(asset.is_trashed()),
                        },
                        None => BulkCheckResult {
                            id,
                            action: "accept",
                            reason: None,
                            asset_id: None,
                            is_trashed: None,
                        },
                    }
                })
                .collect();
            // Written straight from the answers: a library's check is thousands of them a
            // request, and the engine's benchmarks time the server too.
            Ok(axum::response::IntoResponse::into_response(axum::Json(
                BulkCheckResponse { results },
            )))
        })(),
    )
}

/// One answer of `POST /assets/bulk-upload-check` (`AssetBulkUploadCheckResult`).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkCheckResult<'a> {
    id: String,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_trashed: Option<bool>,
}

#[derive(serde::Serialize)]
struct BulkCheckResponse<'a> {
    results: Vec<BulkCheckResult<'a>>,
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
/// The new asset joins every album of the old one (the old one stays in them) and the old
/// one's stack (if the new one is stacked already, the old one's stack is merged into its
/// stack, as Immich does). This server keeps no shared links or sidecar copies.
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
            if source == target {
                return Err(ApiError::bad_request(
                    "Source and target id must be distinct",
                ));
            }
            let wanted = |name: &str| flags.get(name).copied().flatten().unwrap_or(true);
            let now = OffsetDateTime::now_utc();
            if wanted("albums") {
                for album in state.albums.values_mut() {
                    if album.contains(&source) && !album.contains(&target) {
                        album.asset_ids.push(target.clone());
                        album.updated_at = now;
                    }
                }
            }
            if wanted("stack") {
                copy_stack(&mut state, &source, &target);
            }
            if wanted("favorite")
                && let Some(t) = state.assets.get_mut(&target)
            {
                t.is_favorite = t.is_favorite || favorite;
                t.updated_at = now;
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        })(),
    )
}

/// Immich's `copyStack`: the target joins the source's stack, or, if it is stacked already,
/// the source's stack is merged into the target's.
fn copy_stack(state: &mut Data, source: &str, target: &str) {
    let Some(from) = state.stack_of(source).map(|s| s.id.clone()) else {
        return;
    };
    match state.stack_of(target).map(|s| s.id.clone()) {
        Some(to) if to == from => {}
        Some(to) => {
            if let Some(merged) = state.stacks.remove(&from) {
                let stack = state.stacks.get_mut(&to).expect("found above");
                stack.asset_ids.extend(merged.asset_ids);
            }
        }
        None => {
            let stack = state.stacks.get_mut(&from).expect("found above");
            stack.asset_ids.push(target.to_string());
        }
    }
}

/// What a `PUT /assets` body asks to change.
#[derive(Default)]
struct Changes {
    is_favorite: Option<bool>,
    visibility: Option<String>,
    description: Option<String>,
    /// `Some(None)` clears the rating.
    rating: Option<Option<i64>>,
    date_time_original: Option<OffsetDateTime>,
    /// `dateTimeRelative` (bulk only): minutes to move `dateTimeOriginal` by.
    date_time_relative: Option<i64>,
    location: Option<(f64, f64)>,
    /// `Some(None)` unlinks the motion video.
    live_photo_video_id: Option<Option<String>>,
}

/// Reads the fields of `UpdateAssetDto` (`single`) or `AssetBulkUpdateDto`.
fn parse_changes(profile: Profile, c: &mut Checker, body: &Value, single: bool) -> Changes {
    let v3 = profile == Profile::V3;
    let mut changes = Changes {
        is_favorite: c.boolean(&key("isFavorite"), body.get("isFavorite")),
        visibility: c.one_of(&key("visibility"), body.get("visibility"), VISIBILITIES),
        description: c.string(&key("description"), body.get("description"), false, false),
        ..Changes::default()
    };
    changes.rating = match body.get("rating") {
        None => None,
        Some(Value::Null) if v3 => Some(None),
        value => match c.integer(&key("rating"), value, -1, 5) {
            Some(0) if v3 => {
                c.custom(
                    &key("rating"),
                    "must not be 0",
                    "custom",
                    "Rating must be -1 (rejected), 1–5 (starred), or null (unrated); 0 is not valid",
                );
                None
            }
            Some(0) => Some(None),
            other => other.map(Some),
        },
    };
    changes.date_time_original = match body.get("dateTimeOriginal") {
        None => None,
        Some(Value::Null) if !v3 => None,
        Some(Value::String(text)) => {
            let parsed = parse_date(text, false);
            if parsed.is_none() {
                c.custom(
                    &key("dateTimeOriginal"),
                    "must be a valid ISO 8601 date string",
                    "invalid_format",
                    "Invalid ISO datetime",
                );
            }
            parsed
        }
        value => {
            c.string(&key("dateTimeOriginal"), value, false, false);
            None
        }
    };
    let given = |name: &str| match body.get(name) {
        None => false,
        Some(Value::Null) => v3,
        Some(_) => true,
    };
    let latitude = c.number(
        &key("latitude"),
        body.get("latitude"),
        -90.0,
        90.0,
        "must be a latitude string or number",
    );
    let longitude = c.number(
        &key("longitude"),
        body.get("longitude"),
        -180.0,
        180.0,
        "must be a longitude string or number",
    );
    match (given("latitude"), given("longitude")) {
        (true, false) | (false, true) => {
            let missing = if given("latitude") {
                "longitude"
            } else {
                "latitude"
            };
            c.custom(
                &key(missing),
                "should not be empty",
                "custom",
                "Latitude and longitude must be provided together",
            );
        }
        _ => {}
    }
    if let (Some(lat), Some(lon)) = (latitude, longitude) {
        changes.location = Some((lat, lon));
    }
    if single {
        changes.live_photo_video_id = match body.get("livePhotoVideoId") {
            None => None,
            Some(Value::Null) => Some(None),
            value => c.uuid(&key("livePhotoVideoId"), value, false).map(Some),
        };
    } else {
        changes.date_time_relative = c.integer(
            &key("dateTimeRelative"),
            body.get("dateTimeRelative"),
            -MAX_SAFE_INTEGER,
            MAX_SAFE_INTEGER,
        );
        c.string(&key("timeZone"), body.get("timeZone"), false, false);
        if !body.get("duplicateId").is_some_and(Value::is_null) {
            c.string(&key("duplicateId"), body.get("duplicateId"), false, false);
        }
    }
    changes
}

/// Applies the changes to one asset (the live-photo link is handled by the caller).
fn apply(state: &mut Data, id: &str, changes: &Changes, now: OffsetDateTime) {
    let Some(asset) = state.assets.get_mut(id) else {
        return;
    };
    if let Some(favorite) = changes.is_favorite {
        asset.is_favorite = favorite;
    }
    if let Some(visibility) = &changes.visibility {
        asset.visibility = visibility.clone();
    }
    if let Some(description) = &changes.description {
        asset.exif.description = Some(description.clone());
    }
    if let Some(rating) = changes.rating {
        asset.exif.rating = rating;
    }
    let mut taken = changes.date_time_original;
    if let Some(minutes) = changes.date_time_relative {
        let base = asset
            .exif
            .date_time_original
            .unwrap_or(asset.file_created_at);
        taken = base.checked_add(time::Duration::minutes(minutes));
    }
    if let Some(taken) = taken {
        asset.exif.date_time_original = Some(taken);
        asset.file_created_at = taken;
    }
    if let Some((latitude, longitude)) = changes.location {
        asset.exif.latitude = Some(latitude);
        asset.exif.longitude = Some(longitude);
    }
    asset.updated_at = now;
}

/// `PUT /assets/{id}` → 200 `AssetResponseDto`.
pub(crate) async fn update_one(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.update"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            c.uuid(&key("id"), Some(&Value::String(id.clone())), true);
            let changes = parse_changes(app.profile, &mut c, &body, true);
            c.finish()?;
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            let previous_video = state
                .owned(&caller.user_id, &id)
                .ok_or_else(|| ApiError::no_access("asset.update"))?
                .live_photo_video_id
                .clone();
            if let Some(Some(video_id)) = &changes.live_photo_video_id {
                check_motion_video(&state, &caller.user_id, video_id)?;
                state.become_motion_part(video_id, now);
            }
            apply(&mut state, &id, &changes, now);
            if let Some(link) = &changes.live_photo_video_id {
                let still = state.assets.get_mut(&id).expect("owned above");
                still.live_photo_video_id = link.clone();
                let visibility = still.visibility.clone();
                if link.is_none()
                    && let Some(video) = previous_video.and_then(|v| state.assets.get_mut(&v))
                {
                    video.visibility = visibility;
                    video.updated_at = now;
                }
            }
            let asset = state.assets.get(&id).expect("owned above");
            Ok(ok_json(dto::asset(app.profile, asset)))
        })(),
    )
}

/// `PUT /assets` → 204: the same changes to every id (all-or-nothing access check).
pub(crate) async fn update_many(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.update"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let ids = c.uuid_array(&key("ids"), body.get("ids"));
            let changes = parse_changes(app.profile, &mut c, &body, false);
            c.finish()?;
            let ids = ids.unwrap_or_default();
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            if ids
                .iter()
                .any(|id| state.owned(&caller.user_id, id).is_none())
            {
                return Err(ApiError::no_access("asset.update"));
            }
            for id in &ids {
                apply(&mut state, id, &changes, now);
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
