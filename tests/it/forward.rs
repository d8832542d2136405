//! `ssh -L` to the instance's own services: a real OpenSSH tunnel carries
//! HTTP to the portal on 8080; a forward to a port nothing listens on is
//! refused as OpenSSH reports it (`open failed: connect failed`); both are
//! journaled with kind `forward`, the target and the bytes.

use std::time::Duration;

use fakessh::journal::{Ending, EntryKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestInstance;

/// A local port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ssh -N -L PORT:TARGET` running in the background.
fn tunnel(gpu: &TestInstance, local: u16, target: &str) -> tokio::process::Child {
    // OpenSSH reports a refused forward at INFO; ssh takes the first value
    // of an option, so the support's LogLevel=ERROR is swapped out.
    let args = gpu.ssh_args().into_iter().map(|a| {
        if a == "LogLevel=ERROR" {
            "LogLevel=INFO".to_string()
        } else {
            a
        }
    });
    tokio::process::Command::new("ssh")
        .args(args)
        .args(["-N", "-o", "ExitOnForwardFailure=yes", "-L"])
        .arg(format!("{local}:{target}"))
        .arg("root@127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs")
}

/// One HTTP/1.1 request through the tunnel's local end; the whole answer.
async fn get(local: u16, path: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", local)).await {
            Ok(s) => break s,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the tunnel never listened: {e}"),
        }
    };
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .ok();
    let mut answer = Vec::new();
    // A refused forward closes (or resets) the local end unanswered.
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_openssh_tunnel_reaches_the_instance_portal_and_is_journaled() {
    let gpu = TestInstance::start().await;
    let local = free_port();
    let mut ssh = tunnel(&gpu, local, "localhost:8080");
    let page = get(local, "/").await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("<h1>Instance "), "{page}");
    assert!(page.contains("<td>portal</td><td>8080</td>"), "{page}");
    let list = get(local, "/services").await;
    assert!(
        list.ends_with(r#"[{"name":"portal","port":8080},{"name":"comfyui","port":8188},{"name":"comfyui","port":18188}]"#),
        "{list}"
    );
    ssh.kill().await.unwrap();
    let forwards = wait_for_forwards(&gpu, 2).await;
    assert!(forwards
        .iter()
        .all(|e| e.command == "localhost:8080" && e.ended == Ending::Exit));
    assert!(forwards
        .iter()
        .all(|e| e.stdout_bytes > 100 && e.received_bytes > Some(40)));
}

