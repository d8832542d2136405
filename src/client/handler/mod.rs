//! The download handler: runs the queue's PENDING jobs on their instances
//! over SSH and keeps the status file current.
//!
//! - Jobs run in parallel across instances, at most
//!   [`HandlerConfig::per_instance`] per instance and
//!   [`HandlerConfig::parallel`] in all. The queue is re-read every
//!   [`HandlerConfig::poll_interval`] and whenever a job ends, so jobs added
//!   while it runs are picked up.
//! - A job is claimed under the queue's lock (PENDING -> RUNNING, with a
//!   `claimed_by` / `claimed_pid` / `claimed_host` mark), so two handlers on
//!   the same files never run a job twice. A RUNNING job whose claiming
//!   process is gone (same host, no such pid) goes back to PENDING and
//!   resumes at its first unfinished command.
//! - Each command's output goes through the tool's parser; status is written
//!   at most every [`HandlerConfig::status_interval`] for progress, and at
//!   once on every state change, by one writer task that batches all jobs'
//!   changes into one locked rewrite.
//! - COMPLETE/FAILED is decided by exit status *and* parsed failure
//!   (civitdl exits 0 when it gave up). Transient failures (refused, reset,
//!   connection lost / 255, stall, read errors, HTTP 5xx/429) are retried
//!   with exponential backoff and jitter; permanent ones (404, 401, DNS,
//!   disk full, auth) are not. A changed or unknown host key gives
//!   HOST_VERIFICATION_NEEDED.
//! - On shutdown, running jobs are stopped and go back to PENDING (their
//!   finished commands stay done): nothing is lost.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

pub mod cli;

use crate::client::progress::{progress_json, ErrorKind, Event, ProgressStream, Tool};
use crate::client::ssh::{remote_command, ExecLimits, ExecOutcome, SshClient, SshConfig};
use crate::client::{Error, Result};
use crate::jobs::connection::SshTarget;
use crate::jobs::queue::{Job, JobStatus, Queue};
use crate::jobs::status::{StatusEntry, StatusFile};
use crate::jobs::time;

/// Everything the handler needs to know; [`HandlerConfig::new`] fills in
/// the defaults.
#[derive(Clone, Debug)]
pub struct HandlerConfig {
    /// `download_queue.json`.
    pub queue: PathBuf,
    /// `download_status.json`.
    pub status: PathBuf,
    /// The private key (a connection string's `-i KEY` overrides it).
    pub key: PathBuf,
    /// The known_hosts file.
    pub known_hosts: PathBuf,
    /// Learn unknown host keys instead of refusing them.
    pub accept_new: bool,
    /// Jobs at once on one instance (default 1).
    pub per_instance: usize,
    /// Jobs at once in all (default 16).
    pub parallel: usize,
    /// Progress is written at most this often (default 500 ms).
    pub status_interval: Duration,
    /// How often the queue file is re-read (default 200 ms).
    pub poll_interval: Duration,
    /// TCP connect + handshake + auth (default 10 s, as the original's `ConnectTimeout`).
    pub connect_timeout: Duration,
    /// A command that prints nothing for this long is stalled (default 300 s).
    pub stall_timeout: Option<Duration>,
    /// A command running longer than this fails (default none).
    pub command_timeout: Option<Duration>,
    /// Retries of a transient failure, per command (default 3).
    pub retries: u32,
    /// First retry delay; doubled each retry, with ±50% jitter (default 2 s).
    pub retry_base: Duration,
    /// Longest retry delay (default 60 s).
    pub retry_max: Duration,
    /// Appended to civitdl commands as `--api-key KEY`.
    pub civitdl_api_key: Option<String>,
}

impl HandlerConfig {
    /// A config with the defaults for these four files.
    pub fn new(
        queue: impl Into<PathBuf>,
        status: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        known_hosts: impl Into<PathBuf>,
    ) -> Self {
        HandlerConfig {
            queue: queue.into(),
            status: status.into(),
            key: key.into(),
            known_hosts: known_hosts.into(),
            accept_new: false,
            per_instance: 1,
            parallel: 16,
            status_interval: Duration::from_millis(500),
            poll_interval: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Some(Duration::from_secs(300)),
            command_timeout: None,
            retries: 3,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
            civitdl_api_key: None,
        }
    }

