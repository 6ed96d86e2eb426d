//! `POST /assets`: the multipart upload, streamed to disk while hashed, never held in memory.
//!
//! The order of decisions follows Immich: authentication; the `x-immich-checksum` early
//! answer (200 `duplicate` before the body is read, then the connection is closed); the
//! extension check when a file part starts (by the `filename` field if it came first, else by
//! the part's filename); after the whole body, the missing-file check, field validation (v2
//! class-validator or v3 zod rules), v3.1's `File is empty`, the live-photo checks, the quota,
//! the live-photo link's effect on the video, and finally the duplicate check by the content's
//! SHA-1 (trashed assets included).
//!
//! `livePhotoVideoId` must name a video of the caller (else 400 `Live photo video not found`,
//! `Live photo video must be a video` or `Live photo video does not belong to the user`). The
//! video is then hidden and taken out of its albums, even when the still turns out to be a
//! duplicate (Immich hides it before it creates the row); a new still keeps the link.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Extension, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::{App, check_motion_video, ok_json};
use crate::Profile;
use crate::auth::{Caller, authenticate};
use crate::errors::{ApiError, reply};
use crate::fields::{Checker, Source, key};
use crate::record::{MultipartField, RecordSlot, RecordedBody};
use crate::state::{Asset, AssetKind, Exif, extension};
use crate::validate::decode_checksum;

const VISIBILITIES: &[&str] = &["archive", "timeline", "hidden", "locked"];
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// A file that is deleted when dropped unless kept.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        TempFile { path, keep: false }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file part received in full.
struct Received {
    file: TempFile,
    size: u64,
    sha1: [u8; 20],
    part_name: String,
}

/// What the body carried, as far as it was read.
#[derive(Default)]
struct Form {
    texts: HashMap<String, String>,
    fields: Vec<MultipartField>,
    asset: Option<Received>,
    sidecar: Option<Received>,
    /// The name the extension check accepted.
    checked_name: Option<String>,
}

impl Form {
    fn record(&mut self, name: &str, file_name: Option<&str>, text: Option<&str>, len: u64) {
        self.fields.push(MultipartField {
            name: name.to_string(),
            file_name: file_name.map(str::to_string),
            text: text.map(str::to_string),
            len,
        });
    }
}

pub(crate) async fn upload(
    State(app): State<App>,
    Extension(slot): Extension<RecordSlot>,
    request: Request,
) -> Response {
    let profile = app.profile;
    reply(profile, receive(&app, &slot, request).await)
}

async fn receive(app: &App, slot: &RecordSlot, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let caller = authenticate(app, &parts.headers, parts.uri.query(), Some("asset.upload"))?;
    if let Some(existing) = early_duplicate(app, &caller, &parts.headers) {
        slot.set(RecordedBody::Other(0));
        let mut response = ok_json(json!({ "id": existing, "status": "duplicate" }));
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Ok(response);
    }
    let request = Request::from_parts(parts, body);
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::bad_request("Multipart: Boundary not found"))?;
    let mut form = Form::default();
    let outcome = read_parts(app, &mut multipart, &mut form).await;
    slot.set(RecordedBody::Multipart(form.fields.clone()));
    outcome?;
    finish(app, &caller, form).await
}

/// The id of the caller's asset whose checksum the `x-immich-checksum` header names.
fn early_duplicate(app: &App, caller: &Caller, headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-immich-checksum")?.to_str().ok()?;
    let sum = decode_checksum(value.trim())?;
    app.lock()
        .by_checksum(&caller.user_id, &sum)
        .map(|asset| asset.id.clone())
}

fn malformed(err: MultipartError) -> ApiError {
    ApiError::bad_request(err.body_text())
}

