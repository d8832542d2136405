//! Simple commands: assignments, words and redirections expanded, then the
//! command run as a special builtin, a function, or a program or script
//! found on `PATH`, with the faults planned for it.

use brush_parser::ast::{self, CommandPrefixOrSuffixItem, IoRedirect};
use futures::future::BoxFuture;
use futures::FutureExt;

use super::command_search::Found;
use super::{special, Shell, Stdio};
use crate::program::Ctx;

/// Nesting bash allows before it gives up (functions, `source`, `$(...)`).
const MAX_DEPTH: u32 = 100;

impl Shell {
    /// Expands and runs one simple command; with no words left, only its
    /// assignments take effect.
    pub(super) async fn run_simple(&mut self, cmd: &ast::SimpleCommand, io: &Stdio) -> i32 {
        let mut assignments: Vec<(String, String)> = Vec::new();
        let mut redirects: Vec<&IoRedirect> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for item in cmd.prefix.iter().flat_map(|p| p.0.iter()) {
            let taken = match item {
                CommandPrefixOrSuffixItem::AssignmentWord(a, _) => self
                    .expand_assignment(a, io)
                    .await
                    .map(|a| assignments.push(a)),
                _ => self.take_item(item, &mut redirects, &mut words, io).await,
            };
            if let Err(status) = taken {
                return status;
            }
        }
        if let Some(w) = &cmd.word_or_name {
            if let Err(status) = self.push_fields(&w.value, &mut words, io).await {
                return status;
            }
        }
        for item in cmd.suffix.iter().flat_map(|s| s.0.iter()) {
            if let Err(status) = self.take_item(item, &mut redirects, &mut words, io).await {
                return status;
            }
        }
        let io = match self.apply_redirects(&redirects, io).await {
            Ok(io) => io,
            Err(msg) => return self.fail(io, &msg, 1).await,
        };
        if words.is_empty() {
            for (k, v) in assignments {
                self.set_var(&k, &v, false);
            }
            return self.last_status;
        }
        self.run_argv(words, assignments, &io).await
    }

    /// Expands `NAME=value` (or `NAME+=value`) before a command; `Err`
    /// holds the status after the diagnostic.
    async fn expand_assignment(
        &mut self,
        a: &ast::Assignment,
        io: &Stdio,
    ) -> Result<(String, String), i32> {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
        };
        let raw = match &a.value {
            ast::AssignmentValue::Scalar(w) => w.value.clone(),
            ast::AssignmentValue::Array(items) => items
                .iter()
                .map(|(_, w)| w.value.clone())
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut value = match self.expand_string(&raw, io).await {
            Ok(v) => v,
            Err(e) => return Err(self.fail(io, &e.0, 1).await),
        };
        if a.append {
            value = format!("{}{value}", self.var(&name).unwrap_or(""));
        }
        Ok((name, value))
    }

    /// Takes one word or redirection of a simple command: a word (an
    /// assignment after the name is one) is expanded onto `words`, a
    /// redirection kept to apply once every word is expanded.
    async fn take_item<'c>(
        &mut self,
        item: &'c CommandPrefixOrSuffixItem,
        redirects: &mut Vec<&'c IoRedirect>,
        words: &mut Vec<String>,
        io: &Stdio,
    ) -> Result<(), i32> {
        match item {
            CommandPrefixOrSuffixItem::IoRedirect(r) => {
                redirects.push(r);
                Ok(())
            }
            CommandPrefixOrSuffixItem::Word(w)
            | CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                self.push_fields(&w.value, words, io).await
            }
            CommandPrefixOrSuffixItem::ProcessSubstitution(..) => Err(self
                .fail(io, "process substitution is not supported", 1)
                .await),
        }
    }

    /// Expands one word into fields onto `words`.
    async fn push_fields(
        &mut self,
        raw: &str,
        words: &mut Vec<String>,
        io: &Stdio,
    ) -> Result<(), i32> {
        match self.expand_fields(raw, io).await {
            Ok(v) => {
                words.extend(v);
                Ok(())
            }
            Err(e) => Err(self.fail(io, &e.0, 1).await),
        }
    }

    /// Runs an expanded command line: a special builtin, a function, or a
    /// program found on `PATH`.
    pub(super) fn run_argv<'a>(
        &'a mut self,
        argv: Vec<String>,
        assignments: Vec<(String, String)>,
        io: &'a Stdio,
    ) -> BoxFuture<'a, i32> {
        async move {
            if self.depth > MAX_DEPTH {
                return self.fail(io, "maximum nesting level exceeded", 1).await;
            }
            let name = argv[0].clone();
            if let Some(status) = special::run(self, &argv, &assignments, io).await {
                return status;
            }
            if let Some(body) = self.functions.get(&name).cloned() {
                self.depth += 1;
                let io2 = match self
                    .apply_redirects(
                        &body.1.iter().flat_map(|r| r.0.iter()).collect::<Vec<_>>(),
                        io,
                    )
                    .await
                {
                    Ok(io2) => io2,
                    Err(msg) => {
                        self.depth -= 1;
                        return self.fail(io, &msg, 1).await;
                    }
                };
                let status = self.run_compound(&body.0, &io2).await;
                self.depth -= 1;
                return status;
            }
            // bash's own builtins (`echo`, `test`, ...) run without a PATH
            // search, as in bash: a loop of them touches no file.
            let builtin = special::is_builtin(&name)
                .then(|| super::lookup(&name))
                .flatten();
            let program = match builtin {
                Some(p) => Found::Program(p),
                None => match self.find_program(&name).await {
                    Ok(p) => p,
                    Err((msg, status)) => return self.fail(io, &msg, status).await,
                },
            };
            let mut env = self.exported_env();
            for (k, v) in assignments {
                env.insert(k, v);
            }
            let faults = self.plan_faults(&argv);
            let mut ctx = Ctx {
                argv,
                env,
                cwd: self.cwd.clone(),
                stdin: io.stdin.clone(),
                stdout: io.stdout.clone(),
                stderr: io.stderr.clone(),
                instance: self.instance.clone(),
                faults,
            };
            match program {
                Found::Program(p) => {
                    let status = p.run(&mut ctx).await;
                    if ctx.faults.session.disconnect_requested() {
                        // The connection is going away: run nothing more.
                        self.exit = Some(255);
                    }
                    ctx.faults.exit_code().unwrap_or(status)
                }
                Found::Script(text) => {
                    let mut sub = self.clone();
                    sub.depth += 1;
                    let status = sub.run_script(&text, super::Origin::File, io).await;
                    sub.exit.unwrap_or(status)
                }
            }
        }
        .boxed()
    }

    /// Decides the tool-depth faults for one program run, on top of the
    /// session faults the whole command carries.
    fn plan_faults(&self, argv: &[String]) -> crate::faults::FaultPlan {
        let name = argv[0].rsplit('/').next().unwrap_or(&argv[0]);
        let fired = self.instance.faults.decide(
            crate::faults::Depth::Tool,
            &crate::faults::Invocation {
                tool: Some(name),
                command: &self.trace.command,
                args: &argv[1..],
                instance: &self.instance.config.id,
                user: &self.trace.user,
            },
        );
        self.trace.record(&fired);
        let mut all = self.trace.inherited.clone();
        all.extend(fired);
        crate::faults::FaultPlan {
            fired: all,
            session: self.trace.session.clone(),
        }
    }
}
