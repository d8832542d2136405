//! Evaluates a parsed expression on one visited file: the tests, and the
//! actions that write to the output buffer (`-print`, `-printf`).

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::parse::Expr;
use crate::instance::sandbox::Fs;
use crate::shell::builtins::clock::strftime;
use crate::shell::builtins::common::{base_name, dir_name, glob_match, mtime_secs};
use crate::shell::builtins::echo::unescape;

/// One file being visited.
pub(super) struct Visit<'a> {
    pub(super) path: &'a str,
    pub(super) start: &'a str,
    pub(super) meta: &'a Metadata,
    pub(super) fs: Fs<'a>,
    pub(super) depth: usize,
    pub(super) link_target: Option<String>,
}

/// What evaluation gathers across files: buffered output, and whether
/// `-prune` or `-quit` fired.
#[derive(Default)]
pub(super) struct RunState {
    pub(super) out: Vec<u8>,
    pub(super) prune: bool,
    pub(super) quit: bool,
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

/// Evaluates `e` on one file, left to right with short-circuits as find
/// does; actions write into `st`.
pub(super) fn eval(e: &Expr, v: &Visit, st: &mut RunState) -> bool {
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
                    b'M' => crate::shell::builtins::ls::mode_text(v.meta),
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
