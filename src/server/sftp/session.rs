//! One client's SFTP session: its open handles and the protocol's
//! requests, each served by the sandbox's confined file operations off the
//! async threads.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

use super::listing::{attrs, dir_files, list_dir, DirListing, DIR_CHUNK};
use crate::instance::sandbox::{Fs, OpenOptions};
use crate::instance::Instance;

/// Largest read served at once (OpenSSH asks for up to 256 KiB).
const MAX_READ: u32 = 256 * 1024;
/// Open file and directory handles one session may hold.
const MAX_HANDLES: usize = 64;

/// An open handle.
enum Open {
    File(Arc<crate::instance::disk::File>),
    Dir(Box<DirListing>),
}

/// One client's SFTP session.
pub(super) struct SftpSession {
    instance: Arc<Instance>,
    /// Where relative paths start: the user's home.
    cwd: String,
    handles: HashMap<String, Open>,
    next_handle: u64,
    /// File bytes sent to the client.
    sent: Arc<AtomicU64>,
}

fn status_error(err: io::Error) -> StatusReply {
    let code = match err.kind() {
        io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    let message = match err.kind() {
        io::ErrorKind::NotFound => "No such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        io::ErrorKind::AlreadyExists => "File exists".to_string(),
        io::ErrorKind::NotADirectory => "Not a directory".to_string(),
        io::ErrorKind::IsADirectory => "Is a directory".to_string(),
        io::ErrorKind::DirectoryNotEmpty => "Directory not empty".to_string(),
        _ => err.to_string(),
    };
    code.with_message(message)
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

/// The sandbox's open options for SFTP's `pflags`, refusing the same
/// combinations as `std::fs::OpenOptions` (creating or truncating needs
/// write access; append excludes truncate).
fn open_options(pflags: OpenFlags, mode: Option<u32>) -> io::Result<OpenOptions> {
    let mut read = pflags.contains(OpenFlags::READ);
    let write = pflags.contains(OpenFlags::WRITE);
    let append = pflags.contains(OpenFlags::APPEND);
    let truncate = pflags.contains(OpenFlags::TRUNCATE);
    let create = pflags.contains(OpenFlags::CREATE);
    let create_new = create && pflags.contains(OpenFlags::EXCLUDE);
    if !read && !write && !append {
        read = true;
    }
    let invalid = match (write, append) {
        (true, false) => false,
        (false, false) => truncate || create,
        (_, true) => truncate && !create_new,
    };
    if invalid {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "creating or truncating a file requires write or append access",
        ));
    }
    let mut options = OpenOptions::new()
        .read(read)
        .write(write)
        .append(append)
        .truncate(truncate)
        .create(create && !create_new)
        .create_new(create_new);
    if let Some(mode) = mode {
        options = options.mode(mode);
    }
    Ok(options)
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, StatusReply> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(status_error),
        Err(e) => Err(StatusCode::Failure.with_message(e.to_string())),
    }
}

impl SftpSession {
    /// A session with no open handle, relative paths starting at `cwd`,
    /// counting the file bytes it sends into `sent`.
    pub(super) fn new(instance: Arc<Instance>, cwd: String, sent: Arc<AtomicU64>) -> Self {
        SftpSession {
            instance,
            cwd,
            handles: HashMap::new(),
            next_handle: 0,
            sent,
        }
    }

    /// Runs `op` on the sandbox seen from the session's directory, off the
    /// async threads.
    async fn with_fs<T: Send + 'static>(
        &self,
        op: impl FnOnce(Fs<'_>) -> io::Result<T> + Send + 'static,
    ) -> Result<T, StatusReply> {
        let instance = self.instance.clone();
        let cwd = self.cwd.clone();
        blocking(move || op(instance.sandbox.fs(&cwd))).await
    }

    fn add_handle(&mut self, open: Open) -> Result<String, StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("Too many open handles"));
        }
        self.next_handle += 1;
        let handle = self.next_handle.to_string();
        self.handles.insert(handle.clone(), open);
        Ok(handle)
    }

    fn file(&self, handle: &str) -> Result<Arc<crate::instance::disk::File>, StatusReply> {
        match self.handles.get(handle) {
            Some(Open::File(f)) => Ok(f.clone()),
            Some(Open::Dir(_)) => Err(StatusCode::Failure.with_message("Is a directory")),
            None => Err(StatusCode::Failure.with_message("Invalid handle")),
        }
    }
}

