//! A hand scan for git's phase meter lines, so most of them never reach
//! [`super::git`]'s `PHASE` regex: [`phase`] captures what it would, or
//! says it is not sure (a non-ASCII line, a `\n`) and the regex decides.

use super::cursor::{step, Cursor, Step};

/// The phase regex's groups.
#[derive(Debug, PartialEq)]
pub(crate) struct Phase<'a> {
    pub title: Option<&'a str>,
    pub pct: &'a str,
    pub a: &'a str,
    pub b: &'a str,
    pub size: Option<&'a str>,
    pub rate: Option<&'a str>,
}

/// `^(?:remote: )?(?:(?P<title>[A-Z][A-Za-z ]+):)?\s+(?P<pct>\d{1,3})% \((?P<a>\d+)/(?P<b>\d+)\)(?:, (?P<size>[\d.]+ [KMGT]?i?B) \| (?P<rate>[\d.]+ [KMGT]?i?B/s))?`
/// Each optional piece either matches or leaves text no later piece can
/// start with, so one pass decides.
pub(crate) fn phase(line: &str) -> Step<Phase<'_>> {
    if !line.is_ascii() || memchr::memchr(b'\n', line.as_bytes()).is_some() {
        return Step::Unsure;
    }
    let mut c = Cursor::new(line, 0);
    let _ = c.literal("remote: ");
    let start = c.pos();
    let title = if line
        .as_bytes()
        .get(start)
        .is_some_and(u8::is_ascii_uppercase)
    {
        let _ = c.byte(line.as_bytes()[start]);
        step!(c.run(|b| b.is_ascii_alphabetic() || b == b' ', 1));
        let title = &line[start..c.pos()];
        step!(c.byte(b':'));
        Some(title)
    } else {
        None
    };
    step!(c.spaces(1));
    let pct = step!(c.digits(1, 3));
    step!(c.literal("% ("));
    let a = step!(c.digits(1, usize::MAX));
    step!(c.byte(b'/'));
    let b = step!(c.digits(1, usize::MAX));
    step!(c.byte(b')'));
    let (size, rate) = match sizes(line, c.pos()) {
        Step::Match(sr) => (Some(sr.0), Some(sr.1)),
        _ => (None, None),
    };
    Step::Match(Phase {
        title,
        pct,
        a,
        b,
        size,
        rate,
    })
}

/// `, (?P<size>[\d.]+ [KMGT]?i?B) \| (?P<rate>[\d.]+ [KMGT]?i?B/s)`
fn sizes(line: &str, at: usize) -> Step<(&str, &str)> {
    let mut c = Cursor::new(line, at);
    step!(c.literal(", "));
    let size = step!(amount(&mut c, line));
    step!(c.literal(" | "));
    let start = c.pos();
    step!(amount(&mut c, line));
    step!(c.literal("/s"));
    Step::Match((size, &line[start..c.pos()]))
}

/// `[\d.]+ [KMGT]?i?B`
fn amount<'a>(c: &mut Cursor<'a>, line: &'a str) -> Step<&'a str> {
    let start = c.pos();
    step!(c.run(|b| b.is_ascii_digit() || b == b'.', 1));
    step!(c.byte(b' '));
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
