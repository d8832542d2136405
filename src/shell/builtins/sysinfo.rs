//! What the machine has and how long it has been up: `nproc` (coreutils),
//! `free` and `uptime` (procps-ng 4.0), from the instance's CPUs and memory.

use async_trait::async_trait;

use super::common::{civil, now_secs};
use crate::instance::Instance;
use crate::program::{Ctx, Program};

/// `nproc [--all] [--ignore=N]`: the instance's CPUs.
pub struct Nproc;

#[async_trait]
impl Program for Nproc {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let mut ignore: u32 = 0;
        let args = ctx.args().to_vec();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let value = match a.as_str() {
                "--all" => continue,
                "--ignore" => match it.next() {
                    Some(v) => v.clone(),
                    None => {
                        return usage_error(ctx, "nproc: option '--ignore' requires an argument\n")
                            .await
                    }
                },
                "--help" => {
                    ctx.out(NPROC_HELP).await;
                    return 0;
                }
                "--version" => {
                    ctx.out("nproc (GNU coreutils) 9.1\n").await;
                    return 0;
                }
                s => match s.strip_prefix("--ignore=") {
                    Some(v) => v.to_string(),
                    None if s.starts_with("--") => {
                        return usage_error(ctx, &format!("nproc: unrecognized option '{s}'\n"))
                            .await
                    }
                    None if s.starts_with('-') && s.len() > 1 => {
                        let c = s.chars().nth(1).unwrap_or('-');
                        return usage_error(ctx, &format!("nproc: invalid option -- '{c}'\n"))
                            .await;
                    }
                    None => {
                        return usage_error(ctx, &format!("nproc: extra operand '{s}'\n")).await
                    }
                },
            };
            match value.parse::<u32>() {
                Ok(n) => ignore = n,
                Err(_) => {
                    ctx.err(format!("nproc: invalid number: '{value}'\n")).await;
                    return 1;
                }
            }
        }
        let cpus = ctx.instance.config.cpus.max(1);
        ctx.out(format!("{}\n", cpus.saturating_sub(ignore).max(1)))
            .await;
        0
    }
}

const NPROC_HELP: &str = "Usage: nproc [OPTION]...
Print the number of processing units available to the current process,
which may be less than the number of online processors

      --all      print the number of installed processors
      --ignore=N  if possible, exclude N processing units
      --help        display this help and exit
      --version     output version information and exit
";

async fn usage_error(ctx: &Ctx, msg: &str) -> i32 {
    ctx.err(format!("{msg}Try 'nproc --help' for more information.\n"))
        .await;
    1
}

/// The instance's memory as `/proc/meminfo` would give it, in KiB: what a
/// machine running ComfyUI and Jupyter at rest shows.
pub(super) struct Meminfo {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub shared: u64,
    pub buffers: u64,
    pub cache: u64,
    pub available: u64,
}

impl Meminfo {
    /// The figures of `instance`.
    pub fn of(instance: &Instance) -> Self {
        let nominal = instance.config.ram_mib.max(1024) * 1024;
        // The kernel keeps about 2% for itself.
        let total = nominal - nominal / 52;
        // Python with ComfyUI loaded, Jupyter, sshd: a few GiB, varying by seed.
        let used = (2_600_000 + instance.config.seed % 200_000).min(total / 2);
        let (shared, buffers) = (17_820, 212_304);
        let cache = (3_120_000).min(total / 4);
        let free = total - used - buffers - cache;
        let available = free + buffers + cache * 17 / 20;
        Meminfo {
            total,
            used,
            free,
            shared,
            buffers,
            cache,
            available,
        }
    }
}

/// How `free` scales figures.
#[derive(Clone, Copy)]
struct Scale {
    /// 1 bytes, 2 K, 3 M, ...
    exponent: u32,
    si: bool,
    human: bool,
}

