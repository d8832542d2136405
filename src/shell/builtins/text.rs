//! Utilities that move text around: `echo`, `cat`, `head`, `tail`, `tee`, `wc`.
//! Files are streamed in chunks; nothing reads a whole file into memory.

use std::collections::VecDeque;
use std::io::{self, SeekFrom};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::common::{
    complain, errtext, exhausted, open_input, parse_or_exit, quote, Lines, Source, Spec, CHUNK,
    MAX_HELD,
};
use crate::instance::sandbox::OpenOptions;
use crate::program::{Ctx, Program};

/// `echo [-neE] ARG...` as bash's builtin.
pub struct Echo;

#[async_trait]
impl Program for Echo {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut newline = true;
        let mut escapes = false;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
                for c in a[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                i += 1;
            } else {
                break;
            }
        }
        let mut out = Vec::new();
        for (k, a) in args[i..].iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            if escapes {
                if unescape(a.as_bytes(), &mut out, true) {
                    ctx.out(out).await;
                    return 0;
                }
            } else {
                out.extend_from_slice(a.as_bytes());
            }
        }
        if newline {
            out.push(b'\n');
        }
        ctx.out(out).await;
        0
    }
}

/// Expands backslash escapes (`echo -e`, `printf %b`) into `out`; returns
/// true when `\c` asked to stop all output. `echo_octal` selects `\0nnn`
/// (echo) over `\nnn` (printf %b accepts both).
pub(crate) fn unescape(s: &[u8], out: &mut Vec<u8>, echo_octal: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b != b'\\' || i >= s.len() {
            out.push(b);
            continue;
        }
        let c = s[i];
        i += 1;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'c' => return true,
            b'e' | b'E' => out.push(27),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'0'..=b'7' if c == b'0' || !echo_octal => {
                let max = if c == b'0' { 3 } else { 2 };
                let mut v: u32 = if c == b'0' { 0 } else { u32::from(c - b'0') };
                let mut n = 0;
                while n < max && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            b'u' | b'U' => {
                let max = if c == b'u' { 4 } else { 8 };
                let mut v = 0u32;
                let mut n = 0;
                while n < max && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                match char::from_u32(v) {
                    Some(ch) if n > 0 => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => {
                        out.push(b'\\');
                        out.push(c);
                    }
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}

/// `cat [-nE] [FILE]...`: files and `-` (stdin), streamed.
pub struct Cat;

const CAT_SPEC: Spec = Spec {
    flags: "AbeEnstTuv",
    with_arg: "",
    long: &[
        ("number", 'n', false),
        ("show-ends", 'E', false),
        ("show-all", 'A', false),
        ("number-nonblank", 'b', false),
        ("squeeze-blank", 's', false),
        ("show-tabs", 'T', false),
        ("show-nonprinting", 'v', false),
    ],
};

#[async_trait]
impl Program for Cat {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &CAT_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let number = p.has('n') || p.has('b');
        let ends = p.has('E') || p.has('A') || p.has('e');
        let mut files = p.operands.clone();
        if files.is_empty() {
            files.push("-".into());
        }
        let mut code = 0;
        let mut line_no = 0u64;
        for f in &files {
            let src = match open_input(ctx, f).await {
                Ok(s) => s,
                Err(e) => {
                    complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    code = 1;
                    continue;
                }
            };
            let res = if number || ends {
                cat_lines(ctx, src, number, ends, &mut line_no).await
            } else {
                copy_out(ctx, src).await
            };
            match res {
                Ok(true) => {}
                Ok(false) => return 1,
                Err(e) => {
                    complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    code = 1;
                }
            }
        }
        code
    }
}

/// Copies a source to stdout chunk by chunk; `Ok(false)` when stdout closed.
pub(crate) async fn copy_out(ctx: &Ctx, mut src: Source) -> io::Result<bool> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = src.read(ctx, &mut buf).await?;
        if n == 0 {
            return Ok(true);
        }
        if !ctx.out(&buf[..n]).await {
            return Ok(false);
        }
    }
}

