//! git 2.47.3 as it prints and behaves for what people run on a GPU box:
//! `git clone` of any URL of the fake internet (`Cloning into 'DIR'...`,
//! the `remote:` sideband lines, `Receiving objects` with git's throughput
//! and `Resolving deltas` on the simulated clock, progress only on a tty or
//! with `--progress`; `--depth`, `-b`, `--single-branch`, `-q`), its
//! failures in git's words (exit 128: destination not empty, not found,
//! DNS, refused, a missing branch, a private repository, HTTP errors,
//! dropped packs, a full disk), a plausible clone on disk (`.git/`, a
//! sparse pack of the pack's size, a custom node's files), and the
//! subcommands run on it: `log`, `rev-parse`, `status`, `pull`, `fetch`,
//! `remote`, `branch`, `checkout`, `switch`, `reset`, `submodule update`,
//! `config`, `--version`. Other
//! real subcommands say they are not emulated (exit 1); unknown ones get
//! git's `is not a git command` with its similar-command suggestions.

mod args;
mod clone;
mod config;
mod porcelain;
mod progress;
mod tree;

use async_trait::async_trait;

use super::run::ToolRun;
use crate::instance::Sandbox;
use crate::program::{Ctx, Program};

/// `git version 2.47.3`.
const VERSION: &str = "git version 2.47.3\n";
/// What `git` alone prints (stdout, exit 1).
const USAGE: &str = include_str!("usage.txt");
/// Every command git 2.47.3 knows, for `is not a git command` suggestions.
const COMMANDS: &str = include_str!("commands.txt");
/// git's common commands (prefix matches among them score best).
const COMMON: &[&str] = &[
    "add", "bisect", "branch", "clone", "commit", "diff", "fetch", "grep", "init", "log", "merge",
    "mv", "pull", "push", "rebase", "reset", "restore", "rm", "show", "status", "switch", "tag",
];

/// The `git` program.
#[derive(Debug, Default)]
pub struct GitProgram;

/// One git run.
struct Git<'a> {
    tool: ToolRun<'a>,
}

impl Git<'_> {
    /// Queues text for stderr.
    async fn say(&mut self, text: impl AsRef<str>) {
        self.tool.io.err(text.as_ref()).await;
    }

    /// `fatal: MSG` on stderr; 128.
    async fn fatal(&mut self, msg: &str) -> i32 {
        self.say(format!("fatal: {msg}\n")).await;
        128
    }

    /// The end of a `remote:` line: `\e[K` on a terminal that is not
    /// dumb, 8 spaces otherwise (`sideband.c`).
    fn suffix(&self) -> &'static str {
        let ctx = self.tool.ctx;
        let dumb = ctx.env.get("TERM").is_none_or(|t| t == "dumb");
        if ctx.stderr.is_tty() && !dumb {
            "\x1b[K"
        } else {
            "        "
        }
    }

    /// `term_columns()`: `$COLUMNS`, else stdout's terminal, else 80.
    fn cols(&self) -> usize {
        let ctx = self.tool.ctx;
        if let Some(n) = ctx
            .env
            .get("COLUMNS")
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|n| *n > 0)
        {
            return n;
        }
        ctx.stdout
            .terminal()
            .map(|t| usize::from(t.cols()))
            .unwrap_or(80)
    }

    async fn subcommand(&mut self, cmd: &str, rest: &[String]) -> i32 {
        match cmd {
            "clone" => match args::parse(rest) {
                args::Parsed::Run(o) => self.clone(o).await,
                args::Parsed::Out(text, code) => {
                    self.tool.io.out(text).await;
                    code
                }
                args::Parsed::Err(text, code) => {
                    self.say(text).await;
                    code
                }
            },
            "log" => self.log(rest).await,
            "rev-parse" => self.rev_parse(rest).await,
            "status" => self.status(rest).await,
            "pull" => self.pull(false).await,
            "fetch" => self.pull(true).await,
            "remote" => self.remote_cmd(rest).await,
            "branch" => self.branch(rest).await,
            "checkout" => self.checkout(rest, false).await,
            "reset" => self.reset(rest).await,
            "switch" => self.checkout(rest, true).await,
            "config" => {
                let git_dir = tree::find(self.tool.ctx).map(|f| f.git);
                config::run(self.tool.ctx, rest, git_dir).await
            }
            // The fake repositories have no `.gitmodules`: nothing to do.
            "submodule"
                if !matches!(
                    rest.first().map(String::as_str),
                    Some("add" | "set-url" | "set-branch")
                ) =>
            {
                if tree::find(self.tool.ctx).is_none() {
                    return self
                        .fatal("not a git repository (or any of the parent directories): .git")
                        .await;
                }
                0
            }
            "version" => {
                self.tool.io.out(VERSION).await;
                0
            }
            "help" => {
                self.tool.io.out(USAGE).await;
                0
            }
            c if COMMANDS.lines().any(|k| k == c) => {
                self.say(format!("git: '{c}' is not emulated by fakessh\n"))
                    .await;
                1
            }
            c => {
                self.say(unknown_command(c)).await;
                1
            }
        }
    }
}

