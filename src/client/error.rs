//! The client's one error type.

use std::path::PathBuf;

use crate::jobs;

/// The client's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the client library can fail at: the job files' errors, plus
/// the client's own I/O, SSH and the progress parsers'.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the queue or status file, or a connection string.
    #[error(transparent)]
    Jobs(#[from] jobs::Error),
    /// A stream or signal of the client's own (stdin, stdout, a signal
    /// handler) failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done: "reading", "installing a signal handler", ...
        action: &'static str,
        /// The file concerned (`-` for a standard stream).
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Connecting or running a command over SSH failed.
    #[error(transparent)]
    Ssh(#[from] super::ssh::SshError),
    /// `--tool` named no known parser.
    #[error("unknown tool {0:?} (expected civitdl, wget, curl, hf, git, aria2c or auto)")]
    UnknownTool(String),
}