async fn read_parts(app: &App, multipart: &mut Multipart, form: &mut Form) -> Result<(), ApiError> {
    // After a rejected file part the rest of the body is still read (and discarded), as
    // multer drains the request before the error is answered.
    let mut failure: Option<ApiError> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(failure.unwrap_or_else(|| malformed(err))),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        if failure.is_some() {
            let len = drain(&mut field).await.unwrap_or(0);
            form.record(&name, file_name.as_deref(), None, len);
            continue;
        }
        let Some(part_name) = file_name else {
            let text = field.text().await.map_err(malformed)?;
            form.record(&name, None, Some(&text), text.len() as u64);
            form.texts.insert(name, text);
            continue;
        };
        let rejection = match name.as_str() {
            "assetData" if form.asset.is_none() => {
                let checked = form
                    .texts
                    .get("filename")
                    .cloned()
                    .unwrap_or_else(|| part_name.clone());
                if app.lock().media.kind_of(&checked).is_some() {
                    form.checked_name = Some(checked);
                    None
                } else {
                    Some(ApiError::bad_request(format!(
                        "Unsupported file type {checked}"
                    )))
                }
            }
            "sidecarData" if form.sidecar.is_none() => (!app.lock().media.is_sidecar(&part_name))
                .then(|| ApiError::bad_request(format!("Unsupported file type {part_name}"))),
            _ => Some(ApiError::bad_request("Unexpected field")),
        };
        if let Some(err) = rejection {
            failure = Some(err);
            let len = drain(&mut field).await.unwrap_or(0);
            form.record(&name, Some(&part_name), None, len);
            continue;
        }
        let received = stream_to_disk(app, &mut field, part_name).await?;
        form.record(&name, Some(&received.part_name), None, received.size);
        if name == "assetData" {
            form.asset = Some(received);
        } else {
            form.sidecar = Some(received);
        }
    }
    failure.map_or(Ok(()), Err)
}

async fn drain(field: &mut Field<'_>) -> Result<u64, MultipartError> {
    let mut len = 0;
    while let Some(chunk) = field.chunk().await? {
        len += chunk.len() as u64;
    }
    Ok(len)
}

async fn stream_to_disk(
    app: &App,
    field: &mut Field<'_>,
    part_name: String,
) -> Result<Received, ApiError> {
    let dir = app.incoming_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let file = TempFile::new(dir.join(uuid::Uuid::new_v4().to_string()));
    let out = tokio::fs::File::create(file.path())
        .await
        .map_err(ApiError::internal)?;
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut hasher = Sha1::new();
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        hasher.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(Received {
        file,
        size,
        sha1: hasher.finalize().into(),
        part_name,
    })
}

/// The validated text fields.
struct Fields {
    file_created_at: OffsetDateTime,
    file_modified_at: OffsetDateTime,
    device_asset_id: Option<String>,
    device_id: Option<String>,
    duration_text: Option<String>,
    duration_ms: Option<u64>,
    is_favorite: bool,
    visibility: String,
    live_photo_video_id: Option<String>,
}

fn validate_fields(profile: Profile, texts: &HashMap<String, String>) -> Result<Fields, ApiError> {
    let values: HashMap<&str, Value> = texts
        .iter()
        .map(|(k, v)| (k.as_str(), Value::String(v.clone())))
        .collect();
    let get = |name: &str| values.get(name);
    let mut c = Checker::new(profile, Source::Form);
    let (device_asset_id, device_id) = match profile {
        Profile::V2 => (
            c.string(&key("deviceAssetId"), get("deviceAssetId"), true, true),
            c.string(&key("deviceId"), get("deviceId"), true, true),
        ),
        Profile::V3 => (None, None),
    };
    let created = c.date(&key("fileCreatedAt"), get("fileCreatedAt"), true);
    let modified = c.date(&key("fileModifiedAt"), get("fileModifiedAt"), true);
    let (duration_text, duration_ms) = match profile {
        Profile::V2 => (
            c.string(&key("duration"), get("duration"), false, false),
            None,
        ),
        Profile::V3 => (
            None,
            c.integer(&key("duration"), get("duration"), 0, MAX_SAFE_INTEGER)
                .map(|ms| ms as u64),
        ),
    };
    let is_favorite = c.boolean(&key("isFavorite"), get("isFavorite"));
    let visibility = c.one_of(&key("visibility"), get("visibility"), VISIBILITIES);
    let live_photo_video_id = c.uuid(&key("livePhotoVideoId"), get("livePhotoVideoId"), false);
    c.string(&key("filename"), get("filename"), false, false);
    if let Some(metadata) = texts.get("metadata") {
        if !metadata_ok(metadata) {
            c.custom(
                &key("metadata"),
                "must be an array of { key, value } objects",
                "invalid_type",
                "Invalid input: expected array of { key, value } objects",
            );
        }
    }
    c.finish()?;
    let (Some(file_created_at), Some(file_modified_at)) = (created, modified) else {
        return Err(ApiError::internal("validated dates missing"));
    };
    Ok(Fields {
        file_created_at,
        file_modified_at,
        device_asset_id,
        device_id,
        duration_text,
        duration_ms,
        is_favorite: is_favorite.unwrap_or(false),
        visibility: visibility.unwrap_or_else(|| "timeline".into()),
        live_photo_video_id,
    })
}

