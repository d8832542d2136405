//! The prompt queue and history (`PromptQueue` in `execution.py`): pending
//! tasks by number, the running one, the history in insertion order (at
//! most 10,000, oldest dropped), and the output cache that makes a repeated
//! prompt finish at once.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Map, Value};

/// `MAXIMUM_HISTORY_SIZE`.
const MAX_HISTORY: usize = 10_000;

/// One queued prompt.
#[derive(Clone, Debug)]
pub(super) struct Task {
    pub number: f64,
    pub id: String,
    pub prompt: Map<String, Value>,
    pub extra: Value,
    pub outputs: Vec<String>,
}

impl Task {
    /// The task as `/queue` and history show it:
    /// `[number, prompt_id, prompt, extra_data, outputs_to_execute]`.
    pub(super) fn json(&self) -> Value {
        json!([
            number(self.number),
            self.id,
            self.prompt,
            self.extra,
            self.outputs
        ])
    }

    /// The websocket client that queued it, if it said.
    pub(super) fn client_id(&self) -> Option<String> {
        self.extra
            .get("client_id")
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// A queue number as Python's json writes it: an int when whole (the
/// server's counter), a float when the client sent one.
pub(super) fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Everything the queue holds.
#[derive(Default)]
pub(super) struct Queue {
    /// The next number a prompt gets.
    pub next_number: i64,
    pub pending: Vec<Task>,
    pub running: Option<Task>,
    history: VecDeque<(String, Value)>,
    /// Node id -> (signature of its inputs, its UI output), from the runs
    /// so far: an unchanged node is not run again.
    pub cache: BTreeMap<String, (u64, Option<Value>)>,
}

impl Queue {
    /// Queues `task` in number order (ties keep arrival order).
    pub(super) fn put(&mut self, task: Task) {
        let at = self
            .pending
            .iter()
            .position(|t| t.number > task.number)
            .unwrap_or(self.pending.len());
        self.pending.insert(at, task);
    }

    /// Takes the next task to run.
    pub(super) fn take(&mut self) -> Option<Task> {
        if self.pending.is_empty() {
            return None;
        }
        let t = self.pending.remove(0);
        self.running = Some(t.clone());
        Some(t)
    }

    /// How many are pending or running (`queue_remaining`).
    pub(super) fn remaining(&self) -> usize {
        self.pending.len() + usize::from(self.running.is_some())
    }

    /// Records the running task's result in the history.
    pub(super) fn done(&mut self, entry: Value) {
        if let Some(t) = self.running.take() {
            if self.history.len() >= MAX_HISTORY {
                self.history.pop_front();
            }
            self.history.push_back((t.id, entry));
        }
    }

    /// `get_history`: one prompt, or the last `max_items` (all when `None`).
    pub(super) fn history(&self, id: Option<&str>, max_items: Option<usize>) -> Value {
        let mut out = Map::new();
        match id {
            Some(id) => {
                if let Some((k, v)) = self.history.iter().find(|(k, _)| k == id) {
                    out.insert(k.clone(), v.clone());
                }
            }
            None => {
                let skip = max_items.map_or(0, |m| self.history.len().saturating_sub(m));
                for (k, v) in self.history.iter().skip(skip) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(out)
    }

    /// `wipe_history` / `delete_history_item`.
    pub(super) fn forget(&mut self, ids: Option<&[String]>) {
        match ids {
            None => self.history.clear(),
            Some(ids) => self.history.retain(|(k, _)| !ids.contains(k)),
        }
    }

    /// `/queue`'s answer.
    pub(super) fn snapshot(&self) -> Value {
        json!({
            "queue_running": self.running.iter().map(Task::json).collect::<Vec<_>>(),
            "queue_pending": self.pending.iter().map(Task::json).collect::<Vec<_>>(),
        })
    }
}
