//! wget's dot progress (`progress.c: dot_*`): rows of dots with the row's
//! offset, percentage, speed and eta; `,` and `[ skipping NK ]` on resume;
//! the last row padded and closed with the total time.

use super::format::{eta_short, print_decimal, scaled_rate};

/// Dot geometry: bytes per dot, dots per group, dots per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DotStyle {
    pub(crate) dot_bytes: u64,
    pub(crate) spacing: u32,
    pub(crate) per_line: u32,
}

impl DotStyle {
    /// `default`, `binary`, `mega`, `giga`.
    pub(crate) fn named(name: &str) -> Self {
        let (dot_bytes, spacing, per_line) = match name {
            "binary" => (8 * 1024, 16, 48),
            "mega" => (64 * 1024, 8, 48),
            "giga" => (1024 * 1024, 8, 32),
            _ => (1024, 10, 50),
        };
        DotStyle {
            dot_bytes,
            spacing,
            per_line,
        }
    }
}

/// One download's dot state.
pub(crate) struct DotProgress {
    style: DotStyle,
    total: Option<u64>,
    initial: u64,
    rows: u64,
    dots: u32,
    accumulated: u64,
    last_timer: f64,
}

impl DotProgress {
    /// Starts the display; returns it with the opening text (resume marks).
    pub(crate) fn new(style: DotStyle, total: Option<u64>, initial: u64) -> (Self, String) {
        let mut dp = DotProgress {
            style,
            total,
            initial,
            rows: 0,
            dots: 0,
            accumulated: 0,
            last_timer: 0.0,
        };
        let mut s = String::new();
        if initial > 0 {
            let row = dp.row_bytes();
            let mut remainder = initial % row;
            let skipped = initial - remainder;
            if skipped > 0 {
                let k = (skipped / 1024).to_string();
                let w = k.len().max(6) + 2;
                s.push_str(&format!("\n{:w$}[ skipping {k}K ]", ""));
            }
            s.push_str(&format!("\n{:>6}K", skipped / 1024));
            while remainder >= style.dot_bytes {
                if dp.dots.is_multiple_of(style.spacing) {
                    s.push(' ');
                }
                s.push(',');
                dp.dots += 1;
                remainder -= style.dot_bytes;
            }
            dp.accumulated = remainder;
            dp.rows = skipped / row;
        }
        (dp, s)
    }

    fn row_bytes(&self) -> u64 {
        self.style.dot_bytes * u64::from(self.style.per_line)
    }

    fn row_stats(&mut self, now: f64, last: bool) -> String {
        let row = self.row_bytes();
        let mut s = String::new();
        let mut shown = self.rows * row + u64::from(self.dots) * self.style.dot_bytes;
        if last {
            shown += self.accumulated;
        }
        if let Some(total) = self.total.filter(|t| *t > 0) {
            let pct = (100.0 * shown as f64 / total as f64) as i64;
            s.push_str(&format!("{pct:>3}%"));
        }
        let mut qty = if last {
            u64::from(self.dots) * self.style.dot_bytes + self.accumulated
        } else {
            row
        };
        let row_of_initial = if last { self.rows } else { self.rows - 1 };
        if row_of_initial == self.initial / row {
            qty = qty.saturating_sub(self.initial % row);
        }
        let (v, u, prec) = scaled_rate(qty, now - self.last_timer);
        s.push_str(&format!(" {v:>4.prec$}{}", [' ', 'K', 'M', 'G', 'T'][u]));
        self.last_timer = now;
        if !last {
            if let Some(total) = self.total.filter(|t| *t > 0) {
                let remaining = total.saturating_sub(shown) as f64;
                let sofar = shown.saturating_sub(self.initial) as f64;
                if sofar > 0.0 {
                    let eta = now * remaining / sofar;
                    s.push_str(&format!(" {}", eta_short((eta + 0.5) as i64, true)));
                }
            }
        } else if now >= 10.0 {
            s.push_str(&format!("={}", eta_short((now + 0.5) as i64, true)));
        } else {
            s.push_str(&format!("={}s", print_decimal(now)));
        }
        s
    }

    /// Adds `bytes` that arrived between download-seconds `t0` and `t1`.
    pub(crate) fn update(&mut self, bytes: u64, t0: f64, t1: f64) -> String {
        let mut s = String::new();
        let start_acc = self.accumulated;
        self.accumulated += bytes;
        let mut consumed = 0u64;
        while self.accumulated >= self.style.dot_bytes {
            self.accumulated -= self.style.dot_bytes;
            consumed += self.style.dot_bytes;
            if self.dots == 0 {
                s.push_str(&format!("\n{:>6}K", self.rows * self.row_bytes() / 1024));
            }
            if self.dots.is_multiple_of(self.style.spacing) {
                s.push(' ');
            }
            s.push('.');
            self.dots += 1;
            if self.dots >= self.style.per_line {
                self.rows += 1;
                self.dots = 0;
                // When, within this step, the row's last byte came in.
                let into = consumed.saturating_sub(start_acc).min(bytes);
                let t = if bytes > 0 {
                    t0 + (t1 - t0) * into as f64 / bytes as f64
                } else {
                    t1
                };
                s.push_str(&self.row_stats(t, false));
            }
        }
        s
    }

    /// The last row, padded, with the total time, then `\n\n`.
    pub(crate) fn finish(&mut self, now: f64) -> String {
        let mut s = String::new();
        if self.dots == 0 {
            s.push_str(&format!("\n{:>6}K", self.rows * self.row_bytes() / 1024));
        }
        for i in self.dots..self.style.per_line {
            if i % self.style.spacing == 0 {
                s.push(' ');
            }
            s.push(' ');
        }
        s.push_str(&self.row_stats(now, true));
        s.push_str("\n\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_match_wget_dot_ok() {
        let (mut dp, start) = DotProgress::new(DotStyle::named("default"), Some(3_000_000), 0);
        assert_eq!(start, "");
        let first = dp.update(51_200, 0.0, 0.0494);
        assert_eq!(
            first,
            "\n     0K .......... .......... .......... .......... ..........  1% 1012K 3s"
        );
    }

    #[test]
    fn last_row_is_padded_with_total_time() {
        let (mut dp, _) = DotProgress::new(DotStyle::named("default"), Some(3_000_000), 0);
        let _ = dp.update(2_969_600, 0.0, 2.97);
        let mut end = dp.update(30_400, 2.97, 3.0);
        end.push_str(&dp.finish(3.0));
        assert!(
            end.starts_with(
                "\n  2900K .......... .......... .........                       100% "
            ),
            "{end:?}"
        );
        assert!(end.ends_with("=3.0s\n\n"), "{end:?}");
    }

    #[test]
    fn resume_marks_skipped_and_present_bytes() {
        let (mut dp, start) = DotProgress::new(DotStyle::named("default"), Some(300_000), 114_688);
        assert_eq!(start, "\n        [ skipping 100K ]\n   100K ,,,,,,,,,, ,,");
        let end = dp.finish(0.0);
        assert_eq!(
            end,
            "                                          38% 0.00 =0s\n\n"
        );
    }
}