/// `git: 'foo' is not a git command. See 'git --help'.` and git's
/// suggestions (`help.c`: weighted Damerau-Levenshtein, prefix matches of
/// common commands first, similarity floor 7).
fn unknown_command(cmd: &str) -> String {
    let mut scored: Vec<(usize, &str)> = COMMANDS
        .lines()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let score = if COMMON.contains(&c) && c.starts_with(cmd) {
                0
            } else {
                levenshtein(cmd, c, 0, 2, 1, 3) + 1
            };
            (score, c)
        })
        .collect();
    scored.sort();
    let prefix = scored.iter().take_while(|(s, _)| *s == 0).count();
    let (best, n) = match scored.get(prefix) {
        None => (8, 0),
        Some((b, _)) => (
            *b,
            prefix + scored[prefix..].iter().take_while(|(s, _)| s == b).count(),
        ),
    };
    let mut out = format!("git: '{cmd}' is not a git command. See 'git --help'.\n");
    if best < 7 && n > 0 {
        out.push_str(if n == 1 {
            "\nThe most similar command is\n"
        } else {
            "\nThe most similar commands are\n"
        });
        for (_, c) in &scored[..n] {
            out.push_str(&format!("\t{c}\n"));
        }
    }
    out
}

/// git's `levenshtein.c`: weights for swap `w`, substitution `s`,
/// insertion `a` and deletion `d`.
fn levenshtein(s1: &str, s2: &str, w: usize, s: usize, a: usize, d: usize) -> usize {
    let (s1, s2) = (s1.as_bytes(), s2.as_bytes());
    // Commands are short; a huge argument is no command anyway.
    if s1.len() > 256 {
        return usize::MAX / 2;
    }
    let len2 = s2.len();
    let mut row0 = vec![0usize; len2 + 1];
    let mut row1: Vec<usize> = (0..=len2).map(|j| j * a).collect();
    let mut row2 = vec![0usize; len2 + 1];
    for i in 0..s1.len() {
        row2[0] = (i + 1) * d;
        for j in 0..len2 {
            row2[j + 1] = row1[j] + if s1[i] != s2[j] { s } else { 0 };
            if i > 0 && j > 0 && s1[i - 1] == s2[j] && s1[i] == s2[j - 1] {
                row2[j + 1] = row2[j + 1].min(row0[j - 1] + w);
            }
            row2[j + 1] = row2[j + 1].min(row1[j + 1] + d).min(row2[j] + a);
        }
        std::mem::swap(&mut row0, &mut row1);
        std::mem::swap(&mut row1, &mut row2);
    }
    row1[len2]
}

#[async_trait]
impl Program for GitProgram {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            match a {
                "-C" => {
                    let Some(dir) = args.get(i + 1) else {
                        ctx.err("error: no directory given for '-C' option\n\n")
                            .await;
                        ctx.err(USAGE).await;
                        return 129;
                    };
                    if !dir.is_empty() {
                        let abs = Sandbox::absolute(&ctx.cwd, dir);
                        if !ctx.fs().is_dir(&abs) {
                            let why = if ctx.fs().exists(&abs) {
                                "Not a directory"
                            } else {
                                "No such file or directory"
                            };
                            ctx.err(format!("fatal: cannot change to '{dir}': {why}\n"))
                                .await;
                            return 128;
                        }
                        ctx.cwd = abs;
                    }
                    i += 2;
                }
                "-c" => i += 2,
                "-v" | "--version" => {
                    ctx.out(VERSION).await;
                    return 0;
                }
                "-h" | "--help" => {
                    ctx.out(USAGE).await;
                    return 0;
                }
                "-P"
                | "-p"
                | "--no-pager"
                | "--paginate"
                | "--no-replace-objects"
                | "--no-lazy-fetch"
                | "--literal-pathspecs"
                | "--no-optional-locks" => i += 1,
                o if o.starts_with("-c") || o.starts_with("--config-env") => i += 1,
                o if o.starts_with('-') => {
                    ctx.err(format!("unknown option: {o}\n{USAGE}")).await;
                    return 129;
                }
                _ => break,
            }
        }
        let Some(cmd) = args.get(i).cloned() else {
            ctx.out(USAGE).await;
            return 1;
        };
        let rest = args[i + 1..].to_vec();
        let mut git = Git {
            tool: ToolRun::new(ctx),
        };
        let code = git.subcommand(&cmd, &rest).await;
        git.tool.io.flush().await;
        code
    }
}

#[cfg(test)]
mod tests;
