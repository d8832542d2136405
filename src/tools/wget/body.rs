//! The body of one try: bytes on the simulated link into the sparse file
//! (or zeros to stdout for `-O -`), the bar or the dots, pauses, stalls,
//! drops, a full disk and a session cut off part-way.

use super::args::ProgressKind;
use super::bar::{BarProgress, FRAME_STEP, REFRESH_INTERVAL};
use super::dot::{DotProgress, DotStyle};
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
        let mut pause = resp
            .stall
            .filter(|(_, d)| d.is_some_and(|d| d < self.o.read_timeout))
            .map(|(at, d)| (at.saturating_sub(initial), d.unwrap_or(0.0)))
            .filter(|(at, _)| *at < stop_at);
        // A full disk: bytes past this one are not written (not with -O -).
        let disk_full = target
            .and_then(|_| self.tool.remote.disk_full_at(resp.size))
            .map(|at| at.saturating_sub(initial))
            .filter(|at| *at < stop_at);
        let tty = self.tool.ctx.stderr.is_tty();
        let kind = match &self.o.progress {
            Some(ProgressKind::Bar { force, noscroll }) if tty || *force => {
                Some((true, *noscroll, String::new()))
            }
            Some(ProgressKind::Dot(style)) => Some((false, false, style.clone())),
            _ if tty => Some((true, false, String::new())),
            _ => Some((false, false, "default".to_string())),
        };
        let show = self.progress_shown();
        let name_for_bar = target.map(String::from).unwrap_or_else(|| "-".into());
        let (is_bar, noscroll, style) = kind.unwrap_or((false, false, String::new()));
        let mut bar = is_bar.then(|| BarProgress::new(&name_for_bar, total, initial, noscroll));
        let mut dots = (!is_bar).then(|| {
            let mut st = DotStyle::named(&style);
            if let Some(b) = self.o.dot_bytes.filter(|b| *b > 0) {
                st.dot_bytes = b;
            }
            DotProgress::new(st, total, initial)
        });
        let ctx = self.tool.ctx;
        let cols = || {
            ctx.stderr
                .terminal()
                .map(|t| t.cols() as usize)
                .unwrap_or(80)
        };
        if show {
            if let Some(b) = bar.as_mut() {
                if self.verbose() {
                    self.tool.io.err("\n").await;
                }
                let f = b.frame(0.0, 0, cols(), false);
                self.tool.io.err(f).await;
            }
            if let Some((_, start)) = dots.as_ref() {
                let s = start.clone();
                self.tool.io.err(s).await;
            }
        }
        let mut link = self.link(resp.rate);
        let mut got = 0u64;
        let mut t = 0.0f64;
        let mut last_frame = 0.0f64;
        let mut last_data_t = 0.0f64;
        if self.tool.remote.at_progress(initial, resp.size) {
            return TryEnd::Gone;
        }
        let mut write_failed = false;
        while got < stop_at {
            if let Some((_, secs)) = pause.filter(|(at, _)| got >= *at) {
                pause = None;
                // fd_read_body wakes every 0.95 s; the bar is redrawn each time.
                let mut waited = 0.0;
                while waited < secs {
                    let step = 0.95f64.min(secs - waited);
                    if !self.tool.pause(step).await {
                        return TryEnd::Gone;
                    }
                    waited += step;
                    t += step;
                    if show {
                        if let Some(b) = bar.as_mut() {
                            let f = b.frame(t, got, cols(), false);
                            self.tool.io.err(f).await;
                        }
                    }
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
            if let Some(path) = target {
                let _ = files::set_len(self.tool.ctx, path, initial + got);
            } else if n > 0 {
                // -O -: the data itself goes to stdout (zeros, lazily, in chunks).
                let mut left = n;
                while left > 0 {
                    let c = left.min(64 * 1024) as usize;
                    if !self.tool.io.out(vec![0u8; c]).await {
                        return TryEnd::Gone;
                    }
                    left -= c as u64;
                }
            }
            if show {
                if let Some(b) = bar.as_mut() {
                    if t - last_frame >= REFRESH_INTERVAL - 1e-9 && got < stop_at {
                        last_frame = t;
                        let f = b.frame(t, got, cols(), false);
                        self.tool.io.err(f).await;
                    }
                } else if let Some((d, _)) = dots.as_mut() {
                    let s = d.update(n, t0, t);
                    self.tool.io.err(s).await;
                }
            }
            if self.tool.remote.at_progress(initial + got, resp.size) {
                return TryEnd::Gone;
            }
        }
        // A stall: frames keep coming about once a second until the read timeout.
        if let (Some((FailKind::Stall, _)), false) = (fail_at, write_failed) {
            let mut waited = 0.0;
            while waited < self.o.read_timeout {
                let step = 0.95f64.min(self.o.read_timeout - waited);
                if !self.tool.pause(step).await {
                    return TryEnd::Gone;
                }
                waited += step;
                t += step;
                if show {
                    if let Some(b) = bar.as_mut() {
                        let f = b.frame(t, got, cols(), false);
                        self.tool.io.err(f).await;
                    }
                }
            }
        }
        let end_t = if fail_at.is_some() || write_failed {
            last_data_t
        } else {
            t
        };
        if show {
            if let Some(b) = bar.as_mut() {
                let f = b.frame(end_t, got, cols(), true);
                self.tool.io.err(f).await;
                self.tool.io.err("\n").await;
                if self.verbose() {
                    self.tool.io.err("\n").await;
                }
            } else if let Some((d, _)) = dots.as_mut() {
                let s = d.finish(end_t);
                self.tool.io.err(s).await;
            }
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
}
