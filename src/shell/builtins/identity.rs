//! Who and where the machine is: `whoami`, `id`, `hostname`, `uname`.

use async_trait::async_trait;

use super::common::{complain, parse_or_exit, quote, Spec};
use crate::program::{Ctx, Program};

/// The kernel the instance claims to run.
const KERNEL_RELEASE: &str = "5.15.0-105-generic";
const KERNEL_VERSION: &str = "#115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024";

fn user(ctx: &Ctx) -> String {
    ctx.env
        .get("USER")
        .filter(|u| !u.is_empty())
        .cloned()
        .unwrap_or_else(|| "root".into())
}

fn uid_of(user: &str) -> u32 {
    if user == "root" {
        0
    } else {
        1000
    }
}

/// `whoami`: `$USER`, `root` by default.
pub struct Whoami;

#[async_trait]
impl Program for Whoami {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        if let Some(extra) = ctx.args().first() {
            let msg = format!("extra operand {}", quote(ctx, extra));
            complain(ctx, msg).await;
            ctx.err("Try 'whoami --help' for more information.\n").await;
            return 1;
        }
        ctx.out(format!("{}\n", user(ctx))).await;
        0
    }
}

/// `id [-u|-g|-G] [-n]`: root is 0, anyone else 1000.
pub struct Id;

const ID_SPEC: Spec = Spec {
    flags: "ugGnr",
    with_arg: "",
    long: &[
        ("user", 'u', false),
        ("group", 'g', false),
        ("groups", 'G', false),
        ("name", 'n', false),
        ("real", 'r', false),
    ],
};

#[async_trait]
impl Program for Id {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &ID_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let me = user(ctx);
        let name = p.operands.first().cloned().unwrap_or_else(|| me.clone());
        if name != "root" && name != me {
            complain(ctx, format!("{}: no such user", quote(ctx, &name))).await;
            return 1;
        }
        let uid = uid_of(&name);
        let line = if p.has('u') || p.has('g') || p.has('G') {
            if p.has('n') {
                name.clone()
            } else {
                uid.to_string()
            }
        } else {
            format!("uid={uid}({name}) gid={uid}({name}) groups={uid}({name})")
        };
        ctx.out(format!("{line}\n")).await;
        0
    }
}

/// `hostname [-s|-f|-i|-I]`.
pub struct Hostname;

#[async_trait]
impl Program for Hostname {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let host = ctx.instance.config.hostname.clone();
        let line = match ctx.args().first().map(String::as_str) {
            None | Some("-f") | Some("--fqdn") | Some("-A") => host,
            Some("-s") | Some("--short") => host.split('.').next().unwrap_or("").to_string(),
            Some("-i") | Some("--ip-address") | Some("-I") => "172.17.0.2".to_string(),
            Some(a) if a.starts_with('-') => {
                ctx.err(format!(
                    "hostname: invalid option -- '{}'\nUsage: hostname [-b] {{hostname|-F file}}         set host name (from file)\n",
                    a.chars().nth(1).unwrap_or('-')
                ))
                .await;
                return 1;
            }
            Some(_) => {
                ctx.err("hostname: you must be root to change the host name\n")
                    .await;
                return 1;
            }
        };
        ctx.out(format!("{line}\n")).await;
        0
    }
}

/// `uname [-asnrvmpio]`: Linux 5.15 on x86_64.
pub struct Uname;

const UNAME_SPEC: Spec = Spec {
    flags: "asnrvmpio",
    with_arg: "",
    long: &[
        ("all", 'a', false),
        ("kernel-name", 's', false),
        ("nodename", 'n', false),
        ("kernel-release", 'r', false),
        ("kernel-version", 'v', false),
        ("machine", 'm', false),
        ("processor", 'p', false),
        ("hardware-platform", 'i', false),
        ("operating-system", 'o', false),
    ],
};

#[async_trait]
impl Program for Uname {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &UNAME_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        if let Some(extra) = p.operands.first() {
            let msg = format!("extra operand {}", quote(ctx, extra));
            complain(ctx, msg).await;
            ctx.err("Try 'uname --help' for more information.\n").await;
            return 1;
        }
        let all = p.has('a');
        let host = ctx.instance.config.hostname.clone();
        let fields: [(char, &str); 8] = [
            ('s', "Linux"),
            ('n', &host),
            ('r', KERNEL_RELEASE),
            ('v', KERNEL_VERSION),
            ('m', "x86_64"),
            ('p', "x86_64"),
            ('i', "x86_64"),
            ('o', "GNU/Linux"),
        ];
        let any = fields.iter().any(|(c, _)| p.has(*c));
        let parts: Vec<&str> = fields
            .iter()
            .filter(|(c, _)| all || p.has(*c) || (!any && *c == 's'))
            .map(|(_, v)| *v)
            .collect();
        ctx.out(format!("{}\n", parts.join(" "))).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn identity_of_the_machine() {
        let i = instance();
        assert_eq!(
            run(&i, "/", &["whoami"], b"").await,
            (0, "root\n".into(), String::new())
        );
        assert_eq!(
            run(&i, "/", &["id"], b"").await.1,
            "uid=0(root) gid=0(root) groups=0(root)\n"
        );
        assert_eq!(run(&i, "/", &["id", "-u"], b"").await.1, "0\n");
        assert_eq!(run(&i, "/", &["id", "-un"], b"").await.1, "root\n");
        assert_eq!(run(&i, "/", &["hostname"], b"").await.1, "C.4242424\n");
        assert_eq!(run(&i, "/", &["uname"], b"").await.1, "Linux\n");
        assert_eq!(
            run(&i, "/", &["uname", "-r"], b"").await.1,
            "5.15.0-105-generic\n"
        );
        assert_eq!(
            run(&i, "/", &["uname", "-sm"], b"").await.1,
            "Linux x86_64\n"
        );
        assert_eq!(
            run(&i, "/", &["uname", "-a"], b"").await.1,
            "Linux C.4242424 5.15.0-105-generic #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux\n"
        );
        assert_eq!(
            run(&i, "/", &["uname", "-z"], b"").await,
            (
                1,
                String::new(),
                "uname: invalid option -- 'z'\nTry 'uname --help' for more information.\n".into()
            )
        );
    }
}
