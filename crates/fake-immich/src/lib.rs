//! A stand-in for the Immich server, for tests and benchmarks of the sync engine.
//!
//! It serves, over real HTTP on 127.0.0.1, the part of the Immich API a folder-sync client
//! and the official CLI's `upload` command use, with the answers of Immich v2 (2.7.5) or v3
//! (3.1.0): status codes, error body shapes, duplicate detection by checksum (trashed assets
//! included), all-or-nothing deletes, the trash, metadata edits (`PUT /assets`), live-photo
//! links, albums, stacks and tags. Tests drive it from the outside through [`FakeImmich`]
//! (users, keys, assets, albums, stacks, tags, quotas), [`Faults`] (error statuses, delays,
//! cut-off uploads, a server that is down) and the request log ([`RecordedRequest`]), which
//! [`openapi::Spec`] checks against Immich's OpenAPI document. [`older_service`] writes the
//! state file the older sync service leaves beside such a server.
//!
//! What the server keeps per user: assets (content, dates, favourite, visibility, the
//! `exifInfo` fields description, rating, dateTimeOriginal, latitude and longitude, and the
//! still → motion-video link of live photos), albums (a name and asset ids in the order they
//! were added), stacks (a primary asset and its members) and tags (hierarchical names such
//! as `Places/Paris`, and which assets carry them).

mod auth;
mod dto;
mod errors;
mod faults;
mod fields;
pub mod older_service;
pub mod openapi;
mod record;
mod routes;
mod server;
mod state;
mod validate;
mod xmp;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::Faults;
pub use record::{MultipartField, REDACTED, RecordedBody, RecordedRequest};
pub use state::{AlbumSnapshot, AssetSnapshot, StackSnapshot};

use state::{ApiKey, Asset, AssetKind, Shared, User, extension, normalise_extension};

/// Which server generation to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Immich 2.7.5.
    V2,
    /// Immich 3.1.0.
    V3,
}

impl Profile {
    /// The version `GET /server/version` reports.
    pub fn version(self) -> (u32, u32, u32) {
        match self {
            Profile::V2 => (2, 7, 5),
            Profile::V3 => (3, 1, 0),
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    /// `v2` or `v3` (case-insensitive, `2`/`3` too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().trim_start_matches('v') {
            "2" => Ok(Profile::V2),
            "3" => Ok(Profile::V3),
            _ => Err(format!("unknown profile {s:?} (expected v2 or v3)")),
        }
    }
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Options {
    pub profile: Profile,
    /// Where uploaded files go; `None` makes a temporary directory that lives as long as the
    /// server handle.
    pub storage_dir: Option<PathBuf>,
    /// 0 picks any free port.
    pub port: u16,
}

impl Options {
    /// Defaults: own temporary storage, any free port.
    pub fn new(profile: Profile) -> Self {
        Options {
            profile,
            storage_dir: None,
            port: 0,
        }
    }
}

/// A running server. Clones share it; it serves until [`FakeImmich::shutdown`] or until the
/// last clone is dropped.
#[derive(Clone)]
pub struct FakeImmich {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    url: String,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    _temp: Option<TempDir>,
}

impl std::fmt::Debug for FakeImmich {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeImmich")
            .field("url", &self.inner.url)
            .field("profile", &self.inner.shared.profile)
            .finish()
    }
}

fn random_secret() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

impl FakeImmich {
    /// Starts a server on any free port with temporary storage.
    ///
    /// # Panics
    /// If no port can be bound or no temporary directory made.
    pub async fn start(profile: Profile) -> FakeImmich {
        Self::start_with(Options::new(profile))
            .await
            .expect("start the fake Immich server")
    }

