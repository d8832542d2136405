//! `touch`: creates files, or sets their times to now.

use async_trait::async_trait;

use super::common::{complain, errtext, parse_or_exit, quote, Spec};
use super::operands::missing_operand;
use crate::instance::sandbox::OpenOptions;
use crate::program::{Ctx, Program};

/// `touch [-c] FILE...`: creates files or sets their time to now.
pub struct Touch;

const TOUCH_SPEC: Spec = Spec {
    flags: "acfhm",
    with_arg: "dtr",
    long: &[
        ("no-create", 'c', false),
        ("date", 'd', true),
        ("reference", 'r', true),
    ],
};

#[async_trait]
impl Program for Touch {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &TOUCH_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if p.operands.is_empty() {
            return missing_operand(ctx, None).await;
        }
        let mut code = 0;
        for f in &p.operands {
            let fs = ctx.fs();
            let r = if fs.metadata(f).is_err() {
                if p.has('c') {
                    Ok(())
                } else {
                    let options = OpenOptions::new().write(true).create(true);
                    fs.open(f, options).map(drop)
                }
            } else {
                let now = std::time::SystemTime::now();
                fs.set_times(f, now, now)
            };
            if let Err(e) = r {
                let msg = format!("cannot touch {}: {}", quote(ctx, f), errtext(&e));
                complain(ctx, msg).await;
                code = 1;
            }
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn touch_creates_and_reports() {
        let i = instance();
        assert_eq!(run(&i, "/tmp", &["touch", "t"], b"").await.0, 0);
        assert!(i.sandbox.fs("/").is_file("/tmp/t"));
        assert_eq!(run(&i, "/tmp", &["touch", "t", "/tmp"], b"").await.0, 0);
        let r = run(&i, "/tmp", &["touch", "no/t"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "touch: cannot touch 'no/t': No such file or directory\n".into()
            )
        );
    }
}
