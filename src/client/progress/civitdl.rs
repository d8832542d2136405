//! civitdl 2.x: `Now downloading "NAME"...` blocks, tqdm `Images` and `Model`
//! bars (SI sizes, unit `iB`), `Download completed for "NAME"`, the red
//! exception blocks (`APIException (API Status Code 404):` then indented
//! messages), requests/urllib3 errors, `Retrying to download the current
//! model...` and `Max retry of N reached. Skipping the current model...`
//! (civitdl exits 0 even then).

use std::sync::LazyLock;

use regex::Regex;

use super::cursor::{gated, Literal};
use super::units::{clip, common_error, parse_size, python_network_kind};

/// What the exception regex needs: lines without it skip the regex.
static EXCEPTION_AT: Literal = Literal::new("Exception (");
use super::{tqdm, ErrorKind, Event, Parser, Progress, Stage};

static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z]*Exception) \(([^)]*)\):$").expect("civitdl exception regex")
});
static API_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"API Status Code (\d{3})").expect("civitdl code regex"));

/// Parser state for one civitdl run.
#[derive(Debug)]
pub(crate) struct CivitdlParser {
    model: Option<String>,
    stage: Option<Stage>,
    attempt: u32,
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    header: String,
    code: Option<u16>,
    messages: Vec<String>,
}

impl Default for CivitdlParser {
    fn default() -> Self {
        CivitdlParser {
            model: None,
            stage: None,
            attempt: 1,
            pending: None,
        }
    }
}

fn quoted(s: &str) -> Option<&str> {
    let start = s.find('"')?;
    let end = s.rfind('"')?;
    (end > start).then(|| &s[start + 1..end])
}

impl CivitdlParser {
    fn flush(&mut self, out: &mut Vec<Event>) {
        if let Some(p) = self.pending.take() {
            let message = if p.messages.is_empty() {
                p.header
            } else {
                format!("{} {}", p.header, p.messages.join(" "))
            };
            out.push(Event::error(ErrorKind::Api, p.code, clip(&message)));
        }
    }

    fn frame(&mut self, f: tqdm::Frame<'_>, out: &mut Vec<Event>) {
        let stage = match f.desc {
            Some("Images") => Stage::Images,
            _ => Stage::Model,
        };
        if self.stage != Some(stage) {
            self.stage = Some(stage);
            out.push(Event::StageStart {
                stage,
                name: self.model.clone(),
            });
        }
        let bytes = |s: &str| {
            (stage == Stage::Model)
                .then(|| parse_size(s, false))
                .flatten()
        };
        out.push(Event::Progress(Progress {
            stage: Some(stage),
            percent: f.percent,
            downloaded: Some(f.n.to_string()),
            total: f.total.map(str::to_string),
            speed: f.rate.map(str::to_string),
            eta: f.eta.map(str::to_string),
            elapsed: Some(f.elapsed.to_string()),
            filename: None,
            name: self.model.clone(),
            downloaded_bytes: bytes(f.n),
            total_bytes: f.total.and_then(bytes),
        }));
    }
}

impl Parser for CivitdlParser {
    fn parse_line(&mut self, raw: &str, out: &mut Vec<Event>) {
        // An exception's messages are indented by 9 spaces (older: more).
        if let Some(p) = &mut self.pending {
            if raw.starts_with("         ") && !raw.trim().is_empty() {
                let msg = raw.trim();
                if msg != "None" {
                    p.messages.push(msg.to_string());
                }
                return;
            }
            if raw.trim().is_empty() && p.messages.is_empty() {
                return;
            }
            self.flush(out);
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with("---------") {
            return;
        }
        if let Some(f) = tqdm::parse(line) {
            if matches!(f.desc, Some("Images" | "Model")) {
                self.frame(f, out);
                return;
            }
        }
        if let Some(rest) = line.strip_prefix("Now downloading ") {
            self.model = quoted(rest).map(str::to_string);
            self.stage = None;
        } else if let Some(rest) = line.strip_prefix("Download completed for ") {
            let name = quoted(rest)
                .map(str::to_string)
                .or_else(|| self.model.clone());
            out.push(Event::Complete {
                stage: Stage::Model,
                name,
                filename: None,
                size: None,
            });
            self.stage = None;
            self.attempt = 1;
        } else if line.starts_with("Retrying to download the current model") {
            self.attempt += 1;
            self.stage = None;
            out.push(Event::Retrying {
                attempt: Some(self.attempt),
            });
        } else if line.starts_with("Max retry of ") {
            out.push(Event::GaveUp {
                message: line.to_string(),
            });
            self.attempt = 1;
            self.stage = None;
        } else if let Some(c) = gated(EXCEPTION_AT.is_in(line), &EXCEPTION, line) {
            let code = API_CODE
                .captures(&c[2])
                .and_then(|m| m[1].parse::<u16>().ok());
            self.pending = Some(Pending {
                header: line.to_string(),
                code,
                messages: Vec::new(),
            });
        } else if line.starts_with("civitdl: Error:") || line.starts_with("civitdl: error:") {
            out.push(Event::error(ErrorKind::Usage, None, clip(line)));
        } else if let Some(e) = common_error(line) {
            out.push(e);
        } else if let Some(kind) = python_network_kind(line) {
            out.push(Event::error(kind, None, clip(line)));
        }
    }

    fn finish(&mut self, out: &mut Vec<Event>) {
        self.flush(out);
    }
}
