//! The venv's site-packages: the packages the image ships with, plus those
//! `pip install` added, which live in the sandbox as `NAME-VERSION.dist-info`
//! directories (so `ls`, `pip list` and a second install all see them).

use super::index::normalize;
use crate::program::Ctx;

/// The venv's site-packages directory.
pub(super) const SITE: &str = "/venv/main/lib/python3.11/site-packages";

/// What the image ships with, as `pip list` names them.
const PREINSTALLED: &[(&str, &str)] = &[
    ("certifi", "2024.2.2"),
    ("charset-normalizer", "3.3.2"),
    ("civitdl", "2.2.0"),
    ("filelock", "3.14.0"),
    ("fsspec", "2024.5.0"),
    ("huggingface-hub", "0.34.4"),
    ("idna", "3.7"),
    ("Jinja2", "3.1.4"),
    ("numpy", "1.26.4"),
    ("pillow", "10.3.0"),
    ("pip", "24.0"),
    ("PyYAML", "6.0.1"),
    ("requests", "2.32.3"),
    ("safetensors", "0.4.3"),
    ("setuptools", "69.5.1"),
    ("torch", "2.3.0+cu121"),
    ("torchaudio", "2.3.0+cu121"),
    ("torchvision", "0.18.0+cu121"),
    ("tqdm", "4.67.1"),
    ("transformers", "4.41.2"),
    ("typing_extensions", "4.11.0"),
    ("urllib3", "2.2.1"),
    ("wheel", "0.43.0"),
];

/// A preinstalled package by (normalized) name.
#[cfg(test)]
pub(super) fn preinstalled(name: &str) -> Option<(&'static str, &'static str)> {
    let want = normalize(name);
    PREINSTALLED
        .iter()
        .copied()
        .find(|(n, _)| normalize(n) == want)
}

/// Every installed package, `(name, version)`, sorted as pip sorts
/// (case-insensitively).
pub(super) fn installed(ctx: &Ctx) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = PREINSTALLED
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    for (name, version) in added(ctx) {
        all.retain(|(n, _)| normalize(n) != normalize(&name));
        all.push((name, version));
    }
    all.sort_by_key(|(n, _)| n.to_ascii_lowercase());
    all
}

/// The installed version of `name`, if any.
pub(super) fn version_of(ctx: &Ctx, name: &str) -> Option<(String, String)> {
    let want = normalize(name);
    installed(ctx)
        .into_iter()
        .find(|(n, _)| normalize(n) == want)
}

/// Packages `pip install` added: their dist-info directories.
fn added(ctx: &Ctx) -> Vec<(String, String)> {
    let Ok(entries) = ctx.fs().read_dir(SITE) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let dir = e.name_lossy();
            let stem = dir.strip_suffix(".dist-info")?;
            let (name, version) = stem.split_once('-')?;
            let metadata = ctx
                .fs()
                .read(&format!("{SITE}/{dir}/METADATA"), 64 * 1024)
                .ok()?;
            // The project name as written in METADATA (dist-info names
            // use underscores).
            let text = String::from_utf8_lossy(&metadata);
            let shown = text
                .lines()
                .find_map(|l| l.strip_prefix("Name: "))
                .unwrap_or(name)
                .to_string();
            Some((shown, version.to_string()))
        })
        .collect()
}

/// Records `name` `version` as installed: its dist-info and a package dir.
pub(super) fn add(ctx: &Ctx, name: &str, version: &str) -> std::io::Result<()> {
    let fs = ctx.fs();
    let under = name.replace('-', "_");
    let info = format!("{SITE}/{under}-{version}.dist-info");
    fs.create_dir_all(&info)?;
    fs.write(
        &format!("{info}/METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").as_bytes(),
    )?;
    fs.write(&format!("{info}/INSTALLER"), b"pip\n")?;
    let module = under.to_ascii_lowercase();
    fs.create_dir_all(&format!("{SITE}/{module}"))?;
    fs.write(
        &format!("{info}/RECORD"),
        format!("{module}/__init__.py,,\n{under}-{version}.dist-info/METADATA,,\n").as_bytes(),
    )?;
    fs.write(&format!("{SITE}/{module}/__init__.py"), b"")
}

/// Removes what [`add`] wrote; `false` when `name` was not added by pip
/// (preinstalled packages stay: they belong to the image).
pub(super) fn remove(ctx: &Ctx, name: &str) -> bool {
    let fs = ctx.fs();
    let want = normalize(name);
    let Ok(entries) = fs.read_dir(SITE) else {
        return false;
    };
    let mut removed = false;
    for e in entries {
        let dir = e.name_lossy();
        let Some(stem) = dir.strip_suffix(".dist-info") else {
            continue;
        };
        let Some((n, _)) = stem.split_once('-') else {
            continue;
        };
        if normalize(n) == want {
            let module = n.to_ascii_lowercase();
            removed |= fs.remove_dir_all(&format!("{SITE}/{dir}")).is_ok();
            let _ = fs.remove_dir_all(&format!("{SITE}/{module}"));
        }
    }
    removed
}
