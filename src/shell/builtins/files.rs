//! Making, moving and removing files: `mkdir`, `touch`, `rm`, `mv`, `cp`, `ln`.
//! Paths always go through the sandbox; trees are walked without following
//! symlinks, and a link's target is stored as the text the user gave.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::common::{base_name, complain, errtext, ioerr, parse_or_exit, quote, Parsed, Spec};
use crate::program::{Ctx, Program};

async fn missing_operand(ctx: &Ctx, after: Option<&str>) -> i32 {
    let msg = match after {
        None => "missing operand".to_string(),
        Some(f) => format!("missing destination file operand after {}", quote(ctx, f)),
    };
    complain(ctx, msg).await;
    ctx.err(format!(
        "Try '{} --help' for more information.\n",
        ctx.name()
    ))
    .await;
    1
}

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
    let host = ctx.resolve_nofollow(d).map_err(|e| (d.to_string(), e))?;
    if std::fs::symlink_metadata(&host).is_ok() {
        return Err((d.to_string(), ioerr(ErrorKind::AlreadyExists)));
    }
    std::fs::create_dir(&host).map_err(|e| (d.to_string(), e))?;
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
        let host = ctx.resolve(&prefix).map_err(|e| (prefix.clone(), e))?;
        match std::fs::metadata(&host) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => return Err((prefix.clone(), ioerr(ErrorKind::AlreadyExists))),
            Err(_) => {
                std::fs::create_dir(&host).map_err(|e| (prefix.clone(), e))?;
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

/// `touch [-c] FILE...`: creates files or sets their time to now.
pub struct Touch;

const TOUCH_SPEC: Spec = Spec {
    flags: "acfhm",
    with_arg: "dtr",
    long: &[
        ("no-create", 'c', false),
        ("date", 'd', true),
        ("reference", 'r', true),
    ],
};

#[async_trait]
impl Program for Touch {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &TOUCH_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx, None).await;
        }
        let mut code = 0;
        for f in &p.operands {
            let r = ctx.resolve(f).and_then(|host| {
                if std::fs::metadata(&host).is_err() {
                    if p.has('c') {
                        return Ok(());
                    }
                    std::fs::File::create(&host)?;
                    return Ok(());
                }
                let file = std::fs::File::open(&host)?;
                file.set_modified(std::time::SystemTime::now())
            });
            if let Err(e) = r {
                let msg = format!("cannot touch {}: {}", quote(ctx, f), errtext(&e));
                complain(ctx, msg).await;
                code = 1;
            }
        }
        code
    }
}

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
    let host = ctx.resolve_nofollow(f)?;
    let meta = std::fs::symlink_metadata(&host)?;
    if meta.is_dir() {
        if host == ctx.instance.sandbox.root() {
            // --no-preserve-root: empty the tree, keep the root itself.
            for entry in std::fs::read_dir(&host)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            return Ok(());
        }
        if recursive {
            // std's remove_dir_all never follows symlinks inside the tree.
            std::fs::remove_dir_all(&host)?;
        } else if dirs {
            std::fs::remove_dir(&host)?;
        } else {
            return Err(ioerr(ErrorKind::IsADirectory));
        }
    } else {
        std::fs::remove_file(&host)?;
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

/// Splits operands into sources and a destination, honouring `-t DIR`.
fn sources_and_dest(p: &Parsed) -> Option<(Vec<String>, String, bool)> {
    if let Some(t) = p.value('t') {
        return Some((p.operands.clone(), t.to_string(), true));
    }
    let (dest, srcs) = p.operands.split_last()?;
    Some((srcs.to_vec(), dest.clone(), false))
}

/// Whether a path names an existing directory (following links).
fn is_dir(ctx: &Ctx, path: &str) -> bool {
    ctx.resolve(path)
        .and_then(std::fs::metadata)
        .map(|m| m.is_dir())
        .unwrap_or(false)
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

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
        let Some((srcs, dest, into)) = sources_and_dest(&p) else {
            return missing_operand(ctx, None).await;
        };
        if srcs.is_empty() {
            return missing_operand(ctx, Some(&dest)).await;
        }
        let dest_is_dir = !p.has('T') && (into || is_dir(ctx, &dest));
        if srcs.len() > 1 && !dest_is_dir {
            let msg = format!("target {} is not a directory", quote(ctx, &dest));
            complain(ctx, msg).await;
            return 1;
        }
        let mut code = 0;
        for s in &srcs {
            let target = if dest_is_dir {
                join(&dest, &base_name(s))
            } else {
                dest.clone()
            };
            if let Err(msg) = move_one(ctx, s, &target, p.has('n')).await {
                complain(ctx, msg).await;
                code = 1;
            } else if p.has('v') {
                ctx.out(format!(
                    "renamed {} -> {}\n",
                    quote(ctx, s),
                    quote(ctx, &target)
                ))
                .await;
            }
        }
        code
    }
}

