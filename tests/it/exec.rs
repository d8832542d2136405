//! `ssh host CMD` with the real OpenSSH client: statuses, streams, quoting,
//! the environment, and the original app's own commands.

use crate::support::TestInstance;
use fakessh::instance::InstanceConfig;
use fakessh::server::AuthPolicy;

#[tokio::test]
async fn exit_codes_pass_through_as_ssh_status() {
    let gpu = TestInstance::start().await;
    assert_eq!(gpu.ssh("true").await.status, 0);
    assert_eq!(gpu.ssh("false").await.status, 1);
    let missing = gpu.ssh("civitdlx --version").await;
    assert_eq!(missing.status, 127);
    assert_eq!(missing.stderr, "bash: civitdlx: command not found\n");
    assert_eq!(gpu.ssh("exit 42").await.status, 42);
}

#[tokio::test]
async fn stdout_and_stderr_stay_separate_without_a_pty() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh("echo to-out; echo to-err >&2; ls /nonexistent")
        .await;
    assert_eq!(ran.stdout, "to-out\n");
    assert_eq!(
        ran.stderr,
        "to-err\nls: cannot access '/nonexistent': No such file or directory\n"
    );
    assert_eq!(ran.status, 2);
}

#[tokio::test]
async fn quoting_and_expansion_follow_bash() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh(r#"x='a  b'; echo "$x" $x 'lit $x' \$x "${missing:-dflt}" ${#x} "$(echo sub)" $((2+3*4))"#)
        .await;
    assert_eq!(ran.stdout, "a  b a b lit $x $x dflt 4 sub 14\n");
    assert_eq!(ran.status, 0);
}

#[tokio::test]
async fn ui_home_expands_in_a_plain_exec() {
    let gpu = TestInstance::start().await;
    let ran = gpu.ssh("echo $UI_HOME").await;
    assert_eq!(ran.stdout, "/workspace/ComfyUI\n");
}

