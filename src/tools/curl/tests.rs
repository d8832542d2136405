//! curl through a real [`Ctx`]: every tool-depth fault with curl's own
//! wording and exit code and the file it leaves, and the options beyond
//! the captures (`-I`, `-i`, `-w`, `-d @-`, `-C -`, `--retry`, `-v`, ...).

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan};
use crate::instance::Instance;
use crate::net::catalog::FileEntry;
use crate::net::Catalog;
use crate::tools::test_run;

const URL: &str = "http://files.example/x.bin";
const JSON: &str = "http://files.example/config.json";
const SIZE: u64 = 300_000;
const BIG: &str = "http://files.example/sd_xl_base_1.0.safetensors";

struct Ran {
    out: Vec<u8>,
    err: String,
    rc: Option<i32>,
    inst: Arc<Instance>,
    plan: FaultPlan,
}

impl Ran {
    fn size(&self, path: &str) -> Option<u64> {
        std::fs::metadata(self.inst.sandbox.host_path(path))
            .ok()
            .map(|m| m.len())
    }
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
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
    c.files.insert(
        BIG.into(),
        FileEntry {
            size: Some(6_500_000_000),
            rate_bytes_per_s: Some(50_000_000.0),
            ..FileEntry::default()
        },
    );
    c.files.insert(
        JSON.into(),
        FileEntry {
            size: Some(120),
            rate_bytes_per_s: Some(1_000_000.0),
            ..FileEntry::default()
        },
    );
    c
}

/// Options of one run.
#[derive(Default)]
struct With {
    fault: Option<Fault>,
    tty: bool,
    stdin: Option<&'static [u8]>,
    setup: Option<fn(&Arc<Instance>)>,
    limit_ms: Option<u64>,
    scale: f64,
    env: &'static [(&'static str, &'static str)],
}

async fn run_with(args: &[&str], w: With) -> Ran {
    let inst = test_run::instance(catalog(), w.scale);
    if let Some(s) = w.setup {
        s(&inst);
    }
    let plan = test_run::plan(w.fault);
    let call = test_run::Call {
        tool: "curl",
        args,
        env: w.env,
        plan: plan.clone(),
        cols: w.tty.then_some(80),
        stdin: w.stdin,
        limit: Duration::from_millis(w.limit_ms.unwrap_or(20_000)),
    };
    let (out, err, rc) = test_run::run(&inst, call).await;
    Ran {
        out,
        err: String::from_utf8_lossy(&err).into_owned(),
        rc,
        inst,
        plan,
    }
}

async fn run(args: &[&str]) -> Ran {
    run_with(args, With::default()).await
}

async fn fault(args: &[&str], f: Fault) -> Ran {
    run_with(
        args,
        With {
            fault: Some(f),
            ..With::default()
        },
    )
    .await
}

const O: &[&str] = &["-o", "x.bin", URL];

/// The last `\r` segment of the meter before the final `\n`.
fn last_meter_line(err: &str) -> &str {
    err.rsplit('\r').next().unwrap_or("")
}

// ------------------------------------------------------------ faults

