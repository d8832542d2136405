//! Client input on its way to an exec'd command's stdin: queued and
//! written as the command reads, so the channel's reader never waits on it.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

/// Client input held for a command that is not reading it; past this,
/// further input is dropped (as a full pipe would block the writer).
const MAX_PENDING_STDIN: usize = 4 * 1024 * 1024;

/// Client input on its way to a command's stdin, never blocking the
/// channel's reader (a command that does not read stdin must not stall
/// the connection).
pub(super) struct StdinPump {
    writer: Option<tokio::io::DuplexStream>,
    pending: VecDeque<Bytes>,
    pending_len: usize,
    closing: bool,
}

impl StdinPump {
    /// A pump into `writer`; closed at once when the client already sent eof.
    pub(super) fn new(writer: tokio::io::DuplexStream, eof: bool) -> Self {
        StdinPump {
            writer: (!eof).then_some(writer),
            pending: VecDeque::new(),
            pending_len: 0,
            closing: false,
        }
    }

    /// Queues client input, or drops it when stdin is closed or the queue full.
    pub(super) fn push(&mut self, data: Bytes) {
        if self.writer.is_none() || self.pending_len + data.len() > MAX_PENDING_STDIN {
            tracing::debug!(bytes = data.len(), "stdin not read by the command; dropped");
            return;
        }
        self.pending_len += data.len();
        self.pending.push_back(data);
    }

    /// The client sent eof: stdin closes once the queue is written.
    pub(super) fn close(&mut self) {
        self.closing = true;
        if self.pending.is_empty() {
            self.writer = None;
        }
    }

    /// Whether there is input to write (the select arm for [`Self::flush`]).
    pub(super) fn has_pending(&self) -> bool {
        self.writer.is_some() && !self.pending.is_empty()
    }

    /// Writes what the command takes of the oldest queued input.
    pub(super) async fn flush(&mut self) {
        let (Some(w), Some(front)) = (self.writer.as_mut(), self.pending.front()) else {
            return;
        };
        match w.write(front).await {
            Ok(n) => {
                self.pending_len -= n;
                let front = self.pending.pop_front().unwrap_or_default();
                if n < front.len() {
                    self.pending.push_front(front.slice(n..));
                }
            }
            Err(_) => {
                // The command closed its stdin: drop what is left.
                self.writer = None;
                self.pending.clear();
                self.pending_len = 0;
            }
        }
        if self.closing && self.pending.is_empty() {
            self.writer = None;
        }
    }
}
