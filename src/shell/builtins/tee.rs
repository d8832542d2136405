//! `tee`: stdin copied to stdout and to every file named.

use std::io;

use async_trait::async_trait;

use super::common::{complain, errtext, parse_or_exit, Spec, CHUNK};
use crate::instance::sandbox::OpenOptions;
use crate::program::{Ctx, Program};

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

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

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
}
