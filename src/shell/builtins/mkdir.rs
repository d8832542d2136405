//! `mkdir`: one directory, or with `-p` every missing parent too.

use std::io::{self, ErrorKind};

use async_trait::async_trait;

use super::common::{complain, errtext, ioerr, parse_or_exit, quote, Spec};
use super::operands::missing_operand;
use crate::program::{Ctx, Program};

/// `mkdir [-p] [-v] [-m MODE] DIR...`.
pub struct Mkdir;

const MKDIR_SPEC: Spec = Spec {
    flags: "pv",
    with_arg: "m",
    long: &[
        ("parents", 'p', false),
        ("verbose", 'v', false),
        ("mode", 'm', true),
    ],
};

#[async_trait]
impl Program for Mkdir {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &MKDIR_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx, None).await;
        }
        let mut code = 0;
        for d in &p.operands {
            let r = if p.has('p') {
                mkdir_parents(ctx, d, p.has('v')).await
            } else {
                mkdir_one(ctx, d, p.has('v')).await
            };
            if let Err((what, e)) = r {
                let msg = format!(
                    "cannot create directory {}: {}",
                    quote(ctx, &what),
                    errtext(&e)
                );
                complain(ctx, msg).await;
                code = 1;
            }
        }
        code
    }
}

async fn mkdir_one(ctx: &Ctx, d: &str, verbose: bool) -> Result<(), (String, io::Error)> {
    let fs = ctx.fs();
    if fs.exists(d) {
        return Err((d.to_string(), ioerr(ErrorKind::AlreadyExists)));
    }
    fs.create_dir(d).map_err(|e| (d.to_string(), e))?;
    if verbose {
        ctx.out(format!("mkdir: created directory {}\n", quote(ctx, d)))
            .await;
    }
    Ok(())
}

async fn mkdir_parents(ctx: &Ctx, d: &str, verbose: bool) -> Result<(), (String, io::Error)> {
    // Each prefix as the user spelled it: `a`, `a/b`, `a/b/c`.
    let mut prefix = if d.starts_with('/') {
        "/".to_string()
    } else {
        String::new()
    };
    for part in d.split('/').filter(|p| !p.is_empty()) {
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        prefix.push_str(part);
        if part == "." || part == ".." {
            continue;
        }
        let fs = ctx.fs();
        match fs.metadata(&prefix) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => return Err((prefix.clone(), ioerr(ErrorKind::AlreadyExists))),
            Err(_) => {
                fs.create_dir(&prefix).map_err(|e| (prefix.clone(), e))?;
                if verbose {
                    ctx.out(format!(
                        "mkdir: created directory {}\n",
                        quote(ctx, &prefix)
                    ))
                    .await;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn mkdir_parents_and_errors() {
        let i = instance();
        let r = run(&i, "/tmp", &["mkdir", "-p", "a/b/c"], b"").await;
        assert_eq!(r, (0, String::new(), String::new()));
        assert!(i.sandbox.fs("/").is_dir("/tmp/a/b/c"));
        assert_eq!(run(&i, "/tmp", &["mkdir", "-p", "a/b"], b"").await.0, 0);
        let r = run(&i, "/tmp", &["mkdir", "a"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "mkdir: cannot create directory 'a': File exists\n".into()
            )
        );
        let r = run(&i, "/tmp", &["mkdir", "x/y"], b"").await;
        assert_eq!(
            r.2,
            "mkdir: cannot create directory 'x/y': No such file or directory\n"
        );
        let r = run(&i, "/tmp", &["mkdir", "-pv", "n/m"], b"").await;
        assert_eq!(
            r.1,
            "mkdir: created directory 'n'\nmkdir: created directory 'n/m'\n"
        );
        let r = run(&i, "/", &["mkdir"], b"").await;
        assert_eq!(
            r.2,
            "mkdir: missing operand\nTry 'mkdir --help' for more information.\n"
        );
    }

    #[tokio::test]
    async fn mkdir_p_then_ln_s_as_the_app_does() {
        let i = instance();
        let r = run(
            &i,
            "/tmp",
            &["mkdir", "-p", "/workspace/ComfyUI/models/vae/Wan-2.1"],
            b"",
        )
        .await;
        assert_eq!(r.0, 0);
        let r = run(
            &i,
            "/tmp",
            &[
                "ln",
                "-s",
                "/workspace/ComfyUI/models/vae/Wan-2.1",
                "/workspace/ComfyUI/models/wan",
            ],
            b"",
        )
        .await;
        assert_eq!(r, (0, String::new(), String::new()));
        let fs = i.sandbox.fs("/");
        assert_eq!(
            fs.read_link("/workspace/ComfyUI/models/wan")
                .unwrap()
                .to_string_lossy(),
            "/workspace/ComfyUI/models/vae/Wan-2.1"
        );
        let r = run(
            &i,
            "/tmp",
            &["ln", "-s", "/x", "/workspace/ComfyUI/models/wan"],
            b"",
        )
        .await;
        assert_eq!(r.2, "");
        // LINK_NAME is a link to a directory: the new link goes inside it.
        assert!(fs
            .symlink_metadata("/workspace/ComfyUI/models/vae/Wan-2.1/x")
            .unwrap()
            .file_type()
            .is_symlink());
        let r = run(
            &i,
            "/tmp",
            &["ln", "-s", "/y", "/workspace/ComfyUI/models/wan/x"],
            b"",
        )
        .await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "ln: failed to create symbolic link '/workspace/ComfyUI/models/wan/x': File exists\n".into()
            )
        );
        let r = run(
            &i,
            "/tmp",
            &["ln", "-sfn", "/y", "/workspace/ComfyUI/models/wan"],
            b"",
        )
        .await;
        assert_eq!(r.0, 0);
        let link = fs.read_link("/workspace/ComfyUI/models/wan").unwrap();
        assert_eq!(link.to_string_lossy(), "/y");
    }
}
