//! Making, moving and removing files: `mkdir`, `touch`, `rm`, `mv`, `cp`, `ln`.
//! Paths always go through the sandbox; trees are walked without following
//! symlinks, and a link's target is stored as the text the user gave.

use std::fs::Metadata;
use std::io::{self, ErrorKind};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use async_trait::async_trait;

use super::common::{
    base_name, child, complain, errtext, ioerr, nofollow_path, parse_or_exit, quote, Parsed, Spec,
};
use crate::instance::sandbox::{EntryKind, Fs, OpenOptions};
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
            let fs = ctx.fs();
            let r = if fs.metadata(f).is_err() {
                if p.has('c') {
                    Ok(())
                } else {
                    let options = OpenOptions::new().write(true).create(true);
                    fs.open(f, options).map(drop)
                }
            } else {
                let now = std::time::SystemTime::now();
                fs.set_times(f, now, now)
            };
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
    ctx.fs().is_dir(path)
}

/// Whether instance path `inner` is `outer` or lies below it.
fn is_within(inner: &str, outer: &str) -> bool {
    Path::new(inner).starts_with(outer)
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
                child(&dest, &base_name(s))
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
                child(&dest, &base_name(s))
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
    let fs = ctx.fs();
    let from = fs
        .canonical(s)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let meta = fs
        .metadata(s)
        .map_err(|e| format!("cannot stat {}: {}", q(s), errtext(&e)))?;
    let to = fs
        .canonical(target)
        .map_err(|e| format!("cannot create regular file {}: {}", q(target), errtext(&e)))?;
    // The copy runs on a blocking thread, on the canonical paths (each
    // still resolved inside the sandbox at every step).
    let instance = ctx.instance.clone();
    if meta.is_dir() {
        if !recursive {
            return Err(format!("-r not specified; omitting directory {}", q(s)));
        }
        if is_within(&to, &from) {
            return Err(format!(
                "cannot copy a directory, {}, into itself, {}",
                q(s),
                q(target)
            ));
        }
        return tokio::task::spawn_blocking(move || {
            copy_tree(instance.sandbox.fs("/"), &from, &to, no_clobber)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot copy {}: {}", q(s), errtext(&e)));
    }
    if let Ok(tm) = fs.metadata(target) {
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
    tokio::task::spawn_blocking(move || copy_file(instance.sandbox.fs("/"), &from, &to))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot create regular file {}: {}", q(target), errtext(&e)))
}

fn same_file(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Copies a regular file, leaving holes where the source reads as zeros,
/// so a sparse 6 GB model stays sparse.
fn copy_file(fs: Fs<'_>, from: &str, to: &str) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut src = fs.open_read(from)?;
    let mut dst = fs.create(to)?;
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
/// Each entry is reached by its instance path, resolved inside the sandbox.
fn copy_tree(fs: Fs<'_>, from: &str, to: &str, no_clobber: bool) -> io::Result<()> {
    match fs.symlink_metadata(to) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(ioerr(ErrorKind::AlreadyExists)),
        Err(_) => fs.create_dir(to)?,
    }
    for entry in fs.read_dir(from)? {
        let name = entry.name_lossy();
        let src = child(from, &name);
        let dst = child(to, &name);
        match entry.kind {
            EntryKind::Dir => copy_tree(fs, &src, &dst, no_clobber)?,
            EntryKind::Symlink => {
                if fs.exists(&dst) {
                    if no_clobber {
                        continue;
                    }
                    fs.remove_file(&dst)?;
                }
                let target = fs.read_link(&src)?;
                fs.symlink(&target.to_string_lossy(), &dst)?;
            }
            EntryKind::File => {
                if no_clobber && fs.exists(&dst) {
                    continue;
                }
                copy_file(fs, &src, &dst)?;
            }
            EntryKind::Other => {}
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
    use super::super::testutil::{instance, put, run, sparse};
    use std::os::unix::fs::MetadataExt;

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

    #[tokio::test]
    async fn touch_creates_and_reports() {
        let i = instance();
        assert_eq!(run(&i, "/tmp", &["touch", "t"], b"").await.0, 0);
        assert!(i.sandbox.fs("/").is_file("/tmp/t"));
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

    #[tokio::test]
    async fn trees_with_links_to_host_paths_stay_inside() {
        let i = instance();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "host secret").unwrap();
        let out = outside.path().to_str().unwrap();
        let fs = i.sandbox.fs("/");
        put(&i, "/tmp/t/f", b"x");
        fs.symlink(out, "/tmp/t/out").unwrap();
        // cp -r copies the link as its text, never what the host has there.
        assert_eq!(run(&i, "/tmp", &["cp", "-r", "t", "u"], b"").await.0, 0);
        assert_eq!(fs.read_link("/tmp/u/out").unwrap().to_string_lossy(), out);
        assert_eq!(fs.read("/tmp/u/f", 10).unwrap(), b"x");
        // A host path is an instance path: there is nothing there.
        let r = run(&i, "/tmp", &["cp", "t/out/secret", "s"], b"").await;
        assert_eq!(
            r.2,
            "cp: cannot stat 't/out/secret': No such file or directory\n"
        );
        let r = run(&i, "/tmp", &["touch", "t/out/new"], b"").await;
        assert_eq!(r.0, 1);
        let r = run(&i, "/tmp", &["mkdir", "-p", "t/out/d"], b"").await;
        assert_eq!(r.0, 1);
        let r = run(&i, "/tmp", &["mv", "t/f", "t/out/f"], b"").await;
        assert_eq!(r.0, 1);
        let r = run(&i, "/tmp", &["ln", "-s", "x", "t/out/l"], b"").await;
        assert_eq!(r.0, 1);
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            1,
            "nothing was made on the host"
        );
        // rm -r removes the links, never the host directory.
        assert_eq!(run(&i, "/tmp", &["rm", "-r", "t", "u"], b"").await.0, 0);
        assert!(outside.path().join("secret").exists());
        assert!(!fs.exists("/tmp/t") && !fs.exists("/tmp/u"));
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

    #[tokio::test]
    async fn cp_keeps_sparse_files_sparse() {
        let i = instance();
        sparse(&i, "/tmp/big", 64 * 1024 * 1024);
        assert_eq!(run(&i, "/tmp", &["cp", "big", "big2"], b"").await.0, 0);
        let m = i.sandbox.fs("/").metadata("/tmp/big2").unwrap();
        assert_eq!(m.len(), 64 * 1024 * 1024);
        assert!(m.blocks() * 512 < 1024 * 1024);
    }
}
