//! The download handler against real fake instances: final statuses, each
//! fault's status / error / retry count, two handlers on the same files,
//! concurrent writers, and a handler killed mid-download.

use std::process::{Command, Stdio};
use std::time::Duration;

use fakessh::client::handler::{Handler, HandlerConfig, RunSummary};
use fakessh::faults::{Fault, FaultRule};
use fakessh::fixture::{FakeInstance, FakeInstanceBuilder};
use fakessh::jobs::queue::{Job, JobStatus, Queue};
use fakessh::jobs::status::{StatusEntry, StatusFile};
use fakessh::net::catalog::FileEntry;
use fakessh::net::Catalog;

const LIMIT: Duration = Duration::from_secs(60);

const LORA: &str =
    r#"civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" "$UI_HOME"/models/Lora"#;

fn wget(dir: &str, file: &str) -> String {
    format!(
        "wget --progress=bar:force -P \"$UI_HOME\"/models/{dir} \
         https://huggingface.co/org/repo/resolve/main/{file}"
    )
}

/// Fake instances, a queue and a status file on tmpfs (fsync is the
/// disk's cost, not the handler's), and a fast handler config.
struct Rig {
    gpus: Vec<FakeInstance>,
    _dir: tempfile::TempDir,
    queue: Queue,
    status: StatusFile,
    config: HandlerConfig,
}

fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    let b = tempfile::Builder::new()
        .prefix("fakessh-handler-")
        .tempdir_in(shm);
    b.or_else(|_| tempfile::tempdir()).expect("tempdir")
}

impl Rig {
    async fn new(n: usize, build: impl Fn(FakeInstanceBuilder) -> FakeInstanceBuilder) -> Rig {
        let mut gpus = Vec::new();
        for i in 0..n {
            let b = FakeInstance::builder().seed(i as u64 + 1);
            gpus.push(build(b).start().await.expect("instance starts"));
        }
        let dir = scratch();
        let known_hosts = dir.path().join("known_hosts");
        let lines: String = gpus
            .iter()
            .map(|g| format!("{}\n", g.known_hosts_line()))
            .collect();
        std::fs::write(&known_hosts, lines).unwrap();
        let mut config = HandlerConfig::new(
            dir.path().join("download_queue.json"),
            dir.path().join("download_status.json"),
            gpus[0].client_key_path(),
            &known_hosts,
        );
        config.retry_base = Duration::from_millis(10);
        config.retry_max = Duration::from_millis(50);
        config.poll_interval = Duration::from_millis(20);
        config.status_interval = Duration::from_millis(50);
        config.stall_timeout = Some(Duration::from_secs(2));
        config.retries = 2;
        Rig {
            queue: Queue::new(&config.queue),
            status: StatusFile::new(&config.status),
            gpus,
            _dir: dir,
            config,
        }
    }

    /// Queues a job on instance `gpu`, as the original app does (a PENDING
    /// job and a PENDING status entry).
    fn add(&self, gpu: usize, name: &str, commands: &[&str]) -> String {
        let conn = self.gpus[gpu].connection_string();
        let job = Job::new(
            &conn,
            name,
            commands.iter().map(|c| c.to_string()).collect(),
        )
        .expect("job");
        let id = job.id.clone();
        self.status
            .update(|s| s.insert(StatusEntry::for_job(&job)))
            .unwrap();
        self.queue.update(|q| q.insert(job)).unwrap();
        id
    }

    fn entry(&self, id: &str) -> StatusEntry {
        self.status.load().unwrap().get(id).unwrap().clone()
    }

    fn job(&self, id: &str) -> Job {
        self.queue.load().unwrap().get(id).unwrap().clone()
    }

    async fn run(&self) -> RunSummary {
        let handler = Handler::new(self.config.clone()).expect("handler");
        tokio::time::timeout(LIMIT, handler.run_until_idle())
            .await
            .expect("handler went idle in time")
            .expect("handler ran")
    }

