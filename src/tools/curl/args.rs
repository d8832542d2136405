//! curl's command line as `tool_getparam.c` reads it: clustered short
//! flags (`-fsSL`, `-LOJ`), a short option's argument glued or in the next
//! word (`-ofile`, `-o file`), long options by full name or an unambiguous
//! prefix (no `--opt=value`: curl has none), URLs anywhere; and the texts
//! `--help` and `--version` print.

/// `--help` (the "important" category of 7.88).
pub(super) const HELP: &str = include_str!("help.txt");
/// `--version` (Debian 12's build of 7.88.1).
pub(super) const VERSION: &str = include_str!("version.txt");
/// The line after every command-line error (`helpf`).
pub(super) const TRY_HELP: &str =
    "curl: try 'curl --help' or 'curl --manual' for more information\n";

/// Where one URL's body goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum OutSpec {
    /// `-o FILE` (`-` is stdout).
    File(String),
    /// `-O`: the URL's last path segment (or Content-Disposition with `-J`).
    Remote,
}

/// One `-d`-style argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Data {
    /// Sent as given.
    Raw(String),
    /// `-d @FILE` (newlines stripped, as `-d` does; `--data-binary` keeps them).
    File { path: String, binary: bool },
    /// `-d @-`: standard input.
    Stdin { binary: bool },
}

/// `-C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resume {
    /// `-C -`: from the output file's size.
    Auto,
    /// `-C N`.
    At(u64),
}

/// The parsed command line.
#[derive(Clone, Debug, Default)]
pub(super) struct Opts {
    pub(super) urls: Vec<String>,
    /// `-o`/`-O` in order; the n-th applies to the n-th URL.
    pub(super) outs: Vec<OutSpec>,
    pub(super) silent: bool,
    pub(super) show_error: bool,
    pub(super) fail: bool,
    pub(super) fail_with_body: bool,
    pub(super) location: bool,
    pub(super) remote_header_name: bool,
    pub(super) resume: Option<Resume>,
    pub(super) write_out: Option<String>,
    pub(super) head: bool,
    pub(super) include: bool,
    pub(super) headers: Vec<String>,
    pub(super) method: Option<String>,
    pub(super) data: Vec<Data>,
    pub(super) retry: u32,
    pub(super) retry_delay: Option<u64>,
    pub(super) retry_connrefused: bool,
    pub(super) retry_all_errors: bool,
    pub(super) max_time: Option<f64>,
    pub(super) connect_timeout: Option<f64>,
    pub(super) insecure: bool,
    pub(super) user_agent: Option<String>,
    pub(super) user: Option<String>,
    pub(super) output_dir: Option<String>,
    pub(super) create_dirs: bool,
    pub(super) verbose: bool,
    pub(super) progress_bar: bool,
    pub(super) no_progress_meter: bool,
    pub(super) max_redirs: Option<u32>,
    pub(super) limit_rate: u64,
    /// `--remote-name-all`: `-O` for every URL without its own output.
    pub(super) remote_name_all: bool,
}

/// What the command line asks for.
pub(super) enum Parsed {
    Run(Box<Opts>),
    Help,
    Version,
    /// A usage error: the message after `curl: ` (exit 2).
    Usage(String),
}

/// Long options taking an argument.
const LONG_ARG: &[&str] = &[
    "output",
    "write-out",
    "header",
    "request",
    "data",
    "data-raw",
    "data-binary",
    "data-ascii",
    "retry",
    "retry-delay",
    "retry-max-time",
    "max-time",
    "connect-timeout",
    "user-agent",
    "user",
    "output-dir",
    "continue-at",
    "limit-rate",
    "max-redirs",
    "referer",
    "cookie",
    "proxy",
    "range",
    "url",
    "cacert",
    "resolve",
    "speed-limit",
    "speed-time",
    "dump-header",
    "interface",
];

/// Long options without an argument.
const LONG_FLAG: &[&str] = &[
    "silent",
    "show-error",
    "fail",
    "fail-with-body",
    "location",
    "remote-name",
    "remote-name-all",
    "remote-header-name",
    "head",
    "include",
    "insecure",
    "create-dirs",
    "verbose",
    "progress-bar",
    "no-progress-meter",
    "compressed",
    "globoff",
    "retry-connrefused",
    "retry-all-errors",
    "http1.1",
    "http2",
    "ipv4",
    "ipv6",
    "no-buffer",
    "no-keepalive",
    "location-trusted",
    "fail-early",
    "get",
    "help",
    "version",
    "manual",
];

