//! Assets: bulk-upload-check, trash and restore, one asset by id, the trash feed, copy.

use super::*;

/// bulk-upload-check items per request: the official CLI sends 5000; the JSON limit is 10 MB.
pub const BULK_CHECK_BATCH: usize = 5000;

/// Asset ids per `DELETE /assets`, as §11.3 recommends.
pub const DELETE_BATCH: usize = 500;

/// One answer of bulk-upload-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// The owner has no asset with this content.
    Absent,
    /// The owner already has this content as `asset_id`.
    Present {
        /// The existing asset.
        asset_id: String,
        /// Whether that asset is in the Immich trash.
        is_trashed: bool,
    },
}

/// An asset as `GET /assets/{id}` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    /// Asset id.
    pub id: String,
    /// Owner id.
    pub owner_id: String,
    /// SHA-1 of the content, hex.
    pub sha1_hex: String,
    /// Whether it is in the trash.
    pub is_trashed: bool,
    /// When it was added to Immich.
    pub created_at: Option<OffsetDateTime>,
    /// When it last changed in Immich (for a trashed asset: when it was trashed, unless it
    /// was edited since), by the server's clock.
    pub updated_at: Option<OffsetDateTime>,
}

/// Metadata to change on an asset (`PUT /assets/{id}`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetUpdate {
    /// The caption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// -1 (rejected) or 1 to 5 stars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<i32>,
    /// When it was taken (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_time_original: Option<String>,
    /// Degrees north (always with `longitude`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Degrees east.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

impl AssetUpdate {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == AssetUpdate::default()
    }
}

/// What the trash feed found.
#[derive(Debug, Clone)]
pub struct TrashFeed {
    /// The owner's assets trashed since the time asked for.
    pub assets: Vec<AssetInfo>,
    /// The server's clock when it answered (its `Date` header), where it sent one: the next
    /// poll starts from it, so a wrong local clock cannot skip a trash.
    pub server_time: Option<OffsetDateTime>,
}

pub(super) fn to_asset_info(asset: dto::AssetResponse) -> Result<AssetInfo, ApiError> {
    Ok(AssetInfo {
        sha1_hex: checksum_to_hex(&asset.checksum)?,
        created_at: asset.created_at.as_deref().and_then(parse_time),
        updated_at: asset.updated_at.as_deref().and_then(parse_time),
        id: asset.id,
        owner_id: asset.owner_id,
        is_trashed: asset.is_trashed,
    })
}

pub(super) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Immich answers checksums in base64; the engine stores hex.
pub fn checksum_to_hex(checksum: &str) -> Result<String, ApiError> {
    if checksum.len() == 40 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(checksum.to_ascii_lowercase());
    }
    base64::engine::general_purpose::STANDARD
        .decode(checksum)
        .map(hex::encode)
        .map_err(|e| ApiError::Protocol(format!("checksum `{checksum}` is not base64: {e}")))
}

impl ImmichClient {
    /// bulk-upload-check for `(id, sha1_hex)` pairs, in batches of [`BULK_CHECK_BATCH`], two
    /// at a time (the server's database works on one while the other travels). The answers
    /// come back in input order.
    pub async fn bulk_upload_check(
        &self,
        items: &[(String, String)],
    ) -> Result<Vec<CheckResult>, ApiError> {
        let mut chunks = items.chunks(BULK_CHECK_BATCH);
        let mut out = Vec::with_capacity(items.len());
        loop {
            match (chunks.next(), chunks.next()) {
                (Some(first), Some(second)) => {
                    let (first, second) =
                        tokio::join!(self.bulk_check_batch(first), self.bulk_check_batch(second));
                    out.extend(first?);
                    out.extend(second?);
                }
                (Some(last), None) => {
                    out.extend(self.bulk_check_batch(last).await?);
                    return Ok(out);
                }
                _ => return Ok(out),
            }
        }
    }

    async fn bulk_check_batch(
        &self,
        chunk: &[(String, String)],
    ) -> Result<Vec<CheckResult>, ApiError> {
        let body = dto::BulkCheckRequest {
            assets: chunk
                .iter()
                .map(|(id, checksum)| dto::BulkCheckItem { id, checksum })
                .collect(),
        };
        let response: dto::BulkCheckResponse = self
            .send_json(Method::POST, "/assets/bulk-upload-check", &body)
            .await?;
        if response.results.len() != chunk.len() {
            return Err(ApiError::Protocol(format!(
                "bulk-upload-check answered {} results for {} items",
                response.results.len(),
                chunk.len()
            )));
        }
        let mut out = Vec::with_capacity(chunk.len());
        for (result, (id, _)) in response.results.into_iter().zip(chunk) {
            if &result.id != id {
                return Err(ApiError::Protocol(
                    "bulk-upload-check answered out of order".into(),
                ));
            }
            out.push(match (result.action.as_str(), result.asset_id) {
                ("reject", Some(asset_id)) => CheckResult::Present {
                    asset_id,
                    is_trashed: result.is_trashed.unwrap_or(false),
                },
                ("accept", _) => CheckResult::Absent,
                (other, _) => {
                    return Err(ApiError::Protocol(format!(
                        "bulk-upload-check action `{other}` without an asset id"
                    )));
                }
            });
        }
        Ok(out)
    }

