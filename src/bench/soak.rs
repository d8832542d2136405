//! `fakessh bench --soak DURATION`: a long mixed load against one in-process
//! instance, with the process's resident memory, open descriptors and live
//! tokio tasks sampled as it runs. They must stay flat: a session that
//! leaves a task, a descriptor or a buffer behind shows up as a slope.
//!
//! The instance runs at time scale 0 (downloads take no simulated time)
//! behind a server on 127.0.0.1:0, with a few fault rules armed. N client
//! loops (russh's client, in the same process) each pick one operation at a
//! time from a fixed mix: short execs and pipelines, a non-pty shell fed a
//! script, SFTP put/get/list/rename/remove, `wget` and `civitdl` downloads
//! (some of them failed by faults), commands a fault disconnects, hangs,
//! delays or fails, hostile but bounded commands (background and
//! foreground busy loops, a fork bomb, deep nesting, huge printf widths and
//! words), connections dropped mid-command, and fresh connect-exec-close
//! cycles. Each client keeps two connections: a steady one for what no
//! fault drops (execs, shells, SFTP, hostile commands), which should live
//! the whole run so that anything a connection keeps per channel shows as
//! growth, and one that download and disconnect faults may drop (remade
//! when they do). Each client removes its scratch directory every few
//! operations, so the sandbox stays small.
//!
//! Every `--soak-sample` one row is printed; at the end a summary and a
//! verdict. The verdict compares the median of the last third of the
//! samples with the first third's (after a warm-up sixth): RSS and the
//! heap in use (glibc's count of bytes allocated and not freed, which a
//! leak moves even while RSS is still living off memory freed after a
//! burst; a row shows its lowest reading in the interval, read every
//! 200 ms) may grow by 10%, descriptors and tasks by a small absolute
//! slack. Medians, because
//! a sample taken during a fork bomb holds hundreds of short-lived tasks.
//! After the clients stop and the server has no connection left, the task
//! and descriptor counts must be back to what they were before the load.
//! A growing figure makes the command fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fakessh::instance::{Instance, InstanceConfig};
use fakessh::server::{self, RunningServer, ServerConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use russh::client::{Handle, Msg};
use russh::keys::PrivateKey;
use russh::{Channel, ChannelMsg};
use tokio::io::AsyncWriteExt;

use super::{login, rss_kib, AnyHost, BenchArgs};

/// Seed of the instance and of the clients' choices.
const SEED: u64 = 7;
/// Journal entries kept (small, so the journal is full after warm-up).
const JOURNAL_CAPACITY: usize = 1000;
/// The longest any one operation may take before it counts as failed.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// Operations between two clean-ups of a client's scratch directory.
const CLEANUP_EVERY: u64 = 25;
/// Bytes of one command's output a client keeps (the rest is counted only).
const KEEP_OUTPUT: usize = 64 * 1024;

/// Fault rules armed for the whole run, in `--fail` form. The marker rules
/// (`cmd=soak-...`) always fire, so their operations can check the effect.
const FAULTS: &[&str] = &[
    "wget:http=500:p=0.2",
    "wget:stall=30/20:p=0.1",
    "wget:disconnect=50:p=0.05",
    "civitdl:drop=40:p=0.2",
    "civitdl:http=404:p=0.1",
    "*:disconnect:cmd=soak-disconnect",
    "*:exit=3:cmd=soak-exit",
    "*:hang:cmd=soak-hang",
    "*:delay=20:cmd=soak-delay",
];

/// What one client loop may do next, with its weight in the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Exec,
    Shell,
    Sftp,
    Wget,
    Civitdl,
    Fault,
    Hostile,
    Drop,
    Fresh,
    Cleanup,
}

const MIX: &[(Op, u32)] = &[
    (Op::Exec, 30),
    (Op::Shell, 10),
    (Op::Sftp, 10),
    (Op::Wget, 12),
    (Op::Civitdl, 6),
    (Op::Fault, 8),
    (Op::Hostile, 8),
    (Op::Drop, 6),
    (Op::Fresh, 6),
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Exec => "exec",
            Op::Shell => "shell",
            Op::Sftp => "sftp",
            Op::Wget => "wget",
            Op::Civitdl => "civitdl",
            Op::Fault => "fault",
            Op::Hostile => "hostile",
            Op::Drop => "drop",
            Op::Fresh => "fresh",
            Op::Cleanup => "cleanup",
        }
    }

    /// The mix kept by `--soak-ops` (all of it when empty).
    fn mix(names: &[String]) -> anyhow::Result<Vec<(Op, u32)>> {
        for name in names {
            if !MIX.iter().any(|(op, _)| op.name() == name) {
                let valid: Vec<_> = MIX.iter().map(|(op, _)| op.name()).collect();
                bail!("--soak-ops {name:?}: not one of {}", valid.join(", "));
            }
        }
        Ok(MIX
            .iter()
            .copied()
            .filter(|(op, _)| names.is_empty() || names.iter().any(|n| n == op.name()))
            .collect())
    }

    fn pick(mix: &[(Op, u32)], rng: &mut ChaCha8Rng) -> Op {
        let total: u32 = mix.iter().map(|(_, w)| w).sum();
        let mut n = rng.gen_range(0..total);
        for &(op, w) in mix {
            if n < w {
                return op;
            }
            n -= w;
        }
        Op::Exec
    }
}

