//! Redirections: `>`, `>>`, `<`, `2>&1`, `&>`, here-strings and
//! here-documents, onto files inside the sandbox.

use brush_parser::ast::{IoFileRedirectKind, IoFileRedirectTarget, IoRedirect};
use tokio::fs::File;

use super::{Shell, Stdio};
use crate::instance::sandbox::OpenOptions;
use crate::program::{strerror, Input, Output};

/// Which of the three streams a redirection names.
fn stream_of(fd: Option<u32>, default: u32) -> u32 {
    fd.unwrap_or(default)
}

impl Shell {
    /// Applies `redirects` in order to a copy of `io`. On failure, the
    /// message bash would print (without `bash: `).
    pub(super) async fn apply_redirects(
        &mut self,
        redirects: &[&IoRedirect],
        io: &Stdio,
    ) -> Result<Stdio, String> {
        let mut io = io.clone();
        for r in redirects {
            match r {
                IoRedirect::File(fd, kind, target) => {
                    let default = match kind {
                        IoFileRedirectKind::Read
                        | IoFileRedirectKind::DuplicateInput
                        | IoFileRedirectKind::ReadAndWrite => 0,
                        _ => 1,
                    };
                    let fd = stream_of(fd.map(|f| f as u32), default);
                    let target_text = match target {
                        IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w) => {
                            let mut words =
                                self.expand_fields(&w.value, &io).await.map_err(|e| e.0)?;
                            if words.len() != 1 {
                                return Err(format!("{}: ambiguous redirect", w.value));
                            }
                            words.remove(0)
                        }
                        IoFileRedirectTarget::Fd(n) => n.to_string(),
                        IoFileRedirectTarget::ProcessSubstitution(..) => {
                            return Err("process substitution is not supported".into())
                        }
                    };
                    let dup = matches!(target, IoFileRedirectTarget::Fd(_))
                        || matches!(
                            kind,
                            IoFileRedirectKind::DuplicateOutput
                                | IoFileRedirectKind::DuplicateInput
                        );
                    if dup {
                        match target_text.as_str() {
                            "1" => {
                                let o = io.stdout.clone();
                                set_out(&mut io, fd, o)
                            }
                            "2" => {
                                let o = io.stderr.clone();
                                set_out(&mut io, fd, o)
                            }
                            "0" if fd == 0 => {}
                            "-" => close(&mut io, fd),
                            other if matches!(kind, IoFileRedirectKind::DuplicateOutput) => {
                                // `>&file` is `&>file` when the word is not a number.
                                if other.parse::<u32>().is_ok() {
                                    return Err(format!("{other}: Bad file descriptor"));
                                }
                                let out = self.open_output(other, false).await?;
                                io.stdout = out.clone();
                                io.stderr = out;
                            }
                            other => return Err(format!("{other}: Bad file descriptor")),
                        }
                        continue;
                    }
                    match kind {
                        IoFileRedirectKind::Read | IoFileRedirectKind::ReadAndWrite => {
                            let input = self.open_input(&target_text).await?;
                            if fd == 0 {
                                io.stdin = input;
                            }
                        }
                        IoFileRedirectKind::Write
                        | IoFileRedirectKind::Clobber
                        | IoFileRedirectKind::Append => {
                            let append = matches!(kind, IoFileRedirectKind::Append);
                            let out = self.open_output(&target_text, append).await?;
                            set_out(&mut io, fd, out);
                        }
                        _ => {}
                    }
                }
                IoRedirect::OutputAndError(word, append) => {
                    let target = self
                        .expand_string(&word.value, &io)
                        .await
                        .map_err(|e| e.0)?;
                    let out = self.open_output(&target, *append).await?;
                    io.stdout = out.clone();
                    io.stderr = out;
                }
                IoRedirect::HereString(fd, word) => {
                    let mut text = self
                        .expand_string(&word.value, &io)
                        .await
                        .map_err(|e| e.0)?;
                    text.push('\n');
                    if fd.is_none_or(|f| f == 0) {
                        io.stdin = Input::from_bytes(text.into_bytes());
                    }
                }
                IoRedirect::HereDocument(fd, doc) => {
                    let text = if doc.requires_expansion {
                        self.expand_heredoc(&doc.doc.value, &io).await?
                    } else {
                        doc.doc.value.clone()
                    };
                    if fd.is_none_or(|f| f == 0) {
                        io.stdin = Input::from_bytes(text.into_bytes());
                    }
                }
            }
        }
        Ok(io)
    }

    async fn expand_heredoc(&mut self, body: &str, io: &Stdio) -> Result<String, String> {
        // A here-document expands like a double-quoted string, line by line.
        let quoted = format!("\"{}\"", body.replace('"', "\\\""));
        self.expand_string(&quoted, io).await.map_err(|e| e.0)
    }

    async fn open_output(&self, target: &str, append: bool) -> Result<Output, String> {
        match target {
            "/dev/null" => return Ok(Output::null()),
            "" => return Err(": No such file or directory".into()),
            _ => {}
        }
        // A directory refuses to open for writing (EISDIR). The sandbox opens
        // without blocking (a fifo without a reader is refused, never waited
        // for), so the open runs here rather than on a blocking thread.
        let opts = if append {
            OpenOptions::new().append(true).create(true)
        } else {
            OpenOptions::new().write(true).create(true).truncate(true)
        };
        let file = self
            .instance
            .sandbox
            .fs(&self.cwd)
            .open(target, opts)
            .map_err(|e| format!("{target}: {}", strerror(&e)))?;
        Ok(Output::file(file))
    }

    async fn open_input(&self, target: &str) -> Result<Input, String> {
        if target == "/dev/null" {
            return Ok(Input::empty());
        }
        // A directory is refused (EISDIR), as bash's `<` does. The sandbox
        // opens without blocking, so the open runs here.
        let file = self
            .instance
            .sandbox
            .fs(&self.cwd)
            .open_read(target)
            .map_err(|e| format!("{target}: {}", strerror(&e)))?;
        Ok(Input::from_reader(File::from_std(file)))
    }
}

fn set_out(io: &mut Stdio, fd: u32, out: Output) {
    match fd {
        1 => io.stdout = out,
        2 => io.stderr = out,
        _ => {}
    }
}

fn close(io: &mut Stdio, fd: u32) {
    match fd {
        0 => io.stdin = Input::empty(),
        1 => io.stdout = Output::null(),
        2 => io.stderr = Output::null(),
        _ => {}
    }
}
