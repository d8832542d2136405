//! The dashboard in headless Chromium: a fake instance, the API on a free
//! port, and a job whose status moves to 100% while the page is read.
//! Needs Debian's `chromium` (scripts/test installs it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakessh::api::{AppConfig, AppState};
use fakessh::faults::{Fault, FaultRule};
use fakessh::fixture::FakeInstance;
use fakessh::jobs::queue::{Job, JobStatus, Queue};
use fakessh::jobs::status::{StatusEntry, StatusFile};
use serde_json::{json, Map, Value};

const WAIT: Duration = Duration::from_secs(60);

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the dashboard test needs headless Chromium, and `chromium` is not on PATH: \
         install it with `apt-get install chromium` (scripts/test does this)"
    );
}

/// Runs Chromium headless on `url` with `extra` flags; returns stdout.
async fn run_chromium(url: &str, extra: &[String]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = tokio::process::Command::new(chromium());
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,900",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdin(std::process::Stdio::null())
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("chromium finished in time")
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `<article>` of job `id` in a dumped DOM.
fn article<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let start = dom.find(&format!("data-job-id=\"{id}\""))?;
    let end = dom[start..].find("</article>")? + start;
    Some(&dom[start..end])
}

fn progress(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_a_job_reaching_100_percent_in_headless_chromium() {
    tokio::time::timeout(WAIT, async {
        // Arrange: a fake instance with a fault and some history
        let chromium = chromium();
        let gpu = FakeInstance::start().await.expect("fake instance");
        gpu.mount(
            FaultRule::for_tool("wget")
                .inject(Fault::Http { status: 404 })
                .times(1)
                .named("first wget 404s"),
        )
        .unwrap();
        gpu.exec("echo \"SSH connection successful\" && whoami && pwd").await.unwrap();
        gpu.exec("nvidia-smi --query-gpu=name --format=csv,noheader").await.unwrap();
        gpu.exec("wget -P \"$UI_HOME\"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors").await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("download_queue.json"));
        let status = StatusFile::new(dir.path().join("download_status.json"));
        let ssh = gpu.connection_string();
        let job = |name: &str, command: &str, variant: Option<&str>| {
            let mut j = Job::new(&ssh, name, vec![command.to_string()]).unwrap();
            j.variant_tag = variant.map(str::to_string);
            j.resource_paths = vec!["loras/wan.md".into()];
            j
        };
        let lora = job(
            "Wan 2.2 Lightning",
            "civitdl \"https://civitai.com/models/1874099?modelVersionId=2169837\" \"$UI_HOME\"/models/Lora",
            Some("high-noise"),
        );
        let low = job(
            "Wan 2.2 Lightning",
            "wget --progress=bar:force -P \"$UI_HOME\"/models/Lora https://huggingface.co/x/wan/resolve/main/low.safetensors",
            Some("low-noise"),
        );
        let vae = job("Wan 2.1 VAE", "wget -P \"$UI_HOME\"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors", None);
        let upscaler = job("4x UltraSharp", "wget -P \"$UI_HOME\"/models/upscale_models https://huggingface.co/x/u/resolve/main/4x.pth", None);
        let jobs = [lora.clone(), low.clone(), vae.clone(), upscaler.clone()];
        queue
            .update(|q| jobs.iter().try_for_each(|j| q.insert(j.clone())))
            .unwrap();
        status
            .update(|s| {
                for j in &jobs {
                    let mut e = StatusEntry::for_job(j);
                    if j.id == lora.id || j.id == low.id {
                        e.set_status(JobStatus::Running);
                        e.command_index = 1;
                        e.progress = progress(&[
                            ("percent", json!(if j.id == lora.id { 37.0 } else { 64.2 })),
                            ("speed", json!("38.2MB/s")),
                            ("downloaded", json!(if j.id == lora.id { "421MB" } else { "731MB" })),
                            ("total", json!("1.14GB")),
                            ("eta", json!(if j.id == lora.id { "19s" } else { "11s" })),
                            ("stage", json!(if j.id == lora.id { "model" } else { "download" })),
                            ("filename", json!(if j.id == lora.id { "wan22_lightning_high.safetensors" } else { "low.safetensors" })),
                        ]);
                    } else if j.id == vae.id {
                        e.fail("wget: ERROR 404: Not Found (https://huggingface.co/x/y/resolve/main/vae.safetensors)");
                    }
                    s.insert(e)?;
                }
                Ok(())
            })
            .unwrap();

        let state = AppState::new(AppConfig {
            instances: vec![Arc::clone(gpu.instance())],
            ..AppConfig::new(queue.path(), status.path())
        });
        let api = fakessh::api::start(state, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("api starts");
        let url = format!("{}/", api.url());

        // Act: the handler's part, played here: the job climbs to COMPLETE
        let mover = {
            let status = status.clone();
            let id = lora.id.clone();
            tokio::spawn(async move {
                for pct in [52.0, 71.5, 88.0, 99.0] {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    status
                        .update(|s| s.modify(&id, |e| {
                            e.progress.insert("percent".into(), json!(pct));
                            e.touch();
                        }))
                        .unwrap();
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                status
                    .update(|s| s.modify(&id, |e| e.set_status(JobStatus::Complete)))
                    .unwrap();
            })
        };

        // Assert: the DOM Chromium renders reaches 100% for that job
        let started = Instant::now();
        let dom = loop {
            let dom = run_chromium(&url, &["--dump-dom".to_string()]).await;
            let done = article(&dom, &lora.id)
                .is_some_and(|a| a.contains("data-status=\"COMPLETE\"") && a.contains("data-percent=\"100\""));
            if done {
                break dom;
            }
            assert!(started.elapsed() < Duration::from_secs(40), "the job never reached 100%:\n{dom}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        mover.await.unwrap();
        let done = article(&dom, &lora.id).unwrap();
        assert!(done.contains(">Complete<"), "{done}");
        assert!(done.contains("width:100.0%"), "{done}");
        assert!(done.contains(">Wan 2.2 Lightning<") && done.contains(">high-noise<"), "{done}");
        let running = article(&dom, &low.id).expect("the other job");
        assert!(running.contains(">64%<") && running.contains("38.2MB/s") && running.contains("11s"), "{running}");
        let failed = article(&dom, &vae.id).expect("failed job");
        assert!(failed.contains(">Failed<") && failed.contains("ERROR 404: Not Found"), "{failed}");
        assert!(failed.contains("data-action=\"retry\"") && failed.contains("data-action=\"delete\""), "{failed}");
        let queued = article(&dom, &upscaler.id).expect("queued job");
        assert!(queued.contains(">Queued<"), "{queued}");
        // the fake instance's faults and journal tail (the page is read from loopback)
        assert!(dom.contains("class=\"fakes\"") && !dom.contains("class=\"fakes\" hidden"), "fakes panel shown");
        assert!(dom.contains("fault-action\">http status=404"), "the armed fault is listed");
        assert!(dom.contains("nvidia-smi --query-gpu=name"), "the journal tail is listed");

        // and a screenshot, for people (and the README)
        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
        let _ = std::fs::remove_file(&shot);
        run_chromium(&url, &[format!("--screenshot={}", shot.display())]).await;
        let png = std::fs::read(&shot).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
        eprintln!("dashboard screenshot: {} (chromium: {})", shot.display(), chromium.display());
        api.shutdown().await.unwrap();
    })
    .await
    .expect("the dashboard test finished in time");
}
