//! One claimed job, command after command: each attempt judged, transient
//! failures retried with backoff, shutdown honoured between and during
//! attempts.

use tokio::sync::watch;
use tokio::time::Instant;

use super::status_writer::{Change, Writer};
use super::verdict::{Tracker, Verdict};
use super::{HandlerEvent, Shared};
use crate::client::progress::{ProgressStream, Tool};
use crate::client::ssh::{remote_command, ExecLimits, ExecOutcome};
use crate::jobs::connection::SshTarget;
use crate::jobs::queue::{Job, JobStatus};

/// How a job ended, for the run's summary.
pub(super) struct Final {
    /// Where the job ended (PENDING after a shutdown).
    pub(super) status: JobStatus,
    /// Its retries of transient failures.
    pub(super) retries: u32,
}

/// Runs one command over SSH, feeding its output to the parser and its
/// progress to the status writer, and judges how it ended.
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
pub(super) async fn run_job(
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

/// Hands a job stopped by shutdown back to PENDING, its finished commands
/// kept.
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
