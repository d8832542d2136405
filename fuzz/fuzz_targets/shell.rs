//! The fake bash: parse and run a script (an exec request) on an instance
//! with tight limits and no simulated waiting.
//!
//! Input: the script's text (invalid UTF-8 replaced). Leading lines
//! `#!fault SPEC` arm a `--fail` rule (`wget:http=404`) for this input only,
//! so the tools' fault paths are reachable too.
//!
//! Must hold: no panic; control comes back within `RUN_TIMEOUT` plus a
//! grace (a script may loop forever, but it must yield so the timeout can
//! end it); nothing outside the sandbox root changes.

#![no_main]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fakessh::program::{Input, Output};
use fakessh::shell::{CommandTrace, Origin, Shell, Stdio};
use fakessh_fuzz::Renewed;
use libfuzzer_sys::fuzz_target;

/// How long one script may run (then it is cancelled, as on Ctrl-C).
const RUN_TIMEOUT: Duration = Duration::from_millis(300);
/// How late control may come back after the timeout: longer means some step
/// ran that long without yielding.
const GRACE: Duration = Duration::from_secs(3);
/// Inputs between two fresh instances.
const RENEW_EVERY: u32 = 500;

static INSTANCE: Mutex<Renewed> = Mutex::new(Renewed::new(RENEW_EVERY, fakessh_fuzz::config));

fuzz_target!(|data: &[u8]| {
    // The shell catches brush-parser's panics (a syntax error to the user).
    fakessh_fuzz::tolerate_caught_panics_from(&["/brush-parser-"]);
    let script = String::from_utf8_lossy(data);
    let mut renewed = INSTANCE.lock().unwrap_or_else(|e| e.into_inner());
    let confined = renewed.get();
    let instance = confined.instance.clone();

    instance.faults.clear();
    for spec in script.lines().map_while(|l| l.strip_prefix("#!fault ")) {
        if let Ok(rule) = fakessh::faults::parse_flag(spec) {
            let _ = instance.faults.arm(rule);
        }
    }

    // A runtime per input: dropping it ends every task the script left
    // behind (background jobs, pipeline stages).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    rt.block_on(async {
        let mut shell = Shell::new(instance.clone(), instance.login_env("root"));
        shell.set_trace(Arc::new(CommandTrace::new(&script, "root")));
        let (stdout, _out) = Output::capture_limited(256 << 10);
        let (stderr, _err) = Output::capture_limited(64 << 10);
        let io = Stdio {
            stdin: Input::from_bytes(b"y\n".to_vec()),
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
        "the script held the thread for {took:?} (timeout {RUN_TIMEOUT:?})"
    );
    instance.faults.clear();
    confined.assert_confined();
});