impl Scale {
    /// procps's `scale_size`: a figure in KiB as the options print it.
    fn show(self, kib: u64) -> String {
        let base: f64 = if self.si { 1000.0 } else { 1024.0 };
        let bytes = kib.saturating_mul(1024);
        if !self.human {
            return match self.exponent {
                1 => bytes.to_string(),
                0 => ((bytes as f64 / base) as u64).to_string(),
                e => ((bytes as f64 / base.powi(e as i32 - 1)) as u64).to_string(),
            };
        }
        let plain = format!("{bytes}B");
        if plain.len() <= 4 {
            return plain;
        }
        let (width, suffix) = if self.si { (4, "") } else { (5, "i") };
        for (i, unit) in ['K', 'M', 'G', 'T', 'P'].into_iter().enumerate() {
            // procps divides in single precision.
            let v = (bytes as f64 / base.powi(i as i32 + 1)) as f32;
            let tenth = format!("{v:.1}{unit}{suffix}");
            if tenth.len() <= width {
                return tenth;
            }
            let whole = format!("{}{unit}{suffix}", v as i64);
            if whole.len() <= width {
                return whole;
            }
        }
        format!("{bytes}B")
    }
}

/// `free [-b|-k|-m|-g|--kilo|--mega|--giga] [-h] [--si] [-t] [-w]`.
pub struct Free;

#[async_trait]
impl Program for Free {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let mut scale = Scale {
            exponent: 0,
            si: false,
            human: false,
        };
        let (mut total, mut wide) = (false, false);
        let args = ctx.args().to_vec();
        fn set(scale: &mut Scale, exponent: u32, si: bool) {
            scale.exponent = exponent;
            scale.si |= si;
        }
        for a in &args {
            match a.as_str() {
                "--bytes" => set(&mut scale, 1, false),
                "--kibi" => set(&mut scale, 2, false),
                "--mebi" => set(&mut scale, 3, false),
                "--gibi" => set(&mut scale, 4, false),
                "--tebi" => set(&mut scale, 5, false),
                "--pebi" => set(&mut scale, 6, false),
                "--kilo" => set(&mut scale, 2, true),
                "--mega" => set(&mut scale, 3, true),
                "--giga" => set(&mut scale, 4, true),
                "--tera" => set(&mut scale, 5, true),
                "--peta" => set(&mut scale, 6, true),
                "--human" => scale.human = true,
                "--si" => scale.si = true,
                "--total" => total = true,
                "--wide" => wide = true,
                "--help" => {
                    ctx.out(FREE_HELP).await;
                    return 0;
                }
                "--version" => {
                    ctx.out("free from procps-ng 4.0.2\n").await;
                    return 0;
                }
                s if s.starts_with("--") => {
                    ctx.err(format!("free: unrecognized option '{s}'\n{FREE_HELP}"))
                        .await;
                    return 1;
                }
                s if s.starts_with('-') && s.len() > 1 => {
                    for c in s.chars().skip(1) {
                        match c {
                            'b' => set(&mut scale, 1, false),
                            'k' => set(&mut scale, 2, false),
                            'm' => set(&mut scale, 3, false),
                            'g' => set(&mut scale, 4, false),
                            'h' => scale.human = true,
                            't' => total = true,
                            'w' => wide = true,
                            'V' => {
                                ctx.out("free from procps-ng 4.0.2\n").await;
                                return 0;
                            }
                            _ => {
                                ctx.err(format!("free: invalid option -- '{c}'\n{FREE_HELP}"))
                                    .await;
                                return 1;
                            }
                        }
                    }
                }
                s => {
                    ctx.err(format!("free: extra operand '{s}'\n{FREE_HELP}"))
                        .await;
                    return 1;
                }
            }
        }
        let m = Meminfo::of(&ctx.instance);
        let s = |kib| scale.show(kib);
        let mut out = String::new();
        if wide {
            out.push_str("               total        used        free      shared     buffers       cache   available\n");
            out.push_str(&row(
                "Mem:",
                &[
                    m.total,
                    m.used,
                    m.free,
                    m.shared,
                    m.buffers,
                    m.cache,
                    m.available,
                ]
                .map(s),
            ));
        } else {
            out.push_str("               total        used        free      shared  buff/cache   available\n");
            out.push_str(&row(
                "Mem:",
                &[
                    m.total,
                    m.used,
                    m.free,
                    m.shared,
                    m.buffers + m.cache,
                    m.available,
                ]
                .map(s),
            ));
        }
        out.push_str(&row("Swap:", &[0, 0, 0].map(s)));
        if total {
            out.push_str(&row("Total:", &[m.total, m.used, m.free].map(s)));
        }
        ctx.out(out).await;
        0
    }
}

