//! The settings every tool run reads from its instance.

use std::sync::Arc;

use super::catalog::Catalog;

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
