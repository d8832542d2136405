//! The process's own state: `pwd`, `env` (which may run another utility),
//! `true` and `false`.

use async_trait::async_trait;

use super::common::{complain, opt_error, quote};
use crate::program::{Ctx, Program};

/// `pwd [-L|-P]`: the working directory.
pub struct Pwd;

#[async_trait]
impl Program for Pwd {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let physical = ctx.args().iter().any(|a| a == "-P");
        for a in ctx.args() {
            if a.starts_with('-') && a != "-P" && a != "-L" {
                let c = a.chars().nth(1).unwrap_or('-');
                ctx.err(format!(
                    "bash: pwd: -{c}: invalid option\npwd: usage: pwd [-LP]\n"
                ))
                .await;
                return 2;
            }
        }
        let dir = if physical {
            ctx.instance
                .sandbox
                .fs("/")
                .canonical(&ctx.cwd)
                .unwrap_or_else(|_| ctx.cwd.clone())
        } else {
            ctx.cwd.clone()
        };
        ctx.out(format!("{dir}\n")).await;
        0
    }
}

/// `env [-i] [-u NAME] [NAME=VALUE]... [UTILITY [ARG]...]`: prints the
/// environment, or runs another utility of this instance with it.
pub struct Env;

#[async_trait]
impl Program for Env {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut env = ctx.env.clone();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "-i" || a == "-" || a == "--ignore-environment" {
                env.clear();
            } else if a == "-u" || a == "--unset" {
                i += 1;
                match args.get(i) {
                    Some(n) => {
                        env.remove(n);
                    }
                    None => {
                        let e = super::common::OptError::NeedsArg('u');
                        return opt_error(ctx, e, 125).await;
                    }
                }
            } else if a == "-0" || a == "--null" {
            } else if a == "--" {
                i += 1;
                break;
            } else if a.starts_with('-') && a.len() > 1 {
                let e = super::common::OptError::Invalid(a.chars().nth(1).unwrap_or('-'));
                return opt_error(ctx, e, 125).await;
            } else if let Some((k, v)) = a.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            } else {
                break;
            }
            i += 1;
        }
        if i < args.len() {
            let name = args[i].clone();
            let Some(program) = super::lookup(&name) else {
                let msg = format!("{}: No such file or directory", quote(ctx, &name));
                complain(ctx, msg).await;
                return 127;
            };
            let mut sub = Ctx {
                argv: args[i..].to_vec(),
                env,
                cwd: ctx.cwd.clone(),
                stdin: ctx.stdin.clone(),
                stdout: ctx.stdout.clone(),
                stderr: ctx.stderr.clone(),
                instance: ctx.instance.clone(),
                faults: ctx.faults.clone(),
            };
            return program.run(&mut sub).await;
        }
        let mut out = String::new();
        for (k, v) in &env {
            out.push_str(&format!("{k}={v}\n"));
        }
        ctx.out(out).await;
        0
    }
}

/// `true`: exits 0.
pub struct True;

#[async_trait]
impl Program for True {
    async fn run(&self, _ctx: &mut Ctx) -> i32 {
        0
    }
}

/// `false`: exits 1.
pub struct False;

#[async_trait]
impl Program for False {
    async fn run(&self, _ctx: &mut Ctx) -> i32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn pwd_true_false() {
        let i = instance();
        assert_eq!(
            run(&i, "/tmp", &["pwd"], b"").await,
            (0, "/tmp\n".into(), String::new())
        );
        assert_eq!(run(&i, "/", &["true", "x"], b"").await.0, 0);
        assert_eq!(run(&i, "/", &["false"], b"").await.0, 1);
    }

    #[tokio::test]
    async fn env_prints_and_runs() {
        let i = instance();
        let r = run(&i, "/", &["env"], b"").await;
        assert!(r.1.contains("UI_HOME=/workspace/ComfyUI\n"));
        assert!(r.1.contains("USER=root\n"));
        let r = run(&i, "/", &["env", "-i", "A=1"], b"").await;
        assert_eq!(r.1, "A=1\n");
        let r = run(&i, "/", &["env", "USER=bob", "whoami"], b"").await;
        assert_eq!(r.1, "bob\n");
        let r = run(&i, "/", &["env", "nosuch"], b"").await;
        assert_eq!(
            r,
            (
                127,
                String::new(),
                "env: 'nosuch': No such file or directory\n".into()
            )
        );
    }
}
