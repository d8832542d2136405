//! Command search, as bash does it: a name is looked up on `PATH` (or taken
//! as a path), and the file found is an emulated program's stub, a shell
//! script, or something this instance cannot execute.

use super::{Shell, STUB_MARKER};

impl Shell {
    /// Finds `name` as bash would: on `PATH`, or as a path. Emulated
    /// programs are stub files on `PATH`; other files with a shell shebang
    /// run as scripts.
    pub(super) async fn find_program(&self, name: &str) -> Result<Found, (String, i32)> {
        let path = if name.contains('/') {
            Some(name.to_string())
        } else {
            self.search_path(name)
        };
        let Some(path) = path else {
            return Err((format!("{name}: command not found"), 127));
        };
        let fs = self.instance.sandbox.fs(&self.cwd);
        let virt = fs
            .canonical(&path)
            .map_err(|e| (format!("{name}: {}", crate::program::strerror(&e)), 127))?;
        let meta = fs
            .metadata(&virt)
            .map_err(|_| (format!("{name}: No such file or directory"), 127))?;
        if meta.is_dir() {
            return Err((format!("{name}: Is a directory"), 126));
        }
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err((format!("{name}: Permission denied"), 126));
        }
        // Read only the head: a model file run as a command must not be slurped.
        let head = read_head(fs, &virt, 64 * 1024);
        let text = String::from_utf8_lossy(&head);
        if text
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(STUB_MARKER))
        {
            let base = virt.rsplit('/').next().unwrap_or_default();
            if let Some(p) = super::lookup(base) {
                return Ok(Found::Program(p));
            }
        }
        let first = text.lines().next().unwrap_or("");
        if first.starts_with("#!") && (first.contains("sh") || first.contains("bash")) {
            if meta.len() > 1024 * 1024 {
                return Err((format!("{name}: script too large for this instance"), 126));
            }
            let full = fs.read(&virt, 1024 * 1024).unwrap_or_default();
            return Ok(Found::Script(String::from_utf8_lossy(&full).into_owned()));
        }
        Err((
            format!("{name}: cannot execute binary file: Exec format error"),
            126,
        ))
    }

    /// The first executable `name` in `$PATH`, as a path inside the instance.
    pub(super) fn search_path(&self, name: &str) -> Option<String> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.var("PATH").unwrap_or("").to_string();
        let fs = self.instance.sandbox.fs(&self.cwd);
        for dir in path.split(':').filter(|d| !d.is_empty()) {
            let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
            if let Ok(meta) = fs.metadata(&candidate) {
                if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                    return Some(candidate);
                }
            }
        }
        None
    }
}

/// What a command name resolved to.
pub(super) enum Found {
    Program(&'static dyn crate::program::Program),
    Script(String),
}

fn read_head(fs: crate::instance::sandbox::Fs<'_>, path: &str, limit: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = Vec::new();
    if let Ok(f) = fs.open_read(path) {
        let _ = f.take(limit as u64).read_to_end(&mut buf);
    }
    buf
}
