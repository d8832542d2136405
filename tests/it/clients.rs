//! Clients other than OpenSSH: paramiko and russh.

use crate::support::{run_python, russh_exec, TestInstance};

#[tokio::test]
async fn paramiko_exec_and_invoke_shell_work() {
    let gpu = TestInstance::start().await;
    let ran = run_python(
        "paramiko_client.py",
        &[
            gpu.port().to_string(),
            gpu.client_key().display().to_string(),
        ],
    )
    .await;
    assert_eq!(
        ran.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("paramiko ok"));
}

#[tokio::test]
async fn russh_client_sees_status_then_eof_then_close() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    let ran = russh_exec(&ssh, "echo hello; echo bad >&2; exit 3").await;
    assert_eq!(ran.stdout, b"hello\n");
    assert_eq!(ran.stderr, b"bad\n");
    assert_eq!(ran.status, Some(3));
    assert!(ran.saw_eof && ran.saw_close);
}

#[tokio::test]
async fn unknown_channel_types_and_requests_are_refused_without_hanging() {
    let gpu = TestInstance::start().await;
    let ssh = gpu.russh().await;
    // direct-tcpip (ssh -L) is refused at once.
    let fwd = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        ssh.channel_open_direct_tcpip("127.0.0.1", 9, "127.0.0.1", 5555),
    )
    .await
    .expect("answered in time");
    assert!(fwd.is_err());
    // A subsystem other than sftp is refused and the channel closes.
    let mut ch = ssh.channel_open_session().await.unwrap();
    ch.request_subsystem(true, "netconf").await.unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(msg) = ch.wait().await {
            if matches!(msg, russh::ChannelMsg::Close) {
                return true;
            }
        }
        true
    })
    .await
    .expect("closed in time");
    assert!(closed);
    // The connection still serves.
    assert_eq!(russh_exec(&ssh, "echo still").await.stdout, b"still\n");
}
