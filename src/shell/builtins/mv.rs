//! `mv`: renames inside the instance, refusing to move a directory into
//! itself.

use async_trait::async_trait;

use super::common::{complain, errtext, nofollow_path, parse_or_exit, quote, Spec};
use super::operands::{is_within, source_targets};
use crate::program::{Ctx, Program};

/// `mv [-f] [-n] [-v] [-T] SOURCE... DEST`.
pub struct Mv;

const MV_SPEC: Spec = Spec {
    flags: "fnivTu",
    with_arg: "t",
    long: &[
        ("force", 'f', false),
        ("no-clobber", 'n', false),
        ("verbose", 'v', false),
        ("target-directory", 't', true),
        ("no-target-directory", 'T', false),
    ],
};

#[async_trait]
impl Program for Mv {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &MV_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let targets = match source_targets(ctx, &p).await {
            Ok(t) => t,
            Err(c) => return c,
        };
        let mut code = 0;
        for (s, target) in &targets {
            if let Err(msg) = move_one(ctx, s, target, p.has('n')).await {
                complain(ctx, msg).await;
                code = 1;
            } else if p.has('v') {
                ctx.out(format!(
                    "renamed {} -> {}\n",
                    quote(ctx, s),
                    quote(ctx, target)
                ))
                .await;
            }
        }
        code
    }
}

async fn move_one(ctx: &Ctx, s: &str, target: &str, no_clobber: bool) -> Result<(), String> {
    let q = |x: &str| quote(ctx, x);
    let fs = ctx.fs();
    let from =
        nofollow_path(ctx, s).map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let meta = fs
        .symlink_metadata(s)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let to = nofollow_path(ctx, target)
        .map_err(|e| format!("cannot move {} to {}: {}", q(s), q(target), errtext(&e)))?;
    if from == to {
        return Err(format!("{} and {} are the same file", q(s), q(target)));
    }
    if meta.is_dir() && is_within(&to, &from) {
        return Err(format!(
            "cannot move {} to a subdirectory of itself, {}",
            q(s),
            q(target)
        ));
    }
    if let Ok(tm) = fs.symlink_metadata(target) {
        if no_clobber {
            return Ok(());
        }
        if tm.is_dir() && !meta.is_dir() {
            return Err(format!(
                "cannot overwrite directory {} with non-directory",
                q(target)
            ));
        }
        if !tm.is_dir() && meta.is_dir() {
            return Err(format!(
                "cannot overwrite non-directory {} with directory {}",
                q(target),
                q(s)
            ));
        }
    }
    fs.rename(s, target)
        .map_err(|e| format!("cannot move {} to {}: {}", q(s), q(target), errtext(&e)))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};

    #[tokio::test]
    async fn mv_and_cp() {
        let i = instance();
        put(&i, "/tmp/a", b"hello");
        assert_eq!(run(&i, "/tmp", &["mv", "a", "b"], b"").await.0, 0);
        assert_eq!(i.sandbox.fs("/").read("/tmp/b", 1 << 20).unwrap(), b"hello");
        assert_eq!(run(&i, "/tmp", &["cp", "b", "/root"], b"").await.0, 0);
        assert_eq!(
            i.sandbox.fs("/").read("/root/b", 1 << 20).unwrap(),
            b"hello"
        );
        let r = run(&i, "/tmp", &["mv", "zz", "y"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "mv: cannot stat 'zz': No such file or directory\n".into()
            )
        );
        let r = run(&i, "/tmp", &["cp", "zz", "y"], b"").await;
        assert_eq!(r.2, "cp: cannot stat 'zz': No such file or directory\n");
        put(&i, "/tmp/dir/sub/f", b"1");
        let r = run(&i, "/tmp", &["cp", "dir", "dir2"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "cp: -r not specified; omitting directory 'dir'\n".into()
            )
        );
        assert_eq!(
            run(&i, "/tmp", &["cp", "-r", "dir", "dir2"], b"").await.0,
            0
        );
        assert!(i.sandbox.fs("/").is_file("/tmp/dir2/sub/f"));
        let r = run(&i, "/tmp", &["mv", "dir", "dir/sub"], b"").await;
        assert!(r.2.contains("subdirectory of itself"));
        let r = run(&i, "/tmp", &["cp"], b"").await;
        assert_eq!(
            r.2,
            "cp: missing operand\nTry 'cp --help' for more information.\n"
        );
        let r = run(&i, "/tmp", &["cp", "b"], b"").await;
        assert_eq!(r.2, "cp: missing destination file operand after 'b'\nTry 'cp --help' for more information.\n");
    }
}
