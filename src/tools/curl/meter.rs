//! What curl draws on stderr while it transfers: libcurl's progress meter
//! (`lib/progress.c`: the two header lines once, a `\r` line whenever the
//! wall-clock second changed since the last one, a forced line and `\n` at
//! the end of each leg) or the tool's `-#` bar (`src/tool_cb_prg.c`: `#`s
//! to `width - 7` and `%5.1f%%`, at most 10 times a second, a flying
//! `-=O=-` when the size is unknown). Times are simulated microseconds
//! since the transfer started; `phase_us` places that start inside a
//! wall-clock second, as the real start falls anywhere in one.

/// The meter's column headers.
const HEADER: &str = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n";

/// Entries of the "current speed" ring (`CURR_TIME`).
const CURR_TIME: usize = 6;

/// `max5data`: a size in at most 5 columns (`99999`, `2929k`, `11.4M`, `1234M`, `12.3G`).
pub(super) fn max5data(bytes: u64) -> String {
    const K: u64 = 1024;
    const M: u64 = K * K;
    const G: u64 = M * K;
    const T: u64 = G * K;
    const P: u64 = T * K;
    if bytes < 100_000 {
        format!("{bytes:5}")
    } else if bytes < 10_000 * K {
        format!("{:4}k", bytes / K)
    } else if bytes < 100 * M {
        format!("{:2}.{}M", bytes / M, (bytes % M) / (M / 10))
    } else if bytes < 10_000 * M {
        format!("{:4}M", bytes / M)
    } else if bytes < 100 * G {
        format!("{:2}.{}G", bytes / G, (bytes % G) / (G / 10))
    } else if bytes < 10_000 * G {
        format!("{:4}G", bytes / G)
    } else if bytes < 10_000 * T {
        format!("{:4}T", bytes / T)
    } else {
        format!("{:4}P", bytes / P)
    }
}

/// `time2str`: `%2d:%02d:%02d`, `--:--:--` for nothing, days past 99 hours.
pub(super) fn time2str(seconds: i64) -> String {
    if seconds <= 0 {
        return "--:--:--".into();
    }
    let h = seconds / 3600;
    if h <= 99 {
        let m = (seconds - h * 3600) / 60;
        let s = seconds - h * 3600 - m * 60;
        format!("{h:2}:{m:02}:{s:02}")
    } else {
        let d = seconds / 86400;
        let h = (seconds - d * 86400) / 3600;
        if d <= 999 {
            format!("{d:3}d {h:02}h")
        } else {
            format!("{d:7}d")
        }
    }
}

/// `cur` of `total` in whole percent, as `progress_meter` divides.
fn percent(cur: u64, total: u64) -> u64 {
    if total > 10_000 {
        cur / (total / 100)
    } else {
        cur.saturating_mul(100).checked_div(total).unwrap_or(0)
    }
}

/// `trspeed`: bytes per second over `us` microseconds.
fn trspeed(size: u64, us: u64) -> u64 {
    if us < 1 {
        size.saturating_mul(1_000_000)
    } else {
        (u128::from(size) * 1_000_000 / u128::from(us)).min(u128::from(u64::MAX)) as u64
    }
}

/// The transfer's state at one progress call.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Point {
    /// Microseconds since the transfer started.
    pub(super) t_us: u64,
    /// The body size when known (Content-Length).
    pub(super) size: Option<u64>,
    /// Body bytes of this leg so far.
    pub(super) downloaded: u64,
}

/// Which display the run has.
enum Mode {
    Hidden,
    Meter,
    Bar(Bar),
}

/// The progress display of one transfer (all its redirect legs).
pub(super) struct Progress {
    mode: Mode,
    phase_us: u64,
    headers_out: bool,
    resume_from: u64,
    lastshow: Option<u64>,
    speeder: [(u64, u64); CURR_TIME],
    speeder_c: usize,
    current_speed: u64,
}

impl Progress {
    /// `bar_width`: `Some` for `-#`; `hidden` for `-s` or a tty stdout.
    pub(super) fn new(
        hidden: bool,
        bar_width: Option<usize>,
        phase_us: u64,
        resume_from: u64,
    ) -> Self {
        let mode = match (hidden, bar_width) {
            (true, _) => Mode::Hidden,
            (false, Some(w)) => Mode::Bar(Bar::new(w, resume_from)),
            (false, None) => Mode::Meter,
        };
        Progress {
            mode,
            phase_us: phase_us % 1_000_000,
            headers_out: false,
            resume_from,
            lastshow: None,
            speeder: [(0, 0); CURR_TIME],
            speeder_c: 0,
            current_speed: 0,
        }
    }

