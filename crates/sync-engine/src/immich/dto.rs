//! Wire types of the Immich API, exactly as they travel. Converted to engine types at the client
//! boundary so that version differences (v2 vs v3) stay in `immich/`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub(crate) struct WellKnown {
    pub api: WellKnownApi,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WellKnownApi {
    pub endpoint: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Ping {
    pub res: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserMe {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub quota_size_in_bytes: Option<i64>,
    #[serde(default)]
    pub quota_usage_in_bytes: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiKeyMe {
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MediaTypes {
    #[serde(default)]
    pub image: Vec<String>,
    #[serde(default)]
    pub video: Vec<String>,
    #[serde(default)]
    pub sidecar: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Features {
    #[serde(default = "yes")]
    pub trash: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerConfig {
    #[serde(default)]
    pub trash_days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BulkCheckRequest<'a> {
    pub assets: Vec<BulkCheckItem<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BulkCheckItem<'a> {
    pub id: &'a str,
    pub checksum: &'a str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BulkCheckResponse {
    pub results: Vec<BulkCheckResult>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BulkCheckResult {
    pub id: String,
    pub action: String,
    #[serde(default)]
    pub asset_id: Option<String>,
    #[serde(default)]
    pub is_trashed: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadResponse {
    pub id: String,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DeleteRequest<'a> {
    pub ids: &'a [String],
    pub force: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct IdsRequest<'a> {
    pub ids: &'a [String],
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssetResponse {
    pub id: String,
    pub owner_id: String,
    pub checksum: String,
    #[serde(default)]
    pub is_trashed: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CopyRequest<'a> {
    pub source_id: &'a str,
    pub target_id: &'a str,
    pub albums: bool,
    pub favorite: bool,
    pub shared_links: bool,
    pub stack: bool,
    pub sidecar: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrashSearch {
    pub trashed_after: String,
    pub with_deleted: bool,
    pub size: u32,
    pub page: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchResponse {
    pub assets: SearchAssets,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchAssets {
    pub items: Vec<AssetResponse>,
    #[serde(default)]
    pub next_page: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateAlbum<'a> {
    pub album_name: &'a str,
}

/// Any answer of which only the id is read (an album, a stack, a tag).
#[derive(Debug, Deserialize)]
pub(crate) struct IdOnly {
    pub id: String,
}

/// One entry of the per-id answer of the album asset endpoints.
#[derive(Debug, Deserialize)]
pub(crate) struct BulkIdResponse {
    pub id: String,
    pub success: bool,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StackRequest<'a> {
    pub asset_ids: &'a [String],
}

#[derive(Debug, Serialize)]
pub(crate) struct TagUpsert<'a> {
    pub tags: &'a [String],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagAssets<'a> {
    pub asset_ids: &'a [String],
    pub tag_ids: &'a [String],
}
