//! `hf` and `huggingface-cli` (huggingface_hub 0.34.4), and `hf` of
//! huggingface_hub 2.4.0 when the session sets `FAKESSH_HF_VERSION=2`.
//!
//! `download REPO [FILES...]` as the real CLI prints it: stdout carries
//! only the final path (after 0.34's yellow deprecation warning for
//! `huggingface-cli download`; 2.x ends with `✓ Downloaded` / `path:`),
//! stderr the logger lines (`Downloading 'F' to '….incomplete'`,
//! `Download complete. Moving file to …`; not in 2.x), the tqdm bars (SI
//! units, 10 MiB steps, hidden without a tty, with
//! `HF_HUB_DISABLE_PROGRESS_BARS=1` or `--quiet`) and the outer `Fetching N
//! files` bar of a snapshot download. Files land in the cache layout
//! (`models--ORG--NAME/{blobs,refs,snapshots}` with relative symlinks) or
//! under `--local-dir` with its `.cache/huggingface/download/*.metadata`;
//! a second run finds them. Also `--help`, `version`, `auth whoami` /
//! `whoami` and argparse's usage errors (exit 2). `HF_ENDPOINT`, `HF_HOME`,
//! `HF_HUB_CACHE`, `HF_TOKEN` (or the token file), `HF_HUB_OFFLINE`,
//! `HF_HUB_DOWNLOAD_TIMEOUT`, `HF_HUB_DISABLE_PROGRESS_BARS` and
//! `HF_HUB_ENABLE_HF_TRANSFER` (no per-chunk frames: the bar moves when
//! eight 10 MiB chunks have landed; breaks are retried silently) are read.
//!
//! Tool-depth faults come through `Remote`: an HTTP status on the HEAD call
//! (404 `EntryNotFoundError`, 401 `RepositoryNotFoundError` on https, 403
//! `HfHubHTTPError` … wrapped by `LocalEntryNotFoundError`, 429 retried once
//! by `http_backoff`), DNS and refused as urllib3's errors wrapped the same
//! way, a dropped body as `ChunkedEncodingError` (the `.incomplete` file is
//! kept and the next run resumes it), a stall longer than the read timeout
//! as the logged `Read timed out.` and a resumed GET, a rate cap, a full
//! disk as `OSError: [Errno 28]`, and a disconnect. Failures exit 1; a
//! local copy wins over a Hub that cannot be asked (exit 0).

mod args;
mod body;
mod download;
mod errors;
mod hash;
mod snapshot;

use async_trait::async_trait;

use super::files;
use super::run::ToolRun;
use crate::program::{Ctx, Program};
use args::{download_usage, parse_download, Download, Parsed};
use errors::{traceback, v2_error, Where};

/// The `hf` / `huggingface-cli` program.
#[derive(Debug, Default)]
pub struct Hf;

const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const GRAY: &str = "\x1b[90m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

const HELP_HF: &str = include_str!("help_hf.txt");
const HELP_CLI: &str = include_str!("help_cli.txt");
const HELP_HF2: &str = include_str!("help_hf2.txt");
const DOWNLOAD_HELP: &str = include_str!("download_help.txt");
const DOWNLOAD_HELP_CLI: &str = include_str!("download_help_cli.txt");
const DOWNLOAD_HELP_TAIL: &str = include_str!("download_help_tail.txt");
const DOWNLOAD_HELP_HF2: &str = include_str!("download_help_hf2.txt");

/// The commands of `hf` 0.34 (argparse's choices).
const HF_COMMANDS: &[&str] = &[
    "auth",
    "cache",
    "download",
    "jobs",
    "repo",
    "repo-files",
    "upload",
    "upload-large-folder",
    "env",
    "version",
    "lfs-enable-largefiles",
    "lfs-multipart-upload",
];
/// The commands of `huggingface-cli` 0.34.
const CLI_COMMANDS: &[&str] = &[
    "download",
    "upload",
    "repo-files",
    "env",
    "login",
    "whoami",
    "logout",
    "auth",
    "repo",
    "lfs-enable-largefiles",
    "lfs-multipart-upload",
    "scan-cache",
    "delete-cache",
    "tag",
    "version",
    "upload-large-folder",
];

