//! One download (aria2's `RequestGroup`): its gid, its URIs, the file it
//! writes, its progress split over connections, and where it stands.

use crate::net::response::{FailKind, Response};
use crate::tools::transfer::Link;

/// Where a download stands.
pub(super) enum Phase {
    /// Queued behind `--max-concurrent-downloads`.
    Waiting,
    /// Its next try starts at this instant.
    Start(f64),
    /// Bytes are coming (from this instant on).
    Transfer(f64),
    /// No bytes since `since`; they come again at `until` (`None`: never).
    Stalled { since: f64, until: Option<f64> },
    /// Failed on an HTTP status: removed at the next readout.
    Stopping,
    /// Finished or failed, and reported.
    Done,
}

/// What ends a try part-way.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Cut {
    /// The body breaks off here (a drop or a reset).
    Fail(FailKind),
    /// The server pauses here (seconds; `None` = forever).
    Stall(Option<f64>),
    /// Writing fails here (`No space left on device`).
    DiskFull,
    /// The SSH session is dropped here.
    Hangup,
}

/// One download.
pub(super) struct Group {
    pub(super) gid: u64,
    pub(super) uris: Vec<String>,
    pub(super) uri_idx: usize,
    /// The directory it saves into (absolute).
    pub(super) dir: String,
    /// `-o` / `out=`.
    pub(super) out: Option<String>,
    /// The file (absolute), once known.
    pub(super) path: Option<String>,
    /// Total length (0 while unknown or when the server sends none).
    pub(super) total: u64,
    pub(super) has_length: bool,
    /// Finished bytes.
    pub(super) done: u64,
    /// Bytes of this session (what the average speed counts).
    pub(super) session: u64,
    pub(super) started: f64,
    pub(super) ended: f64,
    pub(super) phase: Phase,
    /// Failed tries of the current URI.
    pub(super) tries: u32,
    /// The try number the remote sees (1 = first).
    pub(super) attempt: u32,
    pub(super) cuid: u64,
    /// Remaining bytes of each connection's segment, with its share of the link.
    pub(super) segs: Vec<(u64, f64)>,
    pub(super) link: Option<Link>,
    /// The answer the current try is reading.
    pub(super) resp: Option<Response>,
    /// Events part-way through this try, at absolute byte offsets.
    pub(super) cuts: Vec<(u64, Cut)>,
    /// The URI that answered (after redirects).
    pub(super) current_uri: String,
    /// Speed at the last readout and the mark it was measured from.
    pub(super) mark: (f64, u64),
    pub(super) speed: u64,
    /// When this try's body began (`--lowest-speed-limit` waits 10 s from it).
    pub(super) body_start: f64,
    /// `Some(0)` when complete, else aria2's error code.
    pub(super) result: Option<i32>,
    /// Finished before any byte was needed (`Download has already completed`).
    pub(super) already: bool,
}

impl Group {
    /// A queued download of `uris` (mirrors of one file).
    pub(super) fn new(gid: u64, uris: Vec<String>, dir: String, out: Option<String>) -> Self {
        let first = uris.first().cloned().unwrap_or_default();
        Group {
            gid,
            uris,
            uri_idx: 0,
            dir,
            out,
            path: None,
            total: 0,
            has_length: true,
            done: 0,
            session: 0,
            started: 0.0,
            ended: 0.0,
            phase: Phase::Waiting,
            tries: 0,
            attempt: 1,
            cuid: 0,
            segs: Vec::new(),
            link: None,
            resp: None,
            cuts: Vec::new(),
            current_uri: first,
            mark: (0.0, 0),
            speed: 0,
            body_start: 0.0,
            result: None,
            already: false,
        }
    }

    /// The URI being tried.
    pub(super) fn uri(&self) -> &str {
        self.uris
            .get(self.uri_idx)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The first 6 hex digits of the gid.
    pub(super) fn gid6(&self) -> String {
        format!("{:016x}", self.gid)[..6].to_string()
    }

    /// The whole gid.
    pub(super) fn gid16(&self) -> String {
        format!("{:016x}", self.gid)
    }

    /// Whether it counts as a running download (`countRequestGroup`).
    pub(super) fn active(&self) -> bool {
        !matches!(self.phase, Phase::Waiting | Phase::Done)
    }

    /// Open connections (`CN:`).
    pub(super) fn connections(&self) -> usize {
        match self.phase {
            Phase::Transfer(_) | Phase::Stalled { .. } => {
                self.segs.iter().filter(|s| s.0 > 0).count().max(1)
            }
            _ => 0,
        }
    }

    /// Complete (`downloadFinished`).
    pub(super) fn finished(&self) -> bool {
        self.result == Some(0)
    }

    /// Splits what is left over `n` connections, each with a slightly
    /// different share of the link, so they finish one after another.
    pub(super) fn split(&mut self, n: u32) {
        let left = self.total.saturating_sub(self.done);
        let n = u64::from(n.max(1)).min(left.max(1));
        let each = left / n;
        self.segs = (0..n)
            .map(|i| {
                let size = if i + 1 == n {
                    left - each * (n - 1)
                } else {
                    each
                };
                (size, 1.0 - 0.03 * i as f64)
            })
            .collect();
    }

    /// Hands `bytes` to the open connections by their shares.
    pub(super) fn spread(&mut self, bytes: u64) {
        let mut left = bytes;
        if !self.has_length {
            return;
        }
        while left > 0 {
            let open: Vec<usize> = (0..self.segs.len())
                .filter(|i| self.segs[*i].0 > 0)
                .collect();
            if open.is_empty() {
                return;
            }
            let weight: f64 = open.iter().map(|i| self.segs[*i].1).sum();
            let mut given = 0;
            for (k, i) in open.iter().enumerate() {
                let share = if k + 1 == open.len() {
                    left - given
                } else {
                    ((left as f64) * self.segs[*i].1 / weight) as u64
                };
                let take = share.min(self.segs[*i].0).min(left - given);
                self.segs[*i].0 -= take;
                given += take;
            }
            if given == 0 {
                return;
            }
            left -= given;
        }
    }
}
