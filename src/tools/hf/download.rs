//! `hf_hub_download` of one file, as 0.34 does it: the HEAD call
//! (`get_hf_file_metadata`) and its errors, then either the cache layout
//! (`blobs/ETAG`, `refs/REV`, `snapshots/COMMIT/PATH -> ../../blobs/ETAG`)
//! or the `--local-dir` one (`DIR/PATH` plus
//! `DIR/.cache/huggingface/download/PATH.metadata`), the logger lines and
//! the fallbacks to a local copy when the Hub cannot be asked.

use std::time::{Duration, UNIX_EPOCH};

use super::errors::{head_error_text, Failure, HubClass, NetCause};
use super::hash::short_hash;
use super::Run;
use crate::net::hub::Repo;
use crate::net::response::Resolution;
use crate::net::Url;
use crate::tools::files;

/// What the HEAD call learnt about a file (and where its body breaks).
#[derive(Clone, Debug)]
pub(super) struct Meta {
    /// The URL the body comes from.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// The etag (sha256 for LFS files).
    pub etag: String,
    /// The commit the revision resolves to.
    pub commit: String,
    /// The server's rate.
    pub rate: Option<f64>,
    /// Where the body breaks off on the first GET.
    pub drop_at: Option<u64>,
    /// Where the body pauses on the first GET, and for how long.
    pub stall: Option<(u64, Option<f64>)>,
}