/// One download run.
struct Run<'a> {
    tool: ToolRun<'a>,
    d: Download,
    /// huggingface_hub 2.x behaviour.
    v2: bool,
    /// Called as `huggingface-cli`.
    cli: bool,
    /// The Hub's base URL (`HF_ENDPOINT`).
    endpoint: String,
    /// The token sent (`--token`, `HF_TOKEN`, the token file).
    token: Option<String>,
    /// tqdm bars shown.
    bars: bool,
    /// The bar's columns (`None`: no tty).
    ncols: Option<usize>,
    /// File bars sit under the `Fetching` bar (tqdm position 1).
    nested: bool,
    /// `HF_HUB_ENABLE_HF_TRANSFER=1`.
    hf_transfer: bool,
    /// `HF_HUB_OFFLINE=1`: only what is on disk.
    offline: bool,
}

/// Python's truthy environment values (`constants._is_true`).
fn env_true(ctx: &Ctx, key: &str) -> bool {
    ctx.env
        .get(key)
        .is_some_and(|v| matches!(v.to_ascii_uppercase().as_str(), "1" | "ON" | "YES" | "TRUE"))
}

/// `HF_HOME` (for the token file).
fn hf_home(ctx: &Ctx) -> String {
    let home = ctx
        .env
        .get("HOME")
        .cloned()
        .unwrap_or_else(|| "/root".into());
    ctx.env.get("HF_HOME").cloned().unwrap_or_else(|| {
        let xdg = ctx
            .env
            .get("XDG_CACHE_HOME")
            .cloned()
            .unwrap_or_else(|| format!("{home}/.cache"));
        format!("{xdg}/huggingface")
    })
}

