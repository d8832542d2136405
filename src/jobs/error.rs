//! The job files' one error type.

use std::path::PathBuf;

/// The job files' result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything reading, changing or writing the job files can fail at; each
/// variant carries the context (file, job id, input) needed to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written, locked or renamed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done: "reading", "locking", ...
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A queue or status file holds something other than a JSON array.
    #[error("{} is corrupt (not a JSON array of objects)", path.display())]
    Corrupt {
        /// The corrupt file.
        path: PathBuf,
        /// Why it did not parse.
        source: serde_json::Error,
    },
    /// One record of a file lacks a field or has a wrong type; the other
    /// records are fine.
    #[error("{} record {index} (id {id:?}) is invalid", path.display())]
    InvalidRecord {
        /// The file holding the record.
        path: PathBuf,
        /// Its position in the array.
        index: usize,
        /// Its `id`, when it has one.
        id: Option<String>,
        /// The missing or mistyped field.
        source: serde_json::Error,
    },
    /// No job (or status entry) has this id.
    #[error("unknown job id {id:?}")]
    UnknownJob {
        /// The id asked for.
        id: String,
    },
    /// A job with this id already exists.
    #[error("duplicate job id {id:?}")]
    DuplicateJob {
        /// The id that is already taken.
        id: String,
    },
    /// A record could not be turned into JSON.
    #[error("serialising a record")]
    Serialize(#[source] serde_json::Error),
    /// An ssh connection string could not be understood.
    #[error("connection string {input:?}: {reason}")]
    Connection {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The blocking task doing the file work panicked or was cancelled
    /// (see [`blocking`](super::blocking)).
    #[error("a blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}
