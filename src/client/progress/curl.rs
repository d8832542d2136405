//! curl 7.x/8.x: the progress meter (`  % Total    % Received ...` header, then
//! 12-column rows once a second), the `-#` bar (`####   45.2%`), and
//! `curl: (N) message` errors (22 HTTP, 6 DNS, 7 refused, 28 timeout, 18/56
//! read, 23 write, 35/60 TLS). A message may follow a meter row on the same
//! line (curl prints no newline before it).

use std::sync::LazyLock;

use regex::Regex;

use super::curl_scan;
use super::cursor::{gated, scanned};
use super::units::{clip, common_error, curl_message_kind, parse_size, percent};
use super::{ErrorKind, Event, Parser, Progress, Stage};

static METER: LazyLock<Regex> = LazyLock::new(|| {
    let size = r"([\d.]+[kMGTPE]?)";
    let time = r"(--:--:--|\d+:\d\d:\d\d|\d+d \d\dh|\d+h)";
    Regex::new(&format!(
        r"^\s*(\d{{1,3}})\s+{size}\s+(\d{{1,3}})\s+{size}\s+(\d{{1,3}})\s+{size}\s+{size}\s+{size}\s+{time}\s+{time}\s+{time}\s+{size}\s*$"
    ))
    .expect("curl meter regex")
});
static HASH_BAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[#\s]*\s(\d{1,3}\.\d)%$").expect("curl bar regex"));
static ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"curl: \((\d+)\) (.*)$").expect("curl error regex"));
static HTTP_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"returned error: (\d{3})").expect("curl code regex"));

/// The meter regex's twelve groups: the reference [`curl_scan::meter`]
/// must agree with, and its fallback.
pub(crate) fn meter_by_regex(line: &str) -> Option<[&str; 12]> {
    let c = METER.captures(line)?;
    let mut groups = [""; 12];
    for (i, g) in groups.iter_mut().enumerate() {
        *g = c.get(i + 1)?.as_str();
    }
    Some(groups)
}

fn error_by_regex(message: &str) -> Option<(&str, &str)> {
    let c = ERROR.captures(message)?;
    Some((c.get(1)?.as_str(), c.get(2)?.as_str()))
}

fn http_code_by_regex(text: &str) -> Option<&str> {
    Some(HTTP_CODE.captures(text)?.get(1)?.as_str())
}

/// Parser state for one curl run.
#[derive(Debug, Default)]
pub(crate) struct CurlParser {
    started: bool,
}

impl CurlParser {
    fn start(&mut self, out: &mut Vec<Event>) {
        if !self.started {
            self.started = true;
            out.push(Event::StageStart {
                stage: Stage::Download,
                name: None,
            });
        }
    }
}

fn known_time(t: &str) -> Option<String> {
    (t != "--:--:--").then(|| t.to_string())
}

impl Parser for CurlParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        let (meter, message) = match curl_scan::CURL_ERROR.find(raw) {
            Some(i) => (&raw[..i], Some(&raw[i..])),
            None => (raw, None),
        };
        let row = scanned(curl_scan::meter(meter), || meter_by_regex(meter));
        if let Some(c) = row {
            self.start(out);
            // c[i] is the regex's group i + 1
            let total = c[1];
            let total_known = total != "0";
            let speed = c[11];
            out.push(Event::Progress(Progress {
                stage: Some(Stage::Download),
                percent: percent(c[2]).filter(|_| total_known),
                downloaded: Some(c[3].to_string()),
                total: total_known.then(|| total.to_string()),
                speed: Some(format!("{speed}B/s")),
                eta: known_time(c[10]),
                elapsed: known_time(c[9]),
                filename: None,
                name: None,
                downloaded_bytes: parse_size(c[3], true),
                total_bytes: total_known.then(|| parse_size(total, true)).flatten(),
            }));
        } else if let Some(c) = {
            let m = meter.trim_end();
            gated(m.ends_with('%'), &HASH_BAR, m)
        } {
            self.start(out);
            out.push(Event::Progress(Progress {
                stage: Some(Stage::Download),
                percent: percent(&c[1]),
                ..Progress::default()
            }));
        } else if meter.trim_start().starts_with("% Total") {
            self.start(out);
        }
        let Some(message) = message else {
            if let Some(e) = common_error(raw) {
                out.push(e);
            }
            return;
        };
        let found = scanned(curl_scan::error(message), || error_by_regex(message));
        let Some((n, text)) = found else {
            return;
        };
        let n: u32 = n.parse().unwrap_or(0);
        let (kind, code) = match n {
            22 => (
                ErrorKind::Http,
                scanned(curl_scan::http_code(text), || http_code_by_regex(text))
                    .and_then(|code| code.parse().ok()),
            ),
            6 => (ErrorKind::Dns, None),
            7 => (ErrorKind::Refused, None),
            28 => (ErrorKind::Timeout, None),
            18 | 56 | 92 => (ErrorKind::Read, None),
            35 | 51 | 58 | 60 => (ErrorKind::Network, None),
            1..=4 | 43 => (ErrorKind::Usage, None),
            _ => (curl_message_kind(text).unwrap_or(ErrorKind::Other), None),
        };
        out.push(Event::error(kind, code, clip(message)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::progress::cursor::Step;

    #[test]
    fn the_meter_scan_agrees_with_the_regex_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match curl_scan::meter(&line) {
                Step::Match(g) => {
                    decided += 1;
                    assert_eq!(Some(g), meter_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, meter_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 100, "the scan decided only {decided} samples");
    }

    #[test]
    fn the_error_scans_agree_with_their_regexes() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match curl_scan::error(&line) {
                Step::Match(v) => {
                    decided += 1;
                    assert_eq!(Some(v), error_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, error_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
            match curl_scan::http_code(&line) {
                Step::Match(v) => assert_eq!(Some(v), http_code_by_regex(&line), "{line:?}"),
                Step::Fail => assert_eq!(None, http_code_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 20, "the scan decided only {decided} samples");
    }
}
