//! The fake bash: parses command lines with brush-parser and interprets
//! them. It never runs a host process: every command is a [`Program`] from
//! [`builtins`] or [`crate::tools`], found on `PATH` inside the sandbox.

mod arith;
pub mod builtins;
mod command_search;
mod compound;
pub mod depth;
mod expand;
mod glob;
mod interp;
mod job_control;
pub mod jobs;
pub mod memory;
mod redirect;
mod simple;
mod special;
mod syntax;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::instance::Instance;
use crate::program::{Input, Output, Program};

pub use syntax::{Origin, SyntaxError};

/// First line of the stub files that stand for emulated programs on `PATH`.
pub const STUB_MARKER: &str = "# fakessh: emulated program";

/// A shell's three standard streams.
#[derive(Clone)]
pub struct Stdio {
    /// Standard input.
    pub stdin: Input,
    /// Standard output.
    pub stdout: Output,
    /// Standard error.
    pub stderr: Output,
}

#[derive(Clone, Debug)]
struct Var {
    value: Arc<memory::Value>,
    exported: bool,
}

/// What one top-level command (an exec, or a line typed at the prompt)
/// gathers while it runs: who runs it, the faults that fired, and the
/// session those faults may act on.
#[derive(Default)]
pub struct CommandTrace {
    /// The whole command line, as fault rules match it.
    pub command: String,
    /// The SSH user.
    pub user: String,
    /// Session faults the programs must act on (`disconnect_at`).
    pub inherited: Vec<crate::faults::Fired>,
    /// The session faults act on.
    pub session: Arc<crate::faults::SessionControl>,
    fired: std::sync::Mutex<Vec<String>>,
}

impl CommandTrace {
    /// A trace for `command` run by `user`.
    pub fn new(command: &str, user: &str) -> Self {
        CommandTrace {
            command: command.to_string(),
            user: user.to_string(),
            ..CommandTrace::default()
        }
    }

    /// Notes fault ids that fired.
    pub fn record(&self, fired: &[crate::faults::Fired]) {
        if let Ok(mut ids) = self.fired.lock() {
            ids.extend(fired.iter().map(|f| f.id.clone()));
        }
    }

