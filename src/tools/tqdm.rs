//! tqdm 4.67/4.70 progress bars, as `format_meter`, `format_sizeof`,
//! `format_interval` and `tqdm.update`/`close` produce them: `\r` + line +
//! erase padding, refreshes at most every 0.1 s (dynamic miniters), the
//! final frame drawn again on close with the overall rate, then `\n`.

/// tqdm's `format_sizeof`: 3 significant digits, SI prefixes (`k` lower-case).
pub fn format_sizeof(num: f64, suffix: &str, divisor: f64) -> String {
    let mut num = num;
    for unit in ["", "k", "M", "G", "T", "P", "E", "Z"] {
        if num.abs() < 999.5 {
            if num.abs() < 99.95 {
                if num.abs() < 9.995 {
                    return format!("{num:1.2}{unit}{suffix}");
                }
                return format!("{num:2.1}{unit}{suffix}");
            }
            return format!("{num:3.0}{unit}{suffix}");
        }
        num /= divisor;
    }
    format!("{num:3.1}Y{suffix}")
}

/// tqdm's `format_interval`: `MM:SS` or `H:MM:SS`.
pub fn format_interval(t: f64) -> String {
    let t = if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    };
    let (mins, s) = (t / 60, t % 60);
    let (h, m) = (mins / 60, mins % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

const BLOCKS: [char; 9] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];

/// The bar cells for a fraction over `n` cells.
pub fn bar_cells(frac: f64, n: usize) -> String {
    let frac = frac.clamp(0.0, 1.0);
    let eighths = (frac * n as f64 * 8.0) as usize;
    let (full, part) = (eighths / 8, eighths % 8);
    let mut s: String = std::iter::repeat_n('█', full.min(n)).collect();
    if full < n {
        s.push(BLOCKS[part]);
        s.extend(std::iter::repeat_n(' ', n - full - 1));
    }
    s
}

/// One meter line: what `format_meter` returns for these numbers
/// (with `unit_scale=True`).
#[derive(Clone, Debug)]
pub struct Meter<'a> {
    /// Description (`Model`).
    pub desc: &'a str,
    /// Items (bytes) done.
    pub n: f64,
    /// Total; `None` or 0 for the no-total form.
    pub total: Option<f64>,
    /// Seconds since the bar opened.
    pub elapsed: f64,
    /// Smoothed rate, `None` before the first one.
    pub rate: Option<f64>,
    /// Terminal columns tqdm uses, `None` without a tty (10-cell bar).
    pub ncols: Option<usize>,
    /// Unit (`iB`, `B`, `it`).
    pub unit: &'a str,
}

