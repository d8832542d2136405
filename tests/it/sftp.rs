//! The sftp subsystem with the real OpenSSH `scp` (SFTP mode) and `sftp`.

use std::path::Path;

use crate::support::{Ran, TestInstance, CLIENT_TIMEOUT};

/// `ssh_args()` with `-P` for the port, as scp and sftp want it.
fn client_args(gpu: &TestInstance) -> Vec<String> {
    gpu.ssh_args()
        .into_iter()
        .map(|a| if a == "-p" { "-P".to_string() } else { a })
        .collect()
}

async fn run(program: &str, args: &[String]) -> Ran {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(CLIENT_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{program} timed out"))
        .expect("client runs");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn scp(gpu: &TestInstance, from: &str, to: &str) -> Ran {
    let mut args = client_args(gpu);
    args.extend(["-s".to_string(), from.to_string(), to.to_string()]);
    run("scp", &args).await
}

async fn sftp_batch(gpu: &TestInstance, dir: &Path, batch: &str) -> Ran {
    let file = dir.join("batch");
    std::fs::write(&file, batch).unwrap();
    let mut args = client_args(gpu);
    args.extend([
        "-b".to_string(),
        file.display().to_string(),
        "root@127.0.0.1".to_string(),
    ]);
    run("sftp", &args).await
}

fn weights(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn scp_copies_a_file_up_and_back_down() {
    let gpu = TestInstance::start().await;
    let local = tempfile::tempdir().unwrap();
    let up = local.path().join("x.safetensors");
    let bytes = weights(3 * 1024 * 1024 + 17);
    std::fs::write(&up, &bytes).unwrap();
    let remote = "/workspace/ComfyUI/models/loras/x.safetensors";

    let ran = scp(
        &gpu,
        &up.display().to_string(),
        &format!("root@127.0.0.1:{remote}"),
    )
    .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert_eq!(std::fs::read(gpu.host_path(remote)).unwrap(), bytes);

    let down = local.path().join("back.safetensors");
    let ran = scp(
        &gpu,
        &format!("root@127.0.0.1:{remote}"),
        &down.display().to_string(),
    )
    .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert_eq!(std::fs::read(&down).unwrap(), bytes);

    let seen = gpu.ssh(&format!("ls -l {remote}")).await;
    assert!(seen.stdout.contains("3145745"), "{seen:?}");
    assert_eq!(gpu.channels_drain().await, 0);
    let sessions = gpu
        .instance
        .journal
        .entries()
        .into_iter()
        .filter(|e| e.kind == fakessh::journal::EntryKind::Sftp)
        .count();
    assert_eq!(sessions, 2);
}

#[tokio::test]
async fn sftp_batch_lists_makes_puts_gets_and_removes() {
    let gpu = TestInstance::start().await;
    let local = tempfile::tempdir().unwrap();
    let up = local.path().join("model.bin");
    std::fs::write(&up, b"model weights\n").unwrap();
    let down = local.path().join("got.bin");
    let batch = format!(
        "cd /workspace/ComfyUI/models\n\
         ls\n\
         mkdir newdir\n\
         put {up} newdir/model.bin\n\
         ls -l newdir\n\
         get newdir/model.bin {down}\n\
         symlink newdir/model.bin link.bin\n\
         rename newdir/model.bin newdir/renamed.bin\n\
         ls newdir\n\
         rm newdir/renamed.bin\n\
         rm link.bin\n\
         rmdir newdir\n\
         -get missing.bin {down}.missing\n",
        up = up.display(),
        down = down.display(),
    );
    let ran = sftp_batch(&gpu, local.path(), &batch).await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert!(ran.stdout.contains("loras"), "{ran:?}");
    assert!(ran.stdout.contains("checkpoints"), "{ran:?}");
    assert!(ran.stdout.contains("model.bin"), "{ran:?}");
    assert!(ran.stdout.contains("renamed.bin"), "{ran:?}");
    assert!(ran.stderr.contains("not found"), "{ran:?}");
    assert_eq!(std::fs::read(&down).unwrap(), b"model weights\n");
    assert!(!gpu.host_path("/workspace/ComfyUI/models/newdir").exists());
    assert!(gpu
        .host_path("/workspace/ComfyUI/models/link.bin")
        .symlink_metadata()
        .is_err());
}

#[tokio::test]
async fn sftp_paths_never_leave_the_sandbox() {
    let gpu = TestInstance::start().await;
    let local = tempfile::tempdir().unwrap();
    let up = local.path().join("payload");
    std::fs::write(&up, b"escaped?\n").unwrap();
    let name = format!("escaped-{}", rand::random::<u64>());
    let batch = format!(
        "put {up} /../../../../tmp/{name}\n\
         symlink /../../../../tmp /root/hostlink\n\
         put {up} /root/hostlink/{name}-via-link\n",
        up = up.display(),
    );
    let ran = sftp_batch(&gpu, local.path(), &batch).await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert!(!Path::new("/tmp").join(&name).exists());
    assert!(!Path::new("/tmp").join(format!("{name}-via-link")).exists());
    assert_eq!(
        std::fs::read(gpu.host_path(&format!("/tmp/{name}"))).unwrap(),
        b"escaped?\n"
    );
    assert_eq!(
        std::fs::read(gpu.host_path(&format!("/tmp/{name}-via-link"))).unwrap(),
        b"escaped?\n"
    );
    let seen = gpu.ssh(&format!("cat /tmp/{name}")).await;
    assert_eq!(seen.stdout, "escaped?\n");
}
