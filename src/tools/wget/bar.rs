//! wget's bar progress (`progress.c: create_image`): `\r` frames exactly
//! `cols - 1` wide, filename marquee, `+` for resumed bytes, bouncing `<=>`
//! without a length, rate over the last seconds, eta after 3 s, `in Xs` last.

use super::format::{eta_short, human_readable, print_decimal, rate_units};

/// Frames closer than this (in download seconds) are not drawn.
pub(crate) const REFRESH_INTERVAL: f64 = 0.2;
/// The cadence frames really come at: the 0.2 s limit plus read granularity.
pub(crate) const FRAME_STEP: f64 = 0.21;
const MIN_SCREEN_WIDTH: usize = 51;
const MIN_SCROLL_TEXT: usize = 5;
const STALL_START_TIME: f64 = 5.0;
const SPEED_WINDOW: f64 = 3.0;

/// One download's bar state.
pub(crate) struct BarProgress {
    name: Vec<char>,
    total: Option<u64>,
    initial: u64,
    noscroll: bool,
    tick: u64,
    samples: Vec<(f64, u64)>,
    last_data: f64,
    last_count: u64,
    eta: Option<(f64, i64)>,
}

impl BarProgress {
    /// A bar for `name`; `initial` bytes were there before (resume).
    pub(crate) fn new(name: &str, total: Option<u64>, initial: u64, noscroll: bool) -> Self {
        BarProgress {
            name: name.chars().collect(),
            total,
            initial,
            noscroll,
            tick: 0,
            samples: vec![(0.0, 0)],
            last_data: 0.0,
            last_count: 0,
            eta: None,
        }
    }

    fn rate(&self, now: f64, count: u64) -> Option<f64> {
        if count == 0 || now <= 0.0 || now - self.last_data > STALL_START_TIME {
            return None;
        }
        let (t0, c0) = self
            .samples
            .iter()
            .rev()
            .find(|(t, _)| now - t >= SPEED_WINDOW)
            .copied()
            .unwrap_or(self.samples[0]);
        let dt = now - t0;
        (dt > 0.0).then(|| (count - c0) as f64 / dt)
    }

