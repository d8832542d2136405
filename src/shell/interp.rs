//! Runs brush-parser's AST: lists, `&&`/`||`, pipelines, compound commands
//! (if, for, while, case, groups, subshells, functions) and simple commands.

use std::sync::Arc;

use async_trait::async_trait;
use brush_parser::ast::{self, Command, CommandPrefixOrSuffixItem, CompoundCommand, IoRedirect};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::depth::GrowStack;
use super::{glob, special, Shell, Stdio, STUB_MARKER};
use crate::program::{ByteSink, Ctx, Input, Output};

/// Nesting bash allows before it gives up (functions, `source`, `$(...)`).
const MAX_DEPTH: u32 = 100;

/// The write end of a pipe between two pipeline stages.
struct PipeSink(Mutex<tokio::io::DuplexStream>);

#[async_trait]
impl ByteSink for PipeSink {
    async fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        self.0.lock().await.write_all(data).await
    }
}

impl Shell {
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

    fn run_list<'a>(
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

    async fn run_compound(&mut self, c: &CompoundCommand, io: &Stdio) -> i32 {
        match c {
            CompoundCommand::BraceGroup(g) => self.run_list(&g.list, io).await,
            CompoundCommand::Subshell(s) => {
                let mut sub = self.clone();
                sub.run_list(&s.list, io).await
            }
            CompoundCommand::IfClause(i) => {
                if self.run_list(&i.condition, io).await == 0 {
                    return self.run_list(&i.then, io).await;
                }
                for e in i.elses.iter().flatten() {
                    match &e.condition {
                        Some(cond) => {
                            if self.run_list(cond, io).await == 0 {
                                return self.run_list(&e.body, io).await;
                            }
                        }
                        None => return self.run_list(&e.body, io).await,
                    }
                }
                0
            }
            CompoundCommand::ForClause(f) => {
                let mut values = Vec::new();
                for w in f.values.iter().flatten() {
                    match self.expand_fields(&w.value, io).await {
                        Ok(v) => values.extend(v),
                        Err(e) => return self.fail(io, &e.0, 1).await,
                    }
                }
                let mut status = 0;
                for v in values {
                    self.set_var(&f.variable_name, &v, false);
                    status = self.run_list(&f.body.list, io).await;
                    if self.exit.is_some() {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                status
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                let until = matches!(c, CompoundCommand::UntilClause(_));
                let mut status = 0;
                loop {
                    let cond = self.run_list(&w.0, io).await;
                    if (cond == 0) == until || self.exit.is_some() {
                        break;
                    }
                    status = self.run_list(&w.1.list, io).await;
                    if self.exit.is_some() {
                        break;
                    }
                    // Let Ctrl-C and other sessions in, even in a busy loop.
                    tokio::task::yield_now().await;
                }
                status
            }
            CompoundCommand::CaseClause(cc) => {
                let value = match self.expand_string(&cc.value.value, io).await {
                    Ok(v) => v,
                    Err(e) => return self.fail(io, &e.0, 1).await,
                };
                for item in &cc.cases {
                    for p in &item.patterns {
                        let pat = match self.expand_pattern(&p.value, io).await {
                            Ok(p) => p,
                            Err(e) => return self.fail(io, &e.0, 1).await,
                        };
                        if glob::matches(&pat, &value) {
                            return match &item.cmd {
                                Some(list) => self.run_list(list, io).await,
                                None => 0,
                            };
                        }
                    }
                }
                0
            }
            CompoundCommand::Arithmetic(a) => {
                let text = match self.expand_string(&a.expr.value, io).await {
                    Ok(t) => t,
                    Err(e) => return self.fail(io, &e.0, 1).await,
                };
                match arith(self, &text) {
                    Ok(v) => i32::from(v == 0),
                    Err(e) => self.fail(io, &format!("{}: {e}", text.trim()), 1).await,
                }
            }
            _ => {
                self.fail(
                    io,
                    "this compound command is not supported on this instance",
                    2,
                )
                .await
            }
        }
    }

    /// Prints `bash: MSG` on stderr and returns `status`.
    pub(super) async fn fail(&self, io: &Stdio, msg: &str, status: i32) -> i32 {
        let _ = io.stderr.write(format!("bash: {msg}\n")).await;
        status
    }

    async fn run_simple(&mut self, cmd: &ast::SimpleCommand, io: &Stdio) -> i32 {
        let mut assignments: Vec<(String, String)> = Vec::new();
        let mut redirects: Vec<&IoRedirect> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for item in cmd.prefix.iter().flat_map(|p| p.0.iter()) {
            match item {
                CommandPrefixOrSuffixItem::AssignmentWord(a, _) => {
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
                        Err(e) => return self.fail(io, &e.0, 1).await,
                    };
                    if a.append {
                        value = format!("{}{value}", self.var(&name).unwrap_or(""));
                    }
                    assignments.push((name, value));
                }
                CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
                CommandPrefixOrSuffixItem::Word(w) => {
                    match self.expand_fields(&w.value, io).await {
                        Ok(v) => words.extend(v),
                        Err(e) => return self.fail(io, &e.0, 1).await,
                    }
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {
                    return self
                        .fail(io, "process substitution is not supported", 1)
                        .await
                }
            }
        }
        if let Some(w) = &cmd.word_or_name {
            match self.expand_fields(&w.value, io).await {
                Ok(v) => words.extend(v),
                Err(e) => return self.fail(io, &e.0, 1).await,
            }
        }
        for item in cmd.suffix.iter().flat_map(|s| s.0.iter()) {
            match item {
                CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
                CommandPrefixOrSuffixItem::Word(w)
                | CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    match self.expand_fields(&w.value, io).await {
                        Ok(v) => words.extend(v),
                        Err(e) => return self.fail(io, &e.0, 1).await,
                    }
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {
                    return self
                        .fail(io, "process substitution is not supported", 1)
                        .await
                }
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

    /// Finds `name` as bash would: on `PATH`, or as a path. Emulated
    /// programs are stub files on `PATH`; other files with a shell shebang
    /// run as scripts.
    pub(super) async fn find_program(&self, name: &str) -> Result<Found, (String, i32)> {
        let path = if name.contains('/') {
            Some(name.to_string())
        } else {
            self.search_path(name)
        };
        let Some(path) = path else {
            return Err((format!("{name}: command not found"), 127));
        };
        let fs = self.instance.sandbox.fs(&self.cwd);
        let virt = fs
            .canonical(&path)
            .map_err(|e| (format!("{name}: {}", crate::program::strerror(&e)), 127))?;
        let meta = fs
            .metadata(&virt)
            .map_err(|_| (format!("{name}: No such file or directory"), 127))?;
        if meta.is_dir() {
            return Err((format!("{name}: Is a directory"), 126));
        }
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err((format!("{name}: Permission denied"), 126));
        }
        // Read only the head: a model file run as a command must not be slurped.
        let head = read_head(fs, &virt, 64 * 1024);
        let text = String::from_utf8_lossy(&head);
        if text
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(STUB_MARKER))
        {
            let base = virt.rsplit('/').next().unwrap_or_default();
            if let Some(p) = super::lookup(base) {
                return Ok(Found::Program(p));
            }
        }
        let first = text.lines().next().unwrap_or("");
        if first.starts_with("#!") && (first.contains("sh") || first.contains("bash")) {
            if meta.len() > 1024 * 1024 {
                return Err((format!("{name}: script too large for this instance"), 126));
            }
            let full = fs.read(&virt, 1024 * 1024).unwrap_or_default();
            return Ok(Found::Script(String::from_utf8_lossy(&full).into_owned()));
        }
        Err((
            format!("{name}: cannot execute binary file: Exec format error"),
            126,
        ))
    }

    /// The first executable `name` in `$PATH`, as a path inside the instance.
    pub(super) fn search_path(&self, name: &str) -> Option<String> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.var("PATH").unwrap_or("").to_string();
        let fs = self.instance.sandbox.fs(&self.cwd);
        for dir in path.split(':').filter(|d| !d.is_empty()) {
            let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
            if let Ok(meta) = fs.metadata(&candidate) {
                if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                    return Some(candidate);
                }
            }
        }
        None
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

/// What a command name resolved to.
pub(super) enum Found {
    Program(&'static dyn crate::program::Program),
    Script(String),
}

fn read_head(fs: crate::instance::sandbox::Fs<'_>, path: &str, limit: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = Vec::new();
    if let Ok(f) = fs.open_read(path) {
        let _ = f.take(limit as u64).read_to_end(&mut buf);
    }
    buf
}

/// Evaluates `$((...))`: integers, variables, `+ - * / %`, comparisons,
/// `&& ||`, `!` and parentheses.
pub(super) fn arith(shell: &Shell, text: &str) -> Result<i64, String> {
    let tokens = arith_tokens(text)?;
    let mut p = Arith {
        tokens,
        pos: 0,
        depth: 0,
        shell,
    };
    let v = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(format!(
            "syntax error in expression (error token is \"{}\")",
            p.tokens[p.pos..].join(" ")
        ));
    }
    Ok(v)
}

fn arith_tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let s: String = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            i += s.chars().count();
            out.push(s);
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two.as_str()) {
                out.push(two);
                i += 2;
            } else if "+-*/%()<>!".contains(c) {
                out.push(c.to_string());
                i += 1;
            } else {
                return Err(format!(
                    "syntax error: invalid arithmetic operator (error token is \"{c}\")"
                ));
            }
        }
    }
    Ok(out)
}

