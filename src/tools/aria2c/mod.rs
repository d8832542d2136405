//! aria2 1.36.0 as `aria2c` prints and behaves: everything on stdout; the
//! console log (`\n{MM/DD HH:MM:SS} [NOTICE] …`, the level tag coloured
//! even without a tty), the readout once per simulated second (`\r`-redrawn
//! and coloured on a tty, one plain line per second otherwise; the compact
//! form for several downloads), the progress summary every
//! `--summary-interval` seconds, the `Download Results:` table and the
//! resume hint; gids from the seeded rng; Content-Disposition names,
//! `File already exists. Renamed to …`, `-c` and `.aria2` control files;
//! sparse files of the exact size (preallocated unless
//! `--file-allocation=none`).
//!
//! Errors carry aria2's own exception traces and codes (`error_code.h`,
//! line numbers of release-1.36.0): 3 not found, 24 authorization, 22 bad
//! status, 29 for 502/503/504, 19 name resolution, 1 refused or a broken
//! body (aria2's `DL_RETRY_EX` carries `UNKNOWN_ERROR`), 2 timeout, 9 disk
//! full, 13 file exists, 28 options. Tool-depth faults come through
//! `Remote` (`tools/remote.rs`) and act on the first try; aria2's
//! `--max-tries` (5) retries a refused connection, a broken body and a
//! timeout, resuming where the body stopped.

mod args;
mod control;
mod engine;
mod format;
mod group;
mod report;
mod start;

use async_trait::async_trait;
use rand::Rng;

use args::{parse_args, Level, Opts, Parsed, HELP, VERSION};
use group::Group;

use super::files;
use super::run::ToolRun;
use crate::program::{Ctx, Program};

/// The `aria2c` program.
#[derive(Debug, Default)]
pub struct Aria2c;

/// One aria2c run: the shared [`ToolRun`], the options and the downloads.
struct Run<'a> {
    tool: ToolRun<'a>,
    o: Opts,
    tty: bool,
    groups: Vec<Group>,
    /// Indices of finished downloads, in the order they ended.
    results: Vec<usize>,
    next_cuid: u64,
    last_tick: f64,
    last_summary: f64,
    last_save: f64,
}

impl Run<'_> {
    /// A console log line (`\n{date} [LEVEL] msg\n` and a stack trace),
    /// unless `-q` or `--console-log-level` hides it.
    async fn log(&mut self, level: Level, msg: &str, trace: &str) {
        if self.o.quiet || level < self.o.level {
            return;
        }
        let (name, color) = match level {
            Level::Debug => ("DEBUG", "\x1b[1;37m"),
            Level::Info => ("INFO", "\x1b[1;36m"),
            Level::Notice => ("NOTICE", "\x1b[1;32m"),
            Level::Warn => ("WARN", "\x1b[1;33m"),
            Level::Error => ("ERROR", "\x1b[1;31m"),
        };
        let date = format::log_date(self.tool.clock.unix());
        let tag = if self.o.color {
            format!("{color}{name}\x1b[0m")
        } else {
            name.to_string()
        };
        self.say(format!("\n{date} [{tag}] {msg}\n{trace}")).await;
    }

    /// Console output: stdout, or stderr with `--stderr`.
    async fn say(&mut self, text: impl AsRef<[u8]>) {
        if self.o.stderr {
            self.tool.io.err(text).await;
        } else {
            self.tool.io.out(text).await;
        }
    }

    /// A new gid: 64 random bits, never 0.
    fn gid(&mut self) -> u64 {
        self.tool.rng.gen::<u64>().max(1)
    }

    /// The downloads the command line and `-i` ask for.
    async fn plan(&mut self) -> Result<bool, String> {
        let dir = files::absolute(self.tool.ctx, self.o.dir.as_deref().unwrap_or("."));
        let mut from_cli = false;
        let uris = self.o.uris.clone();
        if !uris.is_empty() {
            from_cli = true;
            if self.o.sequential {
                for u in uris {
                    let g = Group::new(self.gid(), vec![u], dir.clone(), self.o.out.clone());
                    self.groups.push(g);
                }
            } else {
                let g = Group::new(self.gid(), uris, dir.clone(), self.o.out.clone());
                self.groups.push(g);
            }
        }
        if let Some(f) = self.o.input_file.clone() {
            let data = if f == "-" {
                // `-i -` reads the list from stdin.
                self.tool
                    .ctx
                    .stdin
                    .read_to_end(16 * 1024 * 1024)
                    .await
                    .unwrap_or_default()
            } else {
                files::read(self.tool.ctx, &f).map_err(|e| {
                    format!(
                        "Failed to open the file {f}, cause: {}",
                        crate::program::strerror(&e)
                    )
                })?
            };
            let text = String::from_utf8_lossy(&data);
            for line in text.lines() {
                if line.starts_with([' ', '\t']) {
                    let Some((k, v)) = line.trim().split_once('=') else {
                        continue;
                    };
                    if let Some(g) = self.groups.last_mut() {
                        match k {
                            "out" => g.out = Some(v.to_string()),
                            "dir" => g.dir = files::absolute(self.tool.ctx, v),
                            _ => {}
                        }
                    }
                    continue;
                }
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let uris: Vec<String> = line.split('\t').map(str::to_string).collect();
                let g = Group::new(self.gid(), uris, dir.clone(), None);
                self.groups.push(g);
            }
        }
        Ok(from_cli)
    }

    async fn run(&mut self) -> i32 {
        let from_cli = match self.plan().await {
            Ok(x) => x,
            Err(msg) => {
                self.log(Level::Error, &msg, "").await;
                return 1;
            }
        };
        if from_cli {
            let n = self.groups.len();
            self.log(Level::Notice, &format!("Downloading {n} item(s)"), "")
                .await;
        }
        if !self.engine().await {
            // The session was cut off or the reader left: nothing more to print.
            return 7;
        }
        self.finish().await
    }
}

#[async_trait]
impl Program for Aria2c {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let opts = match parse_args(ctx.args()) {
            Parsed::Help => {
                ctx.out(HELP.replace("@CWD@", &ctx.cwd)).await;
                return 0;
            }
            Parsed::Version => {
                ctx.out(VERSION).await;
                return 0;
            }
            Parsed::Error(msg, code) => {
                ctx.err(msg).await;
                return code;
            }
            Parsed::Run(o) => *o,
        };
        let mut run = Run {
            tool: ToolRun::new(ctx),
            tty: ctx.stdout.is_tty(),
            o: opts,
            groups: Vec::new(),
            results: Vec::new(),
            next_cuid: 7,
            last_tick: 0.0,
            last_summary: 0.0,
            last_save: 0.0,
        };
        let status = run.run().await;
        run.tool.io.flush().await;
        status
    }
}

#[cfg(test)]
mod tests;
