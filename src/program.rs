//! What a running program sees: its arguments, environment, working
//! directory, standard streams and the instance it runs on.
//!
//! This is the one interface between the shell (which parses and wires up
//! commands) and everything it runs: the utilities in `shell::builtins` and
//! the emulated tools in `tools`. Programs never see the SSH layer: output
//! goes to an [`Output`] whose sink the server (or a pipe, a file, a capture)
//! provides, with backpressure, so a long transfer never sits in memory.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Mutex;

use crate::instance::Instance;

/// Where a program's bytes go: an SSH channel stream, a pipe, a file, a buffer.
#[async_trait]
pub trait ByteSink: Send + Sync {
    /// Writes all of `data`, waiting while the reader is behind.
    async fn write_all(&self, data: &[u8]) -> io::Result<()>;
}

/// A terminal's size, shared with the server so window-change requests
/// reach programs that are already running.
#[derive(Clone, Debug)]
pub struct Terminal {
    cols: Arc<AtomicU16>,
    rows: Arc<AtomicU16>,
}

impl Terminal {
    /// A terminal of `cols` x `rows` cells.
    pub fn new(cols: u16, rows: u16) -> Self {
        Terminal {
            cols: Arc::new(AtomicU16::new(cols)),
            rows: Arc::new(AtomicU16::new(rows)),
        }
    }
    /// Current width in columns (80 when the client sent 0).
    pub fn cols(&self) -> u16 {
        match self.cols.load(Ordering::Relaxed) {
            0 => 80,
            c => c,
        }
    }
    /// Current height in rows (24 when the client sent 0).
    pub fn rows(&self) -> u16 {
        match self.rows.load(Ordering::Relaxed) {
            0 => 24,
            r => r,
        }
    }
    /// Applies a window-change request.
    pub fn resize(&self, cols: u16, rows: u16) {
        self.cols.store(cols, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
    }
}

/// One output stream of a program (stdout or stderr). Cheap to clone, so
/// `2>&1` is a clone of stdout.
#[derive(Clone)]
pub struct Output {
    sink: Arc<dyn ByteSink>,
    terminal: Option<Terminal>,
}

impl Output {
    /// An output into `sink`; `terminal` is `Some` when the stream is a tty.
    pub fn new(sink: Arc<dyn ByteSink>, terminal: Option<Terminal>) -> Self {
        Output { sink, terminal }
    }

    /// A file of the instance (`>`, `>>`, `tee`): each write runs on a
    /// blocking thread and counts against the instance's disk quota.
    pub fn file(file: crate::instance::disk::File) -> Self {
        let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
        Output::new(
            Arc::new(FileSink {
                file: Arc::new(file),
                regular,
            }),
            None,
        )
    }

    /// `/dev/null`.
    pub fn null() -> Self {
        Output::new(Arc::new(NullSink), None)
    }

    /// An in-memory capture, read back with [`Capture::bytes`].
    pub fn capture() -> (Self, Capture) {
        Self::capture_limited(usize::MAX)
    }

    /// An in-memory capture of at most `limit` bytes: a write past it fails
    /// (the writer stops as on a closed pipe) and [`Capture::overflowed`]
    /// tells so.
    pub fn capture_limited(limit: usize) -> (Self, Capture) {
        let cap = Capture {
            limit,
            ..Capture::default()
        };
        (Output::new(Arc::new(cap.clone()), None), cap)
    }

    /// Writes bytes (or a string) to the stream.
    pub async fn write(&self, data: impl AsRef<[u8]>) -> io::Result<()> {
        // Every write may yield: a program writing to a sink that is always
        // ready (`/dev/null`, a capture) never holds a runtime thread, and
        // the session's end can stop it.
        tokio::task::consume_budget().await;
        crate::instance::detached::pace().await;
        let data = data.as_ref();
        if data.is_empty() {
            return Ok(());
        }
        self.sink.write_all(data).await
    }

    /// The terminal behind this stream, when it is a tty (`isatty`).
    pub fn terminal(&self) -> Option<&Terminal> {
        self.terminal.as_ref()
    }

    /// Whether this stream is a tty.
    pub fn is_tty(&self) -> bool {
        self.terminal.is_some()
    }
}

struct NullSink;

struct FileSink {
    file: Arc<crate::instance::disk::File>,
    // A regular file's small write never waits for a reader.
    regular: bool,
}

/// Writes up to this size go to a regular file on the runtime thread: the
/// page cache takes them at once, and a thread hand-off would cost more than
/// the write (a loop of `echo x > f` would spend its time switching threads).
const INLINE_WRITE: usize = 64 * 1024;

#[async_trait]
impl ByteSink for FileSink {
    async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        if self.regular && data.len() <= INLINE_WRITE {
            return self.file.write_all_shared(data);
        }
        // A fifo or device may block; a big write may take a while.
        let file = self.file.clone();
        let data = data.to_vec();
        tokio::task::spawn_blocking(move || file.write_all_shared(&data))
            .await
            .map_err(io::Error::other)?
    }
}

#[async_trait]
impl ByteSink for NullSink {
    async fn write_all(&self, _data: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

/// An in-memory sink, for command substitution and tests.
#[derive(Clone)]
pub struct Capture {
    buf: Arc<std::sync::Mutex<Vec<u8>>>,
    limit: usize,
    overflowed: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            buf: Arc::default(),
            limit: usize::MAX,
            overflowed: Arc::default(),
        }
    }
}

