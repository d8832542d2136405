//! The instance's file tree: a real host directory mapped to `/`.
//!
//! Every path a command names is resolved here, component by component, with
//! symlinks read and re-rooted by hand, so that no `..`, absolute path or
//! symlink (including one made inside a session) ever reaches outside the root.
//! The host OS never follows a link on our behalf: once resolved, a host path
//! contains no symlink component that we did not inspect.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Linux's limit on symlinks followed while resolving one path (`ELOOP`).
const MAX_SYMLINKS: usize = 40;

/// A sandboxed directory tree that plays the instance's `/`.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    // Kept so the temp dir is removed when the instance is dropped.
    _temp: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// A fresh sandbox in a temporary directory, removed on drop.
    pub fn temp() -> io::Result<Self> {
        let temp = tempfile::Builder::new().prefix("fakessh-root-").tempdir()?;
        let root = temp.path().canonicalize()?;
        Ok(Sandbox {
            root,
            _temp: Some(temp),
        })
    }

    /// A sandbox rooted at `dir` (created if missing), kept after exit.
    pub fn at(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Sandbox {
            root: dir.canonicalize()?,
            _temp: None,
        })
    }

    /// The host directory that plays `/`.
    pub fn root(&self) -> &Path {
        &self.root
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

    /// Resolves a shell path to a host path, following every symlink
    /// (the final component too) inside the sandbox.
    pub fn resolve(&self, cwd: &str, path: &str) -> io::Result<PathBuf> {
        self.walk(cwd, path, true).map(|(host, _)| host)
    }

    /// Resolves every component but the last, which is kept as it is: the
    /// host path to `lstat`, unlink, rename or create a symlink at.
    pub fn resolve_nofollow(&self, cwd: &str, path: &str) -> io::Result<PathBuf> {
        self.walk(cwd, path, false).map(|(host, _)| host)
    }

    /// Resolves a shell path and returns the canonical virtual path
    /// (as `realpath` would print it inside the instance).
    pub fn canonical(&self, cwd: &str, path: &str) -> io::Result<String> {
        self.walk(cwd, path, true).map(|(_, virt)| virt)
    }

    /// The virtual path (`/workspace/...`) of a host path inside the root.
    pub fn to_virtual(&self, host: &Path) -> String {
        match host.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => "/".to_string(),
            Ok(rel) => format!("/{}", rel.to_string_lossy()),
            Err(_) => "/".to_string(),
        }
    }

    /// The host path of an already canonical virtual path (no symlinks read).
    pub fn host_path(&self, virt: &str) -> PathBuf {
        let rel = virt.trim_start_matches('/');
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    fn walk(&self, cwd: &str, path: &str, follow_last: bool) -> io::Result<(PathBuf, String)> {
        if path.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Invalid argument",
            ));
        }
        // Pending components, processed front to back; a symlink pushes its
        // target's components in front of what is left.
        let start = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{cwd}/{path}")
        };
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
            let mut candidate = self.root.clone();
            for r in &resolved {
                candidate.push(r);
            }
            candidate.push(&part);
            if is_last && !follow_last {
                resolved.push(part);
                continue;
            }
            match std::fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(io::Error::other("Too many levels of symbolic links"));
                    }
                    let target = std::fs::read_link(&candidate)?;
                    let target = self.link_target_as_virtual(&target);
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    pending.extend(split_rev(&target));
                }
                Ok(meta) => {
                    if !is_last && !meta.is_dir() {
                        return Err(io::Error::new(
                            io::ErrorKind::NotADirectory,
                            "Not a directory",
                        ));
                    }
                    resolved.push(part);
                }
                Err(_) => resolved.push(part),
            }
        }
        let mut host = self.root.clone();
        for r in &resolved {
            host.push(r);
        }
        let virt = format!("/{}", resolved.join("/"));
        Ok((host, virt))
    }

    /// A link target as a path inside the instance. Links made by sessions
    /// hold virtual paths; a link that points into the host root (made by
    /// hand under `--root`) is mapped back; anything else is re-rooted, so
    /// `/etc/passwd` means the sandbox's own `/etc/passwd`.
    fn link_target_as_virtual(&self, target: &Path) -> String {
        if let Ok(rel) = target.strip_prefix(&self.root) {
            return format!("/{}", rel.to_string_lossy());
        }
        let mut s = String::new();
        for c in target.components() {
            match c {
                Component::RootDir => s.push('/'),
                Component::Prefix(_) => {}
                Component::CurDir => s.push_str("./"),
                Component::ParentDir => s.push_str("../"),
                Component::Normal(n) => {
                    s.push_str(&n.to_string_lossy());
                    s.push('/');
                }
            }
        }
        s
    }
}

fn split_rev(path: &str) -> Vec<String> {
    path.split('/').rev().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_clamps_dotdot_at_root() {
        assert_eq!(Sandbox::absolute("/tmp", "../../../etc"), "/etc");
        assert_eq!(Sandbox::absolute("/a/b", "./c/../d"), "/a/b/d");
        assert_eq!(Sandbox::absolute("/", ".."), "/");
    }

    #[test]
    fn dotdot_never_leaves_the_root() {
        let sb = Sandbox::temp().unwrap();
        let p = sb.resolve("/tmp", "../../../../etc/passwd").unwrap();
        assert_eq!(p, sb.root().join("etc/passwd"));
    }

    #[test]
    fn absolute_symlink_is_rerooted() {
        let sb = Sandbox::temp().unwrap();
        std::os::unix::fs::symlink("/etc", sb.root().join("escape")).unwrap();
        let p = sb.resolve("/", "escape/passwd").unwrap();
        assert_eq!(p, sb.root().join("etc/passwd"));
        assert_eq!(sb.canonical("/", "escape/passwd").unwrap(), "/etc/passwd");
    }

    #[test]
    fn relative_symlink_with_dotdots_is_clamped() {
        let sb = Sandbox::temp().unwrap();
        std::fs::create_dir_all(sb.root().join("a")).unwrap();
        std::os::unix::fs::symlink("../../../../../..", sb.root().join("a/up")).unwrap();
        let p = sb.resolve("/", "a/up/etc").unwrap();
        assert_eq!(p, sb.root().join("etc"));
    }

    #[test]
    fn symlink_loop_is_an_error() {
        let sb = Sandbox::temp().unwrap();
        std::os::unix::fs::symlink("/loop", sb.root().join("loop")).unwrap();
        let e = sb.resolve("/", "loop").unwrap_err();
        assert!(e.to_string().contains("Too many levels"));
    }

    #[test]
    fn nofollow_keeps_the_last_link() {
        let sb = Sandbox::temp().unwrap();
        std::os::unix::fs::symlink("/etc", sb.root().join("l")).unwrap();
        assert_eq!(sb.resolve_nofollow("/", "l").unwrap(), sb.root().join("l"));
    }
}
