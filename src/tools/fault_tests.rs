//! Every tool-depth fault, in both tools, through a real [`Ctx`]: the real
//! tool's message lines, exit codes and the file left behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::faults::{Fault, FaultPlan, Fired};
use crate::instance::{Instance, InstanceConfig};
use crate::net::catalog::{FileEntry, ModelEntry};
use crate::net::{Catalog, ToolConfig};
use crate::program::{Ctx, Input, Output, Terminal};

const URL: &str = "http://files.example/x.bin";
const SIZE: u64 = 300_000;
const MODEL_SIZE: u64 = 3_000_000;
const MODEL_FILE: &str =
    "/workspace/m/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors";
const MODEL_TMP: &str =
    "/workspace/m/Detail Tweaker LoRA/.tmp/add_detail-mid_123456-vid_124456.safetensors";

struct Ran {
    out: String,
    err: String,
    rc: Option<i32>,
    inst: Arc<Instance>,
    plan: FaultPlan,
    wall: Duration,
}

impl Ran {
    fn size(&self, path: &str) -> Option<u64> {
        std::fs::metadata(self.inst.sandbox.host_path(path))
            .ok()
            .map(|m| m.len())
    }
}

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    c.files.insert(
        URL.into(),
        FileEntry {
            size: Some(SIZE),
            rate_bytes_per_s: Some(1_000_000.0),
            ..FileEntry::default()
        },
    );
    c.models.insert(
        "123456".into(),
        ModelEntry {
            name: Some("Detail Tweaker LoRA".into()),
            version_id: Some(124_456),
            stem: Some("add_detail".into()),
            size: Some(MODEL_SIZE),
            images: Some(1),
            rate_bytes_per_s: Some(1_000_000.0),
            ..ModelEntry::default()
        },
    );
    c
}

fn plan(fault: Option<Fault>) -> FaultPlan {
    FaultPlan {
        fired: fault
            .into_iter()
            .map(|fault| Fired {
                id: "f1".into(),
                fault,
            })
            .collect(),
        ..Default::default()
    }
}

async fn run_opts(
    tool: &str,
    args: &[&str],
    fault: Option<Fault>,
    scale: f64,
    tty: bool,
    limit: Duration,
) -> Ran {
    let config = InstanceConfig {
        seed: 7,
        time_scale: scale,
        tools: ToolConfig {
            catalog: Arc::new(catalog()),
            start_time: Some(1_795_686_415),
            jitter: 0.0,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let inst = Instance::create(config).expect("instance");
    let _ = std::fs::create_dir_all(inst.sandbox.host_path("/workspace"));
    let (out, out_cap) = Output::capture();
    let (err, err_cap) = Output::capture();
    let (stdout, stderr) = if tty {
        let term = Terminal::new(80, 24);
        (
            Output::new(Arc::new(out_cap.clone()), Some(term.clone())),
            Output::new(Arc::new(err_cap.clone()), Some(term)),
        )
    } else {
        (out, err)
    };
    let plan = plan(fault);
    let mut ctx = Ctx {
        argv: std::iter::once(tool.to_string())
            .chain(args.iter().map(|s| s.to_string()))
            .collect(),
        env: inst.login_env("root"),
        cwd: "/workspace".into(),
        stdin: Input::empty(),
        stdout,
        stderr,
        instance: inst.clone(),
        faults: plan.clone(),
    };
    let program = crate::tools::lookup(tool).expect("tool");
    let t0 = Instant::now();
    let rc = tokio::time::timeout(limit, program.run(&mut ctx))
        .await
        .ok();
    Ran {
        wall: t0.elapsed(),
        out: out_cap.text(),
        err: err_cap.text(),
        rc,
        inst,
        plan,
    }
}

async fn run(tool: &str, args: &[&str], fault: Fault) -> Ran {
    run_opts(tool, args, Some(fault), 0.0, false, Duration::from_secs(20)).await
}

fn wget<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![URL, "-O", "x.bin"];
    v.extend_from_slice(extra);
    v
}

const CIV: &[&str] = &["123456", "/workspace/m", "--retry-count", "1"];

// ---------------------------------------------------------------- wget

#[tokio::test]
async fn wget_http_404_is_error_8() {
    let r = run("wget", &wget(&[]), Fault::Http { status: 404 }).await;
    assert_eq!(r.rc, Some(8));
    assert!(r
        .err
        .contains("HTTP request sent, awaiting response... 404 Not Found\n"));
    assert!(r.err.contains(" ERROR 404: Not Found.\n\n"), "{}", r.err);
    assert!(!r.err.contains("Saving to"));
    assert_eq!(r.size("/workspace/x.bin"), Some(0));
}

#[tokio::test]
async fn wget_http_401_is_auth_failure_6() {
    let r = run("wget", &wget(&[]), Fault::Http { status: 401 }).await;
    assert_eq!(r.rc, Some(6));
    assert!(r
        .err
        .ends_with("401 Unauthorized\n\nUsername/Password Authentication Failed.\n"));
}

#[tokio::test]
async fn wget_http_5xx_and_429_are_not_retried_by_default() {
    for (status, reason) in [
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
        (429, "Too Many Requests"),
    ] {
        let r = run("wget", &wget(&["--tries=3"]), Fault::Http { status }).await;
        assert_eq!(r.rc, Some(8), "{status}");
        assert!(r.err.contains(&format!(" ERROR {status}: {reason}.\n")));
        assert!(!r.err.contains("(try:"));
    }
}

#[tokio::test]
async fn wget_retries_listed_http_errors_and_504() {
    let r = run(
        "wget",
        &wget(&["--retry-on-http-error=503,429", "--tries=3"]),
        Fault::Http { status: 503 },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r
        .err
        .contains("awaiting response... 503 Service Unavailable\nRetrying.\n\n--"));
    assert!(r.err.contains("(try: 2)  http://files.example/x.bin\n"));
    assert!(r.err.contains(" saved [300000/300000]\n"));
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));

    let r = run("wget", &wget(&[]), Fault::Http { status: 504 }).await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.contains("504 Gateway Timeout\nRetrying.\n\n"));

    let r = run("wget", &wget(&["-t", "1"]), Fault::Http { status: 504 }).await;
    assert_eq!(r.rc, Some(4));
    assert!(r.err.ends_with("504 Gateway Timeout\nGiving up.\n\n"));
}

