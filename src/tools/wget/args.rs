//! wget's command line, parsed as getopt_long does: clustered short
//! options, `--opt=value`, unambiguous prefixes, `-e wgetrc` commands; and
//! the texts `--help` and `--version` print.

/// Which messages are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verbosity {
    Quiet,
    NoVerbose,
    Verbose,
}

/// `--progress=TYPE`.
#[derive(Clone, Debug)]
pub(super) enum ProgressKind {
    Bar { force: bool, noscroll: bool },
    Dot(String),
}

/// The parsed command line.
#[derive(Clone, Debug)]
pub(super) struct Opts {
    pub(super) urls: Vec<String>,
    pub(super) verbosity: Verbosity,
    pub(super) show_progress: bool,
    pub(super) progress: Option<ProgressKind>,
    pub(super) dot_bytes: Option<u64>,
    pub(super) output: Option<String>,
    pub(super) prefix: Option<String>,
    pub(super) cont: bool,
    pub(super) no_clobber: bool,
    pub(super) content_disposition: bool,
    pub(super) tries: u32,
    pub(super) read_timeout: f64,
    pub(super) authorized: bool,
    pub(super) limit_rate: u64,
    pub(super) retry_on_http_error: Vec<u16>,
}

/// What the command line asks for.
pub(super) enum Parsed {
    Run(Box<Opts>),
    Help,
    Version,
    Usage(String, i32),
}

/// The lines after an option error.
pub(super) const USAGE_TAIL: &str =
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

/// The long name of short option `c` (`c` itself when it has none).
fn option_name(c: char) -> String {
    match long_for_short(c) {
        "" => c.to_string(),
        long => long.to_string(),
    }
}

/// `-e dotbytes=4M`: a size with a binary multiplier (k = 1024).
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

/// The command line, or what to print instead of running.
pub(super) fn parse_args(args: &[String]) -> Parsed {
    match getopt(args) {
        Ok((pairs, urls)) => apply(pairs, urls),
        Err(early) => early,
    }
}

/// An option error: the message and the exit status.
fn usage<T>(msg: String, code: i32) -> Result<T, Parsed> {
    Err(Parsed::Usage(msg, code))
}

/// Options as getopt_long reads them: (long name, value) pairs in order,
/// and the URLs.
type Read = (Vec<(String, Option<String>)>, Vec<String>);

/// The options as `(long name, value)` and the URLs, as getopt_long reads
/// them; `Err` for an unknown, ambiguous or incomplete option.
fn getopt(args: &[String]) -> Result<Read, Parsed> {
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    let mut urls = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            urls.extend(args[i..].iter().cloned());
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
                [] => return usage(format!("wget: unrecognized option '{a}'\n"), 2),
                _ => {
                    return usage(format!("wget: option '{a}' is ambiguous\n"), 2);
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
                            return usage(
                                format!("wget: option '--{full}' requires an argument\n"),
                                2,
                            )
                        }
                    },
                };
                pairs.push((full, Some(v)));
            } else {
                if inline.is_some() {
                    return usage(
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
                        return usage(format!("wget: option requires an argument -- '{c}'\n"), 2);
                    };
                    if c == 'n' {
                        for f in v.chars() {
                            match f {
                                'v' => pairs.push(("no-verbose".into(), None)),
                                'c' => pairs.push(("no-clobber".into(), None)),
                                'd' | 'H' | 'p' => {}
                                _ => return usage(format!("wget: invalid option -- 'n{f}'\n"), 2),
                            }
                        }
                    } else {
                        pairs.push((option_name(c), Some(v)));
                    }
                    break;
                } else if SHORT_FLAG.contains(c) {
                    pairs.push((option_name(c), None));
                } else {
                    return usage(format!("wget: invalid option -- '{c}'\n"), 2);
                }
            }
            continue;
        }
        urls.push(a.clone());
    }
    Ok((pairs, urls))
}

/// The options applied in order over wget's defaults.
fn apply(pairs: Vec<(String, Option<String>)>, urls: Vec<String>) -> Parsed {
    let mut o = Opts {
        urls,
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
            "execute" => wgetrc(&mut o, &v),
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

/// `-e command`: the wgetrc commands that change what a run shows.
fn wgetrc(o: &mut Opts, v: &str) {
    let (k, val) = v.split_once('=').unwrap_or((v, ""));
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
        "contentdisposition" => o.content_disposition = matches!(val.trim(), "on" | "1" | "yes"),
        _ => {}
    }
}

/// `--progress=bar:force:noscroll`, `dot:mega`; `None` for an unknown type.
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

/// `wget --help`.
pub(super) const HELP: &str = include_str!("help.txt");

/// `wget --version`.
pub(super) const VERSION: &str = include_str!("version.txt");

#[cfg(test)]
mod tests {
    use super::*;

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