/// `get_token()`: `HF_TOKEN`, the legacy variable, then `HF_HOME/token`.
fn stored_token(ctx: &Ctx) -> Option<String> {
    let env = ctx
        .env
        .get("HF_TOKEN")
        .or(ctx.env.get("HUGGING_FACE_HUB_TOKEN"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    env.or_else(|| {
        let path = ctx
            .env
            .get("HF_TOKEN_PATH")
            .cloned()
            .unwrap_or_else(|| format!("{}/token", hf_home(ctx)));
        let text = String::from_utf8(files::read(ctx, &path).ok()?).ok()?;
        Some(text.trim().to_string()).filter(|t| !t.is_empty())
    })
}

impl Run<'_> {
    /// A `logger.info` line (0.34 sets the verbosity to info for downloads).
    async fn info(&mut self, line: &str) -> bool {
        if self.v2 || self.d.quiet {
            return self.tool.io.alive();
        }
        self.tool.io.err(format!("{line}\n")).await
    }

    /// The whole download; the exit code.
    async fn run(&mut self) -> i32 {
        let catalog = &self.tool.ctx.instance.config.tools.catalog;
        let repo = crate::net::hub::repo(&catalog.hf_repos, &self.d.repo_type, &self.d.repo_id);
        let single = self.d.filenames.len() == 1;
        if !self.d.filenames.is_empty() && !self.d.quiet {
            for (which, set, line) in [
                ("include", &self.d.include, 141),
                ("exclude", &self.d.exclude, 143),
            ] {
                if !set.is_empty() {
                    let m =
                        format!("Ignoring `--{which}` since filenames have being explicitly set.");
                    let dl = if self.cli { "commands" } else { "cli" };
                    let msg = format!("/venv/main/lib/python3.11/site-packages/huggingface_hub/{dl}/download.py:{line}: UserWarning: {m}\n  warnings.warn(\"{m}\")\n");
                    self.tool.io.err(msg).await;
                }
            }
        }
        let result = if single {
            let path = self.d.filenames[0].clone();
            self.download_file(repo.as_ref(), &path).await
        } else {
            self.snapshot(repo.as_ref()).await
        };
        let w = Where {
            cli: self.cli,
            local_dir: self.d.local_dir.is_some(),
            snapshot: !single,
        };
        match result {
            Ok(Some(path)) => {
                if self.v2 && !self.d.quiet {
                    self.tool
                        .io
                        .out(format!("{GREEN}✓ Downloaded{RESET}\n  path: {path}\n"))
                        .await;
                } else {
                    self.tool.io.out(format!("{path}\n")).await;
                }
                self.tool.io.flush().await;
                0
            }
            // The reader left or the session is being dropped.
            Ok(None) => {
                self.tool.io.flush().await;
                1
            }
            Err(f) => {
                let text = if self.v2 {
                    let file = self.d.filenames.first().cloned().unwrap_or_default();
                    v2_error(&f, &self.d.repo_type, &self.d.repo_id, &file)
                } else {
                    traceback(&f, w)
                };
                self.tool.io.err(text).await;
                self.tool.io.flush().await;
                1
            }
        }
    }
}

/// `huggingface-cli`'s deprecation warning for `command` (0.34, on stdout).
fn deprecation(command: &str, instead: &str) -> String {
    format!("{YELLOW}⚠️  Warning: 'huggingface-cli {command}' is deprecated. Use '{instead}' instead.{RESET}\n")
}

/// A typer error box (2.x), 80 columns.
fn typer_error(usage: &str, help: &str, msg: &str) -> String {
    let inner = 76;
    let mut s = format!(
        "{usage}\nTry '{help}' for help.\n╭─ Error {}╮\n",
        "─".repeat(inner + 2 - 8)
    );
    let mut line = String::new();
    for word in msg.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > inner {
            s.push_str(&format!("│ {line:<inner$} │\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    s.push_str(&format!(
        "│ {line:<inner$} │\n╰{}╯\n",
        "─".repeat(inner + 2)
    ));
    s
}

/// A user name for a token (the Hub's `whoami`).
fn user_for(token: &str) -> String {
    const NAMES: &[&str] = &[
        "comfy-builder",
        "pixel-smith",
        "latent-lab",
        "gpu-renter",
        "diffusion-dev",
    ];
    let h = crate::net::fnv1a(&[token.as_bytes()]);
    NAMES[(h % NAMES.len() as u64) as usize].to_string()
}

impl Hf {
    async fn whoami(&self, ctx: &Ctx, v2: bool) -> i32 {
        let Some(token) = stored_token(ctx) else {
            ctx.out("Not logged in\n").await;
            return i32::from(v2);
        };
        if !token.starts_with("hf_") {
            ctx.out("401 Client Error: Unauthorized for url: https://huggingface.co/api/whoami-v2\n\nInvalid credentials in Authorization header\n").await;
            ctx.out(format!(
                "\x1b[31m{{\"error\":\"Invalid credentials in Authorization header\"}}{RESET}\n"
            ))
            .await;
            return 1;
        }
        let user = user_for(&token);
        if v2 {
            ctx.out(format!("{GREEN}✓ Logged in{RESET}\n  user: {user}\n"))
                .await;
        } else {
            ctx.out(format!("{BOLD}user: {RESET} {user}\n")).await;
        }
        let endpoint = ctx.env.get("HF_ENDPOINT").cloned().unwrap_or_default();
        if !endpoint.is_empty() && endpoint.trim_end_matches('/') != "https://huggingface.co" {
            ctx.out(format!(
                "Authenticated through private endpoint: {endpoint}\n"
            ))
            .await;
        }
        0
    }

    async fn usage_error(&self, ctx: &Ctx, program: &str, v2: bool, msg: &str, top: bool) -> i32 {
        if v2 {
            let m = if msg.contains("required: repo_id") {
                "Missing argument 'REPO_ID'.".to_string()
            } else if let Some(rest) = msg.strip_prefix("unrecognized arguments: ") {
                format!("No such option: {}", rest.split(' ').next().unwrap_or(rest))
            } else {
                msg.to_string()
            };
            ctx.err(typer_error(
                "Usage: hf download [OPTIONS] REPO_ID [FILENAMES]...",
                "hf download -h",
                &m,
            ))
            .await;
            return 2;
        }
        let (usage, prog) = if top {
            (
                format!("usage: {program} <command> [<args>]\n"),
                program.to_string(),
            )
        } else {
            (
                download_usage(program),
                format!("{program} <command> [<args>] download"),
            )
        };
        ctx.err(format!("{usage}{prog}: error: {msg}\n")).await;
        2
    }

    async fn download(&self, ctx: &Ctx, program: &str, v2: bool, rest: &[String]) -> i32 {
        let cli = program == "huggingface-cli";
        let d = match parse_download(rest, cli) {
            Parsed::Help => {
                if v2 {
                    ctx.out(DOWNLOAD_HELP_HF2).await;
                } else {
                    let extra = if cli { DOWNLOAD_HELP_CLI } else { "" };
                    ctx.out(format!(
                        "{}{DOWNLOAD_HELP}{extra}{DOWNLOAD_HELP_TAIL}",
                        download_usage(program)
                    ))
                    .await;
                }
                return 0;
            }
            Parsed::Error(msg, top) => return self.usage_error(ctx, program, v2, &msg, top).await,
            Parsed::Run(d) => *d,
        };
        // DownloadCommand.run warns first; argparse's help and errors come before it.
        if cli {
            ctx.out(deprecation("download", "hf download")).await;
        }
        if v2 && ctx.stderr.is_tty() {
            ctx.err(format!("{GRAY}Hint: The `hf-cli` skill is not installed. Run `hf skills add -g` to teach your AI agents how to use the `hf` CLI.{RESET}\n")).await;
        }
        let quiet = d.quiet;
        let bars = ctx.stderr.is_tty() && !quiet && !env_true(ctx, "HF_HUB_DISABLE_PROGRESS_BARS");
        let ncols = ctx.stderr.terminal().map(|t| {
            let cols = t.cols() as usize;
            // The 2.4.0 install draws full-width bars (hf2_tty), as tqdm <= 4.67 does.
            if v2 || ctx.instance.config.tools.tqdm_full_width {
                cols
            } else {
                cols.saturating_sub(1)
            }
        });
        let token = d.token.clone().or_else(|| stored_token(ctx));
        let endpoint = ctx
            .env
            .get("HF_ENDPOINT")
            .cloned()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "https://huggingface.co".into());
        let mut run = Run {
            tool: ToolRun::new(ctx),
            d,
            v2,
            cli,
            endpoint,
            token,
            bars,
            ncols,
            nested: false,
            hf_transfer: env_true(ctx, "HF_HUB_ENABLE_HF_TRANSFER"),
            offline: env_true(ctx, "HF_HUB_OFFLINE"),
        };
        run.run().await
    }
}

#[async_trait]
impl Program for Hf {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let ctx: &Ctx = ctx;
        let program = if ctx.name().rsplit('/').next() == Some("huggingface-cli") {
            "huggingface-cli"
        } else {
            "hf"
        };
        let v2 = ctx
            .env
            .get("FAKESSH_HF_VERSION")
            .is_some_and(|v| v.trim().starts_with('2') || v.trim().starts_with('1'));
        let args = ctx.args();
        if v2 && program == "huggingface-cli" {
            ctx.err(format!("{YELLOW}⚠️  Warning: 'huggingface-cli' is deprecated and no longer works. Use 'hf' instead.{RESET}\n")).await;
            return 1;
        }
        let commands = if program == "hf" {
            HF_COMMANDS
        } else {
            CLI_COMMANDS
        };
        let help = || match (v2, program) {
            (true, _) => HELP_HF2,
            (false, "hf") => HELP_HF,
            _ => HELP_CLI,
        };
        let Some(first) = args.first() else {
            ctx.out(help()).await;
            return if v2 { 2 } else { 1 };
        };
        match first.as_str() {
            "-h" | "--help" => {
                ctx.out(help()).await;
                0
            }
            "download" => self.download(ctx, program, v2, &args[1..]).await,
            "version" | "--version" if first == "version" || v2 => {
                if program == "huggingface-cli" {
                    ctx.out(deprecation("version", "hf version")).await;
                }
                let v = if v2 { "2.4.0" } else { "0.34.4" };
                ctx.out(format!("huggingface_hub version: {v}\n")).await;
                0
            }
            "whoami" if program == "huggingface-cli" => {
                ctx.out(deprecation("whoami", "hf auth whoami")).await;
                self.whoami(ctx, false).await
            }
            "auth" if args.get(1).map(String::as_str) == Some("whoami") => {
                self.whoami(ctx, v2).await
            }
            other if !other.starts_with('-') && !commands.contains(&other) && !v2 => {
                let choices = commands
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let msg = format!(
                    "argument {{{}}}: invalid choice: '{other}' (choose from {choices})",
                    commands.join(",")
                );
                ctx.err(format!(
                    "usage: {program} <command> [<args>]\n{program}: error: {msg}\n"
                ))
                .await;
                2
            }
            other if other.starts_with('-') && !v2 => {
                ctx.err(format!("usage: {program} <command> [<args>]\n{program}: error: unrecognized arguments: {other}\n")).await;
                2
            }
            other
                if v2
                    && !matches!(
                        other,
                        "auth"
                            | "cache"
                            | "env"
                            | "jobs"
                            | "repos"
                            | "models"
                            | "datasets"
                            | "spaces"
                            | "upload"
                            | "skills"
                            | "endpoints"
                            | "collections"
                    ) =>
            {
                ctx.err(typer_error(
                    "Usage: hf [OPTIONS] COMMAND [ARGS]...",
                    "hf -h",
                    &format!("No such command '{other}'."),
                ))
                .await;
                2
            }
            // A command this instance does not emulate: its parent's help.
            _ => {
                ctx.out(help()).await;
                1
            }
        }
    }
}

#[cfg(test)]
mod tests;
