//! `printf FORMAT [ARG]...` as bash 5.2's builtin: escapes, conversions,
//! flags, widths and precisions (also `*`), and reuse of the format while
//! arguments remain.
//!
//! Bash hands each conversion to the C library, which prints any width or
//! precision up to `INT_MAX`: `printf '%*d' 2147483647 1` writes 2 GiB.
//! Here one field is bounded (the session's `max_printf_field`, 1 MiB by
//! default): past the bound printf prints `N: Numerical result out of
//! range` and fails instead of making the output. What bash does short of
//! that is kept, quirks included: its range warnings for `*` arguments name
//! the argument after the one out of range, and a number in the format past
//! `INT_MAX` makes that conversion print nothing (the C library's
//! `EOVERFLOW`). Output goes out a chunk at a time as it is made, and the
//! task yields now and then, so a long printf never holds a runtime thread.

use async_trait::async_trait;

use crate::program::{Ctx, Program};

/// The sessions' default bound on one field (`SessionLimits::max_printf_field`),
/// for the tests. Past the bound printf refuses the field (`bash: printf:
/// 2000000: Numerical result out of range`, exit status 1) where bash would
/// print that many bytes of padding or zeros.
#[cfg(test)]
const MAX_FIELD: usize = 1 << 20;

/// Bytes of standard output held before they are written out.
const FLUSH_AT: usize = 64 * 1024;

/// Directives formatted between two yields to the runtime.
const YIELD_EVERY: u32 = 1024;

/// Decimals past which an `f64` has only zeros (its exact expansion has at
/// most 1074 of them): longer precisions are this one plus zeros.
const FLOAT_EXACT: usize = 1100;

/// C's `INT_MAX`, the bound of the C library's widths and precisions.
const INT_MAX: i64 = i32::MAX as i64;

/// `strerror(ERANGE)`.
const ERANGE: &str = "Numerical result out of range";

/// `printf`: `%c %s %b %q %Q %d %i %o %u %x %X %e %E %f %F %g %G %a %A %%`
/// with flags, widths and precisions (also `*`); the format repeats while
/// arguments remain.
pub struct Printf;

#[async_trait]
impl Program for Printf {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        printf(ctx, ctx.instance.config.limits.max_printf_field).await
    }
}

/// Runs `printf` with `max_field` as the largest width or precision a field
/// may have (the session's `max_printf_field`).
pub async fn printf(ctx: &Ctx, max_field: usize) -> i32 {
    let mut args = ctx.args();
    if args.first().map(String::as_str) == Some("--") {
        args = &args[1..];
    }
    let Some(format) = args.first() else {
        ctx.err("bash: printf: usage: printf [-v var] format [arguments]\n")
            .await;
        return 2;
    };
    let mut f = Formatter {
        fmt: cstr(format),
        args: &args[1..],
        next: 0,
        max_field,
        utf8: utf8_locale(ctx),
        out: Vec::new(),
        errs: Vec::new(),
        failed: false,
    };
    let mut steps: u32 = 0;
    let status = 'all: loop {
        let before = f.next;
        let mut pos = 0;
        while pos < f.fmt.len() {
            let step = f.directive(pos);
            // Bash's stderr is unbuffered and its stdout is not: messages
            // come before the output they go with.
            if !f.errs.is_empty() {
                ctx.err(std::mem::take(&mut f.errs)).await;
            }
            match step {
                Ok(p) => pos = p,
                Err(code) => break 'all code,
            }
            if f.out.len() >= FLUSH_AT {
                if !ctx.out(std::mem::take(&mut f.out)).await {
                    return 1;
                }
                tokio::task::yield_now().await;
            }
            steps = steps.wrapping_add(1);
            if steps.is_multiple_of(YIELD_EVERY) {
                tokio::task::yield_now().await;
            }
        }
        if f.next >= f.args.len() || f.next == before {
            break i32::from(f.failed);
        }
    };
    if !f.out.is_empty() && !ctx.out(std::mem::take(&mut f.out)).await {
        return 1;
    }
    status
}

/// Whether the session's character type is UTF-8 (`\u` escapes and `'c`
/// arguments decode UTF-8); bash under the C locale prints `\u00E9`.
fn utf8_locale(ctx: &Ctx) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| ctx.env.get(*k))
        .find(|v| !v.is_empty())
        .map(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
        .unwrap_or(false)
}

/// A word as bash sees it: a C string, ending at the first NUL.
fn cstr(s: &str) -> &[u8] {
    let b = s.as_bytes();
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// A width or precision as written in one conversion.
#[derive(Clone, Copy)]
enum Field<'a> {
    Absent,
    /// `*`: the argument's value as bash's `getint` made it an `int`, and
    /// the argument itself.
    Star {
        value: i32,
        word: &'a [u8],
    },
    /// Digits in the format (`.` alone has none); `neg` for a `.-N`
    /// precision.
    Lit {
        digits: &'a [u8],
        neg: bool,
    },
}

impl<'a> Field<'a> {
    /// The text named when the field is refused.
    fn word(&self) -> &'a [u8] {
        match *self {
            Field::Absent => b"0",
            Field::Star { word, .. } => word,
            Field::Lit { digits, .. } => digits,
        }
    }
}

/// One conversion: `%[flags][width][.precision][length]conv`.
struct Spec<'a> {
    minus: bool,
    plus: bool,
    space: bool,
    hash: bool,
    zero: bool,
    width: Field<'a>,
    prec: Field<'a>,
    conv: u8,
}

/// Width and precision as the C library applies them.
struct Layout {
    width: usize,
    left: bool,
    prec: Option<usize>,
}

struct Formatter<'a> {
    fmt: &'a [u8],
    args: &'a [String],
    next: usize,
    max_field: usize,
    utf8: bool,
    /// Standard output not written yet.
    out: Vec<u8>,
    /// Messages for standard error not written yet.
    errs: Vec<u8>,
    /// An argument was not a number: the exit status will be 1.
    failed: bool,
}

impl<'a> Formatter<'a> {
    /// Formats the directive at `pos` (a run of plain text, an escape or a
    /// conversion); returns where the next one starts, or the exit status
    /// when printf stops here.
    fn directive(&mut self, pos: usize) -> Result<usize, i32> {
        let f = self.fmt;
        match f[pos] {
            b'\\' => {
                let n = tescape(
                    &f[pos + 1..],
                    false,
                    self.utf8,
                    &mut self.out,
                    &mut self.errs,
                )
                .unwrap_or(0);
                Ok(pos + 1 + n)
            }
            b'%' => self.conversion(pos),
            _ => {
                let end = f[pos..]
                    .iter()
                    .position(|&b| b == b'\\' || b == b'%')
                    .map_or(f.len(), |n| pos + n);
                self.out.extend_from_slice(&f[pos..end]);
                Ok(end)
            }
        }
    }