async fn cat_lines(
    ctx: &Ctx,
    src: Source,
    number: bool,
    ends: bool,
    line_no: &mut u64,
) -> io::Result<bool> {
    let mut lines = Lines::new(src);
    while let Some(mut line) = lines.next(ctx).await? {
        let mut out = Vec::new();
        if number {
            *line_no += 1;
            out.extend_from_slice(format!("{:>6}\t", line_no).as_bytes());
        }
        if ends && line.last() == Some(&b'\n') {
            line.pop();
            line.extend_from_slice(b"$\n");
        }
        out.extend_from_slice(&line);
        if !ctx.out(out).await {
            return Ok(false);
        }
    }
    Ok(true)
}

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
        let ht = match head_tail_args(ctx, false).await {
            Ok(h) => h,
            Err(c) => return c,
        };
        let show = ht.headers.unwrap_or(ht.files.len() > 1);
        let mut code = 0;
        for (k, f) in ht.files.iter().enumerate() {
            let src = match open_input(ctx, f).await {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                    if show {
                        let sep = if k > 0 { "\n" } else { "" };
                        ctx.out(format!("{sep}==> {f} <==\n")).await;
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
                let sep = if k > 0 { "\n" } else { "" };
                ctx.out(format!("{sep}==> {} <==\n", display_name(f))).await;
            }
            match head_one(ctx, src, ht.bytes, ht.count).await {
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
        let ht = match head_tail_args(ctx, true).await {
            Ok(h) => h,
            Err(c) => return c,
        };
        let show = ht.headers.unwrap_or(ht.files.len() > 1);
        let mut code = 0;
        let mut shown = 0;
        for f in &ht.files {
            let src = match open_input(ctx, f).await {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                    if show {
                        let sep = if shown > 0 { "\n" } else { "" };
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
                let sep = if shown > 0 { "\n" } else { "" };
                ctx.out(format!("{sep}==> {} <==\n", display_name(f))).await;
                shown += 1;
            }
            match tail_one(ctx, src, ht.bytes, ht.count).await {
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

/// `tee [-a] [FILE]...`: copies stdin to stdout and every file.
pub struct Tee;

const TEE_SPEC: Spec = Spec {
    flags: "aip",
    with_arg: "",
    long: &[("append", 'a', false), ("ignore-interrupts", 'i', false)],
};

#[async_trait]
impl Program for Tee {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &TEE_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let append = p.has('a');
        let mut code = 0;
        let mut files = Vec::new();
        for f in &p.operands {
            match open_output(ctx, f, append).await {
                Ok(h) => files.push((f.clone(), Some(h))),
                Err(e) => {
                    complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    code = 1;
                }
            }
        }
        let mut stdout_open = true;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match ctx.stdin.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    complain(ctx, format!("standard input: {}", errtext(&e))).await;
                    code = 1;
                    break;
                }
            };
            if n == 0 {
                break;
            }
            if stdout_open && !ctx.out(&buf[..n]).await {
                stdout_open = false;
                code = 1;
            }
            for (name, slot) in files.iter_mut() {
                if let Some(h) = slot {
                    if let Err(e) = h.write(&buf[..n]).await {
                        let msg = format!("{name}: {}", errtext(&e));
                        complain(ctx, msg).await;
                        *slot = None;
                        code = 1;
                    }
                }
            }
        }
        code
    }
}

/// Opens a path inside the instance for writing (create, truncate or append).
pub(crate) async fn open_output(
    ctx: &Ctx,
    path: &str,
    append: bool,
) -> io::Result<crate::program::Output> {
    let fs = ctx.fs();
    if fs.is_dir(path) {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    let options = OpenOptions::new()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append);
    fs.open(path, options).map(crate::program::Output::file)
}

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
    use super::super::testutil::{instance, put, run, sparse};

    #[tokio::test]
    async fn echo_flags_and_escapes() {
        let i = instance();
        assert_eq!(run(&i, "/", &["echo", "a", "b"], b"").await.1, "a b\n");
        assert_eq!(run(&i, "/", &["echo", "-n", "x"], b"").await.1, "x");
        assert_eq!(
            run(&i, "/", &["echo", "-e", "a\\tb\\n"], b"").await.1,
            "a\tb\n\n"
        );
        assert_eq!(run(&i, "/", &["echo", "a\\tb"], b"").await.1, "a\\tb\n");
        assert_eq!(run(&i, "/", &["echo", "-e", "x\\cy"], b"").await.1, "x");
        assert_eq!(run(&i, "/", &["echo", "-nx"], b"").await.1, "-nx\n");
        assert_eq!(
            run(&i, "/", &["echo", "SSH connection successful"], b"").await,
            (0, "SSH connection successful\n".into(), String::new())
        );
    }

    #[tokio::test]
    async fn cat_reads_files_and_stdin_and_reports_errors() {
        let i = instance();
        put(&i, "/tmp/a", b"one\ntwo\n");
        let r = run(&i, "/tmp", &["cat", "a", "-", "nope", "/tmp"], b"in\n").await;
        assert_eq!(r.0, 1);
        assert_eq!(r.1, "one\ntwo\nin\n");
        assert_eq!(
            r.2,
            "cat: nope: No such file or directory\ncat: /tmp: Is a directory\n"
        );
        let r = run(&i, "/tmp", &["cat", "-n", "a"], b"").await;
        assert_eq!(r.1, "     1\tone\n     2\ttwo\n");
        let r = run(&i, "/", &["cat", "-z"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "cat: invalid option -- 'z'\nTry 'cat --help' for more information.\n".into()
            )
        );
    }

    #[tokio::test]
    async fn cat_streams_a_sparse_file() {
        let i = instance();
        sparse(&i, "/tmp/big", 3 * 1024 * 1024 + 5);
        let r = run(&i, "/", &["cat", "/tmp/big"], b"").await;
        assert_eq!(r.0, 0);
        assert_eq!(r.1.len(), 3 * 1024 * 1024 + 5);
    }

    #[tokio::test]
    async fn escape_through_symlink_reads_the_sandbox_file() {
        let i = instance();
        let r = run(&i, "/tmp", &["ln", "-s", "/", "x"], b"").await;
        assert_eq!(r.0, 0);
        let r = run(&i, "/tmp", &["cat", "x/../../../etc/hostname"], b"").await;
        assert_eq!(r, (0, "C.4242424\n".into(), String::new()));
        let r = run(&i, "/tmp", &["cat", "x/etc/hostname"], b"").await;
        assert_eq!(r.1, "C.4242424\n");
        // A file that exists only on the host is never read.
        let r = run(&i, "/tmp", &["cat", "x/proc/self/status"], b"").await;
        assert_eq!(r.0, 1);
        assert!(r.1.is_empty());
        let host = i.sandbox.host_path("/etc/hostname");
        let r = run(&i, "/", &["cat", &host.to_string_lossy()], b"").await;
        assert_eq!(r.0, 1);
        assert!(r.2.contains("No such file or directory"));
    }

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

    #[tokio::test]
    async fn tee_appends_to_files() {
        let i = instance();
        let line = b"UI_HOME=/workspace/ComfyUI\n";
        let r = run(&i, "/", &["tee", "-a", "/etc/environment"], line).await;
        assert_eq!(r, (0, "UI_HOME=/workspace/ComfyUI\n".into(), String::new()));
        let env = String::from_utf8(i.sandbox.fs("/").read("/etc/environment", 1 << 20).unwrap())
            .unwrap();
        assert!(env.ends_with("UI_HOME=/workspace/ComfyUI\nUI_HOME=/workspace/ComfyUI\n"));
        let r = run(&i, "/", &["tee", "/tmp/t", "/nope/x"], b"hi\n").await;
        assert_eq!(
            r,
            (
                1,
                "hi\n".into(),
                "tee: /nope/x: No such file or directory\n".into()
            )
        );
        assert_eq!(i.sandbox.fs("/").read("/tmp/t", 1 << 20).unwrap(), b"hi\n");
    }

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
