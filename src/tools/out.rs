//! Buffered output for the tools: frames are collected and written in
//! batches when the clock does not wait (time scale 0), and flushed before
//! every simulated pause otherwise, so a reader sees them at the real
//! cadence. Switching between stdout and stderr flushes, which keeps the
//! order a pty (merged streams) would show.

use crate::program::{Ctx, Output};

use super::clock::Clock;

const BATCH: usize = 32 * 1024;

/// A program's two output streams with one shared write buffer.
pub(crate) struct Streams {
    out: Output,
    err: Output,
    buf: Vec<u8>,
    buf_is_err: bool,
    alive: bool,
}

impl Streams {
    pub(crate) fn new(ctx: &Ctx) -> Self {
        Streams {
            out: ctx.stdout.clone(),
            err: ctx.stderr.clone(),
            buf: Vec::new(),
            buf_is_err: false,
            alive: true,
        }
    }

    /// Whether the readers are still there.
    pub(crate) fn alive(&self) -> bool {
        self.alive
    }

    async fn push(&mut self, is_err: bool, data: &[u8]) -> bool {
        if !self.alive {
            return false;
        }
        if is_err != self.buf_is_err && !self.buf.is_empty() {
            self.flush().await;
        }
        self.buf_is_err = is_err;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BATCH {
            self.flush().await;
        }
        self.alive
    }

    /// Queues bytes for stdout.
    pub(crate) async fn out(&mut self, data: impl AsRef<[u8]>) -> bool {
        self.push(false, data.as_ref()).await
    }

    /// Queues bytes for stderr.
    pub(crate) async fn err(&mut self, data: impl AsRef<[u8]>) -> bool {
        self.push(true, data.as_ref()).await
    }

    /// Writes what is queued; `false` when the reader went away.
    pub(crate) async fn flush(&mut self) -> bool {
        if self.buf.is_empty() || !self.alive {
            return self.alive;
        }
        let data = std::mem::take(&mut self.buf);
        let target = if self.buf_is_err {
            &self.err
        } else {
            &self.out
        };
        if target.write(&data).await.is_err() {
            self.alive = false;
        }
        self.alive
    }

    /// Flushes (when the clock waits) and lets `secs` of simulated time pass.
    pub(crate) async fn pause(&mut self, clock: &mut Clock, secs: f64) -> bool {
        if clock.waits() {
            self.flush().await;
        }
        clock.sleep(secs).await;
        self.alive
    }
}
