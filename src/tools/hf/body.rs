//! `http_get`: the body in 10 MiB chunks into the `.incomplete` file under
//! the tqdm bar (SI units, the file name as description, hidden without a
//! tty); a read timeout (`HF_HUB_DOWNLOAD_TIMEOUT`, 10 s) is logged and
//! resumed with a Range request, a reset connection escapes as
//! `ChunkedEncodingError`, a full disk as `OSError`. With hf_transfer the
//! chunks land eight at a time and the bar moves in bursts.

use super::download::Meta;
use super::errors::Failure;
use super::Run;
use crate::tools::{files, tqdm};

/// `constants.DOWNLOAD_CHUNK_SIZE`.
pub(super) const CHUNK: u64 = 10 * 1024 * 1024;
/// `HF_TRANSFER_CONCURRENCY`: chunks in flight at once.
const TRANSFER_CONCURRENCY: u64 = 8;

/// The bar's description: the file name, `(…)` + its last 40 characters when longer.
pub(super) fn displayed(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let n = name.chars().count();
    if n > 40 {
        format!("(…){}", name.chars().skip(n - 40).collect::<String>())
    } else {
        name.to_string()
    }
}

impl Run<'_> {
    /// A bar frame, at tqdm position 1 when an outer `Fetching` bar holds 0.
    fn place(&self, frame: String) -> String {
        if self.nested {
            format!("\n{frame}\x1b[A")
        } else {
            frame
        }
    }

    /// The read timeout (`HF_HUB_DOWNLOAD_TIMEOUT`, seconds).
    fn read_timeout(&self) -> f64 {
        self.tool
            .ctx
            .env
            .get("HF_HUB_DOWNLOAD_TIMEOUT")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(10.0)
    }

    /// Streams `meta`'s body into `incomplete` from `resume`; `Ok(false)`
    /// when the reader left or the session is being dropped.
    pub(super) async fn transfer(
        &mut self,
        meta: &Meta,
        incomplete: &str,
        resume: u64,
        path: &str,
    ) -> Result<bool, Failure> {
        let ctx = self.tool.ctx;
        let remote = self.tool.remote;
        let size = meta.size;
        let disk_full = remote.disk_full_at(size).filter(|at| *at < size);
        let mut drop_at = meta.drop_at.filter(|at| *at >= resume);
        let mut stall = meta.stall.filter(|(at, _)| *at >= resume);
        let mut link = self.tool.link(remote.rate(meta.rate), 0);
        let lat = link.latency(0.05, 0.3);
        self.tool.pause(lat).await;
        let t0 = self.tool.clock.now();
        let mut bar = self.bars.then(|| {
            let mut b = tqdm::Bar::new(&displayed(path), "B", Some(size as f64), self.ncols, t0);
            // tqdm(initial=resume): the count starts there.
            let _ = b.update(resume as f64, t0);
            b
        });
        if let Some(b) = bar.as_mut() {
            let f = self.place(b.open(t0));
            self.tool.io.err(f).await;
        }
        if remote.at_progress(resume, size) {
            return Ok(false);
        }
        let timeout = self.read_timeout();
        let burst = if self.hf_transfer {
            TRANSFER_CONCURRENCY
        } else {
            1
        };
        let mut got = resume;
        let mut pending = 0u64;
        while got < size {
            if let Some((_, secs)) = stall.filter(|(at, _)| got >= *at) {
                stall = None;
                let waits = secs.filter(|s| *s < timeout);
                match waits {
                    Some(s) => {
                        if !self.tool.pause(s).await {
                            return Ok(false);
                        }
                    }
                    None => {
                        // requests' read timeout fires; http_get logs it and resumes.
                        if !self.tool.pause(timeout).await {
                            return Ok(false);
                        }
                        if !self.hf_transfer {
                            let (host, port) = crate::net::Url::parse(&meta.url)
                                .map(|u| (u.host, u.port))
                                .unwrap_or_default();
                            let pool = if meta.url.starts_with("https") {
                                "HTTPSConnectionPool"
                            } else {
                                "HTTPConnectionPool"
                            };
                            let msg = format!("Error while downloading from {}: {pool}(host='{host}', port={port}): Read timed out.\nTrying to resume download...\n", meta.url);
                            self.tool.io.err(msg).await;
                        }
                        self.tool.pause(1.0).await;
                        self.tool.latency(0.05, 0.3).await;
                    }
                }
            }
            if drop_at.is_some_and(|at| got >= at) {
                if self.hf_transfer {
                    // hf_transfer retries a broken chunk by itself (max_retries=5).
                    drop_at = None;
                    self.tool.latency(0.2, 0.6).await;
                } else {
                    return self
                        .fail_body(bar.as_mut(), incomplete, got, Failure::Dropped)
                        .await;
                }
            }
            if disk_full.is_some_and(|at| got >= at) {
                return self
                    .fail_body(bar.as_mut(), incomplete, got, Failure::DiskFull)
                    .await;
            }
            let hangup = remote.disconnect_at(size);
            let limit = [Some(size), drop_at, disk_full, stall.map(|s| s.0), hangup]
                .into_iter()
                .flatten()
                .filter(|at| *at > got)
                .min()
                .unwrap_or(size);
            let n = CHUNK.min(limit - got);
            let dt = link.secs_for(n);
            if !self.tool.pause(dt).await {
                return Ok(false);
            }
            got += n;
            pending += n;
            // The machine's own disk filling up is the same OSError.
            if files::set_len(ctx, incomplete, got).is_err() {
                return self
                    .fail_body(bar.as_mut(), incomplete, got - n, Failure::DiskFull)
                    .await;
            }
            let flush = !self.hf_transfer || pending >= CHUNK * burst || got >= size;
            if flush {
                if let Some(b) = bar.as_mut() {
                    if let Some(f) = b.update(pending as f64, self.tool.clock.now()) {
                        let f = self.place(f);
                        if !self.tool.io.err(f).await {
                            return Ok(false);
                        }
                    }
                }
                pending = 0;
            }
            if remote.at_progress(got, size) {
                return Ok(false);
            }
        }
        if let Some(b) = bar.as_mut() {
            let f = b.close(self.tool.clock.now());
            self.tool.io.err(f).await;
        }
        Ok(true)
    }

    /// The body failed at `got`: the file keeps what arrived, the `with
    /// tqdm` block closes the bar, the exception goes up.
    async fn fail_body(
        &mut self,
        bar: Option<&mut tqdm::Bar>,
        incomplete: &str,
        got: u64,
        f: Failure,
    ) -> Result<bool, Failure> {
        let _ = files::set_len(self.tool.ctx, incomplete, got);
        if let Some(b) = bar {
            let last = b.close(self.tool.clock.now());
            self.tool.io.err(last).await;
        }
        Err(f)
    }
}
