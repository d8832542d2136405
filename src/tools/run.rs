//! What every tool run holds: its program context, its buffered streams,
//! its simulated clock, its seeded randomness and its view of the fake
//! internet. Each tool builds one [`ToolRun`] when it starts and passes it
//! around instead of the pieces.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::clock::{run_rng, Clock};
use super::out::Streams;
use super::remote::Remote;
use super::transfer::Link;
use crate::program::Ctx;

/// One program run of a tool.
pub(crate) struct ToolRun<'a> {
    /// The program context (argv, env, cwd, stdio, instance).
    pub(crate) ctx: &'a Ctx,
    /// stdout and stderr behind one write buffer.
    pub(crate) io: Streams,
    /// Simulated time since the run started.
    pub(crate) clock: Clock,
    /// The run's random source (seed + command line).
    pub(crate) rng: ChaCha8Rng,
    /// The catalog bent by the run's faults.
    pub(crate) remote: Remote<'a>,
}

impl<'a> ToolRun<'a> {
    /// The run for a program started on `ctx`.
    pub(crate) fn new(ctx: &'a Ctx) -> Self {
        let tools = &ctx.instance.config.tools;
        ToolRun {
            ctx,
            io: Streams::new(ctx),
            clock: Clock::for_ctx(ctx),
            rng: run_rng(ctx),
            remote: Remote::new(
                &tools.catalog,
                &ctx.faults,
                tools.bandwidth_bytes_per_s as f64,
            ),
        }
    }

    /// A transfer link at `rate` (the instance bandwidth when `None`),
    /// capped by a tool's `--limit-rate` (0 = no cap), with its own seed.
    pub(crate) fn link(&mut self, rate: Option<f64>, limit_rate: u64) -> Link {
        let cfg = &self.ctx.instance.config.tools;
        let mut r = rate.unwrap_or(cfg.bandwidth_bytes_per_s as f64);
        if limit_rate > 0 {
            r = r.min(limit_rate as f64);
        }
        let seed = self.rng.gen::<u64>();
        Link::new(r, cfg.jitter, ChaCha8Rng::seed_from_u64(seed))
    }

    /// Lets `secs` of simulated time pass (flushing first when the clock
    /// waits); `false` when the reader went away.
    pub(crate) async fn pause(&mut self, secs: f64) -> bool {
        self.io.pause(&mut self.clock, secs).await
    }

    /// A network round trip: a latency drawn in `lo..hi` seconds, waited out.
    pub(crate) async fn latency(&mut self, lo: f64, hi: f64) -> bool {
        let d = self.link(None, 0).latency(lo, hi);
        self.pause(d).await
    }
}
