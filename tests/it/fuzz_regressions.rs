//! Every input the fuzz targets (fuzz/, `scripts/fuzz`) found a bug with,
//! minimized, kept as a test. Each test names its target.

use std::sync::Arc;
use std::time::Duration;

use fakessh::client::progress::{Event, ProgressStream, Tool};
use fakessh::instance::{Instance, InstanceConfig};
use fakessh::program::{Input, Output};
use fakessh::shell::{CommandTrace, Origin, Shell, Stdio};

/// Runs `script` as an exec on a fresh instance (time scale 0): (exit
/// status, stdout, stderr).
async fn run(script: &str) -> (i32, String, String) {
    let instance: Arc<Instance> = Instance::create(InstanceConfig {
        time_scale: 0.0,
        ..InstanceConfig::default()
    })
    .expect("instance");
    fakessh::shell::install_programs(&instance).expect("programs");
    let mut shell = Shell::new(instance.clone(), instance.login_env("root"));
    let (stdout, out) = Output::capture();
    let (stderr, err) = Output::capture();
    let io = Stdio {
        stdin: Input::empty(),
        stdout,
        stderr,
    };
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        shell.run_script(script, Origin::Exec, &io),
    )
    .await
    .expect("the script ended in time");
    (status, out.text(), err.text())
}

/// Runs `script` with these `--fail` rules armed on a fresh instance (time
/// scale 0), on a thread of its own with a 300 ms timeout (the fuzz
/// target's): the status, or -1 when the timeout ended it; `None` when
/// control did not come back within `limit` (the run never yielded).
fn returns_within(script: &str, faults: &[&str], limit: Duration) -> Option<i32> {
    let instance = Instance::create(InstanceConfig {
        time_scale: 0.0,
        ..InstanceConfig::default()
    })
    .expect("instance");
    fakessh::shell::install_programs(&instance).expect("programs");
    for spec in faults {
        let rule = fakessh::faults::parse_flag(spec).expect("fault spec");
        instance.faults.arm(rule).expect("armed");
    }
    let script = script.to_string();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let status = rt.block_on(async {
            let mut shell = Shell::new(instance.clone(), instance.login_env("root"));
            shell.set_trace(Arc::new(CommandTrace::new(&script, "root")));
            let io = Stdio {
                stdin: Input::empty(),
                stdout: Output::null(),
                stderr: Output::null(),
            };
            let run = shell.run_script(&script, Origin::Exec, &io);
            tokio::time::timeout(Duration::from_millis(300), run)
                .await
                .unwrap_or(-1)
        });
        let _ = done.send(status);
    });
    finished.recv_timeout(limit).ok()
}

/// The events of `output` through `stream`.
fn events(mut stream: ProgressStream, output: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    stream.push(output, &mut out);
    stream.finish(&mut out);
    out
}

fn percents(events: &[Event]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Progress(p) => p.percent,
            _ => None,
        })
        .collect()
}

/// fuzz target `progress`: a garbled wget bar said `765%` and the event
/// carried percent 765, past the 0..=100 that `Progress::percent` promises.
#[test]
fn progress_percent_past_100_is_clamped_for_every_parser() {
    // Arrange: the minimized input (auto-detected as wget), and one line
    // per parser with an impossible percentage.
    let cases: [(ProgressStream, &[u8]); 7] = [
        (ProgressStream::for_command(""), b" 765%[] 9 .B/s"),
        (
            ProgressStream::for_tool(Tool::Wget),
            b"x 765%[===>] 9 1.0MB/s",
        ),
        (
            ProgressStream::for_tool(Tool::Civitdl),
            b"Images: 765%|####| 7/1 [00:01<00:00, 1.00it/s]",
        ),
        (
            ProgressStream::for_tool(Tool::Hf),
            b"m.bin: 120%|####| 1.2M/1.0M [00:01<00:00, 1.0MB/s]",
        ),
        (
            ProgressStream::for_tool(Tool::Git),
            b"Receiving objects: 999% (9/1), 1.00 MiB | 1.00 MiB/s",
        ),
        (
            ProgressStream::for_tool(Tool::Aria2c),
            b"[#2089b0 1.0MiB/1.0MiB(500%) CN:1 DL:1.0MiB]",
        ),
        (ProgressStream::for_tool(Tool::Curl), b"###### 765.0%"),
    ];
    for (stream, output) in cases {
        // Act
        let got = percents(&events(stream, output));
        // Assert
        assert!(
            !got.is_empty() && got.iter().all(|p| (0.0..=100.0).contains(p)),
            "{:?}: percents {got:?}",
            String::from_utf8_lossy(output)
        );
    }
    let wget = percents(&events(ProgressStream::for_command(""), b" 765%[] 9 .B/s"));
    assert_eq!(wget, [100.0]);
}

/// fuzz target `shell` (a libFuzzer timeout): brush-parser 0.4 backtracks
/// exponentially on unclosed parentheses after `((` (its
/// `arithmetic_expression_piece` rule tries every `(` both as a group and
/// as a plain token), about twice as long per `(`: 26 take seconds, 40 run
/// for hours. `max_nesting` (128) admits them, and the parse blocks a
/// runtime thread and a core: a client can stall the server. Found as
/// `ectname;((ectname;((((((((((((((((1((((((((((((((1))`.
#[test]
fn unclosed_parentheses_after_double_paren_are_refused_or_parsed_quickly() {
    // Arrange
    let script = format!("{}1))", "(".repeat(40));
    // Act
    let status = returns_within(&script, &[], Duration::from_secs(5));
    // Assert
    assert_eq!(status, Some(2), "a syntax error, as bash says");
}

/// fuzz target `shell` (control came back 3 s after a 300 ms timeout): at
/// time scale 0 the simulated clock never yielded, so a transfer of many
/// steps (a `slow` fault, a catalog's tiny rate) held the runtime thread
/// until it ended, deaf to timeouts, Ctrl-C and a client gone: with `-q`
/// it ran for minutes.
#[test]
fn a_slow_transfer_at_time_scale_0_can_be_cancelled() {
    // Arrange: 500 B/s for a file of tens of MB, no output to fill.
    let script = "wget -q https://example.com/y.bin";
    // Act
    let status = returns_within(script, &["wget:slow=500"], Duration::from_secs(10));
    // Assert: the 300 ms timeout ended the run.
    assert_eq!(status, Some(-1));
}

/// fuzz target `shell`: civitdl split a short option at byte 2, inside the
/// `é` of `-é`, and panicked (`end byte index 2 is not a char boundary`).
#[tokio::test]
async fn civitdl_short_option_with_a_multibyte_letter_is_unrecognized() {
    // Arrange
    let (ascii_status, _, ascii_err) = run("civitdl -x 123456 /tmp").await;
    // Act
    let (status, out, err) = run("civitdl -é 123456 /tmp").await;
    // Assert: refused as argparse refuses `-x`.
    assert_eq!(status, ascii_status, "{out}{err}");
    assert_eq!(err, ascii_err.replace("-x", "-é"), "{out}");
}
