//! Job control over real SSH: `jobs`, `wait`, and the jobs that outlive
//! their session (`nohup cmd &`, `disown`), as on a real machine.

use std::path::Path;
use std::time::{Duration, Instant};

use fakessh::instance::InstanceConfig;
use fakessh::limits::SessionLimits;
use fakessh::server::AuthPolicy;

use crate::support::TestInstance;

/// Waits (bounded) for a file of the instance to appear.
async fn appears(path: &Path, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nohup_job_outlives_its_session_and_a_plain_one_does_not() {
    let gpu = TestInstance::start().await;
    let started = Instant::now();
    let ran = gpu
        .ssh(
            "nohup sh -c 'sleep 0.5; echo finished > /tmp/nohup-proof' > /tmp/nohup.log 2>&1 & \
             sh -c 'sleep 0.5; echo finished > /tmp/plain-proof' & echo started",
        )
        .await;
    assert_eq!(
        (ran.status, ran.stdout.as_str()),
        (0, "started\n"),
        "{ran:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the exec did not wait"
    );
    assert_eq!(
        gpu.instance.detached.alive(),
        1,
        "the instance adopted the nohup job"
    );

    assert!(appears(&gpu.host_path("/tmp/nohup-proof"), Duration::from_secs(5)).await);
    let proof = std::fs::read_to_string(gpu.host_path("/tmp/nohup-proof")).unwrap();
    assert_eq!(proof, "finished\n");
    // Its output was redirected, so nohup said nothing.
    assert_eq!(
        std::fs::read_to_string(gpu.host_path("/tmp/nohup.log")).unwrap(),
        ""
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !gpu.host_path("/tmp/plain-proof").exists(),
        "the plain job ended with its session"
    );
    assert_eq!(
        gpu.instance.detached.alive(),
        0,
        "the finished job left the instance"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disowned_job_outlives_its_session() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh("sh -c 'sleep 0.3; echo kept > /tmp/disowned' & disown; jobs; disown %3; echo $?")
        .await;
    assert_eq!(
        ran.stdout, "1\n",
        "disown drops the job from the table: {ran:?}"
    );
    assert_eq!(ran.stderr, "bash: disown: %3: no such job\n");
    assert!(appears(&gpu.host_path("/tmp/disowned"), Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_wait_read_as_in_bash() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh(
            "sleep 0.3 & sleep 0.2 & jobs; wait %1; echo waited $?; \
             false & wait %3; echo false $?; wait %7; echo none $?; wait; echo all $?",
        )
        .await;
    assert_eq!(
        ran.stdout,
        "[1]-  Running                 sleep 0.3 &\n\
         [2]+  Running                 sleep 0.2 &\n\
         waited 0\nfalse 1\nnone 127\nall 0\n",
        "{ran:?}"
    );
    assert_eq!(ran.stderr, "bash: wait: %7: no such job\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nohup_on_a_terminal_appends_to_nohup_out_as_coreutils_does() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh_with(
            &["-tt"],
            "cd /tmp && nohup echo hi; nohup echo again; cat nohup.out",
            b"",
        )
        .await;
    assert_eq!(
        ran.stdout,
        "nohup: ignoring input and appending output to 'nohup.out'\r\n\
         nohup: ignoring input and appending output to 'nohup.out'\r\n\
         hi\r\nagain\r\n",
        "{ran:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(gpu.host_path("/tmp/nohup.out"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Without a terminal it only runs the command; its own errors are 125,
    // a command it cannot find 127.
    let ran = gpu
        .ssh("nohup echo plain; nohup; echo $?; nohup cd /; echo $?")
        .await;
    assert_eq!(ran.stdout, "plain\n125\n127\n");
    assert_eq!(
        ran.stderr,
        "nohup: missing operand\nTry 'nohup --help' for more information.\n\
         nohup: failed to run command 'cd': No such file or directory\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_jobs_stay_under_the_instance_cap() {
    let config = InstanceConfig {
        limits: SessionLimits {
            max_detached: 1,
            ..SessionLimits::default()
        },
        ..InstanceConfig::default()
    };
    let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
    let ran = gpu
        .ssh(
            "nohup sh -c 'sleep 0.5; echo a > /tmp/first' > /dev/null & \
             nohup sh -c 'sleep 0.5; echo b > /tmp/second' > /dev/null & echo ok",
        )
        .await;
    assert_eq!(ran.stdout, "ok\n");
    assert_eq!(gpu.instance.detached.alive(), 1);
    assert!(appears(&gpu.host_path("/tmp/first"), Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !gpu.host_path("/tmp/second").exists(),
        "past the cap a job ends with its session"
    );
}
