//! GNU Wget 1.21 as it prints and behaves: everything on stderr; the
//! `--DATE--  URL`, Resolving, Connecting, request, Location, Length and
//! Saving lines; bar progress on a tty (or `bar:force`), dots otherwise;
//! `-q`, `-nv`, `--show-progress`, `-O`, `-O -`, `-P`, `-c`, `-nc`,
//! `--content-disposition`, `.N` suffixes, tries and read timeouts; its
//! errors and exit codes; the file at the right path, sparse, exact size.
//! Tool-depth faults come through `Remote` (`tools/remote.rs`): HTTP status (401 exit 6;
//! other 4xx/5xx `ERROR N` exit 8, retried only for 504 and codes in
//! `--retry-on-http-error`), drop (`Read error ... (Connection reset by
//! peer)` and a resumed try), stall (`--.-KB/s`, a read timeout when it
//! outlasts `--read-timeout`), rate cap, DNS and refused (exit 4), disk full
//! (`Cannot write to ... (No space left on device).` exit 3) and disconnect.

mod args;
mod bar;
mod body;
mod dot;
mod fetch;
mod format;
mod progress;

use async_trait::async_trait;

use args::{parse_args, Opts, Parsed, Verbosity, HELP, USAGE_TAIL, VERSION};
use format::{human_readable, retr_rate, secs_to_human_time};

use super::files;
use super::run::ToolRun;
use super::transfer::Link;
use crate::program::{Ctx, Program};

/// The `wget` program.
#[derive(Debug, Default)]
pub struct Wget;

/// One wget run: the shared [`ToolRun`], the options and the totals for
/// the `FINISHED` summary.
struct Run<'a> {
    tool: ToolRun<'a>,
    o: Opts,
    utf8: bool,
    resolved: Vec<String>,
    files_done: u64,
    bytes_done: u64,
    dl_secs: f64,
}

impl Run<'_> {
    fn quote(&self, s: &str) -> String {
        if self.utf8 {
            format!("‘{s}’")
        } else {
            format!("'{s}'")
        }
    }

    fn verbose(&self) -> bool {
        self.o.verbosity == Verbosity::Verbose
    }

    async fn v(&mut self, s: impl AsRef<str>) -> bool {
        if self.verbose() {
            self.tool.io.err(s.as_ref()).await
        } else {
            self.tool.io.alive()
        }
    }

    /// LOG_NOTQUIET: verbose and -nv.
    async fn nq(&mut self, s: impl AsRef<str>) -> bool {
        if self.o.verbosity != Verbosity::Quiet {
            self.tool.io.err(s.as_ref()).await
        } else {
            self.tool.io.alive()
        }
    }

    fn link(&mut self, rate: Option<f64>) -> Link {
        self.tool.link(rate, self.o.limit_rate)
    }

    async fn wait(&mut self, lo: f64, hi: f64) {
        self.tool.latency(lo, hi).await;
    }

    async fn run(&mut self) -> i32 {
        let start = self.tool.clock.now();
        let mut status = 0;
        let urls = self.o.urls.clone();
        if let Some(out) = self.o.output.clone().filter(|o| o != "-") {
            let exists = files::exists(self.tool.ctx, &out);
            if self.o.no_clobber && exists {
                let q = self.quote(&out);
                self.nq(format!("File {q} already there; not retrieving.\n"))
                    .await;
                return 1;
            }
            if !self.o.cont && !exists && files::create_sized(self.tool.ctx, &out, 0).is_err() {
                let abs = files::absolute(self.tool.ctx, &out);
                let msg = if files::is_dir(self.tool.ctx, &abs) {
                    "Is a directory"
                } else {
                    "No such file or directory"
                };
                self.nq(format!("{out}: {msg}\n")).await;
                return 3;
            }
        }
        for u in &urls {
            let s = self.get(u).await;
            if s != 0 && (status == 0 || s < status) {
                status = s;
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                return status;
            }
        }
        if urls.len() > 1 {
            let date = self.tool.clock.date();
            let wall = self.tool.clock.now() - start;
            self.nq(format!(
                "FINISHED --{date}--\nTotal wall clock time: {}\n",
                secs_to_human_time(wall)
            ))
            .await;
            if self.files_done > 0 {
                let size = human_readable(self.bytes_done, 10, 1);
                let secs = secs_to_human_time(self.dl_secs);
                let rate = retr_rate(self.bytes_done, self.dl_secs);
                self.nq(format!(
                    "Downloaded: {} files, {size} in {secs} ({rate})\n",
                    self.files_done
                ))
                .await;
            }
        }
        status
    }
}

/// Whether the locale makes wget print `‘x’` rather than `'x'`.
pub(crate) fn utf8_locale(env: &std::collections::BTreeMap<String, String>) -> bool {
    let v = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| env.get(*k))
        .find(|v| !v.is_empty())
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    v.contains("utf-8") || v.contains("utf8")
}

#[async_trait]
impl Program for Wget {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let opts = match parse_args(ctx.args()) {
            Parsed::Help => {
                ctx.out(HELP).await;
                return 0;
            }
            Parsed::Version => {
                ctx.out(VERSION).await;
                return 0;
            }
            Parsed::Usage(msg, code) => {
                ctx.err(format!("{msg}{USAGE_TAIL}")).await;
                return code;
            }
            Parsed::Run(o) => *o,
        };
        let mut run = Run {
            tool: ToolRun::new(ctx),
            o: opts,
            utf8: utf8_locale(&ctx.env),
            resolved: Vec::new(),
            files_done: 0,
            bytes_done: 0,
            dl_secs: 0.0,
        };
        let status = run.run().await;
        run.tool.io.flush().await;
        status
    }
}
