//! `find`: start paths, an expression of tests, operators and actions,
//! walked without following symlinks (unless `-L`/`-H`), printed as the
//! user spelled the start path.

mod eval;
mod parse;
mod walk;

use async_trait::async_trait;

use crate::program::{Ctx, Program};
use eval::RunState;
use parse::{Expr, Follow, Globals, Parser};
use walk::walk;

/// `find [-H|-L|-P] [PATH]... [EXPRESSION]`.
pub struct Find;

#[async_trait]
impl Program for Find {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let mut i = 0;
        let mut follow = Follow::Never;
        while let Some(a) = args.get(i) {
            match a.as_str() {
                "-H" => follow = Follow::StartPoints,
                "-L" => follow = Follow::Always,
                "-P" => follow = Follow::Never,
                _ => break,
            }
            i += 1;
        }
        let mut starts = Vec::new();
        while let Some(a) = args.get(i) {
            if (a.starts_with('-') && a.len() > 1) || a == "(" || a == "!" || a == ")" {
                break;
            }
            starts.push(a.clone());
            i += 1;
        }
        if starts.is_empty() {
            starts.push(".".into());
        }
        let toks = &args[i..];
        let mut parser = Parser {
            toks,
            pos: 0,
            globals: Globals {
                follow,
                ..Globals::default()
            },
        };
        let expr = if toks.is_empty() {
            Expr::Const(true)
        } else {
            match parser.comma() {
                Ok(e) if parser.pos == toks.len() => e,
                Ok(_) => {
                    let t = &toks[parser.pos];
                    let msg = if t == ")" {
                        "invalid expression; you have too many ')'".to_string()
                    } else {
                        format!("paths must precede expression: `{t}'")
                    };
                    ctx.err(format!("find: {msg}\n")).await;
                    return 1;
                }
                Err(msg) => {
                    ctx.err(format!("find: {msg}\n")).await;
                    return 1;
                }
            }
        };
        let globals = parser.globals;
        let expr = if expr.has_action() {
            expr
        } else {
            Expr::And(Box::new(expr), Box::new(Expr::Print { nul: false }))
        };
        let mut code = 0;
        let mut st = RunState::default();
        for start in &starts {
            if start.is_empty() {
                ctx.err("find: '': No such file or directory\n").await;
                code = 1;
                continue;
            }
            match walk(ctx, start, &expr, &globals, &mut st).await {
                Ok(c) => code = code.max(c),
                Err(()) => return code.max(1),
            }
            if st.quit {
                break;
            }
        }
        if !st.out.is_empty() && !ctx.out(std::mem::take(&mut st.out)).await {
            return 1;
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};

    fn models() -> std::sync::Arc<crate::instance::Instance> {
        let i = instance();
        let lora = "/workspace/ComfyUI/models/Lora";
        sparse(
            &i,
            &format!("{lora}/style_2169837_v1.safetensors"),
            228_456_789,
        );
        sparse(&i, &format!("{lora}/old.ckpt"), 2_000_000);
        put(&i, &format!("{lora}/readme.txt"), b"hi");
        sparse(&i, &format!("{lora}/sub/deep.safetensors"), 1234);
        sparse(&i, &format!("{lora}/sub/deeper/too_deep.safetensors"), 5);
        i
    }

    #[tokio::test]
    async fn app_listing_with_printf() {
        let i = models();
        let r = run(
            &i,
            "/tmp",
            &[
                "find",
                "/workspace/ComfyUI/models/Lora",
                "-maxdepth",
                "2",
                "-type",
                "f",
                "(",
                "-name",
                "*.safetensors",
                "-o",
                "-name",
                "*.ckpt",
                ")",
                "-printf",
                "%P|%s\\n",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r,
            (
                0,
                "old.ckpt|2000000\nstyle_2169837_v1.safetensors|228456789\nsub/deep.safetensors|1234\n"
                    .into(),
                String::new()
            )
        );
    }

    #[tokio::test]
    async fn app_lookup_by_version_id() {
        let i = models();
        let r = run(
            &i,
            "/tmp",
            &[
                "find",
                "/workspace/ComfyUI/models/Lora",
                "-maxdepth",
                "2",
                "-name",
                "*2169837*.safetensors",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "/workspace/ComfyUI/models/Lora/style_2169837_v1.safetensors\n"
        );
        let r = run(
            &i,
            "/tmp",
            &["find", "/workspace/ComfyUI/models/Lora", "-name", "*404*"],
            b"",
        )
        .await;
        assert_eq!(r, (0, String::new(), String::new()));
    }

    #[tokio::test]
    async fn paths_as_spelled_and_depths() {
        let i = models();
        let r = run(
            &i,
            "/workspace/ComfyUI/models",
            &["find", "Lora/sub", "-mindepth", "1"],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "Lora/sub/deep.safetensors\nLora/sub/deeper\nLora/sub/deeper/too_deep.safetensors\n"
        );
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", ".", "-maxdepth", "1", "-type", "d"],
            b"",
        )
        .await;
        assert_eq!(r.1, ".\n./sub\n");
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", "sub/", "-maxdepth", "1"],
            b"",
        )
        .await;
        assert_eq!(r.1, "sub/\nsub/deep.safetensors\nsub/deeper\n");
        let r = run(
            &i,
            "/workspace/ComfyUI/models/Lora",
            &["find", "sub", "-printf", "%h %f %d\\n", "-quit"],
            b"",
        )
        .await;
        assert_eq!(r.1, ". sub 0\n");
    }

