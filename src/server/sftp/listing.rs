//! Directory listings as SFTP sends them: attributes shown as the
//! instance owns them (root), `ls -l` long names, and a directory's entries
//! read a chunk at a time (small ones sorted).

use std::collections::VecDeque;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;

use russh_sftp::protocol::{File, FileAttributes};

use crate::instance::sandbox::{DirStream, Fs};

/// Directory entries sent per `readdir` reply.
pub(super) const DIR_CHUNK: usize = 100;
/// Directories with at most this many entries are listed sorted by name;
/// larger ones are streamed in the file system's order, a chunk at a time.
pub(super) const SORTED_DIR_MAX: usize = 512;

/// An open directory: entries ready to send, then (for a large directory)
/// the rest still to read from its handle.
pub(super) struct DirListing {
    /// Name records to send, in order.
    pub ready: VecDeque<File>,
    /// The directory's handle while entries are left to read.
    pub rest: Option<DirStream>,
}

/// Attributes as the instance shows them: owned by root.
pub(super) fn attrs(meta: &Metadata) -> FileAttributes {
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
    let mode = crate::shell::builtins::mode_text(meta);
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.mtime().max(0) as u64);
    let date = humantime::format_rfc3339_seconds(mtime).to_string();
    // 2026-01-02T03:04:05Z -> 2026-01-02 03:04
    let date = date.get(..16).unwrap_or(&date).replace('T', " ");
    format!(
        "{mode} {:>3} root     root     {:>12} {date} {name}",
        meta.nlink(),
        meta.len()
    )
}

/// A `readdir` name record.
fn dir_file(name: String, meta: &Metadata) -> File {
    File {
        longname: longname(&name, meta),
        attrs: attrs(meta),
        filename: name,
    }
}

pub(super) fn dir_files(batch: Vec<(std::ffi::OsString, Metadata)>) -> impl Iterator<Item = File> {
    batch
        .into_iter()
        .map(|(name, meta)| dir_file(name.to_string_lossy().into_owned(), &meta))
}

/// Opens a directory and reads its first entries: all of them, sorted, when
/// it is small; the first ones in the file system's order otherwise.
pub(super) fn list_dir(fs: Fs<'_>, path: &str) -> io::Result<DirListing> {
    let mut stream = fs.open_dir(path)?;
    let meta = stream.metadata().clone();
    let mut ready: VecDeque<File> = VecDeque::new();
    ready.push_back(dir_file(".".into(), &meta));
    ready.push_back(dir_file("..".into(), &meta));
    let mut first = stream.next_batch(SORTED_DIR_MAX + 1)?;
    if first.len() <= SORTED_DIR_MAX {
        first.sort_by(|a, b| a.0.cmp(&b.0));
        ready.extend(dir_files(first));
        return Ok(DirListing { ready, rest: None });
    }
    ready.extend(dir_files(first));
    Ok(DirListing {
        ready,
        rest: Some(stream),
    })
}
