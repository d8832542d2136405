//! `civitdl` 2.2.0 (PyPI), as it prints and behaves: argparse options and
//! errors (exit 2), the coloured `Now downloading` / `Download completed`
//! blocks on stdout, tqdm `Images` and `Model` bars on stdout, exceptions on
//! stderr, the retry loop with its `---------` separators and pause, exit 0
//! even when every download failed, and the files it writes (a sparse model
//! file of the exact size, the hashes csv, `extra_data-vid_<vid>/`, the
//! civitdl hash cache).
//! Tool-depth faults come through [`Remote`]: HTTP 404 is the metadata
//! APIException (civ_404); 401 the API-key InputException, 403 the early
//! access warning then an APIException, other codes an APIException, all on
//! the download request; DNS and refused are requests' connection errors; a
//! drop is requests' `ChunkedEncodingError` text; a full disk is
//! `[Errno 28] No space left on device` (str of the OSError, as civitdl's
//! handler prints non-civitdl exceptions) with `.tmp/<file>` left at the
//! size reached; a stall waits (forever without a duration: civitdl passes
//! requests no timeout). All go through civitdl's retry loop, exit 0.

use async_trait::async_trait;

use super::civitdl_help::{HELP_BODY, USAGE};
use super::files;
use super::run::ToolRun;
use super::tqdm;
use super::transfer::{decimal_amount, Link};
use crate::net::catalog::Model;
use crate::net::fnv1a;
use crate::net::response::Resolution;
use crate::net::{Catalog, Url};
use crate::program::{Ctx, Program};

/// The `civitdl` program.
#[derive(Debug, Default)]
pub struct Civitdl;

const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";
const INDENT: &str = "                ";
const MIB: u64 = 1024 * 1024;

/// Parsed command line (after merging with the config defaults).
#[derive(Clone, Debug)]
struct Options {
    sources: Vec<String>,
    root: String,
    max_images: u32,
    api_key: Option<String>,
    prompt_key: bool,
    with_prompt: bool,
    without_model: bool,
    limit_rate: u64,
    retry_count: u32,
    pause_time: f64,
    cache_mode: String,
    model_overwrite: bool,
    color: bool,
}

enum Parsed {
    Run(Box<Options>),
    Help,
    Version,
    Error(String),
}

const LONG_OPTS: &[&str] = &[
    "--help",
    "--sorter",
    "--max-images",
    "--nsfw-mode",
    "--api-key",
    "--with-prompt",
    "--no-with-prompt",
    "--without-model",
    "--no-without-model",
    "--limit-rate",
    "--retry-count",
    "--pause-time",
    "--cache-mode",
    "--strict-mode",
    "--model-overwrite",
    "--no-model-overwrite",
    "--with-color",
    "--no-with-color",
    "--verbose",
    "--no-verbose",
    "--version",
];

fn display_name(long: &str) -> String {
    match long {
        "--sorter" => "-s/--sorter".into(),
        "--max-images" => "-i/--max-images".into(),
        "--api-key" => "-k/--api-key".into(),
        l => l.into(),
    }
}

#[derive(Default)]
struct Raw {
    max_images: Option<String>,
    api_key: Option<Option<String>>,
    with_prompt: Option<bool>,
    without_model: Option<bool>,
    limit_rate: Option<String>,
    retry_count: Option<String>,
    pause_time: Option<String>,
    cache_mode: Option<String>,
    model_overwrite: Option<bool>,
    color: Option<bool>,
}

