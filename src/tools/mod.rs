//! The emulated download tools (`civitdl`, `wget`), as the real programs
//! print them, on a simulated clock.
//!
//! Shared pieces: [`clock`] (simulated time, wall-clock dates), [`transfer`]
//! (bandwidth with seeded jitter), [`catalog`] (what every URL and civitai id
//! resolves to), [`tqdm`] (progress bar formatting), [`emit`] (the tools
//! without SSH) and [`golden`] (structural comparison with real captures).

pub mod catalog;
pub mod civitdl;
mod civitdl_help;
pub mod clock;
pub mod emit;
mod files;
pub mod golden;
mod out;
mod remote;
pub mod tqdm;
pub mod transfer;
pub mod wget;
mod wget_bar;
mod wget_dot;

use std::sync::Arc;

use crate::program::Program;

pub use catalog::Catalog;

/// Settings every tool run reads: simulated time, bandwidth, catalog.
#[derive(Clone, Debug)]
pub struct ToolConfig {
    /// Download bandwidth in bytes per second (before jitter).
    pub bandwidth_bytes_per_s: u64,
    /// Relative rate jitter, 0.0..1.0 (0.05 = the rate wanders by ±5%).
    pub jitter: f64,
    /// Pinned names, sizes and failures; URLs not listed are synthesised.
    pub catalog: Arc<Catalog>,
    /// Pins the wall clock (Unix seconds) at the start of each run, for golden tests.
    pub start_time: Option<i64>,
    /// tqdm <= 4.67 draws bars the full terminal width; newer versions use one column less.
    pub tqdm_full_width: bool,
}

impl Default for ToolConfig {
    fn default() -> Self {
        ToolConfig {
            // A typical cloud instance pulling from civitai/HF: ~40 MB/s.
            bandwidth_bytes_per_s: 40_000_000,
            jitter: 0.05,
            catalog: Arc::new(Catalog::default()),
            start_time: None,
            tqdm_full_width: false,
        }
    }
}

static CIVITDL: civitdl::Civitdl = civitdl::Civitdl;
static WGET: wget::Wget = wget::Wget;

/// The tool called `name` (a path is reduced to its basename), if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    match name.rsplit('/').next().unwrap_or(name) {
        "civitdl" => Some(&CIVITDL),
        "wget" => Some(&WGET),
        _ => None,
    }
}

/// Names of every tool, for `which`.
pub fn names() -> &'static [&'static str] {
    &["civitdl", "wget"]
}

/// FNV-1a, a stable hash for deriving seeds and synthetic names
/// (std's `DefaultHasher` may change between Rust releases).
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod fault_tests;
