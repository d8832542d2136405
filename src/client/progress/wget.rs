//! GNU wget 1.21: the header lines (`--DATE--  URL`, `Connecting to`, `HTTP
//! request sent, awaiting response... 200 OK`, `Length:`, `Saving to:`), the
//! bar (`name  35%[=>   ]   1.02M   984KB/s    eta 2s`, also without a length
//! and under `-q --show-progress`), dot rows (default, binary, mega, giga,
//! `dotbytes`), `saved [N/N]`, `-nv` lines, and the failures: `ERROR 404:
//! Not Found.`, 401, DNS, refused, read errors with `(try: N)` retries and
//! `Giving up.`, disk full, usage errors.

use std::sync::LazyLock;

use regex::Regex;

use super::cursor::{gated, scanned, Literal};
use super::units::{clip, common_error, parse_size, percent};
use super::wget_scan::{self, Bar, Dots};
use super::{ErrorKind, Event, Parser, Progress, Stage};

static START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--\s+(?:\(try:\s*(\d+)\)\s+)?").expect("re")
});
static RESPONSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"request sent, awaiting response\.\.\. (\d{3})\s*(.*)$").expect("re")
});
static HTTP_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ERROR (\d{3}): (.*?)\.?$").expect("re"));
static LENGTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Length: (\d+)(?: \(([^)]*)\))?").expect("re"));
static SAVED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"- (?:['‘](.*)['’] saved|written to stdout) \[(\d+)(?:/(\d+))?\]").expect("re")
});
static NV: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#" URL:\S* \[(\d+)(?:/\d+)?\] -> "(.*)" \[\d+\]$"#).expect("re"));
static READ_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"- (Read error at byte \S+ \([^)]*\)|Connection closed at byte \d+)\. (Retrying|Giving up)\.")
        .expect("re")
});
static BAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<name>.*?)\s*(?:(?P<pct>\d{1,3})%)?\[[=>+<\- ]*\]\s+(?P<size>[\d.]+[KMGTPE]?)\s+(?P<rate>--\.-|[\d.]+) ?(?P<unit>[KMGT]?B/s)(?:\s+(?P<kind>eta|in) (?P<t>.+?))?\s*$",
    )
    .expect("re")
});
static DOTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?P<off>\d+)K (?P<dots>[.,][., ]*?)\s+(?:(?P<pct>\d{1,3})%\s+)?(?P<rate>[\d.]+)\s?(?P<u>[KMG]?)(?:\s*=(?P<el>\S+)|\s+(?P<eta>\S+))?\s*$",
    )
    .expect("re")
});

// Literals each regex below needs: lines without one skip the regex.
static SAVED_AT: Literal = Literal::new(" saved [");
static TO_STDOUT: Literal = Literal::new("written to stdout [");
static URL_AT: Literal = Literal::new(" URL:");
static AT_BYTE: Literal = Literal::new(" at byte ");

/// Whether a line looks like wget's (for output-based detection).
pub(crate) fn is_wget_line(line: &str) -> bool {
    start(line).is_some()
        || line.starts_with("Resolving ")
        || line.starts_with("Connecting to ")
        || line.starts_with("HTTP request sent")
        || line.starts_with("Saving to: ")
        || line.starts_with("wget: ")
        || BAR.is_match(line)
        || DOTS.is_match(line)
}

/// The bar regex's groups: the reference [`wget_scan::bar`] must agree
/// with, and its fallback.
pub(crate) fn bar_by_regex(line: &str) -> Option<Bar<'_>> {
    let c = BAR.captures(line)?;
    let text = |name| c.name(name).map(|m| m.as_str());
    Some(Bar {
        name: text("name")?,
        pct: text("pct"),
        size: text("size")?,
        rate: text("rate")?,
        unit: text("unit")?,
        kind: text("kind"),
        t: text("t"),
    })
}

/// The dot-row regex's groups: the reference [`wget_scan::dots`] must
/// agree with, and its fallback.
pub(crate) fn dots_by_regex(line: &str) -> Option<Dots<'_>> {
    // `K ` is in every dot row: without it the regex cannot match.
    memchr::memmem::find(line.as_bytes(), b"K ")?;
    let c = DOTS.captures(line)?;
    let text = |name| c.name(name).map(|m| m.as_str());
    Some(Dots {
        off: text("off")?,
        dots: text("dots")?,
        pct: text("pct"),
        rate: text("rate")?,
        u: text("u")?,
        el: text("el"),
        eta: text("eta"),
    })
}