    /// The delay before retry `n` (1-based): base * 2^(n-1), capped, ±50%.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .retry_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(20));
        let capped = exp.min(self.retry_max);
        capped.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
    }
}

/// What the handler reports while it runs (for progress bars and logs).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HandlerEvent {
    /// A job was claimed and starts (or resumes) at `command_index` (1-based).
    Started {
        /// Job id.
        id: String,
        /// What the UI shows.
        display_name: String,
        /// The instance.
        instance_id: String,
        /// The command starting.
        command_index: u32,
        /// How many commands.
        total_commands: u32,
    },
    /// A progress readout (the original's `progress` object).
    Progress {
        /// Job id.
        id: String,
        /// `percent`, `speed`, `downloaded`, ...
        progress: Map<String, Value>,
    },
    /// A transient failure; retry `retry` comes after `delay`.
    Retrying {
        /// Job id.
        id: String,
        /// 1 for the first retry.
        retry: u32,
        /// What failed.
        error: String,
        /// The backoff.
        delay: Duration,
    },
    /// The job reached a final state, or went back to PENDING (shutdown).
    Finished {
        /// Job id.
        id: String,
        /// COMPLETE, FAILED, HOST_VERIFICATION_NEEDED or PENDING.
        status: JobStatus,
        /// Why, when it failed.
        error: Option<String>,
    },
}

/// Receives [`HandlerEvent`]s; called from the handler's tasks, so keep it quick.
pub type Observer = Arc<dyn Fn(&HandlerEvent) + Send + Sync>;

/// Counts of what one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Jobs that ended COMPLETE.
    pub complete: usize,
    /// Jobs that ended FAILED.
    pub failed: usize,
    /// Jobs that ended HOST_VERIFICATION_NEEDED.
    pub host_verification_needed: usize,
    /// Jobs put back to PENDING by a shutdown.
    pub requeued: usize,
    /// Retries of transient failures, over all jobs.
    pub retries: usize,
}

/// The download handler. Build it with [`Handler::new`], then call
/// [`Handler::run`] (until a shutdown signal) or [`Handler::run_until_idle`].
///
/// ```no_run
/// # async fn demo() -> fakessh::client::Result<()> {
/// use fakessh::client::handler::{Handler, HandlerConfig};
/// let mut config = HandlerConfig::new("q.json", "s.json", "id_ed25519", "known_hosts");
/// config.per_instance = 2;
/// let summary = Handler::new(config)?.run_until_idle().await?;
/// println!("{} complete, {} failed", summary.complete, summary.failed);
/// # Ok(()) }
/// ```
pub struct Handler {
    shared: Arc<Shared>,
}

struct Shared {
    config: HandlerConfig,
    ssh: SshClient,
    queue: Queue,
    status: StatusFile,
    owner: Owner,
    observer: Option<Observer>,
}

/// Who claimed a job: this process (pid, host) and this handler (nonce).
#[derive(Clone, Debug)]
struct Owner {
    tag: String,
    pid: u32,
    host: String,
}

impl Owner {
    fn this_handler() -> Owner {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let pid = std::process::id();
        let nonce: u32 = rand::thread_rng().gen();
        Owner {
            tag: format!("{host}/{pid}/{nonce:08x}"),
            pid,
            host,
        }
    }

    fn mark(&self, job: &mut Job) {
        job.extra
            .insert("claimed_by".into(), Value::from(self.tag.clone()));
        job.extra
            .insert("claimed_pid".into(), Value::from(self.pid));
        job.extra
            .insert("claimed_host".into(), Value::from(self.host.clone()));
        job.extra
            .insert("claimed_at".into(), Value::from(time::now_iso8601()));
    }

    fn unmark(job: &mut Job) {
        for k in ["claimed_by", "claimed_pid", "claimed_host", "claimed_at"] {
            job.extra.remove(k);
        }
    }

