//! The companion client: what drives downloads onto instances.
//!
//! - [`progress`]: one parser per download tool (civitdl, wget, curl, hf, git,
//!   aria2c) turning raw output into typed [`progress::Event`]s.
//! - [`ssh`]: the russh client (key auth, known_hosts, streamed exec).
//! - [`handler`]: runs the queue's jobs on their instances and keeps the
//!   status file current.
//!
//! The queue and status files themselves, and the connection strings jobs
//! carry, are [`crate::jobs`]: the admin API shares them.

mod error;
pub mod handler;
pub mod progress;
pub mod ssh;

pub use error::{Error, Result};
