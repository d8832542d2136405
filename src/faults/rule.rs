//! A fault rule is data: which invocations it matches, what it does to
//! them, and how often. Rules are immutable, `Clone` and serde; how often a
//! rule has matched and fired lives in [`super::ArmedFault`].

use serde::{Deserialize, Serialize};

/// Why a rule cannot be armed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// An `http` status outside 100..=599.
    #[error("HTTP status {0} is not in 100..=599")]
    HttpStatus(u16),
    /// A percentage over 100.
    #[error("percent {0} is not in 0..=100")]
    Percent(u8),
    /// A `slow` rate of 0.
    #[error("bytes_per_s must be > 0")]
    ZeroRate,
    /// A `comfyui_slow` factor below 1 (or not a number).
    #[error("factor {0} must be a number >= 1")]
    SlowFactor(f64),
    /// An exit code outside 0..=255.
    #[error("exit code {0} is not in 0..=255")]
    ExitCode(i32),
    /// A probability outside 0..=1.
    #[error("probability {0} is not in 0..=1")]
    Probability(f64),
    /// `every: 0`.
    #[error("every must be >= 1")]
    EveryZero,
    /// A `match` regex that does not compile.
    #[error("match.{field}: {source}")]
    Regex {
        /// The matcher field (`command`, `host`, `path`).
        field: &'static str,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
    /// A `--fail` spec that does not read (its syntax, not its values).
    #[error("{0}")]
    Spec(String),
}

/// What a fault does, at one of three depths (see [`Fault::depth`]).
/// Units are in the field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The remote answers this HTTP status (401, 403, 404, 429, 500, 503, ...).
    Http {
        /// The status code.
        status: u16,
    },
    /// The remote closes the connection at this share of the transfer.
    DropAt {
        /// 0..=100.
        percent: u8,
    },
    /// The remote stops sending at this share of the transfer.
    StallAt {
        /// 0..=100.
        percent: u8,
        /// How long no byte comes; absent = forever (until the tool's own timeout).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stall_ms: Option<u64>,
    },
    /// The transfer rate is capped.
    Slow {
        /// The cap.
        bytes_per_s: u64,
    },
    /// The command exits with this status, whatever it did.
    ExitCode {
        /// The status.
        code: i32,
    },
    /// Host names do not resolve.
    DnsFailure,
    /// Connections to the remote are refused.
    ConnectionRefused,
    /// Writing the file fails with `No space left on device` at this share.
    DiskFull {
        /// 0..=100.
        percent: u8,
    },
    /// The SSH connection closes (no exit status) at this share of the transfer;
    /// at once for commands without progress.
    DisconnectAt {
        /// 0..=100.
        percent: u8,
    },
    /// The channel stays open with no output and never exits.
    Hang,
    /// Output starts only after this delay.
    DelayOutput {
        /// The delay.
        delay_ms: u64,
    },
    /// Every authentication attempt is refused.
    RefuseAuth,
    /// The server waits this long before its SSH banner.
    DelayHandshake {
        /// The delay.
        delay_ms: u64,
    },
    /// New connections are reset before the SSH banner.
    ResetConnection,
    /// Like sshd's MaxStartups: connections beyond this many unauthenticated
    /// ones are dropped before the banner.
    MaxStartups {
        /// How many may be mid-handshake at once.
        limit: u32,
    },
    /// The server shows another host key, as after a reinstall.
    RotateHostKey,
    /// The instance's ComfyUI is not running: curl and `ssh -L` are refused.
    ComfyuiDown,
    /// A ComfyUI node raises (`execution_error` with a traceback); the
    /// message defaults to CUDA running out of memory.
    ComfyuiError {
        /// The exception message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// ComfyUI's samplers run this many times slower.
    ComfyuiSlow {
        /// The slow-down (2 = half the iterations per second).
        factor: f64,
    },
    /// A ComfyUI request never answers, or a node never finishes.
    ComfyuiHang,
}

/// Where a fault acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    /// Inside one program run (HTTP errors, drops, stalls, ...).
    Tool,
    /// On one exec or shell command (disconnect, hang, delay).
    Session,
    /// On a whole connection (auth, handshake, host key).
    Connection,
    /// In one of the instance's services: a ComfyUI connection (its
    /// command is the target, `localhost:8188`), request (`POST /prompt`)
    /// or node run (its class, `KSampler`).
    Service,
}

