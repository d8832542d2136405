//! Every civ_* and wget_* capture, re-run through the emulated tools at time
//! scale 0 and compared by shape (stream, `\r`/`\n` structure, field widths,
//! exit code). Captures live in `tests/fixtures/captures/` (copies of
//! `shared/reference/captures/`); the fake origin they were made against is
//! pinned in `tests/fixtures/catalog.json`.
//!
//! Not reproduced: none of the civ_*/wget_* captures is skipped.

use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::instance::{Instance, InstanceConfig};
use crate::program::{ByteSink, Capture, Ctx, Input, Output, Terminal};
use crate::tools::{Catalog, ToolConfig};

const S: &str = "http://localhost:8765";
const LORAS: &str = "/workspace/ComfyUI/models/loras";
const LONG: &str = "sd_xl_base_1.0_0.9vae_very_long_filename_example.safetensors";
/// 2026-11-26 09:46:55 UTC, the first capture's start.
const START: i64 = 1_795_686_415;

type Setup = fn(&Arc<Instance>);
type Patch = fn(&mut Catalog);

struct Case {
    name: &'static str,
    args: Vec<String>,
    tty_cols: Option<u16>,
    setup: Option<Setup>,
    patch: Option<Patch>,
    tqdm_full_width: bool,
}

fn case(name: &'static str, args: &[&str]) -> Case {
    Case {
        name,
        args: args
            .iter()
            .map(|s| s.replace("S/", &format!("{S}/")))
            .collect(),
        tty_cols: None,
        setup: None,
        patch: None,
        tqdm_full_width: false,
    }
}