    /// Ids of every fault that fired so far.
    pub fn fired_ids(&self) -> Vec<String> {
        self.fired.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// One shell process: variables, working directory, last status.
/// Cloning it gives a subshell.
#[derive(Clone)]
pub struct Shell {
    instance: Arc<Instance>,
    vars: BTreeMap<String, Var>,
    functions: BTreeMap<String, Arc<brush_parser::ast::FunctionBody>>,
    cwd: String,
    last_status: i32,
    exit: Option<i32>,
    pid: u32,
    depth: u32,
    trace: Arc<CommandTrace>,
    jobs: Arc<jobs::Jobs>,
    memory: Arc<memory::Memory>,
}

impl Shell {
    /// A login shell for `user` on `instance`, with `env` as its exported
    /// environment (the login environment plus what the client sent).
    pub fn new(instance: Arc<Instance>, env: BTreeMap<String, String>) -> Self {
        let home = env.get("HOME").cloned().unwrap_or_else(|| "/root".into());
        let cwd = if instance.sandbox.fs("/").is_dir(&home) {
            home
        } else {
            "/".to_string()
        };
        let pid = crate::program::session_pid(&env)
            .unwrap_or_else(|| 1000 + (rand::random::<u32>() % 30000));
        let memory = memory::Memory::new(instance.config.limits.max_session_bytes);
        let vars = env
            .into_iter()
            .map(|(k, value)| {
                (
                    k,
                    Var {
                        value: memory::Value::new(&value, &memory),
                        exported: true,
                    },
                )
            })
            .collect();
        let jobs = jobs::Jobs::new(
            instance.config.limits.max_processes,
            instance.detached.clone(),
        );
        let mut shell = Shell {
            instance,
            vars,
            functions: BTreeMap::new(),
            cwd: cwd.clone(),
            last_status: 0,
            exit: None,
            pid,
            depth: 0,
            trace: Arc::new(CommandTrace::default()),
            jobs,
            memory,
        };
        shell.set_var("PWD", &cwd, true);
        shell
    }

    /// Runs a script (an exec request, a typed line, a sourced file) and
    /// returns its exit status. Syntax errors print bash's message, exit 2.
    pub async fn run_script(&mut self, source: &str, origin: Origin, io: &Stdio) -> i32 {
        let program =
            match syntax::parse(source, origin, "", self.instance.config.limits.max_nesting) {
                Ok(p) => p,
                Err(e) => {
                    let mut text = e.lines.join("\n");
                    text.push('\n');
                    let _ = io.stderr.write(text).await;
                    self.last_status = 2;
                    return 2;
                }
            };
        let status = self.run_program(&program, io).await;
        // A fatal error (out of memory) ends the shell with its own status.
        let status = self.exit.unwrap_or(status);
        self.last_status = status;
        status
    }

    /// Starts a new top-level command: faults and the journal see it through `trace`.
    pub fn set_trace(&mut self, trace: Arc<CommandTrace>) {
        self.trace = trace;
    }

    /// The session's processes; hang them up when the session ends.
    pub fn jobs(&self) -> Arc<jobs::Jobs> {
        self.jobs.clone()
    }

    /// `Some(status)` once `exit` ran: the session should end.
    pub fn exit_requested(&self) -> Option<i32> {
        self.exit
    }

    /// The working directory, as a path inside the instance.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Records a status the shell did not compute itself (a command cut
    /// short by Ctrl-C is 130).
    pub fn set_last_status(&mut self, status: i32) {
        self.last_status = status;
    }

    /// The status of the last command.
    pub fn last_status(&self) -> i32 {
        self.last_status
    }

    /// The interactive prompt: `root@host:~# `.
    pub fn prompt(&self) -> String {
        let user = self.var("USER").unwrap_or("root").to_string();
        let home = self.var("HOME").unwrap_or("/root");
        let cwd = if self.cwd == home {
            "~".to_string()
        } else if let Some(rest) = self.cwd.strip_prefix(&format!("{home}/")) {
            format!("~/{rest}")
        } else {
            self.cwd.clone()
        };
        let sigil = if user == "root" { '#' } else { '$' };
        format!("{user}@{}:{cwd}{sigil} ", self.instance.config.hostname)
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    fn set_var(&mut self, name: &str, value: &str, export: bool) {
        let exported = export || self.vars.get(name).is_some_and(|v| v.exported);
        self.vars.insert(
            name.to_string(),
            Var {
                value: memory::Value::new(value, &self.memory),
                exported,
            },
        );
    }

    fn exported_env(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(_, v)| v.exported)
            .map(|(k, v)| (k.clone(), v.value.as_str().to_string()))
            .collect()
    }
}

/// Every program the instance has, by name: utilities, then tools.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    crate::tools::lookup(name).or_else(|| builtins::lookup(name))
}

/// Puts a stub file on `PATH` for every emulated program, so `which`,
/// `ls /venv/main/bin` and `test -x` see them as on a real machine.
pub fn install_programs(instance: &Instance) -> std::io::Result<()> {
    use crate::instance::sandbox::OpenOptions;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    // Through the confined operations: a `--root` kept from an earlier run
    // may hold symlinks a session planted.
    let fs = instance.sandbox.fs("/");
    let install = |dir: &str, name: &str| -> std::io::Result<()> {
        let path = format!("/{dir}/{name}");
        if fs.exists(&path) {
            return Ok(());
        }
        fs.create_dir_all(&format!("/{dir}"))?;
        let opts = OpenOptions::new().write(true).create_new(true);
        let mut file = match fs.open(&path, opts) {
            Ok(f) => f,
            // Made meanwhile: existing files are kept.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(e),
        };
        file.write_all(format!("#!/bin/sh\n{STUB_MARKER}: {name}\n").as_bytes())?;
        file.set_permissions(PermissionsExt::from_mode(0o755))
    };
    for name in crate::tools::names() {
        install("venv/main/bin", name)?;
    }
    for name in builtins::names() {
        let dir = match *name {
            "python" | "python3" | "pip" | "pip3" => "venv/main/bin",
            "nvidia-smi" => "usr/bin",
            _ => "usr/bin",
        };
        install(dir, name)?;
    }
    for name in special::NAMES_ON_PATH {
        install("usr/bin", name)?;
    }
    for name in ["bash", "sh"] {
        install("bin", name)?;
    }
    Ok(())
}

/// Whether `script` stops mid-construct (open quote, `if` without `fi`):
/// an interactive shell then asks for more with its `> ` prompt.
pub fn is_incomplete(script: &str, max_nesting: usize) -> bool {
    // Too deep is not incomplete: the run reports it.
    match syntax::parse(script, Origin::Exec, "", max_nesting) {
        Ok(_) => false,
        Err(e) => e
            .lines
            .iter()
            .any(|l| l.contains("unexpected EOF") || l.contains("unexpected end of file")),
    }
}
