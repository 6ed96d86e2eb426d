//! The local socket: one request line in, one reply line out, per connection.
//!
//! The socket is private before anyone can connect: it is bound inside a fresh folder only this
//! user can enter (0700), given mode 0600, then renamed into place; a folder that holds it
//! elsewhere than beside the state file must belong to this user and be closed to others. A
//! socket file left by an engine that died is found by trying to connect to it, and replaced.
//!
//! On Windows the same lines travel over a named pipe (`\\.\pipe\immich-sync-…`, named after the
//! state file) whose access list lets in only its owner, and never a client from another machine.
//! A pipe disappears with the process that made it, so there is nothing to clean up.

use std::path::{Path, PathBuf};

use super::{ControlError, Reply, Request};
use crate::EngineHandle;

/// The longest request accepted (ids of a big undo fit many times over).
const MAX_REQUEST: u64 = 1 << 20;

/// How long the command line waits for a reply: an undo or a reload may take a while (the
/// server, finishing work in flight); the other commands answer at once.
fn reply_timeout(request: &Request) -> std::time::Duration {
    match request {
        Request::Undo { .. } | Request::Reload => std::time::Duration::from_secs(300),
        _ => std::time::Duration::from_secs(30),
    }
}

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
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    use tokio::net::{UnixListener, UnixStream};

    let fail = |source| ControlError::Socket {
        path: socket.clone(),
        source,
    };
    if UnixStream::connect(&socket).await.is_ok() {
        return Err(ControlError::AlreadyRunning(socket.with_extension("")));
    }
    let folder = socket.parent().unwrap_or(Path::new(".")).to_owned();
    let own = folder == super::private_dir();
    let staging_dir = folder.join(format!(".control-{}", std::process::id()));
    let staging = staging_dir.join("socket");
    // The folders, in one trip to the blocking pool: the socket's (checked when it is the
    // private one), and a fresh 0700 one to bind in.
    let prepared = staging_dir.clone();
    crate::blocking::spawn(move || {
        ensure_folder(&folder, own)?;
        let _ = std::fs::remove_dir_all(&prepared);
        std::fs::DirBuilder::new().mode(0o700).create(&prepared)
    })
    .await
    .map_err(|e| fail(std::io::Error::other(e)))?
    .map_err(fail)?;
    let bound = async {
        let listener = UnixListener::bind(&staging)?;
        tokio::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600)).await?;
        tokio::fs::rename(&staging, &socket).await?;
        Ok::<_, std::io::Error>(listener)
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&staging_dir).await;
    let listener = bound.map_err(fail)?;

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

/// The user running this process.
#[cfg(unix)]
pub(super) fn user_id() -> u32 {
    // SAFETY: getuid cannot fail and has no preconditions.
    unsafe { libc::getuid() }
}

#[cfg(not(any(unix, windows)))]
pub(super) fn user_id() -> u32 {
    0
}

/// The socket's folder exists; when it is the private folder of sockets (`own`, not the state
/// file's folder), it belongs to this user and nobody else can enter it.
#[cfg(unix)]
fn ensure_folder(folder: &Path, own: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
    if !own {
        return std::fs::create_dir_all(folder);
    }
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(folder) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(e);
        }
    }
    let meta = std::fs::symlink_metadata(folder)?;
    if !meta.is_dir() || meta.uid() != user_id() || meta.permissions().mode() & 0o077 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a private folder of this user's (someone else made it, or others can enter it)",
                folder.display()
            ),
        ));
    }
    Ok(())
}

/// Reads one request from `stream`, carries it out and writes the reply.
async fn answer<S>(
    stream: S,
    engine: &EngineHandle,
    config_file: Option<&Path>,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
    let (read, mut write) = tokio::io::split(stream);
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

/// Writes `request` on a connected `stream` and waits for the reply line.
async fn exchange<S>(stream: S, socket: &Path, request: &Request) -> Result<Reply, ControlError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let fail = |source| ControlError::Socket {
        path: socket.to_owned(),
        source,
    };
    let (read, mut write) = tokio::io::split(stream);
    let mut text =
        serde_json::to_string(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    text.push('\n');
    write.write_all(text.as_bytes()).await.map_err(fail)?;
    let mut line = String::new();
    let limit = reply_timeout(request);
    tokio::time::timeout(limit, BufReader::new(read).read_line(&mut line))
        .await
        .map_err(|_| ControlError::NoAnswer(limit))?
        .map_err(fail)?;
    serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))
}

/// Sends `request` to the engine listening on `socket` and waits for its reply.
#[cfg(unix)]
pub async fn send(socket: &Path, request: &Request) -> Result<Reply, ControlError> {
    use std::io::ErrorKind;
    match tokio::net::UnixStream::connect(socket).await {
        Ok(stream) => exchange(stream, socket, request).await,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            Err(ControlError::NotRunning(socket.with_extension("")))
        }
        Err(e) => Err(ControlError::Socket {
            path: socket.to_owned(),
            source: e,
        }),
    }
}

