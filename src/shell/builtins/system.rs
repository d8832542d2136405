//! Who and where the machine is, and small odds and ends: `whoami`, `id`,
//! `hostname`, `uname`, `pwd`, `env`, `true`, `false`, `sleep`, `date`, `seq`.

use std::time::Duration;

use async_trait::async_trait;

use super::common::{
    civil, complain, now_secs, opt_error, parse_or_exit, quote, Spec, MONTHS, WEEKDAYS,
};
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

/// Waits `d` of instance time. The one place utilities wait: it follows the
/// instance's time scale (0 = no waiting).
pub(crate) async fn pause(ctx: &Ctx, d: Duration) {
    let scale = ctx.instance.config.time_scale;
    if scale > 0.0 && scale.is_finite() {
        tokio::time::sleep(d.mul_f64(scale)).await;
    }
}

fn parse_interval(s: &str) -> Option<f64> {
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1.0),
        'm' => (&s[..s.len() - 1], 60.0),
        'h' => (&s[..s.len() - 1], 3600.0),
        'd' => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return if num.eq_ignore_ascii_case("inf") || num.eq_ignore_ascii_case("infinity") {
            Some(f64::INFINITY)
        } else {
            None
        };
    }
    let v: f64 = num.parse().ok()?;
    Some(v * mult)
}

/// `sleep NUMBER[smhd]...`: waits the sum of the intervals.
pub struct Sleep;

#[async_trait]
impl Program for Sleep {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        if args.is_empty() {
            ctx.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
                .await;
            return 1;
        }
        let mut total = 0.0;
        let mut bad = false;
        for a in &args {
            match parse_interval(a) {
                Some(v) => total += v,
                None => {
                    let msg = format!("invalid time interval {}", quote(ctx, a));
                    complain(ctx, msg).await;
                    bad = true;
                }
            }
        }
        if bad {
            ctx.err("Try 'sleep --help' for more information.\n").await;
            return 1;
        }
        let d = Duration::try_from_secs_f64(total).unwrap_or(Duration::from_secs(u32::MAX as u64));
        pause(ctx, d).await;
        0
    }
}

/// `date [-u] [-d @SECONDS] [+FORMAT]`: the real clock, in UTC.
pub struct Date;

#[async_trait]
impl Program for Date {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let spec = Spec {
            flags: "uR",
            with_arg: "d",
            long: &[
                ("utc", 'u', false),
                ("universal", 'u', false),
                ("date", 'd', true),
                ("rfc-email", 'R', false),
            ],
        };
        let p = match parse_or_exit(ctx, &spec, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let mut secs = now_secs();
        let mut nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        if let Some(d) = p.value('d') {
            match d
                .strip_prefix('@')
                .and_then(|n| n.trim().parse::<i64>().ok())
            {
                Some(n) => {
                    secs = n;
                    nanos = 0;
                }
                None if d == "now" || d.is_empty() => {}
                None => {
                    complain(ctx, format!("invalid date {}", quote(ctx, d))).await;
                    return 1;
                }
            }
        }
        let mut format = if p.has('R') {
            "%a, %d %b %Y %H:%M:%S +0000".to_string()
        } else {
            "%a %b %e %H:%M:%S %Z %Y".to_string()
        };
        for op in &p.operands {
            match op.strip_prefix('+') {
                Some(f) => format = f.to_string(),
                None => {
                    complain(ctx, format!("invalid date {}", quote(ctx, op))).await;
                    return 1;
                }
            }
        }
        ctx.out(format!("{}\n", strftime(&format, secs, nanos)))
            .await;
        0
    }
}

