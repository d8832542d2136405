//! What a request to the fake internet answers: resolutions, responses,
//! how a transfer fails, reason phrases and content types.

use serde::{Deserialize, Serialize};

/// How a transfer fails part-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// The server closes the connection.
    Drop,
    /// The server stops sending (a read timeout fires).
    Stall,
    /// The connection is reset (`ECONNRESET`): wget's `Read error at byte
    /// N/M (Connection reset by peer)`.
    Reset,
}

/// What resolving a host gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The addresses (wget prints the first three).
    Ips(Vec<String>),
    /// `Name or service not known`.
    Unknown,
}

/// A response to one request.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body size (known even when not sent as Content-Length).
    pub size: u64,
    /// Whether Content-Length is sent.
    pub send_length: bool,
    /// Content-Type.
    pub content_type: String,
    /// Content-Disposition file name.
    pub filename: Option<String>,
    /// Location of a redirect.
    pub location: Option<String>,
    /// The server's rate, if it limits one.
    pub rate: Option<f64>,
    /// Where and how this try fails part-way.
    pub fail: Option<(FailKind, u64)>,
    /// A pause in the body: no bytes after this byte for this many seconds
    /// (`None` = forever).
    pub stall: Option<(u64, Option<f64>)>,
}

/// The reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// A response with only a status, a size and a content type.
pub(crate) fn simple(status: u16, size: u64, ctype: &str) -> Response {
    Response {
        status,
        size,
        send_length: true,
        content_type: ctype.to_string(),
        filename: None,
        location: None,
        rate: None,
        fail: None,
        stall: None,
    }
}

/// The lower-case extension of a file name (`""` when it has none).
pub(crate) fn ext_of(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The Content-Type a server sends for a file name.
pub fn content_type(name: &str) -> &'static str {
    match ext_of(name.split('?').next().unwrap_or("")).as_str() {
        "json" => "application/json",
        "txt" | "md" | "py" => "text/plain",
        "yaml" | "yml" => "application/x-yaml",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        _ => "application/octet-stream",
    }
}
