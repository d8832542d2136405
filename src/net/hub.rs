//! The Hugging Face Hub's repositories: for any `org/name` a deterministic
//! repo (a commit hash from its name, a plausible file list for its kind,
//! sha256 etags), and pinned entries for tests (`hf_repos` in the catalog,
//! keyed `org/name`, `datasets/org/name` or `spaces/org/name`):
//! ```json
//! { "hf_repos": { "org/model": { "commit": "bbbb…", "files": { "model.safetensors":
//!   { "size": 20000000, "sha256": "cccc…" } }, "rate_bytes_per_s": 10000000 },
//!   "gated/model": { "gated": true }, "missing/model": { "missing": true } } }
//! ```
//! A pinned repo answers its `resolve` URLs on any host (a test may point
//! `HF_ENDPOINT` at the capture server); an unpinned one keeps the
//! catalog's own answer for `huggingface.co` (LFS files redirect to the CDN).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fnv1a;
use super::response::{simple, Response};
use super::synth::{hex, is_lfs, size_for};
use super::url::Url;

/// A pinned file of a Hub repo.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubFile {
    /// Size in bytes (synthesised from the name when absent).
    pub size: Option<u64>,
    /// The sha256 the Hub sends as its etag (synthesised when absent).
    pub sha256: Option<String>,
}

/// A pinned Hub repository.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubRepo {
    /// The commit `main` points at (40 hex digits; from the name when absent).
    pub commit: Option<String>,
    /// The files; when empty, the list synthesised for the repo's kind.
    pub files: BTreeMap<String, HubFile>,
    /// Gated: downloads need a token (401 without, 403 with one not in `tokens`).
    pub gated: bool,
    /// Tokens granted access to a gated repo (any token when empty).
    pub tokens: Vec<String>,
    /// The repo does not exist (404 `RepositoryNotFoundError`).
    pub missing: bool,
    /// This repo's transfer rate in bytes/s.
    pub rate_bytes_per_s: Option<f64>,
    /// The server's error message on a gated answer (`X-Error-Message`),
    /// when it differs from the Hub's own wording.
    pub error_message: Option<String>,
}

/// One file of a resolved repo.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoFile {
    /// Path in the repo (`unet/diffusion_pytorch_model.safetensors`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// The etag: the sha256 of an LFS file, a git blob sha1 (40 hex) otherwise.
    pub etag: String,
}

/// A repository as the Hub describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Repo {
    /// `org/name` (without the kind's prefix).
    pub id: String,
    /// `model`, `dataset` or `space`.
    pub kind: String,
    /// The commit the revision resolves to.
    pub commit: String,
    /// Every file at that commit.
    pub files: Vec<RepoFile>,
    /// Gated repo.
    pub gated: bool,
    /// Tokens granted access (any when empty).
    pub tokens: Vec<String>,
    /// Pinned rate.
    pub rate: Option<f64>,
    /// The server's gated message, if pinned.
    pub error_message: Option<String>,
    /// Pinned in the catalog (answers `resolve` URLs on any host).
    pub pinned: bool,
}

impl Repo {
    /// The file at `path`, if the repo has it.
    pub fn file(&self, path: &str) -> Option<&RepoFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Whether `token` opens this repo.
    pub fn grants(&self, token: Option<&str>) -> bool {
        match token {
            None => !self.gated,
            Some(t) => !self.gated || self.tokens.is_empty() || self.tokens.iter().any(|x| x == t),
        }
    }
}

/// The catalog key of a repo: `org/name`, `datasets/org/name`, `spaces/org/name`.
pub fn repo_key(kind: &str, id: &str) -> String {
    match kind {
        "dataset" => format!("datasets/{id}"),
        "space" => format!("spaces/{id}"),
        _ => id.to_string(),
    }
}

/// The files a repo of this kind plausibly holds.
fn synth_files(kind: &str, id: &str) -> Vec<&'static str> {
    let lower = id.to_ascii_lowercase();
    match kind {
        "dataset" => vec![
            ".gitattributes",
            "README.md",
            "data/train-00000-of-00001.parquet",
        ],
        "space" => vec![".gitattributes", "README.md", "app.py", "requirements.txt"],
        _ if lower.contains("gguf") => vec![".gitattributes", "README.md", "model-Q4_K_M.gguf"],
        _ if ["sdxl", "stable-diffusion", "flux", "diffusion"]
            .iter()
            .any(|k| lower.contains(k)) =>
        {
            vec![
                ".gitattributes",
                "README.md",
                "model_index.json",
                "scheduler/scheduler_config.json",
                "text_encoder/config.json",
                "text_encoder/model.safetensors",
                "unet/config.json",
                "unet/diffusion_pytorch_model.safetensors",
                "vae/config.json",
                "vae/diffusion_pytorch_model.safetensors",
            ]
        }
        _ => vec![
            ".gitattributes",
            "README.md",
            "config.json",
            "model.safetensors",
        ],
    }
}

