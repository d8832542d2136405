//! `wc`: line, word, byte, character and longest-line counts in GNU's
//! columns.

use std::io;

use async_trait::async_trait;

use super::common::{complain, errtext, open_input, parse_or_exit, Source, Spec, CHUNK};
use crate::program::{Ctx, Program};

/// `wc [-lwcm] [FILE]...` with GNU's column widths.
pub struct Wc;

const WC_SPEC: Spec = Spec {
    flags: "lwcmL",
    with_arg: "",
    long: &[
        ("lines", 'l', false),
        ("words", 'w', false),
        ("bytes", 'c', false),
        ("chars", 'm', false),
        ("max-line-length", 'L', false),
    ],
};

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
    chars: u64,
    longest: u64,
}

#[async_trait]
impl Program for Wc {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &WC_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let (mut l, mut w, mut c, m, big_l) =
            (p.has('l'), p.has('w'), p.has('c'), p.has('m'), p.has('L'));
        if !(l || w || c || m || big_l) {
            (l, w, c) = (true, true, true);
        }
        let selected = [l, w, m, c, big_l].iter().filter(|x| **x).count();
        let files = if p.operands.is_empty() {
            vec!["-".to_string()]
        } else {
            p.operands.clone()
        };
        // Width: digits of the total size of regular files, at least 7 when
        // a pipe is involved, 1 for a single count of a single input.
        let mut regular_total = 0u64;
        let mut min_width = 1;
        for f in &files {
            if f == "-" {
                min_width = 7;
            } else {
                match ctx.fs().metadata(f) {
                    Ok(meta) if meta.is_file() => regular_total += meta.len(),
                    Ok(_) => min_width = 7,
                    Err(_) => {}
                }
            }
        }
        let mut width = regular_total.max(1).to_string().len().max(min_width);
        if files.len() == 1 && selected == 1 {
            width = 1;
        }
        let mut code = 0;
        let mut total = Counts::default();
        for f in &files {
            let res = match open_input(ctx, f).await {
                Ok(src) => count(ctx, src).await,
                Err(e) => Err(e),
            };
            let counts = match res {
                Ok(cn) => cn,
                Err(e) => {
                    complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    code = 1;
                    if e.kind() != io::ErrorKind::IsADirectory {
                        continue;
                    }
                    Counts::default()
                }
            };
            total.lines += counts.lines;
            total.words += counts.words;
            total.bytes += counts.bytes;
            total.chars += counts.chars;
            total.longest = total.longest.max(counts.longest);
            let name = if f == "-" && p.operands.is_empty() {
                None
            } else {
                Some(f.as_str())
            };
            let line = wc_line(counts, [l, w, m, c, big_l], width, name);
            if !ctx.out(line).await {
                return 1;
            }
        }
        if files.len() > 1 {
            ctx.out(wc_line(total, [l, w, m, c, big_l], width, Some("total")))
                .await;
        }
        code
    }
}

fn wc_line(cn: Counts, which: [bool; 5], width: usize, name: Option<&str>) -> String {
    let values = [cn.lines, cn.words, cn.chars, cn.bytes, cn.longest];
    let mut parts = Vec::new();
    for (on, v) in which.iter().zip(values) {
        if *on {
            parts.push(format!("{v:>width$}"));
        }
    }
    let mut s = parts.join(" ");
    if let Some(n) = name {
        s.push(' ');
        s.push_str(n);
    }
    s.push('\n');
    s
}

async fn count(ctx: &Ctx, mut src: Source) -> io::Result<Counts> {
    let mut cn = Counts::default();
    let mut buf = vec![0u8; CHUNK];
    let mut in_word = false;
    let mut line_len = 0u64;
    loop {
        let n = src.read(ctx, &mut buf).await?;
        if n == 0 {
            break;
        }
        cn.bytes += n as u64;
        for &b in &buf[..n] {
            if b & 0xC0 != 0x80 {
                cn.chars += 1;
            }
            if b == b'\n' {
                cn.lines += 1;
                cn.longest = cn.longest.max(line_len);
                line_len = 0;
            } else {
                line_len += 1;
            }
            if b.is_ascii_whitespace() {
                in_word = false;
            } else if !in_word {
                in_word = true;
                cn.words += 1;
            }
        }
    }
    cn.longest = cn.longest.max(line_len);
    Ok(cn)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};

    #[tokio::test]
    async fn wc_widths_follow_gnu() {
        let i = instance();
        put(&i, "/tmp/f", b"a b\nc\n");
        assert_eq!(run(&i, "/tmp", &["wc", "-l", "f"], b"").await.1, "2 f\n");
        assert_eq!(run(&i, "/tmp", &["wc", "f"], b"").await.1, "2 3 6 f\n");
        assert_eq!(run(&i, "/tmp", &["wc", "-l"], b"x\ny\n").await.1, "2\n");
        assert_eq!(
            run(&i, "/tmp", &["wc"], b"x\n").await.1,
            "      1       1       2\n"
        );
        let r = run(&i, "/tmp", &["wc", "-c", "f", "f"], b"").await;
        assert_eq!(r.1, " 6 f\n 6 f\n12 total\n");
    }
}