#[tokio::test]
async fn original_handler_command_form_runs_under_strict_host_key_checking() {
    // Arrange: ssh_args() already holds StrictHostKeyChecking=yes and a known_hosts file.
    let gpu = TestInstance::start().await;
    // Act
    let ran = gpu
        .ssh(r#"export PATH="/venv/main/bin:$PATH" && cd /tmp && pwd && echo "$PATH" && which civitdl wget || echo missing"#)
        .await;
    // Assert
    assert_eq!(ran.status, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines[0], "/tmp");
    assert!(
        lines[1].starts_with("/venv/main/bin:/venv/main/bin:"),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn client_environment_reaches_commands() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh_with(
            &["-o", "SetEnv=HF_TOKEN=hf_abc LANG=C.UTF-8"],
            "echo $HF_TOKEN $LANG",
            b"",
        )
        .await;
    assert_eq!(ran.stdout, "hf_abc C.UTF-8\n");
}

#[tokio::test]
async fn stdin_reaches_the_command() {
    let gpu = TestInstance::start().await;
    let ran = gpu.ssh_with(&[], "cat | wc -l", b"one\ntwo\nthree\n").await;
    assert_eq!(ran.stdout.trim(), "3");
}

#[tokio::test]
async fn syntax_errors_read_like_bash_and_exit_2() {
    let gpu = TestInstance::start().await;
    let ran = gpu.ssh("echo \"unterminated").await;
    assert_eq!(ran.status, 2);
    assert!(
        ran.stderr
            .starts_with("bash: -c: line 1: unexpected EOF while looking for matching `\"'\n"),
        "{}",
        ran.stderr
    );
    let ran = gpu.ssh("echo a ;; echo b").await;
    assert_eq!(ran.status, 2);
    assert_eq!(
        ran.stderr,
        "bash: -c: line 1: syntax error near unexpected token `;;'\nbash: -c: line 1: `echo a ;; echo b'\n"
    );
}

#[tokio::test]
async fn the_original_apps_probe_commands_answer_sensibly() {
    let gpu = TestInstance::start().await;
    let ran = gpu
        .ssh(r#"echo "SSH connection successful" && whoami && pwd"#)
        .await;
    assert_eq!(ran.stdout, "SSH connection successful\nroot\n/root\n");

    let ran = gpu
        .ssh(r#"source /etc/environment 2>/dev/null || true; echo "${UI_HOME:-Not set}""#)
        .await;
    assert_eq!(ran.stdout, "/workspace/ComfyUI\n");

    let ran = gpu
        .ssh(r#"echo "UI_HOME=/workspace/Other" | sudo tee -a /etc/environment"#)
        .await;
    assert_eq!(ran.stdout, "UI_HOME=/workspace/Other\n");
    let env_file = std::fs::read_to_string(gpu.host_path("/etc/environment")).unwrap();
    assert!(
        env_file.ends_with("UI_HOME=/workspace/Other\n"),
        "{env_file}"
    );

    let ran = gpu
        .ssh(r#"test -e "$UI_HOME"/models/Lora && echo "exists" || echo "not_found"; test -e /nope && echo "exists" || echo "not_found""#)
        .await;
    assert_eq!(ran.stdout, "exists\nnot_found\n");
}

#[tokio::test]
async fn find_printf_lists_models_as_the_original_parses_them() {
    let gpu = TestInstance::start().await;
    let lora = gpu.host_path("/workspace/ComfyUI/models/Lora");
    std::fs::create_dir_all(lora.join("sub")).unwrap();
    std::fs::File::create(lora.join("a-mid_1-vid_2169837.safetensors"))
        .unwrap()
        .set_len(228_458_000)
        .unwrap();
    std::fs::write(lora.join("sub/b.ckpt"), b"12345").unwrap();
    std::fs::write(lora.join("notes.txt"), b"x").unwrap();

    let ran = gpu
        .ssh(r#"find "$UI_HOME"/models/Lora -maxdepth 2 -type f \( -name "*.safetensors" -o -name "*.ckpt" \) -printf "%P|%s\n" | sort"#)
        .await;
    assert_eq!(
        ran.stdout,
        "a-mid_1-vid_2169837.safetensors|228458000\nsub/b.ckpt|5\n"
    );

    let ran = gpu
        .ssh(r#"find "$UI_HOME"/models/Lora -maxdepth 2 -name "*2169837*.safetensors" 2>/dev/null | head -1"#)
        .await;
    assert_eq!(
        ran.stdout,
        "/workspace/ComfyUI/models/Lora/a-mid_1-vid_2169837.safetensors\n"
    );
}

#[tokio::test]
async fn a_changed_host_key_fails_a_strict_client_with_255() {
    let gpu = TestInstance::start().await;
    // A known_hosts entry holding another key for the same [host]:port.
    let other =
        std::fs::read_to_string(crate::support::key_path("test_client_ed25519.pub")).unwrap();
    let key_part: Vec<&str> = other.split_whitespace().take(2).collect();
    std::fs::write(
        gpu.known_hosts(),
        format!("[127.0.0.1]:{} {}\n", gpu.port(), key_part.join(" ")),
    )
    .unwrap();
    let ran = gpu.ssh("echo should-not-run").await;
    assert_eq!(ran.status, 255);
    assert!(ran.stdout.is_empty());
}

#[tokio::test]
async fn authorized_keys_and_password_restrict_logins() {
    // Only a key that is not ours is authorized.
    let host_pub =
        std::fs::read_to_string(crate::support::key_path("test_host_ed25519.pub")).unwrap();
    let policy = AuthPolicy {
        authorized_keys: Some(vec![host_pub.parse().unwrap()]),
        password: None,
    };
    let gpu = TestInstance::start_with(InstanceConfig::default(), policy).await;
    let ran = gpu.ssh("true").await;
    assert_eq!(ran.status, 255);
    assert!(ran.stderr.contains("Permission denied"), "{}", ran.stderr);

    // Our own key is authorized: it gets in.
    let client_pub =
        std::fs::read_to_string(crate::support::key_path("test_client_ed25519.pub")).unwrap();
    let policy = AuthPolicy {
        authorized_keys: Some(vec![client_pub.parse().unwrap()]),
        password: None,
    };
    let gpu = TestInstance::start_with(InstanceConfig::default(), policy).await;
    assert_eq!(gpu.ssh("true").await.status, 0);
}

#[tokio::test]
async fn banner_always_goes_to_stderr_of_every_exec() {
    let config = InstanceConfig {
        banner: fakessh::instance::BannerMode::Always,
        ..InstanceConfig::default()
    };
    let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
    let ran = gpu.ssh("echo hi").await;
    assert_eq!(ran.stdout, "hi\n");
    assert!(ran.stderr.contains("Welcome to your vast.ai container!"));
}

#[tokio::test]
async fn nproc_free_and_uptime_describe_the_configured_machine() {
    let config = InstanceConfig {
        cpus: 8,
        ram_mib: 32 * 1024,
        ..InstanceConfig::default()
    };
    let gpu = TestInstance::start_with(config, AuthPolicy::default()).await;
    let ran = gpu
        .ssh("nproc; free -h; uptime; which free uptime nproc")
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines[0], "8");
    assert_eq!(
        lines[1],
        "               total        used        free      shared  buff/cache   available"
    );
    assert!(
        lines[2].starts_with("Mem:            31Gi "),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "Swap:             0B          0B          0B");
    assert!(
        lines[4].contains(" up  2:") && lines[4].contains(",  1 user,  load average: "),
        "{}",
        lines[4]
    );
    assert_eq!(
        &lines[5..],
        ["/usr/bin/free", "/usr/bin/uptime", "/usr/bin/nproc"]
    );
}

#[tokio::test]
async fn ps_lists_comfyui_and_the_sessions_own_shell_by_its_pid() {
    let gpu = TestInstance::start().await;
    let ran = gpu.ssh("echo $$; ps; ps aux | grep -c main.py").await;
    assert_eq!(ran.status, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    let pid = lines[0];
    assert_eq!(lines[1], "    PID TTY          TIME CMD");
    assert_eq!(lines[2], format!("{pid:>7} ?        00:00:00 bash"));
    assert!(lines[3].ends_with(" ps"), "{ran:?}");
    assert_eq!(lines[4], "1", "one ComfyUI process");
}
