//! `POST /search/metadata`: the caller's assets filtered, ordered by `fileCreatedAt` and paged
//! with OFFSET/LIMIT, `nextPage` as a string. Trashed assets appear only with `withDeleted`
//! (implied by `trashedAfter`/`trashedBefore`/`isOffline`). Without `visibility`, v2 returns
//! only `timeline` assets and v3 everything except `locked`. `albumIds` keeps the assets that
//! are in every one of the listed albums (Immich's `inAlbums`), `isNotInAlbum` those in no
//! album.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, json_body, ok_json};
use crate::Profile;
use crate::auth::authenticate;
use crate::dto;
use crate::errors::reply;
use crate::fields::{Checker, Source, key};
use crate::state::{Asset, State as Data};
use crate::validate::decode_checksum;

const VISIBILITIES: &[&str] = &["archive", "timeline", "hidden", "locked"];
const TYPES: &[&str] = &["IMAGE", "VIDEO", "AUDIO", "OTHER"];

#[derive(Default)]
struct Filter {
    checksum: Option<String>,
    id: Option<String>,
    original_file_name: Option<String>,
    original_path: Option<String>,
    device_id: Option<String>,
    device_asset_id: Option<String>,
    kind: Option<String>,
    visibility: Option<String>,
    is_favorite: Option<bool>,
    is_offline: Option<bool>,
    is_motion: Option<bool>,
    is_not_in_album: bool,
    with_deleted: bool,
    album_ids: Vec<String>,
    /// (field, after, before)
    ranges: Vec<(&'static str, Option<OffsetDateTime>, Option<OffsetDateTime>)>,
    ascending: bool,
    page: i64,
    size: i64,
}

fn parse(profile: Profile, body: &Value) -> Result<Filter, crate::errors::ApiError> {
    let mut c = Checker::new(profile, Source::Json);
    let mut f = Filter {
        checksum: c.string(&key("checksum"), body.get("checksum"), false, false),
        id: c.uuid(&key("id"), body.get("id"), false),
        original_file_name: c.string(
            &key("originalFileName"),
            body.get("originalFileName"),
            false,
            false,
        ),
        original_path: c.string(&key("originalPath"), body.get("originalPath"), false, false),
        kind: c.one_of(&key("type"), body.get("type"), TYPES),
        visibility: c.one_of(&key("visibility"), body.get("visibility"), VISIBILITIES),
        is_favorite: c.boolean(&key("isFavorite"), body.get("isFavorite")),
        is_offline: c.boolean(&key("isOffline"), body.get("isOffline")),
        is_motion: c.boolean(&key("isMotion"), body.get("isMotion")),
        ..Filter::default()
    };
    if profile == Profile::V2 {
        f.device_id = c.string(&key("deviceId"), body.get("deviceId"), false, false);
        f.device_asset_id = c.string(
            &key("deviceAssetId"),
            body.get("deviceAssetId"),
            false,
            false,
        );
    }
    for flag in ["withExif", "withStacked", "withPeople", "isEncoded"] {
        c.boolean(&key(flag), body.get(flag));
    }
    f.is_not_in_album = c
        .boolean(&key("isNotInAlbum"), body.get("isNotInAlbum"))
        .unwrap_or(false);
    f.with_deleted = c
        .boolean(&key("withDeleted"), body.get("withDeleted"))
        .unwrap_or(false);
    if body.get("albumIds").is_some_and(|v| !v.is_null()) {
        f.album_ids = c
            .uuid_array(&key("albumIds"), body.get("albumIds"))
            .unwrap_or_default();
    }
    for (field, after, before) in [
        ("createdAt", "createdAfter", "createdBefore"),
        ("updatedAt", "updatedAfter", "updatedBefore"),
        ("deletedAt", "trashedAfter", "trashedBefore"),
        ("fileCreatedAt", "takenAfter", "takenBefore"),
    ] {
        let a = c.date(&key(after), body.get(after), false);
        let b = c.date(&key(before), body.get(before), false);
        if a.is_some() || b.is_some() {
            f.ranges.push((field, a, b));
            if field == "deletedAt" {
                f.with_deleted = true;
            }
        }
    }
    if f.is_offline.is_some() {
        f.with_deleted = true;
    }
    f.ascending = c
        .one_of(&key("order"), body.get("order"), &["asc", "desc"])
        .as_deref()
        == Some("asc");
    f.page = c
        .integer(&key("page"), body.get("page"), 1, 9_007_199_254_740_991)
        .unwrap_or(1);
    f.size = c
        .integer(&key("size"), body.get("size"), 1, 1000)
        .unwrap_or(250);
    c.finish()?;
    Ok(f)
}

/// Which assets the album filters let through.
enum Albums {
    Any,
    /// In every listed album.
    InAll(HashSet<String>),
    /// In no album at all.
    InNone(HashSet<String>),
}

impl Albums {
    fn new(f: &Filter, state: &Data) -> Self {
        if !f.album_ids.is_empty() {
            let mut common: Option<HashSet<String>> = None;
            for id in &f.album_ids {
                let members: HashSet<String> = state
                    .albums
                    .get(id)
                    .map(|a| a.asset_ids.iter().cloned().collect())
                    .unwrap_or_default();
                common = Some(match common {
                    None => members,
                    Some(c) => c.intersection(&members).cloned().collect(),
                });
            }
            Albums::InAll(common.unwrap_or_default())
        } else if f.is_not_in_album {
            Albums::InNone(
                state
                    .albums
                    .values()
                    .flat_map(|a| a.asset_ids.iter().cloned())
                    .collect(),
            )
        } else {
            Albums::Any
        }
    }

