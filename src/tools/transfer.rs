//! The bandwidth model: a nominal rate with seeded jitter, answering "how
//! many bytes arrive in the next `dt` seconds" and "how long do the next
//! `n` bytes take". Tools call it at their own cadence (wget's 0.2 s bar,
//! tqdm's 1 MiB chunks, wget's dot rows).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One connection's data rate.
#[derive(Clone, Debug)]
pub struct Link {
    rate: f64,
    jitter: f64,
    rng: ChaCha8Rng,
}

impl Link {
    /// A link of `rate` bytes/s whose rate wanders by ±`jitter` (a fraction).
    pub fn new(rate: f64, jitter: f64, rng: ChaCha8Rng) -> Self {
        Link {
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                // "rate=0" on a test origin means "as fast as the loopback goes".
                2.0e9
            },
            jitter: jitter.clamp(0.0, 0.9),
            rng,
        }
    }

    /// The nominal rate in bytes/s.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn factor(&mut self) -> f64 {
        if self.jitter == 0.0 {
            1.0
        } else {
            1.0 + self.rng.gen_range(-self.jitter..=self.jitter)
        }
    }

    /// Bytes that arrive in the next `dt` seconds.
    pub fn bytes_in(&mut self, dt: f64) -> u64 {
        let f = self.factor();
        (self.rate * f * dt).round().max(0.0) as u64
    }

    /// Seconds the next `bytes` take to arrive.
    pub fn secs_for(&mut self, bytes: u64) -> f64 {
        let f = self.factor();
        bytes as f64 / (self.rate * f)
    }

    /// A small random delay (request latency), between `lo` and `hi` seconds.
    pub fn latency(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..hi)
        }
    }
}

/// `40M`, `1.5G`, `800K`, `100MB/s` or a plain number of bytes per second.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let t = text
        .trim()
        .trim_end_matches("/s")
        .trim_end_matches(['B', 'b']);
    match decimal_amount(t) {
        Some(v) if v > 0.0 && v.is_finite() => Ok(v as u64),
        _ => Err(format!("{text:?} is not a rate like 40M or 1500000")),
    }
}

/// `5M`, `500K`, `1G`, `1000`: a number with a decimal multiplier
/// (K = 10^3, as `--bandwidth` and civitdl's `--limit-rate` read it).
pub(crate) fn decimal_amount(text: &str) -> Option<f64> {
    let (num, mult) = match text.chars().last() {
        Some('K' | 'k') => (&text[..text.len() - 1], 1e3),
        Some('M' | 'm') => (&text[..text.len() - 1], 1e6),
        Some('G' | 'g') => (&text[..text.len() - 1], 1e9),
        _ => (text, 1.0),
    };
    num.trim().parse::<f64>().ok().map(|v| v * mult)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn same_seed_gives_same_timings() {
        let mut a = Link::new(1e6, 0.1, ChaCha8Rng::seed_from_u64(7));
        let mut b = Link::new(1e6, 0.1, ChaCha8Rng::seed_from_u64(7));
        for _ in 0..10 {
            assert_eq!(a.bytes_in(0.2), b.bytes_in(0.2));
        }
    }

    #[test]
    fn rate_without_jitter_is_exact() {
        let mut l = Link::new(1_000_000.0, 0.0, ChaCha8Rng::seed_from_u64(1));
        assert_eq!(l.bytes_in(0.2), 200_000);
        assert_eq!(l.secs_for(500_000), 0.5);
    }
}