async fn move_one(ctx: &Ctx, s: &str, target: &str, no_clobber: bool) -> Result<(), String> {
    let q = |x: &str| quote(ctx, x);
    let from = ctx
        .resolve_nofollow(s)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let meta = std::fs::symlink_metadata(&from)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let to = ctx
        .resolve_nofollow(target)
        .map_err(|e| format!("cannot move {} to {}: {}", q(s), q(target), errtext(&e)))?;
    if from == to {
        return Err(format!("{} and {} are the same file", q(s), q(target)));
    }
    if meta.is_dir() && to.starts_with(&from) {
        return Err(format!(
            "cannot move {} to a subdirectory of itself, {}",
            q(s),
            q(target)
        ));
    }
    if let Ok(tm) = std::fs::symlink_metadata(&to) {
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
    std::fs::rename(&from, &to)
        .map_err(|e| format!("cannot move {} to {}: {}", q(s), q(target), errtext(&e)))
}

/// `cp [-r] [-f] [-n] [-v] [-p] SOURCE... DEST`: sparse-aware copies.
pub struct Cp;

const CP_SPEC: Spec = Spec {
    flags: "rRafnvpPdLT",
    with_arg: "t",
    long: &[
        ("recursive", 'r', false),
        ("archive", 'a', false),
        ("force", 'f', false),
        ("no-clobber", 'n', false),
        ("verbose", 'v', false),
        ("target-directory", 't', true),
        ("no-target-directory", 'T', false),
    ],
};

#[async_trait]
impl Program for Cp {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &CP_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let recursive = p.has('r') || p.has('R') || p.has('a');
        let Some((srcs, dest, into)) = sources_and_dest(&p) else {
            return missing_operand(ctx, None).await;
        };
        if srcs.is_empty() {
            return missing_operand(ctx, Some(&dest)).await;
        }
        let dest_is_dir = !p.has('T') && (into || is_dir(ctx, &dest));
        if srcs.len() > 1 && !dest_is_dir {
            let msg = format!("target {} is not a directory", quote(ctx, &dest));
            complain(ctx, msg).await;
            return 1;
        }
        let mut code = 0;
        for s in &srcs {
            let target = if dest_is_dir {
                join(&dest, &base_name(s))
            } else {
                dest.clone()
            };
            match copy_one(ctx, s, &target, recursive, p.has('n')).await {
                Err(msg) => {
                    complain(ctx, msg).await;
                    code = 1;
                }
                Ok(()) if p.has('v') => {
                    ctx.out(format!("{} -> {}\n", quote(ctx, s), quote(ctx, &target)))
                        .await;
                }
                Ok(()) => {}
            }
        }
        code
    }
}

