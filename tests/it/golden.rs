//! Golden tests over real SSH: every civ_* and wget_* capture in
//! `tests/fixtures/captures/` is re-run as the original handler sends it
//! (`export PATH="/venv/main/bin:$PATH" && cd DIR && TOOL 'ARG'...`)
//! through a fakessh instance at time scale 0, with the fixture catalog and
//! the captures' pinned start time, and compared by shape with
//! `fakessh::tools::golden` (stream, `\r`/`\n` segmentation, segment shapes,
//! field widths, exit code).
//!
//! - `.out`/`.err`/`.rc` captures run without a pty through the real
//!   OpenSSH client, which keeps stdout, stderr and the exit status apart.
//! - `.tty` captures run under a pty through the russh client, which asks
//!   for the capture's width and `ONLCR=0` (the captures were made with
//!   `stty -onlcr`); OpenSSH would take the width from its own terminal.
//!
//! Not reproduced: none. The case table (commands, set-up files, catalog
//! patches) is `fakessh::tools::golden::every::cases()`, shared with the
//! in-process golden tests.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use fakessh::instance::InstanceConfig;
use fakessh::net::ToolConfig;
use fakessh::server::AuthPolicy;
use fakessh::tools::golden::cases::{check, Case, Outcome, START};
use fakessh::tools::golden::every::cases;
use futures::StreamExt;
use russh::{ChannelMsg, Pty};

use crate::support::{TestInstance, CLIENT_TIMEOUT};

/// How many captures run at once (each on its own instance).
const PARALLEL: usize = 6;

/// A fresh instance in the state the capture was made in.
async fn instance_for(c: &Case) -> TestInstance {
    let config = InstanceConfig {
        seed: 7,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(c.catalog()),
            start_time: Some(START),
            jitter: 0.0,
            tqdm_full_width: c.tqdm_full_width,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
    c.prepare(&gpu.instance);
    gpu
}

/// `ssh root@127.0.0.1 'REMOTE'` with the real OpenSSH client and no pty;
/// the capture's environment goes as SSH env requests (`SetEnv`).
async fn over_openssh(gpu: &TestInstance, c: &Case) -> Outcome {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(gpu.ssh_args());
    // One SetEnv with every pair: ssh keeps only the first value of an
    // option, so a second `-o SetEnv=` would be dropped.
    let env = c.session_env();
    let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    cmd.arg("-o").arg(format!("SetEnv={}", pairs.join(" ")));
    for (k, v) in env {
        // A SendEnv in the system config would send ours too: make it agree.
        cmd.env(k, v);
    }
    let out = cmd
        .arg("-T")
        .arg("root@127.0.0.1")
        .arg(c.remote_command())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(CLIENT_TIMEOUT, out)
        .await
        .expect("ssh finished in time")
        .expect("ssh runs (is openssh-client installed?)");
    Outcome {
        stdout: out.stdout,
        stderr: out.stderr,
        merged: Vec::new(),
        rc: out.status.code().unwrap_or(-1),
    }
}

/// The command under a `cols` x 50 pty with `ONLCR=0`, through russh:
/// everything the channel sends lands in `merged`.
async fn over_russh_pty(gpu: &TestInstance, c: &Case, cols: u16) -> Outcome {
    let handle = gpu.russh().await;
    let mut channel = handle.channel_open_session().await.expect("channel opens");
    for (k, v) in c.session_env() {
        channel.set_env(false, k, v).await.expect("env sent");
    }
    channel
        .request_pty(true, "xterm", u32::from(cols), 50, 0, 0, &[(Pty::ONLCR, 0)])
        .await
        .expect("pty requested");
    channel
        .exec(true, c.remote_command())
        .await
        .expect("exec sent");
    let mut o = Outcome {
        rc: -1,
        ..Outcome::default()
    };
    let read = async {
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => o.merged.extend_from_slice(&data),
                // Under a pty the server merges stderr into the data stream.
                ChannelMsg::ExtendedData { data, .. } => o.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => o.rc = exit_status as i32,
                ChannelMsg::Close => break,
                _ => {}
            }
        }
    };
    tokio::time::timeout(CLIENT_TIMEOUT, read)
        .await
        .expect("channel closed in time");
    o
}

