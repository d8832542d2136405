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

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::disk::{self, Disk};

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags};

/// Linux's limit on symlinks followed while resolving one path (`ELOOP`).
const MAX_SYMLINKS: usize = 40;

/// How often an `openat2` that raced with a rename (`EAGAIN`) is retried.
const RACE_RETRIES: usize = 64;

/// A sandboxed directory tree that plays the instance's `/`.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    dir: OwnedFd,
    disk: Arc<Disk>,
    // Kept so the temp dir is removed when the instance is dropped.
    _temp: Option<tempfile::TempDir>,
}

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

impl Sandbox {
    /// A fresh sandbox in a temporary directory, removed on drop.
    pub fn temp() -> io::Result<Self> {
        let temp = tempfile::Builder::new().prefix("fakessh-root-").tempdir()?;
        let root = temp.path().canonicalize()?;
        let dir = open_root(&root)?;
        Ok(Sandbox {
            root,
            disk: Disk::new(usage(&dir)?),
            dir,
            _temp: Some(temp),
        })
    }

    /// A sandbox rooted at `dir` (created if missing), kept after exit.
    pub fn at(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        let handle = open_root(&root)?;
        Ok(Sandbox {
            root,
            disk: Disk::new(usage(&handle)?),
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

    /// `mkdir`.
    pub fn create_dir(&self, path: &str) -> io::Result<()> {
        self.create_dir_mode(path, 0o755)
    }

    /// `mkdir` with permission bits (before the umask).
    pub fn create_dir_mode(&self, path: &str, mode: u32) -> io::Result<()> {
        let (parent, name) = self.parent(path, rustix::io::Errno::EXIST)?;
        // A directory takes a block of the disk too.
        self.sandbox.disk.check(4096)?;
        rustix::fs::mkdirat(&parent, name.as_str(), Mode::from_raw_mode(mode & 0o7777))
            .map_err(errno)?;
        self.sandbox.disk.settle(0, taken(&parent, name.as_str()));
        Ok(())
    }

    /// `mkdir -p`: each missing component is made in turn.
    pub fn create_dir_all(&self, path: &str) -> io::Result<()> {
        check_path(path)?;
        let abs = join(self.cwd, path);
        let mut cur = String::new();
        for part in abs.split('/').filter(|p| !p.is_empty()) {
            cur.push('/');
            cur.push_str(part);
            if part == "." || part == ".." {
                continue;
            }
            match self.sandbox.fs("/").create_dir(&cur) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !self.sandbox.fs("/").is_dir(&cur) {
                        return Err(errno(rustix::io::Errno::NOTDIR));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

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

    /// Real bytes in use under the root and the quota (`df` for the instance).
    pub fn disk(&self) -> &Arc<Disk> {
        &self.sandbox.disk
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

    /// `openat2(root, cwd/path, RESOLVE_IN_ROOT)`, retried when the kernel
    /// reports a rename race.
    fn openat2(&self, path: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
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
    fn parent(&self, path: &str, at_root: rustix::io::Errno) -> io::Result<(OwnedFd, String)> {
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

/// Bytes `name` in `dir` takes on the disk (0 when it is gone).
fn taken<P: rustix::path::Arg>(dir: &impl AsFd, name: P) -> u64 {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map(|st| (st.st_blocks as u64).saturating_mul(512))
        .unwrap_or(0)
}

/// Bytes unlinking `name` in `dir` would free: none while another hard
/// link keeps the file.
fn freed_by_unlink<P: rustix::path::Arg>(dir: &impl AsFd, name: P) -> u64 {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_nlink <= 1 || rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {
            (st.st_blocks as u64).saturating_mul(512)
        }
        _ => 0,
    }
}

/// Real bytes a tree takes (as `du` counts them), walked by handle.
fn usage(root: &OwnedFd) -> io::Result<u64> {
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

fn open_root(root: &Path) -> io::Result<OwnedFd> {
    rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)
}

fn openat2_in(dir: &OwnedFd, rel: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
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

/// The directory's entries, through its handle.
fn list_dir(fd: &OwnedFd) -> io::Result<Vec<DirEntry>> {
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

fn kind_of(t: rustix::fs::FileType) -> EntryKind {
    match t {
        rustix::fs::FileType::RegularFile => EntryKind::File,
        rustix::fs::FileType::Directory => EntryKind::Dir,
        rustix::fs::FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
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

fn check_path(path: &str) -> io::Result<()> {
    if path.contains('\0') {
        return Err(errno(rustix::io::Errno::INVAL));
    }
    Ok(())
}

fn join(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{path}")
    } else {
        format!("{cwd}/{path}")
    }
}

fn errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

fn split_rev(path: &str) -> Vec<String> {
    path.split('/').rev().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant_outside() -> (tempfile::TempDir, PathBuf) {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "host secret").unwrap();
        (outside, secret)
    }

    #[test]
    fn absolute_clamps_dotdot_at_root() {
        assert_eq!(Sandbox::absolute("/tmp", "../../../etc"), "/etc");
        assert_eq!(Sandbox::absolute("/a/b", "./c/../d"), "/a/b/d");
        assert_eq!(Sandbox::absolute("/", ".."), "/");
    }

    #[test]
    fn dotdot_never_leaves_the_root() {
        let sb = Sandbox::temp().unwrap();
        sb.fs("/").create_dir_all("/etc").unwrap();
        sb.fs("/").create_dir_all("/tmp").unwrap();
        sb.fs("/").write("/etc/passwd", b"inside").unwrap();
        let data = sb
            .fs("/tmp")
            .read("../../../../etc/passwd", 1 << 20)
            .unwrap();
        assert_eq!(data, b"inside");
    }

    #[test]
    fn absolute_symlink_is_rerooted() {
        let sb = Sandbox::temp().unwrap();
        let (outside, _) = plant_outside();
        sb.fs("/").create_dir_all("/etc").unwrap();
        sb.fs("/").write("/etc/secret", b"inside").unwrap();
        // A link to the host's real path of a directory outside the root.
        sb.fs("/")
            .symlink(outside.path().to_str().unwrap(), "/out")
            .unwrap();
        sb.fs("/").symlink("/etc", "/escape").unwrap();
        assert_eq!(sb.fs("/").read("escape/secret", 100).unwrap(), b"inside");
        assert!(sb.fs("/").read("out/secret", 100).is_err());
        assert_eq!(
            sb.fs("/").canonical("escape/secret").unwrap(),
            "/etc/secret"
        );
    }

    #[test]
    fn relative_symlink_with_dotdots_is_clamped() {
        let sb = Sandbox::temp().unwrap();
        sb.fs("/").create_dir_all("/a").unwrap();
        sb.fs("/").create_dir_all("/etc").unwrap();
        sb.fs("/").symlink("../../../../../..", "/a/up").unwrap();
        assert!(sb.fs("/").is_dir("a/up/etc"));
        assert_eq!(sb.fs("/").canonical("a/up/etc").unwrap(), "/etc");
    }

    #[test]
    fn writes_through_a_link_out_stay_inside() {
        let sb = Sandbox::temp().unwrap();
        let (_outside, secret) = plant_outside();
        sb.fs("/").symlink(secret.to_str().unwrap(), "/l").unwrap();
        // The target is read as an instance path, whose parents do not exist.
        assert!(sb.fs("/").write("/l", b"x").is_err());
        assert_eq!(std::fs::read(&secret).unwrap(), b"host secret");
    }

    #[test]
    fn symlink_loop_is_an_error() {
        let sb = Sandbox::temp().unwrap();
        sb.fs("/").symlink("/loop", "/loop").unwrap();
        let e = sb.fs("/").metadata("loop").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(40), "{e}");
    }

    #[test]
    fn lstat_keeps_the_last_link() {
        let sb = Sandbox::temp().unwrap();
        sb.fs("/").symlink("/etc", "/l").unwrap();
        assert!(sb
            .fs("/")
            .symlink_metadata("l")
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(sb.fs("/").read_link("l").unwrap(), PathBuf::from("/etc"));
    }

    #[test]
    fn remove_dir_all_removes_links_not_targets() {
        let sb = Sandbox::temp().unwrap();
        let (outside, secret) = plant_outside();
        sb.fs("/").create_dir_all("/t/a/b").unwrap();
        sb.fs("/").write("/t/a/b/f", b"1").unwrap();
        std::os::unix::fs::symlink(outside.path(), sb.host_path("/t/a/out")).unwrap();
        sb.fs("/").remove_dir_all("/t").unwrap();
        assert!(!sb.fs("/").exists("/t"));
        assert!(secret.exists());
    }

    #[test]
    fn names_at_the_root_are_refused_for_mutation() {
        let sb = Sandbox::temp().unwrap();
        assert!(sb.fs("/").remove_dir("/").is_err());
        assert!(sb.fs("/").remove_dir_all("..").is_err());
        assert!(sb.fs("/tmp").create_dir("..").is_err());
        assert!(sb.fs("/").metadata("/").unwrap().is_dir());
    }

    #[test]
    fn open_dir_reads_batches_with_lstat_metadata() {
        let sb = Sandbox::temp().unwrap();
        let (outside, _) = plant_outside();
        sb.fs("/").create_dir_all("/d/sub").unwrap();
        sb.fs("/").write("/d/f", b"abc").unwrap();
        sb.fs("/")
            .symlink(outside.path().to_str().unwrap(), "/d/out")
            .unwrap();
        sb.fs("/").symlink("/d", "/l").unwrap();
        // Through a link to it, as `opendir` follows a final symlink.
        let mut dir = sb.fs("/").open_dir("l").unwrap();
        assert!(dir.metadata().is_dir());
        let mut seen = Vec::new();
        loop {
            let batch = dir.next_batch(2).unwrap();
            assert!(batch.len() <= 2);
            if batch.is_empty() {
                break;
            }
            seen.extend(batch);
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let kinds: Vec<(String, bool, bool, u64)> = seen
            .iter()
            .map(|(n, m)| {
                let t = m.file_type();
                (
                    n.to_string_lossy().into_owned(),
                    t.is_dir(),
                    t.is_symlink(),
                    m.len(),
                )
            })
            .collect();
        assert_eq!(kinds[0], ("f".into(), false, false, 3));
        assert_eq!(kinds[1].0, "out");
        assert!(kinds[1].2, "a link is described, not followed");
        assert_eq!(kinds[2], ("sub".into(), true, false, kinds[2].3));
        assert_eq!(kinds.len(), 3);
        assert!(sb.fs("/").open_dir("d/f").is_err());
    }

    #[test]
    fn rename_noreplace_keeps_an_existing_target() {
        let sb = Sandbox::temp().unwrap();
        let fs = sb.fs("/");
        fs.write("/a", b"a").unwrap();
        fs.write("/b", b"b").unwrap();
        let e = fs.rename_noreplace("/a", "/b").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs.read("/b", 10).unwrap(), b"b");
        fs.rename_noreplace("/a", "/c").unwrap();
        assert_eq!(fs.read("/c", 10).unwrap(), b"a");
        assert!(!fs.exists("/a"));
    }

    #[test]
    fn modes_of_new_files_and_directories_can_be_chosen() {
        let sb = Sandbox::temp().unwrap();
        let fs = sb.fs("/");
        fs.open(
            "/f",
            OpenOptions::new().write(true).create(true).mode(0o600),
        )
        .unwrap();
        fs.create_dir_mode("/d", 0o700).unwrap();
        assert_eq!(
            fs.metadata("/f").unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs.metadata("/d").unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn nul_bytes_are_invalid() {
        let sb = Sandbox::temp().unwrap();
        assert_eq!(
            sb.fs("/").metadata("a\0b").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
