//! What the soak measures: one sample of the process's memory, descriptors
//! and tasks, the server's load and the sandbox's size, and its printed row.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fakessh::instance::Instance;
use fakessh::server::RunningServer;

use super::ops::Tally;
use crate::bench::rss_kib;

/// How often the heap is read between two samples (a row shows its floor).
pub(super) const HEAP_EVERY: Duration = Duration::from_millis(200);

/// One row of the curves.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sample {
    pub(super) elapsed: Duration,
    pub(super) ok: u64,
    pub(super) failed: u64,
    pub(super) rss_kib: u64,
    /// Bytes the allocator has handed out and not got back, the lowest
    /// reading since the previous sample (0: unknown).
    pub(super) heap_kib: u64,
    pub(super) fds: usize,
    pub(super) tasks: usize,
    pub(super) conns: usize,
    pub(super) chans: usize,
    pub(super) files: usize,
    pub(super) disk_kib: u64,
}

/// KiB allocated and not freed, from glibc's `mallinfo2` (all arenas).
/// RSS alone hides a slow leak: memory freed after a burst (a 16 MiB word)
/// stays resident and is handed out again, so a leak first eats that
/// before RSS moves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(super) fn heap_kib() -> u64 {
    #[repr(C)]
    struct Mallinfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> Mallinfo2;
    }
    // SAFETY: mallinfo2 takes nothing, only reads the allocator's
    // statistics under its locks, and returns a plain struct (glibc 2.33+).
    let info = unsafe { mallinfo2() };
    ((info.uordblks + info.hblkhd) / 1024) as u64
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn heap_kib() -> u64 {
    0
}

/// This process's open descriptors.
pub(super) fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Paths under `root` (relative to it), symlinks not followed, and the
/// KiB of disk they take (sparse downloads take almost none).
pub(super) fn list_files(root: &Path) -> (BTreeSet<PathBuf>, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut found = BTreeSet::new();
    let mut blocks = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            blocks += entry.metadata().map_or(0, |m| m.blocks());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path.clone());
            }
            found.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    (found, blocks / 2)
}

/// The figures now: the tally's counts, memory, descriptors, tasks, the
/// server's connections and channels, the sandbox's files.
pub(super) async fn sample(
    started: Instant,
    tally: &Tally,
    server: &RunningServer,
    instance: &Instance,
) -> Sample {
    let root = instance.sandbox.root().to_path_buf();
    let (files, disk_kib) = tokio::task::spawn_blocking(move || {
        let (found, kib) = list_files(&root);
        (found.len(), kib)
    })
    .await
    .unwrap_or_default();
    Sample {
        elapsed: started.elapsed(),
        ok: tally.ok.load(Ordering::Relaxed),
        failed: tally.failed.load(Ordering::Relaxed),
        rss_kib: rss_kib(std::process::id()),
        heap_kib: heap_kib(),
        fds: open_fds(),
        tasks: tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        conns: server.open_connections(),
        chans: server.open_channels(),
        files,
        disk_kib,
    }
}

/// KiB as MiB.
pub(super) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The curves' header row.
pub(super) const HEADER: &str =
    "  elapsed        ok   failed   RSS MiB  heap MiB    fds  tasks  conns  chans  files  disk KiB";

/// One sample as a row under [`HEADER`]; `label` replaces the elapsed time.
pub(super) fn row(s: &Sample, label: &str) -> String {
    format!(
        "{:>9} {:>9} {:>8} {:>9.1} {:>9.1} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9}",
        if label.is_empty() {
            format!("{}s", s.elapsed.as_secs())
        } else {
            label.to_string()
        },
        s.ok,
        s.failed,
        mib(s.rss_kib),
        mib(s.heap_kib),
        s.fds,
        s.tasks,
        s.conns,
        s.chans,
        s.files,
        s.disk_kib
    )
}
