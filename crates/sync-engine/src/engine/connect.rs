//! Connecting an account: the handshake, the folder bindings, the move-over import, and the
//! shared context of its workers.

use super::*;

/// Connects to the server and reports what a settings window shows for "Test connection".
pub async fn test_connection(server_url: &str, key: ApiKey) -> Result<ServerInfo, ApiError> {
    check_connection(server_url, key)
        .await
        .map(|checked| checked.server)
}

/// A connection checked before a pass (the handshake: version, user, key permissions), which
/// the pass then uses instead of checking again (see [`super::run_once_checked`]).
#[derive(Debug)]
pub struct CheckedConnection {
    client: ImmichClient,
    /// What the handshake learned.
    pub server: ServerInfo,
}

/// The handshake with `server_url`, kept for the pass that follows.
pub async fn check_connection(
    server_url: &str,
    key: ApiKey,
) -> Result<CheckedConnection, ApiError> {
    let mut client = ImmichClient::new(server_url, key, "immich-sync-connection-test")?;
    let server = client.handshake().await?;
    Ok(CheckedConnection { client, server })
}

/// A client for the account, with this installation's device id, after the handshake (the one
/// made just before, when there is one).
pub(crate) async fn handshake(
    config: &AccountConfig,
    store: &Store,
    checked: Option<CheckedConnection>,
) -> Result<(ImmichClient, ServerInfo), Error> {
    if let Some(CheckedConnection { mut client, server }) = checked {
        let device_id = store.call(|db| db.device_id()).await?;
        client.set_device_id(&device_id);
        return Ok((client, server));
    }
    // The key may be a file to read: off the runtime's threads.
    let source = config.api_key.clone();
    let name = config.name.clone();
    let key = crate::blocking::spawn(move || source.resolve(&name))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(LocalError::KeySource)?;
    let device_id = store.call(|db| db.device_id()).await?;
    let mut client = ImmichClient::new(&config.server_url, key, &device_id)?;
    let server = client.handshake().await?;
    Ok((client, server))
}

/// Handshake, folder binding checks, and the shared context of the workers.
#[allow(clippy::too_many_arguments)]
pub(super) async fn connect(
    config: &AccountConfig,
    engine: &Config,
    store: &Store,
    events: &EventBus,
    status: &StatusBoard,
    options: EngineOptions,
    paused: watch::Receiver<bool>,
    cancel: CancellationToken,
    checked: Option<CheckedConnection>,
) -> Result<Arc<Account>, Error> {
    let (client, server) = handshake(config, store, checked).await?;
    let missing = server.lacks(&config.permissions_needed());
    if let Some(permission) = missing.first() {
        return Err(Error::Remote(ApiError::MissingPermission {
            permission: if missing.len() == 1 {
                permission.clone()
            } else {
                missing.join("`, `")
            },
        }));
    }
    let media = MediaTypes::new(
        &server.image_types,
        &server.video_types,
        &server.sidecar_types,
    );
    let mut folders = Vec::new();
    for folder in &config.folders {
        let account_name = config.name.clone();
        let root = folder.path.clone();
        let id = store
            .call(move |db| db.ensure_folder(&account_name, &root))
            .await?;
        // The patterns were checked when the configuration was read.
        let patterns =
            crate::filter::Exclusions::new(&folder.path, &folder.exclude).unwrap_or_default();
        let filter = Filter::new(media.clone(), &folder.exclude_extensions).with_patterns(patterns);
        folders.push(Arc::new(
            Folder::new(id, folder.path.clone(), folder.policy, filter)
                .with_album(folder.album.clone())
                .with_stacking(folder.stack_raw_jpeg),
        ));
    }
    let account = Arc::new(Account {
        name: config.name.clone(),
        client,
        store: store.clone(),
        events: events.clone(),
        status: status.clone(),
        folders,
        intervals: engine.intervals,
        upload_concurrency: engine.upload_concurrency,
        delete_guard: engine.delete_guard,
        dry_run: options.dry_run,
        wake_uploader: Notify::new(),
        wake_reconciler: Notify::new(),
        rescan: Notify::new(),
        check_remote_now: Default::default(),
        albums_due: std::sync::atomic::AtomicBool::new(true),
        paused,
        cancel,
        server,
        counts_stamp: Default::default(),
        trash_feed: Default::default(),
    });
    check_bindings(&account).await;
    let names: Vec<String> = engine.accounts.iter().map(|a| a.name.clone()).collect();
    crate::older_service::import_in_place(&account, &engine.database_path, &names).await;
    account.emit(Worker::Engine, EventKind::Connected, |e| {
        e.detail(format!(
            "Immich {} ({:?} API) as {} <{}>",
            account.server.version,
            account.server.profile,
            account.server.user_name,
            account.server.user_email
        ))
    });
    status.edit(&config.name, |s| {
        s.server_version = Some(account.server.version.clone());
        s.user = Some(format!(
            "{} <{}>",
            account.server.user_name, account.server.user_email
        ));
        if s.state != AccountState::Paused {
            s.state = AccountState::Scanning;
            s.message = Some("Scanning folders…".into());
        }
        s.last_error = None;
    });
    Ok(account)
}

/// A folder stays with the server and Immich user it was first synced with. If the key now
/// belongs to someone else, the folder is held: nothing is uploaded to or deleted from the wrong
/// library.
pub(super) async fn check_bindings(account: &Account) {
    let current = FolderBinding {
        server_url: account.client.server_url().to_owned(),
        immich_user_id: account.server.user_id.clone(),
    };
    for folder in &account.folders {
        let id = folder.id;
        let wanted = current.clone();
        let result = account
            .store
            .call(move |db| match db.folder_binding(id)? {
                None => db.set_folder_binding(id, &wanted).map(|_| None),
                Some(existing) => Ok(Some(existing)),
            })
            .await;
        let Ok(Some(existing)) = result else { continue };
        let mismatch = if existing.immich_user_id != current.immich_user_id {
            Some(format!(
                "this folder was synced with another Immich user (id {}), but the API key belongs to {} <{}>. Nothing is uploaded or deleted; use the right key or remove and re-add the folder",
                existing.immich_user_id, account.server.user_name, account.server.user_email
            ))
        } else if existing.server_url != current.server_url {
            Some(format!(
                "this folder was synced with {}, but the account now points at {}. Nothing is uploaded or deleted; fix the server URL or remove and re-add the folder",
                existing.server_url, current.server_url
            ))
        } else {
            None
        };
        if let Some(message) = mismatch {
            folder.set_state(FolderState::Mismatch);
            account.emit(Worker::Engine, EventKind::FolderUnavailable, |e| {
                e.path(&folder.root).detail(message.clone())
            });
            account
                .status
                .edit_folder(&account.name, &folder.display, |f| {
                    f.state = FolderState::Mismatch;
                    f.message = Some(message);
                });
        }
    }
}
