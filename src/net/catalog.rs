//! The fake internet: what every URL and civitai id resolves to.
//!
//! Everything is deterministic: a URL not pinned by the catalog file gets a
//! file name, a realistic size and a content type derived from a stable hash
//! of the URL (LoRAs tens to hundreds of MB, checkpoints GBs, Hugging Face
//! files by extension). civitai download URLs answer `307` to a signed R2
//! URL, Hugging Face LFS files `302` to `cdn-lfs.hf.co`. Hosts under
//! `.invalid` (or marked so) fail to resolve.
//!
//! A catalog file (JSON) pins entries for tests:
//! ```json
//! {
//!   "civitai_api": "https://civitai.com",
//!   "hosts": { "localhost:1": { "refused": true }, "mirror.lan": { "ips": ["10.0.0.5"] } },
//!   "files": { "http://localhost:8765/x.bin": { "size": 3000000, "rate_bytes_per_s": 1000000 } },
//!   "models": { "123456": { "name": "Detail Tweaker LoRA", "version_id": 124456,
//!               "stem": "add_detail", "size": 3000000, "images": 3 } },
//!   "missing_models": [999999999]
//! }
//! ```

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fnv1a;
use super::response::{content_type, simple, FailKind, Resolution, Response};
use super::synth::{hex, in_range, is_lfs, pick, size_for, ADJ, NOUN};
use super::url::Url;

/// A pinned answer for one URL.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileEntry {
    /// HTTP status (200 when absent).
    pub status: Option<u16>,
    /// Body size in bytes.
    pub size: Option<u64>,
    /// Whether the response has a Content-Length (true when absent).
    pub send_length: Option<bool>,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Content-Disposition file name.
    pub filename: Option<String>,
    /// Redirect target for a 3xx status.
    pub location: Option<String>,
    /// This server's rate in bytes/s (overrides the instance bandwidth).
    pub rate_bytes_per_s: Option<f64>,
    /// The byte at which transfers fail.
    pub fail_at: Option<u64>,
    /// How they fail (drop by default).
    pub fail: Option<FailKind>,
    /// How many tries fail before one succeeds (all when absent).
    pub fail_tries: Option<u32>,
}

/// A pinned answer for one host (`host` or `host:port`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostEntry {
    /// The name does not resolve.
    pub unresolvable: bool,
    /// Connections are refused.
    pub refused: bool,
    /// The addresses it resolves to.
    pub ips: Option<Vec<String>>,
}

/// A pinned civitai model (its first version).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelEntry {
    /// Model name as civitai shows it.
    pub name: Option<String>,
    /// Id of the model's first (latest) version.
    pub version_id: Option<u64>,
    /// File name stem from Content-Disposition (`add_detail`).
    pub stem: Option<String>,
    /// Extension with its dot (`.safetensors`).
    pub ext: Option<String>,
    /// Model file size in bytes.
    pub size: Option<u64>,
    /// Number of sample images.
    pub images: Option<u32>,
    /// Downloading needs an API key (401 without one).
    pub requires_auth: bool,
    /// The download answers with this HTTP status instead.
    pub download_status: Option<u16>,
    /// Transfer rate in bytes/s for this model's file.
    pub rate_bytes_per_s: Option<f64>,
    /// The download has no Content-Disposition header.
    pub no_content_disposition: bool,
}

/// The catalog file: pinned hosts, URLs and civitai models.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Catalog {
    /// Base URL civitdl talks to (`https://civitai.com`).
    pub civitai_api: Option<String>,
    /// Hosts, by `host` or `host:port`.
    pub hosts: BTreeMap<String, HostEntry>,
    /// URLs, by their exact text.
    pub files: BTreeMap<String, FileEntry>,
    /// civitai models, by model id.
    pub models: BTreeMap<String, ModelEntry>,
    /// Model ids that answer 404.
    pub missing_models: Vec<u64>,
    /// Git repositories, by URL ([`crate::net::git`]).
    pub repos: BTreeMap<String, super::git::RepoEntry>,
    /// Hugging Face Hub repos, by `org/name` (see [`super::hub`]).
    pub hf_repos: BTreeMap<String, super::hub::HubRepo>,
}

/// A civitai model with its first version, as the API describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Model id.
    pub id: u64,
    /// Version id.
    pub version_id: u64,
    /// Model name.
    pub name: String,
    /// File stem from Content-Disposition.
    pub stem: String,
    /// File extension with its dot.
    pub ext: String,
    /// File size in bytes.
    pub size: u64,
    /// Sample images.
    pub images: u32,
    /// Needs an API key.
    pub requires_auth: bool,
    /// A download status other than 200.
    pub download_status: Option<u16>,
    /// Pinned transfer rate.
    pub rate: Option<f64>,
    /// Model type (`LORA`, `Checkpoint`, `TextualInversion`).
    pub kind: &'static str,
    /// Base model (`SD 1.5`, `SDXL 1.0`, ...).
    pub base_model: &'static str,
    /// Whether the download sends Content-Disposition.
    pub content_disposition: bool,
}

