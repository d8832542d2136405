//! One try of a download: resolve, connect, request (following
//! redirects), read the status, name the file (Content-Disposition,
//! `-o`, the URI), deal with a file already there (rename, resume,
//! refuse), allocate it, write the control file and let the body come; and
//! the ways a try ends badly, with aria2's exception traces.

use super::args::Level;
use super::control;
use super::group::{Cut, Phase};
use super::Run;
use crate::net::response::{Resolution, Response};
use crate::net::Url;
use crate::tools::files;

/// Where aria2 throws what (release-1.36.0 line numbers).
pub(super) mod at {
    pub(crate) const WRAP_ABORT: &str = "AbstractCommand.cc:351";
    pub(crate) const WRAP_FAILURE: &str = "AbstractCommand.cc:403";
    pub(crate) const TIMEOUT: &str = "AbstractCommand.cc:340";
    pub(crate) const RESOLVE: &str = "AbstractCommand.cc:789";
    pub(crate) const CONNECT: &str = "AbstractCommand.cc:856";
    pub(crate) const AUTH: &str = "HttpSkipResponseCommand.cc:215";
    pub(crate) const NOT_FOUND: &str = "HttpSkipResponseCommand.cc:218";
    pub(crate) const UNAVAILABLE_RETRY: &str = "HttpSkipResponseCommand.cc:228";
    pub(crate) const UNAVAILABLE: &str = "HttpSkipResponseCommand.cc:231";
    pub(crate) const GATEWAY_TIMEOUT: &str = "HttpSkipResponseCommand.cc:235";
    pub(crate) const BAD_STATUS: &str = "HttpSkipResponseCommand.cc:239";
    pub(crate) const REDIRECTS: &str = "HttpSkipResponseCommand.cc:197";
    pub(crate) const EOF: &str = "DownloadCommand.cc:234";
    pub(crate) const TOO_SLOW: &str = "DownloadCommand.cc:309";
    pub(crate) const RECV: &str = "SocketCore.cc:874";
    pub(crate) const WRITE: &str = "AbstractDiskWriter.cc:453";
    pub(crate) const OPEN: &str = "AbstractDiskWriter.cc:259";
    pub(crate) const EXISTS: &str = "RequestGroup.cc:783";
}

/// How a try failed, as aria2 classes its exceptions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// `DlAbortEx`: no retry; logged wrapped in `URI=…`.
    Abort,
    /// `DownloadFailureException`: no retry, the download halts.
    Failure,
    /// `DlRetryEx`: retried until `--max-tries`.
    Retry,
}

/// The target of a redirect from `base`.
fn join_location(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let Some(u) = Url::parse(base) else {
        return loc.to_string();
    };
    let host = if u.host.contains(':') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    let origin = format!("{}://{host}:{}", u.scheme, u.port);
    if loc.starts_with('/') {
        format!("{origin}{loc}")
    } else {
        let dir = u.path_only().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{origin}{dir}/{loc}")
    }
}

