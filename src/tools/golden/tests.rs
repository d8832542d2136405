//! Every civ_* and wget_* capture, re-run through the emulated tools at time
//! scale 0 and compared by shape (stream, `\r`/`\n` structure, field widths,
//! exit code). Captures live in `tests/fixtures/captures/` (copies of
//! `shared/reference/captures/`); the fake origin they were made against is
//! pinned in `tests/fixtures/catalog.json`.
//!
//! Not reproduced: none of the civ_*/wget_* captures is skipped.

use std::sync::Arc;

use super::cases::{case, check, fixtures, Case, Outcome, START};
use super::every::cases;
use super::*;
use crate::instance::{Instance, InstanceConfig};
use crate::net::{Catalog, ToolConfig};
use crate::program::{ByteSink, Capture, Ctx, Input, Output, Terminal};

const LORAS: &str = "/workspace/ComfyUI/models/loras";

async fn run(c: &Case) -> Outcome {
    let config = InstanceConfig {
        seed: 7,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(c.catalog()),
            start_time: Some(START),
            jitter: 0.0,
            tqdm_full_width: c.tqdm_full_width,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let inst = Instance::create(config).expect("instance");
    c.prepare(&inst);
    let tool = c.tool;
    let mut env = inst.login_env("root");
    env.extend(
        c.session_env()
            .into_iter()
            .map(|(k, v)| (k.into(), v.into())),
    );
    let (out, out_cap) = Output::capture();
    let (err, err_cap) = Output::capture();
    let (stdout, stderr, merged) = match c.tty_cols {
        Some(cols) => {
            let term = Terminal::new(cols, 50);
            let (o, cap) = Output::capture();
            let sink = Output::new(Arc::new(PtySink(cap.clone())), Some(term));
            let _ = o;
            (sink.clone(), sink, Some(cap))
        }
        None => (out, err, None),
    };
    let mut ctx = Ctx {
        argv: std::iter::once(tool.to_string())
            .chain(c.args.iter().cloned())
            .collect(),
        env,
        cwd: c.dir.into(),
        stdin: Input::empty(),
        stdout,
        stderr,
        instance: inst.clone(),
        faults: Default::default(),
    };
    let program = crate::tools::lookup(tool).expect("tool");
    let rc = tokio::time::timeout(std::time::Duration::from_secs(20), program.run(&mut ctx))
        .await
        .expect("tool finished at time scale 0");
    Outcome {
        stdout: out_cap.bytes(),
        stderr: err_cap.bytes(),
        merged: merged.map(|m| m.bytes()).unwrap_or_default(),
        rc,
    }
}

/// A pty: `\n` becomes `\r\n` on the way out (onlcr).
struct PtySink(Capture);

#[async_trait::async_trait]
impl ByteSink for PtySink {
    async fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        let mut v = Vec::with_capacity(data.len() + 16);
        for b in data {
            if *b == b'\n' {
                v.push(b'\r');
            }
            v.push(*b);
        }
        self.0.write_all(&v).await
    }
}

