//! `head` and `tail`: the first or last lines or bytes of each input, with
//! the count syntax they share (`N`, `-N`, `+N`). Files are streamed, and
//! `tail` seeks from the end; nothing reads a whole file into memory.

use std::collections::VecDeque;
use std::io::{self, SeekFrom};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::cat::copy_out;
use super::common::{
    complain, errtext, exhausted, open_input, quote, Lines, Source, Spec, CHUNK, MAX_HELD,
};
use crate::program::{Ctx, Program};

/// A line or byte count for `head`/`tail`: `N`, `-N` (all but), `+N` (from).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Count {
    First(u64),
    AllBut(u64),
    From(u64),
}

fn parse_count(s: &str) -> Option<(char, u64)> {
    let (sign, rest) = match s.chars().next() {
        Some(c @ ('-' | '+')) => (c, &s[1..]),
        _ => (' ', s),
    };
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let n: u64 = rest[..digits_end].parse().ok()?;
    let mult: u64 = match &rest[digits_end..] {
        "" => 1,
        "b" => 512,
        "K" | "KiB" | "k" => 1024,
        "KB" | "kB" => 1000,
        "M" | "MiB" => 1 << 20,
        "MB" => 1_000_000,
        "G" | "GiB" => 1 << 30,
        "GB" => 1_000_000_000,
        _ => return None,
    };
    Some((sign, n.saturating_mul(mult)))
}

/// Options of `head`/`tail`, with `-N` shorthand rewritten.
struct HeadTail {
    bytes: bool,
    count: Count,
    headers: Option<bool>,
    files: Vec<String>,
}

async fn head_tail_args(ctx: &Ctx, tail: bool) -> Result<HeadTail, i32> {
    let spec = Spec {
        flags: "qvfF",
        with_arg: "nc",
        long: &[
            ("lines", 'n', true),
            ("bytes", 'c', true),
            ("quiet", 'q', false),
            ("silent", 'q', false),
            ("verbose", 'v', false),
            ("follow", 'f', false),
        ],
    };
    // `-5` means `-n 5` (only as the first argument, as GNU does).
    let mut args = ctx.args().to_vec();
    if let Some(first) = args.first() {
        if first.len() > 1
            && first.starts_with('-')
            && first[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        {
            let n = first[1..].to_string();
            args[0] = "-n".into();
            args.insert(1, n);
        }
    }
    let p = match super::common::parse(&args, &spec) {
        Ok(p) => p,
        Err(e) => return Err(super::common::opt_error(ctx, e, 1).await),
    };
    let bytes = p.last_of("nc") == Some('c');
    let mut count = Count::First(10);
    if let Some(c) = p.last_of("nc") {
        let v = p.value(c).unwrap_or("");
        let what = if c == 'c' { "bytes" } else { "lines" };
        match parse_count(v) {
            Some((sign, n)) => {
                count = match (tail, sign) {
                    (false, '-') => Count::AllBut(n),
                    (false, _) => Count::First(n),
                    (true, '+') => Count::From(n),
                    (true, _) => Count::First(n),
                };
            }
            None => {
                complain(ctx, format!("invalid number of {what}: {}", quote(ctx, v))).await;
                return Err(1);
            }
        }
    }
    let headers = match p.last_of("qv") {
        Some('q') => Some(false),
        Some(_) => Some(true),
        None => None,
    };
    let mut files = p.operands;
    if files.is_empty() {
        files.push("-".into());
    }
    Ok(HeadTail {
        bytes,
        count,
        headers,
        files,
    })
}

fn display_name(f: &str) -> &str {
    if f == "-" {
        "standard input"
    } else {
        f
    }
}

/// `head [-n N|-N|-c N] [FILE]...`: stops reading as soon as it has enough.
pub struct Head;

#[async_trait]
impl Program for Head {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        each_input(ctx, false).await
    }
}

