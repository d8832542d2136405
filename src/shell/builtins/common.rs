//! Pieces every utility shares: GNU option parsing, the GNU error shapes,
//! locale-aware quoting and streaming reads of files.

use std::io;

use tokio::io::AsyncReadExt;

use crate::program::{strerror, Ctx};

/// Size of one read when streaming a file or stdin.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Which options a utility accepts.
pub(crate) struct Spec {
    /// Short options without an argument (`"lah1"`).
    pub flags: &'static str,
    /// Short options that take an argument (`"n"`).
    pub with_arg: &'static str,
    /// Long options: name, the key they map to, whether they take an argument.
    pub long: &'static [(&'static str, char, bool)],
}

/// Parsed options in the order given, and the operands.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub opts: Vec<(char, Option<String>)>,
    pub operands: Vec<String>,
}

impl Parsed {
    /// Whether option `c` was given.
    pub fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(k, _)| *k == c)
    }
    /// The last value given to option `c`.
    pub fn value(&self, c: char) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| v.as_deref())
    }
    /// Which of `cs` was given last, if any.
    pub fn last_of(&self, cs: &str) -> Option<char> {
        self.opts
            .iter()
            .rev()
            .map(|(k, _)| *k)
            .find(|k| cs.contains(*k))
    }
}

/// Why an argument list was refused.
#[derive(Debug, PartialEq)]
pub(crate) enum OptError {
    Invalid(char),
    Unrecognized(String),
    NeedsArg(char),
    NeedsArgLong(String),
    Help,
    Version,
}

/// Parses GNU-style options (clusters, `--long[=v]`, `--`, permuted operands).
pub(crate) fn parse(args: &[String], spec: &Spec) -> Result<Parsed, OptError> {
    let mut p = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            p.operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let hits: Vec<_> = spec
                .long
                .iter()
                .filter(|(n, _, _)| *n == name || n.starts_with(name))
                .collect();
            let exact = spec.long.iter().find(|(n, _, _)| *n == name);
            let hit = exact.or(if hits.len() == 1 { Some(hits[0]) } else { None });
            match hit {
                Some((n, key, true)) => {
                    let v = match inline {
                        Some(v) => v,
                        None if i < args.len() => {
                            i += 1;
                            args[i - 1].clone()
                        }
                        None => return Err(OptError::NeedsArgLong(n.to_string())),
                    };
                    p.opts.push((*key, Some(v)));
                }
                Some((_, key, false)) => p.opts.push((*key, None)),
                None if "help".starts_with(name) && !name.is_empty() => return Err(OptError::Help),
                None if "version".starts_with(name) && !name.is_empty() => {
                    return Err(OptError::Version)
                }
                None => return Err(OptError::Unrecognized(a.clone())),
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                if spec.with_arg.contains(c) {
                    let rest: String = chars[j..].iter().collect();
                    let v = if !rest.is_empty() {
                        rest
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(OptError::NeedsArg(c));
                    };
                    p.opts.push((c, Some(v)));
                    break;
                } else if spec.flags.contains(c) {
                    p.opts.push((c, None));
                } else {
                    return Err(OptError::Invalid(c));
                }
            }
            continue;
        }
        p.operands.push(a.clone());
    }
    Ok(p)
}

/// Prints the GNU diagnostic for a refused option list and returns `code`
/// (`--help` and `--version` print to stdout and return 0).
pub(crate) async fn opt_error(ctx: &Ctx, e: OptError, code: i32) -> i32 {
    let name = ctx.name().to_string();
    let msg = match e {
        OptError::Invalid(c) => format!("{name}: invalid option -- '{c}'\n"),
        OptError::Unrecognized(s) => format!("{name}: unrecognized option '{s}'\n"),
        OptError::NeedsArg(c) => format!("{name}: option requires an argument -- '{c}'\n"),
        OptError::NeedsArgLong(s) => format!("{name}: option '--{s}' requires an argument\n"),
        OptError::Help => {
            ctx.out(format!(
                "Usage: {name} [OPTION]... [FILE]...\n\nFull documentation <https://www.gnu.org/software/coreutils/{name}>\n"
            ))
            .await;
            return 0;
        }
        OptError::Version => {
            ctx.out(format!(
                "{name} (GNU coreutils) 8.32\nCopyright (C) 2020 Free Software Foundation, Inc.\n"
            ))
            .await;
            return 0;
        }
    };
    ctx.err(format!("{msg}Try '{name} --help' for more information.\n"))
        .await;
    code
}

/// Parses options or prints the error; `Err(code)` is the exit status.
pub(crate) async fn parse_or_exit(ctx: &Ctx, spec: &Spec, code: i32) -> Result<Parsed, i32> {
    let args = ctx.args().to_vec();
    match parse(&args, spec) {
        Ok(p) => Ok(p),
        Err(e) => Err(opt_error(ctx, e, code).await),
    }
}