/// A file's synthesised size and etag.
fn synth_file(key: &str, path: &str, pinned: Option<&HubFile>) -> RepoFile {
    let h = fnv1a(&[b"hf-file", key.as_bytes(), path.as_bytes()]);
    let name = path.rsplit('/').next().unwrap_or(path);
    let lfs = is_lfs(name) || name.ends_with(".parquet");
    let size = pinned.and_then(|p| p.size).unwrap_or_else(|| match name {
        ".gitattributes" => 1_200 + h % 400,
        _ => size_for(name, &format!("/{key}/{path}"), h),
    });
    let etag = pinned
        .and_then(|p| p.sha256.clone())
        .unwrap_or_else(|| hex(h, if lfs { 64 } else { 40 }));
    RepoFile {
        path: path.to_string(),
        size,
        etag,
    }
}

/// What a `resolve` URL names: the repo key, the revision and the path.
fn parse_resolve(url: &Url) -> Option<(String, String, String)> {
    let path = url.path_only();
    let (repo, rest) = path.trim_start_matches('/').split_once("/resolve/")?;
    let (rev, file) = rest.split_once('/')?;
    let parts = repo.split('/').count();
    let ok = match repo.split('/').next() {
        Some("datasets" | "spaces") => parts == 3,
        _ => parts == 2,
    };
    ok.then(|| (repo.to_string(), rev.to_string(), file.to_string()))
}

/// The pinned repos, by [`repo_key`].
pub type Repos = BTreeMap<String, HubRepo>;

/// The repo `id` of `kind` (`model`, `dataset`, `space`) given the pinned
/// `repos`; `None` when the Hub has no such repo.
pub fn repo(repos: &Repos, kind: &str, id: &str) -> Option<Repo> {
    let key = repo_key(kind, id);
    let pinned = repos.get(&key);
    if pinned.is_some_and(|p| p.missing) || !(1..=2).contains(&id.split('/').count()) {
        return None;
    }
    let e = pinned.cloned().unwrap_or_default();
    let files = if e.files.is_empty() {
        synth_files(kind, id)
            .into_iter()
            .map(|p| synth_file(&key, p, None))
            .collect()
    } else {
        e.files
            .iter()
            .map(|(p, f)| synth_file(&key, p, Some(f)))
            .collect()
    };
    Some(Repo {
        id: id.to_string(),
        kind: kind.to_string(),
        commit: e
            .commit
            .clone()
            .unwrap_or_else(|| hex(fnv1a(&[b"hf-commit", key.as_bytes()]), 40)),
        files,
        gated: e.gated,
        tokens: e.tokens.clone(),
        rate: e.rate_bytes_per_s,
        error_message: e.error_message.clone(),
        pinned: pinned.is_some(),
    })
}

/// The answer to a `resolve` URL of a pinned repo (on any host): 404 for
/// a missing repo or file, 401 for a gated repo without a token, else 200
/// with the file's size.
pub(crate) fn fetch(repos: &Repos, url: &Url, authorized: bool) -> Option<Response> {
    let (key, _rev, path) = parse_resolve(url)?;
    let entry = repos.get(&key)?;
    let (kind, id) = match key.split_once('/') {
        Some(("datasets", id)) => ("dataset", id),
        Some(("spaces", id)) => ("space", id),
        _ => ("model", key.as_str()),
    };
    let Some(repo) = repo(repos, kind, id) else {
        return Some(simple(404, 0, "application/json"));
    };
    if repo.gated && !authorized {
        return Some(simple(401, 0, "application/json"));
    }
    let Some(f) = repo.file(&path) else {
        return Some(simple(404, 0, "application/json"));
    };
    let name = path.rsplit('/').next().unwrap_or(&path);
    let mut r = simple(200, f.size, super::response::content_type(name));
    r.filename = Some(name.to_string());
    r.rate = entry.rate_bytes_per_s;
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Catalog;

    #[test]
    fn any_repo_is_deterministic_with_a_commit_from_its_name() {
        let c = Repos::new();
        let a = repo(&c, "model", "org/name").unwrap();
        assert_eq!(Some(a.clone()), repo(&c, "model", "org/name"));
        assert_eq!(a.commit.len(), 40);
        assert!(a.file("model.safetensors").is_some());
        assert_ne!(a.commit, repo(&c, "model", "org/other").unwrap().commit);
        assert!(repo(&c, "model", "gpt2").is_some());
        assert!(repo(&c, "model", "a/b/c").is_none());
    }

    #[test]
    fn pinned_repos_answer_resolve_urls_on_any_host() {
        let mut c = Catalog::default();
        c.hf_repos.insert(
            "gated/model".into(),
            HubRepo {
                gated: true,
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
        let f = |u: &str, a| c.fetch(u, 1, a).status;
        assert_eq!(
            f(
                "http://127.0.0.1:8765/gated/model/resolve/main/model.safetensors",
                false
            ),
            401
        );
        assert_eq!(
            f(
                "http://127.0.0.1:8765/gated/model/resolve/main/model.safetensors",
                true
            ),
            200
        );
        assert_eq!(
            f(
                "http://127.0.0.1:8765/missing/model/resolve/main/x.bin",
                true
            ),
            404
        );
        assert_eq!(
            f(
                "http://127.0.0.1:8765/gated/model/resolve/main/nofile",
                true
            ),
            404
        );
    }
}
