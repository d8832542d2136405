//! git's `progress.c` and `sideband.c` as git 2.47 prints them: `Title:
//! NNN% (i/N)` counters with the throughput suffix, the `clear_len`
//! padding when counters shrink, the split line on narrow terminals, the
//! once-a-second timer redraw, and `remote: ` lines with their `\e[K` (tty)
//! or 8-space (no tty) suffix.

/// How many throughput samples git averages over (`TP_IDX_MAX`).
const TP_IDX_MAX: usize = 8;

/// `strbuf_humanise`: `1.39 KiB`, `29.89 MiB`, `712.00 KiB/s`, `5 bytes`.
pub(super) fn humanise(bytes: u64, rate: bool) -> String {
    let per = if rate { "/s" } else { "" };
    if bytes > 1 << 30 {
        let frac = (bytes & ((1 << 30) - 1)) / 10_737_419;
        format!("{}.{frac:02} GiB{per}", bytes >> 30)
    } else if bytes > 1 << 20 {
        let x = bytes + 5243;
        format!(
            "{}.{:02} MiB{per}",
            x >> 20,
            ((x & ((1 << 20) - 1)) * 100) >> 20
        )
    } else if bytes > 1 << 10 {
        let x = bytes + 5;
        format!(
            "{}.{:02} KiB{per}",
            x >> 10,
            ((x & ((1 << 10) - 1)) * 100) >> 10
        )
    } else {
        let unit = if bytes == 1 { "byte" } else { "bytes" };
        format!("{bytes} {unit}{per}")
    }
}

/// `, 17.83 MiB | 35.65 MiB/s` (`rate` in bytes per 1/1024 s, as git keeps it).
fn throughput_string(total: u64, rate: u64) -> String {
    format!(
        ", {} | {}",
        humanise(total, false),
        humanise(rate.saturating_mul(1024), true)
    )
}

/// Seconds -> git's "misecs" (1/1024 s).
fn misecs(secs: f64) -> u64 {
    (secs.max(0.0) * 1024.0) as u64
}

/// The bytes-per-second readout of one progress meter.
struct Throughput {
    prev_t: f64,
    prev_total: u64,
    curr_total: u64,
    avg_bytes: u64,
    avg_misecs: u64,
    last_bytes: [u64; TP_IDX_MAX],
    last_misecs: [u64; TP_IDX_MAX],
    idx: usize,
    display: String,
}

/// One progress meter (`struct progress`).
pub(super) struct Progress {
    title: String,
    total: u64,
    start: f64,
    cols: usize,
    counters: String,
    last_percent: Option<u64>,
    last_value: Option<u64>,
    split: bool,
    tp: Option<Throughput>,
    next_tick: f64,
}

impl Progress {
    /// `start_progress(title, total)` at simulated time `now` (0 = no total).
    pub(super) fn new(title: &str, total: u64, now: f64, cols: usize) -> Self {
        Progress {
            title: title.to_string(),
            total,
            start: now,
            cols,
            counters: String::new(),
            last_percent: None,
            last_value: None,
            split: false,
            tp: None,
            next_tick: now + 1.0,
        }
    }

    /// Whether the one-second timer (`progress_update`) fired by `now`;
    /// re-arms it.
    pub(super) fn tick(&mut self, now: f64) -> bool {
        if now < self.next_tick {
            return false;
        }
        while self.next_tick <= now {
            self.next_tick += 1.0;
        }
        true
    }

    /// `display_progress(n)`: a frame when the percent changed (or the timer fired).
    pub(super) fn show(&mut self, n: u64, now: f64) -> Option<String> {
        let update = self.tick(now);
        if self.last_value == Some(n) && !update {
            return None;
        }
        self.display(n, None, update)
    }

    fn display(&mut self, n: u64, done: Option<&str>, update: bool) -> Option<String> {
        let last_len = self.counters.len();
        self.last_value = Some(n);
        let tp = self.tp.as_ref().map(|t| t.display.as_str()).unwrap_or("");
        if self.total > 0 {
            let percent = (u128::from(n) * 100 / u128::from(self.total)) as u64;
            if Some(percent) == self.last_percent && !update {
                return None;
            }
            self.last_percent = Some(percent);
            self.counters = format!("{percent:>3}% ({n}/{}){tp}", self.total);
        } else if update {
            self.counters = format!("{n}{tp}");
        } else {
            return None;
        }
        let eol = done.unwrap_or("\r");
        let clear_len = if self.counters.len() < last_len {
            last_len - self.counters.len() + 1
        } else {
            0
        };
        let line_len = self.title.len() + self.counters.len() + 2;
        let c = &self.counters;
        Some(if self.split {
            format!("  {c}{eol:>clear_len$}")
        } else if done.is_none() && self.cols < line_len {
            let pad = if self.title.len() + 1 < self.cols {
                self.cols - self.title.len() - 1
            } else {
                0
            };
            self.split = true;
            format!("{}:{:pad$}\n  {c}{eol}", self.title, "")
        } else {
            format!("{}: {c}{eol:>clear_len$}", self.title)
        })
    }

