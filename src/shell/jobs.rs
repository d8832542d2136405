//! A session's processes: background jobs and pipeline stages, counted
//! against the session's limit as `ulimit -u` counts a user's, and owned by
//! the session so that all of them end when it does (as SIGHUP ends a
//! login's jobs). Jobs that ignore the hang-up (`nohup cmd &`, `disown`) are
//! handed to the instance instead, under its caps (see
//! [`crate::instance::detached`]).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::instance::detached::{Detached, JobState};

/// What bash prints when `fork` fails for want of processes.
pub const FORK_FAILED: &str =
    "bash: fork: retry: Resource temporarily unavailable\nbash: fork: Resource temporarily unavailable\n";

/// The processes of one session.
pub struct Jobs {
    limit: usize,
    alive: AtomicUsize,
    // `None` once the session has hung up.
    table: Mutex<Option<Table>>,
    detached: Arc<Detached>,
}

#[derive(Default)]
struct Table {
    next_number: usize,
    jobs: Vec<Job>,
    // Dropped from the listing by `disown`, still the session's to hand
    // over at hang-up.
    disowned: Vec<Job>,
}

/// One background job, as `jobs` lists it.
struct Job {
    number: usize,
    command: String,
    state: Arc<JobState>,
    task: AbortHandle,
    // The job's exit status once it has finished.
    done: watch::Receiver<Option<i32>>,
}

/// A job as `jobs` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobInfo {
    /// Its number (`%1`).
    pub number: usize,
    /// The command, as typed.
    pub command: String,
    /// Its exit status, once it has finished.
    pub status: Option<i32>,
}

/// Which jobs a `disown` or `wait` names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Which {
    /// The most recent job (`%+`, or no operand).
    Current,
    /// Every job.
    All,
    /// Job `%N`.
    Number(usize),
}

/// Jobs the table lists before finished ones are dropped unreported.
const MAX_LISTED: usize = 1024;

/// One process slot, given back when dropped.
pub struct Slot(Arc<Jobs>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Jobs {
    /// A session that may have `limit` processes alive at once, whose jobs
    /// that ignore the hang-up go to `detached`.
    pub fn new(limit: usize, detached: Arc<Detached>) -> Arc<Self> {
        Arc::new(Jobs {
            limit,
            alive: AtomicUsize::new(0),
            table: Mutex::new(Some(Table::default())),
            detached,
        })
    }

    /// Takes a process slot; `None` when the session has used them all
    /// (or has hung up).
    pub fn slot(self: &Arc<Self>) -> Option<Slot> {
        let taken = self
            .alive
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok();
        let open = self.table.lock().map(|t| t.is_some()).unwrap_or(false);
        match (taken, open) {
            (true, true) => Some(Slot(self.clone())),
            (true, false) => {
                drop(Slot(self.clone()));
                None
            }
            _ => None,
        }
    }

    /// Starts background job `command` holding `slot`; it ends at hang-up
    /// unless it ignores it (`immune`, or later `disown`ed). `false` when
    /// the session has hung up.
    pub fn spawn(
        &self,
        slot: Slot,
        command: String,
        immune: bool,
        job: impl Future<Output = i32> + Send + 'static,
    ) -> bool {
        let Ok(mut table) = self.table.lock() else {
            return false;
        };
        let Some(table) = table.as_mut() else {
            return false;
        };
        // Finished jobs stay listed until `jobs` or `wait` reports them, as
        // in bash; a loop that never asks cannot grow the table past this.
        if table.jobs.len() >= MAX_LISTED {
            table.jobs.retain(|j| j.done.borrow().is_none());
        }
        table.disowned.retain(|j| j.done.borrow().is_none());
        // The next number is one past the highest listed, as in bash.
        table.next_number = table.jobs.last().map_or(0, |j| j.number);
        let state = JobState::new(immune);
        let (done_tx, done) = watch::channel(None);
        let task = tokio::spawn(state.clone().scope(async move {
            let _slot = slot;
            let status = job.await;
            let _ = done_tx.send(Some(status));
        }));
        table.next_number += 1;
        table.jobs.push(Job {
            number: table.next_number,
            command,
            state,
            task: task.abort_handle(),
            done,
        });
        true
    }

    /// The session's jobs, oldest first.
    pub fn list(&self) -> Vec<JobInfo> {
        let Ok(table) = self.table.lock() else {
            return Vec::new();
        };
        let jobs = table.as_ref().map(|t| t.jobs.as_slice()).unwrap_or(&[]);
        jobs.iter()
            .map(|j| JobInfo {
                number: j.number,
                command: j.command.clone(),
                status: *j.done.borrow(),
            })
            .collect()
    }

    /// Forgets finished jobs (after `jobs` has reported them).
    pub fn forget_finished(&self) {
        if let Ok(mut table) = self.table.lock() {
            if let Some(table) = table.as_mut() {
                table.jobs.retain(|j| j.done.borrow().is_none());
            }
        }
    }

    /// Lets the named jobs outlive the session and drops them from the
    /// table (`disown`); `false` when a named job does not exist.
    pub fn disown(&self, which: Which, keep_listed: bool) -> bool {
        let Ok(mut table) = self.table.lock() else {
            return false;
        };
        let Some(table) = table.as_mut() else {
            return false;
        };
        let picked = pick(&table.jobs, which);
        if picked.is_empty() && which != Which::All {
            return false;
        }
        for i in &picked {
            table.jobs[*i].state.ignore_hang_up();
        }
        if !keep_listed {
            for i in picked.into_iter().rev() {
                let job = table.jobs.remove(i);
                table.disowned.push(job);
            }
        }
        true
    }

    /// Waits until the named jobs have finished (`wait`): the last one's
    /// status (0 for all), or `None` when a named job does not exist.
    pub async fn wait(&self, which: Which) -> Option<i32> {
        type Waits = Vec<(usize, watch::Receiver<Option<i32>>)>;
        let waits: Option<Waits> = (|| {
            let table = self.table.lock().ok()?;
            let jobs = &table.as_ref()?.jobs;
            let picked = pick(jobs, which);
            if picked.is_empty() && which != Which::All {
                return None;
            }
            Some(
                picked
                    .iter()
                    .map(|i| (jobs[*i].number, jobs[*i].done.clone()))
                    .collect(),
            )
        })();
        let mut status = 0;
        let waits = waits?;
        for (_, done) in &waits {
            // A job aborted at hang-up drops its sender: that ends the wait.
            status = match done.clone().wait_for(|d| d.is_some()).await {
                Ok(s) => s.unwrap_or(0),
                Err(_) => 129,
            };
        }
        // The jobs `wait` reported leave the table.
        if let Ok(mut table) = self.table.lock() {
            if let Some(table) = table.as_mut() {
                table
                    .jobs
                    .retain(|j| !waits.iter().any(|(n, _)| *n == j.number));
            }
        }
        Some(if which == Which::All { 0 } else { status })
    }

    /// Processes alive now.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::Acquire)
    }

    /// Ends every job that does not ignore the hang-up, hands the others to
    /// the instance (while it has room) and refuses new ones: the session
    /// is over.
    pub fn hang_up(&self) {
        let table = self.table.lock().ok().and_then(|mut t| t.take());
        let Some(table) = table else {
            return;
        };
        for job in table.jobs.into_iter().chain(table.disowned) {
            if job.done.borrow().is_some() {
                continue;
            }
            // Aborted tasks end at their next await, and tasks yield on
            // every command and write.
            if !(job.state.is_immune() && self.detached.adopt(&job.state, job.task.clone())) {
                job.task.abort();
            }
        }
    }
}