impl Meter<'_> {
    /// The line, without `\r` or padding.
    pub fn render(&self) -> String {
        let rate = match self.rate {
            None if self.elapsed > 0.0 => Some(self.n / self.elapsed),
            r => r,
        };
        let inv_rate = rate.filter(|r| *r != 0.0).map(|r| 1.0 / r);
        let rate_fmt = match (rate, inv_rate) {
            (_, Some(inv)) if inv > 1.0 => {
                format!("{}s/{}", format_sizeof(inv, "", 1000.0), self.unit)
            }
            (Some(r), _) if r != 0.0 => format!("{}{}/s", format_sizeof(r, "", 1000.0), self.unit),
            _ => format!("?{}/s", self.unit),
        };
        let elapsed = format_interval(self.elapsed);
        let n_fmt = format_sizeof(self.n, "", 1000.0);
        match self.total.filter(|t| *t != 0.0) {
            Some(total) => {
                let total_fmt = format_sizeof(total, "", 1000.0);
                let remaining = match rate {
                    Some(r) if r != 0.0 => format_interval((total - self.n) / r),
                    _ => "?".to_string(),
                };
                let frac = self.n / total;
                let l_bar = format!("{}: {:3.0}%|", self.desc, frac * 100.0);
                let r_bar = format!("| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]");
                let cells = match self.ncols {
                    Some(c) => c
                        .saturating_sub(l_bar.chars().count() + r_bar.chars().count())
                        .max(1),
                    None => 10,
                };
                let line = format!("{l_bar}{}{r_bar}", bar_cells(frac, cells));
                match self.ncols {
                    Some(c) => line.chars().take(c).collect(),
                    None => line,
                }
            }
            None => format!(
                "{}: {n_fmt}{} [{elapsed}, {rate_fmt}]",
                self.desc, self.unit
            ),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Ema {
    last: f64,
    calls: i32,
}

impl Ema {
    const ALPHA: f64 = 0.3;
    fn push(&mut self, x: f64) -> f64 {
        self.last = Self::ALPHA * x + (1.0 - Self::ALPHA) * self.last;
        self.calls += 1;
        self.get()
    }
    fn get(&self) -> f64 {
        if self.calls == 0 {
            self.last
        } else {
            self.last / (1.0 - (1.0 - Self::ALPHA).powi(self.calls))
        }
    }
}

/// A live tqdm bar: feed it updates with the simulated time, write what it returns.
#[derive(Clone, Debug)]
pub struct Bar {
    desc: String,
    unit: &'static str,
    total: Option<f64>,
    ncols: Option<usize>,
    n: f64,
    start: f64,
    last_print_n: f64,
    last_print_t: f64,
    miniters: f64,
    ema_dn: Ema,
    ema_dt: Ema,
    ema_miniters: Ema,
    prev_len: usize,
}

/// tqdm's default `mininterval`.
pub const MININTERVAL: f64 = 0.1;

impl Bar {
    /// A bar opened at simulated time `now`; `ncols` is `None` without a tty.
    pub fn new(
        desc: &str,
        unit: &'static str,
        total: Option<f64>,
        ncols: Option<usize>,
        now: f64,
    ) -> Self {
        Bar {
            desc: desc.to_string(),
            unit,
            total,
            ncols,
            n: 0.0,
            start: now,
            last_print_n: 0.0,
            last_print_t: now,
            miniters: 0.0,
            ema_dn: Ema::default(),
            ema_dt: Ema::default(),
            ema_miniters: Ema::default(),
            prev_len: 0,
        }
    }

    fn frame(&mut self, now: f64, rate: Option<f64>) -> String {
        let line = Meter {
            desc: &self.desc,
            n: self.n,
            total: self.total,
            elapsed: now - self.start,
            rate,
            ncols: self.ncols,
            unit: self.unit,
        }
        .render();
        let len = line.chars().count();
        let pad = self.prev_len.saturating_sub(len);
        self.prev_len = len;
        format!("\r{line}{}", " ".repeat(pad))
    }

    fn smoothed(&self) -> Option<f64> {
        let dt = self.ema_dt.get();
        (dt != 0.0).then(|| self.ema_dn.get() / dt)
    }

    /// The first frame, drawn when the bar is created.
    pub fn open(&mut self, now: f64) -> String {
        self.frame(now, None)
    }

    /// Adds `dn` items at time `now`; returns a frame when tqdm would redraw.
    pub fn update(&mut self, dn: f64, now: f64) -> Option<String> {
        self.n += dn;
        if self.n - self.last_print_n < self.miniters {
            return None;
        }
        let dt = now - self.last_print_t;
        if dt < MININTERVAL {
            return None;
        }
        let dn = self.n - self.last_print_n;
        if dt > 0.0 && dn > 0.0 {
            self.ema_dn.push(dn);
            self.ema_dt.push(dt);
        }
        let rate = self.smoothed();
        let frame = self.frame(now, rate);
        // Dynamic miniters (tqdm's default with smoothing).
        self.miniters = self
            .ema_miniters
            .push(dn * if dt > 0.0 { MININTERVAL / dt } else { 1.0 });
        self.last_print_n = self.n;
        self.last_print_t = now;
        Some(frame)
    }

    /// The close: the final state again with the overall rate, then `\n`.
    pub fn close(&mut self, now: f64) -> String {
        let mut s = self.frame(now, None);
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_three_significant_digits() {
        assert_eq!(format_sizeof(1_048_576.0, "", 1000.0), "1.05M");
        assert_eq!(format_sizeof(3_000_000.0, "", 1000.0), "3.00M");
        assert_eq!(format_sizeof(5330.0, "iB/s", 1000.0), "5.33kiB/s");
        assert_eq!(format_sizeof(378.0, "iB/s", 1000.0), "378iB/s");
        assert_eq!(format_sizeof(50.6, "", 1000.0), "50.6");
        assert_eq!(format_sizeof(997_000.0, "", 1000.0), "997k");
    }

    #[test]
    fn non_tty_bar_matches_capture() {
        // civ_ok_notty.out
        let m = Meter {
            desc: "Model",
            n: 1_048_576.0,
            total: Some(3_000_000.0),
            elapsed: 1.01,
            rate: Some(1.04e6),
            ncols: None,
            unit: "iB",
        };
        assert_eq!(
            m.render(),
            "Model:  35%|███▍      | 1.05M/3.00M [00:01<00:01, 1.04MiB/s]"
        );
        let m0 = Meter {
            n: 0.0,
            elapsed: 0.0,
            rate: None,
            ..m.clone()
        };
        assert_eq!(
            m0.render(),
            "Model:   0%|          | 0.00/3.00M [00:00<?, ?iB/s]"
        );
    }

    #[test]
    fn tty_bar_fills_the_width() {
        // civ_ok_tty.tty (tqdm 4.70.1, 100 columns -> 99)
        let m = Meter {
            desc: "Model",
            n: 2_097_152.0,
            total: Some(3_000_000.0),
            elapsed: 2.05,
            rate: Some(1.02e6),
            ncols: Some(99),
            unit: "iB",
        };
        assert_eq!(
            m.render(),
            "Model:  70%|██████████████████████████████████▎              | 2.10M/3.00M [00:02<00:00, 1.02MiB/s]"
        );
    }

    #[test]
    fn final_frame_repeats_on_close() {
        let mut b = Bar::new("Model", "iB", Some(3e6), None, 0.0);
        let first = b.open(0.0);
        assert!(first.starts_with("\rModel:   0%"));
        assert!(b.update(3e6, 2.9).is_some());
        let last = b.close(2.95);
        assert!(last.starts_with("\rModel: 100%|██████████| 3.00M/3.00M"));
        assert!(last.ends_with("iB/s]\n"));
    }
}
