//! The server's data: users, API keys, assets (with their `exifInfo` edits and live-photo
//! links), albums, stacks, tags (and which assets carry them), media types and the request
//! log.
//!
//! Everything lives in memory behind one `std::sync::Mutex` that is never held across an
//! `.await`; uploaded files live on disk under the storage directory.
//!
//! What a purge does follows Immich's database cascades and its asset-deletion job: the asset
//! leaves every album and its stack (a purged primary hands the stack to the next asset, or
//! ends a stack of two), stills that used it as their motion part lose the link, a purged
//! still takes its motion video with it unless another still still uses that video, and the
//! asset's tag links go (the tags themselves stay).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use crate::Profile;
use crate::faults::Faults;
use crate::record::{RecordedBody, RecordedRequest};
use crate::validate::iso;

/// What the server task and the handle share.
pub(crate) struct Shared {
    pub profile: Profile,
    pub storage_dir: PathBuf,
    pub faults: Faults,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(profile: Profile, storage_dir: PathBuf) -> Self {
        Shared {
            profile,
            storage_dir,
            faults: Faults::default(),
            state: Mutex::new(State::new(profile)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where finished uploads of one owner are kept.
    pub(crate) fn owner_dir(&self, owner_id: &str) -> PathBuf {
        self.storage_dir.join(owner_id)
    }

    /// Where bodies are streamed to while they arrive.
    pub(crate) fn incoming_dir(&self) -> PathBuf {
        self.storage_dir.join(".incoming")
    }
}

pub(crate) struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub quota: Option<u64>,
    pub created_at: OffsetDateTime,
}

pub(crate) struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: OffsetDateTime,
}

impl ApiKey {
    pub(crate) fn allows(&self, permission: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p == "all" || p == permission)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssetKind {
    Image,
    Video,
}

impl AssetKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AssetKind::Image => "IMAGE",
            AssetKind::Video => "VIDEO",
        }
    }
}

pub(crate) struct Asset {
    pub id: String,
    pub owner_id: String,
    pub checksum: [u8; 20],
    pub original_file_name: String,
    pub size: u64,
    pub kind: AssetKind,
    pub visibility: String,
    pub is_favorite: bool,
    pub file_created_at: OffsetDateTime,
    pub file_modified_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub device_asset_id: Option<String>,
    pub device_id: Option<String>,
    /// As sent: a v2 string such as `"00:00:05.000"`.
    pub duration_text: Option<String>,
    /// As sent: v3 milliseconds.
    pub duration_ms: Option<u64>,
    pub live_photo_video_id: Option<String>,
    pub stored_path: PathBuf,
    pub sidecar_path: Option<PathBuf>,
    /// `exifInfo`: from the sidecar sent with the upload, then from `PUT /assets`.
    pub exif: Exif,
    /// Insertion order.
    pub seq: u64,
}

/// The part of `exifInfo` this server keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Exif {
    pub description: Option<String>,
    /// 1 to 5, or -1 (rejected).
    pub rating: Option<i64>,
    pub date_time_original: Option<OffsetDateTime>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<crate::xmp::SidecarMetadata> for Exif {
    fn from(sidecar: crate::xmp::SidecarMetadata) -> Self {
        Exif {
            description: sidecar.description,
            rating: sidecar.rating,
            ..Exif::default()
        }
    }
}

/// An album: a name and an ordered list of asset ids. Membership outlives the trash (a
/// trashed asset stays in its albums and is back on restore) but not a purge.
pub(crate) struct Album {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    /// `""` when none was given, as Immich answers.
    pub description: String,
    /// In the order they were added.
    pub asset_ids: Vec<String>,
    pub thumbnail_asset_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub seq: u64,
}

/// A stack: a primary asset and the others shown behind it.
pub(crate) struct Stack {
    pub id: String,
    pub owner_id: String,
    pub primary_asset_id: String,
    /// Every member, the primary first.
    pub asset_ids: Vec<String>,
    pub seq: u64,
}