/// Operations done so far, shared by the clients and the sampler.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    /// (op, first line of the error) -> count.
    reasons: Mutex<BTreeMap<(Op, String), u64>>,
    /// op -> (ok, failed).
    per_op: Mutex<BTreeMap<Op, (u64, u64)>>,
}

impl Tally {
    fn record(&self, op: Op, result: &anyhow::Result<()>) {
        let mut per_op = self.per_op.lock().unwrap_or_else(|e| e.into_inner());
        let entry = per_op.entry(op).or_default();
        match result {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                entry.0 += 1;
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                entry.1 += 1;
                let mut why = format!("{e:#}");
                why.truncate(120);
                *self
                    .reasons
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry((op, why))
                    .or_default() += 1;
            }
        }
    }
}

/// What one channel returned.
#[derive(Debug, Default)]
struct Ran {
    /// None: the channel ended without an exit status (a disconnect).
    status: Option<u32>,
    out: Vec<u8>,
    out_bytes: usize,
}

impl Ran {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// The command ran to an exit status that is not "command not found".
    fn exited(&self, what: &str) -> anyhow::Result<u32> {
        match self.status {
            None => bail!("{what}: no exit status"),
            Some(127) => bail!("{what}: exit 127 ({})", self.text().trim()),
            Some(s) => Ok(s),
        }
    }

    fn expect(&self, what: &str, status: u32, out: &str) -> anyhow::Result<()> {
        let got = self.exited(what)?;
        if got != status || self.text() != out {
            bail!(
                "{what}: expected {status} {out:?}, got {got} {:?}",
                self.text()
            );
        }
        Ok(())
    }
}

/// Reads a channel until it closes (or the connection goes).
async fn read_to_close(channel: &mut Channel<Msg>) -> Ran {
    let mut ran = Ran::default();
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                ran.out_bytes += data.len();
                let room = KEEP_OUTPUT.saturating_sub(ran.out.len());
                ran.out.extend_from_slice(&data[..data.len().min(room)]);
            }
            ChannelMsg::ExitStatus { exit_status } => ran.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    ran
}

/// One exec on a fresh channel, stdout and stderr together.
async fn exec(handle: &Handle<AnyHost>, command: &str) -> anyhow::Result<Ran> {
    let mut channel = handle.channel_open_session().await?;
    channel.exec(true, command).await?;
    channel.eof().await?;
    Ok(read_to_close(&mut channel).await)
}

/// Waits for the first message, at most `within`; true when one came.
async fn anything_within(channel: &mut Channel<Msg>, within: Duration) -> bool {
    loop {
        match tokio::time::timeout(within, channel.wait()).await {
            Err(_) => return false,
            Ok(None) => return true,
            // Window adjustments and request replies are not output.
            Ok(Some(ChannelMsg::Success | ChannelMsg::WindowAdjusted { .. })) => {}
            Ok(Some(_)) => return true,
        }
    }
}

/// Carries an SFTP client's bytes over `channel` until the server closes
/// it. Unlike russh's `into_stream`, it never closes the channel first:
/// russh keeps a channel its own side closed first in the connection's
/// table until the connection ends, which would grow this process.
async fn sftp_pump(channel: Channel<Msg>, stream: tokio::io::DuplexStream) {
    use tokio::io::AsyncReadExt;
    let (mut from_sftp, mut to_sftp) = tokio::io::split(stream);
    let (mut rx, tx) = channel.split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut input_open = true;
    loop {
        tokio::select! {
            n = from_sftp.read(&mut buf), if input_open => match n {
                Ok(0) | Err(_) => {
                    input_open = false;
                    let _ = tx.eof().await;
                }
                Ok(n) => {
                    if tx.data(&buf[..n]).await.is_err() {
                        input_open = false;
                    }
                }
            },
            msg = rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    // A client that stopped reading only loses the replies.
                    let _ = to_sftp.write_all(&data).await;
                }
                Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            },
        }
    }
}

