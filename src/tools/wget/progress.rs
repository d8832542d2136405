//! The progress display of one body: wget's bar or its dots, chosen as
//! `progress.c` chooses them, and drawn only when progress is shown. Each
//! method returns the pieces to write to stderr, in order.

use super::args::{Opts, ProgressKind, Verbosity};
use super::bar::{BarProgress, REFRESH_INTERVAL};
use super::dot::{DotProgress, DotStyle};
use crate::program::Ctx;

/// The bar or the dots of one try.
pub(super) struct Progress<'a> {
    ctx: &'a Ctx,
    /// Whether anything is drawn (verbose, or `--show-progress`).
    show: bool,
    /// `-v`: the bar is set off by blank lines.
    verbose: bool,
    bar: Option<BarProgress>,
    /// The dots and the line that opens them.
    dots: Option<(DotProgress, String)>,
    /// When the bar was last redrawn.
    last_frame: f64,
}

impl<'a> Progress<'a> {
    /// The display for a body of `total` bytes (`None` = unknown) into
    /// `target` (`None` = stdout), resumed at `initial`.
    pub(super) fn new(
        ctx: &'a Ctx,
        o: &Opts,
        target: Option<&str>,
        total: Option<u64>,
        initial: u64,
    ) -> Self {
        let verbose = o.verbosity == Verbosity::Verbose;
        let show = verbose || o.show_progress;
        let tty = ctx.stderr.is_tty();
        let (is_bar, noscroll, style) = match &o.progress {
            Some(ProgressKind::Bar { force, noscroll }) if tty || *force => {
                (true, *noscroll, String::new())
            }
            Some(ProgressKind::Dot(style)) => (false, false, style.clone()),
            _ if tty => (true, false, String::new()),
            _ => (false, false, "default".to_string()),
        };
        let name = target.unwrap_or("-");
        let bar = is_bar.then(|| BarProgress::new(name, total, initial, noscroll));
        let dots = (!is_bar).then(|| {
            let mut st = DotStyle::named(&style);
            if let Some(b) = o.dot_bytes.filter(|b| *b > 0) {
                st.dot_bytes = b;
            }
            DotProgress::new(st, total, initial)
        });
        Progress {
            ctx,
            show,
            verbose,
            bar,
            dots,
            last_frame: 0.0,
        }
    }

    fn cols(&self) -> usize {
        self.ctx
            .stderr
            .terminal()
            .map(|t| t.cols() as usize)
            .unwrap_or(80)
    }

    /// The first frame (or the dots' opening line).
    pub(super) fn start(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.show {
            return out;
        }
        let cols = self.cols();
        if let Some(b) = self.bar.as_mut() {
            if self.verbose {
                out.push("\n".to_string());
            }
            out.push(b.frame(0.0, 0, cols, false));
        }
        if let Some((_, start)) = self.dots.as_ref() {
            out.push(start.clone());
        }
        out
    }

    /// A redraw with no new bytes (a pause, a stall): the bar only.
    pub(super) fn redraw(&mut self, t: f64, got: u64) -> Option<String> {
        let cols = self.cols();
        let b = self.bar.as_mut().filter(|_| self.show)?;
        Some(b.frame(t, got, cols, false))
    }

    /// `n` bytes arrived between `t0` and `t`; the bar is redrawn at its
    /// refresh interval while more is to come (`more`), the dots always.
    pub(super) fn update(
        &mut self,
        n: u64,
        t0: f64,
        t: f64,
        got: u64,
        more: bool,
    ) -> Option<String> {
        if !self.show {
            return None;
        }
        let cols = self.cols();
        if let Some(b) = self.bar.as_mut() {
            if t - self.last_frame >= REFRESH_INTERVAL - 1e-9 && more {
                self.last_frame = t;
                return Some(b.frame(t, got, cols, false));
            }
            None
        } else {
            self.dots.as_mut().map(|(d, _)| d.update(n, t0, t))
        }
    }

    /// The last frame at `end_t` and the line ends after it (or the dots' last row).
    pub(super) fn finish(&mut self, end_t: f64, got: u64) -> Vec<String> {
        let mut out = Vec::new();
        if !self.show {
            return out;
        }
        let cols = self.cols();
        if let Some(b) = self.bar.as_mut() {
            out.push(b.frame(end_t, got, cols, true));
            out.push("\n".to_string());
            if self.verbose {
                out.push("\n".to_string());
            }
        } else if let Some((d, _)) = self.dots.as_mut() {
            out.push(d.finish(end_t));
        }
        out
    }
}
