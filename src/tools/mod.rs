//! The emulated download tools (`aria2c`, `civitdl`, `curl`, `git`, `hf`, `wget`), as the real programs
//! print them, on a simulated clock.
//!
//! One folder per tool (`wget/`, `civitdl/`, `curl/`: its command line, its steps,
//! its output formats, its help texts), each run built on one shared
//! `ToolRun` (`run.rs`: the program context, the buffered streams of
//! `out.rs`, the clock, the seeded rng and the `Remote`, the one place
//! where faults bend the fake internet of [`crate::net`]). A new tool is a
//! folder that builds a `ToolRun`, plus a line in [`lookup`] and [`names`].
//!
//! Shared pieces: [`clock`] (simulated time, wall-clock dates), [`transfer`]
//! (bandwidth with seeded jitter), [`tqdm`] (progress bar formatting),
//! `files` (the sandbox as the tools write it), [`emit`] (the tools without
//! SSH) and [`golden`] (structural comparison with real captures).

pub mod aria2c;
pub mod civitdl;
pub mod clock;
pub mod curl;
pub mod emit;
mod files;
pub mod git;
pub mod golden;
pub mod hf;
mod out;
mod remote;
mod run;
pub mod tqdm;
pub mod transfer;
pub mod wget;

use crate::program::Program;

static ARIA2C: aria2c::Aria2c = aria2c::Aria2c;
static CIVITDL: civitdl::Civitdl = civitdl::Civitdl;
static CURL: curl::Curl = curl::Curl;
static WGET: wget::Wget = wget::Wget;
static GIT: git::GitProgram = git::GitProgram;
static HF: hf::Hf = hf::Hf;

/// The tool called `name` (a path is reduced to its basename), if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    match name.rsplit('/').next().unwrap_or(name) {
        "aria2c" => Some(&ARIA2C),
        "civitdl" => Some(&CIVITDL),
        "curl" => Some(&CURL),
        "wget" => Some(&WGET),
        "git" => Some(&GIT),
        "hf" | "huggingface-cli" => Some(&HF),
        _ => None,
    }
}

/// Names of every tool, for `which`.
pub fn names() -> &'static [&'static str] {
    &[
        "aria2c",
        "civitdl",
        "curl",
        "git",
        "hf",
        "huggingface-cli",
        "wget",
    ]
}

#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod test_run;
