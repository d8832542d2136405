//! Opening files (with options read back as `std`'s cannot be), reading
//! and writing them whole, their metadata, and changes to it.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::PermissionsExt;

use rustix::fs::{Mode, OFlags};

use super::resolve::errno;
use super::Fs;
use crate::instance::disk;

/// How to open a file, as [`std::fs::OpenOptions`] (which cannot be read back).
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: Option<u32>,
}

impl OpenOptions {
    /// No access yet; add some with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }
    /// Opens for reading.
    pub fn read(mut self, yes: bool) -> Self {
        self.read = yes;
        self
    }
    /// Opens for writing.
    pub fn write(mut self, yes: bool) -> Self {
        self.write = yes;
        self
    }
    /// Writes go to the end of the file.
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }
    /// Truncates an existing file.
    pub fn truncate(mut self, yes: bool) -> Self {
        self.truncate = yes;
        self
    }
    /// Creates the file when missing.
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }
    /// Creates the file and fails when anything exists at the path.
    pub fn create_new(mut self, yes: bool) -> Self {
        self.create_new = yes;
        self
    }
    /// The permission bits of a file this open creates (before the umask;
    /// 0o644 unless set).
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode & 0o7777);
        self
    }

    fn flags(&self) -> OFlags {
        let mut f = match (self.read, self.write || self.append) {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        if self.append {
            f |= OFlags::APPEND;
        }
        if self.truncate {
            f |= OFlags::TRUNC;
        }
        if self.create_new {
            // O_EXCL with O_CREAT never follows a final symlink.
            f |= OFlags::CREATE | OFlags::EXCL;
        } else if self.create {
            f |= OFlags::CREATE;
        }
        f
    }
}

impl Fs<'_> {
    /// Opens a file with `options` (following a final symlink, in the root).
    /// Its writes count against the instance's disk quota; truncating gives
    /// the old blocks back.
    pub fn open(&self, path: &str, options: OpenOptions) -> io::Result<disk::File> {
        // Truncation is done on the open file, so its blocks are counted.
        let truncate = options.truncate;
        let options = options.truncate(false);
        let file = self.open_std(path, options)?;
        let file = disk::File::new(file, self.sandbox.disk.clone())?;
        if truncate && file.metadata()?.is_file() {
            file.set_len(0)?;
        }
        Ok(file)
    }

    fn open_std(&self, path: &str, options: OpenOptions) -> io::Result<File> {
        // Opening a fifo must never block a runtime thread: for reading it
        // opens at once; for writing without a reader it fails (ENXIO).
        let flags = options.flags() | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        // openat2 refuses a mode without O_CREAT.
        let mode = if flags.contains(OFlags::CREATE) {
            Mode::from_raw_mode(options.mode.unwrap_or(0o644))
        } else {
            Mode::empty()
        };
        let fd = self.openat2(path, flags, mode)?;
        let file = File::from(fd);
        // Regular files ignore O_NONBLOCK; clear it for everything else,
        // keeping O_APPEND (the only other flag F_SETFL sets here).
        let keep = flags & OFlags::APPEND;
        let _ = rustix::fs::fcntl_setfl(&file, keep);
        Ok(file)
    }

    /// Opens a file for reading.
    pub fn open_read(&self, path: &str) -> io::Result<File> {
        let f = self.open_std(path, OpenOptions::new().read(true))?;
        if f.metadata()?.is_dir() {
            return Err(errno(rustix::io::Errno::ISDIR));
        }
        Ok(f)
    }

    /// Creates or truncates a file for writing.
    pub fn create(&self, path: &str) -> io::Result<disk::File> {
        self.open(
            path,
            OpenOptions::new().write(true).create(true).truncate(true),
        )
    }

    /// Reads a whole file, refusing more than `limit` bytes.
    pub fn read(&self, path: &str, limit: u64) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let f = self.open_read(path)?;
        let mut out = Vec::new();
        f.take(limit.saturating_add(1)).read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(errno(rustix::io::Errno::FBIG));
        }
        Ok(out)
    }

    /// Writes a whole file (created or truncated).
    pub fn write(&self, path: &str, data: &[u8]) -> io::Result<()> {
        self.create(path)?.write_all_shared(data)
    }

    /// `stat`: the metadata of what `path` names, following symlinks.
    pub fn metadata(&self, path: &str) -> io::Result<Metadata> {
        let fd = self.openat2(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
        File::from(fd).metadata()
    }

    /// `lstat`: the metadata of `path` itself (a symlink is not followed).
    pub fn symlink_metadata(&self, path: &str) -> io::Result<Metadata> {
        let fd = self.openat2(
            path,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        File::from(fd).metadata()
    }

    /// Whether anything (a dangling symlink too) exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.symlink_metadata(path).is_ok()
    }

    /// Whether `path` is (or links to) a directory.
    pub fn is_dir(&self, path: &str) -> bool {
        self.metadata(path).map(|m| m.is_dir()).unwrap_or(false)
    }

    /// Whether `path` is (or links to) a regular file.
    pub fn is_file(&self, path: &str) -> bool {
        self.metadata(path).map(|m| m.is_file()).unwrap_or(false)
    }

    /// `chmod` (following a final symlink, as chmod does).
    pub fn set_mode(&self, path: &str, mode: u32) -> io::Result<()> {
        let f = self.open_any(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
    }

    /// Sets access and modification times (following a final symlink).
    pub fn set_times(
        &self,
        path: &str,
        accessed: std::time::SystemTime,
        modified: std::time::SystemTime,
    ) -> io::Result<()> {
        let f = self.open_any(path)?;
        f.set_times(
            std::fs::FileTimes::new()
                .set_accessed(accessed)
                .set_modified(modified),
        )
    }

    /// Grows or shrinks an existing file to `len` bytes (sparse).
    pub fn set_len(&self, path: &str, len: u64) -> io::Result<()> {
        self.open(path, OpenOptions::new().write(true))?
            .set_len(len)
    }

    /// An fd on a file or directory for metadata changes (`fchmod` and
    /// `futimens` refuse `O_PATH` handles).
    fn open_any(&self, path: &str) -> io::Result<File> {
        let fd = self.openat2(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(File::from(fd))
    }
}
