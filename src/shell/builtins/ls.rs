//! `ls`: one name a line when stdout is not a tty, columns when it is;
//! `-l` long format with GNU's field widths and dates.

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use async_trait::async_trait;

use super::common::{
    child, civil, complain, errtext, human, mtime_secs, now_secs, parse_or_exit, quote, Spec,
    MONTHS,
};
use crate::program::{Ctx, Program};

/// `ls [-laAhd1RrtSF] [FILE]...`.
pub struct Ls;

const LS_SPEC: Spec = Spec {
    flags: "laAhd1RrtSFUCx",
    with_arg: "",
    long: &[
        ("all", 'a', false),
        ("almost-all", 'A', false),
        ("human-readable", 'h', false),
        ("directory", 'd', false),
        ("recursive", 'R', false),
        ("reverse", 'r', false),
        ("classify", 'F', false),
        ("color", '\u{1}', false),
        ("color=auto", '\u{1}', false),
        ("color=never", '\u{1}', false),
        ("color=always", '\u{1}', false),
    ],
};

struct Opts {
    long: bool,
    all: bool,
    almost: bool,
    human: bool,
    dir_only: bool,
    recursive: bool,
    reverse: bool,
    by_time: bool,
    by_size: bool,
    unsorted: bool,
    classify: bool,
    columns: Option<usize>,
}

/// One name to show, with the metadata of what it names (not followed).
struct Entry {
    name: String,
    meta: Metadata,
    link: Option<String>,
}

#[async_trait]
impl Program for Ls {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &LS_SPEC, 2).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let long = matches!(p.last_of("l1Cx"), Some('l'));
        let one = matches!(p.last_of("l1Cx"), Some('1'));
        let columns = match ctx.stdout.terminal() {
            Some(t) if !long && !one => Some(usize::from(t.cols())),
            None if p.last_of("l1Cx") == Some('C') || p.last_of("l1Cx") == Some('x') => Some(80),
            _ => None,
        };
        let o = Opts {
            long: long || (p.has('l') && !one && p.last_of("1Cx").is_none()),
            all: p.has('a'),
            almost: p.has('A'),
            human: p.has('h'),
            dir_only: p.has('d'),
            recursive: p.has('R'),
            reverse: p.has('r'),
            by_time: p.has('t'),
            by_size: p.has('S'),
            unsorted: p.has('U'),
            classify: p.has('F'),
            columns,
        };
        let operands = if p.operands.is_empty() {
            vec![".".to_string()]
        } else {
            p.operands.clone()
        };
        let mut code = 0;
        let mut files: Vec<Entry> = Vec::new();
        let mut dirs: Vec<(String, Metadata)> = Vec::new();
        for op in &operands {
            let lmeta = match ctx.fs().symlink_metadata(op) {
                Ok(m) => m,
                Err(e) => {
                    let msg = format!("cannot access {}: {}", quote(ctx, op), errtext(&e));
                    complain(ctx, msg).await;
                    code = 2;
                    continue;
                }
            };
            // Command-line links are followed unless -l, -d or -F ask for the link.
            let followed = if lmeta.file_type().is_symlink() {
                ctx.fs().metadata(op).ok()
            } else {
                Some(lmeta.clone())
            };
            let follow = !(o.long || o.dir_only || o.classify) || op.ends_with('/');
            let is_dir = followed.as_ref().is_some_and(|m| m.is_dir());
            if !o.dir_only && is_dir && (follow || !lmeta.file_type().is_symlink()) {
                dirs.push((op.clone(), followed.unwrap_or(lmeta)));
            } else {
                let link = lmeta
                    .file_type()
                    .is_symlink()
                    .then(|| read_link_text(ctx, op));
                files.push(Entry {
                    name: op.clone(),
                    meta: lmeta,
                    link,
                });
            }
        }
        sort(&mut files, &o);
        let mut printed = false;
        if !files.is_empty() {
            if !ctx.out(render(&files, &o)).await {
                return code.max(2);
            }
            printed = true;
        }
        let headers = operands.len() > 1 || o.recursive || code != 0;
        let mut dir_entries: Vec<Entry> = dirs
            .into_iter()
            .map(|(name, meta)| Entry {
                name,
                meta,
                link: None,
            })
            .collect();
        sort(&mut dir_entries, &o);
        for d in dir_entries {
            let r = list_dir(ctx, &d.name, &o, headers, &mut printed).await;
            code = code.max(r);
        }
        code
    }
}

