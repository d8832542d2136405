//! Runs brush-parser's AST from the top: lists, background jobs (`&`),
//! `&&`/`||`, pipelines, and the dispatch of each command to its kind
//! (simple in `simple`, compound in `compound`).

use std::sync::Arc;

use async_trait::async_trait;
use brush_parser::ast::{self, Command, IoRedirect};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::depth::GrowStack;
use super::{Shell, Stdio};
use crate::program::{ByteSink, Input, Output};

/// The write end of a pipe between two pipeline stages.
struct PipeSink(Mutex<tokio::io::DuplexStream>);

#[async_trait]
impl ByteSink for PipeSink {
    async fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        self.0.lock().await.write_all(data).await
    }
}

impl Shell {
    /// Runs a parsed script, command by command, until one exits the shell.
    pub(super) fn run_program<'a>(
        &'a mut self,
        program: &'a ast::Program,
        io: &'a Stdio,
    ) -> BoxFuture<'a, i32> {
        async move {
            let mut status = 0;
            for cc in &program.complete_commands {
                status = self.run_list(cc, io).await;
                if self.exit.is_some() {
                    break;
                }
            }
            status
        }
        .boxed()
    }

    /// Runs a list (`a; b & c`); a command ended by `&` becomes a job.
    pub(super) fn run_list<'a>(
        &'a mut self,
        list: &'a ast::CompoundList,
        io: &'a Stdio,
    ) -> BoxFuture<'a, i32> {
        async move {
            let mut status = self.last_status;
            for ast::CompoundListItem(and_or, sep) in &list.0 {
                if matches!(sep, ast::SeparatorOperator::Async) {
                    // `cmd &`: a job of the session, in a subshell, ended
                    // with the session unless it ignores the hang-up
                    // (`nohup cmd &`); `$!` is not tracked.
                    let mut sub = self.clone();
                    let and_or = and_or.clone();
                    let job_io = io.clone();
                    let command = format!("{and_or} &");
                    let immune = starts_with_nohup(&and_or);
                    let started = match self.jobs.slot() {
                        Some(slot) => self.jobs.spawn(slot, command, immune, async move {
                            sub.run_and_or(&and_or, &job_io).await
                        }),
                        None => false,
                    };
                    status = if started {
                        0
                    } else {
                        let _ = io.stderr.write(super::jobs::FORK_FAILED).await;
                        1
                    };
                } else {
                    status = self.run_and_or(and_or, io).await;
                }
                self.last_status = status;
                if self.exit.is_some() {
                    break;
                }
            }
            status
        }
        .boxed()
    }

    async fn run_and_or(&mut self, list: &ast::AndOrList, io: &Stdio) -> i32 {
        let mut status = self.run_pipeline(&list.first, io).await;
        self.last_status = status;
        for next in &list.additional {
            if self.exit.is_some() {
                break;
            }
            let (run, p) = match next {
                ast::AndOr::And(p) => (status == 0, p),
                ast::AndOr::Or(p) => (status != 0, p),
            };
            if run {
                status = self.run_pipeline(p, io).await;
                self.last_status = status;
            }
        }
        status
    }

    async fn run_pipeline(&mut self, p: &ast::Pipeline, io: &Stdio) -> i32 {
        let status = if p.seq.len() == 1 {
            self.run_command(&p.seq[0], io).await
        } else {
            self.run_stages(&p.seq, io).await
        };
        if p.bang {
            i32::from(status == 0)
        } else {
            status
        }
    }

    /// Runs pipeline stages concurrently, each in a subshell, joined by
    /// in-memory pipes; the status is the last stage's.
    async fn run_stages(&mut self, seq: &[Command], io: &Stdio) -> i32 {
        // Each stage is a process of the session while it runs.
        let mut slots = Vec::with_capacity(seq.len());
        for _ in seq {
            match self.jobs.slot() {
                Some(slot) => slots.push(slot),
                None => {
                    let _ = io.stderr.write(super::jobs::FORK_FAILED).await;
                    return 1;
                }
            }
        }
        let mut futures = Vec::with_capacity(seq.len());
        let mut next_stdin = io.stdin.clone();
        for (i, cmd) in seq.iter().enumerate() {
            let last = i + 1 == seq.len();
            let mut stage_io = io.clone();
            stage_io.stdin = std::mem::replace(&mut next_stdin, Input::empty());
            if !last {
                let (w, r) = tokio::io::duplex(64 * 1024);
                stage_io.stdout = Output::new(Arc::new(PipeSink(Mutex::new(w))), None);
                next_stdin = Input::from_reader(r);
            }
            let mut sub = self.clone();
            let slot = slots.pop();
            futures.push(async move {
                // Moving `stage_io` in drops this stage's pipe end when it
                // finishes, so the next stage sees end of input.
                let io = stage_io;
                let _slot = slot;
                sub.run_command(cmd, &io).await
            });
        }
        let statuses = futures::future::join_all(futures).await;
        *statuses.last().unwrap_or(&0)
    }

    fn run_command<'a>(&'a mut self, cmd: &'a Command, io: &'a Stdio) -> BoxFuture<'a, i32> {
        GrowStack::new(async move {
            // Every command is a point where the runtime may run others: a
            // busy loop of builtins never starves another session (and one
            // left behind by its session runs at the detached jobs' pace).
            tokio::task::consume_budget().await;
            crate::instance::detached::pace().await;
            match cmd {
                Command::Simple(simple) => self.run_simple(simple, io).await,
                Command::Compound(compound, redirects) => {
                    let list: Vec<&IoRedirect> =
                        redirects.iter().flat_map(|r| r.0.iter()).collect();
                    let io = match self.apply_redirects(&list, io).await {
                        Ok(io) => io,
                        Err(msg) => return self.fail(io, &msg, 1).await,
                    };
                    self.run_compound(compound, &io).await
                }
                Command::Function(def) => {
                    self.functions
                        .insert(def.fname.value.clone(), Arc::new(def.body.clone()));
                    0
                }
                Command::ExtendedTest(..) => {
                    self.fail(
                        io,
                        "[[: conditional expressions are not supported on this instance",
                        2,
                    )
                    .await
                }
            }
        })
        .boxed()
    }

    /// Prints `bash: MSG` on stderr and returns `status`.
    pub(super) async fn fail(&self, io: &Stdio, msg: &str, status: i32) -> i32 {
        let _ = io.stderr.write(format!("bash: {msg}\n")).await;
        status
    }
}

/// Whether a background job's command is `nohup ...`: it ignores the
/// hang-up from its first instant, before its first command has run.
fn starts_with_nohup(and_or: &ast::AndOrList) -> bool {
    let Some(Command::Simple(simple)) = and_or.first.seq.first() else {
        return false;
    };
    simple
        .word_or_name
        .as_ref()
        .is_some_and(|w| w.value == "nohup" || w.value.ends_with("/nohup"))
}
