//! Hostile input: the server logs it, keeps serving, leaks no task, and a
//! fresh client still gets an answer.

use std::time::Duration;

use crate::support::{russh_exec, TestInstance};

#[tokio::test]
async fn a_one_megabyte_command_line_is_handled() {
    // Through a shell's stdin, a 1 MB line is an ordinary command.
    let gpu = TestInstance::start().await;
    let long = "x".repeat(1024 * 1024);
    let script = format!("echo {long} | wc -c\necho after\n");
    let ran = gpu.ssh_with(&["-T"], "", script.as_bytes()).await;
    assert_eq!(ran.stdout, format!("{}\nafter\n", 1024 * 1024 + 1));

    // As an exec request it exceeds SSH's packet limit: the connection may be
    // dropped, but the server keeps serving everyone else.
    let ssh = gpu.russh().await;
    let mut channel = ssh.channel_open_session().await.unwrap();
    let _ = channel.exec(true, format!("echo {long}")).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while channel.wait().await.is_some() {}
    })
    .await;
    assert_eq!(gpu.ssh("echo served").await.stdout, "served\n");
    assert_eq!(gpu.channels_drain().await, 0);
}

#[tokio::test]
async fn binary_bytes_and_unterminated_quotes_get_errors_not_hangs() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    let mut channel = ssh.channel_open_session().await.unwrap();
    channel
        .exec(true, &b"echo \xff\xfe\x00\x01 'open"[..])
        .await
        .unwrap();
    let mut status = None;
    while let Some(msg) = channel.wait().await {
        if let russh::ChannelMsg::ExitStatus { exit_status } = msg {
            status = Some(exit_status);
        }
    }
    assert_eq!(status, Some(2));
    assert_eq!(russh_exec(&ssh, "echo fine").await.stdout, b"fine\n");
}

#[tokio::test]
async fn a_thousand_sessions_on_one_connection_all_answer() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    let runs = (0..1000).map(|i| {
        let ssh = &ssh;
        async move { (i, russh_exec(ssh, &format!("echo {i}")).await) }
    });
    let results = futures::future::join_all(runs).await;
    for (i, ran) in results {
        assert_eq!(ran.stdout, format!("{i}\n").into_bytes());
        assert_eq!(ran.status, Some(0));
    }
    assert_eq!(gpu.channels_drain().await, 0, "channel tasks leaked");
}

#[tokio::test]
async fn clients_that_vanish_mid_command_leak_nothing() {
    let gpu = TestInstance::start().await;
    // OpenSSH killed mid-command.
    let mut child = tokio::process::Command::new("ssh")
        .args(gpu.ssh_args())
        .arg("root@127.0.0.1")
        .arg("sleep 60")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if gpu.server.open_channels() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        gpu.server.open_channels(),
        1,
        "the command should be running"
    );
    child.kill().await.unwrap();
    // russh dropped with a channel still running.
    {
        let ssh = gpu.russh().await;
        let ch = ssh.channel_open_session().await.unwrap();
        ch.exec(true, "sleep 60").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gpu.channels_drain().await, 0, "channel tasks leaked");
    assert_eq!(gpu.ssh("echo alive").await.stdout, "alive\n");
}
