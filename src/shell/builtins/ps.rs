//! `ps` and `top -b` (procps-ng 4.0): the process table of a rented
//! ComfyUI machine at rest (its init, sshd, Jupyter, ComfyUI's `python
//! main.py`) and this session's shell and the command itself, in `ps`,
//! `ps -e`, `ps aux`, `ps -ef` and `top -bn1` columns.

use async_trait::async_trait;

use super::common::{civil, now_secs};
use super::sysinfo::{uptime_line, Meminfo};
use crate::program::{session_pid, Ctx, Program};

/// One line of the table.
struct Proc {
    pid: u32,
    ppid: u32,
    /// %CPU, as ps prints it.
    cpu: f32,
    vsz_kib: u64,
    rss_kib: u64,
    tty: String,
    stat: &'static str,
    /// Unix seconds it started.
    start: i64,
    /// CPU seconds it used.
    time: u64,
    /// Its full command line; `name` is what `ps -e` shows.
    command: String,
    name: String,
}

/// The machine's processes, then this session's.
fn table(ctx: &Ctx) -> Vec<Proc> {
    let instance = &ctx.instance;
    let booted = instance.booted_at;
    let now = now_secs();
    let up = (now - booted).max(0) as u64;
    let ui = &instance.config.ui_home;
    let proc = |pid, ppid, cpu, vsz_kib, rss_kib, stat, time, command: String, name: &str| Proc {
        pid,
        ppid,
        cpu,
        vsz_kib,
        rss_kib,
        tty: "?".into(),
        stat,
        start: booted + 3,
        time,
        command,
        name: name.into(),
    };
    let mut t = vec![
        proc(1, 0, 0.0, 2_800, 1_536, "Ss", 0, "/bin/sh -c /opt/instance-tools/bin/entrypoint.sh".into(), "sh"),
        proc(7, 1, 0.0, 4_364, 3_328, "S", 0, "/bin/bash /opt/instance-tools/bin/entrypoint.sh".into(), "bash"),
        proc(41, 7, 0.0, 15_432, 9_216, "Ss", 0, "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups".into(), "sshd"),
        proc(58, 7, 0.1, 1_242_776, 151_204, "Sl", up / 900, "/venv/main/bin/python /venv/main/bin/jupyter-lab --allow-root --no-browser --port=8080".into(), "jupyter-lab"),
        proc(
            77,
            7,
            0.6,
            25_170_432,
            2_643_912,
            "Sl",
            up / 160,
            format!("/venv/main/bin/python {ui}/main.py --listen 127.0.0.1 --port 18188 --disable-auto-launch"),
            "python",
        ),
    ];
    let tty = if ctx.stdin.is_tty() { "pts/0" } else { "?" };
    let bash = session_pid(&ctx.env).unwrap_or(1_100);
    let session = |pid, ppid, vsz_kib, rss_kib, stat, command: String, name: &str| Proc {
        pid,
        ppid,
        cpu: 0.0,
        vsz_kib,
        rss_kib,
        tty: tty.into(),
        stat,
        start: now,
        time: 0,
        command,
        name: name.into(),
    };
    t.push(session(
        bash - 2,
        41,
        15_900,
        9_600,
        "Ss",
        format!("sshd: root@{}", if tty == "?" { "notty" } else { tty }),
        "sshd",
    ));
    t.push(session(
        bash,
        bash - 2,
        4_628,
        3_840,
        "Ss",
        if tty == "?" {
            "bash".into()
        } else {
            "-bash".into()
        },
        "bash",
    ));
    t.push(session(
        bash + 7,
        bash,
        7_064,
        1_536,
        "R+",
        ctx.argv.join(" "),
        ctx.argv[0].rsplit('/').next().unwrap_or("ps"),
    ));
    t
}

/// `ps aux`'s START: the time today, the day before that.
fn start_column(start: i64, now: i64) -> String {
    let (_, mo, d, h, mi, _, _) = civil(start);
    if now - start < 86_400 {
        format!("{h:02}:{mi:02}")
    } else {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!("{}{d:02}", MONTHS[(mo as usize).saturating_sub(1) % 12])
    }
}

/// `ps`, `ps -e`/`-A`, `ps -f`/`-ef`, `ps aux`.
pub struct Ps;

#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `ps`: this session only.
    Mine,
    /// `ps -e`: everything, short.
    All,
    /// `ps -ef` (`full` without `-e`: this session).
    Full { all: bool },
    /// `ps aux` (BSD).
    User,
}

