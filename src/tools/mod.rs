//! The emulated download tools (`civitdl`, `wget`, `hf`), as the real programs
//! print them, on a simulated clock.
//!
//! One folder per tool (`wget/`, `civitdl/`: its command line, its steps,
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

pub mod civitdl;
pub mod clock;
pub mod emit;
mod files;
pub mod golden;
pub mod hf;
mod out;
mod remote;
mod run;
pub mod tqdm;
pub mod transfer;
pub mod wget;

use crate::program::Program;

static CIVITDL: civitdl::Civitdl = civitdl::Civitdl;
static WGET: wget::Wget = wget::Wget;
static HF: hf::Hf = hf::Hf;

/// The tool called `name` (a path is reduced to its basename), if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    match name.rsplit('/').next().unwrap_or(name) {
        "civitdl" => Some(&CIVITDL),
        "wget" => Some(&WGET),
        "hf" | "huggingface-cli" => Some(&HF),
        _ => None,
    }
}

/// Names of every tool, for `which`.
pub fn names() -> &'static [&'static str] {
    &["civitdl", "hf", "huggingface-cli", "wget"]
}

#[cfg(test)]
mod fault_tests;
