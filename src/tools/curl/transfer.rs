//! One URL from the command line, all its tries (`--retry`), and one try:
//! the request, the answer (DNS, connect, status, redirects), the headers
//! (`-i`, `-I`, `-v`), the body on the simulated clock with its faults,
//! and the lines curl prints at the end (`curl: (N) ...`, `-w`).

use rand::Rng;

use super::args::{OutSpec, Resume};
use super::meter::{Point, Progress};
use super::output::{Output, Target, WriteError};
use super::request::{Answer, CatalogResponder, Reply, Request, Responder};
use super::writeout::{expand, Report};
use super::{msg, Run};
use crate::net::response::FailKind;
use crate::net::Url;
use crate::tools::files;

/// The bytes the first round trip brings at once (socket buffers and the
/// server's send-ahead), in seconds of the link's rate.
const BURST_SECS: f64 = 0.1;
/// The most retries wait between tries (`RETRY_SLEEP_MAX`).
const RETRY_SLEEP_MAX_MS: u64 = 600_000;

/// How one try ended.
#[derive(Default)]
struct Outcome {
    /// The CURLcode (0 = fine).
    code: i32,
    /// The error buffer's text.
    msg: String,
    /// The error was already told (the binary warning): no `curl: (N)` line.
    synthetic: bool,
    /// The session is gone: print nothing more.
    gone: bool,
    report: Report,
}

impl Outcome {
    fn fail(code: i32, msg: impl Into<String>) -> Self {
        Outcome {
            code,
            msg: msg.into(),
            ..Outcome::default()
        }
    }
}

/// What a try's body came to.
enum BodyEnd {
    Done,
    Fail(i32, String),
    /// Already warned (the binary output warning).
    Synthetic(i32),
    Gone,
}

/// `Thu, 26 Nov 2026 09:46:55 GMT`.
fn http_date(unix: f64) -> String {
    chrono::DateTime::from_timestamp(unix.floor() as i64, 0)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// The URL a command-line argument stands for: curl guesses `http://` for
/// a bare host; other schemes are not supported by this build's fake
/// internet. `Err((code, message))` as curl reports it.
fn normalize(arg: &str) -> Result<(String, Url), (i32, String)> {
    let text = match arg.find("://") {
        Some(i) => {
            let scheme = arg[..i].to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err((
                    1,
                    format!(
                        "Protocol \"{}\" not supported or disabled in libcurl",
                        &arg[..i]
                    ),
                ));
            }
            arg.to_string()
        }
        None => format!("http://{arg}"),
    };
    match Url::parse(&text) {
        Some(u) if !u.host.contains(' ') => Ok((text, u)),
        _ => Err((3, "URL using bad/illegal format or missing URL".into())),
    }
}

/// A redirect's `Location` seen from `base`.
fn resolve_location(base: &Url, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let default = if base.scheme == "https" { 443 } else { 80 };
    let host = if base.host.contains(':') {
        format!("[{}]", base.host)
    } else {
        base.host.clone()
    };
    let origin = if base.port == default {
        format!("{}://{host}", base.scheme)
    } else {
        format!("{}://{host}:{}", base.scheme, base.port)
    };
    if loc.starts_with('/') {
        return format!("{origin}{loc}");
    }
    let dir = base.path_only().rsplit_once('/').map_or("", |(d, _)| d);
    format!("{origin}{dir}/{loc}")
}

/// The `-O` name of a URL: its last path segment, query left out.
fn remote_name(u: &Url) -> String {
    u.path_only().rsplit('/').next().unwrap_or("").to_string()
}

/// A tiny base64 for `-u user:password`.
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "::1"
}

