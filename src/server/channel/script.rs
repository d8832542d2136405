//! A shell request without a pty (`ssh -T host < script`): the client's
//! input is a script, run one complete command at a time as its lines
//! arrive, without prompt or echo.

use russh::ChannelMsg;

use super::command::{run_cancellable, Command, Typeahead};
use super::io::ChannelIo;
use super::Ended;
use crate::shell::jobs::HangUp;
use crate::shell::{Origin, Shell, Stdio};

/// Runs the script the client sends until its end, or until it exits.
pub(super) async fn script_from_stdin(chan: &mut ChannelIo) -> Ended {
    let max_nesting = chan.cx.instance.config.limits.max_nesting;
    let (mut shell, io) = chan.login_shell(true).await;
    let _hang_up = HangUp(shell.jobs());
    let mut input = Typeahead {
        eof: chan.eof,
        ..Typeahead::default()
    };
    let mut script = String::new();
    loop {
        // Run every complete line that is buffered.
        while let Some(pos) = input.bytes.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = input.bytes.drain(..=pos).collect();
            script.push_str(&String::from_utf8_lossy(&line));
            if crate::shell::is_incomplete(&script, max_nesting) {
                continue;
            }
            let text = std::mem::take(&mut script);
            if let Some(end) = run_piece(chan, &mut shell, &text, &io, &mut input).await {
                return end;
            }
        }
        if input.eof {
            let rest: Vec<u8> = input.bytes.drain(..).collect();
            script.push_str(&String::from_utf8_lossy(&rest));
            if !script.trim().is_empty() {
                let text = std::mem::take(&mut script);
                match run_piece(chan, &mut shell, &text, &io, &mut input).await {
                    Some(Ended::Gone) => return Ended::Gone,
                    Some(Ended::Crashed) => return Ended::Crashed,
                    _ => {}
                }
            }
            return Ended::Status(shell.exit_requested().unwrap_or(shell.last_status()));
        }
        match chan.rx.wait().await {
            Some(ChannelMsg::Data { data }) => input.bytes.extend(data.iter()),
            Some(ChannelMsg::Eof) => input.eof = true,
            None | Some(ChannelMsg::Close) => return Ended::Gone,
            Some(_) => {}
        }
    }
}

/// Runs one complete piece of a stdin script; `Some` when the session
/// ends here (the client left, or the script ran `exit`).
async fn run_piece(
    chan: &mut ChannelIo,
    shell: &mut Shell,
    text: &str,
    stdio: &Stdio,
    input: &mut Typeahead,
) -> Option<Ended> {
    let command = Command {
        text,
        origin: Origin::Exec,
        stdio,
    };
    let status = match run_cancellable(chan, shell, command, input).await {
        Ended::Status(status) => status,
        other => return Some(other),
    };
    shell.set_last_status(status);
    shell.exit_requested().map(Ended::Status)
}