impl Catalog {
    /// Reads a catalog file.
    pub fn load(path: &Path) -> io::Result<Catalog> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// The civitai base URL civitdl uses.
    pub fn civitai_api(&self) -> &str {
        self.civitai_api.as_deref().unwrap_or("https://civitai.com")
    }

    fn host_entry(&self, host: &str, port: u16) -> Option<&HostEntry> {
        self.hosts
            .get(&format!("{host}:{port}"))
            .or_else(|| self.hosts.get(host))
    }

    /// Resolves a host name.
    pub fn resolve(&self, host: &str) -> Resolution {
        if let Some(e) = self.hosts.get(host) {
            if e.unresolvable {
                return Resolution::Unknown;
            }
            if let Some(ips) = &e.ips {
                return Resolution::Ips(ips.clone());
            }
        }
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Resolution::Ips(vec![host.to_string()]);
        }
        if host.ends_with(".invalid") || host.ends_with(".invalid.") {
            return Resolution::Unknown;
        }
        let ips: Vec<&str> = match host {
            "localhost" => vec!["127.0.0.1"],
            "civitai.com" | "civitai.red" => {
                vec![
                    "104.22.19.237",
                    "172.67.12.143",
                    "104.22.18.237",
                    "2606:4700:10::6816:12ed",
                ]
            }
            "huggingface.co" => vec![
                "13.249.126.122",
                "13.249.126.91",
                "13.249.126.116",
                "13.249.126.55",
            ],
            "cdn-lfs.hf.co" | "cdn-lfs-us-1.hf.co" => {
                vec![
                    "3.169.231.87",
                    "3.169.231.4",
                    "3.169.231.38",
                    "3.169.231.119",
                ]
            }
            h if h.ends_with(".r2.cloudflarestorage.com") => vec!["172.64.153.53", "104.18.34.203"],
            h if !h.contains('.') => return Resolution::Unknown,
            h => {
                let x = fnv1a(&[h.as_bytes()]);
                let n = 1 + (x % 4) as usize;
                return Resolution::Ips(
                    (0..n)
                        .map(|i| {
                            let y = x.rotate_left(13 * i as u32 + 5);
                            format!(
                                "{}.{}.{}.{}",
                                23 + y % 180,
                                (y >> 8) % 256,
                                (y >> 16) % 256,
                                1 + (y >> 24) % 254
                            )
                        })
                        .collect(),
                );
            }
        };
        Resolution::Ips(ips.into_iter().map(String::from).collect())
    }

    /// Whether a TCP connection to `host:port` is refused.
    pub fn refused(&self, host: &str, port: u16) -> bool {
        if let Some(e) = self.host_entry(host, port) {
            if e.refused {
                return true;
            }
            if e.ips.is_some() {
                return false;
            }
        }
        let pinned = self
            .files
            .keys()
            .filter_map(|k| Url::parse(k))
            .any(|u| u.host == host && u.port == port);
        if pinned {
            return false;
        }
        let loopback = host == "localhost" || host.starts_with("127.") || host == "::1";
        if loopback {
            port != 8188
        } else {
            !matches!(port, 80 | 443 | 8080)
        }
    }

    /// The model with id `mid`, or `None` when civitai answers 404.
    pub fn model(&self, mid: u64) -> Option<Model> {
        if self.missing_models.contains(&mid) || mid == 0 {
            return None;
        }
        let pinned = self.models.get(&mid.to_string());
        if pinned.is_none() && mid >= 100_000_000 {
            return None;
        }
        let h = fnv1a(&[b"civitai-model", &mid.to_le_bytes()]);
        let kind_roll = h % 10;
        let (kind, base_model, ext, lo, hi) = match kind_roll {
            0..=5 => ("LORA", "SD 1.5", ".safetensors", 9_000_000, 230_000_000),
            6 => ("LORA", "SDXL 1.0", ".safetensors", 50_000_000, 900_000_000),
            7 | 8 => (
                "Checkpoint",
                "SDXL 1.0",
                ".safetensors",
                2_100_000_000,
                7_100_000_000,
            ),
            _ => ("TextualInversion", "SD 1.5", ".pt", 25_000, 250_000),
        };
        let a = pick(ADJ, h >> 3);
        let n = pick(NOUN, h >> 11);
        let synth_name = match kind {
            "LORA" => format!("{a} {n} LoRA"),
            "Checkpoint" => format!("{a}{n} XL"),
            _ => format!("{a} {n} Embedding"),
        };
        let synth_stem = format!(
            "{}_{}_v{}",
            a.to_ascii_lowercase(),
            n.to_ascii_lowercase(),
            1 + (h >> 21) % 4
        );
        let e = pinned.cloned().unwrap_or_default();
        Some(Model {
            id: mid,
            version_id: e.version_id.unwrap_or(mid + 1000),
            name: e.name.unwrap_or(synth_name),
            stem: e.stem.unwrap_or(synth_stem),
            ext: e.ext.unwrap_or_else(|| {
                if pinned.is_some() {
                    ".safetensors"
                } else {
                    ext
                }
                .to_string()
            }),
            size: e.size.unwrap_or_else(|| in_range(h, lo, hi)),
            images: e.images.unwrap_or(3),
            requires_auth: e.requires_auth,
            download_status: e.download_status,
            rate: e.rate_bytes_per_s,
            kind: if pinned.is_some() { "LORA" } else { kind },
            base_model,
            content_disposition: !e.no_content_disposition,
        })
    }

    /// The model one of whose versions is `vid`.
    pub fn model_by_version(&self, vid: u64) -> Option<Model> {
        for (k, e) in &self.models {
            if e.version_id == Some(vid) {
                return k.parse().ok().and_then(|mid| self.model(mid));
            }
        }
        let m = self.model(vid.checked_sub(1000)?)?;
        (m.version_id == vid).then_some(m)
    }

    fn model_for_download(&self, url: &Url) -> Option<Result<Model, ()>> {
        let civitai = url.host == "civitai.com"
            || url.host == "civitai.red"
            || url.host.ends_with(".civitai.com");
        let p = url.path_only();
        if !civitai || !p.starts_with("/api/download/models/") {
            return None;
        }
        let vid: u64 = p
            .trim_start_matches("/api/download/models/")
            .trim_end_matches('/')
            .parse()
            .ok()?;
        Some(self.model_by_version(vid).ok_or(()))
    }

    /// The file name a civitai download of `m` carries.
    pub fn model_file_name(m: &Model) -> String {
        format!("{}{}", m.stem, m.ext)
    }

    /// The response to a GET of `url` on try number `attempt` (1-based);
    /// `authorized` when a token or key came with it.
    pub fn fetch(&self, url_text: &str, attempt: u32, authorized: bool) -> Response {
        let url = Url::parse(url_text);
        if let Some(e) = self.files.get(url_text) {
            let status = e.status.unwrap_or(200);
            let size = e.size.unwrap_or(0);
            let fail = match (e.fail_at, e.fail_tries) {
                (Some(at), Some(n)) if attempt > n => {
                    let _ = at;
                    None
                }
                (Some(at), _) => Some((e.fail.unwrap_or(FailKind::Drop), at)),
                _ => None,
            };
            return Response {
                status,
                size,
                send_length: e.send_length.unwrap_or(true),
                content_type: e.content_type.clone().unwrap_or_else(|| {
                    url.as_ref()
                        .map(|u| content_type(&u.file_name()))
                        .unwrap_or("application/octet-stream")
                        .to_string()
                }),
                filename: e.filename.clone(),
                location: e.location.clone(),
                rate: e.rate_bytes_per_s,
                fail,
                stall: None,
            };
        }
        let Some(url) = url else {
            return simple(404, 0, "text/html");
        };
        if let Some(r) = super::hub::fetch(&self.hf_repos, &url, authorized) {
            return r;
        }
        // civitai: /api/download/models/VID -> 307 to R2.
        if let Some(found) = self.model_for_download(&url) {
            let Ok(m) = found else {
                return simple(404, 0, "application/json; charset=utf-8");
            };
            if let Some(s) = m.download_status {
                return simple(s, 0, "application/json; charset=utf-8");
            }
            let token = url.path.contains("token=");
            if m.requires_auth && !(authorized || token) {
                return simple(401, 0, "application/json; charset=utf-8");
            }
            let name = Catalog::model_file_name(&m);
            let h = fnv1a(&[b"r2", &m.version_id.to_le_bytes()]);
            let location = format!(
                "https://civitai-delivery-worker-prod.5ac0637cfd0766c97916cefa3764fbdf.r2.cloudflarestorage.com/{}/model/{}.{}{}?X-Amz-Expires=86400&response-content-disposition=attachment%3B%20filename%3D%22{}%22&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=e01358d793ad6966166af8b3064953ad/20240907/us-east-1/s3/aws4_request&X-Amz-Date=20240907T040955Z&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
                m.version_id,
                m.stem.to_ascii_lowercase(),
                &hex(h, 4),
                m.ext,
                name,
                hex(h.rotate_left(9), 64)
            );
            let mut r = simple(307, 0, "text/plain; charset=utf-8");
            r.location = Some(location);
            return r;
        }
        if url.host.ends_with(".r2.cloudflarestorage.com") {
            let vid: Option<u64> = url
                .path_only()
                .split('/')
                .nth(1)
                .and_then(|s| s.parse().ok());
            if let Some(m) = vid.and_then(|v| self.model_by_version(v)) {
                let mut r = simple(200, m.size, "application/octet-stream");
                r.filename = m.content_disposition.then(|| Catalog::model_file_name(&m));
                r.rate = m.rate;
                return r;
            }
            return simple(403, 0, "application/xml");
        }
        let file = url.file_name();
        let bare = file.split('?').next().unwrap_or("").to_string();
        let h = fnv1a(&[url_text.as_bytes()]);
        // Hugging Face: LFS files redirect to the CDN.
        if url.host == "huggingface.co" && url.path.contains("/resolve/") && is_lfs(&bare) {
            let sha = hex(h, 64);
            let location = format!(
                    "https://cdn-lfs.hf.co/repos/{}/{}/{}/{}?response-content-disposition=inline%3B+filename*%3DUTF-8%27%27{bare}%3B+filename%3D%22{bare}%22%3B&Expires=1740582457&Policy=eyJTdGF0ZW1lbnQiOlt7IkNvbmRpdGlvbiI6eyJEYXRlTGVzc1RoYW4iOnsiQVdTOkVwb2NoVGltZSI6MTc0MDU4MjQ1N319fV19&Signature={}&Key-Pair-Id=K3RPWS32NSSJCE",
                    &sha[..2],
                    &sha[2..4],
                    hex(h.rotate_left(21), 64),
                    sha,
                    hex(h.rotate_left(33), 40)
                );
            let mut r = simple(302, 0, "text/plain; charset=utf-8");
            r.location = Some(location);
            return r;
        }
        if url.host.starts_with("cdn-lfs") {
            // The size follows the file name the redirect carries.
            let name = url
                .path
                .split("filename%3D%22")
                .nth(1)
                .and_then(|s| s.split("%22").next())
                .unwrap_or(&bare)
                .to_string();
            let sha = url.path_only().rsplit('/').next().unwrap_or("").to_string();
            let hh = fnv1a(&[sha.as_bytes()]);
            let mut r = simple(200, size_for(&name, &url.path, hh), "binary/octet-stream");
            r.filename = Some(name);
            return r;
        }
        simple(200, size_for(&bare, &url.path, h), content_type(&bare))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_ports_and_queries() {
        let u = Url::parse("http://localhost:8765/file.bin?size=3&rate=1").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("localhost", 8765));
        assert_eq!(u.file_name(), "file.bin?size=3&rate=1");
        let u = Url::parse("https://civitai.com/api/download/models/128713?type=Model").unwrap();
        assert_eq!(u.port, 443);
        assert_eq!(u.file_name(), "128713?type=Model");
        assert_eq!(
            Url::parse("https://x.org").unwrap().file_name(),
            "index.html"
        );
        assert!(Url::parse("x.org/a").is_none());
    }

    #[test]
    fn invalid_hosts_do_not_resolve() {
        let c = Catalog::default();
        assert_eq!(
            c.resolve("civitai-nonexistent.invalid"),
            Resolution::Unknown
        );
        assert_eq!(
            c.resolve("localhost"),
            Resolution::Ips(vec!["127.0.0.1".into()])
        );
    }

    #[test]
    fn civitai_download_redirects_to_r2_with_the_file_name() {
        let c = Catalog::default();
        let m = c.model(4201).unwrap();
        let r = c.fetch(
            &format!("https://civitai.com/api/download/models/{}", m.version_id),
            1,
            false,
        );
        assert_eq!(r.status, 307);
        let loc = r.location.unwrap();
        let r2 = c.fetch(&loc, 1, false);
        assert_eq!(r2.status, 200);
        assert_eq!(r2.size, m.size);
        assert_eq!(r2.filename.unwrap(), Catalog::model_file_name(&m));
    }

    #[test]
    fn synthetic_models_are_deterministic_and_realistic() {
        let c = Catalog::default();
        assert_eq!(c.model(123), c.model(123));
        for mid in 1..200 {
            let m = c.model(mid).unwrap();
            assert!(m.size >= 25_000 && m.size <= 7_100_000_000, "{m:?}");
        }
        assert!(c.model(999_999_999).is_none());
    }
}
