//! The fake internet the emulated tools download from: the [`Catalog`] of
//! what every URL and civitai id resolves to, and the [`ToolConfig`] an
//! instance gives its tools (bandwidth, jitter, pinned clock).
//!
//! A leaf: it imports nothing else of the crate, so the instance can hold a
//! `ToolConfig` without depending on the tools.
//!
//! Pieces: [`catalog`] (pinned entries and URL resolution), [`url`]
//! (parsing), [`response`] (what a request answers), `synth` (names and
//! sizes for what the catalog does not pin) and [`config`].

pub mod catalog;
pub mod config;
pub mod git;
pub mod hub;
pub mod response;
mod synth;
pub mod url;

pub use catalog::Catalog;
pub use config::ToolConfig;
pub use url::Url;

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