    /// Moves assets to the Immich trash (never `force`), in batches of [`DELETE_BATCH`].
    /// Immich rejects a whole batch (400) if any id is not the caller's: the error is
    /// [`ApiError::NotFound`] and the caller re-checks the ids.
    pub async fn trash_assets(&self, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(DELETE_BATCH) {
            let body = dto::DeleteRequest {
                ids: chunk,
                force: false,
            };
            self.send_no_content(Method::DELETE, "/assets", &body)
                .await?;
        }
        Ok(())
    }

    /// Takes assets back out of the Immich trash.
    pub async fn restore_from_trash(&self, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(DELETE_BATCH) {
            let _: serde_json::Value = self
                .send_json(
                    Method::POST,
                    "/trash/restore/assets",
                    &dto::IdsRequest { ids: chunk },
                )
                .await?;
        }
        Ok(())
    }

    /// `GET /assets/{id}`: `None` when Immich says it does not exist (400 not found).
    pub async fn asset(&self, id: &str) -> Result<Option<AssetInfo>, ApiError> {
        let url = self.url(&format!("/assets/{id}"));
        match self.get_json::<dto::AssetResponse>(&url, true).await {
            Ok(asset) => Ok(Some(to_asset_info(asset)?)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            // v3 answers 400 `Validation failed` for ids that are not UUID v4: they cannot exist.
            Err(ApiError::Rejected { status: 400, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /assets/{id}`: changes the asset's metadata. `Ok(false)` when the asset is gone.
    pub async fn update_asset(&self, id: &str, update: &AssetUpdate) -> Result<bool, ApiError> {
        match self
            .send_json::<_, serde_json::Value>(Method::PUT, &format!("/assets/{id}"), update)
            .await
        {
            Ok(_) => Ok(true),
            Err(ApiError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT /assets/copy`: moves albums, favourite, shared links and stack from `source` to
    /// `target` (a changed file's old and new asset). The sidecar is left alone.
    pub async fn copy_asset(&self, source: &str, target: &str) -> Result<(), ApiError> {
        let body = dto::CopyRequest {
            source_id: source,
            target_id: target,
            albums: true,
            favorite: true,
            shared_links: true,
            stack: true,
            sidecar: false,
        };
        self.send_no_content(Method::PUT, "/assets/copy", &body)
            .await
    }

    /// Assets of `owner_id` trashed after `since` (§7.3 trash feed). v2 hides non-timeline
    /// assets unless asked per visibility, so it is asked three times there.
    pub async fn trashed_since(
        &self,
        owner_id: &str,
        since: OffsetDateTime,
    ) -> Result<TrashFeed, ApiError> {
        let visibilities: &[Option<&'static str>] = match self.profile {
            ApiProfile::V3 => &[None],
            ApiProfile::V2 => &[Some("timeline"), Some("archive"), Some("hidden")],
        };
        let mut out = Vec::new();
        let mut server_time = None;
        for visibility in visibilities {
            let mut page = 1;
            loop {
                let query = dto::TrashSearch {
                    trashed_after: utc_millis(since),
                    with_deleted: true,
                    size: 1000,
                    page,
                    visibility: *visibility,
                };
                let response = self
                    .request(Method::POST, &self.url("/search/metadata"))
                    .timeout(REQUEST_TIMEOUT)
                    .json(&query)
                    .send()
                    .await
                    .map_err(|e| self.network_error(e))?;
                if server_time.is_none() {
                    server_time = response
                        .headers()
                        .get(reqwest::header::DATE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| httpdate::parse_http_date(v).ok())
                        .map(OffsetDateTime::from);
                }
                let response: dto::SearchResponse = self.read_json(response).await?;
                for asset in response.assets.items {
                    if asset.owner_id == owner_id && asset.is_trashed {
                        out.push(to_asset_info(asset)?);
                    }
                }
                match response
                    .assets
                    .next_page
                    .and_then(|p| p.parse::<u32>().ok())
                {
                    Some(next) if next > page => page = next,
                    _ => break,
                }
            }
        }
        Ok(TrashFeed {
            assets: out,
            server_time,
        })
    }
}
