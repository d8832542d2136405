//! One session channel, from open to close: collects pty and env requests,
//! then hands the channel to what its request asks for — an `exec`
//! command ([`exec`]), a shell reading a script ([`script`]) or an
//! interactive one on a pty ([`interactive`]), or the sftp subsystem —
//! and always ends with exit-status, eof, close.

mod command;
mod exec;
mod interactive;
mod io;
mod line_editor;
mod script;
mod stdin;

use std::collections::BTreeMap;
use std::sync::Arc;

use russh::server::Msg;
use russh::{Channel, ChannelMsg, Pty};

use super::context::ChannelContext;
use crate::journal::Ending;
use crate::program::Terminal;
use io::{clamp, ChannelIo, Counters, PtyState};

/// Runs the channel to its end. The counters were raised when the channel
/// was accepted (so a burst of opens sees them at once); the guard lowers
/// them when it ends.
pub(super) async fn run(channel: Channel<Msg>, cx: ChannelContext) {
    let guard = cx.active_guard();
    // The channel stays whole until a request says what it is for: the
    // sftp subsystem takes it as a stream, exec and shell split it.
    let mut channel = channel;
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut pty: Option<PtyState> = None;
    let mut eof = false;
    loop {
        match channel.wait().await {
            None | Some(ChannelMsg::Close) => return,
            Some(ChannelMsg::RequestSubsystem { name, .. }) if name == "sftp" => {
                super::sftp::serve(channel, cx, guard).await;
                return;
            }
            Some(ChannelMsg::RequestPty {
                term,
                col_width,
                row_height,
                terminal_modes,
                ..
            }) => {
                let onlcr = !terminal_modes
                    .iter()
                    .any(|(mode, value)| *mode == Pty::ONLCR && *value == 0);
                pty = Some(PtyState {
                    terminal: Terminal::new(clamp(col_width), clamp(row_height)),
                    term,
                    onlcr,
                });
            }
            Some(ChannelMsg::SetEnv {
                variable_name,
                variable_value,
                ..
            }) => {
                env.insert(variable_name, variable_value);
            }
            Some(ChannelMsg::WindowChange {
                col_width,
                row_height,
                ..
            }) => {
                if let Some(p) = &pty {
                    p.resize(col_width, row_height);
                }
            }
            Some(ChannelMsg::Eof) => eof = true,
            Some(ChannelMsg::Exec { command, .. }) => {
                let _guard = guard;
                let command = String::from_utf8_lossy(&command).into_owned();
                // `ssh -t host bash` (or `sudo -i`): an interactive shell on
                // the pty, each line run as it is typed, as on a real host.
                if let Some(kind) = interactive::exec_shell(&command).filter(|_| pty.is_some()) {
                    let mut cx = cx;
                    if interactive::becomes_root(&command) {
                        cx.user = "root".into();
                    }
                    let mut chan = split(channel, cx, pty, env, eof);
                    let ended = interactive::interactive(&mut chan, kind).await;
                    chan.finish(ended).await;
                    return;
                }
                let chan = split(channel, cx, pty, env, eof);
                exec::serve(chan, command).await;
                return;
            }
            Some(ChannelMsg::RequestShell { .. }) => {
                let _guard = guard;
                let mut chan = split(channel, cx, pty, env, eof);
                let ended = if chan.pty.is_some() {
                    interactive::interactive(&mut chan, interactive::Kind::Login).await
                } else {
                    script::script_from_stdin(&mut chan).await
                };
                chan.finish(ended).await;
                return;
            }
            Some(_) => {}
        }
    }
}

/// The channel split for an exec or a shell, with what its requests set.
fn split(
    channel: Channel<Msg>,
    cx: ChannelContext,
    pty: Option<PtyState>,
    sent_env: BTreeMap<String, String>,
    eof: bool,
) -> ChannelIo {
    let (rx, tx) = channel.split();
    ChannelIo {
        cx,
        rx,
        tx: Arc::new(tx),
        pty,
        sent_env,
        eof,
        counters: Counters::default(),
    }
}

/// How a command run ended.
enum Ended {
    /// It exited with this status (130 after Ctrl-C).
    Status(i32),
    /// The client closed the channel or vanished; nothing more to send.
    Gone,
    /// A fault drops the connection: no exit status is sent.
    Disconnect,
    /// A bug of fakessh's panicked: the channel ends with status 1.
    Crashed,
}

impl Ended {
    /// The exit code and ending the journal shows for it.
    fn journal(&self, signalled: bool) -> (Option<i32>, Ending) {
        match self {
            Ended::Status(s) if signalled => (Some(*s), Ending::Signal),
            Ended::Status(s) => (Some(*s), Ending::Exit),
            Ended::Crashed => (Some(1), Ending::InternalError),
            Ended::Gone | Ended::Disconnect => (None, Ending::Disconnect),
        }
    }
}
