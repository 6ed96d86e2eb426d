//! Sidecars written or edited after their photo was uploaded reach Immich as metadata.
//!
//! Immich keeps the sidecar that came with the upload and ignores any later one (uploading the
//! photo again is a duplicate), so the uploader reads a changed sidecar and sends what it says
//! with `PUT /assets/{id}`: description, rating, time taken and position. It compares contents
//! first (the store keeps the SHA-1 of the sidecar Immich has), so a sidecar that was only
//! touched sends nothing. A sidecar never makes its photo upload again, and a sidecar deleted
//! here changes nothing in Immich. Keywords (`dc:subject`) become tags where the key may make
//! and attach them (`tag.create`, `tag.asset`); otherwise the event says they were left out.

use std::sync::Arc;

use crate::account::Account;
use crate::error::Error;
use crate::events::{EventKind, Worker};
use crate::immich::{AssetUpdate, TAG_PERMISSIONS};
use crate::store::SidecarDue;
use crate::{local, xmp};

/// The permission `PUT /assets/{id}` needs. Only sidecar edits use it, so a key without it
/// syncs as before and each such edit is reported instead of sent.
pub const UPDATE_PERMISSION: &str = "asset.update";

/// How much older than its photo's upload a sidecar must be to count as sent with it.
const SETTLED_BEFORE: std::time::Duration = std::time::Duration::from_secs(2);

/// Photos looked at per store read.
const BATCH: usize = 200;

/// Sends the metadata of every changed sidecar; how many assets were updated. An error leaves
/// the rest due for the next pass.
pub async fn apply_due(account: &Arc<Account>) -> Result<u64, Error> {
    if account.dry_run {
        return Ok(0);
    }
    let mut updated = 0;
    loop {
        let name = account.name.clone();
        let due = account
            .store
            .call(move |db| db.sidecars_due(&name, BATCH))
            .await?;
        if due.is_empty() {
            return Ok(updated);
        }
        for photo in due {
            let sent = match apply_one(account, &photo).await {
                Ok(sent) => sent,
                // The server or the state file: the rest waits for the next pass.
                Err(error) if error.is_transient() || matches!(error, Error::Local(_)) => {
                    return Err(error);
                }
                // This photo's sidecar was refused: said once, and not sent again until the
                // sidecar changes; the other photos go on.
                Err(error) => {
                    let path = account
                        .folder(photo.folder)
                        .map(|f| f.path_of(&photo.rel))
                        .unwrap_or_else(|| photo.rel.clone());
                    account.emit(Worker::Uploader, EventKind::Error, |e| {
                        e.path(&path).asset(&photo.asset_id).detail(format!(
                            "its sidecar's metadata was not accepted by Immich ({error}); it is sent again once the sidecar changes"
                        ))
                    });
                    None
                }
            };
            updated += u64::from(sent.is_some());
            let id = photo.id;
            account
                .store
                .call(move |db| db.sidecar_settled(id, sent.as_deref()))
                .await?;
        }
    }
}

