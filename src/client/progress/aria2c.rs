//! aria2c 1.3x: `[NOTICE] Downloading N item(s)`, the readout
//! `[#gid 2.8MiB/5.7MiB(49%) CN:1 DL:2.8MiB ETA:1s]` (also in the compact
//! multi-download form), `Download complete: PATH`, and errors as
//! `errorCode=N message` lines (3 not found, 24 auth, 19 DNS, 1 refused,
//! 2 timeout, 9 disk full, ...).

use std::sync::LazyLock;

use regex::Regex;

use super::aria2c_scan::{self, Readout};
use super::cursor::{gated, scanned, Literal};

/// What the error regex needs: lines without it skip the regex.
static ERROR_CODE: Literal = Literal::new("errorCode=");
use super::units::{clip, common_error, parse_size, percent};
use super::{ErrorKind, Event, Parser, Progress, Stage};

static READOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\[#[0-9a-f]+ (?P<done>[\d.]+[KMGT]?i?B)/(?P<total>[\d.]+[KMGT]?i?B)\((?P<pct>\d{1,3})%\)(?: CN:\d+)?(?: SD:\S+)?(?: DL:(?P<dl>[\d.]+[KMGT]?i?B))?(?: UL:\S+)?(?: ETA:(?P<eta>\w+))?\]",
    )
    .expect("aria2 readout regex")
});
static ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"errorCode=(\d+) (?:CUID#\d+ - )?(.*)$").expect("aria2 regex"));

/// The readout regex's groups: the reference [`aria2c_scan::readout`]
/// must agree with, and its fallback.
pub(crate) fn readout_by_regex(line: &str) -> Option<Readout<'_>> {
    let c = READOUT.captures(line)?;
    let text = |name| c.name(name).map(|m| m.as_str());
    Some(Readout {
        done: text("done")?,
        total: text("total")?,
        pct: text("pct")?,
        dl: text("dl"),
        eta: text("eta"),
    })
}

/// Parser state for one aria2c run.
#[derive(Debug, Default)]
pub(crate) struct Aria2cParser {}

impl Parser for Aria2cParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        let line = raw.trim();
        if line.is_empty() {
            return;
        }
        let readout = scanned(aria2c_scan::readout(line), || readout_by_regex(line));
        if let Some(c) = readout {
            out.push(Event::Progress(Progress {
                stage: Some(Stage::Download),
                percent: percent(c.pct),
                downloaded: Some(c.done.to_string()),
                total: Some(c.total.to_string()),
                speed: c.dl.map(|dl| format!("{dl}/s")),
                eta: c.eta.map(str::to_string),
                downloaded_bytes: parse_size(c.done, true),
                total_bytes: parse_size(c.total, true),
                ..Progress::default()
            }));
        } else if line.contains("] Downloading ") && line.ends_with("item(s)") {
            out.push(Event::StageStart {
                stage: Stage::Download,
                name: None,
            });
        } else if let Some((_, path)) = line.split_once("] Download complete: ") {
            out.push(Event::Complete {
                stage: Stage::Download,
                name: None,
                filename: Some(path.to_string()),
                size: None,
            });
        } else if let Some(c) = gated(ERROR_CODE.is_in(line), &ERROR, line) {
            let msg = c[2].trim();
            if msg.starts_with("URI=") {
                return;
            }
            let n: u32 = c[1].parse().unwrap_or(0);
            let (kind, code) = match n {
                3 | 4 => (ErrorKind::Http, Some(404)),
                24 => (ErrorKind::Http, Some(401)),
                29 => (ErrorKind::Http, Some(503)),
                22 => (ErrorKind::Http, None),
                19 => (ErrorKind::Dns, None),
                2 => (ErrorKind::Timeout, None),
                9 => (ErrorKind::DiskFull, None),
                6 | 8 => (ErrorKind::Read, None),
                1 if msg.contains("Connection refused") => (ErrorKind::Refused, None),
                28 => (ErrorKind::Usage, None),
                _ => (ErrorKind::Other, None),
            };
            out.push(Event::error(kind, code, clip(&format!("aria2c: {msg}"))));
        } else if let Some(e) = common_error(line) {
            out.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::progress::cursor::Step;

    #[test]
    fn the_readout_scan_agrees_with_the_regex_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match aria2c_scan::readout(&line) {
                Step::Match(r) => {
                    decided += 1;
                    assert_eq!(Some(r), readout_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, readout_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 20, "the scan decided only {decided} samples");
    }
}
