//! A hand scan for aria2's readout, so most readouts never reach
//! [`super::aria2c`]'s `READOUT` regex: [`readout`] captures what it would,
//! or says it is not sure (a non-ASCII line, an `SD:` or `UL:` field, a
//! `\n`) and the regex decides.

use super::cursor::{step, Cursor, Literal, Step};

static SD: Literal = Literal::new(" SD:");
static UL: Literal = Literal::new(" UL:");

/// The readout regex's groups.
#[derive(Debug, PartialEq)]
pub(crate) struct Readout<'a> {
    pub done: &'a str,
    pub total: &'a str,
    pub pct: &'a str,
    pub dl: Option<&'a str>,
    pub eta: Option<&'a str>,
}

/// `\[#[0-9a-f]+ (?P<done>SIZE)/(?P<total>SIZE)\((?P<pct>\d{1,3})%\)(?: CN:\d+)?(?: SD:\S+)?(?: DL:(?P<dl>SIZE))?(?: UL:\S+)?(?: ETA:(?P<eta>\w+))?\]`
/// with SIZE `[\d.]+[KMGT]?i?B`, unanchored: the first `[#` it matches at.
pub(crate) fn readout(line: &str) -> Step<Readout<'_>> {
    let b = line.as_bytes();
    if !line.is_ascii() || memchr::memchr(b'\n', b).is_some() {
        return Step::Unsure;
    }
    // `\S+` may take a `]` and give it back: not scanned here.
    if SD.is_in(line) || UL.is_in(line) {
        return Step::Unsure;
    }
    // `[` then `#`: memchr finds the rare `[`
    for at in memchr::memchr_iter(b'[', b).filter(|&i| b.get(i + 1) == Some(&b'#')) {
        match at_bracket(line, at) {
            Step::Fail => continue,
            found => return found,
        }
    }
    Step::Fail
}

/// The readout anchored at `at`. Each optional field either matches or
/// leaves text no later piece starts with, so one pass decides.
fn at_bracket(line: &str, at: usize) -> Step<Readout<'_>> {
    let mut c = Cursor::new(line, at);
    step!(c.literal("[#"));
    step!(c.run(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'), 1));
    step!(c.byte(b' '));
    let done = step!(size(&mut c, line));
    step!(c.byte(b'/'));
    let total = step!(size(&mut c, line));
    step!(c.byte(b'('));
    let pct = step!(c.digits(1, 3));
    step!(c.literal("%)"));
    // `literal` moves only when it matches
    if c.literal(" CN:") == Step::Match(()) {
        step!(c.digits(1, usize::MAX));
    }
    let mut dl = None;
    if c.literal(" DL:") == Step::Match(()) {
        dl = Some(step!(size(&mut c, line)));
    }
    let mut eta = None;
    if c.literal(" ETA:") == Step::Match(()) {
        eta = Some(step!(c.run(|b| b.is_ascii_alphanumeric() || b == b'_', 1)));
    }
    step!(c.byte(b']'));
    Step::Match(Readout {
        done,
        total,
        pct,
        dl,
        eta,
    })
}

/// `[\d.]+[KMGT]?i?B`
fn size<'a>(c: &mut Cursor<'a>, line: &'a str) -> Step<&'a str> {
    let start = c.pos();
    step!(c.run(|b| b.is_ascii_digit() || b == b'.', 1));
    if line
        .as_bytes()
        .get(c.pos())
        .is_some_and(|b| b"KMGT".contains(b))
    {
        let _ = c.byte(line.as_bytes()[c.pos()]);
    }
    let _ = c.byte(b'i');
    step!(c.byte(b'B'));
    Step::Match(&line[start..c.pos()])
}
