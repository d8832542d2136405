//! What a command attempt came to: its exit status read together with the
//! parser's events (civitdl exits 0 when it gave up), and whether a failure
//! is worth a retry.

use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::client::progress::{progress_json, ErrorKind, Event, Tool};
use crate::client::ssh::SSH_FAILURE;

/// What one command attempt came to.
pub(super) enum Verdict {
    /// It succeeded.
    Ok,
    /// It failed in a way worth retrying.
    Transient(String),
    /// It failed for good.
    Permanent(String),
    /// The host key is unknown or changed.
    HostVerification(String),
}

/// Follows a command's events: the latest failure, and whether the tool gave up.
#[derive(Default)]
pub(super) struct Tracker {
    last_error: Option<(ErrorKind, Option<u16>, String)>,
    error_after_complete: bool,
    gave_up: Option<String>,
    last_line: String,
    /// When progress was last handed to the status writer.
    pub(super) last_sent: Option<Instant>,
    /// The newest progress not yet handed over.
    pub(super) latest: Option<Map<String, Value>>,
}

impl Tracker {
    pub(super) fn observe(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::Error {
                    kind,
                    code,
                    message,
                } => {
                    self.last_error = Some((*kind, *code, message.clone()));
                    self.error_after_complete = true;
                }
                Event::GaveUp { message } => self.gave_up = Some(message.clone()),
                Event::Complete { .. } => self.error_after_complete = false,
                _ => {}
            }
            if let Some(Value::Object(p)) = progress_json(e) {
                self.latest = Some(p);
            }
        }
    }

    pub(super) fn remember_line(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        if let Some(line) = text
            .split(['\n', '\r'])
            .map(str::trim)
            .rfind(|l| !l.is_empty())
        {
            self.last_line = line.chars().take(300).collect();
        }
    }

    pub(super) fn verdict(&self, tool: Option<Tool>, code: u32) -> Verdict {
        let failed_anyway =
            self.gave_up.is_some() || (tool == Some(Tool::Civitdl) && self.error_after_complete);
        if code == 0 && !failed_anyway {
            return Verdict::Ok;
        }
        let name = tool.map_or("command", Tool::name);
        let message = match (&self.last_error, &self.gave_up) {
            (Some((_, _, m)), _) => m.clone(),
            (None, Some(g)) => format!("{name}: {g}"),
            (None, None) if self.last_line.is_empty() => {
                format!("{name} exited with status {code}")
            }
            (None, None) => format!("{name} exited with status {code}: {}", self.last_line),
        };
        let transient = match &self.last_error {
            _ if code == SSH_FAILURE => true,
            Some((kind, c, _)) => kind.is_transient(*c),
            // wget's exit 4: a network failure.
            None => tool == Some(Tool::Wget) && code == 4,
        };
        if transient {
            Verdict::Transient(message)
        } else {
            Verdict::Permanent(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::progress::ProgressStream;

    fn verdict(tool: Tool, log: &[u8], code: u32) -> Verdict {
        let mut stream = ProgressStream::for_tool(tool);
        let mut events = Vec::new();
        stream.push(log, &mut events);
        stream.finish(&mut events);
        let mut t = Tracker::default();
        t.observe(&events);
        t.remember_line(log);
        t.verdict(Some(tool), code)
    }

    #[test]
    fn wget_404_is_permanent_with_the_wget_message() {
        let log = b"HTTP request sent, awaiting response... 404 Not Found\n\
                    2026-11-26 09:47:36 ERROR 404: Not Found.\n";
        assert!(matches!(verdict(Tool::Wget, log, 8),
            Verdict::Permanent(m) if m == "wget: ERROR 404: Not Found"));
    }

    #[test]
    fn wget_503_is_transient() {
        let log = b"HTTP request sent, awaiting response... 503 Service Unavailable\n\
                    2026-11-26 09:47:36 ERROR 503: Service Unavailable.\n";
        assert!(matches!(verdict(Tool::Wget, log, 8), Verdict::Transient(_)));
    }

    #[test]
    fn civitdl_giving_up_with_exit_0_is_a_failure() {
        let log = b"Max retry of 3 reached. Skipping the current model...\n";
        assert!(matches!(verdict(Tool::Civitdl, log, 0),
            Verdict::Permanent(m) if m.contains("Max retry of 3 reached")));
    }

    #[test]
    fn an_unexplained_exit_code_names_the_last_line() {
        let log = b"bash: nope: command not found\n";
        assert!(matches!(verdict(Tool::Wget, log, 127),
            Verdict::Permanent(m) if m == "wget exited with status 127: bash: nope: command not found"));
    }
}
