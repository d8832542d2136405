//! `hf` through a real [`Ctx`]: every tool-depth fault with huggingface_hub's
//! own wording and exit code, the files left behind, the cache and
//! `--local-dir` layouts, second runs, tokens, the usage errors and 2.x.

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan};
use crate::instance::Instance;
use crate::net::hub::{HubFile, HubRepo};
use crate::net::Catalog;
use crate::tools::test_run;

const SIZE: u64 = 30_000_000;
const SHA: &str = "5d41402abc4b2a76b9719d911017c592aa0b0ee1a2b3c4d5e6f708192a3b4c5d";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const STORE: &str = "/root/.cache/huggingface/hub/models--org--model";
const DIR: &str = "/workspace/m";

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    let f = |size| HubFile {
        size: Some(size),
        sha256: Some(SHA.into()),
    };
    c.hf_repos.insert(
        "org/model".into(),
        HubRepo {
            commit: Some(COMMIT.into()),
            files: [
                ("model.safetensors".to_string(), f(SIZE)),
                (
                    "config.json".to_string(),
                    HubFile {
                        size: Some(700),
                        sha256: Some("a".repeat(40)),
                    },
                ),
            ]
            .into_iter()
            .collect(),
            rate_bytes_per_s: Some(10_000_000.0),
            ..HubRepo::default()
        },
    );
    c.hf_repos.insert(
        "org/gone".into(),
        HubRepo {
            missing: true,
            ..HubRepo::default()
        },
    );
    c.hf_repos.insert(
        "org/gated".into(),
        HubRepo {
            gated: true,
            tokens: vec!["hf_granted".into()],
            ..HubRepo::default()
        },
    );
    c
}

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

struct Opts<'a> {
    tool: &'a str,
    args: &'a [&'a str],
    fault: Option<Fault>,
    tty: bool,
    env: &'a [(&'a str, &'a str)],
    inst: Option<Arc<Instance>>,
    limit: Duration,
}

impl Default for Opts<'_> {
    fn default() -> Self {
        Opts {
            tool: "hf",
            args: &[],
            fault: None,
            tty: false,
            env: &[],
            inst: None,
            limit: Duration::from_secs(20),
        }
    }
}

fn instance() -> Arc<Instance> {
    test_run::instance(catalog(), 0.0)
}

