//! tqdm's default meter, shared by civitdl and huggingface_hub:
//! `desc:  35%|███▍      | 1.05M/3.00M [00:01<00:01, 1.04MiB/s]` and the
//! no-total form `desc: 3.00MB [00:02, 1.01MB/s]`.

use std::sync::LazyLock;

use regex::Regex;

/// One parsed tqdm frame.
#[derive(Debug, PartialEq)]
pub(crate) struct Frame<'a> {
    pub desc: Option<&'a str>,
    pub percent: Option<f64>,
    pub n: &'a str,
    pub total: Option<&'a str>,
    pub elapsed: &'a str,
    /// `None` while tqdm shows `?`.
    pub eta: Option<&'a str>,
    /// `None` while tqdm shows `?`.
    pub rate: Option<&'a str>,
}

static WITH_TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:(?P<desc>.*?):\s*)?(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<n>[\d.]+[kMGTPEZY]?)/(?P<total>[\d.]+[kMGTPEZY]?)\s+\[(?P<el>[\d:]+)<(?P<eta>[\d:?]+),\s*(?P<rate>[^,\]]*)[^\]]*\]",
    )
    .expect("tqdm regex")
});

static NO_TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:(?P<desc>.*?):\s+)?(?P<n>[\d.]+[kMGTPEZY]?)[A-Za-z]*\s+\[(?P<el>[\d:]+),\s*(?P<rate>[^,\]]*)[^\]]*\]\s*$",
    )
    .expect("tqdm regex")
});

/// Parses one tqdm frame; `None` when the line is not one.
pub(crate) fn parse(line: &str) -> Option<Frame<'_>> {
    // cheap pre-filter: every frame has `[` and `]`
    if memchr::memchr(b'[', line.as_bytes()).is_none()
        || memchr::memchr(b']', line.as_bytes()).is_none()
    {
        return None;
    }
    match scan::with_total(line) {
        scan::Scan::Match(f) => Some(f),
        // not sure (an unusual line): the regexes decide
        scan::Scan::Unsure => parse_by_regex(line),
    }
}

fn known(s: &str) -> Option<&str> {
    (!s.starts_with('?')).then_some(s)
}

/// [`parse`] by the regexes alone: the reference the fast scan must agree
/// with, and its fallback.
pub(crate) fn parse_by_regex(line: &str) -> Option<Frame<'_>> {
    if !line.contains('[') || !line.contains(']') {
        return None;
    }
    if let Some(c) = WITH_TOTAL.captures(line) {
        return Some(Frame {
            desc: c.name("desc").map(|m| m.as_str().trim()),
            percent: super::units::percent(&c["pct"]),
            n: c.name("n")?.as_str(),
            total: c.name("total").map(|m| m.as_str()),
            elapsed: c.name("el")?.as_str(),
            eta: c.name("eta").map(|m| m.as_str()).and_then(known),
            rate: c.name("rate").map(|m| m.as_str().trim()).and_then(known),
        });
    }
    let c = NO_TOTAL.captures(line)?;
    Some(Frame {
        desc: c.name("desc").map(|m| m.as_str().trim()),
        percent: None,
        n: c.name("n")?.as_str(),
        total: None,
        elapsed: c.name("el")?.as_str(),
        eta: None,
        rate: c.name("rate").map(|m| m.as_str().trim()).and_then(known),
    })
}

/// A hand-written scan for [`WITH_TOTAL`]'s usual matches, byte by byte,
/// with no regex: `Match` only when the regex would capture the same
/// groups; anything it is not sure of (no `desc:` that works, a non-ASCII
/// byte where `\s` or `\d` decides, a line with `\n`) is `Unsure`, and
/// the regex decides.
mod scan {
    use super::{known, Frame};
    use crate::client::progress::cursor::{step, Cursor, Step};

    pub(super) enum Scan<'a> {
        Match(Frame<'a>),
        Unsure,
    }