/// Prints `name: msg` on stderr.
pub(crate) async fn complain(ctx: &Ctx, msg: impl AsRef<str>) {
    let line = format!("{}: {}\n", ctx.name(), msg.as_ref());
    ctx.err(line).await;
}

/// Quotes a file name as GNU does in diagnostics: `'x'` under the C locale,
/// `‘x’` under a UTF-8 one; a name holding `'` is put in double quotes.
pub(crate) fn quote(ctx: &Ctx, s: &str) -> String {
    let utf8 = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| ctx.env.get(*k))
        .find(|v| !v.is_empty())
        .map(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
        .unwrap_or(false);
    if utf8 {
        format!("\u{2018}{s}\u{2019}")
    } else if s.contains('\'') {
        format!("\"{s}\"")
    } else {
        format!("'{s}'")
    }
}

/// `strerror` of a plain I/O error.
pub(crate) fn errtext(e: &io::Error) -> String {
    strerror(e)
}

/// An `io::Error` of a given kind.
pub(crate) fn ioerr(kind: io::ErrorKind) -> io::Error {
    io::Error::from(kind)
}

/// Where a file operand's bytes come from.
pub(crate) enum Source {
    Stdin,
    File(tokio::fs::File),
}

/// Opens `path` (`-` is stdin) for reading; a directory is `Is a directory`.
pub(crate) async fn open_input(ctx: &Ctx, path: &str) -> io::Result<Source> {
    if path == "-" {
        return Ok(Source::Stdin);
    }
    open_file(ctx, path).map(Source::File)
}

/// Opens a file inside the instance for reading, refusing directories.
pub(crate) fn open_file(ctx: &Ctx, path: &str) -> io::Result<tokio::fs::File> {
    ctx.fs().open_read(path).map(tokio::fs::File::from_std)
}

/// The instance path of `path` with every component but the last resolved
/// (as `lstat` sees it): `a/link` names the link itself, not its target.
pub(crate) fn nofollow_path(ctx: &Ctx, path: &str) -> io::Result<String> {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        child(&ctx.cwd, path)
    };
    let trimmed = full.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(i) if !matches!(&trimmed[i + 1..], "" | "." | "..") => {
            let parent = ctx
                .fs()
                .canonical(if i == 0 { "/" } else { &trimmed[..i] })?;
            Ok(child(&parent, &trimmed[i + 1..]))
        }
        _ => ctx.fs().canonical(path),
    }
}

