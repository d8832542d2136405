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
//!
//! The rooms: `config` (what it is told), `scheduler` (the run loop and
//! its limits), `claim` (taking jobs under the queue's lock), `job` (one
//! job's commands and retries), `verdict` (what a command's exit and output
//! mean) and `status_writer` (the one task writing both files). Claims and
//! writes take the files' `flock`, so they run through [`crate::jobs::blocking`],
//! never on a runtime thread.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

mod claim;
pub mod cli;
mod config;
mod job;
mod scheduler;
mod status_writer;
mod verdict;

pub use config::HandlerConfig;

use crate::client::ssh::{SshClient, SshConfig};
use crate::client::Result;
use crate::jobs::queue::{JobStatus, Queue};
use crate::jobs::status::StatusFile;
use claim::Owner;

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

/// What the handler's tasks share: the config, the SSH client, both files,
/// this handler's claim mark and the observer.
struct Shared {
    config: HandlerConfig,
    ssh: SshClient,
    queue: Queue,
    status: StatusFile,
    owner: Owner,
    observer: Option<Observer>,
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
}
