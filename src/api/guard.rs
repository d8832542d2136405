//! What a browser may make this API do. The API listens on loopback and
//! answers loopback peers, but the user's browser is a loopback peer that
//! runs other sites' pages, so the peer address alone is no protection:
//!
//! - **DNS rebinding**: a page at `http://evil.example` whose name then
//!   resolves to 127.0.0.1 is same-origin with this server, so it can read
//!   every answer (queued commands, SSH targets, the journal). Its requests
//!   carry `Host: evil.example`, so the `Host` must be a loopback name
//!   (`localhost`, `*.localhost`) or an IP address. An IP address is never
//!   a rebinding: a page can only have that origin if this server served it.
//!   With `--admin-token` the operator has exposed the server on purpose and
//!   any `Host` is accepted (the admin API then wants the token anyway).
//! - **Cross-site requests (CSRF)**: a page on any site can make the browser
//!   send a POST here without asking (a form, `fetch` with `no-cors`,
//!   `sendBeacon`), though it cannot read the answer. Such a request is
//!   refused (403) when `Sec-Fetch-Site` says `cross-site` or `same-site`
//!   (another port on localhost is same-site but may be another program),
//!   or when its `Origin` is not this server's own. Requests without either
//!   header come from programs (curl, Python), not from a browser's page.
//! - Those simple requests can only carry `text/plain`, form or multipart
//!   bodies, or none: any other `Content-Type` makes the browser ask first
//!   (a CORS preflight this server never approves). So every POST, PUT or
//!   PATCH, and any request with a body, must be `application/json`, else
//!   415 (as the JSON extractor already answered). A body-less DELETE may
//!   omit it: a browser never sends a cross-site DELETE without a preflight.
//!
//! The guard covers every route, the downloads API too: a queued job runs
//! its commands over SSH with the user's key, a worse outcome than a reset.
//! Only `/__admin/health` is exempt (a GET-only healthcheck that tells
//! nothing, probed under any name, e.g. a compose service's).

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::is_json;
use super::{ApiError, AppState};

/// The route no check applies to.
const HEALTH: &str = "/__admin/health";

/// Middleware over every route (not the 404 and 405 fallbacks).
pub(super) async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(state: &AppState, req: &Request) -> Result<(), ApiError> {
    if req.uri().path() == HEALTH {
        return Ok(());
    }
    if state.inner.admin_token.is_none() {
        check_host(req.headers(), req.uri())?;
    }
    if is_safe(req.method()) {
        return Ok(());
    }
    check_fetch_site(req.headers())?;
    check_origin(req.headers(), req.uri())?;
    check_content_type(req.method(), req.headers())
}

/// Methods without side effects here; a cross-site page cannot read their
/// answers (this server sends no CORS headers).
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The authority the request names: the `Host` header, else the request
/// target's (HTTP/2, or an absolute-form target).
fn request_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Result<Option<&'a str>, ApiError> {
    match headers.get(header::HOST) {
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::BadRequest("the Host header is not ASCII".into())),
        None => Ok(uri.authority().map(|a| a.as_str())),
    }
}

/// `host[:port]` split, the host lowercased without a trailing dot and
/// IPv6 brackets kept; `None` when it is no authority at all.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.contains(['@', '/', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || (!host.starts_with('[') && host.contains(':')) {
        return None;
    }
    Some((host, port))
}

/// A host that no DNS rebinding can put in a browser's request.
fn is_trusted_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true; // browsers resolve these to loopback themselves
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    host.parse::<IpAddr>().is_ok()
}

fn check_host(headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    // Browsers always send a Host; a request without one is a program's.
    let given = [
        request_host(headers, uri)?,
        uri.authority().map(|a| a.as_str()),
    ];
    for authority in given.into_iter().flatten() {
        let Some((host, _)) = split_authority(authority) else {
            return Err(ApiError::BadRequest(format!(
                "the Host {authority:?} is not a host[:port]"
            )));
        };
        if !is_trusted_host(&host) {
            return Err(ApiError::Forbidden(format!(
                "Host {authority:?} refused: without --admin-token this server answers only \
                 requests addressed to localhost or an IP address (a browser page using DNS \
                 rebinding sends another name)"
            )));
        }
    }
    Ok(())
}

fn check_fetch_site(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(site) = headers.get("sec-fetch-site") else {
        return Ok(());
    };
    match site.to_str().map(str::trim) {
        Ok("same-origin" | "none") => Ok(()),
        _ => Err(ApiError::Forbidden(format!(
            "cross-site request refused (Sec-Fetch-Site: {}); this API takes changes only \
             from its own pages and from programs",
            String::from_utf8_lossy(site.as_bytes())
        ))),
    }
}

/// `Origin` must name this server: the request's host and port (its
/// scheme is not compared: a TLS proxy in front makes it `https`).
fn check_origin(headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin_text = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let refused = || {
        ApiError::Forbidden(format!(
            "cross-origin request refused (Origin {origin_text:?} is not this server); this \
             API takes changes only from its own pages and from programs"
        ))
    };
    let (scheme, rest) = origin_text.split_once("://").ok_or_else(refused)?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(refused()),
    };
    let (origin_host, origin_port) = split_authority(rest).ok_or_else(refused)?;
    let host = request_host(headers, uri)?.ok_or_else(refused)?;
    let (host, port) = split_authority(host).ok_or_else(refused)?;
    let same =
        origin_host == host && origin_port.unwrap_or(default_port) == port.unwrap_or(default_port);
    if same {
        Ok(())
    } else {
        Err(refused())
    }
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

fn check_content_type(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    let must = matches!(*method, Method::POST | Method::PUT | Method::PATCH) || has_body(headers);
    if must && !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_split_into_host_and_port() {
        let cases = [
            ("127.0.0.1:8080", Some(("127.0.0.1", Some(8080)))),
            ("LocalHost.", Some(("localhost", None))),
            ("[::1]:80", Some(("[::1]", Some(80)))),
            ("[::1]", Some(("[::1]", None))),
            ("evil.example", Some(("evil.example", None))),
            ("user@127.0.0.1", None),
            ("127.0.0.1:x", None),
            ("127.0.0.1:80:80", None),
            ("[::1]x", None),
            (":80", None),
            ("", None),
        ];
        for (given, want) in cases {
            let got = split_authority(given);
            let want = want.map(|(h, p)| (h.to_string(), p));
            assert_eq!(got, want, "{given:?}");
        }
    }

    #[test]
    fn loopback_names_and_ip_addresses_are_trusted_other_names_not() {
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.9.8.7",
            "[::1]",
            "10.0.0.5",
        ] {
            assert!(is_trusted_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "[evil]",
        ] {
            assert!(!is_trusted_host(host), "{host}");
        }
    }
}
