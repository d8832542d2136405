//! Integration tests: a real server on port 0 and real clients (OpenSSH,
//! paramiko, pexpect over a real pty, russh).

mod abuse;
mod api;
mod api_guard;
mod aria2c;
mod cli;
mod clients;
mod comfyui;
mod curl;
mod dashboard;
mod exec;
mod faults;
mod files;
mod forward;
mod fuzz_regressions;
mod git;
mod golden;
mod handler;
mod hf;
mod hostile;
mod interactive;
mod jobs;
mod race;
mod sftp;
mod support;
