//! `fakessh handler`: the handler as a command. Flags (and `FAKESSH_*`
//! variables) build a [`HandlerConfig`]; SIGINT/SIGTERM stop it gracefully.
//! Progress bars when stdout is a terminal, one log line per event otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use super::{Handler, HandlerConfig, HandlerEvent, Observer, RunSummary};
use crate::client::{Error, Result};
use crate::jobs;
use crate::jobs::queue::JobStatus;
use crate::jobs::status::{StatusEntry, StatusFile};

/// The `fakessh handler` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct HandlerArgs {
    /// The queue file (download_queue.json).
    #[arg(long, env = "FAKESSH_QUEUE", default_value = "download_queue.json")]
    pub queue: PathBuf,
    /// The status file (download_status.json).
    #[arg(long, env = "FAKESSH_STATUS", default_value = "download_status.json")]
    pub status: PathBuf,
    /// The private key for every instance (a connection string's `-i` wins).
    #[arg(long, env = "FAKESSH_KEY", default_value = "~/.ssh/id_ed25519")]
    pub key: PathBuf,
    /// The known_hosts file.
    #[arg(
        long,
        env = "FAKESSH_KNOWN_HOSTS",
        default_value = "~/.ssh/known_hosts"
    )]
    pub known_hosts: PathBuf,
    /// Learn unknown host keys (StrictHostKeyChecking=accept-new).
    #[arg(long, env = "FAKESSH_ACCEPT_NEW")]
    pub accept_new: bool,
    /// Jobs at once per instance.
    #[arg(long, env = "FAKESSH_PER_INSTANCE", default_value_t = 1)]
    pub per_instance: usize,
    /// Jobs at once in all.
    #[arg(long, env = "FAKESSH_PARALLEL", default_value_t = 16)]
    pub parallel: usize,
    /// Seconds without output before a command counts as stalled (0 = never).
    #[arg(long, env = "FAKESSH_STALL_TIMEOUT", default_value_t = 300.0)]
    pub stall_timeout: f64,
    /// Seconds a command may run in all (0 = no limit).
    #[arg(long, env = "FAKESSH_COMMAND_TIMEOUT", default_value_t = 0.0)]
    pub command_timeout: f64,
    /// Retries of a transient failure, per command.
    #[arg(long, env = "FAKESSH_RETRIES", default_value_t = 3)]
    pub retries: u32,
    /// Seconds before the first retry (doubling, ±50% jitter).
    #[arg(long, env = "FAKESSH_RETRY_BASE", default_value_t = 2.0)]
    pub retry_base: f64,
    /// Milliseconds between progress writes to the status file.
    #[arg(long, env = "FAKESSH_STATUS_INTERVAL_MS", default_value_t = 500)]
    pub status_interval_ms: u64,
    /// Milliseconds between reads of the queue file.
    #[arg(long, env = "FAKESSH_POLL_MS", default_value_t = 200)]
    pub poll_ms: u64,
    /// civitai API key, appended to civitdl commands as `--api-key`.
    #[arg(long, env = "FAKESSH_CIVITDL_API_KEY", hide_env_values = true)]
    pub civitdl_api_key: Option<String>,
    /// Exit when no job is PENDING or RUNNING instead of waiting for more.
    #[arg(long)]
    pub until_idle: bool,
    /// Test helper: make N locked status updates and exit.
    #[arg(long, hide = true, value_name = "N")]
    pub stress_status_writes: Option<u64>,
    /// Test helper: this writer's name for --stress-status-writes.
    #[arg(long, hide = true, default_value = "w")]
    pub stress_writer: String,
}

