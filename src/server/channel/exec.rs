//! An `exec` request: one command line, its session-depth faults, client
//! input forwarded to its stdin, signals and window changes while it runs,
//! and one journal entry for the whole of it.

use std::sync::Arc;

use russh::{ChannelMsg, ChannelReadHalf};

use super::command::{guarded, signal_status};
use super::io::ChannelIo;
use super::stdin::StdinPump;
use super::Ended;
use crate::faults::{Depth, Fault, Invocation};
use crate::instance::BannerMode;
use crate::journal::EntryKind;
use crate::program::Input;
use crate::server::context::ChannelContext;
use crate::shell::jobs::HangUp;
use crate::shell::CommandTrace;
use crate::shell::{Origin, Shell, Stdio};

/// Runs `command`, journals it, and ends the channel.
pub(super) async fn serve(mut chan: ChannelIo, command: String) {
    let started = chan.started();
    let trace = Arc::new(session_faults(&chan.cx, &command));
    let (ended, signalled) = exec(&mut chan, &command, &trace).await;
    chan.record(
        started,
        (EntryKind::Exec, command),
        &trace,
        (&ended, signalled),
    );
    chan.finish(ended).await;
}

/// Decides the session-depth faults for one command.
fn session_faults(cx: &ChannelContext, command: &str) -> CommandTrace {
    let mut trace = CommandTrace::new(command, &cx.user);
    let fired = cx.instance.faults.decide(
        Depth::Session,
        &Invocation {
            tool: None,
            command,
            args: &[],
            instance: &cx.instance.config.id,
            user: &cx.user,
        },
    );
    trace.record(&fired);
    trace.inherited = fired;
    trace
}

/// Runs one `exec` request, forwarding client input to the command's stdin.
/// Returns how it ended and whether a signal (or Ctrl-C) ended it.
async fn exec(chan: &mut ChannelIo, command: &str, trace: &Arc<CommandTrace>) -> (Ended, bool) {
    let (stdout, stderr) = chan.outputs();
    for f in &trace.inherited {
        match f.fault {
            Fault::Hang => return (wait_for_client(&mut chan.rx).await, false),
            Fault::DelayOutput { delay_ms } => {
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await
            }
            Fault::DisconnectAt { percent: 0 } => return (Ended::Disconnect, false),
            _ => {}
        }
    }
    let instance = chan.cx.instance.clone();
    if instance.config.banner == BannerMode::Always {
        let _ = stderr.write(instance.banner()).await;
    }
    let (stdin_w, stdin_r) = tokio::io::duplex(64 * 1024);
    let io = Stdio {
        stdin: Input::from_reader(stdin_r).with_terminal(chan.terminal()),
        stdout,
        stderr,
    };
    let mut shell = Shell::new(instance, chan.login_env());
    shell.set_trace(trace.clone());
    // The session's jobs end with it, however it ends.
    let _hang_up = HangUp(shell.jobs());
    let mut stdin = StdinPump::new(stdin_w, chan.eof);
    let run = guarded(&mut shell, command, Origin::Exec, &io);
    tokio::pin!(run);
    let session = trace.session.clone();
    let disconnect_after = trace
        .inherited
        .iter()
        .any(|f| matches!(f.fault, Fault::DisconnectAt { .. }));
    loop {
        tokio::select! {
            status = &mut run => {
                let Ok(status) = status else {
                    return (Ended::Crashed, false);
                };
                // A disconnect fault no transfer acted on drops the
                // connection before the exit status.
                if disconnect_after || session.disconnect_requested() {
                    return (Ended::Disconnect, false);
                }
                return (Ended::Status(status), false);
            }
            _ = session.disconnected() => return (Ended::Disconnect, false),
            _ = stdin.flush(), if stdin.has_pending() => {}
            msg = chan.rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    if chan.pty.is_some() && data.contains(&0x03) {
                        return (Ended::Status(130), true);
                    }
                    stdin.push(data);
                }
                Some(ChannelMsg::Eof) => stdin.close(),
                Some(ChannelMsg::Signal { signal }) => {
                    if let Some(status) = signal_status(&signal) {
                        return (Ended::Status(status), true);
                    }
                }
                Some(ChannelMsg::WindowChange { col_width, row_height, .. }) => {
                    if let Some(p) = &chan.pty {
                        p.resize(col_width, row_height);
                    }
                }
                None | Some(ChannelMsg::Close) => return (Ended::Gone, false),
                Some(_) => {}
            },
        }
    }
}

/// A `hang` fault: no output, no exit, until the client gives up.
async fn wait_for_client(rx: &mut ChannelReadHalf) -> Ended {
    loop {
        match rx.wait().await {
            None | Some(ChannelMsg::Close) => return Ended::Gone,
            Some(_) => {}
        }
    }
}
