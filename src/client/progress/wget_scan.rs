//! Hand scans for wget's hottest line, the bar redraw, so most redraws never
//! reach the bar regex: [`bar`] captures what [`super::wget`]'s `BAR` would,
//! or says it is not sure (a non-ASCII line, two `[`, a `\n`), and the
//! regex decides.

use super::cursor::{step, Cursor, Step};

/// The bar regex's groups.
#[derive(Debug, PartialEq)]
pub(crate) struct Bar<'a> {
    /// Everything before the percentage or the bar (untrimmed).
    pub name: &'a str,
    pub pct: Option<&'a str>,
    pub size: &'a str,
    /// `--.-` or a number.
    pub rate: &'a str,
    /// `KB/s` and the like.
    pub unit: &'a str,
    /// `eta` or `in`.
    pub kind: Option<&'a str>,
    pub t: Option<&'a str>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Where the run of spaces that ends at `end` starts.
fn spaces_before(b: &[u8], end: usize) -> usize {
    let mut i = end;
    while i > 0 && is_space(b[i - 1]) {
        i -= 1;
    }
    i
}

/// `^(?P<name>.*?)\s*(?:(?P<pct>\d{1,3})%)?\[[=>+<\- ]*\]\s+(?P<size>[\d.]+[KMGTPE]?)\s+(?P<rate>--\.-|[\d.]+) ?(?P<unit>[KMGT]?B/s)(?:\s+(?P<kind>eta|in) (?P<t>.+?))?\s*$`
pub(crate) fn bar(line: &str) -> Step<Bar<'_>> {
    let b = line.as_bytes();
    // ASCII only: then `\s` and `\d` are the ASCII classes used here.
    if !line.is_ascii() || memchr::memchr(b'\n', b).is_some() {
        return Step::Unsure;
    }
    let mut brackets = memchr::memchr_iter(b'[', b);
    let Some(q) = brackets.next() else {
        return Step::Fail;
    };
    if brackets.next().is_some() {
        return Step::Unsure;
    }
    // The lazy name ends at the first place from which `\s*(\d{1,3}%)?\[`
    // reaches this `[`.
    let (name_end, pct) = match q.checked_sub(1).map(|i| b[i]) {
        Some(b'%') => {
            let pct_end = q - 1;
            let mut ds = pct_end;
            while ds > 0 && b[ds - 1].is_ascii_digit() {
                ds -= 1;
            }
            match pct_end - ds {
                0 => (q, None),
                1..=3 => (spaces_before(b, ds), Some(&line[ds..pct_end])),
                _ => (pct_end - 3, Some(&line[pct_end - 3..pct_end])),
            }
        }
        _ => (spaces_before(b, q), None),
    };
    match tail(line, q) {
        Step::Match(mut bar) => {
            bar.name = &line[..name_end];
            bar.pct = pct;
            Step::Match(bar)
        }
        other => other,
    }
}

/// From the `[` at `q` to the end.
fn tail(line: &str, q: usize) -> Step<Bar<'_>> {
    let mut c = Cursor::new(line, q);
    step!(c.byte(b'['));
    step!(c.run(|b| matches!(b, b'=' | b'>' | b'+' | b'<' | b'-' | b' '), 0));
    step!(c.byte(b']'));
    step!(c.spaces(1));
    let size = step!(c.size(b"KMGTPE"));
    step!(c.spaces(1));
    let rate_start = c.pos();
    if c.literal("--.-") == Step::Fail {
        step!(c.run(|b| b.is_ascii_digit() || b == b'.', 1));
    }
    let rate = &line[rate_start..c.pos()];
    let _ = c.byte(b' ');
    let unit_start = c.pos();
    let _ = c.run(|b| matches!(b, b'K' | b'M' | b'G' | b'T'), 0);
    if c.pos() - unit_start > 1 {
        return Step::Fail; // `[KMGT]?` takes one letter
    }
    step!(c.literal("B/s"));
    let unit = &line[unit_start..c.pos()];
    let rest = &line[c.pos()..];
    let after = rest.trim_start_matches(|ch: char| ch.is_ascii() && is_space(ch as u8));
    let mut bar = Bar {
        name: "",
        pct: None,
        size,
        rate,
        unit,
        kind: None,
        t: None,
    };
    if after.is_empty() {
        return Step::Match(bar);
    }
    if after.len() == rest.len() {
        return Step::Fail; // neither `\s+eta ...` nor `\s*$`
    }
    let Some((kind, x)) = ["eta ", "in "]
        .into_iter()
        .find_map(|k| Some((k.trim_end(), after.strip_prefix(k)?)))
    else {
        return Step::Fail;
    };
    // `(?P<t>.+?)\s*$`: all but the trailing spaces, at least a character
    let t = x.trim_end_matches(|ch: char| ch.is_ascii() && is_space(ch as u8));
    if t.is_empty() {
        return Step::Unsure;
    }
    bar.kind = Some(kind);
    bar.t = Some(t);
    Step::Match(bar)
}
