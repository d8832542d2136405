//! One session channel, from open to close: collects pty and env requests,
//! then runs an `exec` command or an interactive shell, feeding client
//! input in, and always ends with exit-status, eof, close.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use russh::server::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Pty, Sig};
use tokio::io::AsyncWriteExt;

use super::sink::{ChannelSink, CountingSink};
use crate::faults::{Depth, Fault, Invocation};
use crate::instance::{BannerMode, Instance};
use crate::journal::{now_rfc3339, Ending, JournalEntry};
use crate::program::{Input, Output, Terminal};
use crate::shell::jobs::HangUp;
use crate::shell::CommandTrace;
use crate::shell::{Origin, Shell, Stdio};

/// Client input held for a command that is not reading it; past this,
/// further input is dropped (as a full pipe would block the writer).
const MAX_PENDING_STDIN: usize = 4 * 1024 * 1024;

/// What a channel knows about its connection.
#[derive(Clone)]
pub(super) struct ChannelContext {
    pub instance: Arc<Instance>,
    pub user: String,
    pub peer: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    pub active: Arc<AtomicUsize>,
    pub open_here: Arc<AtomicUsize>,
    pub key_fingerprint: Option<String>,
    pub handle: russh::server::Handle,
}

impl ChannelContext {
    /// A journal entry for a command on this connection, with who ran it
    /// and from where; the caller fills in how it went.
    pub(super) fn journal_entry(&self, kind: &str, command: String) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            instance: self.instance.config.id.clone(),
            user: self.user.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            client: self.peer.map(|p| p.to_string()),
            kind: kind.to_string(),
            command,
            faults: Vec::new(),
            exit_code: None,
            stdout_bytes: 0,
            stderr_bytes: 0,
            duration_ms: 0,
            ended: Ending::Exit,
        }
    }
}

/// The pty a client asked for.
struct PtyState {
    terminal: Terminal,
    term: String,
    onlcr: bool,
}

/// Counts the channel as active until dropped, whatever way the task ends.
pub(super) struct ActiveGuard(Vec<Arc<AtomicUsize>>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        for counter in &self.0 {
            counter.fetch_sub(1, Ordering::Relaxed);
        }
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
    fn journal(&self, signalled: bool) -> (Option<i32>, Ending) {
        match self {
            Ended::Status(s) if signalled => (Some(*s), Ending::Signal),
            Ended::Status(s) => (Some(*s), Ending::Exit),
            Ended::Crashed => (Some(1), Ending::InternalError),
            Ended::Gone | Ended::Disconnect => (None, Ending::Disconnect),
        }
    }
}

/// Runs a script, catching a panic inside it (a bug here, never the
/// client's fault): the client reads one line on stderr and the channel
/// ends with status 1 instead of hanging.
async fn guarded(shell: &mut Shell, text: &str, origin: Origin, io: &Stdio) -> Result<i32, ()> {
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

/// Runs the channel to its end. The counters were raised when the channel
/// was accepted (so a burst of opens sees them at once); the guard lowers
/// them when it ends.
pub(super) async fn run(channel: Channel<Msg>, cx: ChannelContext) {
    let guard = ActiveGuard(vec![cx.active.clone(), cx.open_here.clone()]);
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
                    p.terminal.resize(clamp(col_width), clamp(row_height));
                }
            }
            Some(ChannelMsg::Eof) => eof = true,
            Some(ChannelMsg::Exec { command, .. }) => {
                let _guard = guard;
                let (mut rx, tx) = channel.split();
                let tx = Arc::new(tx);
                let command = String::from_utf8_lossy(&command).into_owned();
                let started = std::time::Instant::now();
                let time = now_rfc3339();
                let counters = Counters::default();
                let trace = Arc::new(session_faults(&cx, &command));
                let (ended, signalled) = exec(
                    &cx,
                    &mut rx,
                    &tx,
                    env,
                    pty.as_ref(),
                    eof,
                    &command,
                    (&trace, &counters),
                )
                .await;
                let (exit_code, ending) = ended.journal(signalled);
                cx.instance.journal.record(JournalEntry {
                    time,
                    faults: trace.fired_ids(),
                    exit_code,
                    stdout_bytes: counters.stdout.load(Ordering::Relaxed),
                    stderr_bytes: counters.stderr.load(Ordering::Relaxed),
                    duration_ms: started.elapsed().as_millis() as u64,
                    ended: ending,
                    ..cx.journal_entry("exec", command)
                });
                finish(&cx, &tx, ended).await;
                return;
            }
            Some(ChannelMsg::RequestShell { .. }) => {
                let _guard = guard;
                let (mut rx, tx) = channel.split();
                let tx = Arc::new(tx);
                let ended = match &pty {
                    Some(p) => interactive(&cx, &mut rx, &tx, env, p).await,
                    None => script_from_stdin(&cx, &mut rx, &tx, env, eof).await,
                };
                finish(&cx, &tx, ended).await;
                return;
            }
            Some(_) => {}
        }
    }
}