/// Short options taking an argument, and their long names.
fn short_arg(c: char) -> Option<&'static str> {
    Some(match c {
        'o' => "output",
        'w' => "write-out",
        'H' => "header",
        'X' => "request",
        'd' => "data",
        'm' => "max-time",
        'A' => "user-agent",
        'u' => "user",
        'C' => "continue-at",
        'e' => "referer",
        'b' => "cookie",
        'x' => "proxy",
        'r' => "range",
        'D' => "dump-header",
        'Y' => "speed-limit",
        'y' => "speed-time",
        _ => return None,
    })
}

/// Short flags and their long names.
fn short_flag(c: char) -> Option<&'static str> {
    Some(match c {
        's' => "silent",
        'S' => "show-error",
        'f' => "fail",
        'L' => "location",
        'O' => "remote-name",
        'J' => "remote-header-name",
        'I' => "head",
        'i' => "include",
        'k' => "insecure",
        'v' => "verbose",
        '#' => "progress-bar",
        'V' => "version",
        'h' => "help",
        'G' => "get",
        'N' => "no-buffer",
        '4' => "ipv4",
        '6' => "ipv6",
        'M' => "manual",
        _ => return None,
    })
}

/// The long option `name` stands for: itself, or the one option it is a prefix of.
fn resolve_long(name: &str) -> Result<(&'static str, bool), &'static str> {
    let all = LONG_ARG
        .iter()
        .map(|o| (*o, true))
        .chain(LONG_FLAG.iter().map(|o| (*o, false)));
    if let Some(hit) = all.clone().find(|(o, _)| *o == name) {
        return Ok(hit);
    }
    let mut hits = all.filter(|(o, _)| o.starts_with(name));
    match (hits.next(), hits.next()) {
        (Some(hit), None) if !name.is_empty() => Ok(hit),
        (Some(_), Some(_)) => Err("is ambiguous"),
        _ => Err("is unknown"),
    }
}

/// Seconds for `-m`/`--connect-timeout` (a decimal number).
fn seconds(v: &str) -> Option<f64> {
    let s: f64 = v.trim().parse().ok()?;
    (s.is_finite() && s >= 0.0).then_some(s.min(1e9))
}

/// A whole non-negative number (saturating), as `str2unum` reads it.
fn whole(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// `--limit-rate 1M`: bytes per second with a 1024-based suffix.
fn rate(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], 1024u64),
        'm' | 'M' => (&v[..v.len() - 1], 1024 * 1024),
        'g' | 'G' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    whole(num).map(|n| n.saturating_mul(mult))
}

fn data_arg(v: &str, long: &str) -> Data {
    let binary = long == "data-binary";
    if long == "data-raw" {
        return Data::Raw(v.to_string());
    }
    match v.strip_prefix('@') {
        Some("-") => Data::Stdin { binary },
        Some(path) => Data::File {
            path: path.to_string(),
            binary,
        },
        None => Data::Raw(v.to_string()),
    }
}

/// Applies option `long` (with its argument) to `o`; `Err(reason)` as
/// `param2text` words it.
fn apply(o: &mut Opts, long: &str, v: Option<&str>) -> Result<Option<Parsed>, &'static str> {
    let v = v.unwrap_or("");
    let num = |v: &str| whole(v).ok_or("expected a proper numerical parameter");
    let secs = |v: &str| seconds(v).ok_or("expected a proper numerical parameter");
    match long {
        "output" => o.outs.push(OutSpec::File(v.to_string())),
        "remote-name" => o.outs.push(OutSpec::Remote),
        "remote-name-all" => o.remote_name_all = true,
        "write-out" => o.write_out = Some(v.to_string()),
        "header" => o.headers.push(v.to_string()),
        "request" => o.method = Some(v.to_string()),
        "data" | "data-raw" | "data-binary" | "data-ascii" => o.data.push(data_arg(v, long)),
        "retry" => o.retry = num(v)?.min(u64::from(u32::MAX)) as u32,
        "retry-delay" => o.retry_delay = Some(num(v)?),
        "retry-max-time" => {
            num(v)?;
        }
        "max-time" => o.max_time = Some(secs(v)?).filter(|s| *s > 0.0),
        "connect-timeout" => o.connect_timeout = Some(secs(v)?).filter(|s| *s > 0.0),
        "user-agent" => o.user_agent = Some(v.to_string()),
        "user" => o.user = Some(v.to_string()),
        "output-dir" => o.output_dir = Some(v.to_string()),
        "continue-at" => {
            o.resume = Some(if v == "-" {
                Resume::Auto
            } else {
                Resume::At(num(v)?)
            })
        }
        "limit-rate" => o.limit_rate = rate(v).ok_or("expected a proper numerical parameter")?,
        "max-redirs" => o.max_redirs = Some(num(v)?.min(u64::from(u32::MAX)) as u32),
        "speed-limit" | "speed-time" => {
            num(v)?;
        }
        "url" => o.urls.push(v.to_string()),
        "silent" => o.silent = true,
        "show-error" => o.show_error = true,
        "fail" => o.fail = true,
        "fail-with-body" => o.fail_with_body = true,
        "location" | "location-trusted" => o.location = true,
        "remote-header-name" => o.remote_header_name = true,
        "head" => o.head = true,
        "include" => o.include = true,
        "insecure" => o.insecure = true,
        "create-dirs" => o.create_dirs = true,
        "verbose" => o.verbose = true,
        "progress-bar" => o.progress_bar = true,
        "no-progress-meter" => o.no_progress_meter = true,
        "help" => return Ok(Some(Parsed::Help)),
        "version" => return Ok(Some(Parsed::Version)),
        "manual" => return Ok(Some(Parsed::Help)),
        // Accepted and without effect on the fake internet.
        _ => {}
    }
    Ok(None)
}