/// `%41` → `A` in a file name taken from a URI.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file name aria2 takes from a URI: the last path segment, decoded
/// (`index.html` when there is none).
fn uri_name(uri: &str) -> String {
    let name = Url::parse(uri)
        .map(|u| u.path_only().rsplit('/').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let name = percent_decode(&name);
    if name.is_empty() || name == "." || name == ".." {
        "index.html".into()
    } else {
        name
    }
}

/// `dir/name`, as `util::applyDir` joins them.
fn apply_dir(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl Run<'_> {
    fn lat(&mut self, lo: f64, hi: f64) -> f64 {
        self.tool.link(None, 0).latency(lo, hi)
    }

    /// Starts try number `attempt` of download `i`.
    pub(super) async fn begin(&mut self, i: usize) {
        let attempt = self.groups[i].attempt;
        let cuid = self.groups[i].cuid;
        let raw = self.groups[i].uri().to_string();
        let text = if raw.contains("://") {
            raw.clone()
        } else {
            format!("http://{raw}")
        };
        self.groups[i].current_uri = text.clone();
        let Some(url) = Url::parse(&text) else {
            let msg = format!("CUID#{cuid} - Name resolution for  failed:Domain name not found");
            return self.fail(i, Class::Abort, 19, at::RESOLVE, &msg, 0.0).await;
        };
        if !url.host_is_ip() && self.tool.remote.resolve(&url.host, attempt) == Resolution::Unknown
        {
            let msg = format!(
                "CUID#{cuid} - Name resolution for {} failed:Domain name not found",
                url.host
            );
            return self.fail(i, Class::Abort, 19, at::RESOLVE, &msg, 0.0).await;
        }
        let mut lat = self.lat(0.001, 0.003);
        if self.tool.remote.refused(&url.host, url.port, attempt) {
            let msg = "Failed to establish connection, cause: Connection refused";
            return self.fail(i, Class::Retry, 1, at::CONNECT, msg, lat).await;
        }
        let mut current = text;
        let mut hop = 0;
        let resp = loop {
            lat += self.lat(0.02, 0.025);
            let r = self
                .tool
                .remote
                .fetch(&current, attempt, self.o.authorized, hop);
            match r.location.clone() {
                Some(loc) if (300..400).contains(&r.status) && hop < 20 => {
                    current = join_location(&current, &loc);
                    hop += 1;
                }
                _ => break r,
            }
        };
        self.groups[i].current_uri = current.clone();
        if (300..400).contains(&resp.status) && resp.location.is_some() {
            let msg = format!("Too many redirects: count={hop}");
            return self
                .fail(i, Class::Abort, 23, at::REDIRECTS, &msg, lat)
                .await;
        }
        if resp.status >= 300 {
            return self.bad_status(i, resp.status, lat).await;
        }
        self.open(i, resp, &current, lat).await;
    }

    /// A 4xx/5xx answer (`HttpSkipResponseCommand::processResponse`).
    async fn bad_status(&mut self, i: usize, status: u16, lat: f64) {
        let bad = format!("The response status is not successful. status={status}");
        let (class, code, line, msg) = match status {
            401 => (
                Class::Abort,
                24,
                at::AUTH,
                "Authorization failed.".to_string(),
            ),
            404 => (
                Class::Abort,
                3,
                at::NOT_FOUND,
                "Resource not found".to_string(),
            ),
            502 | 503 if self.o.retry_wait > 0 => (Class::Retry, 29, at::UNAVAILABLE_RETRY, bad),
            502 | 503 => (Class::Abort, 29, at::UNAVAILABLE, bad),
            504 => (Class::Retry, 29, at::GATEWAY_TIMEOUT, bad),
            _ => (Class::Abort, 22, at::BAD_STATUS, bad),
        };
        self.fail(i, class, code, line, &msg, lat).await;
    }

    /// A 2xx answer: the file is named, checked, allocated, and the body starts.
    async fn open(&mut self, i: usize, resp: Response, current: &str, lat: f64) {
        let now = self.tool.clock.now();
        let has_length = resp.send_length;
        let total = if has_length { resp.size } else { 0 };
        let initial = if let Some(path) = self.groups[i].path.clone() {
            // A retry within this run: aria2 keeps what it has.
            if has_length && files::file_size(self.tool.ctx, &path).is_none() {
                0
            } else {
                self.groups[i].done
            }
        } else {
            let name = match (&self.groups[i].out, &resp.filename) {
                (Some(o), _) => o.clone(),
                (None, Some(cd)) => cd.rsplit(['/', '\\']).next().unwrap_or(cd).to_string(),
                (None, None) => uri_name(current),
            };
            let mut path = apply_dir(&self.groups[i].dir, &name);
            let exists = files::exists(self.tool.ctx, &path);
            let mut initial = 0;
            if exists && control::exists(self.tool.ctx, &path) && has_length {
                initial = control::load(self.tool.ctx, &path, total).unwrap_or(0);
            } else if exists && self.o.cont {
                let have = files::file_size(self.tool.ctx, &path).unwrap_or(0);
                if has_length && have >= total {
                    self.groups[i].path = Some(path.clone());
                    return self.already_complete(i, &path).await;
                }
                initial = if has_length { have } else { 0 };
            } else if exists && !self.o.allow_overwrite {
                if !self.o.auto_rename {
                    self.groups[i].path = Some(path.clone());
                    let msg = format!(
                        "File {path} exists, but a control file(*.aria2) does not exist. Download was canceled in order to prevent your file from being truncated to 0. If you are sure to download the file all over again, then delete it or add --allow-overwrite=true option and restart aria2."
                    );
                    return self
                        .fail(i, Class::Failure, 13, at::EXISTS, &msg, lat)
                        .await;
                }
                path = self.renamed(&path);
                self.log(
                    Level::Notice,
                    &format!("File already exists. Renamed to {path}."),
                    "",
                )
                .await;
            }
            self.groups[i].path = Some(path);
            initial
        };
        let Some(path) = self.groups[i].path.clone() else {
            return;
        };
        // `-o sub/name` makes its directories too.
        let parent = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
        let _ = files::create_dir_all(self.tool.ctx, if parent.is_empty() { "/" } else { parent });
        let alloc = if has_length && self.o.prealloc {
            total
        } else {
            initial
        };
        let made = if initial == 0 {
            files::create_sized(self.tool.ctx, &path, alloc)
        } else {
            files::set_len(self.tool.ctx, &path, alloc.max(initial))
        };
        if let Err(e) = made {
            let msg = format!(
                "Failed to open the file {path}, cause: {}",
                crate::program::strerror(&e)
            );
            return self.fail(i, Class::Abort, 1, at::OPEN, &msg, lat).await;
        }
        if has_length {
            control::save(self.tool.ctx, &path, total, initial);
        }
        let n = if has_length && total > self.o.min_split {
            self.o.split.min(self.o.max_conn)
        } else {
            1
        };
        // The other connections open once the first answer gave the length.
        let lat = if n > 1 {
            lat + self.lat(0.07, 0.072)
        } else {
            lat
        };
        let end = resp.size;
        let mut cuts = Vec::new();
        if let Some((kind, at)) = resp.fail {
            cuts.push((at.max(initial), Cut::Fail(kind)));
        }
        if let Some((at, d)) = resp.stall {
            cuts.push((at.max(initial), Cut::Stall(d)));
        }
        if let Some(at) = self.tool.remote.disk_full_at(end) {
            cuts.push((at.max(initial), Cut::DiskFull));
        }
        if let Some(at) = self.tool.remote.disconnect_at(end) {
            cuts.push((at.max(initial), Cut::Hangup));
        }
        let link = self.tool.link(resp.rate, self.o.limit);
        let first_try = self.groups[i].link.is_none();
        let g = &mut self.groups[i];
        g.total = total;
        g.has_length = has_length;
        g.done = initial;
        g.split(n);
        if first_try {
            self.next_cuid += g.segs.len().saturating_sub(1) as u64;
        }
        g.link = Some(link);
        g.cuts = cuts;
        g.resp = Some(resp);
        g.phase = Phase::Transfer(now + lat);
        g.mark = (now + lat, initial);
        g.body_start = now + lat;
    }

    /// `name.1.ext`, `name.2.ext`, …: the first free name (`tryAutoFileRenaming`).
    fn renamed(&self, path: &str) -> String {
        let slash = path.rfind('/').map(|p| p + 1).unwrap_or(0);
        let (stem, ext) = match path[slash..].rfind('.') {
            Some(d) if d > 0 => path.split_at(slash + d),
            _ => (path, ""),
        };
        (1..10000)
            .map(|n| format!("{stem}.{n}{ext}"))
            .find(|c| !files::exists(self.tool.ctx, c) && !control::exists(self.tool.ctx, c))
            .unwrap_or_else(|| path.to_string())
    }

    /// `-c` on a file already complete.
    async fn already_complete(&mut self, i: usize, path: &str) {
        let gid = self.groups[i].gid16();
        self.log(
            Level::Notice,
            &format!("GID#{gid} - Download has already completed: {path}"),
            "",
        )
        .await;
        let g = &mut self.groups[i];
        g.done = files::file_size(self.tool.ctx, path).unwrap_or(0);
        g.total = g.done;
        g.result = Some(0);
        g.already = true;
        g.ended = g.started;
        self.remove(i).await;
    }

    /// A try that failed: logged as aria2 logs its exception, then retried,
    /// moved on to the next URI, or the end of the download.
    pub(super) async fn fail(
        &mut self,
        i: usize,
        class: Class,
        code: i32,
        line: &str,
        msg: &str,
        lat: f64,
    ) {
        let now = self.tool.clock.now();
        let (cuid, uri, current) = {
            let g = &self.groups[i];
            (g.cuid, g.uri().to_string(), g.current_uri.clone())
        };
        let g = &mut self.groups[i];
        g.segs.clear();
        g.attempt = g.attempt.saturating_add(1);
        if class == Class::Retry {
            g.tries = g.tries.saturating_add(1);
            if self.o.max_tries == 0 || g.tries < self.o.max_tries {
                let wait = if code == 29 {
                    self.o.retry_wait as f64
                } else {
                    0.0
                };
                g.phase = Phase::Start(now + lat + wait);
                return;
            }
        }
        let head = format!("CUID#{cuid} - Download aborted. URI={uri}");
        let trace = match class {
            Class::Retry => format!("Exception: [{line}] errorCode={code} {msg}\n"),
            Class::Abort | Class::Failure => {
                let wrap = if class == Class::Abort {
                    at::WRAP_ABORT
                } else {
                    at::WRAP_FAILURE
                };
                format!(
                    "Exception: [{wrap}] errorCode={code} URI={current}\n  -> [{line}] errorCode={code} {msg}\n"
                )
            }
        };
        self.log(Level::Error, &head, &trace).await;
        let g = &mut self.groups[i];
        if class != Class::Failure && g.uri_idx + 1 < g.uris.len() {
            g.uri_idx += 1;
            g.tries = 0;
            g.phase = Phase::Start(now + lat);
            return;
        }
        g.result = Some(code);
        g.ended = now + lat;
        // An HTTP error status ends the download at the next readout.
        let http = line.starts_with("HttpSkipResponseCommand");
        if http {
            g.phase = Phase::Stopping;
        } else {
            self.remove(i).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_uri_path() {
        assert_eq!(uri_name("http://h/a/b%20c.bin?x=1"), "b c.bin");
        assert_eq!(uri_name("http://h/"), "index.html");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(join_location("http://h:80/a/b", "/c"), "http://h:80/c");
        assert_eq!(join_location("http://h/a/b", "http://x/y"), "http://x/y");
    }
}
