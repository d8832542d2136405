//! `fakessh emit TOOL ARGS...`: runs an emulated tool against the
//! local stdout and stderr, without SSH (for people who only need the
//! progress output). Files land in the instance's sandbox.

use std::io::IsTerminal;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::instance::Instance;
use crate::program::{ByteSink, Ctx, Input, Output, Terminal};

/// A sink over the process's stdout or stderr.
pub struct StdSink {
    which: Mutex<Std>,
}

enum Std {
    Out(tokio::io::Stdout),
    Err(tokio::io::Stderr),
}

impl StdSink {
    /// The process's standard output.
    pub fn stdout() -> Self {
        StdSink {
            which: Mutex::new(Std::Out(tokio::io::stdout())),
        }
    }
    /// The process's standard error.
    pub fn stderr() -> Self {
        StdSink {
            which: Mutex::new(Std::Err(tokio::io::stderr())),
        }
    }
}

#[async_trait]
impl ByteSink for StdSink {
    async fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        match &mut *self.which.lock().await {
            Std::Out(o) => {
                o.write_all(data).await?;
                o.flush().await
            }
            Std::Err(e) => {
                e.write_all(data).await?;
                e.flush().await
            }
        }
    }
}

fn local_terminal(is_tty: bool) -> Option<Terminal> {
    if !is_tty {
        return None;
    }
    let cols = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80);
    let rows = std::env::var("LINES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    Some(Terminal::new(cols, rows))
}

/// Runs `tool` (any of [`super::names`]) with `args` on `instance`, printing to
/// the local terminal; returns the tool's exit status (127 for an unknown tool).
pub async fn emit(tool: &str, args: Vec<String>, instance: Arc<Instance>) -> i32 {
    let Some(program) = super::lookup(tool) else {
        eprintln!(
            "fakessh emit: unknown tool '{tool}' (expected one of: {})",
            super::names().join(", ")
        );
        return 127;
    };
    let mut env = instance.login_env("root");
    for k in ["LANG", "LC_ALL", "LC_MESSAGES", "COLUMNS", "LINES"] {
        if let Ok(v) = std::env::var(k) {
            env.insert(k.to_string(), v);
        }
    }
    let mut argv = vec![tool.to_string()];
    argv.extend(args);
    let stdin = if std::io::stdin().is_terminal() {
        Input::from_reader(tokio::io::stdin()).with_terminal(local_terminal(true))
    } else {
        Input::from_reader(tokio::io::stdin())
    };
    let mut ctx = Ctx {
        argv,
        env,
        cwd: "/workspace".into(),
        stdin,
        stdout: Output::new(
            Arc::new(StdSink::stdout()),
            local_terminal(std::io::stdout().is_terminal()),
        ),
        stderr: Output::new(
            Arc::new(StdSink::stderr()),
            local_terminal(std::io::stderr().is_terminal()),
        ),
        instance,
        faults: Default::default(),
    };
    let _ = ctx.instance.sandbox.fs("/").create_dir_all("/workspace");
    program.run(&mut ctx).await
}