    /// The frame (`\r` + image) after `count` new bytes at `now` download-seconds,
    /// `cols` terminal columns; `done` for the last one.
    pub(crate) fn frame(&mut self, now: f64, count: u64, cols: usize, done: bool) -> String {
        if count != self.last_count {
            self.last_data = now;
            self.last_count = count;
        }
        let cols = if cols == 0 {
            80
        } else {
            cols.max(MIN_SCREEN_WIDTH)
        };
        let width = cols - 1;
        let max_name = width / 4;
        let size = self.initial + count;
        let mut s = String::with_capacity(width * 3);
        // File name: marquee, or truncated.
        let n = self.name.len();
        let (mut padding, offset) = if n > max_name + MIN_SCROLL_TEXT && !self.noscroll && !done {
            let off = (self.tick as usize + n + max_name / 2) % (n + max_name);
            if off > n {
                (max_name - (off - n), 0)
            } else {
                (0, off)
            }
        } else {
            (0, 0)
        };
        s.extend(std::iter::repeat_n(' ', padding));
        let shown: String = self
            .name
            .iter()
            .skip(offset)
            .take(max_name - padding)
            .collect();
        let shown_cols = shown.chars().count();
        s.push_str(&shown);
        padding = max_name - (padding + shown_cols);
        s.extend(std::iter::repeat_n(' ', padding + 1));
        // Percentage and bar.
        let progress_size = width.saturating_sub(max_name + 1 + 4 + 2 + 8 + 10 + 15);
        let progress_size = if progress_size < 5 { 0 } else { progress_size };
        match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let pct = (100.0 * size as f64 / total as f64) as i64;
                s.push_str(&format!("{:>3}%", pct.min(100)));
                s.push('[');
                let insz = (self.initial as f64 / total as f64 * progress_size as f64) as usize;
                let dlsz = ((size as f64 / total as f64 * progress_size as f64) as usize)
                    .min(progress_size);
                let mut bar = "+".repeat(insz.min(dlsz));
                let rest = dlsz.saturating_sub(insz);
                if rest > 0 {
                    bar.push_str(&"=".repeat(rest - 1));
                    bar.push('>');
                }
                while bar.len() < progress_size {
                    bar.push(' ');
                }
                s.push_str(&bar);
                s.push(']');
            }
            None => {
                s.push_str("    [");
                let period = (progress_size * 2).saturating_sub(6).max(1);
                let ind = (self.tick as usize) % period;
                let pos = if ind + 2 < progress_size {
                    ind + 1
                } else {
                    progress_size.saturating_sub(ind + 5 - progress_size)
                };
                for i in 0..progress_size {
                    s.push(if i + 1 == pos {
                        '<'
                    } else if i == pos {
                        '='
                    } else if i == pos + 1 {
                        '>'
                    } else {
                        ' '
                    });
                }
                s.push(']');
            }
        }
        // Size.
        let down = human_readable(size, 1000, 2);
        s.push_str(&format!(" {down:>7}"));
        // Rate.
        match self.rate(now, count) {
            Some(r) => {
                let (v, u) = rate_units(r);
                let prec = if v >= 99.95 {
                    0
                } else if v >= 9.995 {
                    1
                } else {
                    2
                };
                let unit = [" B/s", "KB/s", "MB/s", "GB/s", "TB/s"][u];
                s.push_str(&format!("  {v:>4.prec$}{unit}"));
            }
            None => s.push_str("  --.-KB/s"),
        }
        // Eta, or the total time.
        if done {
            let t = if now >= 10.0 {
                eta_short((now + 0.5) as i64, false)
            } else {
                format!("{}s", print_decimal(now))
            };
            s.push_str(&format!("    in {t}"));
        } else if let (Some(total), true) = (self.total, count > 0 && now > 3.0) {
            let eta = match self.eta {
                Some((t, v)) if now - t < 1.0 && size != total => v,
                _ => {
                    let remaining = total.saturating_sub(size) as f64;
                    let v = (now * remaining / count as f64) as i64;
                    self.eta = Some((now, v));
                    v
                }
            };
            s.push_str(&format!("    eta {}", eta_short(eta, false)));
        }
        let len = s.chars().count();
        if len < width {
            s.extend(std::iter::repeat_n(' ', width - len));
        }
        self.tick += 1;
        self.samples.push((now, count));
        if self.samples.len() > 64 {
            let cut = self.samples.len() - 48;
            self.samples.drain(1..cut);
        }
        format!("\r{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_last_frames_match_wget_bar_ok() {
        let mut b = BarProgress::new("add_detail.safetensors", Some(3_000_000), 0, false);
        assert_eq!(
            b.frame(0.0, 0, 80, false),
            "\radd_detail.safetens   0%[                    ]       0  --.-KB/s               "
        );
        let f = b.frame(0.213, 221_184, 80, false);
        assert_eq!(
            f,
            "\radd_detail.safetens   7%[>                   ] 216.00K  1014KB/s               "
        );
        let last = b.frame(3.0, 3_000_000, 80, true);
        assert!(
            last.starts_with("\radd_detail.safetens 100%[===================>]   2.86M"),
            "{last}"
        );
        assert!(last.ends_with("    in 3.0s    "), "{last:?}");
    }

    #[test]
    fn long_names_scroll_one_column_per_frame() {
        let name = "sd_xl_base_1.0_0.9vae_very_long_filename_example.safetensors";
        let mut b = BarProgress::new(name, Some(12_000_000), 0, false);
        let f0 = b.frame(0.0, 0, 100, false);
        assert!(f0.starts_with("\r            sd_xl_base_1   0%["), "{f0:?}");
        let f1 = b.frame(0.2, 319_488, 100, false);
        assert!(f1.starts_with("\r           sd_xl_base_1.   2%["), "{f1:?}");
        assert_eq!(f1.chars().count(), 100);
    }

    #[test]
    fn resumed_part_is_drawn_with_plus() {
        let mut b = BarProgress::new("res.bin", Some(3_000_000), 1_500_000, false);
        let f = b.frame(0.0, 0, 80, false);
        assert_eq!(
            f,
            "\rres.bin              50%[++++++++++          ]   1.43M  --.-KB/s               "
        );
    }

    #[test]
    fn unknown_length_bounces() {
        let mut b = BarProgress::new("d.bin", None, 0, false);
        assert_eq!(
            b.frame(0.0, 0, 80, false),
            "\rd.bin                   [<=>                 ]       0  --.-KB/s               "
        );
    }
}