/// A `free` row: the label and first figure in 20 columns, then 12 each.
fn row(label: &str, figures: &[String]) -> String {
    let mut line = format!("{label:<8}");
    for (i, f) in figures.iter().enumerate() {
        if i == 0 {
            line.push_str(&format!("{f:>12}"));
        } else {
            line.push_str(&format!(" {f:>11}"));
        }
    }
    line.push('\n');
    line
}

const FREE_HELP: &str = "
Usage:
 free [options]

Options:
 -b, --bytes         show output in bytes
     --kilo          show output in kilobytes
     --mega          show output in megabytes
     --giga          show output in gigabytes
     --tera          show output in terabytes
     --peta          show output in petabytes
 -k, --kibi          show output in kibibytes
 -m, --mebi          show output in mebibytes
 -g, --gibi          show output in gibibytes
     --tebi          show output in tebibytes
     --pebi          show output in pebibytes
 -h, --human         show human-readable output
     --si            use powers of 1000 not 1024
 -l, --lohi          show detailed low and high memory statistics
 -t, --total         show total for RAM + swap
 -v, --committed     show committed memory and commit limit
 -s N, --seconds N   repeat printing every N seconds
 -c N, --count N     repeat printing N times, then exit
 -w, --wide          wide output

     --help     display this help and exit
 -V, --version  output version information and exit

For more details see free(1).
";

/// `uptime [-p] [-s]`: the clock, time since boot, users, load.
pub struct Uptime;

#[async_trait]
impl Program for Uptime {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let now = now_secs();
        let booted = ctx.instance.booted_at;
        let up = (now - booted).max(0);
        let args = ctx.args().to_vec();
        match args.first().map(String::as_str) {
            None => {}
            Some("-p" | "--pretty") => {
                ctx.out(format!("{}\n", pretty(up))).await;
                return 0;
            }
            Some("-s" | "--since") => {
                let (y, mo, d, h, mi, s, _) = civil(booted);
                ctx.out(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}\n"))
                    .await;
                return 0;
            }
            Some("-V" | "--version") => {
                ctx.out("uptime from procps-ng 4.0.2\n").await;
                return 0;
            }
            Some(other) => {
                let c = other.trim_start_matches('-').chars().next().unwrap_or('-');
                let msg = if other.starts_with("--") {
                    format!("uptime: unrecognized option '{other}'\n")
                } else {
                    format!("uptime: invalid option -- '{c}'\n")
                };
                ctx.err(format!("{msg}{UPTIME_HELP}")).await;
                return 1;
            }
        }
        let line = format!(" {}\n", uptime_line(now, booted));
        ctx.out(line).await;
        0
    }
}

