//! `fakessh bench`: full connect + auth + exec + close cycles per second at
//! concurrency 1 and 8, and server RSS with many idle sessions open, for a
//! fakessh server started as a child process and, when an OpenSSH `sshd`
//! is installed, for sshd on another loopback port in the same run. The
//! figures that matter are the ratios: both servers meet the same client
//! on the same (noisy) machine within one run.
//!
//! `fakessh bench --tools` measures the emulated tools instead (see [`tools`]);
//! `fakessh bench --client` the parsers and the handler (see [`client`]);
//! `fakessh bench --soak DURATION` holds a mixed load and checks that
//! memory, descriptors and tasks stay flat (see [`soak`]); `fakessh bench
//! --floods` times a new client while each flood is held (see [`flood`]);
//! `fakessh bench --comfyui` runs prompts through an `ssh -L` tunnel (see
//! [`comfyui`]).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg};
use russh::ChannelMsg;

mod client;
mod comfyui;
mod flood;
mod soak;
mod tools;

/// What to measure.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Cycles per concurrency level.
    #[arg(long, default_value_t = 400)]
    cycles: usize,
    /// Idle sessions to hold open for the memory figure.
    #[arg(long, default_value_t = 1000)]
    idle_sessions: usize,
    /// The sshd to compare with (skipped when absent).
    #[arg(long, default_value = "/usr/sbin/sshd")]
    sshd: PathBuf,
    /// Measure the emulated tools instead: a 6.5 GB civitdl run at time
    /// scale 0, and concurrent wget sessions at time scale 1.
    #[arg(long)]
    tools: bool,
    /// Measure the client instead: parser throughput on a 1M-line log, and
    /// handler jobs/s over 10 in-process instances at time scale 0.
    #[arg(long)]
    client: bool,
    /// With --client: only part (a), the parsers (in process, CLI, Python).
    #[arg(long)]
    parse_only: bool,
    /// With --client: jobs in the handler run.
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// With --tools: concurrent wget sessions.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// With --tools: SSH connections the sessions share.
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// With --tools: seconds each wget transfer takes (simulated = real at scale 1).
    #[arg(long, default_value_t = 10)]
    transfer_secs: u64,
    /// Soak instead: mixed exec/shell/SFTP/download load with faults for
    /// this long (e.g. 10m), sampling RSS, open fds and tokio tasks; fails
    /// when they grow (see [`soak`]).
    #[arg(long, value_name = "DURATION")]
    soak: Option<humantime::Duration>,
    /// With --soak: concurrent client loops.
    #[arg(long, default_value_t = 8)]
    soak_clients: usize,
    /// With --soak: only these operations (comma-separated: exec, shell,
    /// sftp, wget, civitdl, fault, hostile, drop, fresh), to find which one
    /// leaks.
    #[arg(long, value_delimiter = ',', value_name = "OPS")]
    soak_ops: Vec<String>,
    /// The instance's ComfyUI over `ssh -L` instead: prompts per second at
    /// time scale 0 over one tunnel (`--cycles` prompts), and the server's
    /// RSS with 100 tunnels held (see [`comfyui`]).
    #[arg(long)]
    comfyui: bool,
    /// Floods instead: hold each flood a hostile client can make and time
    /// a new client meanwhile (see [`flood`]).
    #[arg(long)]
    floods: bool,
    /// With --floods: connections in each flood.
    #[arg(long, default_value_t = 2000)]
    flood_size: usize,
    /// With --soak: time between two printed samples.
    #[arg(long, default_value = "5s")]
    soak_sample: humantime::Duration,
}

struct AnyHost;

impl russh::client::Handler for AnyHost {
    type Error = russh::Error;
    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

async fn login(
    addr: SocketAddr,
    key: &Arc<PrivateKey>,
) -> anyhow::Result<russh::client::Handle<AnyHost>> {
    let config = Arc::new(russh::client::Config {
        nodelay: true,
        ..Default::default()
    });
    let mut handle = russh::client::connect(config, addr, AnyHost).await?;
    let auth = handle
        .authenticate_publickey("root", PrivateKeyWithHashAlg::new(key.clone(), None))
        .await?;
    if !auth.success() {
        bail!("login refused by {addr}");
    }
    Ok(handle)
}

/// One full cycle: connect, authenticate, `exec true`, read to close, disconnect.
async fn cycle(addr: SocketAddr, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let handle = login(addr, key).await?;
    let mut channel = handle.channel_open_session().await?;
    channel.exec(true, "true").await?;
    let mut status = None;
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    if status != Some(0) {
        bail!("exec true ended with {status:?}");
    }
    handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await?;
    Ok(())
}

/// Cycles per second at `concurrency`.
async fn rate(
    addr: SocketAddr,
    key: &Arc<PrivateKey>,
    cycles: usize,
    concurrency: usize,
) -> anyhow::Result<f64> {
    // Warm up (first connections pay for lazy init on both sides).
    for _ in 0..5 {
        cycle(addr, key).await?;
    }
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..cycles)
        .map(|_| cycle(addr, key))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        bail!("{failed} of {cycles} cycles failed; first: {e:#}");
    }
    Ok(cycles as f64 / elapsed)
}

