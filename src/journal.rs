//! The command journal: every exec and shell command with who ran it,
//! what faults fired, how it ended and how much it printed. Bounded in
//! memory (oldest dropped, with a count), optionally appended to a JSONL
//! file, queryable and resettable.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Entries kept in memory unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// It exited (see `exit_code`).
    Exit,
    /// A signal or Ctrl-C ended it.
    Signal,
    /// The connection went away (the client's or a fault's doing).
    Disconnect,
    /// fakessh failed (a bug): the command ended with status 1.
    InternalError,
    /// A forward to a target nothing listens on (or that is not allowed)
    /// was refused: the client saw `open failed: connect failed`.
    Refused,
}

/// What a journal entry records: an `exec` request, one command of a
/// shell session, or an SFTP session (serialised as `exec`, `shell`, `sftp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A command sent with an `exec` request.
    Exec,
    /// One command typed or piped into a shell session.
    Shell,
    /// An SFTP (or OpenSSH 9 `scp`) session.
    Sftp,
    /// A `direct-tcpip` channel (`ssh -L`): its command is the target
    /// (`localhost:8188`).
    Forward,
    /// A request or node run of one of the instance's services that a
    /// fault bent (`comfyui KSampler`, `comfyui POST /prompt`).
    Service,
}

impl EntryKind {
    /// The name the JSON API and the JSONL file use.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Exec => "exec",
            EntryKind::Shell => "shell",
            EntryKind::Sftp => "sftp",
            EntryKind::Forward => "forward",
            EntryKind::Service => "service",
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Position in the journal since start (survives drops, not resets).
    pub seq: u64,
    /// When it started, RFC 3339 UTC.
    pub time: String,
    /// The instance id.
    pub instance: String,
    /// The SSH user.
    pub user: String,
    /// `SHA256:...` of the key the user logged in with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// The client's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// `exec`, `shell`, `sftp`, `forward` or `service`.
    pub kind: EntryKind,
    /// The command line.
    pub command: String,
    /// Ids of the fault rules that fired on it.
    pub faults: Vec<String>,
    /// The exit status, when it exited or was signalled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Bytes written to stdout.
    pub stdout_bytes: u64,
    /// Bytes written to stderr.
    pub stderr_bytes: u64,
    /// For a forward: bytes the client sent through it (`stdout_bytes`
    /// counts those sent back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_bytes: Option<u64>,
    /// Wall time it took.
    pub duration_ms: u64,
    /// How it ended.
    pub ended: Ending,
}

impl JournalEntry {
    /// The program the command line starts with after `cd`/`export`
    /// prefixes (`civitdl`, `wget`), as queries by tool see it.
    pub fn runs_tool(&self, tool: &str) -> bool {
        crate::cmdline::runs_program(&self.command, tool)
    }
}

/// Which entries a query wants; every field set must match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// A regex over the command line.
    pub regex: Option<String>,
    /// A program the command runs.
    pub tool: Option<String>,
    /// The instance id.
    pub instance: Option<String>,
    /// Entries with `seq` >= this.
    pub since: Option<u64>,
}

/// A query that cannot run.
#[derive(Debug, thiserror::Error)]
#[error("journal query: bad regex: {0}")]
pub struct QueryError(String);

struct Inner {
    entries: VecDeque<JournalEntry>,
    dropped: u64,
    next_seq: u64,
}

/// A bounded, queryable log of commands.
pub struct Journal {
    inner: Mutex<Inner>,
    capacity: usize,
    file: Option<FileWriter>,
}

/// Lines the file writer may hold before it drops new ones (with a warning):
/// a stalled disk never blocks a session nor grows memory without bound.
const FILE_BACKLOG: usize = 4096;

/// Appends the journal's JSON lines to a file from a thread of its own, so
/// recording an entry never waits on the disk or holds a lock while writing.
struct FileWriter {
    tx: std::sync::mpsc::SyncSender<ToFile>,
}

enum ToFile {
    Line(String),
    Flush(std::sync::mpsc::Sender<()>),
}

