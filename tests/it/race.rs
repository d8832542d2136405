//! The sandbox under a race: one session swaps a directory for a symlink
//! (to `/`, and to the host path of a directory outside the root) while
//! another reads, writes, renames and removes through it. Nothing outside
//! the root may be read or changed, and the server keeps answering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fakessh::instance::InstanceConfig;
use fakessh::server::AuthPolicy;

use crate::support::{python, Ran, TestInstance};

/// The reading session's iterations over exec (four commands each); the
/// swapping session loops (six commands each) until the reader is done.
const EXEC_ITERATIONS: usize = 20_000;
/// A bound on the swapping session's iterations, should the reader die.
const EXEC_MAX_SWAPS: usize = 60_000;
/// The reading connection's SFTP requests through the swapped directory
/// (one per iteration); the swapping connection loops until it is done.
const SFTP_ITERATIONS: usize = 20_000;
/// A racing run may take this long before the test fails.
const RACE_TIMEOUT: Duration = Duration::from_secs(180);

/// A test-made directory holding the instance's root and, beside it, a
/// planted directory that no session may read or change.
struct Planted {
    tmp: tempfile::TempDir,
    nonce: String,
}

/// What a directory tree holds: per path, its kind, mode and contents.
type Snapshot = BTreeMap<PathBuf, String>;

impl Planted {
    fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("fakessh-race-")
            .tempdir()
            .expect("tempdir");
        let nonce = format!("{:016x}", rand::random::<u64>());
        let planted = Planted { tmp, nonce };
        let out = planted.outside();
        std::fs::create_dir_all(out.join("etc")).unwrap();
        std::fs::create_dir_all(out.join("tmp")).unwrap();
        std::fs::write(out.join("etc/hostname"), planted.secret("host")).unwrap();
        std::fs::write(
            out.join(format!("sentinel-{}", planted.nonce)),
            planted.secret("sentinel"),
        )
        .unwrap();
        std::fs::write(
            out.join(format!("tmp/victim-{}", planted.nonce)),
            planted.secret("victim"),
        )
        .unwrap();
        planted
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// The planted directory, by its absolute host path.
    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }

    /// Text that only the planted files hold.
    fn secret(&self, what: &str) -> String {
        format!("outside-{what}-{}\n", self.nonce)
    }

    async fn instance(&self) -> TestInstance {
        let config = InstanceConfig {
            root: Some(self.root()),
            ..InstanceConfig::default()
        };
        let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
        gpu.instance
            .sandbox
            .fs("/")
            .create_dir_all("/tmp/race")
            .expect("/tmp/race");
        gpu
    }

    /// Every path under the planted directory with its kind, mode and
    /// contents (or link target), not following links.
    fn snapshot(&self) -> Snapshot {
        let mut out = Snapshot::new();
        let mut todo = vec![self.outside()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                use std::os::unix::fs::MetadataExt;
                let what = if meta.is_dir() {
                    todo.push(path.clone());
                    "dir".to_string()
                } else if meta.file_type().is_symlink() {
                    format!("link {:?}", std::fs::read_link(&path).unwrap())
                } else {
                    format!("file {:?}", std::fs::read(&path).unwrap())
                };
                out.insert(path, format!("{:o} {what}", meta.mode()));
            }
        }
        out
    }

    /// Files named with this run's nonce in the host's `/tmp` (where a
    /// write through a link to the host's `/` would land).
    fn host_tmp_leaks(&self) -> Vec<PathBuf> {
        std::fs::read_dir("/tmp")
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains(&self.nonce))
            .collect()
    }

    /// Nothing outside the root changed and no write landed in the host's
    /// `/tmp`.
    fn assert_untouched(&self, before: &Snapshot) {
        let after = self.snapshot();
        assert_eq!(
            &after, before,
            "the planted directory outside the root changed"
        );
        assert_eq!(
            self.host_tmp_leaks(),
            Vec::<PathBuf>::new(),
            "files appeared in the host's /tmp"
        );
    }
}

