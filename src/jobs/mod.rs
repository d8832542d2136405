//! The job files shared by the admin API (which queues and lists downloads)
//! and the client (whose handler runs them): below both, importing neither.
//!
//! - [`queue`] and [`status`]: the original app's `download_queue.json` and
//!   `download_status.json`, read and written atomically under a
//!   cross-process lock ([`store`]).
//! - [`blocking`]: runs that locked file work off the async threads.
//! - [`connection`]: `ssh -p PORT user@host ...` connection strings and the
//!   instance ids derived from them, as a job records them.
//! - [`time`]: the files' ISO-8601 timestamps.

mod blocking;
pub mod connection;
mod error;
pub mod queue;
pub mod status;
pub mod store;
pub mod time;

pub use blocking::blocking;
pub use error::{Error, Result};
