//! The golden captures as data: for each civ_* and wget_* capture, the
//! command that made it and the state it ran in, and [`check`], which
//! compares a run's output with the capture. Shared by the in-process golden
//! tests and the SSH-level ones in `tests/it/golden.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use super::compare;
use crate::instance::Instance;
use crate::net::Catalog;

/// The capture server's origin, written `S/` in [`cases`].
const S: &str = "http://localhost:8765";
const LORAS: &str = "/workspace/ComfyUI/models/loras";
const LONG: &str = "sd_xl_base_1.0_0.9vae_very_long_filename_example.safetensors";
/// 2026-11-26 09:46:55 UTC, the first capture's start.
pub const START: i64 = 1_795_686_415;

/// Prepares the instance's files before the command runs.
pub type Setup = fn(&Arc<Instance>);
/// Adjusts the fixture catalog for one capture.
pub type Patch = fn(&mut Catalog);

/// One capture and how to reproduce it.
pub struct Case {
    /// The capture's file stem (`wget_dot_ok` for `wget_dot_ok.err`).
    pub name: &'static str,
    /// The tool's arguments, with `S/` expanded to the capture server.
    pub args: Vec<String>,
    /// `Some(columns)` for a `.tty` capture, made under a pty that wide.
    pub tty_cols: Option<u16>,
    /// Files the capture found in place.
    pub setup: Option<Setup>,
    /// Catalog changes for this capture.
    pub patch: Option<Patch>,
    /// The capture's tqdm drew full-width bars (tqdm <= 4.67).
    pub tqdm_full_width: bool,
    /// The program run (from the name's prefix unless set).
    pub tool: &'static str,
    /// Environment beyond `LANG=C.UTF-8`.
    pub extra_env: Vec<(&'static str, &'static str)>,
    /// The working directory (`/tmp` for civitdl, else `/workspace`).
    pub dir: &'static str,
    /// Over SSH, stdout goes through `| PIPE` (in-process runs already
    /// capture stdout as a pipe).
    pub pipe: Option<&'static str>,
}

/// A capture reproduced by running `tool ARGS` (`S/` is the capture server).
pub fn case(name: &'static str, args: &[&str]) -> Case {
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
        tool: tool_for(name),
        extra_env: Vec::new(),
        dir: if name.starts_with("civ") {
            "/tmp"
        } else {
            "/workspace"
        },
        pipe: None,
    }
}

/// The tool a capture's name prefix stands for.
fn tool_for(name: &str) -> &'static str {
    match name.split('_').next().unwrap_or("") {
        "civ" => "civitdl",
        "wget" => "wget",
        "curl" => "curl",
        "aria" => "aria2c",
        "git" => "git",
        _ => "hf",
    }
}

impl Case {
    /// A `.tty` capture at this width.
    pub fn tty(mut self, cols: u16) -> Self {
        self.tty_cols = Some(cols);
        self
    }
    /// Files to create first.
    pub fn setup(mut self, f: Setup) -> Self {
        self.setup = Some(f);
        self
    }
    /// A catalog change.
    pub fn patch(mut self, f: Patch) -> Self {
        self.patch = Some(f);
        self
    }
    /// Full-width tqdm bars.
    pub fn full_width(mut self) -> Self {
        self.tqdm_full_width = true;
        self
    }
    /// Runs `tool` instead of the one the name's prefix implies.
    pub fn tool(mut self, tool: &'static str) -> Self {
        self.tool = tool;
        self
    }
    /// One more environment variable.
    pub fn env(mut self, key: &'static str, value: &'static str) -> Self {
        self.extra_env.push((key, value));
        self
    }
    /// Runs in `dir`.
    pub fn dir(mut self, dir: &'static str) -> Self {
        self.dir = dir;
        self
    }
    /// Pipes stdout through `cmd` over SSH.
    pub fn pipe(mut self, cmd: &'static str) -> Self {
        self.pipe = Some(cmd);
        self
    }
}

/// `tests/fixtures` in this crate's source tree.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Creates a sparse file of `len` bytes at `path` inside the instance.
pub fn sized(inst: &Arc<Instance>, path: &str, len: u64) {
    let host = inst.sandbox.host_path(path);
    std::fs::create_dir_all(host.parent().unwrap()).unwrap();
    std::fs::File::create(&host).unwrap().set_len(len).unwrap();
}

/// Every civ_* and wget_* capture (all tools: [`super::every::cases`]).
pub fn civitdl_and_wget() -> Vec<Case> {
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

impl Case {
    /// The session environment the capture ran with, beyond the login's.
    pub fn session_env(&self) -> Vec<(&'static str, &'static str)> {
        let mut env = vec![("LANG", "C.UTF-8")];
        if self.name == "civ_ok_notty_cols" {
            env.extend([("COLUMNS", "120"), ("LINES", "40")]);
        }
        env.extend(self.extra_env.iter().copied());
        env
    }

    /// The fixture catalog with this capture's patch applied.
    pub fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::load(&fixtures().join("catalog.json")).expect("fixture catalog");
        if let Some(p) = self.patch {
            p(&mut catalog);
        }
        catalog
    }

    /// Creates `/workspace` and the files the capture found in place.
    pub fn prepare(&self, inst: &Arc<Instance>) {
        std::fs::create_dir_all(inst.sandbox.host_path("/workspace")).expect("/workspace");
        if let Some(s) = self.setup {
            s(inst);
        }
    }

    /// The command line as the original handler sends it over SSH:
    /// `export PATH="/venv/main/bin:$PATH" && cd DIR && TOOL 'ARG'...`
    /// (civitdl runs from `/tmp` as the handler's; wget from `/workspace`,
    /// where the captures' relative `-O` names and set-up files live).
    pub fn remote_command(&self) -> String {
        let mut cmd = format!(
            "export PATH=\"/venv/main/bin:$PATH\" && cd {} && {}",
            self.dir, self.tool
        );
        for a in &self.args {
            cmd.push(' ');
            cmd.push_str(&shell_quote(a));
        }
        if let Some(p) = self.pipe {
            cmd.push_str(" | ");
            cmd.push_str(p);
        }
        cmd
    }
}

/// `'text'`, safe for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What one run printed and how it ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// stdout (no pty).
    pub stdout: Vec<u8>,
    /// stderr (no pty).
    pub stderr: Vec<u8>,
    /// stdout and stderr merged (pty).
    pub merged: Vec<u8>,
    /// Exit status.
    pub rc: i32,
}

fn read(name: &str) -> Option<Vec<u8>> {
    std::fs::read(fixtures().join("captures").join(name)).ok()
}

/// Compares a run with its capture: exit code, then `.tty` (merged) or
/// `.out` and `.err` by shape (`wget_stdout`'s `.out` byte for byte).
pub fn check(c: &Case, o: &Outcome) -> Result<(), String> {
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
