//! The run loop: how many jobs run at once (in all and per instance), when
//! the queue is looked at again, what a run sums up to, and shutdown.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::{mpsc, watch};

use super::claim::{claim, slot, ClaimMemory};
use super::job::{run_job, Final};
use super::status_writer::Writer;
use super::{Handler, RunSummary};
use crate::client::{Error, Result};
use crate::jobs::queue::JobStatus;

impl Handler {
    /// The run: claims while there is room, starts each claimed job as its
    /// own task, counts what ends, and on shutdown waits for every job to
    /// go back to PENDING.
    pub(super) async fn run_loop(
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
        let mut memory = ClaimMemory::default();
        let mut stopping = false;
        let mut shutdown = std::pin::pin!(shutdown);
        let mut first_error: Option<Error> = None;
        loop {
            if !stopping {
                let free = cfg.parallel.max(1).saturating_sub(running);
                match claim(shared, free, &per_instance, &mut memory).await {
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
}