/// Runs each case on its own instance and returns one report per capture
/// that differs.
async fn failures(all: Vec<Case>) -> Vec<String> {
    futures::stream::iter(all)
        .map(|c| async move {
            let gpu = instance_for(&c).await;
            let result = match c.tty_cols {
                Some(cols) => {
                    let o = over_russh_pty(&gpu, &c, cols).await;
                    if o.stderr.is_empty() {
                        check(&c, &o)
                    } else {
                        Err(format!(
                            "{} bytes on the stderr stream under a pty",
                            o.stderr.len()
                        ))
                    }
                }
                None => check(&c, &over_openssh(&gpu, &c).await),
            };
            result.err().map(|e| format!("{}: {e}", c.name))
        })
        .buffer_unordered(PARALLEL)
        .filter_map(|r| async move { r })
        .collect()
        .await
}

#[tokio::test]
async fn every_capture_without_a_pty_matches_over_openssh() -> anyhow::Result<()> {
    // Arrange
    let all: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.tty_cols.is_none())
        .collect();
    let n = all.len();
    assert!(n >= 40, "only {n} non-tty captures");
    // Act
    let failed = tokio::time::timeout(Duration::from_secs(120), failures(all)).await?;
    // Assert
    assert!(
        failed.is_empty(),
        "{} of {n} captures differ over SSH:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    Ok(())
}

#[tokio::test]
async fn every_tty_capture_matches_over_a_russh_pty() -> anyhow::Result<()> {
    // Arrange
    let all: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.tty_cols.is_some())
        .collect();
    let n = all.len();
    assert!(n >= 10, "only {n} tty captures");
    // Act
    let failed = tokio::time::timeout(Duration::from_secs(120), failures(all)).await?;
    // Assert
    assert!(
        failed.is_empty(),
        "{} of {n} captures differ over SSH:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    Ok(())
}

#[tokio::test]
async fn handler_civitdl_over_ssh_leaves_the_model_file_at_its_real_path() -> anyhow::Result<()> {
    // Arrange
    let c = cases()
        .into_iter()
        .find(|c| c.name == "civ_ok_notty")
        .expect("civ_ok_notty case");
    let gpu = instance_for(&c).await;
    // Act
    let o = tokio::time::timeout(CLIENT_TIMEOUT, over_openssh(&gpu, &c)).await?;
    // Assert
    assert_eq!(o.rc, 0, "{}", String::from_utf8_lossy(&o.stderr));
    let model = gpu.host_path(
        "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors",
    );
    assert_eq!(std::fs::metadata(&model)?.len(), 3_000_000);
    Ok(())
}

#[tokio::test]
async fn a_capture_that_differs_is_reported() -> anyhow::Result<()> {
    // Arrange: wget_dot_ok's command, judged against wget_bar_ok's pty capture.
    let mut c = cases()
        .into_iter()
        .find(|c| c.name == "wget_dot_ok")
        .expect("wget_dot_ok case");
    let gpu = instance_for(&c).await;
    let o = tokio::time::timeout(CLIENT_TIMEOUT, over_openssh(&gpu, &c)).await?;
    // Act
    c.name = "wget_bar_ok";
    c.tty_cols = Some(80);
    let merged = Outcome {
        merged: o.stderr,
        rc: o.rc,
        ..Outcome::default()
    };
    // Assert: dot-mode output is not the bar capture's shape.
    let err = check(&c, &merged).expect_err("dots must not pass for a bar");
    assert!(err.starts_with("tty: shapes differ"), "{err}");
    Ok(())
}
