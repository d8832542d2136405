//! A session's processes: background jobs and pipeline stages, counted
//! against the session's limit as `ulimit -u` counts a user's, and owned by
//! the session so that all of them end when it does (as SIGHUP ends a
//! login's jobs). Nothing a session starts outlives it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;

/// What bash prints when `fork` fails for want of processes.
pub const FORK_FAILED: &str =
    "bash: fork: retry: Resource temporarily unavailable\nbash: fork: Resource temporarily unavailable\n";

/// The processes of one session.
pub struct Jobs {
    limit: usize,
    alive: AtomicUsize,
    tasks: Mutex<Option<JoinSet<()>>>,
}

/// One process slot, given back when dropped.
pub struct Slot(Arc<Jobs>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Jobs {
    /// A session that may have `limit` processes alive at once.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Jobs {
            limit,
            alive: AtomicUsize::new(0),
            tasks: Mutex::new(Some(JoinSet::new())),
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
        let open = self.tasks.lock().map(|t| t.is_some()).unwrap_or(false);
        match (taken, open) {
            (true, true) => Some(Slot(self.clone())),
            (true, false) => {
                drop(Slot(self.clone()));
                None
            }
            _ => None,
        }
    }

    /// Starts a background job holding `slot`; it is aborted at hang-up.
    pub fn spawn(&self, slot: Slot, job: impl Future<Output = ()> + Send + 'static) -> bool {
        let Ok(mut tasks) = self.tasks.lock() else {
            return false;
        };
        let Some(set) = tasks.as_mut() else {
            return false;
        };
        // Reap finished jobs so the set stays as small as what runs.
        while set.try_join_next().is_some() {}
        set.spawn(async move {
            let _slot = slot;
            job.await;
        });
        true
    }

    /// Processes alive now.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::Acquire)
    }

    /// Ends every job and refuses new ones: the session is over.
    pub fn hang_up(&self) {
        let set = self.tasks.lock().ok().and_then(|mut t| t.take());
        if let Some(mut set) = set {
            set.abort_all();
            // Dropping the set detaches nothing: aborted tasks end at their
            // next await, and tasks yield on every command.
            drop(set);
        }
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

    #[tokio::test]
    async fn slots_run_out_and_come_back() {
        let jobs = Jobs::new(2);
        let a = jobs.slot().unwrap();
        let _b = jobs.slot().unwrap();
        assert!(jobs.slot().is_none());
        drop(a);
        assert!(jobs.slot().is_some());
    }

    #[tokio::test]
    async fn hang_up_ends_running_jobs_and_refuses_new_ones() {
        let jobs = Jobs::new(4);
        let slot = jobs.slot().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        assert!(jobs.spawn(slot, async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        }));
        jobs.hang_up();
        // The job's end drops its sender.
        assert!(rx.await.is_err());
        assert!(jobs.slot().is_none());
        tokio::task::yield_now().await;
        assert_eq!(jobs.alive(), 0);
    }
}
