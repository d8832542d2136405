//! Where a body goes: stdout, nowhere (`/dev/null`), or a file opened at
//! the first byte as curl opens it (`tool_create_output_file`): `-J` names
//! never overwrite, `-C` appends, `--create-dirs` makes the directories.
//! Zeros grow the file sparsely (a download's content); real bytes (text
//! bodies, `-i` headers) are written as they are.

use crate::instance::disk;
use crate::instance::sandbox::OpenOptions;
use crate::program::{strerror, Ctx};
use crate::tools::files;
use crate::tools::out::Streams;

/// The destination of one URL's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Stdout,
    /// `-o /dev/null`: written, kept nowhere.
    Null,
    File(String),
}

/// Why a write failed.
pub(super) enum WriteError {
    /// The file could not be opened: the warning's text.
    Open(String),
    /// The disk or the reader refused the bytes.
    Write,
}

/// One URL's output.
pub(super) struct Output {
    pub(super) target: Target,
    /// A `-J` name: an existing file is not overwritten.
    pub(super) exclusive: bool,
    /// Resuming: the file is appended to at this size.
    pub(super) init: u64,
    pub(super) create_dirs: bool,
    file: Option<disk::File>,
    /// Bytes written on this try.
    pub(super) bytes: u64,
}

impl Output {
    pub(super) fn new(target: Target, exclusive: bool, init: u64, create_dirs: bool) -> Self {
        Output {
            target,
            exclusive,
            init,
            create_dirs,
            file: None,
            bytes: 0,
        }
    }

    /// The file's name, when the body goes to one.
    pub(super) fn file_name(&self) -> Option<&str> {
        match &self.target {
            Target::File(f) => Some(f),
            _ => None,
        }
    }

    /// Opens the file (first write, or an empty body at the end).
    pub(super) fn open(&mut self, ctx: &Ctx) -> Result<(), WriteError> {
        let Target::File(name) = &self.target else {
            return Ok(());
        };
        if self.file.is_some() {
            return Ok(());
        }
        if self.create_dirs {
            if let Some((dir, _)) = name.rsplit_once('/').filter(|(d, _)| !d.is_empty()) {
                let _ = files::create_dir_all(ctx, dir);
            }
        }
        let opts = if self.init > 0 {
            OpenOptions::new().write(true).create(true)
        } else if self.exclusive {
            OpenOptions::new().write(true).create_new(true)
        } else {
            OpenOptions::new().write(true).create(true).truncate(true)
        };
        match ctx.fs().open(name, opts) {
            Ok(f) => {
                if self.init > 0 {
                    // Appending: the part past the resume point is not kept.
                    let _ = f.set_len(self.init);
                }
                self.file = Some(f);
                Ok(())
            }
            Err(e) => Err(WriteError::Open(format!(
                "Failed to open the file {name}: {}\n",
                strerror(&e)
            ))),
        }
    }

    /// Writes `n` bytes: `data` when real, zeros otherwise.
    pub(super) async fn write(
        &mut self,
        ctx: &Ctx,
        io: &mut Streams,
        data: Option<&[u8]>,
        n: u64,
    ) -> Result<(), WriteError> {
        match self.target {
            Target::Null => {}
            Target::Stdout => match data {
                Some(d) => {
                    if !io.out(d).await {
                        return Err(WriteError::Write);
                    }
                }
                None => {
                    let mut left = n;
                    while left > 0 {
                        let c = left.min(64 * 1024) as usize;
                        if !io.out(vec![0u8; c]).await {
                            return Err(WriteError::Write);
                        }
                        left -= c as u64;
                    }
                }
            },
            Target::File(_) => {
                self.open(ctx)?;
                let Some(f) = &self.file else {
                    return Err(WriteError::Write);
                };
                let at = self.init + self.bytes;
                let done = match data {
                    Some(d) => f.write_all_at(d, at),
                    None => f.set_len(at.saturating_add(n)),
                };
                if done.is_err() {
                    return Err(WriteError::Write);
                }
            }
        }
        self.bytes += n;
        Ok(())
    }

    /// `--retry` on a written file: back to where this try started.
    pub(super) fn rewind(&mut self) {
        if let Some(f) = &self.file {
            let _ = f.set_len(self.init);
        }
        self.bytes = 0;
    }

    /// Closes the file at the end of the URL.
    pub(super) fn close(&mut self) {
        self.file = None;
    }
}
