//! `printf FORMAT [ARG]...` as bash's builtin: conversions, widths,
//! precision, escapes, and reuse of the format for extra arguments.

use async_trait::async_trait;

use super::text::unescape;
use crate::program::{Ctx, Program};

/// `printf`: `%s %d %i %u %x %X %o %c %b %q %f %e %g %%` with flags, widths
/// (also `*`) and precision; the format repeats while arguments remain.
pub struct Printf;

#[async_trait]
impl Program for Printf {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let mut args: Vec<String> = ctx.args().to_vec();
        if args.first().map(String::as_str) == Some("--") {
            args.remove(0);
        }
        let Some(format) = args.first().cloned() else {
            ctx.err("bash: printf: usage: printf [-v var] format [arguments]\n")
                .await;
            return 2;
        };
        let rest = &args[1..];
        let mut st = State {
            args: rest,
            next: 0,
            errors: Vec::new(),
        };
        let mut out = Vec::new();
        loop {
            let before = st.next;
            let (stop, used_conv) = render(format.as_bytes(), &mut st, &mut out);
            if stop || !used_conv || st.next >= rest.len() || st.next == before {
                break;
            }
        }
        ctx.out(out).await;
        for e in &st.errors {
            ctx.err(format!("bash: printf: {e}\n")).await;
        }
        i32::from(!st.errors.is_empty())
    }
}

struct State<'a> {
    args: &'a [String],
    next: usize,
    errors: Vec<String>,
}

impl State<'_> {
    fn take(&mut self) -> Option<&str> {
        let a = self.args.get(self.next).map(String::as_str);
        if a.is_some() {
            self.next += 1;
        }
        a
    }

    fn int(&mut self) -> i128 {
        let Some(a) = self.take().map(str::to_string) else {
            return 0;
        };
        match parse_int(&a) {
            Some(v) => v,
            None => {
                self.errors.push(format!("{a}: invalid number"));
                // bash prints the leading numeric part, if any.
                let digits: String = a
                    .trim_start()
                    .chars()
                    .enumerate()
                    .take_while(|(i, c)| {
                        c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+'))
                    })
                    .map(|(_, c)| c)
                    .collect();
                digits.parse().unwrap_or(0)
            }
        }
    }

    fn float(&mut self) -> f64 {
        let Some(a) = self.take().map(str::to_string) else {
            return 0.0;
        };
        if let Some(c) = char_code(&a) {
            return c as f64;
        }
        match a.trim().parse::<f64>() {
            Ok(v) => v,
            Err(_) => {
                self.errors.push(format!("{a}: invalid number"));
                0.0
            }
        }
    }
}

/// `'c` or `"c` gives the character's code, as POSIX printf does.
fn char_code(a: &str) -> Option<i128> {
    let mut it = a.chars();
    match it.next() {
        Some('\'' | '"') => Some(it.next().map(|c| c as i128).unwrap_or(0)),
        _ => None,
    }
}

