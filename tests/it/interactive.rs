//! Sessions with a pty: `ssh -tt`, an interactive shell over a real pty
//! (pexpect), and paramiko's invoke_shell.

use crate::support::{run_python, TestInstance};

#[tokio::test]
async fn a_pty_merges_stderr_into_stdout_with_crlf() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh_with(&["-tt"], "echo out; echo err >&2; exit 4", b"")
        .await;
    assert_eq!(ran.stdout, "out\r\nerr\r\n");
    assert_eq!(ran.status, 4);
}

#[tokio::test]
async fn interactive_shell_prompts_edits_interrupts_and_exits() {
    let gpu = TestInstance::start().await;
    let ran = run_python(
        "interactive.py",
        &[
            gpu.port().to_string(),
            gpu.client_key().display().to_string(),
            gpu.known_hosts().display().to_string(),
        ],
    )
    .await;
    assert_eq!(
        ran.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("interactive ok"));
}

#[tokio::test]
async fn bash_sudo_i_and_su_on_a_pty_are_interactive_shells_line_by_line() {
    let gpu = TestInstance::start().await;
    let ran = run_python(
        "exec_shell.py",
        &[
            gpu.port().to_string(),
            gpu.client_key().display().to_string(),
            gpu.known_hosts().display().to_string(),
        ],
    )
    .await;
    assert_eq!(
        ran.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("exec shell ok"));
}

#[tokio::test]
async fn bash_without_a_pty_still_reads_its_script_from_stdin() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh_with(&[], "bash", b"echo one\nexit 6\necho never\n")
        .await;
    assert_eq!(ran.stdout, "one\n");
    assert_eq!(ran.status, 6);
}

#[tokio::test]
async fn a_shell_without_pty_runs_stdin_line_by_line() {
    let gpu = TestInstance::start().await;
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(gpu.ssh_args())
        .arg("-T")
        .arg("root@127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"cd /tmp\nif true; then\n  echo in-if\nfi\npwd\nexit 5\necho never\n")
            .await
            .unwrap();
    }
    let out = tokio::time::timeout(crate::support::CLIENT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in-if\n/tmp\n");
    assert_eq!(out.status.code(), Some(5));
}
