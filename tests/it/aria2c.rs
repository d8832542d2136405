//! aria2c over real SSH (OpenSSH client, no pty): the download, then the
//! files it left, looked at with `ls -l`, `du` and `cat` in the same session.

use std::sync::Arc;

use fakessh::instance::InstanceConfig;
use fakessh::net::catalog::FileEntry;
use fakessh::net::response::FailKind;
use fakessh::net::{Catalog, ToolConfig};
use fakessh::server::AuthPolicy;

use crate::support::TestInstance;

const BIG: &str = "http://files.example/model.safetensors";
const DROPS: &str = "http://files.example/drops.bin";

async fn instance() -> TestInstance {
    let mut c = Catalog::default();
    c.files.insert(
        BIG.into(),
        FileEntry {
            size: Some(48_000_000),
            rate_bytes_per_s: Some(20_000_000.0),
            ..FileEntry::default()
        },
    );
    c.files.insert(
        DROPS.into(),
        FileEntry {
            size: Some(5_000_000),
            rate_bytes_per_s: Some(2_000_000.0),
            fail_at: Some(3_000_000),
            fail: Some(FailKind::Drop),
            ..FileEntry::default()
        },
    );
    let config = InstanceConfig {
        seed: 11,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(c),
            start_time: Some(1_795_686_415),
            jitter: 0.0,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
    std::fs::create_dir_all(gpu.host_path("/workspace")).expect("/workspace");
    gpu
}

#[tokio::test]
async fn aria2c_over_ssh_leaves_the_file_and_no_control_file() {
    // Arrange
    let gpu = instance().await;
    let cmd = format!(
        "cd /workspace && aria2c -x 4 -s 4 -d ComfyUI/models/checkpoints '{BIG}'; echo rc=$?; \
         ls -l ComfyUI/models/checkpoints; du -k ComfyUI/models/checkpoints/model.safetensors; \
         ls ComfyUI/models/checkpoints/model.safetensors.aria2"
    );
    // Act
    let r = gpu.ssh(&cmd).await;
    // Assert
    let out = &r.stdout;
    assert!(
        out.contains("NOTICE\x1b[0m] Downloading 1 item(s)\n"),
        "{out}"
    );
    assert!(out.contains(" CN:4 DL:"), "four connections: {out}");
    assert!(out
        .contains("Download complete: /workspace/ComfyUI/models/checkpoints/model.safetensors\n"));
    assert!(out.contains("|OK  |"));
    assert!(out.contains("\nrc=0\n"), "{out}");
    assert!(
        out.contains(" 48000000 "),
        "ls -l shows the exact size: {out}"
    );
    assert!(
        out.contains("46876\tComfyUI/models/checkpoints/model.safetensors\n"),
        "{out}"
    );
    assert!(
        r.stderr
            .contains("model.safetensors.aria2': No such file or directory"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::metadata(gpu.host_path("/workspace/ComfyUI/models/checkpoints/model.safetensors"))
            .map(|m| m.len())
            .ok(),
        Some(48_000_000)
    );
    // Same seed, same command, same bytes.
    let again = instance().await.ssh(&cmd).await;
    assert_eq!(again.stdout, r.stdout);
}

#[tokio::test]
async fn a_failed_aria2c_leaves_its_preallocated_file_and_control_file() {
    // Arrange: a server that drops every connection at 3 MB.
    let gpu = instance().await;
    let cmd = format!(
        "cd /workspace && printf '%s\\n  out=d.bin\\n' '{DROPS}' > list.txt && cat list.txt && \
         aria2c -m 2 -i list.txt; echo rc=$?; ls -l d.bin d.bin.aria2"
    );
    // Act
    let r = gpu.ssh(&cmd).await;
    // Assert
    let out = &r.stdout;
    assert!(out.starts_with(&format!("{DROPS}\n  out=d.bin\n")), "{out}");
    assert!(
        out.contains("Exception: [DownloadCommand.cc:234] errorCode=1 Got EOF from the server.\n"),
        "{out}"
    );
    assert!(out.contains(" not complete: /workspace/d.bin\n"));
    assert!(out.contains("aria2 will resume download if the transfer is restarted.\n"));
    assert!(out.contains("\nrc=1\n"), "{out}");
    assert!(out.contains(" 5000000 "), "preallocated: {out}");
    assert!(out.contains(" d.bin.aria2\n"), "{out}");
}