impl Case {
    fn tty(mut self, cols: u16) -> Self {
        self.tty_cols = Some(cols);
        self
    }
    fn setup(mut self, f: Setup) -> Self {
        self.setup = Some(f);
        self
    }
    fn patch(mut self, f: Patch) -> Self {
        self.patch = Some(f);
        self
    }
    fn full_width(mut self) -> Self {
        self.tqdm_full_width = true;
        self
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sized(inst: &Arc<Instance>, path: &str, len: u64) {
    let host = inst.sandbox.host_path(path);
    std::fs::create_dir_all(host.parent().unwrap()).unwrap();
    std::fs::File::create(&host).unwrap().set_len(len).unwrap();
}

fn cases() -> Vec<Case> {
    let url3m = "S/file.bin?size=3000000&rate=1000000";
    let cd = "S/cd/x?size=30000000&rate=20000000";
    let ckpt = "/workspace/ComfyUI/models/checkpoints";
    vec![
        case("wget_dot_ok", &[url3m, "-O", "add_detail.safetensors"]),
        case("wget_bar_ok", &[url3m, "-O", "add_detail.safetensors"]).tty(80),
        case("wget_bar_eta", &["S/file.bin?size=12000000&rate=1500000", "-O", LONG]).tty(100),
        case("wget_barforce_notty", &["--progress=bar:force", url3m, "-O", "add_detail.safetensors"]),
        case("wget_noscroll", &["--progress=bar:force:noscroll", "S/file.bin?size=1500000&rate=1000000", "-O", LONG]).tty(80),
        case("wget_nolen_bar", &["S/nolen.bin?size=2000000&rate=1000000", "-O", "d.bin"]).tty(80),
        case("wget_nolen_dot", &["S/nolen.bin?size=200000&rate=1000000", "-O", "e.bin"]),
        case("wget_bar_resume", &["-c", url3m, "-O", "res.bin"])
            .tty(80)
            .setup(|i| sized(i, "/workspace/res.bin", 1_500_000)),
        case("wget_qsp_tty", &["-q", "--show-progress", "S/file.bin?size=3000000&rate=1500000", "-O", "a.bin"]).tty(80),
        case("wget_qsp_notty", &["-q", "--show-progress", "S/file.bin?size=3000000&rate=1500000", "-O", "a.bin"]),
        case("wget_nv", &["-nv", "S/file.bin?size=300000&rate=1500000", "-O", "c.bin"]),
        case("wget_nv_sp", &["-nv", "--show-progress", "S/file.bin?size=1500000&rate=1000000", "-O", "nvsp.bin"]).tty(80),
        case("wget_mega", &["--progress=dot:mega", "S/file.bin?size=8000000&rate=8000000", "-O", "m.bin"]),
        case("wget_giga", &["--progress=dot:giga", "S/file.bin?size=40000000&rate=40000000", "-O", "g.bin"]),
        case("wget_aidock", &["-qnc", "--content-disposition", "--show-progress", "-e", "dotbytes=4M", "-P", ckpt, cd]),
        case("wget_aidock_again", &["-nc", "--content-disposition", "--show-progress", "-e", "dotbytes=4M", "-P", ckpt, cd])
            .setup(|i| sized(i, "/workspace/ComfyUI/models/checkpoints/model.safetensors", 30_000_000)),
        case("wget_cd", &["--content-disposition", "-P", "/workspace/ComfyUI/models/models/loras", "S/cd/download?size=200000&rate=2000000"]),
        case("wget_redirect_cd", &["--content-disposition", "S/redirect?size=200000&rate=2000000"]),
        case("wget_redirect_nocd", &["S/redirect?size=200000&rate=2000000"]),
        case("wget_404", &["S/404/model.safetensors"]),
        case("wget_404_nv", &["-nv", "S/404/model.safetensors"]),
        case("wget_404_q", &["-q", "S/404/model.safetensors"]),
        case("wget_403", &["S/403/model.safetensors"]),
        case("wget_500", &["S/500/x"]),
        case("wget_503", &["S/503/x"]),
        case("wget_401", &["S/401/model.safetensors"]),
        case("wget_dns", &["https://civitai-nonexistent.invalid/api/download/models/1"]),
        case("wget_refused", &["http://localhost:1/file.bin"]),
        case("wget_refused_ip", &["http://127.0.0.1:1/file.bin"]),
        case("wget_readtimeout", &["--read-timeout=2", "--tries=3", "S/stall/x.bin?size=300000&rate=2000000&at=100000", "-O", "stall.bin"]),
        case("wget_drop", &["--tries=3", "S/drop/y.bin?size=300000&rate=2000000&at=100000", "-O", "drop.bin"]),
        case("wget_drop_resume", &["S/drop/y.bin?size=300000&rate=2000000&at=100000", "-O", "drop.bin"]).patch(|c| {
            for f in c.files.values_mut() {
                if f.fail_at.is_some() {
                    f.fail_tries = Some(1);
                }
            }
        }),
        case("wget_c_done", &["-c", "S/file.bin?size=30000000&rate=20000000", "-O", "c.bin"])
            .setup(|i| sized(i, "/workspace/c.bin", 30_000_000)),
        case("wget_nc", &["-nc", "-O", "/workspace/ComfyUI/models/loras/add_detail.safetensors", url3m])
            .setup(|i| sized(i, "/workspace/ComfyUI/models/loras/add_detail.safetensors", 3_000_000)),
        case("wget_multi", &["-q", "S/file.bin?size=2000&rate=0", "S/file.bin?size=3000&rate=0"]),
        case("wget_multi_v", &["-nv", "S/file.bin?size=2000&rate=0", "S/404/a", "S/file.bin?size=3000&rate=0"])
            .setup(|i| sized(i, "/workspace/file.bin?size=3000&rate=0", 3000)),
        case("wget_stdout", &["-O", "-", "S/file.bin?size=2000&rate=0"]),
        case("wget_nourl", &[]),
        case("wget_badopt", &["--foo"]),
        case("wget_badscheme", &["htp://x/y"]),
        case("civ_ok_notty", &["123456", LORAS]),
        case("civ_ok_notty_cols", &["123456", LORAS]),
        case("civ_ok_tty", &["https://civitai.com/models/123456/detail-tweaker-lora", LORAS]).tty(100),
        case("civ_ok_tty_4671", &["123457", "/workspace/ComfyUI/models/loras2"]).tty(100).full_width(),
        case("civ_exists", &["123456", LORAS]).setup(|i| {
            sized(i, "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors", 3_000_000)
        }),
        case("civ_cached", &["123456", "/workspace/ComfyUI/models/other"]).setup(|i| {
            sized(i, "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors", 3_000_000);
            let csv = "/root/.cache/civitdl/hashes/12/1244.csv";
            sized(i, csv, 0);
            std::fs::write(
                i.sandbox.host_path(csv),
                "volume_id,model_filepath,SHA256,BLAKE3\n124456,/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors,AA,BB\n",
            )
            .unwrap();
        }),
        case(
            "civ_multi",
            &["https://civitai.com/models/123456?modelVersionId=124456, https://civitai.com/api/download/models/124457", LORAS, "--without-model", "--no-with-color", "-i", "2"],
        ),
        case("civ_404", &["999999999", LORAS]),
        case("civ_404_tty", &["999999999", LORAS, "--retry-count", "1"]).tty(80),
        case("civ_nocolor_404", &["999999999", LORAS, "--no-with-color"]),
        case("civ_401", &["401", LORAS, "--retry-count", "1"]),
        case("civ_badsrc", &["foo", LORAS]),
        case("civ_refused", &["123456", LORAS, "--retry-count", "1"]).patch(|c| c.civitai_api = Some("http://127.0.0.1:1".into())),
        case("civ_dns", &["123456", LORAS, "--retry-count", "1"]).patch(|c| c.civitai_api = Some("https://civitai.invalid".into())),
        case("civ_noargs", &[]),
        case("civ_help", &["--help"]),
        case("civ_version", &["--version"]),
    ]
}

struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    merged: Vec<u8>,
    rc: i32,
}

async fn run(c: &Case) -> Outcome {
    let mut catalog = Catalog::load(&fixtures().join("catalog.json")).expect("fixture catalog");
    if let Some(p) = c.patch {
        p(&mut catalog);
    }
    let config = InstanceConfig {
        seed: 7,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(catalog),
            start_time: Some(START),
            jitter: 0.0,
            tqdm_full_width: c.tqdm_full_width,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let inst = Instance::create(config).expect("instance");
    std::fs::create_dir_all(inst.sandbox.host_path("/workspace")).unwrap();
    if let Some(s) = c.setup {
        s(&inst);
    }
    let tool = if c.name.starts_with("civ") {
        "civitdl"
    } else {
        "wget"
    };
    let mut env = inst.login_env("root");
    env.insert("LANG".into(), "C.UTF-8".into());
    if c.name == "civ_ok_notty_cols" {
        env.insert("COLUMNS".into(), "120".into());
        env.insert("LINES".into(), "40".into());
    }
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
        cwd: "/workspace".into(),
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

fn read(name: &str) -> Option<Vec<u8>> {
    std::fs::read(fixtures().join("captures").join(name)).ok()
}

fn check(c: &Case, o: &Outcome) -> Result<(), String> {
    if c.tty_cols.is_some() {
        let want = read(&format!("{}.tty", c.name)).ok_or("missing .tty capture")?;
        let text = String::from_utf8_lossy(&want);
        let rc: i32 = text
            .rsplit("[exit=")
            .next()
            .and_then(|s| s.trim_end().trim_end_matches(']').parse().ok())
            .ok_or("no [exit=N] in capture")?;
        if rc != o.rc {
            return Err(format!("exit code: expected {rc}, got {}", o.rc));
        }
        return compare(&want, &o.merged).map_err(|e| format!("tty: {e}"));
    }
    let rc: i32 = String::from_utf8_lossy(&read(&format!("{}.rc", c.name)).ok_or("missing .rc")?)
        .trim()
        .parse()
        .map_err(|_| "bad .rc")?;
    if rc != o.rc {
        return Err(format!("exit code: expected {rc}, got {}", o.rc));
    }
    let want_out = read(&format!("{}.out", c.name)).ok_or("missing .out")?;
    let want_err = read(&format!("{}.err", c.name)).ok_or("missing .err")?;
    if c.name == "wget_stdout" {
        if want_out != o.stdout {
            return Err(format!(
                "stdout bytes differ ({} vs {})",
                want_out.len(),
                o.stdout.len()
            ));
        }
    } else {
        compare(&want_out, &o.stdout).map_err(|e| format!("stdout: {e}"))?;
    }
    compare(&want_err, &o.stderr).map_err(|e| format!("stderr: {e}"))
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
        cwd: "/workspace".into(),
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