/// A request's first line: `Some(Some(N))` on a retry's `(try: N)`.
fn start(line: &str) -> Option<Option<&str>> {
    scanned(wget_scan::start(line), || start_by_regex(line))
}

fn start_by_regex(line: &str) -> Option<Option<&str>> {
    let c = START.captures(line)?;
    Some(c.get(1).map(|m| m.as_str()))
}

/// The status line's code and reason.
fn response(line: &str) -> Option<(&str, &str)> {
    scanned(wget_scan::response(line), || response_by_regex(line))
}

fn response_by_regex(line: &str) -> Option<(&str, &str)> {
    let c = RESPONSE.captures(line)?;
    Some((c.get(1)?.as_str(), c.get(2)?.as_str()))
}

/// `ERROR 404: Not Found.`'s code and text.
fn http_error(line: &str) -> Option<(&str, &str)> {
    scanned(wget_scan::http_error(line), || http_error_by_regex(line))
}

fn http_error_by_regex(line: &str) -> Option<(&str, &str)> {
    let c = HTTP_ERROR.captures(line)?;
    Some((c.get(1)?.as_str(), c.get(2)?.as_str()))
}

/// Parser state for one wget run.
#[derive(Debug, Default)]
pub(crate) struct WgetParser {
    filename: Option<String>,
    total_bytes: Option<u64>,
    total_text: Option<String>,
    last_reason: Option<String>,
    /// Offset (KiB) and dot count of the previous dot row.
    prev_row: Option<(u64, u64)>,
    /// The bytes a dot stands for, once known.
    dot_bytes: Option<u64>,
}

fn unquote(s: &str) -> &str {
    s.trim()
        .trim_start_matches(['\'', '‘', '`'])
        .trim_end_matches(['\'', '’'])
}

/// wget's own size rendering: 1024-based, two decimals (216.00K).
fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut v = bytes as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if v >= 1000.0 {
        format!("{v:.0}{}", UNITS[i])
    } else {
        format!("{v:.2}{}", UNITS[i])
    }
}

impl WgetParser {
    fn progress(&self) -> Progress {
        Progress {
            stage: Some(Stage::Download),
            total: self.total_text.clone(),
            total_bytes: self.total_bytes,
            filename: self.filename.clone(),
            ..Progress::default()
        }
    }

    fn bar(&mut self, c: &Bar<'_>, out: &mut Vec<Event>) {
        let mut p = self.progress();
        p.percent = c.pct.and_then(percent);
        p.downloaded = Some(c.size.to_string());
        p.downloaded_bytes = parse_size(c.size, true);
        if c.rate != "--.-" {
            p.speed = Some(format!("{}{}", c.rate, c.unit));
        }
        match c.kind {
            Some("eta") => p.eta = c.t.map(|t| t.trim().to_string()),
            Some("in") => p.elapsed = c.t.map(|t| t.trim().to_string()),
            _ => {}
        }
        if p.filename.is_none() {
            let name = c.name.trim();
            if !name.is_empty() {
                p.filename = Some(name.to_string());
            }
        }
        out.push(Event::Progress(p));
    }

    fn dots(&mut self, c: &Dots<'_>, out: &mut Vec<Event>) {
        let off_kb: u64 = c.off.parse().unwrap_or(0);
        let dots = c.dots;
        let count = dots.chars().filter(|&ch| ch == '.' || ch == ',').count() as u64;
        let group = dots.split(' ').next().map_or(0, str::len);
        // The dot size: the step between this row and the previous (full)
        // row, over that row's dot count; else guessed below.
        if let (Some((prev_kb, prev_count)), None) = (self.prev_row, self.dot_bytes) {
            if off_kb > prev_kb {
                self.dot_bytes = (off_kb - prev_kb)
                    .saturating_mul(1024)
                    .checked_div(prev_count);
            }
        }
        self.prev_row = Some((off_kb, count));
        let pct: Option<u64> = c.pct.and_then(|m| m.parse().ok());
        let guess = match group {
            10 => 1024,
            16 => 8 * 1024,
            _ => 64 * 1024,
        };
        // Without a previous row, pick the dot size that gives the
        // percentage wget printed (mega vs giga, `-e dotbytes=4M`).
        // Saturating: a line is input, and a 20-digit offset must not
        // overflow (the fuzzer found one).
        let at = |d: u64| {
            off_kb
                .saturating_mul(1024)
                .saturating_add(count.saturating_mul(d))
        };
        let dot = match (self.dot_bytes, self.total_bytes, pct) {
            (Some(d), _, _) => d,
            (None, Some(t), Some(p)) if t > 0 => [guess, 1024, 8192, 65536, 1 << 20, 4 << 20]
                .into_iter()
                .find(|&d| (u128::from(at(d).min(t)) * 100 / u128::from(t)) == u128::from(p))
                .unwrap_or(guess),
            _ => guess,
        };
        let mut got = at(dot);
        if let Some(t) = self.total_bytes {
            got = if pct == Some(100) { t } else { got.min(t) };
        }
        let mut p = self.progress();
        p.percent = c.pct.and_then(percent);
        p.downloaded = Some(human(got));
        p.downloaded_bytes = Some(got);
        p.speed = Some(format!("{}{}B/s", c.rate, c.u));
        p.eta = c.eta.map(str::to_string);
        p.elapsed = c.el.map(str::to_string);
        out.push(Event::Progress(p));
    }
}