    /// Whether a RUNNING job's claimer is known to be gone: it ran on this
    /// host and its process no longer exists. Unmarked jobs are not ours to judge.
    fn is_orphan(&self, job: &Job) -> bool {
        let host = job.extra.get("claimed_host").and_then(Value::as_str);
        let pid = job.extra.get("claimed_pid").and_then(Value::as_u64);
        match (host, pid) {
            (Some(h), Some(pid)) if h == self.host => {
                !std::path::Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => false,
        }
    }

    fn is_claimed(job: &Job) -> bool {
        job.extra.contains_key("claimed_by")
    }
}

impl Handler {
    /// A handler; fails when the key does not load.
    pub fn new(config: HandlerConfig) -> Result<Handler> {
        let ssh = SshClient::new(SshConfig {
            key: config.key.clone(),
            known_hosts: config.known_hosts.clone(),
            accept_new: config.accept_new,
            connect_timeout: config.connect_timeout,
        })?;
        Ok(Handler {
            shared: Arc::new(Shared {
                queue: Queue::new(&config.queue),
                status: StatusFile::new(&config.status),
                config,
                ssh,
                owner: Owner::this_handler(),
                observer: None,
            }),
        })
    }

    /// Reports every [`HandlerEvent`] to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Observer) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.observer = Some(observer);
        }
        self
    }

    /// The configuration.
    pub fn config(&self) -> &HandlerConfig {
        &self.shared.config
    }

    /// Runs jobs until no job is PENDING and none is RUNNING under a live
    /// claim (RUNNING jobs nobody marked are left alone).
    pub async fn run_until_idle(&self) -> Result<RunSummary> {
        self.run_loop(true, std::future::pending()).await
    }

    /// [`Handler::run_until_idle`], stopping early (as [`Handler::run`]
    /// does) when `shutdown` completes first.
    pub async fn run_until_idle_or(
        &self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary> {
        self.run_loop(true, shutdown).await
    }

    /// Runs jobs, picking up new ones, until `shutdown` completes; then
    /// running jobs go back to PENDING and it returns.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<RunSummary> {
        self.run_loop(false, shutdown).await
    }

    async fn run_loop(
        &self,
        until_idle: bool,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary> {
        let shared = &self.shared;
        let cfg = &shared.config;
        let (writer, writer_task) = Writer::spawn(shared.clone());
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, Final)>();
        let mut per_instance: HashMap<String, usize> = HashMap::new();
        let mut running = 0usize;
        let mut summary = RunSummary::default();
        let mut warned: HashSet<String> = HashSet::new();
        let mut stopping = false;
        // The last claim left PENDING jobs: skip the read-only look next time.
        let mut more_pending = false;
        let mut shutdown = std::pin::pin!(shutdown);
        let mut first_error: Option<Error> = None;
        loop {
            if !stopping {
                let free = cfg.parallel.max(1).saturating_sub(running);
                match self.claim(free, &per_instance, &mut warned, &mut more_pending) {
                    Ok(claim) => {
                        for job in claim.jobs {
                            running += 1;
                            *per_instance.entry(slot(&job)).or_default() += 1;
                            let (shared, writer, stop, done) = (
                                shared.clone(),
                                writer.clone(),
                                stop_rx.clone(),
                                done_tx.clone(),
                            );
                            tokio::spawn(async move {
                                let instance = slot(&job);
                                let result = run_job(&shared, &writer, job, stop).await;
                                let _ = done.send((instance, result));
                            });
                        }
                        if until_idle && running == 0 && claim.live_work == 0 {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!("{e}");
                        if until_idle && running == 0 {
                            first_error = Some(e);
                            break;
                        }
                    }
                }
            } else if running == 0 {
                break;
            }
            let mut wake = |done: (String, Final), summary: &mut RunSummary| {
                running -= 1;
                if let Some(n) = per_instance.get_mut(&done.0) {
                    *n -= 1;
                    if *n == 0 {
                        per_instance.remove(&done.0);
                    }
                }
                summary.retries += done.1.retries as usize;
                match done.1.status {
                    JobStatus::Complete => summary.complete += 1,
                    JobStatus::Failed => summary.failed += 1,
                    JobStatus::HostVerificationNeeded => summary.host_verification_needed += 1,
                    _ => summary.requeued += 1,
                }
            };
            tokio::select! {
                Some(done) = done_rx.recv() => {
                    wake(done, &mut summary);
                    while let Ok(done) = done_rx.try_recv() {
                        wake(done, &mut summary);
                    }
                }
                _ = tokio::time::sleep(cfg.poll_interval) => {}
                _ = &mut shutdown, if !stopping => {
                    tracing::info!(running, "shutting down: running jobs go back to PENDING");
                    stopping = true;
                    let _ = stop_tx.send(true);
                }
            }
        }
        drop(writer);
        let _ = writer_task.await;
        match first_error {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }

    /// Claims up to `free` PENDING jobs (oldest first, within the
    /// per-instance limit) and returns them with how much live work the
    /// queue still holds. Orphaned RUNNING jobs go back to PENDING first.
    fn claim(
        &self,
        free: usize,
        per_instance: &HashMap<String, usize>,
        warned: &mut HashSet<String>,
        more_pending: &mut bool,
    ) -> Result<Claim> {
        let shared = &self.shared;
        let limit = shared.config.per_instance.max(1);
        let owner = &shared.owner;
        let claimable = |jobs: &crate::jobs::store::Records<Job>,
                         counts: &HashMap<String, usize>| {
            jobs.pending()
                .iter()
                .any(|j| counts.get(&slot(j)).copied().unwrap_or(0) < limit)
        };
        let live = |jobs: &crate::jobs::store::Records<Job>| {
            jobs.iter()
                .filter(|j| match j.status {
                    JobStatus::Pending => true,
                    JobStatus::Running => Owner::is_claimed(j) && !owner.is_orphan(j),
                    _ => false,
                })
                .count()
        };
        if !(*more_pending && free > 0) {
            let snapshot = shared.queue.load()?;
            for bad in snapshot.errors() {
                let key = bad.to_string();
                if warned.insert(key) {
                    tracing::warn!("skipping a queue record: {bad}: {}", source_text(&bad));
                }
            }
            let orphans = snapshot
                .iter()
                .any(|j| j.status == JobStatus::Running && owner.is_orphan(j));
            if !orphans && (free == 0 || !claimable(&snapshot, per_instance)) {
                *more_pending = false;
                return Ok(Claim {
                    jobs: Vec::new(),
                    live_work: live(&snapshot),
                });
            }
        }
        let mut recovered = Vec::new();
        let claim = shared.queue.update(|jobs| {
            for job in jobs.iter_mut() {
                if job.status == JobStatus::Running && owner.is_orphan(job) {
                    tracing::warn!(id = %job.id, "claimer is gone: back to PENDING");
                    job.status = JobStatus::Pending;
                    Owner::unmark(job);
                    recovered.push(job.id.clone());
                }
            }
            let mut counts = per_instance.clone();
            let ids: Vec<String> = jobs.pending().iter().map(|j| j.id.clone()).collect();
            let mut claimed = Vec::new();
            for id in ids {
                if claimed.len() >= free {
                    break;
                }
                let job = jobs.get_mut(&id)?;
                let n = counts.entry(slot(job)).or_default();
                if *n >= limit {
                    continue;
                }
                *n += 1;
                job.status = JobStatus::Running;
                owner.mark(job);
                claimed.push(job.clone());
            }
            *more_pending =
                !claimed.is_empty() && jobs.iter().any(|j| j.status == JobStatus::Pending);
            Ok(Claim {
                jobs: claimed,
                live_work: live(jobs),
            })
        })?;
        if !recovered.is_empty() {
            shared.status.update(|entries| {
                for id in &recovered {
                    let _ = entries.modify(id, |e| e.set_status(JobStatus::Pending));
                }
                Ok(())
            })?;
        }
        Ok(claim)
    }
}

/// What the per-instance limit counts by: the SSH endpoint (`host:port`),
/// so fake instances sharing 127.0.0.1 are told apart; the instance id
/// when the connection string does not parse.
fn slot(job: &Job) -> String {
    thread_local! {
        static SLOTS: std::cell::RefCell<HashMap<String, String>> = Default::default();
    }
    SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        if let Some(s) = slots.get(&job.ssh_connection) {
            return s.clone();
        }
        let s = match SshTarget::parse(&job.ssh_connection) {
            Ok(t) => format!("{}:{}", t.host, t.port),
            Err(_) => job.instance_id.clone(),
        };
        if slots.len() > 10_000 {
            slots.clear();
        }
        slots.insert(job.ssh_connection.clone(), s.clone());
        s
    })
}