/// bash's `MAX_EXPR_RECURSION_LEVEL`.
const MAX_ARITH_RECURSION: usize = 1024;

struct Arith<'a> {
    tokens: Vec<String>,
    pos: usize,
    depth: usize,
    shell: &'a Shell,
}

impl Arith<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<i64, String> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = i64::from(v != 0 || r != 0);
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<i64, String> {
        let mut v = self.cmp()?;
        while self.eat("&&") {
            let r = self.cmp()?;
            v = i64::from(v != 0 && r != 0);
        }
        Ok(v)
    }
    fn cmp(&mut self) -> Result<i64, String> {
        let mut v = self.sum()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("==" | "!=" | "<" | ">" | "<=" | ">=")) => op.to_string(),
                _ => return Ok(v),
            };
            self.pos += 1;
            let r = self.sum()?;
            v = i64::from(match op.as_str() {
                "==" => v == r,
                "!=" => v != r,
                "<" => v < r,
                ">" => v > r,
                "<=" => v <= r,
                _ => v >= r,
            });
        }
    }
    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                v = v.wrapping_add(self.product()?);
            } else if self.eat("-") {
                v = v.wrapping_sub(self.product()?);
            } else {
                return Ok(v);
            }
        }
    }
    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("*" | "/" | "%")) => op.to_string(),
                _ => return Ok(v),
            };
            self.pos += 1;
            let r = self.unary()?;
            if op != "*" && r == 0 {
                return Err("division by 0 (error token is \"0\")".into());
            }
            v = match op.as_str() {
                "*" => v.wrapping_mul(r),
                "/" => v.wrapping_div(r),
                _ => v.wrapping_rem(r),
            };
        }
    }
    fn unary(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_ARITH_RECURSION {
            return Err(format!(
                "expression recursion level exceeded (error token is \"{}\")",
                self.tokens[self.pos.min(self.tokens.len().saturating_sub(1))..].join("")
            ));
        }
        // Each level is a few frames: grow the stack rather than overflow.
        let v = stacker::maybe_grow(64 << 10, 1 << 20, || self.unary_inner());
        self.depth -= 1;
        v
    }

    fn unary_inner(&mut self) -> Result<i64, String> {
        if self.eat("-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("!") {
            return Ok(i64::from(self.unary()? == 0));
        }
        if self.eat("(") {
            let v = self.or()?;
            if !self.eat(")") {
                return Err("missing `)'".into());
            }
            return Ok(v);
        }
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("syntax error: operand expected".into());
        };
        self.pos += 1;
        if tok.starts_with(|c: char| c.is_ascii_digit()) {
            return tok
                .parse::<i64>()
                .map_err(|_| format!("value too great for base (error token is \"{tok}\")"));
        }
        if tok.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            let v = self.shell.var(&tok).unwrap_or("0").trim().to_string();
            return Ok(v.parse::<i64>().unwrap_or(0));
        }
        Err(format!(
            "syntax error: operand expected (error token is \"{tok}\")"
        ))
    }
}
