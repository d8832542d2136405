//! The soak's closing table: operations and their rate, each measure idle
//! before, first, last, max and drained, the mix, the commonest failures,
//! what was left in the sandbox, and the verdict's lines.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::bail;

use super::ops::Tally;
use super::sample::{mib, Sample};
use super::verdict::{verdict, Verdict};

/// Prints the summary after the run and returns the verdict (printed
/// line by line; the caller says whether it is flat).
pub(super) fn summary(
    samples: &[Sample],
    before: &Sample,
    after: &Sample,
    clients: usize,
    tally: &Tally,
    left: &[String],
) -> anyhow::Result<Verdict> {
    let Some(first) = samples.first().copied() else {
        bail!("no sample taken: --soak must be at least --soak-sample");
    };
    let last = samples.last().copied().unwrap_or(first);
    let max = |f: fn(&Sample) -> f64| samples.iter().map(f).fold(f64::MIN, f64::max);
    println!();
    println!(
        "soak of {} with {clients} clients: {} operations ({:.0}/s), {} failed",
        humantime::format_duration(Duration::from_secs(last.elapsed.as_secs())),
        last.ok + last.failed,
        (last.ok + last.failed) as f64 / last.elapsed.as_secs_f64().max(1e-9),
        last.failed
    );
    println!(
        "{:<10} {:>12} {:>10} {:>10} {:>10} {:>14}",
        "measure", "idle before", "first", "last", "max", "idle drained"
    );
    type Pick = fn(&Sample) -> f64;
    let measures: [(&str, Pick); 6] = [
        ("RSS MiB", |s| mib(s.rss_kib)),
        ("heap MiB", |s| mib(s.heap_kib)),
        ("open fds", |s| s.fds as f64),
        ("tasks", |s| s.tasks as f64),
        ("files", |s| s.files as f64),
        ("disk KiB", |s| s.disk_kib as f64),
    ];
    for (name, pick) in measures {
        let prec = usize::from(name.ends_with("MiB"));
        println!(
            "{:<10} {:>12.prec$} {:>10.prec$} {:>10.prec$} {:>10.prec$} {:>14.prec$}",
            name,
            pick(before),
            pick(&first),
            pick(&last),
            max(pick),
            pick(after),
        );
    }
    let mix = {
        let per_op = tally.per_op.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::new();
        for (op, (ok, failed)) in per_op.iter() {
            let _ = write!(s, "{} {ok}", op.name());
            if *failed > 0 {
                let _ = write!(s, " ({failed} failed)");
            }
            s.push_str(", ");
        }
        s.trim_end_matches(", ").to_string()
    };
    println!("mix: {mix}");
    {
        let reasons = tally.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let mut top: Vec<_> = reasons.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        for ((op, why), n) in top.into_iter().take(8) {
            println!("  failed {n:>5}x {}: {why}", op.name());
        }
    }
    if !left.is_empty() {
        let shown = left.len().min(12);
        println!(
            "left in the sandbox after the clients removed their directories ({}): {}{}",
            left.len(),
            left[..shown].join(" "),
            if left.len() > shown { " ..." } else { "" }
        );
    }
    let v = verdict(samples, before, after, clients);
    for line in &v.lines {
        println!("  {line}");
    }
    Ok(v)
}
