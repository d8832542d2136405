//! The one task that writes the queue and status files: every job's
//! changes go to it, state changes are written at once and progress at
//! most every status interval, all of a batch in one locked rewrite.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::claim::Owner;
use super::{HandlerEvent, Shared};
use crate::jobs::queue::{Job, JobStatus};
use crate::jobs::status::StatusEntry;
use crate::jobs::store::Records;
use crate::jobs::{self, blocking, time};

/// A change to the queue and status files.
pub(super) enum Change {
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

    fn apply_status(&self, entries: &mut Records<StatusEntry>) {
        let now = time::now_iso8601();
        let with =
            |entries: &mut Records<StatusEntry>, id: &str, f: &mut dyn FnMut(&mut StatusEntry)| {
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

    fn apply_queue(&self, jobs: &mut Records<Job>) {
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
pub(super) struct Writer {
    tx: mpsc::UnboundedSender<Msg>,
}

impl Writer {
    pub(super) fn spawn(shared: Arc<Shared>) -> (Writer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(writer_loop(shared, rx));
        (Writer { tx }, task)
    }

    /// A state change: written at once (batched with whatever else is
    /// waiting); the writer drains everything before the handler returns.
    pub(super) fn change(&self, change: Change) {
        let _ = self.tx.send(Msg { change });
    }

    /// A progress readout: written within the status interval.
    pub(super) fn progress(&self, id: &str, progress: Map<String, Value>) {
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
async fn flush(shared: &Arc<Shared>, batch: &mut Vec<Msg>) {
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
    // The batch is shared with each try's blocking task: a failed try
    // leaves it whole for the next.
    let batch = Arc::new(std::mem::take(batch));
    for attempt in 1..=5 {
        let (shared, batch) = (shared.clone(), batch.clone());
        match blocking(move || write(&shared, &batch)).await {
            Ok(()) => break,
            Err(e) if attempt < 5 => {
                tracing::warn!("writing status (try {attempt}): {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!("giving up writing status: {e}"),
        }
    }
}

/// One locked rewrite of the status file, then (when the batch touches it)
/// of the queue file; the queue is written even when the status write
/// failed, and the status error is the one reported.
fn write(shared: &Shared, batch: &[Msg]) -> jobs::Result<()> {
    let status = shared.status.update(|entries| {
        for m in batch {
            m.change.apply_status(entries);
        }
        Ok(())
    });
    let queue = if batch.iter().any(|m| m.change.touches_queue()) {
        shared.queue.update(|jobs| {
            for m in batch {
                m.change.apply_queue(jobs);
            }
            Ok(())
        })
    } else {
        Ok(())
    };
    status.and(queue)
}