/// Runs `head` (or `tail`) over each input with GNU's `==> NAME <==`
/// headers when there are several inputs (or `-v`), its diagnostics and
/// its exit status.
async fn each_input(ctx: &Ctx, tail: bool) -> i32 {
    let ht = match head_tail_args(ctx, tail).await {
        Ok(h) => h,
        Err(c) => return c,
    };
    let show = ht.headers.unwrap_or(ht.files.len() > 1);
    let mut code = 0;
    let mut shown = 0;
    for (k, f) in ht.files.iter().enumerate() {
        // head puts a blank line before every file's header but the first
        // file's; tail only after a header it has printed.
        let before = if tail { shown } else { k };
        let sep = if before > 0 { "\n" } else { "" };
        let src = match open_input(ctx, f).await {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                if show {
                    ctx.out(format!("{sep}==> {f} <==\n")).await;
                    shown += 1;
                }
                let msg = format!("error reading {}: Is a directory", quote(ctx, f));
                complain(ctx, msg).await;
                code = 1;
                continue;
            }
            Err(e) => {
                let msg = format!("cannot open {} for reading: {}", quote(ctx, f), errtext(&e));
                complain(ctx, msg).await;
                code = 1;
                continue;
            }
        };
        if show {
            ctx.out(format!("{sep}==> {} <==\n", display_name(f))).await;
            shown += 1;
        }
        let copied = if tail {
            tail_one(ctx, src, ht.bytes, ht.count).await
        } else {
            head_one(ctx, src, ht.bytes, ht.count).await
        };
        match copied {
            Ok(true) => {}
            Ok(false) => return 1,
            Err(e) => {
                complain(
                    ctx,
                    format!("error reading {}: {}", quote(ctx, f), errtext(&e)),
                )
                .await;
                code = 1;
            }
        }
    }
    code
}

