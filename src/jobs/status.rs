//! `download_status.json`: one entry per job id, as the original app's UI
//! reads it. Required: `id`, `instance_id`, `status`; the rest default
//! (empty `progress`, no `error`). Unknown fields are kept on rewrite.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::queue::{Job, JobStatus};
use super::store::{JsonStore, Record, Records};
use super::{time, Result};

/// One job's status entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// The job's id.
    pub id: String,
    /// The job's instance id.
    pub instance_id: String,
    /// When the job was queued.
    #[serde(default)]
    pub added_at: String,
    /// Where the job is.
    pub status: JobStatus,
    /// What the UI shows.
    #[serde(default)]
    pub display_name: String,
    /// `high-noise`, `low-noise` or null.
    #[serde(default)]
    pub variant_tag: Option<String>,
    /// How many commands the job has.
    #[serde(default)]
    pub total_commands: u32,
    /// The command running (1-based) or done.
    #[serde(default)]
    pub command_index: u32,
    /// The UI's progress object (`percent`, `speed`, `downloaded`, `total`,
    /// `eta`, `stage`, `name`, `filename`).
    #[serde(default)]
    pub progress: Map<String, Value>,
    /// When this entry last changed.
    #[serde(default)]
    pub updated_at: String,
    /// Why the job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `true` with HOST_VERIFICATION_NEEDED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_verification_needed: Option<bool>,
    /// The host whose key must be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its SSH port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The job's connection string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_connection: Option<String>,
    /// Fields this library does not know, kept on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record for StatusEntry {
    fn id(&self) -> &str {
        &self.id
    }
}

impl StatusEntry {
    /// A PENDING entry for a job.
    pub fn for_job(job: &Job) -> Self {
        StatusEntry {
            id: job.id.clone(),
            instance_id: job.instance_id.clone(),
            added_at: job.added_at.clone(),
            status: JobStatus::Pending,
            display_name: job.display_name.clone(),
            variant_tag: job.variant_tag.clone(),
            total_commands: job.total_commands,
            command_index: job.command_index,
            progress: Map::new(),
            updated_at: time::now_iso8601(),
            error: None,
            host_verification_needed: None,
            host: None,
            port: None,
            ssh_connection: None,
            extra: Map::new(),
        }
    }

    /// Moves to `status` and stamps `updated_at`. COMPLETE sets progress to
    /// `{"percent": 100}` as the original does, PENDING empties it; all three
    /// of PENDING, RUNNING and COMPLETE clear `error` and the host-verification
    /// fields.
    pub fn set_status(&mut self, status: JobStatus) {
        self.status = status;
        match status {
            JobStatus::Pending | JobStatus::Running | JobStatus::Complete => {
                self.error = None;
                self.host_verification_needed = None;
                self.host = None;
                self.port = None;
                self.ssh_connection = None;
                if status == JobStatus::Complete {
                    self.progress = Map::from_iter([("percent".to_string(), Value::from(100))]);
                } else if status == JobStatus::Pending {
                    self.progress.clear();
                    self.command_index = 0;
                }
            }
            JobStatus::Failed | JobStatus::HostVerificationNeeded => {}
        }
        self.touch();
    }

    /// FAILED with a readable reason.
    pub fn fail(&mut self, error: impl Into<String>) {
        self.set_status(JobStatus::Failed);
        self.error = Some(error.into());
    }

    /// HOST_VERIFICATION_NEEDED for `host:port`, with the original's extra
    /// fields.
    pub fn needs_host_verification(&mut self, host: &str, port: u16, ssh_connection: &str) {
        self.set_status(JobStatus::HostVerificationNeeded);
        self.host_verification_needed = Some(true);
        self.host = Some(host.to_string());
        self.port = Some(port);
        self.ssh_connection = Some(ssh_connection.to_string());
    }

    /// Stamps `updated_at` with now.
    pub fn touch(&mut self) {
        self.updated_at = time::now_iso8601();
    }
}

/// The status file.
pub type StatusFile = JsonStore<StatusEntry>;

impl Records<StatusEntry> {
    /// The entries of one instance.
    pub fn for_instance<'a>(
        &'a self,
        instance_id: &'a str,
    ) -> impl Iterator<Item = &'a StatusEntry> {
        self.iter().filter(move |e| e.instance_id == instance_id)
    }

    /// Changes the entry of job `id` (an [`Error::UnknownJob`](super::Error::UnknownJob)
    /// when there is none).
    pub fn modify(&mut self, id: &str, change: impl FnOnce(&mut StatusEntry)) -> Result<()> {
        change(self.get_mut(id)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Error;

    #[test]
    fn status_entries_follow_the_originals_shape() {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let file = StatusFile::new(dir.path().join("download_status.json"));
        let job = Job::new("ssh -p 2222 root@10.1.2.3", "Lora", vec!["wget x".into()]).unwrap();
        file.update(|s| s.insert(StatusEntry::for_job(&job)))
            .unwrap();
        // Act
        file.update(|s| {
            s.modify(&job.id, |e| {
                e.set_status(JobStatus::Running);
                e.command_index = 1;
            })
        })
        .unwrap();
        // Assert
        let v: Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        let e = &v[0];
        assert_eq!(e["status"], "RUNNING");
        assert_eq!(e["instance_id"], "10_1_2_3");
        assert_eq!(e["command_index"], 1);
        assert!(e.get("error").is_none());
        assert!(e["updated_at"].as_str().unwrap().ends_with('Z'));

        file.update(|s| s.modify(&job.id, |e| e.fail("wget: ERROR 404: Not Found")))
            .unwrap();
        let entry = file.load().unwrap().get(&job.id).unwrap().clone();
        assert_eq!(entry.status, JobStatus::Failed);
        assert_eq!(entry.error.as_deref(), Some("wget: ERROR 404: Not Found"));

        file.update(|s| {
            s.modify(&job.id, |e| {
                e.needs_host_verification("10.1.2.3", 2222, "ssh -p 2222 root@10.1.2.3")
            })
        })
        .unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        assert_eq!(v[0]["status"], "HOST_VERIFICATION_NEEDED");
        assert_eq!(v[0]["host_verification_needed"], true);
        assert_eq!(v[0]["port"], 2222);

        file.update(|s| s.modify(&job.id, |e| e.set_status(JobStatus::Complete)))
            .unwrap();
        let entry = file.load().unwrap().get(&job.id).unwrap().clone();
        assert_eq!(
            Value::Object(entry.progress),
            serde_json::json!({"percent": 100})
        );
        assert_eq!(entry.host_verification_needed, None);

        let unknown = file.update(|s| s.modify("nope", |_| {}));
        assert!(matches!(unknown, Err(Error::UnknownJob { .. })));
    }
}
