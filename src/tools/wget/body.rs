//! The body of one try: bytes on the simulated link into the sparse file
//! (or zeros to stdout for `-O -`), the bar or the dots, pauses, stalls,
//! drops, a full disk and a session cut off part-way.

use super::bar::FRAME_STEP;
use super::progress::Progress;
use super::Run;
use crate::net::response::{FailKind, Response};
use crate::tools::files;

/// How one try ended.
pub(super) enum TryEnd {
    Done {
        bytes: u64,
        secs: f64,
    },
    Failed {
        kind: FailKind,
        at: u64,
        bytes: u64,
        secs: f64,
    },
    /// Writing the file failed (`No space left on device`).
    WriteFailed,
    Gone,
}

impl Run<'_> {
    /// The body transfer with its progress display.
    pub(super) async fn body(
        &mut self,
        resp: &Response,
        target: Option<&str>,
        initial: u64,
    ) -> TryEnd {
        let total = resp.send_length.then_some(resp.size);
        let Events {
            fail_at,
            stop_at,
            mut pause,
            disk_full,
        } = self.events(resp, target, initial);
        let mut progress = Progress::new(self.tool.ctx, &self.o, target, total, initial);
        for piece in progress.start() {
            self.tool.io.err(piece).await;
        }
        let mut link = self.link(resp.rate);
        let mut got = 0u64;
        let mut t = 0.0f64;
        let mut last_data_t = 0.0f64;
        if self.tool.remote.at_progress(initial, resp.size) {
            return TryEnd::Gone;
        }
        let mut write_failed = false;
        while got < stop_at {
            if let Some((_, secs)) = pause.filter(|(at, _)| got >= *at) {
                pause = None;
                if !self.idle(secs, &mut t, got, &mut progress).await {
                    return TryEnd::Gone;
                }
            }
            if disk_full.is_some_and(|at| got >= at) {
                write_failed = true;
                break;
            }
            // The next point something happens at.
            let hangup = self
                .tool
                .remote
                .disconnect_at(resp.size)
                .map(|at| at.saturating_sub(initial))
                .filter(|at| *at > got);
            let limit = [Some(stop_at), pause.map(|p| p.0), disk_full, hangup]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(stop_at);
            let step = FRAME_STEP;
            let mut n = link.bytes_in(step);
            let mut dt = step;
            if got + n >= limit {
                let left = limit - got;
                dt = if n > 0 {
                    step * left as f64 / n as f64
                } else {
                    step
                };
                n = left;
            }
            if !self.tool.pause(dt).await {
                return TryEnd::Gone;
            }
            let t0 = t;
            t += dt;
            got += n;
            last_data_t = t;
            if !self.deliver(target, initial + got, n).await {
                return TryEnd::Gone;
            }
            if let Some(f) = progress.update(n, t0, t, got, got < stop_at) {
                self.tool.io.err(f).await;
            }
            if self.tool.remote.at_progress(initial + got, resp.size) {
                return TryEnd::Gone;
            }
        }
        // A stall: frames keep coming about once a second until the read timeout.
        if let (Some((FailKind::Stall, _)), false) = (fail_at, write_failed) {
            if !self
                .idle(self.o.read_timeout, &mut t, got, &mut progress)
                .await
            {
                return TryEnd::Gone;
            }
        }
        let end_t = if fail_at.is_some() || write_failed {
            last_data_t
        } else {
            t
        };
        for piece in progress.finish(end_t, got) {
            self.tool.io.err(piece).await;
        }
        if write_failed {
            return TryEnd::WriteFailed;
        }
        match fail_at {
            Some((kind, _)) => TryEnd::Failed {
                kind,
                at: initial + got,
                bytes: got,
                secs: end_t,
            },
            None => TryEnd::Done {
                bytes: got,
                secs: end_t,
            },
        }
    }

    /// Where this try's body breaks off, pauses or hits a full disk,
    /// counted from `initial`.
    fn events(&self, resp: &Response, target: Option<&str>, initial: u64) -> Events {
        let remaining = resp.size.saturating_sub(initial);
        // A stall the read timeout outlasts is a read error at that byte.
        let timeout_stall = resp
            .stall
            .filter(|(_, d)| d.is_none_or(|d| d >= self.o.read_timeout))
            .map(|(at, _)| (FailKind::Stall, at));
        let fail = match (resp.fail, timeout_stall) {
            (Some(f), Some(s)) => Some(if s.1 < f.1 { s } else { f }),
            (f, s) => f.or(s),
        };
        let fail_at = fail.map(|(k, at)| (k, at.saturating_sub(initial).min(remaining)));
        let stop_at = fail_at.map(|(_, n)| n).unwrap_or(remaining);
        // A shorter stall: no bytes for a while, then the body goes on.
        let pause = resp
            .stall
            .filter(|(_, d)| d.is_some_and(|d| d < self.o.read_timeout))
            .map(|(at, d)| (at.saturating_sub(initial), d.unwrap_or(0.0)))
            .filter(|(at, _)| *at < stop_at);
        // A full disk: bytes past this one are not written (not with -O -).
        let disk_full = target
            .and_then(|_| self.tool.remote.disk_full_at(resp.size))
            .map(|at| at.saturating_sub(initial))
            .filter(|at| *at < stop_at);
        Events {
            fail_at,
            stop_at,
            pause,
            disk_full,
        }
    }

    /// `secs` with no bytes coming (a pause, a stall): `fd_read_body` wakes
    /// every 0.95 s and the bar is redrawn each time; `false` when the
    /// reader left.
    async fn idle(
        &mut self,
        secs: f64,
        t: &mut f64,
        got: u64,
        progress: &mut Progress<'_>,
    ) -> bool {
        let mut waited = 0.0;
        while waited < secs {
            let step = 0.95f64.min(secs - waited);
            if !self.tool.pause(step).await {
                return false;
            }
            waited += step;
            *t += step;
            if let Some(f) = progress.redraw(*t, got) {
                self.tool.io.err(f).await;
            }
        }
        true
    }

    /// `n` more bytes, `size` in all: the file grows to `size`, or with
    /// `-O -` the data itself (zeros, lazily, in chunks) goes to stdout;
    /// `false` when the reader left.
    async fn deliver(&mut self, target: Option<&str>, size: u64, n: u64) -> bool {
        if let Some(path) = target {
            let _ = files::set_len(self.tool.ctx, path, size);
            return true;
        }
        let mut left = n;
        while left > 0 {
            let c = left.min(64 * 1024) as usize;
            if !self.tool.io.out(vec![0u8; c]).await {
                return false;
            }
            left -= c as u64;
        }
        true
    }
}

/// What happens part-way through one body, in bytes of this try.
struct Events {
    /// Where and how the try fails (a drop, a reset, a stall the read
    /// timeout outlasts).
    fail_at: Option<(FailKind, u64)>,
    /// Where the bytes stop: the failure, or the end.
    stop_at: u64,
    /// A shorter stall: no bytes for this many seconds at this byte, then
    /// the body goes on.
    pause: Option<(u64, f64)>,
    /// A full disk: bytes past this one are not written (not with `-O -`).
    disk_full: Option<u64>,
}