    #[tokio::test]
    async fn operators_and_negation() {
        let i = models();
        let lora = "/workspace/ComfyUI/models/Lora";
        let r = run(
            &i,
            lora,
            &["find", ".", "-type", "f", "!", "-name", "*.safetensors"],
            b"",
        )
        .await;
        assert_eq!(r.1, "./old.ckpt\n./readme.txt\n");
        let r = run(
            &i,
            lora,
            &[
                "find", ".", "-name", "sub", "-prune", "-o", "-type", "f", "-print",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "./old.ckpt\n./readme.txt\n./style_2169837_v1.safetensors\n"
        );
        let r = run(
            &i,
            lora,
            &["find", ".", "-iname", "README*", "-size", "-1k"],
            b"",
        )
        .await;
        assert_eq!(r.1, "");
        let r = run(
            &i,
            lora,
            &["find", ".", "-iname", "README*", "-size", "2c"],
            b"",
        )
        .await;
        assert_eq!(r.1, "./readme.txt\n");
        let r = run(&i, lora, &["find", ".", "-size", "+100M"], b"").await;
        assert_eq!(r.1, "./style_2169837_v1.safetensors\n");
    }

    #[tokio::test]
    async fn errors_follow_gnu() {
        let i = models();
        let r = run(&i, "/", &["find", "/nope", "-name", "x"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "find: '/nope': No such file or directory\n".into()
            )
        );
        let r = run(&i, "/", &["find", "/tmp", "-bogus"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "find: unknown predicate `-bogus'\n".into()
            )
        );
        let r = run(&i, "/", &["find", "/tmp", "-name"], b"").await;
        assert_eq!(r.2, "find: missing argument to `-name'\n");
        let r = run(&i, "/", &["find", "/tmp", "-type", "z"], b"").await;
        assert_eq!(r.2, "find: Unknown argument to -type: z\n");
        let r = run(&i, "/", &["find", "/tmp", "(", "-name", "x"], b"").await;
        assert_eq!(r.0, 1);
    }

    #[tokio::test]
    async fn links_to_host_paths_lead_nowhere() {
        let i = instance();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("sub")).unwrap();
        std::fs::write(outside.path().join("sub/secret"), "host secret\n").unwrap();
        let out = outside.path().to_str().unwrap();
        put(&i, "/tmp/t/f", b"x\n");
        i.sandbox.fs("/").symlink(out, "/tmp/t/out").unwrap();
        let r = run(&i, "/tmp", &["find", "-L", "t"], b"").await;
        assert_eq!(r.1, "t\nt/f\nt/out\n");
        let r = run(&i, "/tmp", &["find", "-L", "t/out/"], b"").await;
        assert_eq!(r.0, 1);
        assert_eq!(r.1, "");
        let r = run(&i, "/tmp", &["ls", "-R", "t"], b"").await;
        assert_eq!(r.1, "t:\nf\nout\n");
        let r = run(&i, "/tmp", &["ls", "t/out/"], b"").await;
        assert_eq!(r.0, 2);
        let r = run(&i, "/tmp", &["grep", "-R", "secret", "t"], b"").await;
        assert!(!r.1.contains("secret"), "{}", r.1);
        let r = run(&i, "/tmp", &["du", "-ab", "t/out/"], b"").await;
        assert_eq!(r.0, 1);
        let r = run(&i, "/tmp", &["cat", &format!("{out}/sub/secret")], b"").await;
        assert_eq!(r.0, 1);
    }

    #[tokio::test]
    async fn links_are_not_followed_by_default() {
        let i = models();
        run(&i, "/tmp", &["ln", "-s", "/", "root"], b"").await;
        let r = run(&i, "/tmp", &["find", "root", "-name", "hostname"], b"").await;
        assert_eq!(r.1, "");
        let r = run(&i, "/tmp", &["find", "root", "-type", "l"], b"").await;
        assert_eq!(r.1, "root\n");
        let r = run(
            &i,
            "/tmp",
            &["find", "-L", "root/etc", "-name", "hostname"],
            b"",
        )
        .await;
        assert_eq!(r.1, "root/etc/hostname\n");
        let r = run(
            &i,
            "/tmp",
            &["find", "-H", "root", "-maxdepth", "1", "-name", "etc"],
            b"",
        )
        .await;
        assert_eq!(r.1, "root/etc\n");
    }
}
