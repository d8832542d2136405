//! fakessh: a cloud GPU instance over real SSH, for testing model-download
//! pipelines end to end without renting a machine.
//!
//! The server answers `exec`, `pty` + `shell` and `env` like a Linux box
//! running ComfyUI, with a sandboxed file tree and a shell that never runs a
//! host command.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod client;
pub mod cmdline;
pub mod faults;
pub mod fixture;
pub mod fleet;
pub mod instance;
pub mod jobs;
pub mod journal;
pub mod limits;
pub mod net;
pub mod program;
pub mod server;
pub mod services;
pub mod shell;
pub mod tools;

pub use fixture::{FakeInstance, FakeInstanceBuilder};
