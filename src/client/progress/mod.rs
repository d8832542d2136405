//! Progress parsers: raw tool output in, typed [`Event`]s out.
//!
//! Bytes go through a [`LineSplitter`] (lines end on `\r`, `\n` or `\r\n`,
//! ANSI colours are stripped, lines are bounded), then through one
//! [`Parser`] per tool.
//!
//! Speed: the splitter finds line ends with `memchr`, and the hottest
//! regexes (tqdm frames, wget bars, dots and request lines, the curl meter,
//! git phases, aria2's readout, status and error lines) go through hand
//! scans (`*_scan.rs`, on a shared cursor) that capture what the regex
//! would or step aside when not sure; the regexes stay the reference, and
//! tests check that each scan agrees with its regex on every capture line
//! and variants.
//!
//! [`ProgressStream`] joins splitter and parser; [`parse_bytes`] is the
//! one-shot form, handy for tests and benchmarks:
//!
//! ```
//! use fakessh::client::progress::{parse_bytes, Event, Tool};
//! let log = b"HTTP request sent, awaiting response... 404 Not Found\n\
//!             2026-11-26 09:47:36 ERROR 404: Not Found.\n";
//! let events = parse_bytes(Tool::Wget, log);
//! assert!(matches!(&events[1], Event::Error { message, .. } if message == "wget: ERROR 404: Not Found"));
//! ```

mod aria2c;
mod aria2c_scan;
mod civitdl;
pub mod cli;
mod curl;
mod curl_scan;
mod cursor;
mod git;
mod git_scan;
mod hf;
mod lines;
mod status;
mod tqdm;
mod units;
mod wget;
mod wget_scan;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use lines::{strip_ansi, LineSplitter, DEFAULT_MAX_LINE};

/// The stage a download is in, as the original UI names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// civitdl's preview images.
    Images,
    /// civitdl's model file.
    Model,
    /// Any other tool's transfer.
    Download,
}

/// What went wrong, in the classes a handler decides on (retry or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// An HTTP error status (the event's `code` holds it).
    Http,
    /// A civitdl exception (APIException, InputException, ...); `code` holds
    /// the API status code when it has one.
    Api,
    /// The connection broke or went quiet mid-transfer.
    Read,
    /// A connect or operation timeout.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The connection was refused.
    Refused,
    /// No route, network unreachable, TLS or another network failure.
    Network,
    /// No space left on device.
    DiskFull,
    /// The tool was called wrongly (bad option, missing argument).
    Usage,
    /// Anything else the tool reported as fatal.
    Other,
}

/// One progress readout. Text fields keep the tool's own rendering (what the
/// original UI shows); `*_bytes` fields are the parsed numbers, when the
/// readout counts bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// `images`, `model` or `download`.
    pub stage: Option<Stage>,
    /// 0..=100; `None` when the total is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Amount done, as shown (`1.05M`, `216.00K`, `1840k`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded: Option<String>,
    /// Total, as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// Rate, as shown with `/s` (`1.04MiB/s`, `995KB/s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
    /// Time left, as shown (`00:01`, `3s`, `0:00:04`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<String>,
    /// Time spent, as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<String>,
    /// The file being written, when the tool says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The model name (civitdl) or phase (git), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `downloaded` in bytes, when it counts bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded_bytes: Option<u64>,
    /// `total` in bytes, when it counts bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
}

/// Everything a parser can recognise in a tool's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A stage began (a tqdm bar appeared, wget printed `Saving to:`, ...).
    StageStart {
        /// Which stage.
        stage: Stage,
        /// Model name, file name, clone directory or git phase.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A progress readout.
    Progress(Progress),
    /// A file was saved or a model completed.
    Complete {
        /// Which stage finished.
        stage: Stage,
        /// Model name (civitdl), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The file written, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// Its size in bytes, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
    },
    /// The server's HTTP status line.
    HttpResponse {
        /// Status code.
        code: u16,
        /// Reason phrase.
        text: String,
    },
    /// The tool is connecting to this host (`host:port` when shown).
    Connecting {
        /// Host as the tool printed it.
        host: String,
    },
    /// The tool reported a failure (it may still retry).
    Error {
        /// Its class.
        kind: ErrorKind,
        /// HTTP or API status code, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// A one-line, readable message (`wget: ERROR 404: Not Found`).
        message: String,
    },
    /// The tool starts another try; `attempt` counts from 1, so the first
    /// retry is attempt 2.
    Retrying {
        /// The attempt now starting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
    },
    /// The tool gave up on an item (civitdl's `Max retry of 3 reached`, wget's
    /// `Giving up.`). civitdl exits 0 even then: this is how to tell.
    GaveUp {
        /// The tool's words.
        message: String,
    },
}

