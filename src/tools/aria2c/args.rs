//! aria2c's command line, read as its `OptionParser` reads it through
//! getopt_long: `--name=value`, `--name value`, unambiguous prefixes,
//! clustered short options, optional `=true|false` on boolean options; and
//! the errors it prints (to stderr) with their exit codes.

/// `Usage:` and the pointer to `-h`, as `showUsage("")` prints them.
pub(super) const USAGE: &str =
    "Usage: aria2c [OPTIONS] [URI | MAGNET | TORRENT_FILE | METALINK_FILE]...\nSee 'aria2c -h'.\n";

/// `--help` (the `#basic` tag).
pub(super) const HELP: &str = include_str!("help.txt");
/// `--version`.
pub(super) const VERSION: &str = include_str!("version.txt");

/// aria2's `--console-log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    Debug,
    Info,
    Notice,
    Warn,
    Error,
}

/// The parsed command line.
#[derive(Clone, Debug)]
pub(super) struct Opts {
    pub(super) uris: Vec<String>,
    pub(super) dir: Option<String>,
    pub(super) out: Option<String>,
    pub(super) split: u32,
    pub(super) max_conn: u32,
    pub(super) min_split: u64,
    pub(super) cont: bool,
    pub(super) quiet: bool,
    pub(super) level: Level,
    pub(super) summary_interval: u64,
    pub(super) allow_overwrite: bool,
    pub(super) auto_rename: bool,
    pub(super) prealloc: bool,
    pub(super) max_tries: u32,
    pub(super) retry_wait: u64,
    pub(super) timeout: u64,
    pub(super) input_file: Option<String>,
    pub(super) concurrent: u32,
    pub(super) sequential: bool,
    pub(super) authorized: bool,
    pub(super) color: bool,
    pub(super) limit: u64,
    pub(super) lowest_speed: u64,
    pub(super) readout: bool,
    pub(super) stderr: bool,
    pub(super) result_full: bool,
    pub(super) result_hide: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            uris: Vec::new(),
            dir: None,
            out: None,
            split: 5,
            max_conn: 1,
            min_split: 20 * 1024 * 1024,
            cont: false,
            quiet: false,
            level: Level::Notice,
            summary_interval: 60,
            allow_overwrite: false,
            auto_rename: true,
            prealloc: true,
            max_tries: 5,
            retry_wait: 0,
            timeout: 60,
            input_file: None,
            concurrent: 5,
            sequential: false,
            authorized: false,
            color: true,
            limit: 0,
            lowest_speed: 0,
            readout: true,
            stderr: false,
            result_full: false,
            result_hide: false,
        }
    }
}

/// What the command line asks for.
pub(super) enum Parsed {
    Run(Box<Opts>),
    Help,
    Version,
    /// Text for stderr and the exit status.
    Error(String, i32),
}

/// How an option takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// `--opt VALUE` / `--opt=VALUE` / `-oVALUE`.
    Required,
    /// Booleans (and `-h`): `--opt` or `--opt=VALUE`, never a separate word.
    Optional,
    /// `--version`.
    None,
}

/// aria2 1.36's visible options, in `prefs.cc` order: name, `r`equired /
/// `o`ptional / `n`o argument, short letter. Options this emulation does
/// not act on are still accepted, as aria2 accepts them.
const ALL_OPTIONS: &str = include_str!("options.txt");

/// Every option: (name, value kind, short letter).
fn all_options() -> impl Iterator<Item = (&'static str, Arg, Option<char>)> {
    ALL_OPTIONS.lines().filter_map(|l| {
        let mut f = l.split('\t');
        let name = f.next()?;
        let kind = match f.next()? {
            "o" => Arg::Optional,
            "n" => Arg::None,
            _ => Arg::Required,
        };
        Some((name, kind, f.next().and_then(|s| s.chars().next())))
    })
}

