//! What the handler is told: files, limits, timeouts and the retry policy.

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

/// Everything the handler needs to know; [`HandlerConfig::new`] fills in
/// the defaults.
#[derive(Clone, Debug)]
pub struct HandlerConfig {
    /// `download_queue.json`.
    pub queue: PathBuf,
    /// `download_status.json`.
    pub status: PathBuf,
    /// The private key (a connection string's `-i KEY` overrides it).
    pub key: PathBuf,
    /// The known_hosts file.
    pub known_hosts: PathBuf,
    /// Learn unknown host keys instead of refusing them.
    pub accept_new: bool,
    /// Jobs at once on one instance (default 1).
    pub per_instance: usize,
    /// Jobs at once in all (default 16).
    pub parallel: usize,
    /// Progress is written at most this often (default 500 ms).
    pub status_interval: Duration,
    /// How often the queue file is re-read (default 200 ms).
    pub poll_interval: Duration,
    /// TCP connect + handshake + auth (default 10 s, as the original's `ConnectTimeout`).
    pub connect_timeout: Duration,
    /// A command that prints nothing for this long is stalled (default 300 s).
    pub stall_timeout: Option<Duration>,
    /// A command running longer than this fails (default none).
    pub command_timeout: Option<Duration>,
    /// Retries of a transient failure, per command (default 3).
    pub retries: u32,
    /// First retry delay; doubled each retry, with ±50% jitter (default 2 s).
    pub retry_base: Duration,
    /// Longest retry delay (default 60 s).
    pub retry_max: Duration,
    /// Appended to civitdl commands as `--api-key KEY`.
    pub civitdl_api_key: Option<String>,
}

impl HandlerConfig {
    /// A config with the defaults for these four files.
    pub fn new(
        queue: impl Into<PathBuf>,
        status: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        known_hosts: impl Into<PathBuf>,
    ) -> Self {
        HandlerConfig {
            queue: queue.into(),
            status: status.into(),
            key: key.into(),
            known_hosts: known_hosts.into(),
            accept_new: false,
            per_instance: 1,
            parallel: 16,
            status_interval: Duration::from_millis(500),
            poll_interval: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Some(Duration::from_secs(300)),
            command_timeout: None,
            retries: 3,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
            civitdl_api_key: None,
        }
    }

    /// The delay before retry `n` (1-based): base * 2^(n-1), capped, ±50%.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .retry_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(20));
        let capped = exp.min(self.retry_max);
        capped.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let mut c = HandlerConfig::new("q", "s", "k", "h");
        c.retry_base = Duration::from_millis(100);
        c.retry_max = Duration::from_millis(350);
        for _ in 0..50 {
            let d1 = c.backoff(1).as_millis();
            let d2 = c.backoff(2).as_millis();
            let d9 = c.backoff(9).as_millis();
            assert!((50..=150).contains(&d1), "{d1}");
            assert!((100..=300).contains(&d2), "{d2}");
            assert!((175..=525).contains(&d9), "{d9}");
        }
    }
}
