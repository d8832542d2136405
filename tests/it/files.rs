//! The sandboxed file tree: state that persists across connections, and
//! paths that must never reach outside the root.

use crate::support::TestInstance;

#[tokio::test]
async fn files_made_by_one_connection_are_seen_by_the_next() {
    let gpu = TestInstance::start().await;
    let made = gpu
        .ssh(r#"mkdir -p "$UI_HOME"/models/vae/Wan-2.1 && echo weights > "$UI_HOME"/models/vae/Wan-2.1/w.safetensors && ln -s "$UI_HOME"/models/vae /root/vae"#)
        .await;
    assert_eq!(made.status, 0, "{made:?}");
    let seen = gpu
        .ssh(r#"ls /root/vae/Wan-2.1; find $UI_HOME/models/vae -type f; test -d /root/vae/Wan-2.1 && echo dir; cat /root/vae/Wan-2.1/w.safetensors"#)
        .await;
    assert_eq!(
        seen.stdout,
        "w.safetensors\n/workspace/ComfyUI/models/vae/Wan-2.1/w.safetensors\ndir\nweights\n"
    );
}

#[tokio::test]
async fn the_seeded_tree_looks_like_a_comfyui_instance() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh("ls $UI_HOME/models; ls /venv/main/bin; cat /etc/environment")
        .await;
    for dir in [
        "checkpoints",
        "loras",
        "Lora",
        "vae",
        "diffusion_models",
        "text_encoders",
        "upscale_models",
    ] {
        assert!(
            ran.stdout.lines().any(|l| l == dir),
            "missing {dir} in {}",
            ran.stdout
        );
    }
    assert!(ran.stdout.contains("UI_HOME=/workspace/ComfyUI"));
}

#[tokio::test]
async fn dotdot_absolute_paths_and_symlinks_never_leave_the_root() {
    // Arrange: a secret on the host, beside the sandbox root.
    let gpu = TestInstance::start().await;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "host-secret").unwrap();
    let secret = secret.display().to_string();

    // Act: every way out we know.
    let ran = gpu
        .ssh(&format!(
            r#"cat {secret}; cat /../../../../..{secret}; cd ../../../../../../..; pwd; ln -s {secret} /tmp/link; cat /tmp/link; ln -s ../../../../../../../.. /tmp/up; cat /tmp/up{secret}; echo x > /tmp/up/escaped.txt; ls /tmp/up/"#
        ))
        .await;

    // Assert: the secret never shows, and writes land inside the root.
    assert!(!ran.stdout.contains("host-secret"), "{ran:?}");
    assert!(
        ran.stdout.contains("\n/\n") || ran.stdout.starts_with("/\n"),
        "{ran:?}"
    );
    assert!(gpu.host_path("/escaped.txt").exists());
    assert!(
        ran.stdout.contains("workspace"),
        "ls of the clamped root shows the sandbox: {ran:?}"
    );
}

#[tokio::test]
async fn a_symlink_planted_in_the_root_by_hand_is_confined_too() {
    let gpu = TestInstance::start().await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "host-secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), gpu.host_path("/root/planted")).unwrap();
    let ran = gpu.ssh("cat /root/planted/secret.txt").await;
    assert!(!ran.stdout.contains("host-secret"));
    assert_ne!(ran.status, 0);
}
