//! A hand scan for curl's meter rows, so most of them never reach
//! [`super::curl`]'s `METER` regex: [`meter`] captures its twelve groups, or
//! says it is not sure (a non-ASCII line, a `\n`) and the regex decides.

use super::cursor::{after_literal, step, Cursor, Literal, Step};

/// Where a curl message starts.
pub(crate) static CURL_ERROR: Literal = Literal::new("curl: (");
static RETURNED_ERROR: Literal = Literal::new("returned error: ");

/// What each of the twelve columns is.
#[derive(Clone, Copy)]
enum Column {
    Percent,
    Size,
    Time,
}

const COLUMNS: [Column; 12] = {
    use Column::*;
    [
        Percent, Size, Percent, Size, Percent, Size, Size, Size, Time, Time, Time, Size,
    ]
};

/// `^\s*(\d{1,3})\s+SIZE\s+(\d{1,3})\s+SIZE\s+(\d{1,3})\s+SIZE\s+SIZE\s+SIZE\s+TIME\s+TIME\s+TIME\s+SIZE\s*$`
/// with SIZE `([\d.]+[kMGTPE]?)` and TIME `(--:--:--|\d+:\d\d:\d\d|\d+d \d\dh|\d+h)`:
/// the groups, `[0]` being the regex's group 1.
pub(crate) fn meter(line: &str) -> Step<[&str; 12]> {
    if !line.is_ascii() || memchr::memchr(b'\n', line.as_bytes()).is_some() {
        return Step::Unsure;
    }
    let mut c = Cursor::new(line, 0);
    let mut groups = [""; 12];
    step!(c.spaces(0));
    for (i, column) in COLUMNS.into_iter().enumerate() {
        if i > 0 {
            step!(c.spaces(1));
        }
        groups[i] = match column {
            Column::Percent => step!(c.digits(1, 3)),
            Column::Size => step!(c.size(b"kMGTPE")),
            Column::Time => step!(time(&mut c, line)),
        };
    }
    step!(c.spaces(0));
    if !c.at_end() {
        return Step::Fail;
    }
    Step::Match(groups)
}

/// `--:--:--|\d+:\d\d:\d\d|\d+d \d\dh|\d+h`, followed by a space or the end
/// (only then can the rest match; else the caller fails).
fn time<'a>(c: &mut Cursor<'a>, line: &'a str) -> Step<&'a str> {
    let start = c.pos();
    if c.literal("--:--:--") == Step::Match(()) {
        return Step::Match(&line[start..c.pos()]);
    }
    step!(c.digits(1, usize::MAX));
    match line.as_bytes().get(c.pos()) {
        Some(b':') => {
            step!(c.byte(b':'));
            step!(c.digits(2, 2));
            step!(c.byte(b':'));
            step!(c.digits(2, 2));
        }
        Some(b'd') => {
            step!(c.literal("d "));
            step!(c.digits(2, 2));
            step!(c.byte(b'h'));
        }
        Some(b'h') => step!(c.byte(b'h')),
        _ => return Step::Fail,
    }
    Step::Match(&line[start..c.pos()])
}

/// `curl: \((\d+)\) (.*)$`: the error number and message.
pub(crate) fn error(line: &str) -> Step<(&str, &str)> {
    after_literal(line, &CURL_ERROR, |mut c| {
        let n = step!(c.digits(1, usize::MAX));
        step!(c.literal(") "));
        Step::Match((n, c.rest()))
    })
}

/// `returned error: (\d{3})`: the HTTP code.
pub(crate) fn http_code(text: &str) -> Step<&str> {
    after_literal(text, &RETURNED_ERROR, |mut c| c.digits_exactly(3))
}