/// Parses curl's arguments (after `argv[0]`).
pub(super) fn parse_args(args: &[String]) -> Parsed {
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(name) = a.strip_prefix("--") {
            let (long, takes) = match resolve_long(name) {
                Ok(x) => x,
                Err(why) => return Parsed::Usage(format!("option {a}: {why}\n")),
            };
            let value = if takes {
                match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.as_str())
                    }
                    None => return Parsed::Usage(format!("option {a}: requires parameter\n")),
                }
            } else {
                None
            };
            match apply(&mut o, long, value) {
                Ok(Some(p)) => return p,
                Ok(None) => {}
                Err(why) => return Parsed::Usage(format!("option {a}: {why}\n")),
            }
            continue;
        }
        let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) else {
            o.urls.push(a.clone());
            continue;
        };
        for (pos, c) in cluster.char_indices() {
            if let Some(long) = short_arg(c) {
                let rest = &cluster[pos + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest.to_string()
                } else {
                    match args.get(i) {
                        Some(v) => {
                            i += 1;
                            v.clone()
                        }
                        None => return Parsed::Usage(format!("option -{c}: requires parameter\n")),
                    }
                };
                match apply(&mut o, long, Some(&value)) {
                    Ok(Some(p)) => return p,
                    Ok(None) => {}
                    Err(why) => return Parsed::Usage(format!("option -{c}: {why}\n")),
                }
                break;
            }
            let Some(long) = short_flag(c) else {
                return Parsed::Usage(format!("option {a}: is unknown\n"));
            };
            match apply(&mut o, long, None) {
                Ok(Some(p)) => return p,
                Ok(None) => {}
                Err(why) => return Parsed::Usage(format!("option -{c}: {why}\n")),
            }
        }
    }
    if o.remote_header_name && o.include {
        return Parsed::Usage(
            "showing headers and --remote-header-name cannot be combined\n".into(),
        );
    }
    if o.remote_header_name && o.resume.is_some() {
        return Parsed::Usage("--continue-at and --remote-header-name cannot be combined\n".into());
    }
    if o.urls.is_empty() {
        return Parsed::Usage("no URL specified!\n".into());
    }
    Parsed::Run(Box::new(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Opts {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse_args(&v) {
            Parsed::Run(o) => *o,
            _ => panic!("not a run: {args:?}"),
        }
    }

    fn usage(args: &[&str]) -> String {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse_args(&v) {
            Parsed::Usage(m) => m,
            _ => panic!("not a usage error: {args:?}"),
        }
    }

    #[test]
    fn clusters_and_glued_arguments() {
        let o = run(&["-fsSL", "http://x/a"]);
        assert!(o.fail && o.silent && o.show_error && o.location);
        let o = run(&["-LOJ", "http://x/a", "-ofile"]);
        assert_eq!(o.outs, vec![OutSpec::Remote, OutSpec::File("file".into())]);
        let o = run(&["-C", "-", "u"]);
        assert_eq!(o.resume, Some(Resume::Auto));
        assert_eq!(
            usage(&["-OJ", "-C", "-", "u"]),
            "--continue-at and --remote-header-name cannot be combined\n"
        );
        let o = run(&["--sil", "-m", "2.5", "--retry", "99999999999999999999", "u"]);
        assert!(o.silent);
        assert_eq!(o.max_time, Some(2.5));
        assert_eq!(o.retry, u32::MAX);
    }

    #[test]
    fn errors_are_worded_as_curl_words_them() {
        assert_eq!(usage(&["--foo"]), "option --foo: is unknown\n");
        assert_eq!(usage(&["-o"]), "option -o: requires parameter\n");
        assert_eq!(
            usage(&["--retry", "x", "u"]),
            "option --retry: expected a proper numerical parameter\n"
        );
        assert_eq!(usage(&[]), "no URL specified!\n");
        assert_eq!(usage(&["--re", "u"]), "option --re: is ambiguous\n");
    }
}