impl ErrorKind {
    /// Whether a retry may help: refused, read errors, timeouts, other network
    /// failures and HTTP 5xx/429 are transient; 4xx, DNS, usage, disk full
    /// are not.
    pub fn is_transient(self, code: Option<u16>) -> bool {
        match self {
            ErrorKind::Refused | ErrorKind::Read | ErrorKind::Timeout | ErrorKind::Network => true,
            ErrorKind::Http | ErrorKind::Api => matches!(code, Some(429 | 500..=599)),
            _ => false,
        }
    }
}

impl Event {
    /// A bare error event.
    pub fn error(kind: ErrorKind, code: Option<u16>, message: impl Into<String>) -> Self {
        Event::Error {
            kind,
            code,
            message: message.into(),
        }
    }
}

/// The original app's `progress` object for an event: only the keys its UI
/// reads (`percent`, `speed`, `downloaded`, `total`, `eta`, `stage`, `name`,
/// `filename`); `percent` is an integer when whole. `None` for events that
/// are not progress (a [`Event::Complete`] maps to `{"percent": 100}`, as the
/// original writes on completion).
pub fn progress_json(event: &Event) -> Option<Value> {
    let mut m = Map::new();
    match event {
        Event::Progress(p) => {
            if let Some(pct) = p.percent {
                m.insert("percent".into(), number(pct));
            }
            let text = [
                ("speed", &p.speed),
                ("downloaded", &p.downloaded),
                ("total", &p.total),
                ("eta", &p.eta),
                ("name", &p.name),
                ("filename", &p.filename),
            ];
            for (k, v) in text {
                if let Some(v) = v {
                    m.insert(k.into(), Value::String(v.clone()));
                }
            }
            if let Some(stage) = p.stage {
                m.insert("stage".into(), serde_json::to_value(stage).ok()?);
            }
        }
        Event::Complete { .. } => {
            m.insert("percent".into(), Value::from(100));
        }
        _ => return None,
    }
    Some(Value::Object(m))
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// The tools there is a parser for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// civitdl (tqdm bars on stdout, exceptions on stderr).
    Civitdl,
    /// GNU wget: bar, dot and `-q --show-progress`.
    Wget,
    /// curl: the meter and `-#`.
    Curl,
    /// `hf download` / `huggingface-cli download`.
    Hf,
    /// `git clone`.
    Git,
    /// aria2c.
    Aria2c,
}

impl Tool {
    /// Every tool, in a fixed order.
    pub const ALL: [Tool; 6] = [
        Tool::Civitdl,
        Tool::Wget,
        Tool::Curl,
        Tool::Hf,
        Tool::Git,
        Tool::Aria2c,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Civitdl => "civitdl",
            Tool::Wget => "wget",
            Tool::Curl => "curl",
            Tool::Hf => "hf",
            Tool::Git => "git",
            Tool::Aria2c => "aria2c",
        }
    }

    /// The tool a shell command runs: the program word (after `VAR=x`
    /// assignments and wrappers like `sudo`, `env`, `nohup`, `timeout 60`)
    /// of the first `&&`, `||`, `;` or `|` part that runs a known program
    /// (`/venv/main/bin/civitdl`, `huggingface-cli`, `git clone`, ...).
    /// `None` when no part does.
    pub fn from_command(command: &str) -> Option<Tool> {
        command
            .split(['&', '|', ';', '\n', '(', ')'])
            .find_map(Self::from_simple_command)
    }

    fn from_simple_command(part: &str) -> Option<Tool> {
        let mut words = part
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''));
        let program = loop {
            let w = words.next()?;
            let is_assignment = w
                .split_once('=')
                .is_some_and(|(name, _)| !name.is_empty() && !name.contains('/'));
            match w {
                _ if is_assignment || w.starts_with('-') => continue,
                "sudo" | "env" | "nohup" | "nice" | "time" | "exec" | "command" | "stdbuf" => {
                    continue
                }
                "timeout" => {
                    words.next(); // its duration
                    continue;
                }
                w => break w,
            }
        };
        let base = program.rsplit('/').next().unwrap_or(program);
        match base {
            "civitdl" => Some(Tool::Civitdl),
            "wget" => Some(Tool::Wget),
            "curl" => Some(Tool::Curl),
            "hf" | "huggingface-cli" => Some(Tool::Hf),
            "git" => Some(Tool::Git),
            "aria2c" => Some(Tool::Aria2c),
            _ => None,
        }
    }

    /// A fresh parser for this tool.
    pub fn parser(self) -> Box<dyn Parser> {
        match self {
            Tool::Civitdl => Box::new(civitdl::CivitdlParser::default()),
            Tool::Wget => Box::new(wget::WgetParser::default()),
            Tool::Curl => Box::new(curl::CurlParser::default()),
            Tool::Hf => Box::new(hf::HfParser::default()),
            Tool::Git => Box::new(git::GitParser::default()),
            Tool::Aria2c => Box::new(aria2c::Aria2cParser::default()),
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tool {
    type Err = crate::client::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "huggingface-cli" => Ok(Tool::Hf),
            "aria2" => Ok(Tool::Aria2c),
            _ => Tool::ALL
                .into_iter()
                .find(|t| t.name() == s)
                .ok_or_else(|| crate::client::Error::UnknownTool(s.to_string())),
        }
    }
}

