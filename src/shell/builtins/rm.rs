//! `rm`: removes files, and trees with `-r` without following symlinks,
//! refusing `/` like GNU.

use std::io::{self, ErrorKind};

use async_trait::async_trait;

use super::common::{base_name, complain, errtext, ioerr, parse_or_exit, quote, Spec};
use super::operands::missing_operand;
use crate::instance::sandbox::EntryKind;
use crate::program::{Ctx, Program};

/// `rm [-r] [-f] [-d] [-v] FILE...`, refusing `/` like GNU.
pub struct Rm;

const RM_SPEC: Spec = Spec {
    flags: "rRfdviI",
    with_arg: "",
    long: &[
        ("recursive", 'r', false),
        ("force", 'f', false),
        ("dir", 'd', false),
        ("verbose", 'v', false),
        ("no-preserve-root", '\u{1}', false),
        ("preserve-root", '\u{2}', false),
    ],
};

#[async_trait]
impl Program for Rm {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &RM_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let force = p.last_of("fiI") == Some('f');
        let recursive = p.has('r') || p.has('R');
        if p.operands.is_empty() {
            if force {
                return 0;
            }
            return missing_operand(ctx, None).await;
        }
        let mut code = 0;
        for f in &p.operands {
            let name = base_name(f);
            if recursive && (name == "." || name == "..") {
                let msg = format!(
                    "refusing to remove '.' or '..' directory: skipping {}",
                    quote(ctx, f)
                );
                complain(ctx, msg).await;
                code = 1;
                continue;
            }
            let canonical = ctx.fs().canonical(f);
            if recursive && canonical.as_deref().ok() == Some("/") && !p.has('\u{1}') {
                let msg = if f == "/" {
                    "it is dangerous to operate recursively on '/'".to_string()
                } else {
                    format!(
                        "it is dangerous to operate recursively on {} (same as '/')",
                        quote(ctx, f)
                    )
                };
                complain(ctx, msg).await;
                complain(ctx, "use --no-preserve-root to override this failsafe").await;
                code = 1;
                continue;
            }
            if let Err(e) = remove(ctx, f, recursive, p.has('d'), p.has('v')).await {
                if force && e.kind() == ErrorKind::NotFound {
                    continue;
                }
                let msg = format!("cannot remove {}: {}", quote(ctx, f), errtext(&e));
                complain(ctx, msg).await;
                code = 1;
            }
        }
        code
    }
}

async fn remove(ctx: &Ctx, f: &str, recursive: bool, dirs: bool, verbose: bool) -> io::Result<()> {
    let fs = ctx.fs();
    let meta = fs.symlink_metadata(f)?;
    if meta.is_dir() {
        if recursive && fs.canonical(f)? == "/" {
            // --no-preserve-root: empty the tree, keep the root itself.
            for entry in fs.read_dir("/")? {
                let path = format!("/{}", entry.name_lossy());
                if entry.kind == EntryKind::Dir {
                    fs.remove_dir_all(&path)?;
                } else {
                    fs.remove_file(&path)?;
                }
            }
            return Ok(());
        }
        if recursive {
            // The sandbox's remove_dir_all never follows symlinks in the tree.
            fs.remove_dir_all(f)?;
        } else if dirs {
            fs.remove_dir(f)?;
        } else {
            return Err(ioerr(ErrorKind::IsADirectory));
        }
    } else {
        fs.remove_file(f)?;
    }
    if verbose {
        let what = if meta.is_dir() {
            "removed directory"
        } else {
            "removed"
        };
        ctx.out(format!("{what} {}\n", quote(ctx, f))).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};

    #[tokio::test]
    async fn rm_shapes() {
        let i = instance();
        put(&i, "/tmp/d/f", b"x");
        let r = run(&i, "/tmp", &["rm", "x"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "rm: cannot remove 'x': No such file or directory\n".into()
            )
        );
        assert_eq!(
            run(&i, "/tmp", &["rm", "-f", "x"], b"").await,
            (0, String::new(), String::new())
        );
        let r = run(&i, "/tmp", &["rm", "d"], b"").await;
        assert_eq!(r.2, "rm: cannot remove 'd': Is a directory\n");
        let r = run(&i, "/tmp", &["rm", "-rf", "/"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n".into()
            )
        );
        let r = run(&i, "/tmp", &["rm", "-rf", "../.."], b"").await;
        assert!(r.2.contains("refusing to remove '.' or '..'"));
        assert!(i.sandbox.fs("/").exists("/etc/hostname"));
        assert_eq!(run(&i, "/tmp", &["rm", "-r", "d"], b"").await.0, 0);
        assert!(!i.sandbox.fs("/").exists("/tmp/d"));
    }

    #[tokio::test]
    async fn rm_of_a_link_removes_the_link_only() {
        let i = instance();
        put(&i, "/workspace/keep/f", b"x");
        run(&i, "/tmp", &["ln", "-s", "/workspace/keep", "l"], b"").await;
        assert_eq!(run(&i, "/tmp", &["rm", "-rf", "l"], b"").await.0, 0);
        assert!(i.sandbox.fs("/").exists("/workspace/keep/f"));
    }

    #[tokio::test]
    async fn rm_of_the_root_without_r_removes_nothing() {
        let i = instance();
        for argv in [&["rm", "/"][..], &["rm", "-f", "/"], &["rm", "-d", "/"]] {
            let r = run(&i, "/", argv, b"").await;
            assert_eq!(r.0, 1, "{argv:?}");
            assert!(i.sandbox.fs("/").exists("/etc/hostname"), "{argv:?}");
        }
        let r = run(&i, "/", &["rm", "/"], b"").await;
        assert_eq!(r.2, "rm: cannot remove '/': Is a directory\n");
    }
}
