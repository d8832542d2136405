//! `echo` as bash's builtin, and the backslash escapes it shares with
//! `find -printf`.

use async_trait::async_trait;

use crate::program::{Ctx, Program};

/// `echo [-neE] ARG...` as bash's builtin.
pub struct Echo;

#[async_trait]
impl Program for Echo {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut newline = true;
        let mut escapes = false;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
                for c in a[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                i += 1;
            } else {
                break;
            }
        }
        let mut out = Vec::new();
        for (k, a) in args[i..].iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            if escapes {
                if unescape(a.as_bytes(), &mut out, true) {
                    ctx.out(out).await;
                    return 0;
                }
            } else {
                out.extend_from_slice(a.as_bytes());
            }
        }
        if newline {
            out.push(b'\n');
        }
        ctx.out(out).await;
        0
    }
}

/// Expands backslash escapes (`echo -e`, `printf %b`) into `out`; returns
/// true when `\c` asked to stop all output. `echo_octal` selects `\0nnn`
/// (echo) over `\nnn` (printf %b accepts both).
pub(crate) fn unescape(s: &[u8], out: &mut Vec<u8>, echo_octal: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b != b'\\' || i >= s.len() {
            out.push(b);
            continue;
        }
        let c = s[i];
        i += 1;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'c' => return true,
            b'e' | b'E' => out.push(27),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'0'..=b'7' if c == b'0' || !echo_octal => {
                let max = if c == b'0' { 3 } else { 2 };
                let mut v: u32 = if c == b'0' { 0 } else { u32::from(c - b'0') };
                let mut n = 0;
                while n < max && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            b'u' | b'U' => {
                let max = if c == b'u' { 4 } else { 8 };
                let mut v = 0u32;
                let mut n = 0;
                while n < max && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                match char::from_u32(v) {
                    Some(ch) if n > 0 => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => {
                        out.push(b'\\');
                        out.push(c);
                    }
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn echo_flags_and_escapes() {
        let i = instance();
        assert_eq!(run(&i, "/", &["echo", "a", "b"], b"").await.1, "a b\n");
        assert_eq!(run(&i, "/", &["echo", "-n", "x"], b"").await.1, "x");
        assert_eq!(
            run(&i, "/", &["echo", "-e", "a\\tb\\n"], b"").await.1,
            "a\tb\n\n"
        );
        assert_eq!(run(&i, "/", &["echo", "a\\tb"], b"").await.1, "a\\tb\n");
        assert_eq!(run(&i, "/", &["echo", "-e", "x\\cy"], b"").await.1, "x");
        assert_eq!(run(&i, "/", &["echo", "-nx"], b"").await.1, "-nx\n");
        assert_eq!(
            run(&i, "/", &["echo", "SSH connection successful"], b"").await,
            (0, "SSH connection successful\n".into(), String::new())
        );
    }
}