/// The indexes of the jobs `which` names.
fn pick(jobs: &[Job], which: Which) -> Vec<usize> {
    let running = |j: &Job| j.done.borrow().is_none();
    match which {
        Which::All => (0..jobs.len()).filter(|i| running(&jobs[*i])).collect(),
        Which::Current => jobs.len().checked_sub(1).into_iter().collect(),
        Which::Number(n) => jobs
            .iter()
            .position(|j| j.number == n)
            .into_iter()
            .collect(),
    }
}

/// Hangs up a session's jobs when dropped, however the session ends.
pub struct HangUp(pub Arc<Jobs>);

impl Drop for HangUp {
    fn drop(&mut self) {
        self.0.hang_up();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(limit: usize) -> Arc<Jobs> {
        Jobs::new(limit, Detached::new(4, 1000))
    }

    /// A job that runs until aborted; the receiver errs when it ends.
    fn endless(jobs: &Arc<Jobs>, immune: bool) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let slot = jobs.slot().unwrap();
        assert!(jobs.spawn(slot, "sleep 100".into(), immune, async move {
            let _tx = tx;
            std::future::pending::<i32>().await
        }));
        rx
    }

    #[tokio::test]
    async fn slots_run_out_and_come_back() {
        let jobs = jobs(2);
        let a = jobs.slot().unwrap();
        let _b = jobs.slot().unwrap();
        assert!(jobs.slot().is_none());
        drop(a);
        assert!(jobs.slot().is_some());
    }

    #[tokio::test]
    async fn hang_up_ends_running_jobs_and_refuses_new_ones() {
        let jobs = jobs(4);
        let rx = endless(&jobs, false);
        jobs.hang_up();
        // The job's end drops its sender.
        assert!(rx.await.is_err());
        assert!(jobs.slot().is_none());
        tokio::task::yield_now().await;
        assert_eq!(jobs.alive(), 0);
    }

    #[tokio::test]
    async fn nohup_and_disowned_jobs_outlive_the_hang_up_under_the_instance() {
        let detached = Detached::new(4, 1000);
        let jobs = Jobs::new(8, detached.clone());
        let mut nohup = endless(&jobs, true);
        let mut disowned = endless(&jobs, false);
        let plain = endless(&jobs, false);
        assert!(jobs.disown(Which::Number(2), false));
        assert!(!jobs.disown(Which::Number(9), false), "no job 9");
        assert_eq!(jobs.list().len(), 2, "disown drops it from the listing");
        jobs.hang_up();
        assert!(plain.await.is_err(), "the plain job ended");
        tokio::task::yield_now().await;
        use tokio::sync::oneshot::error::TryRecvError;
        assert_eq!(nohup.try_recv(), Err(TryRecvError::Empty), "nohup runs on");
        assert_eq!(
            disowned.try_recv(),
            Err(TryRecvError::Empty),
            "disowned runs on"
        );
        assert_eq!(detached.alive(), 2);
        detached.end_all();
        assert!(nohup.await.is_err() && disowned.await.is_err());
    }

    #[tokio::test]
    async fn wait_returns_when_the_named_jobs_finish() {
        let jobs = jobs(4);
        let slot = jobs.slot().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        assert!(jobs.spawn(slot, "sleep 1".into(), false, async move {
            let _ = rx.await;
            3
        }));
        assert_eq!(jobs.wait(Which::Number(7)).await, None, "no job 7");
        let waiting = tokio::spawn({
            let jobs = jobs.clone();
            async move { jobs.wait(Which::Number(1)).await }
        });
        tx.send(()).unwrap();
        assert_eq!(waiting.await.unwrap(), Some(3), "the job's status");
        assert!(jobs.list().is_empty(), "a waited job leaves the table");
    }
}
