//! The instance's disk quota: the real bytes its files take on the host.
//!
//! Emulated downloads are sparse and cost the host nothing, but `seq 1
//! 10000000000 > big`, `cp`, `tee` and SFTP uploads write real bytes. Every
//! file the sandbox opens for writing is a [`File`] that asks the [`Disk`]
//! before each write and settles what the write really allocated afterwards
//! (the file's blocks, so sparse growth costs nothing and overwrites cost
//! what they add); removing, truncating or replacing a file gives its blocks
//! back. Past the quota a write fails with `ENOSPC`: `No space left on
//! device`, the message of the `disk_full` fault.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Real bytes in use under the root, and the most allowed.
#[derive(Debug)]
pub struct Disk {
    limit: AtomicU64,
    used: AtomicU64,
}

impl Disk {
    /// A disk with `used` bytes already taken and no quota yet.
    pub(super) fn new(used: u64) -> Arc<Self> {
        Arc::new(Disk {
            limit: AtomicU64::new(u64::MAX),
            used: AtomicU64::new(used),
        })
    }

    /// Sets the quota in bytes.
    pub fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// The quota in bytes.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Real bytes the instance's files take now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Refuses (`ENOSPC`) a write of `bytes` that could go past the quota.
    pub(super) fn check(&self, bytes: u64) -> io::Result<()> {
        if self.used().saturating_add(bytes) > self.limit() {
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::NOSPC.raw_os_error(),
            ));
        }
        Ok(())
    }

    /// Records a change in allocated bytes.
    pub(super) fn settle(&self, before: u64, after: u64) {
        if after >= before {
            self.used.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.release(before - after);
        }
    }

    /// Gives back `bytes` (a file removed, truncated or replaced).
    pub(super) fn release(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }
}

/// Bytes a file's blocks take (what `du` counts).
pub(super) fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.blocks().saturating_mul(512)
}

/// A file of the instance opened for writing (reads are free): every write
/// is checked against the instance's quota and charged what it allocated.
#[derive(Debug)]
pub struct File {
    inner: std::fs::File,
    disk: Arc<Disk>,
    // Bytes allocated when last settled.
    blocks: AtomicU64,
}

impl File {
    pub(super) fn new(inner: std::fs::File, disk: Arc<Disk>) -> io::Result<Self> {
        let blocks = AtomicU64::new(allocated(&inner.metadata()?));
        Ok(File {
            inner,
            disk,
            blocks,
        })
    }

    /// The file's metadata (`fstat`).
    pub fn metadata(&self) -> io::Result<std::fs::Metadata> {
        self.inner.metadata()
    }

    /// Truncates or extends (sparse: growth allocates nothing).
    pub fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)?;
        self.settle()
    }

    /// Sets the file's permissions.
    pub fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        self.inner.set_permissions(perm)
    }

    /// Sets the file's times.
    pub fn set_times(&self, times: std::fs::FileTimes) -> io::Result<()> {
        self.inner.set_times(times)
    }

    /// Writes at an offset (as `pwrite`), within the quota.
    pub fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.disk.check(buf.len() as u64)?;
        let n = self.inner.write_at(buf, offset)?;
        self.settle()?;
        Ok(n)
    }

    /// Writes all of `buf` at an offset, within the quota.
    pub fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.disk.check(buf.len() as u64)?;
        let r = self.inner.write_all_at(buf, offset);
        self.settle()?;
        r
    }

    /// Reads at an offset (as `pread`).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }

    /// Flushes data and metadata to the disk.
    pub fn sync_all(&self) -> io::Result<()> {
        self.inner.sync_all()
    }

    /// Writes all of `buf` at the file's position, within the quota.
    pub fn write_all_shared(&self, buf: &[u8]) -> io::Result<()> {
        self.disk.check(buf.len() as u64)?;
        let r = (&self.inner).write_all(buf);
        self.settle()?;
        r
    }

    /// Charges what the file's blocks changed by since last time.
    fn settle(&self) -> io::Result<()> {
        let now = allocated(&self.inner.metadata()?);
        let before = self.blocks.swap(now, Ordering::Relaxed);
        self.disk.settle(before, now);
        Ok(())
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.disk.check(buf.len() as u64)?;
        let n = self.inner.write(buf)?;
        self.settle()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_past_the_quota_fail_with_no_space_left() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::new(0);
        disk.set_limit(64 * 1024);
        let f = std::fs::File::create(dir.path().join("f")).unwrap();
        let mut f = File::new(f, disk.clone()).unwrap();
        assert_eq!(disk.used(), 0);
        let chunk = vec![b'x'; 16 * 1024];
        let mut written = 0;
        let err = loop {
            match f.write_all(&chunk) {
                Ok(()) => written += chunk.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        assert_eq!(crate::program::strerror(&err), "No space left on device");
        assert!((32 * 1024..=64 * 1024).contains(&written), "{written}");
        assert!(disk.used() <= 64 * 1024 + 4096);
        // Sparse growth is free, truncation gives the blocks back.
        f.set_len(1 << 40).unwrap();
        f.set_len(0).unwrap();
        assert_eq!(disk.used(), 0);
    }
}
