//! The `sftp` subsystem (what `sftp` and OpenSSH 9's `scp` speak), served
//! over the instance's sandbox. Every path goes through the sandbox's
//! resolver first, so the host OS never follows a link we did not read.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use russh::server::Msg;
use russh::{Channel, ChannelMsg};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use tokio::io::AsyncWriteExt;

use super::channel::{ActiveGuard, ChannelContext};
use crate::instance::Instance;
use crate::journal::{now_rfc3339, JournalEntry};

/// Directory entries sent per `readdir` reply.
const DIR_CHUNK: usize = 100;
/// Largest read served at once (OpenSSH asks for up to 256 KiB).
const MAX_READ: u32 = 256 * 1024;
/// Each direction of the pipe to the SFTP server.
const PIPE_BUFFER: usize = 512 * 1024;

/// Serves the sftp subsystem on this channel until the client is done,
/// then sends exit-status 0, eof and close (OpenSSH's `scp` fails without
/// the exit status). The SFTP server runs in its own task on one end of a
/// pipe; this task pumps the channel's data through the other end.
pub(super) async fn serve(channel: Channel<Msg>, cx: ChannelContext, guard: ActiveGuard) {
    let cwd = if cx.user == "root" {
        "/root".to_string()
    } else {
        format!("/home/{}", cx.user)
    };
    tracing::info!(user = %cx.user, peer = ?cx.peer, "sftp session");
    let started = Instant::now();
    let time = now_rfc3339();
    let sent = Arc::new(AtomicU64::new(0));
    let session = SftpSession {
        instance: cx.instance.clone(),
        cwd,
        handles: HashMap::new(),
        next_handle: 0,
        sent: sent.clone(),
    };
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    russh_sftp::server::run(theirs, session).await;
    let (mut from_sftp, mut to_sftp) = tokio::io::split(ours);
    let (mut rx, tx) = channel.split();
    let mut to_client = tx.make_writer();
    // Both directions at once: a blocked request must not stall a reply.
    let inbound = async move {
        while let Some(msg) = rx.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    let written = to_sftp.write_all(&data).await;
                    if written.is_err() {
                        break;
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        // The SFTP server ends when its input does.
        let _ = to_sftp.shutdown().await;
    };
    let outbound = async {
        let copied = tokio::io::copy(&mut from_sftp, &mut to_client).await;
        let _ = to_client.flush().await;
        copied
    };
    let ((), copied) = tokio::join!(inbound, outbound);
    if let Err(e) = copied {
        tracing::debug!(error = %e, "sftp: client went away");
    }
    cx.instance.journal.record(JournalEntry {
        time,
        exit_code: Some(0),
        stdout_bytes: sent.load(Ordering::Relaxed),
        duration_ms: started.elapsed().as_millis() as u64,
        ..cx.journal_entry("sftp", "sftp".into())
    });
    let _ = tx.exit_status(0).await;
    let _ = tx.eof().await;
    let _ = tx.close().await;
    drop(guard);
}

/// An open handle.
enum Open {
    File(Arc<std::fs::File>),
    Dir(Vec<File>),
}

/// One client's SFTP session.
struct SftpSession {
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

/// Attributes as the instance shows them: owned by root.
fn attrs(meta: &Metadata) -> FileAttributes {
    FileAttributes {
        size: Some(meta.len()),
        uid: Some(0),
        user: None,
        gid: Some(0),
        group: None,
        permissions: Some(meta.mode()),
        atime: Some(meta.atime().clamp(0, u32::MAX as i64) as u32),
        mtime: Some(meta.mtime().clamp(0, u32::MAX as i64) as u32),
    }
}

/// An `ls -l` line for a directory entry.
fn longname(name: &str, meta: &Metadata) -> String {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = meta.mode();
    let mut perms = String::with_capacity(9);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.mtime().max(0) as u64);
    let date = humantime::format_rfc3339_seconds(mtime).to_string();
    // 2026-01-02T03:04:05Z -> 2026-01-02 03:04
    let date = date.get(..16).unwrap_or(&date).replace('T', " ");
    format!(
        "{kind}{perms} {:>3} root     root     {:>12} {date} {name}",
        meta.nlink(),
        meta.len()
    )
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
    fn resolve(&self, path: &str) -> Result<PathBuf, StatusReply> {
        self.instance
            .sandbox
            .resolve(&self.cwd, path)
            .map_err(status_error)
    }

    fn resolve_nofollow(&self, path: &str) -> Result<PathBuf, StatusReply> {
        self.instance
            .sandbox
            .resolve_nofollow(&self.cwd, path)
            .map_err(status_error)
    }

    fn add_handle(&mut self, open: Open) -> String {
        self.next_handle += 1;
        let handle = self.next_handle.to_string();
        self.handles.insert(handle.clone(), open);
        handle
    }

    fn file(&self, handle: &str) -> Result<Arc<std::fs::File>, StatusReply> {
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
        let virt = self
            .instance
            .sandbox
            .fs(&self.cwd)
            .canonical(&path)
            .map_err(status_error)?;
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
        let host = self.resolve(&path)?;
        let meta = blocking(move || std::fs::symlink_metadata(host)).await?;
        Ok(Attrs {
            id,
            attrs: attrs(&meta),
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let host = self.resolve_nofollow(&path)?;
        let meta = blocking(move || std::fs::symlink_metadata(host)).await?;
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
        let host = self.resolve(&path)?;
        let entries = blocking(move || {
            let meta = std::fs::symlink_metadata(&host)?;
            if !meta.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "Not a directory",
                ));
            }
            let mut files = vec![
                File {
                    filename: ".".into(),
                    longname: longname(".", &meta),
                    attrs: attrs(&meta),
                },
                File {
                    filename: "..".into(),
                    longname: longname("..", &meta),
                    attrs: attrs(&meta),
                },
            ];
            let mut names: Vec<(String, Metadata)> = Vec::new();
            for entry in std::fs::read_dir(&host)? {
                let entry = entry?;
                let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                    continue;
                };
                names.push((entry.file_name().to_string_lossy().into_owned(), meta));
            }
            names.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, meta) in names {
                files.push(File {
                    longname: longname(&name, &meta),
                    attrs: attrs(&meta),
                    filename: name,
                });
            }
            Ok(files)
        })
        .await?;
        let handle = self.add_handle(Open::Dir(entries));
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir(entries)) => {
                if entries.is_empty() {
                    return Err(StatusCode::Eof.into());
                }
                let n = entries.len().min(DIR_CHUNK);
                let files: Vec<File> = entries.drain(..n).collect();
                Ok(Name { id, files })
            }
            Some(Open::File(_)) => Err(StatusCode::Failure.with_message("Not a directory")),
            None => Err(StatusCode::Failure.with_message("Invalid handle")),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let host = self.resolve(&filename)?;
        let mode = attrs.permissions.map(|p| p & 0o7777);
        let file = blocking(move || {
            if let Ok(meta) = std::fs::symlink_metadata(&host) {
                if meta.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        "Is a directory",
                    ));
                }
            }
            let mut options: std::fs::OpenOptions = pflags.into();
            if !pflags.intersects(OpenFlags::READ | OpenFlags::WRITE | OpenFlags::APPEND) {
                options.read(true);
            }
            if let Some(mode) = mode {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(mode);
            }
            options.open(&host)
        })
        .await?;
        let handle = self.add_handle(Open::File(Arc::new(file)));
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
        let host = self.resolve(&path)?;
        blocking(move || {
            if let Some(size) = attrs.size {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&host)?
                    .set_len(size)?;
            }
            if let Some(mode) = attrs.permissions {
                std::fs::set_permissions(&host, std::fs::Permissions::from_mode(mode & 0o7777))?;
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
        let host = self.resolve_nofollow(&filename)?;
        blocking(move || {
            if std::fs::symlink_metadata(&host)?.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "Is a directory",
                ));
            }
            std::fs::remove_file(&host)
        })
        .await?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let host = self.resolve_nofollow(&path)?;
        let mode = attrs.permissions.map(|p| p & 0o7777).unwrap_or(0o755);
        blocking(move || {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(mode).create(&host)
        })
        .await?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        let host = self.resolve_nofollow(&path)?;
        blocking(move || std::fs::remove_dir(&host)).await?;
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let from = self.resolve_nofollow(&oldpath)?;
        let to = self.resolve_nofollow(&newpath)?;
        blocking(move || {
            std::fs::symlink_metadata(&from)?;
            // SFTP v3: renaming onto an existing name fails.
            if std::fs::symlink_metadata(&to).is_ok() {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "File exists"));
            }
            std::fs::rename(&from, &to)
        })
        .await?;
        Ok(ok(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let host = self.resolve_nofollow(&path)?;
        let target = blocking(move || std::fs::read_link(&host)).await?;
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
    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        let (target, link) = (linkpath, targetpath);
        let host = self.resolve_nofollow(&link)?;
        blocking(move || std::os::unix::fs::symlink(&target, &host)).await?;
        Ok(ok(id))
    }
}
