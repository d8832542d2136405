//! `find`: start paths, an expression of tests, operators and actions,
//! walked without following symlinks (unless `-L`/`-H`), printed as the
//! user spelled the start path.

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use async_trait::async_trait;

use super::common::{base_name, dir_name, errtext, glob_match, mtime_secs, quote};
use super::echo::unescape;
use super::system::strftime;
use crate::instance::sandbox::Fs;
use crate::program::{Ctx, Program};

/// `find [-H|-L|-P] [PATH]... [EXPRESSION]`.
pub struct Find;

#[derive(Debug, Clone)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Comma(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Name {
        pat: String,
        fold: bool,
    },
    Path {
        pat: String,
        fold: bool,
    },
    Type(Vec<char>),
    Size {
        cmp: std::cmp::Ordering,
        n: u64,
        unit: u64,
    },
    Empty,
    Const(bool),
    Print {
        nul: bool,
    },
    Printf(Vec<u8>),
    Prune,
    Quit,
}

impl Expr {
    fn has_action(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Comma(a, b) => {
                a.has_action() || b.has_action()
            }
            Expr::Not(a) => a.has_action(),
            Expr::Print { .. } | Expr::Printf(_) | Expr::Quit => true,
            _ => false,
        }
    }
}

#[derive(Default)]
struct Globals {
    maxdepth: Option<usize>,
    mindepth: usize,
    depth_first: bool,
    follow: Follow,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Follow {
    #[default]
    Never,
    StartPoints,
    Always,
}

struct Parser<'a> {
    toks: &'a [String],
    pos: usize,
    globals: Globals,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn arg(&mut self, pred: &str) -> PResult<String> {
        self.pos += 1;
        match self.toks.get(self.pos) {
            Some(a) => {
                self.pos += 1;
                Ok(a.clone())
            }
            None => Err(format!("missing argument to `{pred}'")),
        }
    }

