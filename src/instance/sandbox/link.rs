//! Names that point elsewhere: renames, symlinks and hard links, reading
//! a link, and following links to a canonical path (`realpath`).

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use rustix::fs::{AtFlags, RenameFlags};

use super::resolve::{check_path, errno, join};
use super::space::freed_by_unlink;
use super::Fs;

/// Linux's limit on symlinks followed while resolving one path (`ELOOP`).
const MAX_SYMLINKS: usize = 40;

impl Fs<'_> {
    /// Resolves a shell path, following every symlink inside the sandbox,
    /// and returns the canonical virtual path (as `realpath` prints it). A
    /// missing component is kept as named.
    pub fn canonical(&self, path: &str) -> io::Result<String> {
        check_path(path)?;
        let start = join(self.cwd, path);
        let mut pending: Vec<String> = split_rev(&start);
        let mut resolved: Vec<String> = Vec::new();
        let mut links = 0usize;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            let is_last = pending.iter().all(|p| p.is_empty() || p == ".");
            let candidate = format!("/{}", {
                let mut v = resolved.clone();
                v.push(part.clone());
                v.join("/")
            });
            match self.sandbox.fs("/").symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(errno(rustix::io::Errno::LOOP));
                    }
                    let target = self.sandbox.fs("/").read_link(&candidate)?;
                    let target = target.to_string_lossy().into_owned();
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    pending.extend(split_rev(&target));
                }
                Ok(meta) => {
                    if !is_last && !meta.is_dir() {
                        return Err(errno(rustix::io::Errno::NOTDIR));
                    }
                    resolved.push(part);
                }
                // Missing components are kept as named, as `realpath -m` does;
                // the operation that follows reports the error.
                Err(_) => resolved.push(part),
            }
        }
        Ok(format!("/{}", resolved.join("/")))
    }

    /// `rename(2)` within the sandbox; neither last component is followed.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (fp, fname) = self.parent(from, rustix::io::Errno::BUSY)?;
        let (tp, tname) = self.parent(to, rustix::io::Errno::BUSY)?;
        // What the rename replaces is freed.
        let freed = freed_by_unlink(&tp, tname.as_str());
        rustix::fs::renameat(&fp, fname.as_str(), &tp, tname.as_str()).map_err(errno)?;
        self.sandbox.disk.release(freed);
        Ok(())
    }

    /// `rename(2)` that fails with `EEXIST` when `to` exists (SFTP v3's
    /// rename), atomically where the file system offers `RENAME_NOREPLACE`.
    pub fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()> {
        let (fp, fname) = self.parent(from, rustix::io::Errno::BUSY)?;
        let (tp, tname) = self.parent(to, rustix::io::Errno::BUSY)?;
        let (fname, tname) = (fname.as_str(), tname.as_str());
        match rustix::fs::renameat_with(&fp, fname, &tp, tname, RenameFlags::NOREPLACE) {
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {}
            r => return r.map_err(errno),
        }
        // No RENAME_NOREPLACE here: check, then rename, through the same
        // handles (a race can only replace a name inside the root).
        rustix::fs::statat(&fp, fname, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
        if rustix::fs::statat(&tp, tname, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Err(errno(rustix::io::Errno::EXIST));
        }
        rustix::fs::renameat(&fp, fname, &tp, tname).map_err(errno)
    }

    /// `symlink(2)`: makes `link` point at `target`, stored as written. An
    /// absolute target means a path inside the root, as everything here does.
    pub fn symlink(&self, target: &str, link: &str) -> io::Result<()> {
        check_path(target)?;
        let (parent, name) = self.parent(link, rustix::io::Errno::EXIST)?;
        rustix::fs::symlinkat(target, &parent, name.as_str()).map_err(errno)
    }

    /// `link(2)`: a hard link `link` to `src` (a symlink itself, not followed).
    pub fn hard_link(&self, src: &str, link: &str) -> io::Result<()> {
        let (sp, sname) = self.parent(src, rustix::io::Errno::PERM)?;
        let (lp, lname) = self.parent(link, rustix::io::Errno::EXIST)?;
        rustix::fs::linkat(&sp, sname.as_str(), &lp, lname.as_str(), AtFlags::empty())
            .map_err(errno)
    }

    /// `readlink(2)`: a symlink's target as it was written.
    pub fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        let (parent, name) = self.parent(path, rustix::io::Errno::INVAL)?;
        let target = rustix::fs::readlinkat(&parent, name.as_str(), Vec::new()).map_err(errno)?;
        Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
    }
}

/// The components of `path`, last first (a stack to pop from).
fn split_rev(path: &str) -> Vec<String> {
    path.split('/').rev().map(str::to_string).collect()
}
