//! The companion client: what drives downloads onto instances.
//!
//! - [`progress`]: one parser per download tool (civitdl, wget, curl, hf, git,
//!   aria2c) turning raw output into typed [`progress::Event`]s.
//! - [`queue`] and [`status`]: the original app's `download_queue.json` and
//!   `download_status.json`, read and written atomically under a
//!   cross-process lock ([`store`]).
//! - [`connection`]: `ssh -p PORT user@host ...` connection strings and the
//!   instance ids derived from them.
//! - [`ssh`]: the russh client (key auth, known_hosts, streamed exec).
//! - [`handler`]: runs the queue's jobs on their instances and keeps the
//!   status file current.

pub mod connection;
mod error;
pub mod handler;
pub mod progress;
pub mod queue;
pub mod ssh;
pub mod status;
pub mod store;
pub mod time;

pub use error::{Error, Result};
