//! Public discovery endpoints a client calls before anything else: the API base, ping,
//! version, supported media types, features and config (`trash`, `trashDays`).

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::json;

use super::{App, ok_json};
use crate::Profile;
use crate::auth::authenticate;
use crate::errors::reply;

pub(crate) async fn well_known() -> Response {
    ok_json(json!({ "api": { "endpoint": "/api" } }))
}

pub(crate) async fn ping() -> Response {
    ok_json(json!({ "res": "pong" }))
}

pub(crate) async fn version(State(app): State<App>) -> Response {
    let (major, minor, patch) = app.profile.version();
    let mut body = json!({ "major": major, "minor": minor, "patch": patch });
    if app.profile == Profile::V3 {
        body["prerelease"] = serde_json::Value::Null;
    }
    ok_json(body)
}

pub(crate) async fn media_types(State(app): State<App>) -> Response {
    let state = app.lock();
    ok_json(json!({
        "image": state.media.image,
        "video": state.media.video,
        "sidecar": state.media.sidecar,
    }))
}

pub(crate) async fn features() -> Response {
    ok_json(json!({
        "configFile": false,
        "duplicateDetection": true,
        "email": false,
        "facialRecognition": true,
        "importFaces": false,
        "map": true,
        "oauth": false,
        "oauthAutoLaunch": false,
        "ocr": true,
        "passwordLogin": true,
        "realtimeTranscoding": false,
        "reverseGeocoding": true,
        "search": true,
        "sidecar": true,
        "smartSearch": true,
        "trash": true,
    }))
}

pub(crate) async fn config() -> Response {
    ok_json(json!({
        "externalDomain": "",
        "isInitialized": true,
        "isOnboarded": true,
        "loginPageMessage": "",
        "maintenanceMode": false,
        "mapDarkStyleUrl": "https://tiles.immich.cloud/v1/style/dark.json",
        "mapLightStyleUrl": "https://tiles.immich.cloud/v1/style/light.json",
        "minFaces": 3,
        "oauthButtonText": "Login with OAuth",
        "publicUsers": true,
        "trashDays": 30,
        "userDeleteDelay": 7,
    }))
}

pub(crate) async fn about(State(app): State<App>, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        app.profile,
        (|| {
            authenticate(&app, &headers, uri.query(), Some("server.about"))?;
            let (major, minor, patch) = app.profile.version();
            let version = format!("v{major}.{minor}.{patch}");
            Ok(ok_json(json!({
                "version": version,
                "versionUrl": format!("https://github.com/immich-app/immich/releases/tag/{version}"),
                "licensed": false,
            })))
        })(),
    )
}
