//! `fakessh bench --tools`: the emulated tools' two figures from issue 3.
//!
//! (a) A simulated 6.5 GB civitdl download at time scale 0, run in-process
//!     through the `Program` trait into a capture sink: wall time (target
//!     < 50 ms) and the number of Model-bar frames (the real tool's count
//!     follows from tqdm's 0.1 s mininterval over the simulated duration).
//! (b) Many concurrent wget sessions at time scale 1, each a ~10 s transfer,
//!     against a `fakessh serve` child process, over a few russh connections:
//!     all must exit 0; the server's peak RSS (VmHWM) is the figure (target
//!     <= 100 MB for 1,000 sessions).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fakessh::instance::{Instance, InstanceConfig};
use fakessh::net::catalog::{FileEntry, ModelEntry};
use fakessh::net::{Catalog, ToolConfig};
use fakessh::program::{Ctx, Input, Output};
use russh::keys::PrivateKey;
use russh::ChannelMsg;

use super::{login, start_fakessh, BenchArgs};

const MODEL_BYTES: u64 = 6_500_000_000;

/// One in-process civitdl run of the 6.5 GB model.
struct CivitdlRun {
    wall: Duration,
    frames: usize,
    rc: i32,
}

async fn civitdl_once(bandwidth: u64) -> anyhow::Result<CivitdlRun> {
    let mut catalog = Catalog::default();
    catalog.models.insert(
        "123456".into(),
        ModelEntry {
            name: Some("Bench Checkpoint".into()),
            version_id: Some(124456),
            stem: Some("bench_checkpoint".into()),
            size: Some(MODEL_BYTES),
            images: Some(3),
            ..ModelEntry::default()
        },
    );
    let instance = Instance::create(InstanceConfig {
        time_scale: 0.0,
        tools: ToolConfig {
            bandwidth_bytes_per_s: bandwidth,
            catalog: Arc::new(catalog),
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    })?;
    let (stdout, out) = Output::capture();
    let (stderr, err) = Output::capture();
    let mut ctx = Ctx {
        argv: ["civitdl", "123456", "/workspace/ComfyUI/models/checkpoints"]
            .map(String::from)
            .to_vec(),
        env: instance.login_env("root"),
        cwd: "/tmp".into(),
        stdin: Input::empty(),
        stdout,
        stderr,
        instance: instance.clone(),
        faults: Default::default(),
    };
    let program = fakessh::tools::lookup("civitdl").context("civitdl")?;
    let started = Instant::now();
    let rc = program.run(&mut ctx).await;
    let wall = started.elapsed();
    let frames = out.text().matches("Model:").count() + err.text().matches("Model:").count();
    Ok(CivitdlRun { wall, frames, rc })
}

/// What (b) saw.
struct WgetRun {
    sessions: usize,
    connections: usize,
    ok: usize,
    first_failure: Option<String>,
    wall: Duration,
    bytes_received: u64,
    rss_start_kib: u64,
    hwm_kib: u64,
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

async fn wget_sessions(args: &BenchArgs, key: &Arc<PrivateKey>) -> anyhow::Result<WgetRun> {
    let bandwidth = 4_000_000u64;
    let size = bandwidth * args.transfer_secs;
    let host = "models.bench.lan";
    let dir = tempfile::tempdir()?;
    let mut catalog = Catalog::default();
    for i in 0..args.sessions {
        catalog.files.insert(
            format!("https://{host}/model-{i}.safetensors"),
            FileEntry {
                size: Some(size),
                ..FileEntry::default()
            },
        );
    }
    let catalog_path = dir.path().join("catalog.json");
    std::fs::write(&catalog_path, serde_json::to_vec(&catalog)?)?;
    let server = start_fakessh(&[
        "--time-scale".into(),
        "1".into(),
        "--bandwidth".into(),
        bandwidth.to_string(),
        "--catalog".into(),
        catalog_path.display().to_string(),
    ])?;
    let pid = server.child.id();
    let addr: SocketAddr = server.addr;
    // Connect first (handshakes are not what this measures).
    let mut handles = Vec::new();
    for _ in 0..args.connections.max(1) {
        handles.push(Arc::new(login(addr, key).await?));
    }
    let rss_start_kib = proc_status_kib(pid, "VmRSS:");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.sessions {
        let handle = handles[i % handles.len()].clone();
        let command = format!(
            "export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && wget --progress=bar:force \
             -P \"$UI_HOME\"/models/loras https://{host}/model-{i}.safetensors"
        );
        tasks.push(tokio::spawn(async move {
            let mut channel = handle.channel_open_session().await?;
            channel.exec(true, command).await?;
            let mut status = None;
            let mut bytes = 0u64;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                        bytes += data.len() as u64
                    }
                    ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            anyhow::Ok((status, bytes))
        }));
    }
    let mut ok = 0;
    let mut first_failure = None;
    let mut bytes_received = 0;
    for task in tasks {
        match task.await? {
            Ok((Some(0), bytes)) => {
                ok += 1;
                bytes_received += bytes;
            }
            Ok((status, _)) => {
                first_failure.get_or_insert(format!("exit status {status:?}"));
            }
            Err(e) => {
                first_failure.get_or_insert(format!("{e:#}"));
            }
        }
    }
    let wall = started.elapsed();
    let hwm_kib = proc_status_kib(pid, "VmHWM:");
    drop(handles);
    drop(server);
    Ok(WgetRun {
        sessions: args.sessions,
        connections: args.connections,
        ok,
        first_failure,
        wall,
        bytes_received,
        rss_start_kib,
        hwm_kib,
    })
}

/// Runs both measurements and prints the table.
pub(super) async fn run(args: &BenchArgs, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let bandwidth = ToolConfig::default().bandwidth_bytes_per_s;
    eprintln!("(a) civitdl, 6.5 GB at time scale 0, in-process ...");
    let _warm = civitdl_once(bandwidth).await?;
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(civitdl_once(bandwidth).await?);
    }
    if let Some(bad) = runs.iter().find(|r| r.rc != 0) {
        bail!("civitdl exited {}", bad.rc);
    }
    runs.sort_by_key(|r| r.wall);
    let median = &runs[runs.len() / 2];
    // civitdl feeds tqdm 1 MiB steps; tqdm redraws at the first step at
    // least 0.1 s (mininterval) after the last frame, so every
    // ceil(0.1 s / step time) steps; plus the 0% frame and the final frame
    // printed twice.
    let simulated_s = MODEL_BYTES as f64 / bandwidth as f64;
    let step_s = (1u64 << 20) as f64 / bandwidth as f64;
    let steps = MODEL_BYTES.div_ceil(1 << 20) as f64;
    let expected = (steps / (0.1 / step_s).ceil()).floor() as usize + 3;
    eprintln!(
        "(b) {} wget sessions over {} connections, ~{} s each at time scale 1 ...",
        args.sessions, args.connections, args.transfer_secs
    );
    let w = wget_sessions(args, key).await?;

    println!();
    println!("{:<58} {:>24} {:>12}", "measure", "value", "target");
    println!(
        "{:<58} {:>24} {:>12}",
        "(a) civitdl 6.5 GB, time scale 0: wall (median of 5)",
        format!("{:.1} ms", median.wall.as_secs_f64() * 1e3),
        "< 50 ms"
    );
    println!(
        "{:<58} {:>24} {:>12}",
        "    wall min / max",
        format!(
            "{:.1} / {:.1} ms",
            runs[0].wall.as_secs_f64() * 1e3,
            runs[runs.len() - 1].wall.as_secs_f64() * 1e3
        ),
        ""
    );
    println!(
        "{:<58} {:>24} {:>12}",
        format!(
            "    Model-bar frames ({:.1} s simulated at {} MB/s)",
            simulated_s,
            bandwidth / 1_000_000
        ),
        median.frames,
        format!("~{expected}")
    );
    println!(
        "{:<58} {:>24} {:>12}",
        format!(
            "(b) wget sessions exiting 0 ({} over {} connections)",
            w.sessions, w.connections
        ),
        format!("{} / {}", w.ok, w.sessions),
        "all"
    );
    println!(
        "{:<58} {:>24} {:>12}",
        format!("    wall for all sessions (each ~{} s)", args.transfer_secs),
        format!("{:.2} s", w.wall.as_secs_f64()),
        ""
    );
    println!(
        "{:<58} {:>24} {:>12}",
        "    progress bytes received by the client", w.bytes_received, ""
    );
    println!(
        "{:<58} {:>24} {:>12}",
        "    server RSS after login / peak (VmHWM)",
        format!(
            "{:.1} / {:.1} MB",
            w.rss_start_kib as f64 * 1024.0 / 1e6,
            w.hwm_kib as f64 * 1024.0 / 1e6
        ),
        "<= 100 MB"
    );
    if let Some(f) = w.first_failure {
        println!("    first failed session: {f}");
    }
    Ok(())
}
