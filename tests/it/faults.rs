//! Faults as data, through the real OpenSSH client and russh's, with the
//! in-process fixture; and the journal they leave.

use std::time::{Duration, Instant};

use fakessh::faults::{Fault, FaultRule};
use fakessh::fixture::FakeInstance;
use fakessh::journal::{Ending, EntryKind};

use crate::support::{Ran, CLIENT_TIMEOUT};

/// `ssh [extra] root@127.0.0.1 REMOTE` against a fixture, strict host keys.
async fn ssh(gpu: &FakeInstance, extra: &[&str], remote: &str) -> Ran {
    let mut cmd = tokio::process::Command::new("ssh");
    for (k, _) in std::env::vars().filter(|(k, _)| k == "LANG" || k.starts_with("LC_")) {
        cmd.env_remove(k);
    }
    cmd.args(["-p", &gpu.port().to_string(), "-i"])
        .arg(gpu.client_key_path())
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            gpu.known_hosts_path().display()
        ))
        .args(extra)
        .arg("root@127.0.0.1")
        .arg(remote)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(CLIENT_TIMEOUT, cmd.output())
        .await
        .expect("ssh finished in time")
        .expect("ssh runs");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn times_one_fails_the_first_attempt_and_lets_the_second_succeed() {
    // Arrange
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(
        FaultRule::for_tool("ls")
            .inject(Fault::ExitCode { code: 9 })
            .times(1)
            .expect(1)
            .named("first ls fails"),
    )
    .unwrap();
    // Act
    let first = ssh(&gpu, &[], "ls /workspace").await;
    let second = ssh(&gpu, &[], "ls /workspace").await;
    // Assert
    assert_eq!(first.status, 9);
    assert_eq!(second.status, 0);
    let journal = gpu.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].faults, ["f1"]);
    assert!(journal[1].faults.is_empty());
}

#[tokio::test]
async fn seeded_odds_fail_the_same_runs_for_the_same_seed() {
    async fn pattern(seed: u64) -> Vec<bool> {
        let gpu = FakeInstance::builder().seed(seed).start().await.unwrap();
        gpu.mount(
            FaultRule::for_tool("true")
                .inject(Fault::ExitCode { code: 1 })
                .probability(0.4),
        )
        .unwrap();
        let mut failed = Vec::new();
        for _ in 0..16 {
            failed.push(gpu.exec("true").await.unwrap().status != Some(0));
        }
        failed
    }
    let a = pattern(11).await;
    assert_eq!(a, pattern(11).await);
    assert!(a.iter().any(|f| *f) && a.iter().any(|f| !*f), "{a:?}");
}

#[tokio::test]
async fn disconnect_closes_the_connection_without_exit_status() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::for_tool("echo").inject(Fault::DisconnectAt { percent: 0 }))
        .unwrap();
    let ran = ssh(&gpu, &[], "echo never-printed").await;
    assert_eq!(ran.status, 255, "{ran:?}");
    assert!(ran.stdout.is_empty());
    let ran = gpu.exec("echo never-printed").await.unwrap();
    assert_eq!(ran.status, None);
    let last = gpu.journal().pop().unwrap();
    assert_eq!(last.ended, Ending::Disconnect);
    assert_eq!(last.exit_code, None);
}

#[tokio::test]
async fn host_key_rotation_fails_a_strict_client_and_runs_nothing() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::new(Fault::RotateHostKey)).unwrap();
    let ran = ssh(&gpu, &[], "echo hi").await;
    assert_eq!(ran.status, 255);
    assert!(
        ran.stderr
            .contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{}",
        ran.stderr
    );
    assert!(gpu.journal().is_empty());
}

#[tokio::test]
async fn refused_auth_and_reset_connections_exit_255() {
    let gpu = FakeInstance::start().await.unwrap();
    let refuse = gpu.mount(FaultRule::new(Fault::RefuseAuth)).unwrap();
    let ran = ssh(&gpu, &[], "true").await;
    assert_eq!(ran.status, 255);
    assert!(ran.stderr.contains("Permission denied"), "{}", ran.stderr);
    refuse.remove().unwrap();

    gpu.mount(FaultRule::new(Fault::ResetConnection).times(1))
        .unwrap();
    assert_eq!(ssh(&gpu, &[], "true").await.status, 255);
    assert_eq!(ssh(&gpu, &[], "true").await.status, 0);
}

/// Waits (bounded) until the server holds exactly `n` connections.
async fn wait_for_connections(gpu: &FakeInstance, n: usize) {
    for _ in 0..200 {
        if gpu.open_connections() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "server holds {} connections, expected {n}",
        gpu.open_connections()
    );
}

#[tokio::test]
async fn max_startups_drops_connections_beyond_the_limit() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::new(Fault::MaxStartups { limit: 1 }))
        .unwrap();
    // One client stuck before its banner holds the only slot.
    let stuck = tokio::net::TcpStream::connect(gpu.addr()).await.unwrap();
    wait_for_connections(&gpu, 1).await;
    assert_eq!(ssh(&gpu, &[], "true").await.status, 255);
    drop(stuck);
    wait_for_connections(&gpu, 0).await;
    assert_eq!(ssh(&gpu, &[], "true").await.status, 0);
}

