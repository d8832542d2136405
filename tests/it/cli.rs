//! The `fakessh` binary itself: `serve` on port 0 announces its address,
//! generates a missing host key with mode 0600, and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_on_port_zero_prints_its_address_and_saves_a_new_host_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("host_key");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("listening on 127.0.0.1:"), "{first}");
    let port: u16 = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .contains("OPENSSH PRIVATE KEY"));

    // SIGTERM stops it cleanly and quickly.
    let started = Instant::now();
    unsafe_kill(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_flags_are_refused_before_listening() {
    let out = Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ui-home",
            "relative/path",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "must not announce a listener");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ui-home"));

    let out = Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--authorized-keys",
            "/nonexistent/keys",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/keys"));
}

fn unsafe_kill(pid: u32) {
    // No libc dependency: the kill(1) binary sends SIGTERM.
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_fleet_file_serves_several_instances_each_with_its_own_identity() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.toml");
    std::fs::write(
        &fleet,
        "[[instance]]\nid = \"gpu_a\"\nlisten = \"127.0.0.1:0\"\nhostname = \"C.1\"\ngpus = 2\n\n[[instance]]\nid = \"gpu_b\"\nlisten = \"127.0.0.1:0\"\nhostname = \"C.2\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fakessh"))
        .args(["serve", "--fleet"])
        .arg(&fleet)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut ports = Vec::new();
    for id in ["gpu_a", "gpu_b"] {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.trim().ends_with(&format!("id={id}")), "{line}");
        let addr = line.split_whitespace().nth(2).unwrap();
        ports.push(addr.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    }
    let key_dir = tempfile::tempdir().unwrap();
    let key = key_dir.path().join("k");
    std::fs::copy(crate::support::key_path("test_client_ed25519"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut names = Vec::new();
    for port in &ports {
        let out = Command::new("ssh")
            .args(["-p", &port.to_string(), "-i"])
            .arg(&key)
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "BatchMode=yes",
                "root@127.0.0.1",
                "hostname; nvidia-smi -L | wc -l",
            ])
            .output()
            .unwrap();
        names.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert_eq!(names, ["C.1\n2\n", "C.2\n1\n"]);
    unsafe_kill(child.id());
    assert!(child.wait().unwrap().success());
}
