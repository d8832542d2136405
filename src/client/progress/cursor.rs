//! A byte cursor for the parsers' hand-written scans of their hottest
//! regexes (tqdm frames, wget bars and dots, the curl meter, git phases,
//! aria2's readout). Each scan mirrors one regex piece by piece and must
//! capture what it captures, or step aside: the regexes use Unicode `\d`
//! and `\s`, so where a non-ASCII byte could change a class's verdict the
//! step says [`Step::Unsure`] and the caller asks the regex instead.

use std::sync::OnceLock;

/// The outcome of one scan step.
#[derive(Debug, PartialEq)]
pub(crate) enum Step<T> {
    /// The piece matched (the regex's only way, here).
    Match(T),
    /// The regex cannot match here either.
    Fail,
    /// Undecided (Unicode classes): ask the regex.
    Unsure,
}

impl<T> Step<T> {
    /// The matched value, mapped.
    #[cfg(test)]
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Match(v) => Step::Match(f(v)),
            Step::Fail => Step::Fail,
            Step::Unsure => Step::Unsure,
        }
    }
}

/// The scan's answer, or the regex's when the scan is not sure.
pub(crate) fn scanned<T>(scan: Step<T>, regex: impl FnOnce() -> Option<T>) -> Option<T> {
    match scan {
        Step::Match(v) => Some(v),
        Step::Fail => None,
        Step::Unsure => regex(),
    }
}

/// `re`'s captures, asked only when `gate` (a cheap test every match
/// passes) holds: `captures` costs even when nothing matches.
pub(crate) fn gated<'a>(
    gate: bool,
    re: &regex::Regex,
    line: &'a str,
) -> Option<regex::Captures<'a>> {
    if gate {
        re.captures(line)
    } else {
        None
    }
}

/// Stops a scan at the first step that is not a match.
macro_rules! step {
    ($e:expr) => {
        match $e {
            $crate::client::progress::cursor::Step::Match(v) => v,
            $crate::client::progress::cursor::Step::Fail => {
                return $crate::client::progress::cursor::Step::Fail
            }
            $crate::client::progress::cursor::Step::Unsure => {
                return $crate::client::progress::cursor::Step::Unsure
            }
        }
    };
}
pub(crate) use step;

/// A position in a line; every slice it returns ends on an ASCII byte or
/// the line's end, so on a character boundary.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

/// The regex crate's ASCII `\s` (it includes the vertical tab, which
/// `u8::is_ascii_whitespace` does not).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

impl<'a> Cursor<'a> {
    /// A cursor at byte `at` of `s` (a character boundary).
    pub(crate) fn new(s: &'a str, at: usize) -> Self {
        Cursor {
            s,
            i: at.min(s.len()),
        }
    }

    /// The byte offset reached.
    pub(crate) fn pos(&self) -> usize {
        self.i
    }

