//! The parsers' events on every capture, pinned: each file of
//! `tests/fixtures/captures/` parsed by its tool's parser and by the
//! [`AutoParser`], written once as JSON lines under `tests/fixtures/parse/`
//! (`NAME.TOOL.jsonl`, `NAME.auto.jsonl`), so a faster parser must emit
//! exactly what the slower one did. `FAKESSH_BLESS_PARSE=1 cargo test
//! pinned` rewrites the expectations (only when a change is meant).

use std::path::{Path, PathBuf};

use super::*;

const BLESS: &str = "FAKESSH_BLESS_PARSE";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The tool a capture's name says made it (`wget_dot_ok.err` -> wget).
fn tool_of(name: &str) -> Option<Tool> {
    match name.split('_').next()? {
        "civ" => Some(Tool::Civitdl),
        "wget" => Some(Tool::Wget),
        "curl" => Some(Tool::Curl),
        "hf" | "hf2" => Some(Tool::Hf),
        "git" => Some(Tool::Git),
        "aria" => Some(Tool::Aria2c),
        _ => None,
    }
}

/// Every capture with output in it (not the `.rc` exit codes), sorted.
fn captures() -> Vec<(String, Tool, Vec<u8>)> {
    let dir = fixtures().join("captures");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("the captures directory")
        .map(|e| e.expect("a directory entry").file_name())
        .filter_map(|n| n.into_string().ok())
        .filter(|n| [".out", ".err", ".tty"].iter().any(|ext| n.ends_with(ext)))
        .filter_map(|n| {
            let tool = tool_of(&n)?;
            let bytes = std::fs::read(dir.join(&n)).expect("a capture");
            Some((n, tool, bytes))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The two parsers each capture is pinned with: its tool's, and auto.
fn modes(tool: Tool) -> [&'static str; 2] {
    [tool.name(), "auto"]
}

fn parser(mode: &str) -> Box<dyn Parser> {
    cli::choose_parser(mode, None).expect("a known parser")
}

fn jsonl(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| serde_json::to_string(e).expect("an event serializes") + "\n")
        .collect()
}

/// Feeds `bytes` in chunks of `chunk` bytes (0: all at once).
fn parse_chunked(parser: Box<dyn Parser>, bytes: &[u8], chunk: usize) -> Vec<Event> {
    let mut stream = ProgressStream::new(parser);
    let mut out = Vec::new();
    if chunk == 0 {
        stream.push(bytes, &mut out);
    } else {
        for c in bytes.chunks(chunk) {
            stream.push(c, &mut out);
        }
    }
    stream.finish(&mut out);
    out
}

fn expected_path(name: &str, mode: &str) -> PathBuf {
    fixtures()
        .join("parse")
        .join(format!("{name}.{mode}.jsonl"))
}

#[test]
fn pinned_every_capture_parses_to_its_pinned_events() {
    let bless = std::env::var_os(BLESS).is_some();
    if bless {
        std::fs::create_dir_all(fixtures().join("parse")).expect("the parse directory");
    }
    let mut differ = Vec::new();
    for (name, tool, bytes) in captures() {
        for mode in modes(tool) {
            let got = jsonl(&parse_chunked(parser(mode), &bytes, 0));
            let path = expected_path(&name, mode);
            if bless {
                std::fs::write(&path, &got).expect("writing an expectation");
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(want) if want == got => {}
                Ok(_) => differ.push(format!("{name} ({mode}) differs")),
                Err(e) => differ.push(format!("{}: {e} (bless with {BLESS}=1)", path.display())),
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn pinned_no_expectation_is_left_without_its_capture() {
    let names: Vec<String> = captures()
        .into_iter()
        .flat_map(|(n, tool, _)| {
            [
                format!("{n}.{}.jsonl", tool.name()),
                format!("{n}.auto.jsonl"),
            ]
        })
        .collect();
    let stale: Vec<String> = std::fs::read_dir(fixtures().join("parse"))
        .expect("the parse directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl") && !names.contains(n))
        .collect();
    assert!(stale.is_empty(), "stale expectations: {stale:?}");
}

#[test]
fn pinned_chunk_boundaries_change_nothing() {
    for (name, tool, bytes) in captures() {
        for chunk in [1, 7, 4096] {
            for mode in modes(tool) {
                let whole = parse_chunked(parser(mode), &bytes, 0);
                let parts = parse_chunked(parser(mode), &bytes, chunk);
                assert_eq!(parts, whole, "{name} ({mode}) in {chunk}-byte chunks");
            }
        }
    }
}

#[test]
fn pinned_the_cli_prints_the_pinned_lines() {
    for (name, tool, bytes) in captures() {
        for mode in modes(tool) {
            let mut out = Vec::new();
            let n = cli::run(mode, None, &bytes[..], &mut out).expect("the cli runs");
            let want = std::fs::read_to_string(expected_path(&name, mode)).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), want, "{name} ({mode})");
            assert_eq!(n, want.lines().count(), "{name} ({mode})");
        }
    }
}

/// Every line of every capture, and variants of each made to trip a fast
/// scan (cut short, digits and spaces swapped for Unicode ones, colons and
/// brackets added): what a scan is checked against its regex on.
pub(super) fn sample_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for (_, _, bytes) in captures() {
        let mut s = LineSplitter::new();
        s.push(&bytes, |l| lines.push(l.to_string()));
        s.finish(|l| lines.push(l.to_string()));
    }
    // shapes the captures lack: the bench's mixed log, odd spacing, edges
    lines.extend(
        [
            "Model:  35%|#######             | 50M/144M [00:03<00:02, 41.2MB/s]",
            "model.safetensors:  52%|██████████          | 10.5M/20.0M [00:01<00:00, 9.83MB/s]",
            "a:b: 5%|x| 1/2 [00:00<00:01, 1it/s]",
            "a: 1234%|x| 1/2 [00:00<00:01, 1it/s]",
            "vae.safetensors     35%[=========>          ] 100.2M  40.1MB/s    eta 2s     ",
            "x 1234%[=>  ] 1M 2KB/s",
            "x[=>  ] 1M --.-KB/s    in 0.2s",
            "x  5%[=>  ] 1M 2 KB/s eta  ",
            "x  5%[=>  ] 1M 2KKB/s",
            "  1234K .......... .......... .......... .......... ..........  35% 39.9M 1s",
            "  0K .......... 1013 3s",
            "  0K ..........  1% 1013K 3s extra",
            " 10K ., .  5%  1.2 M=3s",
            "  0K ..........\t 1% 1.0K 3s",
            "  0K .......... .... 100% 1.0M=0.3s",
            "  0K .. ..  1",
            " 35 1000M   35  410M    0     0  40.1M      0  0:00:24  0:00:10  0:00:14 40.2M",
            "100  1000  100  1000    0     0   1000      0  1d 02h  12h --:--:-- 1000",
            "  5  100k    5 5120    0     0  1234k      0  123:45:67  0:00:01 --:--:--  1k",
            "remote: Counting objects:  42% (22950/54643)",
            "Receiving objects:  12% (6558/54643), 17.83 MiB | 35.65 MiB/s",
            "Receiving objects:  12% (6558/54643), 17.83 MiB | 35.65 MiB",
            "Resolving deltas: 100% (23178/23178), done.",
            "remote:   3% (1/2)",
            "[#19a86c 2.8MiB/5.7MiB(49%) CN:1 DL:2.8MiB ETA:1s]",
            "[#zz] [#19a86c 2.8MiB/5.7MiB(49%) CN:1 DL:2.8MiB ETA:1s]",
            "[#19a86c 2.8MiB/5.7MiB(49%) CN:x DL:2.8MiB]",
            "[#19a86c 2.8MiB/5.7MiB(49%) SD:1] UL:0B]",
            "*** [#e1ea6b 21MiB/22MiB(95%) CN:3 DL:11MiB]",
            "--2026-11-26 09:47:35--  (try: 2)  https://h/f",
            "--2026-11-26 09:47:35--  (try:12) https://h/f",
            "--2026-11-26 09:47:35--  (try:x)  https://h/f",
            "--2026-11-26 09:47:35--  (try: 2)",
            "--20261-11-26 09:47:35--  https://h/f",
            "--2026-11-26 09:47:35--",
            "HTTP request sent, awaiting response... 4040x",
            "request sent, awaiting response... 40 request sent, awaiting response... 401 No",
            "x ERROR 40: y ERROR 500: Internal.. ",
            "curl: (x) curl: (7) Failed to connect",
            "curl: (22) The requested URL returned error: 4041",
        ]
        .map(str::to_string),
    );
    lines.sort();
    lines.dedup();
    let mut out = Vec::new();
    for l in &lines {
        if l.len() < 300 {
            out.extend(
                l.char_indices()
                    .map(|(i, _)| l[..i].to_string())
                    .chain(l.char_indices().map(|(i, _)| l[i..].to_string())),
            );
        }
        out.push(l.replace(|c: char| c.is_ascii_digit(), "٣"));
        out.push(l.replacen(|c: char| c.is_ascii_digit(), "٣", 1));
        out.push(l.replace(' ', "\u{a0}"));
        out.push(l.replacen(' ', "\u{2003}", 2));
        out.push(l.replace(':', "::"));
        out.push(format!("a: {l}"));
        out.push(format!("{l} x]"));
        out.push(format!("{l}\n{l}"));
        out.push(l.replace('|', "||"));
        out.push(l.replace(']', ""));
        out.push(l.clone());
    }
    out
}
