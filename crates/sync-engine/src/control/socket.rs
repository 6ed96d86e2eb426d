//! The local socket: one request line in, one reply line out, per connection.
//!
//! The socket is made private before anyone can connect: it is bound under a temporary name,
//! given mode 0600, then renamed into place. A socket file left by an engine that died is found
//! by trying to connect to it, and replaced. Windows (a named pipe) is not built yet.

use std::path::{Path, PathBuf};

use super::{ControlError, Reply, Request};
use crate::EngineHandle;

/// The longest request accepted (ids of a big undo fit many times over).
#[cfg(unix)]
const MAX_REQUEST: u64 = 1 << 20;

/// How long the command line waits for a reply (an undo may talk to the server).
#[cfg(unix)]
const REPLY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A running control socket; dropping it stops serving and removes the socket file.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl ControlServer {
    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves control requests for `engine` on `socket`. `config_file` is the file `reload` reads
/// (`None` when the engine was not started from one).
#[cfg(unix)]
pub async fn serve(
    engine: EngineHandle,
    socket: PathBuf,
    config_file: Option<PathBuf>,
) -> Result<ControlServer, ControlError> {
    use std::os::unix::fs::PermissionsExt;
    use tokio::net::{UnixListener, UnixStream};

    let fail = |source| ControlError::Socket {
        path: socket.clone(),
        source,
    };
    if UnixStream::connect(&socket).await.is_ok() {
        return Err(ControlError::AlreadyRunning(socket.with_extension("")));
    }
    let staging = socket.with_extension(format!("sock.{}", std::process::id()));
    let _ = tokio::fs::remove_file(&staging).await;
    let listener = UnixListener::bind(&staging).map_err(fail)?;
    tokio::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
        .await
        .map_err(fail)?;
    tokio::fs::rename(&staging, &socket).await.map_err(fail)?;

    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!("control socket: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            };
            let engine = engine.clone();
            let config_file = config_file.clone();
            tokio::spawn(async move {
                if let Err(error) = answer(stream, &engine, config_file.as_deref()).await {
                    tracing::debug!("control connection: {error}");
                }
            });
        }
    });
    Ok(ControlServer { path: socket, task })
}

#[cfg(unix)]
async fn answer(
    stream: tokio::net::UnixStream,
    engine: &EngineHandle,
    config_file: Option<&Path>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Ok(request) => {
            tracing::info!("control: {}", line.trim());
            super::execute(
                super::Backend::Running {
                    engine,
                    config_file,
                },
                request,
            )
            .await
        }
        Err(error) => Reply::failed(
            super::exit::CONFIG,
            format!(
                "the engine does not understand this request ({error}): is the command line from another version?"
            ),
        ),
    };
    let mut text = serde_json::to_string(&reply).map_err(std::io::Error::other)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    write.shutdown().await
}

/// Sends `request` to the engine listening on `socket` and waits for its reply.
#[cfg(unix)]
pub async fn send(socket: &Path, request: &Request) -> Result<Reply, ControlError> {
    use std::io::ErrorKind;
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let fail = |source| ControlError::Socket {
        path: socket.to_owned(),
        source,
    };
    let stream = match tokio::net::UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Err(ControlError::NotRunning(socket.with_extension("")));
        }
        Err(e) => return Err(fail(e)),
    };
    let (read, mut write) = stream.into_split();
    let mut text =
        serde_json::to_string(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    text.push('\n');
    write.write_all(text.as_bytes()).await.map_err(fail)?;
    let mut line = String::new();
    tokio::time::timeout(REPLY_TIMEOUT, BufReader::new(read).read_line(&mut line))
        .await
        .map_err(|_| ControlError::Protocol("no answer within 5 minutes".into()))?
        .map_err(fail)?;
    serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))
}

/// Serves control requests (not available on this platform yet).
#[cfg(not(unix))]
pub async fn serve(
    _engine: EngineHandle,
    _socket: PathBuf,
    _config_file: Option<PathBuf>,
) -> Result<ControlServer, ControlError> {
    Err(ControlError::Unsupported)
}

/// Sends a request (not available on this platform yet).
#[cfg(not(unix))]
pub async fn send(_socket: &Path, _request: &Request) -> Result<Reply, ControlError> {
    Err(ControlError::Unsupported)
}
