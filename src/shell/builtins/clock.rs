//! Time: `sleep` on the instance's time scale, `date`, and the `strftime`
//! that `date`, `find -printf` and `nvidia-smi` share.

use std::time::Duration;

use async_trait::async_trait;

use super::common::{civil, complain, now_secs, parse_or_exit, quote, Spec, MONTHS, WEEKDAYS};
use crate::program::{Ctx, Program};

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
    let yday = i64::from(chrono::Datelike::ordinal(&super::common::utc(secs)));
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

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};
    use super::strftime;

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
}
