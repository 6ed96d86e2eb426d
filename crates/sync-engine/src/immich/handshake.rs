//! §11.1: the handshake that picks the v2 or v3 dialect and names missing key permissions.

use super::*;

/// Permissions this client needs (§2). `all` covers them all.
pub const REQUIRED_PERMISSIONS: [&str; 4] =
    ["asset.upload", "asset.read", "asset.delete", "user.read"];

/// Which API dialect the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiProfile {
    /// Immich v1.137 – v2.x: device fields required, lenient validation.
    V2,
    /// Immich v3.x: strict validation, device fields dropped.
    V3,
}

/// What the handshake learned about the server and the key's owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerInfo {
    /// `major.minor.patch` as reported.
    pub version: String,
    /// The dialect used from now on.
    pub profile: ApiProfile,
    /// Owner id of every asset we create.
    pub user_id: String,
    /// The Immich user's email.
    pub user_email: String,
    /// The Immich user's display name.
    pub user_name: String,
    /// Storage quota in bytes, if the admin set one.
    pub quota_bytes: Option<i64>,
    /// Bytes used so far.
    pub quota_used_bytes: Option<i64>,
    /// Permissions from [`REQUIRED_PERMISSIONS`] that the key lacks, by name.
    pub missing_permissions: Vec<String>,
    /// Extensions the server accepts as images (lower-case, with dot).
    pub image_types: Vec<String>,
    /// Extensions the server accepts as videos.
    pub video_types: Vec<String>,
    /// Sidecar extensions (never uploaded as assets).
    pub sidecar_types: Vec<String>,
    /// Whether the server keeps deleted assets in a trash.
    pub trash_enabled: bool,
    /// Days the trash keeps assets.
    pub trash_days: u32,
    /// The key's permissions as the server listed them (`all` covers every one).
    pub key_permissions: Vec<String>,
    /// Whether `PUT /assets/copy` can be used (v2.2 and later, and the key may `asset.copy`):
    /// albums, favourite and stack then move from a changed file's old asset to the new one.
    pub can_copy_assets: bool,
}

impl ServerInfo {
    /// Which of `wanted` the key lacks, by name.
    pub fn lacks(&self, wanted: &[&str]) -> Vec<String> {
        let has = |p: &str| self.key_permissions.iter().any(|k| k == "all" || k == p);
        wanted
            .iter()
            .filter(|p| !has(p))
            .map(|p| (*p).to_owned())
            .collect()
    }
}

pub(super) fn lower(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

impl ImmichClient {
    /// §11.1: discovery, ping, version → profile, user, key permissions, media types, trash.
    pub async fn handshake(&mut self) -> Result<ServerInfo, ApiError> {
        if let Ok(known) = self
            .get_json::<dto::WellKnown>(&format!("{}/.well-known/immich", self.server_url), false)
            .await
        {
            let endpoint = known.api.endpoint.trim_end_matches('/');
            if endpoint.starts_with('/') {
                self.api_base = format!("{}{}", self.server_url, endpoint);
            } else if same_origin(endpoint, &self.server_url) {
                // An endpoint on another host is ignored: the API key goes to the configured
                // server only.
                self.api_base = endpoint.to_owned();
            }
        }
        let ping: dto::Ping = self
            .get_json(&self.url("/server/ping"), false)
            .await
            .map_err(|e| self.not_immich(e))?;
        if ping.res != "pong" {
            return Err(ApiError::NotImmich {
                url: self.server_url.clone(),
                detail: format!("ping answered `{}`", ping.res),
            });
        }
        let v: dto::Version = self
            .get_json(&self.url("/server/version"), false)
            .await
            .map_err(|e| self.not_immich(e))?;
        let version = format!("{}.{}.{}", v.major, v.minor, v.patch);
        self.profile = match (v.major, v.minor) {
            (m, _) if m >= 3 => ApiProfile::V3,
            (2, _) => ApiProfile::V2,
            (1, minor) if minor >= 137 => ApiProfile::V2,
            _ => return Err(ApiError::UnsupportedVersion { version }),
        };
        let me: dto::UserMe = self.get_json(&self.url("/users/me"), true).await?;
        let key: dto::ApiKeyMe = self.get_json(&self.url("/api-keys/me"), true).await?;
        let media: dto::MediaTypes = self
            .get_json(&self.url("/server/media-types"), false)
            .await?;
        let features: dto::Features = self.get_json(&self.url("/server/features"), false).await?;
        let config: dto::ServerConfig = self.get_json(&self.url("/server/config"), false).await?;
        let copy_exists = v.major >= 3 || (v.major == 2 && v.minor >= 2);
        let mut info = ServerInfo {
            version,
            profile: self.profile,
            user_id: me.id,
            user_email: me.email,
            user_name: me.name,
            quota_bytes: me.quota_size_in_bytes,
            quota_used_bytes: me.quota_usage_in_bytes,
            missing_permissions: Vec::new(),
            key_permissions: key.permissions,
            image_types: lower(media.image),
            video_types: lower(media.video),
            sidecar_types: lower(media.sidecar),
            trash_enabled: features.trash,
            trash_days: config.trash_days.unwrap_or(30),
            can_copy_assets: false,
        };
        info.missing_permissions = info.lacks(&REQUIRED_PERMISSIONS);
        info.can_copy_assets = copy_exists && info.lacks(&["asset.copy"]).is_empty();
        Ok(info)
    }
}
