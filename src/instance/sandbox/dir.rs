//! Listing directories: whole, or a batch at a time through an open
//! handle, each entry looked up by its name in that handle.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;

use rustix::fs::{AtFlags, Mode, OFlags};

use super::resolve::errno;
use super::Fs;

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (never `.` or `..`).
    pub name: OsString,
    /// What the entry is, without following a symlink.
    pub kind: EntryKind,
}

impl DirEntry {
    /// The name as (lossy) UTF-8.
    pub fn name_lossy(&self) -> String {
        self.name.to_string_lossy().into_owned()
    }
}

/// An open directory (see [`Fs::open_dir`]).
#[derive(Debug)]
pub struct DirStream {
    dir: rustix::fs::Dir,
    meta: Metadata,
}

impl DirStream {
    /// The directory's own metadata, taken when it was opened.
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Up to `max` more entries (never `.` or `..`) with their `lstat`
    /// metadata, in the order the file system returns them; empty at the
    /// end. An entry removed meanwhile is skipped. Each entry is looked up
    /// by its single name in the open directory, never by a path.
    pub fn next_batch(&mut self, max: usize) -> io::Result<Vec<(OsString, Metadata)>> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(entry) = self.dir.read() else { break };
            let entry = entry.map_err(errno)?;
            let name = entry.file_name();
            if name.to_bytes() == b"." || name.to_bytes() == b".." {
                continue;
            }
            let fd = match rustix::fs::openat(
                self.dir.fd().map_err(errno)?,
                name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::NOENT) => continue,
                Err(e) => return Err(errno(e)),
            };
            let meta = File::from(fd).metadata()?;
            out.push((OsString::from_vec(name.to_bytes().to_vec()), meta));
        }
        Ok(out)
    }
}

/// The type of a directory entry (as `lstat` sees it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A fifo, socket or device.
    Other,
}

impl Fs<'_> {
    /// Lists a directory (following a final symlink), without `.` and `..`,
    /// in the order the file system returns them.
    pub fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let fd = self.openat2(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        list_dir(&fd)
    }

    /// Opens a directory (following a final symlink) to read its entries a
    /// batch at a time, each with its `lstat` metadata taken through the
    /// directory's handle: memory stays bounded for any directory size.
    pub fn open_dir(&self, path: &str) -> io::Result<DirStream> {
        let fd = self.openat2(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        Ok(DirStream {
            dir: rustix::fs::Dir::new(file).map_err(errno)?,
            meta,
        })
    }
}

/// The directory's entries, through its handle.
pub(super) fn list_dir(fd: &OwnedFd) -> io::Result<Vec<DirEntry>> {
    let mut dir = rustix::fs::Dir::read_from(fd).map_err(errno)?;
    let mut out = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry.map_err(errno)?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match entry.file_type() {
            rustix::fs::FileType::RegularFile => EntryKind::File,
            rustix::fs::FileType::Directory => EntryKind::Dir,
            rustix::fs::FileType::Symlink => EntryKind::Symlink,
            rustix::fs::FileType::Unknown => {
                match rustix::fs::statat(fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => kind_of(rustix::fs::FileType::from_raw_mode(st.st_mode)),
                    Err(_) => EntryKind::Other,
                }
            }
            other => kind_of(other),
        };
        out.push(DirEntry {
            name: OsString::from_vec(name.to_vec()),
            kind,
        });
    }
    Ok(out)
}

/// The entry kind for a file type.
fn kind_of(t: rustix::fs::FileType) -> EntryKind {
    match t {
        rustix::fs::FileType::RegularFile => EntryKind::File,
        rustix::fs::FileType::Directory => EntryKind::Dir,
        rustix::fs::FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}
