//! What every session channel shares, whatever it turns into (exec, shell
//! or sftp): who is on the connection, the counters that bound it, how a
//! journal entry starts, and the close sequence that ends the channel.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use russh::server::Msg;
use russh::ChannelWriteHalf;

use crate::instance::Instance;
use crate::journal::{now_rfc3339, Ending, EntryKind, JournalEntry};

/// What a channel knows about its connection.
#[derive(Clone)]
pub(super) struct ChannelContext {
    pub instance: Arc<Instance>,
    pub user: String,
    pub peer: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    pub active: Arc<AtomicUsize>,
    pub open_here: Arc<AtomicUsize>,
    pub key_fingerprint: Option<String>,
    pub handle: russh::server::Handle,
}

impl ChannelContext {
    /// A journal entry for a command on this connection, with who ran it
    /// and from where; the caller fills in how it went.
    pub(super) fn journal_entry(&self, kind: EntryKind, command: String) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            instance: self.instance.config.id.clone(),
            user: self.user.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            client: self.peer.map(|p| p.to_string()),
            kind,
            command,
            faults: Vec::new(),
            exit_code: None,
            stdout_bytes: 0,
            stderr_bytes: 0,
            received_bytes: None,
            duration_ms: 0,
            ended: Ending::Exit,
        }
    }

    /// Counts the channel as active (server-wide and on this connection)
    /// until the guard drops. The counters were raised when the channel
    /// was accepted, so a burst of opens sees them at once.
    pub(super) fn active_guard(&self) -> ActiveGuard {
        ActiveGuard(vec![self.active.clone(), self.open_here.clone()])
    }
}

/// Counts the channel as active until dropped, whatever way the task ends.
pub(super) struct ActiveGuard(Vec<Arc<AtomicUsize>>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        for counter in &self.0 {
            counter.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Ends a channel as OpenSSH expects: exit-status, then eof, then close.
/// A missing close hangs OpenSSH; a missing exit status fails its `scp`.
/// The client may be gone already, so each step's error is ignored.
pub(super) async fn close_with_status(tx: &ChannelWriteHalf<Msg>, status: i32) {
    let _ = tx.exit_status(status as u32 & 0xff).await;
    let _ = tx.eof().await;
    let _ = tx.close().await;
}