/// Formats a UTC time with the common `strftime` conversions.
pub(crate) fn strftime(format: &str, secs: i64, nanos: u32) -> String {
    let (y, mo, d, h, mi, s, wd) = civil(secs);
    let yday = {
        let (_, _, _, _, _, _, _) = civil(secs);
        let jan1 = days_from_civil(y, 1, 1);
        secs.div_euclid(86_400) - jan1 + 1
    };
    let mut out = String::new();
    let mut it = format.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(k) = it.next() else {
            out.push('%');
            break;
        };
        let piece = match k {
            'Y' => y.to_string(),
            'y' => format!("{:02}", y.rem_euclid(100)),
            'C' => format!("{:02}", y / 100),
            'm' => format!("{mo:02}"),
            'd' => format!("{d:02}"),
            'e' => format!("{d:>2}"),
            'H' => format!("{h:02}"),
            'k' => format!("{h:>2}"),
            'I' => format!("{:02}", (h + 11) % 12 + 1),
            'l' => format!("{:>2}", (h + 11) % 12 + 1),
            'p' => if h < 12 { "AM" } else { "PM" }.into(),
            'P' => if h < 12 { "am" } else { "pm" }.into(),
            'M' => format!("{mi:02}"),
            'S' => format!("{s:02}"),
            's' => secs.to_string(),
            'N' => format!("{nanos:09}"),
            'a' => WEEKDAYS[wd as usize].into(),
            'A' => [
                "Sunday",
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
            ][wd as usize]
                .into(),
            'b' | 'h' => MONTHS[mo as usize - 1].into(),
            'B' => [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ][mo as usize - 1]
                .into(),
            'j' => format!("{yday:03}"),
            'u' => (if wd == 0 { 7 } else { wd }).to_string(),
            'w' => wd.to_string(),
            'Z' => "UTC".into(),
            'z' => "+0000".into(),
            'F' => format!("{y}-{mo:02}-{d:02}"),
            'T' => format!("{h:02}:{mi:02}:{s:02}"),
            'R' => format!("{h:02}:{mi:02}"),
            'D' => format!("{mo:02}/{d:02}/{:02}", y.rem_euclid(100)),
            'c' => format!(
                "{} {} {d:>2} {h:02}:{mi:02}:{s:02} {y}",
                WEEKDAYS[wd as usize],
                MONTHS[mo as usize - 1]
            ),
            'n' => "\n".into(),
            't' => "\t".into(),
            '%' => "%".into(),
            other => format!("%{other}"),
        };
        out.push_str(&piece);
    }
    out
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `seq [-s SEP] [-w] [FIRST [INCREMENT]] LAST`.
pub struct Seq;