fn parse_int(a: &str) -> Option<i128> {
    if let Some(c) = char_code(a) {
        return Some(c);
    }
    let t = a.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i128::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Renders the format once; returns (stop requested by `\c`, whether the
/// format holds any conversion that consumes arguments).
fn render(f: &[u8], st: &mut State, out: &mut Vec<u8>) -> (bool, bool) {
    let mut used = false;
    let mut i = 0;
    while i < f.len() {
        let b = f[i];
        if b == b'\\' {
            // Format escapes: like echo -e, but octal is \NNN.
            let start = i;
            i += 1;
            if i < f.len() && f[i] == b'c' {
                return (true, used);
            }
            if i < f.len() {
                let mut end = i + 1;
                if f[i].is_ascii_digit() && f[i] != b'8' && f[i] != b'9' {
                    while end < f.len() && end < i + 3 && (b'0'..=b'7').contains(&f[end]) {
                        end += 1;
                    }
                } else if f[i] == b'x' {
                    while end < f.len() && end < i + 3 && f[end].is_ascii_hexdigit() {
                        end += 1;
                    }
                } else if f[i] == b'u' || f[i] == b'U' {
                    let max = if f[i] == b'u' { 5 } else { 9 };
                    while end < f.len() && end < i + max && f[end].is_ascii_hexdigit() {
                        end += 1;
                    }
                }
                unescape(&f[start..end], out, false);
                i = end;
            } else {
                out.push(b'\\');
            }
            continue;
        }
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        if i >= f.len() {
            out.push(b'%');
            break;
        }
        if f[i] == b'%' {
            out.push(b'%');
            i += 1;
            continue;
        }
        // %[flags][width][.precision]conv
        let mut flags = String::new();
        while i < f.len() && b"-+ #0".contains(&f[i]) {
            flags.push(f[i] as char);
            i += 1;
        }
        let mut width: Option<i128> = None;
        if i < f.len() && f[i] == b'*' {
            used = true;
            width = Some(st.int());
            i += 1;
        } else {
            let s = i;
            while i < f.len() && f[i].is_ascii_digit() {
                i += 1;
            }
            if i > s {
                width = std::str::from_utf8(&f[s..i])
                    .ok()
                    .and_then(|w| w.parse().ok());
            }
        }
        let mut prec: Option<usize> = None;
        if i < f.len() && f[i] == b'.' {
            i += 1;
            if i < f.len() && f[i] == b'*' {
                used = true;
                prec = Some(st.int().max(0) as usize);
                i += 1;
            } else {
                let s = i;
                while i < f.len() && f[i].is_ascii_digit() {
                    i += 1;
                }
                prec = Some(
                    std::str::from_utf8(&f[s..i])
                        .ok()
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(0),
                );
            }
        }
        // Length modifiers are accepted and ignored.
        while i < f.len() && b"hlLqjzt".contains(&f[i]) {
            i += 1;
        }
        if i >= f.len() {
            out.push(b'%');
            out.extend_from_slice(flags.as_bytes());
            break;
        }
        let conv = f[i];
        i += 1;
        if let Some(w) = width {
            if w < 0 {
                flags.push('-');
                width = Some(-w);
            }
        }
        let width = width.unwrap_or(0) as usize;
        used = true;
        let body: Vec<u8> = match conv {
            b's' => {
                let s = st.take().unwrap_or("").as_bytes().to_vec();
                match prec {
                    Some(p) if p < s.len() => s[..p].to_vec(),
                    _ => s,
                }
            }
            b'b' => {
                let s = st.take().unwrap_or("").to_string();
                let mut v = Vec::new();
                let stop = unescape(s.as_bytes(), &mut v, true);
                if let Some(p) = prec {
                    v.truncate(p);
                }
                if stop {
                    pad(out, &v, width, &flags, false);
                    return (true, used);
                }
                v
            }
            b'q' => shell_quote(st.take().unwrap_or("")).into_bytes(),
            b'c' => st
                .take()
                .and_then(|s| s.as_bytes().first().copied())
                .map(|c| vec![c])
                .unwrap_or_default(),
            b'd' | b'i' => {
                let v = st.int();
                let mut digits = v.unsigned_abs().to_string();
                if let Some(p) = prec {
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let sign = if v < 0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else if flags.contains(' ') {
                    " "
                } else {
                    ""
                };
                numeric(sign, &digits, width, &flags, prec.is_none())
            }
            b'u' | b'x' | b'X' | b'o' => {
                let v = st.int();
                let u = if v < 0 {
                    (v as i64) as u64 as u128
                } else {
                    v as u128
                };
                let mut digits = match conv {
                    b'u' => u.to_string(),
                    b'x' => format!("{u:x}"),
                    b'X' => format!("{u:X}"),
                    _ => format!("{u:o}"),
                };
                if let Some(p) = prec {
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let prefix = match (flags.contains('#'), conv) {
                    (true, b'x') if u != 0 => "0x",
                    (true, b'X') if u != 0 => "0X",
                    (true, b'o') if !digits.starts_with('0') => "0",
                    _ => "",
                };
                numeric(prefix, &digits, width, &flags, prec.is_none())
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' => {
                let v = st.float();
                let p = prec.unwrap_or(6);
                let text = float_text(v.abs(), conv, p, flags.contains('#'));
                let sign = if v.is_sign_negative() && v != 0.0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else if flags.contains(' ') {
                    " "
                } else {
                    ""
                };
                numeric(sign, &text, width, &flags, v.is_finite())
            }
            other => {
                st.errors
                    .push(format!("%{}: invalid format character", other as char));
                return (true, used);
            }
        };
        pad(out, &body, width, &flags, false);
    }
    (false, used)
}

/// Pads a converted value to `width` (left-justified with `-`).
fn pad(out: &mut Vec<u8>, body: &[u8], width: usize, flags: &str, _zero: bool) {
    let fill = width.saturating_sub(String::from_utf8_lossy(body).chars().count());
    if flags.contains('-') {
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(body);
    }
}

/// A number with its sign or prefix, zero-padded when `0` is given.
fn numeric(sign: &str, digits: &str, width: usize, flags: &str, zero_ok: bool) -> Vec<u8> {
    let len = sign.len() + digits.len();
    if flags.contains('0') && !flags.contains('-') && zero_ok && width > len {
        format!("{sign}{}{digits}", "0".repeat(width - len)).into_bytes()
    } else {
        format!("{sign}{digits}").into_bytes()
    }
}

fn float_text(v: f64, conv: u8, p: usize, alt: bool) -> String {
    if v.is_infinite() {
        return if conv.is_ascii_uppercase() {
            "INF"
        } else {
            "inf"
        }
        .into();
    }
    if v.is_nan() {
        return if conv.is_ascii_uppercase() {
            "NAN"
        } else {
            "nan"
        }
        .into();
    }
    match conv {
        b'f' | b'F' => format!("{v:.p$}"),
        b'e' | b'E' => {
            let s = exp_text(v, p);
            if conv == b'E' {
                s.to_uppercase()
            } else {
                s
            }
        }
        _ => {
            let p = p.max(1);
            let exp = if v == 0.0 {
                0
            } else {
                v.log10().floor() as i32
            };
            let mut s = if exp < -4 || exp >= p as i32 {
                exp_text(v, p - 1)
            } else {
                format!("{v:.*}", (p as i32 - 1 - exp).max(0) as usize)
            };
            if !alt {
                if let Some(epos) = s.find('e') {
                    let (m, e) = s.split_at(epos);
                    let m = if m.contains('.') {
                        m.trim_end_matches('0').trim_end_matches('.')
                    } else {
                        m
                    };
                    s = format!("{m}{e}");
                } else if s.contains('.') {
                    s = s.trim_end_matches('0').trim_end_matches('.').to_string();
                }
            }
            if conv == b'G' {
                s.to_uppercase()
            } else {
                s
            }
        }
    }
}

fn exp_text(v: f64, p: usize) -> String {
    let s = format!("{v:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let sign = if e < 0 { '-' } else { '+' };
    format!("{m}e{sign}{:02}", e.abs())
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
    use super::super::testutil::{instance, run};

    async fn pf(args: &[&str]) -> (i32, String, String) {
        let i = instance();
        let mut argv = vec!["printf"];
        argv.extend_from_slice(args);
        run(&i, "/", &argv, b"").await
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
}
