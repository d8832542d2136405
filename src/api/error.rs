//! Errors are responses: one [`ApiError`] type, one `IntoResponse` impl
//! mapping each kind to its status and `{"success": false, "message": ...,
//! "status": N}`, and the JSON and query extractors that turn bad input
//! into those errors instead of axum's plain-text rejections.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::server::BodyTimeout;
use crate::jobs;

/// The largest request body accepted (1 MiB); more is a 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// Everything a request can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed or asks for something impossible (400).
    #[error("{0}")]
    BadRequest(String),
    /// No bearer token, or the wrong one (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The admin API is loopback-only and the peer is not (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such job, fault rule, instance or route (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body did not arrive within the body read timeout (408).
    #[error("the request body did not arrive within {0:?}")]
    RequestTimeout(std::time::Duration),
    /// The request conflicts with the job's state (409).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than [`BODY_LIMIT`] (413).
    #[error("request body is larger than {BODY_LIMIT} bytes")]
    PayloadTooLarge,
    /// The body is not `application/json` (415).
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// Something broke on this side; the detail is logged, not sent (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal error from anything displayable (logged when answered).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!("api: {detail}");
                "internal server error (the details are in the server log)".to_string()
            }
            other => other.to_string(),
        };
        let body = serde_json::json!({
            "success": false,
            "message": message,
            "status": status.as_u16(),
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fakessh admin\""),
            );
        }
        response
    }
}

impl From<jobs::Error> for ApiError {
    fn from(e: jobs::Error) -> Self {
        match e {
            jobs::Error::UnknownJob { id } => ApiError::NotFound(format!("unknown job id {id:?}")),
            jobs::Error::Connection { .. } => ApiError::BadRequest(e.to_string()),
            other => {
                let mut text = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                ApiError::Internal(text)
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("a blocking task failed: {e}"))
    }
}

/// A JSON body: `Content-Type: application/json` (else 415), at most
/// [`BODY_LIMIT`] bytes (else 413), valid JSON of the right shape, no
/// unknown fields where the type denies them (else 400, naming the problem).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else if let Some(timeout) = body_timeout(&rejection) {
                ApiError::RequestTimeout(timeout.after)
            } else {
                ApiError::BadRequest(format!("reading the body: {}", rejection.body_text()))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The body deadline behind a failed read, if that was the cause.
fn body_timeout(rejection: &BytesRejection) -> Option<&BodyTimeout> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = cause {
        if let Some(timeout) = e.downcast_ref::<BodyTimeout>() {
            return Some(timeout);
        }
        cause = e.source();
    }
    None
}

/// Whether `headers` declare a JSON body (`application/json` or
/// `application/*+json`, any parameters).
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses a JSON body into `T`: syntax errors and shape errors (wrong type,
/// unknown or missing field) are both 400s with serde's words.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            _ => "invalid request",
        };
        ApiError::BadRequest(format!("{what}: {e}"))
    })
}

/// A path parameter; one that is not UTF-8 once percent-decoded (`%FF`)
/// is a 400 with the reason, as JSON like every other error.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// Query-string parameters; a bad one is a 400 with the reason.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}