#[tokio::test]
async fn ssh_l_8188_reaches_the_instances_comfyui() {
    let gpu = TestInstance::start().await;
    let local = free_port();
    let _ssh = tunnel(&gpu, local, "localhost:8188");
    let stats = get(local, "/system_stats").await;
    assert!(stats.starts_with("HTTP/1.1 200 OK\r\n"), "{stats}");
    assert!(stats.contains(r#""type":"cuda""#), "{stats}");
    let queue = get(local, "/queue").await;
    assert!(
        queue.ends_with(r#"{"queue_pending":[],"queue_running":[]}"#),
        "{queue}"
    );
}

#[tokio::test]
async fn a_forward_to_a_port_nothing_listens_on_is_refused_as_openssh_reports_it() {
    let gpu = TestInstance::start().await;
    let local = free_port();
    let mut ssh = tunnel(&gpu, local, "127.0.0.1:9999");
    let answer = get(local, "/").await;
    assert_eq!(answer, "", "the local connection is closed unanswered");
    ssh.kill().await.unwrap();
    let out = ssh.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("open failed: connect failed"), "{stderr}");
    let forwards = wait_for_forwards(&gpu, 1).await;
    assert_eq!(forwards[0].command, "127.0.0.1:9999");
    assert_eq!(forwards[0].ended, Ending::Refused);
}

#[tokio::test]
async fn a_forward_outside_the_instance_is_refused_too() {
    let gpu = TestInstance::start().await;
    let handle = gpu.russh().await;
    let refused = handle
        .channel_open_direct_tcpip("civitai.com", 443, "127.0.0.1", 5000)
        .await;
    assert!(refused.is_err(), "a forward to the internet is refused");
    let ok = handle
        .channel_open_direct_tcpip("127.0.0.1", 8080, "127.0.0.1", 5001)
        .await
        .expect("the portal accepts");
    let mut stream = ok.into_stream();
    stream
        .write_all(b"GET /services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("\"portal\""));
}

/// The journal's forward entries once `n` of them are there.
async fn wait_for_forwards(gpu: &TestInstance, n: usize) -> Vec<fakessh::journal::JournalEntry> {
    for _ in 0..200 {
        let forwards: Vec<_> = gpu
            .instance
            .journal
            .entries()
            .into_iter()
            .filter(|e| e.kind == EntryKind::Forward)
            .collect();
        if forwards.len() >= n {
            return forwards;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} forward entries in the journal");
}

/// The original app's text-to-image workflow.
fn workflow() -> serde_json::Value {
    serde_json::json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "add_detail.safetensors", "strength_model": 0.8, "strength_clip": 0.8}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["10", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 128, "height": 96, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["10", 0], "seed": 42, "steps": 12, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0], "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    })
}

#[tokio::test]
async fn a_websocket_client_through_ssh_l_runs_a_workflow_to_its_image() {
    let gpu = TestInstance::start().await;
    for model in [
        "checkpoints/v1-5-pruned-emaonly.safetensors",
        "loras/add_detail.safetensors",
    ] {
        let path = gpu.host_path(&format!("/workspace/ComfyUI/models/{model}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1_000_000)
            .unwrap();
    }
    let wf = gpu.dir.path().join("workflow.json");
    std::fs::write(&wf, workflow().to_string()).unwrap();
    let local = free_port();
    let _ssh = tunnel(&gpu, local, "localhost:8188");
    // The tunnel listens once ssh has logged in.
    let _ = get(local, "/queue").await;
    let ran = crate::support::run_python(
        "comfy_ws.py",
        &[local.to_string(), wf.display().to_string()],
    )
    .await;
    assert_eq!(
        ran.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("comfy ws ok"), "{}", ran.stdout);
    // The image is in the tree, where scp and ls find it.
    let ls = gpu.ssh("ls $UI_HOME/output").await;
    assert_eq!(ls.stdout, "ComfyUI_00001_.png\n");
}

#[tokio::test]
async fn comfyui_down_refuses_the_tunnel_as_if_nothing_listened() {
    let gpu = TestInstance::start().await;
    gpu.instance
        .faults
        .arm(fakessh::faults::parse_flag("comfyui:comfyui-down:times=1").unwrap())
        .unwrap();
    let handle = gpu.russh().await;
    let refused = handle
        .channel_open_direct_tcpip("localhost", 8188, "127.0.0.1", 5000)
        .await;
    assert!(refused.is_err(), "down: refused");
    let ok = handle
        .channel_open_direct_tcpip("localhost", 8188, "127.0.0.1", 5001)
        .await;
    assert!(ok.is_ok(), "the rule fired once");
    let forwards = wait_for_forwards(&gpu, 1).await;
    assert_eq!(forwards[0].ended, Ending::Refused);
    assert_eq!(forwards[0].faults, vec!["f1".to_string()]);
}

#[tokio::test]
async fn a_hundred_tunnels_at_once_are_all_served() {
    let gpu = TestInstance::start().await;
    let handle = std::sync::Arc::new(gpu.russh().await);
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let handle = handle.clone();
        tasks.push(tokio::spawn(async move {
            let channel = handle
                .channel_open_direct_tcpip("localhost", 8188, "127.0.0.1", 6000 + i)
                .await
                .expect("a tunnel opens");
            let mut stream = channel.into_stream();
            stream
                .write_all(b"GET /prompt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
                .await
                .expect("in time")
                .unwrap();
            String::from_utf8_lossy(&answer).into_owned()
        }));
    }
    for t in tasks {
        let answer = t.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(
            answer.ends_with(r#"{"exec_info":{"queue_remaining":0}}"#),
            "{answer}"
        );
    }
    let forwards = wait_for_forwards(&gpu, 100).await;
    assert_eq!(forwards.len(), 100);
}
