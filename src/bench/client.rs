//! `fakessh bench --client`: the companion library's two figures.
//!
//! (a) Parser throughput: a generated 1M-line mixed log (civitdl tqdm
//!     frames, wget bar redraws and dot lines, curl meter, hf tqdm bars,
//!     git phase meters, aria2c readouts, errors) parsed by the auto parser
//!     in process (lines/s, MB/s), through `fakessh parse` as a child
//!     process (stdout to /dev/null, wall time), and, when `python3` is
//!     there, by `scripts/bench_parse.py` (the original handler's parsing),
//!     with the Rust/Python ratios.
//! (b) Handler throughput: 1,000 wget jobs over 10 in-process fixture
//!     instances at time scale 0, queue and status files on a scratch dir,
//!     run to idle; jobs/s (target >= 200).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fakessh::client::handler::{Handler, HandlerConfig};
use fakessh::client::progress::{AutoParser, ProgressStream};
use fakessh::fixture::FakeInstance;
use fakessh::jobs::queue::{Job, JobStatus, Queue};
use fakessh::jobs::status::{StatusEntry, StatusFile};
use fakessh::net::catalog::FileEntry;
use fakessh::net::Catalog;

use super::BenchArgs;

/// A mixed log of `lines` lines, cycling through the six tools' shapes (as
/// in the captures): each tool's start line, so the auto parser switches to
/// it, then its progress redraws (`\r`), completions and errors.
fn mixed_log(lines: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines * 80);
    let mut i = 0usize;
    while i < lines {
        let pct = i % 101;
        let bar = "#".repeat(pct / 5);
        let blocks = "█".repeat(pct / 5);
        let chunk: [String; 20] = [
            // civitdl
            "Now downloading \"Detail Tweaker\"...\n".into(),
            format!("Model: {pct:>3}%|{bar:<20}| {}M/144M [00:0{}<00:02, 41.2MB/s]\r", pct * 144 / 100, pct % 10),
            format!("Images: {pct:>3}%|{bar:<20}| {}/3 [00:00<00:00, 8.10it/s]\r", pct * 3 / 100),
            "Download completed for \"Detail Tweaker\"\n".into(),
            // wget
            "--2026-11-26 09:47:35--  https://huggingface.co/org/repo/resolve/main/vae.safetensors\n".into(),
            "HTTP request sent, awaiting response... 200 OK\n".into(),
            format!("vae.safetensors     {pct:>3}%[=========>          ] 100.2M  40.1MB/s    eta 2s     \r"),
            format!("  {}K .......... .......... .......... .......... .......... {pct:>3}% 39.9M 1s\n", i % 100_000),
            "2026-11-26 09:47:36 ERROR 404: Not Found.\n".into(),
            // curl
            "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n".into(),
            format!("{pct:>3} 1000M  {pct:>3}  410M    0     0  40.1M      0  0:00:24  0:00:10  0:00:14 40.2M\r"),
            "curl: (22) The requested URL returned error: 404\n".into(),
            // hf
            "Downloading 'model.safetensors' to '/workspace/ComfyUI/models/ckpt/.cache/huggingface/download/evydu8xppMGLxOLpJURZs13GVpc=.incomplete'\n".into(),
            format!("model.safetensors: {pct:>3}%|{blocks:<20}| {}.5M/20.0M [00:01<00:00, 9.83MB/s]\r", pct / 5),
            "Download complete. Moving file to /workspace/ComfyUI/models/ckpt/model.safetensors\n".into(),
            // git
            "Cloning into 'ComfyUI-Manager'...\n".into(),
            format!("remote: Counting objects: {pct:>3}% ({}/54643)\x1b[K\r", pct * 546),
            format!("Receiving objects: {pct:>3}% ({}/54643), 17.83 MiB | 35.65 MiB/s\r", pct * 546),
            // aria2c
            "11/26 09:52:43 [\x1b[1;32mNOTICE\x1b[0m] Downloading 1 item(s)\n".into(),
            format!("[#19a86c {}MiB/5.7MiB({pct}%) CN:1 DL:2.8MiB ETA:1s]\r", pct / 20),
        ];
        for line in chunk {
            if i >= lines {
                break;
            }
            out.extend_from_slice(line.as_bytes());
            i += 1;
        }
    }
    out
}