/// `dir/name`, without doubling a slash.
pub(crate) fn child(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The most bytes a utility holds back from a stream (`head -c -N`,
/// `tail` of a pipe) before giving up, as GNU does when memory runs out.
pub(crate) const MAX_HELD: usize = 64 * 1024 * 1024;

/// The error of a utility that would need more than [`MAX_HELD`] bytes.
pub(crate) fn exhausted() -> io::Error {
    io::Error::other("memory exhausted")
}

impl Source {
    /// Reads the next chunk; 0 at end of input.
    pub async fn read(&mut self, ctx: &Ctx, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Stdin => ctx.stdin.read(buf).await,
            Source::File(f) => f.read(buf).await,
        }
    }
}

/// Reads lines (with their `\n`) from a source in chunks, without holding
/// more than one line plus one chunk in memory.
pub(crate) struct Lines {
    src: Source,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Treat NUL as a line end too (grep on binary files).
    pub nul_ends_lines: bool,
}

/// Longest line [`Lines`] holds before cutting it.
const MAX_LINE: usize = 1 << 20;

impl Lines {
    /// Lines of `src`.
    pub fn new(src: Source) -> Self {
        Lines {
            src,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            nul_ends_lines: false,
        }
    }

    /// The next line including its newline (the last one may lack it).
    pub async fn next(&mut self, ctx: &Ctx) -> io::Result<Option<Vec<u8>>> {
        loop {
            let nul = self.nul_ends_lines;
            if let Some(off) = self.buf[self.pos..]
                .iter()
                .position(|&b| b == b'\n' || (nul && b == 0))
            {
                let line = self.buf[self.pos..self.pos + off + 1].to_vec();
                self.pos += off + 1;
                if nul {
                    // A run of NULs (a hole in a sparse file) ends one line.
                    while self.pos < self.buf.len() && self.buf[self.pos] == 0 {
                        self.pos += 1;
                    }
                }
                return Ok(Some(line));
            }
            // A line longer than this is cut, so a huge file without
            // newlines (a sparse model) never sits in memory.
            if self.buf.len() - self.pos >= MAX_LINE {
                let line = self.buf[self.pos..].to_vec();
                self.pos = self.buf.len();
                return Ok(Some(line));
            }
            if self.eof {
                if self.pos < self.buf.len() {
                    let line = self.buf[self.pos..].to_vec();
                    self.pos = self.buf.len();
                    return Ok(Some(line));
                }
                return Ok(None);
            }
            self.buf.drain(..self.pos);
            self.pos = 0;
            let mut chunk = vec![0u8; CHUNK];
            let n = self.src.read(ctx, &mut chunk).await?;
            if n == 0 {
                self.eof = true;
            } else {
                self.buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// Formats a byte count as `ls -h`/`du -h`/`df -h` do (1024-based, one
/// decimal under 10, rounded up).
pub(crate) fn human(n: u64) -> String {
    const UNITS: [&str; 8] = ["K", "M", "G", "T", "P", "E", "Z", "Y"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64;
    let mut unit = 0;
    v /= 1024.0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        let r = (v * 10.0).ceil() / 10.0;
        if r >= 10.0 {
            return format!("{}{}", r as u64, UNITS[unit]);
        }
        format!("{r:.1}{}", UNITS[unit])
    } else {
        let r = v.ceil();
        if r >= 1024.0 && unit < UNITS.len() - 1 {
            return format!("1.0{}", UNITS[unit + 1]);
        }
        format!("{}{}", r as u64, UNITS[unit])
    }
}

/// A civil date and time in UTC from seconds since the epoch:
/// (year, month 1-12, day, hour, minute, second, weekday 0=Sunday).
pub(crate) fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    use chrono::{Datelike, Timelike};
    let t = utc(secs);
    (
        i64::from(t.year()),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.weekday().num_days_from_sunday(),
    )
}

/// A Unix time as a UTC date, clamped to what chrono can hold (±262,000
/// years: no file or clock of the instance is out there).
pub(crate) fn utc(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
        chrono::DateTime::<chrono::Utc>::MIN_UTC
    } else {
        chrono::DateTime::<chrono::Utc>::MAX_UTC
    })
}

/// English month abbreviations.
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// English weekday abbreviations, Sunday first.
pub(crate) const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Seconds since the epoch now (the real clock).
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A modification time in seconds since the epoch.
pub(crate) fn mtime_secs(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
}

/// Matches a shell glob (`*`, `?`, `[...]`) against a name.
pub(crate) fn glob_match(pat: &str, name: &str, fold_case: bool) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = if fold_case {
        (
            pat.chars().flat_map(char::to_lowercase).collect(),
            name.chars().flat_map(char::to_lowercase).collect(),
        )
    } else {
        (pat.chars().collect(), name.chars().collect())
    };
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with one backtrack point for `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, len)) = class_match(&p[pi..], n[ni]) {
                        if ok {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == n[ni] => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() => {}
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against a bracket expression at the start of `p`; returns
/// (matched, length of the expression) or `None` when it is not closed.
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// The last component of a path as `basename` prints it.
pub(crate) fn base_name(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.is_empty() {
            String::new()
        } else {
            "/".into()
        };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// The parent of a path as `dirname` prints it.
pub(crate) fn dir_name(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.starts_with('/') {
            "/".into()
        } else {
            ".".into()
        };
    }
    match t.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = t[..i].trim_end_matches('/');
            if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_cluster_and_permute() {
        let spec = Spec {
            flags: "la",
            with_arg: "n",
            long: &[("all", 'a', false), ("lines", 'n', true)],
        };
        let args: Vec<String> = ["x", "-la", "-n5", "--lines=3", "--al", "--", "-z"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = parse(&args, &spec).unwrap();
        assert!(p.has('l') && p.has('a'));
        assert_eq!(p.value('n'), Some("3"));
        assert_eq!(p.operands, vec!["x", "-z"]);
        let bad: Vec<String> = vec!["-z".into()];
        assert_eq!(parse(&bad, &spec).unwrap_err(), OptError::Invalid('z'));
    }

    #[test]
    fn human_sizes_round_up_like_gnu() {
        assert_eq!(human(1000), "1000");
        assert_eq!(human(1024), "1.0K");
        assert_eq!(human(1025), "1.1K");
        assert_eq!(human(6_938_000_000), "6.5G");
        assert_eq!(human(500 * 1024 * 1024 * 1024), "500G");
    }

    #[test]
    fn globs_match_like_fnmatch() {
        assert!(glob_match(
            "*2169837*.safetensors",
            "x_2169837_v1.safetensors",
            false
        ));
        assert!(!glob_match("*.ckpt", "a.safetensors", false));
        assert!(glob_match("[a-c]?.TXT", "bx.txt", true));
        assert!(glob_match("*", "", false));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0, 4));
        assert_eq!(civil(1_732_618_380), (2024, 11, 26, 10, 53, 0, 2));
    }

    #[test]
    fn dir_and_base_names() {
        assert_eq!(base_name("/a/b/"), "b");
        assert_eq!(base_name("/"), "/");
        assert_eq!(dir_name("/a/b"), "/a");
        assert_eq!(dir_name("a"), ".");
        assert_eq!(dir_name("/a"), "/");
    }
}
