//! What the tree takes on the disk: the blocks of one name, what removing
//! it would free, and the whole tree's usage when a sandbox opens.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::dir::{list_dir, EntryKind};
use super::resolve::errno;

/// Bytes `name` in `dir` takes on the disk (0 when it is gone).
pub(super) fn taken<P: rustix::path::Arg>(dir: &impl AsFd, name: P) -> u64 {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map(|st| (st.st_blocks as u64).saturating_mul(512))
        .unwrap_or(0)
}

/// Bytes unlinking `name` in `dir` would free: none while another hard
/// link keeps the file.
pub(super) fn freed_by_unlink<P: rustix::path::Arg>(dir: &impl AsFd, name: P) -> u64 {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_nlink <= 1 || rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {
            (st.st_blocks as u64).saturating_mul(512)
        }
        _ => 0,
    }
}

/// Real bytes a tree takes (as `du` counts them), walked by handle.
pub(super) fn usage(root: &OwnedFd) -> io::Result<u64> {
    let mut total = 0u64;
    let mut stack = vec![rustix::fs::openat(
        root,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?];
    while let Some(dir) = stack.pop() {
        for entry in list_dir(&dir)? {
            total = total.saturating_add(taken(&dir, entry.name.as_os_str()));
            if entry.kind == EntryKind::Dir {
                if let Ok(child) = rustix::fs::openat(
                    &dir,
                    entry.name.as_os_str(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                ) {
                    stack.push(child);
                }
            }
        }
    }
    Ok(total)
}