    fn conversion(&mut self, start: usize) -> Result<usize, i32> {
        let f = self.fmt;
        let mut i = start + 1;
        if f.get(i) == Some(&b'%') {
            self.out.push(b'%');
            return Ok(i + 1);
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            space: false,
            hash: false,
            zero: false,
            width: Field::Absent,
            prec: Field::Absent,
            conv: 0,
        };
        while let Some(&c) = f.get(i) {
            match c {
                b'-' => spec.minus = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.hash = true,
                b'0' => spec.zero = true,
                // Thousands grouping: none in the C locale.
                b'\'' => {}
                _ => break,
            }
            i += 1;
        }
        if f.get(i) == Some(&b'*') {
            spec.width = self.star();
            i += 1;
        } else {
            let s = i;
            while f.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i > s {
                spec.width = Field::Lit {
                    digits: &f[s..i],
                    neg: false,
                };
            }
        }
        if f.get(i) == Some(&b'.') {
            i += 1;
            if f.get(i) == Some(&b'*') {
                spec.prec = self.star();
                i += 1;
            } else {
                let neg = f.get(i) == Some(&b'-');
                if neg {
                    i += 1;
                }
                let s = i;
                while f.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                spec.prec = Field::Lit {
                    digits: &f[s..i],
                    neg,
                };
            }
        }
        while f.get(i).is_some_and(|c| b"hjlLtz".contains(c)) {
            i += 1;
        }
        let Some(&conv) = f.get(i) else {
            self.error([b"`", &f[start..], b"': missing format character"]);
            return Err(1);
        };
        spec.conv = conv;
        i += 1;
        match conv {
            b'c' | b's' => self.string(&spec)?,
            b'b' => {
                let arg = self.take().unwrap_or(b"");
                let mut text = Vec::new();
                let stop = bexpand(arg, self.utf8, &mut text, &mut self.errs);
                self.printstr(&spec, &text, false)?;
                if stop {
                    // `\c`: bash returns at once, with status 0 even after
                    // a bad number.
                    return Err(0);
                }
            }
            b'q' | b'Q' => {
                let mut arg = self.take().unwrap_or(b"");
                let mut whole = false;
                if conv == b'Q' {
                    // `%Q` cuts the argument to digits of a precision in
                    // the format, then prints all of the quoted text,
                    // except after a `.` with no digits.
                    if let Field::Lit { digits, neg } = spec.prec {
                        if !digits.is_empty() {
                            let p = usize::try_from(bash_int(digits)).unwrap_or(usize::MAX);
                            arg = &arg[..p.min(arg.len())];
                        }
                        whole = !neg && !digits.is_empty();
                    } else {
                        whole = true;
                    }
                }
                let quoted = shell_quote(&String::from_utf8_lossy(arg));
                self.printstr(&spec, quoted.as_bytes(), whole)?;
            }
            b'd' | b'i' => self.signed(&spec)?,
            b'o' | b'u' | b'x' | b'X' => self.unsigned(&spec)?,
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => self.float(&spec)?,
            other => {
                self.error([b"`", &[other][..], b"': invalid format character"]);
                return Err(1);
            }
        }
        Ok(i)
    }

    /// Queues `bash: printf: ` and the parts as one line of standard error.
    fn error<const N: usize>(&mut self, parts: [&[u8]; N]) {
        self.errs.extend_from_slice(b"bash: printf: ");
        for p in parts {
            self.errs.extend_from_slice(p);
        }
        self.errs.push(b'\n');
    }

    /// Bash's `printf_erange`.
    fn warn_range(&mut self, word: &[u8]) {
        self.error([b"warning: ", word, b": ", ERANGE.as_bytes()]);
    }

    /// Bash's `sh_invalidnum`; the exit status will be 1.
    fn invalid_number(&mut self, word: &[u8]) {
        let what: &[u8] = match word {
            [b'0', d, ..] if d.is_ascii_digit() => b"invalid octal number",
            [b'0', b'x', ..] => b"invalid hex number",
            _ => b"invalid number",
        };
        self.error([word, b": ", what]);
        self.failed = true;
    }

    /// Refuses a field past the limit; printf stops with status 1.
    fn refuse(&mut self, field: Field) -> Result<(), i32> {
        self.error([field.word(), b": ", ERANGE.as_bytes()]);
        Err(1)
    }

