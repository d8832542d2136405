//! `grep`: basic, extended and fixed patterns via the `regex` crate, over
//! files, stdin or trees (`-r`), streamed line by line. Exit 0/1/2 as GNU.

use std::io;
use std::os::unix::fs::MetadataExt;

use async_trait::async_trait;
use regex::bytes::{Regex, RegexBuilder};

use super::common::{child, errtext, open_file, parse_or_exit, Lines, Source, Spec};
use crate::program::{Ctx, Program};

/// `grep [-EFGivcnqslLohHwxrR] [-m N] [-e PATTERN]... [PATTERN] [FILE]...`.
pub struct Grep;

const GREP_SPEC: Spec = Spec {
    flags: "EFGPivcnqslLohHwxrRIayz",
    with_arg: "emABCf",
    long: &[
        ("extended-regexp", 'E', false),
        ("fixed-strings", 'F', false),
        ("basic-regexp", 'G', false),
        ("ignore-case", 'i', false),
        ("invert-match", 'v', false),
        ("count", 'c', false),
        ("line-number", 'n', false),
        ("quiet", 'q', false),
        ("silent", 'q', false),
        ("no-messages", 's', false),
        ("files-with-matches", 'l', false),
        ("files-without-match", 'L', false),
        ("only-matching", 'o', false),
        ("no-filename", 'h', false),
        ("with-filename", 'H', false),
        ("word-regexp", 'w', false),
        ("line-regexp", 'x', false),
        ("recursive", 'r', false),
        ("dereference-recursive", 'R', false),
        ("regexp", 'e', true),
        ("max-count", 'm', true),
        ("color", '\u{1}', false),
        ("colour", '\u{1}', false),
        ("color=auto", '\u{1}', false),
        ("color=never", '\u{1}', false),
    ],
};

