//! Path names: `basename`, `dirname`, `realpath`, `readlink`. Canonical
//! paths come from the sandbox, never from the host's `canonicalize`.

use async_trait::async_trait;

use super::common::{base_name, complain, dir_name, errtext, ioerr, parse_or_exit, quote, Spec};
use crate::instance::Sandbox;
use crate::program::{Ctx, Program};

async fn missing_operand(ctx: &Ctx) -> i32 {
    complain(ctx, "missing operand").await;
    ctx.err(format!(
        "Try '{} --help' for more information.\n",
        ctx.name()
    ))
    .await;
    1
}

/// `basename NAME [SUFFIX]`, `basename -a [-s SUFFIX] NAME...`.
pub struct Basename;

const BASENAME_SPEC: Spec = Spec {
    flags: "az",
    with_arg: "s",
    long: &[
        ("multiple", 'a', false),
        ("suffix", 's', true),
        ("zero", 'z', false),
    ],
};

#[async_trait]
impl Program for Basename {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &BASENAME_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx).await;
        }
        let multiple = p.has('a') || p.has('s');
        let (names, suffix): (Vec<String>, Option<String>) = if multiple {
            (p.operands.clone(), p.value('s').map(str::to_string))
        } else {
            if p.operands.len() > 2 {
                let msg = format!("extra operand {}", quote(ctx, &p.operands[2]));
                complain(ctx, msg).await;
                ctx.err("Try 'basename --help' for more information.\n")
                    .await;
                return 1;
            }
            (vec![p.operands[0].clone()], p.operands.get(1).cloned())
        };
        let end = if p.has('z') { "\0" } else { "\n" };
        let mut out = String::new();
        for n in names {
            let mut b = base_name(&n);
            if let Some(s) = &suffix {
                if b.len() > s.len() && b.ends_with(s.as_str()) {
                    b.truncate(b.len() - s.len());
                }
            }
            out.push_str(&b);
            out.push_str(end);
        }
        ctx.out(out).await;
        0
    }
}

/// `dirname NAME...`.
pub struct Dirname;

#[async_trait]
impl Program for Dirname {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let spec = Spec {
            flags: "z",
            with_arg: "",
            long: &[("zero", 'z', false)],
        };
        let p = match parse_or_exit(ctx, &spec, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx).await;
        }
        let end = if p.has('z') { "\0" } else { "\n" };
        let out: String = p
            .operands
            .iter()
            .map(|n| format!("{}{end}", dir_name(n)))
            .collect();
        ctx.out(out).await;
        0
    }
}

/// How much of a path must exist for `realpath`/`readlink -f`.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// `-e`: every component.
    All,
    /// Default of realpath, `-f` of readlink: all but the last.
    Parent,
    /// `-m`: nothing.
    Nothing,
}

/// The canonical path inside the instance, checking existence as asked.
fn canonicalize(ctx: &Ctx, path: &str, need: Need) -> std::io::Result<String> {
    if path.is_empty() {
        return Err(ioerr(std::io::ErrorKind::NotFound));
    }
    let fs = ctx.fs();
    let virt = fs.canonical(path)?;
    match need {
        Need::Nothing => {}
        Need::All => {
            fs.symlink_metadata(&virt)?;
        }
        Need::Parent => {
            if fs.symlink_metadata(&virt).is_err() {
                let meta = fs.symlink_metadata(&Sandbox::absolute(&virt, ".."))?;
                if !meta.is_dir() {
                    return Err(ioerr(std::io::ErrorKind::NotADirectory));
                }
                // `a/missing/b`: GNU fails when an inner component is missing.
                if path.trim_end_matches('/').contains('/') {
                    let lexical_parent = dir_name(path);
                    fs.symlink_metadata(&fs.canonical(&lexical_parent)?)?;
                }
            }
        }
    }
    Ok(virt)
}

/// `realpath [-e|-m] [-s] [-q] FILE...`.
pub struct Realpath;

const REALPATH_SPEC: Spec = Spec {
    flags: "emsqzLP",
    with_arg: "",
    long: &[
        ("canonicalize-existing", 'e', false),
        ("canonicalize-missing", 'm', false),
        ("no-symlinks", 's', false),
        ("strip", 's', false),
        ("quiet", 'q', false),
        ("zero", 'z', false),
    ],
};

