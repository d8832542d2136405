//! `civitdl` 2.2.0 (PyPI), as it prints and behaves: argparse options and
//! errors (exit 2), the coloured `Now downloading` / `Download completed`
//! blocks on stdout, tqdm `Images` and `Model` bars on stdout, exceptions on
//! stderr, the retry loop with its `---------` separators and pause, exit 0
//! even when every download failed, and the files it writes (a sparse model
//! file of the exact size, the hashes csv, `extra_data-vid_<vid>/`, the
//! civitdl hash cache).
//! Tool-depth faults come through `Remote` (`tools/remote.rs`): HTTP 404 is the metadata
//! APIException (civ_404); 401 the API-key InputException, 403 the early
//! access warning then an APIException, other codes an APIException, all on
//! the download request; DNS and refused are requests' connection errors; a
//! drop is requests' `ChunkedEncodingError` text; a full disk is
//! `[Errno 28] No space left on device` (str of the OSError, as civitdl's
//! handler prints non-civitdl exceptions) with `.tmp/<file>` left at the
//! size reached; a stall waits (forever without a duration: civitdl passes
//! requests no timeout). All go through civitdl's retry loop, exit 0.

mod args;
mod body;
mod cache;
mod download;
mod failure;
mod paths;
mod source;

use async_trait::async_trait;

use super::files;
use super::run::ToolRun;
use super::transfer::Link;
use crate::net::Catalog;
use crate::program::{Ctx, Program};
use args::{parse_args, Options, Parsed, DEFAULT_CONFIG, HELP_BODY, USAGE};
use failure::Failure;
use source::parse_src;

/// The `civitdl` program.
#[derive(Debug, Default)]
pub struct Civitdl;

const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";
const INDENT: &str = "                ";
const MIB: u64 = 1024 * 1024;

/// One civitdl run: the shared [`ToolRun`], the options, the heading colour.
struct Run<'a> {
    tool: ToolRun<'a>,
    opts: Options,
    headings: u32,
    catalog: &'a Catalog,
}

impl Run<'_> {
    fn paint(&self, color: &str, text: &str) -> String {
        if self.opts.color {
            format!("{color}{text}{RESET}\n")
        } else {
            format!("{text}\n")
        }
    }

    async fn say(&mut self, color: &str, text: &str) -> bool {
        let s = self.paint(color, text);
        self.tool.io.out(s).await
    }

    fn ncols(&self) -> Option<usize> {
        let term = self.tool.ctx.stdout.terminal()?;
        let cols = term.cols() as usize;
        Some(if self.tool.ctx.instance.config.tools.tqdm_full_width {
            cols
        } else {
            cols.saturating_sub(1)
        })
    }

    fn link(&mut self, rate: Option<f64>) -> Link {
        self.tool.link(rate, self.opts.limit_rate)
    }

    /// An exception between its `---------` lines (stdout around stderr);
    /// `tail` ends it (`" \n\n"` in the retry loop, `"\n"` for a bad source).
    async fn print_failure(&mut self, e: &Failure, tail: &str) {
        self.tool.io.out("---------\n").await;
        let text = format!("{}{tail}", e.render(self.opts.color));
        self.tool.io.err(text).await;
        self.tool.io.out("---------\n").await;
    }

    /// Every source in turn, each through the retry loop.
    async fn run(&mut self) {
        let mut sources = Vec::new();
        let srcs = self.opts.sources.clone();
        for s in &srcs {
            if let Err(e) = parse_src(self.tool.ctx, s, &self.tool.ctx.cwd, 0, &mut sources) {
                self.print_failure(&e, "\n").await;
                return;
            }
        }
        let pause = self.opts.pause_time;
        for (k, src) in sources.iter().enumerate() {
            if k > 0 {
                self.tool.pause(pause).await;
            }
            let mut attempt = 0;
            loop {
                match self.download(src, attempt + 1).await {
                    Ok(()) => break,
                    Err(e) => {
                        self.print_failure(&e, " \n\n").await;
                        self.tool.pause(pause).await;
                        if attempt < self.opts.retry_count {
                            self.say(CYAN, "Retrying to download the current model...")
                                .await;
                            attempt += 1;
                        } else {
                            let n = self.opts.retry_count;
                            self.say(
                                CYAN,
                                &format!("Max retry of {n} reached. Skipping the current model..."),
                            )
                            .await;
                            break;
                        }
                    }
                }
                if !self.tool.io.alive() || self.tool.remote.disconnected() {
                    return;
                }
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                return;
            }
        }
    }
}

/// `$HOME`, where civitdl keeps its config and its cache (`/root` unset).
fn home(ctx: &Ctx) -> String {
    ctx.env
        .get("HOME")
        .cloned()
        .unwrap_or_else(|| "/root".into())
}

#[async_trait]
impl Program for Civitdl {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let home = home(ctx);
        let config_path = format!("{home}/.config/civitdl/config.json");
        let config: serde_json::Value = match files::read(ctx, &config_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => {
                let _ = files::create_dir_all(ctx, &format!("{home}/.config/civitdl"));
                let _ = files::write(ctx, &config_path, DEFAULT_CONFIG.as_bytes());
                serde_json::from_str(DEFAULT_CONFIG).unwrap_or_default()
            }
        };
        let defaults = config.get("default").cloned().unwrap_or_default();
        let opts = match parse_args(ctx.args(), &defaults) {
            Parsed::Help => {
                ctx.out(format!("{CYAN}{USAGE}{HELP_BODY}{RESET}")).await;
                return 0;
            }
            Parsed::Version => {
                ctx.out("civitdl v2.2.0\n").await;
                return 0;
            }
            Parsed::Error(msg) => {
                ctx.err(format!(
                    "{YELLOW}{USAGE}{RESET}{RED}civitdl: Error: {msg}\n{RESET}"
                ))
                .await;
                return 2;
            }
            Parsed::Run(o) => *o,
        };
        let mut opts = opts;
        if opts.prompt_key {
            ctx.err("Key: ").await;
            let mut line = Vec::new();
            let mut b = [0u8; 1];
            while let Ok(1) = ctx.stdin.read(&mut b).await {
                if b[0] == b'\n' {
                    break;
                }
                line.push(b[0]);
            }
            if ctx.stdin.is_tty() {
                ctx.err("\n").await;
            }
            let key = String::from_utf8_lossy(&line).trim().to_string();
            opts.api_key = (!key.is_empty()).then_some(key);
        }
        let ctx: &Ctx = ctx;
        let mut run = Run {
            tool: ToolRun::new(ctx),
            opts,
            headings: 0,
            catalog: &ctx.instance.config.tools.catalog,
        };
        run.run().await;
        run.tool.io.flush().await;
        0
    }
}