impl Parser for WgetParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            return;
        }
        let dots = scanned(wget_scan::dots(line), || dots_by_regex(line));
        if let Some(d) = dots {
            return self.dots(&d, out);
        }
        let bar = scanned(wget_scan::bar(line), || bar_by_regex(line));
        if let Some(bar) = bar {
            return self.bar(&bar, out);
        }
        if let Some(e) = common_error(line) {
            out.push(e);
        } else if let Some(attempt) = start(line) {
            self.prev_row = None;
            self.dot_bytes = None;
            if let Some(n) = attempt.and_then(|m| m.parse().ok()) {
                out.push(Event::Retrying { attempt: Some(n) });
            } else {
                self.filename = None;
                self.total_bytes = None;
                self.total_text = None;
            }
        } else if let Some(rest) = line.strip_prefix("Connecting to ") {
            let (target, result) = rest.split_once("... ").unwrap_or((rest, ""));
            let host = match target.split_once(' ') {
                // name (name)|ip|:port
                Some((name, tail)) => match tail.rsplit_once("|:") {
                    Some((_, port)) => format!("{name}:{port}"),
                    None => name.to_string(),
                },
                None => target.to_string(),
            };
            out.push(Event::Connecting { host: host.clone() });
            if let Some(why) = result.strip_prefix("failed: ") {
                let why = why.trim_end_matches('.');
                let kind = if why.contains("refused") {
                    ErrorKind::Refused
                } else if why.contains("timed out") {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Network
                };
                out.push(Event::error(
                    kind,
                    None,
                    clip(&format!("wget: connecting to {host} failed: {why}")),
                ));
            }
        } else if let Some((code, text)) = response(line) {
            let code = code.parse().unwrap_or(0);
            let text = text.trim().to_string();
            self.last_reason = Some(text.clone());
            out.push(Event::HttpResponse { code, text });
        } else if let Some(c) = gated(line.starts_with("Length: "), &LENGTH, line) {
            self.total_bytes = c[1].parse().ok();
            self.total_text = Some(c.get(2).map_or(&c[1], |m| m.as_str()).to_string());
        } else if line.starts_with("Length: unspecified") {
            self.total_bytes = None;
            self.total_text = None;
        } else if let Some(rest) = line.strip_prefix("Saving to: ") {
            let name = unquote(rest).to_string();
            self.filename = Some(name.clone());
            out.push(Event::StageStart {
                stage: Stage::Download,
                name: Some(name),
            });
        } else if let Some(c) = gated(SAVED_AT.is_in(line) || TO_STDOUT.is_in(line), &SAVED, line) {
            let filename = c
                .get(1)
                .map(|m| m.as_str().to_string())
                .or_else(|| Some("STDOUT".to_string()));
            out.push(Event::Complete {
                stage: Stage::Download,
                name: None,
                filename,
                size: c[2].parse().ok(),
            });
        } else if let Some(c) = gated(URL_AT.is_in(line), &NV, line) {
            out.push(Event::Complete {
                stage: Stage::Download,
                name: None,
                filename: Some(c[2].to_string()),
                size: c[1].parse().ok(),
            });
        } else if let Some((code, text)) = http_error(line) {
            let code: u16 = code.parse().unwrap_or(0);
            out.push(Event::error(
                ErrorKind::Http,
                Some(code),
                format!("wget: ERROR {code}: {text}"),
            ));
        } else if line.starts_with("Username/Password Authentication Failed") {
            let reason = self.last_reason.as_deref().unwrap_or("Unauthorized");
            out.push(Event::error(
                ErrorKind::Http,
                Some(401),
                format!("wget: ERROR 401: {reason} (Username/Password Authentication Failed)"),
            ));
        } else if line.contains("unable to resolve host address") {
            let msg = line.strip_prefix("wget: ").unwrap_or(line);
            out.push(Event::error(
                ErrorKind::Dns,
                None,
                clip(&format!("wget: {msg}")),
            ));
        } else if let Some(c) = gated(AT_BYTE.is_in(line), &READ_ERROR, line) {
            let what = &c[1];
            let msg = format!("wget: {}{}", what[..1].to_lowercase(), &what[1..]);
            out.push(Event::error(ErrorKind::Read, None, clip(&msg)));
            if &c[2] == "Giving up" {
                out.push(Event::GaveUp {
                    message: "Giving up.".into(),
                });
            }
        } else if line == "Giving up." {
            out.push(Event::GaveUp {
                message: line.to_string(),
            });
        } else if line.contains("The file is already fully retrieved") {
            out.push(Event::Complete {
                stage: Stage::Download,
                name: None,
                filename: self.filename.clone(),
                size: self.total_bytes,
            });
        } else if line.starts_with("File ") && line.contains(" already there; not retrieving") {
            let name = line
                .strip_prefix("File ")
                .and_then(|r| r.split(" already there").next())
                .map(|n| unquote(n).to_string());
            out.push(Event::Complete {
                stage: Stage::Download,
                name: None,
                filename: name,
                size: None,
            });
        } else if line.starts_with("ERROR: cannot verify")
            || line.contains("Unable to establish SSL")
        {
            out.push(Event::error(
                ErrorKind::Network,
                None,
                clip(&format!("wget: {line}")),
            ));
        } else if line.starts_with("wget: missing URL")
            || line.starts_with("wget: unrecognized option")
            || line.starts_with("wget: invalid option")
            || line.contains(": Unsupported scheme")
            || line.starts_with("wget: option requires")
        {
            let msg = if line.starts_with("wget: ") {
                line.to_string()
            } else {
                format!("wget: {line}")
            };
            out.push(Event::error(ErrorKind::Usage, None, clip(&msg)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::progress::cursor::Step;

    #[test]
    fn huge_dot_offsets_saturate_instead_of_overflowing() {
        let mut p = WgetParser::default();
        let mut out = Vec::new();
        p.parse_line("Length: 1000 (1000) [application/octet-stream]", &mut out);
        for line in [
            "99999999999999999999K .......... 50% 1.00M 1s",
            "18446744073709551615K .......... .......... 99% 9.9G 0s",
            "18446744073709551615K .......... 100% 9.9G=0s",
        ] {
            p.parse_line(line, &mut out);
        }
        assert!(out.iter().any(|e| matches!(e, Event::Progress(_))));
    }

    #[test]
    fn the_bar_scan_agrees_with_the_regex_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match wget_scan::bar(&line) {
                Step::Match(bar) => {
                    decided += 1;
                    assert_eq!(Some(bar), bar_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, bar_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 500, "the scan decided only {decided} samples");
    }

    #[test]
    fn the_dots_scan_agrees_with_the_regex_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match wget_scan::dots(&line) {
                Step::Match(d) => {
                    decided += 1;
                    assert_eq!(Some(d), dots_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, dots_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 500, "the scan decided only {decided} samples");
    }

    #[test]
    fn the_response_and_error_scans_agree_with_their_regexes() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            for (scan, regex) in [
                (wget_scan::response(&line), response_by_regex(&line)),
                (wget_scan::http_error(&line), http_error_by_regex(&line)),
                (
                    wget_scan::start(&line).map(|n| (n.unwrap_or("-"), "")),
                    start_by_regex(&line).map(|n| (n.unwrap_or("-"), "")),
                ),
            ] {
                match scan {
                    Step::Match(v) => {
                        decided += 1;
                        assert_eq!(Some(v), regex, "{line:?}");
                    }
                    Step::Fail => assert_eq!(None, regex, "{line:?}"),
                    Step::Unsure => {}
                }
            }
        }
        assert!(decided > 100, "the scans decided only {decided} samples");
    }

    #[test]
    fn human_sizes_match_wget() {
        assert_eq!(human(221_184), "216.00K");
        assert_eq!(human(3_000_000), "2.86M");
        assert_eq!(human(1000), "1000");
    }
}
