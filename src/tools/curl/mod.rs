//! curl 7.88.1 as it prints and behaves: the progress meter on stderr
//! (hidden when the body goes to a terminal stdout), the `-#` bar, the body
//! on stdout or in a file (`-o`, `-O`, `-J`, `--output-dir`,
//! `--create-dirs`, `-C -`), `-I`/`-i` headers, `-L` redirects (each leg
//! ends its meter line), `-f`/`--fail-with-body`, `-w`, `-v`, `--retry`,
//! `-m`/`--connect-timeout`, `-d`/`--data-raw` (also `@file`, `@-`), `-H`,
//! `-X`, `-u`, `-A`; errors as `curl: (N) message` with curl's codes.
//!
//! Pieces: [`args`] (the command line), `request` (the request as a value
//! and the `Responder` that answers it: the seam where a service inside
//! the instance will plug in), `meter` (libcurl's meter and the tool's
//! bar), `body` (what a body holds), `transfer` (one try on the simulated
//! clock: connect, redirects, the body and its faults), `output` (where
//! the body goes), `writeout` (`-w`), `msg` (curl's wrapped warnings).
//!
//! Tool-depth faults come through `Remote`: an HTTP status (saved, or
//! `(22)` with `-f`; 408/429/5xx retried by `--retry`), drop (`(56) Recv
//! failure: Connection reset by peer`, the partial file kept), stall (the
//! meter goes on once a second; `-m` ends it with `(28)`), slow, DNS
//! (`(6)`), refused (`(7)`), disk full (`(23) Failure writing output to
//! destination`) and disconnect.

mod args;
mod body;
mod local;
mod meter;
mod msg;
mod output;
mod request;
#[cfg(test)]
mod tests;
mod transfer;
mod writeout;

use async_trait::async_trait;

use args::{parse_args, Data, Opts, Parsed, HELP, TRY_HELP, VERSION};

use super::files;
use super::run::ToolRun;
use crate::program::{Ctx, Program};

/// The `curl` program.
#[derive(Debug, Default)]
pub struct Curl;

/// One curl run: the shared [`ToolRun`], the options and the request body.
struct Run<'a> {
    tool: ToolRun<'a>,
    o: Opts,
    /// The `-d` body, read once (`@-` consumes stdin).
    data: Option<Vec<u8>>,
}

impl Run<'_> {
    /// The request body `-d` arguments make: joined with `&`; `@file`
    /// read (newlines dropped unless `--data-binary`); `@-` from stdin.
    async fn read_data(&mut self) -> Option<Vec<u8>> {
        if self.o.data.is_empty() {
            return None;
        }
        let mut all: Vec<u8> = Vec::new();
        for (i, d) in self.o.data.clone().iter().enumerate() {
            if i > 0 {
                all.push(b'&');
            }
            let (bytes, binary) = match d {
                Data::Raw(s) => (s.clone().into_bytes(), true),
                Data::Stdin { binary } => (
                    self.tool
                        .ctx
                        .stdin
                        .read_to_end(64 * 1024 * 1024)
                        .await
                        .unwrap_or_default(),
                    *binary,
                ),
                Data::File { path, binary } => match files::read(self.tool.ctx, path) {
                    Ok(b) => (b, *binary),
                    Err(_) => {
                        msg::warnf(
                            &mut self.tool,
                            self.o.silent,
                            &format!("Couldn't read data from file \"{path}\", this makes an empty POST.\n"),
                        )
                        .await;
                        (Vec::new(), true)
                    }
                },
            };
            if binary {
                all.extend_from_slice(&bytes);
            } else {
                all.extend(bytes.into_iter().filter(|b| *b != b'\n' && *b != b'\r'));
            }
        }
        Some(all)
    }

    async fn run(&mut self) -> i32 {
        self.data = self.read_data().await;
        let mut status = 0;
        for (i, url) in self.o.urls.clone().iter().enumerate() {
            let code = self.url(i, url).await;
            if code != 0 {
                status = code;
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                break;
            }
        }
        status
    }
}

#[async_trait]
impl Program for Curl {
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
            Parsed::Usage(m) => {
                ctx.err(format!("curl: {m}{TRY_HELP}")).await;
                return 2;
            }
            Parsed::Run(o) => *o,
        };
        let mut run = Run {
            tool: ToolRun::new(ctx),
            o: opts,
            data: None,
        };
        let status = run.run().await;
        run.tool.io.flush().await;
        status
    }
}
