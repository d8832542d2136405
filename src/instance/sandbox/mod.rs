//! The instance's file tree: a real host directory mapped to `/`, confined by
//! the kernel.
//!
//! The sandbox holds a directory handle of its root. Every file operation
//! (the shell's, the tools' and SFTP's) resolves its path with `openat2(2)`
//! and `RESOLVE_IN_ROOT` relative to that handle, so the kernel treats the
//! root as `/` for `..` and for absolute symlink targets, at the moment of
//! the operation: a directory swapped for a symlink by another session at any
//! time still resolves inside the root. Operations that act on a name (create,
//! unlink, rename, link, readlink, lstat) open the parent directory that way
//! and then act on the single last component relative to that handle, never
//! following it. There is no "check the path, then open it" anywhere.
//!
//! Paths are instance paths (`/workspace/x`, or relative to a working
//! directory). The host path of the root is kept only to show it to people
//! and for the test harness ([`Sandbox::host_path`]).

mod dir;
mod link;
mod mkdir;
mod open;
mod remove;
mod resolve;
mod space;
#[cfg(test)]
mod tests;

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::disk::Disk;

pub use dir::{DirEntry, DirStream, EntryKind};
pub use open::OpenOptions;

/// A sandboxed directory tree that plays the instance's `/`.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    dir: OwnedFd,
    disk: Arc<Disk>,
    // Kept so the temp dir is removed when the instance is dropped.
    _temp: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// A fresh sandbox in a temporary directory, removed on drop.
    pub fn temp() -> io::Result<Self> {
        let temp = tempfile::Builder::new().prefix("fakessh-root-").tempdir()?;
        let root = temp.path().canonicalize()?;
        let dir = resolve::open_root(&root)?;
        Ok(Sandbox {
            root,
            disk: Disk::new(space::usage(&dir)?),
            dir,
            _temp: Some(temp),
        })
    }

    /// A sandbox rooted at `dir` (created if missing), kept after exit.
    pub fn at(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        let handle = resolve::open_root(&root)?;
        Ok(Sandbox {
            root,
            disk: Disk::new(space::usage(&handle)?),
            dir: handle,
            _temp: None,
        })
    }

    /// The real bytes the tree takes, and its quota.
    pub fn disk(&self) -> &Arc<Disk> {
        &self.disk
    }

    /// The host directory that plays `/` (for people and logs: file
    /// operations go through the sandbox's methods, never through this).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of a virtual path, with no symlink resolved. For the
    /// test harness and for seeding the tree before any session exists:
    /// never use it on behalf of a session (a link inside could lead out).
    pub fn host_path(&self, virt: &str) -> PathBuf {
        let rel = Sandbox::absolute("/", virt);
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Joins `path` onto `cwd` and normalises `.` and `..` lexically, as the
    /// kernel would for a path with no symlinks. `..` at `/` stays at `/`.
    pub fn absolute(cwd: &str, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{cwd}/{path}")
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        format!("/{}", parts.join("/"))
    }

    /// The file operations, with relative paths taken from `cwd`.
    pub fn fs<'a>(&'a self, cwd: &'a str) -> Fs<'a> {
        Fs { sandbox: self, cwd }
    }
}

/// The sandbox seen from a working directory: every file operation a
/// program makes, with `std::fs`'s names, on instance paths.
#[derive(Clone, Copy, Debug)]
pub struct Fs<'a> {
    sandbox: &'a Sandbox,
    cwd: &'a str,
}

impl Fs<'_> {
    /// Real bytes in use under the root and the quota (`df` for the instance).
    pub fn disk(&self) -> &Arc<Disk> {
        &self.sandbox.disk
    }
}