fn style(args: &[String]) -> Result<Style, &'static str> {
    let joined: String = args.concat();
    match joined.as_str() {
        "" => Ok(Style::Mine),
        "-e" | "-A" => Ok(Style::All),
        "-ef" | "-fe" | "-e-f" | "-f-e" | "-eF" | "-Af" | "-fA" => Ok(Style::Full { all: true }),
        "-f" => Ok(Style::Full { all: false }),
        "aux" | "-aux" | "axu" | "uax" | "auxww" | "auxw" | "-auxww" => Ok(Style::User),
        s if s.starts_with("--") => Err("error: unknown gnu long option\n"),
        s if s.starts_with('-') => Err("error: unsupported SysV option\n"),
        _ => Err("error: unsupported option (BSD syntax)\n"),
    }
}

const PS_USAGE: &str = "
Usage:
 ps [options]

 Try 'ps --help <simple|list|output|threads|misc|all>'
  or 'ps --help <s|l|o|t|m|a>'
 for additional help text.

For more details see ps(1).
";

#[async_trait]
impl Program for Ps {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let style = match style(ctx.args()) {
            Ok(s) => s,
            Err(msg) => {
                ctx.err(format!("{msg}{PS_USAGE}")).await;
                return 1;
            }
        };
        let now = now_secs();
        let total_kib = Meminfo::of(&ctx.instance).total.max(1);
        let table = table(ctx);
        // This session's shell and `ps` itself, as `ps` without `-e` lists them.
        let session: Vec<&Proc> = table.iter().rev().take(2).rev().collect();
        let rows: Vec<&Proc> = match style {
            Style::Mine | Style::Full { all: false } => session,
            _ => table.iter().collect(),
        };
        let hms = |secs: u64| {
            format!(
                "{:02}:{:02}:{:02}",
                secs / 3600,
                secs % 3600 / 60,
                secs % 60
            )
        };
        let mut out = String::new();
        match style {
            Style::Mine | Style::All => {
                out.push_str("    PID TTY          TIME CMD\n");
                for p in rows {
                    out.push_str(&format!(
                        "{:>7} {:<8} {:>8} {}\n",
                        p.pid,
                        p.tty,
                        hms(p.time),
                        p.name
                    ));
                }
            }
            Style::Full { .. } => {
                out.push_str("UID          PID    PPID  C STIME TTY          TIME CMD\n");
                for p in rows {
                    out.push_str(&format!(
                        "{:<8} {:>7} {:>7} {:>2} {:>5} {:<8} {:>8} {}\n",
                        "root",
                        p.pid,
                        p.ppid,
                        p.cpu as u32,
                        start_column(p.start, now),
                        p.tty,
                        hms(p.time),
                        p.command
                    ));
                }
            }
            Style::User => {
                out.push_str(
                    "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n",
                );
                for p in rows {
                    let mem = p.rss_kib as f64 * 100.0 / total_kib as f64;
                    out.push_str(&format!(
                        "{:<8} {:>7} {:>4.1} {:>4.1} {:>6} {:>5} {:<8} {:<4} {:>5} {:>6} {}\n",
                        "root",
                        p.pid,
                        p.cpu,
                        mem,
                        p.vsz_kib,
                        p.rss_kib,
                        p.tty,
                        p.stat,
                        start_column(p.start, now),
                        format!("{}:{:02}", p.time / 60, p.time % 60),
                        p.command
                    ));
                }
            }
        }
        ctx.out(out).await;
        0
    }
}

/// `top -b [-n N]`: one batch frame (top without a terminal, as scripts
/// and `ssh host top -bn1` run it).
pub struct Top;

/// top's memory columns: KiB while they fit, else MiB or GiB with a decimal.
fn top_mem(kib: u64, width: usize) -> String {
    let plain = kib.to_string();
    if plain.len() <= width {
        return plain;
    }
    let mib = format!("{:.1}m", kib as f64 / 1024.0);
    if mib.len() <= width {
        return mib;
    }
    format!("{:.1}g", kib as f64 / (1024.0 * 1024.0))
}

/// One column of top, cut to `width` with a `+` as top does.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}+")
}

