//! The catalog file (the fake internet's pinned hosts, URLs and models),
//! then the download tools run against it.
//!
//! Input: the catalog's JSON text, optionally followed by `\0` and a shell
//! script (`wget -q http://x/a.bin`, `civitdl 123 /tmp`) run on an instance
//! serving that catalog. Each line of the script is also asked of the
//! catalog directly: a URL, a host, a model or version id.
//!
//! Must hold: no panic; every answer the catalog did not pin is a real
//! HTTP status; the tools end within the timeout (the catalog may pin a
//! zero rate or a failure past the end of the file); nothing outside the
//! sandbox changes.

#![no_main]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fakessh::instance::Instance;
use fakessh::net::response::content_type;
use fakessh::net::{Catalog, Url};
use fakessh::program::{Input, Output};
use fakessh::shell::{CommandTrace, Origin, Shell, Stdio};
use fakessh_fuzz::{split_at_byte, Renewed};
use libfuzzer_sys::fuzz_target;

const RUN_TIMEOUT: Duration = Duration::from_millis(300);
const GRACE: Duration = Duration::from_secs(3);

/// A file tree shared by many inputs: each input makes a new instance (its
/// own catalog) over the same kept root.
static BASE: Mutex<Renewed> = Mutex::new(Renewed::new(500, fakessh_fuzz::config));

fn ask(catalog: &Catalog, line: &str) {
    if let Some(url) = Url::parse(line) {
        assert!(!url.host.is_empty(), "a parsed URL has a host");
        let _ = url.file_name();
        let _ = url.host_is_ip();
        let _ = catalog.resolve(&url.host);
        let _ = catalog.refused(&url.host, url.port);
    }
    // A status pinned by the catalog is the user's (any u16 parses);
    // every other answer must be a real HTTP status.
    let pinned = catalog.files.get(line).is_some_and(|f| f.status.is_some())
        || catalog.models.values().any(|m| m.download_status.is_some());
    for (attempt, authorized) in [(1, false), (2, true), (9, false)] {
        let r = catalog.fetch(line, attempt, authorized);
        assert!(
            pinned || (100..=599).contains(&r.status),
            "status {} for {line:?}",
            r.status
        );
    }
    let _ = catalog.resolve(line);
    let _ = content_type(line);
    if let Ok(id) = line.trim().parse::<u64>() {
        for m in [catalog.model(id), catalog.model_by_version(id)]
            .into_iter()
            .flatten()
        {
            let _ = Catalog::model_file_name(&m);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The shell catches brush-parser's panics (a syntax error to the user).
    fakessh_fuzz::tolerate_caught_panics_from(&["/brush-parser-"]);
    let (json, script) = split_at_byte(data, 0);
    let Ok(catalog) = serde_json::from_slice::<Catalog>(json) else {
        return;
    };
    let script = String::from_utf8_lossy(script);
    let _ = catalog.civitai_api();
    for line in script
        .lines()
        .chain(catalog.files.keys().map(String::as_str))
    {
        ask(&catalog, line);
    }
    for id in catalog.models.keys() {
        ask(&catalog, id);
    }
    if script.trim().is_empty() {
        return;
    }

    let mut renewed = BASE.lock().unwrap_or_else(|e| e.into_inner());
    let base = renewed.get();
    let mut config = base.instance.config.clone();
    config.tools.catalog = Arc::new(catalog);
    let instance = Instance::create(config).expect("instance over the kept root");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    rt.block_on(async {
        let mut shell = Shell::new(instance.clone(), instance.login_env("root"));
        shell.set_trace(Arc::new(CommandTrace::new(&script, "root")));
        let (stdout, _out) = Output::capture_limited(256 << 10);
        let (stderr, _err) = Output::capture_limited(256 << 10);
        let io = Stdio {
            stdin: Input::empty(),
            stdout,
            stderr,
        };
        let jobs = shell.jobs();
        let _ =
            tokio::time::timeout(RUN_TIMEOUT, shell.run_script(&script, Origin::Exec, &io)).await;
        jobs.hang_up();
    });
    rt.shutdown_timeout(Duration::from_millis(200));
    let took = started.elapsed();
    assert!(
        took < RUN_TIMEOUT + GRACE,
        "the tools held the thread for {took:?}"
    );
    base.assert_confined();
});
