//! A shell request on a pty: the interactive login shell, with prompt,
//! echo, line editing, Ctrl-C, Ctrl-D and `exit`.

use russh::ChannelMsg;

use super::command::{run_cancellable, Command, Typeahead};
use super::io::ChannelIo;
use super::line_editor::{Edit, LineEditor};
use super::Ended;
use crate::shell::jobs::HangUp;
use crate::shell::Origin;

/// Runs the interactive shell until the client logs out or leaves.
/// `chan` has a pty (the caller chose this mode for it).
pub(super) async fn interactive(chan: &mut ChannelIo) -> Ended {
    let max_nesting = chan.cx.instance.config.limits.max_nesting;
    let (mut shell, io) = chan.login_shell().await;
    let stdout = io.stdout.clone();
    let _hang_up = HangUp(shell.jobs());
    let mut editor = LineEditor::default();
    let mut pending = Typeahead::default();
    let mut script = String::new();
    if stdout.write(shell.prompt()).await.is_err() {
        return Ended::Gone;
    }
    loop {
        let Some(byte) = pending.bytes.pop_front() else {
            if pending.eof {
                return Ended::Status(shell.last_status());
            }
            match chan.rx.wait().await {
                Some(ChannelMsg::Data { data }) => pending.bytes.extend(data.iter()),
                Some(ChannelMsg::WindowChange {
                    col_width,
                    row_height,
                    ..
                }) => {
                    if let Some(p) = &chan.pty {
                        p.resize(col_width, row_height);
                    }
                }
                Some(ChannelMsg::Eof) => return Ended::Status(shell.last_status()),
                None | Some(ChannelMsg::Close) => return Ended::Gone,
                Some(_) => {}
            }
            continue;
        };
        let echo = match editor.feed(byte) {
            Edit::Echo(bytes) => bytes,
            Edit::Interrupt => {
                script.clear();
                shell.set_last_status(130);
                let _ = stdout.write(format!("^C\n{}", shell.prompt())).await;
                continue;
            }
            Edit::EndOfInput => {
                let _ = stdout.write("logout\n").await;
                return Ended::Status(shell.last_status());
            }
            Edit::Line(line) => {
                let _ = stdout.write("\n").await;
                script.push_str(&line);
                script.push('\n');
                if crate::shell::is_incomplete(&script, max_nesting) {
                    let _ = stdout.write("> ").await;
                    continue;
                }
                let text = std::mem::take(&mut script);
                if !text.trim().is_empty() {
                    let command = Command {
                        text: &text,
                        origin: Origin::Interactive,
                        stdio: &io,
                    };
                    match run_cancellable(chan, &mut shell, command, &mut pending).await {
                        Ended::Status(status) => shell.set_last_status(status),
                        other => return other,
                    }
                    if let Some(code) = shell.exit_requested() {
                        let _ = stdout.write("logout\n").await;
                        return Ended::Status(code);
                    }
                }
                shell.prompt()
            }
        };
        if !echo.is_empty() && stdout.write(echo).await.is_err() {
            return Ended::Gone;
        }
    }
}