#[tokio::test]
async fn hang_keeps_the_channel_open_with_no_output() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::for_tool("echo").inject(Fault::Hang))
        .unwrap();
    let hung = tokio::time::timeout(Duration::from_millis(500), gpu.exec("echo hi")).await;
    assert!(hung.is_err(), "a hung command must not return");
    // The abandoned client goes away; the journal notes the disconnect.
    for _ in 0..100 {
        if !gpu.journal().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entry = gpu.journal().pop().expect("journaled");
    assert_eq!(entry.ended, Ending::Disconnect);
    assert_eq!(entry.stdout_bytes, 0);
}

#[tokio::test]
async fn a_delayed_session_does_not_slow_the_others() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::for_tool("sleep").inject(Fault::DelayOutput { delay_ms: 1500 }))
        .unwrap();
    let started = Instant::now();
    let slow = gpu.exec("sleep 0; echo late");
    let fast = async {
        let out = gpu.exec("echo quick").await.unwrap();
        (out, started.elapsed())
    };
    let (slow, (fast, fast_done)) = tokio::join!(slow, fast);
    let slow_done = started.elapsed();
    assert_eq!(slow.unwrap().stdout_text(), "late\n");
    assert_eq!(fast.stdout_text(), "quick\n");
    assert!(slow_done >= Duration::from_millis(1500));
    assert!(
        fast_done < slow_done,
        "the quick session waited for the delayed one"
    );
}

#[tokio::test]
async fn the_journal_records_who_ran_what_and_how_it_ended() {
    let gpu = FakeInstance::start().await.unwrap();
    let ran = ssh(&gpu, &[], "echo out; echo err >&2; exit 3").await;
    assert_eq!(ran.status, 3);
    let e = gpu.journal().pop().unwrap();
    assert_eq!(e.command, "echo out; echo err >&2; exit 3");
    assert_eq!(e.user, "root");
    assert_eq!(e.kind, EntryKind::Exec);
    assert_eq!(e.exit_code, Some(3));
    assert_eq!(e.ended, Ending::Exit);
    assert_eq!((e.stdout_bytes, e.stderr_bytes), (4, 4));
    assert!(e
        .key_fingerprint
        .as_deref()
        .is_some_and(|f| f.starts_with("SHA256:")));
    assert!(e
        .client
        .as_deref()
        .is_some_and(|c| c.starts_with("127.0.0.1:")));
    assert_eq!(e.instance, "127_0_0_1");
}

#[tokio::test]
async fn rules_change_while_the_server_runs_and_a_bad_one_changes_nothing() {
    let gpu = FakeInstance::start().await.unwrap();
    let faults = &gpu.instance().faults;
    let exit4 = gpu
        .mount(FaultRule::for_tool("true").inject(Fault::ExitCode { code: 4 }))
        .unwrap();
    assert_eq!(gpu.exec("true").await.unwrap().status, Some(4));
    assert_eq!(exit4.hits(), 1);
    let refused = gpu
        .mount(FaultRule::new(Fault::DropAt { percent: 200 }))
        .unwrap_err();
    assert!(matches!(
        refused,
        fakessh::faults::FaultError::Rule {
            reason: fakessh::faults::RuleError::Percent(200),
            ..
        }
    ));
    assert_eq!(faults.list().len(), 1);
    faults.disarm(exit4.id()).unwrap();
    assert_eq!(exit4.hits(), 0, "gone");
    assert!(faults.list().is_empty());
    assert_eq!(gpu.exec("true").await.unwrap().status, Some(0));
    assert!(faults.disarm("f99").is_err());
}

#[test]
#[should_panic(expected = "first wget fails")]
fn an_unmet_expectation_fails_the_test_on_drop() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let gpu = FakeInstance::start().await.unwrap();
        gpu.mount(
            FaultRule::for_tool("wget")
                .inject(Fault::Http { status: 404 })
                .expect(1)
                .named("first wget fails"),
        )
        .unwrap();
        drop(gpu);
    });
}

#[test]
fn a_bad_fault_file_stops_the_server_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faults.toml");
    std::fs::write(&file, "[[rule]]\naction = { type = \"http\", status = 404 }\n\n[[rule]]\naction = { type = \"explode\" }\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args(["serve", "--listen", "127.0.0.1:0", "--faults"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "must not listen");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5:", file.display())), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args(["serve", "--listen", "127.0.0.1:0", "--fail", "wget:explode"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("valid actions") && err.contains("drop_at"),
        "{err}"
    );
}