fn read_link_text(ctx: &Ctx, path: &str) -> String {
    ctx.fs()
        .read_link(path)
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Lists one directory (and its subdirectories with -R); returns the exit code.
async fn list_dir(ctx: &Ctx, path: &str, o: &Opts, header: bool, printed: &mut bool) -> i32 {
    let mut code = 0;
    let mut stack: Vec<String> = vec![path.to_string()];
    while let Some(dir) = stack.pop() {
        let fs = ctx.fs();
        let mut entries = Vec::new();
        let read = match fs.read_dir(&dir) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!(
                    "cannot open directory {}: {}",
                    quote(ctx, &dir),
                    errtext(&e)
                );
                complain(ctx, msg).await;
                code = 2;
                continue;
            }
        };
        if o.all {
            for (name, path) in [(".", dir.clone()), ("..", child(&dir, ".."))] {
                if let Ok(meta) = fs.metadata(&path) {
                    entries.push(Entry {
                        name: name.to_string(),
                        meta,
                        link: None,
                    });
                }
            }
        }
        for e in &read {
            let name = e.name_lossy();
            if name.starts_with('.') && !(o.all || o.almost) {
                continue;
            }
            let path = child(&dir, &name);
            let Ok(meta) = fs.symlink_metadata(&path) else {
                continue;
            };
            let link = meta
                .file_type()
                .is_symlink()
                .then(|| read_link_text(ctx, &path));
            entries.push(Entry { name, meta, link });
        }
        sort(&mut entries, o);
        let mut text = String::new();
        if header || *printed {
            if *printed {
                text.push('\n');
            }
            text.push_str(&format!("{dir}:\n"));
        }
        if o.long {
            let blocks: u64 = entries.iter().map(|e| e.meta.blocks() / 2).sum();
            let total = if o.human {
                human(blocks * 1024)
            } else {
                blocks.to_string()
            };
            text.push_str(&format!("total {total}\n"));
        }
        text.push_str(&render(&entries, o));
        *printed = true;
        if !ctx.out(text).await {
            return 2;
        }
        if o.recursive {
            let subdirs: Vec<String> = entries
                .iter()
                .filter(|e| e.meta.is_dir() && e.name != "." && e.name != "..")
                .map(|e| child(&dir, &e.name))
                .collect();
            stack.extend(subdirs.into_iter().rev());
        }
    }
    code
}

fn sort(entries: &mut [Entry], o: &Opts) {
    if o.unsorted {
        return;
    }
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if o.by_size {
        entries.sort_by_key(|e| std::cmp::Reverse(e.meta.len()));
    } else if o.by_time {
        entries.sort_by_key(|e| std::cmp::Reverse((e.meta.mtime(), e.meta.mtime_nsec())));
    }
    if o.reverse {
        entries.reverse();
    }
}

fn suffix(e: &Entry) -> &'static str {
    let ft = e.meta.file_type();
    if ft.is_dir() {
        "/"
    } else if ft.is_symlink() {
        "@"
    } else if e.meta.permissions().mode() & 0o111 != 0 {
        "*"
    } else {
        ""
    }
}

fn render(entries: &[Entry], o: &Opts) -> String {
    if o.long {
        return render_long(entries, o);
    }
    let names: Vec<String> = entries
        .iter()
        .map(|e| {
            let mut n = display(&e.name, o.columns.is_some());
            if o.classify {
                n.push_str(suffix(e));
            }
            n
        })
        .collect();
    match o.columns {
        None => names.iter().map(|n| format!("{n}\n")).collect(),
        Some(width) => columns(&names, width),
    }
}