fn source_text(e: &crate::jobs::Error) -> String {
    std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

struct Claim {
    jobs: Vec<Job>,
    live_work: usize,
}

/// How a job ended, for the run's summary.
struct Final {
    status: JobStatus,
    retries: u32,
}

/// What one command attempt came to.
enum Verdict {
    Ok,
    Transient(String),
    Permanent(String),
    HostVerification(String),
}

/// Follows a command's events: the latest failure, and whether the tool gave up.
#[derive(Default)]
struct Tracker {
    last_error: Option<(ErrorKind, Option<u16>, String)>,
    error_after_complete: bool,
    gave_up: Option<String>,
    last_line: String,
    last_sent: Option<Instant>,
    latest: Option<Map<String, Value>>,
}

impl Tracker {
    fn observe(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::Error {
                    kind,
                    code,
                    message,
                } => {
                    self.last_error = Some((*kind, *code, message.clone()));
                    self.error_after_complete = true;
                }
                Event::GaveUp { message } => self.gave_up = Some(message.clone()),
                Event::Complete { .. } => self.error_after_complete = false,
                _ => {}
            }
            if let Some(Value::Object(p)) = progress_json(e) {
                self.latest = Some(p);
            }
        }
    }

    fn remember_line(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        if let Some(line) = text
            .split(['\n', '\r'])
            .map(str::trim)
            .rfind(|l| !l.is_empty())
        {
            self.last_line = line.chars().take(300).collect();
        }
    }

    fn verdict(&self, tool: Option<Tool>, code: u32) -> Verdict {
        let failed_anyway =
            self.gave_up.is_some() || (tool == Some(Tool::Civitdl) && self.error_after_complete);
        if code == 0 && !failed_anyway {
            return Verdict::Ok;
        }
        let name = tool.map_or("command", Tool::name);
        let message = match (&self.last_error, &self.gave_up) {
            (Some((_, _, m)), _) => m.clone(),
            (None, Some(g)) => format!("{name}: {g}"),
            (None, None) if self.last_line.is_empty() => {
                format!("{name} exited with status {code}")
            }
            (None, None) => format!("{name} exited with status {code}: {}", self.last_line),
        };
        let transient = match &self.last_error {
            _ if code == crate::client::ssh::SSH_FAILURE => true,
            Some((kind, c, _)) => kind.is_transient(*c),
            // wget's exit 4: a network failure.
            None => tool == Some(Tool::Wget) && code == 4,
        };
        if transient {
            Verdict::Transient(message)
        } else {
            Verdict::Permanent(message)
        }
    }
}