    /// Files in a directory of an instance's sandbox.
    fn files(&self, gpu: usize, virt: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.gpus[gpu].path(virt))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn retries(e: &StatusEntry) -> u64 {
    e.extra
        .get("retries")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn a_mixed_queue_over_three_instances_reaches_the_right_final_statuses() {
    // Arrange
    let rig = Rig::new(3, |b| {
        b.catalog(Catalog {
            missing_models: vec![999_999_999],
            ..Catalog::default()
        })
    })
    .await;
    let mut ok = Vec::new();
    for gpu in 0..3 {
        ok.push((gpu, rig.add(gpu, "lora", &[LORA])));
        ok.push((
            gpu,
            rig.add(
                gpu,
                "wan vae + te",
                &[
                    &wget("vae", &format!("wan_vae_{gpu}.safetensors")),
                    &wget("text_encoders", "umt5.safetensors"),
                ],
            ),
        ));
    }
    let missing = rig.add(
        1,
        "gone",
        &[r#"civitdl "https://civitai.com/models/999999999" "$UI_HOME"/models/Lora"#],
    );
    // Act
    let summary = rig.run().await;
    // Assert
    assert_eq!(summary.complete, 6, "{summary:?}");
    assert_eq!(summary.failed, 1, "{summary:?}");
    for (gpu, id) in &ok {
        let e = rig.entry(id);
        assert_eq!(e.status, JobStatus::Complete, "{e:?}");
        assert_eq!(
            e.progress,
            serde_json::from_str(r#"{"percent":100}"#).unwrap()
        );
        assert_eq!(e.command_index, e.total_commands);
        let job = rig.job(id);
        assert_eq!(job.status, JobStatus::Complete);
        assert!(!job.extra.contains_key("claimed_by"), "claim mark cleared");
        let _ = gpu;
    }
    for gpu in 0..3 {
        assert!(
            rig.files(gpu, "/workspace/ComfyUI/models/vae")
                .contains(&format!("wan_vae_{gpu}.safetensors")),
            "{:?}",
            rig.files(gpu, "/workspace/ComfyUI/models/vae")
        );
        assert_eq!(
            rig.files(gpu, "/workspace/ComfyUI/models/text_encoders"),
            ["umt5.safetensors"]
        );
        assert!(!rig.files(gpu, "/workspace/ComfyUI/models/Lora").is_empty());
        // the original's remote form
        assert_eq!(
            rig.gpus[gpu].ran_count(r#"^export PATH="/venv/main/bin:\$PATH" && cd /tmp && "#),
            rig.gpus[gpu].journal().len()
        );
    }
    // civitdl exits 0 when the model is missing: the handler reads the failure.
    let e = rig.entry(&missing);
    assert_eq!(e.status, JobStatus::Failed);
    assert!(
        e.error.as_deref().unwrap_or("").contains("404"),
        "{:?}",
        e.error
    );
    assert_eq!(retries(&e), 0);
}

#[tokio::test]
async fn an_exit_code_fault_fails_the_job_with_the_code_and_no_retry() {
    let rig = Rig::new(1, |b| {
        b.fault(FaultRule::for_tool("wget").inject(Fault::ExitCode { code: 3 }))
    })
    .await;
    let id = rig.add(
        0,
        "vae",
        &[&wget("vae", "a.safetensors"), &wget("vae", "b.safetensors")],
    );
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    let error = e.error.unwrap();
    assert!(error.starts_with("wget exited with status 3"), "{error}");
    assert_eq!(retries(&rig.entry(&id)), 0);
    assert_eq!(
        rig.gpus[0].ran_count("wget"),
        1,
        "later commands are skipped"
    );
    assert_eq!(rig.job(&id).command_index, 0);
}

#[tokio::test]
async fn a_disconnect_mid_transfer_is_retried_then_completes() {
    let rig = Rig::new(1, |b| {
        b.fault(
            FaultRule::for_tool("wget")
                .inject(Fault::DisconnectAt { percent: 50 })
                .times(1)
                .expect(1),
        )
    })
    .await;
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    let summary = rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Complete, "{e:?}");
    assert_eq!(retries(&e), 1);
    assert_eq!(summary.retries, 1);
    let last = e.extra["last_error"].as_str().unwrap();
    assert!(
        last.contains("lost without exit status (ssh exit 255)"),
        "{last}"
    );
    assert_eq!(rig.gpus[0].ran_count("wget"), 2);
}

#[tokio::test]
async fn a_hang_hits_the_stall_timeout_and_is_retried() {
    let mut rig = Rig::new(1, |b| {
        b.fault(
            FaultRule::for_tool("wget")
                .inject(Fault::Hang)
                .times(1)
                .expect(1),
        )
    })
    .await;
    rig.config.stall_timeout = Some(Duration::from_millis(300));
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Complete, "{e:?}");
    assert_eq!(retries(&e), 1);
    assert_eq!(e.extra["last_error"], "stalled: no output for 0.3s");
}

#[tokio::test]
async fn a_hang_every_time_fails_after_the_retries_with_the_stall_error() {
    let mut rig = Rig::new(1, |b| {
        b.fault(FaultRule::for_tool("wget").inject(Fault::Hang))
    })
    .await;
    rig.config.stall_timeout = Some(Duration::from_millis(150));
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("stalled: no output for 0.15s"));
    assert_eq!(retries(&e), 2);
    assert_eq!(rig.gpus[0].ran_count("wget"), 3);
}

#[tokio::test]
async fn a_rotated_host_key_needs_host_verification_and_runs_nothing() {
    let rig = Rig::new(1, |b| b.fault(FaultRule::new(Fault::RotateHostKey))).await;
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    let summary = rig.run().await;
    assert_eq!(summary.host_verification_needed, 1);
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::HostVerificationNeeded);
    assert_eq!(e.host_verification_needed, Some(true));
    assert_eq!(e.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(e.port, Some(rig.gpus[0].port()));
    assert_eq!(
        e.ssh_connection.as_deref(),
        Some(rig.gpus[0].connection_string().as_str())
    );
    assert!(e.error.unwrap().contains("has changed"));
    assert_eq!(retries(&rig.entry(&id)), 0);
    assert_eq!(rig.gpus[0].journal().len(), 0);
}

#[tokio::test]
async fn an_unknown_host_is_refused_when_strict_and_learned_with_accept_new() {
    let mut rig = Rig::new(1, |b| b).await;
    std::fs::write(&rig.config.known_hosts, "").unwrap();
    let strict = rig.add(0, "strict", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&strict);
    assert_eq!(e.status, JobStatus::HostVerificationNeeded);
    assert!(e.error.unwrap().contains("is not known"));

    rig.config.accept_new = true;
    let learned = rig.add(0, "learned", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    assert_eq!(rig.entry(&learned).status, JobStatus::Complete);
    let known = std::fs::read_to_string(&rig.config.known_hosts).unwrap();
    assert_eq!(
        known.trim(),
        rig.gpus[0].known_hosts_line().trim(),
        "learned exactly once"
    );
}

#[tokio::test]
async fn refused_auth_fails_with_a_readable_error_and_no_retry() {
    let rig = Rig::new(1, |b| b.fault(FaultRule::new(Fault::RefuseAuth))).await;
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    let error = e.error.clone().unwrap();
    assert!(
        error.starts_with(&format!(
            "authentication refused for root@127.0.0.1:{} with key ",
            rig.gpus[0].port()
        )),
        "{error}"
    );
    assert_eq!(retries(&e), 0);
}

#[tokio::test]
async fn a_reset_connection_is_retried_then_completes() {
    let rig = Rig::new(1, |b| {
        b.fault(FaultRule::new(Fault::ResetConnection).times(1).expect(1))
    })
    .await;
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Complete, "{e:?}");
    assert_eq!(retries(&e), 1);
    assert!(e.extra["last_error"]
        .as_str()
        .unwrap()
        .starts_with("connecting to 127.0.0.1:"));
}

fn catalog_with(url_file: &str, entry: FileEntry) -> Catalog {
    let mut c = Catalog::default();
    c.files.insert(
        format!("https://huggingface.co/org/repo/resolve/main/{url_file}"),
        entry,
    );
    c
}

#[tokio::test]
async fn a_wget_404_from_the_catalog_fails_at_once_with_the_wget_error() {
    let rig = Rig::new(1, |b| {
        b.catalog(catalog_with(
            "gone.safetensors",
            FileEntry {
                status: Some(404),
                ..FileEntry::default()
            },
        ))
    })
    .await;
    let id = rig.add(0, "gone", &[&wget("vae", "gone.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("wget: ERROR 404: Not Found"));
    assert_eq!(retries(&e), 0);
    assert_eq!(rig.gpus[0].ran_count("wget"), 1);
}

#[tokio::test]
async fn a_wget_503_is_retried_then_fails_with_the_wget_error() {
    let rig = Rig::new(1, |b| {
        b.catalog(catalog_with(
            "busy.safetensors",
            FileEntry {
                status: Some(503),
                ..FileEntry::default()
            },
        ))
    })
    .await;
    let id = rig.add(0, "busy", &[&wget("vae", "busy.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    assert_eq!(
        e.error.as_deref(),
        Some("wget: ERROR 503: Service Unavailable")
    );
    assert_eq!(retries(&e), 2);
    assert_eq!(rig.gpus[0].ran_count("wget"), 3);
}

#[tokio::test]
async fn a_wget_http_404_fault_fails_at_once_with_the_wget_error() {
    // Passes once Fault::Http acts inside wget (another branch).
    let rig = Rig::new(1, |b| {
        b.fault(
            FaultRule::for_tool("wget")
                .inject(Fault::Http { status: 404 })
                .times(1),
        )
    })
    .await;
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed, "{e:?}");
    assert_eq!(e.error.as_deref(), Some("wget: ERROR 404: Not Found"));
    assert_eq!(retries(&e), 0);
}

#[tokio::test]
async fn a_command_past_the_command_timeout_fails() {
    let mut rig = Rig::new(1, |b| {
        b.fault(FaultRule::for_tool("wget").inject(Fault::DelayOutput { delay_ms: 3_000 }))
    })
    .await;
    rig.config.command_timeout = Some(Duration::from_millis(200));
    let id = rig.add(0, "vae", &[&wget("vae", "a.safetensors")]);
    rig.run().await;
    let e = rig.entry(&id);
    assert_eq!(e.status, JobStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("command timed out after 0.2s"));
}

#[tokio::test]
async fn a_bad_job_fails_alone_and_the_others_run() {
    let rig = Rig::new(1, |b| b).await;
    let good = rig.add(0, "good", &[&wget("vae", "a.safetensors")]);
    // a per-job key that does not exist
    let conn = format!("{} -i /nonexistent/key", rig.gpus[0].connection_string());
    let bad_key = Job::new(&conn, "bad key", vec![wget("vae", "b.safetensors")]).unwrap();
    let bad_key_id = bad_key.id.clone();
    rig.queue.update(|q| q.insert(bad_key)).unwrap();
    // a record missing fields stays as it is
    let text = std::fs::read_to_string(&rig.config.queue).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "broken", "status": "PENDING", "x": 1}));
    std::fs::write(&rig.config.queue, v.to_string()).unwrap();
    rig.run().await;
    assert_eq!(rig.entry(&good).status, JobStatus::Complete);
    let e = rig.entry(&bad_key_id);
    assert_eq!(e.status, JobStatus::Failed);
    assert_eq!(
        e.error.as_deref(),
        Some("key file /nonexistent/key: no such file")
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rig.config.queue).unwrap()).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"id": "broken", "status": "PENDING", "x": 1})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handlers_on_the_same_files_never_lose_or_duplicate_a_job() {
    // Arrange
    let mut rig = Rig::new(3, |b| b).await;
    rig.config.per_instance = 2;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(rig.add(
            i % 3,
            &format!("job {i}"),
            &[&wget("loras", &format!("f{i}.safetensors"))],
        ));
    }
    // Act
    let (a, b) = (
        Handler::new(rig.config.clone()).unwrap(),
        Handler::new(rig.config.clone()).unwrap(),
    );
    let (sa, sb) = tokio::time::timeout(LIMIT, async {
        tokio::join!(a.run_until_idle(), b.run_until_idle())
    })
    .await
    .unwrap();
    let (sa, sb) = (sa.unwrap(), sb.unwrap());
    // Assert
    assert_eq!(sa.complete + sb.complete, 30, "{sa:?} {sb:?}");
    for id in &ids {
        assert_eq!(rig.entry(id).status, JobStatus::Complete);
    }
    let runs: usize = rig.gpus.iter().map(|g| g.ran_count("wget")).sum();
    assert_eq!(runs, 30, "each job ran exactly once");
    assert_eq!(rig.status.load().unwrap().len(), 30);
    assert_eq!(rig.queue.load().unwrap().len(), 30);
}

