//! GNU Wget 1.21 as it prints and behaves: everything on stderr; the
//! `--DATE--  URL`, Resolving, Connecting, request, Location, Length and
//! Saving lines; bar progress on a tty (or `bar:force`), dots otherwise;
//! `-q`, `-nv`, `--show-progress`, `-O`, `-O -`, `-P`, `-c`, `-nc`,
//! `--content-disposition`, `.N` suffixes, tries and read timeouts; its
//! errors and exit codes; the file at the right path, sparse, exact size.
//! Tool-depth faults come through [`Remote`]: HTTP status (401 exit 6;
//! other 4xx/5xx `ERROR N` exit 8, retried only for 504 and codes in
//! `--retry-on-http-error`), drop (`Read error ... (Connection reset by
//! peer)` and a resumed try), stall (`--.-KB/s`, a read timeout when it
//! outlasts `--read-timeout`), rate cap, DNS and refused (exit 4), disk full
//! (`Cannot write to ... (No space left on device).` exit 3) and disconnect.

use async_trait::async_trait;

use super::files;
use super::run::ToolRun;
use super::transfer::Link;
use super::wget_bar::{BarProgress, FRAME_STEP, REFRESH_INTERVAL};
use super::wget_dot::{DotProgress, DotStyle};
use crate::net::response::{reason, FailKind, Resolution};
use crate::net::Url;
use crate::program::{Ctx, Program};

/// The `wget` program.
#[derive(Debug, Default)]
pub struct Wget;

/// wget's `human_readable(n, acc, decimals)`: 1024-based, `K M G T P E`.
pub(crate) fn human_readable(n: u64, acc: u64, decimals: usize) -> String {
    if n < 1024 {
        return n.to_string();
    }
    let powers = ['K', 'M', 'G', 'T', 'P', 'E'];
    let mut n = n;
    for (i, p) in powers.iter().enumerate() {
        if n / 1024 < 1024 || i == powers.len() - 1 {
            let val = n as f64 / 1024.0;
            let d = if val < acc as f64 { decimals } else { 0 };
            return format!("{val:.d$}{p}");
        }
        n /= 1024;
    }
    n.to_string()
}

/// `calc_rate`: a rate in bytes/s scaled to B, K, M, G, T (1024-based).
pub(crate) fn rate_units(rate: f64) -> (f64, usize) {
    let mut r = rate;
    let mut u = 0;
    while r >= 1024.0 && u < 4 {
        r /= 1024.0;
        u += 1;
    }
    (r, u)
}