async fn run_command(
    shared: &Shared,
    writer: &Writer,
    id: &str,
    target: &SshTarget,
    command: &str,
) -> Verdict {
    let cfg = &shared.config;
    let mut stream = ProgressStream::for_command(command);
    let tool = Tool::from_command(command);
    let mut tracker = Tracker::default();
    let mut events = Vec::new();
    let remote = remote_command(command, cfg.civitdl_api_key.as_deref());
    let limits = ExecLimits {
        stall: cfg.stall_timeout,
        total: cfg.command_timeout,
    };
    let interval = cfg.status_interval;
    let outcome = shared
        .ssh
        .exec(target, &remote, limits, |bytes| {
            events.clear();
            stream.push(bytes, &mut events);
            tracker.remember_line(bytes);
            tracker.observe(&events);
            let due = tracker.last_sent.is_none_or(|t| t.elapsed() >= interval);
            if due {
                if let Some(p) = tracker.latest.take() {
                    tracker.last_sent = Some(Instant::now());
                    writer.progress(id, p);
                }
            }
        })
        .await;
    events.clear();
    stream.finish(&mut events);
    tracker.observe(&events);
    match outcome {
        Err(e) if e.needs_host_verification() => Verdict::HostVerification(e.to_string()),
        Err(e) if e.is_transient() => Verdict::Transient(e.to_string()),
        Err(e) => Verdict::Permanent(e.to_string()),
        Ok(ExecOutcome::Exited(code)) => tracker.verdict(tool, code),
        Ok(ExecOutcome::ConnectionLost) => Verdict::Transient(format!(
            "connection to {}:{} lost without exit status (ssh exit 255)",
            target.host, target.port
        )),
        Ok(ExecOutcome::Stalled(d)) => {
            Verdict::Transient(format!("stalled: no output for {}s", d.as_secs_f64()))
        }
        Ok(ExecOutcome::TimedOut(d)) => {
            Verdict::Permanent(format!("command timed out after {}s", d.as_secs_f64()))
        }
    }
}