#[tokio::test]
async fn jobs_added_while_it_runs_are_picked_up_and_shutdown_requeues_nothing_lost() {
    let rig = Rig::new(1, |b| b).await;
    let handler = Handler::new(rig.config.clone()).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        handler
            .run(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let first = rig.add(0, "first", &[&wget("vae", "a.safetensors")]);
    let second = rig.add(0, "second", &[&wget("vae", "b.safetensors")]);
    tokio::time::timeout(LIMIT, async {
        while rig.entry(&second).status != JobStatus::Complete {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    // a job that hangs is running at shutdown: it goes back to PENDING
    rig.gpus[0]
        .mount(FaultRule::for_tool("wget").inject(Fault::Hang))
        .unwrap();
    let third = rig.add(0, "third", &[&wget("vae", "c.safetensors")]);
    tokio::time::timeout(LIMIT, async {
        while rig.entry(&third).status != JobStatus::Running {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    stop_tx.send(()).unwrap();
    let summary = tokio::time::timeout(LIMIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(summary.complete, 2);
    assert_eq!(summary.requeued, 1);
    assert_eq!(rig.entry(&first).status, JobStatus::Complete);
    assert_eq!(rig.entry(&third).status, JobStatus::Pending);
    let job = rig.job(&third);
    assert_eq!(job.status, JobStatus::Pending);
    assert!(!job.extra.contains_key("claimed_by"));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fakessh"))
}

#[test]
fn eight_processes_of_a_thousand_status_updates_lose_nothing() {
    let dir = scratch();
    let status = dir.path().join("download_status.json");
    let children: Vec<_> = (0..8)
        .map(|w| {
            bin()
                .args([
                    "handler",
                    "--stress-status-writes",
                    "1000",
                    "--stress-writer",
                ])
                .arg(format!("w{w}"))
                .arg("--status")
                .arg(&status)
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let entries = StatusFile::new(&status).load().unwrap();
    let count = |id: &str| entries.get(id).unwrap().extra["count"].as_u64().unwrap();
    assert_eq!(count("stress-total"), 8000);
    for w in 0..8 {
        assert_eq!(count(&format!("stress-w{w}")), 1000);
    }
    assert_eq!(entries.len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_killed_mid_download_finishes_the_queue_when_started_again() {
    // Arrange: a 2 MB file at 1 MB/s in real time, so a transfer is in flight.
    let url_file = "slow.safetensors";
    let mut catalog = catalog_with(
        url_file,
        FileEntry {
            size: Some(2_000_000),
            ..FileEntry::default()
        },
    );
    catalog.files.extend(
        catalog_with(
            "quick.safetensors",
            FileEntry {
                size: Some(100_000),
                ..FileEntry::default()
            },
        )
        .files,
    );
    let rig = Rig::new(1, |b| {
        b.time_scale(1.0)
            .catalog(catalog.clone())
            .configure(|c| c.tools.bandwidth_bytes_per_s = 1_000_000)
    })
    .await;
    let first = rig.add(0, "slow", &[&wget("vae", url_file)]);
    let second = rig.add(0, "quick", &[&wget("vae", "quick.safetensors")]);
    let start = || {
        bin()
            .arg("handler")
            .arg("--queue")
            .arg(&rig.config.queue)
            .arg("--status")
            .arg(&rig.config.status)
            .arg("--key")
            .arg(&rig.config.key)
            .arg("--known-hosts")
            .arg(&rig.config.known_hosts)
            .args([
                "--until-idle",
                "--poll-ms",
                "20",
                "--status-interval-ms",
                "50",
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut handler = start();
    // Act: kill it once progress shows the transfer under way.
    tokio::time::timeout(LIMIT, async {
        loop {
            let e = rig.entry(&first);
            let pct = e
                .progress
                .get("percent")
                .and_then(|p| p.as_f64())
                .unwrap_or(0.0);
            if e.status == JobStatus::Running && pct > 0.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the download got under way");
    handler.kill().unwrap();
    handler.wait().unwrap();
    assert_eq!(
        rig.job(&first).status,
        JobStatus::Running,
        "killed, not cleaned up"
    );
    let mut again = start();
    let waited = tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(status) = again.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if waited.is_err() {
        let _ = again.kill();
        let _ = again.wait();
    }
    let status = waited.expect("the second handler finished the queue");
    // Assert
    assert!(status.success());
    for id in [&first, &second] {
        assert_eq!(rig.entry(id).status, JobStatus::Complete);
        assert_eq!(rig.job(id).status, JobStatus::Complete);
    }
    assert!(rig
        .files(0, "/workspace/ComfyUI/models/vae")
        .contains(&url_file.to_string()));
}