/// `04:03:41 up  2:06,  1 user,  load average: ...`: what `uptime` and
/// the first line of `top` say.
pub(super) fn uptime_line(now: i64, booted: i64) -> String {
    let up = (now - booted).max(0);
    let (_, _, _, h, mi, s, _) = civil(now);
    let mut line = format!("{h:02}:{mi:02}:{s:02} up ");
    let (days, hours, mins) = (up / 86_400, up % 86_400 / 3600, up % 3600 / 60);
    if days > 0 {
        line.push_str(&format!("{days} day{}, ", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        line.push_str(&format!("{hours:2}:{mins:02}, "));
    } else {
        line.push_str(&format!("{mins} min, "));
    }
    // This session's login; the load of an instance at rest.
    line.push_str(" 1 user,  load average: 0.08, 0.12, 0.09");
    line
}

/// `up 2 hours, 5 minutes`, as `uptime -p` words it.
fn pretty(up: i64) -> String {
    let parts = [
        (up / (7 * 86_400), "week"),
        (up % (7 * 86_400) / 86_400, "day"),
        (up % 86_400 / 3600, "hour"),
        (up % 3600 / 60, "minute"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "up 0 minutes".into()
    } else {
        format!("up {}", words.join(", "))
    }
}

const UPTIME_HELP: &str = "
Usage:
 uptime [options]

Options:
 -p, --pretty   show uptime in pretty format
 -h, --help     display this help and exit
 -s, --since    system up since
 -V, --version  output version information and exit

For more details see uptime(1).
";

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};
    use super::*;

    #[tokio::test]
    async fn nproc_counts_the_instances_cpus() {
        let i = instance();
        assert_eq!(run(&i, "/", &["nproc"], b"").await.1, "16\n");
        assert_eq!(run(&i, "/", &["nproc", "--ignore=4"], b"").await.1, "12\n");
        assert_eq!(
            run(&i, "/", &["nproc", "--ignore", "99"], b"").await.1,
            "1\n"
        );
        let bad = run(&i, "/", &["nproc", "-x"], b"").await;
        assert_eq!(
            (bad.0, bad.2.as_str()),
            (
                1,
                "nproc: invalid option -- 'x'\nTry 'nproc --help' for more information.\n"
            )
        );
    }

    #[test]
    fn human_figures_scale_as_procps_does() {
        let h = Scale {
            exponent: 0,
            si: false,
            human: true,
        };
        // The figures of a real `free -h` (procps-ng 4.0.2) for these KiB.
        assert_eq!(h.show(24_683_664), "23Gi");
        assert_eq!(h.show(554_300), "541Mi");
        assert_eq!(h.show(9_568), "9.3Mi");
        assert_eq!(h.show(423_576), "413Mi");
        assert_eq!(h.show(0), "0B");
        let m = Scale {
            exponent: 3,
            si: false,
            human: false,
        };
        assert_eq!(m.show(24_683_664), "24105");
    }

    #[tokio::test]
    async fn free_prints_procps_columns() {
        let i = instance();
        let (code, out, _) = run(&i, "/", &["free"], b"").await;
        assert_eq!(code, 0);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "               total        used        free      shared  buff/cache   available"
        );
        assert!(lines[1].starts_with("Mem:        6"), "{out}");
        assert_eq!(lines[1].len(), 20 + 5 * 12);
        assert_eq!(lines[2], "Swap:              0           0           0");
        let m = Meminfo::of(&i);
        assert_eq!(m.total, m.used + m.free + m.buffers + m.cache);
        let h = run(&i, "/", &["free", "-h"], b"").await.1;
        assert!(h.contains("Mem:            62Gi"), "{h}");
        let t = run(&i, "/", &["free", "-mt"], b"").await.1;
        assert!(
            t.lines().nth(3).unwrap().starts_with("Total:         64"),
            "{t}"
        );
        let bad = run(&i, "/", &["free", "-x"], b"").await;
        assert_eq!(bad.0, 1);
        assert!(bad.2.starts_with("free: invalid option -- 'x'\n\nUsage:\n"));
    }

    #[tokio::test]
    async fn uptime_reads_as_procps_prints_it() {
        let i = instance();
        let out = run(&i, "/", &["uptime"], b"").await.1;
        let re = regex::Regex::new(
            r"^ \d\d:\d\d:\d\d up (\d+ days?, )?( ?\d+:\d\d|\d+ min),  1 user,  load average: \d\.\d\d, \d\.\d\d, \d\.\d\d\n$",
        )
        .unwrap();
        assert!(re.is_match(&out), "{out:?}");
        assert_eq!(pretty(2 * 3600 + 5 * 60), "up 2 hours, 5 minutes");
        assert_eq!(pretty(86_400 + 60), "up 1 day, 1 minute");
        let since = run(&i, "/", &["uptime", "-s"], b"").await.1;
        assert_eq!(since.len(), "2026-12-04 01:02:03\n".len());
    }
}
