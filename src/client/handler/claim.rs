//! Taking PENDING jobs under the queue's lock, so two handlers on the same
//! files never run a job twice, and giving back the jobs of a claimer that
//! is gone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rand::Rng;
use serde_json::Value;

use super::Shared;
use crate::client::Result;
use crate::jobs::connection::SshTarget;
use crate::jobs::queue::{Job, JobStatus};
use crate::jobs::store::Records;
use crate::jobs::{self, blocking, time};

/// Who claimed a job: this process (pid, host) and this handler (nonce).
#[derive(Clone, Debug)]
pub(super) struct Owner {
    tag: String,
    pid: u32,
    host: String,
}

impl Owner {
    pub(super) fn this_handler() -> Owner {
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

    pub(super) fn unmark(job: &mut Job) {
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

/// What claiming remembers from one round to the next.
#[derive(Default)]
pub(super) struct ClaimMemory {
    /// Invalid queue records already warned about (each is logged once).
    warned: HashSet<String>,
    /// The last claim left PENDING jobs: skip the read-only look next time.
    more_pending: bool,
}

/// Claims up to `free` PENDING jobs (see [`claim_now`]) on the blocking
/// pool: the queue's lock may be held by another process for a while.
pub(super) async fn claim(
    shared: &Arc<Shared>,
    free: usize,
    per_instance: &HashMap<String, usize>,
    memory: &mut ClaimMemory,
) -> Result<Claim> {
    let (shared, counts, mut kept) = (shared.clone(), per_instance.clone(), std::mem::take(memory));
    let (claim, kept) = blocking(move || {
        let claim = claim_now(&shared, free, &counts, &mut kept);
        Ok::<_, jobs::Error>((claim, kept))
    })
    .await?;
    *memory = kept;
    Ok(claim?)
}

/// Claims up to `free` PENDING jobs (oldest first, within the
/// per-instance limit) and returns them with how much live work the
/// queue still holds. Orphaned RUNNING jobs go back to PENDING first.
fn claim_now(
    shared: &Shared,
    free: usize,
    per_instance: &HashMap<String, usize>,
    memory: &mut ClaimMemory,
) -> jobs::Result<Claim> {
    let limit = shared.config.per_instance.max(1);
    let owner = &shared.owner;
    let claimable = |jobs: &Records<Job>, counts: &HashMap<String, usize>| {
        jobs.pending()
            .iter()
            .any(|j| counts.get(&slot(j)).copied().unwrap_or(0) < limit)
    };
    let live = |jobs: &Records<Job>| {
        jobs.iter()
            .filter(|j| match j.status {
                JobStatus::Pending => true,
                JobStatus::Running => Owner::is_claimed(j) && !owner.is_orphan(j),
                _ => false,
            })
            .count()
    };
    if !(memory.more_pending && free > 0) {
        let snapshot = shared.queue.load()?;
        for bad in snapshot.errors() {
            let key = bad.to_string();
            if memory.warned.insert(key) {
                tracing::warn!("skipping a queue record: {bad}: {}", source_text(&bad));
            }
        }
        let orphans = snapshot
            .iter()
            .any(|j| j.status == JobStatus::Running && owner.is_orphan(j));
        if !orphans && (free == 0 || !claimable(&snapshot, per_instance)) {
            memory.more_pending = false;
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
        memory.more_pending =
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

/// What the per-instance limit counts by: the SSH endpoint (`host:port`),
/// so fake instances sharing 127.0.0.1 are told apart; the instance id
/// when the connection string does not parse.
pub(super) fn slot(job: &Job) -> String {
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

fn source_text(e: &jobs::Error) -> String {
    std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// What one claim came to.
pub(super) struct Claim {
    /// The jobs now RUNNING under this handler's mark.
    pub(super) jobs: Vec<Job>,
    /// PENDING jobs plus RUNNING ones under a live claim, after the claim.
    pub(super) live_work: usize,
}
