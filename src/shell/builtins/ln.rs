//! `ln`: symbolic and hard links; a symlink's target is stored as the text
//! the user gave.

use std::io::{self, ErrorKind};

use async_trait::async_trait;

use super::common::{
    base_name, child, complain, errtext, ioerr, parse_or_exit, quote, Parsed, Spec,
};
use super::operands::{is_dir, missing_operand};
use crate::program::{Ctx, Program};

/// `ln [-s] [-f] [-n] [-v] [-T] TARGET [LINK_NAME]`, `ln TARGET... DIR`.
pub struct Ln;

const LN_SPEC: Spec = Spec {
    flags: "sfnvTrPLi",
    with_arg: "t",
    long: &[
        ("symbolic", 's', false),
        ("force", 'f', false),
        ("no-dereference", 'n', false),
        ("verbose", 'v', false),
        ("target-directory", 't', true),
        ("no-target-directory", 'T', false),
        ("relative", 'r', false),
    ],
};

#[async_trait]
impl Program for Ln {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &LN_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() && p.value('t').is_none() {
            return missing_operand(ctx, None).await;
        }
        let (targets, dir) = if let Some(t) = p.value('t') {
            (p.operands.clone(), Some(t.to_string()))
        } else if p.operands.len() == 1 {
            (p.operands.clone(), Some(".".to_string()))
        } else {
            let (last, rest) = p.operands.split_last().unwrap_or((&p.operands[0], &[]));
            // LINK_NAME is a directory (following links unless -n) -> inside it.
            let last_is_link = ctx
                .fs()
                .symlink_metadata(last)
                .is_ok_and(|m| m.file_type().is_symlink());
            let into = !p.has('T') && is_dir(ctx, last) && !(p.has('n') && last_is_link);
            if into {
                (rest.to_vec(), Some(last.clone()))
            } else if rest.len() > 1 {
                let msg = format!("target {} is not a directory", quote(ctx, last));
                complain(ctx, msg).await;
                return 1;
            } else {
                let link = link_one(ctx, &rest[0], last, &p).await;
                return i32::from(!link);
            }
        };
        let dir = dir.unwrap_or_else(|| ".".into());
        let mut code = 0;
        for t in &targets {
            let name = child(&dir, &base_name(t));
            if !link_one(ctx, t, &name, &p).await {
                code = 1;
            }
        }
        code
    }
}

/// Makes one link at `name`; prints the GNU diagnostic and returns false on failure.
async fn link_one(ctx: &Ctx, target: &str, name: &str, p: &Parsed) -> bool {
    let symbolic = p.has('s');
    let fail = |e: &io::Error| {
        if symbolic {
            format!(
                "failed to create symbolic link {}: {}",
                quote(ctx, name),
                errtext(e)
            )
        } else {
            format!(
                "failed to create hard link {} => {}: {}",
                quote(ctx, name),
                quote(ctx, target),
                errtext(e)
            )
        }
    };
    let fs = ctx.fs();
    if !symbolic {
        match fs.symlink_metadata(target) {
            Ok(m) if m.is_dir() => {
                let msg = format!(
                    "{}: hard link not allowed for directory",
                    quote(ctx, target)
                );
                complain(ctx, msg).await;
                return false;
            }
            Ok(_) => {}
            Err(e) => {
                let msg = format!("failed to access {}: {}", quote(ctx, target), errtext(&e));
                complain(ctx, msg).await;
                return false;
            }
        }
    }
    if let Ok(existing) = fs.symlink_metadata(name) {
        if !p.has('f') {
            complain(ctx, fail(&ioerr(ErrorKind::AlreadyExists))).await;
            return false;
        }
        if existing.is_dir() {
            let msg = format!("{}: cannot overwrite directory", quote(ctx, name));
            complain(ctx, msg).await;
            return false;
        }
        if let Err(e) = fs.remove_file(name) {
            complain(ctx, fail(&e)).await;
            return false;
        }
    }
    let r = if symbolic {
        // The text is stored as given: a path inside the instance, which
        // the sandbox re-roots whenever the link is followed.
        fs.symlink(target, name)
    } else {
        fs.hard_link(target, name)
    };
    if let Err(e) = r {
        complain(ctx, fail(&e)).await;
        return false;
    }
    if p.has('v') {
        let arrow = if symbolic { "->" } else { "=>" };
        ctx.out(format!(
            "{} {arrow} {}\n",
            quote(ctx, name),
            quote(ctx, target)
        ))
        .await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};
    use std::os::unix::fs::MetadataExt;

    #[tokio::test]
    async fn hard_links() {
        let i = instance();
        put(&i, "/tmp/a", b"x");
        assert_eq!(run(&i, "/tmp", &["ln", "a", "b"], b"").await.0, 0);
        assert_eq!(i.sandbox.fs("/").metadata("/tmp/a").unwrap().nlink(), 2);
        let r = run(&i, "/tmp", &["ln", "nope", "c"], b"").await;
        assert_eq!(
            r.2,
            "ln: failed to access 'nope': No such file or directory\n"
        );
    }
}
