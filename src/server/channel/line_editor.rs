//! The line editing an interactive shell does on a pty: a minimal
//! readline that turns typed bytes into echo, finished lines, Ctrl-C and
//! Ctrl-D.

/// What one typed byte did to the line being edited.
pub(super) enum Edit {
    /// Echo these bytes (possibly none).
    Echo(String),
    /// Enter: the finished line.
    Line(String),
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-D on an empty line.
    EndOfInput,
}

/// A minimal readline: printable input, backspace, Ctrl-U, and escape
/// sequences (arrow keys) swallowed.
#[derive(Default)]
pub(super) struct LineEditor {
    line: Vec<u8>,
    escape: Option<Vec<u8>>,
}

impl LineEditor {
    /// Takes one byte the client typed.
    pub(super) fn feed(&mut self, b: u8) -> Edit {
        if let Some(seq) = &mut self.escape {
            seq.push(b);
            // ESC [ params final, or ESC X.
            let done = match seq.as_slice() {
                [b'['] | [b'O'] => false,
                [b'[', .., last] | [b'O', .., last] => (0x40..=0x7e).contains(last),
                _ => true,
            };
            if done {
                self.escape = None;
            }
            return Edit::Echo(String::new());
        }
        match b {
            0x03 => {
                self.line.clear();
                Edit::Interrupt
            }
            0x04 if self.line.is_empty() => Edit::EndOfInput,
            b'\r' | b'\n' => {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                Edit::Line(line)
            }
            0x7f | 0x08 => {
                if self.line.is_empty() {
                    return Edit::Echo(String::new());
                }
                // Remove one UTF-8 char.
                while let Some(c) = self.line.pop() {
                    if c & 0xC0 != 0x80 {
                        break;
                    }
                }
                Edit::Echo("\x08 \x08".into())
            }
            0x15 => {
                let n = String::from_utf8_lossy(&self.line).chars().count();
                self.line.clear();
                Edit::Echo("\x08 \x08".repeat(n))
            }
            0x1b => {
                self.escape = Some(Vec::new());
                Edit::Echo(String::new())
            }
            b'\t' => Edit::Echo(String::new()),
            b if b < 0x20 => Edit::Echo(String::new()),
            b => {
                self.line.push(b);
                if b < 0x80 {
                    Edit::Echo((b as char).to_string())
                } else if std::str::from_utf8(&self.line).is_ok() {
                    // The last char is complete: echo it whole.
                    let text = String::from_utf8_lossy(&self.line).into_owned();
                    Edit::Echo(text.chars().last().map(String::from).unwrap_or_default())
                } else {
                    Edit::Echo(String::new())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(ed: &mut LineEditor, bytes: &[u8]) -> Vec<String> {
        bytes
            .iter()
            .map(|&b| match ed.feed(b) {
                Edit::Echo(s) => format!("echo:{s}"),
                Edit::Line(l) => format!("line:{l}"),
                Edit::Interrupt => "int".into(),
                Edit::EndOfInput => "eof".into(),
            })
            .collect()
    }

    #[test]
    fn backspace_and_arrows_edit_the_line() {
        let mut ed = LineEditor::default();
        let out = feed(&mut ed, b"lsx\x7f\x1b[A -a\r");
        assert_eq!(out.last().unwrap(), "line:ls -a");
    }

    #[test]
    fn ctrl_d_ends_only_an_empty_line() {
        let mut ed = LineEditor::default();
        assert_eq!(feed(&mut ed, b"a\x04\x7f\x04").last().unwrap(), "eof");
    }
}