    fn comma(&mut self) -> PResult<Expr> {
        let mut left = self.or()?;
        while self.peek() == Some(",") {
            self.pos += 1;
            let right = self.or()?;
            left = Expr::Comma(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("-o") | Some("-or")) {
            self.pos += 1;
            if self.peek().is_none() || self.peek() == Some(")") {
                return Err("invalid expression; you have used a binary operator '-o' with nothing after it.".into());
            }
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut left = self.not()?;
        loop {
            match self.peek() {
                Some("-a") | Some("-and") => {
                    self.pos += 1;
                    if self.peek().is_none() {
                        return Err("invalid expression; you have used a binary operator '-a' with nothing after it.".into());
                    }
                }
                None | Some("-o") | Some("-or") | Some(")") | Some(",") => return Ok(left),
                _ => {}
            }
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn not(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Some("!") | Some("-not")) {
            self.pos += 1;
            let e = self.not()?;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("invalid expression".into());
        };
        match tok.as_str() {
            "(" => {
                self.pos += 1;
                if self.peek() == Some(")") {
                    return Err("invalid expression; empty parentheses are not allowed.".into());
                }
                let e = self.comma()?;
                if self.peek() != Some(")") {
                    return Err("invalid expression; I was expecting to find a ')' somewhere but did not see one.".into());
                }
                self.pos += 1;
                Ok(e)
            }
            ")" => Err("invalid expression; you have too many ')'".into()),
            "-o" | "-or" | "-a" | "-and" => Err(format!(
                "invalid expression; you have used a binary operator '{tok}' with nothing before it."
            )),
            "-name" | "-iname" => {
                let pat = self.arg(&tok)?;
                Ok(Expr::Name {
                    pat,
                    fold: tok == "-iname",
                })
            }
            "-path" | "-wholename" | "-ipath" | "-iwholename" => {
                let pat = self.arg(&tok)?;
                Ok(Expr::Path {
                    pat,
                    fold: tok.starts_with("-i"),
                })
            }
            "-type" | "-xtype" => {
                let v = self.arg(&tok)?;
                let mut kinds = Vec::new();
                for part in v.split(',') {
                    match part {
                        "f" | "d" | "l" | "b" | "c" | "p" | "s" => {
                            kinds.push(part.chars().next().unwrap_or('f'))
                        }
                        "" => return Err(format!("Arguments to {tok} should contain at least one letter")),
                        _ => return Err(format!("Unknown argument to {tok}: {part}")),
                    }
                }
                Ok(Expr::Type(kinds))
            }
            "-size" => {
                let v = self.arg(&tok)?;
                parse_size(&v).ok_or_else(|| format!("invalid -size type `{v}'"))
            }
            "-empty" => {
                self.pos += 1;
                Ok(Expr::Empty)
            }
            "-true" | "-false" => {
                self.pos += 1;
                Ok(Expr::Const(tok == "-true"))
            }
            "-print" | "-print0" => {
                self.pos += 1;
                Ok(Expr::Print {
                    nul: tok == "-print0",
                })
            }
            "-printf" => {
                let f = self.arg(&tok)?;
                Ok(Expr::Printf(f.into_bytes()))
            }
            "-prune" => {
                self.pos += 1;
                Ok(Expr::Prune)
            }
            "-quit" => {
                self.pos += 1;
                Ok(Expr::Quit)
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.arg(&tok)?;
                let n: usize = v.parse().map_err(|_| {
                    format!("Expected a positive decimal integer argument to {tok}, but got `{v}'")
                })?;
                if tok == "-maxdepth" {
                    self.globals.maxdepth = Some(n);
                } else {
                    self.globals.mindepth = n;
                }
                Ok(Expr::Const(true))
            }
            "-depth" | "-d" => {
                self.pos += 1;
                self.globals.depth_first = true;
                Ok(Expr::Const(true))
            }
            "-follow" => {
                self.pos += 1;
                self.globals.follow = Follow::Always;
                Ok(Expr::Const(true))
            }
            "-xdev" | "-mount" | "-noleaf" | "-ignore_readdir_race" => {
                self.pos += 1;
                Ok(Expr::Const(true))
            }
            t if t.starts_with('-') => Err(format!("unknown predicate `{t}'")),
            t => Err(format!("paths must precede expression: `{t}'")),
        }
    }
}

fn parse_size(v: &str) -> Option<Expr> {
    let (cmp, rest) = match v.chars().next()? {
        '+' => (std::cmp::Ordering::Greater, &v[1..]),
        '-' => (std::cmp::Ordering::Less, &v[1..]),
        _ => (std::cmp::Ordering::Equal, v),
    };
    let (num, unit) = match rest.chars().last()? {
        'c' => (&rest[..rest.len() - 1], 1),
        'w' => (&rest[..rest.len() - 1], 2),
        'b' => (&rest[..rest.len() - 1], 512),
        'k' => (&rest[..rest.len() - 1], 1024),
        'M' => (&rest[..rest.len() - 1], 1 << 20),
        'G' => (&rest[..rest.len() - 1], 1 << 30),
        c if c.is_ascii_digit() => (rest, 512),
        _ => return None,
    };
    Some(Expr::Size {
        cmp,
        n: num.parse().ok()?,
        unit,
    })
}

/// One file being visited.
struct Visit<'a> {
    path: &'a str,
    start: &'a str,
    meta: &'a Metadata,
    fs: Fs<'a>,
    depth: usize,
    link_target: Option<String>,
}

#[derive(Default)]
struct RunState {
    out: Vec<u8>,
    prune: bool,
    quit: bool,
}

fn kind_char(meta: &Metadata) -> char {
    let ft = meta.file_type();
    if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else if ft.is_file() {
        'f'
    } else {
        'p'
    }
}

fn eval(e: &Expr, v: &Visit, st: &mut RunState) -> bool {
    match e {
        Expr::And(a, b) => eval(a, v, st) && !st.quit && eval(b, v, st),
        Expr::Or(a, b) => eval(a, v, st) || (!st.quit && eval(b, v, st)),
        Expr::Comma(a, b) => {
            eval(a, v, st);
            eval(b, v, st)
        }
        Expr::Not(a) => !eval(a, v, st),
        Expr::Name { pat, fold } => {
            let name = base_name(v.path);
            glob_match(pat, &name, *fold)
        }
        Expr::Path { pat, fold } => glob_match(pat, v.path, *fold),
        Expr::Type(kinds) => kinds.contains(&kind_char(v.meta)),
        Expr::Size { cmp, n, unit } => {
            let units = v.meta.len().div_ceil(*unit);
            units.cmp(n) == *cmp
        }
        Expr::Empty => {
            if v.meta.is_dir() {
                v.fs.read_dir(v.path).map(|r| r.is_empty()).unwrap_or(false)
            } else {
                v.meta.is_file() && v.meta.len() == 0
            }
        }
        Expr::Const(b) => *b,
        Expr::Print { nul } => {
            st.out.extend_from_slice(v.path.as_bytes());
            st.out.push(if *nul { 0 } else { b'\n' });
            true
        }
        Expr::Printf(f) => {
            printf(f, v, &mut st.out);
            true
        }
        Expr::Prune => {
            st.prune = true;
            true
        }
        Expr::Quit => {
            st.quit = true;
            true
        }
    }
}

/// Renders a `-printf` format for one file.
fn printf(f: &[u8], v: &Visit, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < f.len() {
        match f[i] {
            b'\\' if i + 1 < f.len() => {
                let mut end = i + 2;
                if f[i + 1].is_ascii_digit() {
                    while end < f.len() && end < i + 4 && (b'0'..=b'7').contains(&f[end]) {
                        end += 1;
                    }
                    let digits = std::str::from_utf8(&f[i + 1..end]).unwrap_or("0");
                    out.push(u8::from_str_radix(digits, 8).unwrap_or(0));
                } else if f[i + 1] == b'c' {
                    return;
                } else {
                    unescape(&f[i..end], out, false);
                }
                i = end;
            }
            b'%' if i + 1 < f.len() => {
                // Optional width/flags, e.g. %-10p or %10s.
                let mut j = i + 1;
                while j < f.len() && (f[j] == b'-' || f[j].is_ascii_digit() || f[j] == b'.') {
                    j += 1;
                }
                if j >= f.len() {
                    out.extend_from_slice(&f[i..]);
                    return;
                }
                let spec = std::str::from_utf8(&f[i + 1..j]).unwrap_or("");
                let mut next = j + 1;
                let text: String = match f[j] {
                    b'p' => v.path.to_string(),
                    b'P' => relative(v.path, v.start),
                    b'f' => base_name(v.path),
                    b'h' => {
                        let d = dir_name(v.path);
                        if !v.path.contains('/') {
                            ".".into()
                        } else {
                            d
                        }
                    }
                    b'H' => v.start.to_string(),
                    b's' => v.meta.len().to_string(),
                    b'k' => v.meta.blocks().div_ceil(2).to_string(),
                    b'b' => v.meta.blocks().to_string(),
                    b'd' => v.depth.to_string(),
                    b'y' => kind_char(v.meta).to_string(),
                    b'm' => format!("{:o}", v.meta.permissions().mode() & 0o7777),
                    b'M' => super::ls::mode_text(v.meta),
                    b'n' => v.meta.nlink().to_string(),
                    b'u' | b'g' => "root".into(),
                    b'U' | b'G' => "0".into(),
                    b'l' => v.link_target.clone().unwrap_or_default(),
                    b't' | b'c' | b'a' => {
                        strftime("%a %b %e %H:%M:%S.0000000000 %Y", mtime_secs(v.meta), 0)
                    }
                    b'T' | b'C' | b'A' if j + 1 < f.len() => {
                        next = j + 2;
                        let k = f[j + 1] as char;
                        match k {
                            '@' => mtime_secs(v.meta).to_string(),
                            _ => strftime(&format!("%{k}"), mtime_secs(v.meta), 0),
                        }
                    }
                    b'%' => "%".into(),
                    other => {
                        // GNU warns and prints the directive as is.
                        format!("%{}", other as char)
                    }
                };
                out.extend_from_slice(pad(&text, spec).as_bytes());
                i = next;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

fn pad(text: &str, spec: &str) -> String {
    let left = spec.starts_with('-');
    let width: usize = spec
        .trim_start_matches('-')
        .split('.')
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    if left {
        format!("{text:<width$}")
    } else {
        format!("{text:>width$}")
    }
}

/// `%P`: the path with the start point and its slash removed.
fn relative(path: &str, start: &str) -> String {
    let rest = path.strip_prefix(start).unwrap_or(path);
    rest.trim_start_matches('/').to_string()
}

/// Joins a child name onto a path as find prints it.
fn child_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

#[async_trait]
impl Program for Find {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut i = 0;
        let mut follow = Follow::Never;
        while let Some(a) = args.get(i) {
            match a.as_str() {
                "-H" => follow = Follow::StartPoints,
                "-L" => follow = Follow::Always,
                "-P" => follow = Follow::Never,
                _ => break,
            }
            i += 1;
        }
        let mut starts = Vec::new();
        while let Some(a) = args.get(i) {
            if (a.starts_with('-') && a.len() > 1) || a == "(" || a == "!" || a == ")" {
                break;
            }
            starts.push(a.clone());
            i += 1;
        }
        if starts.is_empty() {
            starts.push(".".into());
        }
        let toks = &args[i..];
        let mut parser = Parser {
            toks,
            pos: 0,
            globals: Globals {
                follow,
                ..Globals::default()
            },
        };
        let expr = if toks.is_empty() {
            Expr::Const(true)
        } else {
            match parser.comma() {
                Ok(e) if parser.pos == toks.len() => e,
                Ok(_) => {
                    let t = &toks[parser.pos];
                    let msg = if t == ")" {
                        "invalid expression; you have too many ')'".to_string()
                    } else {
                        format!("paths must precede expression: `{t}'")
                    };
                    ctx.err(format!("find: {msg}\n")).await;
                    return 1;
                }
                Err(msg) => {
                    ctx.err(format!("find: {msg}\n")).await;
                    return 1;
                }
            }
        };
        let globals = parser.globals;
        let expr = if expr.has_action() {
            expr
        } else {
            Expr::And(Box::new(expr), Box::new(Expr::Print { nul: false }))
        };
        let mut code = 0;
        let mut st = RunState::default();
        for start in &starts {
            if start.is_empty() {
                ctx.err("find: '': No such file or directory\n").await;
                code = 1;
                continue;
            }
            match walk(ctx, start, &expr, &globals, &mut st).await {
                Ok(c) => code = code.max(c),
                Err(()) => return code.max(1),
            }
            if st.quit {
                break;
            }
        }
        if !st.out.is_empty() && !ctx.out(std::mem::take(&mut st.out)).await {
            return 1;
        }
        code
    }
}

/// A directory entry waiting to be visited, or a directory to evaluate
/// after its children (with `-depth`). Paths are as find prints them, and
/// every look-up resolves them again inside the sandbox.
enum Item {
    Visit {
        path: String,
        depth: usize,
    },
    Post {
        path: String,
        depth: usize,
        meta: Metadata,
    },
}

/// Walks one start point; `Err` when stdout went away.
async fn walk(
    ctx: &Ctx,
    start: &str,
    expr: &Expr,
    g: &Globals,
    st: &mut RunState,
) -> Result<i32, ()> {
    let mut code = 0;
    let fs = ctx.fs();
    let mut stack = vec![Item::Visit {
        path: start.to_string(),
        depth: 0,
    }];
    let mut seen: Vec<(u64, u64)> = Vec::new();
    while let Some(item) = stack.pop() {
        if st.quit {
            break;
        }
        let (path, depth, meta, post) = match item {
            Item::Post { path, depth, meta } => (path, depth, meta, true),
            Item::Visit { path, depth } => {
                // -H and -L follow the start point itself.
                let meta = if depth == 0 && g.follow != Follow::Never {
                    fs.metadata(&path)
                } else {
                    fs.symlink_metadata(&path)
                };
                let meta = match meta {
                    Ok(m) => m,
                    Err(e) => {
                        ctx.err(format!("find: {}: {}\n", quote(ctx, &path), errtext(&e)))
                            .await;
                        code = 1;
                        continue;
                    }
                };
                (path, depth, meta, false)
            }
        };
        // With -L, a link is replaced by what it points to (inside the sandbox).
        let (meta, link_target) = if !post && meta.file_type().is_symlink() {
            let target = fs
                .read_link(&path)
                .map(|t| t.to_string_lossy().into_owned())
                .ok();
            if g.follow == Follow::Always {
                match fs.metadata(&path) {
                    Ok(m) => (m, target),
                    Err(_) => (meta, target),
                }
            } else {
                (meta, target)
            }
        } else {
            (meta, None)
        };
        let in_range = depth >= g.mindepth;
        let descend = meta.is_dir() && g.maxdepth.is_none_or(|m| depth < m) && !post;
        if post || !g.depth_first || !descend {
            if in_range {
                st.prune = false;
                let v = Visit {
                    path: &path,
                    start,
                    meta: &meta,
                    fs,
                    depth,
                    link_target: link_target.clone(),
                };
                eval(expr, &v, st);
            }
            if st.out.len() >= 64 * 1024 && !ctx.out(std::mem::take(&mut st.out)).await {
                return Err(());
            }
            if post {
                continue;
            }
        }
        if !descend || (st.prune && !g.depth_first) {
            continue;
        }
        let id = (meta.dev(), meta.ino());
        if g.follow == Follow::Always {
            if seen.contains(&id) {
                ctx.err(format!(
                    "find: File system loop detected; {} is part of the same file system loop as {}.\n",
                    quote(ctx, &path),
                    quote(ctx, start)
                ))
                .await;
                code = 1;
                continue;
            }
            seen.push(id);
        }
        let mut names: Vec<String> = match fs.read_dir(&path) {
            Ok(r) => r.iter().map(|e| e.name_lossy()).collect(),
            Err(e) => {
                ctx.err(format!("find: {}: {}\n", quote(ctx, &path), errtext(&e)))
                    .await;
                code = 1;
                continue;
            }
        };
        names.sort();
        if g.depth_first {
            stack.push(Item::Post {
                path: path.clone(),
                depth,
                meta: meta.clone(),
            });
        }
        for name in names.into_iter().rev() {
            stack.push(Item::Visit {
                path: child_path(&path, &name),
                depth: depth + 1,
            });
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};

    fn models() -> std::sync::Arc<crate::instance::Instance> {
        let i = instance();
        let lora = "/workspace/ComfyUI/models/Lora";
        sparse(
            &i,
            &format!("{lora}/style_2169837_v1.safetensors"),
            228_456_789,
        );
        sparse(&i, &format!("{lora}/old.ckpt"), 2_000_000);
        put(&i, &format!("{lora}/readme.txt"), b"hi");
        sparse(&i, &format!("{lora}/sub/deep.safetensors"), 1234);
        sparse(&i, &format!("{lora}/sub/deeper/too_deep.safetensors"), 5);
        i
    }

    #[tokio::test]
    async fn app_listing_with_printf() {
        let i = models();
        let r = run(
            &i,
            "/tmp",
            &[
                "find",
                "/workspace/ComfyUI/models/Lora",
                "-maxdepth",
                "2",
                "-type",
                "f",
                "(",
                "-name",
                "*.safetensors",
                "-o",
                "-name",
                "*.ckpt",
                ")",
                "-printf",
                "%P|%s\\n",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r,
            (
                0,
                "old.ckpt|2000000\nstyle_2169837_v1.safetensors|228456789\nsub/deep.safetensors|1234\n"
                    .into(),
                String::new()
            )
        );
    }

    #[tokio::test]
    async fn app_lookup_by_version_id() {
        let i = models();
        let r = run(
            &i,
            "/tmp",
            &[
                "find",
                "/workspace/ComfyUI/models/Lora",
                "-maxdepth",
                "2",
                "-name",
                "*2169837*.safetensors",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "/workspace/ComfyUI/models/Lora/style_2169837_v1.safetensors\n"
        );
        let r = run(
            &i,
            "/tmp",
            &["find", "/workspace/ComfyUI/models/Lora", "-name", "*404*"],
            b"",
        )
        .await;
        assert_eq!(r, (0, String::new(), String::new()));
    }

    #[tokio::test]
    async fn paths_as_spelled_and_depths() {
        let i = models();
        let r = run(
            &i,
            "/workspace/ComfyUI/models",
            &["find", "Lora/sub", "-mindepth", "1"],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "Lora/sub/deep.safetensors\nLora/sub/deeper\nLora/sub/deeper/too_deep.safetensors\n"
        );
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", ".", "-maxdepth", "1", "-type", "d"],
            b"",
        )
        .await;
        assert_eq!(r.1, ".\n./sub\n");
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", "sub/", "-maxdepth", "1"],
            b"",
        )
        .await;
        assert_eq!(r.1, "sub/\nsub/deep.safetensors\nsub/deeper\n");
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", "sub", "-printf", "%h %f %d\\n", "-quit"],
            b"",
        )
        .await;
        assert_eq!(r.1, ". sub 0\n");
    }

    #[tokio::test]
    async fn operators_and_negation() {
        let i = models();
        let lora = "/workspace/ComfyUI/models/Lora";
        let r = run(
            &i,
            lora,
            &["find", ".", "-type", "f", "!", "-name", "*.safetensors"],
            b"",
        )
        .await;
        assert_eq!(r.1, "./old.ckpt\n./readme.txt\n");
        let r = run(
            &i,
            lora,
            &[
                "find", ".", "-name", "sub", "-prune", "-o", "-type", "f", "-print",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "./old.ckpt\n./readme.txt\n./style_2169837_v1.safetensors\n"
        );
        let r = run(
            &i,
            lora,
            &["find", ".", "-iname", "README*", "-size", "-1k"],
            b"",
        )
        .await;
        assert_eq!(r.1, "");
        let r = run(
            &i,
            lora,
            &["find", ".", "-iname", "README*", "-size", "2c"],
            b"",
        )
        .await;
        assert_eq!(r.1, "./readme.txt\n");
        let r = run(&i, lora, &["find", ".", "-size", "+100M"], b"").await;
        assert_eq!(r.1, "./style_2169837_v1.safetensors\n");
    }

    #[tokio::test]
    async fn errors_follow_gnu() {
        let i = models();
        let r = run(&i, "/", &["find", "/nope", "-name", "x"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "find: '/nope': No such file or directory\n".into()
            )
        );
        let r = run(&i, "/", &["find", "/tmp", "-bogus"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "find: unknown predicate `-bogus'\n".into()
            )
        );
        let r = run(&i, "/", &["find", "/tmp", "-name"], b"").await;
        assert_eq!(r.2, "find: missing argument to `-name'\n");
        let r = run(&i, "/", &["find", "/tmp", "-type", "z"], b"").await;
        assert_eq!(r.2, "find: Unknown argument to -type: z\n");
        let r = run(&i, "/", &["find", "/tmp", "(", "-name", "x"], b"").await;
        assert_eq!(r.0, 1);
    }

    #[tokio::test]
    async fn links_to_host_paths_lead_nowhere() {
        let i = instance();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("sub")).unwrap();
        std::fs::write(outside.path().join("sub/secret"), "host secret\n").unwrap();
        let out = outside.path().to_str().unwrap();
        put(&i, "/tmp/t/f", b"x\n");
        i.sandbox.fs("/").symlink(out, "/tmp/t/out").unwrap();
        let r = run(&i, "/tmp", &["find", "-L", "t"], b"").await;
        assert_eq!(r.1, "t\nt/f\nt/out\n");
        let r = run(&i, "/tmp", &["find", "-L", "t/out/"], b"").await;
        assert_eq!(r.0, 1);
        assert_eq!(r.1, "");
        let r = run(&i, "/tmp", &["ls", "-R", "t"], b"").await;
        assert_eq!(r.1, "t:\nf\nout\n");
        let r = run(&i, "/tmp", &["ls", "t/out/"], b"").await;
        assert_eq!(r.0, 2);
        let r = run(&i, "/tmp", &["grep", "-R", "secret", "t"], b"").await;
        assert!(!r.1.contains("secret"), "{}", r.1);
        let r = run(&i, "/tmp", &["du", "-ab", "t/out/"], b"").await;
        assert_eq!(r.0, 1);
        let r = run(&i, "/tmp", &["cat", &format!("{out}/sub/secret")], b"").await;
        assert_eq!(r.0, 1);
    }

    #[tokio::test]
    async fn links_are_not_followed_by_default() {
        let i = models();
        run(&i, "/tmp", &["ln", "-s", "/", "root"], b"").await;
        let r = run(&i, "/tmp", &["find", "root", "-name", "hostname"], b"").await;
        assert_eq!(r.1, "");
        let r = run(&i, "/tmp", &["find", "root", "-type", "l"], b"").await;
        assert_eq!(r.1, "root\n");
        let r = run(
            &i,
            "/tmp",
            &["find", "-L", "root/etc", "-name", "hostname"],
            b"",
        )
        .await;
        assert_eq!(r.1, "root/etc/hostname\n");
        let r = run(
            &i,
            "/tmp",
            &["find", "-H", "root", "-maxdepth", "1", "-name", "etc"],
            b"",
        )
        .await;
        assert_eq!(r.1, "root/etc\n");
    }
}
