//! Jobs that outlive their session: `nohup cmd &` and `disown`ed jobs.
//!
//! A session's jobs end when it does (as SIGHUP ends a login's jobs), except
//! those that ignore the hang-up. Those are adopted here, by the instance,
//! and stay under its caps: at most [`max_detached`] at once (past it a job
//! is ended at hang-up, as an out-of-memory killer would), and together they
//! run at most [`detached_steps_per_sec`] commands and writes a second, so a
//! busy loop left behind costs a sliver of a core, never a whole one.
//! A download left running (`nohup civitdl ... > log 2>&1 &`) waits on the
//! simulated clock, not on this budget, so it finishes on time.
//!
//! [`max_detached`]: crate::limits::SessionLimits::max_detached
//! [`detached_steps_per_sec`]: crate::limits::SessionLimits::detached_steps_per_sec

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

/// The instance's adopted jobs, and the pace they may run at.
#[derive(Debug)]
pub struct Detached {
    limit: usize,
    next: AtomicU64,
    tasks: Mutex<HashMap<u64, AbortHandle>>,
    bucket: Bucket,
}

/// What a background job carries, from its start: whether it ignores the
/// hang-up, and once adopted, the registry's hold on it.
#[derive(Debug, Default)]
pub struct JobState {
    immune: AtomicBool,
    orphaned: AtomicBool,
    adopted: Mutex<Option<Adopted>>,
}

/// An adopted job's entry, removed when the job ends (its state drops).
#[derive(Debug)]
struct Adopted {
    id: u64,
    registry: Weak<Detached>,
}

impl Drop for Adopted {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            if let Ok(mut tasks) = registry.tasks.lock() {
                tasks.remove(&self.id);
            }
        }
    }
}

tokio::task_local! {
    /// The background job the current task runs, if it is one.
    static CURRENT: Arc<JobState>;
}

impl JobState {
    /// A job's state; `immune` when it ignores the hang-up from the start
    /// (`nohup cmd &`, or started by a job that does).
    pub fn new(immune: bool) -> Arc<Self> {
        let state = JobState::default();
        state
            .immune
            .store(immune || current_is_immune(), Ordering::Relaxed);
        Arc::new(state)
    }

    /// Marks the job as outliving its session (`disown`).
    pub fn ignore_hang_up(&self) {
        self.immune.store(true, Ordering::Relaxed);
    }

    /// Whether the job outlives its session.
    pub fn is_immune(&self) -> bool {
        self.immune.load(Ordering::Relaxed)
    }

    /// Runs `job` as this job: [`pace`] inside it knows it.
    pub fn scope<F: Future>(self: Arc<Self>, job: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, job)
    }
}

/// Whether the current task is a job that ignores the hang-up (its own
/// background jobs inherit that, as children inherit `SIG_IGN`).
fn current_is_immune() -> bool {
    CURRENT.try_with(|s| s.is_immune()).unwrap_or(false)
}

/// Waits, in a job whose session has gone, for its share of the detached
/// jobs' budget; anywhere else it returns at once.
pub async fn pace() {
    let orphan = CURRENT
        .try_with(|s| {
            s.orphaned
                .load(Ordering::Relaxed)
                .then(|| s.adopted.lock().ok()?.as_ref()?.registry.upgrade())
                .flatten()
        })
        .ok()
        .flatten();
    if let Some(registry) = orphan {
        if let Some(wait) = registry.bucket.take() {
            tokio::time::sleep(wait).await;
        }
    }
}

impl Detached {
    /// A registry holding at most `limit` jobs, running `steps_per_sec`
    /// commands and writes a second between them.
    pub fn new(limit: usize, steps_per_sec: u32) -> Arc<Self> {
        Arc::new(Detached {
            limit,
            next: AtomicU64::new(0),
            tasks: Mutex::new(HashMap::new()),
            bucket: Bucket::new(steps_per_sec),
        })
    }

    /// Takes over a job whose session hung up; `false` (and nothing kept)
    /// when the instance already holds as many as it may.
    pub fn adopt(self: &Arc<Self>, state: &JobState, task: AbortHandle) -> bool {
        let Ok(mut tasks) = self.tasks.lock() else {
            return false;
        };
        if tasks.len() >= self.limit || task.is_finished() {
            return false;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        tasks.insert(id, task);
        drop(tasks);
        if let Ok(mut adopted) = state.adopted.lock() {
            *adopted = Some(Adopted {
                id,
                registry: Arc::downgrade(self),
            });
        }
        state.orphaned.store(true, Ordering::Relaxed);
        true
    }

    /// Adopted jobs still running.
    pub fn alive(&self) -> usize {
        self.tasks.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// Ends every adopted job: the instance is going away.
    pub fn end_all(&self) {
        let tasks: Vec<AbortHandle> = match self.tasks.lock() {
            Ok(mut t) => t.drain().map(|(_, h)| h).collect(),
            Err(_) => return,
        };
        for task in tasks {
            task.abort();
        }
    }
}

/// A token bucket shared by the detached jobs: `rate` steps a second, up to
/// a second's worth saved. A step past it reserves its token and sleeps
/// until the token is due, so waiting jobs take turns.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Bucket {
            rate,
            state: Mutex::new((rate, Instant::now())),
        }
    }

    /// Takes a token; how long to wait for it, if it is not there yet.
    fn take(&self) -> Option<Duration> {
        let mut state = self.state.lock().ok()?;
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate);
        let left = tokens - 1.0;
        *state = (left, now);
        (left < 0.0).then(|| Duration::from_secs_f64(-left / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn adopted_jobs_are_capped_and_leave_when_they_end() {
        let registry = Detached::new(1, 1000);
        let (a, b) = (JobState::new(true), JobState::new(true));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sa = a.clone();
        let ta = tokio::spawn(sa.clone().scope(async move {
            let _ = rx.await;
            drop(sa);
        }));
        let tb = tokio::spawn(std::future::pending::<()>());
        assert!(registry.adopt(&a, ta.abort_handle()));
        drop(a);
        assert!(!registry.adopt(&b, tb.abort_handle()), "past the cap");
        assert_eq!(registry.alive(), 1);
        tx.send(()).unwrap();
        ta.await.unwrap();
        assert_eq!(registry.alive(), 0);
        tb.abort();
    }

    #[test]
    fn the_bucket_spends_a_seconds_worth_then_makes_steps_wait() {
        let bucket = Bucket::new(100);
        let waited = (0..150).filter_map(|_| bucket.take()).count();
        assert!((45..=55).contains(&waited), "{waited}");
        let wait = bucket.take().unwrap();
        assert!(wait > Duration::from_millis(400), "{wait:?}");
    }

    #[tokio::test]
    async fn immunity_passes_to_the_jobs_a_job_starts() {
        let parent = JobState::new(true);
        let child = parent.scope(async { JobState::new(false) }).await;
        assert!(child.is_immune());
        assert!(!JobState::new(false).is_immune());
    }
}