/// A tag: a path of names such as `Places/Paris`, kept per owner. Each level is a tag of its
/// own (`Places` is the parent of `Places/Paris`); `value` is the full path, unique per owner.
pub(crate) struct Tag {
    pub id: String,
    pub owner_id: String,
    pub value: String,
    pub parent_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Tag {
    /// The last part of the path, as `TagResponseDto.name` gives it.
    pub(crate) fn name(&self) -> &str {
        self.value.rsplit('/').next().unwrap_or(&self.value)
    }
}

/// An asset as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSnapshot {
    pub id: String,
    pub owner_id: String,
    /// SHA-1 of the content, 40 lower-case hex digits.
    pub checksum_hex: String,
    pub original_file_name: String,
    pub is_trashed: bool,
    pub is_favorite: bool,
    pub size: u64,
    /// UTC, millisecond precision (`2024-05-01T08:00:00.000Z`), as the server stores it.
    pub file_created_at: String,
    pub file_modified_at: String,
    /// When the asset was added to the server (`createdAt`).
    pub created_at: String,
    /// Only v2 stores the device fields; `None` on v3 and for [`crate::FakeImmich::insert_asset`].
    pub device_asset_id: Option<String>,
    pub device_id: Option<String>,
    pub stored_path: PathBuf,
    /// `exifInfo.description`: from the sidecar sent with the upload, or the latest
    /// `PUT /assets`.
    pub description: Option<String>,
    /// `exifInfo.rating` (1 to 5, -1 for rejected), from the sidecar or the latest update.
    pub rating: Option<i64>,
    /// For a live photo's still: the id of its motion video.
    pub live_photo_video_id: Option<String>,
    /// `timeline`, `archive`, `hidden` (a live photo's motion video) or `locked`.
    pub visibility: String,
    /// `exifInfo.dateTimeOriginal` as set by `PUT /assets` (UTC, millisecond precision);
    /// `None` until then.
    pub date_time_original: Option<String>,
    /// `exifInfo.latitude`/`longitude` as set by `PUT /assets`.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The values (full paths, e.g. `Places/Paris`) of the tags on the asset, sorted.
    pub tags: Vec<String>,
}

/// An album as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumSnapshot {
    pub id: String,
    pub name: String,
    /// In the order they were added; trashed assets stay members until purged.
    pub asset_ids: Vec<String>,
}

/// A stack as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSnapshot {
    pub id: String,
    pub primary_asset_id: String,
    /// Every member (trashed ones too), the primary first.
    pub asset_ids: Vec<String>,
}

impl Asset {
    pub(crate) fn is_trashed(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub(crate) fn snapshot(&self, state: &State) -> AssetSnapshot {
        AssetSnapshot {
            id: self.id.clone(),
            owner_id: self.owner_id.clone(),
            checksum_hex: hex::encode(self.checksum),
            original_file_name: self.original_file_name.clone(),
            is_trashed: self.is_trashed(),
            is_favorite: self.is_favorite,
            size: self.size,
            file_created_at: iso(self.file_created_at),
            file_modified_at: iso(self.file_modified_at),
            created_at: iso(self.created_at),
            device_asset_id: self.device_asset_id.clone(),
            device_id: self.device_id.clone(),
            stored_path: self.stored_path.clone(),
            description: self.exif.description.clone(),
            rating: self.exif.rating,
            live_photo_video_id: self.live_photo_video_id.clone(),
            visibility: self.visibility.clone(),
            date_time_original: self.exif.date_time_original.map(iso),
            latitude: self.exif.latitude,
            longitude: self.exif.longitude,
            tags: state
                .tags_of(&self.id)
                .into_iter()
                .map(|t| t.value.clone())
                .collect(),
        }
    }
}

impl Album {
    pub(crate) fn snapshot(&self) -> AlbumSnapshot {
        AlbumSnapshot {
            id: self.id.clone(),
            name: self.name.clone(),
            asset_ids: self.asset_ids.clone(),
        }
    }

    pub(crate) fn contains(&self, asset_id: &str) -> bool {
        self.asset_ids.iter().any(|a| a == asset_id)
    }

