//! `GET /downloads/events`: server-sent events for every status change.
//!
//! One shared task (started by the first subscriber, ended when the last
//! one leaves) polls the queue and status files every 200 ms by their
//! metadata (inode, size, mtime), reloads them only when that changed, and
//! broadcasts the entries that differ. A subscriber gets:
//!
//! ```text
//! event: snapshot        data: [entry, ...]        first, and after falling behind
//! event: status          data: {entry}             an entry added or changed
//! event: removed         data: {"id": "..."}       an entry gone
//! event: instances       data: [instance, ...]     admin peers only: faults, journal tail
//! event: warning         data: {"message": "..."}  the files cannot be read
//! : keep-alive                                     every 15 s
//! ```
//!
//! Entries have the shape of `GET /downloads/status`; instances that of
//! `GET /__admin/instances`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch, Notify};

use super::downloads::snapshot;
use super::{auth, instances, AppState};
use crate::jobs::blocking;

/// How often the files are checked.
const POLL: Duration = Duration::from_millis(200);
/// Every this many polls the files are reread even when unchanged (5 s).
const RELOAD_EVERY: u32 = 25;

/// One change, as broadcast to every subscriber.
#[derive(Clone, Debug)]
enum Change {
    Status(Value),
    Removed(String),
    Instances(Value),
    Error(String),
}

/// The shared watcher's channel and the shutdown switch.
pub(super) struct EventHub {
    sender: tokio::sync::Mutex<Option<broadcast::Sender<Change>>>,
    /// Poked by admin changes so the instances event goes out at once.
    nudge: Arc<Notify>,
    closed: watch::Sender<bool>,
}

impl EventHub {
    pub(super) fn new() -> Self {
        EventHub {
            sender: tokio::sync::Mutex::new(None),
            nudge: Arc::new(Notify::new()),
            closed: watch::channel(false).0,
        }
    }

    /// Ends every stream, now and for later subscribers.
    pub(super) fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Tells the watcher that faults or the journal changed.
    pub(super) fn nudge(&self) {
        self.nudge.notify_one();
    }
}

/// What identifies a file's version without reading it: an atomic replace
/// gives a new inode, an in-place write a new size or mtime.
fn fingerprint(path: &std::path::Path) -> Option<(u64, u64, SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()?))
}

/// Joins the shared watcher (starting it if none runs) and returns the
/// current entries. Changes after the returned snapshot are never lost: the
/// receiver exists before the files are read, or the watcher starts from
/// fingerprints taken before they were read.
async fn subscribe(state: &AppState) -> (broadcast::Receiver<Change>, Event) {
    let mut slot = state.inner.hub.sender.lock().await;
    if let Some(tx) = slot.as_ref() {
        let rx = tx.subscribe();
        drop(slot);
        return (rx, fresh_snapshot(state).await);
    }
    let before = fingerprints(state);
    let st = state.clone();
    let (tx, rx) = broadcast::channel(256);
    let event = match blocking(move || snapshot(&st, None)).await {
        Ok(list) => {
            let mut entries = HashMap::new();
            let event = snapshot_event(list.clone());
            diff(&mut entries, list);
            tokio::spawn(watch_files(
                state.clone(),
                tx.clone(),
                Some(before),
                entries,
            ));
            event
        }
        Err(e) => {
            tokio::spawn(watch_files(state.clone(), tx.clone(), None, HashMap::new()));
            event(&Change::Error(e.to_string()))
        }
    };
    *slot = Some(tx);
    (rx, event)
}

fn fingerprints(s: &AppState) -> Fingerprints {
    [
        fingerprint(s.inner.queue.path()),
        fingerprint(s.inner.status.path()),
    ]
}

type Fingerprints = [Option<(u64, u64, SystemTime)>; 2];