impl FileWriter {
    fn start(mut file: std::fs::File) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ToFile>(FILE_BACKLOG);
        std::thread::Builder::new()
            .name("fakessh-journal".into())
            .spawn(move || {
                // Ends when the journal (its sender) is dropped.
                for msg in rx {
                    match msg {
                        ToFile::Line(line) => {
                            if let Err(e) = file.write_all(line.as_bytes()) {
                                tracing::warn!("journal file: {e}");
                            }
                        }
                        ToFile::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        Ok(FileWriter { tx })
    }
}

impl Journal {
    /// An in-memory journal keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Journal {
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
                dropped: 0,
                next_seq: 1,
            }),
            capacity: capacity.max(1),
            file: None,
        }
    }

    /// Also appends every entry as a JSON line to `path`.
    pub fn with_file(mut self, path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        self.file = Some(FileWriter::start(file)?);
        Ok(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an entry (its `seq` is assigned here) and returns it.
    pub fn record(&self, mut entry: JournalEntry) -> JournalEntry {
        let mut inner = self.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.entries.len() >= self.capacity {
            inner.entries.pop_front();
            inner.dropped += 1;
        }
        inner.entries.push_back(entry.clone());
        if let Some(file) = &self.file {
            // Queued under the lock, so the file keeps `seq` order; written
            // by the writer's thread.
            if let Ok(mut line) = serde_json::to_string(&entry) {
                line.push('\n');
                if file.tx.try_send(ToFile::Line(line)).is_err() {
                    tracing::warn!(
                        "journal file: {FILE_BACKLOG} lines behind, entry {} left out",
                        entry.seq
                    );
                }
            }
        }
        drop(inner);
        entry
    }

    /// Waits until every entry recorded so far is in the journal file.
    pub fn flush(&self) {
        if let Some(file) = &self.file {
            let (done, wait) = std::sync::mpsc::channel();
            if file.tx.send(ToFile::Flush(done)).is_ok() {
                let _ = wait.recv();
            }
        }
    }

    /// Entries matching `query`, oldest first.
    pub fn query(&self, query: &Query) -> Result<Vec<JournalEntry>, QueryError> {
        let re = query
            .regex
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| QueryError(e.to_string()))?;
        Ok(self
            .lock()
            .entries
            .iter()
            .filter(|e| re.as_ref().is_none_or(|re| re.is_match(&e.command)))
            .filter(|e| query.tool.as_deref().is_none_or(|t| e.runs_tool(t)))
            .filter(|e| query.instance.as_deref().is_none_or(|i| e.instance == i))
            .filter(|e| query.since.is_none_or(|s| e.seq >= s))
            .cloned()
            .collect())
    }

    /// Every entry kept, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// How many entries were dropped to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Forgets every entry and the dropped count.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.dropped = 0;
    }
}

/// Now, as RFC 3339 UTC with milliseconds (`2026-11-26T10:53:00.123Z`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cmd: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            instance: "i1".into(),
            user: "root".into(),
            key_fingerprint: None,
            client: None,
            kind: EntryKind::Exec,
            command: cmd.into(),
            faults: vec![],
            exit_code: Some(0),
            stdout_bytes: 0,
            stderr_bytes: 0,
            received_bytes: None,
            duration_ms: 1,
            ended: Ending::Exit,
        }
    }

    #[test]
    fn kinds_serialise_as_lowercase_names() {
        let mut e = entry("ls");
        for (kind, name) in [
            (EntryKind::Exec, "exec"),
            (EntryKind::Shell, "shell"),
            (EntryKind::Sftp, "sftp"),
            (EntryKind::Forward, "forward"),
            (EntryKind::Service, "service"),
        ] {
            e.kind = kind;
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["kind"], name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::from_value::<JournalEntry>(json).unwrap(), e);
        }
    }

    #[test]
    fn oldest_entries_drop_past_capacity_with_a_count() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(entry(&format!("echo {i}")));
        }
        let kept: Vec<u64> = j.entries().iter().map(|e| e.seq).collect();
        assert_eq!(kept, [3, 4, 5]);
        assert_eq!(j.dropped(), 2);
        j.reset();
        assert!(j.entries().is_empty());
        assert_eq!(j.dropped(), 0);
    }

    #[test]
    fn queries_filter_by_regex_tool_and_since() {
        let j = Journal::new(10);
        j.record(entry("cd /tmp && civitdl 1 /x"));
        j.record(entry("wget -P /x https://h/f"));
        j.record(entry("echo civitdl-like"));
        let q = |q: Query| j.query(&q).unwrap().len();
        assert_eq!(
            q(Query {
                tool: Some("civitdl".into()),
                ..Query::default()
            }),
            1
        );
        assert_eq!(
            q(Query {
                regex: Some("^wget".into()),
                ..Query::default()
            }),
            1
        );
        assert_eq!(
            q(Query {
                since: Some(2),
                ..Query::default()
            }),
            2
        );
        assert!(j
            .query(&Query {
                regex: Some("(".into()),
                ..Query::default()
            })
            .is_err());
    }

    #[test]
    fn entries_are_appended_to_a_jsonl_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let j = Journal::new(10).with_file(&path).unwrap();
        j.record(entry("echo a"));
        j.record(entry("echo b"));
        j.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<JournalEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].command, "echo b");
    }
}