/// Which of a client's two kept connections an operation uses.
#[derive(Clone, Copy, Debug)]
enum Conn {
    /// Commands no fault drops: this connection should live the whole run,
    /// so what a connection keeps per channel shows as growth.
    Steady,
    /// Downloads and disconnect faults: remade whenever a fault drops it.
    Faulty,
}

/// One client loop: its connections, its scratch directory, its dice.
struct Client {
    addr: SocketAddr,
    key: Arc<PrivateKey>,
    rng: ChaCha8Rng,
    steady: Option<Handle<AnyHost>>,
    faulty: Option<Handle<AnyHost>>,
    dir: String,
    done: u64,
    mix: Arc<[(Op, u32)]>,
}

impl Client {
    fn slot(&mut self, which: Conn) -> &mut Option<Handle<AnyHost>> {
        match which {
            Conn::Steady => &mut self.steady,
            Conn::Faulty => &mut self.faulty,
        }
    }

    /// A kept connection, (re)made when it is gone.
    async fn conn(&mut self, which: Conn) -> anyhow::Result<&Handle<AnyHost>> {
        let (addr, key) = (self.addr, self.key.clone());
        let slot = self.slot(which);
        if slot.as_ref().is_none_or(|h| h.is_closed()) {
            *slot = None;
            *slot = Some(login(addr, &key).await.context("login")?);
        }
        slot.as_ref().context("no connection")
    }

    /// Runs `command` on a kept connection; forgets the connection when
    /// the command ended without a status (a disconnect fault).
    async fn run_on(&mut self, which: Conn, command: &str) -> anyhow::Result<Ran> {
        let ran = exec(self.conn(which).await?, command).await;
        if !ran.as_ref().is_ok_and(|r| r.status.is_some()) {
            *self.slot(which) = None;
        }
        ran
    }

    /// Runs `command` on the steady connection.
    async fn run(&mut self, command: &str) -> anyhow::Result<Ran> {
        self.run_on(Conn::Steady, command).await
    }

    async fn op(&mut self, op: Op) -> anyhow::Result<()> {
        match op {
            Op::Exec => self.short_exec().await,
            Op::Shell => self.shell().await,
            Op::Sftp => self.sftp().await,
            Op::Wget => self.wget().await,
            Op::Civitdl => self.civitdl().await,
            Op::Fault => self.fault().await,
            Op::Hostile => self.hostile().await,
            Op::Drop => self.drop_mid_command().await,
            Op::Fresh => self.fresh().await,
            Op::Cleanup => {
                // A command whose connection this client dropped may still
                // be writing here: a second try after it has ended.
                let d = self.dir.clone();
                let cmd = format!(
                    "{{ rm -rf {d} 2>/dev/null || {{ sleep 0.2; rm -rf {d}; }}; }} && mkdir -p {d} && echo clean"
                );
                self.run(&cmd).await?.expect("cleanup", 0, "clean\n")
            }
        }
    }

    async fn short_exec(&mut self) -> anyhow::Result<()> {
        let n: u32 = self.rng.gen_range(0..1_000_000);
        match self.rng.gen_range(0..7) {
            0 => self.run(&format!("echo hello-{n}")).await?.expect(
                "echo",
                0,
                &format!("hello-{n}\n"),
            ),
            1 => {
                let ran = self.run("ls $UI_HOME/models").await?;
                ran.exited("ls")?;
                anyhow::ensure!(ran.text().contains("loras"), "ls: {:?}", ran.text());
                Ok(())
            }
            2 => self
                .run("seq 1 200 | grep 7 | wc -l")
                .await?
                .expect("pipeline", 0, "38\n"),
            3 => self
                .run("x=$(echo abc); echo ${#x} && test -d /tmp && echo yes")
                .await?
                .expect("substitution", 0, "3\nyes\n"),
            4 => self
                .run("ls $UI_HOME/models | sort -r | head -3 | wc -l")
                .await?
                .expect("ls | sort | head", 0, "3\n"),
            5 => {
                let ran = self.run("nvidia-smi | head -5; df -h / | tail -1").await?;
                anyhow::ensure!(ran.exited("nvidia-smi")? == 0, "nvidia-smi failed");
                Ok(())
            }
            _ => {
                let ran = self
                    .run("for i in $(seq 1 20); do echo $((i*i)); done | sort -n | tail -1")
                    .await?;
                ran.expect("loop", 0, "400\n")
            }
        }
    }

