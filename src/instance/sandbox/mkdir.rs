//! Making directories: `mkdir` (its block counted on the disk) and
//! `mkdir -p`.

use std::io;

use rustix::fs::Mode;

use super::resolve::{check_path, errno, join};
use super::space::taken;
use super::Fs;

impl Fs<'_> {
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
}