async fn copy_one(
    ctx: &Ctx,
    s: &str,
    target: &str,
    recursive: bool,
    no_clobber: bool,
) -> Result<(), String> {
    let q = |x: &str| quote(ctx, x);
    let from = ctx
        .resolve(s)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let meta =
        std::fs::metadata(&from).map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let to = ctx
        .resolve(target)
        .map_err(|e| format!("cannot create regular file {}: {}", q(target), errtext(&e)))?;
    if meta.is_dir() {
        if !recursive {
            return Err(format!("-r not specified; omitting directory {}", q(s)));
        }
        if to.starts_with(&from) {
            return Err(format!(
                "cannot copy a directory, {}, into itself, {}",
                q(s),
                q(target)
            ));
        }
        let root = ctx.instance.sandbox.root().to_path_buf();
        return tokio::task::spawn_blocking(move || copy_tree(&root, &from, &to, no_clobber))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot copy {}: {}", q(s), errtext(&e)));
    }
    if let Ok(tm) = std::fs::metadata(&to) {
        if no_clobber {
            return Ok(());
        }
        if tm.is_dir() {
            return Err(format!(
                "cannot overwrite directory {} with non-directory",
                q(target)
            ));
        }
        if same_file(&meta, &tm) {
            return Err(format!("{} and {} are the same file", q(s), q(target)));
        }
    }
    tokio::task::spawn_blocking(move || copy_file(&from, &to))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot create regular file {}: {}", q(target), errtext(&e)))
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Copies a regular file, leaving holes where the source reads as zeros,
/// so a sparse 6 GB model stays sparse.
fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::File::create(to)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().all(|&b| b == 0) {
            dst.seek(SeekFrom::Current(n as i64))?;
        } else {
            dst.write_all(&buf[..n])?;
        }
        len += n as u64;
    }
    dst.set_len(len)?;
    Ok(())
}

