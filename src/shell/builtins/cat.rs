//! `cat`: files and stdin copied to stdout, streamed in chunks.

use std::io;

use async_trait::async_trait;

use super::common::{complain, errtext, open_input, parse_or_exit, Lines, Source, Spec, CHUNK};
use crate::program::{Ctx, Program};

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

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};

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
}
