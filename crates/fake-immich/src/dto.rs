//! JSON shapes of the response objects (`AssetResponseDto`, `UserAdminResponseDto`,
//! `ApiKeyResponseDto`), including where v2 and v3 differ: v2 carries `deviceAssetId` and
//! `deviceId` and a string `duration`; v3 drops the device fields and gives `duration` as
//! integer milliseconds or `null`.

use serde_json::{Value, json};

use crate::Profile;
use crate::state::{ApiKey, Asset, AssetKind, User, mime_type};
use crate::validate::{checksum_base64, iso};

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
            "description": a.sidecar_metadata.description,
            "rating": a.sidecar_metadata.rating,
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
