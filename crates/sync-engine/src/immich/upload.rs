//! `POST /assets`: the file streamed from disk as it was hashed, or not at all.

use super::*;

/// Read buffer for streaming files to the server: large enough for throughput, small enough
/// that four parallel uploads stay far below a megabyte of buffers.
pub(super) const UPLOAD_CHUNK: usize = 128 * 1024;

/// Everything needed to upload one file.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Name Immich shows (`originalFileName`).
    pub file_name: String,
    /// Stable local key of the file (v2 requires it; v3 ignores it).
    pub device_asset_id: String,
    /// SHA-1 of the content, hex.
    pub sha1_hex: String,
    /// Bytes to send; the stream is cut at this length.
    pub size: u64,
    /// Creation time (earliest of birth time and mtime).
    pub created_at: OffsetDateTime,
    /// Modification time.
    pub modified_at: OffsetDateTime,
    /// The file's identity (size, mtime, file id) when it was hashed. It is checked again after
    /// every chunk read for the upload; if the file changed or vanished, the body is cut off
    /// before its end (the server keeps nothing of an incomplete upload) and the error is
    /// [`ApiError::FileChanged`]. A photo is never uploaded with content other than what
    /// was hashed.
    pub expected: Option<Stat>,
    /// The photo's XMP sidecar, sent as `sidecarData` (it is not part of the checksum, and
    /// the server keeps the first one it gets for the asset).
    pub sidecar: Option<local::Sidecar>,
    /// For a live photo's still: its motion video's asset, uploaded first (`livePhotoVideoId`).
    pub live_photo_video_id: Option<String>,
}

/// Result of a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    /// The asset that now holds the content.
    pub asset_id: String,
    /// True when the server already had it (200 duplicate) rather than creating it (201).
    pub duplicate: bool,
}

/// Strict UTC with milliseconds, the one format every Immich version accepts (§3.3).
pub fn utc_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Checks, between two chunks of an upload, that the file is still the one that was hashed.
/// Whether the file is still the one that was hashed. The stat runs on the blocking pool
/// (`tokio::fs`): this is asked after every chunk of an upload.
pub(super) async fn still_the_same(path: &std::path::Path, expected: Stat) -> Result<(), ApiError> {
    let shown = || path.display().to_string();
    match tokio::fs::symlink_metadata(path).await {
        Ok(meta) if local::stat_of(&meta) == expected => Ok(()),
        Ok(_) => Err(ApiError::FileChanged {
            path: shown(),
            gone: false,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::FileChanged {
            path: shown(),
            gone: true,
        }),
        Err(e) => Err(ApiError::LocalFile {
            path: shown(),
            message: e.to_string(),
        }),
    }
}

/// The multipart part's file name must be plain ASCII to survive every proxy; the real name
/// travels in the `filename` field, which Immich prefers.
pub(super) fn ascii_file_name(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    if ascii.is_empty() {
        "file".into()
    } else {
        ascii
    }
}

impl ImmichClient {
    /// `POST /assets`: text fields first, then the file streamed from disk. `progress` counts
    /// the bytes handed to the connection.
    pub async fn upload(
        &self,
        request: &UploadRequest,
        progress: Option<Arc<AtomicU64>>,
    ) -> Result<UploadOutcome, ApiError> {
        let shown = request.path.display().to_string();
        let changed = |gone: bool| ApiError::FileChanged {
            path: shown.clone(),
            gone,
        };
        let local_err = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => changed(true),
            _ => ApiError::LocalFile {
                path: shown.clone(),
                message: e.to_string(),
            },
        };
        let file = tokio::fs::File::open(&request.path)
            .await
            .map_err(local_err)?;
        if let Some(expected) = request.expected {
            let opened = file.metadata().await.map_err(local_err)?;
            if local::stat_of(&opened) != expected {
                return Err(changed(false));
            }
        }
        let limited = tokio::io::AsyncReadExt::take(file, request.size);
        let counter = progress.unwrap_or_default();
        // Set by the stream when reading the file failed or the file changed: the request then
        // fails because of the file, not the network.
        let local_problem: Arc<std::sync::Mutex<Option<ApiError>>> = Arc::default();
        let problem = local_problem.clone();
        let (path, expected) = (request.path.clone(), request.expected);
        let stream = ReaderStream::with_capacity(limited, UPLOAD_CHUNK).then(move |chunk| {
            let (path, counter, problem) = (path.clone(), counter.clone(), problem.clone());
            async move {
                let checked = match (chunk, expected) {
                    (Ok(bytes), Some(expected)) => match still_the_same(&path, expected).await {
                        Ok(()) => Ok(bytes),
                        Err(error) => Err(error),
                    },
                    (chunk, _) => chunk.map_err(|e| ApiError::LocalFile {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    }),
                };
                match checked {
                    Ok(bytes) => {
                        counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        Ok(bytes)
                    }
                    Err(error) => {
                        let text = error.to_string();
                        *problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                        Err(std::io::Error::other(text))
                    }
                }
            }
        });
        let local_failure = move || {
            local_problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
        };
        let body = reqwest::Body::wrap_stream(stream);
        let part = reqwest::multipart::Part::stream_with_length(body, request.size)
            .file_name(ascii_file_name(&request.file_name))
            .mime_str("application/octet-stream")
            .map_err(|e| ApiError::Protocol(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .text("deviceAssetId", request.device_asset_id.clone())
            .text("deviceId", self.device_id.clone())
            .text("fileCreatedAt", utc_millis(request.created_at))
            .text("fileModifiedAt", utc_millis(request.modified_at))
            .text("filename", request.file_name.clone());
        // Text fields before the file (§11.2): the server reads them before the body.
        if let Some(video) = &request.live_photo_video_id {
            form = form.text("livePhotoVideoId", video.clone());
        }
        form = form.part("assetData", part);
        if let Some(sidecar) = &request.sidecar {
            let xmp = reqwest::multipart::Part::bytes(sidecar.bytes.clone())
                .file_name(ascii_file_name(&sidecar.file_name))
                .mime_str("application/xml")
                .map_err(|e| ApiError::Protocol(e.to_string()))?;
            form = form.part("sidecarData", xmp);
        }
        let response = self
            .request(Method::POST, &self.url("/assets"))
            .header("x-immich-checksum", &request.sha1_hex)
            .multipart(form)
            .send()
            .await;
        // A file problem wins over whatever the server said about a body it did not get whole.
        if let Some(problem) = local_failure() {
            return Err(problem);
        }
        let response = response.map_err(|e| self.network_error(e))?;
        let status = response.status();
        let parsed: dto::UploadResponse = self.read_json(response).await?;
        match (status, parsed.status.as_str()) {
            (StatusCode::CREATED, _) | (StatusCode::OK, "created") => Ok(UploadOutcome {
                asset_id: parsed.id,
                duplicate: false,
            }),
            (StatusCode::OK, "duplicate") => Ok(UploadOutcome {
                asset_id: parsed.id,
                duplicate: true,
            }),
            (status, other) => Err(ApiError::Protocol(format!(
                "upload answered {status} with status `{other}`"
            ))),
        }
    }
}