    /// `display_throughput(total)` at `now`: a frame when the timer fired.
    pub(super) fn throughput(&mut self, total: u64, now: f64) -> Option<String> {
        let Some(tp) = self.tp.as_mut() else {
            self.tp = Some(Throughput {
                prev_t: now,
                prev_total: total,
                curr_total: total,
                avg_bytes: 0,
                avg_misecs: 0,
                last_bytes: [0; TP_IDX_MAX],
                last_misecs: [0; TP_IDX_MAX],
                idx: 0,
                display: String::new(),
            });
            return None;
        };
        tp.curr_total = total;
        if now - tp.prev_t <= 0.5 {
            return None;
        }
        let ms = misecs(now - tp.prev_t);
        let count = total.saturating_sub(tp.prev_total);
        tp.prev_total = total;
        tp.prev_t = now;
        tp.avg_bytes += count;
        tp.avg_misecs += ms;
        let rate = tp.avg_bytes / tp.avg_misecs.max(1);
        tp.avg_bytes -= tp.last_bytes[tp.idx];
        tp.avg_misecs -= tp.last_misecs[tp.idx];
        tp.last_bytes[tp.idx] = count;
        tp.last_misecs[tp.idx] = ms;
        tp.idx = (tp.idx + 1) % TP_IDX_MAX;
        tp.display = throughput_string(total, rate);
        let last = self.last_value?;
        if self.tick(now) {
            return self.display(last, None, true);
        }
        None
    }

    /// `stop_progress`: the final frame ending `, done.\n`, with the
    /// throughput over the whole meter.
    pub(super) fn stop(&mut self, now: f64) -> Option<String> {
        let last = self.last_value?;
        let start = self.start;
        if let Some(tp) = self.tp.as_mut() {
            let rate = tp.curr_total / misecs(now - start).max(1);
            tp.display = throughput_string(tp.curr_total, rate);
        }
        self.display(last, Some(", done.\n"), true)
    }
}

/// `sideband.c`: each `\r`- or `\n`-ended line of the server's stderr as
/// `remote: LINE` + `suffix` + its terminator.
pub(super) fn sideband(text: &str, suffix: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\r', '\n']) {
        out.push_str("remote: ");
        if i > 0 {
            out.push_str(&rest[..i]);
            out.push_str(suffix);
        }
        out.push_str(&rest[i..=i]);
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() {
        out.push_str("remote: ");
        out.push_str(rest);
    }
    out
}

/// The server's whole `Title: ...` run, as its own progress.c prints it
/// (no timer, 80 columns): every percent step, then `, done.`.
pub(super) fn server_phase(title: &str, total: u64) -> String {
    let mut p = Progress::new(title, total, 0.0, 80);
    let mut s = String::new();
    let mut n = 1.min(total);
    loop {
        if let Some(f) = p.display(n, None, false) {
            s.push_str(&f);
        }
        if n >= total {
            break;
        }
        n = next_step(n, total);
    }
    if let Some(f) = p.stop(0.0) {
        s.push_str(&f);
    }
    s
}

/// The first count after `n` whose percent of `total` is higher.
pub(super) fn next_step(n: u64, total: u64) -> u64 {
    if total == 0 {
        return n;
    }
    let t = u128::from(total);
    let p = u128::from(n) * 100 / t + 1;
    ((p * t).div_ceil(100) as u64).clamp(n + 1, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanise_matches_git() {
        assert_eq!(humanise(1425, false), "1.39 KiB");
        assert_eq!(humanise(31_341_000, false), "29.89 MiB");
        assert_eq!(humanise(5, false), "5 bytes");
        assert_eq!(humanise(1, true), "1 byte/s");
    }

    #[test]
    fn steps_are_the_first_count_of_each_percent() {
        assert_eq!(next_step(1, 54643), 547);
        assert_eq!(next_step(547, 54643), 1093);
        assert_eq!(next_step(0, 23178), 232);
        assert_eq!(next_step(1, 32), 2);
    }

    #[test]
    fn shorter_counters_are_padded_and_narrow_terminals_split() {
        let mut p = Progress::new("Receiving objects", 10, 0.0, 80);
        p.counters = "x".repeat(40);
        p.last_percent = Some(0);
        let f = p.display(5, None, false).unwrap();
        assert!(f.ends_with(&format!("(5/10){}\r", " ".repeat(29))), "{f:?}");
        let mut p = Progress::new("Receiving objects", 10, 0.0, 20);
        let f = p.display(1, None, false).unwrap();
        assert_eq!(f, "Receiving objects:  \n   10% (1/10)\r");
        assert_eq!(p.display(2, None, false).unwrap(), "   20% (2/10)\r");
    }

    #[test]
    fn sideband_suffixes_each_line() {
        assert_eq!(
            sideband("Counting: 1\rCounting: 2, done.\n", "\x1b[K"),
            "remote: Counting: 1\x1b[K\rremote: Counting: 2, done.\x1b[K\n"
        );
    }
}