#[tokio::test]
async fn every_capture_is_reproduced_structurally() {
    let mut failures = Vec::new();
    let all = cases();
    for c in &all {
        let o = run(c).await;
        if let Err(e) = check(c, &o) {
            failures.push(format!("{}: {e}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// What a handler learns from a stream: its events, with progress readouts
/// reduced to their kind (their values follow the clock) but the last one's
/// percent kept, and runs of the same item collapsed.
fn learned(tool: crate::client::progress::Tool, bytes: &[u8]) -> Vec<String> {
    use crate::client::progress::{parse_bytes, Event};
    let text = super::strip_exit_marker(&String::from_utf8_lossy(bytes)).to_owned();
    let mut out: Vec<String> = Vec::new();
    let mut last_percent = None;
    for e in parse_bytes(tool, text.as_bytes()) {
        let item = match &e {
            Event::StageStart { stage, .. } => format!("start {stage:?}"),
            Event::Progress(p) => {
                last_percent = p.percent.map(|v| v.round() as i64).or(last_percent);
                "progress".into()
            }
            Event::Complete { stage, .. } => format!("complete {stage:?}"),
            Event::HttpResponse { code, .. } => format!("http {code}"),
            Event::Connecting { .. } => "connecting".into(),
            Event::Error { kind, code, .. } => format!("error {kind:?} {code:?}"),
            Event::Retrying { attempt } => format!("retry {attempt:?}"),
            Event::GaveUp { .. } => "gave up".into(),
        };
        if out.last() != Some(&item) {
            out.push(item);
        }
    }
    out.push(format!("last percent {last_percent:?}"));
    out
}

/// The capture's streams, as [`learned`] reads them (merged for a pty).
fn learned_from(c: &Case, tool: crate::client::progress::Tool, o: &Outcome) -> Vec<String> {
    if c.tty_cols.is_some() {
        learned(tool, &o.merged)
    } else {
        let mut v = learned(tool, &o.stdout);
        v.extend(learned(tool, &o.stderr));
        v
    }
}

/// A capture as an [`Outcome`].
fn captured(c: &Case) -> Outcome {
    let read = |ext: &str| {
        std::fs::read(
            fixtures()
                .join("captures")
                .join(format!("{}.{ext}", c.name)),
        )
        .unwrap_or_default()
    };
    Outcome {
        stdout: read("out"),
        stderr: read("err"),
        merged: read("tty"),
        rc: 0,
    }
}

#[tokio::test]
async fn the_handlers_parsers_read_each_emulation_as_they_read_its_capture() {
    let mut failures = Vec::new();
    let all = cases();
    for c in &all {
        let Some(tool) = crate::client::progress::Tool::from_command(c.tool) else {
            continue;
        };
        let want = learned_from(c, tool, &captured(c));
        let got = learned_from(c, tool, &run(c).await);
        if want != got {
            failures.push(format!(
                "{}:\n  capture:   {want:?}\n  emulation: {got:?}",
                c.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} round trips differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn same_seed_same_command_gives_same_bytes() {
    let c = case(
        "wget_dot_ok",
        &["S/file.bin?size=3000000&rate=1000000", "-O", "x.bin"],
    );
    let (a, b) = (run(&c).await, run(&c).await);
    assert_eq!(a.stderr, b.stderr);
}

#[tokio::test]
async fn downloads_leave_sparse_files_of_the_exact_size() {
    let c = case("civ_ok_notty", &["123456", LORAS]);
    let mut catalog = Catalog::load(&fixtures().join("catalog.json")).unwrap();
    catalog.models.get_mut("123456").unwrap().size = Some(6_500_000_000);
    catalog.models.get_mut("123456").unwrap().rate_bytes_per_s = None;
    let config = InstanceConfig {
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(catalog),
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let inst = Instance::create(config).unwrap();
    let (out, cap) = Output::capture();
    let mut ctx = Ctx {
        argv: std::iter::once("civitdl".to_string())
            .chain(c.args.iter().cloned())
            .collect(),
        env: inst.login_env("root"),
        cwd: c.dir.into(),
        stdin: Input::empty(),
        stdout: out,
        stderr: Output::null(),
        instance: inst.clone(),
        faults: Default::default(),
    };
    let t0 = std::time::Instant::now();
    let rc = crate::tools::lookup("civitdl").unwrap().run(&mut ctx).await;
    let wall = t0.elapsed();
    assert_eq!(rc, 0);
    let path = inst.sandbox.host_path(
        "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors",
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 6_500_000_000);
    let frames = cap.text().matches("\rModel:").count();
    assert!(frames > 100, "{frames} frames");
    assert!(wall.as_secs() < 10, "{wall:?}");
    eprintln!("6.5 GB civitdl at time scale 0: {wall:?}, {frames} Model frames");
    for f in [
        "add_detail-mid_123456-vid_124456.csv",
        "extra_data-vid_124456/model_dict-mid_123456-vid_124456.json",
    ] {
        let p = inst.sandbox.host_path(&format!(
            "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/{f}"
        ));
        assert!(p.exists(), "{f}");
    }
}

#[test]
fn shapes_ignore_values_but_keep_widths() {
    assert_eq!(
        segment_shape("add_detail.safetens  14%[=>                  ] 424.00K   995KB/s"),
        segment_shape("add_detail.safetens  21%[===>                ] 632.00K   989KB/s")
    );
    assert_ne!(
        segment_shape("  1% 1013K 3s"),
        segment_shape(" 1% 1013K 3s")
    );
    assert_eq!(
        segment_shape("Images: 100%|██████████| 3.00/3.00 [00:00<00:00, 5.33kiB/s]"),
        segment_shape("Images: 100%|██████████| 3.00/3.00 [00:00<00:00, 378iB/s]  ")
    );
}

#[test]
fn every_capture_of_every_tool_has_a_case() {
    let names: std::collections::BTreeSet<&str> = cases().iter().map(|c| c.name).collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(fixtures().join("captures")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = file.split('.').next().unwrap_or("").to_string();
        // tqdm_tty is a plain tqdm demo, not a tool's output.
        if stem == "README" || stem == "tqdm_tty" {
            continue;
        }
        if !names.contains(stem.as_str()) {
            missing.push(stem);
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "captures without a case: {missing:?}");
    assert_eq!(names.len(), 102);
}
