//! aria2's text pieces: `util::abbrevSize`, `util::secfmt`, the console
//! log header and a `ColorizedStream` (text and colour codes kept apart, so
//! the readout can be printed plain, coloured, or truncated to the width).

/// `util::abbrevSize`: 1024-based, units `""/Ki/Mi/Gi`, one decimal when
/// the integer part is below 10, the next unit from 922 on.
pub(super) fn abbrev_size(size: u64) -> String {
    const UNITS: [&str; 4] = ["", "Ki", "Mi", "Gi"];
    let mut t = size;
    let mut uidx = 0;
    let mut r = 0;
    while t >= 1024 && uidx + 1 < UNITS.len() {
        r = t % 1024;
        t /= 1024;
        uidx += 1;
    }
    if uidx + 1 < UNITS.len() && t >= 922 {
        uidx += 1;
        r = t;
        t = 0;
    }
    let mut s = comma(t);
    if t < 10 && uidx > 0 {
        s.push('.');
        s.push_str(&(r * 10 / 1024).to_string());
    }
    s.push_str(UNITS[uidx]);
    s
}

/// `util::itos(n, true)`: thousands separated by commas.
fn comma(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `util::secfmt`: `9s`, `1m5s`, `1h2m3s`, `2h`.
pub(super) fn secfmt(sec: u64) -> String {
    let mut s = String::new();
    let mut left = sec;
    if left >= 3600 {
        s.push_str(&format!("{}h", left / 3600));
        left %= 3600;
    }
    if left >= 60 {
        s.push_str(&format!("{}m", left / 60));
        left %= 60;
    }
    if left > 0 || sec == 0 {
        s.push_str(&format!("{left}s"));
    }
    s
}

/// `MM/DD HH:MM:SS` (the console log's date) for a Unix time, in UTC.
pub(super) fn log_date(unix: f64) -> String {
    chrono::DateTime::from_timestamp(unix.floor() as i64, 0)
        .map(|d| d.format("%m/%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `asctime` without its newline: `Thu Nov 26 09:53:45 2026`.
pub(super) fn asctime(unix: f64) -> String {
    chrono::DateTime::from_timestamp(unix.floor() as i64, 0)
        .map(|d| d.format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_default()
}

/// The colours aria2's console uses.
pub(super) mod colors {
    pub(crate) const MAGENTA: &str = "\x1b[35m";
    pub(crate) const CYAN: &str = "\x1b[36m";
    pub(crate) const GREEN: &str = "\x1b[32m";
    pub(crate) const YELLOW: &str = "\x1b[33m";
    pub(crate) const CLEAR: &str = "\x1b[0m";
}

/// `ColorizedStream`: text pieces and colour codes in order.
#[derive(Default)]
pub(super) struct Colorized {
    elems: Vec<(bool, String)>,
}

impl Colorized {
    /// Appends text.
    pub(super) fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.elems.push((false, s.into()));
        self
    }

    /// Appends a colour code.
    pub(super) fn color(&mut self, c: &str) -> &mut Self {
        self.elems.push((true, c.to_string()));
        self
    }

    /// The text, with colours (and a closing clear) when `color`, cut to
    /// `max` visible bytes when given.
    pub(super) fn render(&self, color: bool, max: Option<usize>) -> String {
        let mut out = String::new();
        let mut left = max.unwrap_or(usize::MAX);
        for (is_color, s) in &self.elems {
            if *is_color {
                if color {
                    out.push_str(s);
                }
                continue;
            }
            if max.is_some() {
                if s.len() > left {
                    // Readout text is ASCII; cut on a char boundary anyway.
                    let mut cut = left;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    out.push_str(&s[..cut]);
                    break;
                }
                out.push_str(s);
                left -= s.len();
                if left == 0 {
                    break;
                }
            } else {
                out.push_str(s);
            }
        }
        if color {
            out.push_str(colors::CLEAR);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_abbreviate_as_aria2_does() {
        assert_eq!(abbrev_size(0), "0");
        assert_eq!(abbrev_size(900), "900");
        assert_eq!(abbrev_size(1000), "0.9Ki");
        assert_eq!(abbrev_size(3_000_000), "2.8Mi");
        assert_eq!(abbrev_size(6_000_000), "5.7Mi");
        assert_eq!(abbrev_size(24_000_000), "22Mi");
        assert_eq!(abbrev_size(950 * 1024 * 1024), "0.9Gi");
        assert_eq!(abbrev_size(5_000 * 1024 * 1024 * 1024), "5,000Gi");
        assert!(!abbrev_size(u64::MAX).is_empty());
    }

    #[test]
    fn times_format_as_secfmt() {
        assert_eq!(secfmt(9), "9s");
        assert_eq!(secfmt(65), "1m5s");
        assert_eq!(secfmt(3723), "1h2m3s");
        assert_eq!(secfmt(7200), "2h");
        assert_eq!(secfmt(0), "0s");
    }

    #[test]
    fn colorized_text_truncates_visible_bytes_only() {
        let mut c = Colorized::default();
        c.color(colors::MAGENTA)
            .text("[")
            .color(colors::CLEAR)
            .text("#abc 1B");
        assert_eq!(c.render(false, None), "[#abc 1B");
        assert_eq!(c.render(true, Some(3)), "\x1b[35m[\x1b[0m#a\x1b[0m");
    }
}
