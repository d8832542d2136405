//! The model file's transfer: the `Model` bar over `.tmp/<file>`, with
//! drops, stalls, a full disk and a session cut off part-way.

use super::failure::Failure;
use super::paths::join;
use super::{Run, MIB};
use crate::net::catalog::Model;
use crate::tools::{files, tqdm};

impl Run<'_> {
    /// Streams the model file with the `Model` bar; `Ok(false)` when the
    /// reader left (or the session is being dropped), `Err` when the
    /// transfer failed (a reset connection, a full disk) and the retry
    /// loop takes over. A failed transfer leaves `.tmp/<file>` at the size
    /// it reached.
    pub(super) async fn model_body(
        &mut self,
        m: &Model,
        dir: &str,
        dest: &str,
        file_name: &str,
        attempt: u32,
    ) -> Result<bool, Failure> {
        let tmp_dir = join(dir, ".tmp");
        let tmp = join(&tmp_dir, file_name);
        let _ = files::create_dir_all(self.tool.ctx, &tmp_dir);
        let _ = files::create_sized(self.tool.ctx, &tmp, 0);
        let chunk = if self.opts.limit_rate > 0 {
            self.opts.limit_rate.div_ceil(8).max(1)
        } else {
            MIB
        };
        let remote = self.tool.remote;
        let drop_at = remote
            .body_fail(m.size, attempt, None)
            .map(|(_, at)| at)
            .filter(|at| *at < m.size);
        let mut stall = remote.body_stall(m.size, attempt);
        let disk_full = remote.disk_full_at(m.size).filter(|at| *at < m.size);
        let mut link = self.link(remote.rate(m.rate));
        let lat = link.latency(0.2, 0.8);
        self.tool.pause(lat).await;
        let t0 = self.tool.clock.now();
        let mut bar = tqdm::Bar::new("Model", "iB", Some(m.size as f64), self.ncols(), t0);
        let first = bar.open(t0);
        self.tool.io.out(first).await;
        if remote.at_progress(0, m.size) {
            return Ok(false);
        }
        let mut got = 0u64;
        while got < m.size {
            if let Some((_, secs)) = stall.filter(|(at, _)| got >= *at) {
                stall = None;
                match secs {
                    // civitdl passes requests no timeout: a dead server is waited on forever.
                    None => {
                        self.tool.io.flush().await;
                        std::future::pending::<()>().await;
                    }
                    Some(secs) => {
                        if !self.tool.pause(secs).await {
                            return Ok(false);
                        }
                    }
                }
            }
            let failure = if drop_at.is_some_and(|at| got >= at) {
                // requests' iter_content on ECONNRESET.
                Some(Failure::Plain("(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", ConnectionResetError(104, 'Connection reset by peer'))".into()))
            } else if disk_full.is_some_and(|at| got >= at) {
                // f.write raising OSError(ENOSPC); civitdl prints str(e).
                Some(Failure::Plain("[Errno 28] No space left on device".into()))
            } else {
                None
            };
            if let Some(f) = failure {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                // The `with tqdm(...)` block closes the bar on the way out.
                let last = bar.close(self.tool.clock.now());
                self.tool.io.out(last).await;
                return Err(f);
            }
            let hangup = remote.disconnect_at(m.size);
            let limit = [Some(m.size), drop_at, disk_full, stall.map(|s| s.0), hangup]
                .into_iter()
                .flatten()
                .filter(|at| *at > got)
                .min()
                .unwrap_or(m.size);
            let n = chunk.min(limit - got);
            let dt = link.secs_for(n);
            if !self.tool.pause(dt).await {
                return Ok(false);
            }
            got += n;
            if let Some(f) = bar.update(n as f64, self.tool.clock.now()) {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                if !self.tool.io.out(f).await {
                    return Ok(false);
                }
            }
            if remote.at_progress(got, m.size) {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                return Ok(false);
            }
        }
        let _ = files::set_len(self.tool.ctx, &tmp, m.size);
        let _ = files::rename(self.tool.ctx, &tmp, dest);
        let _ = files::remove_dir(self.tool.ctx, &tmp_dir);
        let last = bar.close(self.tool.clock.now());
        Ok(self.tool.io.out(last).await)
    }
}
