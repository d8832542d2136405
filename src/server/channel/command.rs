//! One command of a shell session, run while the channel is watched: a
//! signal request (or Ctrl-C on a pty) cancels it, other input waits for
//! the shell, a panic inside it ends in one line of stderr, and it gets
//! its own journal entry.

use std::collections::VecDeque;
use std::sync::Arc;

use russh::{ChannelMsg, Sig};

use super::io::ChannelIo;
use super::Ended;
use crate::journal::EntryKind;
use crate::shell::CommandTrace;
use crate::shell::{Origin, Shell, Stdio};

/// Runs a script, catching a panic inside it (a bug here, never the
/// client's fault): the client reads one line on stderr and the channel
/// ends with status 1 instead of hanging.
pub(super) async fn guarded(
    shell: &mut Shell,
    text: &str,
    origin: Origin,
    io: &Stdio,
) -> Result<i32, ()> {
    catching(shell.run_script(text, origin, io), text, io).await
}

/// [`guarded`]'s catch, for any run.
async fn catching(
    run: impl std::future::Future<Output = i32>,
    text: &str,
    io: &Stdio,
) -> Result<i32, ()> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(status) => Ok(status),
        Err(panic) => {
            let msg = crate::shell::depth::panic_text(&panic);
            tracing::error!(command = %text.chars().take(200).collect::<String>(), "internal error: {msg}");
            let _ = io
                .stderr
                .write(format!("fakessh: internal error: {msg}\n"))
                .await;
            Err(())
        }
    }
}

/// The exit status a signal request ends a command with (128 + signal).
pub(super) fn signal_status(sig: &Sig) -> Option<i32> {
    match sig {
        Sig::INT => Some(130),
        Sig::TERM => Some(143),
        Sig::KILL => Some(137),
        Sig::HUP => Some(129),
        Sig::QUIT => Some(131),
        _ => None,
    }
}

/// Client input that arrived while a command ran: kept for the shell's
/// own reading after it, with the end of input if the client sent it.
#[derive(Default)]
pub(super) struct Typeahead {
    pub bytes: VecDeque<u8>,
    pub eof: bool,
}

/// One command to run on a shell channel.
pub(super) struct Command<'a> {
    pub text: &'a str,
    pub origin: Origin,
    pub stdio: &'a Stdio,
}

/// Runs one script while watching the channel: a signal request (or, on
/// a pty, Ctrl-C) cancels it; other input is kept in `typeahead`.
pub(super) async fn run_cancellable(
    chan: &mut ChannelIo,
    shell: &mut Shell,
    command: Command<'_>,
    typeahead: &mut Typeahead,
) -> Ended {
    let started = chan.started();
    let text = command.text.trim_end();
    let trace = Arc::new(CommandTrace::new(text, &chan.cx.user));
    shell.set_trace(trace.clone());
    let (ended, signalled) = run_watched(chan, shell, &command, typeahead).await;
    chan.record(
        started,
        (EntryKind::Shell, text.to_string()),
        &trace,
        (&ended, signalled),
    );
    ended
}

/// [`run_cancellable`]'s loop: the result and whether a signal ended it.
async fn run_watched(
    chan: &mut ChannelIo,
    shell: &mut Shell,
    command: &Command<'_>,
    typeahead: &mut Typeahead,
) -> (Ended, bool) {
    let on_pty = chan.pty.is_some();
    let io = command.stdio;
    let run = guarded(shell, command.text, command.origin, io);
    tokio::pin!(run);
    loop {
        tokio::select! {
            status = &mut run => return match status {
                Ok(status) => (Ended::Status(status), false),
                Err(()) => (Ended::Crashed, false),
            },
            msg = chan.rx.wait(), if !typeahead.eof => match msg {
                Some(ChannelMsg::Data { data }) => {
                    if on_pty {
                        if let Some(pos) = data.iter().position(|&b| b == 0x03) {
                            typeahead.bytes.extend(&data[pos + 1..]);
                            let _ = io.stdout.write("^C\n").await;
                            return (Ended::Status(130), true);
                        }
                    }
                    typeahead.bytes.extend(data.iter());
                }
                Some(ChannelMsg::Eof) => typeahead.eof = true,
                Some(ChannelMsg::Signal { signal }) => {
                    if let Some(status) = signal_status(&signal) {
                        return (Ended::Status(status), true);
                    }
                }
                None | Some(ChannelMsg::Close) => return (Ended::Gone, false),
                Some(_) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Ending;
    use crate::program::{Input, Output};

    #[tokio::test]
    async fn a_panic_while_running_ends_with_one_line_and_status_one() {
        let (stderr, cap) = Output::capture();
        let io = Stdio {
            stdin: Input::empty(),
            stdout: Output::null(),
            stderr,
        };
        let run = async {
            if cap.bytes().is_empty() {
                panic!("index out of bounds");
            }
            0
        };
        assert_eq!(catching(run, "cmd", &io).await, Err(()));
        assert_eq!(cap.text(), "fakessh: internal error: index out of bounds\n");
        assert_eq!(
            Ended::Crashed.journal(false),
            (Some(1), Ending::InternalError)
        );
    }
}