#[cfg(windows)]
pub use self::windows::{send, serve};

#[cfg(windows)]
mod windows {
    use std::path::{Path, PathBuf};

    use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeServer, ServerOptions};

    use super::{ControlError, ControlServer, Reply, Request, answer, exchange};
    use crate::EngineHandle;

    /// `ERROR_PIPE_BUSY`: every instance of the pipe is taken; another frees up soon.
    const PIPE_BUSY: i32 = 231;

    /// Serves control requests for `engine` on the named pipe `socket`.
    pub async fn serve(
        engine: EngineHandle,
        socket: PathBuf,
        config_file: Option<PathBuf>,
    ) -> Result<ControlServer, ControlError> {
        let fail = |source| ControlError::Socket {
            path: socket.clone(),
            source,
        };
        if ClientOptions::new().open(&socket).is_ok() {
            return Err(ControlError::AlreadyRunning(database_of(&socket)));
        }
        let mut server = create(&socket, true).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                ControlError::AlreadyRunning(database_of(&socket))
            } else {
                fail(e)
            }
        })?;
        let name = socket.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Err(error) = server.connect().await {
                    tracing::warn!("control pipe: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
                // The next client gets a new instance; this one answers the connected client.
                let next = loop {
                    match create(&name, false) {
                        Ok(next) => break next,
                        Err(error) => {
                            tracing::warn!("control pipe: {error}");
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    }
                };
                let connected = std::mem::replace(&mut server, next);
                let engine = engine.clone();
                let config_file = config_file.clone();
                tokio::spawn(async move {
                    if let Err(error) = answer(connected, &engine, config_file.as_deref()).await {
                        tracing::debug!("control connection: {error}");
                    }
                });
            }
        });
        Ok(ControlServer { path: socket, task })
    }

    /// Sends `request` to the engine listening on the named pipe `socket`.
    pub async fn send(socket: &Path, request: &Request) -> Result<Reply, ControlError> {
        let mut tries = 0;
        let client = loop {
            match ClientOptions::new().open(socket) {
                Ok(client) => break client,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ControlError::NotRunning(database_of(socket)));
                }
                Err(e) if e.raw_os_error() == Some(PIPE_BUSY) && tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(ControlError::Socket {
                        path: socket.to_owned(),
                        source: e,
                    });
                }
            }
        };
        exchange(client, socket, request).await
    }

    /// A pipe name says nothing of its state file; the messages name the pipe instead.
    fn database_of(socket: &Path) -> PathBuf {
        socket.to_owned()
    }

    /// One instance of the pipe, open to its owner only (`D:P(A;;GA;;;OW)`: a protected access
    /// list whose one entry gives the owner everything), never to other machines.
    fn create(name: &Path, first: bool) -> std::io::Result<NamedPipeServer> {
        use windows_sys::Win32::Foundation::LocalFree;
        use windows_sys::Win32::Security::Authorization::{
            ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
        };
        use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;

        let sddl: Vec<u16> = "D:P(A;;GA;;;OW)\0".encode_utf16().collect();
        let mut descriptor = std::ptr::null_mut();
        // SAFETY: `sddl` is a NUL-terminated UTF-16 string that outlives the call; on success
        // `descriptor` points to memory the system allocated, freed below with LocalFree.
        let converted = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if converted == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut attributes = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: descriptor,
            bInheritHandle: 0,
        };
        let mut options = ServerOptions::new();
        options
            .first_pipe_instance(first)
            .reject_remote_clients(true);
        // SAFETY: `attributes` is a valid SECURITY_ATTRIBUTES whose descriptor lives until
        // LocalFree below, after the pipe has been created.
        let created = unsafe {
            options.create_with_security_attributes_raw(
                name,
                (&mut attributes as *mut SECURITY_ATTRIBUTES).cast(),
            )
        };
        // SAFETY: `descriptor` was allocated by the conversion above and is no longer used.
        unsafe { LocalFree(descriptor) };
        created
    }
}

/// Serves control requests (not available on this platform).
#[cfg(not(any(unix, windows)))]
pub async fn serve(
    _engine: EngineHandle,
    _socket: PathBuf,
    _config_file: Option<PathBuf>,
) -> Result<ControlServer, ControlError> {
    Err(ControlError::Unsupported)
}

/// Sends a request (not available on this platform).
#[cfg(not(any(unix, windows)))]
pub async fn send(_socket: &Path, _request: &Request) -> Result<Reply, ControlError> {
    Err(ControlError::Unsupported)
}