#[async_trait]
impl Program for Realpath {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &REALPATH_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx).await;
        }
        let need = match p.last_of("em") {
            Some('e') => Need::All,
            Some(_) => Need::Nothing,
            None => Need::Parent,
        };
        let end = if p.has('z') { "\0" } else { "\n" };
        let mut code = 0;
        for f in &p.operands {
            let r = if p.has('s') {
                Ok(Sandbox::absolute(&ctx.cwd, f))
            } else {
                canonicalize(ctx, f, need)
            };
            match r {
                Ok(v) => {
                    ctx.out(format!("{v}{end}")).await;
                }
                Err(e) => {
                    if !p.has('q') {
                        complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    }
                    code = 1;
                }
            }
        }
        code
    }
}

/// `readlink [-f|-e|-m] [-n] FILE...`: a link's stored target, or the
/// canonical path with `-f`.
pub struct Readlink;

const READLINK_SPEC: Spec = Spec {
    flags: "femnqsvz",
    with_arg: "",
    long: &[
        ("canonicalize", 'f', false),
        ("canonicalize-existing", 'e', false),
        ("canonicalize-missing", 'm', false),
        ("no-newline", 'n', false),
        ("quiet", 'q', false),
        ("silent", 's', false),
        ("verbose", 'v', false),
        ("zero", 'z', false),
    ],
};

#[async_trait]
impl Program for Readlink {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &READLINK_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx).await;
        }
        let need = match p.last_of("fem") {
            Some('f') => Some(Need::Parent),
            Some('e') => Some(Need::All),
            Some(_) => Some(Need::Nothing),
            None => None,
        };
        let end = if p.has('z') {
            "\0"
        } else if p.has('n') && p.operands.len() == 1 {
            ""
        } else {
            "\n"
        };
        let mut code = 0;
        for f in &p.operands {
            let r = match need {
                Some(n) => canonicalize(ctx, f, n),
                None => ctx
                    .fs()
                    .read_link(f)
                    .map(|t| t.to_string_lossy().into_owned()),
            };
            match r {
                Ok(v) => {
                    ctx.out(format!("{v}{end}")).await;
                }
                Err(e) => {
                    if p.has('v') {
                        complain(ctx, format!("{f}: {}", errtext(&e))).await;
                    }
                    code = 1;
                }
            }
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};

    #[tokio::test]
    async fn basename_and_dirname() {
        let i = instance();
        assert_eq!(
            run(&i, "/", &["basename", "/a/b.txt", ".txt"], b"").await.1,
            "b\n"
        );
        assert_eq!(
            run(&i, "/", &["basename", "-a", "/a/x", "y/"], b"").await.1,
            "x\ny\n"
        );
        assert_eq!(
            run(&i, "/", &["dirname", "/a/b", "c"], b"").await.1,
            "/a\n.\n"
        );
        assert_eq!(
            run(&i, "/", &["dirname"], b"").await,
            (
                1,
                String::new(),
                "dirname: missing operand\nTry 'dirname --help' for more information.\n".into()
            )
        );
    }

    #[tokio::test]
    async fn realpath_and_readlink_stay_inside() {
        let i = instance();
        put(&i, "/workspace/f", b"x");
        run(&i, "/tmp", &["ln", "-s", "/workspace", "w"], b"").await;
        run(&i, "/tmp", &["ln", "-s", "../../../../..", "up"], b"").await;
        assert_eq!(
            run(&i, "/tmp", &["realpath", "w/f"], b"").await.1,
            "/workspace/f\n"
        );
        assert_eq!(run(&i, "/tmp", &["realpath", "up"], b"").await.1, "/\n");
        assert_eq!(
            run(&i, "/tmp", &["readlink", "w"], b"").await.1,
            "/workspace\n"
        );
        assert_eq!(
            run(&i, "/tmp", &["readlink", "-f", "w/new"], b"").await.1,
            "/workspace/new\n"
        );
        assert_eq!(
            run(&i, "/tmp", &["readlink", "/tmp"], b"").await,
            (1, String::new(), String::new())
        );
        let r = run(&i, "/tmp", &["realpath", "a/b/c"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "realpath: a/b/c: No such file or directory\n".into()
            )
        );
        assert_eq!(
            run(&i, "/tmp", &["realpath", "-m", "a/../b"], b"").await.1,
            "/tmp/b\n"
        );
    }
}
