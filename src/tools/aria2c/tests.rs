//! aria2c through a real [`Ctx`]: every tool-depth fault with aria2's own
//! exception trace, exit code and the files it leaves (the download, its
//! `.aria2` control file), and the options download scripts use.

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan};
use crate::instance::Instance;
use crate::net::catalog::FileEntry;
use crate::net::Catalog;
use crate::program::{Ctx, Input, Output};
use crate::tools::test_run;

const URL: &str = "http://files.example/x.bin";
const URL2: &str = "http://files.example/y.bin";
const CD_URL: &str = "http://files.example/dl?id=7";
const LOOP: &str = "http://files.example/loop";
const GO: &str = "http://files.example/go";
const HUGE: &str = "http://files.example/huge.safetensors";
const SIZE: u64 = 3_000_000;
const FILE: &str = "/workspace/x.bin";

struct Ran {
    out: String,
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
}

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    for (url, name) in [
        (URL, None),
        (URL2, None),
        (CD_URL, Some("model.safetensors")),
    ] {
        c.files.insert(
            url.into(),
            FileEntry {
                size: Some(SIZE),
                rate_bytes_per_s: Some(1_000_000.0),
                filename: name.map(str::to_string),
                ..FileEntry::default()
            },
        );
    }
    c.files.insert(
        HUGE.into(),
        FileEntry {
            size: Some(6_500_000_000),
            rate_bytes_per_s: Some(200_000_000.0),
            ..FileEntry::default()
        },
    );
    for (from, to) in [(LOOP, LOOP), (GO, URL)] {
        c.files.insert(
            from.into(),
            FileEntry {
                status: Some(307),
                location: Some(to.into()),
                ..FileEntry::default()
            },
        );
    }
    c
}

type Setup = fn(&Arc<Instance>);

async fn run_with(args: &[&str], fault: Option<Fault>, tty: bool, setup: Option<Setup>) -> Ran {
    let inst = test_run::instance(catalog(), 0.0);
    if let Some(f) = setup {
        f(&inst);
    }
    let plan = test_run::plan(fault);
    let call = test_run::Call {
        tool: "aria2c",
        args,
        env: &[],
        plan: plan.clone(),
        cols: tty.then_some(80),
        stdin: None,
        limit: Duration::from_secs(20),
    };
    let (out, err, rc) = test_run::run(&inst, call).await;
    Ran {
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
        rc,
        inst,
        plan,
    }
}

async fn run(args: &[&str], fault: Fault) -> Ran {
    run_with(args, Some(fault), false, None).await
}

async fn plain(args: &[&str]) -> Ran {
    run_with(args, None, false, None).await
}

fn with_url<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = extra.to_vec();
    v.push(URL);
    v
}

/// The trace aria2 logs for an aborted download (`DlAbortEx`).
fn abort_trace(code: i32, at: &str, msg: &str) -> String {
    format!(
        "] CUID#7 - Download aborted. URI={URL}\nException: [AbstractCommand.cc:351] errorCode={code} URI={URL}\n  -> [{at}] errorCode={code} {msg}\n"
    )
}

fn assert_failed_tail(r: &Ran) {
    assert!(r.out.contains("|ERR |"), "{}", r.out);
    assert!(r.out.ends_with("(ERR):error occurred.\n\naria2 will resume download if the transfer is restarted.\nIf there are any errors, then see the log file. See '-l' option in help/man page for details.\n"), "{}", r.out);
    assert!(r.err.is_empty());
}