    /// Starts a server as the options say.
    pub async fn start_with(options: Options) -> io::Result<FakeImmich> {
        let (storage_dir, temp) = match options.storage_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)?;
                (dir, None)
            }
            None => {
                let temp = tempfile::Builder::new().prefix("fake-immich-").tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::new(options.profile, storage_dir));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), stopped));
        Ok(FakeImmich {
            inner: Arc::new(Handle {
                shared,
                url: format!("http://127.0.0.1:{port}"),
                stop,
                task: Mutex::new(Some(task)),
                _temp: temp,
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`, without `/api`.
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    pub fn profile(&self) -> Profile {
        self.shared().profile
    }

    /// Where uploaded files are kept.
    pub fn storage_dir(&self) -> PathBuf {
        self.shared().storage_dir.clone()
    }

    /// Adds a user (the first one is the admin) and returns its id.
    pub fn add_user(&self, email: &str, name: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let mut state = self.shared().lock();
        let is_admin = state.users.is_empty();
        state.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                email: email.to_string(),
                name: name.to_string(),
                is_admin,
                quota: None,
                created_at: OffsetDateTime::now_utc(),
            },
        );
        id
    }

    /// Creates an API key for the user and returns its secret. `"all"` grants every
    /// permission.
    ///
    /// # Panics
    /// If the user does not exist.
    pub fn add_api_key(&self, user_id: &str, permissions: &[&str]) -> String {
        let secret = random_secret();
        self.add_api_key_with_secret(user_id, &secret, permissions);
        secret
    }

    /// Like [`FakeImmich::add_api_key`], with a secret chosen by the caller.
    ///
    /// # Panics
    /// If the user does not exist.
    pub fn add_api_key_with_secret(&self, user_id: &str, secret: &str, permissions: &[&str]) {
        let mut state = self.shared().lock();
        assert!(
            state.users.contains_key(user_id),
            "no user with id {user_id}"
        );
        let name = format!("API Key {}", state.keys.len() + 1);
        state.keys.insert(
            secret.to_string(),
            ApiKey {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: user_id.to_string(),
                name,
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                created_at: OffsetDateTime::now_utc(),
            },
        );
    }

    /// Deletes the key; requests with it get 401 `Invalid API key`.
    pub fn revoke_api_key(&self, secret: &str) {
        self.shared().lock().keys.remove(secret);
    }

    /// Every asset of the owner that has not been purged (trashed ones too), oldest first.
    pub fn assets(&self, user_id: &str) -> Vec<AssetSnapshot> {
        let state = self.shared().lock();
        let mut assets: Vec<&Asset> = state
            .assets
            .values()
            .filter(|a| a.owner_id == user_id)
            .collect();
        assets.sort_by_key(|a| a.seq);
        assets.into_iter().map(|a| a.snapshot(&state)).collect()
    }

    /// The values (full paths, e.g. `Places/Paris`) of the owner's tags, sorted: every level
    /// of a path is a tag of its own, so `Places/Paris` brings `Places` along.
    pub fn tags(&self, user_id: &str) -> Vec<String> {
        let state = self.shared().lock();
        let mut values: Vec<String> = state
            .tags
            .values()
            .filter(|t| t.owner_id == user_id)
            .map(|t| t.value.clone())
            .collect();
        values.sort();
        values
    }

    /// The owner's albums, oldest first, each with its asset ids in the order they were added
    /// (trashed assets stay members until they are purged).
    pub fn albums(&self, user_id: &str) -> Vec<AlbumSnapshot> {
        let state = self.shared().lock();
        let mut albums: Vec<_> = state
            .albums
            .values()
            .filter(|a| a.owner_id == user_id)
            .collect();
        albums.sort_by_key(|a| a.seq);
        albums.into_iter().map(|a| a.snapshot()).collect()
    }

    /// Deletes the album as a user does in the web UI: the album is gone, its assets are not
    /// touched. Unknown ids are ignored.
    pub fn delete_album(&self, id: &str) {
        self.shared().lock().albums.remove(id);
    }

    /// The owner's stacks, oldest first, each with its members (the primary first).
    pub fn stacks(&self, user_id: &str) -> Vec<StackSnapshot> {
        let state = self.shared().lock();
        let mut stacks: Vec<_> = state
            .stacks
            .values()
            .filter(|s| s.owner_id == user_id)
            .collect();
        stacks.sort_by_key(|s| s.seq);
        stacks.into_iter().map(|s| s.snapshot()).collect()
    }

    /// How many `POST /assets` requests were answered 201 (a new asset) in total.
    pub fn created_uploads(&self) -> usize {
        self.shared().lock().created_uploads
    }

    /// Puts an asset on the server as if another client (the phone app, the web UI) had
    /// uploaded it, and returns its id. If the owner already has this content, nothing is
    /// added and the existing id is returned. Not counted by [`FakeImmich::created_uploads`].
    ///
    /// # Panics
    /// If the file cannot be written to the storage directory.
    pub fn insert_asset(&self, user_id: &str, file_name: &str, content: &[u8]) -> String {
        let checksum: [u8; 20] = Sha1::digest(content).into();
        let shared = self.shared();
        let mut state = shared.lock();
        if let Some(existing) = state.by_checksum(user_id, &checksum) {
            return existing.id.clone();
        }
        let id = uuid::Uuid::new_v4().to_string();
        let dir = shared.owner_dir(user_id);
        let stored_path = dir.join(format!("{id}{}", extension(file_name).unwrap_or_default()));
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&stored_path, content))
            .expect("write the asset file");
        let now = OffsetDateTime::now_utc();
        let kind = state.media.kind_of(file_name).unwrap_or(AssetKind::Image);
        let seq = state.next_seq();
        state.insert(Asset {
            id: id.clone(),
            owner_id: user_id.to_string(),
            checksum,
            original_file_name: file_name.to_string(),
            size: content.len() as u64,
            kind,
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
            stored_path,
            sidecar_path: None,
            exif: Default::default(),
            seq,
        });
        id
    }

    /// Moves the asset to the trash, as the web UI does (unknown ids are ignored).
    pub fn trash_asset(&self, id: &str) {
        let now = OffsetDateTime::now_utc();
        if let Some(asset) = self.shared().lock().assets.get_mut(id) {
            asset.deleted_at = Some(now);
            asset.updated_at = now;
        }
    }

    /// Sets when the asset was added to the server, as if it had been uploaded then (an old
    /// library). Unknown ids are ignored.
    pub fn set_created_at(&self, id: &str, at: OffsetDateTime) {
        if let Some(asset) = self.shared().lock().assets.get_mut(id) {
            asset.created_at = at;
            asset.file_created_at = asset.file_created_at.min(at);
        }
    }

    /// Marks the asset as a favourite (or not), as the web UI's heart does.
    pub fn set_favorite(&self, id: &str, favorite: bool) {
        if let Some(asset) = self.shared().lock().assets.get_mut(id) {
            asset.is_favorite = favorite;
            asset.updated_at = OffsetDateTime::now_utc();
        }
    }

    /// Takes the asset out of the trash (unknown ids are ignored).
    pub fn restore_asset(&self, id: &str) {
        if let Some(asset) = self.shared().lock().assets.get_mut(id) {
            asset.deleted_at = None;
            asset.updated_at = OffsetDateTime::now_utc();
        }
    }

    /// Deletes the asset for good, as emptying the trash does: the row and the file are gone
    /// and `GET /assets/{id}` answers 400. The asset leaves its albums and stack, loses its tag
    /// links, and a live photo's still takes its motion video with it.
    pub fn purge_asset(&self, id: &str) {
        self.shared().lock().purge(id);
    }

    /// Replaces the accepted image and video extensions (`.jpg` or `jpg`, any case).
    pub fn set_media_types(&self, image: &[&str], video: &[&str]) {
        let mut state = self.shared().lock();
        state.media.image = image.iter().map(|e| normalise_extension(e)).collect();
        state.media.video = video.iter().map(|e| normalise_extension(e)).collect();
    }

    /// Sets the user's storage quota in bytes (`None`: unlimited).
    pub fn set_quota(&self, user_id: &str, quota_bytes: Option<u64>) {
        if let Some(user) = self.shared().lock().users.get_mut(user_id) {
            user.quota = quota_bytes;
        }
    }

    /// The fault knobs.
    pub fn faults(&self) -> Faults {
        self.shared().faults.clone()
    }

    /// Every request received since the start (or the last [`FakeImmich::clear_requests`]),
    /// in the order they arrived.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().lock().requests()
    }

    pub fn clear_requests(&self) {
        self.shared().lock().clear_requests();
    }

    /// Turns the request log on or off (on by default). Long benchmark runs turn it off so
    /// the log does not grow without bound.
    pub fn set_record_requests(&self, on: bool) {
        self.shared().lock().record_requests = on;
    }

    /// Stops serving and cuts every open connection, even while other clones exist.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