/// `ssh root@127.0.0.1 REMOTE` with the real OpenSSH client and a long
/// timeout (a racing loop runs for many seconds).
async fn ssh_long(gpu: &TestInstance, remote: &str) -> Ran {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(gpu.ssh_args())
        .arg("root@127.0.0.1")
        .arg(remote)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(RACE_TIMEOUT, cmd.output())
        .await
        .expect("the racing session finished in time")
        .expect("ssh runs");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A new client logs in and runs `echo ok` within a second.
async fn assert_a_new_client_is_answered_within_a_second(gpu: &TestInstance) -> Duration {
    let started = Instant::now();
    let ran = tokio::time::timeout(Duration::from_secs(1), gpu.ssh("echo ok"))
        .await
        .expect("a new client was answered within 1 s after the race");
    assert_eq!(ran.stdout, "ok\n", "{ran:?}");
    started.elapsed()
}

/// The instance's own `/etc/hostname`, the only thing `d/etc/hostname` may
/// ever read.
fn instance_hostname(gpu: &TestInstance) -> String {
    let bytes = gpu
        .instance
        .sandbox
        .fs("/")
        .read("/etc/hostname", 4096)
        .expect("the instance has an /etc/hostname");
    String::from_utf8(bytes).unwrap()
}

fn host_hostname() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .filter(|h| !h.trim().is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swap_race_over_exec_never_leaves_the_root() {
    let planted = Planted::new();
    let before = planted.snapshot();
    let gpu = planted.instance().await;
    let hostname = instance_hostname(&gpu);
    let (n, out) = (&planted.nonce, planted.outside().display().to_string());

    // The swapper turns `d` into a directory, nothing, a link to `/`,
    // nothing, a link to the planted directory's host path, nothing, until
    // the reader is done.
    let swapper = format!(
        "cd /tmp/race; i=0; \
         while [ ! -e done ] && [ $i -lt {EXEC_MAX_SWAPS} ]; do i=$((i+1)); \
           mkdir d; rm -d d; ln -s / d; rm d; ln -s {out} d; rm d; \
         done; echo swaps $i"
    );
    // The reader reads, creates, overwrites and deletes through `d`; all it
    // creates is under d/tmp, so a plain directory `d` stays empty.
    let reader = format!(
        "cd /tmp/race; for i in $(seq 1 {EXEC_ITERATIONS}); do \
           cat d/etc/hostname d/sentinel-{n}; \
           echo x > d/tmp/race_{n}_$i; \
           echo x > d/tmp/victim-{n}; rm -f d/tmp/victim-{n}; \
         done; touch done; echo reader-done"
    );
    let started = Instant::now();
    let (swapped, read) = tokio::join!(ssh_long(&gpu, &swapper), ssh_long(&gpu, &reader));
    let raced = started.elapsed();
    let swaps: usize = swapped
        .stdout
        .strip_prefix("swaps ")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("{swapped:?}"));
    assert!(read.stdout.ends_with("reader-done\n"), "{:?}", read.stderr);

    // Every read returned the instance's own /etc/hostname (through `d` ->
    // `/`): never the host's, never a planted file.
    let lines: Vec<&str> = read.stdout.lines().collect();
    let reads = &lines[..lines.len() - 1];
    for line in reads {
        assert_eq!(
            *line,
            hostname.trim_end(),
            "a read through d returned {line:?}"
        );
    }
    if let Some(host) = host_hostname().filter(|h| h.trim() != hostname.trim()) {
        assert!(
            !read.stdout.contains(host.trim()),
            "read the host's hostname"
        );
    }
    // The race was on: some requests went through `d` -> `/`, others found a
    // plain directory or nothing.
    assert!(!reads.is_empty(), "no read ever went through the link to /");
    assert!(
        read.stderr.contains("No such file"),
        "no request ever failed"
    );
    assert!(swaps > 0, "{swapped:?}");
    let written = std::fs::read_dir(planted.root().join("tmp"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(&format!("race_{n}_"))
        })
        .count();
    assert!(written > 0, "no write ever went through the link to /");
    planted.assert_untouched(&before);
    let answered = assert_a_new_client_is_answered_within_a_second(&gpu).await;
    eprintln!(
        "exec race: {EXEC_ITERATIONS} reader and {swaps} swapper iterations in {raced:?}; \
         {} reads and {written} writes through the link to /; next login in {answered:?}",
        reads.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swap_race_over_sftp_never_leaves_the_root() {
    let planted = Planted::new();
    let before = planted.snapshot();
    let gpu = planted.instance().await;
    let hostname = instance_hostname(&gpu);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/sftp_race.py");
    let started = Instant::now();
    let out = tokio::time::timeout(
        RACE_TIMEOUT,
        tokio::process::Command::new(python())
            .arg(script)
            .arg(gpu.port().to_string())
            .arg(gpu.client_key())
            .arg(planted.outside())
            .arg(SFTP_ITERATIONS.to_string())
            .arg(&planted.nonce)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the SFTP race finished in time")
    .expect("python runs");
    let raced = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON stats");

    assert_eq!(stats["iterations"], SFTP_ITERATIONS, "{stats}");
    assert!(stats["swaps"].as_u64().unwrap() > 0, "{stats}");
    // Only the instance's own /etc/hostname was ever read, through `d` -> `/`.
    let reads = stats["reads"].as_object().unwrap();
    let seen: Vec<&String> = reads.keys().collect();
    assert_eq!(seen, vec![&hostname], "reads returned {reads:?}");
    assert!(stats["ok_writes"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["failed_reads"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["escaped_names"], serde_json::json!([]), "{stats}");
    planted.assert_untouched(&before);
    let answered = assert_a_new_client_is_answered_within_a_second(&gpu).await;
    eprintln!(
        "sftp race: {SFTP_ITERATIONS} reader iterations, {} swap rounds in {raced:?}; \
         next login {answered:?}",
        stats["swaps"]
    );
}