/// Looks at one photo's sidecar; the SHA-1 of the sidecar sent, if one was.
async fn apply_one(account: &Account, photo: &SidecarDue) -> Result<Option<String>, Error> {
    let Some(folder) = account.folder(photo.folder) else {
        return Ok(None);
    };
    if folder.filter.excluded_by_pattern(&photo.rel).is_some() {
        return Ok(None);
    }
    let path = folder.path_of(&photo.rel);
    let beside = path.clone();
    let Some((sidecar, modified)) = crate::blocking::spawn(move || {
        local::read_sidecar(&beside).map(|s| {
            let modified = std::fs::metadata(beside.with_file_name(&s.file_name))
                .and_then(|m| m.modified())
                .ok();
            (s, modified)
        })
    })
    .await
    .ok()
    .flatten() else {
        return Ok(None);
    };
    let sha1 = sidecar.sha1_hex();
    if photo.sidecar_sha1.as_deref() == Some(sha1.as_str()) {
        return Ok(None);
    }
    // A photo synced before the store kept sidecars: a sidecar clearly older than its upload
    // went with it, and is taken as known, so edits made in Immich since are not overwritten.
    // (File times lag the clock by a few milliseconds: a sidecar written just after the
    // upload must not look older than it.)
    if photo.sidecar_sha1.is_none() {
        let modified_ms = modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64);
        if let (Some(modified), Some(synced)) = (modified_ms, photo.synced_at) {
            if modified + SETTLED_BEFORE.as_millis() as i64 <= synced {
                return Ok(Some(sha1));
            }
        }
    }
    if !account.server.lacks(&[UPDATE_PERMISSION]).is_empty() {
        account.emit(Worker::Uploader, EventKind::Skipped, |e| {
            e.path(&path).asset(&photo.asset_id).detail(format!(
                "its sidecar {} changed, but the API key may not change assets: add the `{UPDATE_PERMISSION}` permission to send such edits",
                sidecar.file_name
            ))
        });
        return Ok(None);
    }
    let metadata = xmp::read(&sidecar.bytes);
    let update = AssetUpdate {
        description: metadata.description.clone(),
        // 0 is "no rating", which v3 refuses as a value: left as it is.
        rating: metadata.rating.filter(|r| *r != 0),
        date_time_original: metadata.taken.as_deref().and_then(iso_date_time),
        latitude: metadata.position.map(|(lat, _)| lat),
        longitude: metadata.position.map(|(_, lon)| lon),
    };
    if update.is_empty() && metadata.keywords.is_empty() {
        return Ok(Some(sha1));
    }
    if !update.is_empty()
        && !account
            .client
            .update_asset(&photo.asset_id, &update)
            .await?
    {
        return Ok(None);
    }
    let mut fields = metadata.fields();
    let mut note = None;
    if !metadata.keywords.is_empty() {
        if account.server.lacks(&TAG_PERMISSIONS).is_empty() {
            let tags = account.client.upsert_tags(&metadata.keywords).await?;
            account
                .client
                .tag_assets(std::slice::from_ref(&photo.asset_id), &tags)
                .await?;
            fields.push("keywords");
        } else {
            note = Some(format!(
                "its keywords are not sent: the API key needs `{}` for them",
                TAG_PERMISSIONS.join("` and `")
            ));
        }
    }
    let (kind, detail) = match (fields.is_empty(), note) {
        (true, Some(note)) => (
            EventKind::Skipped,
            format!("its sidecar {} changed, but {note}", sidecar.file_name),
        ),
        (_, note) => {
            let mut detail = format!(
                "updated from its sidecar {}: {}",
                sidecar.file_name,
                fields.join(", ")
            );
            if let Some(note) = note {
                detail.push_str("; ");
                detail.push_str(&note);
            }
            (EventKind::MetadataUpdated, detail)
        }
    };
    account.emit(Worker::Uploader, kind, |e| {
        e.path(&path).asset(&photo.asset_id).detail(detail)
    });
    Ok(Some(sha1))
}

/// An XMP date as Immich takes it: ISO 8601 (`2024-05-01T08:00:00`, an offset kept), from the
/// ISO forms XMP uses or the `2024:05:01 08:00:00` form some tools copy from EXIF. A date alone
/// becomes midnight.
fn iso_date_time(written: &str) -> Option<String> {
    let text = written.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let date = text[..10].replace(':', "-");
    let rest = text[10..].trim_start_matches([' ', 'T']);
    let time = if rest.is_empty() { "00:00:00" } else { rest };
    let iso = format!("{date}T{time}");
    let plausible = iso.len() >= 19
        && iso.as_bytes()[4] == b'-'
        && iso.as_bytes()[7] == b'-'
        && iso.as_bytes()[13] == b':';
    plausible.then_some(iso)
}

#[cfg(test)]
mod tests {
    use super::iso_date_time;

    #[test]
    fn xmp_dates_become_iso_date_times() {
        let cases = [
            (
                "2024-05-01T08:00:00+02:00",
                Some("2024-05-01T08:00:00+02:00"),
            ),
            ("2024-05-01T08:00:00.250", Some("2024-05-01T08:00:00.250")),
            ("2024:05:01 08:00:00", Some("2024-05-01T08:00:00")),
            ("2024-05-01", Some("2024-05-01T00:00:00")),
            ("2024-05-01T08:00", None),
            ("May 1st", None),
        ];
        for (written, expected) in cases {
            assert_eq!(iso_date_time(written).as_deref(), expected, "{written}");
        }
    }
}