impl Fault {
    /// Every action's name, as rule files and `--fail` spell them.
    pub const NAMES: &'static [&'static str] = &[
        "http",
        "drop_at",
        "stall_at",
        "slow",
        "exit_code",
        "dns_failure",
        "connection_refused",
        "disk_full",
        "disconnect_at",
        "hang",
        "delay_output",
        "refuse_auth",
        "delay_handshake",
        "reset_connection",
        "max_startups",
        "rotate_host_key",
        "comfyui_down",
        "comfyui_error",
        "comfyui_slow",
        "comfyui_hang",
    ];

    /// The depth this action works at.
    pub fn depth(&self) -> Depth {
        match self {
            Fault::Http { .. }
            | Fault::DropAt { .. }
            | Fault::StallAt { .. }
            | Fault::Slow { .. }
            | Fault::ExitCode { .. }
            | Fault::DnsFailure
            | Fault::ConnectionRefused
            | Fault::DiskFull { .. } => Depth::Tool,
            Fault::DisconnectAt { .. } | Fault::Hang | Fault::DelayOutput { .. } => Depth::Session,
            Fault::RefuseAuth
            | Fault::DelayHandshake { .. }
            | Fault::ResetConnection
            | Fault::MaxStartups { .. }
            | Fault::RotateHostKey => Depth::Connection,
            Fault::ComfyuiDown
            | Fault::ComfyuiError { .. }
            | Fault::ComfyuiSlow { .. }
            | Fault::ComfyuiHang => Depth::Service,
        }
    }

    /// The action's name (`http`, `drop_at`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Http { .. } => "http",
            Fault::DropAt { .. } => "drop_at",
            Fault::StallAt { .. } => "stall_at",
            Fault::Slow { .. } => "slow",
            Fault::ExitCode { .. } => "exit_code",
            Fault::DnsFailure => "dns_failure",
            Fault::ConnectionRefused => "connection_refused",
            Fault::DiskFull { .. } => "disk_full",
            Fault::DisconnectAt { .. } => "disconnect_at",
            Fault::Hang => "hang",
            Fault::DelayOutput { .. } => "delay_output",
            Fault::RefuseAuth => "refuse_auth",
            Fault::DelayHandshake { .. } => "delay_handshake",
            Fault::ResetConnection => "reset_connection",
            Fault::MaxStartups { .. } => "max_startups",
            Fault::RotateHostKey => "rotate_host_key",
            Fault::ComfyuiDown => "comfyui_down",
            Fault::ComfyuiError { .. } => "comfyui_error",
            Fault::ComfyuiSlow { .. } => "comfyui_slow",
            Fault::ComfyuiHang => "comfyui_hang",
        }
    }

    /// Checks the values a rule file cannot type (ranges).
    pub fn validate(&self) -> Result<(), RuleError> {
        match self {
            Fault::Http { status } if !(100..=599).contains(status) => {
                Err(RuleError::HttpStatus(*status))
            }
            Fault::DropAt { percent }
            | Fault::StallAt { percent, .. }
            | Fault::DiskFull { percent }
            | Fault::DisconnectAt { percent }
                if *percent > 100 =>
            {
                Err(RuleError::Percent(*percent))
            }
            Fault::Slow { bytes_per_s: 0 } => Err(RuleError::ZeroRate),
            Fault::ComfyuiSlow { factor } if !(factor.is_finite() && *factor >= 1.0) => {
                Err(RuleError::SlowFactor(*factor))
            }
            Fault::ExitCode { code } if !(0..=255).contains(code) => {
                Err(RuleError::ExitCode(*code))
            }
            _ => Ok(()),
        }
    }
}

/// Which invocations a rule applies to; every field set must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matcher {
    /// The program's name (`civitdl`, `wget`, `ls`); `*` or absent = any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// A regex over the whole command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A regex over the host of a URL argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A regex over the path (and query) of a URL argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The instance id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The SSH user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// How often a matching invocation is hit. All given conditions must hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Odds {
    /// Chance per eligible match, drawn from the instance's seeded RNG.
    pub probability: f64,
    /// Fire for the first N eligible matches only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire on every Nth match (N, 2N, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Let the first N matches through untouched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