/// Resident memory of a process and its children, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut pids = vec![pid];
    while let Some(p) = pids.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    total
}

/// Holds `n` authenticated connections, each with an idle session channel.
async fn idle_sessions(
    addr: SocketAddr,
    key: &Arc<PrivateKey>,
    n: usize,
) -> anyhow::Result<
    Vec<(
        russh::client::Handle<AnyHost>,
        russh::Channel<russh::client::Msg>,
    )>,
> {
    let opened: Vec<anyhow::Result<_>> = futures::stream::iter(0..n)
        .map(|_| async move {
            let handle = login(addr, key).await?;
            let channel = handle.channel_open_session().await?;
            Ok((handle, channel))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    opened.into_iter().collect()
}

struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `fakessh serve` on a free loopback port, with `extra` flags.
fn start_fakessh(extra: &[String]) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--banner", "off"])
        .args(extra)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting fakessh serve")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .context("fakessh did not announce its address")?
        .parse()?;
    Ok(Server {
        name: "fakessh",
        child,
        addr,
        _dir: dir,
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_sshd(sshd: &Path, key: &PrivateKey) -> anyhow::Result<Server> {
    use russh::keys::ssh_key::LineEnding;
    let dir = tempfile::tempdir()?;
    let host_key = dir.path().join("host_key");
    let host = fakessh::server::keys::generate();
    std::fs::write(&host_key, host.to_openssh(LineEnding::LF)?.as_bytes())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&host_key, std::fs::Permissions::from_mode(0o600))?;
    let authorized = dir.path().join("authorized_keys");
    std::fs::write(&authorized, key.public_key().to_openssh()?)?;
    let port = free_port()?;
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             StrictModes no\nUsePAM no\nPermitRootLogin yes\nPasswordAuthentication no\n\
             PidFile {}\nMaxStartups 2000\nMaxSessions 100\nLogLevel QUIET\nUseDNS no\n\
             PrintMotd no\nPrintLastLog no\n",
            host_key.display(),
            authorized.display(),
            dir.path().join("sshd.pid").display()
        ),
    )?;
    std::fs::create_dir_all("/run/sshd")?;
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", sshd.display()))?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(Server {
                name: "sshd",
                child,
                addr,
                _dir: dir,
            });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    bail!("sshd did not start listening on {addr}")
}

struct Row {
    server: &'static str,
    c1: f64,
    c8: f64,
    idle_kib: Option<(u64, u64)>,
}

/// Runs the benchmark and prints the table.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let key = Arc::new(PrivateKey::random(
        &mut rand_keys::rng(),
        Algorithm::Ed25519,
    )?);
    if args.tools {
        return tools::run(&args, &key).await;
    }
    if args.client {
        return client::run(&args).await;
    }
    if args.soak.is_some() {
        return soak::run(&args, &key).await;
    }
    if args.floods {
        return flood::run(&args, &key).await;
    }
    if args.comfyui {
        return comfyui::run(&args, &key).await;
    }
    let mut servers = vec![start_fakessh(&[])?];
    if args.sshd.exists() {
        match start_sshd(&args.sshd, &key) {
            Ok(s) => servers.push(s),
            Err(e) => eprintln!("sshd skipped: {e:#}"),
        }
    } else {
        eprintln!(
            "sshd not found at {}: comparing nothing",
            args.sshd.display()
        );
    }
    let mut rows = Vec::new();
    for server in &servers {
        eprintln!("measuring {} on {} ...", server.name, server.addr);
        let c1 = rate(server.addr, &key, args.cycles, 1).await?;
        let c8 = rate(server.addr, &key, args.cycles, 8).await?;
        let idle_kib = if server.name == "fakessh" {
            let before = rss_kib(server.child.id());
            let held = idle_sessions(server.addr, &key, args.idle_sessions).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let after = rss_kib(server.child.id());
            drop(held);
            Some((before, after))
        } else {
            None
        };
        rows.push(Row {
            server: server.name,
            c1,
            c8,
            idle_kib,
        });
    }
    println!();
    println!(
        "{:<10} {:>14} {:>14} {:>26}",
        "server", "cycles/s c=1", "cycles/s c=8", "RSS KiB idle -> +sessions"
    );
    for r in &rows {
        let mem = match r.idle_kib {
            Some((b, a)) => format!("{b} -> {a} ({} sessions)", args.idle_sessions),
            None => "-".into(),
        };
        println!("{:<10} {:>14.1} {:>14.1} {:>26}", r.server, r.c1, r.c8, mem);
    }
    if let [fake, sshd] = rows.as_slice() {
        println!(
            "ratio fakessh/sshd: c=1 {:.2}x, c=8 {:.2}x (target >= 3x)",
            fake.c1 / sshd.c1,
            fake.c8 / sshd.c8
        );
    }
    Ok(())
}
