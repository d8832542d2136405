//! Removing names: `unlink`, `rmdir`, and `rm -r` walked by handle.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::dir::{list_dir, EntryKind};
use super::resolve::errno;
use super::space::{freed_by_unlink, taken};
use super::Fs;
use crate::instance::disk::Disk;

impl Fs<'_> {
    /// `unlink`: removes a file or a symlink (never what it points to).
    pub fn remove_file(&self, path: &str) -> io::Result<()> {
        let (parent, name) = self.parent(path, rustix::io::Errno::ISDIR)?;
        let freed = freed_by_unlink(&parent, name.as_str());
        rustix::fs::unlinkat(&parent, name.as_str(), AtFlags::empty()).map_err(errno)?;
        self.sandbox.disk.release(freed);
        Ok(())
    }

    /// `rmdir`: removes an empty directory.
    pub fn remove_dir(&self, path: &str) -> io::Result<()> {
        let (parent, name) = self.parent(path, rustix::io::Errno::INVAL)?;
        let freed = taken(&parent, name.as_str());
        rustix::fs::unlinkat(&parent, name.as_str(), AtFlags::REMOVEDIR).map_err(errno)?;
        self.sandbox.disk.release(freed);
        Ok(())
    }

    /// `rm -r`: removes `path` and everything under it. A symlink is removed,
    /// never followed; subdirectories are opened by handle, one name at a
    /// time, so nothing swapped in meanwhile leads the walk elsewhere.
    pub fn remove_dir_all(&self, path: &str) -> io::Result<()> {
        let (parent, name) = self.parent(path, rustix::io::Errno::INVAL)?;
        remove_tree(&parent, &name, &self.sandbox.disk)
    }
}

/// Removes `name` in `parent` and, for a directory, everything below it,
/// with an explicit stack (a deep tree cannot overflow the call stack).
fn remove_tree(parent: &OwnedFd, name: &str, disk: &Disk) -> io::Result<()> {
    let freed = freed_by_unlink(parent, name);
    match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) => {
            disk.release(freed);
            return Ok(());
        }
        Err(rustix::io::Errno::ISDIR) | Err(rustix::io::Errno::PERM) => {}
        Err(e) => return Err(errno(e)),
    }
    // Each frame: an open directory and the name it has in the frame below.
    let open = |at: &OwnedFd, name: &OsString| -> io::Result<OwnedFd> {
        rustix::fs::openat(
            at,
            name.as_os_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)
    };
    let top = OsString::from(name);
    let mut stack: Vec<(OwnedFd, OsString)> = vec![(open(parent, &top)?, top)];
    while let Some((fd, _)) = stack.last() {
        let mut descended = false;
        for entry in list_dir(fd)? {
            if entry.kind == EntryKind::Dir {
                let child = open(fd, &entry.name)?;
                stack.push((child, entry.name));
                descended = true;
                break;
            }
            let freed = freed_by_unlink(fd, entry.name.as_os_str());
            rustix::fs::unlinkat(fd, entry.name.as_os_str(), AtFlags::empty()).map_err(errno)?;
            disk.release(freed);
        }
        if descended {
            continue;
        }
        let (_, done) = stack.pop().expect("stack is not empty");
        let below = stack
            .last()
            .map(|(fd, _)| fd.as_fd())
            .unwrap_or(parent.as_fd());
        let freed = taken(&below, done.as_os_str());
        rustix::fs::unlinkat(below, done.as_os_str(), AtFlags::REMOVEDIR).map_err(errno)?;
        disk.release(freed);
    }
    Ok(())
}
