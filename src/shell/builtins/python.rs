//! `python`/`python3`: the venv's interpreter, which tells its version and
//! hands `-m pip` to [`super::pip`]. Nothing is ever executed.

use async_trait::async_trait;

use crate::program::{Ctx, Program};

const PYTHON_VERSION: &str = "3.11.9";

/// `python [--version|-V|-c CODE|-m MODULE|SCRIPT]`.
pub struct Python;

#[async_trait]
impl Program for Python {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let name = ctx
            .name()
            .rsplit('/')
            .next()
            .unwrap_or("python3")
            .to_string();
        let args = ctx.args().to_vec();
        match args.first().map(String::as_str) {
            Some("--version") | Some("-V") => {
                ctx.out(format!("Python {PYTHON_VERSION}\n")).await;
                0
            }
            Some("-m") if args.get(1).is_some_and(|m| m == "pip") => {
                let mut sub = Ctx {
                    argv: std::iter::once("pip".to_string())
                        .chain(args[2..].iter().cloned())
                        .collect(),
                    env: ctx.env.clone(),
                    cwd: ctx.cwd.clone(),
                    stdin: ctx.stdin.clone(),
                    stdout: ctx.stdout.clone(),
                    stderr: ctx.stderr.clone(),
                    instance: ctx.instance.clone(),
                    faults: ctx.faults.clone(),
                };
                super::pip::Pip.run(&mut sub).await
            }
            Some("-m") => {
                let m = args.get(1).cloned().unwrap_or_default();
                if m.is_empty() {
                    ctx.err("Argument expected for the -m option\n").await;
                    return 2;
                }
                ctx.err(format!("/venv/main/bin/{name}: No module named {m}\n"))
                    .await;
                1
            }
            Some(script) if !script.starts_with('-') => {
                let exists = ctx.fs().is_file(script);
                if !exists {
                    let abs = crate::instance::Sandbox::absolute(&ctx.cwd, script);
                    ctx.err(format!(
                        "/venv/main/bin/{name}: can't open file '{abs}': [Errno 2] No such file or directory\n"
                    ))
                    .await;
                    return 2;
                }
                not_supported(ctx, &name).await
            }
            _ => not_supported(ctx, &name).await,
        }
    }
}

async fn not_supported(ctx: &Ctx, name: &str) -> i32 {
    ctx.err(format!(
        "{name}: running Python code is not supported on this instance\n"
    ))
    .await;
    1
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn versions() {
        let i = instance();
        assert_eq!(
            run(&i, "/", &["python", "--version"], b"").await,
            (0, "Python 3.11.9\n".into(), String::new())
        );
        assert_eq!(
            run(&i, "/", &["python3", "-V"], b"").await.1,
            "Python 3.11.9\n"
        );
        assert_eq!(
            run(&i, "/", &["pip", "--version"], b"").await.1,
            "pip 24.0 from /venv/main/lib/python3.11/site-packages/pip (python 3.11)\n"
        );
        assert_eq!(
            run(&i, "/", &["python3", "-m", "pip", "--version"], b"")
                .await
                .0,
            0
        );
    }

    #[tokio::test]
    async fn code_is_never_run() {
        let i = instance();
        let r = run(
            &i,
            "/",
            &["python3", "-c", "import os; os.system('id')"],
            b"",
        )
        .await;
        assert_eq!(r.0, 1);
        assert!(r.1.is_empty());
        let r = run(&i, "/tmp", &["python3", "x.py"], b"").await;
        assert_eq!(
            r,
            (2, String::new(), "/venv/main/bin/python3: can't open file '/tmp/x.py': [Errno 2] No such file or directory\n".into())
        );
    }
}
