//! A hostile client fails its own session, never the server: deep input,
//! fork bombs, busy loops, runaway memory and writers, connection floods.
//! After each, a new client is served within a second and the process's
//! CPU use falls back to idle within a second of the client leaving.

use std::time::{Duration, Instant};

use fakessh::instance::InstanceConfig;
use fakessh::limits::{ConnectionLimits, SessionLimits};
use fakessh::server::AuthPolicy;
use tokio::io::AsyncReadExt;

use crate::support::{russh_exec, TestInstance};

/// A new client logs in and runs a command within a second.
async fn serves_a_new_client_within_a_second(gpu: &TestInstance) {
    let started = Instant::now();
    let ran = tokio::time::timeout(Duration::from_secs(1), async {
        let ssh = gpu.russh().await;
        russh_exec(&ssh, "echo ok").await
    })
    .await
    .expect("a new client was served within 1 s");
    assert_eq!(ran.stdout, b"ok\n");
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// CPU seconds this process has used (user + system).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports in USER_HZ, 100 on every architecture fakessh targets.
    Duration::from_millis(ticks * 10)
}

/// Within a second, the process uses less than a fifth of a core.
async fn cpu_returns_to_idle_within_a_second() {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let before = cpu_time();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let used = cpu_time().saturating_sub(before);
        if used < Duration::from_millis(50) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still busy a second after the client left: {used:?} of CPU in 250 ms"
        );
    }
}

fn limited(session: SessionLimits) -> InstanceConfig {
    InstanceConfig {
        limits: session,
        ..InstanceConfig::default()
    }
}