fn parse_args(args: &[String], defaults: &serde_json::Value) -> Parsed {
    let mut raw = Raw::default();
    let mut positional = Vec::new();
    let mut unknown = Vec::new();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positional || a == "-" || !a.starts_with('-') || a.len() < 2 {
            positional.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positional = true;
            continue;
        }
        // Split `--opt=value` and `-iVALUE`.
        let (name, inline): (String, Option<String>) = if a.starts_with("--") {
            let (n, v) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (a.as_str(), None),
            };
            let exact = LONG_OPTS.iter().find(|o| **o == n);
            let resolved = match exact {
                Some(o) => o.to_string(),
                None => {
                    let cands: Vec<&&str> = LONG_OPTS.iter().filter(|o| o.starts_with(n)).collect();
                    match cands.len() {
                        1 => cands[0].to_string(),
                        0 => {
                            unknown.push(a.clone());
                            continue;
                        }
                        _ => {
                            let list: Vec<&str> = cands.iter().map(|c| **c).collect();
                            return Parsed::Error(format!(
                                "ambiguous option: {n} could match {}",
                                list.join(", ")
                            ));
                        }
                    }
                }
            };
            (resolved, v)
        } else {
            // `-` and one character (not one byte: `-é` is an option too).
            let end = a.char_indices().nth(2).map_or(a.len(), |(i, _)| i);
            let short = &a[..end];
            let rest = (a.len() > end).then(|| a[end..].to_string());
            let long = match short {
                "-h" => "--help",
                "-s" => "--sorter",
                "-i" => "--max-images",
                "-k" => "--api-key",
                "-v" => "--version",
                _ => {
                    unknown.push(a.clone());
                    continue;
                }
            };
            (long.to_string(), rest)
        };
        let takes_value = matches!(
            name.as_str(),
            "--sorter"
                | "--max-images"
                | "--nsfw-mode"
                | "--limit-rate"
                | "--retry-count"
                | "--pause-time"
                | "--cache-mode"
                | "--strict-mode"
        );
        let value = if takes_value {
            match inline.clone() {
                Some(v) => Some(v),
                None => match args.get(i) {
                    Some(v) if !v.starts_with('-') || v == "-" => {
                        i += 1;
                        Some(v.clone())
                    }
                    _ => {
                        return Parsed::Error(format!(
                            "argument {}: expected one argument",
                            display_name(&name)
                        ))
                    }
                },
            }
        } else {
            None
        };
        match name.as_str() {
            "--help" => return Parsed::Help,
            "--version" => return Parsed::Version,
            "--api-key" => {
                let v = match inline {
                    Some(v) => Some(v),
                    None => match args.get(i) {
                        Some(v) if !v.starts_with('-') => {
                            i += 1;
                            Some(v.clone())
                        }
                        _ => None,
                    },
                };
                raw.api_key = Some(v);
            }
            "--max-images" => raw.max_images = value,
            "--limit-rate" => raw.limit_rate = value,
            "--retry-count" => raw.retry_count = value,
            "--pause-time" => raw.pause_time = value,
            "--cache-mode" => raw.cache_mode = value,
            "--with-prompt" => raw.with_prompt = Some(true),
            "--no-with-prompt" => raw.with_prompt = Some(false),
            "--without-model" => raw.without_model = Some(true),
            "--no-without-model" => raw.without_model = Some(false),
            "--model-overwrite" => raw.model_overwrite = Some(true),
            "--no-model-overwrite" => raw.model_overwrite = Some(false),
            "--with-color" => raw.color = Some(true),
            "--no-with-color" => raw.color = Some(false),
            _ => {} // sorter, nsfw-mode, strict-mode, verbose: accepted, no visible effect here
        }
    }
    // Type checks happen as argparse converts values.
    let int = |name: &str, v: &Option<String>| -> Result<Option<u64>, String> {
        match v {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map(|n| Some(n.max(0) as u64))
                .map_err(|_| format!("argument {}: invalid int value: '{s}'", display_name(name))),
        }
    };
    let max_images = match int("--max-images", &raw.max_images) {
        Ok(v) => v,
        Err(e) => return Parsed::Error(e),
    };
    let retry = match int("--retry-count", &raw.retry_count) {
        Ok(v) => v,
        Err(e) => return Parsed::Error(e),
    };
    let pause = match &raw.pause_time {
        None => None,
        Some(s) => match s.trim().parse::<f64>() {
            Ok(f) => Some(f),
            Err(_) => {
                return Parsed::Error(format!("argument --pause-time: invalid float value: '{s}'"))
            }
        },
    };
    match positional.len() {
        0 => {
            return Parsed::Error("the following arguments are required: srcmodels, rootdir".into())
        }
        1 => return Parsed::Error("the following arguments are required: rootdir".into()),
        _ => {}
    }
    if !unknown.is_empty() {
        return Parsed::Error(format!("unrecognized arguments: {}", unknown.join(" ")));
    }
    let root = positional.pop().unwrap_or_default();
    let d = |k: &str| defaults.get(k);
    let dbool = |k: &str, def: bool| d(k).and_then(|v| v.as_bool()).unwrap_or(def);
    let dnum = |k: &str, def: f64| {
        d(k).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(def)
    };
    // civitdl merges with `value or default`: 0 and "" fall back to the defaults.
    let retry_count = retry
        .filter(|n| *n != 0)
        .unwrap_or(dnum("retry_count", 3.0) as u64) as u32;
    let pause_time = pause
        .filter(|p| *p != 0.0)
        .unwrap_or(dnum("pause_time", 3.0));
    let max_images = max_images
        .filter(|n| *n != 0)
        .unwrap_or(dnum("max_images", 3.0) as u64) as u32;
    let limit_rate = raw
        .limit_rate
        .as_deref()
        .map(parse_rate)
        .filter(|r| *r != 0)
        .unwrap_or(dnum("limit_rate", 0.0) as u64);
    let config_key = d("api_key")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(String::from);
    let (api_key, prompt_key) = match raw.api_key {
        Some(Some(k)) => (Some(k), false),
        Some(None) => (None, true),
        None => (config_key, false),
    };
    Parsed::Run(Box::new(Options {
        sources: positional,
        root,
        max_images,
        api_key,
        prompt_key,
        with_prompt: raw.with_prompt.unwrap_or(dbool("with_prompt", true)),
        without_model: raw.without_model.unwrap_or(dbool("without_model", false)),
        limit_rate,
        retry_count,
        pause_time,
        cache_mode: raw.cache_mode.filter(|s| !s.is_empty()).unwrap_or_else(|| {
            d("cache_mode")
                .and_then(|v| v.as_str())
                .unwrap_or("1")
                .to_string()
        }),
        model_overwrite: raw
            .model_overwrite
            .unwrap_or(dbool("model_overwrite", false)),
        color: raw.color.unwrap_or(dbool("with_color", true)),
    }))
}

