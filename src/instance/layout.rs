//! The directories and files a fresh instance starts with.

use std::io;

use super::{InstanceConfig, Sandbox};

/// ComfyUI's model folders, as a real install has them.
const MODEL_DIRS: &[&str] = &[
    "checkpoints",
    "clip",
    "clip_vision",
    "configs",
    "controlnet",
    "diffusers",
    "diffusion_models",
    "embeddings",
    "gligen",
    "hypernetworks",
    "loras",
    "Lora",
    "photomaker",
    "style_models",
    "text_encoders",
    "unet",
    "upscale_models",
    "vae",
    "vae_approx",
];

/// Creates the standard tree under `sandbox`; existing files are kept.
pub(super) fn seed(sandbox: &Sandbox, config: &InstanceConfig) -> io::Result<()> {
    let ui_home = config.ui_home.trim_start_matches('/');
    let root = sandbox.root();
    for dir in [
        "root",
        "tmp",
        "etc",
        "bin",
        "usr/bin",
        "usr/local/bin",
        "var/log",
        "home",
        "venv/main/bin",
        "dev",
        "proc",
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    for dir in MODEL_DIRS {
        std::fs::create_dir_all(root.join(ui_home).join("models").join(dir))?;
    }
    for dir in ["custom_nodes", "input", "output", "user"] {
        std::fs::create_dir_all(root.join(ui_home).join(dir))?;
    }
    write_if_missing(
        &root.join("etc/environment"),
        &format!(
            "PATH=\"/venv/main/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nUI_HOME={}\n",
            config.ui_home
        ),
    )?;
    write_if_missing(
        &root.join("etc/hostname"),
        &format!("{}\n", config.hostname),
    )?;
    write_if_missing(
        &root.join("etc/os-release"),
        "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\n",
    )?;
    write_if_missing(
        &root.join(ui_home).join("main.py"),
        "# ComfyUI entry point (placeholder on a fake instance)\n",
    )?;
    Ok(())
}

fn write_if_missing(path: &std::path::Path, text: &str) -> io::Result<()> {
    if !path.exists() {
        std::fs::write(path, text)?;
    }
    Ok(())
}
