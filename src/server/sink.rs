//! Program output onto an SSH channel: stdout as data, stderr as extended
//! data, or both merged with `\n` -> `\r\n` under a pty, as a tty does.

use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use russh::server::Msg;
use russh::ChannelWriteHalf;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::program::{ByteSink, Output};

/// SSH's extended-data type for stderr.
const STDERR: u32 = 1;

/// One stream of a channel, written with the client's window as backpressure.
pub(super) struct ChannelSink {
    tx: Arc<ChannelWriteHalf<Msg>>,
    stderr: bool,
    onlcr: bool,
}

impl ChannelSink {
    /// The channel's stdout (`onlcr`: turn `\n` into `\r\n`, as a tty does).
    pub(super) fn stdout(tx: Arc<ChannelWriteHalf<Msg>>, onlcr: bool) -> Self {
        ChannelSink {
            tx,
            stderr: false,
            onlcr,
        }
    }

    /// The channel's stderr (extended data), for sessions without a pty.
    pub(super) fn stderr(tx: Arc<ChannelWriteHalf<Msg>>) -> Self {
        ChannelSink {
            tx,
            stderr: true,
            onlcr: false,
        }
    }
}

/// Every `\n` becomes `\r\n`, even after a `\r`, as the tty's ONLCR does.
pub(super) fn onlcr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[async_trait]
impl ByteSink for ChannelSink {
    async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let bytes = if self.onlcr {
            onlcr(data)
        } else {
            data.to_vec()
        };
        let sent = if self.stderr {
            self.tx.extended_data_bytes(STDERR, bytes).await
        } else {
            self.tx.data_bytes(bytes).await
        };
        sent.map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "channel closed"))
    }
}

/// Counts the bytes written through an output (for the journal).
pub(super) struct CountingSink {
    inner: Output,
    count: Arc<AtomicU64>,
}

impl CountingSink {
    /// `out`, with every byte written added to `count`.
    pub(super) fn wrap(out: Output, count: &Arc<AtomicU64>) -> Output {
        let terminal = out.terminal().cloned();
        Output::new(
            Arc::new(CountingSink {
                inner: out,
                count: count.clone(),
            }),
            terminal,
        )
    }
}

#[async_trait]
impl ByteSink for CountingSink {
    async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        self.inner.write(data).await?;
        self.count.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn onlcr_adds_cr_before_every_newline() {
        assert_eq!(super::onlcr(b"a\nb\r\n"), b"a\r\nb\r\r\n");
    }
}
