//! How an instance path becomes a confined handle: `openat2(2)` with
//! `RESOLVE_IN_ROOT` on the root's handle, for the path itself or for its
//! parent directory (operations on a name act on the last component
//! through that handle). Everything else in the sandbox opens through here.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::Fs;

/// How often an `openat2` that raced with a rename (`EAGAIN`) is retried.
const RACE_RETRIES: usize = 64;

impl Fs<'_> {
    /// `openat2(root, cwd/path, RESOLVE_IN_ROOT)`, retried when the kernel
    /// reports a rename race.
    pub(super) fn openat2(&self, path: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
        check_path(path)?;
        if path.is_empty() {
            return Err(errno(rustix::io::Errno::NOENT));
        }
        let full = join(self.cwd, path);
        let rel = match full.trim_start_matches('/') {
            "" => ".",
            r => r,
        };
        openat2_in(&self.sandbox.dir, rel, flags, mode)
    }

    /// The parent directory of `path` as a confined handle, and its last
    /// component. `at_root` is the error for a path whose last component is
    /// `/`, `.` or `..` (nothing to create, remove or rename there).
    pub(super) fn parent(
        &self,
        path: &str,
        at_root: rustix::io::Errno,
    ) -> io::Result<(OwnedFd, String)> {
        check_path(path)?;
        if path.is_empty() {
            return Err(errno(rustix::io::Errno::NOENT));
        }
        let full = join(self.cwd, path);
        let trimmed = full.trim_end_matches('/');
        let (dir, name) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(errno(at_root));
        }
        let dir = match dir.trim_start_matches('/') {
            "" => ".",
            d => d,
        };
        let fd = openat2_in(
            &self.sandbox.dir,
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok((fd, name.to_string()))
    }
}

/// The root directory as an `O_PATH` handle, the anchor of every lookup.
pub(super) fn open_root(root: &Path) -> io::Result<OwnedFd> {
    rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)
}

/// `openat2` of `rel` confined to `dir` (`RESOLVE_IN_ROOT`, no magic
/// links), retried on a rename race or an interrupt.
pub(super) fn openat2_in(
    dir: &OwnedFd,
    rel: &str,
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(dir, rel, flags, mode, how) {
            Err(rustix::io::Errno::AGAIN) if tries < RACE_RETRIES => tries += 1,
            Err(rustix::io::Errno::INTR) => {}
            r => return r.map_err(errno),
        }
    }
}

/// Refuses a path with a NUL byte (no C string can carry it).
pub(super) fn check_path(path: &str) -> io::Result<()> {
    if path.contains('\0') {
        return Err(errno(rustix::io::Errno::INVAL));
    }
    Ok(())
}

/// `path` taken from `cwd` when relative; nothing is normalised here (the
/// kernel resolves `..` inside the root).
pub(super) fn join(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{path}")
    } else {
        format!("{cwd}/{path}")
    }
}

/// A rustix error as the `io::Error` callers match on.
pub(super) fn errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}
