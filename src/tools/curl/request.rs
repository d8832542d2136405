//! The seam between curl and whatever answers it: a [`Request`] is a value
//! (method, URL, headers, body bytes) and a [`Responder`] turns it into an
//! [`Answer`] (the host does not resolve, the port refuses, or a
//! [`Reply`]: status, headers, body). curl's transfer of that reply (the
//! meter, the file, the faults on the wire) is the run's business, not the
//! responder's.
//!
//! Today the one responder is [`CatalogResponder`]: the fake internet of
//! the catalog, bent by the run's faults (`Remote`), where loopback ports
//! with no service refuse. A service running inside the instance (ComfyUI
//! on `localhost:18188` or `8188`) would be another responder, asked first
//! for its own host and port, answering in-process with real bytes in
//! [`Reply::content`].

use super::body;
use crate::net::response::{reason, Resolution, Response};
use crate::net::Url;
use crate::tools::remote::Remote;

/// One HTTP request as curl sends it.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// `GET`, `HEAD`, `POST`, or what `-X` says.
    pub(crate) method: String,
    /// The URL as requested.
    pub(crate) url: String,
    /// The same, parsed.
    pub(crate) target: Url,
    /// Request headers in the order sent (`Host` first).
    pub(crate) headers: Vec<(String, String)>,
    /// The request body (`-d`).
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (case-insensitive), if sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response as the wire brings it.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    /// The catalog's view: status, size, type, name, redirect, rate, failures.
    pub(crate) resp: Response,
    /// The first byte of the file this body starts at (a `206` answer).
    pub(crate) offset: u64,
    /// The body's bytes when they are real (text, a service's JSON);
    /// `None` means `resp.size` bytes of zeros (a sparse file's content).
    pub(crate) content: Option<Vec<u8>>,
    /// Response headers after the status line.
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    /// Bytes in this body.
    pub(crate) fn len(&self) -> u64 {
        self.content
            .as_ref()
            .map_or(self.resp.size, |c| c.len() as u64)
    }

    /// `HTTP/1.1 200 OK`.
    pub(crate) fn status_line(&self) -> String {
        format!("HTTP/1.1 {} {}", self.resp.status, reason(self.resp.status))
    }
}

/// What a request comes to.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// The host name does not resolve.
    Unresolved,
    /// The connection to this address is refused.
    Refused { ip: String },
    /// The server at this address answers.
    Reply { ip: String, reply: Box<Reply> },
}

/// Anything that answers curl's requests.
pub(crate) trait Responder {
    /// The answer to `req`, the `hop`-th request (0 = first) of try `attempt` (1-based).
    fn respond(&self, req: &Request, attempt: u32, hop: u32, date: &str) -> Answer;
}

/// The catalog's fake internet through the run's faults.
pub(crate) struct CatalogResponder<'a> {
    /// The catalog bent by the faults.
    pub(crate) remote: Remote<'a>,
}

impl Responder for CatalogResponder<'_> {
    fn respond(&self, req: &Request, attempt: u32, hop: u32, date: &str) -> Answer {
        let u = &req.target;
        // A retry or a redirect leg is not "the first try" for the faults.
        let first = if hop == 0 { attempt } else { attempt.max(2) };
        let ip = match self.remote.resolve(&u.host, first) {
            Resolution::Unknown => return Answer::Unresolved,
            Resolution::Ips(ips) => ips.first().cloned().unwrap_or_default(),
        };
        if self.remote.refused(&u.host, u.port, first) {
            return Answer::Refused { ip };
        }
        let authorized = req.header("Authorization").is_some();
        let resp = self.remote.fetch(&req.url, attempt, authorized, hop);
        let reply = answer(req, resp, date);
        Answer::Reply {
            ip,
            reply: Box::new(reply),
        }
    }
}

/// `bytes=N-` of a Range header.
fn range_start(req: &Request) -> Option<u64> {
    let v = req.header("Range")?.trim().strip_prefix("bytes=")?;
    v.strip_suffix('-')?.parse().ok()
}

/// A catalog response as an origin sends it for this request: error pages
/// with their small HTML body, `Range` as `206` or `416`, the headers.
fn answer(req: &Request, mut resp: Response, date: &str) -> Reply {
    let mut offset = 0;
    let mut content = None;
    let name = req.target.file_name();
    if resp.status >= 400 && resp.size == 0 {
        // The origin's own error page (the capture server sent 35 bytes for a 404).
        let page = format!("<html><body>{}</body></html>", reason(resp.status));
        resp.content_type = "text/html".into();
        resp.size = page.len() as u64;
        content = Some(page.into_bytes());
    } else if (200..300).contains(&resp.status) {
        if let Some(from) = range_start(req).filter(|n| *n > 0) {
            if resp.send_length && from >= resp.size {
                let page = "<html><body>Requested Range Not Satisfiable</body></html>".to_string();
                resp.status = 416;
                resp.size = page.len() as u64;
                resp.content_type = "text/html".into();
                resp.fail = None;
                resp.stall = None;
                content = Some(page.into_bytes());
            } else if resp.send_length {
                resp.status = 206;
                offset = from;
            }
        }
        if content.is_none() {
            content = body::text(&name, &resp.content_type, resp.size)
                .map(|t| t.get(offset as usize..).unwrap_or_default().to_vec());
        }
    }
    let full = resp.size;
    if resp.status == 206 {
        resp.size = full - offset;
    }
    let mut headers = vec![
        ("Server".to_string(), "nginx".to_string()),
        ("Date".to_string(), date.to_string()),
        ("Content-Type".to_string(), resp.content_type.clone()),
    ];
    if resp.send_length {
        let len = content.as_ref().map_or(resp.size, |c| c.len() as u64);
        headers.push(("Content-Length".into(), len.to_string()));
    }
    if resp.status == 206 {
        headers.push((
            "Content-Range".into(),
            format!("bytes {offset}-{}/{full}", full.saturating_sub(1)),
        ));
    }
    if resp.status == 416 {
        headers.push(("Content-Range".into(), "bytes */*".into()));
    }
    if (200..300).contains(&resp.status) {
        headers.push(("Accept-Ranges".into(), "bytes".into()));
    }
    if let Some(f) = &resp.filename {
        headers.push((
            "Content-Disposition".into(),
            format!("attachment; filename=\"{f}\""),
        ));
    }
    if let Some(l) = &resp.location {
        headers.push(("Location".into(), l.clone()));
    }
    if !resp.send_length {
        headers.push(("Connection".into(), "close".into()));
    }
    Reply {
        resp,
        offset,
        content,
        headers,
    }
}