fn expand_home(p: &std::path::Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

fn secs(s: f64) -> Option<Duration> {
    (s > 0.0 && s.is_finite()).then(|| Duration::from_secs_f64(s))
}

impl HandlerArgs {
    /// The config these flags describe.
    pub fn config(&self) -> HandlerConfig {
        let mut c = HandlerConfig::new(
            &self.queue,
            &self.status,
            expand_home(&self.key),
            expand_home(&self.known_hosts),
        );
        c.accept_new = self.accept_new;
        c.per_instance = self.per_instance.max(1);
        c.parallel = self.parallel.max(1);
        c.stall_timeout = secs(self.stall_timeout);
        c.command_timeout = secs(self.command_timeout);
        c.retries = self.retries;
        c.retry_base = secs(self.retry_base).unwrap_or(Duration::ZERO);
        c.status_interval = Duration::from_millis(self.status_interval_ms);
        c.poll_interval = Duration::from_millis(self.poll_ms.max(10));
        c.civitdl_api_key = self.civitdl_api_key.clone();
        c
    }
}

/// Runs `fakessh handler`. As a daemon it exits 0 on SIGTERM/SIGINT (failed
/// jobs are data in the status file, not a crash); with `--until-idle` it
/// exits 0 when every job it ran completed, 1 otherwise.
pub async fn run(args: HandlerArgs) -> Result<ExitCode> {
    if let Some(n) = args.stress_status_writes {
        let (path, writer) = (args.status.clone(), args.stress_writer.clone());
        jobs::blocking(move || stress_status_writes(&path, &writer, n)).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let io = |source| Error::Io {
        action: "installing a signal handler",
        path: PathBuf::from("-"),
        source,
    };
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let handler = Handler::new(args.config())?.with_observer(observer());
    let shutdown = async {
        tokio::select! {
            _ = int.recv() => tracing::info!("interrupted"),
            _ = term.recv() => tracing::info!("terminated"),
        }
    };
    let summary = if args.until_idle {
        handler.run_until_idle_or(shutdown).await?
    } else {
        handler.run(shutdown).await?
    };
    report(&summary);
    Ok(
        if !args.until_idle || summary.failed + summary.host_verification_needed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

fn report(s: &RunSummary) {
    println!(
        "handler: {} complete, {} failed, {} host verification needed, {} requeued, {} retries",
        s.complete, s.failed, s.host_verification_needed, s.requeued, s.retries
    );
}

/// Bars on a terminal, log lines otherwise.
fn observer() -> Observer {
    if std::io::stdout().is_terminal() {
        let bars = Bars {
            multi: MultiProgress::new(),
            by_id: Mutex::new(HashMap::new()),
        };
        Arc::new(move |e: &HandlerEvent| bars.show(e))
    } else {
        Arc::new(|e: &HandlerEvent| {
            if let Some(line) = log_line(e) {
                println!("{line}");
            }
        })
    }
}

fn log_line(e: &HandlerEvent) -> Option<String> {
    Some(match e {
        HandlerEvent::Started {
            id,
            display_name,
            instance_id,
            command_index,
            total_commands,
        } => format!(
            "{id} RUNNING {display_name:?} on {instance_id} (command {command_index}/{total_commands})"
        ),
        HandlerEvent::Retrying {
            id,
            retry,
            error,
            delay,
        } => format!(
            "{id} RETRY {retry} in {:.1}s: {error}",
            delay.as_secs_f64()
        ),
        HandlerEvent::Finished { id, status, error } => {
            let status = serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            match error {
                Some(e) => format!("{id} {status}: {e}"),
                None => format!("{id} {status}"),
            }
        }
        HandlerEvent::Progress { .. } => return None,
    })
}

struct Bars {
    multi: MultiProgress,
    by_id: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn show(&self, e: &HandlerEvent) {
        let mut bars = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        match e {
            HandlerEvent::Started {
                id, display_name, ..
            } => {
                let bar = self.multi.add(ProgressBar::new(100));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:30!} [{bar:30}] {pos:>3}% {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(display_name.clone());
                bars.insert(id.clone(), bar);
            }
            HandlerEvent::Progress { id, progress } => {
                if let Some(bar) = bars.get(id) {
                    if let Some(p) = progress.get("percent").and_then(Value::as_f64) {
                        bar.set_position(p.clamp(0.0, 100.0) as u64);
                    }
                    bar.set_message(progress_text(progress));
                }
            }
            HandlerEvent::Retrying {
                id, retry, error, ..
            } => {
                if let Some(bar) = bars.get(id) {
                    bar.set_message(format!("retry {retry}: {error}"));
                }
            }
            HandlerEvent::Finished { id, .. } => {
                if let Some(bar) = bars.remove(id) {
                    bar.finish_and_clear();
                }
                if let Some(line) = log_line(e) {
                    let _ = self.multi.println(line);
                }
            }
        }
    }
}

fn progress_text(p: &Map<String, Value>) -> String {
    ["stage", "downloaded", "total", "speed", "eta"]
        .iter()
        .filter_map(|k| p.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The concurrency check behind `--stress-status-writes`: `n` locked
/// read-modify-writes, each bumping `count` on this writer's entry and on a
/// shared `stress-total` entry. With W writers, nothing lost means every
/// writer's count is `n` and the total is `W * n`.
pub fn stress_status_writes(path: &std::path::Path, writer: &str, n: u64) -> jobs::Result<()> {
    let file = StatusFile::new(path);
    let blank = |id: &str| -> jobs::Result<StatusEntry> {
        serde_json::from_value(serde_json::json!({
            "id": id, "instance_id": "stress", "status": JobStatus::Pending
        }))
        .map_err(jobs::Error::Serialize)
    };
    let mine = format!("stress-{writer}");
    for _ in 0..n {
        file.update(|entries| {
            for id in ["stress-total", mine.as_str()] {
                if entries.get(id).is_err() {
                    entries.insert(blank(id)?)?;
                }
                let e = entries.get_mut(id)?;
                let count = e.extra.get("count").and_then(Value::as_u64).unwrap_or(0);
                e.extra.insert("count".into(), Value::from(count + 1));
            }
            Ok(())
        })?;
    }
    Ok(())
}
