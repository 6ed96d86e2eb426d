//! Albums (§9): created once and found again by id, because album names are not unique.
//! Stacks (§8.3): a RAW and its JPEG shown as one, the JPEG on top.

use super::*;

/// The permissions a key needs when a folder puts its photos into albums.
pub const ALBUM_PERMISSIONS: [&str; 4] = [
    "album.read",
    "album.create",
    "albumAsset.create",
    "albumAsset.delete",
];

/// The permission stacking RAW+JPEG pairs needs.
pub const STACK_PERMISSION: &str = "stack.create";

/// Asset ids per album request, as the official CLI sends them.
pub const ALBUM_BATCH: usize = 1000;

/// What one asset's add or remove came to (`PUT`/`DELETE /albums/{id}/assets` answer per id:
/// not all or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// Added, or taken out.
    Added,
    /// Already so: in the album (`duplicate`) on add, not in it on remove.
    AlreadyThere,
    /// Refused for this asset (`not_found`, `no_permission`…): holds the server's word.
    Refused(String),
}

impl ImmichClient {
    /// `POST /albums`: a new, empty album; its id.
    pub async fn create_album(&self, name: &str) -> Result<String, ApiError> {
        let album: dto::IdOnly = self
            .send_json(
                Method::POST,
                "/albums",
                &dto::CreateAlbum { album_name: name },
            )
            .await?;
        Ok(album.id)
    }

    /// `POST /stacks`: stacks `assets`, the first on top; the stack's id.
    pub async fn create_stack(&self, assets: &[String]) -> Result<String, ApiError> {
        let stack: dto::IdOnly = self
            .send_json(
                Method::POST,
                "/stacks",
                &dto::StackRequest { asset_ids: assets },
            )
            .await?;
        Ok(stack.id)
    }

    /// `GET /albums/{id}`: whether the album still exists (the user may have deleted it).
    pub async fn album_exists(&self, id: &str) -> Result<bool, ApiError> {
        // v2 embeds every asset unless told not to; v3 dropped the parameter.
        let query = match self.profile {
            ApiProfile::V2 => "?withoutAssets=true",
            ApiProfile::V3 => "",
        };
        let url = self.url(&format!("/albums/{id}{query}"));
        match self.get_json::<dto::IdOnly>(&url, true).await {
            Ok(_) => Ok(true),
            Err(ApiError::NotFound { .. } | ApiError::Rejected { status: 400, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT /albums/{id}/assets`, in batches of [`ALBUM_BATCH`]: one answer per asset, in order.
    pub async fn add_to_album(
        &self,
        album: &str,
        assets: &[String],
    ) -> Result<Vec<Membership>, ApiError> {
        self.album_assets(Method::PUT, album, assets).await
    }

    /// `DELETE /albums/{id}/assets`: one answer per asset, in order; an asset that was not in
    /// the album counts as done.
    pub async fn remove_from_album(
        &self,
        album: &str,
        assets: &[String],
    ) -> Result<Vec<Membership>, ApiError> {
        self.album_assets(Method::DELETE, album, assets).await
    }

    async fn album_assets(
        &self,
        method: Method,
        album: &str,
        assets: &[String],
    ) -> Result<Vec<Membership>, ApiError> {
        let removing = method == Method::DELETE;
        let mut out = Vec::with_capacity(assets.len());
        for chunk in assets.chunks(ALBUM_BATCH) {
            let answers: Vec<dto::BulkIdResponse> = self
                .send_json(
                    method.clone(),
                    &format!("/albums/{album}/assets"),
                    &dto::IdsRequest { ids: chunk },
                )
                .await?;
            let by_id: std::collections::HashMap<&str, &dto::BulkIdResponse> =
                answers.iter().map(|a| (a.id.as_str(), a)).collect();
            for id in chunk {
                out.push(match by_id.get(id.as_str()) {
                    Some(answer) if answer.success => Membership::Added,
                    Some(answer) => match answer.error.as_deref() {
                        Some("duplicate") => Membership::AlreadyThere,
                        Some("not_found") if removing => Membership::AlreadyThere,
                        Some(other) => Membership::Refused(other.to_owned()),
                        None => Membership::Refused("unknown".into()),
                    },
                    None => Membership::Refused("no answer".into()),
                });
            }
        }
        Ok(out)
    }
}