    fn take(&mut self) -> Option<&'a [u8]> {
        let a = self.args.get(self.next)?;
        self.next += 1;
        Some(cstr(a))
    }

    /// `*`: bash's `getint`. Out of `int` range it warns, naming the
    /// argument after this one (as bash does), and clamps; the last
    /// argument is not checked and is cut to 32 bits.
    fn star(&mut self) -> Field<'a> {
        let Some(word) = self.take() else {
            return Field::Star {
                value: 0,
                word: b"0",
            };
        };
        let v = self.intmax(word);
        let value = match self.args.get(self.next) {
            None => v as i32,
            Some(after) if v > INT_MAX => {
                self.warn_range(cstr(after));
                i32::MAX
            }
            Some(after) if v < i64::from(i32::MIN) => {
                self.warn_range(cstr(after));
                i32::MIN
            }
            Some(_) => v as i32,
        };
        Field::Star { value, word }
    }

    /// `'c` or `"c`: the character's code (bash's `asciicode`).
    fn char_code(&self, word: &[u8]) -> Option<u32> {
        if !matches!(word.first(), Some(b'\'' | b'"')) {
            return None;
        }
        let rest = &word[1..];
        if self.utf8 {
            if let Some(c) = rest
                .utf8_chunks()
                .next()
                .and_then(|c| c.valid().chars().next())
            {
                return Some(c as u32);
            }
        }
        Some(rest.first().map_or(0, |&b| u32::from(b)))
    }

    /// Bash's `getintmax`: `strtoimax` with its messages.
    fn intmax(&mut self, word: &[u8]) -> i64 {
        if let Some(c) = self.char_code(word) {
            return i64::from(c);
        }
        let n = scan_int(word);
        let (v, overflow) = match (n.neg, i64::try_from(n.mag)) {
            _ if n.overflow => (if n.neg { i64::MIN } else { i64::MAX }, true),
            (false, Ok(v)) => (v, false),
            (true, Ok(v)) => (-v, false),
            (true, Err(_)) if n.mag == 1 << 63 => (i64::MIN, false),
            (neg, Err(_)) => (if neg { i64::MIN } else { i64::MAX }, true),
        };
        if n.end < word.len() {
            self.invalid_number(word);
        } else if overflow {
            self.warn_range(word);
        }
        v
    }

    /// Bash's `getuintmax`: `strtoumax` (negative numbers wrap).
    fn uintmax(&mut self, word: &[u8]) -> u64 {
        if let Some(c) = self.char_code(word) {
            return u64::from(c);
        }
        let n = scan_int(word);
        let v = if n.overflow {
            u64::MAX
        } else if n.neg {
            n.mag.wrapping_neg()
        } else {
            n.mag
        };
        if n.end < word.len() {
            self.invalid_number(word);
        } else if n.overflow {
            self.warn_range(word);
        }
        v
    }

    /// Bash's `getfloatmax`: `strtold` (here a double).
    fn floatmax(&mut self, word: &[u8]) -> f64 {
        if let Some(c) = self.char_code(word) {
            return f64::from(c);
        }
        let (v, end) = scan_float(word);
        if end < word.len() {
            self.invalid_number(word);
        }
        v
    }

    /// Width and precision of a conversion the C library makes: `None`
    /// when a number in the format is past `INT_MAX` (the conversion then
    /// prints nothing); fields past the limit are refused.
    fn c_layout(&mut self, spec: &Spec<'a>, numeric: bool) -> Result<Option<Layout>, i32> {
        let mut left = spec.minus;
        let width = match spec.width {
            Field::Absent => 0,
            Field::Star { value, .. } => {
                left |= value < 0;
                u64::from(value.unsigned_abs())
            }
            Field::Lit { digits, .. } => match c_int(digits) {
                Some(w) => w,
                None => return Ok(None),
            },
        };
        let prec = match spec.prec {
            Field::Absent | Field::Lit { neg: true, .. } => None,
            Field::Star { value, .. } => u64::try_from(value).ok(),
            Field::Lit { digits, .. } => match c_int(digits) {
                Some(p) => Some(p),
                None => return Ok(None),
            },
        };
        let max = self.max_field as u64;
        if width > max {
            self.refuse(spec.width)?;
        }
        if numeric && prec.is_some_and(|p| p > max) {
            self.refuse(spec.prec)?;
        }
        // Both fit in `max_field`, a usize.
        Ok(Some(Layout {
            width: width as usize,
            left,
            prec: prec.map(|p| p as usize),
        }))
    }

    /// `%c` and `%s`, as the C library prints them: widths and precisions
    /// count bytes.
    fn string(&mut self, spec: &Spec<'a>) -> Result<(), i32> {
        let layout = self.c_layout(spec, false)?;
        let arg = self.take();
        let Some(l) = layout else {
            return Ok(());
        };
        let byte;
        let body: &[u8] = if spec.conv == b'c' {
            byte = [arg.and_then(|a| a.first().copied()).unwrap_or(0)];
            &byte
        } else {
            let s = arg.unwrap_or(b"");
            match l.prec {
                Some(p) if p < s.len() => &s[..p],
                _ => s,
            }
        };
        emit(&mut self.out, b"", body, l.width, l.left, false);
        Ok(())
    }

    /// `%b`, `%q` and `%Q` through bash's own `printstr`, which clamps
    /// numbers in the format at `INT_MAX` rather than failing; `whole`
    /// ignores the precision.
    fn printstr(&mut self, spec: &Spec<'a>, text: &[u8], whole: bool) -> Result<(), i32> {
        let mut left = spec.minus;
        let width: i64 = match spec.width {
            Field::Absent => 0,
            Field::Star { value, .. } => {
                left |= value < 0;
                i64::from(value).abs()
            }
            Field::Lit { digits, .. } => bash_int(digits),
        };
        let prec: i64 = match spec.prec {
            _ if whole => -1,
            Field::Absent => -1,
            Field::Star { value, .. } => i64::from(value),
            Field::Lit { neg: true, .. } => 0,
            Field::Lit { digits, .. } => bash_int(digits),
        };
        if width as u64 > self.max_field as u64 {
            return self.refuse(spec.width);
        }
        let n = match usize::try_from(prec) {
            Ok(p) if p < text.len() => p,
            _ => text.len(),
        };
        emit(&mut self.out, b"", &text[..n], width as usize, left, false);
        Ok(())
    }

    fn signed(&mut self, spec: &Spec<'a>) -> Result<(), i32> {
        let layout = self.c_layout(spec, true)?;
        let v = match self.take() {
            Some(w) => self.intmax(w),
            None => 0,
        };
        let Some(l) = layout else {
            return Ok(());
        };
        let digits = int_digits(v.unsigned_abs().to_string(), v == 0, l.prec);
        let sign: &[u8] = if v < 0 {
            b"-"
        } else if spec.plus {
            b"+"
        } else if spec.space {
            b" "
        } else {
            b""
        };
        let zero = spec.zero && l.prec.is_none();
        emit(
            &mut self.out,
            sign,
            digits.as_bytes(),
            l.width,
            l.left,
            zero,
        );
        Ok(())
    }

    fn unsigned(&mut self, spec: &Spec<'a>) -> Result<(), i32> {
        let layout = self.c_layout(spec, true)?;
        let v = match self.take() {
            Some(w) => self.uintmax(w),
            None => 0,
        };
        let Some(l) = layout else {
            return Ok(());
        };
        let text = match spec.conv {
            b'u' => v.to_string(),
            b'x' => format!("{v:x}"),
            b'X' => format!("{v:X}"),
            _ => format!("{v:o}"),
        };
        let mut digits = int_digits(text, v == 0, l.prec);
        let mut prefix: &[u8] = b"";
        if spec.hash {
            match spec.conv {
                b'o' if !digits.starts_with('0') => digits.insert(0, '0'),
                b'x' if v != 0 => prefix = b"0x",
                b'X' if v != 0 => prefix = b"0X",
                _ => {}
            }
        }
        let zero = spec.zero && l.prec.is_none();
        emit(
            &mut self.out,
            prefix,
            digits.as_bytes(),
            l.width,
            l.left,
            zero,
        );
        Ok(())
    }

    fn float(&mut self, spec: &Spec<'a>) -> Result<(), i32> {
        let layout = self.c_layout(spec, true)?;
        let v = match self.take() {
            Some(w) => self.floatmax(w),
            None => 0.0,
        };
        let Some(l) = layout else {
            return Ok(());
        };
        let conv = spec.conv;
        let upper = conv.is_ascii_uppercase();
        let mut prefix = String::from(if v.is_sign_negative() {
            "-"
        } else if spec.plus {
            "+"
        } else if spec.space {
            " "
        } else {
            ""
        });
        let a = v.abs();
        let mut body = if a.is_infinite() {
            "inf".to_string()
        } else if a.is_nan() {
            "nan".to_string()
        } else {
            match conv.to_ascii_lowercase() {
                b'f' => {
                    let mut s = fixed(a, l.prec.unwrap_or(6));
                    if spec.hash && l.prec == Some(0) {
                        s.push('.');
                    }
                    s
                }
                b'e' => {
                    let (mut m, e) = sci(a, l.prec.unwrap_or(6));
                    if spec.hash && l.prec == Some(0) {
                        m.push('.');
                    }
                    exp_text(m, e)
                }
                b'g' => general(a, l.prec.unwrap_or(6), spec.hash),
                _ => {
                    prefix.push_str("0x");
                    hex_float(a, l.prec, spec.hash)
                }
            }
        };
        if upper {
            prefix.make_ascii_uppercase();
            body.make_ascii_uppercase();
        }
        let zero = spec.zero && a.is_finite();
        emit(
            &mut self.out,
            prefix.as_bytes(),
            body.as_bytes(),
            l.width,
            l.left,
            zero,
        );
        Ok(())
    }
}

