//! Error responses in the shape of the server generation being imitated.
//!
//! v2 answers `{"message","error","statusCode","correlationId"}` and puts validation failures
//! in `message` as an array of strings. v3 answers `{"message"}` with an `X-Correlation-ID`
//! header, and validation failures as `{"message":"Validation failed","errors":[zod issues]}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Profile;

/// The header v3 uses to carry the correlation id.
pub(crate) const CORRELATION_HEADER: &str = "x-correlation-id";

/// Validation failures collected in both generations' forms; the profile picks one on render.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    v2: Vec<String>,
    v3: Vec<Value>,
}

impl Issues {
    pub(crate) fn push_v2(&mut self, message: String) {
        self.v2.push(message);
    }

    pub(crate) fn push_v3(&mut self, issue: Value) {
        self.v3.push(issue);
    }

    /// Whether nothing failed, in the form the profile renders.
    pub(crate) fn is_empty_for(&self, profile: Profile) -> bool {
        match profile {
            Profile::V2 => self.v2.is_empty(),
            Profile::V3 => self.v3.is_empty(),
        }
    }
}

#[derive(Debug)]
enum Body {
    Message(String),
    Validation(Issues),
}

/// An error answer; rendered per profile with [`ApiError::render`].
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Body,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: Body::Message(message.into()),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn internal(err: impl std::fmt::Display) -> Self {
        tracing::warn!("internal error: {err}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// 400 `Not found or no <permission> access`: Immich's answer for any id the caller
    /// cannot reach, including ids that do not exist.
    pub(crate) fn no_access(permission: &str) -> Self {
        Self::bad_request(format!("Not found or no {permission} access"))
    }

    pub(crate) fn validation(issues: Issues) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: Body::Validation(issues),
        }
    }

    pub(crate) fn render(self, profile: Profile) -> Response {
        let correlation_id = uuid::Uuid::new_v4().simple().to_string();
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let body = match (profile, self.body) {
            (Profile::V2, Body::Message(message)) => json!({
                "message": message,
                "error": reason,
                "statusCode": self.status.as_u16(),
                "correlationId": correlation_id,
            }),
            (Profile::V2, Body::Validation(issues)) => json!({
                "message": issues.v2,
                "error": reason,
                "statusCode": self.status.as_u16(),
                "correlationId": correlation_id,
            }),
            (Profile::V3, Body::Message(message)) => json!({ "message": message }),
            (Profile::V3, Body::Validation(issues)) => json!({
                "message": "Validation failed",
                "errors": issues.v3,
            }),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if profile == Profile::V3 {
            if let Ok(value) = HeaderValue::from_str(&correlation_id) {
                response.headers_mut().insert(CORRELATION_HEADER, value);
            }
        }
        response
    }
}

/// The answer to an injected fault: the canonical reason as message, plus `Retry-After` if asked.
pub(crate) fn fault_response(profile: Profile, status: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut response = ApiError::new(status, reason).render(profile);
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Handlers compute a `Result`; this turns it into the wire answer for the profile.
pub(crate) fn reply(profile: Profile, result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|err| err.render(profile))
}
