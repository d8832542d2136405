//! Splits a byte stream into lines the way the original handler reads a
//! remote command: `\r`, `\n` and `\r\n` all end a line (so each progress
//! redraw is a line), ANSI escape sequences are dropped, invalid UTF-8 is
//! replaced, and no line grows past a bound (the rest is dropped, not kept).

/// The default longest line kept, in bytes; longer lines are truncated.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024;

/// An incremental line splitter with bounded memory.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max_line: usize,
    /// The last byte seen was `\r`: a following `\n` ends nothing.
    after_cr: bool,
    /// Escape-sequence state, carried across chunks.
    esc: Esc,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Esc {
    None,
    /// Just after ESC.
    Start,
    /// Inside `ESC [ ...` until a final byte 0x40..=0x7e.
    Csi,
    /// Inside `ESC ] ...` until BEL or `ESC \`.
    Osc,
    /// Inside an OSC, just after ESC.
    OscAfterEscape,
}

impl Default for LineSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl LineSplitter {
    /// A splitter keeping lines up to [`DEFAULT_MAX_LINE`] bytes.
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    /// A splitter keeping lines up to `max_line` bytes (at least 1).
    pub fn with_max_line(max_line: usize) -> Self {
        LineSplitter {
            buf: Vec::with_capacity(256),
            max_line: max_line.max(1),
            after_cr: false,
            esc: Esc::None,
        }
    }

    /// Feeds bytes; calls `on_line` with each line they end (without its
    /// terminator, ANSI codes removed, lossily decoded).
    pub fn push(&mut self, mut bytes: &[u8], mut on_line: impl FnMut(&str)) {
        while !bytes.is_empty() {
            if self.esc != Esc::None || self.after_cr {
                // Inside an escape sequence or just after `\r`: one byte
                // at a time, the state machine decides.
                self.push_byte(bytes[0], &mut on_line);
                bytes = &bytes[1..];
                continue;
            }
            // Plain text runs to the next `\r`, `\n` or ESC: found with
            // memchr and copied (or passed on) whole, not byte by byte.
            let Some(i) = memchr::memchr3(b'\r', b'\n', 0x1b, bytes) else {
                self.keep(bytes);
                return;
            };
            let (run, rest) = bytes.split_at(i);
            let b = rest[0];
            if b != 0x1b && self.buf.is_empty() {
                // A whole line inside this chunk: no copy into the buffer.
                let line = &run[..run.len().min(self.max_line)];
                Self::emit_slice(line, line.len() >= self.max_line, &mut on_line);
                self.after_cr = b == b'\r';
            } else {
                self.keep(run);
                self.push_byte(b, &mut on_line);
            }
            bytes = &rest[1..];
        }
    }

    /// Appends plain bytes to the current line, up to the bound.
    fn keep(&mut self, run: &[u8]) {
        let room = self.max_line.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&run[..run.len().min(room)]);
    }

    /// One byte through the escape and line-end state machine.
    fn push_byte(&mut self, b: u8, on_line: &mut impl FnMut(&str)) {
        match self.esc {
            Esc::None => {}
            Esc::Start => {
                self.esc = match b {
                    b'[' => Esc::Csi,
                    b']' => Esc::Osc,
                    _ => Esc::None, // two-byte sequence: drop both
                };
                if b != b'\r' && b != b'\n' {
                    return;
                }
            }
            Esc::Csi => {
                if (0x40..=0x7e).contains(&b) {
                    self.esc = Esc::None;
                }
                if b != b'\r' && b != b'\n' {
                    return;
                }
                self.esc = Esc::None; // a broken sequence never eats a line end
            }
            Esc::Osc | Esc::OscAfterEscape => {
                self.esc = match (self.esc, b) {
                    (_, 0x07) | (Esc::OscAfterEscape, b'\\') => Esc::None,
                    (_, 0x1b) => Esc::OscAfterEscape,
                    (_, b'\r' | b'\n') => Esc::None,
                    _ => Esc::Osc,
                };
                if self.esc != Esc::None || (b != b'\r' && b != b'\n') {
                    return;
                }
            }
        }
        match b {
            b'\n' if self.after_cr => self.after_cr = false,
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                self.emit(on_line);
            }
            0x1b => {
                self.after_cr = false;
                self.esc = Esc::Start;
            }
            _ => {
                self.after_cr = false;
                if self.buf.len() < self.max_line {
                    self.buf.push(b);
                }
            }
        }
    }

    /// Ends the stream: calls `on_line` with the last line if it had no
    /// terminator.
    pub fn finish(&mut self, mut on_line: impl FnMut(&str)) {
        if !self.buf.is_empty() {
            self.emit(&mut on_line);
        }
        self.after_cr = false;
        self.esc = Esc::None;
    }

    fn emit(&mut self, on_line: &mut impl FnMut(&str)) {
        Self::emit_slice(&self.buf, self.buf.len() >= self.max_line, on_line);
        self.buf.clear();
        if self.buf.capacity() > 64 * 1024 {
            self.buf.shrink_to(256);
        }
    }

    /// Decodes one line; `full`: it filled the bound, so it may have been
    /// cut inside a character.
    fn emit_slice(line: &[u8], full: bool, on_line: &mut impl FnMut(&str)) {
        match std::str::from_utf8(line) {
            Ok(s) => on_line(s),
            Err(e) if e.error_len().is_none() && full => {
                // truncation cut a character in half: drop the partial tail
                let s = std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default();
                on_line(s)
            }
            Err(_) => on_line(&String::from_utf8_lossy(line)),
        }
    }
}