    fn allows(&self, id: &str) -> bool {
        match self {
            Albums::Any => true,
            Albums::InAll(ids) => ids.contains(id),
            Albums::InNone(ids) => !ids.contains(id),
        }
    }
}

fn matches(profile: Profile, f: &Filter, albums: &Albums, a: &Asset) -> bool {
    let contains = |hay: &str, needle: &Option<String>| {
        needle
            .as_ref()
            .is_none_or(|n| hay.to_lowercase().contains(&n.to_lowercase()))
    };
    if a.is_trashed() && !f.with_deleted {
        return false;
    }
    let visible = match &f.visibility {
        Some(v) => &a.visibility == v,
        None if profile == Profile::V2 => a.visibility == "timeline",
        None => a.visibility != "locked",
    };
    let checksum_ok = f
        .checksum
        .as_ref()
        .is_none_or(|c| decode_checksum(c) == Some(a.checksum));
    let ranges_ok = f.ranges.iter().all(|(field, after, before)| {
        let value = match *field {
            "createdAt" => Some(a.created_at),
            "updatedAt" => Some(a.updated_at),
            "deletedAt" => a.deleted_at,
            _ => Some(a.file_created_at),
        };
        value.is_some_and(|v| after.is_none_or(|t| v >= t) && before.is_none_or(|t| v <= t))
    });
    visible
        && checksum_ok
        && ranges_ok
        && albums.allows(&a.id)
        && f.is_offline != Some(true)
        && f.is_motion != Some(true)
        && f.id.as_ref().is_none_or(|id| &a.id == id)
        && f.kind.as_ref().is_none_or(|k| a.kind.as_str() == k)
        && f.is_favorite.is_none_or(|fav| a.is_favorite == fav)
        && f.device_id
            .as_ref()
            .is_none_or(|d| a.device_id.as_ref() == Some(d))
        && f.device_asset_id
            .as_ref()
            .is_none_or(|d| a.device_asset_id.as_ref() == Some(d))
        && contains(&a.original_file_name, &f.original_file_name)
        && contains(&a.stored_path.to_string_lossy(), &f.original_path)
}

pub(crate) async fn metadata(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("asset.read"))?;
            let body = json_body(&headers, &body)?;
            let filter = parse(app.profile, &body)?;
            let state = app.lock();
            let albums = Albums::new(&filter, &state);
            let mut found: Vec<&Asset> = state
                .assets
                .values()
                .filter(|a| {
                    a.owner_id == caller.user_id && matches(app.profile, &filter, &albums, a)
                })
                .collect();
            found.sort_by(|x, y| {
                let order = x
                    .file_created_at
                    .cmp(&y.file_created_at)
                    .then_with(|| x.id.cmp(&y.id));
                if filter.ascending {
                    order
                } else {
                    order.reverse()
                }
            });
            let size = filter.size as usize;
            let skip = (filter.page as usize - 1).saturating_mul(size);
            let items: Vec<Value> = found
                .iter()
                .skip(skip)
                .take(size)
                .map(|a| dto::asset(app.profile, a))
                .collect();
            let has_next = found.len() > skip.saturating_add(size);
            let count = items.len();
            Ok(ok_json(json!({
                "assets": {
                    "items": items,
                    "count": count,
                    "total": count,
                    "nextPage": if has_next { json!((filter.page + 1).to_string()) } else { Value::Null },
                    "facets": [],
                },
                "albums": { "items": [], "count": 0, "total": 0, "facets": [] },
            })))
        })(),
    )
}
