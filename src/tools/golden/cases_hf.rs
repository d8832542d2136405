//! The hf_*, hf2_* captures and how to reproduce them. They were made with
//! `HF_ENDPOINT` pointing at the capture server (`http://127.0.0.1:8765`),
//! which answered every file of `org/model` with 20,000,000 bytes at
//! 10 MB/s, etag `c…c` and commit `b…b`, `gated/model` as gated and
//! `missing/model` as missing: [`hub`] pins the same repos.

use std::sync::Arc;

use super::cases::{case, sized, Case};
use crate::instance::Instance;
use crate::net::catalog::HostEntry;
use crate::net::hub::{HubFile, HubRepo};
use crate::net::Catalog;

const ENDPOINT: &str = "http://127.0.0.1:8765";
const CKPT: &str = "/workspace/ComfyUI/models/ckpt";

/// The capture server's Hub: `org/model`, `gated/model`, `missing/model`.
pub fn hub(c: &mut Catalog) {
    let file = || HubFile {
        size: Some(20_000_000),
        sha256: Some("c".repeat(64)),
    };
    let files = |names: &[&str]| names.iter().map(|n| (n.to_string(), file())).collect();
    c.hf_repos.insert(
        "org/model".into(),
        HubRepo {
            commit: Some("b".repeat(40)),
            files: files(&[
                "model.safetensors",
                "vae.safetensors",
                "sd_xl_base_1.0_0.9vae.safetensors",
                "unet/diffusion_pytorch_model.fp16.safetensors",
            ]),
            rate_bytes_per_s: Some(10_000_000.0),
            ..HubRepo::default()
        },
    );
    c.hf_repos.insert(
        "gated/model".into(),
        HubRepo {
            commit: Some("b".repeat(40)),
            files: files(&["model.safetensors"]),
            gated: true,
            rate_bytes_per_s: Some(10_000_000.0),
            // What the capture server said (the Hub names the repo itself).
            error_message: Some("Access to model gated/x is restricted. You must have access to it and be authenticated to access it. Please log in.".into()),
            ..HubRepo::default()
        },
    );
    c.hf_repos.insert(
        "missing/model".into(),
        HubRepo {
            missing: true,
            ..HubRepo::default()
        },
    );
    c.hosts.insert(
        "127.0.0.1:8765".into(),
        HostEntry {
            ips: Some(vec!["127.0.0.1".into()]),
            ..HostEntry::default()
        },
    );
}

/// `DIR/model.safetensors` as an earlier download left it, with its metadata.
fn downloaded_before(inst: &Arc<Instance>) {
    let file = format!("{CKPT}/model.safetensors");
    sized(inst, &file, 20_000_000);
    let mtime = std::fs::metadata(inst.sandbox.host_path(&file))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let meta = format!("{CKPT}/.cache/huggingface/download/model.safetensors.metadata");
    sized(inst, &meta, 0);
    let text = format!("{}\n{}\n{mtime:.6}\n", "b".repeat(40), "c".repeat(64));
    std::fs::write(inst.sandbox.host_path(&meta), text).expect("metadata");
}

/// `hf download ARGS` (or `huggingface-cli`) against the capture server.
fn hf(name: &'static str, args: &[&str]) -> Case {
    let mut all = vec!["download"];
    all.extend_from_slice(args);
    case(name, &all).patch(hub).env("HF_ENDPOINT", ENDPOINT)
}

/// Every hf_*, hf2_* capture.
pub fn cases() -> Vec<Case> {
    vec![
        hf(
            "hf_cli_tty",
            &["org/model", "model.safetensors", "--local-dir", CKPT],
        )
        .tool("huggingface-cli")
        .tty(100),
        hf(
            "hf_cli_notty",
            &["org/model", "vae.safetensors", "--local-dir", CKPT],
        )
        .tool("huggingface-cli"),
        hf(
            "hf_hf_tty",
            &[
                "org/model",
                "sd_xl_base_1.0_0.9vae.safetensors",
                "--local-dir",
                CKPT,
            ],
        )
        .tty(100),
        hf(
            "hf_hf_cache_tty",
            &["org/model", "unet/diffusion_pytorch_model.fp16.safetensors"],
        )
        .tty(100),
        hf(
            "hf_again",
            &["org/model", "model.safetensors", "--local-dir", CKPT],
        )
        .setup(downloaded_before),
        hf(
            "hf_404repo",
            &[
                "missing/model",
                "model.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/e1",
            ],
        ),
        hf(
            "hf_cli_404repo",
            &["missing/model", "model.safetensors", "--local-dir", CKPT],
        )
        .tool("huggingface-cli")
        .setup(downloaded_before),
        hf(
            "hf_gated",
            &[
                "gated/model",
                "model.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/e2",
            ],
        ),
        hf(
            "hf_noentry",
            &[
                "org/model",
                "nofile.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/e1",
            ],
        ),
        // The capture meant a refused Hub, but the server answered: a plain
        // download without a tty, as captured.
        hf(
            "hf_refused",
            &[
                "org/model",
                "model.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/e3",
            ],
        ),
        hf(
            "hf2_404",
            &[
                "missing/model",
                "model.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/hf2",
            ],
        )
        .env("FAKESSH_HF_VERSION", "2.4.0"),
        hf(
            "hf2_tty",
            &[
                "org/model",
                "model.safetensors",
                "--local-dir",
                "/workspace/ComfyUI/models/hf2",
            ],
        )
        .env("FAKESSH_HF_VERSION", "2.4.0")
        .tty(100)
        .full_width(),
    ]
}
