//! The client loops: each keeps a steady and a faulty connection and runs
//! one operation of the mix after another against the instance.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use russh::client::Handle;
use russh::keys::PrivateKey;
use tokio::io::AsyncWriteExt;

use super::channel::{anything_within, exec, read_to_close, sftp_pump, Ran};
use super::ops::{Op, Tally};
use super::SEED;
use crate::bench::{login, AnyHost};

/// The longest any one operation may take before it counts as failed.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// Operations between two clean-ups of a client's scratch directory.
const CLEANUP_EVERY: u64 = 25;

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
pub(super) struct Client {
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
    /// Client `id` of the run: no connection yet, its own scratch
    /// directory and its own dice (seeded from the run's seed).
    pub(super) fn new(
        id: usize,
        addr: SocketAddr,
        key: Arc<PrivateKey>,
        mix: Arc<[(Op, u32)]>,
    ) -> Client {
        Client {
            addr,
            key,
            rng: ChaCha8Rng::seed_from_u64(SEED ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9)),
            steady: None,
            faulty: None,
            dir: format!("/tmp/soak/c{id}"),
            done: 0,
            mix,
        }
    }

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
        let url = format!("https://huggingface.co/soak/repo/resolve/main/f{k}.safetensors");
        self.download("wget", format!("mkdir -p {d} && wget {quiet}-P {d} {url}"))
            .await
    }

    async fn civitdl(&mut self) -> anyhow::Result<()> {
        let d = self.dir.clone();
        let id = self.rng.gen_range(100_000..100_040);
        let url = format!("https://civitai.com/models/{id}");
        let flags = "--retry-count 1 --pause-time 0";
        self.download(
            "civitdl",
            format!("mkdir -p {d} && civitdl \"{url}\" {d} {flags}"),
        )
        .await
    }

    /// Runs a download on the connection faults may drop.
    async fn download(&mut self, tool: &str, command: String) -> anyhow::Result<()> {
        let ran = self.run_on(Conn::Faulty, &command).await?;
        // Faults fail some (exit 8, or a disconnect): what matters is an end.
        if ran.status.is_some() {
            ran.exited(tool)?;
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

    /// Picks and runs operations until `deadline`, each counted in `tally`;
    /// then removes its directory and closes its connections.
    pub(super) async fn run_until(mut self, deadline: Instant, tally: Arc<Tally>) {
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