/// A parser for one tool's output, fed one line at a time (already split and
/// stripped of ANSI codes by a [`LineSplitter`]).
pub trait Parser: Send {
    /// Appends the events this line carries to `out`.
    fn parse_line(&mut self, line: &str, out: &mut Vec<Event>);
    /// Appends events held back until the end of the output.
    fn finish(&mut self, _out: &mut Vec<Event>) {}
}

/// The parser for a shell command: the tool's own ([`Tool::from_command`]),
/// or one that detects the tool from the output when the command names none.
pub fn parser_for_command(command: &str) -> Box<dyn Parser> {
    match Tool::from_command(command) {
        Some(tool) => tool.parser(),
        None => Box::new(AutoParser::default()),
    }
}

/// Detects the tool from its first telling line, then delegates to it; a
/// later line that only one tool prints at its start (`Now downloading "`,
/// `--DATE--  URL`, `  % Total`, `Cloning into`, `Downloading 'F' to`,
/// aria2's `Downloading N item(s)`) switches to that tool, so a log of
/// several commands parses too.
#[derive(Default)]
pub struct AutoParser {
    inner: Option<(Tool, Box<dyn Parser>)>,
}

impl AutoParser {
    fn start_marker(line: &str) -> Option<Tool> {
        let l = line.trim_start();
        if l.starts_with("Now downloading \"") {
            Some(Tool::Civitdl)
        } else if l.starts_with("--") && wget::is_wget_line(l) {
            Some(Tool::Wget)
        } else if l.starts_with("% Total") {
            Some(Tool::Curl)
        } else if l.starts_with("Cloning into ") {
            Some(Tool::Git)
        } else if l.starts_with("Downloading '") {
            Some(Tool::Hf)
        } else if l.ends_with("item(s)") && l.contains("] Downloading ") {
            // the cheap end test first: this runs on every line
            Some(Tool::Aria2c)
        } else {
            None
        }
    }

    fn detect(line: &str) -> Option<Tool> {
        if let Some(tool) = Self::start_marker(line) {
            return Some(tool);
        }
        let l = line.trim_start();
        if l.starts_with("Images:")
            || l.starts_with("Model:")
            || l.starts_with("APIException")
            || l.starts_with("InputException")
        {
            Some(Tool::Civitdl)
        } else if wget::is_wget_line(l) {
            Some(Tool::Wget)
        } else if l.starts_with("curl: (") {
            Some(Tool::Curl)
        } else if l.starts_with("fatal: ") {
            Some(Tool::Git)
        } else if l.contains(" [NOTICE] ") || l.contains(" [ERROR] ") || l.starts_with("[#") {
            Some(Tool::Aria2c)
        } else if tqdm::parse(l).is_some() {
            Some(Tool::Hf)
        } else {
            None
        }
    }
}

impl Parser for AutoParser {
    fn parse_line(&mut self, line: &str, out: &mut Vec<Event>) {
        let found = match &self.inner {
            None => Self::detect(line),
            Some((current, _)) => Self::start_marker(line).filter(|t| t != current),
        };
        if let Some(tool) = found {
            if let Some((_, mut old)) = self.inner.take() {
                old.finish(out);
            }
            self.inner = Some((tool, tool.parser()));
        }
        match &mut self.inner {
            Some((_, p)) => p.parse_line(line, out),
            None => out.extend(units::common_error(line)),
        }
    }
    fn finish(&mut self, out: &mut Vec<Event>) {
        if let Some((_, p)) = &mut self.inner {
            p.finish(out);
        }
    }
}

/// A splitter and a parser together: push raw bytes, get events.
pub struct ProgressStream {
    splitter: LineSplitter,
    parser: Box<dyn Parser>,
}

impl ProgressStream {
    /// A stream over this parser, with the default line bound.
    pub fn new(parser: Box<dyn Parser>) -> Self {
        ProgressStream {
            splitter: LineSplitter::new(),
            parser,
        }
    }

    /// A stream for one tool.
    pub fn for_tool(tool: Tool) -> Self {
        Self::new(tool.parser())
    }

    /// A stream for a shell command ([`parser_for_command`]).
    pub fn for_command(command: &str) -> Self {
        Self::new(parser_for_command(command))
    }

    /// Feeds a chunk of output; appends the events of every line it ends.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        let parser = &mut self.parser;
        self.splitter
            .push(bytes, |line| parser.parse_line(line, out));
    }

    /// Ends the output: the last unterminated line and held-back events.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let parser = &mut self.parser;
        self.splitter.finish(|line| parser.parse_line(line, out));
        self.parser.finish(out);
    }
}

/// Parses a whole output at once.
pub fn parse_bytes(tool: Tool, bytes: &[u8]) -> Vec<Event> {
    let mut stream = ProgressStream::for_tool(tool);
    let mut out = Vec::new();
    stream.push(bytes, &mut out);
    stream.finish(&mut out);
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod pinned_tests;