/// civitdl's `--limit-rate`: a decimal amount, 0 when it is not one.
fn parse_rate(s: &str) -> u64 {
    decimal_amount(s.trim()).map_or(0, |v| v as u64)
}

const DEFAULT_CONFIG: &str = r#"{
  "version": "2.2.0",
  "default": {
    "sorter": "basic",
    "max_images": 3,
    "nsfw_mode": "2",
    "api_key": "",
    "with_prompt": true,
    "without_model": false,
    "limit_rate": "0",
    "retry_count": 3,
    "pause_time": 3.0,
    "cache_mode": "1",
    "strict_mode": "1",
    "model_overwrite": false,
    "with_color": true
  },
  "sorters": [],
  "aliases": []
}"#;

/// One parsed source: a model id, maybe with a version id, or a version id alone.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    Model { mid: u64, vid: Option<u64> },
    Version { vid: u64 },
}

/// A civitdl exception as `print_exc` shows it.
#[derive(Clone, Debug)]
enum Failure {
    Input(Vec<String>),
    Api(u16, Vec<String>),
    Plain(String),
}

impl Failure {
    fn render(&self, color: bool) -> String {
        let (class, kind, msgs) = match self {
            Failure::Plain(t) => {
                return if color {
                    format!("{RED}{t}{RESET}")
                } else {
                    t.clone()
                };
            }
            Failure::Input(m) => ("InputException", "Bad Inputs".to_string(), m),
            Failure::Api(code, m) => ("APIException", format!("API Status Code {code}"), m),
        };
        let mut s = if color {
            format!("{BOLD}{RED}\n{class} ({kind}):{RESET}")
        } else {
            format!("\n{class} ({kind}):")
        };
        for m in msgs {
            if color {
                s.push_str(&format!("{RED}\n         {m}{RESET}"));
            } else {
                s.push_str(&format!("\n         {m}"));
            }
        }
        s
    }
}

