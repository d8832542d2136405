//! `hf download` / `huggingface-cli download` (huggingface_hub 0.3x and
//! 1.x/2.x): `Downloading 'FILE' to '...incomplete'`, the tqdm bar (SI sizes,
//! the filename as description; only on a TTY), `Download complete. Moving
//! file to PATH`, `✓ Downloaded`, and errors: `huggingface_hub.errors.
//! RepositoryNotFoundError: 404 Client Error.` (the next line is the
//! message), `Error: Model 'x' not found.` (1.x), requests connection errors.

use std::sync::LazyLock;

use regex::Regex;

use super::cursor::{gated, Literal};
use super::units::{clip, common_error, parse_size, python_network_kind};

/// What the hub error regex needs: lines without it skip the regex.
static ERROR_AT: Literal = Literal::new("Error: ");
use super::{tqdm, ErrorKind, Event, Parser, Progress, Stage};

static HUB_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[\w.]+\.)?(\w+Error): (?:(\d{3}) )?(.*)$").expect("hf error regex")
});

/// Parser state for one hf run.
#[derive(Debug, Default)]
pub(crate) struct HfParser {
    filename: Option<String>,
    bar: Option<String>,
    /// A hub error whose message is on the next line.
    pending: Option<(String, Option<u16>)>,
    /// `✓ Downloaded` seen; the next line may be `path: FILE`.
    downloaded: bool,
}

impl HfParser {
    fn complete(&mut self, path: Option<&str>, out: &mut Vec<Event>) {
        self.downloaded = false;
        out.push(Event::Complete {
            stage: Stage::Download,
            name: None,
            filename: path.map(str::to_string).or_else(|| self.filename.clone()),
            size: None,
        });
        self.bar = None;
    }

    fn flush(&mut self, detail: Option<&str>, out: &mut Vec<Event>) {
        if let Some((name, code)) = self.pending.take() {
            let message = match detail {
                Some(d) => format!("{name}: {}", d.trim_end_matches('.')),
                None => name,
            };
            out.push(Event::error(ErrorKind::Http, code, clip(&message)));
        }
    }
}

impl Parser for HfParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        let line = raw.trim();
        if self.pending.is_some() {
            if line.is_empty() {
                return;
            }
            self.flush(Some(line), out);
            return;
        }
        if line.is_empty() {
            return;
        }
        if self.downloaded {
            if let Some(path) = line.strip_prefix("path: ") {
                return self.complete(Some(path), out);
            }
            self.complete(None, out);
        }
        if let Some(f) = tqdm::parse(line) {
            // borrowed: a String only for what an event keeps
            let desc = f.desc.unwrap_or("");
            let is_file_bar = !desc.starts_with("Fetching ");
            if self.bar.as_deref() != Some(desc) {
                self.bar = Some(desc.to_string());
                out.push(Event::StageStart {
                    stage: Stage::Download,
                    name: Some(desc.to_string()),
                });
            }
            let bytes = |s: &str| is_file_bar.then(|| parse_size(s, false)).flatten();
            out.push(Event::Progress(Progress {
                stage: Some(Stage::Download),
                percent: f.percent,
                downloaded: Some(f.n.to_string()),
                total: f.total.map(str::to_string),
                speed: f.rate.map(str::to_string),
                eta: f.eta.map(str::to_string),
                elapsed: Some(f.elapsed.to_string()),
                filename: if is_file_bar {
                    self.filename.clone().or_else(|| Some(desc.to_string()))
                } else {
                    None
                },
                name: (!is_file_bar).then(|| desc.to_string()),
                downloaded_bytes: bytes(f.n),
                total_bytes: f.total.and_then(bytes),
            }));
            return;
        }
        if let Some(rest) = line.strip_prefix("Downloading '") {
            let file = rest.split('\'').next().unwrap_or(rest).to_string();
            self.filename = Some(file);
        } else if let Some(path) = line.strip_prefix("Download complete. Moving file to ") {
            self.complete(Some(path), out);
        } else if line.starts_with("✓ Downloaded") {
            self.downloaded = true;
        } else if let Some(msg) = line.strip_prefix("Error: ") {
            let code = if msg.contains("not found") {
                Some(404)
            } else if msg.contains("gated") || msg.contains("authenticated") {
                Some(401)
            } else {
                None
            };
            out.push(Event::error(
                ErrorKind::Http,
                code,
                clip(&format!("hf: {msg}")),
            ));
        } else if let Some(e) = common_error(line) {
            out.push(e);
        } else if line.starts_with("requests.exceptions.HTTPError") {
            // the hub error that wraps it follows; it says more
        } else if let Some(c) = gated(ERROR_AT.is_in(line), &HUB_ERROR, line) {
            let name = c[1].to_string();
            if let Some(code) = c.get(2).and_then(|m| m.as_str().parse().ok()) {
                self.pending = Some((name, Some(code)));
            } else if let Some(kind) = python_network_kind(line) {
                out.push(Event::error(kind, None, clip(line)));
            } else if !c[3].trim().is_empty() {
                let msg = format!("{name}: {}", c[3].trim());
                out.push(Event::error(ErrorKind::Other, None, clip(&msg)));
            } else {
                self.pending = Some((name, None));
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Event>) {
        if self.downloaded {
            self.complete(None, out);
        }
        self.flush(None, out);
    }
}
