//! What the soak's clients do: the operations, their weights in the mix,
//! and the tally of how they went.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::bail;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What one client loop may do next, with its weight in the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Op {
    Exec,
    Shell,
    Sftp,
    Wget,
    Civitdl,
    Fault,
    Hostile,
    Drop,
    Fresh,
    Cleanup,
}

const MIX: &[(Op, u32)] = &[
    (Op::Exec, 30),
    (Op::Shell, 10),
    (Op::Sftp, 10),
    (Op::Wget, 12),
    (Op::Civitdl, 6),
    (Op::Fault, 8),
    (Op::Hostile, 8),
    (Op::Drop, 6),
    (Op::Fresh, 6),
];

impl Op {
    pub(super) fn name(self) -> &'static str {
        match self {
            Op::Exec => "exec",
            Op::Shell => "shell",
            Op::Sftp => "sftp",
            Op::Wget => "wget",
            Op::Civitdl => "civitdl",
            Op::Fault => "fault",
            Op::Hostile => "hostile",
            Op::Drop => "drop",
            Op::Fresh => "fresh",
            Op::Cleanup => "cleanup",
        }
    }

    /// The mix kept by `--soak-ops` (all of it when empty).
    pub(super) fn mix(names: &[String]) -> anyhow::Result<Vec<(Op, u32)>> {
        for name in names {
            if !MIX.iter().any(|(op, _)| op.name() == name) {
                let valid: Vec<_> = MIX.iter().map(|(op, _)| op.name()).collect();
                bail!("--soak-ops {name:?}: not one of {}", valid.join(", "));
            }
        }
        Ok(MIX
            .iter()
            .copied()
            .filter(|(op, _)| names.is_empty() || names.iter().any(|n| n == op.name()))
            .collect())
    }

    pub(super) fn pick(mix: &[(Op, u32)], rng: &mut ChaCha8Rng) -> Op {
        let total: u32 = mix.iter().map(|(_, w)| w).sum();
        let mut n = rng.gen_range(0..total);
        for &(op, w) in mix {
            if n < w {
                return op;
            }
            n -= w;
        }
        Op::Exec
    }
}

/// Operations done so far, shared by the clients and the sampler.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) ok: AtomicU64,
    pub(super) failed: AtomicU64,
    /// (op, first line of the error) -> count.
    pub(super) reasons: Mutex<BTreeMap<(Op, String), u64>>,
    /// op -> (ok, failed).
    pub(super) per_op: Mutex<BTreeMap<Op, (u64, u64)>>,
}

impl Tally {
    pub(super) fn record(&self, op: Op, result: &anyhow::Result<()>) {
        let mut per_op = self.per_op.lock().unwrap_or_else(|e| e.into_inner());
        let entry = per_op.entry(op).or_default();
        match result {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                entry.0 += 1;
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                entry.1 += 1;
                let mut why = format!("{e:#}");
                why.truncate(120);
                *self
                    .reasons
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry((op, why))
                    .or_default() += 1;
            }
        }
    }
}