fn civitai_id_after(s: &str, key: &str) -> Option<u64> {
    let i = s.find(key)? + key.len();
    let digits: String = s[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// `sourcemanager.parse_src`, recursively (comma lists and batch files).
fn parse_src(
    ctx: &Ctx,
    src: &str,
    base: &str,
    depth: u32,
    out: &mut Vec<Source>,
) -> Result<(), Failure> {
    let s = src.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        let mid = s.parse().map_err(|_| bad_source(s))?;
        out.push(Source::Model { mid, vid: None });
        return Ok(());
    }
    let flat = s.replace('\n', "");
    if flat.contains(',') {
        let items: Vec<&str> = flat.split(',').filter(|x| !x.trim().is_empty()).collect();
        if items.len() > 1 {
            for it in items {
                parse_src(ctx, it, base, depth, out)?;
            }
            return Ok(());
        }
    }
    if s.contains("civitai.com/api") || s.contains("civitai.red/api") {
        return match civitai_id_after(s, "models/") {
            Some(vid) => {
                out.push(Source::Version { vid });
                Ok(())
            }
            None => Err(Failure::Input(vec![
                format!("Incorrect format for the url provided: {s}"),
                "None".into(),
            ])),
        };
    }
    if s.contains("civitai.com/models") || s.contains("civitai.red/models") {
        return match civitai_id_after(s, "models/") {
            Some(mid) => {
                out.push(Source::Model {
                    mid,
                    vid: civitai_id_after(s, "modelVersionId="),
                });
                Ok(())
            }
            None => Err(Failure::Input(vec![
                format!("Incorrect format for the url provided: {s}"),
                "None".into(),
            ])),
        };
    }
    let path = crate::instance::Sandbox::absolute(base, s);
    if depth < 16 && !s.is_empty() && files::file_size(ctx, &path).is_some() {
        let text = files::read(ctx, &path).map_err(|_| bad_source(s))?;
        let text = String::from_utf8_lossy(&text).replace(['\n', '\r'], "");
        let dir = path
            .rsplit_once('/')
            .map(|(d, _)| d)
            .filter(|d| !d.is_empty())
            .unwrap_or("/");
        for it in text.split(',').filter(|x| !x.trim().is_empty()) {
            parse_src(ctx, it, dir, depth + 1, out)?;
        }
        return Ok(());
    }
    Err(bad_source(s))
}

fn bad_source(s: &str) -> Failure {
    Failure::Input(vec![format!("Bad source provided: {s}"), "None".into()])
}

/// `DirName.replace_with_rule_1`: `< > : " / \ | ? *` -> `( ) , - & & & . &`, spaces collapsed.
fn dir_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            '<' => '(',
            '>' => ')',
            ':' => ',',
            '"' => '-',
            '/' | '\\' | '|' | '*' => '&',
            '?' => '.',
            c => c,
        })
        .collect();
    let collapsed = mapped
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match collapsed.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => collapsed,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn hex_digest(seed: u64, len: usize, upper: bool) -> String {
    let mut s = String::new();
    let mut x = seed;
    while s.len() < len {
        x = fnv1a(&[&x.to_le_bytes()]);
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(len);
    if upper {
        s.to_ascii_uppercase()
    } else {
        s
    }
}

/// One run's state: streams, clock, randomness, heading colour.
struct Run<'a> {
    tool: ToolRun<'a>,
    opts: Options,
    headings: u32,
    catalog: &'a Catalog,
}

