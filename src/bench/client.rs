//! `fakessh bench --client`: the companion library's two figures.
//!
//! (a) Parser throughput: a generated 1M-line mixed log (civitdl tqdm
//!     frames, wget bar redraws and dot lines, curl meter, errors) parsed
//!     by the auto parser, in MB/s and lines/s.
//! (b) Handler throughput: 1,000 wget jobs over 10 in-process fixture
//!     instances at time scale 0, queue and status files on a scratch dir,
//!     run to idle; jobs/s (target >= 200).

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

/// A mixed log of `lines` lines, cycling through the tools' shapes.
fn mixed_log(lines: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines * 80);
    let mut i = 0usize;
    while i < lines {
        let pct = i % 101;
        let chunk: [String; 10] = [
            "Now downloading \"Detail Tweaker\"...\n".into(),
            format!("Model: {pct:>3}%|{:<20}| {}M/144M [00:0{}<00:02, 41.2MB/s]\r", "#".repeat(pct / 5), pct * 144 / 100, pct % 10),
            format!("Images: {pct:>3}%|{:<20}| {}/3 [00:00<00:00, 8.10it/s]\r", "#".repeat(pct / 5), pct * 3 / 100),
            "--2026-11-26 09:47:35--  https://huggingface.co/org/repo/resolve/main/vae.safetensors\n".into(),
            "HTTP request sent, awaiting response... 200 OK\n".into(),
            format!("vae.safetensors     {pct:>3}%[=========>          ] 100.2M  40.1MB/s    eta 2s     \r"),
            format!("  {}K .......... .......... .......... .......... .......... {pct:>3}% 39.9M 1s\n", i % 100_000),
            format!("{pct:>3} 1000M  {pct:>3}  410M    0     0  40.1M      0  0:00:24  0:00:10  0:00:14 40.2M\r"),
            "2026-11-26 09:47:36 ERROR 404: Not Found.\n".into(),
            "Download completed for \"Detail Tweaker\"\n".into(),
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
    lines: usize,
    events: usize,
    wall: Duration,
}

fn parse_once(log: &[u8], lines: usize) -> ParserRun {
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
        lines,
        events: count,
        wall: started.elapsed(),
    }
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

/// Runs both measurements and prints the table.
pub(super) async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    const LINES: usize = 1_000_000;
    eprintln!("(a) parsing a {LINES}-line mixed log ...");
    let log = mixed_log(LINES);
    let _warm = parse_once(&log, LINES);
    let mut runs: Vec<ParserRun> = (0..3).map(|_| parse_once(&log, LINES)).collect();
    runs.sort_by_key(|r| r.wall);
    let p = &runs[1];
    let secs = p.wall.as_secs_f64();

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

    println!();
    println!("{:<62} {:>22} {:>12}", "measure", "value", "target");
    println!(
        "{:<62} {:>22} {:>12}",
        format!(
            "(a) parser, {} lines / {:.1} MB mixed log (median of 3)",
            p.lines,
            p.bytes as f64 / 1e6
        ),
        format!("{:.1} MB/s", p.bytes as f64 / 1e6 / secs),
        ""
    );
    println!(
        "{:<62} {:>22} {:>12}",
        "    lines/s",
        format!("{:.0}", p.lines as f64 / secs),
        ""
    );
    println!(
        "{:<62} {:>22} {:>12}",
        "    events / wall",
        format!("{} / {:.0} ms", p.events, secs * 1e3),
        ""
    );
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
