//! Tags: `GET /tags`, `PUT /tags` (upsert) and `PUT /tags/assets` (tag many assets).
//!
//! As in Immich:
//! - a tag is a path such as `Places/Paris`; every level is a tag of its own, `value` is the
//!   full path and `name` its last part, and a tag is unique per owner and value;
//! - `PUT /tags {"tags":[...]}` answers 200 with the requested tags in the order asked, making
//!   the missing levels and reusing the caller's existing ones. Repeated paths are answered
//!   once, empty parts are dropped (`a//b/` is `a/b`) and a path with no parts at all (`"/"`,
//!   or `""`, which only v3 lets through) gives no entry, so the answer can be shorter than
//!   the request;
//! - `PUT /tags/assets {"tagIds":[...],"assetIds":[...]}` links every tag to every asset and
//!   answers `{count}`, the number of links that did not exist yet. Immich checks these ids
//!   with `checkAccess`, not `requireAccess`: ids the caller cannot use (another user's tag or
//!   asset, a locked asset, an id that does not exist) are skipped, not refused, so the answer
//!   is still 200. Trashed assets can be tagged;
//! - `GET /tags` lists the caller's tags ordered by value (here by byte order; the real
//!   server sorts with the database's collation).
//!
//! `PUT /tags` needs `tag.create`, `PUT /tags/assets` `tag.asset` and `GET /tags` `tag.read`.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{App, json_body, ok_json};
use crate::auth::authenticate;
use crate::dto;
use crate::errors::reply;
use crate::fields::{Checker, Source, key};
use crate::state::{State as Data, Tag};

pub(crate) async fn list(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("tag.read"))?;
            let state = app.lock();
            let mut tags: Vec<&Tag> = state
                .tags
                .values()
                .filter(|t| t.owner_id == caller.user_id)
                .collect();
            tags.sort_by(|a, b| a.value.cmp(&b.value));
            Ok(ok_json(Value::Array(
                tags.into_iter().map(dto::tag).collect(),
            )))
        })(),
    )
}

pub(crate) async fn upsert(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("tag.create"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let paths = c.string_array(&key("tags"), body.get("tags"));
            c.finish()?;
            let mut unique: Vec<String> = Vec::new();
            for path in paths.unwrap_or_default() {
                if !unique.contains(&path) {
                    unique.push(path);
                }
            }
            let now = OffsetDateTime::now_utc();
            let mut state = app.lock();
            let ids: Vec<String> = unique
                .iter()
                .filter_map(|path| state.upsert_tag(&caller.user_id, path, now))
                .collect();
            let body: Vec<Value> = ids
                .iter()
                .filter_map(|id| state.tags.get(id))
                .map(dto::tag)
                .collect();
            Ok(ok_json(Value::Array(body)))
        })(),
    )
}

/// Whether the caller may tag the asset (Immich's `asset.update` access for an API key): their
/// own asset, trashed or not, unless it is in the locked folder.
fn can_tag(state: &Data, owner_id: &str, asset_id: &str) -> bool {
    state
        .owned(owner_id, asset_id)
        .is_some_and(|a| a.visibility != "locked")
}

pub(crate) async fn tag_assets(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    reply(
        app.profile,
        (|| {
            let caller = authenticate(&app, &headers, uri.query(), Some("tag.asset"))?;
            let body = json_body(&headers, &body)?;
            let mut c = Checker::new(app.profile, Source::Json);
            let tag_ids = c.uuid_array(&key("tagIds"), body.get("tagIds"));
            let asset_ids = c.uuid_array(&key("assetIds"), body.get("assetIds"));
            c.finish()?;
            let mut state = app.lock();
            let tags: BTreeSet<String> = tag_ids
                .unwrap_or_default()
                .into_iter()
                .filter(|id| {
                    state
                        .tags
                        .get(id)
                        .is_some_and(|t| t.owner_id == caller.user_id)
                })
                .collect();
            let assets: BTreeSet<String> = asset_ids
                .unwrap_or_default()
                .into_iter()
                .filter(|id| can_tag(&state, &caller.user_id, id))
                .collect();
            let mut count = 0;
            for asset_id in assets.into_iter().filter(|_| !tags.is_empty()) {
                let links = state.tag_assets.entry(asset_id).or_default();
                for tag_id in &tags {
                    if links.insert(tag_id.clone()) {
                        count += 1;
                    }
                }
            }
            Ok(ok_json(json!({ "count": count })))
        })(),
    )
}
