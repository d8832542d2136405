//! Hand scans for wget's hottest line, the bar redraw, so most redraws never
//! reach the bar regex: [`bar`] captures what [`super::wget`]'s `BAR` would,
//! or says it is not sure (a non-ASCII line, two `[`, a `\n`), and the
//! regex decides.

use super::cursor::{after_literal, step, Cursor, Literal, Step};

static RESPONSE: Literal = Literal::new("request sent, awaiting response... ");
static ERROR: Literal = Literal::new("ERROR ");

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

/// The dot-row regex's groups.
#[derive(Debug, PartialEq)]
pub(crate) struct Dots<'a> {
    /// The offset in KiB.
    pub off: &'a str,
    pub dots: &'a str,
    pub pct: Option<&'a str>,
    pub rate: &'a str,
    /// `K`, `M`, `G` or empty.
    pub u: &'a str,
    /// Elapsed, after `=` (last row).
    pub el: Option<&'a str>,
    pub eta: Option<&'a str>,
}

/// `^\s*(?P<off>\d+)K (?P<dots>[.,][., ]*?)\s+(?:(?P<pct>\d{1,3})%\s+)?(?P<rate>[\d.]+)\s?(?P<u>[KMG]?)(?:\s*=(?P<el>\S+)|\s+(?P<eta>\S+))?\s*$`
/// The lazy `dots` ends at the first space from which the rest matches;
/// the rest is tried in the regex's order of preference.
pub(crate) fn dots(line: &str) -> Step<Dots<'_>> {
    let b = line.as_bytes();
    if !line.is_ascii() || memchr::memchr(b'\n', b).is_some() {
        return Step::Unsure;
    }
    let mut c = Cursor::new(line, 0);
    step!(c.spaces(0));
    let off = step!(c.digits(1, usize::MAX));
    step!(c.literal("K "));
    let d0 = c.pos();
    if !matches!(b.get(d0), Some(b'.' | b',')) {
        return Step::Fail;
    }
    let mut e = d0 + 1;
    loop {
        if b.get(e).is_some_and(|&x| is_space(x)) {
            if let Some(mut found) = dots_rest(line, e) {
                found.off = off;
                found.dots = &line[d0..e];
                return Step::Match(found);
            }
        }
        match b.get(e) {
            Some(b'.' | b',' | b' ') => e += 1,
            _ => return Step::Fail,
        }
    }
}

/// `\s+(?:(\d{1,3})%\s+)?([\d.]+)\s?([KMG]?)(?:\s*=(\S+)|\s+(\S+))?\s*$` at `at`.
fn dots_rest(line: &str, at: usize) -> Option<Dots<'_>> {
    let b = line.as_bytes();
    let mut c = Cursor::new(line, at);
    if c.spaces(1) != Step::Match(()) {
        return None;
    }
    // the percentage group, when its digits, `%` and spaces are all there
    let mut pct = None;
    let before = c.pos();
    if let Step::Match(d) = c.digits(1, 3) {
        if c.byte(b'%') == Step::Match(()) && c.spaces(1) == Step::Match(()) {
            pct = Some(d);
        } else {
            c = Cursor::new(line, before);
        }
    } else {
        c = Cursor::new(line, before);
    }
    let Step::Match(rate) = c.run(|x| x.is_ascii_digit() || x == b'.', 1) else {
        return None;
    };
    let after_rate = c.pos();
    // `\s?` and `[KMG]?` are greedy: taken first, then given back.
    let space = usize::from(b.get(after_rate).is_some_and(|&x| is_space(x)));
    for s in [space, 0] {
        let u_at = after_rate + s;
        let unit = usize::from(matches!(b.get(u_at), Some(b'K' | b'M' | b'G')));
        for u in [unit, 0] {
            let tail = u_at + u;
            let found = |el, eta| Dots {
                off: "",
                dots: "",
                pct,
                rate,
                u: &line[u_at..tail],
                el,
                eta,
            };
            if let Some(el) = word_to_end(line, tail, Some(b'='), 0) {
                return Some(found(Some(el), None));
            }
            if let Some(eta) = word_to_end(line, tail, None, 1) {
                return Some(found(None, Some(eta)));
            }
            if only_spaces(&b[tail..]) {
                return Some(found(None, None));
            }
            if s == 0 && u == 0 {
                break;
            }
        }
    }
    None
}

/// `\s{min,}` (then the `mark` byte, when given) then `(\S+)\s*$` at `at`:
/// the word.
fn word_to_end(line: &str, at: usize, mark: Option<u8>, min: usize) -> Option<&str> {
    let b = line.as_bytes();
    let mut i = at;
    while b.get(i).is_some_and(|&x| is_space(x)) {
        i += 1;
    }
    if i - at < min {
        return None;
    }
    if let Some(m) = mark {
        if b.get(i) != Some(&m) {
            return None;
        }
        i += 1;
    }
    let start = i;
    while b.get(i).is_some_and(|&x| !is_space(x)) {
        i += 1;
    }
    (i > start && only_spaces(&b[i..])).then(|| &line[start..i])
}

fn only_spaces(b: &[u8]) -> bool {
    b.iter().all(|&x| is_space(x))
}

/// `request sent, awaiting response\.\.\. (\d{3})\s*(.*)$`: the code and
/// the reason.
pub(crate) fn response(line: &str) -> Step<(&str, &str)> {
    after_literal(line, &RESPONSE, |mut c| {
        let code = step!(c.digits_exactly(3));
        let _ = c.spaces(0);
        Step::Match((code, c.rest()))
    })
}

/// `ERROR (\d{3}): (.*?)\.?$`: the code and the text, without one final
/// dot.
pub(crate) fn http_error(line: &str) -> Step<(&str, &str)> {
    after_literal(line, &ERROR, |mut c| {
        let code = step!(c.digits_exactly(3));
        step!(c.literal(": "));
        let text = c.rest();
        Step::Match((code, text.strip_suffix('.').unwrap_or(text)))
    })
}

/// `^--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--\s+(?:\(try:\s*(\d+)\)\s+)?`: a
/// request's first line, with its `(try: N)` when it is a retry.
pub(crate) fn start(line: &str) -> Step<Option<&str>> {
    let b = line.as_bytes();
    if !line.is_ascii() || memchr::memchr(b'\n', b).is_some() {
        return Step::Unsure;
    }
    let mut c = Cursor::new(line, 0);
    step!(c.literal("--"));
    for (n, sep) in [(4, b'-'), (2, b'-'), (2, b' '), (2, b':'), (2, b':')] {
        step!(c.digits(n, n));
        step!(c.byte(sep));
    }
    step!(c.digits(2, 2));
    step!(c.literal("--"));
    step!(c.spaces(1));
    let mut retry = Cursor::new(line, c.pos());
    let attempt = (|| {
        step!(retry.literal("(try:"));
        step!(retry.spaces(0));
        let n = step!(retry.digits(1, usize::MAX));
        step!(retry.byte(b')'));
        step!(retry.spaces(1));
        Step::Match(n)
    })();
    Step::Match(match attempt {
        Step::Match(n) => Some(n),
        _ => None,
    })
}