#[tokio::test]
async fn wget_drop_is_a_reset_then_resumes() {
    let r = run("wget", &wget(&["--tries=3"]), Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(
        r.err.contains(
            "- Read error at byte 150000/300000 (Connection reset by peer). Retrying.\n\n"
        ),
        "{}",
        r.err
    );
    assert!(r.err.contains("(try: 2)"));
    assert!(r.err.contains("206 Partial Content\n"));
    assert!(r
        .err
        .contains("Length: 300000 (293K), 150000 (146K) remaining"));
    assert!(r.err.contains(" saved [300000/300000]\n"));
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));

    let r = run("wget", &wget(&["--tries=1"]), Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(4));
    assert!(r
        .err
        .ends_with("(Connection reset by peer). Giving up.\n\n"));
    assert_eq!(r.size("/workspace/x.bin"), Some(150_000));
}

#[tokio::test]
async fn wget_stall_forever_times_out_with_read_timeout() {
    let r = run(
        "wget",
        &wget(&["--read-timeout=2", "--tries=2"]),
        Fault::StallAt {
            percent: 25,
            stall_ms: None,
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r
        .err
        .contains("- Read error at byte 75000/300000 (Connection timed out). Retrying.\n\n"));
    assert!(r.err.contains(" saved [300000/300000]\n"));
    assert!(r.wall < Duration::from_secs(2), "{:?}", r.wall);
}

#[tokio::test]
async fn wget_short_stall_shows_no_rate_then_finishes() {
    let r = run_opts(
        "wget",
        &wget(&[]),
        Some(Fault::StallAt {
            percent: 50,
            stall_ms: Some(8_000),
        }),
        0.0,
        true,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(r.rc, Some(0));
    let stalled = r
        .err
        .split('\r')
        .filter(|f| f.contains(" 50%[") && f.contains("--.-KB/s"))
        .count();
    assert!(stalled >= 2, "{}", r.err);
    assert!(r.err.contains(" saved [300000/300000]\n"));
    // The stall is in the total time: 0.3 s of data + 8 s.
    assert!(r.err.contains("    in 8.3s"), "{}", r.err);
}

#[tokio::test]
async fn a_stall_waits_for_real_at_scale_one_only() {
    let fault = Fault::StallAt {
        percent: 50,
        stall_ms: Some(600),
    };
    let r = run_opts(
        "wget",
        &wget(&[]),
        Some(fault),
        1.0,
        false,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.wall >= Duration::from_millis(900), "{:?}", r.wall);
    let r = run(
        "wget",
        &wget(&[]),
        Fault::StallAt {
            percent: 50,
            stall_ms: Some(600_000),
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.wall < Duration::from_secs(2), "{:?}", r.wall);
}

#[tokio::test]
async fn wget_slow_caps_the_rate() {
    let r = run(
        "wget",
        &wget(&[]),
        Fault::Slow {
            bytes_per_s: 100_000,
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.contains("(97.7 KB/s) - "), "{}", r.err);
}

#[tokio::test]
async fn wget_dns_failure_and_refusal_exit_4() {
    let r = run("wget", &wget(&[]), Fault::DnsFailure).await;
    assert_eq!(r.rc, Some(4));
    assert!(r.err.contains(
        "Resolving files.example (files.example)... failed: Name or service not known.\nwget: unable to resolve host address "
    ));
    let r = run("wget", &wget(&[]), Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(4));
    assert!(r.err.ends_with(":80... failed: Connection refused.\n"));
}

#[tokio::test]
async fn wget_disk_full_cannot_write_exit_3() {
    let r = run(
        "wget",
        &wget(&["--tries=3"]),
        Fault::DiskFull { percent: 50 },
    )
    .await;
    assert_eq!(r.rc, Some(3));
    assert!(
        r.err
            .ends_with("\n\nCannot write to 'x.bin' (No space left on device).\n")
            || r.err
                .ends_with("\n\nCannot write to ‘x.bin’ (No space left on device).\n"),
        "{}",
        r.err
    );
    assert!(!r.err.contains("(try:"));
    assert_eq!(r.size("/workspace/x.bin"), Some(150_000));
}

#[tokio::test]
async fn wget_disconnect_stops_near_the_percent() {
    let r = run("wget", &wget(&[]), Fault::DisconnectAt { percent: 40 }).await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!r.err.contains("saved"));
    let last_pct: u32 = r
        .err
        .lines()
        .filter_map(|l| l.split('%').next()?.rsplit(' ').next()?.parse().ok())
        .next_back()
        .expect("a dot row");
    assert!((30..=45).contains(&last_pct), "{last_pct}: {}", r.err);
    let size = r.size("/workspace/x.bin").unwrap();
    assert!((120_000..=140_000).contains(&size), "{size}");

    let r = run("wget", &wget(&[]), Fault::DisconnectAt { percent: 0 }).await;
    assert!(r.plan.session.disconnect_requested());
    assert!(
        r.err.ends_with("Saving to: 'x.bin'\n") || r.err.ends_with("Saving to: ‘x.bin’\n"),
        "{}",
        r.err
    );
    assert_eq!(r.size("/workspace/x.bin"), Some(0));
}

// ---------------------------------------------------------------- civitdl

fn completed(r: &Ran) -> bool {
    r.out
        .contains("Download completed for \"Detail Tweaker LoRA\"")
}

#[tokio::test]
async fn civitdl_http_404_is_the_metadata_api_error_then_a_retry() {
    let r = run("civitdl", CIV, Fault::Http { status: 404 }).await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.contains("APIException (API Status Code 404):"));
    assert!(r.err.contains("Downloading metadata from CivitAI for \"123456\" failed when trying to request metadata from \"https://civitai.com/api/v1/models/123456\""));
    assert!(r.out.starts_with(
        "---------\n---------\n\x1b[36mRetrying to download the current model...\x1b[0m\n"
    ));
    assert!(completed(&r));
    assert_eq!(r.size(MODEL_FILE), Some(MODEL_SIZE));
}

#[tokio::test]
async fn civitdl_http_401_403_5xx_hit_the_download_request() {
    let r = run("civitdl", CIV, Fault::Http { status: 401 }).await;
    assert!(r.err.contains("InputException (Bad Inputs):"));
    assert!(r.err.contains("requires a valid API Key"));
    assert_eq!(r.out.matches("Now downloading").count(), 2);
    assert!(completed(&r));

    let r = run("civitdl", CIV, Fault::Http { status: 403 }).await;
    assert!(r
        .out
        .contains("\x1b[33mModel is behind CivitAI's early access restriction"));
    assert!(r.err.contains("APIException (API Status Code 403):"));

    for status in [429, 500, 503] {
        let r = run("civitdl", CIV, Fault::Http { status }).await;
        assert_eq!(r.rc, Some(0));
        assert!(r
            .err
            .contains(&format!("APIException (API Status Code {status}):")));
        assert!(r.err.contains(
            "Downloading model from CivitAI failed for model id, 123456, and version id, 124456"
        ));
        assert!(completed(&r));
    }
}

#[tokio::test]
async fn civitdl_dns_and_refused_are_requests_errors() {
    let r = run("civitdl", CIV, Fault::DnsFailure).await;
    assert!(r.err.contains("\x1b[31mHTTPSConnectionPool(host='civitai.com', port=443): Max retries exceeded with url: /api/v1/models/123456 (Caused by NameResolutionError(\"HTTPSConnection(host='civitai.com', port=443): Failed to resolve 'civitai.com' ([Errno -2] Name or service not known)\"))\x1b[0m \n\n"), "{}", r.err);
    assert!(completed(&r));
    let r = run("civitdl", CIV, Fault::ConnectionRefused).await;
    assert!(r
        .err
        .contains("Failed to establish a new connection: [Errno 111] Connection refused\"))"));
    assert!(completed(&r));
}

#[tokio::test]
async fn civitdl_drop_is_a_chunked_encoding_error_then_a_retry() {
    let r = run("civitdl", CIV, Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.contains("(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", ConnectionResetError(104, 'Connection reset by peer'))"));
    assert!(
        r.out.contains("\rModel:  50%|█████     | 1.50M/3.00M"),
        "{}",
        r.out
    );
    assert!(r.out.contains("Retrying to download the current model..."));
    assert!(completed(&r));
    assert_eq!(r.size(MODEL_FILE), Some(MODEL_SIZE));
}

#[tokio::test]
async fn civitdl_disk_full_fails_every_try_and_leaves_the_partial_file() {
    let r = run("civitdl", CIV, Fault::DiskFull { percent: 50 }).await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(
        r.err
            .matches("\x1b[31m[Errno 28] No space left on device\x1b[0m \n\n")
            .count(),
        2
    );
    assert!(r
        .out
        .contains("Max retry of 1 reached. Skipping the current model..."));
    assert!(!completed(&r));
    assert_eq!(r.size(MODEL_TMP), Some(MODEL_SIZE / 2));
    assert_eq!(r.size(MODEL_FILE), None);
}

#[tokio::test]
async fn civitdl_stalls_wait_and_forever_never_ends() {
    let r = run(
        "civitdl",
        CIV,
        Fault::StallAt {
            percent: 50,
            stall_ms: Some(30_000),
        },
    )
    .await;
    assert!(completed(&r));
    assert!(r.out.contains("[00:33<00:00"), "{}", r.out);
    let r = run_opts(
        "civitdl",
        CIV,
        Some(Fault::StallAt {
            percent: 50,
            stall_ms: None,
        }),
        0.0,
        false,
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(r.rc, None, "a forever stall never exits");
    assert!(!completed(&r));
}

#[tokio::test]
async fn civitdl_slow_caps_the_rate() {
    let r = run(
        "civitdl",
        CIV,
        Fault::Slow {
            bytes_per_s: 100_000,
        },
    )
    .await;
    assert!(completed(&r));
    assert!(
        r.out.contains("| 3.00M/3.00M [00:30<00:00, 100kiB/s]"),
        "{}",
        r.out
    );
}

#[tokio::test]
async fn civitdl_disconnect_stops_near_the_percent() {
    let r = run("civitdl", CIV, Fault::DisconnectAt { percent: 40 }).await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!completed(&r));
    assert!(!r.out.contains("Retrying"));
    let last = r.out.rsplit('\r').next().unwrap_or_default();
    assert!(
        last.starts_with("Model:  3") || last.starts_with("Model:  4"),
        "{last:?}"
    );
}
