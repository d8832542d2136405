//! The soak's judgement: the figures of the last third of the run against
//! the first third's, and the idle figures after the load against before.

use super::sample::{mib, Sample};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// How the figures moved, and which of them grew.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    pub(super) lines: Vec<String>,
    pub(super) growing: Vec<String>,
    pub(super) judged: bool,
}

/// Allowed growth of RSS and heap from the first third to the last.
const RSS_GROWTH: f64 = 0.10;
fn fd_slack(clients: usize) -> f64 {
    (16 + 2 * clients) as f64
}
fn task_slack(clients: usize) -> f64 {
    (32 + 8 * clients) as f64
}
/// Tasks and descriptors may differ this much between idle before and after.
pub(super) const IDLE_SLACK: usize = 4;

/// Compares the last third of the samples (after a warm-up sixth) with the
/// first third, and the idle figures after the load with those before it.
pub(super) fn verdict(
    samples: &[Sample],
    before: &Sample,
    after: &Sample,
    clients: usize,
) -> Verdict {
    let mut v = Verdict::default();
    let warm = samples.len().div_ceil(6);
    let judged = &samples[warm.min(samples.len())..];
    if judged.len() >= 3 {
        v.judged = true;
        let third = judged.len() / 3;
        let (first, last) = (&judged[..third], &judged[judged.len() - third..]);
        type Pick = fn(&Sample) -> f64;
        let checks: [(&str, Pick, f64, bool); 4] = [
            ("RSS", |s| mib(s.rss_kib), RSS_GROWTH, true),
            ("heap", |s| mib(s.heap_kib), RSS_GROWTH, true),
            ("fds", |s| s.fds as f64, fd_slack(clients), false),
            ("tasks", |s| s.tasks as f64, task_slack(clients), false),
        ];
        for (name, pick, allowed, relative) in checks {
            if first.iter().all(|s| pick(s) == 0.0) {
                continue; // not measured here
            }
            let a = median(first.iter().map(pick).collect());
            let b = median(last.iter().map(pick).collect());
            let limit = if relative {
                a * (1.0 + allowed)
            } else {
                a + allowed
            };
            let how = if relative {
                format!(
                    "{:+.1}% (allowed {:.0}%)",
                    (b / a - 1.0) * 100.0,
                    allowed * 100.0
                )
            } else {
                format!("{:+.0} (allowed +{allowed:.0})", b - a)
            };
            let line = format!("{name}: first third {a:.1}, last third {b:.1}: {how}");
            if b > limit {
                v.growing.push(line.clone());
            }
            v.lines.push(line);
        }
    } else {
        v.lines.push(format!(
            "only {} samples after warm-up: too few to compare thirds (run longer or sample more often)",
            judged.len()
        ));
    }
    for (name, b, a) in [
        ("tasks", before.tasks, after.tasks),
        ("fds", before.fds, after.fds),
    ] {
        let line = format!("{name} idle: {b} before the load, {a} after it drained");
        if a > b + IDLE_SLACK {
            v.growing.push(line.clone());
        }
        v.lines.push(line);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(rss_mib: u64, fds: usize, tasks: usize) -> Sample {
        Sample {
            rss_kib: rss_mib * 1024,
            heap_kib: rss_mib * 512,
            fds,
            tasks,
            ..Sample::default()
        }
    }

    #[test]
    fn steady_figures_with_spikes_are_flat() {
        let mut samples: Vec<Sample> = (0..30).map(|_| s(40, 50, 100)).collect();
        samples[25].tasks = 600; // a fork bomb caught mid-flight
        let idle = s(10, 12, 3);
        let v = verdict(&samples, &idle, &idle, 8);
        assert!(v.judged && v.growing.is_empty(), "{v:?}");
    }

    #[test]
    fn a_slope_in_memory_or_tasks_is_growing() {
        let samples: Vec<Sample> = (0..30)
            .map(|i| s(40 + i, 50, 100 + 20 * i as usize))
            .collect();
        let idle = s(10, 12, 3);
        let v = verdict(&samples, &idle, &idle, 8);
        assert_eq!(v.growing.len(), 3, "{v:?}");
        assert!(v.growing[0].starts_with("RSS") && v.growing[1].starts_with("heap"));
        assert!(v.growing[2].starts_with("tasks"));
    }

    #[test]
    fn tasks_left_after_the_drain_are_growing() {
        let samples: Vec<Sample> = (0..30).map(|_| s(40, 50, 100)).collect();
        let v = verdict(&samples, &s(10, 12, 3), &s(10, 12, 40), 8);
        assert_eq!(v.growing.len(), 1, "{v:?}");
        assert!(v.growing[0].starts_with("tasks idle"));
    }

    #[test]
    fn a_short_run_is_not_judged() {
        let v = verdict(&[s(1, 1, 1)], &s(1, 1, 1), &s(1, 1, 1), 1);
        assert!(!v.judged && v.growing.is_empty());
    }
}
