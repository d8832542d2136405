//! `download_queue.json`: the original app's job queue, field for field.
//!
//! Required fields (a record without one is an [`InvalidRecord`](super::store::InvalidRecord),
//! kept as is and reported for that job only): `id`, `instance_id`,
//! `ssh_connection`, `commands`, `total_commands`, `command_index`,
//! `added_at`, `status`. `ui_home`, `resource_paths`, `display_name` and
//! `variant_tag` default to null / empty. Unknown fields are kept on rewrite.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::connection::SshTarget;
use super::store::{JsonStore, Record, Records};
use super::{time, Result};

/// A job's state, as the original spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting to run.
    Pending,
    /// A handler is running it.
    Running,
    /// Every command succeeded.
    Complete,
    /// A command failed (see the status entry's `error`).
    Failed,
    /// The host key did not match; a person must check it.
    HostVerificationNeeded,
}

impl JobStatus {
    /// Whether the job has stopped (COMPLETE, FAILED, HOST_VERIFICATION_NEEDED).
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }
}

/// One queued download job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// A uuid4 string.
    pub id: String,
    /// The instance: its IP with dots as underscores (`109_231_106_68`).
    pub instance_id: String,
    /// `ssh -p PORT root@HOST ...` as the user gave it.
    pub ssh_connection: String,
    /// ComfyUI's home on the instance.
    #[serde(default)]
    pub ui_home: Option<String>,
    /// The Markdown resources the commands came from.
    #[serde(default)]
    pub resource_paths: Vec<String>,
    /// What the UI shows.
    #[serde(default)]
    pub display_name: String,
    /// `high-noise`, `low-noise` or null.
    #[serde(default)]
    pub variant_tag: Option<String>,
    /// The shell commands, run in order.
    pub commands: Vec<String>,
    /// `commands.len()`, as the original stores it.
    pub total_commands: u32,
    /// Commands done so far (1-based while running in the status file).
    pub command_index: u32,
    /// When it was queued, ISO-8601 UTC with `Z`.
    pub added_at: String,
    /// Where it is.
    pub status: JobStatus,
    /// Fields this library does not know, kept on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record for Job {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Job {
    /// A PENDING job with a fresh uuid4 and `added_at` now; the instance id
    /// comes from the connection string ([`SshTarget::instance_id`]).
    pub fn new(ssh_connection: &str, display_name: &str, commands: Vec<String>) -> Result<Job> {
        let target = SshTarget::parse(ssh_connection)?;
        Ok(Job {
            id: uuid4(),
            instance_id: target.instance_id(),
            ssh_connection: ssh_connection.to_string(),
            ui_home: None,
            resource_paths: Vec::new(),
            display_name: display_name.to_string(),
            variant_tag: None,
            total_commands: commands.len() as u32,
            commands,
            command_index: 0,
            added_at: time::now_iso8601(),
            status: JobStatus::Pending,
            extra: Map::new(),
        })
    }
}

/// A random (version 4) UUID, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn uuid4() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The queue file.
pub type Queue = JsonStore<Job>;

impl Records<Job> {
    /// Puts a job back to PENDING from the start (the original's retry).
    pub fn retry(&mut self, id: &str) -> Result<&mut Job> {
        let job = self.get_mut(id)?;
        job.status = JobStatus::Pending;
        job.command_index = 0;
        Ok(job)
    }

    /// The PENDING jobs, oldest first (by `added_at`, then file order).
    pub fn pending(&self) -> Vec<&Job> {
        let mut jobs: Vec<&Job> = self
            .iter()
            .filter(|j| j.status == JobStatus::Pending)
            .collect();
        jobs.sort_by_key(|j| time::parse_iso8601(&j.added_at));
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Error;

    const ORIGINAL: &str = r#"[
  {
    "id": "5a1c1f0e-8f0e-4a57-9b7e-3f1b2b1f9c11",
    "instance_id": "109_231_106_68",
    "ssh_connection": "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080",
    "ui_home": "/workspace/ComfyUI",
    "resource_paths": ["loras/detail.md"],
    "display_name": "Detail Tweaker",
    "variant_tag": null,
    "commands": ["civitdl \"https://civitai.com/models/1874099?modelVersionId=2169837\" \"$UI_HOME\"/models/Lora"],
    "total_commands": 1,
    "command_index": 0,
    "added_at": "2026-11-26T09:00:00.000000Z",
    "status": "PENDING",
    "priority": 7,
    "notes": {"by": "the original app"}
  },
  {
    "id": "broken-1",
    "instance_id": "109_231_106_68",
    "status": "PENDING"
  }
]"#;

