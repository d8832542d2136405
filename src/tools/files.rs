//! File operations on instance paths. Every call goes through the sandbox's
//! kernel-confined operations ([`Ctx::fs`]), so no symlink made in a session
//! (even one swapped in while a tool runs) can lead a tool outside the
//! instance's root.

use std::io;

use crate::instance::Sandbox;
use crate::program::Ctx;

/// The most a tool reads of one small file (lists, caches, configs).
const MAX_READ: u64 = 16 * 1024 * 1024;

/// The absolute instance path of `path` seen from the working directory.
pub(crate) fn absolute(ctx: &Ctx, path: &str) -> String {
    Sandbox::absolute(&ctx.cwd, path)
}

/// Size of a regular file, `None` when missing or not a file.
pub(crate) fn file_size(ctx: &Ctx, path: &str) -> Option<u64> {
    let meta = ctx.fs().metadata(path).ok()?;
    meta.is_file().then_some(meta.len())
}

/// Whether something exists at `path` (a symlink is followed, as `stat`
/// does: a dangling one does not count).
pub(crate) fn exists(ctx: &Ctx, path: &str) -> bool {
    ctx.fs().metadata(path).is_ok()
}

/// Whether `path` is a directory.
pub(crate) fn is_dir(ctx: &Ctx, path: &str) -> bool {
    ctx.fs().is_dir(path)
}

/// `mkdir -p` of the lexically normalised path, one component at a time.
pub(crate) fn create_dir_all(ctx: &Ctx, path: &str) -> io::Result<()> {
    ctx.fs().create_dir_all(&absolute(ctx, path))
}

/// Creates (or truncates) a file and gives it `len` bytes, sparse.
pub(crate) fn create_sized(ctx: &Ctx, path: &str, len: u64) -> io::Result<()> {
    ctx.fs().create(path)?.set_len(len)
}

/// Grows or shrinks an existing file to `len` bytes (sparse).
pub(crate) fn set_len(ctx: &Ctx, path: &str, len: u64) -> io::Result<()> {
    ctx.fs().set_len(path, len)
}

/// Writes a small file.
pub(crate) fn write(ctx: &Ctx, path: &str, data: &[u8]) -> io::Result<()> {
    ctx.fs().write(path, data)
}

/// Reads a small file (at most [`MAX_READ`] bytes).
pub(crate) fn read(ctx: &Ctx, path: &str) -> io::Result<Vec<u8>> {
    ctx.fs().read(path, MAX_READ)
}

/// Renames within the sandbox.
pub(crate) fn rename(ctx: &Ctx, from: &str, to: &str) -> io::Result<()> {
    ctx.fs().rename(from, to)
}

/// Removes an empty directory.
pub(crate) fn remove_dir(ctx: &Ctx, path: &str) -> io::Result<()> {
    ctx.fs().remove_dir(path)
}

/// Makes `link` a symlink to `target` (stored as written, relative or not).
pub(crate) fn symlink(ctx: &Ctx, target: &str, link: &str) -> io::Result<()> {
    ctx.fs().symlink(target, link)
}