async fn go(o: Opts<'_>) -> Ran {
    let inst = o.inst.unwrap_or_else(instance);
    let plan = test_run::plan(o.fault);
    let call = test_run::Call {
        tool: o.tool,
        args: o.args,
        env: o.env,
        plan: plan.clone(),
        cols: o.tty.then_some(100),
        stdin: None,
        limit: o.limit,
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

const LOCAL: &[&str] = &[
    "download",
    "org/model",
    "model.safetensors",
    "--local-dir",
    DIR,
];
const CACHE: &[&str] = &["download", "org/model", "model.safetensors"];

async fn fault(args: &[&str], fault: Fault) -> Ran {
    go(Opts {
        args,
        fault: Some(fault),
        ..Opts::default()
    })
    .await
}

fn incomplete() -> String {
    format!(
        "{DIR}/.cache/huggingface/download/{}.{SHA}.incomplete",
        super::hash::short_hash("model.safetensors.metadata")
    )
}

#[tokio::test]
async fn the_cache_holds_the_blob_the_ref_and_a_relative_symlink() {
    let r = go(Opts {
        args: CACHE,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    let ptr = format!("{STORE}/snapshots/{COMMIT}/model.safetensors");
    assert_eq!(r.out, format!("{ptr}\n"));
    assert_eq!(
        r.err,
        format!("Downloading 'model.safetensors' to '{STORE}/blobs/{SHA}.incomplete'\nDownload complete. Moving file to {STORE}/blobs/{SHA}\n")
    );
    let host = r.inst.sandbox.host_path(&ptr);
    assert_eq!(
        std::fs::read_link(&host).unwrap().to_string_lossy(),
        format!("../../blobs/{SHA}")
    );
    assert_eq!(r.size(&ptr), Some(SIZE));
    assert_eq!(
        std::fs::read_to_string(r.inst.sandbox.host_path(&format!("{STORE}/refs/main"))).unwrap(),
        COMMIT
    );
    // A second run finds the pointer and downloads nothing.
    let again = go(Opts {
        args: CACHE,
        inst: Some(r.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(
        (again.rc, again.out.as_str(), again.err.as_str()),
        (Some(0), r.out.as_str(), "")
    );
}

#[tokio::test]
async fn hf_home_and_hf_hub_cache_move_the_cache() {
    let r = go(Opts {
        args: CACHE,
        env: &[("HF_HOME", "/workspace/hfh")],
        ..Opts::default()
    })
    .await;
    assert!(
        r.out
            .starts_with("/workspace/hfh/hub/models--org--model/snapshots/"),
        "{}",
        r.out
    );
    let r = go(Opts {
        args: CACHE,
        env: &[("HF_HUB_CACHE", "/workspace/hc")],
        ..Opts::default()
    })
    .await;
    assert!(
        r.out
            .starts_with("/workspace/hc/models--org--model/snapshots/"),
        "{}",
        r.out
    );
}

#[tokio::test]
async fn local_dir_writes_the_file_and_its_metadata_and_a_second_run_is_quiet() {
    let r = go(Opts {
        args: LOCAL,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(r.out, format!("{DIR}/model.safetensors\n"));
    assert!(r.err.starts_with(&format!(
        "Downloading 'model.safetensors' to '{}'\n",
        incomplete()
    )));
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), Some(SIZE));
    let meta = std::fs::read_to_string(r.inst.sandbox.host_path(&format!(
        "{DIR}/.cache/huggingface/download/model.safetensors.metadata"
    )))
    .unwrap();
    let lines: Vec<&str> = meta.lines().collect();
    assert_eq!(&lines[..2], &[COMMIT, SHA]);
    assert!(lines[2].parse::<f64>().unwrap() > 1.7e9);
    let again = go(Opts {
        args: LOCAL,
        inst: Some(r.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!((again.rc, again.err.as_str()), (Some(0), ""));
    assert_eq!(again.out, r.out);
}

#[tokio::test]
async fn http_404_is_entry_not_found_exit_1() {
    let r = fault(LOCAL, Fault::Http { status: 404 }).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.ends_with("huggingface_hub.errors.EntryNotFoundError: 404 Client Error.\n\nEntry Not Found for url: https://huggingface.co/org/model/resolve/main/model.safetensors.\n"), "{}", r.err);
    assert_eq!(r.out, "");
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), None);
}

#[tokio::test]
async fn http_401_403_5xx_and_429() {
    let r = fault(LOCAL, Fault::Http { status: 401 }).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.contains("huggingface_hub.errors.RepositoryNotFoundError: 401 Client Error.\n\nRepository Not Found for url: https://huggingface.co/org/model/resolve/main/model.safetensors.\n"));
    let r = fault(LOCAL, Fault::Http { status: 403 }).await;
    assert!(r.err.contains("huggingface_hub.errors.HfHubHTTPError: \n\n403 Forbidden: None.\nCannot access content at: https://huggingface.co/org/model/resolve/main/model.safetensors.\n"));
    assert!(r.err.ends_with("huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to locate the file on the Hub and we cannot find the requested files in the local cache. Please check your connection and try again or make sure your Internet connection is on.\n"));
    let r = fault(LOCAL, Fault::Http { status: 503 }).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.contains("requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://huggingface.co/org/model/resolve/main/model.safetensors\n"));
    assert!(r.err.contains("LocalEntryNotFoundError"));
    let r = fault(LOCAL, Fault::Http { status: 429 }).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r.err.starts_with("HTTP Error 429 thrown while requesting HEAD https://huggingface.co/org/model/resolve/main/model.safetensors\nRetrying in 1s [Retry 1/5].\n"));
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), Some(SIZE));
}

#[tokio::test]
async fn dns_and_refused_are_urllib3_errors_unless_a_local_copy_exists() {
    let r = fault(LOCAL, Fault::DnsFailure).await;
    assert_eq!(r.rc, Some(1));
    assert!(r
        .err
        .contains("socket.gaierror: [Errno -2] Name or service not known\n"));
    assert!(r
        .err
        .contains("Failed to resolve 'huggingface.co' ([Errno -2] Name or service not known)"));
    assert!(r.err.ends_with(
        "Please check your connection and try again or make sure your Internet connection is on.\n"
    ));
    let r = fault(LOCAL, Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.contains("requests.exceptions.ConnectionError: (MaxRetryError(\"HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded with url: /org/model/resolve/main/model.safetensors (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f"));
    assert!(r
        .err
        .contains("Failed to establish a new connection: [Errno 111] Connection refused"));
    // With the file already there the run ends well.
    let first = go(Opts {
        args: LOCAL,
        ..Opts::default()
    })
    .await;
    let r = go(Opts {
        args: LOCAL,
        fault: Some(Fault::ConnectionRefused),
        inst: Some(first.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.starts_with("Couldn't access the Hub to check for update but local file already exists. Defaulting to existing file. (error: (MaxRetryError("));
    assert_eq!(r.out, format!("{DIR}/model.safetensors\n"));
}

#[tokio::test]
async fn a_drop_is_a_chunked_encoding_error_and_the_next_run_resumes() {
    let r = fault(LOCAL, Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.ends_with("requests.exceptions.ChunkedEncodingError: (\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", ConnectionResetError(104, 'Connection reset by peer'))\n"), "{}", r.err);
    assert_eq!(r.size(&incomplete()), Some(SIZE / 2));
    let again = go(Opts {
        args: LOCAL,
        inst: Some(r.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(again.rc, Some(0));
    assert!(
        again
            .err
            .contains(&format!("(resume from {}/{SIZE})\n", SIZE / 2)),
        "{}",
        again.err
    );
    assert_eq!(again.size(&format!("{DIR}/model.safetensors")), Some(SIZE));
}

#[tokio::test]
async fn stalls_wait_and_a_read_timeout_resumes() {
    let r = go(Opts {
        args: LOCAL,
        tty: true,
        fault: Some(Fault::StallAt {
            percent: 50,
            stall_ms: Some(5_000),
        }),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(!r.err.contains("Read timed out"));
    assert!(r.err.contains("30.0M/30.0M [00:08<00:00"), "{}", r.err);
    let r = fault(
        LOCAL,
        Fault::StallAt {
            percent: 50,
            stall_ms: None,
        },
    )
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(r.err.contains("Error while downloading from https://huggingface.co/org/model/resolve/main/model.safetensors: HTTPSConnectionPool(host='huggingface.co', port=443): Read timed out.\nTrying to resume download...\n"));
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), Some(SIZE));
}

#[tokio::test]
async fn slow_caps_the_rate_on_the_bar() {
    let r = go(Opts {
        args: LOCAL,
        tty: true,
        fault: Some(Fault::Slow {
            bytes_per_s: 1_000_000,
        }),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    let last = r
        .err
        .split('\r')
        .rfind(|f| f.contains("100%|"))
        .unwrap_or_default();
    assert!(
        last.contains("30.0M/30.0M [00:30<00:00, 1.00MB/s]"),
        "{last:?}"
    );
}

#[tokio::test]
async fn a_full_disk_is_an_os_error_and_keeps_the_partial_file() {
    let r = fault(LOCAL, Fault::DiskFull { percent: 50 }).await;
    assert_eq!(r.rc, Some(1));
    assert!(
        r.err
            .ends_with("    temp_file.write(chunk)\nOSError: [Errno 28] No space left on device\n"),
        "{}",
        r.err
    );
    assert_eq!(r.size(&incomplete()), Some(SIZE / 2));
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), None);
}

#[tokio::test]
async fn a_disconnect_stops_near_the_percent() {
    let r = go(Opts {
        args: LOCAL,
        tty: true,
        fault: Some(Fault::DisconnectAt { percent: 40 }),
        ..Opts::default()
    })
    .await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!r.err.contains("Download complete"));
    let size = r.size(&incomplete()).unwrap_or(0);
    assert!((10_000_000..=13_000_000).contains(&size), "{size}");
}

#[tokio::test]
async fn gated_repos_want_a_granted_token() {
    let args = &[
        "download",
        "org/gated",
        "model.safetensors",
        "--local-dir",
        DIR,
    ];
    let r = go(Opts {
        args,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.contains("huggingface_hub.errors.GatedRepoError: 401 Client Error.\n\nCannot access gated repo for url https://huggingface.co/org/gated/resolve/main/model.safetensors.\nAccess to model org/gated is restricted. You must have access to it and be authenticated to access it. Please log in.\n"));
    let r = go(Opts {
        args,
        env: &[("HF_TOKEN", "hf_other")],
        ..Opts::default()
    })
    .await;
    assert!(r.err.contains("GatedRepoError: 403 Client Error."));
    assert!(r.err.contains("you are not in the authorized list"));
    let r = go(Opts {
        args: &[
            "download",
            "org/gated",
            "model.safetensors",
            "--local-dir",
            DIR,
            "--token",
            "hf_granted",
        ],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
}

#[tokio::test]
async fn bars_only_on_a_tty_and_not_when_disabled_or_quiet() {
    let tty = go(Opts {
        args: LOCAL,
        tty: true,
        ..Opts::default()
    })
    .await;
    assert!(
        tty.err.contains("\rmodel.safetensors:  35%|"),
        "{}",
        tty.err
    );
    for (env, extra) in [
        (&[("HF_HUB_DISABLE_PROGRESS_BARS", "1")][..], false),
        (&[][..], true),
    ] {
        let mut args = LOCAL.to_vec();
        if extra {
            args.push("--quiet");
        }
        let r = go(Opts {
            args: &args,
            tty: true,
            env,
            ..Opts::default()
        })
        .await;
        assert!(!r.err.contains('\r'));
        assert_eq!(r.err.is_empty(), extra, "{}", r.err);
    }
    let transfer = go(Opts {
        args: LOCAL,
        tty: true,
        env: &[("HF_HUB_ENABLE_HF_TRANSFER", "1")],
        ..Opts::default()
    })
    .await;
    assert!(!transfer.err.contains("35%|"), "{}", transfer.err);
    assert!(transfer.err.contains("100%|"));
}

#[tokio::test]
async fn a_snapshot_download_fetches_every_file_under_the_outer_bar() {
    let r = go(Opts {
        args: &["download", "org/model"],
        tty: true,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert_eq!(r.out, format!("{STORE}/snapshots/{COMMIT}\n"));
    assert!(r.err.starts_with("\rFetching 2 files:   0%|"), "{}", r.err);
    assert!(r.err.contains("| 2/2 ["));
    assert_eq!(
        r.size(&format!("{STORE}/snapshots/{COMMIT}/config.json")),
        Some(700)
    );
    let r = go(Opts {
        args: &[
            "download",
            "org/model",
            "--include",
            "*.json",
            "--local-dir",
            DIR,
        ],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.out, format!("{DIR}\n"));
    assert_eq!(r.size(&format!("{DIR}/config.json")), Some(700));
    assert_eq!(r.size(&format!("{DIR}/model.safetensors")), None);
}

#[tokio::test]
async fn the_other_commands_and_usage_errors() {
    let r = go(Opts {
        tool: "huggingface-cli",
        args: LOCAL,
        ..Opts::default()
    })
    .await;
    assert!(r.out.starts_with("\x1b[33m⚠️  Warning: 'huggingface-cli download' is deprecated. Use 'hf download' instead.\x1b[0m\n"));
    let r = go(Opts {
        args: &["version"],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.out, "huggingface_hub version: 0.34.4\n");
    let r = go(Opts {
        args: &["auth", "whoami"],
        ..Opts::default()
    })
    .await;
    assert_eq!((r.rc, r.out.as_str()), (Some(0), "Not logged in\n"));
    let r = go(Opts {
        tool: "huggingface-cli",
        args: &["whoami"],
        env: &[("HF_TOKEN", "hf_abc")],
        ..Opts::default()
    })
    .await;
    assert!(r.out.contains("\x1b[1muser: \x1b[0m "), "{}", r.out);
    let r = go(Opts {
        args: &["download"],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(2));
    assert!(r
        .err
        .starts_with("usage: hf <command> [<args>] download [-h]"));
    assert!(r.err.ends_with(
        "hf <command> [<args>] download: error: the following arguments are required: repo_id\n"
    ));
    let r = go(Opts {
        args: &["download", "org/model", "--bogus"],
        ..Opts::default()
    })
    .await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (
            Some(2),
            "usage: hf <command> [<args>]\nhf: error: unrecognized arguments: --bogus\n"
        )
    );
    let r = go(Opts {
        args: &["download", "--help"],
        ..Opts::default()
    })
    .await;
    assert!(r.out.contains("  --local-dir LOCAL_DIR\n"));
    let r = go(Opts {
        args: &["frobnicate"],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(2));
    assert!(r.err.contains("invalid choice: 'frobnicate'"));
}

#[tokio::test]
async fn version_2_ends_with_downloaded_and_its_errors_are_one_block() {
    let v2 = &[("FAKESSH_HF_VERSION", "2")];
    let r = go(Opts {
        args: LOCAL,
        env: v2,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(
        r.out,
        format!("\x1b[32m✓ Downloaded\x1b[0m\n  path: {DIR}/model.safetensors\n")
    );
    assert_eq!(r.err, "");
    let r = go(Opts {
        args: LOCAL,
        env: v2,
        fault: Some(Fault::Http { status: 404 }),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.starts_with(
        "\x1b[1m\x1b[31mError: File 'model.safetensors' not found in model 'org/model'."
    ));
    assert!(r.err.ends_with(
        "\x1b[90mHint: set HF_DEBUG=1 as environment variable for full traceback.\x1b[0m\n"
    ));
    let r = go(Opts {
        args: &["version"],
        env: v2,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.out, "huggingface_hub version: 2.4.0\n");
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let a = go(Opts {
        args: LOCAL,
        tty: true,
        ..Opts::default()
    })
    .await;
    let b = go(Opts {
        args: LOCAL,
        tty: true,
        ..Opts::default()
    })
    .await;
    assert_eq!(a.err, b.err);
}

#[tokio::test]
async fn a_snapshot_without_the_hub_falls_back_to_what_is_on_disk() {
    let first = go(Opts {
        args: &["download", "org/model"],
        ..Opts::default()
    })
    .await;
    assert_eq!(first.rc, Some(0));
    let r = go(Opts {
        args: &["download", "org/model"],
        fault: Some(Fault::ConnectionRefused),
        inst: Some(first.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(
        (r.rc, r.out.as_str(), r.err.as_str()),
        (Some(0), first.out.as_str(), "")
    );
    let local = &["download", "org/model", "--local-dir", DIR];
    let r = go(Opts {
        args: local,
        fault: Some(Fault::DnsFailure),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(
        r.err
            .contains("in snapshot_download\n    repo_info = api.repo_info("),
        "{}",
        r.err
    );
    assert!(r.err.ends_with("we cannot find the appropriate snapshot folder for the specified revision on the local disk. Please check your internet connection and try again.\n"));
    let done = go(Opts {
        args: local,
        inst: Some(r.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(done.out, format!("{DIR}\n"));
    let r = go(Opts {
        args: local,
        fault: Some(Fault::DnsFailure),
        inst: Some(r.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.starts_with(&format!("Returning existing local_dir `{DIR}` as remote repo cannot be accessed in `snapshot_download` (")));
    let r = go(Opts {
        args: &["download", "nobody/none-such-x"],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0), "an unpinned repo exists: {}", r.err);
}

#[tokio::test]
async fn a_relative_local_dir_prints_relative_paths_but_an_absolute_incomplete_file() {
    let r = go(Opts {
        args: &[
            "download",
            "org/model",
            "config.json",
            "--local-dir",
            "./rel/",
        ],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(r.out, "rel/config.json\n");
    assert!(
        r.err
            .contains("to '/workspace/rel/.cache/huggingface/download/"),
        "{}",
        r.err
    );
    assert!(r
        .err
        .ends_with("Download complete. Moving file to rel/config.json\n"));
    let r = go(Opts {
        args: &["download", "org/model", "config.json", "--local-dir", "."],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.out, "config.json\n");
}

#[tokio::test]
async fn offline_mode_uses_only_what_is_on_disk() {
    let offline = &[("HF_HUB_OFFLINE", "1")];
    let r = go(Opts {
        args: LOCAL,
        env: offline,
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(r.err.ends_with("huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache and outgoing traffic has been disabled. To enable hf.co look-ups and downloads online, set 'local_files_only' to False.\n"), "{}", r.err);
    let first = go(Opts {
        args: CACHE,
        ..Opts::default()
    })
    .await;
    let r = go(Opts {
        args: CACHE,
        env: offline,
        inst: Some(first.inst.clone()),
        ..Opts::default()
    })
    .await;
    assert_eq!(
        (r.rc, r.out.as_str(), r.err.as_str()),
        (Some(0), first.out.as_str(), "")
    );
}

#[tokio::test]
async fn a_missing_repo_fails_in_repo_info_for_a_snapshot_and_in_the_head_call_for_a_file() {
    let r = go(Opts {
        args: &["download", "org/gone"],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(
        r.err
            .contains("in snapshot_download\n    raise api_call_error\n"),
        "{}",
        r.err
    );
    assert!(r.err.contains("huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error.\n\nRepository Not Found for url: https://huggingface.co/api/models/org/gone/revision/main.\n"));
    let r = go(Opts {
        args: &["download", "org/gone", "x.bin"],
        env: &[("FAKESSH_HF_VERSION", "2")],
        ..Opts::default()
    })
    .await;
    assert_eq!(r.rc, Some(1));
    assert!(r
        .err
        .starts_with("\x1b[1m\x1b[31mError: Model 'org/gone' not found.\n"));
}