fn clamp(v: u32) -> u16 {
    v.min(u32::from(u16::MAX)) as u16
}

/// exit-status, then eof, then close: OpenSSH hangs without the close.
/// A disconnect fault drops the whole connection instead.
async fn finish(cx: &ChannelContext, tx: &ChannelWriteHalf<Msg>, ended: Ended) {
    let status = match ended {
        Ended::Crashed => Ended::Status(1),
        other => other,
    };
    match status {
        Ended::Crashed => {}
        Ended::Status(status) => {
            let _ = tx.exit_status(status as u32 & 0xff).await;
            let _ = tx.eof().await;
            let _ = tx.close().await;
        }
        Ended::Disconnect => {
            tracing::info!(peer = ?cx.peer, "fault: dropping the connection");
            let _ = cx
                .handle
                .disconnect(
                    russh::Disconnect::ConnectionLost,
                    "connection lost".into(),
                    "en".into(),
                )
                .await;
        }
        Ended::Gone => {}
    }
}

/// Bytes a command wrote, per stream.
#[derive(Default)]
struct Counters {
    stdout: Arc<AtomicU64>,
    stderr: Arc<AtomicU64>,
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

/// The login environment plus what the client sent and SSH's own variables.
fn session_env(
    cx: &ChannelContext,
    sent: BTreeMap<String, String>,
    pty: Option<&PtyState>,
) -> BTreeMap<String, String> {
    let mut env = cx.instance.login_env(&cx.user);
    if let (Some(peer), Some(local)) = (cx.peer, cx.local) {
        env.insert(
            "SSH_CLIENT".into(),
            format!("{} {} {}", peer.ip(), peer.port(), local.port()),
        );
        env.insert(
            "SSH_CONNECTION".into(),
            format!(
                "{} {} {} {}",
                peer.ip(),
                peer.port(),
                local.ip(),
                local.port()
            ),
        );
    }
    if let Some(p) = pty {
        env.insert("TERM".into(), p.term.clone());
        env.insert("SSH_TTY".into(), "/dev/pts/0".into());
    }
    env.extend(sent);
    env
}

/// stdout and stderr for a channel: separate without a pty, merged with a pty.
fn outputs(tx: &Arc<ChannelWriteHalf<Msg>>, pty: Option<&PtyState>) -> (Output, Output) {
    match pty {
        Some(p) => {
            let out = Output::new(
                Arc::new(ChannelSink::stdout(tx.clone(), p.onlcr)),
                Some(p.terminal.clone()),
            );
            (out.clone(), out)
        }
        None => (
            Output::new(Arc::new(ChannelSink::stdout(tx.clone(), false)), None),
            Output::new(Arc::new(ChannelSink::stderr(tx.clone())), None),
        ),
    }
}

fn signal_status(sig: &Sig) -> Option<i32> {
    match sig {
        Sig::INT => Some(130),
        Sig::TERM => Some(143),
        Sig::KILL => Some(137),
        Sig::HUP => Some(129),
        Sig::QUIT => Some(131),
        _ => None,
    }
}

/// Runs one `exec` request, forwarding client input to the command's stdin.
/// Returns how it ended and whether a signal (or Ctrl-C) ended it.
#[allow(clippy::too_many_arguments)] // the channel's state, passed down once
async fn exec(
    cx: &ChannelContext,
    rx: &mut ChannelReadHalf,
    tx: &Arc<ChannelWriteHalf<Msg>>,
    sent_env: BTreeMap<String, String>,
    pty: Option<&PtyState>,
    eof: bool,
    command: &str,
    (trace, counters): (&Arc<CommandTrace>, &Counters),
) -> (Ended, bool) {
    let (stdout, stderr) = outputs(tx, pty);
    // Under a pty both streams are one; its bytes count as stdout.
    let (stdout, stderr) = if pty.is_some() {
        let out = CountingSink::wrap(stdout, &counters.stdout);
        (out.clone(), out)
    } else {
        (
            CountingSink::wrap(stdout, &counters.stdout),
            CountingSink::wrap(stderr, &counters.stderr),
        )
    };
    for f in &trace.inherited {
        match f.fault {
            Fault::Hang => return (wait_for_client(rx).await, false),
            Fault::DelayOutput { delay_ms } => {
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await
            }
            Fault::DisconnectAt { percent: 0 } => return (Ended::Disconnect, false),
            _ => {}
        }
    }
    if cx.instance.config.banner == BannerMode::Always {
        let _ = stderr.write(cx.instance.banner()).await;
    }
    let (stdin_w, stdin_r) = tokio::io::duplex(64 * 1024);
    let io = Stdio {
        stdin: Input::from_reader(stdin_r).with_terminal(pty.map(|p| p.terminal.clone())),
        stdout,
        stderr,
    };
    let mut shell = Shell::new(cx.instance.clone(), session_env(cx, sent_env, pty));
    shell.set_trace(trace.clone());
    // The session's jobs end with it, however it ends.
    let _hang_up = HangUp(shell.jobs());
    let mut stdin = StdinPump::new(stdin_w, eof);
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
            msg = rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    if pty.is_some() && data.contains(&0x03) {
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
                    if let Some(p) = pty {
                        p.terminal.resize(clamp(col_width), clamp(row_height));
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

/// Client input on its way to a command's stdin, never blocking the
/// channel's reader (a command that does not read stdin must not stall
/// the connection).
struct StdinPump {
    writer: Option<tokio::io::DuplexStream>,
    pending: VecDeque<Bytes>,
    pending_len: usize,
    closing: bool,
}

impl StdinPump {
    fn new(writer: tokio::io::DuplexStream, eof: bool) -> Self {
        StdinPump {
            writer: (!eof).then_some(writer),
            pending: VecDeque::new(),
            pending_len: 0,
            closing: false,
        }
    }

    fn push(&mut self, data: Bytes) {
        if self.writer.is_none() || self.pending_len + data.len() > MAX_PENDING_STDIN {
            tracing::debug!(bytes = data.len(), "stdin not read by the command; dropped");
            return;
        }
        self.pending_len += data.len();
        self.pending.push_back(data);
    }

    fn close(&mut self) {
        self.closing = true;
        if self.pending.is_empty() {
            self.writer = None;
        }
    }

    fn has_pending(&self) -> bool {
        self.writer.is_some() && !self.pending.is_empty()
    }

    async fn flush(&mut self) {
        let (Some(w), Some(front)) = (self.writer.as_mut(), self.pending.front()) else {
            return;
        };
        match w.write(front).await {
            Ok(n) => {
                self.pending_len -= n;
                let front = self.pending.pop_front().unwrap_or_default();
                if n < front.len() {
                    self.pending.push_front(front.slice(n..));
                }
            }
            Err(_) => {
                // The command closed its stdin: drop what is left.
                self.writer = None;
                self.pending.clear();
                self.pending_len = 0;
            }
        }
        if self.closing && self.pending.is_empty() {
            self.writer = None;
        }
    }
}

/// A shell with no pty (`ssh -T host < script`): runs each complete
/// command as its lines arrive, without prompt or echo.
async fn script_from_stdin(
    cx: &ChannelContext,
    rx: &mut ChannelReadHalf,
    tx: &Arc<ChannelWriteHalf<Msg>>,
    sent_env: BTreeMap<String, String>,
    eof: bool,
) -> Ended {
    let counters = Counters::default();
    let (stdout, stderr) = outputs(tx, None);
    let (stdout, stderr) = (
        CountingSink::wrap(stdout, &counters.stdout),
        CountingSink::wrap(stderr, &counters.stderr),
    );
    if cx.instance.config.banner != BannerMode::Off {
        let _ = stderr.write(cx.instance.banner()).await;
    }
    let io = Stdio {
        stdin: Input::empty(),
        stdout,
        stderr,
    };
    let mut shell = Shell::new(cx.instance.clone(), session_env(cx, sent_env, None));
    let _hang_up = HangUp(shell.jobs());
    let mut input = Typeahead {
        eof,
        ..Typeahead::default()
    };
    let mut script = String::new();
    loop {
        // Run every complete line that is buffered.
        while let Some(pos) = input.bytes.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = input.bytes.drain(..=pos).collect();
            script.push_str(&String::from_utf8_lossy(&line));
            if crate::shell::is_incomplete(&script, cx.instance.config.limits.max_nesting) {
                continue;
            }
            let text = std::mem::take(&mut script);
            if let Some(end) =
                run_stdin_script(cx, &counters, &mut shell, &text, &io, rx, &mut input).await
            {
                return end;
            }
        }
        if input.eof {
            let rest: Vec<u8> = input.bytes.drain(..).collect();
            script.push_str(&String::from_utf8_lossy(&rest));
            if !script.trim().is_empty() {
                let text = std::mem::take(&mut script);
                match run_stdin_script(cx, &counters, &mut shell, &text, &io, rx, &mut input).await
                {
                    Some(Ended::Gone) => return Ended::Gone,
                    Some(Ended::Crashed) => return Ended::Crashed,
                    _ => {}
                }
            }
            return Ended::Status(shell.exit_requested().unwrap_or(shell.last_status()));
        }
        match rx.wait().await {
            Some(ChannelMsg::Data { data }) => input.bytes.extend(data.iter()),
            Some(ChannelMsg::Eof) => input.eof = true,
            None | Some(ChannelMsg::Close) => return Ended::Gone,
            Some(_) => {}
        }
    }
}

/// Runs one complete piece of a stdin script; `Some` when the session
/// ends here (the client left, or the script ran `exit`).
async fn run_stdin_script(
    cx: &ChannelContext,
    counters: &Counters,
    shell: &mut Shell,
    text: &str,
    io: &Stdio,
    rx: &mut ChannelReadHalf,
    input: &mut Typeahead,
) -> Option<Ended> {
    let status = match run_cancellable(
        cx,
        counters,
        shell,
        text,
        Origin::Exec,
        io,
        rx,
        input,
        false,
    )
    .await
    {
        Ended::Status(status) => status,
        other => return Some(other),
    };
    shell.set_last_status(status);
    shell.exit_requested().map(Ended::Status)
}

/// Client input that arrived while a command ran: kept for the shell's
/// own reading after it, with the end of input if the client sent it.
#[derive(Default)]
struct Typeahead {
    bytes: VecDeque<u8>,
    eof: bool,
}

/// Runs one script while watching the channel: a signal request (or, on
/// a pty, Ctrl-C) cancels it; other input is kept in `typeahead`.
#[allow(clippy::too_many_arguments)]
async fn run_cancellable(
    cx: &ChannelContext,
    counters: &Counters,
    shell: &mut Shell,
    text: &str,
    origin: Origin,
    io: &Stdio,
    rx: &mut ChannelReadHalf,
    typeahead: &mut Typeahead,
    on_pty: bool,
) -> Ended {
    let started = std::time::Instant::now();
    let time = now_rfc3339();
    let before = (
        counters.stdout.load(Ordering::Relaxed),
        counters.stderr.load(Ordering::Relaxed),
    );
    let trace = Arc::new(CommandTrace::new(text.trim_end(), &cx.user));
    shell.set_trace(trace.clone());
    let (ended, signalled) = run_watched(shell, text, origin, io, rx, typeahead, on_pty).await;
    let (exit_code, ending) = ended.journal(signalled);
    cx.instance.journal.record(JournalEntry {
        time,
        faults: trace.fired_ids(),
        exit_code,
        stdout_bytes: counters.stdout.load(Ordering::Relaxed) - before.0,
        stderr_bytes: counters.stderr.load(Ordering::Relaxed) - before.1,
        duration_ms: started.elapsed().as_millis() as u64,
        ended: ending,
        ..cx.journal_entry("shell", text.trim_end().to_string())
    });
    ended
}

/// [`run_cancellable`]'s loop: the result and whether a signal ended it.
async fn run_watched(
    shell: &mut Shell,
    text: &str,
    origin: Origin,
    io: &Stdio,
    rx: &mut ChannelReadHalf,
    typeahead: &mut Typeahead,
    on_pty: bool,
) -> (Ended, bool) {
    let run = guarded(shell, text, origin, io);
    tokio::pin!(run);
    loop {
        tokio::select! {
            status = &mut run => return match status {
                Ok(status) => (Ended::Status(status), false),
                Err(()) => (Ended::Crashed, false),
            },
            msg = rx.wait(), if !typeahead.eof => match msg {
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

/// An interactive login shell on a pty: prompt, echo, line editing,
/// Ctrl-C, Ctrl-D, and `exit`.
async fn interactive(
    cx: &ChannelContext,
    rx: &mut ChannelReadHalf,
    tx: &Arc<ChannelWriteHalf<Msg>>,
    sent_env: BTreeMap<String, String>,
    pty: &PtyState,
) -> Ended {
    let counters = Counters::default();
    let (stdout, stderr) = outputs(tx, Some(pty));
    let (stdout, stderr) = (
        CountingSink::wrap(stdout, &counters.stdout),
        CountingSink::wrap(stderr, &counters.stdout),
    );
    if cx.instance.config.banner != BannerMode::Off {
        let _ = stderr.write(cx.instance.banner()).await;
    }
    let io = Stdio {
        stdin: Input::empty().with_terminal(Some(pty.terminal.clone())),
        stdout: stdout.clone(),
        stderr,
    };
    let mut shell = Shell::new(cx.instance.clone(), session_env(cx, sent_env, Some(pty)));
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
            match rx.wait().await {
                Some(ChannelMsg::Data { data }) => pending.bytes.extend(data.iter()),
                Some(ChannelMsg::WindowChange {
                    col_width,
                    row_height,
                    ..
                }) => pty.terminal.resize(clamp(col_width), clamp(row_height)),
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
                if crate::shell::is_incomplete(&script, cx.instance.config.limits.max_nesting) {
                    let _ = stdout.write("> ").await;
                    continue;
                }
                let text = std::mem::take(&mut script);
                if !text.trim().is_empty() {
                    let ran = run_cancellable(
                        cx,
                        &counters,
                        &mut shell,
                        &text,
                        Origin::Interactive,
                        &io,
                        rx,
                        &mut pending,
                        true,
                    )
                    .await;
                    match ran {
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

/// What one typed byte did to the line being edited.
enum Edit {
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
struct LineEditor {
    line: Vec<u8>,
    escape: Option<Vec<u8>>,
}

impl LineEditor {
    fn feed(&mut self, b: u8) -> Edit {
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