/// Writes `prefix` and `body` padded to `width`: spaces on the left, on the
/// right when `left`, or zeros after the prefix when `zero`.
fn emit(out: &mut Vec<u8>, prefix: &[u8], body: &[u8], width: usize, left: bool, zero: bool) {
    let fill = width.saturating_sub(prefix.len() + body.len());
    out.reserve(fill + prefix.len() + body.len());
    if left {
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if zero {
        out.extend_from_slice(prefix);
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
}

/// An integer's digits with the C precision applied: at least `prec`
/// digits, none for zero at precision 0.
fn int_digits(digits: String, is_zero: bool, prec: Option<usize>) -> String {
    match prec {
        Some(0) if is_zero => String::new(),
        Some(p) if p > digits.len() => {
            let mut s = String::with_capacity(p);
            s.extend(std::iter::repeat_n('0', p - digits.len()));
            s.push_str(&digits);
            s
        }
        _ => digits,
    }
}

/// A width or precision in the format as the C library reads it: `None`
/// past `INT_MAX`.
fn c_int(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for d in digits {
        v = v * 10 + u64::from(d - b'0');
        if v > INT_MAX as u64 {
            return None;
        }
    }
    Some(v)
}

/// A width or precision in the format as bash's `printstr` reads it: in a
/// wrapping `intmax_t`, then clamped to `INT_MAX`.
fn bash_int(digits: &[u8]) -> i64 {
    let v = digits.iter().fold(0i64, |v, d| {
        v.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
    });
    if !(0..=INT_MAX).contains(&v) {
        INT_MAX
    } else {
        v
    }
}

/// What `strtoimax`/`strtoumax` (base 0) read from a word.
struct ScannedInt {
    neg: bool,
    /// The magnitude, when it fits in 64 bits.
    mag: u64,
    overflow: bool,
    /// Bytes read: 0 when there was no number.
    end: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn scan_int(s: &[u8]) -> ScannedInt {
    let mut i = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let hex = s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    let base: u32 = if hex {
        i += 2;
        16
    } else if s.get(i) == Some(&b'0') {
        8
    } else {
        10
    };
    let first = i;
    let mut mag: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(base)) {
        match mag
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => mag = m,
            None => overflow = true,
        }
        i += 1;
    }
    let end = if i > first { i } else { 0 };
    ScannedInt {
        neg,
        mag,
        overflow,
        end,
    }
}

/// `strtod`: the value and the bytes read (0 when there was no number).
fn scan_float(s: &[u8]) -> (f64, usize) {
    let mut i = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let starts = |at: usize, word: &[u8]| {
        s.len() >= at + word.len() && s[at..at + word.len()].eq_ignore_ascii_case(word)
    };
    let digits_at = |mut at: usize, hex: bool| {
        let start = at;
        while s.get(at).is_some_and(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        }) {
            at += 1;
        }
        at - start
    };
    let (v, end) = if starts(i, b"inf") {
        let end = if starts(i + 3, b"inity") {
            i + 8
        } else {
            i + 3
        };
        (f64::INFINITY, end)
    } else if starts(i, b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let n = s[end + 1..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
            if let Some(n) = n {
                if s[end + 1 + n] == b')' {
                    end += n + 2;
                }
            }
        }
        (f64::NAN, end)
    } else if starts(i, b"0x")
        && (digits_at(i + 2, true) > 0
            || (s.get(i + 2) == Some(&b'.') && digits_at(i + 3, true) > 0))
    {
        hex_mantissa(s, i + 2)
    } else {
        let start = i;
        let int = digits_at(i, false);
        i += int;
        let mut frac = 0;
        if s.get(i) == Some(&b'.') {
            frac = digits_at(i + 1, false);
            if int + frac > 0 {
                i += 1 + frac;
            }
        }
        if int + frac == 0 {
            return (0.0, 0);
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(s.get(i + 1), Some(b'-' | b'+')));
            let n = digits_at(i + 1 + sign, false);
            if n > 0 {
                i += 1 + sign + n;
            }
        }
        let v = std::str::from_utf8(&s[start..i])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0);
        (v, i)
    };
    (if neg { -v } else { v }, end)
}

/// The hex digits of a `0x` float from `at`, with its `p` exponent.
fn hex_mantissa(s: &[u8], mut at: usize) -> (f64, usize) {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut point = false;
    loop {
        match s.get(at) {
            Some(b'.') if !point => point = true,
            Some(c) if c.is_ascii_hexdigit() => {
                let d = u64::from((*c as char).to_digit(16).unwrap_or(0));
                if mant < 1 << 60 {
                    mant = mant * 16 + d;
                    if point {
                        exp -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !point {
                        exp += 4;
                    }
                }
            }
            _ => break,
        }
        at += 1;
    }
    if matches!(s.get(at), Some(b'p' | b'P')) {
        let sign = usize::from(matches!(s.get(at + 1), Some(b'-' | b'+')));
        let neg = s.get(at + 1) == Some(&b'-');
        let mut j = at + 1 + sign;
        if s.get(j).is_some_and(u8::is_ascii_digit) {
            let mut e: i64 = 0;
            while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
                e = (e * 10 + i64::from(c - b'0')).min(1 << 20);
                j += 1;
            }
            exp += if neg { -e } else { e };
            at = j;
        }
    }
    // The sticky bit sits far below a double's 53 bits: it only breaks ties.
    let mut v = (mant | u64::from(sticky)) as f64;
    while exp > 0 && v.is_finite() && v != 0.0 {
        let step = exp.min(1000);
        v *= 2f64.powi(step as i32);
        exp -= step;
    }
    while exp < 0 && v != 0.0 {
        let step = exp.max(-1000);
        v *= 2f64.powi(step as i32);
        exp -= step;
    }
    (v, at)
}

/// `%f` of a finite `a >= 0`.
fn fixed(a: f64, prec: usize) -> String {
    let q = prec.min(FLOAT_EXACT);
    let mut s = format!("{a:.q$}");
    s.extend(std::iter::repeat_n('0', prec - q));
    s
}