    /// A new try on the same handle (`--retry`): the clock restarts, the
    /// header stays printed.
    pub(super) fn restart(&mut self, phase_us: u64) {
        self.phase_us = phase_us % 1_000_000;
        self.lastshow = None;
        self.speeder_c = 0;
    }

    /// How long the body may flow before the display has something new
    /// to show: the bar's 10 Hz, the meter's next wall-clock second (just
    /// past it, where curl's next read lands), a second when hidden.
    pub(super) fn quiet_us(&self, now_us: u64) -> u64 {
        match self.mode {
            Mode::Bar(_) => 50_000,
            Mode::Meter => {
                let abs = self.phase_us + now_us;
                let next = (abs / 1_000_000 + 1) * 1_000_000;
                (next - abs + 1_000).min(1_000_000)
            }
            Mode::Hidden => 1_000_000,
        }
    }

    /// Whether `-#` drew anything (its `\n` comes at the very end).
    pub(super) fn bar_called(&self) -> bool {
        matches!(&self.mode, Mode::Bar(b) if b.calls > 0)
    }

    /// `Curl_pgrsUpdate`: what the display prints for this call.
    pub(super) fn update(&mut self, p: Point) -> String {
        let show = self.calc(p);
        match &mut self.mode {
            Mode::Hidden => String::new(),
            Mode::Bar(bar) => bar.call(p),
            Mode::Meter if show => self.meter(p),
            Mode::Meter => String::new(),
        }
    }

    /// `Curl_pgrsDone`: the forced update and the meter's `\n`.
    pub(super) fn done(&mut self, p: Point) -> String {
        self.lastshow = None;
        let mut s = self.update(p);
        if matches!(self.mode, Mode::Meter) {
            s.push('\n');
        }
        self.speeder_c = 0;
        s
    }

    /// `progress_calc`: the current speed, once per wall-clock second.
    fn calc(&mut self, p: Point) -> bool {
        let sec = (self.phase_us + p.t_us) / 1_000_000;
        if self.lastshow == Some(sec) {
            return false;
        }
        self.lastshow = Some(sec);
        let now = self.speeder_c % CURR_TIME;
        self.speeder[now] = (p.downloaded, p.t_us);
        self.speeder_c += 1;
        let count = self.speeder_c.min(CURR_TIME) - 1;
        self.current_speed = if count > 0 {
            let check = if self.speeder_c >= CURR_TIME {
                self.speeder_c % CURR_TIME
            } else {
                0
            };
            let span_ms = ((p.t_us.saturating_sub(self.speeder[check].1)) / 1000).max(1);
            let amount = self.speeder[now].0.saturating_sub(self.speeder[check].0);
            (u128::from(amount) * 1000 / u128::from(span_ms)).min(u128::from(u64::MAX)) as u64
        } else {
            trspeed(p.downloaded, p.t_us)
        };
        true
    }

    /// `progress_meter`: the header once, then one `\r` line.
    fn meter(&mut self, p: Point) -> String {
        let mut s = String::new();
        if !self.headers_out {
            if self.resume_from > 0 {
                s.push_str(&format!(
                    "** Resuming transfer from byte position {}\n",
                    self.resume_from
                ));
            }
            s.push_str(HEADER);
            self.headers_out = true;
        }
        let spent = (p.t_us / 1_000_000) as i64;
        let speed = trspeed(p.downloaded, p.t_us);
        let (estimate, dl_pct) = match p.size {
            Some(size) if speed > 0 => ((size / speed) as i64, percent(p.downloaded, size)),
            _ => (0, 0),
        };
        let expected = p.size.unwrap_or(p.downloaded);
        let total_pct = percent(p.downloaded, expected);
        let left = if estimate > 0 { estimate - spent } else { 0 };
        s.push_str(&format!(
            "\r{:3} {}  {:3} {}  {:3} {}  {}  {} {} {} {} {}",
            total_pct,
            max5data(expected),
            dl_pct,
            max5data(p.downloaded),
            0,
            max5data(0),
            max5data(speed),
            max5data(0),
            time2str(estimate),
            time2str(spent),
            time2str(left),
            max5data(self.current_speed)
        ));
        s
    }
}

/// `sinus[]` of `tool_cb_prg.c`: `sin(i/200 * 2 * 3.1415) * 500000 + 500000`, truncated.
// The table was generated with `$pi = 3.1415`, not with π.
#[allow(clippy::approx_constant)]
fn sinus(i: usize) -> usize {
    let x = (i % 200 + 1) as f64 / 200.0 * 2.0 * 3.1415;
    (x.sin() * 500_000.0 + 500_000.0) as usize
}

/// The `-#` bar.
struct Bar {
    width: usize,
    initial: u64,
    calls: u64,
    prev: u64,
    prev_us: Option<u64>,
    tick: usize,
    pos: i64,
    step: i64,
}