/// `os.path.join`-like: `a` + `/` + `b` (no doubled slash).
pub(super) fn join(a: &str, b: &str) -> String {
    if a.is_empty() || a == "." {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `Path(p)` as Python prints it: no `.` parts, no trailing or doubled slash.
pub(super) fn py_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    match (abs, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".into(),
        (false, false) => parts.join("/"),
    }
}

/// The `models--org--name` folder name of a repo.
pub(super) fn repo_folder(kind: &str, id: &str) -> String {
    format!("{kind}s--{}", id.replace('/', "--"))
}

/// Whether `rev` is a full commit hash (`REGEX_COMMIT_HASH`).
fn is_commit(rev: &str) -> bool {
    rev.len() == 40
        && rev
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The local metadata of a `--local-dir` file: commit, etag, timestamp.
struct LocalMeta {
    commit: String,
    etag: String,
}

impl Run<'_> {
    /// The URL of `path` in the repo at the run's revision.
    pub(super) fn resolve_url(&self, path: &str) -> String {
        let prefix = match self.d.repo_type.as_str() {
            "dataset" => "datasets/",
            "space" => "spaces/",
            _ => "",
        };
        format!(
            "{}/{prefix}{}/resolve/{}/{}",
            self.endpoint.trim_end_matches('/'),
            self.d.repo_id,
            self.d.revision,
            path
        )
    }

    /// DNS and connection refusal for a request to `url`.
    pub(super) fn network_failure(&self, url: &str, attempt: u32) -> Option<Failure> {
        let u = Url::parse(url)?;
        let remote = self.tool.remote;
        if remote.resolve(&u.host, attempt) == Resolution::Unknown {
            return Some(Failure::Network {
                cause: NetCause::Dns,
                url: url.to_string(),
            });
        }
        if remote.refused(&u.host, u.port, attempt) {
            return Some(Failure::Network {
                cause: NetCause::Refused,
                url: url.to_string(),
            });
        }
        None
    }

    /// The failure an HTTP error `status` from the Hub is.
    fn http_failure(&self, status: u16, url: &str) -> Failure {
        let https = url.starts_with("https://");
        let class = match status {
            404 => HubClass::EntryNotFound,
            // REPO_API_REGEX only matches https URLs.
            401 if https => HubClass::RepoNotFound,
            403 => HubClass::Forbidden,
            _ => HubClass::Other,
        };
        Failure::Http {
            status,
            class,
            url: url.to_string(),
            server: None,
        }
    }

    /// `get_hf_file_metadata`: the HEAD call for `path` of `repo`
    /// (`None`: the Hub has no such repo).
    pub(super) async fn head(&mut self, repo: Option<&Repo>, path: &str) -> Result<Meta, Failure> {
        if self.offline {
            return Err(Failure::Offline {
                what: format!(
                    "repo_id: {}, repo_type: {}, revision: {}, filename: {path}",
                    self.d.repo_id, self.d.repo_type, self.d.revision
                ),
            });
        }
        let url = self.resolve_url(path);
        self.tool.latency(0.05, 0.25).await;
        if let Some(f) = self.network_failure(&url, 1) {
            return Err(f);
        }
        let mut attempt = 1;
        // http_backoff retries 429 only (1 s, then doubling).
        while let Some(status) = self.tool.remote.http_status(attempt) {
            if status != 429 {
                return Err(self.http_failure(status, &url));
            }
            let msg = format!(
                "HTTP Error 429 thrown while requesting HEAD {url}\nRetrying in 1s [Retry 1/5].\n"
            );
            self.tool.io.err(msg).await;
            self.tool.pause(1.0).await;
            attempt += 1;
        }
        let Some(repo) = repo else {
            return Err(Failure::Http {
                status: 404,
                class: HubClass::RepoNotFound,
                url,
                server: None,
            });
        };
        let token = self.token.clone();
        if !repo.grants(token.as_deref()) {
            let (status, server) = if token.is_none() {
                (401, repo.error_message.clone().unwrap_or_else(|| format!("Access to {} {} is restricted. You must have access to it and be authenticated to access it. Please log in.", repo.kind, repo.id)))
            } else {
                (403, format!("Access to {} {} is restricted and you are not in the authorized list. Visit {}/{} to ask for access.", repo.kind, repo.id, self.endpoint.trim_end_matches('/'), repo.id))
            };
            return Err(Failure::Http {
                status,
                class: HubClass::Gated,
                url,
                server: Some(server),
            });
        }
        let file = repo.file(path).cloned();
        if file.is_none() && repo.pinned {
            return Err(Failure::Http {
                status: 404,
                class: HubClass::EntryNotFound,
                url,
                server: None,
            });
        }
        let remote = self.tool.remote;
        let authorized = token.is_some();
        let mut r = remote.fetch(&url, attempt, authorized, 0);
        let mut body_url = url.clone();
        // An LFS file's HEAD answers 302 to the CDN; the body comes from there.
        for hop in 1..4 {
            match r.location.clone() {
                Some(loc) if (300..400).contains(&r.status) => {
                    body_url = loc;
                    r = remote.fetch(&body_url, attempt, authorized, hop);
                }
                _ => break,
            }
        }
        if !(200..300).contains(&r.status) {
            return Err(self.http_failure(r.status, &url));
        }
        let etag = file.as_ref().map(|f| f.etag.clone()).unwrap_or_else(|| {
            // A sha256-like digest: four independent 64-bit hashes.
            (0u8..4)
                .map(|i| {
                    let h = crate::net::fnv1a(&[
                        b"hf-etag",
                        &[i],
                        self.d.repo_id.as_bytes(),
                        path.as_bytes(),
                    ]);
                    format!("{h:016x}")
                })
                .collect::<String>()
        });
        let size = match &file {
            Some(f) if repo.pinned => f.size,
            _ => r.size,
        };
        Ok(Meta {
            url: body_url,
            size,
            etag,
            commit: if is_commit(&self.d.revision) {
                self.d.revision.clone()
            } else {
                repo.commit.clone()
            },
            rate: r.rate.or(repo.rate),
            drop_at: r.fail.map(|(_, at)| at).filter(|at| *at < size),
            stall: r.stall,
        })
    }

    /// One file: into the cache or into `--local-dir`; the path to print.
    pub(super) async fn download_file(
        &mut self,
        repo: Option<&Repo>,
        path: &str,
    ) -> Result<Option<String>, Failure> {
        match self.d.local_dir.clone() {
            Some(dir) => self.download_to_local_dir(repo, &dir, path).await,
            None => self.download_to_cache(repo, path).await,
        }
    }

    fn read_local_meta(&self, meta_path: &str, file_path: &str) -> Option<LocalMeta> {
        let ctx = self.tool.ctx;
        let text = String::from_utf8(files::read(ctx, meta_path).ok()?).ok()?;
        let mut lines = text.lines();
        let commit = lines.next()?.trim().to_string();
        let etag = lines.next()?.trim().to_string();
        let ts: f64 = lines.next()?.trim().parse().ok()?;
        let mtime = ctx
            .fs()
            .metadata(file_path)
            .ok()?
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_secs_f64();
        (mtime - 1.0 <= ts).then_some(LocalMeta { commit, etag })
    }

    fn write_local_meta(&self, meta_path: &str, commit: &str, etag: &str) {
        let ctx = self.tool.ctx;
        if let Some((parent, _)) = meta_path.rsplit_once('/') {
            let _ = files::create_dir_all(ctx, parent);
        }
        let text = format!("{commit}\n{etag}\n{:.6}\n", self.tool.clock.unix());
        let _ = files::write(ctx, meta_path, text.as_bytes());
    }

    /// `_hf_hub_download_download_to_local_dir`.
    async fn download_to_local_dir(
        &mut self,
        repo: Option<&Repo>,
        dir: &str,
        path: &str,
    ) -> Result<Option<String>, Failure> {
        let ctx = self.tool.ctx;
        let dir = py_path(dir);
        let file_path = join(&dir, path);
        let hf_dir = join(&dir, ".cache/huggingface");
        let meta_path = join(&hf_dir, &format!("download/{path}.metadata"));
        let _ = files::create_dir_all(ctx, &hf_dir);
        let gitignore = join(&hf_dir, ".gitignore");
        if !files::exists(ctx, &gitignore) {
            let _ = files::write(ctx, &gitignore, b"*");
        }
        let is_file = files::file_size(ctx, &file_path).is_some();
        let local = if is_file {
            self.read_local_meta(&meta_path, &file_path)
        } else {
            None
        };
        if !self.d.force
            && is_commit(&self.d.revision)
            && local.as_ref().is_some_and(|m| m.commit == self.d.revision)
        {
            return Ok(Some(file_path));
        }
        let meta = match self.head(repo, path).await {
            Ok(m) => m,
            Err(e) => {
                let direct = matches!(
                    &e,
                    Failure::Http {
                        class: HubClass::EntryNotFound,
                        ..
                    }
                );
                if !direct && !self.d.force && is_file {
                    let msg = format!("Couldn't access the Hub to check for update but local file already exists. Defaulting to existing file. (error: {})\n", head_error_text(&e));
                    self.tool.io.err(msg).await;
                    return Ok(Some(file_path));
                }
                return Err(e);
            }
        };
        if !self.d.force && is_file && local.as_ref().is_some_and(|m| m.etag == meta.etag) {
            self.write_local_meta(&meta_path, &meta.commit, &meta.etag);
            return Ok(Some(file_path));
        }
        // The blob may already be in the cache: copied, not downloaded.
        if !self.d.force {
            if let Some(cached) = self.cached_blob(&meta) {
                if let Some((parent, _)) = file_path.rsplit_once('/') {
                    let _ = files::create_dir_all(ctx, parent);
                }
                self.tool.pause(meta.size as f64 / 1.5e9).await;
                let _ = files::create_sized(ctx, &file_path, meta.size);
                let _ = cached;
                self.write_local_meta(&meta_path, &meta.commit, &meta.etag);
                return Ok(Some(file_path));
            }
        }
        let meta_dir = meta_path
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let meta_name = meta_path.rsplit('/').next().unwrap_or("").to_string();
        let _ = files::create_dir_all(ctx, &meta_dir);
        let _ = files::write(
            ctx,
            &format!("{}.lock", meta_path.trim_end_matches(".metadata")),
            b"",
        );
        let _ = ctx.fs().remove_file(&file_path);
        let dir_abs = files::absolute(ctx, &meta_dir);
        // `Path.resolve()`: symlinks in the folder's path are followed.
        let dir_abs = ctx.fs().canonical(&dir_abs).unwrap_or(dir_abs);
        let incomplete = join(
            &dir_abs,
            &format!("{}.{}.incomplete", short_hash(&meta_name), meta.etag),
        );
        if let Some((parent, _)) = file_path.rsplit_once('/') {
            let _ = files::create_dir_all(ctx, parent);
        }
        if !self.fetch_to(&meta, &incomplete, &file_path, path).await? {
            return Ok(None);
        }
        self.write_local_meta(&meta_path, &meta.commit, &meta.etag);
        Ok(Some(file_path))
    }

    /// The cache folder (`--cache-dir`, `HF_HUB_CACHE`, `HF_HOME/hub`, `~/.cache/huggingface/hub`).
    pub(super) fn cache_dir(&self) -> String {
        let env = &self.tool.ctx.env;
        let home = env.get("HOME").cloned().unwrap_or_else(|| "/root".into());
        let expand = |p: &str| match p.strip_prefix('~') {
            Some(rest) => format!("{home}{rest}"),
            None => p.to_string(),
        };
        if let Some(d) = &self.d.cache_dir {
            return expand(d);
        }
        if let Some(d) = env.get("HF_HUB_CACHE").or(env.get("HUGGINGFACE_HUB_CACHE")) {
            return expand(d);
        }
        let hf_home = env.get("HF_HOME").map(|h| expand(h)).unwrap_or_else(|| {
            let xdg = env
                .get("XDG_CACHE_HOME")
                .map(|x| expand(x))
                .unwrap_or_else(|| format!("{home}/.cache"));
            format!("{xdg}/huggingface")
        });
        format!("{hf_home}/hub")
    }

    fn storage(&self) -> String {
        join(
            &self.cache_dir(),
            &repo_folder(&self.d.repo_type, &self.d.repo_id),
        )
    }

    /// A complete blob for this file in the cache, if one is there.
    fn cached_blob(&self, meta: &Meta) -> Option<String> {
        let blob = join(&self.storage(), &format!("blobs/{}", meta.etag));
        (files::file_size(self.tool.ctx, &blob) == Some(meta.size)).then_some(blob)
    }

    /// `_hf_hub_download_to_cache_dir`.
    async fn download_to_cache(
        &mut self,
        repo: Option<&Repo>,
        path: &str,
    ) -> Result<Option<String>, Failure> {
        let ctx = self.tool.ctx;
        let storage = self.storage();
        let pointer = |commit: &str| join(&storage, &format!("snapshots/{commit}/{path}"));
        if is_commit(&self.d.revision)
            && !self.d.force
            && files::exists(ctx, &pointer(&self.d.revision))
        {
            return Ok(Some(pointer(&self.d.revision)));
        }
        let meta = match self.head(repo, path).await {
            Ok(m) => m,
            Err(e) => {
                if let Failure::Http {
                    class: HubClass::EntryNotFound,
                    ..
                } = &e
                {
                    // The Hub's answer names the commit: remembered as `.no_exist`.
                    if let Some(r) = repo {
                        let ne = join(&storage, &format!(".no_exist/{}/{path}", r.commit));
                        if let Some((parent, _)) = ne.rsplit_once('/') {
                            let _ = files::create_dir_all(ctx, parent);
                        }
                        let _ = files::write(ctx, &ne, b"");
                        self.write_ref(&storage, &r.commit);
                    }
                    return Err(e);
                }
                if !self.d.force {
                    let commit = if is_commit(&self.d.revision) {
                        Some(self.d.revision.clone())
                    } else {
                        files::read(ctx, &join(&storage, &format!("refs/{}", self.d.revision)))
                            .ok()
                            .map(|b| String::from_utf8_lossy(&b).to_string())
                    };
                    if let Some(c) = commit.filter(|c| files::exists(ctx, &pointer(c))) {
                        return Ok(Some(pointer(&c)));
                    }
                }
                return Err(e);
            }
        };
        let blob = join(&storage, &format!("blobs/{}", meta.etag));
        let ptr = pointer(&meta.commit);
        let _ = files::create_dir_all(ctx, &join(&storage, "blobs"));
        if let Some((parent, _)) = ptr.rsplit_once('/') {
            let _ = files::create_dir_all(ctx, parent);
        }
        self.write_ref(&storage, &meta.commit);
        let locks = join(
            &self.cache_dir(),
            &format!(".locks/{}", repo_folder(&self.d.repo_type, &self.d.repo_id)),
        );
        let _ = files::create_dir_all(ctx, &locks);
        let _ = files::write(ctx, &join(&locks, &format!("{}.lock", meta.etag)), b"");
        if !self.d.force && files::exists(ctx, &ptr) {
            return Ok(Some(ptr));
        }
        let depth = path.matches('/').count() + 2;
        let target = format!("{}blobs/{}", "../".repeat(depth), meta.etag);
        if !self.d.force && files::file_size(ctx, &blob).is_some() {
            let _ = files::symlink(ctx, &target, &ptr);
            return Ok(Some(ptr));
        }
        let incomplete = format!("{blob}.incomplete");
        if !self.fetch_to(&meta, &incomplete, &blob, path).await? {
            return Ok(None);
        }
        if !files::exists(ctx, &ptr) {
            let _ = ctx.fs().remove_file(&ptr);
            let _ = files::symlink(ctx, &target, &ptr);
        }
        Ok(Some(ptr))
    }

    /// `refs/REV` holds the commit (when the revision is not the commit).
    fn write_ref(&self, storage: &str, commit: &str) {
        if self.d.revision == commit {
            return;
        }
        let ctx = self.tool.ctx;
        let r = join(storage, &format!("refs/{}", self.d.revision));
        if let Some((parent, _)) = r.rsplit_once('/') {
            let _ = files::create_dir_all(ctx, parent);
        }
        let _ = files::write(ctx, &r, commit.as_bytes());
    }

    /// `_download_to_tmp_and_move`: resume what `.incomplete` holds, log,
    /// transfer, log, move. `Ok(false)`: the reader left or the session dropped.
    async fn fetch_to(
        &mut self,
        meta: &Meta,
        incomplete: &str,
        dest: &str,
        path: &str,
    ) -> Result<bool, Failure> {
        let ctx = self.tool.ctx;
        if files::exists(ctx, dest) && !self.d.force {
            return Ok(true);
        }
        if (self.d.force || self.hf_transfer) && files::exists(ctx, incomplete) {
            let why = if self.d.force {
                "force_download=True"
            } else {
                "hf_transfer=True"
            };
            self.info(&format!("Removing incomplete file '{incomplete}' ({why})"))
                .await;
            let _ = ctx.fs().remove_file(incomplete);
        }
        let resume = files::file_size(ctx, incomplete)
            .unwrap_or(0)
            .min(meta.size);
        if files::file_size(ctx, incomplete).is_none() {
            let _ = files::create_sized(ctx, incomplete, 0);
        }
        let mut msg = format!("Downloading '{path}' to '{incomplete}'");
        if resume > 0 {
            msg.push_str(&format!(" (resume from {resume}/{})", meta.size));
        }
        self.info(&msg).await;
        if !self.transfer(meta, incomplete, resume, path).await? {
            return Ok(false);
        }
        self.info(&format!("Download complete. Moving file to {dest}"))
            .await;
        let _ = files::rename(ctx, incomplete, dest);
        let when = UNIX_EPOCH + Duration::from_secs_f64(self.tool.clock.unix().max(0.0));
        let _ = ctx.fs().set_times(dest, when, when);
        Ok(true)
    }
}