#[tokio::test]
async fn a_download_prints_aria2s_readout_and_results_and_leaves_the_file() {
    let r = plain(&[URL]).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    let gid = r.out.split("[#").nth(1).unwrap()[..6].to_string();
    assert!(gid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(r
        .out
        .starts_with("\n11/26 09:46:55 [\x1b[1;32mNOTICE\x1b[0m] Downloading 1 item(s)\n"));
    assert!(
        r.out.contains(&format!(
            "[#{gid} 0.9MiB/2.8MiB(32%) CN:1 DL:0.9MiB ETA:2s]\n"
        )),
        "{}",
        r.out
    );
    assert!(r.out.contains("(99%) CN:1 DL:0.9MiB]\n\n"));
    assert!(r.out.contains("NOTICE\x1b[0m] Download complete: /workspace/x.bin\n\nDownload Results:\ngid   |stat|avg speed  |path/URI\n"));
    assert!(r.out.contains(&format!(
        "\n{gid}|OK  |   0.9MiB/s|/workspace/x.bin\n\nStatus Legend:\n(OK):download completed.\n"
    )));
    assert!(!r.out.contains("resume download"));
    assert_eq!(r.size(FILE), Some(SIZE));
    assert_eq!(r.size("/workspace/x.bin.aria2"), None);
    let again = plain(&[URL]).await;
    assert_eq!(again.out, r.out, "same seed, same bytes");
}

#[tokio::test]
async fn a_tty_gets_the_erased_coloured_readout_cut_to_the_width() {
    let r = run_with(&[URL], None, true, None).await;
    assert_eq!(r.rc, Some(0));
    let blank = format!("\r{}\r", " ".repeat(79));
    assert!(
        r.out.contains(&format!("{blank}\x1b[35m[\x1b[0m#")),
        "{:?}",
        r.out
    );
    assert!(r
        .out
        .contains(" CN:1 DL:\x1b[32m0.9MiB\x1b[0m ETA:\x1b[33m2s\x1b[0m\x1b[35m]\x1b[0m\x1b[0m"));
    assert!(r.out.contains("|\x1b[1;32mOK\x1b[0m  |"));
    assert!(!r.out.contains("]\n["), "no plain lines on a tty");
}

#[tokio::test]
async fn http_fault_statuses_end_with_aria2s_codes() {
    for (status, code, at, msg) in [
        (
            404,
            3,
            "HttpSkipResponseCommand.cc:218",
            "Resource not found".to_string(),
        ),
        (
            401,
            24,
            "HttpSkipResponseCommand.cc:215",
            "Authorization failed.".to_string(),
        ),
        (
            500,
            22,
            "HttpSkipResponseCommand.cc:239",
            "The response status is not successful. status=500".to_string(),
        ),
        (
            503,
            29,
            "HttpSkipResponseCommand.cc:231",
            "The response status is not successful. status=503".to_string(),
        ),
        (
            403,
            22,
            "HttpSkipResponseCommand.cc:239",
            "The response status is not successful. status=403".to_string(),
        ),
    ] {
        let r = run(&[URL], Fault::Http { status }).await;
        assert_eq!(r.rc, Some(code), "{status}: {}", r.out);
        assert!(
            r.out.contains(&abort_trace(code, at, &msg)),
            "{status}: {}",
            r.out
        );
        assert!(r.out.contains(" 0B/0B CN:0 DL:0B]\n"), "{}", r.out);
        assert!(r.out.contains(" not complete: \n"));
        assert!(r.out.contains(&format!("|ERR |       0B/s|{URL}\n")));
        assert_failed_tail(&r);
        assert_eq!(r.size(FILE), None);
    }
    // 504 is retried, as is 503 with --retry-wait.
    let r = run(&[URL], Fault::Http { status: 504 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert!(!r.out.contains("ERROR"));
    let r = run(&with_url(&["--retry-wait=2"]), Fault::Http { status: 503 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert_eq!(r.size(FILE), Some(SIZE));
}

#[tokio::test]
async fn a_reset_is_retried_and_resumed_or_ends_with_code_1() {
    let r = run(&[URL], Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert!(
        !r.out.contains("ERROR"),
        "retries are INFO: not on the console"
    );
    assert_eq!(r.size(FILE), Some(SIZE));
    assert_eq!(r.size("/workspace/x.bin.aria2"), None);

    let r = run(&with_url(&["--max-tries=1"]), Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(1), "{}", r.out);
    assert!(r.out.contains(&format!(
        "] CUID#7 - Download aborted. URI={URL}\nException: [SocketCore.cc:874] errorCode=1 Failed to receive data, cause: Connection reset by peer\n"
    )), "{}", r.out);
    assert!(r.out.contains(" not complete: /workspace/x.bin\n"));
    assert!(r.out.contains("|ERR |"));
    assert_failed_tail(&r);
    // Preallocated, and the control file stays for a rerun to resume.
    assert_eq!(r.size(FILE), Some(SIZE));
    assert!(r.size("/workspace/x.bin.aria2").is_some());
}

#[tokio::test]
async fn a_stall_times_out_after_timeout_then_retries() {
    let stall = || Fault::StallAt {
        percent: 25,
        stall_ms: None,
    };
    let r = run(&with_url(&["--timeout=5"]), stall()).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert!(r.out.contains("(25%) CN:1 DL:0B]\n"), "{}", r.out);
    assert_eq!(r.size(FILE), Some(SIZE));

    let r = run(&with_url(&["--timeout=5", "-m", "1"]), stall()).await;
    assert_eq!(r.rc, Some(2), "{}", r.out);
    assert!(r
        .out
        .contains("Exception: [AbstractCommand.cc:340] errorCode=2 Timeout.\n"));
    assert!(
        r.out.matches("(25%) CN:1 DL:0B]\n").count() >= 4,
        "{}",
        r.out
    );
    assert_failed_tail(&r);

    let r = run(
        &[URL],
        Fault::StallAt {
            percent: 25,
            stall_ms: Some(2500),
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.out.contains("(25%) CN:1 DL:0B]\n"), "{}", r.out);
}

#[tokio::test]
async fn slow_caps_the_rate_on_every_try() {
    let r = run(
        &[URL],
        Fault::Slow {
            bytes_per_s: 300_000,
        },
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.out.contains(" CN:1 DL:292KiB ETA:"), "{}", r.out);
    assert!(r.out.matches(" CN:1 DL:").count() >= 9);
    assert!(
        r.out.contains("|   290KiB/s|/workspace/x.bin\n"),
        "{}",
        r.out
    );
}

#[tokio::test]
async fn slow_under_lowest_speed_limit_is_code_5_after_ten_seconds() {
    let r = run(
        &with_url(&["--lowest-speed-limit=200K"]),
        Fault::Slow {
            bytes_per_s: 100_000,
        },
    )
    .await;
    assert_eq!(r.rc, Some(5), "{}", r.out);
    assert!(
        r.out.contains(&abort_trace(
            5,
            "DownloadCommand.cc:309",
            "Too slow Downloading speed: 100000 <= 204800(B/s), host:files.example"
        )),
        "{}",
        r.out
    );
    assert_eq!(r.out.matches(" CN:1 DL:97KiB").count(), 11, "{}", r.out);
    assert_failed_tail(&r);
}

#[tokio::test]
async fn dns_failure_is_code_19() {
    let r = run(&[URL], Fault::DnsFailure).await;
    assert_eq!(r.rc, Some(19));
    assert!(
        r.out.contains(&abort_trace(
            19,
            "AbstractCommand.cc:789",
            "CUID#7 - Name resolution for files.example failed:Domain name not found"
        )),
        "{}",
        r.out
    );
    assert!(r.out.contains(&format!("|ERR |        n/a|{URL}\n")));
    assert!(!r.out.contains("CN:"), "no readout before the end");
    assert_failed_tail(&r);
}

#[tokio::test]
async fn a_refused_connection_is_retried_or_ends_with_code_1() {
    let r = run(&[URL], Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert_eq!(r.size(FILE), Some(SIZE));
    let r = run(&with_url(&["-m1"]), Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.out.contains(&format!(
        "] CUID#7 - Download aborted. URI={URL}\nException: [AbstractCommand.cc:856] errorCode=1 Failed to establish connection, cause: Connection refused\n"
    )), "{}", r.out);
    assert_failed_tail(&r);
}

#[tokio::test]
async fn a_full_disk_is_code_9_at_once() {
    let r = run(&[URL], Fault::DiskFull { percent: 40 }).await;
    assert_eq!(r.rc, Some(9), "{}", r.out);
    assert!(r.out.contains(&format!(
        "Exception: [AbstractCommand.cc:403] errorCode=9 URI={URL}\n  -> [AbstractDiskWriter.cc:453] errorCode=9 Failed to write into the file /workspace/x.bin, cause: No space left on device\n"
    )), "{}", r.out);
    assert_failed_tail(&r);
    assert!(r.size("/workspace/x.bin.aria2").is_some());
    let r = run(
        &with_url(&["--file-allocation=none"]),
        Fault::DiskFull { percent: 40 },
    )
    .await;
    assert_eq!(r.rc, Some(9));
    assert_eq!(r.size(FILE), Some(SIZE * 40 / 100));
}

#[tokio::test]
async fn a_disconnect_stops_the_transfer_near_its_percent() {
    let r = run(
        &with_url(&["--file-allocation=none"]),
        Fault::DisconnectAt { percent: 40 },
    )
    .await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!r.out.contains("Download Results"));
    assert_eq!(r.size(FILE), Some(SIZE * 40 / 100));
    assert!(
        r.size("/workspace/x.bin.aria2").is_some(),
        "the control file is there mid-download"
    );
}

#[tokio::test]
async fn an_existing_file_is_renamed_refused_overwritten_or_resumed() {
    fn half(i: &Arc<Instance>) {
        let p = i.sandbox.host_path(FILE);
        std::fs::File::create(p).unwrap().set_len(SIZE / 2).unwrap();
    }
    let r = run_with(&[URL], None, false, Some(half)).await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.out
            .contains("] File already exists. Renamed to /workspace/x.1.bin.\n"),
        "{}",
        r.out
    );
    assert_eq!(r.size("/workspace/x.1.bin"), Some(SIZE));
    assert_eq!(r.size(FILE), Some(SIZE / 2));

    let r = run_with(
        &with_url(&["--auto-file-renaming=false"]),
        None,
        false,
        Some(half),
    )
    .await;
    assert_eq!(r.rc, Some(13));
    assert!(r.out.contains(&format!("Exception: [AbstractCommand.cc:403] errorCode=13 URI={URL}\n  -> [RequestGroup.cc:783] errorCode=13 File /workspace/x.bin exists, but a control file(*.aria2) does not exist.")), "{}", r.out);

    let r = run_with(
        &with_url(&["--allow-overwrite=true"]),
        None,
        false,
        Some(half),
    )
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(!r.out.contains("Renamed"));
    assert_eq!(r.size(FILE), Some(SIZE));

    let r = run_with(&with_url(&["-c"]), None, false, Some(half)).await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.out.contains("1.4MiB/2.8MiB(50%)") || r.out.contains("(8"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("(32%)"), "resumed from the half: {}", r.out);
    assert_eq!(r.size(FILE), Some(SIZE));

    fn full(i: &Arc<Instance>) {
        let p = i.sandbox.host_path(FILE);
        std::fs::File::create(p).unwrap().set_len(SIZE).unwrap();
    }
    let r = run_with(&with_url(&["-c"]), None, false, Some(full)).await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.out
            .contains(" - Download has already completed: /workspace/x.bin\n"),
        "{}",
        r.out
    );
    assert!(r.out.contains("|OK  |        n/a|/workspace/x.bin\n"));
}

#[tokio::test]
async fn a_control_file_left_by_a_failure_resumes_the_rerun() {
    let r = run(&with_url(&["-m", "1"]), Fault::DropAt { percent: 70 }).await;
    assert_eq!(r.rc, Some(1));
    let inst = r.inst.clone();
    let program = crate::tools::lookup("aria2c").unwrap();
    let (out, cap) = Output::capture();
    let mut ctx = Ctx {
        argv: vec!["aria2c".into(), URL.into()],
        env: inst.login_env("root"),
        cwd: "/workspace".into(),
        stdin: Input::empty(),
        stdout: out,
        stderr: Output::null(),
        instance: inst.clone(),
        faults: Default::default(),
    };
    let rc = program.run(&mut ctx).await;
    let text = cap.text();
    assert_eq!(rc, 0, "{text}");
    assert!(!text.contains("Renamed"), "{text}");
    // 2 MiB were recorded as done: the rest takes less than a second.
    assert!(!text.contains(" CN:1 "), "{text}");
    assert!(text.contains("Download complete: /workspace/x.bin\n"));
    assert_eq!(r.size(FILE), Some(SIZE));
    assert_eq!(r.size("/workspace/x.bin.aria2"), None);
}

#[tokio::test]
async fn content_disposition_names_the_file_unless_out_is_given() {
    let r = plain(&["-d", "/workspace/m", CD_URL]).await;
    assert_eq!(r.rc, Some(0));
    assert!(r
        .out
        .contains("Download complete: /workspace/m/model.safetensors\n"));
    assert_eq!(r.size("/workspace/m/model.safetensors"), Some(SIZE));
    let r = plain(&["-d", "/workspace/m", "-o", "mine.bin", CD_URL]).await;
    assert_eq!(r.size("/workspace/m/mine.bin"), Some(SIZE));
}

#[tokio::test]
async fn several_downloads_share_the_compact_readout() {
    fn list(i: &Arc<Instance>) {
        std::fs::write(
            i.sandbox.host_path("/workspace/list.txt"),
            format!("{URL}\n  out=a.bin\n{URL2}\n"),
        )
        .unwrap();
    }
    let r = run_with(&["-i", "list.txt"], None, false, Some(list)).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert!(!r.out.contains("Downloading"), "-i announces no item count");
    let line = r
        .out
        .lines()
        .find(|l| l.starts_with("[DL:"))
        .expect("compact readout");
    assert!(
        line.contains("][#") && line.matches("(32%)]").count() == 2,
        "{line}"
    );
    assert_eq!(r.size("/workspace/a.bin"), Some(SIZE));
    assert_eq!(r.size("/workspace/y.bin"), Some(SIZE));
    assert_eq!(r.out.matches("|OK  |").count(), 2);
    // A fault acts on the first try of each download: both fail, one after the other.
    let r = run_with(
        &["-i", "list.txt", "--max-concurrent-downloads=1"],
        Some(Fault::Http { status: 404 }),
        false,
        Some(list),
    )
    .await;
    assert_eq!(r.rc, Some(3), "{}", r.out);
    assert_eq!(r.out.matches("|ERR |").count(), 2, "{}", r.out);
    assert!(r
        .out
        .contains("] CUID#8 - Download aborted. URI=http://files.example/y.bin\n"));
}

#[tokio::test]
async fn the_summary_comes_every_summary_interval() {
    let r = plain(&with_url(&[
        "--summary-interval=1",
        "--max-download-limit=500K",
    ]))
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.out
            .contains(" *** Download Progress Summary as of Thu Nov 26 09:46:56 2026 *** \n"),
        "{}",
        r.out
    );
    assert!(r.out.contains(&format!("\n{}\n[#", "=".repeat(79))));
    assert!(r.out.contains(&format!(
        "\nFILE: /workspace/x.bin\n{}\n\n[#",
        "-".repeat(79)
    )));
    let r = plain(&[URL]).await;
    assert!(!r.out.contains("Summary"));
}

#[tokio::test]
async fn quiet_and_log_levels_hide_what_they_hide() {
    let r = plain(&with_url(&["-q"])).await;
    assert_eq!((r.rc, r.out.as_str()), (Some(0), ""));
    assert_eq!(r.size(FILE), Some(SIZE));
    let r = run(
        &with_url(&["--console-log-level=error"]),
        Fault::Http { status: 404 },
    )
    .await;
    assert!(!r.out.contains("NOTICE"));
    assert!(r.out.contains("ERROR"));
    let r = run(&with_url(&["-q"]), Fault::Http { status: 404 }).await;
    assert_eq!((r.rc, r.out.as_str()), (Some(3), ""));
}

#[tokio::test]
async fn bad_command_lines_get_aria2s_usage_errors() {
    let r = plain(&["--foo"]).await;
    assert_eq!(r.rc, Some(28));
    assert_eq!(r.err, "aria2c: unrecognized option '--foo'\nUsage: aria2c [OPTIONS] [URI | MAGNET | TORRENT_FILE | METALINK_FILE]...\nSee 'aria2c -h'.\n\nDid you mean:\n\t--log\n\t--out\n");
    let r = plain(&[]).await;
    assert_eq!(r.rc, Some(1));
    assert!(r
        .err
        .starts_with("Specify at least one URL.\nUsage: aria2c "));
    let r = plain(&["-x", "17", URL]).await;
    assert_eq!(r.rc, Some(28));
    assert!(r
        .err
        .contains("max-connection-per-server must be between 1 and 16."));
    let r = plain(&["--version"]).await;
    assert!(r.out.starts_with("aria2 version 1.36.0\n"));
    let r = plain(&["--help"]).await;
    assert!(r.out.contains("Default: /workspace\n"));
    assert_eq!(r.rc, Some(0));
}

#[tokio::test]
async fn redirects_are_followed_up_to_twenty() {
    let r = plain(&[GO]).await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.out.contains("Download complete: /workspace/x.bin\n"),
        "named after the target: {}",
        r.out
    );
    let r = plain(&[LOOP]).await;
    assert_eq!(r.rc, Some(23));
    assert!(r.out.contains(&format!("Exception: [AbstractCommand.cc:351] errorCode=23 URI={LOOP}\n  -> [HttpSkipResponseCommand.cc:197] errorCode=23 Too many redirects: count=20\n")), "{}", r.out);
}

#[tokio::test]
async fn out_may_name_a_subdirectory_and_the_list_may_come_on_stdin() {
    let r = plain(&["-o", "sub/dir/x.bin", URL]).await;
    assert_eq!(r.rc, Some(0), "{}", r.out);
    assert_eq!(r.size("/workspace/sub/dir/x.bin"), Some(SIZE));

    let inst = r.inst.clone();
    let (out, cap) = Output::capture();
    let mut ctx = Ctx {
        argv: vec!["aria2c".into(), "-i".into(), "-".into()],
        env: inst.login_env("root"),
        cwd: "/workspace".into(),
        stdin: Input::from_bytes(format!("{URL2}\n").into_bytes()),
        stdout: out,
        stderr: Output::null(),
        instance: inst.clone(),
        faults: Default::default(),
    };
    let rc = crate::tools::lookup("aria2c").unwrap().run(&mut ctx).await;
    assert_eq!(rc, 0, "{}", cap.text());
    assert_eq!(r.size("/workspace/y.bin"), Some(SIZE));
}

#[tokio::test]
async fn a_huge_download_is_quick_at_time_scale_0_and_sparse_of_the_exact_size() {
    let t0 = std::time::Instant::now();
    let r = plain(&["-x", "16", "-s", "16", HUGE]).await;
    assert_eq!(r.rc, Some(0));
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(r.out.contains("/6.0GiB("), "{}", r.out);
    assert!(r.out.contains(" CN:16 DL:190MiB ETA:"), "{}", r.out);
    assert_eq!(r.size("/workspace/huge.safetensors"), Some(6_500_000_000));
    let blocks = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(r.inst.sandbox.host_path("/workspace/huge.safetensors"))
            .unwrap()
            .blocks()
    };
    assert!(blocks < 1024, "sparse: {blocks} blocks");
}

#[tokio::test]
async fn download_result_and_stderr_change_where_and_what_the_end_says() {
    let r = plain(&with_url(&["--download-result=full"])).await;
    assert!(
        r.out
            .contains("\ngid   |stat|avg speed  |  %|path/URI\n======+====+===========+===+==="),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("|OK  |   0.9MiB/s|100|/workspace/x.bin\n"),
        "{}",
        r.out
    );
    let r = plain(&with_url(&["--download-result=hide"])).await;
    assert!(!r.out.contains("Download Results") && !r.out.contains("Legend"));
    let r = plain(&with_url(&["--stderr"])).await;
    assert_eq!(r.rc, Some(0));
    assert!(r.out.is_empty());
    assert!(r.err.contains("Download complete: /workspace/x.bin\n"));
}

#[tokio::test]
async fn odd_command_lines_never_panic() {
    let odd: &[&[&str]] = &[
        &["-x", "99999999999999999999999", URL],
        &["--max-tries=-1", URL],
        &["-k", "99999999999999999999M", URL],
        &["-k", "1G", URL],
        &["-s", "0", URL],
        &["http://[::1"],
        &["http://h\u{e9}llo/\u{fc}%zz%"],
        &["-o", "", URL],
        &["-o", "/", URL],
        &["-d", "/proc/none", URL],
        &["ftp://x/y"],
        &["-", "--", "-x"],
        &["-i", "/etc/passwd"],
        &["-i", "/no/such/list"],
        &["--summary-interval=86400", "--timeout=600", URL],
        &["-h#http"],
        &["--help=--split"],
        &["-Z", URL, URL2, "nohost"],
    ];
    for args in odd {
        let r = plain(args).await;
        assert!(r.rc.is_some(), "{args:?} did not finish");
    }
}
