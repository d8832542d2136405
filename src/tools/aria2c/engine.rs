//! aria2's download engine on the simulated clock: every 0.1 s the running
//! downloads take their bytes from their links (split over their
//! connections), meet their drops, stalls, full disks and hang-ups, and
//! finish; once a second the readout (and every `--summary-interval` the
//! summary) is printed and stopped downloads are removed, freeing their
//! `--max-concurrent-downloads` slot.

use super::args::Level;
use super::control;
use super::group::{Cut, Phase};
use super::start::{at, Class};
use super::Run;
use crate::net::response::FailKind;
use crate::tools::files;

/// Engine step (seconds).
const STEP: f64 = 0.1;
/// aria2's `A2_DELTA_MILLIS` slack on its 1 s readout interval.
const DELTA: f64 = 0.01;
/// `--auto-save-interval` default: the control file is rewritten this often.
const AUTO_SAVE: f64 = 60.0;

/// What one step of a download leads to.
enum Stepped {
    Going,
    /// The SSH session is being dropped: stop at once.
    Gone,
}

impl Run<'_> {
    /// Starts queued downloads while `-j` allows.
    fn fill_slots(&mut self) {
        let now = self.tool.clock.now();
        let mut running = self.groups.iter().filter(|g| g.active()).count();
        for g in &mut self.groups {
            if running >= self.o.concurrent as usize {
                break;
            }
            if matches!(g.phase, Phase::Waiting) && g.result.is_none() {
                g.phase = Phase::Start(now);
                g.started = now;
                g.cuid = self.next_cuid;
                self.next_cuid += 1;
                running += 1;
            }
        }
    }

    /// Runs every download to its end; `false` when the session or the
    /// reader went away part-way.
    pub(super) async fn engine(&mut self) -> bool {
        loop {
            self.fill_slots();
            let now = self.tool.clock.now();
            for i in 0..self.groups.len() {
                if matches!(self.groups[i].phase, Phase::Start(t) if t <= now + 1e-9) {
                    self.begin(i).await;
                }
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                return false;
            }
            let pending = self
                .groups
                .iter()
                .any(|g| g.active() || (matches!(g.phase, Phase::Waiting) && g.result.is_none()));
            if !pending {
                return true;
            }
            let t0 = self.tool.clock.now();
            if !self.tool.pause(STEP).await {
                return false;
            }
            let t1 = self.tool.clock.now();
            for i in 0..self.groups.len() {
                if let Stepped::Gone = self.step(i, t0, t1).await {
                    return false;
                }
            }
            if t1 - self.last_tick + DELTA >= 1.0 {
                self.tick().await;
            }
        }
    }

    /// Download `i` over `t0..t1`.
    async fn step(&mut self, i: usize, t0: f64, t1: f64) -> Stepped {
        match self.groups[i].phase {
            Phase::Transfer(from) => self.flow(i, from.max(t0), t1).await,
            Phase::Stalled { since, until } => {
                let timeout_at = since + self.o.timeout as f64;
                match until {
                    Some(u) if u < timeout_at && t1 >= u => {
                        self.groups[i].phase = Phase::Transfer(u);
                    }
                    _ if t1 + 1e-9 >= timeout_at => {
                        self.fail(i, Class::Retry, 2, at::TIMEOUT, "Timeout.", 0.0)
                            .await;
                    }
                    _ => {}
                }
                Stepped::Going
            }
            _ => Stepped::Going,
        }
    }

    /// Bytes for download `i` from `from` to `t1`, up to its next event.
    async fn flow(&mut self, i: usize, from: f64, t1: f64) -> Stepped {
        if from >= t1 {
            return Stepped::Going;
        }
        let g = &mut self.groups[i];
        let Some(end) = g.resp.as_ref().map(|r| r.size) else {
            return Stepped::Going;
        };
        let done = g.done;
        let n = g.link.as_mut().map(|l| l.bytes_in(t1 - from)).unwrap_or(0);
        let cut = g
            .cuts
            .iter()
            .filter(|(b, _)| *b >= done && *b < end)
            .min_by_key(|(b, _)| *b)
            .copied();
        let limit = cut.map(|c| c.0).unwrap_or(end).min(end);
        let hit = done.saturating_add(n) >= limit;
        let n = if hit { limit.saturating_sub(done) } else { n };
        g.done += n;
        g.session += n;
        g.spread(n);
        let (done, has_length, path) = (g.done, g.has_length, g.path.clone());
        if let Some(p) = &path {
            if !(has_length && self.o.prealloc) {
                let _ = files::set_len(self.tool.ctx, p, done);
            }
        }
        if self.tool.remote.at_progress(done, end) {
            return Stepped::Gone;
        }
        if !hit {
            return Stepped::Going;
        }
        let Some((byte, what)) = cut.filter(|c| c.0 == limit && c.0 < end) else {
            self.complete(i).await;
            return Stepped::Going;
        };
        self.groups[i].cuts.retain(|c| c.0 != byte || c.1 != what);
        match what {
            Cut::Fail(FailKind::Drop) => {
                self.fail(i, Class::Retry, 1, at::EOF, "Got EOF from the server.", 0.0)
                    .await
            }
            Cut::Fail(FailKind::Reset) => {
                let msg = "Failed to receive data, cause: Connection reset by peer";
                self.fail(i, Class::Retry, 1, at::RECV, msg, 0.0).await
            }
            Cut::Fail(FailKind::Stall) => {
                self.groups[i].phase = Phase::Stalled {
                    since: t1,
                    until: None,
                }
            }
            Cut::Stall(d) => {
                self.groups[i].phase = Phase::Stalled {
                    since: t1,
                    until: d.map(|d| t1 + d),
                }
            }
            Cut::DiskFull => {
                let msg = format!(
                    "Failed to write into the file {}, cause: No space left on device",
                    path.unwrap_or_default()
                );
                self.fail(i, Class::Failure, 9, at::WRITE, &msg, 0.0).await
            }
            Cut::Hangup => return Stepped::Gone,
        }
        Stepped::Going
    }

    /// Download `i` has all its bytes.
    async fn complete(&mut self, i: usize) {
        let now = self.tool.clock.now();
        let g = &mut self.groups[i];
        if !g.has_length {
            g.total = g.done;
        }
        g.segs.clear();
        g.result = Some(0);
        g.ended = now;
        let path = g.path.clone().unwrap_or_default();
        let size = g.total;
        let _ = files::set_len(self.tool.ctx, &path, size);
        control::remove(self.tool.ctx, &path);
        self.log(Level::Notice, &format!("Download complete: {path}"), "")
            .await;
        self.remove(i).await;
    }

    /// Takes a stopped download off the engine (its result is recorded); a
    /// failed one leaves its control file and says so.
    pub(super) async fn remove(&mut self, i: usize) {
        self.groups[i].phase = Phase::Done;
        self.results.push(i);
        let g = &self.groups[i];
        if g.result != Some(0) {
            let (gid, path) = (g.gid16(), g.path.clone().unwrap_or_default());
            if g.has_length && g.link.is_some() && !path.is_empty() {
                control::save(self.tool.ctx, &path, g.total, g.done);
            }
            self.log(
                Level::Notice,
                &format!("Download GID#{gid} not complete: {path}"),
                "",
            )
            .await;
        }
    }

    /// `--lowest-speed-limit`: a body slower than it after its first 10 s is aborted.
    async fn too_slow(&mut self, now: f64) {
        let limit = self.o.lowest_speed;
        if limit == 0 {
            return;
        }
        for i in 0..self.groups.len() {
            let g = &self.groups[i];
            let flowing = matches!(g.phase, Phase::Transfer(_) | Phase::Stalled { .. });
            if !flowing || now - g.body_start + DELTA < 10.0 || g.speed > limit {
                continue;
            }
            let host = crate::net::Url::parse(&g.current_uri)
                .map(|u| u.host)
                .unwrap_or_default();
            let msg = format!(
                "Too slow Downloading speed: {} <= {limit}(B/s), host:{host}",
                g.speed
            );
            self.fail(i, Class::Abort, 5, at::TOO_SLOW, &msg, 0.0).await;
        }
    }

    /// Once a second: speeds, the summary when due, the readout, the
    /// control files when due, and the removal of stopped downloads.
    async fn tick(&mut self) {
        let now = self.tool.clock.now();
        self.last_tick = now;
        for g in self.groups.iter_mut().filter(|g| g.active()) {
            let dt = now - g.mark.0;
            g.speed = if dt > 0.0 {
                (g.done.saturating_sub(g.mark.1) as f64 / dt) as u64
            } else {
                0
            };
            g.mark = (now, g.done);
        }
        if !self.o.quiet {
            self.print_stat(now).await;
        }
        if now - self.last_save + DELTA >= AUTO_SAVE {
            self.last_save = now;
            for g in self.groups.iter().filter(|g| g.active() && g.has_length) {
                if let (Some(p), Some(_)) = (&g.path, &g.link) {
                    control::save(self.tool.ctx, p, g.total, g.done);
                }
            }
        }
        self.too_slow(now).await;
        for i in 0..self.groups.len() {
            if matches!(self.groups[i].phase, Phase::Stopping) {
                self.groups[i].ended = now;
                self.remove(i).await;
            }
        }
    }
}