impl Default for Odds {
    fn default() -> Self {
        Odds {
            probability: 1.0,
            times: None,
            every: None,
            after: None,
        }
    }
}

/// The first half of a fluent rule: who it matches, before what it does.
#[must_use = "a rule builder does nothing until `.inject(fault)` makes a rule"]
pub struct FaultRuleBuilder {
    matcher: Matcher,
}

impl FaultRuleBuilder {
    /// Only command lines matching this regex.
    pub fn command_matching(mut self, regex: &str) -> Self {
        self.matcher.command = Some(regex.to_string());
        self
    }

    /// The action: makes the rule.
    pub fn inject(self, action: Fault) -> FaultRule {
        FaultRule {
            matcher: self.matcher,
            ..FaultRule::new(action)
        }
    }
}

/// One rule: a matcher, an action and its odds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use = "a FaultRule does nothing until it is mounted on an instance"]
pub struct FaultRule {
    /// A name for reports; defaults to `<action>_<tool>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which invocations it applies to.
    #[serde(default, rename = "match")]
    pub matcher: Matcher,
    /// What it does.
    pub action: Fault,
    /// How often.
    #[serde(default, flatten)]
    pub odds: Odds,
    /// How many times the rule is expected to fire (checked by the test fixture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<u64>,
}

impl FaultRule {
    /// A rule for runs of `tool` (`"*"` = any program); add the action
    /// with [`FaultRule::inject`].
    pub fn for_tool(tool: &str) -> FaultRuleBuilder {
        FaultRuleBuilder {
            matcher: Matcher {
                tool: (tool != "*").then(|| tool.to_string()),
                ..Matcher::default()
            },
        }
    }

    /// Fire for the first `n` matching runs only.
    pub fn times(mut self, n: u64) -> Self {
        self.odds.times = Some(n);
        self
    }

    /// Fire on every `n`th matching run.
    pub fn every(mut self, n: u64) -> Self {
        self.odds.every = Some(n);
        self
    }

    /// Let the first `n` matching runs through.
    pub fn after(mut self, n: u64) -> Self {
        self.odds.after = Some(n);
        self
    }

    /// Fire with this chance, drawn from the instance's seeded RNG.
    pub fn probability(mut self, p: f64) -> Self {
        self.odds.probability = p;
        self
    }

    /// Expect the rule to fire exactly `n` times (checked when the fixture drops).
    pub fn expect(mut self, n: u64) -> Self {
        self.expect = Some(n);
        self
    }

    /// Names the rule for reports.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Only command lines matching this regex.
    pub fn command_matching(mut self, regex: &str) -> Self {
        self.matcher.command = Some(regex.to_string());
        self
    }

    /// Only URLs whose host matches this regex.
    pub fn host_matching(mut self, regex: &str) -> Self {
        self.matcher.host = Some(regex.to_string());
        self
    }

    /// A rule for any invocation doing `action`, always.
    pub fn new(action: Fault) -> Self {
        FaultRule {
            name: None,
            matcher: Matcher::default(),
            action,
            odds: Odds::default(),
            expect: None,
        }
    }

    /// The rule's name, or `<action>_<tool>`.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            format!(
                "{}_{}",
                self.action.kind(),
                self.matcher.tool.as_deref().unwrap_or("any")
            )
        })
    }

    /// Checks ranges and regexes; a rule that fails here is never armed.
    pub fn validate(&self) -> Result<(), RuleError> {
        self.action.validate()?;
        if !(0.0..=1.0).contains(&self.odds.probability) {
            return Err(RuleError::Probability(self.odds.probability));
        }
        if self.odds.every == Some(0) {
            return Err(RuleError::EveryZero);
        }
        for (field, re) in [
            ("command", &self.matcher.command),
            ("host", &self.matcher.host),
            ("path", &self.matcher.path),
        ] {
            if let Some(re) = re {
                regex::Regex::new(re).map_err(|source| RuleError::Regex { field, source })?;
            }
        }
        Ok(())
    }
}
