//! `git clone` (2.x): `Cloning into 'DIR'...`, the phase meters (`remote:
//! Counting objects:  42% (547/54643)`, `Receiving objects:  12% (6558/54643),
//! 17.83 MiB | 35.65 MiB/s`, `Resolving deltas: 100% (23178/23178), done.`)
//! with `\e[K` or 8 trailing spaces, the wide-terminal form (counters on an
//! indented second line), and `fatal:` / `error: RPC failed` errors.

use std::sync::LazyLock;

use regex::Regex;

use super::cursor::scanned;
use super::git_scan::{self, Phase};
use super::units::{clip, common_error, curl_message_kind, percent};
use super::{ErrorKind, Event, Parser, Progress, Stage};

static PHASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:remote: )?(?:(?P<title>[A-Z][A-Za-z ]+):)?\s+(?P<pct>\d{1,3})% \((?P<a>\d+)/(?P<b>\d+)\)(?:, (?P<size>[\d.]+ [KMGT]?i?B) \| (?P<rate>[\d.]+ [KMGT]?i?B/s))?",
    )
    .expect("git phase regex")
});
static HTTP_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"returned error: (\d{3})").expect("git code regex"));

/// The phase regex's groups: the reference [`git_scan::phase`] must agree
/// with, and its fallback.
pub(crate) fn phase_by_regex(line: &str) -> Option<Phase<'_>> {
    let c = PHASE.captures(line)?;
    let text = |name| c.name(name).map(|m| m.as_str());
    Some(Phase {
        title: text("title"),
        pct: text("pct")?,
        a: text("a")?,
        b: text("b")?,
        size: text("size"),
        rate: text("rate"),
    })
}

/// Parser state for one git run.
#[derive(Debug, Default)]
pub(crate) struct GitParser {
    dir: Option<String>,
    title: Option<String>,
}

impl Parser for GitParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        let line = raw.trim_end();
        if line.is_empty() {
            return;
        }
        let phase = scanned(git_scan::phase(line), || phase_by_regex(line));
        if let Some(c) = phase {
            if let Some(t) = c.title {
                // a new String only when the phase changes
                if self.title.as_deref() != Some(t) {
                    self.title = Some(t.to_string());
                }
            } else if self.title.is_none() {
                return;
            }
            out.push(Event::Progress(Progress {
                stage: Some(Stage::Download),
                percent: percent(c.pct),
                downloaded: Some(c.size.unwrap_or(c.a).to_string()),
                total: c.size.is_none().then(|| c.b.to_string()),
                speed: c.rate.map(str::to_string),
                filename: self.dir.clone(),
                name: self.title.clone(),
                ..Progress::default()
            }));
            return;
        }
        if let Some(rest) = line.strip_prefix("Cloning into ") {
            let dir = rest
                .trim_end_matches("...")
                .trim_matches(['\'', '‘', '’'])
                .to_string();
            self.dir = Some(dir.clone());
            out.push(Event::StageStart {
                stage: Stage::Download,
                name: Some(dir),
            });
        } else if let Some(e) = common_error(line) {
            out.push(e);
        } else if let Some(msg) = line.strip_prefix("fatal: ") {
            let (kind, code) = if let Some(k) = curl_message_kind(msg) {
                (k, None)
            } else if let Some(c) = HTTP_CODE.captures(msg) {
                (ErrorKind::Http, c[1].parse().ok())
            } else if msg.contains("Authentication failed") {
                (ErrorKind::Http, Some(401))
            } else if msg.contains("' not found") {
                (ErrorKind::Http, Some(404))
            } else {
                (ErrorKind::Other, None)
            };
            out.push(Event::error(kind, code, clip(line)));
        } else if line.starts_with("error: RPC failed") {
            out.push(Event::error(ErrorKind::Read, None, clip(line)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::progress::cursor::Step;

    #[test]
    fn the_phase_scan_agrees_with_the_regex_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            match git_scan::phase(&line) {
                Step::Match(p) => {
                    decided += 1;
                    assert_eq!(Some(p), phase_by_regex(&line), "{line:?}");
                }
                Step::Fail => assert_eq!(None, phase_by_regex(&line), "{line:?}"),
                Step::Unsure => {}
            }
        }
        assert!(decided > 500, "the scan decided only {decided} samples");
    }
}