    pub(super) fn with_total(line: &str) -> Scan<'_> {
        let b = line.as_bytes();
        if memchr::memchr(b'\n', b).is_some() {
            return Scan::Unsure;
        }
        // `(?:(?P<desc>.*?):\s*)?` is lazy: the first `:` after which the
        // rest matches ends `desc`.
        for colon in memchr::memchr_iter(b':', b) {
            match rest(line, colon + 1) {
                Step::Match(mut f) => {
                    f.desc = Some(line[..colon].trim());
                    return Scan::Match(f);
                }
                Step::Fail => continue,
                Step::Unsure => return Scan::Unsure,
            }
        }
        Scan::Unsure
    }

    /// `\s*(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<n>..)/(?P<total>..)\s+\[(?P<el>[\d:]+)<(?P<eta>[\d:?]+),\s*(?P<rate>[^,\]]*)[^\]]*\]`
    /// from byte `at`.
    fn rest(line: &str, at: usize) -> Step<Frame<'_>> {
        let mut c = Cursor::new(line, at);
        step!(c.spaces(0));
        let pct = step!(c.digits(1, 3));
        step!(c.byte(b'%'));
        step!(c.byte(b'|'));
        step!(c.skip_to(b'|'));
        step!(c.byte(b'|'));
        step!(c.spaces(0));
        let n = step!(c.size(b"kMGTPEZY"));
        step!(c.byte(b'/'));
        let total = step!(c.size(b"kMGTPEZY"));
        step!(c.spaces(1));
        step!(c.byte(b'['));
        let el = step!(c.run(|b| b.is_ascii_digit() || b == b':', 1));
        step!(c.byte(b'<'));
        let eta = step!(c.run(|b| b.is_ascii_digit() || b == b':' || b == b'?', 1));
        step!(c.byte(b','));
        step!(c.spaces(0));
        let rate = c.until(|b| b == b',' || b == b']');
        step!(c.skip_to(b']'));
        Step::Match(Frame {
            desc: None,
            percent: crate::client::progress::units::percent(pct),
            n,
            total: Some(total),
            elapsed: el,
            eta: known(eta),
            rate: known(rate.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bars_with_and_without_total() {
        let f = parse("Model:  35%|███▍      | 1.05M/3.00M [00:01<00:01, 1.04MiB/s]  ").unwrap();
        assert_eq!(f.desc, Some("Model"));
        assert_eq!(f.percent, Some(35.0));
        assert_eq!((f.n, f.total), ("1.05M", Some("3.00M")));
        assert_eq!(
            (f.elapsed, f.eta, f.rate),
            ("00:01", Some("00:01"), Some("1.04MiB/s"))
        );

        let f = parse("Images:   0%|          | 0.00/3.00 [00:00<?, ?iB/s]").unwrap();
        assert_eq!((f.eta, f.rate), (None, None));

        let f = parse("nolen: 3.00MB [00:00, 20.0MB/s]").unwrap();
        assert_eq!((f.desc, f.n, f.percent), (Some("nolen"), "3.00M", None));

        let f = parse("Fetching 3 files: 100%|██| 30/30 [00:12<00:00,  3.01s/it]").unwrap();
        assert_eq!(
            (f.desc, f.rate),
            (Some("Fetching 3 files"), Some("3.01s/it"))
        );

        assert!(parse("Downloading 'x' to '/tmp/x.incomplete'").is_none());
        assert!(parse("[#19a86c 2.8MiB/5.7MiB(49%) CN:1 DL:2.8MiB ETA:1s]").is_none());
    }

    #[test]
    fn the_fast_scan_agrees_with_the_regexes_on_every_sample() {
        let mut decided = 0;
        for line in crate::client::progress::pinned_tests::sample_lines() {
            assert_eq!(parse(&line), parse_by_regex(&line), "{line:?}");
            decided += usize::from(matches!(scan::with_total(&line), scan::Scan::Match(_)));
        }
        assert!(decided > 500, "the scan decided only {decided} samples");
    }
}
