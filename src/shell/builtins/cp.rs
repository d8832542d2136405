//! `cp`: sparse-aware copies of files, and of trees with `-r` where links
//! are copied as their text, never followed.

use std::fs::Metadata;
use std::io::{self, ErrorKind};
use std::os::unix::fs::MetadataExt;

use async_trait::async_trait;

use super::common::{child, complain, errtext, ioerr, parse_or_exit, quote, Spec};
use super::operands::{is_within, source_targets};
use crate::instance::sandbox::{EntryKind, Fs};
use crate::program::{Ctx, Program};

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
        let targets = match source_targets(ctx, &p).await {
            Ok(t) => t,
            Err(c) => return c,
        };
        let mut code = 0;
        for (s, target) in &targets {
            match copy_one(ctx, s, target, recursive, p.has('n')).await {
                Err(msg) => {
                    complain(ctx, msg).await;
                    code = 1;
                }
                Ok(()) if p.has('v') => {
                    ctx.out(format!("{} -> {}\n", quote(ctx, s), quote(ctx, target)))
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

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};
    use std::os::unix::fs::MetadataExt;

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
    async fn cp_keeps_sparse_files_sparse() {
        let i = instance();
        sparse(&i, "/tmp/big", 64 * 1024 * 1024);
        assert_eq!(run(&i, "/tmp", &["cp", "big", "big2"], b"").await.0, 0);
        let m = i.sandbox.fs("/").metadata("/tmp/big2").unwrap();
        assert_eq!(m.len(), 64 * 1024 * 1024);
        assert!(m.blocks() * 512 < 1024 * 1024);
    }
}
