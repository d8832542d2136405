//! One URL from the command line, all its tries: resolve, connect, send
//! the request, follow redirects, read the status and the length, open the
//! target, hand the body to [`super::body`] and report how it went.

use super::args::Verbosity;
use super::body::TryEnd;
use super::format::{human_readable, retr_rate};
use super::Run;
use crate::net::response::{reason, FailKind, Resolution, Response};
use crate::net::Url;
use crate::tools::files;

impl Run<'_> {
    /// Normalises a command-line URL: shorthand gets `http://`; errors are wget's text.
    fn url_of(&self, arg: &str) -> Result<(String, Url), String> {
        let lower = arg.to_ascii_lowercase();
        let known = ["http://", "https://", "ftp://", "ftps://"]
            .iter()
            .any(|s| lower.starts_with(s));
        let text = if known {
            arg.to_string()
        } else {
            let first = arg.find([':', '/']);
            match first {
                Some(0) => return Err(format!("{arg}: Invalid URL {arg}: Scheme missing\n")),
                Some(p) if arg[p..].starts_with("://") => {
                    return Err(format!(
                        "{arg}: Unsupported scheme {}.\n",
                        self.quote(&arg[..p])
                    ));
                }
                _ => format!("http://{arg}"),
            }
        };
        match Url::parse(&text) {
            Some(u) if u.scheme.starts_with("ftp") => Err(format!(
                "{text}: Unsupported scheme {}.\n",
                self.quote(&u.scheme)
            )),
            Some(u) => Ok((text, u)),
            None => Err(format!("{text}: Invalid host name.\n")),
        }
    }

    /// Resolve + connect; prints the lines; `Err(exit code)` on failure.
    async fn connect(&mut self, url: &Url, attempt: u32) -> Result<String, i32> {
        let host = url.host.clone();
        let ip = if url.host_is_ip() {
            host.clone()
        } else {
            let cached = self.resolved.contains(&host);
            if !cached {
                self.v(format!("Resolving {host} ({host})... ")).await;
                self.tool.io.flush().await;
                self.wait(0.005, 0.06).await;
            }
            match self.tool.remote.resolve(&host, attempt) {
                Resolution::Unknown => {
                    self.v("failed: Name or service not known.\n").await;
                    let q = self.quote(&host);
                    self.nq(format!("wget: unable to resolve host address {q}\n"))
                        .await;
                    return Err(4);
                }
                Resolution::Ips(ips) => {
                    if !cached {
                        let mut shown: Vec<&str> = ips.iter().take(3).map(String::as_str).collect();
                        if ips.len() > 3 {
                            shown.push("...");
                        }
                        self.v(format!("{}\n", shown.join(", "))).await;
                        self.resolved.push(host.clone());
                    }
                    ips.first().cloned().unwrap_or_default()
                }
            }
        };
        if url.host_is_ip() {
            let shown = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.clone()
            };
            self.v(format!("Connecting to {shown}:{}... ", url.port))
                .await;
        } else {
            let shown = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.clone()
            };
            self.v(format!(
                "Connecting to {host} ({host})|{shown}|:{}... ",
                url.port
            ))
            .await;
        }
        self.tool.io.flush().await;
        self.wait(0.01, 0.08).await;
        if self.tool.remote.refused(&host, url.port, attempt) {
            self.nq("failed: Connection refused.\n").await;
            return Err(4);
        }
        self.v("connected.\n").await;
        Ok(ip)
    }

    fn local_name(&self, orig: &Url, fin: &Url, cd: Option<&str>) -> String {
        let base = if self.o.content_disposition {
            cd.map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
                .unwrap_or_else(|| fin.file_name())
        } else {
            orig.file_name()
        };
        match &self.o.prefix {
            Some(p) if !p.is_empty() => {
                if p.ends_with('/') {
                    format!("{p}{base}")
                } else {
                    format!("{p}/{base}")
                }
            }
            _ => base,
        }
    }

    fn unique_name(&self, name: &str) -> String {
        if !files::exists(self.tool.ctx, name) {
            return name.to_string();
        }
        (1..)
            .map(|n| format!("{name}.{n}"))
            .find(|c| !files::exists(self.tool.ctx, c))
            .unwrap_or_else(|| name.to_string())
    }

    /// One URL, all its tries. Returns the exit status for it.
    pub(super) async fn get(&mut self, arg: &str) -> i32 {
        let (text, url) = match self.url_of(arg) {
            Ok(x) => x,
            Err(msg) => {
                self.nq(msg).await;
                return 1;
            }
        };
        if self.already_there(&url).await {
            return 0;
        }
        let mut attempt = 1u32;
        let mut initial_known: Option<u64> = None;
        loop {
            let t = Try {
                text: &text,
                url: &url,
                attempt,
            };
            match self.one_try(&t, initial_known).await {
                Next::Exit(code) => return code,
                Next::Retry(at) => {
                    if at.is_some() {
                        initial_known = at;
                    }
                    let backoff = f64::from(attempt.min(10));
                    self.tool.pause(backoff).await;
                    attempt += 1;
                }
            }
        }
    }

    /// `-nc` without `-O` and without `--content-disposition`: checked
    /// before any request.
    async fn already_there(&mut self, url: &Url) -> bool {
        if !self.o.no_clobber || self.o.output.is_some() || self.o.content_disposition {
            return false;
        }
        let name = self.local_name(url, url, None);
        if !files::exists(self.tool.ctx, &name) {
            return false;
        }
        let q = self.quote(&name);
        self.v(format!("File {q} already there; not retrieving.\n\n"))
            .await;
        true
    }

    /// One try: the request chain, the status, the length, the target,
    /// the body and the line that says how it went.
    async fn one_try(&mut self, t: &Try<'_>, initial_known: Option<u64>) -> Next {
        let (date, text, attempt) = (self.tool.clock.date(), t.text, t.attempt);
        if attempt == 1 {
            self.v(format!("--{date}--  {text}\n")).await;
        } else {
            self.v(format!("--{date}--  (try:{attempt:2})  {text}\n"))
                .await;
        }
        // -nv announces the URL only when something goes wrong (below).
        let reply = match self.request(t).await {
            Ok(r) => r,
            Err(code) => return Next::Exit(code),
        };
        let resp = &reply.resp;
        let to_stdout = self.o.output.as_deref() == Some("-");
        let name = match &self.o.output {
            Some(o) => o.clone(),
            None => self.local_name(t.url, &reply.url, resp.filename.as_deref()),
        };
        let existing = if to_stdout {
            None
        } else {
            files::file_size(self.tool.ctx, &name)
        };
        if let Some(next) = self.http_error(t, resp.status).await {
            return next;
        }
        let resume_from = match (self.o.cont || attempt > 1, existing.or(initial_known)) {
            (true, Some(n)) if n > 0 => Some(n),
            _ => None,
        };
        if let Some(have) = resume_from {
            if have >= resp.size && resp.send_length {
                self.v("416 Requested Range Not Satisfiable\n").await;
                self.v("\n    The file is already fully retrieved; nothing to do.\n\n")
                    .await;
                return Next::Exit(0);
            }
        }
        let initial = resume_from.unwrap_or(0);
        if initial > 0 {
            self.v("206 Partial Content\n").await;
        } else {
            self.v(format!("{} {}\n", resp.status, reason(resp.status)))
                .await;
        }
        if self.o.no_clobber && self.o.output.is_none() && existing.is_some() {
            // --content-disposition: the name is known only now; wget stops quietly.
            return Next::Exit(0);
        }
        self.length_line(resp, initial).await;
        let target = if to_stdout {
            None
        } else {
            match self.open_target(t, name, initial).await {
                Ok(n) => Some(n),
                Err(code) => return Next::Exit(code),
            }
        };
        let shown = self.quote(target.as_deref().unwrap_or("STDOUT"));
        self.v(format!("Saving to: {shown}\n")).await;
        let end = self.body(resp, target.as_deref(), initial).await;
        self.report(t, &reply, target.as_deref(), initial, end)
            .await
    }

    /// The request chain: connect (or reuse the connection), send, and
    /// follow redirects (at most 20); `Err(exit code)` when it breaks off.
    async fn request(&mut self, t: &Try<'_>) -> Result<Reply, i32> {
        let attempt = t.attempt;
        let mut cur_text = t.text.to_string();
        let mut cur = t.url.clone();
        let mut conn: Option<(String, String, u16)> = None; // (shown host, ip, port)
        let mut hops = 0;
        loop {
            if self.reusable(conn.as_ref(), &cur, attempt) {
                let (h, _, p) = conn.clone().unwrap_or_default();
                self.v(format!("Reusing existing connection to {h}:{p}.\n"))
                    .await;
            } else {
                let ip = self.connect(&cur, attempt).await?;
                conn = Some((cur.host.clone(), ip, cur.port));
            }
            self.v("HTTP request sent, awaiting response... ").await;
            self.tool.io.flush().await;
            self.wait(0.05, 0.3).await;
            let r = self
                .tool
                .remote
                .fetch(&cur_text, attempt, self.o.authorized, hops);
            if !((300..400).contains(&r.status) && r.location.is_some() && hops < 20) {
                return Ok(Reply {
                    resp: r,
                    url: cur,
                    text: cur_text,
                });
            }
            let loc = r.location.clone().unwrap_or_default();
            self.v(format!(
                "{} {}\nLocation: {loc} [following]\n",
                r.status,
                reason(r.status)
            ))
            .await;
            hops += 1;
            cur = Url::parse(&loc).ok_or(7)?;
            cur_text = loc;
            let date = self.tool.clock.date();
            self.v(format!("--{date}--  {cur_text}\n")).await;
        }
    }

    /// Whether the open connection `(host, ip, port)` serves `url` too:
    /// the same port and the address its host resolves to.
    fn reusable(&self, conn: Option<&(String, String, u16)>, url: &Url, attempt: u32) -> bool {
        let Some((_, ip, _)) = conn.filter(|(_, _, port)| *port == url.port) else {
            return false;
        };
        let ip2 = if url.host_is_ip() {
            Some(url.host.clone())
        } else {
            match self.tool.remote.resolve(&url.host, attempt) {
                Resolution::Ips(v) => v.first().cloned(),
                Resolution::Unknown => None,
            }
        };
        ip2.as_deref() == Some(ip.as_str())
    }

    /// A 4xx or 5xx status. 401 ends with exit 6; 504 is retried like a
    /// network error, other codes only when listed in
    /// `--retry-on-http-error` (http.c: GATEWAYTIMEOUT,
    /// check_retry_on_http_error); any other ends with `ERROR N`, exit 8.
    async fn http_error(&mut self, t: &Try<'_>, status: u16) -> Option<Next> {
        if status == 401 {
            self.v(format!("{status} {}\n", reason(status))).await;
            self.nq("\nUsername/Password Authentication Failed.\n")
                .await;
            return Some(Next::Exit(6));
        }
        if status < 400 {
            return None;
        }
        self.v(format!("{status} {}\n", reason(status))).await;
        let gateway = status == 504;
        if gateway || self.o.retry_on_http_error.contains(&status) {
            if !gateway && self.o.verbosity == Verbosity::NoVerbose {
                self.nq(format!("{}:\n", t.text)).await;
            }
            let last = t.attempt >= self.o.tries;
            self.v(if last {
                "Giving up.\n\n"
            } else {
                "Retrying.\n\n"
            })
            .await;
            return Some(if last {
                Next::Exit(4)
            } else {
                Next::Retry(None)
            });
        }
        if self.o.verbosity == Verbosity::NoVerbose {
            self.nq(format!("{}:\n", t.text)).await;
        }
        let date = self.tool.clock.date();
        self.nq(format!("{date} ERROR {status}: {}.\n", reason(status)))
            .await;
        self.v("\n").await;
        Some(Next::Exit(8))
    }

    /// `Length: 3000000 (2.9M) [application/octet-stream]`, with the part
    /// remaining when resumed, or `unspecified`.
    async fn length_line(&mut self, resp: &Response, initial: u64) {
        let size = resp.size;
        let ctype = if resp.content_type.is_empty() {
            String::new()
        } else {
            format!(" [{}]", resp.content_type)
        };
        if !resp.send_length {
            self.v(format!("Length: unspecified{ctype}\n")).await;
            return;
        }
        let hr = |n: u64| {
            if n >= 1024 {
                format!(" ({})", human_readable(n, 10, 1))
            } else {
                String::new()
            }
        };
        if initial > 0 {
            let rem = size - initial;
            self.v(format!(
                "Length: {size}{}, {rem}{} remaining{ctype}\n",
                hr(size),
                hr(rem)
            ))
            .await;
        } else {
            self.v(format!("Length: {size}{}{ctype}\n", hr(size))).await;
        }
    }

    /// Opens the local file (a `.N` name on a fresh first try, the `-P`
    /// directory made), at `initial` bytes; `Err(3)` when it cannot be written.
    async fn open_target(
        &mut self,
        t: &Try<'_>,
        name: String,
        initial: u64,
    ) -> Result<String, i32> {
        let fresh = initial == 0 && self.o.output.is_none() && !self.o.cont && t.attempt == 1;
        let name = if fresh { self.unique_name(&name) } else { name };
        if let Some(dir) = self.o.prefix.clone().filter(|_| self.o.output.is_none()) {
            let _ = files::create_dir_all(self.tool.ctx, &dir);
        }
        let opened = if initial > 0 {
            files::set_len(self.tool.ctx, &name, initial)
        } else {
            files::create_sized(self.tool.ctx, &name, 0)
        };
        if let Err(e) = opened {
            let msg = crate::program::strerror(&e);
            self.nq(format!("{name}: {msg}\n")).await;
            self.nq(format!("Cannot write to {} ({msg}).\n", self.quote(&name)))
                .await;
            return Err(3);
        }
        Ok(name)
    }

    /// The line after the body: saved, written to stdout, a read error
    /// (retried until `--tries`), or a full disk (fatal).
    async fn report(
        &mut self,
        t: &Try<'_>,
        reply: &Reply,
        target: Option<&str>,
        initial: u64,
        end: TryEnd,
    ) -> Next {
        let resp = &reply.resp;
        let size = resp.size;
        match end {
            TryEnd::Gone => Next::Exit(0),
            TryEnd::WriteFailed => {
                // FWRITEERR: fatal, no retry, exit 3 (WGET_EXIT_IO_FAIL).
                let q = self.quote(target.unwrap_or("-"));
                self.v("\n").await;
                self.nq(format!("Cannot write to {q} (No space left on device).\n"))
                    .await;
                Next::Exit(3)
            }
            TryEnd::Done { bytes, secs } => {
                let total = initial + bytes;
                self.files_done += 1;
                self.bytes_done += bytes;
                self.dl_secs += secs;
                let date = self.tool.clock.date();
                let rate = retr_rate(bytes, secs);
                let len = if resp.send_length {
                    format!("{total}/{size}")
                } else {
                    total.to_string()
                };
                match target {
                    None => {
                        self.v(format!("{date} ({rate}) - written to stdout [{len}]\n\n"))
                            .await
                    }
                    Some(n) => {
                        let q = self.quote(n);
                        self.v(format!("{date} ({rate}) - {q} saved [{len}]\n\n"))
                            .await
                    }
                };
                if self.o.verbosity == Verbosity::NoVerbose {
                    let n = target.unwrap_or("-");
                    let (cur_text, attempt) = (&reply.text, t.attempt);
                    self.nq(format!(
                        "{date} URL:{cur_text} [{len}] -> \"{n}\" [{attempt}]\n"
                    ))
                    .await;
                }
                Next::Exit(0)
            }
            TryEnd::Failed {
                kind,
                at,
                bytes,
                secs,
            } => {
                let date = self.tool.clock.date();
                let rate = retr_rate(bytes, secs);
                let last = t.attempt >= self.o.tries;
                let what = if last { "Giving up." } else { "Retrying." };
                // http.c: "Read error at byte %s/%s (%s). " with a length,
                // "Read error at byte %s (%s)." without; both LOG_VERBOSE.
                let read_error = |why: &str| {
                    if resp.send_length {
                        format!(
                            "{date} ({rate}) - Read error at byte {at}/{size} ({why}). {what}\n\n"
                        )
                    } else {
                        format!("{date} ({rate}) - Read error at byte {at} ({why}).{what}\n\n")
                    }
                };
                let msg = match kind {
                    FailKind::Drop => {
                        format!("{date} ({rate}) - Connection closed at byte {at}. {what}\n\n")
                    }
                    FailKind::Stall => read_error("Connection timed out"),
                    FailKind::Reset => read_error("Connection reset by peer"),
                };
                self.v(msg).await;
                if last {
                    Next::Exit(4)
                } else {
                    Next::Retry(Some(at))
                }
            }
        }
    }
}

/// The URL of one try and its number.
struct Try<'t> {
    /// The URL as normalised from the command line.
    text: &'t str,
    url: &'t Url,
    /// 1 for the first try.
    attempt: u32,
}

/// The answer at the end of the redirect chain.
struct Reply {
    resp: Response,
    /// The URL that answered (after redirects).
    url: Url,
    text: String,
}

/// What a try leads to.
enum Next {
    /// The URL is done, with this exit status.
    Exit(i32),
    /// Another try after the backoff, resuming at this byte when known.
    Retry(Option<u64>),
}