impl Run<'_> {
    fn paint(&self, color: &str, text: &str) -> String {
        if self.opts.color {
            format!("{color}{text}{RESET}\n")
        } else {
            format!("{text}\n")
        }
    }

    async fn say(&mut self, color: &str, text: &str) -> bool {
        let s = self.paint(color, text);
        self.tool.io.out(s).await
    }

    fn ncols(&self) -> Option<usize> {
        let term = self.tool.ctx.stdout.terminal()?;
        let cols = term.cols() as usize;
        Some(if self.tool.ctx.instance.config.tools.tqdm_full_width {
            cols
        } else {
            cols.saturating_sub(1)
        })
    }

    fn link(&mut self, rate: Option<f64>) -> Link {
        self.tool.link(rate, self.opts.limit_rate)
    }

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

    /// Streams the model file with the `Model` bar; `Ok(false)` when the
    /// reader left (or the session is being dropped), `Err` when the
    /// transfer failed (a reset connection, a full disk) and the retry
    /// loop takes over. A failed transfer leaves `.tmp/<file>` at the size
    /// it reached.
    async fn model_body(
        &mut self,
        m: &Model,
        dir: &str,
        dest: &str,
        file_name: &str,
        attempt: u32,
    ) -> Result<bool, Failure> {
        let tmp_dir = join(dir, ".tmp");
        let tmp = join(&tmp_dir, file_name);
        let _ = files::create_dir_all(self.tool.ctx, &tmp_dir);
        let _ = files::create_sized(self.tool.ctx, &tmp, 0);
        let chunk = if self.opts.limit_rate > 0 {
            self.opts.limit_rate.div_ceil(8).max(1)
        } else {
            MIB
        };
        let remote = self.tool.remote;
        let drop_at = remote
            .body_fail(m.size, attempt, None)
            .map(|(_, at)| at)
            .filter(|at| *at < m.size);
        let mut stall = remote.body_stall(m.size, attempt);
        let disk_full = remote.disk_full_at(m.size).filter(|at| *at < m.size);
        let mut link = self.link(remote.rate(m.rate));
        let lat = link.latency(0.2, 0.8);
        self.tool.pause(lat).await;
        let t0 = self.tool.clock.now();
        let mut bar = tqdm::Bar::new("Model", "iB", Some(m.size as f64), self.ncols(), t0);
        let first = bar.open(t0);
        self.tool.io.out(first).await;
        if remote.at_progress(0, m.size) {
            return Ok(false);
        }
        let mut got = 0u64;
        while got < m.size {
            if let Some((_, secs)) = stall.filter(|(at, _)| got >= *at) {
                stall = None;
                match secs {
                    // civitdl passes requests no timeout: a dead server is waited on forever.
                    None => {
                        self.tool.io.flush().await;
                        std::future::pending::<()>().await;
                    }
                    Some(secs) => {
                        if !self.tool.pause(secs).await {
                            return Ok(false);
                        }
                    }
                }
            }
            let failure = if drop_at.is_some_and(|at| got >= at) {
                // requests' iter_content on ECONNRESET.
                Some(Failure::Plain("(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", ConnectionResetError(104, 'Connection reset by peer'))".into()))
            } else if disk_full.is_some_and(|at| got >= at) {
                // f.write raising OSError(ENOSPC); civitdl prints str(e).
                Some(Failure::Plain("[Errno 28] No space left on device".into()))
            } else {
                None
            };
            if let Some(f) = failure {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                // The `with tqdm(...)` block closes the bar on the way out.
                let last = bar.close(self.tool.clock.now());
                self.tool.io.out(last).await;
                return Err(f);
            }
            let hangup = remote.disconnect_at(m.size);
            let limit = [Some(m.size), drop_at, disk_full, stall.map(|s| s.0), hangup]
                .into_iter()
                .flatten()
                .filter(|at| *at > got)
                .min()
                .unwrap_or(m.size);
            let n = chunk.min(limit - got);
            let dt = link.secs_for(n);
            if !self.tool.pause(dt).await {
                return Ok(false);
            }
            got += n;
            if let Some(f) = bar.update(n as f64, self.tool.clock.now()) {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                if !self.tool.io.out(f).await {
                    return Ok(false);
                }
            }
            if remote.at_progress(got, m.size) {
                let _ = files::set_len(self.tool.ctx, &tmp, got);
                return Ok(false);
            }
        }
        let _ = files::set_len(self.tool.ctx, &tmp, m.size);
        let _ = files::rename(self.tool.ctx, &tmp, dest);
        let _ = files::remove_dir(self.tool.ctx, &tmp_dir);
        let last = bar.close(self.tool.clock.now());
        Ok(self.tool.io.out(last).await)
    }

    fn cache_file(&self, vid: u64) -> String {
        let home = self
            .tool
            .ctx
            .env
            .get("HOME")
            .cloned()
            .unwrap_or_else(|| "/root".into());
        format!(
            "{home}/.cache/civitdl/hashes/{}/{}.csv",
            vid / 10000,
            vid / 100
        )
    }

    fn cached_path(&self, vid: u64) -> Option<String> {
        let text = files::read(self.tool.ctx, &self.cache_file(vid)).ok()?;
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines()
            .filter_map(|l| {
                let mut it = l.split(',');
                (it.next()? == vid.to_string()).then(|| it.next().map(String::from))?
            })
            .next_back()
    }

    fn remember(&self, vid: u64, path: &str, sha: &str, b3: &str) {
        let file = self.cache_file(vid);
        if let Some((dir, _)) = file.rsplit_once('/') {
            let _ = files::create_dir_all(self.tool.ctx, dir);
        }
        let mut text = files::read(self.tool.ctx, &file)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| "volume_id,model_filepath,SHA256,BLAKE3\n".into());
        let abs = files::absolute(self.tool.ctx, path);
        text.push_str(&format!("{vid},{abs},{sha},{b3}\n"));
        let _ = files::write(self.tool.ctx, &file, text.as_bytes());
    }

    async fn download(&mut self, src: &Source, attempt: u32) -> Result<(), Failure> {
        let (m, vid) = self.metadata(src, attempt).await?;
        if !self.heading(&m, vid).await {
            return Ok(());
        }
        let dir = join(&self.opts.root, &dir_name(&m.name));
        let extra = join(&dir, &format!("extra_data-vid_{vid}"));
        let base = format!("-mid_{}-vid_{vid}", m.id);
        let mut stem = m.stem.clone();
        if self.opts.without_model {
            self.say(
                YELLOW,
                "Downloaded model from CivitAI has no content disposition header available.",
            )
            .await;
            stem = format!("{}--{}", dir_name(&m.name), m.stem);
        } else {
            self.tool.latency(0.2, 0.7).await;
            if m.requires_auth && self.opts.api_key.is_none() {
                return Err(Failure::Input(vec![
                    "Unable to download this model as it requires a valid API Key. Please head to CivitAI, go to \"Account Settings\", then go to \"API Keys\" section, then add an api key to your account. After that, paste the key to the program or add it to civitconfig with \"civitconfig default --api-key\".".into(),
                ]));
            }
            // `__request_model`: 401 is the API-key message, 403 warns about
            // early access first, every other code is an APIException.
            let faulted = self.tool.remote.http_status(attempt).filter(|c| *c != 404);
            if faulted == Some(401) {
                return Err(Failure::Input(vec![
                    "Unable to download this model as it requires a valid API Key. Please head to CivitAI, go to \"Account Settings\", then go to \"API Keys\" section, then add an api key to your account. After that, paste the key to the program or add it to civitconfig with \"civitconfig default --api-key\".".into(),
                ]));
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
            if !m.content_disposition {
                self.say(
                    YELLOW,
                    "Downloaded model from CivitAI has no content disposition header available.",
                )
                .await;
                stem = format!("{}--{}", dir_name(&m.name), m.stem);
            }
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
        let csv = join(&dir, &format!("{stem}{base}.csv"));
        let _ = files::write(
            self.tool.ctx,
            &csv,
            format!("hash_name, hash_id\nSHA256, {sha}\nBLAKE3, {b3}").as_bytes(),
        );
        let _ = files::create_dir_all(self.tool.ctx, &extra);
        let dict = serde_json::json!({
            "id": m.id, "name": m.name, "type": m.kind, "nsfw": false, "description": format!("<p>{}</p>", m.name),
            "modelVersions": [{
                "id": vid, "modelId": m.id, "name": "v1.0", "baseModel": m.base_model,
                "downloadUrl": format!("https://civitai.com/api/download/models/{vid}"),
                "files": [{ "name": Catalog::model_file_name(&m), "sizeKB": m.size as f64 / 1024.0, "type": "Model", "primary": true,
                            "hashes": { "SHA256": sha, "BLAKE3": b3 } }]
            }]
        });
        let _ = files::write(
            self.tool.ctx,
            &join(&extra, &format!("model_dict{base}.json")),
            serde_json::to_string_pretty(&dict)
                .unwrap_or_default()
                .as_bytes(),
        );
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

    async fn run(&mut self) {
        let mut sources = Vec::new();
        let srcs = self.opts.sources.clone();
        for s in &srcs {
            if let Err(e) = parse_src(self.tool.ctx, s, &self.tool.ctx.cwd, 0, &mut sources) {
                self.tool.io.out("---------\n").await;
                let text = format!("{}\n", e.render(self.opts.color));
                self.tool.io.err(text).await;
                self.tool.io.out("---------\n").await;
                return;
            }
        }
        let pause = self.opts.pause_time;
        for (k, src) in sources.iter().enumerate() {
            if k > 0 {
                self.tool.pause(pause).await;
            }
            let mut attempt = 0;
            loop {
                match self.download(src, attempt + 1).await {
                    Ok(()) => break,
                    Err(e) => {
                        self.tool.io.out("---------\n").await;
                        let text = format!("{} \n\n", e.render(self.opts.color));
                        self.tool.io.err(text).await;
                        self.tool.io.out("---------\n").await;
                        self.tool.pause(pause).await;
                        if attempt < self.opts.retry_count {
                            self.say(CYAN, "Retrying to download the current model...")
                                .await;
                            attempt += 1;
                        } else {
                            let n = self.opts.retry_count;
                            self.say(
                                CYAN,
                                &format!("Max retry of {n} reached. Skipping the current model..."),
                            )
                            .await;
                            break;
                        }
                    }
                }
                if !self.tool.io.alive() || self.tool.remote.disconnected() {
                    return;
                }
            }
            if !self.tool.io.alive() || self.tool.remote.disconnected() {
                return;
            }
        }
    }
}

#[async_trait]
impl Program for Civitdl {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let home = ctx
            .env
            .get("HOME")
            .cloned()
            .unwrap_or_else(|| "/root".into());
        let config_path = format!("{home}/.config/civitdl/config.json");
        let config: serde_json::Value = match files::read(ctx, &config_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => {
                let _ = files::create_dir_all(ctx, &format!("{home}/.config/civitdl"));
                let _ = files::write(ctx, &config_path, DEFAULT_CONFIG.as_bytes());
                serde_json::from_str(DEFAULT_CONFIG).unwrap_or_default()
            }
        };
        let defaults = config.get("default").cloned().unwrap_or_default();
        let opts = match parse_args(ctx.args(), &defaults) {
            Parsed::Help => {
                ctx.out(format!("{CYAN}{USAGE}{HELP_BODY}{RESET}")).await;
                return 0;
            }
            Parsed::Version => {
                ctx.out("civitdl v2.2.0\n").await;
                return 0;
            }
            Parsed::Error(msg) => {
                ctx.err(format!(
                    "{YELLOW}{USAGE}{RESET}{RED}civitdl: Error: {msg}\n{RESET}"
                ))
                .await;
                return 2;
            }
            Parsed::Run(o) => *o,
        };
        let mut opts = opts;
        if opts.prompt_key {
            ctx.err("Key: ").await;
            let mut line = Vec::new();
            let mut b = [0u8; 1];
            while let Ok(1) = ctx.stdin.read(&mut b).await {
                if b[0] == b'\n' {
                    break;
                }
                line.push(b[0]);
            }
            if ctx.stdin.is_tty() {
                ctx.err("\n").await;
            }
            let key = String::from_utf8_lossy(&line).trim().to_string();
            opts.api_key = (!key.is_empty()).then_some(key);
        }
        let ctx: &Ctx = ctx;
        let mut run = Run {
            tool: ToolRun::new(ctx),
            opts,
            headings: 0,
            catalog: &ctx.instance.config.tools.catalog,
        };
        run.run().await;
        run.tool.io.flush().await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_count_zero_falls_back_to_the_default() {
        let args: Vec<String> = ["1", "/d", "--retry-count", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let Parsed::Run(o) = parse_args(&args, &serde_json::Value::Null) else {
            panic!()
        };
        assert_eq!(o.retry_count, 3);
        assert_eq!(o.root, "/d");
    }

    #[test]
    fn argparse_errors_name_the_missing_arguments() {
        let Parsed::Error(e) = parse_args(&[], &serde_json::Value::Null) else {
            panic!()
        };
        assert_eq!(
            e,
            "the following arguments are required: srcmodels, rootdir"
        );
        let args: Vec<String> = ["1", "/d", "-i", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let Parsed::Error(e) = parse_args(&args, &serde_json::Value::Null) else {
            panic!()
        };
        assert_eq!(e, "argument -i/--max-images: invalid int value: 'x'");
    }

    #[test]
    fn dir_names_follow_rule_1() {
        assert_eq!(dir_name("A/B: C?  *x*"), "A&B, C. &x&");
    }

    #[test]
    fn limit_rates_are_decimal() {
        assert_eq!(parse_rate("5M"), 5_000_000);
        assert_eq!(parse_rate("500K"), 500_000);
    }
}