#[async_trait]
impl Program for Seq {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        // Negative numbers are operands, not options.
        let mut sep = "\n".to_string();
        let mut equal = false;
        let mut nums = Vec::new();
        let args = ctx.args().to_vec();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let is_num = a.parse::<f64>().is_ok();
            if !is_num && a.starts_with("-s") {
                sep = if a.len() > 2 {
                    a[2..].to_string()
                } else {
                    i += 1;
                    args.get(i).cloned().unwrap_or_default()
                };
            } else if a == "-w" {
                equal = true;
            } else if !is_num && a.starts_with('-') && a.len() > 1 {
                let e = super::common::OptError::Invalid(a.chars().nth(1).unwrap_or('-'));
                return opt_error(ctx, e, 1).await;
            } else {
                nums.push(a.clone());
            }
            i += 1;
        }
        if nums.is_empty() || nums.len() > 3 {
            let msg = if nums.is_empty() {
                "missing operand".to_string()
            } else {
                format!("extra operand {}", quote(ctx, &nums[3]))
            };
            complain(ctx, msg).await;
            ctx.err("Try 'seq --help' for more information.\n").await;
            return 1;
        }
        let mut vals = Vec::new();
        for n in &nums {
            match n.parse::<f64>() {
                Ok(v) if v.is_finite() => vals.push(v),
                _ => {
                    let msg = format!("invalid floating point argument: {}", quote(ctx, n));
                    complain(ctx, msg).await;
                    ctx.err("Try 'seq --help' for more information.\n").await;
                    return 1;
                }
            }
        }
        let (first, step, last) = match vals.as_slice() {
            [l] => (1.0, 1.0, *l),
            [f, l] => (*f, 1.0, *l),
            [f, s, l] => (*f, *s, *l),
            _ => unreachable!("checked above"),
        };
        if step == 0.0 {
            let msg = format!("invalid Zero increment value: {}", quote(ctx, &nums[1]));
            complain(ctx, msg).await;
            ctx.err("Try 'seq --help' for more information.\n").await;
            return 1;
        }
        // Precision comes from FIRST and INCREMENT, as GNU does.
        let operands_for_precision: &[String] = match nums.len() {
            3 => &nums[..2],
            2 => &nums[..1],
            _ => &[],
        };
        let decimals = operands_for_precision
            .iter()
            .map(|n| n.split_once('.').map(|(_, f)| f.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let fmt = |v: f64| format!("{v:.decimals$}");
        let width = if equal {
            fmt(first).len().max(fmt(last).len())
        } else {
            0
        };
        let mut out = String::new();
        let mut k = 0u64;
        loop {
            let v = first + step * k as f64;
            if (step > 0.0 && v > last + 1e-9) || (step < 0.0 && v < last - 1e-9) {
                break;
            }
            if k > 0 {
                out.push_str(&sep);
            }
            let s = fmt(v);
            if equal && s.len() < width {
                let (sign, body) = s.strip_prefix('-').map(|b| ("-", b)).unwrap_or(("", &s));
                out.push_str(&format!("{sign}{}{body}", "0".repeat(width - s.len())));
            } else {
                out.push_str(&s);
            }
            k += 1;
            if out.len() > 64 * 1024 && !ctx.out(std::mem::take(&mut out)).await {
                return 1;
            }
        }
        if k > 0 {
            out.push('\n');
        }
        ctx.out(out).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};
    use super::strftime;

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

    #[tokio::test(start_paused = true)]
    async fn sleep_parses_intervals() {
        let i = instance();
        let start = tokio::time::Instant::now();
        assert_eq!(run(&i, "/", &["sleep", "1.5", "1m"], b"").await.0, 0);
        assert!(start.elapsed() >= std::time::Duration::from_secs(61));
        let r = run(&i, "/", &["sleep", "x"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n"
                    .into()
            )
        );
        assert_eq!(run(&i, "/", &["sleep"], b"").await.0, 1);
    }

    #[tokio::test]
    async fn date_formats() {
        assert_eq!(
            strftime("%a %b %e %H:%M:%S %Z %Y", 1_732_618_380, 0),
            "Tue Nov 26 10:53:00 UTC 2024"
        );
        assert_eq!(
            strftime("%F %T %j %s", 86_400 * 40, 0),
            "1970-02-10 00:00:00 041 3456000"
        );
        let i = instance();
        let r = run(&i, "/", &["date", "+%s"], b"").await;
        assert!(r.1.trim().parse::<i64>().unwrap() > 1_700_000_000);
        let r = run(&i, "/", &["date", "-d", "@0", "+%Y"], b"").await;
        assert_eq!(r.1, "1970\n");
    }

    #[tokio::test]
    async fn seq_counts() {
        let i = instance();
        assert_eq!(run(&i, "/", &["seq", "3"], b"").await.1, "1\n2\n3\n");
        assert_eq!(
            run(&i, "/", &["seq", "2", "2", "7"], b"").await.1,
            "2\n4\n6\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "-s", ",", "3"], b"").await.1,
            "1,2,3\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "-w", "8", "10"], b"").await.1,
            "08\n09\n10\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "0", "0.5", "1"], b"").await.1,
            "0.0\n0.5\n1.0\n"
        );
        assert_eq!(run(&i, "/", &["seq", "3", "1"], b"").await.1, "");
        assert_eq!(
            run(&i, "/", &["seq", "3", "-1", "1"], b"").await.1,
            "3\n2\n1\n"
        );
    }
}