/// Quotes names with special characters on a tty, as GNU's shell-escape style.
fn display(name: &str, tty: bool) -> String {
    let plain = |c: char| c.is_alphanumeric() || "._-+,:@%/=".contains(c);
    if !tty || name.chars().all(plain) {
        name.to_string()
    } else if name.contains('\'') {
        format!("\"{name}\"")
    } else {
        format!("'{name}'")
    }
}

/// GNU's vertical column layout: as many columns as fit in `width`.
fn columns(names: &[String], width: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let lens: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    let mut best_rows = names.len();
    for cols in (1..=names.len()).rev() {
        let rows = names.len().div_ceil(cols);
        let mut total = 0;
        for c in 0..cols {
            let w = (0..rows)
                .filter_map(|r| lens.get(c * rows + r))
                .max()
                .copied()
                .unwrap_or(0);
            total += w + if c + 1 < cols { 2 } else { 0 };
        }
        if total <= width {
            best_rows = rows;
            break;
        }
    }
    let rows = best_rows;
    let cols = names.len().div_ceil(rows);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            (0..rows)
                .filter_map(|r| lens.get(c * rows + r))
                .max()
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in 0..rows {
        let mut line = String::new();
        for (c, w) in widths.iter().enumerate() {
            let Some(n) = names.get(c * rows + r) else {
                continue;
            };
            line.push_str(n);
            let next_exists = names.get((c + 1) * rows + r).is_some();
            if next_exists {
                line.push_str(&" ".repeat(w - lens[c * rows + r] + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The `drwxr-xr-x` column of `ls -l` for `meta`.
pub fn mode_text(meta: &Metadata) -> String {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = meta.permissions().mode();
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if ft.is_symlink() {
        return "lrwxrwxrwx".into();
    }
    s
}

/// `Nov 26 10:53` within six months, `Nov 26  2023` otherwise.
pub(crate) fn ls_date(secs: i64, now: i64) -> String {
    let (y, m, d, h, mi, _, _) = civil(secs);
    let month = MONTHS[m as usize - 1];
    if (now - secs).abs() < 183 * 86_400 && secs <= now + 60 {
        format!("{month} {d:>2} {h:02}:{mi:02}")
    } else {
        format!("{month} {d:>2}  {y}")
    }
}

fn render_long(entries: &[Entry], o: &Opts) -> String {
    let now = now_secs();
    let sizes: Vec<String> = entries
        .iter()
        .map(|e| {
            if o.human {
                human(e.meta.len())
            } else {
                e.meta.len().to_string()
            }
        })
        .collect();
    let links_w = entries
        .iter()
        .map(|e| e.meta.nlink().to_string().len())
        .max()
        .unwrap_or(1);
    let size_w = sizes.iter().map(String::len).max().unwrap_or(1);
    let mut out = String::new();
    for (e, size) in entries.iter().zip(&sizes) {
        let mut name = e.name.clone();
        if let Some(t) = &e.link {
            name.push_str(" -> ");
            name.push_str(t);
        } else if o.classify {
            name.push_str(suffix(e));
        }
        out.push_str(&format!(
            "{} {:>links_w$} root root {:>size_w$} {} {}\n",
            mode_text(&e.meta),
            e.meta.nlink(),
            size,
            ls_date(mtime_secs(&e.meta), now),
            name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};
    use super::{columns, ls_date};
    use crate::program::{Capture, Ctx, Input, Output, Program, Terminal};

    #[tokio::test]
    async fn ls_one_per_line_without_a_tty() {
        let i = instance();
        put(&i, "/tmp/b", b"");
        put(&i, "/tmp/a", b"");
        put(&i, "/tmp/.h", b"");
        let r = run(&i, "/tmp", &["ls"], b"").await;
        assert_eq!(r, (0, "a\nb\n".into(), String::new()));
        assert_eq!(
            run(&i, "/tmp", &["ls", "-a"], b"").await.1,
            ".\n..\n.h\na\nb\n"
        );
        assert_eq!(run(&i, "/tmp", &["ls", "-A"], b"").await.1, ".h\na\nb\n");
        assert_eq!(
            run(&i, "/", &["ls", "/tmp/a", "/tmp"], b"").await.1,
            "/tmp/a\n\n/tmp:\na\nb\n"
        );
        assert_eq!(run(&i, "/", &["ls", "-d", "/tmp"], b"").await.1, "/tmp\n");
    }

    #[tokio::test]
    async fn ls_errors() {
        let i = instance();
        let r = run(&i, "/", &["ls", "x"], b"").await;
        assert_eq!(
            r,
            (
                2,
                String::new(),
                "ls: cannot access 'x': No such file or directory\n".into()
            )
        );
        let r = run(&i, "/", &["ls", "-z"], b"").await;
        assert_eq!(
            r,
            (
                2,
                String::new(),
                "ls: invalid option -- 'z'\nTry 'ls --help' for more information.\n".into()
            )
        );
        put(&i, "/tmp/a", b"");
        let r = run(&i, "/tmp", &["ls", "a", "x"], b"").await;
        assert_eq!(r.0, 2);
        assert_eq!(r.1, "a\n");
    }

    #[tokio::test]
    async fn ls_long_shows_links_and_sizes() {
        let i = instance();
        sparse(&i, "/m/model.safetensors", 1_610_612_736);
        run(&i, "/m", &["ln", "-s", "/workspace", "ws"], b"").await;
        let r = run(&i, "/m", &["ls", "-lh"], b"").await;
        let lines: Vec<&str> = r.1.lines().collect();
        assert_eq!(lines[0], "total 0");
        assert!(
            lines[1].starts_with("-rw-r--r-- 1 root root 1.5G "),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with(" model.safetensors"));
        assert!(
            lines[2].starts_with("lrwxrwxrwx 1 root root   10 "),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(" ws -> /workspace"));
        let r = run(&i, "/m", &["ls", "-l", "ws"], b"").await;
        assert!(r.1.ends_with(" ws -> /workspace\n"));
        // Without -l a link to a directory is listed as the directory.
        put(&i, "/workspace/w", b"");
        let r = run(&i, "/m", &["ls", "ws"], b"").await;
        assert!(r.1.contains("ComfyUI\n"));
    }

    #[tokio::test]
    async fn ls_recursive_headers() {
        let i = instance();
        put(&i, "/r/d/f", b"");
        put(&i, "/r/g", b"");
        let r = run(&i, "/", &["ls", "-R", "/r"], b"").await;
        assert_eq!(r.1, "/r:\nd\ng\n\n/r/d:\nf\n");
    }

    #[tokio::test]
    async fn ls_columns_on_a_tty() {
        let i = instance();
        for n in ["alpha", "beta", "gamma", "delta", "epsilon"] {
            put(&i, &format!("/c/{n}"), b"");
        }
        let cap = Capture::default();
        let stdout = Output::new(
            std::sync::Arc::new(cap.clone()),
            Some(Terminal::new(20, 24)),
        );
        let mut ctx = Ctx {
            argv: vec!["ls".into(), "/c".into()],
            env: i.login_env("root"),
            cwd: "/".into(),
            stdin: Input::empty(),
            stdout,
            stderr: Output::null(),
            instance: i.clone(),
            faults: Default::default(),
        };
        assert_eq!(super::Ls.run(&mut ctx).await, 0);
        assert_eq!(cap.text(), "alpha  epsilon\nbeta   gamma\ndelta\n");
        assert_eq!(columns(&["a".into(), "b".into()], 80), "a  b\n");
    }

    #[test]
    fn dates_recent_and_old() {
        let now = 1_732_618_380;
        assert_eq!(ls_date(now, now), "Nov 26 10:53");
        assert_eq!(ls_date(now - 400 * 86_400, now), "Oct 23  2023");
    }
}
