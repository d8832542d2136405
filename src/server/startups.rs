//! Connections that have not logged in yet (sshd's "startups").
//!
//! sshd refuses new connections once `MaxStartups` are waiting, so a client
//! that opens them and never speaks locks everyone out for the login grace
//! time. Here a new connection is always let in: when the table is full,
//! the oldest waiting connection is closed to make room. A flood then costs
//! its own connections, and a real client (whose login takes milliseconds)
//! gets through unless the flood outpaces whole logins.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The waiting connections, oldest first.
pub(super) struct Startups {
    max: usize,
    waiting: Mutex<VecDeque<(u64, Arc<Notify>)>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// One waiting connection's place; `evicted` fires when it must close.
pub(super) struct Ticket {
    pub id: u64,
    pub evicted: Arc<Notify>,
}

impl Startups {
    /// A table of at most `max` waiting connections (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Startups {
            max: max.max(1),
            waiting: Mutex::new(VecDeque::new()),
            next_id: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Registers a new connection, evicting the oldest when full.
    pub fn admit(&self) -> Ticket {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let evicted = Arc::new(Notify::new());
        if let Ok(mut waiting) = self.waiting.lock() {
            while waiting.len() >= self.max {
                if let Some((old, notify)) = waiting.pop_front() {
                    tracing::info!(
                        connection = old,
                        "closing the oldest connection not logged in"
                    );
                    notify.notify_one();
                }
            }
            waiting.push_back((id, evicted.clone()));
        }
        Ticket { id, evicted }
    }

    /// The connection logged in or closed: it no longer waits.
    pub fn leave(&self, id: u64) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.retain(|(i, _)| *i != id);
        }
    }

    /// Connections waiting now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.waiting.lock().map(|w| w.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_table_evicts_its_oldest_connection() {
        let s = Startups::new(2);
        let a = s.admit();
        let b = s.admit();
        let _c = s.admit();
        // `a` was told to close (a stored permit makes this return at once).
        a.evicted.notified().await;
        assert_eq!(s.len(), 2);
        s.leave(b.id);
        assert_eq!(s.len(), 1);
    }
}