/// Damerau-Levenshtein distance with git's costs, as `option_processing.cc` has it.
fn levenshtein(a: &[u8], b: &[u8], swap: u32, sub: u32, add: u32, del: u32) -> u32 {
    let mut dp = vec![vec![0u32; b.len() + 1]; 3];
    for (j, v) in dp[1].iter_mut().enumerate() {
        *v = j as u32;
    }
    for i in 1..=a.len() {
        dp[0][0] = i as u32;
        for j in 1..=b.len() {
            let mut v = dp[1][j - 1] + if a[i - 1] == b[j - 1] { 0 } else { sub };
            if i >= 2
                && j >= 2
                && a[i - 1] != b[j - 1]
                && a[i - 2] == b[j - 1]
                && a[i - 1] == b[j - 2]
            {
                v = v.min(dp[2][j - 2] + swap);
            }
            dp[0][j] = v.min(dp[1][j] + del).min(dp[0][j - 1] + add);
        }
        dp.rotate_left(2);
    }
    dp[1][b.len()]
}

/// `showCandidates`: `Did you mean:` and the closest option names, if any is close.
fn candidates(unknown: &str) -> String {
    let opt = unknown.trim_start_matches('-');
    // A long typo costs little per added letter: skip pathological lengths.
    if opt.is_empty() || opt.len() > 200 {
        return String::new();
    }
    let mut cands: Vec<(u32, usize, &str)> = all_options()
        .enumerate()
        .map(|(i, (name, _, _))| {
            let cost = if name.starts_with(opt) {
                0
            } else {
                levenshtein(opt.as_bytes(), name.as_bytes(), 0, 2, 1, 4)
            };
            (cost, i, name)
        })
        .collect();
    cands.sort();
    let Some(&(best, _, _)) = cands.first() else {
        return String::new();
    };
    if best > 12 {
        return String::new();
    }
    let mut s = String::from("\nDid you mean:\n");
    for (_, _, name) in cands.iter().take_while(|c| c.0 <= best) {
        s.push_str(&format!("\t--{name}\n"));
    }
    s
}

/// aria2's `errorCode=28` (`OPTION_ERROR`).
const OPTION_ERROR: i32 = 28;

