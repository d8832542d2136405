//! Simulated time: a per-run clock that advances as the transfer model says,
//! sleeps `dt * time_scale` of real time (0 = never), and turns simulated
//! instants into wall-clock dates (pinned for golden tests).

use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::program::Ctx;

/// A run's clock: simulated seconds since the program started.
#[derive(Clone, Debug)]
pub struct Clock {
    scale: f64,
    sim: f64,
    start_unix: f64,
}

impl Clock {
    /// A clock at simulated 0 s; `start_unix` is the wall time it maps to.
    pub fn new(time_scale: f64, start_unix: f64) -> Self {
        Clock {
            scale: if time_scale.is_finite() && time_scale > 0.0 {
                time_scale
            } else {
                0.0
            },
            sim: 0.0,
            start_unix,
        }
    }

    /// The clock for a program run on `ctx`'s instance (pinned or real start).
    pub fn for_ctx(ctx: &Ctx) -> Self {
        let cfg = &ctx.instance.config;
        let start = match cfg.tools.start_time {
            Some(t) => t as f64,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        };
        Clock::new(cfg.time_scale, start)
    }

    /// Simulated seconds since the run started.
    pub fn now(&self) -> f64 {
        self.sim
    }

    /// Whether the clock waits at all (time scale > 0).
    pub fn waits(&self) -> bool {
        self.scale > 0.0
    }

    /// Advances simulated time by `secs`, sleeping `secs * scale` for real.
    /// At time scale 0 it still may yield to the runtime, so a long transfer
    /// stays cancellable (Ctrl-C, a timeout, a client gone) and never holds
    /// a runtime thread.
    pub async fn sleep(&mut self, secs: f64) {
        if secs.is_finite() && secs > 0.0 {
            self.sim += secs;
            if self.scale > 0.0 {
                tokio::time::sleep(std::time::Duration::from_secs_f64(secs * self.scale)).await;
                return;
            }
        }
        tokio::task::consume_budget().await;
    }

    /// Wall-clock Unix seconds at the current simulated instant.
    pub fn unix(&self) -> f64 {
        self.start_unix + self.sim
    }

    /// `YYYY-MM-DD HH:MM:SS` (UTC, as on a cloud instance) for now.
    pub fn date(&self) -> String {
        format_date(self.unix().floor() as i64)
    }
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time, in UTC.
pub fn format_date(unix: i64) -> String {
    // chrono covers ±262,000 years; anything beyond is no date a tool prints.
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The run's random source: the instance seed mixed with the command line,
/// so the same seed and the same command give the same bytes.
pub fn run_rng(ctx: &Ctx) -> ChaCha8Rng {
    let seed = ctx.instance.config.seed.to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![&seed, ctx.cwd.as_bytes()];
    for a in &ctx.argv {
        parts.push(a.as_bytes());
    }
    ChaCha8Rng::seed_from_u64(crate::net::fnv1a(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(format_date(0), "1970-01-01 00:00:00");
        assert_eq!(format_date(1_795_686_415), "2026-11-26 09:46:55");
    }

    #[tokio::test]
    async fn scale_zero_advances_without_waiting() {
        let mut c = Clock::new(0.0, 100.0);
        let t0 = std::time::Instant::now();
        c.sleep(3600.0).await;
        assert!(t0.elapsed().as_millis() < 50);
        assert_eq!(c.now(), 3600.0);
        assert_eq!(c.unix(), 3700.0);
    }
}