/// Runs one claimed job to a final state (or back to PENDING on shutdown).
async fn run_job(
    shared: &Shared,
    writer: &Writer,
    job: Job,
    mut stop: watch::Receiver<bool>,
) -> Final {
    let cfg = &shared.config;
    let id = job.id.clone();
    let total = job.commands.len() as u32;
    let first = job.command_index.min(total);
    let notify = |e: HandlerEvent| {
        if let Some(o) = &shared.observer {
            o(&e)
        }
    };
    notify(HandlerEvent::Started {
        id: id.clone(),
        display_name: job.display_name.clone(),
        instance_id: job.instance_id.clone(),
        command_index: first + 1,
        total_commands: total,
    });
    writer.change(Change::Started {
        job: Box::new(job.clone()),
        command_index: (first + 1).min(total.max(1)),
    });
    let mut retries = 0u32;
    let finish = |status: JobStatus, error: Option<String>, completed: u32, retries: u32| {
        notify(HandlerEvent::Finished {
            id: id.clone(),
            status,
            error: error.clone(),
        });
        let change = Change::Finished {
            id: id.clone(),
            status,
            error,
            completed,
            host: None,
        };
        (change, Final { status, retries })
    };
    let target = match SshTarget::parse(&job.ssh_connection) {
        Ok(t) => t,
        Err(e) => {
            let (change, fin) = finish(JobStatus::Failed, Some(e.to_string()), first, 0);
            writer.change(change);
            return fin;
        }
    };
    for index in first..total {
        if index > first {
            writer.change(Change::Command {
                id: id.clone(),
                command_index: index + 1,
                completed: index,
            });
        }
        let command = &job.commands[index as usize];
        let mut attempt = 0u32;
        loop {
            let verdict = tokio::select! {
                v = run_command(shared, writer, &id, &target, command) => v,
                _ = stopped(&mut stop) => {
                    return requeue(writer, &id, index, retries, &notify).await;
                }
            };
            let error = match verdict {
                Verdict::Ok => break,
                Verdict::Transient(e) if attempt < cfg.retries => e,
                Verdict::Transient(e) | Verdict::Permanent(e) => {
                    tracing::warn!(%id, "FAILED: {e}");
                    let (change, fin) = finish(JobStatus::Failed, Some(e), index, retries);
                    writer.change(change);
                    return fin;
                }
                Verdict::HostVerification(e) => {
                    tracing::warn!(%id, "HOST_VERIFICATION_NEEDED: {e}");
                    let (mut change, fin) =
                        finish(JobStatus::HostVerificationNeeded, Some(e), index, retries);
                    if let Change::Finished { host, .. } = &mut change {
                        *host = Some((
                            target.host.to_string(),
                            target.port,
                            job.ssh_connection.clone(),
                        ));
                    }
                    writer.change(change);
                    return fin;
                }
            };
            attempt += 1;
            retries += 1;
            let delay = cfg.backoff(attempt);
            tracing::info!(%id, retry = attempt, ?delay, "transient failure: {error}");
            notify(HandlerEvent::Retrying {
                id: id.clone(),
                retry: attempt,
                error: error.clone(),
                delay,
            });
            writer.change(Change::Retrying {
                id: id.clone(),
                retries,
                error,
            });
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut stop) => {
                    return requeue(writer, &id, index, retries, &notify).await;
                }
            }
        }
    }
    let (change, fin) = finish(JobStatus::Complete, None, total, retries);
    writer.change(change);
    fin
}

/// Resolves once shutdown is signalled.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn requeue(
    writer: &Writer,
    id: &str,
    completed: u32,
    retries: u32,
    notify: &impl Fn(HandlerEvent),
) -> Final {
    notify(HandlerEvent::Finished {
        id: id.to_string(),
        status: JobStatus::Pending,
        error: None,
    });
    writer.change(Change::Requeued {
        id: id.to_string(),
        completed,
    });
    Final {
        status: JobStatus::Pending,
        retries,
    }
}

/// A change to the queue and status files.
enum Change {
    Started {
        job: Box<Job>,
        command_index: u32,
    },
    Command {
        id: String,
        command_index: u32,
        completed: u32,
    },
    Progress {
        id: String,
        progress: Map<String, Value>,
    },
    Retrying {
        id: String,
        retries: u32,
        error: String,
    },
    Finished {
        id: String,
        status: JobStatus,
        error: Option<String>,
        completed: u32,
        /// host, port, ssh_connection for HOST_VERIFICATION_NEEDED.
        host: Option<(String, u16, String)>,
    },
    Requeued {
        id: String,
        completed: u32,
    },
}

