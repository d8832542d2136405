//! [`ChannelIo`]: everything an exec or shell channel carries once its
//! request arrived — the connection's context, both halves of the channel,
//! the pty, the environment the client sent, and the byte counters the
//! journal reads — with the few things done with them: the command's
//! outputs, its login environment, its journal entry, and the channel's end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use russh::server::Msg;
use russh::{ChannelReadHalf, ChannelWriteHalf};

use super::Ended;
use crate::instance::BannerMode;
use crate::journal::{now_rfc3339, EntryKind, JournalEntry};
use crate::program::{Input, Output, Terminal};
use crate::server::context::{close_with_status, ChannelContext};
use crate::server::sink::{ChannelSink, CountingSink};
use crate::shell::{CommandTrace, Shell, Stdio};

/// The pty a client asked for.
pub(super) struct PtyState {
    pub terminal: Terminal,
    pub term: String,
    /// Turn `\n` into `\r\n` (unless the client's modes cleared ONLCR).
    pub onlcr: bool,
}

impl PtyState {
    /// Applies a window-change request.
    pub fn resize(&self, col_width: u32, row_height: u32) {
        self.terminal.resize(clamp(col_width), clamp(row_height));
    }
}

/// A terminal size from the wire, saturated to what a terminal holds.
pub(super) fn clamp(v: u32) -> u16 {
    v.min(u32::from(u16::MAX)) as u16
}

/// Bytes the channel's commands wrote, per stream.
#[derive(Default)]
pub(super) struct Counters {
    pub stdout: Arc<AtomicU64>,
    pub stderr: Arc<AtomicU64>,
}

impl Counters {
    fn now(&self) -> (u64, u64) {
        (
            self.stdout.load(Ordering::Relaxed),
            self.stderr.load(Ordering::Relaxed),
        )
    }
}

/// One exec or shell channel after its request: what was passed down
/// through every function of a run, named once.
pub(super) struct ChannelIo {
    pub cx: ChannelContext,
    pub rx: ChannelReadHalf,
    pub tx: Arc<ChannelWriteHalf<Msg>>,
    pub pty: Option<PtyState>,
    /// Variables the client sent with `env` requests.
    pub sent_env: BTreeMap<String, String>,
    /// The client sent eof before the request.
    pub eof: bool,
    pub counters: Counters,
}

/// When a command started and what the channel had written by then, for
/// its journal entry.
pub(super) struct Started {
    time: String,
    at: Instant,
    before: (u64, u64),
}

impl ChannelIo {
    /// stdout and stderr for the channel's commands, counted: separate
    /// without a pty; merged under a pty, where every byte counts as stdout.
    pub fn outputs(&self) -> (Output, Output) {
        match &self.pty {
            Some(p) => {
                let out = Output::new(
                    Arc::new(ChannelSink::stdout(self.tx.clone(), p.onlcr)),
                    Some(p.terminal.clone()),
                );
                let out = CountingSink::wrap(out, &self.counters.stdout);
                (out.clone(), out)
            }
            None => (
                CountingSink::wrap(
                    Output::new(Arc::new(ChannelSink::stdout(self.tx.clone(), false)), None),
                    &self.counters.stdout,
                ),
                CountingSink::wrap(
                    Output::new(Arc::new(ChannelSink::stderr(self.tx.clone())), None),
                    &self.counters.stderr,
                ),
            ),
        }
    }

    /// The pty's terminal, for the stdin of a command run on it.
    pub fn terminal(&self) -> Option<Terminal> {
        self.pty.as_ref().map(|p| p.terminal.clone())
    }

    /// The login environment plus what the client sent and SSH's own
    /// variables. Takes the sent variables: a channel logs in once.
    pub fn login_env(&mut self) -> BTreeMap<String, String> {
        let cx = &self.cx;
        let mut env = cx.instance.login_env(&cx.user);
        if let (Some(peer), Some(local)) = (cx.peer, cx.local) {
            env.insert(
                "SSH_CLIENT".into(),
                format!("{} {} {}", peer.ip(), peer.port(), local.port()),
            );
            env.insert(
                "SSH_CONNECTION".into(),
                format!(
                    "{} {} {} {}",
                    peer.ip(),
                    peer.port(),
                    local.ip(),
                    local.port()
                ),
            );
        }
        if let Some(p) = &self.pty {
            env.insert("TERM".into(), p.term.clone());
            env.insert("SSH_TTY".into(), "/dev/pts/0".into());
        }
        env.extend(std::mem::take(&mut self.sent_env));
        env
    }

    /// A login shell for a shell request, with its stdio (no stdin of its
    /// own: the session reads the client's input) and the banner written
    /// unless it is off.
    pub async fn login_shell(&mut self, banner: bool) -> (Shell, Stdio) {
        let (stdout, stderr) = self.outputs();
        let instance = self.cx.instance.clone();
        if banner && instance.config.banner != BannerMode::Off {
            let _ = stderr.write(instance.banner()).await;
        }
        let stdio = Stdio {
            stdin: Input::empty().with_terminal(self.terminal()),
            stdout,
            stderr,
        };
        (Shell::new(instance, self.login_env()), stdio)
    }

    /// Marks the start of a command for [`ChannelIo::record`].
    pub fn started(&self) -> Started {
        Started {
            time: now_rfc3339(),
            at: Instant::now(),
            before: self.counters.now(),
        }
    }

    /// Journals one command: what fired on it, how it ended, and the bytes
    /// the channel wrote since it started.
    pub fn record(
        &self,
        started: Started,
        (kind, command): (EntryKind, String),
        trace: &CommandTrace,
        (ended, signalled): (&Ended, bool),
    ) {
        let (exit_code, ending) = ended.journal(signalled);
        let (stdout, stderr) = self.counters.now();
        self.cx.instance.journal.record(JournalEntry {
            time: started.time,
            faults: trace.fired_ids(),
            exit_code,
            stdout_bytes: stdout - started.before.0,
            stderr_bytes: stderr - started.before.1,
            duration_ms: started.at.elapsed().as_millis() as u64,
            ended: ending,
            ..self.cx.journal_entry(kind, command)
        });
    }

    /// Ends the channel after a run: the close sequence with the status
    /// (1 after a crash), nothing for a client that is gone, and for a
    /// disconnect fault the whole connection dropped instead.
    pub async fn finish(&self, ended: Ended) {
        match ended {
            Ended::Status(status) => close_with_status(&self.tx, status).await,
            Ended::Crashed => close_with_status(&self.tx, 1).await,
            Ended::Disconnect => {
                tracing::info!(peer = ?self.cx.peer, "fault: dropping the connection");
                let _ = self
                    .cx
                    .handle
                    .disconnect(
                        russh::Disconnect::ConnectionLost,
                        "connection lost".into(),
                        "en".into(),
                    )
                    .await;
            }
            Ended::Gone => {}
        }
    }
}