async fn head_one(ctx: &Ctx, mut src: Source, bytes: bool, count: Count) -> io::Result<bool> {
    // All but the last N of a regular file: its end is known, so nothing is
    // held back; it is a copy of the bytes before the last N (lines).
    let (bytes, count) = match (&mut src, count) {
        (Source::File(f), Count::AllBut(n)) if f.metadata().await.is_ok_and(|m| m.is_file()) => {
            let len = f.seek(SeekFrom::End(0)).await?;
            let end = if bytes {
                len.saturating_sub(n)
            } else {
                tail_line_start(f, len, n).await?
            };
            f.seek(SeekFrom::Start(0)).await?;
            (true, Count::First(end))
        }
        _ => (bytes, count),
    };
    match (bytes, count) {
        (true, Count::First(mut left)) => {
            let mut buf = vec![0u8; CHUNK];
            while left > 0 {
                let want = buf.len().min(left as usize);
                let n = src.read(ctx, &mut buf[..want]).await?;
                if n == 0 {
                    break;
                }
                left -= n as u64;
                if !ctx.out(&buf[..n]).await {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (true, Count::AllBut(n)) => {
            // Hold back the last n bytes (bounded by n).
            let mut held: VecDeque<u8> = VecDeque::new();
            let mut buf = vec![0u8; CHUNK];
            loop {
                let r = src.read(ctx, &mut buf).await?;
                if r == 0 {
                    return Ok(true);
                }
                held.extend(&buf[..r]);
                if held.len() as u64 > n {
                    let emit = held.len() - n as usize;
                    let out: Vec<u8> = held.drain(..emit).collect();
                    if !ctx.out(out).await {
                        return Ok(false);
                    }
                }
                if held.len() > MAX_HELD {
                    return Err(exhausted());
                }
            }
        }
        (false, Count::First(mut left)) => {
            let mut lines = Lines::new(src);
            while left > 0 {
                let Some(line) = lines.next(ctx).await? else {
                    break;
                };
                left -= 1;
                if !ctx.out(line).await {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (false, Count::AllBut(n)) => {
            let mut held: VecDeque<Vec<u8>> = VecDeque::new();
            let mut held_bytes = 0usize;
            let mut lines = Lines::new(src);
            while let Some(line) = lines.next(ctx).await? {
                held_bytes += line.len();
                held.push_back(line);
                if held.len() as u64 > n {
                    let l = held.pop_front().unwrap_or_default();
                    held_bytes -= l.len();
                    if !ctx.out(l).await {
                        return Ok(false);
                    }
                }
                if held_bytes > MAX_HELD {
                    return Err(exhausted());
                }
            }
            Ok(true)
        }
        (_, Count::From(_)) => Ok(true),
    }
}

/// `tail [-n N|-N|-n +N|-c N] [FILE]...`: seeks from the end of files.
pub struct Tail;

#[async_trait]
impl Program for Tail {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        each_input(ctx, true).await
    }
}

async fn tail_one(ctx: &Ctx, src: Source, bytes: bool, count: Count) -> io::Result<bool> {
    match (src, count) {
        (mut src, Count::From(n)) => {
            // Skip to the n-th line or byte (1-based), then copy the rest.
            let skip = n.saturating_sub(1);
            if bytes {
                let mut left = skip;
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let r = src.read(ctx, &mut buf).await?;
                    if r == 0 {
                        return Ok(true);
                    }
                    let drop = (left as usize).min(r);
                    left -= drop as u64;
                    if drop < r && !ctx.out(&buf[drop..r]).await {
                        return Ok(false);
                    }
                }
            }
            let mut lines = Lines::new(src);
            let mut k = 0u64;
            while let Some(line) = lines.next(ctx).await? {
                k += 1;
                if k > skip && !ctx.out(line).await {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Source::File(mut f), Count::First(n)) => {
            let len = f.seek(SeekFrom::End(0)).await?;
            let start = if bytes {
                len.saturating_sub(n)
            } else {
                tail_line_start(&mut f, len, n).await?
            };
            f.seek(SeekFrom::Start(start)).await?;
            copy_out(ctx, Source::File(f)).await
        }
        (src @ Source::Stdin, Count::First(n)) | (src @ Source::Stdin, Count::AllBut(n)) => {
            if bytes {
                let mut held: VecDeque<u8> = VecDeque::new();
                let mut src = src;
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let r = src.read(ctx, &mut buf).await?;
                    if r == 0 {
                        break;
                    }
                    held.extend(&buf[..r]);
                    if held.len() as u64 > n {
                        let excess = held.len() - n as usize;
                        held.drain(..excess);
                    }
                    if held.len() > MAX_HELD {
                        return Err(exhausted());
                    }
                }
                let out: Vec<u8> = held.into_iter().collect();
                return Ok(ctx.out(out).await);
            }
            let mut held: VecDeque<Vec<u8>> = VecDeque::new();
            let mut held_bytes = 0usize;
            let mut lines = Lines::new(src);
            while let Some(line) = lines.next(ctx).await? {
                held_bytes += line.len();
                held.push_back(line);
                if held.len() as u64 > n {
                    held_bytes -= held.pop_front().map_or(0, |l| l.len());
                }
                if held_bytes > MAX_HELD {
                    return Err(exhausted());
                }
            }
            for l in held {
                if !ctx.out(l).await {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Source::File(_), Count::AllBut(_)) => Ok(true),
    }
}

/// The offset where the last `n` lines of a file of `len` bytes begin.
async fn tail_line_start(f: &mut tokio::fs::File, len: u64, n: u64) -> io::Result<u64> {
    if n == 0 {
        return Ok(len);
    }
    let mut pos = len;
    let mut newlines = 0u64;
    let mut buf = vec![0u8; CHUNK];
    let mut first = true;
    while pos > 0 {
        let take = (pos as usize).min(buf.len());
        pos -= take as u64;
        f.seek(SeekFrom::Start(pos)).await?;
        f.read_exact(&mut buf[..take]).await?;
        for i in (0..take).rev() {
            if buf[i] == b'\n' {
                // A trailing newline ends the last line; it does not start one.
                if first && pos + i as u64 == len - 1 {
                    continue;
                }
                newlines += 1;
                if newlines == n {
                    return Ok(pos + i as u64 + 1);
                }
            }
        }
        first = false;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};

    #[tokio::test]
    async fn head_counts_lines_and_bytes() {
        let i = instance();
        put(&i, "/tmp/f", b"1\n2\n3\n4\n");
        assert_eq!(run(&i, "/tmp", &["head", "-1"], b"a\nb\n").await.1, "a\n");
        assert_eq!(
            run(&i, "/tmp", &["head", "-n", "2", "f"], b"").await.1,
            "1\n2\n"
        );
        assert_eq!(
            run(&i, "/tmp", &["head", "-n", "-3", "f"], b"").await.1,
            "1\n"
        );
        assert_eq!(
            run(&i, "/tmp", &["head", "-c", "3", "f"], b"").await.1,
            "1\n2"
        );
        let r = run(&i, "/tmp", &["head", "-n1", "f", "f"], b"").await;
        assert_eq!(r.1, "==> f <==\n1\n\n==> f <==\n1\n");
        let r = run(&i, "/tmp", &["head", "nope"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "head: cannot open 'nope' for reading: No such file or directory\n".into()
            )
        );
        let r = run(&i, "/tmp", &["head", "-n", "x"], b"").await;
        assert_eq!(r.2, "head: invalid number of lines: 'x'\n");
    }

    #[tokio::test]
    async fn head_all_but_the_last_agrees_on_files_and_pipes() {
        let i = instance();
        let cases: [&[u8]; 5] = [b"", b"a", b"a\nb\nc", b"a\nb\nc\n", b"\n\n\n"];
        for data in cases {
            put(&i, "/tmp/f", data);
            for args in [["-n", "-0"], ["-n", "-1"], ["-n", "-2"], ["-n", "-9"]]
                .iter()
                .chain(&[["-c", "-0"], ["-c", "-1"], ["-c", "-4"], ["-c", "-99"]])
            {
                let file = run(&i, "/tmp", &["head", args[0], args[1], "f"], b"").await;
                let pipe = run(&i, "/tmp", &["head", args[0], args[1]], data).await;
                assert_eq!(file, pipe, "{args:?} of {data:?}");
            }
        }
        // A huge sparse file: the held-back part is never held in memory.
        sparse(&i, "/tmp/big", 1 << 30);
        let r = run(&i, "/tmp", &["head", "-c", "-1073741820", "big"], b"").await;
        assert_eq!(r, (0, "\0\0\0\0".into(), String::new()));
    }

    #[tokio::test]
    async fn head_of_a_huge_sparse_file_stops_early() {
        let i = instance();
        sparse(&i, "/tmp/model.safetensors", 6 * 1024 * 1024 * 1024);
        let r = run(&i, "/tmp", &["head", "-c", "4", "model.safetensors"], b"").await;
        assert_eq!(r.1, "\0\0\0\0");
    }

    /// head separates headers by the file's place, tail by the headers it
    /// printed; a directory gets its header before the error.
    #[tokio::test]
    async fn headers_around_missing_files_and_directories() {
        let i = instance();
        put(&i, "/tmp/f", b"1\n");
        put(&i, "/tmp/d/x", b"");
        let out = |argv: &'static [&'static str]| {
            let i = i.clone();
            async move { run(&i, "/tmp", argv, b"").await }
        };
        let r = out(&["head", "f", "m", "f"]).await;
        assert_eq!((r.0, r.1.as_str()), (1, "==> f <==\n1\n\n==> f <==\n1\n"));
        let r = out(&["head", "m", "f"]).await;
        assert_eq!((r.0, r.1.as_str()), (1, "\n==> f <==\n1\n"));
        let r = out(&["tail", "m", "f"]).await;
        assert_eq!((r.0, r.1.as_str()), (1, "==> f <==\n1\n"));
        for tool in ["head", "tail"] {
            let argv: &'static [&'static str] = if tool == "head" {
                &["head", "d", "f"]
            } else {
                &["tail", "d", "f"]
            };
            let r = out(argv).await;
            assert_eq!(r.1, "==> d <==\n\n==> f <==\n1\n", "{tool}");
            assert_eq!(r.2, format!("{tool}: error reading 'd': Is a directory\n"));
        }
    }

    #[tokio::test]
    async fn tail_seeks_from_the_end() {
        let i = instance();
        put(&i, "/tmp/f", b"1\n2\n3\n4\n");
        assert_eq!(
            run(&i, "/tmp", &["tail", "-n", "2", "f"], b"").await.1,
            "3\n4\n"
        );
        assert_eq!(run(&i, "/tmp", &["tail", "-1", "f"], b"").await.1, "4\n");
        assert_eq!(
            run(&i, "/tmp", &["tail", "-n", "+3", "f"], b"").await.1,
            "3\n4\n"
        );
        assert_eq!(
            run(&i, "/tmp", &["tail", "-c", "2", "f"], b"").await.1,
            "4\n"
        );
        assert_eq!(run(&i, "/tmp", &["tail", "-n", "1"], b"a\nb").await.1, "b");
        put(&i, "/tmp/g", b"x\ny");
        assert_eq!(run(&i, "/tmp", &["tail", "-n", "1", "g"], b"").await.1, "y");
        assert_eq!(
            run(&i, "/tmp", &["tail", "-n", "5", "g"], b"").await.1,
            "x\ny"
        );
    }
}