impl Change {
    fn is_state(&self) -> bool {
        !matches!(self, Change::Progress { .. })
    }

    fn touches_queue(&self) -> bool {
        matches!(
            self,
            Change::Command { .. } | Change::Finished { .. } | Change::Requeued { .. }
        )
    }

    fn apply_status(&self, entries: &mut crate::jobs::store::Records<StatusEntry>) {
        let now = time::now_iso8601();
        let with = |entries: &mut crate::jobs::store::Records<StatusEntry>,
                    id: &str,
                    f: &mut dyn FnMut(&mut StatusEntry)| {
            if let Ok(e) = entries.get_mut(id) {
                f(e);
            }
        };
        match self {
            Change::Started { job, command_index } => {
                let mut entry = entries
                    .get(&job.id)
                    .cloned()
                    .unwrap_or_else(|_| StatusEntry::for_job(job));
                entry.set_status(JobStatus::Running);
                entry.total_commands = job.total_commands;
                entry.command_index = *command_index;
                entry.progress.clear();
                entries.upsert(entry);
            }
            Change::Command {
                id, command_index, ..
            } => with(entries, id, &mut |e| {
                e.command_index = *command_index;
                e.progress.clear();
                e.updated_at = now.clone();
            }),
            Change::Progress { id, progress } => with(entries, id, &mut |e| {
                if e.status == JobStatus::Running {
                    e.progress = progress.clone();
                    e.updated_at = now.clone();
                }
            }),
            Change::Retrying { id, retries, error } => with(entries, id, &mut |e| {
                e.extra.insert("retries".into(), Value::from(*retries));
                e.extra
                    .insert("last_error".into(), Value::from(error.clone()));
                e.progress.clear();
                e.updated_at = now.clone();
            }),
            Change::Finished {
                id,
                status,
                error,
                host,
                ..
            } => with(entries, id, &mut |e| {
                match (status, host) {
                    (JobStatus::HostVerificationNeeded, Some((h, p, c))) => {
                        e.needs_host_verification(h, *p, c)
                    }
                    (JobStatus::Failed, _) => e.fail(error.clone().unwrap_or_default()),
                    (s, _) => e.set_status(*s),
                }
                if e.status == JobStatus::HostVerificationNeeded {
                    e.error = error.clone();
                }
            }),
            Change::Requeued { id, .. } => {
                with(entries, id, &mut |e| e.set_status(JobStatus::Pending))
            }
        }
    }

    fn apply_queue(&self, jobs: &mut crate::jobs::store::Records<Job>) {
        let (id, status, completed) = match self {
            Change::Command { id, completed, .. } => (id, None, *completed),
            Change::Finished {
                id,
                status,
                completed,
                ..
            } => (id, Some(*status), *completed),
            Change::Requeued { id, completed } => (id, Some(JobStatus::Pending), *completed),
            _ => return,
        };
        // A job deleted meanwhile is simply gone.
        if let Ok(job) = jobs.get_mut(id) {
            job.command_index = completed;
            if let Some(status) = status {
                job.status = status;
                Owner::unmark(job);
            }
        }
    }
}

struct Msg {
    change: Change,
}

/// The one task that writes both files, batching every job's changes.
#[derive(Clone)]
struct Writer {
    tx: mpsc::UnboundedSender<Msg>,
}

impl Writer {
    fn spawn(shared: Arc<Shared>) -> (Writer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(writer_loop(shared, rx));
        (Writer { tx }, task)
    }

    /// A state change: written at once (batched with whatever else is
    /// waiting); the writer drains everything before the handler returns.
    fn change(&self, change: Change) {
        let _ = self.tx.send(Msg { change });
    }

    /// A progress readout: written within the status interval.
    fn progress(&self, id: &str, progress: Map<String, Value>) {
        let _ = self.tx.send(Msg {
            change: Change::Progress {
                id: id.to_string(),
                progress,
            },
        });
    }
}