/// Starts `ssh REMOTE` with the real OpenSSH client and leaves it running.
fn spawn_ssh(gpu: &TestInstance, remote: &str) -> tokio::process::Child {
    tokio::process::Command::new("ssh")
        .args(gpu.ssh_args())
        .arg("root@127.0.0.1")
        .arg(remote)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_input_fails_its_session_and_the_server_serves_on() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    let cases = [
        format!("{}echo a;{}", "{ ".repeat(400), " }".repeat(400)),
        format!("echo {}a{}", "$(echo ".repeat(2000), ")".repeat(2000)),
        format!("echo {}1{}", "$((".repeat(2000), "))".repeat(2000)),
        format!("echo {}a{}", "\"$(echo ".repeat(2000), ")\"".repeat(2000)),
        format!("{}echo a{}", "(".repeat(5000), ")".repeat(5000)),
        format!("echo {}x{}", "${a:-".repeat(2000), "}".repeat(2000)),
        format!(
            "{}echo a;{}",
            "if true; then ".repeat(1000),
            " fi;".repeat(1000)
        ),
    ];
    for script in &cases {
        let ran = russh_exec(&ssh, script).await;
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert_eq!(ran.status, Some(2), "{stderr}");
        assert!(
            stderr.contains("maximum nesting level exceeded (128)")
                || stderr.contains("maximum nesting level exceeded (20)"),
            "{stderr}"
        );
    }
    // Arithmetic nesting inside one expansion, below the script limit.
    let ran = russh_exec(&ssh, &format!("echo $(({}1))", "-".repeat(5000))).await;
    assert_eq!(ran.status, Some(1));
    assert!(String::from_utf8_lossy(&ran.stderr).contains("expression recursion level exceeded"));
    // A parser bug (brush-parser panics on an fd past i32) is an error.
    let ran = russh_exec(&ssh, "echo 2147483648>&1; echo after").await;
    assert!(ran.status.is_some(), "the session got an exit status");
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printf_with_huge_fields_refuses_them_and_the_server_serves_on() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    for (script, status) in [
        ("printf '%*d' 9223372036854775807 1", 1),
        ("printf '%.*d' 9223372036854775807 1", 1),
        ("printf '%*d' -9223372036854775808 1", 1),
        // bash: the C library refuses the conversion, silently.
        ("printf '%0999999999999d' 1", 0),
    ] {
        let ran = tokio::time::timeout(Duration::from_secs(10), russh_exec(&ssh, script))
            .await
            .expect("printf ended");
        assert_eq!(ran.status, Some(status), "{script}");
        assert!(ran.stdout.is_empty(), "{script}");
        if status == 1 {
            assert!(
                String::from_utf8_lossy(&ran.stderr).contains("Numerical result out of range"),
                "{script}"
            );
        }
    }
    let ran = russh_exec(&ssh, "printf '%.65536f' 1").await;
    assert_eq!(ran.status, Some(0));
    assert_eq!(ran.stdout.len(), 65_538);
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_bomb_is_held_to_the_process_limit_and_ends_with_its_client() {
    let gpu = TestInstance::start_with(
        limited(SessionLimits {
            max_processes: 64,
            ..SessionLimits::default()
        }),
        AuthPolicy::default(),
    )
    .await;
    let baseline = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let mut bomb = spawn_ssh(&gpu, "f(){ f | f & }; f; sleep 30");
    tokio::time::sleep(Duration::from_millis(500)).await;
    serves_a_new_client_within_a_second(&gpu).await;
    bomb.kill().await.unwrap();
    assert_eq!(gpu.channels_drain().await, 0, "the bomb's channel ended");
    cpu_returns_to_idle_within_a_second().await;
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert!(
        alive <= baseline + 2,
        "the bomb's jobs outlived their session: {alive} tasks, {baseline} before"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_failures_read_as_bash_prints_them() {
    let gpu = TestInstance::start_with(
        limited(SessionLimits {
            max_processes: 2,
            ..SessionLimits::default()
        }),
        AuthPolicy::default(),
    )
    .await;
    let ran = gpu.ssh("sleep 5 & sleep 5 & sleep 5 & echo done").await;
    assert!(
        ran.stderr
            .contains("bash: fork: retry: Resource temporarily unavailable\n"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stdout, "done\n");
    // The session's jobs ended with it: the exec did not wait 5 s for them.
    assert_eq!(gpu.channels_drain().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_loops_yield_to_other_clients_and_end_with_theirs() {
    let gpu = TestInstance::start().await;
    let mut background = spawn_ssh(&gpu, "while :; do :; done & sleep 30");
    let mut foreground = spawn_ssh(&gpu, "while :; do :; done");
    tokio::time::sleep(Duration::from_millis(500)).await;
    serves_a_new_client_within_a_second(&gpu).await;
    background.kill().await.unwrap();
    foreground.kill().await.unwrap();
    assert_eq!(gpu.channels_drain().await, 0);
    cpu_returns_to_idle_within_a_second().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_words_and_captures_end_the_shell_as_bash_runs_out_of_memory() {
    let gpu = TestInstance::start_with(
        limited(SessionLimits {
            max_word_bytes: 1 << 20,
            max_capture_bytes: 1 << 20,
            max_session_bytes: 16 << 20,
            ..SessionLimits::default()
        }),
        AuthPolicy::default(),
    )
    .await;
    let ran = gpu.ssh("x=a; while :; do x=$x$x; done; echo never").await;
    assert_eq!(ran.status, 2);
    assert!(
        ran.stderr.contains("bash: xrealloc: cannot allocate"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stdout, "");
    let ran = gpu.ssh("y=$(seq 1 100000000); echo never").await;
    assert_eq!(ran.status, 2);
    assert!(ran
        .stderr
        .contains("bash: xrealloc: cannot allocate 1048577 bytes"));
    // Many values, each within the word limit, fill the session's memory.
    let ran = gpu
        .ssh("x=$(seq 1 100000); for i in $(seq 1 1000); do export v$i=\"$x\"; done; echo never")
        .await;
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("bash: xrealloc: cannot allocate"));
    assert_eq!(ran.stdout, "");
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_stops_when_its_client_leaves() {
    let gpu = TestInstance::start().await;
    let mut writer = spawn_ssh(&gpu, "seq 1 10000000000 > /tmp/big");
    let big = gpu.host_path("/tmp/big");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0) < 100_000 {
        assert!(Instant::now() < deadline, "the writer never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    writer.kill().await.unwrap();
    assert_eq!(gpu.channels_drain().await, 0);
    // A write already on its way may still land; then nothing more.
    let size_now = || std::fs::metadata(&big).unwrap().len();
    let mut size = size_now();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if size_now() == size {
            break;
        }
        size = size_now();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        std::fs::metadata(&big).unwrap().len(),
        size,
        "the file still grows after its client left"
    );
    cpu_returns_to_idle_within_a_second().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_quota_stops_real_writes_but_not_sparse_downloads() {
    let gpu = TestInstance::start_with(
        InstanceConfig {
            time_scale: 0.0,
            limits: SessionLimits {
                max_disk_bytes: 1 << 20,
                ..SessionLimits::default()
            },
            ..InstanceConfig::default()
        },
        AuthPolicy::default(),
    )
    .await;
    let ran = gpu.ssh("seq 1 10000000000 > /tmp/big").await;
    assert_eq!(ran.status, 1);
    assert_eq!(ran.stderr, "seq: write error: No space left on device\n");
    let written = std::fs::metadata(gpu.host_path("/tmp/big")).unwrap().len();
    assert!(written <= 1 << 20, "{written} bytes on the host disk");
    // Removing the file gives its space back.
    let ran = gpu
        .ssh("rm /tmp/big && seq 1 1000 > /tmp/small && tail -1 /tmp/small")
        .await;
    assert_eq!(ran.stdout, "1000\n", "{}", ran.stderr);
    // A 300 MB model is sparse: it costs the host nothing.
    let ran = gpu
        .ssh("wget -q -P /tmp https://huggingface.co/Comfy-Org/x/resolve/main/vae.safetensors && du -b /tmp/vae.safetensors")
        .await;
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let host = std::fs::metadata(gpu.host_path("/tmp/vae.safetensors")).unwrap();
    assert!(host.len() > 1 << 20);
    use std::os::unix::fs::MetadataExt;
    assert!(host.blocks() * 512 < 1 << 20, "a download took real disk");
    assert!(gpu.instance.sandbox.disk().used() <= gpu.instance.sandbox.disk().limit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_never_lock_out_a_real_client() {
    let gpu = TestInstance::start_limited(
        InstanceConfig::default(),
        AuthPolicy::default(),
        ConnectionLimits {
            max_unauthenticated: 8,
            login_grace: Duration::from_secs(2),
            ..ConnectionLimits::default()
        },
    )
    .await;
    // 200 connections that never say a word.
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(
            tokio::net::TcpStream::connect(gpu.server.local_addr())
                .await
                .unwrap(),
        );
    }
    serves_a_new_client_within_a_second(&gpu).await;
    // Every silent one is closed: evicted by newer ones, or at the grace time.
    let closed_by = Instant::now() + Duration::from_secs(4);
    for mut socket in silent {
        let mut buf = [0u8; 256];
        loop {
            let left = closed_by.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, socket.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => continue, // the banner
                Err(_) => panic!("a silent connection outlived the login grace time"),
            }
        }
    }
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_are_closed_at_once() {
    let gpu = TestInstance::start_limited(
        InstanceConfig::default(),
        AuthPolicy::default(),
        ConnectionLimits {
            max_connections: 16,
            ..ConnectionLimits::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(
            tokio::net::TcpStream::connect(gpu.server.local_addr())
                .await
                .unwrap(),
        );
    }
    for _ in 0..5 {
        while gpu.server.open_connections() < 16 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut extra = tokio::net::TcpStream::connect(gpu.server.local_addr())
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(2), extra.read(&mut buf))
            .await
            .expect("closed at once")
            .unwrap_or(0);
        assert_eq!(n, 0, "no banner past the limit");
    }
    drop(held);
    for _ in 0..200 {
        if gpu.server.open_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_timeout_drops_silent_logged_in_clients() {
    let gpu = TestInstance::start_limited(
        InstanceConfig::default(),
        AuthPolicy::default(),
        ConnectionLimits {
            idle_timeout: Some(Duration::from_millis(500)),
            ..ConnectionLimits::default()
        },
    )
    .await;
    let ssh = gpu.russh().await;
    assert_eq!(russh_exec(&ssh, "echo ok").await.stdout, b"ok\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ssh.is_closed() {
        assert!(Instant::now() < deadline, "an idle client was kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    serves_a_new_client_within_a_second(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_output_to_nowhere_ends_with_its_client() {
    let gpu = TestInstance::start().await;
    let mut endless = spawn_ssh(&gpu, "seq 1 10000000000 > /dev/null");
    let mut captured = spawn_ssh(&gpu, "x=$(seq 1 10000000000 | head -c 1)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    serves_a_new_client_within_a_second(&gpu).await;
    endless.kill().await.unwrap();
    captured.kill().await.unwrap();
    assert_eq!(gpu.channels_drain().await, 0);
    cpu_returns_to_idle_within_a_second().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_loop_left_behind_by_nohup_runs_at_a_sliver_of_a_core() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh("nohup sh -c 'while :; do :; done' > /dev/null 2>&1 & echo left")
        .await;
    assert_eq!(ran.stdout, "left\n");
    assert_eq!(gpu.instance.detached.alive(), 1, "it outlived its session");
    assert_eq!(gpu.channels_drain().await, 0);
    cpu_returns_to_idle_within_a_second().await;
    serves_a_new_client_within_a_second(&gpu).await;
    assert_eq!(gpu.instance.detached.alive(), 1, "and still runs");
    // The server's shutdown ends it.
    let TestInstance {
        server, instance, ..
    } = gpu;
    server.shutdown().await;
    assert_eq!(instance.detached.alive(), 0);
    cpu_returns_to_idle_within_a_second().await;
}
