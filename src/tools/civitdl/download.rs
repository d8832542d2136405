//! One source, one try: metadata from the API, the heading, the images,
//! the model file (or the cache's copy), the hashes, the metadata files
//! and the `Download completed` block.

use super::failure::Failure;
use super::paths::{dir_name, hex_digest, join};
use super::source::Source;
use super::{Run, BLUE, CYAN, GREEN, INDENT, MAGENTA, YELLOW};
use crate::net::catalog::Model;
use crate::net::fnv1a;
use crate::net::response::Resolution;
use crate::net::{Catalog, Url};
use crate::tools::{files, tqdm};

/// civitdl's InputException when a model needs an API key it was not given.
const API_KEY_NEEDED: &str = "Unable to download this model as it requires a valid API Key. Please head to CivitAI, go to \"Account Settings\", then go to \"API Keys\" section, then add an api key to your account. After that, paste the key to the program or add it to civitconfig with \"civitconfig default --api-key\".";

impl Run<'_> {
    /// Connection-level failure of the API host, as requests/urllib3 word it.
    fn network_error(&self, path: &str, attempt: u32) -> Option<Failure> {
        let base = Url::parse(self.catalog.civitai_api())?;
        let (pool, conn) = if base.scheme == "https" {
            ("HTTPSConnectionPool", "HTTPSConnection")
        } else {
            ("HTTPConnectionPool", "HTTPConnection")
        };
        let (host, port) = (&base.host, base.port);
        if self.tool.remote.resolve(host, attempt) == Resolution::Unknown {
            return Some(Failure::Plain(format!(
                "{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by NameResolutionError(\"{conn}(host='{host}', port={port}): Failed to resolve '{host}' ([Errno -2] Name or service not known)\"))"
            )));
        }
        let pinned = self.catalog.refused(host, port)
            && !matches!(host.as_str(), "civitai.com" | "civitai.red");
        let faulted =
            self.tool.remote.refused(host, port, attempt) && !self.catalog.refused(host, port);
        if pinned || faulted {
            return Some(Failure::Plain(format!(
                "{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by NewConnectionError(\"{conn}(host='{host}', port={port}): Failed to establish a new connection: [Errno 111] Connection refused\"))"
            )));
        }
        None
    }

    async fn metadata(&mut self, src: &Source, attempt: u32) -> Result<(Model, u64), Failure> {
        let api = self.catalog.civitai_api().trim_end_matches('/').to_string();
        let (path, label) = match src {
            Source::Model { mid, .. } => (format!("/api/v1/models/{mid}"), mid.to_string()),
            Source::Version { vid } => (format!("/api/v1/model-versions/{vid}"), vid.to_string()),
        };
        self.tool.latency(0.15, 0.6).await;
        if let Some(e) = self.network_error(&path, attempt) {
            return Err(e);
        }
        // An `http` fault of 404 is the API not knowing the model (civ_404);
        // other codes are answered by the download request (see `download`).
        let not_found = self.tool.remote.http_status(attempt) == Some(404);
        let found = match src {
            _ if not_found => None,
            Source::Model { mid, vid } => self.catalog.model(*mid).map(|m| {
                let v = vid.unwrap_or(m.version_id);
                (m, v)
            }),
            Source::Version { vid } => self.catalog.model_by_version(*vid).map(|m| (m, *vid)),
        };
        found.ok_or_else(|| {
            Failure::Api(
                404,
                vec![format!(
                    "Downloading metadata from CivitAI for \"{label}\" failed when trying to request metadata from \"{api}{path}\""
                )],
            )
        })
    }

    async fn heading(&mut self, m: &Model, vid: u64) -> bool {
        let color = if self.headings.is_multiple_of(2) {
            BLUE
        } else {
            MAGENTA
        };
        self.headings += 1;
        let text = format!(
            "Now downloading \"{}\"...\n{INDENT}- Model ID: {}\n{INDENT}- Version ID: {vid}\n",
            m.name, m.id
        );
        self.say(color, &text).await
    }

    async fn images(&mut self, m: &Model, vid: u64, extra: &str) -> bool {
        let count = m.images.min(self.opts.max_images);
        if count == 0 {
            return self.say(YELLOW, "No images to download...").await;
        }
        let _ = files::create_dir_all(self.tool.ctx, extra);
        let ncols = self.ncols();
        let t0 = self.tool.clock.now();
        let mut bar = tqdm::Bar::new("Images", "iB", Some(count as f64), ncols, t0);
        let first = bar.open(t0);
        self.tool.io.out(first).await;
        self.tool.io.flush().await;
        // 16 download threads: images land close together, the slowest last.
        let mut link = self.link(None);
        let mut done_at: Vec<f64> = (0..count)
            .map(|_| {
                let size = 80_000 + (link.latency(0.0, 1.0) * 700_000.0) as u64;
                link.latency(0.0002, 0.0006) + link.secs_for(size)
            })
            .collect();
        done_at.sort_by(f64::total_cmp);
        let mut elapsed = 0.0;
        for (i, t) in done_at.iter().enumerate() {
            self.tool.pause(t - elapsed).await;
            elapsed = *t;
            let id = vid * 10 + i as u64;
            let img = join(extra, &format!("{id}.jpeg"));
            let _ = files::create_sized(
                self.tool.ctx,
                &img,
                60_000 + (fnv1a(&[&id.to_le_bytes()]) % 400_000),
            );
            if self.opts.with_prompt {
                let meta = serde_json::json!({
                    "id": id, "url": format!("https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/{}/width=832/{id}.jpeg", hex_digest(id, 36, false)),
                    "nsfwLevel": 1, "width": 832, "height": 1216,
                    "meta": { "prompt": format!("masterpiece, best quality, {}", m.name.to_lowercase()), "negativePrompt": "lowres, bad anatomy", "steps": 30, "sampler": "DPM++ 2M Karras", "cfgScale": 7, "seed": fnv1a(&[&id.to_le_bytes()]) % 4_294_967_296 }
                });
                let _ = files::write(
                    self.tool.ctx,
                    &join(extra, &format!("{id}.json")),
                    serde_json::to_string_pretty(&meta)
                        .unwrap_or_default()
                        .as_bytes(),
                );
            }
            if let Some(f) = bar.update(1.0, self.tool.clock.now()) {
                self.tool.io.out(f).await;
            }
        }
        let last = bar.close(self.tool.clock.now());
        self.tool.io.out(last).await
    }

    /// One try at one source; `Err` is the exception the retry loop prints.
    pub(super) async fn download(&mut self, src: &Source, attempt: u32) -> Result<(), Failure> {
        let (m, vid) = self.metadata(src, attempt).await?;
        if !self.heading(&m, vid).await {
            return Ok(());
        }
        let dir = join(&self.opts.root, &dir_name(&m.name));
        let extra = join(&dir, &format!("extra_data-vid_{vid}"));
        let base = format!("-mid_{}-vid_{vid}", m.id);
        let mut stem = m.stem.clone();
        let disposition = if self.opts.without_model {
            false
        } else {
            self.request_model(&m, vid, attempt).await?;
            m.content_disposition
        };
        if !disposition {
            self.say(
                YELLOW,
                "Downloaded model from CivitAI has no content disposition header available.",
            )
            .await;
            stem = format!("{}--{}", dir_name(&m.name), m.stem);
        }
        if files::create_dir_all(self.tool.ctx, &dir).is_err() {
            let abs = files::absolute(self.tool.ctx, &dir);
            return Err(Failure::Plain(format!(
                "[Errno 13] Permission denied: '{abs}'"
            )));
        }
        if !self.images(&m, vid, &extra).await {
            return Ok(());
        }
        let file_name = format!("{stem}{base}{}", m.ext);
        let dest = join(&dir, &file_name);
        let h = fnv1a(&[b"hash", &vid.to_le_bytes()]);
        let (sha, b3) = (hex_digest(h, 64, true), hex_digest(h ^ 0xb3, 64, true));
        if !self.opts.without_model {
            let cache_on = self.opts.cache_mode != "0";
            let cached = if cache_on {
                self.cached_path(vid)
            } else {
                None
            };
            if files::file_size(self.tool.ctx, &dest) == Some(m.size) && !self.opts.model_overwrite
            {
                self.say(CYAN, &format!("Model file already existed at the destination path:\n                    - Path: {dest}")).await;
            } else if let Some(c) = cached.filter(|c| {
                files::file_size(self.tool.ctx, c) == Some(m.size)
                    && files::absolute(self.tool.ctx, c) != files::absolute(self.tool.ctx, &dest)
            }) {
                self.say(CYAN, &format!("Model file already existed at the following path:\n                    - Path: {c}")).await;
                self.say(CYAN, "Copying to new path...").await;
                let secs = m.size as f64 / 1.5e9;
                self.tool.pause(secs).await;
                let _ = files::create_sized(self.tool.ctx, &dest, m.size);
                self.remember(vid, &dest, &sha, &b3);
            } else {
                if cache_on {
                    self.say(
                        CYAN,
                        &format!("Cache of model with version id {vid} not found."),
                    )
                    .await;
                }
                if !self
                    .model_body(&m, &dir, &dest, &file_name, attempt)
                    .await?
                {
                    return Ok(());
                }
                if cache_on {
                    self.remember(vid, &dest, &sha, &b3);
                }
            }
        }
        let names = Names {
            dir: &dir,
            extra: &extra,
            stem: &stem,
            base: &base,
        };
        self.write_records(&m, vid, &names, &sha, &b3);
        let model_dir = if self.opts.without_model {
            "N/A".to_string()
        } else {
            dir.clone()
        };
        let done = format!(
            "\nDownload completed for \"{}\"\n{INDENT}- Model ID: {}\n{INDENT}- Version ID: {vid}\n{INDENT}- Model Directory Path: {model_dir}\n{INDENT}- Hashes Directory Path: {dir}\n{INDENT}- Metadata Directory Path: {extra}\n{INDENT}- Images Directory Path: {extra}\n{INDENT}- Images Metadata Directory Path: {extra}\n",
            m.name, m.id
        );
        self.say(GREEN, &done).await;
        self.tool.io.out("---------------------------\n\n").await;
        Ok(())
    }

    /// `__request_model`: the download request's answer before any byte.
    /// A missing API key and 401 are the API-key InputException, 403 warns
    /// about early access first, every other non-2xx code is an APIException.
    async fn request_model(&mut self, m: &Model, vid: u64, attempt: u32) -> Result<(), Failure> {
        self.tool.latency(0.2, 0.7).await;
        if m.requires_auth && self.opts.api_key.is_none() {
            return Err(Failure::Input(vec![API_KEY_NEEDED.into()]));
        }
        let faulted = self.tool.remote.http_status(attempt).filter(|c| *c != 404);
        if faulted == Some(401) {
            return Err(Failure::Input(vec![API_KEY_NEEDED.into()]));
        }
        if faulted == Some(403) {
            self.say(
                YELLOW,
                "Model is behind CivitAI's early access restriction (i.e have to wait a few days for model to be available to be downloaded).",
            )
            .await;
        }
        if let Some(code) = faulted
            .or(m.download_status)
            .filter(|c| !(200..300).contains(c))
        {
            return Err(Failure::Api(
                code,
                vec![format!(
                    "Downloading model from CivitAI failed for model id, {}, and version id, {vid}",
                    m.id
                )],
            ));
        }
        Ok(())
    }

    /// The hashes csv (`<stem><base>.csv`) and the model dict
    /// (`extra_data-vid_<vid>/model_dict<base>.json`).
    fn write_records(&self, m: &Model, vid: u64, names: &Names<'_>, sha: &str, b3: &str) {
        let ctx = self.tool.ctx;
        let Names {
            dir,
            extra,
            stem,
            base,
        } = *names;
        let csv = join(dir, &format!("{stem}{base}.csv"));
        let _ = files::write(
            ctx,
            &csv,
            format!("hash_name, hash_id\nSHA256, {sha}\nBLAKE3, {b3}").as_bytes(),
        );
        let _ = files::create_dir_all(ctx, extra);
        let dict = serde_json::json!({
            "id": m.id, "name": m.name, "type": m.kind, "nsfw": false, "description": format!("<p>{}</p>", m.name),
            "modelVersions": [{
                "id": vid, "modelId": m.id, "name": "v1.0", "baseModel": m.base_model,
                "downloadUrl": format!("https://civitai.com/api/download/models/{vid}"),
                "files": [{ "name": Catalog::model_file_name(m), "sizeKB": m.size as f64 / 1024.0, "type": "Model", "primary": true,
                            "hashes": { "SHA256": sha, "BLAKE3": b3 } }]
            }]
        });
        let _ = files::write(
            ctx,
            &join(extra, &format!("model_dict{base}.json")),
            serde_json::to_string_pretty(&dict)
                .unwrap_or_default()
                .as_bytes(),
        );
    }
}

/// Where one download's files go.
#[derive(Clone, Copy)]
struct Names<'n> {
    /// The model's directory (`<root>/<model name>`).
    dir: &'n str,
    /// `extra_data-vid_<vid>` in it.
    extra: &'n str,
    /// The model file's stem.
    stem: &'n str,
    /// `-mid_<mid>-vid_<vid>`.
    base: &'n str,
}