#[async_trait]
impl Program for Top {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let batch = args.iter().any(|a| a.starts_with('-') && a.contains('b'));
        if !batch {
            // Without -b top needs a terminal it can take over.
            ctx.err("top: failed tty get\n").await;
            return 1;
        }
        let now = now_secs();
        let m = Meminfo::of(&ctx.instance);
        let table = table(ctx);
        let mib = |kib: u64| kib as f64 / 1024.0;
        let running = table.iter().filter(|p| p.stat.starts_with('R')).count();
        let mut out = format!("top - {}\n", uptime_line(now, ctx.instance.booted_at));
        out.push_str(&format!(
            "Tasks: {:>3} total, {:>3} running, {:>3} sleeping,   0 stopped,   0 zombie\n",
            table.len(),
            running,
            table.len() - running
        ));
        out.push_str(
            "%Cpu(s):  0.4 us,  0.2 sy,  0.0 ni, 99.4 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st \n",
        );
        out.push_str(&format!(
            "MiB Mem : {:>8.1} total, {:>8.1} free, {:>8.1} used, {:>8.1} buff/cache     \n",
            mib(m.total),
            mib(m.free),
            mib(m.used),
            mib(m.buffers + m.cache)
        ));
        out.push_str(&format!(
            "MiB Swap: {:>8.1} total, {:>8.1} free, {:>8.1} used. {:>8.1} avail Mem \n\n",
            0.0,
            0.0,
            0.0,
            mib(m.available)
        ));
        out.push_str(
            "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
        );
        let mut rows: Vec<&Proc> = table.iter().collect();
        // Busiest first, then by pid, as top sorts by %CPU.
        rows.sort_by(|a, b| b.cpu.total_cmp(&a.cpu).then(a.pid.cmp(&b.pid)));
        for p in rows {
            let mem = p.rss_kib as f64 * 100.0 / m.total.max(1) as f64;
            let shared = p.rss_kib / 3;
            out.push_str(&format!(
                "{:>7} {:<8} {:>3} {:>3} {:>7} {:>6} {:>6} {} {:>5.1} {:>5.1} {:>9} {}\n",
                p.pid,
                "root",
                20,
                0,
                top_mem(p.vsz_kib, 7),
                top_mem(p.rss_kib, 6),
                top_mem(shared, 6),
                p.stat.chars().next().unwrap_or('S'),
                p.cpu,
                mem,
                format!(
                    "{}:{:02}.{:02}",
                    p.time / 60,
                    p.time % 60,
                    (p.pid * 7) % 100
                ),
                cut(&p.name, 8)
            ));
        }
        ctx.out(out).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn ps_aux_shows_comfyui_and_this_session() {
        let i = instance();
        let (code, out, _) = run(&i, "/", &["ps", "aux"], b"").await;
        assert_eq!(code, 0);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
        );
        assert!(
            lines[1].starts_with("root           1  0.0  0.0   2800  1536 ?        Ss   "),
            "{out}"
        );
        assert!(
            out.contains("/workspace/ComfyUI/main.py --listen 127.0.0.1 --port 18188"),
            "{out}"
        );
        assert!(lines.last().unwrap().ends_with(" ps aux"), "{out}");
    }

    #[tokio::test]
    async fn top_in_batch_prints_one_frame() {
        let i = instance();
        let (code, out, _) = run(&i, "/", &["top", "-bn1"], b"").await;
        assert_eq!(code, 0);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("top - ") && lines[0].contains(" up  2:"),
            "{out}"
        );
        assert_eq!(
            lines[1],
            "Tasks:   8 total,   1 running,   7 sleeping,   0 stopped,   0 zombie"
        );
        assert!(lines[3].starts_with("MiB Mem :  64275.7 total, "), "{out}");
        assert_eq!(
            lines[6],
            "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND"
        );
        // ComfyUI is the busiest, its memory in GiB.
        assert!(
            lines[7].starts_with("     77 root      20   0   24.0g   2.5g"),
            "{out}"
        );
        assert!(lines[7].ends_with(" python"), "{out}");
        assert!(
            lines.last().unwrap().ends_with(" top"),
            "the command itself: {out}"
        );
        assert!(lines.iter().all(|l| l.len() <= 80), "{out}");
        assert_eq!(run(&i, "/", &["top"], b"").await.0, 1, "no terminal");
    }

    #[tokio::test]
    async fn ps_ef_and_plain_ps_read_as_procps_prints_them() {
        let i = instance();
        let ef = run(&i, "/", &["ps", "-ef"], b"").await.1;
        assert!(ef.starts_with("UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 "), "{ef}");
        let plain = run(&i, "/", &["ps"], b"").await.1;
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(lines.len(), 3, "{plain}");
        assert_eq!(lines[0], "    PID TTY          TIME CMD");
        assert!(
            lines[1].ends_with(" ?        00:00:00 bash") && lines[2].ends_with(" ps"),
            "{plain}"
        );
        let bad = run(&i, "/", &["ps", "-Q"], b"").await;
        assert_eq!(bad.0, 1);
        assert!(bad
            .2
            .starts_with("error: unsupported SysV option\n\nUsage:\n ps [options]\n"));
    }
}