#[tokio::test]
async fn tool_faults_give_each_tools_real_error_output() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(
        FaultRule::for_tool("wget")
            .inject(Fault::Http { status: 404 })
            .times(1),
    )
    .unwrap();
    let url = "https://huggingface.co/org/repo/resolve/main/vae.safetensors";
    let cmd = format!(
        r#"export PATH="/venv/main/bin:$PATH" && cd /tmp && wget --progress=bar:force -P "$UI_HOME"/models/vae {url}"#
    );
    let failed = ssh(&gpu, &[], &cmd).await;
    assert_eq!(failed.status, 8, "{failed:?}");
    assert!(
        failed.stderr.contains("ERROR 404: Not Found."),
        "{}",
        failed.stderr
    );
    let again = ssh(&gpu, &[], &cmd).await;
    assert_eq!(again.status, 0, "{again:?}");
    assert!(gpu
        .path("/workspace/ComfyUI/models/vae/vae.safetensors")
        .exists());

    gpu.mount(
        FaultRule::for_tool("civitdl")
            .inject(Fault::Http { status: 404 })
            .times(1),
    )
    .unwrap();
    let civ = ssh(&gpu, &[], r#"civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" "$UI_HOME"/models/Lora --retry-count 1 --pause-time 0"#).await;
    assert_eq!(civ.status, 0, "civitdl exits 0 even when it failed");
    assert!(
        format!("{}{}", civ.stdout, civ.stderr).contains("APIException (API Status Code 404)"),
        "{civ:?}"
    );
}

#[tokio::test]
async fn disconnect_mid_transfer_leaves_a_partial_file_and_ssh_exits_255() {
    let gpu = FakeInstance::start().await.unwrap();
    gpu.mount(FaultRule::for_tool("wget").inject(Fault::DisconnectAt { percent: 50 }))
        .unwrap();
    let ran = ssh(&gpu, &[], "wget -q -O /tmp/m.safetensors https://huggingface.co/o/r/resolve/main/m.safetensors; echo after").await;
    assert_eq!(ran.status, 255, "{ran:?}");
    assert!(!ran.stdout.contains("after"));
    let size = std::fs::metadata(gpu.path("/tmp/m.safetensors"))
        .unwrap()
        .len();
    assert!(size > 0, "a partial file is left");
    let entry = gpu.journal().pop().unwrap();
    assert_eq!(entry.ended, Ending::Disconnect);
}

#[tokio::test]
async fn a_short_stall_is_observable_at_scale_one_and_does_not_slow_other_sessions() {
    // A small file at scale 1: the transfer itself is quick, the stall is not.
    let gpu = FakeInstance::builder()
        .time_scale(1.0)
        .configure(|c| c.tools.bandwidth_bytes_per_s = 100_000_000)
        .start()
        .await
        .unwrap();
    gpu.mount(
        FaultRule::for_tool("wget")
            .inject(Fault::StallAt {
                percent: 50,
                stall_ms: Some(1500),
            })
            .command_matching("stalled"),
    )
    .unwrap();
    let started = Instant::now();
    let stalled = gpu.exec("wget -q -O /tmp/stalled.json https://example.com/stalled.json");
    let other = async {
        let out = gpu
            .exec("wget -q -O /tmp/other.json https://example.com/other.json")
            .await
            .unwrap();
        (out, started.elapsed())
    };
    let (stalled, (other, other_done)) = tokio::join!(stalled, other);
    let stalled_done = started.elapsed();
    assert_eq!(stalled.unwrap().status, Some(0));
    assert_eq!(other.status, Some(0));
    assert!(
        stalled_done >= Duration::from_millis(1500),
        "{stalled_done:?}"
    );
    assert!(
        other_done < stalled_done,
        "the other session waited for the stall"
    );
}

#[tokio::test]
async fn a_scoped_rule_lives_as_long_as_its_guard() {
    let gpu = fakessh::FakeInstance::start().await.unwrap();
    {
        let guard = gpu
            .mount_as_scoped(
                FaultRule::for_tool("true")
                    .inject(Fault::ExitCode { code: 7 })
                    .expect(1),
            )
            .unwrap();
        assert_eq!(gpu.exec("true").await.unwrap().status, Some(7));
        assert_eq!((guard.hits(), guard.matched()), (1, 1));
    }
    assert!(
        gpu.instance().faults.list().is_empty(),
        "dropping the guard removed it"
    );
    assert_eq!(gpu.exec_as("ubuntu", "true").await.unwrap().status, Some(0));
    assert!(
        gpu.ran(r"^tr(ue").is_err(),
        "a bad regex is an error, not a panic"
    );
    assert_eq!(gpu.ran("^true$").unwrap().len(), 2);
}

#[test]
#[should_panic(expected = "expected to fire 2 time(s), fired 0")]
fn a_scoped_rule_checks_its_expectation_when_its_guard_drops() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let gpu = FakeInstance::start().await.unwrap();
        let _guard = gpu
            .mount_as_scoped(
                FaultRule::for_tool("wget")
                    .inject(Fault::Http { status: 404 })
                    .expect(2),
            )
            .unwrap();
    });
}