    fn queue_file(text: &str) -> (tempfile::TempDir, Queue) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("download_queue.json");
        std::fs::write(&path, text).unwrap();
        (dir, Queue::new(path))
    }

    #[test]
    fn reads_the_original_schema_and_keeps_unknown_fields_on_rewrite() {
        // Arrange
        let (_dir, queue) = queue_file(ORIGINAL);
        // Act
        queue
            .update(|jobs| {
                jobs.get_mut("5a1c1f0e-8f0e-4a57-9b7e-3f1b2b1f9c11")?.status = JobStatus::Running;
                Ok(())
            })
            .unwrap();
        // Assert
        let text = std::fs::read_to_string(queue.path()).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["status"], "RUNNING");
        assert_eq!(v[0]["priority"], 7);
        assert_eq!(v[0]["notes"]["by"], "the original app");
        assert_eq!(v[0]["variant_tag"], Value::Null);
        // the broken job is kept verbatim
        assert_eq!(
            v[1],
            serde_json::json!({"id": "broken-1", "instance_id": "109_231_106_68", "status": "PENDING"})
        );
    }

    #[test]
    fn a_job_missing_fields_is_an_error_for_that_job_only() {
        let (_dir, queue) = queue_file(ORIGINAL);
        let jobs = queue.load().unwrap();
        assert_eq!(jobs.iter().count(), 1);
        let errs = jobs.errors();
        assert_eq!(errs.len(), 1);
        let text = format!(
            "{}: {}",
            errs[0],
            std::error::Error::source(&errs[0]).unwrap()
        );
        assert!(
            text.contains("download_queue.json record 1 (id Some(\"broken-1\")) is invalid"),
            "{text}"
        );
        assert!(text.contains("missing field `ssh_connection`"), "{text}");
        assert!(matches!(
            jobs.get("broken-1"),
            Err(Error::InvalidRecord { index: 1, .. })
        ));
        assert!(matches!(jobs.get("nope"), Err(Error::UnknownJob { id }) if id == "nope"));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_never_an_empty_queue() {
        for text in ["", "[{\"id\": ", "{\"not\": \"an array\"}", "[1, 2]x"] {
            let (_dir, queue) = queue_file(text);
            let err = queue.load().unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "{text:?}: {err}");
            assert!(
                err.to_string().contains("download_queue.json is corrupt"),
                "{err}"
            );
            // and an update writes nothing
            assert!(queue.update(|_| Ok(())).is_err());
            assert_eq!(std::fs::read_to_string(queue.path()).unwrap(), text);
        }
    }

    #[test]
    fn new_jobs_round_trip_and_duplicate_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q.json"));
        assert!(
            queue.load().unwrap().is_empty(),
            "a missing file is an empty queue"
        );
        let job = Job::new(
            "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080",
            "x",
            vec!["wget URL".into()],
        )
        .unwrap();
        assert_eq!(job.instance_id, "109_231_106_68");
        assert_eq!(job.id.len(), 36);
        assert_eq!(&job.id[14..15], "4");
        assert!(job.added_at.ends_with('Z') && !job.added_at.ends_with("ZZ"));
        queue.update(|jobs| jobs.insert(job.clone())).unwrap();
        let again = queue.update(|jobs| jobs.insert(job.clone()));
        assert!(matches!(again, Err(Error::DuplicateJob { .. })));
        assert_eq!(queue.load().unwrap().get(&job.id).unwrap(), &job);
        let removed = queue.update(|jobs| jobs.remove(&job.id)).unwrap();
        assert_eq!(removed, job);
        assert!(queue.load().unwrap().is_empty());
    }

    #[test]
    fn concurrent_updates_from_eight_threads_lose_nothing() {
        // Arrange: one job whose command_index every writer bumps, and one
        // new job per writer and round.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        let seed = Job::new("ssh root@10.0.0.1", "counter", vec![]).unwrap();
        let id = seed.id.clone();
        Queue::new(&path).update(|jobs| jobs.insert(seed)).unwrap();
        const THREADS: usize = 8;
        const ROUNDS: usize = 25;
        // Act: each thread has its own store (its own lock-file handle), as
        // separate processes would.
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (path, id) = (path.clone(), id.clone());
                s.spawn(move || {
                    let queue = Queue::new(path);
                    for r in 0..ROUNDS {
                        queue
                            .update(|jobs| {
                                jobs.get_mut(&id)?.command_index += 1;
                                let mut job =
                                    Job::new("ssh root@10.0.0.2", &format!("{t}/{r}"), vec![])?;
                                job.extra.insert("writer".into(), Value::from(t));
                                jobs.insert(job)
                            })
                            .unwrap();
                    }
                });
            }
        });
        // Assert
        let jobs = Queue::new(&path).load().unwrap();
        assert_eq!(
            jobs.get(&id).unwrap().command_index as usize,
            THREADS * ROUNDS
        );
        assert_eq!(jobs.len(), 1 + THREADS * ROUNDS);
    }
}