/// `text` without ANSI escape sequences (CSI like `\e[31m`, OSC, two-byte).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' {
                        break;
                    }
                    if c == '\x1b' {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| out.push(l.to_string()));
        }
        s.finish(|l| out.push(l.to_string()));
        out
    }

    #[test]
    fn cr_lf_and_crlf_each_end_one_line() {
        assert_eq!(split(&[b"a\rb\nc\r\nd"]), ["a", "b", "c", "d"]);
        assert_eq!(split(&[b"a\r", b"\nb"]), ["a", "b"]);
        assert_eq!(split(&[b"a\n\nb\r\r"]), ["a", "", "b", ""]);
    }

    #[test]
    fn ansi_colours_are_stripped_even_across_chunks() {
        assert_eq!(
            split(&[
                b"\x1b[1m\x1b[3",
                b"1mred\x1b[0m\x1b[K\n\x1b]0;title\x07ok\n"
            ]),
            ["red", "ok"]
        );
        assert_eq!(strip_ansi("\x1b[36mhi\x1b[0m\nx"), "hi\nx");
        assert_eq!(split(&[b"a\x1b\nb\x1b[3\nc"]), ["a", "b", "c"]);
    }

    #[test]
    fn a_one_megabyte_line_is_truncated_not_kept() {
        let big = vec![b'x'; 1 << 20];
        let mut s = LineSplitter::with_max_line(1000);
        let mut lens = Vec::new();
        s.push(&big, |l| lens.push(l.len()));
        assert!(s.buf.len() <= 1000);
        s.push(b"\nok\n", |l| lens.push(l.len()));
        assert_eq!(lens, [1000, 2]);
    }

    /// Lines as the byte-at-a-time state machine alone splits them (the
    /// splitter before its memchr fast path).
    fn split_bytewise(input: &[u8], max_line: usize) -> Vec<String> {
        let mut s = LineSplitter::with_max_line(max_line);
        let mut out = Vec::new();
        let mut on_line = |l: &str| out.push(l.to_string());
        for &b in input {
            s.push_byte(b, &mut on_line);
        }
        s.finish(on_line);
        out
    }

    #[test]
    fn the_fast_path_splits_as_the_byte_machine_does() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/captures");
        let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        inputs.extend([
            b"a\x1b[31mb\r\n\x1b]0;t\x07c\rd\n\n\x1b\x1b[\r\r\n\nz".to_vec(),
            b"\x1b]0;a\x1b\\b\x1b]x\ny\x1bQz\r".to_vec(),
            ["abc\u{2588}def\u{2588}\rgh".as_bytes(), b"\xff\n"].concat(),
            [b"x".repeat(40), b"\r\n".to_vec(), b"y".repeat(3)].concat(),
        ]);
        inputs.push([b"ab".as_slice(), &[0xe2, 0x96], b"\n\xe2\x96\x88\n"].concat());
        for input in &inputs {
            for max_line in [1, 4, 5, 16, DEFAULT_MAX_LINE] {
                let want = split_bytewise(input, max_line);
                for chunk in [1, 2, 3, 64, 4096, usize::MAX] {
                    let mut s = LineSplitter::with_max_line(max_line);
                    let mut got = Vec::new();
                    for c in input.chunks(chunk.min(input.len().max(1))) {
                        s.push(c, |l| got.push(l.to_string()));
                    }
                    s.finish(|l| got.push(l.to_string()));
                    assert_eq!(got, want, "max {max_line}, chunks of {chunk}");
                }
            }
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(split(&[b"a\xff\xfeb\n"]), ["a\u{fffd}\u{fffd}b"]);
        // a multi-byte character cut by the bound is dropped whole
        let mut s = LineSplitter::with_max_line(4);
        let mut out = Vec::new();
        s.push("abc█\n".as_bytes(), |l| out.push(l.to_string()));
        assert_eq!(out, ["abc"]);
    }
}