    async fn shell(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let n: u32 = self.rng.gen_range(0..1_000_000);
        let script = format!(
            "mkdir -p {d}\ncd {d}\necho line-{n} > s.txt\ncat s.txt | wc -l\n\
             for i in 1 2 3; do echo $i; done | sort -r | head -1\n\
             if test -f s.txt; then echo shell-ok-{n}; fi\nexit 0\n"
        );
        let handle = self.conn(Conn::Steady).await?;
        let mut channel = handle.channel_open_session().await?;
        channel.request_shell(true).await?;
        channel.data(script.as_bytes()).await?;
        channel.eof().await?;
        let ran = read_to_close(&mut channel).await;
        if ran.status.is_none() {
            self.steady = None;
        }
        ran.exited("shell")?;
        let text = ran.text();
        anyhow::ensure!(
            text.contains(&format!("shell-ok-{n}\n")) && text.contains("1\n3\n"),
            "shell: {text:?}"
        );
        Ok(())
    }

    async fn sftp(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let n: u32 = self.rng.gen_range(0..1_000_000);
        let len = self.rng.gen_range(1..256 * 1024);
        let data: Vec<u8> = (0..len).map(|i| (i as u32 ^ n) as u8).collect();
        let handle = self.conn(Conn::Steady).await?;
        let channel = handle.channel_open_session().await?;
        channel.request_subsystem(true, "sftp").await?;
        let (ours, theirs) = tokio::io::duplex(256 * 1024);
        let pump = tokio::spawn(sftp_pump(channel, ours));
        let sftp = russh_sftp::client::SftpSession::new(theirs).await?;
        let result = async {
            if !sftp.try_exists(&d).await? {
                sftp.create_dir(&d).await?;
            }
            let path = format!("{d}/put-{n}.bin");
            let mut file = sftp.create(&path).await?;
            file.write_all(&data).await?;
            file.close().await?;
            let back = sftp.read(&path).await?;
            anyhow::ensure!(
                back == data,
                "sftp: read back {} of {len} bytes",
                back.len()
            );
            let listed = sftp
                .read_dir(&d)
                .await?
                .any(|e| e.file_name() == format!("put-{n}.bin"));
            anyhow::ensure!(listed, "sftp: put-{n}.bin not listed");
            let moved = format!("{d}/moved-{n}.bin");
            sftp.rename(&path, &moved).await?;
            anyhow::ensure!(
                sftp.metadata(&moved).await?.size == Some(len as u64),
                "sftp: size after rename"
            );
            sftp.remove_file(&moved).await?;
            anyhow::ensure!(!sftp.try_exists(&moved).await?, "sftp: still there");
            Ok(())
        }
        .await;
        let _ = sftp.close().await;
        drop(sftp);
        // The server ends the channel once the session's input ends.
        pump.await?;
        result
    }

    async fn wget(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let k = self.rng.gen_range(0..40);
        let quiet = if self.rng.gen_bool(0.5) { "-q " } else { "" };
        let ran = self
            .run_on(
                Conn::Faulty,
                &format!(
                "mkdir -p {d} && wget {quiet}-P {d} https://huggingface.co/soak/repo/resolve/main/f{k}.safetensors"
            ),
            )
            .await?;
        // Faults fail some (exit 8, or a disconnect): what matters is an end.
        if ran.status.is_some() {
            ran.exited("wget")?;
        }
        Ok(())
    }

    async fn civitdl(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let id = self.rng.gen_range(100_000..100_040);
        let ran = self
            .run_on(
                Conn::Faulty,
                &format!(
                "mkdir -p {d} && civitdl \"https://civitai.com/models/{id}\" {d} --retry-count 1 --pause-time 0"
            ),
            )
            .await?;
        if ran.status.is_some() {
            ran.exited("civitdl")?;
        }
        Ok(())
    }

    async fn fault(&mut self) -> anyhow::Result<()> {
        match self.rng.gen_range(0..4) {
            0 => {
                let ran = self.run_on(Conn::Faulty, "echo soak-disconnect").await?;
                anyhow::ensure!(
                    ran.status.is_none(),
                    "disconnect fault: exit {:?}",
                    ran.status
                );
                Ok(())
            }
            // The command runs; its status is replaced.
            1 => {
                let ran = self.run("echo soak-exit").await?;
                anyhow::ensure!(ran.status == Some(3), "exit fault: {:?}", ran.status);
                Ok(())
            }
            2 => self
                .run("echo soak-delay")
                .await?
                .expect("delay fault", 0, "soak-delay\n"),
            _ => {
                // A hung command: nothing comes; the client gives up by
                // closing the channel, or dropping the connection. On a
                // connection of its own: russh keeps a channel the client
                // closed first until its connection ends.
                let drop_connection = self.rng.gen_bool(0.3);
                let handle = login(self.addr, &self.key).await.context("login")?;
                let mut channel = handle.channel_open_session().await?;
                channel.exec(true, "echo soak-hang").await?;
                let spoke = anything_within(&mut channel, Duration::from_millis(100)).await;
                if !drop_connection {
                    channel.close().await?;
                    handle
                        .disconnect(russh::Disconnect::ByApplication, "", "en")
                        .await?;
                }
                anyhow::ensure!(!spoke, "hang fault: the command answered");
                Ok(())
            }
        }
    }