#[tokio::test]
async fn http_fault_is_saved_without_f_and_22_with_it() {
    let r = fault(O, Fault::Http { status: 503 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert_eq!(
        r.size("/workspace/x.bin"),
        Some("<html><body>Service Unavailable</body></html>".len() as u64)
    );
    let r = fault(&["-f", "-o", "x.bin", URL], Fault::Http { status: 404 }).await;
    assert_eq!(r.rc, Some(22));
    assert!(r
        .err
        .ends_with("\ncurl: (22) The requested URL returned error: 404\n"));
    assert_eq!(r.size("/workspace/x.bin"), None, "-f writes no file");
}

#[tokio::test]
async fn retry_retries_transient_http_errors_with_curls_warning() {
    let r = fault(
        &["--retry", "3", "-f", "-o", "x.bin", URL],
        Fault::Http { status: 503 },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r.err.contains(
        "curl: (22) The requested URL returned error: 503\nWarning: Problem : HTTP error. Will retry in 1 seconds. 3 retries left.\n"
    ), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
}

#[tokio::test]
async fn drop_is_a_reset_56_and_leaves_the_partial_file() {
    let r = fault(O, Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(56));
    assert!(r
        .err
        .ends_with("\ncurl: (56) Recv failure: Connection reset by peer\n"));
    assert!(
        last_meter_line(&r.err).starts_with(" 50  292k   50  146k"),
        "{}",
        r.err
    );
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE / 2));
}

#[tokio::test]
async fn a_short_stall_waits_and_a_long_one_times_out_with_m() {
    let stall = |ms| Fault::StallAt {
        percent: 50,
        stall_ms: Some(ms),
    };
    let r = fault(O, stall(3_000)).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r.err.contains(" 50  292k   50  146k"), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
    let r = fault(&["-m", "2", "-o", "x.bin", URL], stall(60_000)).await;
    assert_eq!(r.rc, Some(28));
    assert!(r.err.ends_with(
        "\ncurl: (28) Operation timed out after 2001 milliseconds with 150000 out of 300000 bytes received\n"
    ), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE / 2));
    let r = run_with(
        O,
        With {
            fault: Some(Fault::StallAt {
                percent: 50,
                stall_ms: None,
            }),
            limit_ms: Some(300),
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, None, "a dead server without -m is waited on forever");
}

#[tokio::test]
async fn slow_caps_the_rate() {
    let r = fault(
        O,
        Fault::Slow {
            bytes_per_s: 100_000,
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    let last = last_meter_line(&r.err);
    assert!(last.starts_with("100  292k  100  292k"), "{last}");
    assert!(
        last.contains(" 99267      0  0:00:03  0:00:03 --:--:-- 99"),
        "{last}"
    );
}

#[tokio::test]
async fn dns_failure_is_6_and_refused_is_7() {
    let r = fault(O, Fault::DnsFailure).await;
    assert_eq!(r.rc, Some(6));
    assert!(r
        .err
        .ends_with("--:--:--     0curl: (6) Could not resolve host: files.example\n"));
    let r = fault(O, Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(7));
    assert!(r
        .err
        .contains("\ncurl: (7) Failed to connect to files.example port 80 after "));
    assert!(r.err.ends_with(" ms: Couldn't connect to server\n"));
    assert_eq!(r.size("/workspace/x.bin"), None);
}

#[tokio::test]
async fn disk_full_is_23_and_keeps_what_was_written() {
    let r = fault(O, Fault::DiskFull { percent: 40 }).await;
    assert_eq!(r.rc, Some(23));
    assert!(r
        .err
        .ends_with("\ncurl: (23) Failure writing output to destination\n"));
    assert_eq!(r.size("/workspace/x.bin"), Some(120_000));
}

#[tokio::test]
async fn disconnect_stops_near_the_percent() {
    let r = fault(O, Fault::DisconnectAt { percent: 40 }).await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!r.err.contains("curl: ("));
    let size = r.size("/workspace/x.bin").unwrap();
    assert!((100_000..=140_000).contains(&size), "{size}");
}

// ------------------------------------------------------------ options

#[tokio::test]
async fn usage_errors_exit_2() {
    let r = run(&["--foo"]).await;
    assert_eq!(r.rc, Some(2));
    assert_eq!(
        r.err,
        "curl: option --foo: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"
    );
    let r = run(&[]).await;
    assert_eq!(r.rc, Some(2));
    assert!(r
        .err
        .ends_with("curl: try 'curl --help' or 'curl --manual' for more information\n"));
    let r = run(&["--version"]).await;
    assert!(r
        .out()
        .starts_with("curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1"));
    let r = run(&["--help"]).await;
    assert!(r
        .out()
        .starts_with("Usage: curl [options...] <url>\n -d, --data <data>"));
    let r = run(&["htp://x/y"]).await;
    assert_eq!(r.rc, Some(1));
    assert_eq!(
        r.err,
        "curl: (1) Protocol \"htp\" not supported or disabled in libcurl\n"
    );
}

#[tokio::test]
async fn body_to_stdout_is_the_files_bytes() {
    let r = run(&["-s", URL]).await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(r.out.len() as u64, SIZE);
    assert!(r.out.iter().all(|b| *b == 0));
    assert!(r.err.is_empty());
    let r = run(&["-s", JSON]).await;
    assert_eq!(r.out.len(), 120);
    assert!(
        r.out().starts_with("{\"name\":\"config.json\""),
        "{}",
        r.out()
    );
    let r = run(&["-o", "c.json", "-s", JSON]).await;
    let saved = std::fs::read(r.inst.sandbox.host_path("/workspace/c.json")).unwrap();
    assert_eq!(saved, run(&["-s", JSON]).await.out, "same seed, same bytes");
}

#[tokio::test]
async fn binary_to_a_terminal_is_refused_with_23() {
    let r = run_with(
        &[URL],
        With {
            tty: true,
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(23));
    assert!(r
        .err
        .starts_with("Warning: Binary output can mess up your terminal."));
    assert!(r.out.is_empty());
    let r = run_with(
        &["-o", "-", JSON],
        With {
            tty: true,
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.is_empty(), "no meter for a terminal stdout");
}

#[tokio::test]
async fn head_include_and_write_out() {
    let r = run(&["-sI", URL]).await;
    let out = r.out();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("\r\nContent-Length: 300000\r\n"));
    assert!(out.ends_with("\r\n\r\n"));
    let r = run(&["-si", JSON]).await;
    let out = r.out();
    assert!(out.contains("Content-Type: application/json\r\n"), "{out}");
    assert!(out.contains("\r\n\r\n{\"name\""), "{out}");
    let r = run(&[
        "-s",
        "-o",
        "x.bin",
        "-w",
        "%{http_code} %{size_download} %{url_effective} %{filename_effective}\\n",
        URL,
    ])
    .await;
    assert_eq!(r.out(), format!("200 300000 {URL} x.bin\n"));
    let r = run(&["-s", "-o", "/dev/null", "-w", "%{time_total}", URL]).await;
    let t: f64 = r.out().parse().unwrap();
    assert!((0.25..0.5).contains(&t), "{t}");
}

#[tokio::test]
async fn post_data_from_stdin_and_the_verbose_trace() {
    let r = run_with(
        &[
            "-v",
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "@-",
            JSON,
        ],
        With {
            stdin: Some(b"{\"prompt\": {}}"),
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.err.contains("> POST /config.json HTTP/1.1\r\n"),
        "{}",
        r.err
    );
    assert!(r.err.contains("> Content-Type: application/json\r\n"));
    assert!(r.err.contains("> Content-Length: 14\r\n"));
    assert!(r.err.contains("} [14 bytes data]\n"));
    assert!(r.err.contains("< HTTP/1.1 200 OK\r\n"));
    assert!(r.err.contains("< \r\n{ [120 bytes data]\n"), "{}", r.err);
}

#[tokio::test]
async fn localhost_without_a_service_is_refused() {
    let r = run(&[
        "-s",
        "-X",
        "POST",
        "http://localhost:18188/prompt",
        "-d",
        "{}",
    ])
    .await;
    assert_eq!(r.rc, Some(7));
    assert!(r.err.is_empty(), "-s hides the error");
    let r = run(&["-sS", "http://localhost:18188/prompt"]).await;
    assert_eq!(
        r.err,
        "curl: (7) Failed to connect to localhost port 18188 after 0 ms: Couldn't connect to server\n"
    );
}

#[tokio::test]
async fn resume_continues_and_a_complete_file_answers_416() {
    fn half(i: &Arc<Instance>) {
        super::super::golden::cases::sized(i, "/workspace/x.bin", SIZE / 2);
    }
    fn whole(i: &Arc<Instance>) {
        super::super::golden::cases::sized(i, "/workspace/x.bin", SIZE);
    }
    let r = run_with(
        &["-C", "-", "-o", "x.bin", URL],
        With {
            setup: Some(half),
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r
        .err
        .starts_with("** Resuming transfer from byte position 150000\n  % Total"));
    assert!(
        last_meter_line(&r.err).starts_with("100  146k  100  146k"),
        "{}",
        r.err
    );
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
    let r = run_with(
        &["-C", "-", "-o", "x.bin", URL],
        With {
            setup: Some(whole),
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
}

#[tokio::test]
async fn output_dir_and_create_dirs() {
    let r = run(&["-s", "-O", "--output-dir", "m/loras", URL]).await;
    assert_eq!(r.rc, Some(23));
    let r = run(&["-sS", "-O", "--create-dirs", "--output-dir", "m/loras", URL]).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert_eq!(r.size("/workspace/m/loras/x.bin"), Some(SIZE));
    let r = run(&["-s", "--remote-name-all", URL, JSON]).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
    assert_eq!(r.size("/workspace/config.json"), Some(120));
}

#[tokio::test]
async fn retry_on_timeout_throws_away_the_partial_bytes() {
    let r = fault(
        &["--retry", "2", "-m", "1", "-o", "x.bin", URL],
        Fault::StallAt {
            percent: 50,
            stall_ms: Some(5_000),
        },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r.err.contains("\ncurl: (28) Operation timed out after 1001 milliseconds with 150000 out of 300000 bytes received\nWarning: Problem : timeout. Will retry in 1 seconds. 2 retries left.\nThrowing away 150000 bytes\n"), "{}", r.err);
    assert_eq!(r.size("/workspace/x.bin"), Some(SIZE));
}

#[tokio::test]
async fn fail_with_body_saves_the_page_then_fails_22() {
    let r = fault(
        &["--fail-with-body", "-o", "x.bin", URL],
        Fault::Http { status: 500 },
    )
    .await;
    assert_eq!(r.rc, Some(22));
    assert!(r
        .err
        .ends_with("\ncurl: (22) The requested URL returned error: 500\n"));
    assert_eq!(
        r.size("/workspace/x.bin"),
        Some("<html><body>Internal Server Error</body></html>".len() as u64)
    );
}

#[tokio::test]
async fn malformed_urls_are_3_and_a_nameless_o_is_23() {
    let r = run(&["http://"]).await;
    assert_eq!(r.rc, Some(3));
    assert_eq!(
        r.err,
        "curl: (3) URL using bad/illegal format or missing URL\n"
    );
    let r = run(&["-O", "http://files.example/"]).await;
    assert_eq!(r.rc, Some(23));
    assert_eq!(r.err, "curl: Remote file name has no length!\n");
}

#[tokio::test]
async fn the_progress_bar_ends_with_a_newline_after_the_error() {
    let r = fault(&["-#", "-o", "x.bin", URL], Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(56));
    assert!(r.err.starts_with("\r###"), "{:?}", r.err);
    assert!(
        r.err
            .ends_with(" 50.0%curl: (56) Recv failure: Connection reset by peer\n\n"),
        "{:?}",
        r.err
    );
}

#[tokio::test]
async fn a_big_download_is_quick_at_scale_0_and_leaves_a_sparse_file() {
    let t0 = std::time::Instant::now();
    let r = run(&["-o", "big.safetensors", BIG]).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(r.size("/workspace/big.safetensors"), Some(6_500_000_000));
    let last = last_meter_line(&r.err);
    assert!(
        last.starts_with("100 6198M  100 6198M    0     0  47.6M      0 "),
        "{last}"
    );
    assert!(last.contains(" 0:02:10  0:02:10 --:--:-- "), "{last}");
    assert!(r.err.matches('\r').count() > 100);
}

#[tokio::test]
async fn a_stall_waits_for_real_at_scale_one() {
    let t0 = std::time::Instant::now();
    let r = run_with(
        O,
        With {
            fault: Some(Fault::StallAt {
                percent: 50,
                stall_ms: Some(700),
            }),
            scale: 1.0,
            ..With::default()
        },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn the_bar_is_columns_wide() {
    let r = run_with(
        &["-#", "-o", "x.bin", URL],
        With {
            env: &[("COLUMNS", "100")],
            ..With::default()
        },
    )
    .await;
    let last = r
        .err
        .trim_end_matches('\n')
        .rsplit('\r')
        .next()
        .unwrap_or_default();
    assert_eq!(last, format!("{} 100.0%", "#".repeat(93)));
    let r = run_with(
        &["-#", "-o", "x.bin", URL],
        With {
            env: &[("COLUMNS", "12")],
            tty: true,
            ..With::default()
        },
    )
    .await;
    let last = r
        .err
        .trim_end_matches('\n')
        .rsplit('\r')
        .next()
        .unwrap_or_default();
    assert_eq!(last.len(), 80, "a terminal of 80 when COLUMNS is too small");
}
