//! A session's memory, as far as its client controls it: the bytes of its
//! shell variables, across every subshell and job of the session.
//!
//! A value is charged once when it is made and given back when the last
//! shell holding it drops it (subshells share values, they do not copy
//! them), so the count is what is really alive. Expansions check it before
//! a value is made: past the limit bash would run out of memory, and so
//! does this shell (`xrealloc: cannot allocate`, exit 2).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The bytes of variables alive in one session, and their limit.
#[derive(Debug)]
pub struct Memory {
    limit: usize,
    used: AtomicUsize,
}

impl Memory {
    /// A session that may hold `limit` bytes of variables.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Memory {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes alive now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether `more` bytes would go past the limit.
    pub fn would_exceed(&self, more: usize) -> bool {
        self.used().saturating_add(more) > self.limit
    }
}

/// One variable's value, charged to its session while anyone holds it.
#[derive(Debug)]
pub struct Value {
    text: String,
    memory: Arc<Memory>,
}

impl Value {
    /// Makes a value of `text`, charged to `memory`.
    pub fn new(text: &str, memory: &Arc<Memory>) -> Arc<Self> {
        memory.used.fetch_add(text.len(), Ordering::Relaxed);
        Arc::new(Value {
            text: text.to_string(),
            memory: memory.clone(),
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        self.memory
            .used
            .fetch_sub(self.text.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_charged_once_and_given_back_by_the_last_holder() {
        let memory = Memory::new(10);
        let a = Value::new("12345", &memory);
        let shared = a.clone();
        assert_eq!(memory.used(), 5);
        assert!(memory.would_exceed(6));
        assert!(!memory.would_exceed(5));
        drop(a);
        assert_eq!(memory.used(), 5);
        drop(shared);
        assert_eq!(memory.used(), 0);
    }
}