async fn watch_files(
    state: AppState,
    tx: broadcast::Sender<Change>,
    mut seen_files: Option<Fingerprints>,
    mut entries: HashMap<String, Value>,
) {
    let mut last_error: Option<String> = None;
    let mut admin = AdminWatch::default();
    let mut polls: u32 = 0;
    let nudge = state.inner.hub.nudge.clone();
    let mut closed = state.inner.hub.closed.subscribe();
    loop {
        {
            // Decided under the slot's lock: a subscriber either got this
            // sender before we looked, or will start a new watcher.
            let mut slot = state.inner.hub.sender.lock().await;
            if tx.receiver_count() == 0 || *closed.borrow() {
                *slot = None;
                return;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = nudge.notified() => admin.force = true,
            _ = closed.changed() => {}
        }
        let now = fingerprints(&state);
        polls = polls.wrapping_add(1);
        // An in-place writer (the original app) can keep size and mtime
        // within one clock tick: reread now and then regardless.
        if seen_files.as_ref() != Some(&now) || polls.is_multiple_of(RELOAD_EVERY) {
            let st = state.clone();
            match blocking(move || snapshot(&st, None)).await {
                Ok(list) => {
                    seen_files = Some(now);
                    last_error = None;
                    for change in diff(&mut entries, list) {
                        let _ = tx.send(change);
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    if last_error.as_ref() != Some(&message) {
                        tracing::warn!("events: {message}");
                        let _ = tx.send(Change::Error(message.clone()));
                        last_error = Some(message);
                    }
                }
            }
        }
        if let Some(list) = admin.poll(&state) {
            let _ = tx.send(Change::Instances(list));
        }
    }
}

/// The changes from `old` to `new` (in `new`'s order, removals last);
/// `old` becomes `new`.
fn diff(old: &mut HashMap<String, Value>, new: Vec<Value>) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut next = HashMap::with_capacity(new.len());
    for entry in new {
        let Some(id) = entry.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        if old.get(&id) != Some(&entry) {
            changes.push(Change::Status(entry.clone()));
        }
        next.insert(id, entry);
    }
    let mut gone: Vec<&String> = old.keys().filter(|id| !next.contains_key(*id)).collect();
    gone.sort();
    changes.extend(gone.into_iter().map(|id| Change::Removed(id.clone())));
    *old = next;
    changes
}

/// Watches the fake instances: their fault lists (with hit counts) and the
/// newest journal sequence number.
#[derive(Default)]
struct AdminWatch {
    faults: Vec<Value>,
    next_seq: Vec<u64>,
    started: bool,
    force: bool,
}

impl AdminWatch {
    fn poll(&mut self, state: &AppState) -> Option<Value> {
        let list = &state.inner.instances;
        if list.is_empty() {
            return None;
        }
        let faults: Vec<Value> = list
            .iter()
            .map(|i| serde_json::to_value(i.faults.list()).unwrap_or(Value::Null))
            .collect();
        let mut changed = !self.started || self.force || faults != self.faults;
        self.next_seq.resize(list.len(), 1);
        for (i, inst) in list.iter().enumerate() {
            let newer = inst
                .journal
                .query(&crate::journal::Query {
                    since: Some(self.next_seq[i]),
                    ..Default::default()
                })
                .unwrap_or_default();
            if let Some(last) = newer.last() {
                self.next_seq[i] = last.seq + 1;
                changed = true;
            }
        }
        self.started = true;
        self.force = false;
        self.faults = faults;
        changed.then(|| instances::summaries(state))
    }
}

fn event(change: &Change) -> Event {
    let (name, data) = match change {
        Change::Status(v) => ("status", v.clone()),
        Change::Removed(id) => ("removed", json!({ "id": id })),
        Change::Instances(v) => ("instances", v.clone()),
        Change::Error(m) => ("warning", json!({ "message": m })),
    };
    Event::default().event(name).data(data.to_string())
}

fn snapshot_event(list: Vec<Value>) -> Event {
    Event::default()
        .event("snapshot")
        .data(Value::Array(list).to_string())
}

async fn fresh_snapshot(state: &AppState) -> Event {
    let st = state.clone();
    match blocking(move || snapshot(&st, None)).await {
        Ok(list) => snapshot_event(list),
        Err(e) => event(&Change::Error(e.to_string())),
    }
}

/// `GET /downloads/events`.
pub(super) async fn stream(
    State(state): State<AppState>,
    req: Request,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let admin = auth::check(&state, req.headers(), auth::peer(req.extensions())).is_ok();
    let (rx, snapshot) = subscribe(&state).await;
    let mut first = vec![snapshot];
    if admin && !state.inner.instances.is_empty() {
        first.push(event(&Change::Instances(instances::summaries(&state))));
    }
    let mut closed = state.inner.hub.closed.subscribe();
    let live = stream::unfold((rx, state), move |(mut rx, state)| async move {
        loop {
            match rx.recv().await {
                Ok(Change::Instances(_)) if !admin => continue,
                Ok(change) => return Some((event(&change), (rx, state))),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let ev = fresh_snapshot(&state).await;
                    return Some((ev, (rx, state)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stream = stream::iter(first)
        .chain(live)
        .take_until(async move {
            let _ = closed.wait_for(|c| *c).await;
        })
        .map(Ok);
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_reports_new_changed_and_removed_entries() {
        let mut old = HashMap::new();
        let a = json!({"id": "a", "status": "PENDING"});
        let b = json!({"id": "b", "status": "RUNNING"});
        assert_eq!(diff(&mut old, vec![a.clone(), b.clone()]).len(), 2);
        assert!(diff(&mut old, vec![a.clone(), b.clone()]).is_empty());
        let b2 = json!({"id": "b", "status": "COMPLETE"});
        let changes = diff(&mut old, vec![b2.clone()]);
        assert!(matches!(&changes[0], Change::Status(v) if v == &b2));
        assert!(matches!(&changes[1], Change::Removed(id) if id == "a"));
        assert_eq!(changes.len(), 2);
    }
}
