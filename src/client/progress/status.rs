//! Parser events folded into a job's status entry: the status file knows
//! nothing of parsers ([`crate::jobs`] sits below the client), so the fold
//! lives here, next to the events.

use serde_json::Value;

use super::{progress_json, Event};
use crate::jobs::status::StatusEntry;

impl StatusEntry {
    /// Folds a parser event into `progress` (progress and completion events
    /// only); returns whether anything changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        match progress_json(event) {
            Some(Value::Object(map)) => {
                if matches!(event, Event::Complete { .. }) {
                    self.progress.insert("percent".into(), Value::from(100));
                } else {
                    self.progress = map;
                }
                self.touch();
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Progress, Stage};
    use super::*;
    use crate::jobs::queue::{Job, JobStatus};

    #[test]
    fn progress_and_completion_fold_into_the_originals_progress_object() {
        // Arrange
        let job = Job::new("ssh -p 2222 root@10.1.2.3", "Lora", vec!["wget x".into()]).unwrap();
        let mut e = StatusEntry::for_job(&job);
        e.set_status(JobStatus::Running);
        // Act
        let changed = e.apply(&Event::Progress(Progress {
            stage: Some(Stage::Download),
            percent: Some(42.0),
            speed: Some("1.43MB/s".into()),
            downloaded_bytes: Some(5),
            ..Progress::default()
        }));
        // Assert
        assert!(changed);
        assert_eq!(
            serde_json::to_value(&e).unwrap()["progress"],
            serde_json::json!({"percent": 42, "speed": "1.43MB/s", "stage": "download"})
        );
        assert!(e.updated_at.ends_with('Z'));
    }
}