impl Run<'_> {
    /// The display width of `-#`: `$COLUMNS` above 20, else the terminal's, else 79.
    fn bar_width(&self) -> usize {
        let ctx = self.tool.ctx;
        if let Some(n) = ctx
            .env
            .get("COLUMNS")
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|n| *n > 20)
        {
            return n.min(256);
        }
        // curl asks stdin's terminal; under a pty all three streams share it.
        match ctx.stderr.terminal().or(ctx.stdout.terminal()) {
            Some(t) if t.cols() > 0 => usize::from(t.cols()).clamp(8, 256),
            _ => 79,
        }
    }

    /// Where in a wall-clock second the transfer starts.
    fn phase_us(&mut self) -> u64 {
        let frac = self.tool.clock.unix().fract();
        let frac = if frac > 0.0 {
            frac
        } else {
            // A pinned start sits on a whole second; a real one never does.
            self.tool.rng.gen_range(0.25..0.45)
        };
        (frac * 1e6) as u64
    }

    fn show_errors(&self) -> bool {
        !self.o.silent || self.o.show_error
    }

    /// One URL, every try. Returns its exit status.
    pub(super) async fn url(&mut self, index: usize, arg: &str) -> i32 {
        let (text, url) = match normalize(arg) {
            Ok(x) => x,
            Err((code, m)) => {
                if self.show_errors() {
                    self.tool.io.err(format!("curl: ({code}) {m}\n")).await;
                }
                return code;
            }
        };
        let dir = self.o.output_dir.clone().filter(|d| !d.is_empty());
        let in_dir = |name: String| match &dir {
            Some(d) if !name.starts_with('/') => format!("{}/{name}", d.trim_end_matches('/')),
            _ => name,
        };
        let spec = self
            .o
            .outs
            .get(index)
            .cloned()
            .or_else(|| self.o.remote_name_all.then_some(OutSpec::Remote));
        let (target, binary_ok) = match spec.clone() {
            None => (Target::Stdout, false),
            Some(OutSpec::File(f)) if f == "-" => (Target::Stdout, true),
            Some(OutSpec::File(f)) if f == "/dev/null" => (Target::Null, true),
            Some(OutSpec::File(f)) => (Target::File(in_dir(f)), true),
            Some(OutSpec::Remote) => {
                let name = remote_name(&url);
                if name.is_empty() {
                    if !self.o.silent {
                        self.tool
                            .io
                            .err("curl: Remote file name has no length!\n")
                            .await;
                    }
                    return 23;
                }
                (Target::File(in_dir(name)), true)
            }
        };
        let init = match (self.o.resume, &target) {
            (Some(Resume::Auto), Target::File(f)) => {
                files::file_size(self.tool.ctx, f).unwrap_or(0)
            }
            (Some(Resume::At(n)), _) => n,
            _ => 0,
        };
        let cd = self.o.remote_header_name && spec == Some(OutSpec::Remote);
        let mut output = Output::new(target, false, init, self.o.create_dirs);
        let hidden = self.o.silent
            || self.o.no_progress_meter
            || (output.target == Target::Stdout && self.tool.ctx.stdout.is_tty());
        let bar = self.o.progress_bar.then(|| self.bar_width());
        let phase = self.phase_us();
        let mut progress = Progress::new(hidden, bar, phase, init);
        let mut retries_left = self.o.retry;
        let mut sleep_ms = self.o.retry_delay.map_or(1000, |s| s.saturating_mul(1000));
        let mut attempt = 1u32;
        loop {
            let t0 = self.tool.clock.now();
            let mut out = self
                .one_try(&text, &mut output, &mut progress, attempt, binary_ok, cd)
                .await;
            out.report.time_total = self.tool.clock.now() - t0;
            out.report.filename_effective = output.file_name().map(str::to_string);
            if out.gone || self.tool.remote.disconnected() {
                return out.code;
            }
            let code = out.report.http_code;
            if out.code != 0 && !out.synthetic {
                if self.show_errors() {
                    let line = format!("curl: ({}) {}\n", out.code, out.msg);
                    if !self.tool.io.err(&line).await {
                        // stdout's reader left: stderr may still be there.
                        let _ = self.tool.ctx.err(line).await;
                    }
                }
            } else if out.code == 0 && self.o.fail_with_body && code >= 400 {
                if self.show_errors() {
                    self.tool
                        .io
                        .err(format!(
                            "curl: (22) The requested URL returned error: {code}\n"
                        ))
                        .await;
                }
                out.code = 22;
            }
            out.report.exitcode = out.code;
            if retries_left > 0 {
                let failing = self.o.fail || self.o.fail_with_body;
                let why = if out.code == 28 || out.code == 6 {
                    Some(": timeout")
                } else if out.code == 7 && self.o.retry_connrefused {
                    Some(": connection refused")
                } else if (out.code == 0 || (failing && out.code == 22))
                    && matches!(code, 408 | 429 | 500 | 502 | 503 | 504)
                {
                    Some(": HTTP error")
                } else if out.code != 0 && self.o.retry_all_errors {
                    Some("(retrying all errors)")
                } else {
                    None
                };
                if let Some(why) = why {
                    let w = format!(
                        "Problem {why}. Will retry in {} seconds. {retries_left} retries left.\n",
                        sleep_ms / 1000
                    );
                    msg::warnf(&mut self.tool, self.o.silent, &w).await;
                    retries_left -= 1;
                    let wait = sleep_ms;
                    if self.o.retry_delay.is_none() {
                        sleep_ms = (sleep_ms * 2).min(RETRY_SLEEP_MAX_MS);
                    }
                    if output.bytes > 0 && output.file_name().is_some() {
                        if !self.o.silent {
                            self.tool
                                .io
                                .err(format!("Throwing away {} bytes\n", output.bytes))
                                .await;
                        }
                        output.rewind();
                    }
                    // The file stays open for the next try, as curl keeps its stream.
                    if !self.tool.pause(wait as f64 / 1000.0).await {
                        return out.code;
                    }
                    attempt += 1;
                    let phase = self.phase_us();
                    progress.restart(phase);
                    continue;
                }
            }
            if progress.bar_called() {
                self.tool.io.err("\n").await;
            }
            if out.code == 0 && output.bytes == 0 && output.file_name().is_some() {
                // An empty body still makes its (empty) file.
                if let Err(WriteError::Open(w)) = output.open(self.tool.ctx) {
                    msg::warnf(&mut self.tool, self.o.silent, &w).await;
                    out.code = 23;
                }
            }
            output.close();
            if let Some(fmt) = self.o.write_out.clone() {
                let fmt = match fmt.strip_prefix('@') {
                    Some(path) => String::from_utf8_lossy(
                        &files::read(self.tool.ctx, path).unwrap_or_default(),
                    )
                    .into_owned(),
                    None => fmt,
                };
                let (s, warnings) = expand(&fmt, &out.report);
                for w in warnings {
                    self.tool.io.err(w).await;
                }
                self.tool.io.out(s).await;
            }
            return out.code;
        }
    }

    /// What answers this run's requests. A service running inside the
    /// instance (ComfyUI on `localhost:18188`) goes here, in front of the
    /// catalog, answering its own host and port.
    fn responder(&self) -> impl Responder + '_ {
        CatalogResponder {
            remote: self.tool.remote,
        }
    }

    /// The request for `text`: method, headers, body.
    fn request(&self, text: &str, target: Url, init: u64) -> Request {
        let o = &self.o;
        let method = match (&o.method, &self.data, o.head) {
            (Some(m), _, _) => m.clone(),
            (None, Some(_), _) => "POST".into(),
            (None, None, true) => "HEAD".into(),
            _ => "GET".into(),
        };
        let default_port = if target.scheme == "https" { 443 } else { 80 };
        let host = if target.port == default_port {
            target.host.clone()
        } else {
            format!("{}:{}", target.host, target.port)
        };
        let mut headers = vec![("Host".to_string(), host)];
        if let Some(u) = &o.user {
            headers.push((
                "Authorization".into(),
                format!("Basic {}", base64(u.as_bytes())),
            ));
        }
        if init > 0 {
            headers.push(("Range".into(), format!("bytes={init}-")));
        }
        headers.push((
            "User-Agent".into(),
            o.user_agent.clone().unwrap_or_else(|| "curl/7.88.1".into()),
        ));
        headers.push(("Accept".into(), "*/*".into()));
        let body = self.data.clone().unwrap_or_default();
        if self.data.is_some() {
            headers.push(("Content-Length".into(), body.len().to_string()));
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        for h in &o.headers {
            let Some((k, v)) = h.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(&k));
            if !v.is_empty() {
                headers.push((k, v));
            }
        }
        Request {
            method,
            url: text.to_string(),
            target,
            headers,
            body,
        }
    }

    async fn err(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref();
        if !s.is_empty() {
            self.tool.io.err(s).await;
        }
    }

    /// `-v` lines.
    async fn verbose(&mut self, s: impl AsRef<str>) {
        if self.o.verbose {
            self.err(s).await;
        }
    }

    /// Microseconds since the try started.
    fn since(&self, t0: f64) -> u64 {
        ((self.tool.clock.now() - t0).max(0.0) * 1e6) as u64
    }

    /// `-m` in microseconds.
    fn deadline(&self) -> Option<u64> {
        self.o.max_time.map(|m| (m * 1e6) as u64)
    }

    /// One try: the request chain, the status, the body.
    async fn one_try(
        &mut self,
        first: &str,
        output: &mut Output,
        progress: &mut Progress,
        attempt: u32,
        binary_ok: bool,
        cd: bool,
    ) -> Outcome {
        let t0 = self.tool.clock.now();
        let mut point = Point::default();
        let s = progress.update(point);
        self.err(s).await;
        let mut text = first.to_string();
        let mut hop = 0u32;
        let mut report = Report::default();
        loop {
            let Some(url) = Url::parse(&text) else {
                return Outcome::fail(3, "URL using bad/illegal format or missing URL");
            };
            let req = self.request(&text, url.clone(), output.init);
            let date = http_date(self.tool.clock.unix());
            let user = self.tool.ctx.env.get("USER").cloned().unwrap_or_default();
            let answer =
                match super::local::answer(&self.tool.ctx.instance, &req, &user, &date).await {
                    Some(a) => a,
                    None => self.responder().respond(&req, attempt, hop, &date),
                };
            let local = is_loopback(&url.host);
            let (dns, conn, rtt) = if local {
                ((0.0001, 0.0004), (0.0001, 0.0008), (0.0008, 0.003))
            } else {
                ((0.004, 0.03), (0.01, 0.06), (0.03, 0.15))
            };
            if !url.host_is_ip() && !self.tool.latency(dns.0, dns.1).await {
                return gone();
            }
            let host = url.host.clone();
            let port = url.port;
            if let Some(d) = self.deadline().filter(|d| self.since(t0) >= *d) {
                point.t_us = self.since(t0);
                let s = progress.done(point);
                self.err(s).await;
                return Outcome::fail(
                    28,
                    format!("Resolving timed out after {} milliseconds", d / 1000 + 1),
                );
            }
            let (ip, reply) = match answer {
                Answer::Unresolved => {
                    self.verbose(format!(
                        "* Could not resolve host: {host}\n* Closing connection 0\n"
                    ))
                    .await;
                    return Outcome::fail(6, format!("Could not resolve host: {host}"));
                }
                Answer::Refused { ip } => {
                    self.verbose(format!(
                        "*   Trying {ip}:{port}...\n* connect to {ip} port {port} failed: Connection refused\n* Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n* Closing connection 0\n"
                    ))
                    .await;
                    let before = self.tool.clock.now();
                    if !self.tool.latency(conn.0, conn.1).await {
                        return gone();
                    }
                    let ms = ((self.tool.clock.now() - before) * 1000.0) as u64;
                    point.t_us = self.since(t0);
                    let s = progress.done(point);
                    self.err(s).await;
                    return Outcome::fail(
                        7,
                        format!("Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"),
                    );
                }
                Answer::Reply { ip, reply } => (ip, reply),
            };
            self.verbose(format!("*   Trying {ip}:{port}...\n")).await;
            let before = self.tool.clock.now();
            if !self.tool.latency(conn.0, conn.1).await {
                return gone();
            }
            let connect_secs = self.tool.clock.now() - before;
            if let Some(ct) = self.o.connect_timeout.filter(|ct| connect_secs > *ct) {
                point.t_us = self.since(t0);
                let s = progress.done(point);
                self.err(s).await;
                return Outcome::fail(
                    28,
                    format!(
                        "Connection timed out after {} milliseconds",
                        (ct * 1000.0) as u64 + 1
                    ),
                );
            }
            self.verbose(format!("* Connected to {host} ({ip}) port {port} (#0)\n"))
                .await;
            if url.scheme == "https" {
                self.verbose(format!(
                    "* ALPN: offers h2,http/1.1\n* TLSv1.3 (OUT), TLS handshake, Client hello (1):\n*  CAfile: /etc/ssl/certs/ca-certificates.crt\n*  CApath: /etc/ssl/certs\n* TLSv1.3 (IN), TLS handshake, Server hello (2):\n* TLSv1.3 (IN), TLS handshake, Finished (20):\n* TLSv1.3 (OUT), TLS handshake, Finished (20):\n* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384\n* ALPN: server accepted http/1.1\n* Server certificate:\n*  subject: CN={host}\n*  issuer: C=US; O=Let's Encrypt; CN=R11\n*  SSL certificate verify ok.\n"
                ))
                .await;
            }
            if self.o.verbose {
                let mut lines = format!("> {} {} HTTP/1.1\r\n", req.method, url.path);
                for (k, v) in &req.headers {
                    lines.push_str(&format!("> {k}: {v}\r\n"));
                }
                lines.push_str("> \r\n");
                if !req.body.is_empty() {
                    lines.push_str(&format!(
                        "}} [{} bytes data]\n* We are completely uploaded and fine\n",
                        req.body.len()
                    ));
                }
                self.err(lines).await;
            }
            if !self.tool.latency(rtt.0, rtt.1).await {
                return gone();
            }
            if let Some(d) = self.deadline().filter(|d| self.since(t0) >= *d) {
                point.t_us = self.since(t0);
                let s = progress.done(point);
                self.err(s).await;
                return Outcome::fail(
                    28,
                    format!(
                        "Operation timed out after {} milliseconds with 0 bytes received",
                        d / 1000 + 1
                    ),
                );
            }
            let status = reply.resp.status;
            report.http_code = status;
            report.url_effective = text.clone();
            report.content_type = Some(reply.resp.content_type.clone());
            report.remote_ip = ip.clone();
            report.remote_port = port;
            report.num_redirects = hop;
            let mut head = format!("{}\r\n", reply.status_line());
            for (k, v) in &reply.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            report.size_header += head.len() as u64;
            if self.o.verbose {
                let lines: String = head
                    .split_inclusive("\r\n")
                    .map(|l| format!("< {l}"))
                    .collect();
                self.err(lines).await;
            }
            if self.o.include || self.o.head {
                if let Err(e) = output
                    .write(
                        self.tool.ctx,
                        &mut self.tool.io,
                        Some(head.as_bytes()),
                        head.len() as u64,
                    )
                    .await
                {
                    return self.write_failed(e, progress, point, t0, report).await;
                }
            }
            point.size = reply.resp.send_length.then(|| reply.len());
            let redirect = (300..400).contains(&status) && reply.resp.location.is_some();
            if redirect && self.o.location {
                let loc = reply.resp.location.clone().unwrap_or_default();
                point.t_us = self.since(t0);
                let s = progress.done(point);
                self.err(s).await;
                hop += 1;
                let max = self.o.max_redirs.unwrap_or(50);
                if hop > max {
                    return Outcome {
                        report,
                        ..Outcome::fail(47, format!("Maximum ({max}) redirects followed"))
                    };
                }
                self.verbose(format!(
                    "* Connection #0 to host {host} left intact\n* Issue another request to this URL: '{}'\n",
                    resolve_location(&url, &loc)
                ))
                .await;
                text = resolve_location(&url, &loc);
                point = Point {
                    t_us: self.since(t0),
                    ..Point::default()
                };
                continue;
            }
            if redirect {
                report.redirect_url = reply
                    .resp
                    .location
                    .clone()
                    .map(|l| resolve_location(&url, &l));
            }
            let ignore = output.init > 0 && status == 416;
            if ignore || self.o.head || (self.o.fail && status >= 400) {
                point.t_us = self.since(t0);
                let s = progress.done(point);
                self.err(s).await;
                if self.o.fail && status >= 400 && !ignore {
                    return Outcome {
                        report,
                        ..Outcome::fail(22, format!("The requested URL returned error: {status}"))
                    };
                }
                return Outcome {
                    report,
                    ..Outcome::default()
                };
            }
            if cd {
                if let Some(f) = reply.resp.filename.as_deref() {
                    let base = f.rsplit(['/', '\\']).next().unwrap_or(f).to_string();
                    let name = match self.o.output_dir.as_deref().filter(|d| !d.is_empty()) {
                        Some(d) => format!("{}/{base}", d.trim_end_matches('/')),
                        None => base,
                    };
                    output.target = Target::File(name);
                    output.exclusive = true;
                }
            }
            if reply.len() > 0 && !self.tool.ctx.stdout.is_tty() {
                // The trace tells of the data once (tool_cb_dbg.c, stdout not a tty):
                // the rest of the first 16 KiB read after the headers.
                let first = reply
                    .len()
                    .min(16_384u64.saturating_sub(head.len() as u64).max(1));
                self.verbose(format!("{{ [{first} bytes data]\n")).await;
            }
            let end = self
                .body(&reply, output, progress, &mut point, t0, binary_ok)
                .await;
            report.size_download = point.downloaded;
            match end {
                BodyEnd::Gone => return gone(),
                BodyEnd::Synthetic(code) => {
                    return Outcome {
                        code,
                        synthetic: true,
                        report,
                        ..Outcome::default()
                    }
                }
                BodyEnd::Fail(code, m) => {
                    point.t_us = self.since(t0);
                    let s = progress.done(point);
                    self.err(s).await;
                    return Outcome {
                        report,
                        ..Outcome::fail(code, m)
                    };
                }
                BodyEnd::Done => {
                    point.t_us = self.since(t0);
                    let s = progress.done(point);
                    self.err(s).await;
                    self.verbose(format!("* Connection #0 to host {host} left intact\n"))
                        .await;
                    return Outcome {
                        report,
                        ..Outcome::default()
                    };
                }
            }
        }
    }

    /// A header write (`-i`, `-I`) that failed: the warning, the last line,
    /// `(23) Failed writing header`.
    async fn write_failed(
        &mut self,
        e: WriteError,
        progress: &mut Progress,
        mut point: Point,
        t0: f64,
        report: Report,
    ) -> Outcome {
        if let WriteError::Open(w) = e {
            msg::warnf(&mut self.tool, self.o.silent, &w).await;
        }
        point.t_us = self.since(t0);
        let s = progress.done(point);
        self.err(s).await;
        Outcome {
            report,
            ..Outcome::fail(23, "Failed writing header")
        }
    }

    /// The body on the simulated link into `output`, with the display.
    async fn body(
        &mut self,
        reply: &Reply,
        output: &mut Output,
        progress: &mut Progress,
        point: &mut Point,
        t0: f64,
        binary_ok: bool,
    ) -> BodyEnd {
        let len = reply.len();
        let offset = reply.offset;
        let full = offset + len;
        let remote = self.tool.remote;
        let fail = reply
            .resp
            .fail
            .map(|(k, at)| (k, at.saturating_sub(offset).min(len)))
            .filter(|(_, at)| *at < len);
        let mut stall = reply
            .resp
            .stall
            .map(|(at, d)| (at.saturating_sub(offset), d))
            .filter(|(at, _)| *at < len);
        let disk_full = output
            .file_name()
            .and_then(|_| remote.disk_full_at(full))
            .map(|at| at.saturating_sub(offset));
        let hangup = remote
            .disconnect_at(full)
            .map(|at| at.saturating_sub(offset));
        let stop_at = fail.map_or(len, |(_, at)| at);
        let rate = remote.rate(reply.resp.rate);
        let mut link = self.tool.link(rate, self.o.limit_rate);
        let mut burst = (link.rate() * BURST_SECS) as u64;
        if remote.at_progress(offset, full) {
            return BodyEnd::Gone;
        }
        let to_tty = output.target == Target::Stdout && self.tool.ctx.stdout.is_tty();
        if to_tty && !binary_ok && len > 0 {
            let binary = reply
                .content
                .as_ref()
                .is_none_or(|c| c.iter().take(16 * 1024).any(|b| *b == 0));
            if binary {
                msg::warnf(
                    &mut self.tool,
                    self.o.silent,
                    "Binary output can mess up your terminal. Use \"--output -\" to tell curl to output it to your terminal anyway, or consider \"--output <FILE>\" to save to a file.\n",
                )
                .await;
                return BodyEnd::Synthetic(23);
            }
        }
        let deadline = self.deadline();
        let mut got = 0u64;
        while got < stop_at {
            if let Some((_, secs)) = stall.filter(|(at, _)| got >= *at) {
                stall = None;
                if let Some(end) = self.idle(secs, progress, point, t0).await {
                    return end;
                }
            }
            if let Some(at) = disk_full.filter(|at| got >= *at) {
                let _ = at;
                return BodyEnd::Fail(23, "Failure writing output to destination".into());
            }
            let limit = [
                Some(stop_at),
                stall.map(|s| s.0),
                disk_full,
                hangup.filter(|h| *h > got),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(stop_at);
            let now = self.since(t0);
            // curl reads far more often; nothing shows in between.
            let mut dt = progress.quiet_us(now);
            if let Some(d) = deadline {
                dt = dt.min(d.saturating_sub(now).max(1));
            }
            let mut n = link.bytes_in(dt as f64 / 1e6).saturating_add(burst);
            burst = 0;
            if got + n >= limit {
                let left = limit - got;
                if n > 0 {
                    dt = ((dt as f64) * left as f64 / n as f64).ceil() as u64;
                }
                n = left;
            }
            if !self.tool.pause(dt as f64 / 1e6).await {
                return BodyEnd::Gone;
            }
            let data = reply.content.as_ref().map(|c| {
                let a = (got as usize).min(c.len());
                let b = ((got + n) as usize).min(c.len());
                &c[a..b]
            });
            if let Err(e) = output
                .write(self.tool.ctx, &mut self.tool.io, data, n)
                .await
            {
                if let WriteError::Open(w) = e {
                    msg::warnf(&mut self.tool, self.o.silent, &w).await;
                }
                return BodyEnd::Fail(23, "Failure writing output to destination".into());
            }
            got += n;
            point.downloaded = got;
            point.t_us = self.since(t0);
            let s = progress.update(*point);
            self.err(s).await;
            if remote.at_progress(offset + got, full) {
                return BodyEnd::Gone;
            }
            if let Some(d) = deadline.filter(|d| point.t_us >= *d && got < len) {
                return BodyEnd::Fail(28, self.timed_out(d, got, point.size));
            }
        }
        match fail {
            Some((FailKind::Drop, _)) if reply.resp.send_length => BodyEnd::Fail(
                18,
                format!("transfer closed with {} bytes remaining to read", len - got),
            ),
            Some((FailKind::Reset, _)) => {
                BodyEnd::Fail(56, "Recv failure: Connection reset by peer".into())
            }
            Some((FailKind::Stall, _)) => match self.idle(None, progress, point, t0).await {
                Some(end) => end,
                None => BodyEnd::Done,
            },
            _ => BodyEnd::Done,
        }
    }

    fn timed_out(&self, deadline_us: u64, got: u64, size: Option<u64>) -> String {
        let ms = deadline_us / 1000 + 1;
        match size {
            Some(s) => format!(
                "Operation timed out after {ms} milliseconds with {got} out of {s} bytes received"
            ),
            None => {
                format!("Operation timed out after {ms} milliseconds with {got} bytes received")
            }
        }
    }

    /// No bytes for `secs` (`None` = until something else ends it): curl
    /// wakes once a second of silence and updates the display; `-m` ends
    /// it with `(28)`. `Some(end)` when the try ends here.
    async fn idle(
        &mut self,
        secs: Option<f64>,
        progress: &mut Progress,
        point: &mut Point,
        t0: f64,
    ) -> Option<BodyEnd> {
        let deadline = self.deadline();
        let start = self.since(t0);
        let until = secs.map(|s| start.saturating_add((s * 1e6) as u64));
        if until.is_none() && deadline.is_none() && !self.tool.clock.waits() {
            // A dead server with no -m: curl waits until it is killed.
            self.tool.io.flush().await;
            std::future::pending::<()>().await;
        }
        loop {
            let now = self.since(t0);
            let mut next = now + 1_000_000;
            if let Some(u) = until {
                next = next.min(u);
            }
            if let Some(d) = deadline {
                next = next.min(d);
            }
            if !self.tool.pause(next.saturating_sub(now) as f64 / 1e6).await {
                return Some(BodyEnd::Gone);
            }
            point.t_us = self.since(t0);
            if let Some(d) = deadline.filter(|d| point.t_us >= *d) {
                return Some(BodyEnd::Fail(
                    28,
                    self.timed_out(d, point.downloaded, point.size),
                ));
            }
            let s = progress.update(*point);
            self.err(s).await;
            if until.is_some_and(|u| point.t_us >= u) {
                return None;
            }
        }
    }
}

fn gone() -> Outcome {
    Outcome {
        gone: true,
        ..Outcome::default()
    }
}