    /// Takes the assets out; the thumbnail moves to the first asset left.
    pub(crate) fn remove(&mut self, ids: &[&str]) {
        self.asset_ids.retain(|a| !ids.contains(&a.as_str()));
        if self
            .thumbnail_asset_id
            .as_deref()
            .is_some_and(|t| ids.contains(&t))
        {
            self.thumbnail_asset_id = self.asset_ids.first().cloned();
        }
    }
}

impl Stack {
    pub(crate) fn snapshot(&self) -> StackSnapshot {
        StackSnapshot {
            id: self.id.clone(),
            primary_asset_id: self.primary_asset_id.clone(),
            asset_ids: self.asset_ids.clone(),
        }
    }
}

/// The extensions the server accepts, as `GET /server/media-types` lists them.
pub(crate) struct MediaTypes {
    pub image: Vec<String>,
    pub video: Vec<String>,
    pub sidecar: Vec<String>,
}

const RAW_IMAGES: &[&str] = &[
    ".3fr", ".ari", ".arw", ".cap", ".cin", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".fff",
    ".iiq", ".k25", ".kdc", ".mrw", ".nef", ".nrw", ".orf", ".ori", ".pef", ".psd", ".raf", ".raw",
    ".rw2", ".rwl", ".sr2", ".srf", ".srw", ".x3f",
];
const OTHER_IMAGES: &[&str] = &[
    ".avif", ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp", ".heic", ".heif", ".hif", ".insp",
    ".jp2", ".jpe", ".jxl", ".svg", ".tif", ".tiff",
];
const VIDEOS: &[&str] = &[
    ".3gp", ".3gpp", ".avi", ".flv", ".insv", ".m2t", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4",
    ".mpe", ".mpeg", ".mpg", ".mts", ".vob", ".webm", ".wmv",
];

impl MediaTypes {
    /// v3.1's lists; v2.7.5 lacked `.mpo`, `.mxf` and `.ts`.
    pub(crate) fn defaults(profile: Profile) -> Self {
        let mut image: Vec<String> = RAW_IMAGES
            .iter()
            .chain(OTHER_IMAGES)
            .map(|e| e.to_string())
            .collect();
        let mut video: Vec<String> = VIDEOS.iter().map(|e| e.to_string()).collect();
        if profile == Profile::V3 {
            image.push(".mpo".into());
            video.push(".mxf".into());
            video.push(".ts".into());
        }
        MediaTypes {
            image,
            video,
            sidecar: vec![".xmp".into()],
        }
    }

    pub(crate) fn kind_of(&self, file_name: &str) -> Option<AssetKind> {
        let ext = extension(file_name)?;
        if self.image.contains(&ext) {
            Some(AssetKind::Image)
        } else if self.video.contains(&ext) {
            Some(AssetKind::Video)
        } else {
            None
        }
    }

    pub(crate) fn is_sidecar(&self, file_name: &str) -> bool {
        extension(file_name).is_some_and(|ext| self.sidecar.contains(&ext))
    }
}

/// Node's `path.extname`, lower-cased: from the last dot of the base name, unless the name
/// starts with it.
pub(crate) fn extension(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(0) | None => None,
        Some(i) => Some(base[i..].to_ascii_lowercase()),
    }
}

/// Normalises a configured extension to `.ext` in lower case.
pub(crate) fn normalise_extension(ext: &str) -> String {
    let ext = ext.trim().to_ascii_lowercase();
    if ext.starts_with('.') {
        ext
    } else {
        format!(".{ext}")
    }
}

pub(crate) struct State {
    pub users: HashMap<String, User>,
    /// By secret.
    pub keys: HashMap<String, ApiKey>,
    pub assets: HashMap<String, Asset>,
    /// Owner id → checksum → asset id: looked up thousands of times a request, without
    /// building a key.
    by_checksum: HashMap<String, HashMap<[u8; 20], String>>,
    pub albums: HashMap<String, Album>,
    pub stacks: HashMap<String, Stack>,
    pub tags: HashMap<String, Tag>,
    /// The tag links (Immich's `tag_asset` table): asset id → the ids of its tags.
    pub tag_assets: HashMap<String, BTreeSet<String>>,
    pub media: MediaTypes,
    requests: Vec<(u64, RecordedRequest)>,
    /// Whether requests are logged at all.
    pub record_requests: bool,
    pub created_uploads: usize,
    seq: u64,
}

