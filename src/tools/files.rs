//! File operations on instance paths. Every call resolves the virtual path
//! through the sandbox first, so no symlink made in a session can lead a
//! tool outside the instance's root.

use std::io;

use crate::instance::Sandbox;
use crate::program::Ctx;

/// The absolute instance path of `path` seen from the working directory.
pub(crate) fn absolute(ctx: &Ctx, path: &str) -> String {
    Sandbox::absolute(&ctx.cwd, path)
}

/// Size of a regular file, `None` when missing or not a file.
pub(crate) fn file_size(ctx: &Ctx, path: &str) -> Option<u64> {
    let host = ctx.resolve(path).ok()?;
    let meta = std::fs::metadata(host).ok()?;
    meta.is_file().then_some(meta.len())
}

/// Whether anything exists at `path`.
pub(crate) fn exists(ctx: &Ctx, path: &str) -> bool {
    ctx.resolve(path)
        .map(|h| std::fs::symlink_metadata(h).is_ok())
        .unwrap_or(false)
}

/// Whether `path` is a directory.
pub(crate) fn is_dir(ctx: &Ctx, path: &str) -> bool {
    ctx.resolve(path).map(|h| h.is_dir()).unwrap_or(false)
}

/// `mkdir -p`, one component at a time, each resolved in the sandbox.
pub(crate) fn create_dir_all(ctx: &Ctx, path: &str) -> io::Result<()> {
    let abs = absolute(ctx, path);
    let mut cur = String::new();
    for part in abs.split('/').filter(|p| !p.is_empty()) {
        cur.push('/');
        cur.push_str(part);
        let host = ctx.resolve(&cur)?;
        match std::fs::metadata(&host) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "Not a directory",
                ))
            }
            Err(_) => {
                std::fs::create_dir(&host).or_else(
                    |e| {
                        if host.is_dir() {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    },
                )?
            }
        }
    }
    Ok(())
}

/// Creates (or truncates) a file and gives it `len` bytes, sparse.
pub(crate) fn create_sized(ctx: &Ctx, path: &str, len: u64) -> io::Result<()> {
    let host = ctx.resolve(path)?;
    let f = std::fs::File::create(host)?;
    f.set_len(len)
}

/// Grows or shrinks an existing file to `len` bytes (sparse).
pub(crate) fn set_len(ctx: &Ctx, path: &str, len: u64) -> io::Result<()> {
    let host = ctx.resolve(path)?;
    let f = std::fs::OpenOptions::new().write(true).open(host)?;
    f.set_len(len)
}

/// Writes a small file.
pub(crate) fn write(ctx: &Ctx, path: &str, data: &[u8]) -> io::Result<()> {
    std::fs::write(ctx.resolve(path)?, data)
}

/// Reads a small file.
pub(crate) fn read(ctx: &Ctx, path: &str) -> io::Result<Vec<u8>> {
    std::fs::read(ctx.resolve(path)?)
}

/// Renames within the sandbox.
pub(crate) fn rename(ctx: &Ctx, from: &str, to: &str) -> io::Result<()> {
    std::fs::rename(ctx.resolve(from)?, ctx.resolve_nofollow(to)?)
}

/// Removes an empty directory.
pub(crate) fn remove_dir(ctx: &Ctx, path: &str) -> io::Result<()> {
    std::fs::remove_dir(ctx.resolve_nofollow(path)?)
}