    async fn hostile(&mut self) -> anyhow::Result<()> {
        match self.rng.gen_range(0..6) {
            0 => {
                let ran = self.run("while :; do :; done & echo started").await?;
                ran.expect("background busy loop", 0, "started\n")
            }
            1 => {
                self.run("f(){ f | f & }; f; sleep 0.2")
                    .await?
                    .exited("fork bomb")?;
                Ok(())
            }
            2 => {
                let deep = format!("{}echo deep{}", "{ ".repeat(300), "; }".repeat(300));
                self.run(&deep).await?.exited("deep nesting")?;
                Ok(())
            }
            3 => {
                self.run("printf '%999999999d' 1")
                    .await?
                    .exited("huge printf width")?;
                Ok(())
            }
            4 => {
                self.run("printf '%900000s' x | wc -c")
                    .await?
                    .expect("wide printf", 0, "900000\n")
            }
            _ => {
                let cmd = "x=$(printf '%1000000s' y); x=$x$x$x$x; x=$x$x$x$x; x=$x$x; echo ${#x}";
                self.run(cmd).await?.exited("huge word")?;
                Ok(())
            }
        }
    }

    /// A command left running while its connection (or channel) goes away.
    async fn drop_mid_command(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let command = match self.rng.gen_range(0..4) {
            0 => "sleep 30".to_string(),
            1 => "while :; do :; done".to_string(),
            2 => "seq 1 100000000 | grep 5 | wc -l".to_string(),
            _ => format!("mkdir -p {d}; cat > {d}/stdin.txt"),
        };
        let wait = Duration::from_millis(self.rng.gen_range(10..150));
        let how = self.rng.gen_range(0..3);
        let handle = login(self.addr, &self.key).await.context("login")?;
        let mut channel = handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        channel.data(&b"some input\n"[..]).await?;
        let _ = tokio::time::timeout(wait, channel.wait()).await;
        match how {
            // Abrupt: the TCP connection goes without a goodbye.
            0 => drop((channel, handle)),
            1 => {
                drop(channel);
                handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await?;
            }
            // Only the channel goes; the connection must still serve.
            _ => {
                channel.close().await?;
                exec(&handle, "echo after").await?.expect(
                    "exec after a closed channel",
                    0,
                    "after\n",
                )?;
                handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await?;
            }
        }
        Ok(())
    }

    /// A whole connect + auth + exec + disconnect cycle.
    async fn fresh(&mut self) -> anyhow::Result<()> {
        let handle = login(self.addr, &self.key).await.context("login")?;
        exec(&handle, "echo fresh")
            .await?
            .expect("fresh", 0, "fresh\n")?;
        handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await?;
        Ok(())
    }

    async fn run_until(mut self, deadline: Instant, tally: Arc<Tally>) {
        while Instant::now() < deadline {
            let op = if self.done.is_multiple_of(CLEANUP_EVERY) {
                Op::Cleanup
            } else {
                Op::pick(&self.mix, &mut self.rng)
            };
            let result = match tokio::time::timeout(OP_TIMEOUT, self.op(op)).await {
                Ok(r) => r,
                Err(_) => Err(anyhow::anyhow!("timed out after {OP_TIMEOUT:?}")),
            };
            if result.is_err() {
                (self.steady, self.faulty) = (None, None);
            }
            tally.record(op, &result);
            self.done += 1;
        }
        // Leave the sandbox as it was found.
        let _ = tokio::time::timeout(OP_TIMEOUT, self.run(&format!("rm -rf {}", self.dir))).await;
        for handle in [self.steady.take(), self.faulty.take()]
            .into_iter()
            .flatten()
        {
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }
}

/// One row of the curves.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    elapsed: Duration,
    ok: u64,
    failed: u64,
    rss_kib: u64,
    /// Bytes the allocator has handed out and not got back, the lowest
    /// reading since the previous sample (0: unknown).
    heap_kib: u64,
    fds: usize,
    tasks: usize,
    conns: usize,
    chans: usize,
    files: usize,
    disk_kib: u64,
}