impl russh_sftp::server::Handler for SftpSession {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.with_message("Operation unsupported")
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let path = if path.is_empty() { ".".into() } else { path };
        let virt = self.with_fs(move |fs| fs.canonical(&path)).await?;
        Ok(Name {
            id,
            files: vec![File {
                filename: virt.clone(),
                longname: virt,
                attrs: FileAttributes::default(),
            }],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let meta = self.with_fs(move |fs| fs.metadata(&path)).await?;
        Ok(Attrs {
            id,
            attrs: attrs(&meta),
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let meta = self.with_fs(move |fs| fs.symlink_metadata(&path)).await?;
        Ok(Attrs {
            id,
            attrs: attrs(&meta),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let file = self.file(&handle)?;
        let meta = blocking(move || file.metadata()).await?;
        Ok(Attrs {
            id,
            attrs: attrs(&meta),
        })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("Too many open handles"));
        }
        let listing = self.with_fs(move |fs| list_dir(fs, &path)).await?;
        let handle = self.add_handle(Open::Dir(Box::new(listing)))?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let listing = match self.handles.get_mut(&handle) {
            Some(Open::Dir(listing)) => listing,
            Some(Open::File(_)) => return Err(StatusCode::Failure.with_message("Not a directory")),
            None => return Err(StatusCode::Failure.with_message("Invalid handle")),
        };
        if listing.ready.is_empty() {
            if let Some(mut stream) = listing.rest.take() {
                let (stream, batch) = blocking(move || {
                    let batch = stream.next_batch(DIR_CHUNK)?;
                    Ok((stream, batch))
                })
                .await?;
                if !batch.is_empty() {
                    listing.rest = Some(stream);
                }
                listing.ready.extend(dir_files(batch));
            }
        }
        if listing.ready.is_empty() {
            return Err(StatusCode::Eof.into());
        }
        let n = listing.ready.len().min(DIR_CHUNK);
        let files: Vec<File> = listing.ready.drain(..n).collect();
        Ok(Name { id, files })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("Too many open handles"));
        }
        let mode = attrs.permissions.map(|p| p & 0o7777);
        let file = self
            .with_fs(move |fs| {
                let file = fs.open(&filename, open_options(pflags, mode)?)?;
                // Reading a directory's handle as a file is refused, as on
                // the real server.
                if file.metadata()?.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        "Is a directory",
                    ));
                }
                Ok(file)
            })
            .await?;
        let handle = self.add_handle(Open::File(Arc::new(file)))?;
        Ok(Handle { id, handle })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let file = self.file(&handle)?;
        let len = len.min(MAX_READ) as usize;
        let data = blocking(move || {
            let mut buf = vec![0u8; len];
            let mut filled = 0;
            while filled < len {
                let n = file.read_at(&mut buf[filled..], offset + filled as u64)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            buf.truncate(filled);
            Ok(buf)
        })
        .await?;
        if data.is_empty() && len > 0 {
            return Err(StatusCode::Eof.into());
        }
        self.sent.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let file = self.file(&handle)?;
        blocking(move || file.write_all_at(&data, offset)).await?;
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(_) => Ok(ok(id)),
            None => Err(StatusCode::Failure.with_message("Invalid handle")),
        }
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        self.with_fs(move |fs| {
            if let Some(size) = attrs.size {
                fs.set_len(&path, size)?;
            }
            if let Some(mode) = attrs.permissions {
                fs.set_mode(&path, mode & 0o7777)?;
            }
            Ok(())
        })
        .await?;
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let file = match self.handles.get(&handle) {
            Some(Open::File(f)) => f.clone(),
            Some(Open::Dir(_)) => return Ok(ok(id)),
            None => return Err(StatusCode::Failure.with_message("Invalid handle")),
        };
        blocking(move || {
            if let Some(size) = attrs.size {
                file.set_len(size)?;
            }
            if let Some(mode) = attrs.permissions {
                file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
            Ok(())
        })
        .await?;
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        // unlink(2) refuses a directory (EISDIR) and removes a symlink itself.
        self.with_fs(move |fs| fs.remove_file(&filename)).await?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let mode = attrs.permissions.map(|p| p & 0o7777).unwrap_or(0o755);
        self.with_fs(move |fs| fs.create_dir_mode(&path, mode))
            .await?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        self.with_fs(move |fs| fs.remove_dir(&path)).await?;
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        // SFTP v3: renaming onto an existing name fails.
        self.with_fs(move |fs| fs.rename_noreplace(&oldpath, &newpath))
            .await?;
        Ok(ok(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let target = self.with_fs(move |fs| fs.read_link(&path)).await?;
        let target = target.to_string_lossy().into_owned();
        Ok(Name {
            id,
            files: vec![File {
                filename: target.clone(),
                longname: target,
                attrs: FileAttributes::default(),
            }],
        })
    }

    /// OpenSSH sends the target first and the link path second (the
    /// reverse of the draft's field order, which russh-sftp decodes by).
    /// The target is stored as written: an absolute one names a path
    /// inside the root, as every path here does.
    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        let (target, link) = (linkpath, targetpath);
        self.with_fs(move |fs| fs.symlink(&target, &link)).await?;
        Ok(ok(id))
    }
}

#[cfg(test)]
mod tests {
    use russh_sftp::server::Handler;

