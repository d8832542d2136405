//! The directories and files a fresh instance starts with.

use std::io;

use super::sandbox::{Fs, OpenOptions};
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
/// Everything goes through the confined operations: a `--root` directory
/// kept from an earlier run may hold symlinks a session planted.
pub(super) fn seed(sandbox: &Sandbox, config: &InstanceConfig) -> io::Result<()> {
    let fs = sandbox.fs("/");
    let ui_home = config.ui_home.trim_start_matches('/');
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
        fs.create_dir_all(&format!("/{dir}"))?;
    }
    for dir in MODEL_DIRS {
        fs.create_dir_all(&format!("/{ui_home}/models/{dir}"))?;
    }
    for dir in ["custom_nodes", "input", "output", "user"] {
        fs.create_dir_all(&format!("/{ui_home}/{dir}"))?;
    }
    write_if_missing(
        fs,
        "/etc/environment",
        &format!(
            "PATH=\"/venv/main/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nUI_HOME={}\n",
            config.ui_home
        ),
    )?;
    write_if_missing(fs, "/etc/hostname", &format!("{}\n", config.hostname))?;
    write_if_missing(
        fs,
        "/etc/os-release",
        "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\n",
    )?;
    write_if_missing(
        fs,
        &format!("/{ui_home}/main.py"),
        "# ComfyUI entry point (placeholder on a fake instance)\n",
    )?;
    Ok(())
}

/// Writes `text` to a new file at `path`; anything already there (a
/// symlink too) is kept as it is.
fn write_if_missing(fs: Fs<'_>, path: &str, text: &str) -> io::Result<()> {
    use std::io::Write;
    if fs.exists(path) {
        return Ok(());
    }
    let opts = OpenOptions::new().write(true).create_new(true);
    match fs.open(path, opts) {
        Ok(mut f) => f.write_all(text.as_bytes()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_a_kept_root_never_follows_planted_links_out() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        // A session of an earlier run left links to the host's real paths.
        std::os::unix::fs::symlink(&outside, root.join("etc")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("tmp")).unwrap();
        let sandbox = Sandbox::at(&root).unwrap();
        let config = InstanceConfig {
            ui_home: "/../../outside/ui".into(),
            ..InstanceConfig::default()
        };
        // The links name directories that do not exist inside the root.
        assert!(seed(&sandbox, &config).is_err());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        let fs = sandbox.fs("/");
        fs.remove_file("/etc").unwrap();
        fs.remove_file("/tmp").unwrap();
        seed(&sandbox, &config).unwrap();
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(fs.is_file("/etc/hostname"));
        assert!(fs.is_dir("/outside/ui/models/loras"));
    }
}