/// KiB allocated and not freed, from glibc's `mallinfo2` (all arenas).
/// RSS alone hides a slow leak: memory freed after a burst (a 16 MiB word)
/// stays resident and is handed out again, so a leak first eats that
/// before RSS moves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_kib() -> u64 {
    #[repr(C)]
    struct Mallinfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> Mallinfo2;
    }
    // SAFETY: mallinfo2 takes nothing, only reads the allocator's
    // statistics under its locks, and returns a plain struct (glibc 2.33+).
    let info = unsafe { mallinfo2() };
    ((info.uordblks + info.hblkhd) / 1024) as u64
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_kib() -> u64 {
    0
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Paths under `root` (relative to it), symlinks not followed, and the
/// KiB of disk they take (sparse downloads take almost none).
fn list_files(root: &Path) -> (BTreeSet<PathBuf>, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut found = BTreeSet::new();
    let mut blocks = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            blocks += entry.metadata().map_or(0, |m| m.blocks());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path.clone());
            }
            found.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    (found, blocks / 2)
}

async fn sample(
    started: Instant,
    tally: &Tally,
    server: &RunningServer,
    instance: &Instance,
) -> Sample {
    let root = instance.sandbox.root().to_path_buf();
    let (files, disk_kib) = tokio::task::spawn_blocking(move || {
        let (found, kib) = list_files(&root);
        (found.len(), kib)
    })
    .await
    .unwrap_or_default();
    Sample {
        elapsed: started.elapsed(),
        ok: tally.ok.load(Ordering::Relaxed),
        failed: tally.failed.load(Ordering::Relaxed),
        rss_kib: rss_kib(std::process::id()),
        heap_kib: heap_kib(),
        fds: open_fds(),
        tasks: tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        conns: server.open_connections(),
        chans: server.open_channels(),
        files,
        disk_kib,
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

const HEADER: &str =
    "  elapsed        ok   failed   RSS MiB  heap MiB    fds  tasks  conns  chans  files  disk KiB";

fn row(s: &Sample, label: &str) -> String {
    format!(
        "{:>9} {:>9} {:>8} {:>9.1} {:>9.1} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9}",
        if label.is_empty() {
            format!("{}s", s.elapsed.as_secs())
        } else {
            label.to_string()
        },
        s.ok,
        s.failed,
        mib(s.rss_kib),
        mib(s.heap_kib),
        s.fds,
        s.tasks,
        s.conns,
        s.chans,
        s.files,
        s.disk_kib
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// How the figures moved, and which of them grew.
#[derive(Debug, Default)]
struct Verdict {
    lines: Vec<String>,
    growing: Vec<String>,
    judged: bool,
}

/// How often the heap is read between two samples (a row shows its floor).
const HEAP_EVERY: Duration = Duration::from_millis(200);
/// Allowed growth of RSS and heap from the first third to the last.
const RSS_GROWTH: f64 = 0.10;
fn fd_slack(clients: usize) -> f64 {
    (16 + 2 * clients) as f64
}
fn task_slack(clients: usize) -> f64 {
    (32 + 8 * clients) as f64
}
/// Tasks and descriptors may differ this much between idle before and after.
const IDLE_SLACK: usize = 4;

/// Compares the last third of the samples (after a warm-up sixth) with the
/// first third, and the idle figures after the load with those before it.
fn verdict(samples: &[Sample], before: &Sample, after: &Sample, clients: usize) -> Verdict {
    let mut v = Verdict::default();
    let warm = samples.len().div_ceil(6);
    let judged = &samples[warm.min(samples.len())..];
    if judged.len() >= 3 {
        v.judged = true;
        let third = judged.len() / 3;
        let (first, last) = (&judged[..third], &judged[judged.len() - third..]);
        type Pick = fn(&Sample) -> f64;
        let checks: [(&str, Pick, f64, bool); 4] = [
            ("RSS", |s| mib(s.rss_kib), RSS_GROWTH, true),
            ("heap", |s| mib(s.heap_kib), RSS_GROWTH, true),
            ("fds", |s| s.fds as f64, fd_slack(clients), false),
            ("tasks", |s| s.tasks as f64, task_slack(clients), false),
        ];
        for (name, pick, allowed, relative) in checks {
            if first.iter().all(|s| pick(s) == 0.0) {
                continue; // not measured here
            }
            let a = median(first.iter().map(pick).collect());
            let b = median(last.iter().map(pick).collect());
            let limit = if relative {
                a * (1.0 + allowed)
            } else {
                a + allowed
            };
            let how = if relative {
                format!(
                    "{:+.1}% (allowed {:.0}%)",
                    (b / a - 1.0) * 100.0,
                    allowed * 100.0
                )
            } else {
                format!("{:+.0} (allowed +{allowed:.0})", b - a)
            };
            let line = format!("{name}: first third {a:.1}, last third {b:.1}: {how}");
            if b > limit {
                v.growing.push(line.clone());
            }
            v.lines.push(line);
        }
    } else {
        v.lines.push(format!(
            "only {} samples after warm-up: too few to compare thirds (run longer or sample more often)",
            judged.len()
        ));
    }
    for (name, b, a) in [
        ("tasks", before.tasks, after.tasks),
        ("fds", before.fds, after.fds),
    ] {
        let line = format!("{name} idle: {b} before the load, {a} after it drained");
        if a > b + IDLE_SLACK {
            v.growing.push(line.clone());
        }
        v.lines.push(line);
    }
    v
}

/// Runs the soak and prints the curves, the summary and the verdict.
pub(super) async fn run(args: &BenchArgs, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let duration: Duration = args.soak.context("--soak")?.into();
    let every: Duration = args.soak_sample.into();
    anyhow::ensure!(!every.is_zero(), "--soak-sample must be more than 0");
    let clients = args.soak_clients.max(1);
    let mix: Arc<[(Op, u32)]> = Op::mix(&args.soak_ops)?.into();
    let faults = FAULTS
        .iter()
        .map(|f| fakessh::faults::parse_flag(f).with_context(|| format!("fault {f}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let instance = Instance::create(InstanceConfig {
        time_scale: 0.0,
        seed: SEED,
        faults,
        journal_capacity: JOURNAL_CAPACITY,
        ..InstanceConfig::default()
    })
    .context("creating the instance")?;
    let server = server::start(instance.clone(), ServerConfig::loopback())
        .await
        .context("starting the server")?;
    let addr = server.local_addr();
    eprintln!(
        "soak: {clients} clients for {} against {addr} (time scale 0, seed {SEED}), \
         sample every {}; ops: {}; faults: {}",
        humantime::format_duration(duration),
        humantime::format_duration(every),
        mix.iter()
            .map(|(op, _)| op.name())
            .collect::<Vec<_>>()
            .join(", "),
        FAULTS.join(", ")
    );
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let before = sample(started, &tally, &server, &instance).await;
    let (files_before, _) = list_files(instance.sandbox.root());
    println!("{HEADER}");
    println!("{}", row(&before, "idle"));

    let deadline = started + duration;
    let mut tasks = Vec::new();
    for id in 0..clients {
        let client = Client {
            addr,
            key: key.clone(),
            rng: ChaCha8Rng::seed_from_u64(SEED ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9)),
            steady: None,
            faulty: None,
            dir: format!("/tmp/soak/c{id}"),
            done: 0,
            mix: mix.clone(),
        };
        tasks.push(tokio::spawn(client.run_until(deadline, tally.clone())));
    }
    let mut samples = Vec::new();
    let mut next = started + every;
    while next <= deadline + every / 2 {
        // The heap's floor over the interval: a command caught holding a
        // 16 MiB word is not a leak, a floor that rises is.
        let mut heap_floor = u64::MAX;
        loop {
            let now = Instant::now();
            if now >= next {
                break;
            }
            tokio::time::sleep((next - now).min(HEAP_EVERY)).await;
            heap_floor = heap_floor.min(heap_kib());
        }
        let mut s = sample(started, &tally, &server, &instance).await;
        s.heap_kib = s.heap_kib.min(heap_floor);
        println!("{}", row(&s, ""));
        samples.push(s);
        next += every;
    }
    for task in tasks {
        task.await.context("a client loop panicked")?;
    }
    // Drain: every connection and channel gone, then the tasks settle.
    let drain_until = Instant::now() + Duration::from_secs(15);
    while (server.open_connections() > 0 || server.open_channels() > 0)
        && Instant::now() < drain_until
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut after = sample(started, &tally, &server, &instance).await;
    while after.tasks > before.tasks + IDLE_SLACK && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = sample(started, &tally, &server, &instance).await;
    }
    println!("{}", row(&after, "drained"));
    let left: Vec<_> = list_files(instance.sandbox.root())
        .0
        .difference(&files_before)
        .map(|p| format!("/{}", p.display()))
        .collect();

    let Some(first) = samples.first().copied() else {
        bail!("no sample taken: --soak must be at least --soak-sample");
    };
    let last = samples.last().copied().unwrap_or(first);
    let max = |f: fn(&Sample) -> f64| samples.iter().map(f).fold(f64::MIN, f64::max);
    println!();
    println!(
        "soak of {} with {clients} clients: {} operations ({:.0}/s), {} failed",
        humantime::format_duration(Duration::from_secs(last.elapsed.as_secs())),
        last.ok + last.failed,
        (last.ok + last.failed) as f64 / last.elapsed.as_secs_f64().max(1e-9),
        last.failed
    );
    println!(
        "{:<10} {:>12} {:>10} {:>10} {:>10} {:>14}",
        "measure", "idle before", "first", "last", "max", "idle drained"
    );
    type Pick = fn(&Sample) -> f64;
    let measures: [(&str, Pick); 6] = [
        ("RSS MiB", |s| mib(s.rss_kib)),
        ("heap MiB", |s| mib(s.heap_kib)),
        ("open fds", |s| s.fds as f64),
        ("tasks", |s| s.tasks as f64),
        ("files", |s| s.files as f64),
        ("disk KiB", |s| s.disk_kib as f64),
    ];
    for (name, pick) in measures {
        let prec = usize::from(name.ends_with("MiB"));
        println!(
            "{:<10} {:>12.prec$} {:>10.prec$} {:>10.prec$} {:>10.prec$} {:>14.prec$}",
            name,
            pick(&before),
            pick(&first),
            pick(&last),
            max(pick),
            pick(&after),
        );
    }
    let mix = {
        let per_op = tally.per_op.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::new();
        for (op, (ok, failed)) in per_op.iter() {
            let _ = write!(s, "{} {ok}", op.name());
            if *failed > 0 {
                let _ = write!(s, " ({failed} failed)");
            }
            s.push_str(", ");
        }
        s.trim_end_matches(", ").to_string()
    };
    println!("mix: {mix}");
    {
        let reasons = tally.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let mut top: Vec<_> = reasons.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        for ((op, why), n) in top.into_iter().take(8) {
            println!("  failed {n:>5}x {}: {why}", op.name());
        }
    }
    if !left.is_empty() {
        let shown = left.len().min(12);
        println!(
            "left in the sandbox after the clients removed their directories ({}): {}{}",
            left.len(),
            left[..shown].join(" "),
            if left.len() > shown { " ..." } else { "" }
        );
    }
    let v = verdict(&samples, &before, &after, clients);
    for line in &v.lines {
        println!("  {line}");
    }
    server.shutdown().await;
    if !v.growing.is_empty() {
        println!("verdict: GROWING: {}", v.growing.join("; "));
        bail!("soak: GROWING: {}", v.growing.join("; "));
    }
    println!(
        "verdict: {}",
        if v.judged {
            "flat"
        } else {
            "flat so far (too short to judge the thirds)"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(rss_mib: u64, fds: usize, tasks: usize) -> Sample {
        Sample {
            rss_kib: rss_mib * 1024,
            heap_kib: rss_mib * 512,
            fds,
            tasks,
            ..Sample::default()
        }
    }

    #[test]
    fn steady_figures_with_spikes_are_flat() {
        let mut samples: Vec<Sample> = (0..30).map(|_| s(40, 50, 100)).collect();
        samples[25].tasks = 600; // a fork bomb caught mid-flight
        let idle = s(10, 12, 3);
        let v = verdict(&samples, &idle, &idle, 8);
        assert!(v.judged && v.growing.is_empty(), "{v:?}");
    }

    #[test]
    fn a_slope_in_memory_or_tasks_is_growing() {
        let samples: Vec<Sample> = (0..30)
            .map(|i| s(40 + i, 50, 100 + 20 * i as usize))
            .collect();
        let idle = s(10, 12, 3);
        let v = verdict(&samples, &idle, &idle, 8);
        assert_eq!(v.growing.len(), 3, "{v:?}");
        assert!(v.growing[0].starts_with("RSS") && v.growing[1].starts_with("heap"));
        assert!(v.growing[2].starts_with("tasks"));
    }

    #[test]
    fn tasks_left_after_the_drain_are_growing() {
        let samples: Vec<Sample> = (0..30).map(|_| s(40, 50, 100)).collect();
        let v = verdict(&samples, &s(10, 12, 3), &s(10, 12, 40), 8);
        assert_eq!(v.growing.len(), 1, "{v:?}");
        assert!(v.growing[0].starts_with("tasks idle"));
    }

    #[test]
    fn a_short_run_is_not_judged() {
        let v = verdict(&[s(1, 1, 1)], &s(1, 1, 1), &s(1, 1, 1), 1);
        assert!(!v.judged && v.growing.is_empty());
    }
}