impl Capture {
    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Whether a write was refused for going past the limit.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }
    /// Everything written so far, as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

#[async_trait]
impl ByteSink for Capture {
    async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let mut buf = self
            .buf
            .lock()
            .map_err(|_| io::Error::other("capture poisoned"))?;
        if buf.len().saturating_add(data.len()) > self.limit {
            self.overflowed.store(true, Ordering::Relaxed);
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "Cannot allocate memory",
            ));
        }
        buf.extend_from_slice(data);
        Ok(())
    }
}

/// A program's standard input.
#[derive(Clone)]
pub struct Input {
    reader: Option<Arc<Mutex<Box<dyn AsyncRead + Send + Unpin>>>>,
    terminal: Option<Terminal>,
}

impl Input {
    /// An input at end of file (`< /dev/null`).
    pub fn empty() -> Self {
        Input {
            reader: None,
            terminal: None,
        }
    }

    /// An input read from `reader`.
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static) -> Self {
        Input {
            reader: Some(Arc::new(Mutex::new(Box::new(reader)))),
            terminal: None,
        }
    }

    /// An input holding these bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Input::from_reader(std::io::Cursor::new(bytes))
    }

    /// Marks this input as a terminal.
    pub fn with_terminal(mut self, terminal: Option<Terminal>) -> Self {
        self.terminal = terminal;
        self
    }

    /// Whether stdin is a tty.
    pub fn is_tty(&self) -> bool {
        self.terminal.is_some()
    }

    /// Reads up to `buf.len()` bytes; 0 means end of input.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        tokio::task::consume_budget().await;
        match &self.reader {
            None => Ok(0),
            Some(r) => r.lock().await.read(buf).await,
        }
    }

    /// Reads everything up to end of input, refusing more than `limit` bytes.
    pub async fn read_to_end(&self, limit: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.read(&mut buf).await?;
            if n == 0 {
                return Ok(out);
            }
            if out.len() + n > limit {
                return Err(io::Error::other("input too large"));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

/// The pid of a session's login shell (`$$`, and its line in `ps`): one
/// per connection, from the client's port in `SSH_CONNECTION`.
pub fn session_pid(env: &BTreeMap<String, String>) -> Option<u32> {
    let port: u32 = env.get("SSH_CONNECTION")?.split(' ').nth(1)?.parse().ok()?;
    Some(1000 + port % 30_000)
}

/// Everything a program gets when it runs.
pub struct Ctx {
    /// `argv[0]` is the name the program was called by.
    pub argv: Vec<String>,
    /// The exported environment.
    pub env: BTreeMap<String, String>,
    /// The working directory, as a path inside the instance.
    pub cwd: String,
    /// Standard input.
    pub stdin: Input,
    /// Standard output.
    pub stdout: Output,
    /// Standard error.
    pub stderr: Output,
    /// The machine the program runs on: identity, file tree, clock.
    pub instance: Arc<Instance>,
    /// The faults that fired for this run (empty on a good day).
    pub faults: crate::faults::FaultPlan,
}

impl Ctx {
    /// The program's arguments after `argv[0]`.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }

    /// The program's name as called (`argv[0]`).
    pub fn name(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }

    /// Writes to stdout, ignoring a reader that went away (as with SIGPIPE,
    /// the program should stop; `out` tells it so by returning `false`).
    /// Any other failure (a full disk) is reported as coreutils do:
    /// `seq: write error: No space left on device`.
    pub async fn out(&self, data: impl AsRef<[u8]>) -> bool {
        match self.stdout.write(data).await {
            Ok(()) => true,
            Err(e) => {
                if e.kind() != io::ErrorKind::BrokenPipe && e.raw_os_error().is_some() {
                    let msg = format!("{}: write error: {}\n", self.name(), strerror(&e));
                    let _ = self.stderr.write(msg).await;
                }
                false
            }
        }
    }

    /// Writes to stderr; `false` when the reader is gone.
    pub async fn err(&self, data: impl AsRef<[u8]>) -> bool {
        self.stderr.write(data).await.is_ok()
    }

    /// The instance's file tree seen from the working directory: every file
    /// operation a program makes goes through it (kernel-confined).
    pub fn fs(&self) -> crate::instance::sandbox::Fs<'_> {
        self.instance.sandbox.fs(&self.cwd)
    }
}

/// A command the shell can run: a utility (`ls`, `find`) or an emulated
/// tool (`wget`, `civitdl`). Returns the exit status.
#[async_trait]
pub trait Program: Send + Sync {
    /// Runs to completion (or until the future is dropped, as on Ctrl-C).
    async fn run(&self, ctx: &mut Ctx) -> i32;
}

/// The text of an `io::Error` as GNU tools print it (`No such file or directory`).
pub fn strerror(e: &io::Error) -> String {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => "No such file or directory".into(),
        PermissionDenied => "Permission denied".into(),
        AlreadyExists => "File exists".into(),
        NotADirectory => "Not a directory".into(),
        IsADirectory => "Is a directory".into(),
        DirectoryNotEmpty => "Directory not empty".into(),
        InvalidInput => "Invalid argument".into(),
        StorageFull => "No space left on device".into(),
        _ => match e.raw_os_error() {
            Some(code) => {
                // Strip Rust's " (os error N)" suffix.
                let s = io::Error::from_raw_os_error(code).to_string();
                s.split(" (os error").next().unwrap_or(&s).to_string()
            }
            None => e.to_string(),
        },
    }
}
