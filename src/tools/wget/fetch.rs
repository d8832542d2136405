//! One URL from the command line, all its tries: resolve, connect, send
//! the request, follow redirects, read the status and the length, open the
//! target, hand the body to [`super::body`] and report how it went.

use super::args::Verbosity;
use super::body::TryEnd;
use super::format::{human_readable, retr_rate};
use super::Run;
use crate::net::response::{reason, FailKind, Resolution};
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
        let to_stdout = self.o.output.as_deref() == Some("-");
        // -nc without -O and without --content-disposition: checked before any request.
        if self.o.no_clobber && self.o.output.is_none() && !self.o.content_disposition {
            let name = self.local_name(&url, &url, None);
            if files::exists(self.tool.ctx, &name) {
                let q = self.quote(&name);
                self.v(format!("File {q} already there; not retrieving.\n\n"))
                    .await;
                return 0;
            }
        }
        let mut attempt = 1u32;
        let mut initial_known: Option<u64> = None;
        loop {
            let date = self.tool.clock.date();
            if attempt == 1 {
                self.v(format!("--{date}--  {text}\n")).await;
            } else {
                self.v(format!("--{date}--  (try:{attempt:2})  {text}\n"))
                    .await;
            }
            if self.o.verbosity == Verbosity::NoVerbose {
                // -nv announces the URL only when something goes wrong (below).
            }
            // Request chain (redirects).
            let mut cur_text = text.clone();
            let mut cur = url.clone();
            let mut conn: Option<(String, String, u16)> = None; // (shown host, ip, port)
            let mut hops = 0;
            let resp = loop {
                let reuse = match &conn {
                    Some((_, ip, port)) if *port == cur.port => {
                        let ip2 = if cur.host_is_ip() {
                            Some(cur.host.clone())
                        } else {
                            match self.tool.remote.resolve(&cur.host, attempt) {
                                Resolution::Ips(v) => v.first().cloned(),
                                Resolution::Unknown => None,
                            }
                        };
                        ip2.as_deref() == Some(ip.as_str())
                    }
                    _ => false,
                };
                if reuse {
                    let (h, _, p) = conn.clone().unwrap_or_default();
                    self.v(format!("Reusing existing connection to {h}:{p}.\n"))
                        .await;
                } else {
                    match self.connect(&cur, attempt).await {
                        Ok(ip) => conn = Some((cur.host.clone(), ip, cur.port)),
                        Err(code) => return code,
                    }
                }
                self.v("HTTP request sent, awaiting response... ").await;
                self.tool.io.flush().await;
                self.wait(0.05, 0.3).await;
                let r = self
                    .tool
                    .remote
                    .fetch(&cur_text, attempt, self.o.authorized, hops);
                if (300..400).contains(&r.status) && r.location.is_some() && hops < 20 {
                    let loc = r.location.clone().unwrap_or_default();
                    self.v(format!(
                        "{} {}\nLocation: {loc} [following]\n",
                        r.status,
                        reason(r.status)
                    ))
                    .await;
                    hops += 1;
                    match Url::parse(&loc) {
                        Some(u) => {
                            cur = u;
                            cur_text = loc;
                        }
                        None => return 7,
                    }
                    let date = self.tool.clock.date();
                    self.v(format!("--{date}--  {cur_text}\n")).await;
                    continue;
                }
                break r;
            };
            // Local target.
            let name = match &self.o.output {
                Some(o) => o.clone(),
                None => self.local_name(&url, &cur, resp.filename.as_deref()),
            };
            let existing = if to_stdout {
                None
            } else {
                files::file_size(self.tool.ctx, &name)
            };
            let status = resp.status;
            if status == 401 {
                self.v(format!("{status} {}\n", reason(status))).await;
                self.nq("\nUsername/Password Authentication Failed.\n")
                    .await;
                return 6;
            }
            // 504 is retried like a network error; other codes only when
            // listed in --retry-on-http-error (http.c: GATEWAYTIMEOUT,
            // check_retry_on_http_error).
            let gateway = status == 504;
            if status >= 400 && (gateway || self.o.retry_on_http_error.contains(&status)) {
                self.v(format!("{status} {}\n", reason(status))).await;
                if !gateway && self.o.verbosity == Verbosity::NoVerbose {
                    self.nq(format!("{text}:\n")).await;
                }
                let last = attempt >= self.o.tries;
                self.v(if last {
                    "Giving up.\n\n"
                } else {
                    "Retrying.\n\n"
                })
                .await;
                if last {
                    return 4;
                }
                let backoff = f64::from(attempt.min(10));
                self.tool.pause(backoff).await;
                attempt += 1;
                continue;
            }
            if status >= 400 {
                self.v(format!("{status} {}\n", reason(status))).await;
                if self.o.verbosity == Verbosity::NoVerbose {
                    self.nq(format!("{text}:\n")).await;
                }
                let date = self.tool.clock.date();
                self.nq(format!("{date} ERROR {status}: {}.\n", reason(status)))
                    .await;
                self.v("\n").await;
                return 8;
            }
            let resume_from = match (self.o.cont || attempt > 1, existing.or(initial_known)) {
                (true, Some(n)) if n > 0 => Some(n),
                _ => None,
            };
            let size = resp.size;
            if let Some(have) = resume_from {
                if have >= size && resp.send_length {
                    self.v("416 Requested Range Not Satisfiable\n").await;
                    self.v("\n    The file is already fully retrieved; nothing to do.\n\n")
                        .await;
                    return 0;
                }
            }
            let initial = resume_from.unwrap_or(0);
            if initial > 0 {
                self.v("206 Partial Content\n").await;
            } else {
                self.v(format!("{status} {}\n", reason(status))).await;
            }
            if self.o.no_clobber && self.o.output.is_none() && existing.is_some() {
                // --content-disposition: the name is known only now; wget stops quietly.
                return 0;
            }
            // Length line.
            let ctype = if resp.content_type.is_empty() {
                String::new()
            } else {
                format!(" [{}]", resp.content_type)
            };
            if resp.send_length {
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
            } else {
                self.v(format!("Length: unspecified{ctype}\n")).await;
            }
            // Open the target.
            let target = if to_stdout {
                None
            } else {
                let name =
                    if initial == 0 && self.o.output.is_none() && !self.o.cont && attempt == 1 {
                        self.unique_name(&name)
                    } else {
                        name
                    };
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
                    return 3;
                }
                Some(name)
            };
            let shown = target
                .clone()
                .map(|n| self.quote(&n))
                .unwrap_or_else(|| self.quote("STDOUT"));
            self.v(format!("Saving to: {shown}\n")).await;
            let end = self.body(&resp, target.as_deref(), initial).await;
            match end {
                TryEnd::Gone => return 0,
                TryEnd::WriteFailed => {
                    // FWRITEERR: fatal, no retry, exit 3 (WGET_EXIT_IO_FAIL).
                    let q = self.quote(target.as_deref().unwrap_or("-"));
                    self.v("\n").await;
                    self.nq(format!("Cannot write to {q} (No space left on device).\n"))
                        .await;
                    return 3;
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
                    match &target {
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
                        let n = target.clone().unwrap_or_else(|| "-".into());
                        self.nq(format!(
                            "{date} URL:{cur_text} [{len}] -> \"{n}\" [{attempt}]\n"
                        ))
                        .await;
                    }
                    return 0;
                }
                TryEnd::Failed {
                    kind,
                    at,
                    bytes,
                    secs,
                } => {
                    let date = self.tool.clock.date();
                    let rate = retr_rate(bytes, secs);
                    let last = attempt >= self.o.tries;
                    let what = if last { "Giving up." } else { "Retrying." };
                    // http.c: "Read error at byte %s/%s (%s). " with a length,
                    // "Read error at byte %s (%s)." without; both LOG_VERBOSE.
                    let read_error = |why: &str| {
                        if resp.send_length {
                            format!("{date} ({rate}) - Read error at byte {at}/{size} ({why}). {what}\n\n")
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
                        return 4;
                    }
                    initial_known = Some(at);
                    let backoff = f64::from(attempt.min(10));
                    self.tool.pause(backoff).await;
                    attempt += 1;
                }
            }
        }
    }
}
