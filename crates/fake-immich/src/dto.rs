//! JSON shapes of the response objects (`AssetResponseDto`, `AlbumResponseDto`,
//! `StackResponseDto`, `TagResponseDto`, `UserAdminResponseDto`, `ApiKeyResponseDto`),
//! including where v2 and v3 differ: v2 carries `deviceAssetId` and `deviceId` and a string
//! `duration`; v3 drops the device fields and gives `duration` as integer milliseconds or
//! `null`. A v2 album names its owner (`owner`, `ownerId`) and embeds its `assets`; a v3 album
//! does neither and lists the owner as the first of its `albumUsers` instead.

use serde_json::{Value, json};

use crate::Profile;
use crate::state::{Album, ApiKey, Asset, AssetKind, Stack, State, Tag, User, mime_type};
use crate::validate::{checksum_base64, iso};

/// `AssetResponseDto` as `GET /assets/{id}` gives it: with `stack` (`{id, primaryAssetId,
/// assetCount}`, counting the members not in the trash, or `null`) and the asset's `tags`.
pub(crate) fn asset_in_full(profile: Profile, a: &Asset, state: &State) -> Value {
    let mut v = asset(profile, a);
    v["tags"] = state.tags_of(&a.id).into_iter().map(tag).collect();
    let stack = match state.stack_of(&a.id) {
        Some(s) => json!({
            "id": s.id,
            "primaryAssetId": s.primary_asset_id,
            "assetCount": live_members(s, state).count(),
        }),
        None => Value::Null,
    };
    v["stack"] = stack;
    v
}

/// The stack's members that are not in the trash and are on the timeline or archived, the
/// primary first: what Immich shows of a stack.
fn live_members<'a>(s: &'a Stack, state: &'a State) -> impl Iterator<Item = &'a Asset> {
    s.asset_ids
        .iter()
        .filter_map(|id| state.assets.get(id))
        .filter(|a| !a.is_trashed() && matches!(a.visibility.as_str(), "timeline" | "archive"))
}

/// `StackResponseDto`.
pub(crate) fn stack(profile: Profile, s: &Stack, state: &State) -> Value {
    let assets: Vec<Value> = live_members(s, state).map(|a| asset(profile, a)).collect();
    json!({
        "id": s.id,
        "primaryAssetId": s.primary_asset_id,
        "assets": assets,
    })
}

/// `TagResponseDto`: `name` is the last part of the path, `value` the whole path; `parentId`
/// and `color` are left out when there are none, as Immich's `mapTag` leaves them undefined.
pub(crate) fn tag(t: &Tag) -> Value {
    let mut v = json!({
        "id": t.id,
        "name": t.name(),
        "value": t.value,
        "createdAt": iso(t.created_at),
        "updatedAt": iso(t.updated_at),
    });
    if let Some(parent) = &t.parent_id {
        v["parentId"] = json!(parent);
    }
    v
}

/// `UserResponseDto`, the short form albums use.
pub(crate) fn user_brief(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "avatarColor": "primary",
        "profileImagePath": "",
        "profileChangedAt": iso(u.created_at),
    })
}

/// `AlbumResponseDto`. `assetCount`, the dates and (v2, `with_assets`) the embedded assets
/// cover the members that are not in the trash, as Immich counts them; v2's embedded assets
/// are also limited to the timeline and the archive and come newest first.
pub(crate) fn album(profile: Profile, album: &Album, state: &State, with_assets: bool) -> Value {
    let live: Vec<&Asset> = album
        .asset_ids
        .iter()
        .filter_map(|id| state.assets.get(id))
        .filter(|a| !a.is_trashed())
        .collect();
    let owner = state.users.get(&album.owner_id).map(user_brief);
    let mut v = json!({
        "id": album.id,
        "albumName": album.name,
        "description": album.description,
        "albumThumbnailAssetId": album.thumbnail_asset_id,
        "createdAt": iso(album.created_at),
        "updatedAt": iso(album.updated_at),
        "shared": false,
        "hasSharedLink": false,
        "isActivityEnabled": true,
        "order": "desc",
        "assetCount": live.len(),
    });
    let obj = v.as_object_mut().expect("object literal");
    if let (Some(start), Some(end)) = (
        live.iter().map(|a| a.file_created_at).min(),
        live.iter().map(|a| a.file_created_at).max(),
    ) {
        obj.insert("startDate".into(), json!(iso(start)));
        obj.insert("endDate".into(), json!(iso(end)));
    }
    if let Some(modified) = live.iter().map(|a| a.updated_at).max() {
        obj.insert("lastModifiedAssetTimestamp".into(), json!(iso(modified)));
    }
    match profile {
        Profile::V2 => {
            obj.insert("ownerId".into(), json!(album.owner_id));
            obj.insert("owner".into(), owner.unwrap_or(Value::Null));
            obj.insert("albumUsers".into(), json!([]));
            let mut shown: Vec<&Asset> = if with_assets {
                live.iter()
                    .copied()
                    .filter(|a| matches!(a.visibility.as_str(), "timeline" | "archive"))
                    .collect()
            } else {
                Vec::new()
            };
            shown.sort_by_key(|a| std::cmp::Reverse(a.file_created_at));
            let assets: Vec<Value> = shown.into_iter().map(|a| asset(profile, a)).collect();
            obj.insert("assets".into(), json!(assets));
        }
        Profile::V3 => {
            let users = match owner {
                Some(user) => json!([{ "user": user, "role": "owner" }]),
                None => json!([]),
            };
            obj.insert("albumUsers".into(), users);
        }
    }
    v
}

