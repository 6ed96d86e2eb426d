//! Tags: the keywords of a sidecar edited after the upload (Immich reads a sidecar's keywords
//! itself only when it comes with the upload).

use super::*;

/// The permissions sending keywords needs.
pub const TAG_PERMISSIONS: [&str; 2] = ["tag.create", "tag.asset"];

impl ImmichClient {
    /// `PUT /tags`: the ids of the tags with these values (`Places/Paris` is a tag inside
    /// `Places`), made where missing; in order.
    pub async fn upsert_tags(&self, values: &[String]) -> Result<Vec<String>, ApiError> {
        let tags: Vec<dto::IdOnly> = self
            .send_json(Method::PUT, "/tags", &dto::TagUpsert { tags: values })
            .await?;
        Ok(tags.into_iter().map(|t| t.id).collect())
    }

    /// `PUT /tags/assets`: tags the assets (tags they have already stay).
    pub async fn tag_assets(&self, assets: &[String], tags: &[String]) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .send_json(
                Method::PUT,
                "/tags/assets",
                &dto::TagAssets {
                    asset_ids: assets,
                    tag_ids: tags,
                },
            )
            .await?;
        Ok(())
    }
}
