//! ComfyUI's model folders (`folder_paths.py`): which directories under
//! `$UI_HOME/models` each folder name reads, and the files in them as
//! ComfyUI lists them (relative paths, `/`-separated, sorted, model
//! extensions only). Read from the sandbox on every call, so a file that
//! `civitdl` or `wget` just wrote is listed at once.

use crate::instance::sandbox::{EntryKind, Fs};

/// Folder name -> the directories under `models/` it reads.
pub(super) const FOLDERS: &[(&str, &[&str])] = &[
    ("checkpoints", &["checkpoints"]),
    ("classifiers", &["classifiers"]),
    ("clip_vision", &["clip_vision"]),
    ("configs", &["configs"]),
    ("controlnet", &["controlnet", "t2i_adapter"]),
    ("diffusers", &["diffusers"]),
    ("diffusion_models", &["unet", "diffusion_models"]),
    ("embeddings", &["embeddings"]),
    ("gligen", &["gligen"]),
    ("hypernetworks", &["hypernetworks"]),
    ("loras", &["loras"]),
    ("photomaker", &["photomaker"]),
    ("style_models", &["style_models"]),
    ("text_encoders", &["text_encoders", "clip"]),
    ("upscale_models", &["upscale_models"]),
    ("vae", &["vae"]),
    ("vae_approx", &["vae_approx"]),
];

/// `supported_pt_extensions`.
const MODEL_EXTENSIONS: &[&str] = &[
    ".ckpt",
    ".pt",
    ".pt2",
    ".bin",
    ".pth",
    ".safetensors",
    ".pkl",
    ".sft",
];

/// Image files `LoadImage` offers from the input folder.
const IMAGE_EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tiff"];

/// Whether `name` is one of ComfyUI's folder names.
pub(super) fn is_folder(name: &str) -> bool {
    FOLDERS.iter().any(|(n, _)| *n == name)
}

/// The model files of folder `name` (empty for an unknown folder).
pub(super) fn models(fs: &Fs<'_>, ui_home: &str, name: &str) -> Vec<String> {
    let Some((_, dirs)) = FOLDERS.iter().find(|(n, _)| *n == name) else {
        return Vec::new();
    };
    let exts = if name == "configs" {
        &[".yaml"][..]
    } else {
        MODEL_EXTENSIONS
    };
    let mut out = Vec::new();
    for dir in *dirs {
        walk(fs, &format!("{ui_home}/models/{dir}"), "", exts, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// The images in `$UI_HOME/input` (what `LoadImage` lists).
pub(super) fn input_images(fs: &Fs<'_>, ui_home: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(
        fs,
        &format!("{ui_home}/input"),
        "",
        IMAGE_EXTENSIONS,
        &mut out,
    );
    out.sort();
    out
}

/// Files under `dir` ending in one of `exts`, as `prefix/name`. Bounded:
/// a tree of millions of files is cut, never walked for minutes.
fn walk(fs: &Fs<'_>, dir: &str, prefix: &str, exts: &[&str], out: &mut Vec<String>) {
    const MAX_FILES: usize = 20_000;
    let Ok(entries) = fs.read_dir(dir) else {
        return;
    };
    for e in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let name = e.name_lossy();
        if name.starts_with('.') {
            continue;
        }
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let path = format!("{dir}/{name}");
        let kind = match e.kind {
            EntryKind::Symlink => match fs.metadata(&path) {
                Ok(m) if m.is_dir() => EntryKind::Dir,
                Ok(_) => EntryKind::File,
                Err(_) => continue,
            },
            k => k,
        };
        match kind {
            EntryKind::Dir if prefix.matches('/').count() < 8 => walk(fs, &path, &rel, exts, out),
            EntryKind::File => {
                let lower = name.to_ascii_lowercase();
                if exts.iter().any(|x| lower.ends_with(x)) {
                    out.push(rel);
                }
            }
            _ => {}
        }
    }
}