pub(crate) fn asset(profile: Profile, a: &Asset) -> Value {
    let mut v = json!({
        "id": a.id,
        "ownerId": a.owner_id,
        "libraryId": null,
        "type": a.kind.as_str(),
        "originalPath": a.stored_path.to_string_lossy(),
        "originalFileName": a.original_file_name,
        "originalMimeType": mime_type(&a.original_file_name),
        "thumbhash": null,
        "fileCreatedAt": iso(a.file_created_at),
        "fileModifiedAt": iso(a.file_modified_at),
        "localDateTime": iso(a.file_created_at),
        "createdAt": iso(a.created_at),
        "updatedAt": iso(a.updated_at),
        "isFavorite": a.is_favorite,
        "isArchived": a.visibility == "archive",
        "isTrashed": a.is_trashed(),
        "isOffline": false,
        "isEdited": false,
        "hasMetadata": true,
        "visibility": a.visibility,
        "checksum": checksum_base64(&a.checksum),
        "livePhotoVideoId": a.live_photo_video_id,
        "duplicateId": null,
        "width": null,
        "height": null,
        "people": [],
        "tags": [],
        "exifInfo": {
            "description": a.exif.description,
            "rating": a.exif.rating,
            "dateTimeOriginal": a.exif.date_time_original.map(iso),
            "latitude": a.exif.latitude,
            "longitude": a.exif.longitude,
        },
    });
    let obj = v.as_object_mut().expect("object literal");
    match profile {
        Profile::V2 => {
            let fallback_device_asset_id = format!("{}-{}", a.original_file_name, a.size);
            obj.insert(
                "deviceAssetId".into(),
                json!(
                    a.device_asset_id
                        .clone()
                        .unwrap_or(fallback_device_asset_id)
                ),
            );
            obj.insert(
                "deviceId".into(),
                json!(a.device_id.as_deref().unwrap_or("WEB")),
            );
            let duration = a
                .duration_text
                .clone()
                .unwrap_or_else(|| "0:00:00.00000".into());
            obj.insert("duration".into(), json!(duration));
            obj.insert("resized".into(), json!(true));
            obj.insert("stack".into(), Value::Null);
        }
        Profile::V3 => {
            let duration = match a.kind {
                AssetKind::Video => json!(a.duration_ms.unwrap_or(0)),
                AssetKind::Image => json!(a.duration_ms),
            };
            obj.insert("duration".into(), duration);
        }
    }
    v
}

pub(crate) fn user(u: &User, usage: u64) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "isAdmin": u.is_admin,
        "avatarColor": "primary",
        "profileImagePath": "",
        "profileChangedAt": iso(u.created_at),
        "shouldChangePassword": false,
        "storageLabel": if u.is_admin { json!("admin") } else { Value::Null },
        "oauthId": "",
        "createdAt": iso(u.created_at),
        "updatedAt": iso(u.created_at),
        "deletedAt": null,
        "status": "active",
        "quotaSizeInBytes": u.quota,
        "quotaUsageInBytes": usage,
        "license": null,
    })
}

pub(crate) fn api_key(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "permissions": k.permissions,
        "createdAt": iso(k.created_at),
        "updatedAt": iso(k.created_at),
    })
}