impl State {
    fn new(profile: Profile) -> Self {
        State {
            users: HashMap::new(),
            keys: HashMap::new(),
            assets: HashMap::new(),
            by_checksum: HashMap::new(),
            albums: HashMap::new(),
            stacks: HashMap::new(),
            tags: HashMap::new(),
            tag_assets: HashMap::new(),
            media: MediaTypes::defaults(profile),
            requests: Vec::new(),
            record_requests: true,
            created_uploads: 0,
            seq: 0,
        }
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Bytes the user's assets take, trashed ones included (they count until purged).
    pub(crate) fn usage(&self, user_id: &str) -> u64 {
        self.assets
            .values()
            .filter(|a| a.owner_id == user_id)
            .map(|a| a.size)
            .sum()
    }

    /// The owner's asset with this content, trashed included.
    pub(crate) fn by_checksum(&self, owner_id: &str, checksum: &[u8; 20]) -> Option<&Asset> {
        self.by_checksum
            .get(owner_id)
            .and_then(|sums| sums.get(checksum))
            .and_then(|id| self.assets.get(id))
    }

    pub(crate) fn insert(&mut self, asset: Asset) {
        self.by_checksum
            .entry(asset.owner_id.clone())
            .or_default()
            .insert(asset.checksum, asset.id.clone());
        self.assets.insert(asset.id.clone(), asset);
    }

    /// Removes the row and its files, as emptying the trash does, with the cascades the
    /// module documentation describes.
    pub(crate) fn purge(&mut self, id: &str) -> Option<Asset> {
        let asset = self.assets.remove(id)?;
        if let Some(sums) = self.by_checksum.get_mut(&asset.owner_id) {
            sums.remove(&asset.checksum);
        }
        let _ = std::fs::remove_file(&asset.stored_path);
        if let Some(sidecar) = &asset.sidecar_path {
            let _ = std::fs::remove_file(sidecar);
        }
        for album in self.albums.values_mut() {
            album.remove(&[id]);
        }
        self.leave_stack_on_purge(id);
        self.tag_assets.remove(id);
        for still in self.assets.values_mut() {
            if still.live_photo_video_id.as_deref() == Some(id) {
                still.live_photo_video_id = None;
            }
        }
        if let Some(video_id) = &asset.live_photo_video_id {
            let still_used = self
                .assets
                .values()
                .any(|a| a.live_photo_video_id.as_ref() == Some(video_id));
            if !still_used {
                self.purge(video_id);
            }
        }
        Some(asset)
    }

    /// Immich's asset-deletion job: a purged primary hands the stack to the next member if
    /// more than two were in it, otherwise the stack is deleted; any other member just leaves.
    fn leave_stack_on_purge(&mut self, id: &str) {
        let Some(stack_id) = self.stack_of(id).map(|s| s.id.clone()) else {
            return;
        };
        let Some(stack) = self.stacks.get_mut(&stack_id) else {
            return;
        };
        if stack.primary_asset_id == id && stack.asset_ids.len() <= 2 {
            self.stacks.remove(&stack_id);
            return;
        }
        stack.asset_ids.retain(|a| a != id);
        if stack.primary_asset_id == id {
            stack.primary_asset_id = stack.asset_ids[0].clone();
        }
    }

    /// The stack the asset is in.
    pub(crate) fn stack_of(&self, asset_id: &str) -> Option<&Stack> {
        self.stacks
            .values()
            .find(|s| s.asset_ids.iter().any(|a| a == asset_id))
    }

    /// `POST /stacks`, as Immich's stack repository does it: stacks whose primary asset is
    /// among `ids` are merged into the new one (their members join it and they are deleted);
    /// a listed asset that is an ordinary member of another stack moves over and leaves that
    /// stack otherwise as it is. The first id becomes the primary. Returns the new stack's id.
    pub(crate) fn create_stack(&mut self, owner_id: &str, ids: &[String]) -> String {
        let mut members: Vec<String> = Vec::new();
        for id in ids {
            if !members.contains(id) {
                members.push(id.clone());
            }
        }
        let merged: Vec<String> = self
            .stacks
            .values()
            .filter(|s| s.owner_id == owner_id && members.contains(&s.primary_asset_id))
            .map(|s| s.id.clone())
            .collect();
        let mut merged_stacks: Vec<Stack> = merged
            .iter()
            .filter_map(|id| self.stacks.remove(id))
            .collect();
        merged_stacks.sort_by_key(|s| s.seq);
        for stack in merged_stacks {
            for member in stack.asset_ids {
                if !members.contains(&member) {
                    members.push(member);
                }
            }
        }
        for stack in self.stacks.values_mut() {
            stack.asset_ids.retain(|a| !members.contains(a));
        }
        let now = OffsetDateTime::now_utc();
        for member in &members {
            if let Some(asset) = self.assets.get_mut(member) {
                asset.updated_at = now;
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let seq = self.next_seq();
        self.stacks.insert(
            id.clone(),
            Stack {
                id: id.clone(),
                owner_id: owner_id.to_string(),
                primary_asset_id: members[0].clone(),
                asset_ids: members,
                seq,
            },
        );
        id
    }

    /// What linking a motion video to a still does to the video: Immich hides it if it was
    /// on the timeline (an archived one stays archived) and takes it out of every album.
    /// (A real server does the album part in the metadata extraction that follows.)
    pub(crate) fn become_motion_part(&mut self, video_id: &str, now: OffsetDateTime) {
        if let Some(video) = self.assets.get_mut(video_id) {
            if video.visibility == "timeline" {
                video.visibility = "hidden".into();
                video.updated_at = now;
            }
        }
        for album in self.albums.values_mut() {
            if album.contains(video_id) {
                album.remove(&[video_id]);
                album.updated_at = now;
            }
        }
    }

    /// Immich's `upsertTags` for one path: empty parts are dropped (`a//b/` is `a/b`), then
    /// every level is made where the owner does not have it yet. An existing level is reused,
    /// its `updatedAt` bumped (the database updates the row on the conflict). Returns the id of
    /// the last level, or `None` for a path with no parts (`""`, `"/"`).
    pub(crate) fn upsert_tag(
        &mut self,
        owner_id: &str,
        path: &str,
        now: OffsetDateTime,
    ) -> Option<String> {
        let mut parent: Option<(String, String)> = None;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let value = match &parent {
                Some((_, parent_value)) => format!("{parent_value}/{part}"),
                None => part.to_string(),
            };
            let parent_id = parent.map(|(id, _)| id);
            let existing = self
                .tags
                .values_mut()
                .find(|t| t.owner_id == owner_id && t.value == value);
            let id = match existing {
                Some(tag) => {
                    tag.parent_id = parent_id;
                    tag.updated_at = now;
                    tag.id.clone()
                }
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    self.tags.insert(
                        id.clone(),
                        Tag {
                            id: id.clone(),
                            owner_id: owner_id.to_string(),
                            value: value.clone(),
                            parent_id,
                            created_at: now,
                            updated_at: now,
                        },
                    );
                    id
                }
            };
            parent = Some((id, value));
        }
        parent.map(|(id, _)| id)
    }

    /// The tags on the asset, by value.
    pub(crate) fn tags_of(&self, asset_id: &str) -> Vec<&Tag> {
        let mut tags: Vec<&Tag> = self
            .tag_assets
            .get(asset_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.tags.get(id))
            .collect();
        tags.sort_by(|a, b| a.value.cmp(&b.value));
        tags
    }

    /// The caller's asset (live or trashed).
    pub(crate) fn owned(&self, owner_id: &str, id: &str) -> Option<&Asset> {
        self.assets.get(id).filter(|a| a.owner_id == owner_id)
    }

    pub(crate) fn log_start(&mut self, request: RecordedRequest) -> u64 {
        let seq = self.next_seq();
        if self.record_requests {
            self.requests.push((seq, request));
        }
        seq
    }

    pub(crate) fn log_finish(&mut self, seq: u64, status: u16, body: RecordedBody) {
        if let Some((_, request)) = self.requests.iter_mut().rev().find(|(s, _)| *s == seq) {
            request.status = status;
            request.body = body;
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.iter().map(|(_, r)| r.clone()).collect()
    }

    pub(crate) fn clear_requests(&mut self) {
        self.requests.clear();
    }
}

/// A best guess at the MIME type from the extension, for `originalMimeType`.
pub(crate) fn mime_type(file_name: &str) -> &'static str {
    match extension(file_name).as_deref() {
        Some(".jpg" | ".jpeg" | ".jpe") => "image/jpeg",
        Some(".png") => "image/png",
        Some(".gif") => "image/gif",
        Some(".webp") => "image/webp",
        Some(".heic") => "image/heic",
        Some(".heif" | ".hif") => "image/heif",
        Some(".avif") => "image/avif",
        Some(".tif" | ".tiff") => "image/tiff",
        Some(".dng") => "image/dng",
        Some(".mp4" | ".m4v") => "video/mp4",
        Some(".mov") => "video/quicktime",
        Some(".webm") => "video/webm",
        Some(".mkv") => "video/x-matroska",
        Some(".avi") => "video/avi",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_node() {
        assert_eq!(extension("a/b/Photo.JPG").as_deref(), Some(".jpg"));
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("noext"), None);
        let v2 = MediaTypes::defaults(Profile::V2);
        let v3 = MediaTypes::defaults(Profile::V3);
        assert_eq!(v2.kind_of("x.HEIC"), Some(AssetKind::Image));
        assert_eq!(v2.kind_of("x.mov"), Some(AssetKind::Video));
        assert_eq!(v2.kind_of("x.ts"), None);
        assert_eq!(v3.kind_of("x.ts"), Some(AssetKind::Video));
        assert_eq!(v3.kind_of("x.txt"), None);
        assert_eq!(v3.video.len(), 20);
        assert!(v3.is_sidecar("x.XMP"));
    }

    fn asset(id: &str, owner_id: &str, content: u8) -> Asset {
        let now = OffsetDateTime::now_utc();
        Asset {
            id: id.into(),
            owner_id: owner_id.into(),
            checksum: [content; 20],
            original_file_name: format!("{id}.jpg"),
            size: 1,
            kind: AssetKind::Image,
            visibility: "timeline".into(),
            is_favorite: false,
            file_created_at: now,
            file_modified_at: now,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            device_asset_id: None,
            device_id: None,
            duration_text: None,
            duration_ms: None,
            live_photo_video_id: None,
            stored_path: PathBuf::from("/nonexistent/fake-immich-test"),
            sidecar_path: None,
            exif: Exif::default(),
            seq: 0,
        }
    }

    #[test]
    fn tag_paths_drop_empty_parts_and_reuse_levels() {
        let mut state = State::new(Profile::V3);
        let now = OffsetDateTime::now_utc();
        assert_eq!(state.upsert_tag("u", "", now), None);
        assert_eq!(state.upsert_tag("u", "//", now), None);
        let paris = state.upsert_tag("u", "/Places//Paris/", now).unwrap();
        assert_eq!(state.tags[&paris].value, "Places/Paris");
        assert_eq!(state.tags[&paris].name(), "Paris");
        let places = state.tags[&paris].parent_id.clone().unwrap();
        assert_eq!(state.tags[&places].value, "Places");
        assert_eq!(state.tags[&places].parent_id, None);
        assert_eq!(state.upsert_tag("u", "Places", now), Some(places));
        assert_ne!(state.upsert_tag("v", "Places/Paris", now), Some(paris));
        assert_eq!(state.tags.len(), 4);
    }

    #[test]
    fn a_purge_drops_the_asset_s_tag_links_only() {
        let mut state = State::new(Profile::V3);
        state.insert(asset("a", "u", 1));
        state.insert(asset("b", "u", 2));
        let paris = state
            .upsert_tag("u", "Places/Paris", OffsetDateTime::now_utc())
            .unwrap();
        for id in ["a", "b"] {
            state
                .tag_assets
                .entry(id.into())
                .or_default()
                .insert(paris.clone());
        }
        state.purge("a");
        assert!(!state.tag_assets.contains_key("a"));
        assert_eq!(state.tags_of("b")[0].value, "Places/Paris");
        assert_eq!(state.tags.len(), 2, "the tags themselves stay");
    }
}
