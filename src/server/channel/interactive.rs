//! A shell request on a pty: the interactive login shell, with prompt,
//! echo, line editing, Ctrl-C, Ctrl-D and `exit`.

use russh::ChannelMsg;

use super::command::{run_cancellable, Command, Typeahead};
use super::io::ChannelIo;
use super::line_editor::{Edit, LineEditor};
use super::Ended;
use crate::shell::jobs::HangUp;
use crate::shell::Origin;

/// Which interactive shell runs: the login shell of a `shell` request, or
/// one an `exec` request started on a pty (`ssh -t host bash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The `shell` request's login shell (the banner, then `logout`).
    Login,
    /// `bash -l`, `sudo -i`, `sudo su -`: a login shell, no banner (sshd
    /// prints the motd for shell requests only).
    ExecLogin,
    /// `bash`, `bash -i`, `sudo bash`: a non-login shell, which says `exit`.
    ExecPlain,
}

impl Kind {
    /// What bash prints when the shell ends by `exit` or Ctrl-D.
    fn farewell(self) -> &'static str {
        match self {
            Kind::Login | Kind::ExecLogin => "logout\n",
            Kind::ExecPlain => "exit\n",
        }
    }
}

/// The interactive shell an exec command line starts, if it is one: a bare
/// `bash`/`sh` (with `-i`, `-l`, `--login`), `sudo -i`, `sudo -s`,
/// `sudo su [-] [root]`, `su -`, `sudo bash`, optionally after `exec`.
pub(super) fn exec_shell(command: &str) -> Option<Kind> {
    let mut words: Vec<&str> = command.split_whitespace().collect();
    if words.first() == Some(&"exec") {
        words.remove(0);
    }
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut login = false;
    match words.first().map(|w| base(w)).as_deref() {
        Some("sudo") => {
            words.remove(0);
            match words.first().copied() {
                Some("-i") | Some("--login") if words.len() == 1 => return Some(Kind::ExecLogin),
                Some("-s") | Some("--shell") if words.len() == 1 => return Some(Kind::ExecPlain),
                _ => {}
            }
        }
        Some(_) => {}
        None => return None,
    }
    match words.first().map(|w| base(w)).as_deref() {
        Some("su") => {
            for w in &words[1..] {
                match *w {
                    "-" | "-l" | "--login" => login = true,
                    "root" => {}
                    _ => return None,
                }
            }
        }
        Some("bash") | Some("sh") => {
            for w in &words[1..] {
                match *w {
                    "-l" | "--login" | "-li" | "-il" => login = true,
                    "-i" => {}
                    _ => return None,
                }
            }
        }
        _ => return None,
    }
    Some(if login {
        Kind::ExecLogin
    } else {
        Kind::ExecPlain
    })
}

/// Whether the shell [`exec_shell`] found runs as root (`sudo`, `su`).
pub(super) fn becomes_root(command: &str) -> bool {
    command
        .split_whitespace()
        .find(|w| *w != "exec")
        .is_some_and(|w| matches!(w.rsplit('/').next(), Some("sudo" | "su")))
}

/// Runs the interactive shell until the client logs out or leaves.
/// `chan` has a pty (the caller chose this mode for it).
pub(super) async fn interactive(chan: &mut ChannelIo, kind: Kind) -> Ended {
    let max_nesting = chan.cx.instance.config.limits.max_nesting;
    let (mut shell, io) = chan.login_shell(kind == Kind::Login).await;
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
                let _ = stdout.write(kind.farewell()).await;
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
                        let _ = stdout.write(kind.farewell()).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shells_an_exec_line_starts() {
        for (line, kind) in [
            ("bash", Some(Kind::ExecPlain)),
            ("/bin/bash -i", Some(Kind::ExecPlain)),
            ("bash -l", Some(Kind::ExecLogin)),
            ("bash --login", Some(Kind::ExecLogin)),
            ("exec bash -l", Some(Kind::ExecLogin)),
            ("sudo -i", Some(Kind::ExecLogin)),
            ("sudo -s", Some(Kind::ExecPlain)),
            ("sudo su -", Some(Kind::ExecLogin)),
            ("sudo su", Some(Kind::ExecPlain)),
            ("su - root", Some(Kind::ExecLogin)),
            ("sudo bash", Some(Kind::ExecPlain)),
            ("sh", Some(Kind::ExecPlain)),
            ("bash -c 'echo hi'", None),
            ("bash script.sh", None),
            ("sudo -i whoami", None),
            ("echo bash", None),
            ("", None),
        ] {
            assert_eq!(exec_shell(line), kind, "{line}");
        }
    }
}