impl Bar {
    fn new(width: usize, initial: u64) -> Self {
        Bar {
            width: width.clamp(8, 256),
            initial,
            calls: 0,
            prev: 0,
            prev_us: None,
            tick: 150,
            pos: 0,
            step: 1,
        }
    }

    /// `tool_progress_cb`.
    fn call(&mut self, p: Point) -> String {
        let total = p.size.map_or(0, |s| s.saturating_add(self.initial));
        let point = p.downloaded.saturating_add(self.initial);
        let since_ms = self
            .prev_us
            .map_or(u64::MAX, |u| p.t_us.saturating_sub(u) / 1000);
        let mut s = String::new();
        if self.calls > 0 {
            if total > 0 {
                if self.prev == point || (since_ms < 100 && point < total) {
                    return s;
                }
            } else {
                if since_ms < 100 {
                    return s;
                }
                s.push_str(&self.fly(point != self.prev));
            }
        }
        self.calls += 1;
        if total > 0 && point != self.prev {
            let total = total.max(point);
            let frac = point as f64 / total as f64;
            let bar = self.width - 7;
            let num = ((bar as f64 * frac) as usize).min(256);
            s.push_str(&format!(
                "\r{:<bar$} {:5.1}%",
                "#".repeat(num),
                frac * 100.0
            ));
        }
        self.prev = point;
        self.prev_us = Some(p.t_us);
        s
    }

    /// `fly`: spaces, `-=O=-` at the moving spot and four `#` on a sine.
    fn fly(&mut self, moved: bool) -> String {
        let w = self.width;
        let check = w - 2;
        let mut buf = vec![b' '; w];
        buf[w - 1] = b'\r';
        let at = self.pos.clamp(0, (w - 6) as i64) as usize;
        buf[at..at + 5].copy_from_slice(b"-=O=-");
        for k in [0, 5, 10, 15] {
            let pos = sinus(self.tick + k) / (1_000_000 / check);
            if pos < w - 1 {
                buf[pos] = b'#';
            }
        }
        self.tick += 2;
        if self.tick >= 200 {
            self.tick -= 200;
        }
        if moved {
            self.pos += self.step;
        }
        if self.pos >= (w - 6) as i64 {
            self.step = -1;
            self.pos = (w - 6) as i64;
        } else if self.pos < 0 {
            self.step = 1;
            self.pos = 0;
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_have_curls_widths() {
        assert_eq!(max5data(0), "    0");
        assert_eq!(max5data(35), "   35");
        assert_eq!(max5data(3_000_000), "2929k");
        assert_eq!(max5data(12_000_000), "11.4M");
        assert_eq!(max5data(6_500_000_000), "6198M");
        assert_eq!(max5data(u64::MAX), "16383P");
        assert_eq!(time2str(0), "--:--:--");
        assert_eq!(time2str(4), " 0:00:04");
        assert_eq!(time2str(400_000), "  4d 15h");
        assert_eq!(sinus(0), 515_704);
        assert_eq!(sinus(199), 499_907);
    }

    #[test]
    fn the_meter_shows_once_per_wall_second_and_forces_the_last() {
        let mut m = Progress::new(false, None, 400_000, 0);
        let first = m.update(Point::default());
        assert!(first.starts_with("  % Total"));
        assert!(first.ends_with(
            "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
        ));
        let size = Some(3_000_000);
        let at = |t_us, downloaded| Point {
            t_us,
            size,
            downloaded,
        };
        assert_eq!(m.update(at(300_000, 900_000)), "");
        assert!(m
            .update(at(600_000, 1_800_000))
            .starts_with("\r 60 2929k   60 1757k"));
        let last = m.done(at(1_000_000, 3_000_000));
        assert!(last.starts_with("\r100 2929k  100 2929k"), "{last}");
        assert!(last.ends_with("\n"));
    }

    #[test]
    fn the_bar_fills_width_minus_seven() {
        let mut m = Progress::new(false, Some(79), 0, 0);
        let size = Some(1000);
        assert_eq!(m.update(Point::default()), "");
        let s = m.update(Point {
            t_us: 150_000,
            size,
            downloaded: 500,
        });
        assert_eq!(s.len(), 80);
        assert!(s.ends_with(" 50.0%"));
        let s = m.done(Point {
            t_us: 160_000,
            size,
            downloaded: 1000,
        });
        assert_eq!(s, format!("\r{} 100.0%", "#".repeat(72)));
        let mut m = Progress::new(false, Some(79), 0, 0);
        m.update(Point::default());
        let s = m.update(Point {
            t_us: 200_000,
            size: None,
            downloaded: 10,
        });
        assert_eq!(s.len(), 79);
        assert!(s.starts_with("#=#=#") && s.ends_with('\r'), "{s:?}");
    }
}