    use std::os::unix::fs::MetadataExt;

    use super::super::listing::SORTED_DIR_MAX;
    use super::*;
    use crate::instance::InstanceConfig;

    fn session() -> SftpSession {
        SftpSession::new(
            Instance::create(InstanceConfig::default()).unwrap(),
            "/root".into(),
            Arc::new(AtomicU64::new(0)),
        )
    }

    fn code(reply: StatusReply) -> StatusCode {
        reply.status_code
    }

    async fn list_all(s: &mut SftpSession, path: &str) -> Vec<String> {
        let handle = s.opendir(1, path.into()).await.unwrap().handle;
        let mut names = Vec::new();
        loop {
            match s.readdir(2, handle.clone()).await {
                Ok(batch) => {
                    assert!(batch.files.len() <= DIR_CHUNK);
                    names.extend(batch.files.into_iter().map(|f| f.filename));
                }
                Err(e) => {
                    assert_eq!(code(e), StatusCode::Eof);
                    break;
                }
            }
        }
        s.close(3, handle).await.unwrap();
        names
    }

    #[tokio::test]
    async fn a_small_directory_is_listed_sorted_with_dot_entries_first() {
        let mut s = session();
        let fs = s.instance.sandbox.fs("/");
        fs.create_dir_all("/t").unwrap();
        for name in ["b", "c", "a"] {
            fs.write(&format!("/t/{name}"), b"").unwrap();
        }
        fs.symlink("/etc", "/t/link").unwrap();
        assert_eq!(
            list_all(&mut s, "/t").await,
            [".", "..", "a", "b", "c", "link"]
        );
    }

    #[tokio::test]
    async fn a_large_directory_is_streamed_in_chunks_and_complete() {
        let mut s = session();
        let fs = s.instance.sandbox.fs("/");
        fs.create_dir_all("/big").unwrap();
        let count = SORTED_DIR_MAX * 2 + 7;
        for i in 0..count {
            fs.write(&format!("/big/f{i}"), b"").unwrap();
        }
        let mut names = list_all(&mut s, "/big").await;
        assert_eq!(names.len(), count + 2);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count + 2, "an entry was listed twice");
    }

    #[tokio::test]
    async fn open_handles_per_session_are_capped() {
        let mut s = session();
        s.instance.sandbox.fs("/").write("/root/f", b"x").unwrap();
        let mut handles = Vec::new();
        for i in 0..MAX_HANDLES {
            let h = s
                .open(
                    i as u32,
                    "f".into(),
                    OpenFlags::READ,
                    FileAttributes::default(),
                )
                .await
                .unwrap();
            handles.push(h.handle);
        }
        let refused = s
            .open(0, "f".into(), OpenFlags::READ, FileAttributes::default())
            .await;
        assert_eq!(code(refused.unwrap_err()), StatusCode::Failure);
        assert_eq!(
            code(s.opendir(0, "/".into()).await.unwrap_err()),
            StatusCode::Failure
        );
        s.close(0, handles.pop().unwrap()).await.unwrap();
        assert!(s.opendir(0, "/".into()).await.is_ok());
    }

    #[tokio::test]
    async fn rename_onto_an_existing_name_fails_and_keeps_both() {
        let mut s = session();
        let instance = s.instance.clone();
        let fs = instance.sandbox.fs("/root");
        fs.write("a", b"a").unwrap();
        fs.write("b", b"b").unwrap();
        let refused = s.rename(1, "a".into(), "b".into()).await.unwrap_err();
        assert_eq!(code(refused), StatusCode::Failure);
        assert_eq!(fs.read("b", 10).unwrap(), b"b");
        let missing = s.rename(1, "nope".into(), "c".into()).await.unwrap_err();
        assert_eq!(code(missing), StatusCode::NoSuchFile);
        s.rename(1, "a".into(), "c".into()).await.unwrap();
        assert_eq!(fs.read("c", 10).unwrap(), b"a");
    }

    #[tokio::test]
    async fn open_creates_with_the_requested_mode_and_refuses_directories() {
        let mut s = session();
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let attrs = FileAttributes {
            permissions: Some(0o600),
            ..FileAttributes::default()
        };
        s.open(1, "new".into(), flags, attrs).await.unwrap();
        let meta = s.instance.sandbox.fs("/root").metadata("new").unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        let dir = s
            .open(2, "/tmp".into(), OpenFlags::READ, FileAttributes::default())
            .await;
        assert_eq!(code(dir.unwrap_err()), StatusCode::Failure);
        // Creating without write access is refused, as std's OpenOptions does.
        let bad = s
            .open(
                3,
                "x".into(),
                OpenFlags::READ | OpenFlags::CREATE,
                FileAttributes::default(),
            )
            .await;
        assert_eq!(code(bad.unwrap_err()), StatusCode::Failure);
        assert!(!s.instance.sandbox.fs("/root").exists("x"));
    }
}
