//! The accept loop and the layer every request passes before and after the routes.
//!
//! It is written on hyper directly because two fault knobs need what a router cannot do:
//! refuse connections while "down", and drop a connection without answering (an upload cut
//! off mid-body). The same layer records each request, injects error statuses, buffers JSON
//! bodies (Express's 10 MB limit), delays answers and adds v3's `X-Correlation-ID` header.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::Profile;
use crate::errors::{ApiError, CORRELATION_HEADER, fault_response};
use crate::record::{RecordSlot, RecordedBody, RecordedRequest, redact_headers, redact_query};
use crate::routes::{is_json, router};
use crate::state::Shared;

/// Express's `json({ limit: '10mb' })`.
const JSON_LIMIT: usize = 10 * 1024 * 1024;
/// How much of an upload is read before a reset fault drops the connection.
const RESET_AFTER_BYTES: u64 = 64 * 1024;

/// Returned to hyper to make it close the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
struct DropConnection;

/// Serves until `stop` changes or its sender is dropped; then every open connection is cut.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let routes = router(shared.clone());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                if shared.faults.is_down() {
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let routes = routes.clone();
                let service = hyper::service::service_fn(move |req| handle(shared.clone(), routes.clone(), req));
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// Counts the body bytes the handlers read.
fn counted(body: Incoming, counter: Arc<AtomicU64>) -> Body {
    Body::new(body.map_frame(move |frame| {
        if let Some(data) = frame.data_ref() {
            counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        frame
    }))
}

fn declares_body(req: &Request<Incoming>) -> bool {
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING)
}

/// Reads a JSON body whole (within the limit) and records it.
async fn buffer_json(body: Incoming) -> Result<(Bytes, RecordedBody), ()> {
    let bytes = Limited::new(body, JSON_LIMIT)
        .collect()
        .await
        .map_err(|_| ())?
        .to_bytes();
    let recorded = if bytes.is_empty() {
        RecordedBody::Empty
    } else {
        serde_json::from_slice(&bytes)
            .map(RecordedBody::Json)
            .unwrap_or(RecordedBody::Other(bytes.len()))
    };
    Ok((bytes, recorded))
}

async fn handle(
    shared: Arc<Shared>,
    routes: Router,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    if shared.faults.is_down() {
        return Err(DropConnection);
    }
    let path = req.uri().path().to_string();
    let seq = shared.lock().log_start(RecordedRequest {
        method: req.method().to_string(),
        path: path.clone(),
        query: redact_query(req.uri().query()),
        headers: redact_headers(req.headers()),
        body: RecordedBody::Empty,
        status: 0,
    });
    let has_body = declares_body(&req);
    let json = is_json(req.headers());
    let profile = shared.profile;

    if let Some(injected) = shared.faults.take_failure(&path) {
        let (_, body) = req.into_parts();
        let recorded = if json {
            buffer_json(body)
                .await
                .map(|(_, r)| r)
                .unwrap_or(RecordedBody::Other(0))
        } else {
            let counter = Arc::new(AtomicU64::new(0));
            let _ = counted(body, counter.clone()).collect().await;
            body_record(has_body, counter.load(Ordering::Relaxed))
        };
        let response = fault_response(profile, injected.status, injected.retry_after);
        return Ok(finish(&shared, seq, recorded, response).await);
    }

    if req.method() == Method::POST && path == "/api/assets" && shared.faults.take_reset() {
        let mut body = req.into_body();
        let mut read = 0u64;
        while read < RESET_AFTER_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
        shared
            .lock()
            .log_finish(seq, 0, RecordedBody::Other(read as usize));
        return Err(DropConnection);
    }

    let slot = RecordSlot::default();
    let counter = Arc::new(AtomicU64::new(0));
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(slot.clone());
    let (request, json_record) = if json {
        match buffer_json(body).await {
            Ok((bytes, recorded)) => (
                Request::from_parts(parts, Body::from(bytes)),
                Some(recorded),
            ),
            Err(()) => {
                let response =
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request entity too large")
                        .render(profile);
                return Ok(finish(&shared, seq, RecordedBody::Other(0), response).await);
            }
        }
    } else {
        (
            Request::from_parts(parts, counted(body, counter.clone())),
            None,
        )
    };
    let Ok(response) = routes.oneshot(request).await;
    let recorded = slot
        .take()
        .or(json_record)
        .unwrap_or_else(|| body_record(has_body, counter.load(Ordering::Relaxed)));
    Ok(finish(&shared, seq, recorded, response).await)
}

fn body_record(declared: bool, read: u64) -> RecordedBody {
    if declared || read > 0 {
        RecordedBody::Other(read as usize)
    } else {
        RecordedBody::Empty
    }
}

/// Logs the outcome, applies the delay knob and v3's correlation header.
async fn finish(
    shared: &Shared,
    seq: u64,
    recorded: RecordedBody,
    mut response: Response<Body>,
) -> Response<Body> {
    shared
        .lock()
        .log_finish(seq, response.status().as_u16(), recorded);
    if shared.profile == Profile::V3 && !response.headers().contains_key(CORRELATION_HEADER) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(CORRELATION_HEADER, value);
        }
    }
    let delay = shared.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}