struct ParserRun {
    bytes: usize,
    events: usize,
    wall: Duration,
}

fn parse_once(log: &[u8]) -> ParserRun {
    let mut stream = ProgressStream::new(Box::new(AutoParser::default()));
    let mut events = Vec::new();
    let mut count = 0;
    let started = Instant::now();
    // 64 KiB reads, as from a channel.
    for chunk in log.chunks(64 * 1024) {
        stream.push(chunk, &mut events);
        count += events.len();
        events.clear();
    }
    stream.finish(&mut events);
    count += events.len();
    ParserRun {
        bytes: log.len(),
        events: count,
        wall: started.elapsed(),
    }
}

/// The wall time of `program args < log > /dev/null`; fails unless it exits 0.
fn spawn_once(program: &Path, args: &[&str], log: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(std::fs::File::open(log)?)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    let wall = started.elapsed();
    if !status.success() {
        bail!("{} {args:?} exited with {status}", program.display());
    }
    Ok(wall)
}

/// The median of `runs` runs.
fn median_of(
    runs: usize,
    mut once: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<Duration> {
    let mut walls = (0..runs)
        .map(|_| once())
        .collect::<anyhow::Result<Vec<_>>>()?;
    walls.sort();
    Ok(walls[walls.len() / 2])
}

/// The Python stand-in for the original handler's parsing (bench only).
const PYTHON_PARSER: &str = include_str!("../../scripts/bench_parse.py");

/// `python3 --version`, or `None` when there is no python3.
fn python_version() -> Option<String> {
    let out = Command::new("python3").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Part (a): the parsers in process, through the `fakessh parse` CLI, and
/// the original's Python parsing, all on the same log; prints the rows.
fn parser_rows() -> anyhow::Result<()> {
    const LINES: usize = 1_000_000;
    eprintln!("(a) parsing a {LINES}-line mixed log ...");
    let log = mixed_log(LINES);
    let _warm = parse_once(&log);
    let mut runs: Vec<ParserRun> = (0..3).map(|_| parse_once(&log)).collect();
    runs.sort_by_key(|r| r.wall);
    let p = &runs[1];
    let secs = p.wall.as_secs_f64();
    let mb = p.bytes as f64 / 1e6;

    let dir = tempfile::tempdir()?;
    let log_path = dir.path().join("mixed.log");
    std::fs::write(&log_path, &log)?;
    let exe = std::env::current_exe().context("the fakessh binary")?;
    eprintln!("(a) fakessh parse < {} > /dev/null ...", log_path.display());
    let cli = median_of(3, || spawn_once(&exe, &["parse"], &log_path))?.as_secs_f64();
    let python = match python_version() {
        Some(version) => {
            let script = dir.path().join("bench_parse.py");
            std::fs::write(&script, PYTHON_PARSER)?;
            eprintln!(
                "(a) {version} bench_parse.py < {} > /dev/null ...",
                log_path.display()
            );
            let script = script.to_string_lossy().into_owned();
            let wall = spawn_once(Path::new("python3"), &[&script], &log_path)?;
            Some((version, wall.as_secs_f64()))
        }
        None => None,
    };

    let row = |measure: String, value: String, target: &str| {
        println!("{measure:<62} {value:>22} {target:>12}");
    };
    println!();
    row("measure".into(), "value".into(), "target");
    row(
        format!("(a) parser in process, {LINES} lines / {mb:.1} MB mixed log (median of 3)"),
        format!("{:.0} lines/s", LINES as f64 / secs),
        ">= 4M",
    );
    row("    MB/s".into(), format!("{:.1}", mb / secs), "");
    row(
        "    events / wall".into(),
        format!("{} / {:.0} ms", p.events, secs * 1e3),
        "",
    );
    row(
        "(a) CLI: fakessh parse < log > /dev/null, wall (median of 3)".into(),
        format!("{:.0} lines/s", LINES as f64 / cli),
        ">= 2M",
    );
    row(
        "    MB/s / wall".into(),
        format!("{:.1} / {:.0} ms", mb / cli, cli * 1e3),
        "",
    );
    match python {
        Some((version, py)) => {
            row(
                format!("(a) Python, the original's parsing ({version}, 1 run)"),
                format!("{:.0} lines/s", LINES as f64 / py),
                "",
            );
            row(
                "    Rust/Python: in process, CLI".into(),
                format!("{:.1}x, {:.1}x", py / secs, py / cli),
                "",
            );
        }
        None => row("(a) Python: no python3, skipped".into(), "-".into(), ""),
    }
    Ok(())
}

struct HandlerRun {
    jobs: usize,
    instances: usize,
    per_instance: usize,
    complete: usize,
    wall: Duration,
    dir: String,
}

async fn handler_once(
    jobs: usize,
    instances: usize,
    per_instance: usize,
    on_disk: bool,
) -> anyhow::Result<HandlerRun> {
    let mut catalog = Catalog::default();
    for i in 0..jobs {
        catalog.files.insert(
            format!("https://huggingface.co/bench/repo/resolve/main/f{i}.safetensors"),
            FileEntry {
                size: Some(50_000_000),
                ..FileEntry::default()
            },
        );
    }
    let mut gpus = Vec::new();
    for i in 0..instances {
        gpus.push(
            FakeInstance::builder()
                .seed(i as u64)
                .catalog(catalog.clone())
                .start()
                .await?,
        );
    }
    let dir = if on_disk {
        tempfile::tempdir()?
    } else {
        tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir())?
    };
    let known_hosts = dir.path().join("known_hosts");
    let lines: String = gpus
        .iter()
        .map(|g| format!("{}\n", g.known_hosts_line()))
        .collect();
    std::fs::write(&known_hosts, lines)?;
    let mut config = HandlerConfig::new(
        dir.path().join("download_queue.json"),
        dir.path().join("download_status.json"),
        gpus[0].client_key_path(),
        &known_hosts,
    );
    config.per_instance = per_instance;
    config.parallel = instances * per_instance;
    let queue = Queue::new(&config.queue);
    let status = StatusFile::new(&config.status);
    let mut batch = Vec::new();
    for i in 0..jobs {
        let gpu = &gpus[i % instances];
        batch.push(Job::new(
            &gpu.connection_string(),
            &format!("job {i}"),
            vec![format!(
                "wget --progress=bar:force -P \"$UI_HOME\"/models/loras \
                 https://huggingface.co/bench/repo/resolve/main/f{i}.safetensors"
            )],
        )?);
    }
    status.update(|s| {
        for j in &batch {
            s.insert(StatusEntry::for_job(j))?;
        }
        Ok(())
    })?;
    queue.update(|q| {
        for j in batch {
            q.insert(j)?;
        }
        Ok(())
    })?;
    let handler = Handler::new(config)?;
    let started = Instant::now();
    let summary = handler.run_until_idle().await?;
    let wall = started.elapsed();
    let complete = queue
        .load()?
        .iter()
        .filter(|j| j.status == JobStatus::Complete)
        .count();
    if summary.complete != complete {
        bail!(
            "summary says {} complete, the queue {complete}",
            summary.complete
        );
    }
    Ok(HandlerRun {
        jobs,
        instances,
        per_instance,
        complete,
        wall,
        dir: if on_disk { "disk (fsync)" } else { "tmpfs" }.into(),
    })
}

/// Runs both measurements and prints the table (part (a) alone with
/// `--parse-only`).
pub(super) async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    parser_rows()?;
    if args.parse_only {
        return Ok(());
    }
    let jobs = args.jobs;
    let mut handler_runs = Vec::new();
    for (per_instance, on_disk) in [(1, false), (4, false), (1, true)] {
        eprintln!(
            "(b) handler: {jobs} jobs over 10 instances, per-instance {per_instance}, {} ...",
            if on_disk { "disk" } else { "tmpfs" }
        );
        handler_runs.push(
            handler_once(jobs, 10, per_instance, on_disk)
                .await
                .context("handler run")?,
        );
    }

    for h in &handler_runs {
        println!(
            "{:<62} {:>22} {:>12}",
            format!(
                "(b) handler, {} jobs / {} instances, per-instance {}, {}",
                h.jobs, h.instances, h.per_instance, h.dir
            ),
            format!("{:.0} jobs/s", h.complete as f64 / h.wall.as_secs_f64()),
            ">= 200"
        );
        println!(
            "{:<62} {:>22} {:>12}",
            "    complete / wall",
            format!("{} / {:.2} s", h.complete, h.wall.as_secs_f64()),
            ""
        );
    }
    Ok(())
}