/// `%e` of a finite `a >= 0`: the mantissa with `prec` decimals and the
/// exponent.
fn sci(a: f64, prec: usize) -> (String, i32) {
    let q = prec.min(FLOAT_EXACT);
    let s = format!("{a:.q$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let mut m = m.to_string();
    m.extend(std::iter::repeat_n('0', prec - q));
    (m, e.parse().unwrap_or(0))
}

/// `1.5` and 3 as `1.5e+03`.
fn exp_text(mut m: String, e: i32) -> String {
    m.push('e');
    m.push(if e < 0 { '-' } else { '+' });
    m.push_str(&format!("{:02}", e.unsigned_abs()));
    m
}

/// `%g` of a finite `a >= 0`.
fn general(a: f64, prec: usize, alt: bool) -> String {
    let p = prec.max(1);
    let x = if a == 0.0 { 0 } else { sci(a, p - 1).1 as i64 };
    let (mut m, e) = if x < p as i64 && x >= -4 {
        (fixed(a, (p as i64 - 1 - x) as usize), None)
    } else {
        let (m, e) = sci(a, p - 1);
        (m, Some(e))
    };
    if alt {
        if !m.contains('.') {
            m.push('.');
        }
    } else if m.contains('.') {
        m.truncate(m.trim_end_matches('0').trim_end_matches('.').len());
    }
    match e {
        Some(e) => exp_text(m, e),
        None => m,
    }
}

/// `%a` of a finite `a >= 0` after the `0x`, as glibc prints an x87 long
/// double (bash's `%La`): a whole nibble before the point, `0x8p-3` for 1.
fn hex_float(a: f64, prec: Option<usize>, alt: bool) -> String {
    let (mant, mut exp) = if a == 0.0 {
        (0u64, 0i64)
    } else {
        let bits = a.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i64;
        let f = bits & ((1 << 52) - 1);
        if e == 0 {
            let lz = i64::from(f.leading_zeros());
            (f << lz, -1011 - lz - 3)
        } else {
            (((1 << 52) | f) << 11, e - 1023 - 3)
        }
    };
    let frac = mant & ((1 << 60) - 1);
    let ndig = if frac == 0 {
        0
    } else {
        15 - (frac.trailing_zeros() / 4) as usize
    };
    let p = prec.unwrap_or(ndig);
    let (lead, digits) = if p < ndig {
        let shift = 4 * (15 - p) as u32;
        let mut keep = mant >> shift;
        let rem = mant & ((1 << shift) - 1);
        let half = 1u64 << (shift - 1);
        if rem > half || (rem == half && keep & 1 == 1) {
            keep += 1;
        }
        let bits = 4 * p as u32;
        if keep >> bits >= 16 {
            exp += 4;
            (1, "0".repeat(p))
        } else {
            let low = keep & ((1u64 << bits) - 1);
            (keep >> bits, format!("{low:0p$x}"))
        }
    } else {
        let all = format!("{frac:015x}");
        let mut d = all[..ndig].to_string();
        d.extend(std::iter::repeat_n('0', p - ndig));
        (mant >> 60, d)
    };
    let mut s = format!("{lead:x}");
    if p > 0 || alt {
        s.push('.');
    }
    s.push_str(&digits);
    s.push('p');
    s.push(if exp < 0 { '-' } else { '+' });
    s.push_str(&exp.unsigned_abs().to_string());
    s
}

/// Bash's `tescape`: one escape after a backslash, in the format (`b_arg`
/// false) or in a `%b` argument. Returns the bytes read after the
/// backslash (0 leaves the backslash as text), or `None` for `%b`'s `\c`.
fn tescape(
    s: &[u8],
    b_arg: bool,
    utf8: bool,
    out: &mut Vec<u8>,
    errs: &mut Vec<u8>,
) -> Option<usize> {
    let Some(&c) = s.first() else {
        out.push(b'\\');
        return Some(0);
    };
    let mut p = 1;
    let hex = |p: usize| s.get(p).and_then(|&c| (c as char).to_digit(16));
    match c {
        b'a' => out.push(7),
        b'b' => out.push(8),
        b'e' | b'E' => out.push(27),
        b'f' => out.push(12),
        b'n' => out.push(b'\n'),
        b'r' => out.push(b'\r'),
        b't' => out.push(b'\t'),
        b'v' => out.push(11),
        b'0'..=b'7' => {
            let mut v = u32::from(c - b'0');
            // `%b` reads `\0` and up to three more digits.
            let mut left = 2 + usize::from(v == 0 && b_arg);
            while left > 0 && matches!(s.get(p), Some(b'0'..=b'7')) {
                v = v * 8 + u32::from(s[p] - b'0');
                p += 1;
                left -= 1;
            }
            out.push(v as u8);
        }
        b'x' => {
            let mut v = 0;
            while p < 3 {
                let Some(d) = hex(p) else { break };
                v = v * 16 + d;
                p += 1;
            }
            if p == 1 {
                errs.extend_from_slice(b"bash: printf: missing hex digit for \\x\n");
                out.push(b'\\');
                return Some(0);
            }
            out.push(v as u8);
        }
        b'u' | b'U' => {
            let max = if c == b'u' { 4 } else { 8 };
            let mut v: u32 = 0;
            while p <= max {
                let Some(d) = hex(p) else { break };
                v = v * 16 + d;
                p += 1;
            }
            if p == 1 {
                errs.extend_from_slice(b"bash: printf: missing unicode digit for \\");
                errs.extend_from_slice(&[c, b'\n']);
                out.push(b'\\');
                return Some(0);
            }
            unicode(v, utf8, out);
        }
        b'\\' => out.push(b'\\'),
        b'\'' | b'"' | b'?' if !b_arg => out.push(c),
        b'c' if b_arg => return None,
        _ => {
            out.push(b'\\');
            return Some(0);
        }
    }
    Some(p)
}

/// A `\u` or `\U` character: UTF-8 as bash encodes it (up to six bytes,
/// nothing from 2^31 on), or under the C locale a `\uXXXX` escape.
fn unicode(v: u32, utf8: bool, out: &mut Vec<u8>) {
    if v <= 0x7f {
        out.push(v as u8);
    } else if v >= 0x8000_0000 {
        // Past what UTF-8 ever encoded: bash prints nothing.
    } else if !utf8 {
        if v < 0x10000 {
            out.extend_from_slice(format!("\\u{v:04X}").as_bytes());
        } else {
            out.extend_from_slice(format!("\\U{v:08X}").as_bytes());
        }
    } else {
        let (n, lead): (u32, u32) = match v {
            0..=0x7ff => (2, 0xc0),
            0x800..=0xffff => (3, 0xe0),
            0x1_0000..=0x1f_ffff => (4, 0xf0),
            0x20_0000..=0x3ff_ffff => (5, 0xf8),
            _ => (6, 0xfc),
        };
        out.push((lead | (v >> (6 * (n - 1)))) as u8);
        for k in (0..n - 1).rev() {
            out.push((0x80 | ((v >> (6 * k)) & 0x3f)) as u8);
        }
    }
}

/// Bash's `bexpand`: a `%b` argument's escapes; true when `\c` stopped it.
fn bexpand(s: &[u8], utf8: bool, out: &mut Vec<u8>, errs: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' || i >= s.len() {
            out.push(c);
            continue;
        }
        match tescape(&s[i..], true, utf8, out, errs) {
            Some(n) => i += n,
            None => return true,
        }
    }
    false
}

