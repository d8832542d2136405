//! Who may use the admin API: with `--admin-token`, whoever sends
//! `Authorization: Bearer TOKEN`; without it, loopback peers only (the
//! peer address, never a forwarded header).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// Whether a request with these headers from `peer` may use the admin API.
pub(super) fn check(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(), ApiError> {
    match &state.inner.admin_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            match given {
                Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
                Some(_) => Err(ApiError::Unauthorized("wrong admin token".into())),
                None => Err(ApiError::Unauthorized(
                    "the admin API needs `Authorization: Bearer TOKEN`".into(),
                )),
            }
        }
        None => match peer {
            Some(addr) if is_loopback(addr) => Ok(()),
            _ => Err(ApiError::Forbidden(
                "the admin API answers loopback clients only; start the API with --admin-token to allow others"
                    .into(),
            )),
        },
    }
}

fn is_loopback(addr: SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(a) => a.ip().is_loopback(),
        SocketAddr::V6(a) => {
            a.ip().is_loopback() || a.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The peer address axum recorded for this connection, if served with
/// connect info.
pub(super) fn peer(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// Middleware guarding `/__admin/*`.
pub(super) async fn require_admin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match check(&state, req.headers(), peer(req.extensions())) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
