//! printf and the other utilities that format or parse their arguments
//! (`echo -e`, `seq -f`, `date +FMT`, `test`, `sort -k`, `head -c`, ...),
//! called directly as programs with arbitrary argv and stdin.
//!
//! Input: `NAME\0ARG\0ARG...[\x01STDIN]`. NAME picks the program (an
//! unknown name runs printf with NAME as its format). Everything after the
//! first `\x01` is standard input.
//!
//! Must hold: no panic; the program yields, so the timeout can end it.

#![no_main]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fakessh::faults::FaultPlan;
use fakessh::program::{Ctx, Input, Output};
use fakessh_fuzz::{split_at_byte, Renewed};
use libfuzzer_sys::fuzz_target;

const RUN_TIMEOUT: Duration = Duration::from_millis(300);
const GRACE: Duration = Duration::from_secs(3);

/// The programs this target calls.
const PROGRAMS: &[&str] = &[
    "printf",
    "echo",
    "seq",
    "date",
    "test",
    "[",
    "sort",
    "uniq",
    "head",
    "tail",
    "wc",
    "grep",
    "basename",
    "dirname",
    "cat",
    "tee",
    "env",
    "sleep",
    "id",
    "uname",
    "nvidia-smi",
    "df",
    "du",
];

static INSTANCE: Mutex<Renewed> = Mutex::new(Renewed::new(2000, fakessh_fuzz::config));

fuzz_target!(|data: &[u8]| {
    let (argv_bytes, stdin) = split_at_byte(data, 0x01);
    let mut argv: Vec<String> = argv_bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if !PROGRAMS.contains(&argv[0].as_str()) {
        argv.insert(0, "printf".into());
    }
    let program = fakessh::shell::lookup(&argv[0]).expect("a known program");

    let mut renewed = INSTANCE.lock().unwrap_or_else(|e| e.into_inner());
    let instance = renewed.get().instance.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    rt.block_on(async {
        let (stdout, _out) = Output::capture_limited(1 << 20);
        let (stderr, _err) = Output::capture_limited(64 << 10);
        let mut ctx = Ctx {
            argv,
            env: instance.login_env("root"),
            cwd: "/root".into(),
            stdin: Input::from_bytes(stdin.to_vec()),
            stdout,
            stderr,
            instance: instance.clone(),
            faults: FaultPlan::default(),
        };
        let _ = tokio::time::timeout(RUN_TIMEOUT, program.run(&mut ctx)).await;
    });
    rt.shutdown_timeout(Duration::from_millis(200));
    let took = started.elapsed();
    assert!(
        took < RUN_TIMEOUT + GRACE,
        "the program held the thread for {took:?}"
    );
});