/// Quotes a word so the shell reads it back unchanged (`%q`).
fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./,:=@%+".contains(c);
    let mut out = String::new();
    for c in s.chars() {
        if !safe(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use async_trait::async_trait;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::super::testutil::{instance, run};
    use super::{printf, FLUSH_AT, MAX_FIELD};
    use crate::instance::Instance;
    use crate::program::{ByteSink, Ctx, Input, Output};

    async fn pf(args: &[&str]) -> (i32, String, String) {
        let i = instance();
        let mut argv = vec!["printf"];
        argv.extend_from_slice(args);
        run(&i, "/", &argv, b"").await
    }

    /// Runs printf with `max_field` under `lang` (C when empty), writing to
    /// `stdout`; returns the status and standard error.
    async fn pf_into(
        inst: &Arc<Instance>,
        args: &[&str],
        lang: &str,
        max_field: usize,
        stdout: Output,
    ) -> (i32, Vec<u8>) {
        let (stderr, err) = Output::capture();
        let mut env = inst.login_env("root");
        if !lang.is_empty() {
            env.insert("LANG".into(), lang.into());
        }
        let ctx = Ctx {
            argv: std::iter::once("printf")
                .chain(args.iter().copied())
                .map(String::from)
                .collect(),
            env,
            cwd: "/".into(),
            stdin: Input::empty(),
            stdout,
            stderr,
            instance: inst.clone(),
            faults: Default::default(),
        };
        let code = printf(&ctx, max_field).await;
        (code, err.bytes())
    }

    /// (status, stdout, stderr) with a given limit and locale.
    async fn pf_with(
        inst: &Arc<Instance>,
        args: &[&str],
        lang: &str,
        max_field: usize,
    ) -> (i32, Vec<u8>, String) {
        let (stdout, out) = Output::capture();
        let (code, err) = pf_into(inst, args, lang, max_field, stdout).await;
        (
            code,
            out.bytes(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    /// `pf` on a given instance.
    async fn pf_in(inst: &Arc<Instance>, args: &[&str]) -> (i32, String, String) {
        let (code, out, err) = pf_with(inst, args, "", MAX_FIELD).await;
        (code, String::from_utf8_lossy(&out).into_owned(), err)
    }

    #[tokio::test]
    async fn printf_conversions() {
        assert_eq!(pf(&["%s-%d\\n", "a", "42"]).await.1, "a-42\n");
        assert_eq!(pf(&["%-5s|%5s|\\n", "ab", "cd"]).await.1, "ab   |   cd|\n");
        assert_eq!(
            pf(&["%x %X %o %c %%\\n", "255", "255", "8", "hello"])
                .await
                .1,
            "ff FF 10 h %\n"
        );
        assert_eq!(
            pf(&["%05d|%.3s|%i\\n", "-42", "abcdef", "0x10"]).await.1,
            "-0042|abc|16\n"
        );
        assert_eq!(pf(&["%b", "a\\tb\\n"]).await.1, "a\tb\n");
        assert_eq!(
            pf(&["%.2f %e\\n", "3.14159", "1234.5"]).await.1,
            "3.14 1.234500e+03\n"
        );
        assert_eq!(
            pf(&["%g %g\\n", "0.0001", "100000000"]).await.1,
            "0.0001 1e+08\n"
        );
        assert_eq!(pf(&["%*d|\\n", "4", "7"]).await.1, "   7|\n");
        assert_eq!(pf(&["no newline"]).await.1, "no newline");
        assert_eq!(pf(&["\\101\\x42\\t"]).await.1, "AB\t");
    }

    #[tokio::test]
    async fn printf_reuses_the_format() {
        assert_eq!(pf(&["%s\\n", "a", "b", "c"]).await.1, "a\nb\nc\n");
        assert_eq!(pf(&["%s=%s\\n", "a", "1", "b"]).await.1, "a=1\nb=\n");
        assert_eq!(pf(&["%s %s\\n"]).await.1, " \n");
    }

    #[tokio::test]
    async fn printf_bad_numbers_and_usage() {
        assert_eq!(
            pf(&["%d\\n", "abc"]).await,
            (
                1,
                "0\n".into(),
                "bash: printf: abc: invalid number\n".into()
            )
        );
        assert_eq!(pf(&[]).await.0, 2);
    }

    /// What bash 5.2.15 prints (`bash -c 'printf "$@"' _ ARG...`), under the
    /// C locale and then under C.UTF-8 where that differs. Bash's own
    /// `long double` is left out: these values are exact in a double.
    #[tokio::test]
    async fn printf_matches_bash() {
        type Case = (&'static [&'static str], &'static [u8], &'static str, i32);
        let c_locale: &[Case] = &[
            (&["%-*d|\n", "-3", "1"], b"1  |\n", "", 0),
            (&["%*d|\n", "4294967301"], b"    0|\n", "", 0),
            (&["%.*d|\n", "4294967301"], b"00000|\n", "", 0),
            (&["%*d|%s\n", "-2", "x"], b"0 |\n", "bash: printf: x: invalid number\n", 1),
            (&["%.*s|\n", "-3", "abc"], b"abc|\n", "", 0),
            (&["a%0999999999999db\n", "1", "2"], b"ab\nab\n", "", 0),
            (&["a%.999999999999db\n", "1"], b"ab\n", "", 0),
            (&["a%999999999999sb\n", "x"], b"ab\n", "", 0),
            (&["a%.999999999999bb\n", "x"], b"axb\n", "", 0),
            (&["%.*s|\n", "99999999999999999999", "abc", "z"], b"abc|\n|\n", "bash: printf: warning: 99999999999999999999: Numerical result out of range\nbash: printf: warning: abc: Numerical result out of range\nbash: printf: z: invalid number\n", 1),
            (&["%.*d|\n", "-99999999999999999999", "7", "z"], b"7|\n|\n", "bash: printf: warning: -99999999999999999999: Numerical result out of range\nbash: printf: warning: 7: Numerical result out of range\nbash: printf: z: invalid number\n", 1),
            (&["%d\n", "99999999999999999999", "-99999999999999999999", "-9223372036854775808"], b"9223372036854775807\n-9223372036854775808\n-9223372036854775808\n", "bash: printf: warning: 99999999999999999999: Numerical result out of range\nbash: printf: warning: -99999999999999999999: Numerical result out of range\n", 0),
            (&["%u %x\n", "-1", "-1", "99999999999999999999", "-99999999999999999999", "-18446744073709551615", "18446744073709551616"], b"18446744073709551615 ffffffffffffffff\n18446744073709551615 ffffffffffffffff\n1 ffffffffffffffff\n", "bash: printf: warning: 99999999999999999999: Numerical result out of range\nbash: printf: warning: -99999999999999999999: Numerical result out of range\nbash: printf: warning: 18446744073709551616: Numerical result out of range\n", 0),
            (&["[%d]", "", " 12", "12 ", "0x", "0x1f", "010", "08", "-0x10", "+5", "\"A", "'é", "'"], b"[0][12][12][0][31][8][0][-16][5][65][195][0]", "bash: printf: 12 : invalid number\nbash: printf: 0x: invalid hex number\nbash: printf: 08: invalid octal number\n", 1),
            (&["[%f]", "", " 1.5", "1.5x", "0x1p3", "-nan", "infinity", ".5", "5e+", "0x", "nan(12)"], b"[0.000000][1.500000][1.500000][8.000000][-nan][inf][0.500000][5.000000][0.000000][nan]", "bash: printf: 1.5x: invalid number\nbash: printf: 5e+: invalid number\nbash: printf: 0x: invalid hex number\n", 1),
            (&["%d|%d\n", "abc", "12x"], b"0|12\n", "bash: printf: abc: invalid number\nbash: printf: 12x: invalid number\n", 1),
            (&["a%", "1"], b"a", "bash: printf: `%': missing format character\n", 1),
            (&["a%-5.3", "1"], b"a", "bash: printf: `%-5.3': missing format character\n", 1),
            (&["a%k|", "1"], b"a", "bash: printf: `k': invalid format character\n", 1),
            (&["%5%|"], b"", "bash: printf: `%': invalid format character\n", 1),
            (&["a%lld|%'d|%qd|%zd\n", "1", "2", "3", "4"], b"a1|2|3d|4\n", "", 0),
            (&["%#o|%#x|%#X|%#.3o|%.0d|%+.0d|%#.0o|%#x\n", "1", "2", "3", "0", "0", "0", "0", "0"], b"01|0x2|0X3|000||+|0|0\n", "", 0),
            (&["%05.3d|%-05d|%08.3d|%+5d|% d\n", "1", "2", "-5", "3", "4"], b"  001|2    |    -005|   +3| 4\n", "", 0),
            (&["%+s|% s|%05s|%5c|%.0s|%5.2c|\n", "a", "b", "c", "def", "g", "hij"], b"a|b|    c|    d||    h|\n", "", 0),
            (&["%c|%c|", ""], b"\x00|\x00|", "", 0),
            (&["%#g|%g|%#.0f|%#.0e|%.0e|%#.1g\n", "1", "2", "3", "0", "12345", "1"], b"1.00000|2|3.|0.e+00|1e+04|1.\n", "", 0),
            (&["%g|%g|%g|%g|%g|%g|%G\n", "9.9999999", "0.00001", "123456", "1234567", "0.0001234", "1e100", "1e-5"], b"10|1e-05|123456|1.23457e+06|0.0001234|1e+100|1E-05\n", "", 0),
            (&["%f|%e|%g|%08f|%-8e|%+g|\n", "-0", "-0", "-0", "inf", "-inf", "nan"], b"-0.000000|-0.000000e+00|-0|     inf|-inf    |+nan|\n", "", 0),
            (&["%.0f|%.0f|%.0f|%.0f|%.1f|%.2f\n", "0.5", "1.5", "2.5", "3.5", "0.25", "1.005"], b"0|2|2|4|0.2|1.00\n", "", 0),
            (&["%.3a|%.0a|%#a|%10a|%010a|%+a|%-10a|%a|%A|%.0a|%.1a\n", "0.5", "1.5", "1", "1", "-1", "2", "3", "-2.5", "0.25", "1.96875", "15.97"], b"0x8.000p-4|0xcp-3|0x8.p-3|    0x8p-3|-0x0008p-3|+0x8p-2|0xcp-2    |-0xap-2|0X8P-5|0x1p+1|0x1.0p+4\n", "", 0),
            (&["%d%b|", "abc", "\\c"], b"0", "bash: printf: abc: invalid number\n", 0),
            (&["a\\cb|%s\\x|\\u|\\\"\\?\\q\\\n", "x"], b"a\\cb|x\\x|\\u|\"?\\q\\\n", "bash: printf: missing hex digit for \\x\nbash: printf: missing unicode digit for \\u\n", 0),
            (&["%b|", "\\0101\\1010\\08\\x4g\\\"\\?\\x\\u", "x\\"], b"AA0\x008\x04g\\\"\\?\\x\\u|x\\|", "bash: printf: missing hex digit for \\x\nbash: printf: missing unicode digit for \\u\n", 0),
            (&["\\u00e9|\\U0001F600|\\ud800|\\UFFFFFFFF|\\U7fffffff|%b|%d\n", "\\u00e9", "'é"], b"\\u00E9|\\U0001F600|\\uD800||\\U7FFFFFFF|\\u00E9|195\n", "", 0),
            (&["%5s|%-4s|%.1s|%5b|\n", "é", "é", "é", "é"], b"   \xc3\xa9|\xc3\xa9  |\xc3|   \xc3\xa9|\n", "", 0),
            (&["%q|%5q|%.2q|%.2Q|%-6Q|\n", "a b", "x", "abc", "abcdef", "ab"], b"a\\ b|    x|ab|ab|ab    |\n", "", 0),
            (&["%.*Q|%.Q|%.1Q|%.*q|%.q|%.-2Q|%5.2Q|%*Q|\n", "2", "abcdef", "abc", "a b", "2", "abcdef", "abc", "abcdef", "a b c", "-4", "x"], b"abcdef||a|ab|||  a\\ |x   |\n", "", 0),
        ];
        let utf8: &[Case] = &[
            (&["[%d]", "", " 12", "12 ", "0x", "0x1f", "010", "08", "-0x10", "+5", "\"A", "'é", "'"], b"[0][12][12][0][31][8][0][-16][5][65][233][0]", "bash: printf: 12 : invalid number\nbash: printf: 0x: invalid hex number\nbash: printf: 08: invalid octal number\n", 1),
            (&["\\u00e9|\\U0001F600|\\ud800|\\UFFFFFFFF|\\U7fffffff|%b|%d\n", "\\u00e9", "'é"], b"\xc3\xa9|\xf0\x9f\x98\x80|\xed\xa0\x80||\xfd\xbf\xbf\xbf\xbf\xbf|\xc3\xa9|233\n", "", 0),
        ];
        let inst = instance();
        for (lang, cases) in [("", c_locale), ("C.UTF-8", utf8)] {
            for (args, out, err, code) in cases {
                let got = pf_with(&inst, args, lang, MAX_FIELD).await;
                assert_eq!(
                    got,
                    (*code, out.to_vec(), err.to_string()),
                    "printf {args:?} under {lang:?}: stdout {:?}",
                    String::from_utf8_lossy(&got.1)
                );
            }
        }
    }

    /// The inputs: bash prints gigabytes for some (or aborts, or
    /// spins); here each ends at once with a message and a status.
    #[tokio::test]
    async fn printf_refuses_fields_past_the_limit() {
        let inst = instance();
        let erange = |w: &str| format!("bash: printf: {w}: Numerical result out of range\n");
        // Bash warns (naming the argument after the width, as it does) and
        // prints 2 GiB of padding; this printf refuses the field.
        assert_eq!(
            pf_in(&inst, &["%*d", "9223372036854775807", "1"]).await,
            (
                1,
                String::new(),
                "bash: printf: warning: 1: Numerical result out of range\n".to_string()
                    + &erange("9223372036854775807")
            )
        );
        assert_eq!(
            pf_in(&inst, &["%.*d", "9223372036854775807", "1"]).await,
            (
                1,
                String::new(),
                "bash: printf: warning: 1: Numerical result out of range\n".to_string()
                    + &erange("9223372036854775807")
            )
        );
        assert_eq!(
            pf_in(&inst, &["%*d", "-9223372036854775808", "1"]).await,
            (
                1,
                String::new(),
                "bash: printf: warning: 1: Numerical result out of range\n".to_string()
                    + &erange("-9223372036854775808")
            )
        );
        // A width in the format past INT_MAX: the C library fails the
        // conversion and bash prints nothing for it, status 0.
        assert_eq!(
            pf_in(&inst, &["%0999999999999d", "1"]).await,
            (0, String::new(), String::new())
        );
        // Up to INT_MAX bash prints it all; past the limit this refuses.
        assert_eq!(
            pf_in(&inst, &["a%2147483647d|", "1"]).await,
            (1, "a".into(), erange("2147483647"))
        );
        assert_eq!(
            pf_in(&inst, &["%s%1048577s|", "a", "b"]).await,
            (1, "a".into(), erange("1048577"))
        );
        assert_eq!(
            pf_in(&inst, &["%.1048577d", "1"]).await.2,
            erange("1048577")
        );
        assert_eq!(
            pf_in(&inst, &["%999999999999b|", "x"]).await.2,
            erange("999999999999")
        );
        assert_eq!(
            pf_in(&inst, &["%*q|", "-2147483648", "x"]).await.2,
            erange("-2147483648")
        );
        assert_eq!(
            pf_in(&inst, &["%*q|", "-2147483649", "x"]).await.2,
            "bash: printf: warning: x: Numerical result out of range\n".to_string()
                + &erange("-2147483649")
        );
        // Precisions that only cut a string stay free, as in bash.
        assert_eq!(
            pf_in(&inst, &["%.*s|", "2147483647", "abc"]).await.1,
            "abc|"
        );
        assert_eq!(pf_in(&inst, &["%.999999999999b|", "abc"]).await.1, "abc|");
        // At the limit itself the field is printed.
        let (code, out, _) = pf_in(&inst, &["%1048576d", "7"]).await;
        assert_eq!((code, out.len()), (0, 1 << 20));
        assert!(out.ends_with(" 7"));
    }

    #[tokio::test]
    async fn printf_limit_is_a_parameter() {
        let inst = instance();
        let erange = |w: &str| format!("bash: printf: {w}: Numerical result out of range\n");
        let ok = |s: &str| (0, s.as_bytes().to_vec(), String::new());
        assert_eq!(
            pf_with(&inst, &["%10d|", "1"], "", 10).await,
            ok("         1|")
        );
        assert_eq!(
            pf_with(&inst, &["%.10d|", "1"], "", 10).await,
            ok("0000000001|")
        );
        assert_eq!(pf_with(&inst, &["%.11s|", "abc"], "", 10).await, ok("abc|"));
        for args in [
            &["%11d|", "1"][..],
            &["%.11d|", "1"],
            &["%.11f|", "1"],
            &["%.11a|", "1"],
            &["%11s|", "x"],
            &["%-11c|", "x"],
            &["%11b|", "x"],
            &["%11q|", "x"],
        ] {
            assert_eq!(
                pf_with(&inst, args, "", 10).await,
                (1, vec![], erange("11"))
            );
        }
        assert_eq!(
            pf_with(&inst, &["%*d|", "-11", "1"], "", 10).await,
            (1, vec![], erange("-11"))
        );
    }

    #[tokio::test]
    async fn printf_large_precisions_do_not_panic() {
        let inst = instance();
        let zeros = |n: usize| "0".repeat(n);
        for (args, want) in [
            (["%.65536f", "1"], format!("1.{}", zeros(65536))),
            (["%.65536e", "1"], format!("1.{}e+00", zeros(65536))),
            (["%.65536g", "1"], "1".to_string()),
            (["%#.65536g", "1"], format!("1.{}", zeros(65535))),
            (["%.65536a", "1"], format!("0x8.{}p-3", zeros(65536))),
            (["%.70000d", "-1"], format!("-{}1", zeros(69999))),
            (["%.70000x", "255"], format!("{}ff", zeros(69998))),
        ] {
            let (code, out, err) = pf_in(&inst, &args).await;
            assert!(
                code == 0 && err.is_empty() && out == want,
                "printf {args:?}: {code} {err:?} {} bytes",
                out.len()
            );
        }
        let (code, out, _) = pf_in(&inst, &["%1048576.1048576f", "0.5"]).await;
        assert_eq!((code, out.len()), (0, (1 << 20) + 2));
        // A double has no nonzero digit past its 1074th decimal.
        let tiny = pf_in(&inst, &["%.2000f", "4.9406564584124654e-324"])
            .await
            .1;
        assert_eq!(tiny.len(), 2002);
        assert!(tiny.starts_with("0.000"));
        assert!(tiny[2..1076].ends_with("625"));
        assert!(tiny[1076..].bytes().all(|b| b == b'0'));
    }

    /// Counts what reaches the sink and the largest single write.
    #[derive(Clone, Default)]
    struct Meter(Arc<Mutex<(usize, usize)>>);

    #[async_trait]
    impl ByteSink for Meter {
        async fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
            let mut m = self.0.lock().unwrap();
            m.0 += data.len();
            m.1 = m.1.max(data.len());
            Ok(())
        }
    }

    #[tokio::test]
    async fn printf_streams_its_output() {
        let inst = instance();
        let meter = Meter::default();
        let mut args = vec!["%1048576s"];
        args.extend(std::iter::repeat_n("x", 16));
        let stdout = Output::new(Arc::new(meter.clone()), None);
        let (code, err) = pf_into(&inst, &args, "", MAX_FIELD, stdout).await;
        assert_eq!((code, err.len()), (0, 0));
        let (total, largest) = *meter.0.lock().unwrap();
        assert_eq!(total, 16 << 20);
        assert!(
            largest <= FLUSH_AT + MAX_FIELD,
            "one write of {largest} bytes"
        );
    }

    /// However long printf runs, it lets the runtime stop it (Ctrl-C, a
    /// closed channel): a timeout ends a 20 GiB printf into /dev/null, and
    /// one that prints nothing for ten billion escapes.
    #[tokio::test]
    async fn printf_yields_while_it_works() {
        let inst = instance();
        let mut big = vec!["%1048576s"];
        big.extend(std::iter::repeat_n("x", 20_000));
        let silent_format = "\\UFFFFFFFF".repeat(100_000) + "%s";
        let mut silent = vec![silent_format.as_str()];
        silent.extend(std::iter::repeat_n("", 100_000));
        for args in [big, silent] {
            let started = Instant::now();
            let run = pf_into(&inst, &args, "", MAX_FIELD, Output::null());
            let r = tokio::time::timeout(Duration::from_millis(50), run).await;
            assert!(r.is_err(), "printf finished?");
            assert!(started.elapsed() < Duration::from_secs(5));
        }
    }

    /// Random formats and arguments, odd ones on purpose: printf never
    /// panics, ends quickly and prints no more than its fields allow.
    #[tokio::test]
    async fn printf_fuzz() {
        const NUMBERS: &[&str] = &[
            "0",
            "1",
            "5",
            "12",
            "4095",
            "4096",
            "4097",
            "65536",
            "1048576",
            "2147483647",
            "2147483648",
            "4294967301",
            "999999999999",
            "9223372036854775807",
            "99999999999999999999999999",
        ];
        const PIECES: &[&str] = &[
            "a",
            "|",
            "\n",
            "é",
            "\\",
            "\\c",
            "\\x",
            "\\x4",
            "\\xZZ",
            "\\0377",
            "\\0",
            "\\777",
            "\\u",
            "\\u12345",
            "\\UFFFFFFFF",
            "\\U7fffffff",
            "\\ud800",
            "\\'",
            "\\\"",
            "\\?",
            "\\q",
            "%%",
            "%",
        ];
        const ARGS: &[&str] = &[
            "0",
            "1",
            "-1",
            "42",
            "3.5",
            "-0",
            "1e308",
            "1e-320",
            "inf",
            "-nan",
            "nan(x)",
            "0x1p-1074",
            "0x1.fffffffffffffp1023",
            "0x",
            "08",
            "abc",
            "",
            " 7",
            "7 ",
            "'x",
            "'é",
            "\"",
            "'",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "99999999999999999999",
            "-99999999999999999999",
            "2147483647",
            "-2147483648",
            "4294967301",
            "4096",
            "4097",
            "-4097",
            "\\x",
            "\\0377",
            "\\u",
            "\\U7fffffff",
            "\\UFFFFFFFF",
            "\\c",
            "a\\cb",
            "\\",
            "a\0b",
            "1048576",
            "é日本",
        ];
        const CONVS: &[u8] = b"diouxXeEfFgGaAcsbqQ%n(zk$";
        let max_field = 4096;
        let inst = instance();
        let mut rng = ChaCha8Rng::seed_from_u64(0x7072_696e_7466);
        let pick = |rng: &mut ChaCha8Rng, from: &[&'static str]| from[rng.gen_range(0..from.len())];
        let started = Instant::now();
        for round in 0..3000 {
            let mut format = String::new();
            let mut fields = 0;
            for _ in 0..rng.gen_range(0..6) {
                if rng.gen_bool(0.4) {
                    format.push_str(pick(&mut rng, PIECES));
                    continue;
                }
                fields += 1;
                format.push('%');
                for _ in 0..rng.gen_range(0..3) {
                    format.push(b"-+ #0'"[rng.gen_range(0..6)] as char);
                }
                match rng.gen_range(0..3) {
                    0 => format.push('*'),
                    1 => format.push_str(pick(&mut rng, NUMBERS)),
                    _ => {}
                }
                if rng.gen_bool(0.5) {
                    format.push('.');
                    match rng.gen_range(0..4) {
                        0 => format.push('*'),
                        1 => format.push_str(pick(&mut rng, NUMBERS)),
                        2 => format.push('-'),
                        _ => {}
                    }
                }
                if rng.gen_bool(0.2) {
                    format.push(b"hjlLtzq"[rng.gen_range(0..7)] as char);
                }
                if rng.gen_bool(0.95) {
                    format.push(CONVS[rng.gen_range(0..CONVS.len())] as char);
                }
            }
            let mut args = vec![format.clone()];
            for _ in 0..rng.gen_range(0..6) {
                let a = match rng.gen_range(0..4) {
                    0 => (0..rng.gen_range(1..30))
                        .map(|_| char::from(b'0' + rng.gen_range(0..10)))
                        .collect(),
                    1 => (0..rng.gen_range(0..12))
                        .map(|_| char::from(rng.gen_range(b' '..=b'~')))
                        .collect(),
                    _ => pick(&mut rng, ARGS).to_string(),
                };
                args.push(a);
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let lang = if round % 2 == 0 { "" } else { "C.UTF-8" };
            let t = Instant::now();
            let (code, out, err) = pf_with(&inst, &argv, lang, max_field).await;
            assert!(t.elapsed() < Duration::from_secs(1), "slow: {argv:?}");
            assert!((0..=2).contains(&code), "status {code}: {argv:?}");
            let arg_bytes: usize = args.iter().map(String::len).sum();
            let round_max = format.len() * 6 + fields * (max_field + 1200) + arg_bytes * 6;
            assert!(
                out.len() <= round_max * args.len(),
                "{} bytes: {argv:?}",
                out.len()
            );
            assert!(err.len() <= (200 + arg_bytes * 2) * (fields + 10) * args.len());
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