/// Translates a POSIX basic regular expression into `regex` syntax.
fn bre_to_ere(p: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_bracket = false;
    while i < chars.len() {
        let c = chars[i];
        if in_bracket {
            out.push(c);
            if c == ']' {
                in_bracket = false;
            }
            i += 1;
            continue;
        }
        match c {
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                match n {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' => out.push(n),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                i += 2;
                continue;
            }
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '*' if out.is_empty() || out.ends_with('(') || out.ends_with('^') => {
                out.push_str("\\*")
            }
            '[' => {
                in_bracket = true;
                out.push('[');
                // `]` first in a bracket is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

struct Matcher {
    re: Regex,
    invert: bool,
}

impl Matcher {
    fn selects(&self, line: &[u8]) -> bool {
        self.re.is_match(line) != self.invert
    }
}

#[async_trait]
impl Program for Grep {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &GREP_SPEC, 2).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let mut operands = p.operands.clone();
        let mut patterns: Vec<String> = p
            .opts
            .iter()
            .filter(|(k, _)| *k == 'e')
            .filter_map(|(_, v)| v.clone())
            .collect();
        if patterns.is_empty() {
            if operands.is_empty() {
                ctx.err("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
                    .await;
                return 2;
            }
            patterns.push(operands.remove(0));
        }
        // A pattern with newlines is several patterns.
        let patterns: Vec<String> = patterns
            .iter()
            .flat_map(|p| p.split('\n').map(str::to_string).collect::<Vec<_>>())
            .collect();
        let mode = p.last_of("EFGP").unwrap_or('G');
        let parts: Vec<String> = patterns
            .iter()
            .map(|pat| match mode {
                'F' => regex::escape(pat),
                'G' => bre_to_ere(pat),
                _ => pat.clone(),
            })
            .map(|pat| {
                if p.has('x') {
                    format!("^(?:{pat})$")
                } else if p.has('w') {
                    format!("(?:^|\\b)(?:{pat})(?:\\b|$)")
                } else {
                    format!("(?:{pat})")
                }
            })
            .collect();
        let re = match RegexBuilder::new(&parts.join("|"))
            .case_insensitive(p.has('i'))
            .unicode(false)
            .build()
        {
            Ok(r) => r,
            Err(_) => {
                let msg = match mode {
                    'G' | 'E' => "grep: Unmatched ( or \\(\n".to_string(),
                    _ => "grep: invalid regular expression\n".to_string(),
                };
                ctx.err(msg).await;
                return 2;
            }
        };
        let m = Matcher {
            re,
            invert: p.has('v'),
        };
        let recursive = p.has('r') || p.has('R');
        let strip_dot = recursive && operands.is_empty();
        if operands.is_empty() {
            operands.push(if recursive { ".".into() } else { "-".into() });
        }
        let opts = GrepOpts {
            count: p.has('c'),
            number: p.has('n'),
            quiet: p.has('q'),
            silent: p.has('s'),
            list: p.has('l'),
            list_missing: p.has('L'),
            only: p.has('o'),
            names: match p.last_of("hH") {
                Some('h') => false,
                Some(_) => true,
                None => operands.len() > 1 || recursive,
            },
            max: p.value('m').and_then(|v| v.parse().ok()),
        };
        let mut any = false;
        let mut error = false;
        let mut files: Vec<(String, String)> = Vec::new();
        for op in &operands {
            if recursive && op != "-" {
                collect(ctx, op, p.has('R'), &mut files, &mut error, opts.silent).await;
            } else {
                files.push((op.clone(), op.clone()));
            }
        }
        for (path, shown) in files {
            let shown = if strip_dot {
                shown.strip_prefix("./").unwrap_or(&shown).to_string()
            } else {
                shown
            };
            let src = if path == "-" {
                Ok(Source::Stdin)
            } else {
                open_file(ctx, &path).map(Source::File)
            };
            let shown = if path == "-" {
                "(standard input)".to_string()
            } else {
                shown
            };
            let src = match src {
                Ok(s) => s,
                Err(e) => {
                    if !opts.silent {
                        ctx.err(format!("grep: {shown}: {}\n", errtext(&e))).await;
                    }
                    error = true;
                    continue;
                }
            };
            match grep_one(ctx, src, &m, &opts, &shown).await {
                Ok(Found::Yes) => {
                    any = true;
                    if opts.quiet {
                        return 0;
                    }
                }
                Ok(Found::No) => {}
                Ok(Found::Closed) => return if any { 0 } else { 1 },
                Err(e) => {
                    if !opts.silent {
                        ctx.err(format!("grep: {shown}: {}\n", errtext(&e))).await;
                    }
                    error = true;
                }
            }
        }
        if error && !(opts.quiet && any) {
            2
        } else if any {
            0
        } else {
            1
        }
    }
}

struct GrepOpts {
    count: bool,
    number: bool,
    quiet: bool,
    silent: bool,
    list: bool,
    list_missing: bool,
    only: bool,
    names: bool,
    max: Option<u64>,
}

enum Found {
    Yes,
    No,
    Closed,
}

/// Files under `op` for `-r` (links followed only with `-R` or when named).
async fn collect(
    ctx: &Ctx,
    op: &str,
    follow: bool,
    files: &mut Vec<(String, String)>,
    error: &mut bool,
    silent: bool,
) {
    // Depth-first: `chain` holds the ids of the directories above the
    // entry being looked at, so a link back to one of them (`-R`) is a loop.
    let mut stack = vec![(op.to_string(), 0usize)];
    let mut chain: Vec<(u64, u64)> = Vec::new();
    while let Some((path, depth)) = stack.pop() {
        let top = depth == 0;
        chain.truncate(depth);
        let fs = ctx.fs();
        let meta = match fs.symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                if !silent {
                    ctx.err(format!("grep: {path}: {}\n", errtext(&e))).await;
                }
                *error = true;
                continue;
            }
        };
        let is_link = meta.file_type().is_symlink();
        if is_link && !(follow || top) {
            continue;
        }
        let dir_meta = if is_link {
            fs.metadata(&path).ok().filter(|m| m.is_dir())
        } else {
            Some(meta).filter(|m| m.is_dir())
        };
        let Some(dir_meta) = dir_meta else {
            files.push((path.clone(), path));
            continue;
        };
        let id = (dir_meta.dev(), dir_meta.ino());
        if chain.contains(&id) {
            if !silent {
                ctx.err(format!("grep: {path}: warning: recursive directory loop\n"))
                    .await;
            }
            continue;
        }
        chain.push(id);
        let mut names: Vec<String> = fs
            .read_dir(&path)
            .map(|r| r.iter().map(|e| e.name_lossy()).collect())
            .unwrap_or_default();
        names.sort();
        for n in names.into_iter().rev() {
            stack.push((child(&path, &n), depth + 1));
        }
    }
}

async fn grep_one(
    ctx: &Ctx,
    src: Source,
    m: &Matcher,
    o: &GrepOpts,
    name: &str,
) -> io::Result<Found> {
    let mut lines = Lines::new(src);
    let mut count = 0u64;
    let mut line_no = 0u64;
    let mut binary = false;
    let prefix = |n: u64| {
        let mut s = String::new();
        if o.names {
            s.push_str(name);
            s.push(':');
        }
        if o.number {
            s.push_str(&n.to_string());
            s.push(':');
        }
        s
    };
    while let Some(line) = lines.next(ctx).await? {
        line_no += 1;
        if line.contains(&0) {
            binary = true;
            lines.nul_ends_lines = true;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\0").unwrap_or(body);
        if !m.selects(body) {
            continue;
        }
        count += 1;
        if o.quiet {
            return Ok(Found::Yes);
        }
        if o.list || o.list_missing {
            break;
        }
        if !o.count && !binary {
            let mut out = Vec::new();
            if o.only && !m.invert {
                for mt in m.re.find_iter(body) {
                    if mt.as_bytes().is_empty() {
                        continue;
                    }
                    out.extend_from_slice(prefix(line_no).as_bytes());
                    out.extend_from_slice(mt.as_bytes());
                    out.push(b'\n');
                }
            } else if !o.only {
                out.extend_from_slice(prefix(line_no).as_bytes());
                out.extend_from_slice(body);
                out.push(b'\n');
            }
            if !ctx.out(out).await {
                return Ok(Found::Closed);
            }
        }
        if o.max.is_some_and(|max| count >= max) {
            break;
        }
    }
    let found = count > 0;
    let mut out = String::new();
    if o.count {
        if o.names {
            out.push_str(&format!("{name}:"));
        }
        out.push_str(&format!("{count}\n"));
    } else if (o.list && found) || (o.list_missing && !found) {
        out.push_str(&format!("{name}\n"));
    }
    if !out.is_empty() && !ctx.out(out).await {
        return Ok(Found::Closed);
    }
    if binary && found && !o.count && !o.list && !o.list_missing {
        ctx.err(format!("grep: {name}: binary file matches\n"))
            .await;
    }
    Ok(if found { Found::Yes } else { Found::No })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};
    use super::bre_to_ere;

    #[tokio::test]
    async fn grep_basics_and_exit_codes() {
        let i = instance();
        let input = b"alpha\nBeta\ngamma\n";
        assert_eq!(
            run(&i, "/", &["grep", "a$"], input).await,
            (0, "alpha\nBeta\ngamma\n".into(), String::new())
        );
        assert_eq!(
            run(&i, "/", &["grep", "-i", "beta"], input).await.1,
            "Beta\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "-v", "mm"], input).await.1,
            "alpha\nBeta\n"
        );
        assert_eq!(run(&i, "/", &["grep", "-c", "a"], input).await.1, "3\n");
        assert_eq!(
            run(&i, "/", &["grep", "-n", "gam"], input).await.1,
            "3:gamma\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "-q", "zzz"], input).await,
            (1, String::new(), String::new())
        );
        assert_eq!(run(&i, "/", &["grep", "-q", "alpha"], input).await.0, 0);
        assert_eq!(
            run(&i, "/", &["grep", "-o", "[ae]"], b"beta\n").await.1,
            "e\na\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "-E", "al|ga"], input).await.1,
            "alpha\ngamma\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "-F", "a.p"], b"a.p\naxp\n").await.1,
            "a.p\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "\\(al\\)\\{1\\}"], input).await.1,
            "alpha\n"
        );
        assert_eq!(
            run(&i, "/", &["grep", "-x", "Beta"], input).await.1,
            "Beta\n"
        );
        assert_eq!(run(&i, "/", &["grep", "-w", "alp"], input).await.0, 1);
    }

    #[tokio::test]
    async fn grep_files_and_errors() {
        let i = instance();
        put(&i, "/g/a", b"UI_HOME=/workspace/ComfyUI\n");
        put(&i, "/g/sub/b", b"nothing\nUI_HOME=x\n");
        let r = run(&i, "/g", &["grep", "UI_HOME", "a", "nope"], b"").await;
        assert_eq!(
            r,
            (
                2,
                "a:UI_HOME=/workspace/ComfyUI\n".into(),
                "grep: nope: No such file or directory\n".into()
            )
        );
        let r = run(&i, "/g", &["grep", "-r", "UI_HOME"], b"").await;
        assert_eq!(r.1, "a:UI_HOME=/workspace/ComfyUI\nsub/b:UI_HOME=x\n");
        let r = run(&i, "/", &["grep", "-rl", "UI_HOME", "/g"], b"").await;
        assert_eq!(r.1, "/g/a\n/g/sub/b\n");
        let r = run(&i, "/g", &["grep", "x", "sub"], b"").await;
        assert_eq!(r, (2, String::new(), "grep: sub: Is a directory\n".into()));
        let r = run(&i, "/g", &["grep"], b"").await;
        assert_eq!(r.0, 2);
        let r = run(&i, "/g", &["grep", "-Z"], b"").await;
        assert_eq!(
            r.2,
            "grep: invalid option -- 'Z'\nTry 'grep --help' for more information.\n"
        );
    }

    #[tokio::test]
    async fn grep_r_follows_links_only_with_big_r_and_stops_at_loops() {
        let i = instance();
        put(&i, "/g/sub/b", b"hit\n");
        put(&i, "/o/c", b"hit\n");
        let fs = i.sandbox.fs("/");
        fs.symlink("..", "/g/sub/up").unwrap();
        fs.symlink("/o", "/g/other").unwrap();
        let r = run(&i, "/g", &["grep", "-r", "hit"], b"").await;
        assert_eq!(r, (0, "sub/b:hit\n".into(), String::new()));
        let r = run(&i, "/", &["grep", "-R", "hit", "g"], b"").await;
        assert_eq!(
            r,
            (
                0,
                "g/other/c:hit\ng/sub/b:hit\n".into(),
                "grep: g/sub/up: warning: recursive directory loop\n".into()
            )
        );
    }

    #[tokio::test]
    async fn grep_on_a_sparse_model_says_binary() {
        let i = instance();
        sparse(&i, "/m/x.safetensors", 8 * 1024 * 1024);
        let r = run(&i, "/m", &["grep", "-c", "zzz", "x.safetensors"], b"").await;
        assert_eq!(r, (1, "0\n".into(), String::new()));
        let r = run(&i, "/m", &["grep", "", "x.safetensors"], b"").await;
        assert_eq!(
            r,
            (
                0,
                String::new(),
                "grep: x.safetensors: binary file matches\n".into()
            )
        );
    }

    #[test]
    fn bre_translation() {
        assert_eq!(bre_to_ere("a\\(b\\)+"), "a(b)\\+");
        assert_eq!(bre_to_ere("*a"), "\\*a");
        assert_eq!(bre_to_ere("[]a]"), "[\\]a]");
    }
}
