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
//!
//! The rooms: `ops` (the mix and the tally), `load` (the client loops) over
//! `channel` (one channel's I/O), `sample` (the figures and their rows),
//! `verdict` (flat or growing) and `report` (the closing table).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fakessh::instance::{Instance, InstanceConfig};
use fakessh::server::{self, ServerConfig};
use russh::keys::PrivateKey;

mod channel;
mod load;
mod ops;
mod report;
mod sample;
mod verdict;

use super::BenchArgs;
use load::Client;
use ops::{Op, Tally};
use sample::{heap_kib, list_files, row, sample, HEADER, HEAP_EVERY};
use verdict::IDLE_SLACK;

/// Seed of the instance and of the clients' choices.
const SEED: u64 = 7;
/// Journal entries kept (small, so the journal is full after warm-up).
const JOURNAL_CAPACITY: usize = 1000;

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
        let client = Client::new(id, addr, key.clone(), mix.clone());
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

    let v = report::summary(&samples, &before, &after, clients, &tally, &left)?;
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