async fn writer_loop(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let interval = shared.config.status_interval;
    let mut last_flush: Option<Instant> = None;
    let mut batch: Vec<Msg> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        if !batch.iter().any(|m| m.change.is_state()) {
            if let Some(last) = last_flush {
                let deadline = last + interval;
                loop {
                    tokio::select! {
                        m = rx.recv() => match m {
                            Some(m) => {
                                let state = m.change.is_state();
                                batch.push(m);
                                if state { break }
                            }
                            None => break,
                        },
                        _ = tokio::time::sleep_until(deadline) => break,
                    }
                }
            }
        }
        flush(&shared, &mut batch).await;
        last_flush = Some(Instant::now());
    }
}

/// Writes a batch (status file, then queue file); retries a failing write a
/// few times, then logs it.
async fn flush(shared: &Shared, batch: &mut Vec<Msg>) {
    // Only the latest progress of each job matters.
    let mut seen = HashSet::new();
    let mut keep = vec![true; batch.len()];
    for (i, m) in batch.iter().enumerate().rev() {
        if let Change::Progress { id, .. } = &m.change {
            if !seen.insert(id.clone()) {
                keep[i] = false;
            }
        }
    }
    let mut i = 0;
    batch.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    if let Some(observer) = &shared.observer {
        for m in batch.iter() {
            if let Change::Progress { id, progress } = &m.change {
                observer(&HandlerEvent::Progress {
                    id: id.clone(),
                    progress: progress.clone(),
                });
            }
        }
    }
    for attempt in 1..=5 {
        let status = shared.status.update(|entries| {
            for m in batch.iter() {
                m.change.apply_status(entries);
            }
            Ok(())
        });
        let queue = if batch.iter().any(|m| m.change.touches_queue()) {
            shared.queue.update(|jobs| {
                for m in batch.iter() {
                    m.change.apply_queue(jobs);
                }
                Ok(())
            })
        } else {
            Ok(())
        };
        match status.and(queue) {
            Ok(()) => break,
            Err(e) if attempt < 5 => {
                tracing::warn!("writing status (try {attempt}): {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!("giving up writing status: {e}"),
        }
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(tool: Tool, log: &[u8], code: u32) -> Verdict {
        let mut stream = ProgressStream::for_tool(tool);
        let mut events = Vec::new();
        stream.push(log, &mut events);
        stream.finish(&mut events);
        let mut t = Tracker::default();
        t.observe(&events);
        t.remember_line(log);
        t.verdict(Some(tool), code)
    }

    #[test]
    fn wget_404_is_permanent_with_the_wget_message() {
        let log = b"HTTP request sent, awaiting response... 404 Not Found\n\
                    2026-11-26 09:47:36 ERROR 404: Not Found.\n";
        assert!(matches!(verdict(Tool::Wget, log, 8),
            Verdict::Permanent(m) if m == "wget: ERROR 404: Not Found"));
    }

    #[test]
    fn wget_503_is_transient() {
        let log = b"HTTP request sent, awaiting response... 503 Service Unavailable\n\
                    2026-11-26 09:47:36 ERROR 503: Service Unavailable.\n";
        assert!(matches!(verdict(Tool::Wget, log, 8), Verdict::Transient(_)));
    }

    #[test]
    fn civitdl_giving_up_with_exit_0_is_a_failure() {
        let log = b"Max retry of 3 reached. Skipping the current model...\n";
        assert!(matches!(verdict(Tool::Civitdl, log, 0),
            Verdict::Permanent(m) if m.contains("Max retry of 3 reached")));
    }

    #[test]
    fn an_unexplained_exit_code_names_the_last_line() {
        let log = b"bash: nope: command not found\n";
        assert!(matches!(verdict(Tool::Wget, log, 127),
            Verdict::Permanent(m) if m == "wget exited with status 127: bash: nope: command not found"));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let mut c = HandlerConfig::new("q", "s", "k", "h");
        c.retry_base = Duration::from_millis(100);
        c.retry_max = Duration::from_millis(350);
        for _ in 0..50 {
            let d1 = c.backoff(1).as_millis();
            let d2 = c.backoff(2).as_millis();
            let d9 = c.backoff(9).as_millis();
            assert!((50..=150).contains(&d1), "{d1}");
            assert!((100..=300).contains(&d2), "{d2}");
            assert!((175..=525).contains(&d9), "{d9}");
        }
    }
}