/// How getopt_long failed to find a long option.
enum Lookup {
    Unknown,
    /// The names a prefix could stand for.
    Ambiguous(Vec<&'static str>),
}

/// The option `name` names, exactly or as an unambiguous prefix.
fn find_long(name: &str) -> Result<(&'static str, Arg), Lookup> {
    if let Some((n, k, _)) = all_options().find(|o| o.0 == name) {
        return Ok((n, k));
    }
    let hits: Vec<(&'static str, Arg)> = all_options()
        .filter(|o| !name.is_empty() && o.0.starts_with(name))
        .map(|o| (o.0, o.1))
        .collect();
    match hits.as_slice() {
        [] => Err(Lookup::Unknown),
        [one] => Ok(*one),
        many => Err(Lookup::Ambiguous(many.iter().map(|h| h.0).collect())),
    }
}

/// `Exception: [OptionParser.cc:N] errorCode=28 Failed to parse command-line options.`
fn parse_failure(getopt_line: String, line: u32) -> Parsed {
    Parsed::Error(
        format!(
            "{getopt_line}Exception: [OptionParser.cc:{line}] errorCode=28 Failed to parse command-line options.\n{USAGE}"
        ),
        OPTION_ERROR,
    )
}

/// The `--help` block of option `name` (its description, values, default, tags).
fn help_block(name: &str) -> String {
    let key = format!("--{name}");
    // Header lines start with " -x," or " --name": descriptions are indented further.
    let header = |l: &str| {
        l.starts_with(" -")
            && l.split_whitespace().take(2).any(|w| {
                let w = w.trim_end_matches(',');
                w == key || w.starts_with(&format!("{key}=")) || w.starts_with(&format!("{key}["))
            })
    };
    let mut lines = HELP.lines().skip_while(|l| !header(l));
    let mut out = String::new();
    for l in lines.by_ref() {
        out.push_str(l);
        out.push('\n');
        if l.trim_start().starts_with("Tags: ") {
            break;
        }
    }
    out
}

/// An option value aria2 refuses: its OptionHandlerException, thrown
/// from `OptionHandlerImpl.cc:{line}`, and the option's usage.
fn bad_value(name: &str, why: String, line: u32) -> Parsed {
    Parsed::Error(
        format!(
            "Exception: [AbstractOptionHandler.cc:69] errorCode=28 We encountered a problem while processing the option '--{name}'.\n  -> [OptionHandlerImpl.cc:{line}] errorCode=1 {why}\nUsage:\n{}",
            help_block(name).replace("@CWD@", "/root")
        ),
        OPTION_ERROR,
    )
}

/// `1M`, `20M`, `1024K`, `5000`: aria2's `getRealSize` (1024-based); `None` when not a size.
pub(super) fn real_size(text: &str) -> Option<u64> {
    let (num, mult) = match text.chars().last()? {
        'K' | 'k' => (&text[..text.len() - 1], 1024u64),
        'M' | 'm' => (&text[..text.len() - 1], 1024 * 1024),
        _ => (text, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

fn number(name: &str, v: &str, lo: u64, hi: Option<u64>) -> Result<u64, Parsed> {
    let range = match hi {
        Some(h) => format!("{name} must be between {lo} and {h}."),
        None => format!("{name} must be greater than or equal to {lo}."),
    };
    let n: u64 = match v.trim().parse::<i64>() {
        Ok(n) if n >= 0 => n as u64,
        Ok(_) => return Err(bad_value(name, range, 184)),
        Err(_) => return Err(bad_value(name, format!("Bad number {v}"), 159)),
    };
    if n < lo || hi.is_some_and(|h| n > h) {
        return Err(bad_value(name, range, 184));
    }
    Ok(n)
}

fn boolean(name: &str, v: Option<&str>) -> Result<bool, Parsed> {
    match v {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(bad_value(
            name,
            format!("{name} must be either 'true' or 'false'."),
            95,
        )),
    }
}

fn size_value(name: &str, v: &str, lo: u64, hi: u64) -> Result<u64, Parsed> {
    match real_size(v) {
        Some(n) if n >= lo && n <= hi => Ok(n),
        Some(_) => Err(bad_value(
            name,
            format!("{name} must be between {lo} and {hi}."),
            184,
        )),
        None => Err(bad_value(
            name,
            format!("Bad or negative value detected: {v}"),
            184,
        )),
    }
}

/// Sets one option on `o`.
fn apply(o: &mut Opts, name: &str, v: Option<&str>) -> Result<(), Parsed> {
    let val = v.unwrap_or("");
    match name {
        "dir" => o.dir = Some(val.to_string()),
        "out" => o.out = Some(val.to_string()),
        "split" => o.split = number(name, val, 1, None)?.min(u64::from(u32::MAX)) as u32,
        "max-connection-per-server" => o.max_conn = number(name, val, 1, Some(16))? as u32,
        "min-split-size" => o.min_split = size_value(name, val, 1024 * 1024, 1 << 30)?,
        "continue" => o.cont = boolean(name, v)?,
        "quiet" => o.quiet = boolean(name, v)?,
        "console-log-level" => {
            o.level = match val {
                "debug" => Level::Debug,
                "info" => Level::Info,
                "notice" => Level::Notice,
                "warn" => Level::Warn,
                "error" => Level::Error,
                _ => {
                    return Err(bad_value(
                        name,
                        format!(
                    "{name} must be one of the following:'debug' 'info' 'notice' 'warn' 'error' "
                ),
                        435,
                    ))
                }
            }
        }
        "summary-interval" => o.summary_interval = number(name, val, 0, Some(86400))?,
        "allow-overwrite" => o.allow_overwrite = boolean(name, v)?,
        "auto-file-renaming" => o.auto_rename = boolean(name, v)?,
        "file-allocation" => {
            o.prealloc = match val {
                "none" => false,
                "prealloc" | "trunc" | "falloc" => true,
                _ => {
                    return Err(bad_value(
                        name,
                        format!(
                        "{name} must be one of the following:'none' 'prealloc' 'trunc' 'falloc' "
                    ),
                        435,
                    ))
                }
            }
        }
        "max-tries" => o.max_tries = number(name, val, 0, None)?.min(u64::from(u32::MAX)) as u32,
        "retry-wait" => o.retry_wait = number(name, val, 0, Some(600))?,
        "timeout" => o.timeout = number(name, val, 1, Some(600))?,
        "connect-timeout" => {
            number(name, val, 1, Some(600))?;
        }
        "max-concurrent-downloads" => {
            o.concurrent = number(name, val, 1, None)?.min(u64::from(u32::MAX)) as u32
        }
        "input-file" => o.input_file = Some(val.to_string()),
        "force-sequential" => o.sequential = boolean(name, v)?,
        "enable-color" => o.color = boolean(name, v)?,
        "show-console-readout" => o.readout = boolean(name, v)?,
        "stderr" => o.stderr = boolean(name, v)?,
        "download-result" => match val {
            "default" => (o.result_full, o.result_hide) = (false, false),
            "full" => (o.result_full, o.result_hide) = (true, false),
            "hide" => (o.result_full, o.result_hide) = (false, true),
            _ => {
                return Err(bad_value(
                    name,
                    format!("{name} must be one of the following:'default' 'full' 'hide' "),
                    435,
                ))
            }
        },
        "max-download-limit" | "max-overall-download-limit" => {
            o.limit = size_value(name, val, 0, u64::MAX)?
        }
        "lowest-speed-limit" => o.lowest_speed = size_value(name, val, 0, u64::MAX)?,
        "header" => {
            let lower = val.to_ascii_lowercase();
            if lower.starts_with("authorization:") || lower.starts_with("cookie:") {
                o.authorized = true;
            }
        }
        "http-user" | "http-passwd" => o.authorized = true,
        _ => {
            if let Some((_, Arg::Optional, _)) = all_options().find(|x| x.0 == name) {
                if name != "help" {
                    boolean(name, v)?;
                }
            }
        }
    }
    Ok(())
}

/// Reads aria2c's arguments.
pub(super) fn parse_args(args: &[String]) -> Parsed {
    let mut o = Opts::default();
    let mut i = 0;
    let mut positional = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let (long, kind) = match find_long(name) {
                Ok(x) => x,
                Err(Lookup::Unknown) => {
                    return Parsed::Error(
                        format!(
                            "aria2c: unrecognized option '{a}'\n{USAGE}{}",
                            candidates(name)
                        ),
                        OPTION_ERROR,
                    )
                }
                Err(Lookup::Ambiguous(names)) => {
                    let list: String = names.iter().map(|n| format!(" '--{n}'")).collect();
                    return Parsed::Error(
                        format!(
                            "aria2c: option '--{name}' is ambiguous; possibilities:{list}\n{USAGE}{}",
                            candidates(name)
                        ),
                        OPTION_ERROR,
                    );
                }
            };
            let value = match (kind, inline) {
                (Arg::Required, Some(v)) => Some(v.to_string()),
                (Arg::Required, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => {
                        return parse_failure(
                            format!("aria2c: option '--{long}' requires an argument\n"),
                            205,
                        )
                    }
                },
                (Arg::None, Some(_)) => {
                    return parse_failure(
                        format!("aria2c: option '--{long}' doesn't allow an argument\n"),
                        205,
                    )
                }
                (_, v) => v.map(str::to_string),
            };
            match long {
                "help" => return Parsed::Help,
                "version" => return Parsed::Version,
                _ => {}
            }
            if let Err(e) = apply(&mut o, long, value.as_deref()) {
                return e;
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let Some((long, kind, _)) = all_options().find(|x| x.2 == Some(c)) else {
                    return parse_failure(format!("aria2c: invalid option -- '{c}'\n"), 191);
                };
                let value = match kind {
                    Arg::Required => {
                        let rest: String = chars[k..].iter().collect();
                        k = chars.len();
                        if !rest.is_empty() {
                            Some(rest)
                        } else if let Some(v) = args.get(i) {
                            i += 1;
                            Some(v.clone())
                        } else {
                            return parse_failure(
                                format!("aria2c: option requires an argument -- '{c}'\n"),
                                191,
                            );
                        }
                    }
                    Arg::Optional if long == "help" => return Parsed::Help,
                    _ => None,
                };
                match long {
                    "help" => return Parsed::Help,
                    "version" => return Parsed::Version,
                    _ => {}
                }
                if let Err(e) = apply(&mut o, long, value.as_deref()) {
                    return e;
                }
            }
            continue;
        }
        positional.push(a.clone());
    }
    if positional.is_empty() && o.input_file.is_none() {
        return Parsed::Error(format!("Specify at least one URL.\n{USAGE}"), 1);
    }
    o.uris = positional;
    Parsed::Run(Box::new(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_read_as_getopt_reads_them() {
        let Parsed::Run(o) = p(&["-x4", "-s", "4", "--dir=/d", "-c", "--max-tries", "2", "u"])
        else {
            panic!("not a run");
        };
        assert_eq!((o.max_conn, o.split, o.max_tries), (4, 4, 2));
        assert_eq!(o.dir.as_deref(), Some("/d"));
        assert!(o.cont);
        assert_eq!(o.uris, vec!["u".to_string()]);
        let Parsed::Run(o) = p(&[
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
            "-k",
            "1M",
            "u",
        ]) else {
            panic!("not a run");
        };
        assert!(o.allow_overwrite && !o.auto_rename);
        assert_eq!(o.min_split, 1 << 20);
    }

    #[test]
    fn bad_command_lines_get_aria2s_errors() {
        let Parsed::Error(msg, 28) = p(&["--foo"]) else {
            panic!("no option error");
        };
        assert!(msg.starts_with("aria2c: unrecognized option '--foo'\nUsage: aria2c"));
        let Parsed::Error(msg, 28) = p(&["--contineu"]) else {
            panic!("no option error");
        };
        assert!(
            msg.ends_with("See 'aria2c -h'.\n\nDid you mean:\n\t--continue\n"),
            "{msg}"
        );
        assert!(matches!(p(&[]), Parsed::Error(_, 1)));
        let Parsed::Error(msg, 28) = p(&["-x", "99", "u"]) else {
            panic!("no value error");
        };
        assert_eq!(msg, "Exception: [AbstractOptionHandler.cc:69] errorCode=28 We encountered a problem while processing the option '--max-connection-per-server'.\n  -> [OptionHandlerImpl.cc:184] errorCode=1 max-connection-per-server must be between 1 and 16.\nUsage:\n -x, --max-connection-per-server=NUM The maximum number of connections to one\n                              server for each download.\n\n                              Possible Values: 1-16\n                              Default: 1\n                              Tags: #basic, #http, #ftp\n");
        assert!(matches!(p(&["-x"]), Parsed::Error(_, 28)));
        assert!(matches!(
            p(&["-x", "99999999999999999999999", "u"]),
            Parsed::Error(_, 28)
        ));
        assert!(matches!(p(&["--version"]), Parsed::Version));
        // Options aria2 has but this emulation does not act on are accepted.
        assert!(matches!(
            p(&[
                "--disable-ipv6",
                "--async-dns=false",
                "--seed-time",
                "0",
                "u"
            ]),
            Parsed::Run(_)
        ));
        let Parsed::Error(msg, 28) = p(&["--max-c", "u"]) else {
            panic!("no ambiguity error");
        };
        assert!(msg.starts_with("aria2c: option '--max-c' is ambiguous; possibilities: '--max-concurrent-downloads' '--max-connection-per-server'\n"), "{msg}");
        assert!(
            msg.ends_with(
                "Did you mean:\n\t--max-concurrent-downloads\n\t--max-connection-per-server\n"
            ),
            "{msg}"
        );
        assert!(matches!(p(&["-h"]), Parsed::Help));
    }
}