    /// Whether the whole line has been consumed.
    pub(crate) fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// A greedy run of ASCII bytes that `pred` accepts, at least `min`
    /// long. `pred` stands for a class with Unicode members (`\d`, `\s`),
    /// so a non-ASCII byte after the run is `Unsure`.
    pub(crate) fn run(&mut self, pred: impl Fn(u8) -> bool, min: usize) -> Step<&'a str> {
        let start = self.i;
        while let Some(b) = self.peek() {
            if !b.is_ascii() {
                return Step::Unsure;
            }
            if !pred(b) {
                break;
            }
            self.i += 1;
        }
        if self.i - start < min {
            return Step::Fail;
        }
        Step::Match(&self.s[start..self.i])
    }

    /// `\s*` (`min` 0) or `\s+` (`min` 1).
    pub(crate) fn spaces(&mut self, min: usize) -> Step<()> {
        match self.run(is_space, min) {
            Step::Match(_) => Step::Match(()),
            Step::Fail => Step::Fail,
            Step::Unsure => Step::Unsure,
        }
    }

    /// `\d{min,max}` followed by a piece that matches no digit.
    pub(crate) fn digits(&mut self, min: usize, max: usize) -> Step<&'a str> {
        let d = step!(self.run(|b| b.is_ascii_digit(), min));
        if d.len() > max {
            return Step::Fail;
        }
        Step::Match(d)
    }

    /// `[\d.]+[UNITS]?`: a number and an optional unit letter, followed
    /// by a piece that matches neither a digit nor a dot.
    pub(crate) fn size(&mut self, units: &[u8]) -> Step<&'a str> {
        let start = self.i;
        step!(self.run(|b| b.is_ascii_digit() || b == b'.', 1));
        if self.peek().is_some_and(|b| units.contains(&b)) {
            self.i += 1;
        }
        Step::Match(&self.s[start..self.i])
    }

    /// One literal ASCII byte.
    pub(crate) fn byte(&mut self, b: u8) -> Step<()> {
        if self.peek() == Some(b) {
            self.i += 1;
            Step::Match(())
        } else {
            Step::Fail
        }
    }

    /// An ASCII literal.
    pub(crate) fn literal(&mut self, lit: &str) -> Step<()> {
        if self.s.as_bytes()[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            Step::Match(())
        } else {
            Step::Fail
        }
    }

    /// `[^B]*` before a literal `B` (an ASCII byte): moves to the next `B`,
    /// without taking it.
    pub(crate) fn skip_to(&mut self, b: u8) -> Step<()> {
        match memchr::memchr(b, &self.s.as_bytes()[self.i..]) {
            Some(n) => {
                self.i += n;
                Step::Match(())
            }
            None => Step::Fail,
        }
    }

    /// A greedy `[^...]*` over any characters, up to the first ASCII byte
    /// `stop` accepts or the end.
    pub(crate) fn until(&mut self, stop: impl Fn(u8) -> bool) -> &'a str {
        let start = self.i;
        while let Some(b) = self.peek() {
            if b.is_ascii() && stop(b) {
                break;
            }
            self.i += 1;
        }
        // it stopped on an ASCII byte or at the end: a boundary
        &self.s[start..self.i]
    }
}

/// A literal to search lines for, with its searcher built once (building
/// one costs more than searching a short line).
pub(crate) struct Literal {
    text: &'static str,
    finder: OnceLock<memchr::memmem::Finder<'static>>,
}

impl Literal {
    /// A literal; its searcher is built on first use.
    pub(crate) const fn new(text: &'static str) -> Self {
        Literal {
            text,
            finder: OnceLock::new(),
        }
    }

    fn finder(&self) -> &memchr::memmem::Finder<'static> {
        self.finder
            .get_or_init(|| memchr::memmem::Finder::new(self.text))
    }

    /// Whether `hay` contains it (`str::contains`).
    pub(crate) fn is_in(&self, hay: &str) -> bool {
        self.finder().find(hay.as_bytes()).is_some()
    }

    /// Where it first occurs in `hay` (`str::find`).
    pub(crate) fn find(&self, hay: &str) -> Option<usize> {
        self.finder().find(hay.as_bytes())
    }
}

/// An unanchored `LIT...` regex, scanned: `rest` tried just after each
/// `lit` in turn (the leftmost match wins, as in the regex), on ASCII lines
/// without `\n` only (else `Unsure`). `lit` must not overlap itself.
pub(crate) fn after_literal<'a, T>(
    line: &'a str,
    lit: &Literal,
    mut rest: impl FnMut(Cursor<'a>) -> Step<T>,
) -> Step<T> {
    let b = line.as_bytes();
    if !line.is_ascii() || memchr::memchr(b'\n', b).is_some() {
        return Step::Unsure;
    }
    for at in lit.finder().find_iter(b) {
        match rest(Cursor::new(line, at + lit.text.len())) {
            Step::Fail => continue,
            found => return found,
        }
    }
    Step::Fail
}

impl<'a> Cursor<'a> {
    /// The rest of the line, consumed.
    pub(crate) fn rest(&mut self) -> &'a str {
        let r = &self.s[self.i..];
        self.i = self.s.len();
        r
    }

    /// `\d{n}` followed by anything: exactly `n` digits, not checking what
    /// follows.
    pub(crate) fn digits_exactly(&mut self, n: usize) -> Step<&'a str> {
        let b = self.s.as_bytes();
        let end = self.i + n;
        if end <= b.len() && b[self.i..end].iter().all(u8::is_ascii_digit) {
            let d = &self.s[self.i..end];
            self.i = end;
            Step::Match(d)
        } else {
            Step::Fail
        }
    }
}