/// `metadata` is a JSON string holding `[{"key": "...", "value": {...}}]`.
fn metadata_ok(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items.iter().all(|item| {
            item.get("key").is_some_and(Value::is_string)
                && item.get("value").is_some_and(Value::is_object)
        }),
        _ => false,
    }
}

async fn finish(app: &App, caller: &Caller, form: Form) -> Result<Response, ApiError> {
    let Form {
        texts,
        asset,
        sidecar,
        checked_name,
        ..
    } = form;
    let Some(asset) = asset else {
        return Err(ApiError::bad_request(
            "Field(s) assetData should not be empty",
        ));
    };
    let fields = validate_fields(app.profile, &texts)?;
    if app.profile == Profile::V3 && asset.size == 0 {
        return Err(ApiError::bad_request("File is empty"));
    }
    if let Some(video_id) = &fields.live_photo_video_id {
        check_motion_video(&app.lock(), &caller.user_id, video_id)?;
    }
    let checked_name = checked_name.unwrap_or_else(|| asset.part_name.clone());
    let kind = app
        .lock()
        .media
        .kind_of(&checked_name)
        .unwrap_or(AssetKind::Image);
    let original_file_name = texts
        .get("filename")
        .filter(|name| !name.is_empty())
        .cloned()
        .unwrap_or_else(|| asset.part_name.clone());

    // Move the file to its final place before taking the lock; it is removed again if the
    // upload turns out to be over quota or a duplicate.
    let id = uuid::Uuid::new_v4().to_string();
    let owner_dir = app.owner_dir(&caller.user_id);
    tokio::fs::create_dir_all(&owner_dir)
        .await
        .map_err(ApiError::internal)?;
    let ext = extension(&original_file_name)
        .or_else(|| extension(&asset.part_name))
        .unwrap_or_default();
    let stored = TempFile::new(owner_dir.join(format!("{id}{ext}")));
    tokio::fs::rename(asset.file.path(), stored.path())
        .await
        .map_err(ApiError::internal)?;
    asset.file.keep();
    set_mtime(stored.path(), fields.file_modified_at);
    let stored_sidecar = match sidecar {
        Some(sidecar) => {
            let target = TempFile::new(PathBuf::from(format!("{}.xmp", stored.path().display())));
            tokio::fs::rename(sidecar.file.path(), target.path())
                .await
                .map_err(ApiError::internal)?;
            sidecar.file.keep();
            Some(target)
        }
        None => None,
    };

    // Immich reads the sidecar during metadata extraction; the fake at once.
    let exif: Exif = match &stored_sidecar {
        Some(file) => tokio::fs::read_to_string(file.path())
            .await
            .map(|text| crate::xmp::read(&text).into())
            .unwrap_or_default(),
        None => Exif::default(),
    };
    let now = OffsetDateTime::now_utc();
    let mut state = app.lock();
    let quota = state.users.get(&caller.user_id).and_then(|u| u.quota);
    if let Some(quota) = quota {
        if state.usage(&caller.user_id).saturating_add(asset.size) > quota {
            return Err(ApiError::bad_request("Quota has been exceeded!"));
        }
    }
    if let Some(video_id) = &fields.live_photo_video_id {
        state.become_motion_part(video_id, now);
    }
    if let Some(existing) = state.by_checksum(&caller.user_id, &asset.sha1) {
        return Ok(ok_json(json!({ "id": existing.id, "status": "duplicate" })));
    }
    let seq = state.next_seq();
    state.insert(Asset {
        id: id.clone(),
        owner_id: caller.user_id.clone(),
        checksum: asset.sha1,
        original_file_name,
        size: asset.size,
        kind,
        visibility: fields.visibility,
        is_favorite: fields.is_favorite,
        file_created_at: fields.file_created_at,
        file_modified_at: fields.file_modified_at,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        device_asset_id: fields.device_asset_id,
        device_id: fields.device_id,
        duration_text: fields.duration_text,
        duration_ms: fields.duration_ms,
        live_photo_video_id: fields.live_photo_video_id,
        stored_path: stored.keep(),
        sidecar_path: stored_sidecar.map(TempFile::keep),
        exif,
        seq,
    });
    state.created_uploads += 1;
    drop(state);
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "status": "created" })),
    )
        .into_response())
}

/// The server sets the stored file's mtime to `fileModifiedAt`.
fn set_mtime(path: &Path, at: OffsetDateTime) {
    let at: SystemTime = at.into();
    if let Ok(file) = std::fs::File::options().write(true).open(path) {
        let _ = file.set_modified(at);
    }
}
