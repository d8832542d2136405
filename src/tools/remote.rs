//! The fake internet as one program run sees it: the [`Catalog`] bent by
//! the tool-depth faults that fired for the run ([`FaultPlan`]). Both tools
//! ask it, and only it, what a host resolves to, whether a connection is
//! refused and what a request answers, so every fault acts the same way in
//! `wget` and `civitdl`.
//!
//! A fault decides per *program run*, and within the run it acts on the
//! **first try** of each download (`attempt == 1`); later tries (wget's
//! `--tries`, civitdl's retry loop) see the catalog's own answer, like a
//! catalog entry with `fail_tries: 1`. This holds for `http`, `drop_at`,
//! `stall_at`, `dns_failure` and `connection_refused`. `slow` and
//! `disk_full` are conditions of the machine, not of one request: they hold
//! on every try. `disconnect_at` drops the SSH session the first time the
//! transfer reaches its share ([`Remote::at_progress`]).

use crate::faults::FaultPlan;
use crate::net::response::{FailKind, Resolution, Response};
use crate::net::Catalog;

/// The catalog seen through one run's fault plan.
#[derive(Clone, Copy)]
pub(crate) struct Remote<'a> {
    catalog: &'a Catalog,
    faults: &'a FaultPlan,
    bandwidth: f64,
}

/// The byte at `percent` of `size`.
fn share(size: u64, percent: u8) -> u64 {
    (u128::from(size) * u128::from(percent.min(100)) / 100) as u64
}

impl<'a> Remote<'a> {
    /// `bandwidth` is the instance's rate (bytes/s), the base a `slow` cap applies to.
    pub(crate) fn new(catalog: &'a Catalog, faults: &'a FaultPlan, bandwidth: f64) -> Self {
        Remote {
            catalog,
            faults,
            bandwidth,
        }
    }

    /// Resolves `host` on try `attempt` (`dns_failure`: not at all on the first try).
    pub(crate) fn resolve(&self, host: &str, attempt: u32) -> Resolution {
        if attempt == 1 && self.faults.dns_failure() {
            return Resolution::Unknown;
        }
        self.catalog.resolve(host)
    }

    /// Whether a connection to `host:port` is refused on try `attempt`.
    pub(crate) fn refused(&self, host: &str, port: u16, attempt: u32) -> bool {
        (attempt == 1 && self.faults.connection_refused()) || self.catalog.refused(host, port)
    }

    /// The HTTP status an `http` fault makes the remote answer on try `attempt`.
    pub(crate) fn http_status(&self, attempt: u32) -> Option<u16> {
        self.faults.http_status().filter(|_| attempt == 1)
    }

    /// A transfer rate with the `slow` cap applied (`None` = the instance bandwidth).
    pub(crate) fn rate(&self, rate: Option<f64>) -> Option<f64> {
        match self.faults.rate_cap() {
            Some(cap) => Some(rate.unwrap_or(self.bandwidth).min(cap as f64).max(1.0)),
            None => rate,
        }
    }

    /// Where a body of `size` bytes fails on try `attempt`: the catalog's
    /// pinned failure, or a `drop_at` fault (a connection reset).
    pub(crate) fn body_fail(
        &self,
        size: u64,
        attempt: u32,
        pinned: Option<(FailKind, u64)>,
    ) -> Option<(FailKind, u64)> {
        match self.faults.drop_at().filter(|_| attempt == 1) {
            Some(p) => Some((FailKind::Reset, share(size, p))),
            None => pinned,
        }
    }

    /// Where a body of `size` bytes pauses on try `attempt` and for how many
    /// seconds (`None` = forever).
    pub(crate) fn body_stall(&self, size: u64, attempt: u32) -> Option<(u64, Option<f64>)> {
        let (p, ms) = self.faults.stall_at().filter(|_| attempt == 1)?;
        Some((share(size, p), ms.map(|ms| ms as f64 / 1000.0)))
    }

    /// The byte of a `size`-byte file at which writing fails with
    /// `No space left on device` (`disk_full`), on every try.
    pub(crate) fn disk_full_at(&self, size: u64) -> Option<u64> {
        self.faults.disk_full_at().map(|p| share(size, p))
    }

    /// The answer to a request for `url` that is the `hop`-th of try
    /// `attempt` (0 = the first request). An `http` fault answers the first
    /// request of the first try; the body of a successful answer carries
    /// the drop, stall and rate cap.
    pub(crate) fn fetch(&self, url: &str, attempt: u32, authorized: bool, hop: u32) -> Response {
        if let Some(status) = self.http_status(attempt).filter(|_| hop == 0) {
            let mut r = self.catalog.fetch(url, attempt, authorized);
            r.status = status;
            r.size = 0;
            r.location = None;
            r.filename = None;
            r.fail = None;
            r.content_type = "text/html".into();
            return r;
        }
        let mut r = self.catalog.fetch(url, attempt, authorized);
        if (200..300).contains(&r.status) {
            r.fail = self.body_fail(r.size, attempt, r.fail);
            r.stall = self.body_stall(r.size, attempt);
            r.rate = self.rate(r.rate);
        }
        r
    }

    /// The byte of a `size`-byte transfer at which a `disconnect_at` fault
    /// drops the session, so transfers can stop exactly there.
    pub(crate) fn disconnect_at(&self, size: u64) -> Option<u64> {
        self.faults.disconnect_at().map(|p| share(size, p))
    }

    /// Reports that the transfer reached `done` of `total` bytes; true when
    /// a `disconnect_at` fault drops the SSH session now (stop at once).
    pub(crate) fn at_progress(&self, done: u64, total: u64) -> bool {
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * done as f64 / total as f64
        };
        self.faults.at_progress(pct)
    }

    /// Whether the session is being dropped (a disconnect fault fired).
    pub(crate) fn disconnected(&self) -> bool {
        self.faults.session.disconnect_requested()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, Fired};

    fn plan(fault: Fault) -> FaultPlan {
        FaultPlan {
            fired: vec![Fired {
                id: "f1".into(),
                fault,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn faults_act_on_the_first_try_only() {
        let c = Catalog::default();
        let p = plan(Fault::Http { status: 503 });
        let r = Remote::new(&c, &p, 1e6);
        let url = "https://example.org/a.bin";
        assert_eq!(r.fetch(url, 1, false, 0).status, 503);
        assert_eq!(r.fetch(url, 2, false, 0).status, 200);
        let p = plan(Fault::DnsFailure);
        let r = Remote::new(&c, &p, 1e6);
        assert_eq!(r.resolve("example.org", 1), Resolution::Unknown);
        assert!(matches!(r.resolve("example.org", 2), Resolution::Ips(_)));
    }

    #[test]
    fn drops_and_stalls_sit_at_their_share_of_the_body() {
        let c = Catalog::default();
        let url = "https://example.org/a.bin";
        let size = c.fetch(url, 1, false).size;
        let p = plan(Fault::DropAt { percent: 50 });
        let r = Remote::new(&c, &p, 1e6).fetch(url, 1, false, 0);
        assert_eq!(r.fail, Some((FailKind::Reset, size / 2)));
        let p = plan(Fault::StallAt {
            percent: 25,
            stall_ms: Some(1500),
        });
        let r = Remote::new(&c, &p, 1e6).fetch(url, 1, false, 0);
        assert_eq!(r.stall, Some((size / 4, Some(1.5))));
        let p = plan(Fault::Slow { bytes_per_s: 1000 });
        assert_eq!(Remote::new(&c, &p, 1e6).rate(None), Some(1000.0));
        assert_eq!(Remote::new(&c, &p, 1e6).rate(Some(500.0)), Some(500.0));
    }
}