/// `retr_rate`: `977 KB/s`, `1.43 MB/s`.
pub(crate) fn retr_rate(bytes: u64, secs: f64) -> String {
    let rate = if secs > 0.0 {
        bytes as f64 / secs
    } else {
        bytes as f64 / 1e-6
    };
    let (v, u) = rate_units(rate);
    let prec = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    format!("{v:.prec$} {}", ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"][u])
}

/// `print_decimal`: `3.0`, `0.05`, `0.007`, `12`.
pub(crate) fn print_decimal(x: f64) -> String {
    let n = x.abs();
    if n >= 9.95 {
        format!("{x:.0}")
    } else if n >= 0.95 {
        format!("{x:.1}")
    } else if n >= 0.001 {
        // "%.1g": one significant digit.
        let mut exp = n.log10().floor() as i32;
        let mut digit = (n / 10f64.powi(exp)).round();
        if digit >= 10.0 {
            digit = 1.0;
            exp += 1;
        }
        let v = digit * 10f64.powi(exp);
        let decimals = (-exp).max(0) as usize;
        format!("{v:.decimals$}")
    } else if n >= 0.0005 {
        format!("{x:.3}")
    } else {
        "0".into()
    }
}

/// `eta_to_human_short`: `3s`, `1m 5s` (`1m5s` condensed), `2h 5m`, `3d 4h`.
pub(crate) fn eta_short(secs: i64, condensed: bool) -> String {
    let sp = if condensed { "" } else { " " };
    let secs = secs.max(0);
    if secs < 100 {
        format!("{secs}s")
    } else if secs < 100 * 60 {
        format!("{}m{sp}{}s", secs / 60, secs % 60)
    } else if secs < 48 * 3600 {
        format!("{}h{sp}{}m", secs / 3600, (secs / 60) % 60)
    } else if secs < 100 * 86400 {
        format!("{}d{sp}{}h", secs / 86400, (secs / 3600) % 24)
    } else {
        format!("{}d", secs / 86400)
    }
}

fn secs_to_human_time(secs: f64) -> String {
    if secs < 60.0 {
        format!("{}s", print_decimal(secs))
    } else if secs < 3600.0 {
        format!("{}m {}s", secs as i64 / 60, secs as i64 % 60)
    } else {
        let s = secs as i64;
        format!("{}h {}m {}s", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// Which messages are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verbosity {
    Quiet,
    NoVerbose,
    Verbose,
}

#[derive(Clone, Debug)]
enum ProgressKind {
    Bar { force: bool, noscroll: bool },
    Dot(String),
}

#[derive(Clone, Debug)]
struct Opts {
    urls: Vec<String>,
    verbosity: Verbosity,
    show_progress: bool,
    progress: Option<ProgressKind>,
    dot_bytes: Option<u64>,
    output: Option<String>,
    prefix: Option<String>,
    cont: bool,
    no_clobber: bool,
    content_disposition: bool,
    tries: u32,
    read_timeout: f64,
    authorized: bool,
    limit_rate: u64,
    retry_on_http_error: Vec<u16>,
}

enum Parsed {
    Run(Box<Opts>),
    Help,
    Version,
    Usage(String, i32),
}

const USAGE_TAIL: &str =
    "Usage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n";

/// Long options taking an argument.
const LONG_ARG: &[&str] = &[
    "output-document",
    "directory-prefix",
    "tries",
    "timeout",
    "read-timeout",
    "connect-timeout",
    "dns-timeout",
    "progress",
    "execute",
    "output-file",
    "append-output",
    "user-agent",
    "header",
    "limit-rate",
    "wait",
    "waitretry",
    "user",
    "password",
    "http-user",
    "http-password",
    "input-file",
    "referer",
    "load-cookies",
    "save-cookies",
    "post-data",
    "post-file",
    "method",
    "body-data",
    "ca-certificate",
    "ca-directory",
    "certificate",
    "private-key",
    "bind-address",
    "max-redirect",
    "quota",
    "level",
    "accept",
    "reject",
    "domains",
    "exclude-domains",
    "cut-dirs",
    "default-page",
    "restrict-file-names",
    "retry-on-http-error",
    "secure-protocol",
    "local-encoding",
    "remote-encoding",
    "base",
    "config",
    "random-wait",
    "backups",
    "accept-regex",
    "reject-regex",
    "include-directories",
    "exclude-directories",
    "https-only",
];
/// Long options without an argument.
const LONG_FLAG: &[&str] = &[
    "quiet",
    "verbose",
    "no-verbose",
    "show-progress",
    "no-show-progress",
    "continue",
    "no-clobber",
    "content-disposition",
    "no-content-disposition",
    "no-check-certificate",
    "check-certificate",
    "server-response",
    "spider",
    "timestamping",
    "recursive",
    "no-parent",
    "mirror",
    "no-directories",
    "force-directories",
    "trust-server-names",
    "retry-connrefused",
    "retry-on-host-error",
    "inet4-only",
    "inet6-only",
    "no-cache",
    "no-cookies",
    "ignore-case",
    "debug",
    "help",
    "version",
    "no-host-directories",
    "page-requisites",
    "convert-links",
    "adjust-extension",
    "no-config",
    "no-dns-cache",
    "no-http-keep-alive",
    "ignore-length",
    "auth-no-challenge",
    "no-proxy",
    "background",
    "force-html",
    "no-iri",
    "keep-session-cookies",
    "no-use-server-timestamps",
    "delete-after",
    "no-netrc",
];
/// Short options taking an argument (`-n` is special: `-nv`, `-nc`, `-nd`, `-nH`, `-np`).
const SHORT_ARG: &str = "OPTteoaUwiQlARDIXBn";
const SHORT_FLAG: &str = "qvcS46ENrmpkxbdhVFHKLu";

fn long_for_short(c: char) -> &'static str {
    match c {
        'O' => "output-document",
        'P' => "directory-prefix",
        't' => "tries",
        'T' => "timeout",
        'e' => "execute",
        'U' => "user-agent",
        'q' => "quiet",
        'v' => "verbose",
        'c' => "continue",
        'h' => "help",
        'V' => "version",
        _ => "",
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024.0),
        'm' | 'M' => (&s[..s.len() - 1], 1024.0 * 1024.0),
        'g' | 'G' => (&s[..s.len() - 1], 1024.0 * 1024.0 * 1024.0),
        _ => (s, 1.0),
    };
    num.parse::<f64>().ok().map(|n| (n * mult) as u64)
}

fn parse_args(args: &[String]) -> Parsed {
    let mut o = Opts {
        urls: vec![],
        verbosity: Verbosity::Verbose,
        show_progress: false,
        progress: None,
        dot_bytes: None,
        output: None,
        prefix: None,
        cont: false,
        no_clobber: false,
        content_disposition: false,
        tries: 20,
        read_timeout: 900.0,
        authorized: false,
        limit_rate: 0,
        retry_on_http_error: Vec::new(),
    };
    let mut help = false;
    let mut version = false;
    let mut i = 0;
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            o.urls.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let all = LONG_ARG.iter().chain(LONG_FLAG.iter());
            let resolved: Vec<&&str> = if LONG_ARG.contains(&name) || LONG_FLAG.contains(&name) {
                vec![all.clone().find(|x| **x == name).unwrap_or(&"")]
            } else {
                all.filter(|x| x.starts_with(name)).collect()
            };
            let full = match resolved.as_slice() {
                [one] => one.to_string(),
                [] => return Parsed::Usage(format!("wget: unrecognized option '{a}'\n"), 2),
                _ => {
                    return Parsed::Usage(format!("wget: option '{a}' is ambiguous\n"), 2);
                }
            };
            if LONG_ARG.contains(&full.as_str()) {
                let v = match inline {
                    Some(v) => v,
                    None => match args.get(i) {
                        Some(v) => {
                            i += 1;
                            v.clone()
                        }
                        None => {
                            return Parsed::Usage(
                                format!("wget: option '--{full}' requires an argument\n"),
                                2,
                            )
                        }
                    },
                };
                pairs.push((full, Some(v)));
            } else {
                if inline.is_some() {
                    return Parsed::Usage(
                        format!("wget: option '--{full}' doesn't allow an argument\n"),
                        2,
                    );
                }
                pairs.push((full, None));
            }
            continue;
        }
        if a.starts_with('-') && a.len() > 1 {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                if SHORT_ARG.contains(c) {
                    let rest: String = chars[k..].iter().collect();
                    let v = if !rest.is_empty() {
                        rest
                    } else if let Some(v) = args.get(i) {
                        i += 1;
                        v.clone()
                    } else {
                        return Parsed::Usage(
                            format!("wget: option requires an argument -- '{c}'\n"),
                            2,
                        );
                    };
                    if c == 'n' {
                        for f in v.chars() {
                            match f {
                                'v' => pairs.push(("no-verbose".into(), None)),
                                'c' => pairs.push(("no-clobber".into(), None)),
                                'd' | 'H' | 'p' => {}
                                _ => {
                                    return Parsed::Usage(
                                        format!("wget: invalid option -- 'n{f}'\n"),
                                        2,
                                    )
                                }
                            }
                        }
                    } else {
                        let long = long_for_short(c);
                        pairs.push((
                            if long.is_empty() {
                                c.to_string()
                            } else {
                                long.to_string()
                            },
                            Some(v),
                        ));
                    }
                    break;
                } else if SHORT_FLAG.contains(c) {
                    let long = long_for_short(c);
                    pairs.push((
                        if long.is_empty() {
                            c.to_string()
                        } else {
                            long.to_string()
                        },
                        None,
                    ));
                } else {
                    return Parsed::Usage(format!("wget: invalid option -- '{c}'\n"), 2);
                }
            }
            continue;
        }
        o.urls.push(a.clone());
    }
    for (name, v) in pairs {
        let v = v.unwrap_or_default();
        match name.as_str() {
            "help" => help = true,
            "version" => version = true,
            "quiet" => o.verbosity = Verbosity::Quiet,
            "verbose" => o.verbosity = Verbosity::Verbose,
            "no-verbose" => o.verbosity = Verbosity::NoVerbose,
            "show-progress" => o.show_progress = true,
            "no-show-progress" => o.show_progress = false,
            "continue" => o.cont = true,
            "no-clobber" => o.no_clobber = true,
            "content-disposition" => o.content_disposition = true,
            "no-content-disposition" => o.content_disposition = false,
            "output-document" => o.output = Some(v),
            "directory-prefix" => o.prefix = Some(v),
            "tries" => {
                o.tries = match v.trim().parse::<u32>() {
                    Ok(0) => u32::MAX,
                    Ok(n) => n,
                    Err(_) if v == "inf" => u32::MAX,
                    Err(_) => {
                        return Parsed::Usage(format!("wget: --tries: Invalid number ‘{v}’.\n"), 2)
                    }
                }
            }
            "read-timeout" | "timeout" => {
                if let Ok(t) = v.trim().parse::<f64>() {
                    o.read_timeout = if t == 0.0 { f64::INFINITY } else { t };
                }
            }
            "limit-rate" => o.limit_rate = parse_size(&v).unwrap_or(0),
            "retry-on-http-error" => {
                o.retry_on_http_error = v.split(',').filter_map(|c| c.trim().parse().ok()).collect()
            }
            "header" if v.to_ascii_lowercase().starts_with("authorization:") => {
                o.authorized = true;
            }
            "user" | "password" | "http-user" | "http-password" => o.authorized = true,
            "progress" => o.progress = parse_progress(&v),
            "execute" => {
                let (k, val) = v.split_once('=').unwrap_or((&v, ""));
                match k
                    .trim()
                    .to_ascii_lowercase()
                    .replace(['_', '-'], "")
                    .as_str()
                {
                    "dotbytes" => o.dot_bytes = parse_size(val),
                    "dotstyle" => o.progress = Some(ProgressKind::Dot(val.trim().to_string())),
                    "progress" => o.progress = parse_progress(val.trim()),
                    "showprogress" => o.show_progress = matches!(val.trim(), "on" | "1" | "yes"),
                    "tries" => o.tries = val.trim().parse().unwrap_or(o.tries),
                    "readtimeout" => o.read_timeout = val.trim().parse().unwrap_or(o.read_timeout),
                    "contentdisposition" => {
                        o.content_disposition = matches!(val.trim(), "on" | "1" | "yes")
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if help {
        return Parsed::Help;
    }
    if version {
        return Parsed::Version;
    }
    if o.urls.is_empty() {
        return Parsed::Usage("wget: missing URL\n".into(), 1);
    }
    Parsed::Run(Box::new(o))
}

fn parse_progress(v: &str) -> Option<ProgressKind> {
    let mut parts = v.split(':');
    match parts.next()? {
        "bar" => {
            let rest: Vec<&str> = parts.collect();
            Some(ProgressKind::Bar {
                force: rest.contains(&"force"),
                noscroll: rest.contains(&"noscroll"),
            })
        }
        "dot" => Some(ProgressKind::Dot(
            parts.next().unwrap_or("default").to_string(),
        )),
        _ => None,
    }
}

const HELP: &str = "GNU Wget 1.21.3, a non-interactive network retriever.
Usage: wget [OPTION]... [URL]...

Mandatory arguments to long options are mandatory for short options too.

Startup:
  -V,  --version                   display the version of Wget and exit
  -h,  --help                      print this help
  -b,  --background                go to background after startup
  -e,  --execute=COMMAND           execute a `.wgetrc'-style command

Logging and input file:
  -o,  --output-file=FILE          log messages to FILE
  -a,  --append-output=FILE        append messages to FILE
  -q,  --quiet                     quiet (no output)
  -v,  --verbose                   be verbose (this is the default)
  -nv, --no-verbose                turn off verboseness, without being quiet
  -i,  --input-file=FILE           download URLs found in local or external FILE

Download:
  -t,  --tries=NUMBER              set number of retries to NUMBER (0 unlimits)
       --retry-connrefused         retry even if connection is refused
  -O,  --output-document=FILE      write documents to FILE
  -nc, --no-clobber                skip downloads that would download to
                                     existing files (overwriting them)
  -c,  --continue                  resume getting a partially-downloaded file
       --progress=TYPE             select progress gauge type
       --show-progress             display the progress bar in any verbosity mode
  -T,  --timeout=SECONDS           set all timeout values to SECONDS
       --read-timeout=SECS         set the read timeout to SECS
       --limit-rate=RATE           limit download rate to RATE
       --content-disposition       honor the Content-Disposition header when
                                     choosing local file names (EXPERIMENTAL)

Directories:
  -P,  --directory-prefix=PREFIX   save files to PREFIX/..

HTTP options:
       --header=STRING             insert STRING among the headers
       --user=USER                 set both ftp and http user to USER
       --password=PASS             set both ftp and http password to PASS

HTTPS (SSL/TLS) options:
       --no-check-certificate      don't validate the server's certificate

Mail bug reports and suggestions to <bug-wget@gnu.org>
";

const VERSION: &str = "GNU Wget 1.21.3 built on linux-gnu.

-cares +digest -gpgme +https +ipv6 +iri +large-file -metalink +nls
+ntlm +opie +psl +ssl/gnutls

Wgetrc:
    /etc/wgetrc (system)
Locale:
    /usr/share/locale
Compile:
    gcc -DHAVE_CONFIG_H -DSYSTEM_WGETRC=\"/etc/wgetrc\"
    -DLOCALEDIR=\"/usr/share/locale\" -I. -I../../src -I../lib
    -I../../lib -Wdate-time -D_FORTIFY_SOURCE=2 -DHAVE_LIBGNUTLS
    -DNDEBUG -g -O2 -fstack-protector-strong -Wformat
    -Werror=format-security -DNO_SSLv2 -D_FILE_OFFSET_BITS=64 -g -Wall
Link:
    gcc -g -O2 -fstack-protector-strong -Wformat
    -Werror=format-security -Wl,-z,relro -Wl,-z,now -lpcre2-8 -luuid
    -lidn2 -lnettle -lgnutls -lz -lpsl ftp-opie.o gnutls.o hash.o
    http-ntlm.o

Copyright (C) 2015 Free Software Foundation, Inc.
License GPLv3+: GNU GPL version 3 or later
<http://www.gnu.org/licenses/gpl.html>.
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.

Originally written by Hrvoje Niksic <hniksic@xemacs.org>.
Please send bug reports and questions to <bug-wget@gnu.org>.
";

/// How one try ended.
enum TryEnd {
    Done {
        bytes: u64,
        secs: f64,
    },
    Failed {
        kind: FailKind,
        at: u64,
        bytes: u64,
        secs: f64,
    },
    /// Writing the file failed (`No space left on device`).
    WriteFailed,
    Gone,
}

struct Run<'a> {
    tool: ToolRun<'a>,
    o: Opts,
    utf8: bool,
    resolved: Vec<String>,
    files_done: u64,
    bytes_done: u64,
    dl_secs: f64,
}

impl Run<'_> {
    fn quote(&self, s: &str) -> String {
        if self.utf8 {
            format!("‘{s}’")
        } else {
            format!("'{s}'")
        }
    }

    fn verbose(&self) -> bool {
        self.o.verbosity == Verbosity::Verbose
    }

    async fn v(&mut self, s: impl AsRef<str>) -> bool {
        if self.verbose() {
            self.tool.io.err(s.as_ref()).await
        } else {
            self.tool.io.alive()
        }
    }

    /// LOG_NOTQUIET: verbose and -nv.
    async fn nq(&mut self, s: impl AsRef<str>) -> bool {
        if self.o.verbosity != Verbosity::Quiet {
            self.tool.io.err(s.as_ref()).await
        } else {
            self.tool.io.alive()
        }
    }

    fn progress_shown(&self) -> bool {
        self.verbose() || self.o.show_progress
    }

    fn link(&mut self, rate: Option<f64>) -> Link {
        self.tool.link(rate, self.o.limit_rate)
    }

    async fn wait(&mut self, lo: f64, hi: f64) {
        self.tool.latency(lo, hi).await;
    }

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
    async fn get(&mut self, arg: &str) -> i32 {
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

    /// The body transfer with its progress display.
    async fn body(
        &mut self,
        resp: &crate::net::response::Response,
        target: Option<&str>,
        initial: u64,
    ) -> TryEnd {
        let total = resp.send_length.then_some(resp.size);
        let remaining = resp.size.saturating_sub(initial);
        // A stall the read timeout outlasts is a read error at that byte.
        let timeout_stall = resp
            .stall
            .filter(|(_, d)| d.is_none_or(|d| d >= self.o.read_timeout))
            .map(|(at, _)| (FailKind::Stall, at));
        let fail = match (resp.fail, timeout_stall) {
            (Some(f), Some(s)) => Some(if s.1 < f.1 { s } else { f }),
            (f, s) => f.or(s),
        };
        let fail_at = fail.map(|(k, at)| (k, at.saturating_sub(initial).min(remaining)));
        let stop_at = fail_at.map(|(_, n)| n).unwrap_or(remaining);
        // A shorter stall: no bytes for a while, then the body goes on.
        let mut pause = resp
            .stall
            .filter(|(_, d)| d.is_some_and(|d| d < self.o.read_timeout))
            .map(|(at, d)| (at.saturating_sub(initial), d.unwrap_or(0.0)))
            .filter(|(at, _)| *at < stop_at);
        // A full disk: bytes past this one are not written (not with -O -).
        let disk_full = target
            .and_then(|_| self.tool.remote.disk_full_at(resp.size))
            .map(|at| at.saturating_sub(initial))
            .filter(|at| *at < stop_at);
        let tty = self.tool.ctx.stderr.is_tty();
        let kind = match &self.o.progress {
            Some(ProgressKind::Bar { force, noscroll }) if tty || *force => {
                Some((true, *noscroll, String::new()))
            }
            Some(ProgressKind::Dot(style)) => Some((false, false, style.clone())),
            _ if tty => Some((true, false, String::new())),
            _ => Some((false, false, "default".to_string())),
        };
        let show = self.progress_shown();
        let name_for_bar = target.map(String::from).unwrap_or_else(|| "-".into());
        let (is_bar, noscroll, style) = kind.unwrap_or((false, false, String::new()));
        let mut bar = is_bar.then(|| BarProgress::new(&name_for_bar, total, initial, noscroll));
        let mut dots = (!is_bar).then(|| {
            let mut st = DotStyle::named(&style);
            if let Some(b) = self.o.dot_bytes.filter(|b| *b > 0) {
                st.dot_bytes = b;
            }
            DotProgress::new(st, total, initial)
        });
        let ctx = self.tool.ctx;
        let cols = || {
            ctx.stderr
                .terminal()
                .map(|t| t.cols() as usize)
                .unwrap_or(80)
        };
        if show {
            if let Some(b) = bar.as_mut() {
                if self.verbose() {
                    self.tool.io.err("\n").await;
                }
                let f = b.frame(0.0, 0, cols(), false);
                self.tool.io.err(f).await;
            }
            if let Some((_, start)) = dots.as_ref() {
                let s = start.clone();
                self.tool.io.err(s).await;
            }
        }
        let mut link = self.link(resp.rate);
        let mut got = 0u64;
        let mut t = 0.0f64;
        let mut last_frame = 0.0f64;
        let mut last_data_t = 0.0f64;
        if self.tool.remote.at_progress(initial, resp.size) {
            return TryEnd::Gone;
        }
        let mut write_failed = false;
        while got < stop_at {
            if let Some((_, secs)) = pause.filter(|(at, _)| got >= *at) {
                pause = None;
                // fd_read_body wakes every 0.95 s; the bar is redrawn each time.
                let mut waited = 0.0;
                while waited < secs {
                    let step = 0.95f64.min(secs - waited);
                    if !self.tool.pause(step).await {
                        return TryEnd::Gone;
                    }
                    waited += step;
                    t += step;
                    if show {
                        if let Some(b) = bar.as_mut() {
                            let f = b.frame(t, got, cols(), false);
                            self.tool.io.err(f).await;
                        }
                    }
                }
            }
            if disk_full.is_some_and(|at| got >= at) {
                write_failed = true;
                break;
            }
            // The next point something happens at.
            let hangup = self
                .tool
                .remote
                .disconnect_at(resp.size)
                .map(|at| at.saturating_sub(initial))
                .filter(|at| *at > got);
            let limit = [Some(stop_at), pause.map(|p| p.0), disk_full, hangup]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(stop_at);
            let step = FRAME_STEP;
            let mut n = link.bytes_in(step);
            let mut dt = step;
            if got + n >= limit {
                let left = limit - got;
                dt = if n > 0 {
                    step * left as f64 / n as f64
                } else {
                    step
                };
                n = left;
            }
            if !self.tool.pause(dt).await {
                return TryEnd::Gone;
            }
            let t0 = t;
            t += dt;
            got += n;
            last_data_t = t;
            if let Some(path) = target {
                let _ = files::set_len(self.tool.ctx, path, initial + got);
            } else if n > 0 {
                // -O -: the data itself goes to stdout (zeros, lazily, in chunks).
                let mut left = n;
                while left > 0 {
                    let c = left.min(64 * 1024) as usize;
                    if !self.tool.io.out(vec![0u8; c]).await {
                        return TryEnd::Gone;
                    }
                    left -= c as u64;
                }
            }
            if show {
                if let Some(b) = bar.as_mut() {
                    if t - last_frame >= REFRESH_INTERVAL - 1e-9 && got < stop_at {
                        last_frame = t;
                        let f = b.frame(t, got, cols(), false);
                        self.tool.io.err(f).await;
                    }
                } else if let Some((d, _)) = dots.as_mut() {
                    let s = d.update(n, t0, t);
                    self.tool.io.err(s).await;
                }
            }
            if self.tool.remote.at_progress(initial + got, resp.size) {
                return TryEnd::Gone;
            }
        }
        // A stall: frames keep coming about once a second until the read timeout.
        if let (Some((FailKind::Stall, _)), false) = (fail_at, write_failed) {
            let mut waited = 0.0;
            while waited < self.o.read_timeout {
                let step = 0.95f64.min(self.o.read_timeout - waited);
                if !self.tool.pause(step).await {
                    return TryEnd::Gone;
                }
                waited += step;
                t += step;
                if show {
                    if let Some(b) = bar.as_mut() {
                        let f = b.frame(t, got, cols(), false);
                        self.tool.io.err(f).await;
                    }
                }
            }
        }
        let end_t = if fail_at.is_some() || write_failed {
            last_data_t
        } else {
            t
        };
        if show {
            if let Some(b) = bar.as_mut() {
                let f = b.frame(end_t, got, cols(), true);
                self.tool.io.err(f).await;
                self.tool.io.err("\n").await;
                if self.verbose() {
                    self.tool.io.err("\n").await;
                }
            } else if let Some((d, _)) = dots.as_mut() {
                let s = d.finish(end_t);
                self.tool.io.err(s).await;
            }
        }
        if write_failed {
            return TryEnd::WriteFailed;
        }
        match fail_at {
            Some((kind, _)) => TryEnd::Failed {
                kind,
                at: initial + got,
                bytes: got,
                secs: end_t,
            },
            None => TryEnd::Done {
                bytes: got,
                secs: end_t,
            },
        }
    }

    async fn run(&mut self) -> i32 {
        let start = self.tool.clock.now();
        let mut status = 0;
        let urls = self.o.urls.clone();
        if let Some(out) = self.o.output.clone().filter(|o| o != "-") {
            let exists = files::exists(self.tool.ctx, &out);
            if self.o.no_clobber && exists {
                let q = self.quote(&out);
                self.nq(format!("File {q} already there; not retrieving.\n"))
                    .await;
                return 1;
            }
            if !self.o.cont && !exists && files::create_sized(self.tool.ctx, &out, 0).is_err() {
                let abs = files::absolute(self.tool.ctx, &out);
                let msg = if files::is_dir(self.tool.ctx, &abs) {
                    "Is a directory"
                } else {
                    "No such file or directory"
                };
                self.nq(format!("{out}: {msg}\n")).await;
                return 3;
            }
        }
        for u in &urls {
            let s = self.get(u).await;
            if s != 0 && (status == 0 || s < status) {
                status = s;
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                return status;
            }
        }
        if urls.len() > 1 {
            let date = self.tool.clock.date();
            let wall = self.tool.clock.now() - start;
            self.nq(format!(
                "FINISHED --{date}--\nTotal wall clock time: {}\n",
                secs_to_human_time(wall)
            ))
            .await;
            if self.files_done > 0 {
                let size = human_readable(self.bytes_done, 10, 1);
                let secs = secs_to_human_time(self.dl_secs);
                let rate = retr_rate(self.bytes_done, self.dl_secs);
                self.nq(format!(
                    "Downloaded: {} files, {size} in {secs} ({rate})\n",
                    self.files_done
                ))
                .await;
            }
        }
        status
    }
}

/// Whether the locale makes wget print `‘x’` rather than `'x'`.
pub(crate) fn utf8_locale(env: &std::collections::BTreeMap<String, String>) -> bool {
    let v = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| env.get(*k))
        .find(|v| !v.is_empty())
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    v.contains("utf-8") || v.contains("utf8")
}

#[async_trait]
impl Program for Wget {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let opts = match parse_args(ctx.args()) {
            Parsed::Help => {
                ctx.out(HELP).await;
                return 0;
            }
            Parsed::Version => {
                ctx.out(VERSION).await;
                return 0;
            }
            Parsed::Usage(msg, code) => {
                ctx.err(format!("{msg}{USAGE_TAIL}")).await;
                return code;
            }
            Parsed::Run(o) => *o,
        };
        let mut run = Run {
            tool: ToolRun::new(ctx),
            o: opts,
            utf8: utf8_locale(&ctx.env),
            resolved: Vec::new(),
            files_done: 0,
            bytes_done: 0,
            dl_secs: 0.0,
        };
        let status = run.run().await;
        run.tool.io.flush().await;
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_readable_matches_wget() {
        assert_eq!(human_readable(3_000_000, 10, 1), "2.9M");
        assert_eq!(human_readable(12_000_000, 10, 1), "11M");
        assert_eq!(human_readable(200_000, 10, 1), "195K");
        assert_eq!(human_readable(221_184, 1000, 2), "216.00K");
        assert_eq!(human_readable(3_000_000, 1000, 2), "2.86M");
        assert_eq!(human_readable(500, 1000, 2), "500");
    }

    #[test]
    fn decimals_and_etas_match_wget() {
        assert_eq!(print_decimal(3.0), "3.0");
        assert_eq!(print_decimal(0.05), "0.05");
        assert_eq!(print_decimal(0.007), "0.007");
        assert_eq!(print_decimal(0.0), "0");
        assert_eq!(print_decimal(60.2), "60");
        assert_eq!(eta_short(65, true), "65s");
        assert_eq!(eta_short(125, true), "2m5s");
        assert_eq!(eta_short(2830, false), "47m 10s");
        assert_eq!(retr_rate(3_000_000, 3.0), "977 KB/s");
        assert_eq!(retr_rate(12_000_000, 8.0), "1.43 MB/s");
    }

    #[test]
    fn short_options_cluster_like_getopt() {
        let args: Vec<String> = [
            "-qnc",
            "--content-disposition",
            "--show-progress",
            "-e",
            "dotbytes=4M",
            "-P",
            "/d",
            "http://x.org/a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let Parsed::Run(o) = parse_args(&args) else {
            panic!()
        };
        assert_eq!(o.verbosity, Verbosity::Quiet);
        assert!(o.no_clobber && o.content_disposition && o.show_progress);
        assert_eq!(o.dot_bytes, Some(4 * 1024 * 1024));
        assert_eq!(o.prefix.as_deref(), Some("/d"));
    }
}