/// Copies a tree; symlinks are copied as links (their text), never followed.
fn copy_tree(root: &Path, from: &Path, to: &Path, no_clobber: bool) -> io::Result<()> {
    match std::fs::symlink_metadata(to) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(ioerr(ErrorKind::AlreadyExists)),
        Err(_) => std::fs::create_dir(to)?,
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let src: PathBuf = entry.path();
        let dst = to.join(entry.file_name());
        if !src.starts_with(root) {
            continue;
        }
        if ft.is_dir() {
            copy_tree(root, &src, &dst, no_clobber)?;
        } else if ft.is_symlink() {
            if std::fs::symlink_metadata(&dst).is_ok() {
                if no_clobber {
                    continue;
                }
                std::fs::remove_file(&dst)?;
            }
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ft.is_file() {
            if no_clobber && std::fs::symlink_metadata(&dst).is_ok() {
                continue;
            }
            copy_file(&src, &dst)?;
        }
    }
    Ok(())
}

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
            let last_host = ctx.resolve_nofollow(last).ok();
            let last_is_link = last_host
                .as_ref()
                .and_then(|h| std::fs::symlink_metadata(h).ok())
                .is_some_and(|m| m.file_type().is_symlink());
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
            let name = join(&dir, &base_name(t));
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
    let at = match ctx.resolve_nofollow(name) {
        Ok(h) => h,
        Err(e) => {
            complain(ctx, fail(&e)).await;
            return false;
        }
    };
    let source = if symbolic {
        None
    } else {
        match ctx
            .resolve_nofollow(target)
            .and_then(|h| std::fs::symlink_metadata(&h).map(|m| (h, m)))
        {
            Ok((_, m)) if m.is_dir() => {
                let msg = format!(
                    "{}: hard link not allowed for directory",
                    quote(ctx, target)
                );
                complain(ctx, msg).await;
                return false;
            }
            Ok((h, _)) => Some(h),
            Err(e) => {
                let msg = format!("failed to access {}: {}", quote(ctx, target), errtext(&e));
                complain(ctx, msg).await;
                return false;
            }
        }
    };
    if let Ok(existing) = std::fs::symlink_metadata(&at) {
        if !p.has('f') {
            complain(ctx, fail(&ioerr(ErrorKind::AlreadyExists))).await;
            return false;
        }
        if existing.is_dir() {
            let msg = format!("{}: cannot overwrite directory", quote(ctx, name));
            complain(ctx, msg).await;
            return false;
        }
        if let Err(e) = std::fs::remove_file(&at) {
            complain(ctx, fail(&e)).await;
            return false;
        }
    }
    let r = match &source {
        // The text is stored as given: a path inside the instance, which
        // the sandbox re-roots whenever the link is followed.
        None => std::os::unix::fs::symlink(target, &at),
        Some(src) => std::fs::hard_link(src, &at),
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
    use super::super::testutil::{instance, put, run, sparse};
    use std::os::unix::fs::MetadataExt;

    #[tokio::test]
    async fn mkdir_parents_and_errors() {
        let i = instance();
        let r = run(&i, "/tmp", &["mkdir", "-p", "a/b/c"], b"").await;
        assert_eq!(r, (0, String::new(), String::new()));
        assert!(i.sandbox.host_path("/tmp/a/b/c").is_dir());
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
        let link = i.sandbox.host_path("/workspace/ComfyUI/models/wan");
        assert_eq!(
            std::fs::read_link(link).unwrap().to_string_lossy(),
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
        assert!(i
            .sandbox
            .host_path("/workspace/ComfyUI/models/vae/Wan-2.1/x")
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
        let link = i.sandbox.host_path("/workspace/ComfyUI/models/wan");
        assert_eq!(std::fs::read_link(link).unwrap().to_string_lossy(), "/y");
    }

    #[tokio::test]
    async fn hard_links() {
        let i = instance();
        put(&i, "/tmp/a", b"x");
        assert_eq!(run(&i, "/tmp", &["ln", "a", "b"], b"").await.0, 0);
        assert_eq!(
            std::fs::metadata(i.sandbox.host_path("/tmp/a"))
                .unwrap()
                .nlink(),
            2
        );
        let r = run(&i, "/tmp", &["ln", "nope", "c"], b"").await;
        assert_eq!(
            r.2,
            "ln: failed to access 'nope': No such file or directory\n"
        );
    }

    #[tokio::test]
    async fn touch_creates_and_reports() {
        let i = instance();
        assert_eq!(run(&i, "/tmp", &["touch", "t"], b"").await.0, 0);
        assert!(i.sandbox.host_path("/tmp/t").is_file());
        assert_eq!(run(&i, "/tmp", &["touch", "t", "/tmp"], b"").await.0, 0);
        let r = run(&i, "/tmp", &["touch", "no/t"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "touch: cannot touch 'no/t': No such file or directory\n".into()
            )
        );
    }

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
        assert!(i.sandbox.host_path("/etc/hostname").exists());
        assert_eq!(run(&i, "/tmp", &["rm", "-r", "d"], b"").await.0, 0);
        assert!(!i.sandbox.host_path("/tmp/d").exists());
    }

    #[tokio::test]
    async fn rm_of_a_link_removes_the_link_only() {
        let i = instance();
        put(&i, "/workspace/keep/f", b"x");
        run(&i, "/tmp", &["ln", "-s", "/workspace/keep", "l"], b"").await;
        assert_eq!(run(&i, "/tmp", &["rm", "-rf", "l"], b"").await.0, 0);
        assert!(i.sandbox.host_path("/workspace/keep/f").exists());
    }

    #[tokio::test]
    async fn mv_and_cp() {
        let i = instance();
        put(&i, "/tmp/a", b"hello");
        assert_eq!(run(&i, "/tmp", &["mv", "a", "b"], b"").await.0, 0);
        assert_eq!(
            std::fs::read(i.sandbox.host_path("/tmp/b")).unwrap(),
            b"hello"
        );
        assert_eq!(run(&i, "/tmp", &["cp", "b", "/root"], b"").await.0, 0);
        assert_eq!(
            std::fs::read(i.sandbox.host_path("/root/b")).unwrap(),
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
        assert!(i.sandbox.host_path("/tmp/dir2/sub/f").is_file());
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

    #[tokio::test]
    async fn cp_keeps_sparse_files_sparse() {
        let i = instance();
        sparse(&i, "/tmp/big", 64 * 1024 * 1024);
        assert_eq!(run(&i, "/tmp", &["cp", "big", "big2"], b"").await.0, 0);
        let m = std::fs::metadata(i.sandbox.host_path("/tmp/big2")).unwrap();
        assert_eq!(m.len(), 64 * 1024 * 1024);
        assert!(m.blocks() * 512 < 1024 * 1024);
    }
}
