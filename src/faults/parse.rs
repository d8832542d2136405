//! Rules from files (TOML or JSON) and from short `--fail` flags such as
//! `civitdl:http=404:times=1`.

use std::path::Path;

use serde::Deserialize;

use super::{Fault, FaultError, FaultRule, RuleError};

/// The syntax of a rule file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFormat {
    /// `[[rule]]` tables.
    Toml,
    /// `{"rules": [...]}` or a bare array.
    Json,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    rule: Vec<FaultRule>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonFile {
    List(Vec<FaultRule>),
    Wrapped {
        #[serde(default)]
        rules: Vec<FaultRule>,
    },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses rule text; `file` names it in errors. Every rule is validated:
/// one bad rule refuses the whole file.
pub fn parse_rules_str(
    text: &str,
    format: RuleFormat,
    file: &str,
) -> Result<Vec<FaultRule>, FaultError> {
    let err = |line: usize, reason: String| FaultError::File {
        file: file.to_string(),
        line,
        reason,
    };
    let rules = match format {
        RuleFormat::Toml => toml::from_str::<TomlFile>(text)
            .map(|f| f.rule)
            .map_err(|e| {
                let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
                err(line, e.message().to_string())
            })?,
        RuleFormat::Json => match serde_json::from_str::<JsonFile>(text) {
            Ok(JsonFile::List(r)) | Ok(JsonFile::Wrapped { rules: r }) => r,
            Err(_) => {
                // Untagged enums hide the cause: parse again as a list for it.
                let e = serde_json::from_str::<Vec<FaultRule>>(text)
                    .err()
                    .or_else(|| serde_json::from_str::<serde_json::Value>(text).err());
                return Err(match e {
                    Some(e) => err(e.line(), e.to_string()),
                    None => err(1, "expected an array of rules or {\"rules\": [...]}".into()),
                });
            }
        },
    };
    for (i, rule) in rules.iter().enumerate() {
        rule.validate().map_err(|reason| {
            let line = find_rule_line(text, format, i);
            err(
                line,
                format!("rule {} ({}): {reason}", i + 1, rule.display_name()),
            )
        })?;
    }
    Ok(rules)
}

/// Best-effort line of the i-th rule, for error messages.
fn find_rule_line(text: &str, format: RuleFormat, i: usize) -> usize {
    let marker = match format {
        RuleFormat::Toml => "[[rule]]",
        RuleFormat::Json => "\"action\"",
    };
    text.match_indices(marker)
        .nth(i)
        .map(|(o, _)| line_of(text, o))
        .unwrap_or(1)
}

/// Reads a rule file; `.json` is JSON, anything else TOML.
pub fn parse_rules_file(path: &Path) -> Result<Vec<FaultRule>, FaultError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FaultError::File {
        file: name.clone(),
        line: 0,
        reason: e.to_string(),
    })?;
    let format = if path.extension().is_some_and(|e| e == "json") {
        RuleFormat::Json
    } else {
        RuleFormat::Toml
    };
    parse_rules_str(&text, format, &name)
}

/// Parses a short rule: `TOOL:ACTION[=ARG][:KEY=VALUE]...`.
///
/// `TOOL` is a program name or `*`. Actions: `http=CODE`, `drop=PCT`,
/// `stall=PCT[/MS]`, `slow=BYTES_PER_S`, `exit=CODE`, `dns`, `refused`,
/// `disk-full[=PCT]`, `disconnect[=PCT]`, `hang`, `delay=MS`,
/// `refuse-auth`, `handshake-delay=MS`, `reset`, `max-startups=N`,
/// `rotate-host-key`, `comfyui-down`, `comfyui-error[=MESSAGE]`,
/// `comfyui-slow=FACTOR`, `comfyui-hang`. Keys: `times`, `every`, `after`, `p` (probability),
/// `host`, `path`, `cmd`, `user`, `instance`, `name`, `expect`.
pub fn parse_flag(spec: &str) -> Result<FaultRule, FaultError> {
    let bad = |why: String| FaultError::Rule {
        rule: Some(format!("{spec:?}")),
        reason: RuleError::Spec(why),
    };
    let invalid = |reason: RuleError| FaultError::Rule {
        rule: Some(format!("{spec:?}")),
        reason,
    };
    let mut parts = spec.split(':');
    let tool = parts.next().unwrap_or("").trim();
    let action_text = parts
        .next()
        .ok_or_else(|| bad("expected TOOL:ACTION[:KEY=VALUE...]".into()))?;
    let (action, arg) = match action_text.split_once('=') {
        Some((a, v)) => (a, Some(v)),
        None => (action_text, None),
    };
    let num = |what: &str| -> Result<u64, FaultError> {
        arg.ok_or_else(|| bad(format!("{action} needs ={what}")))?
            .parse::<u64>()
            .map_err(|_| bad(format!("{action}={}: not a number", arg.unwrap_or(""))))
    };
    let pct = |default: Option<u8>| -> Result<u8, FaultError> {
        match (arg, default) {
            (None, Some(d)) => Ok(d),
            _ => u8::try_from(num("PERCENT")?).map_err(|_| bad("percent out of range".into())),
        }
    };
    let fault = match action.replace('_', "-").as_str() {
        "http" => Fault::Http {
            status: u16::try_from(num("CODE")?).map_err(|_| bad("status out of range".into()))?,
        },
        "drop" | "drop-at" => Fault::DropAt {
            percent: pct(None)?,
        },
        "stall" | "stall-at" => {
            let (p, ms) = match arg.and_then(|a| a.split_once('/')) {
                Some((p, ms)) => (
                    p.parse::<u8>()
                        .map_err(|_| bad(format!("stall={p}: not a percent")))?,
                    Some(
                        ms.parse::<u64>()
                            .map_err(|_| bad(format!("stall ms {ms}: not a number")))?,
                    ),
                ),
                None => (pct(None)?, None),
            };
            Fault::StallAt {
                percent: p,
                stall_ms: ms,
            }
        }
        "slow" => Fault::Slow {
            bytes_per_s: num("BYTES_PER_S")?,
        },
        "exit" | "exit-code" => Fault::ExitCode {
            code: i32::try_from(num("CODE")?).map_err(|_| bad("code out of range".into()))?,
        },
        "dns" | "dns-failure" => Fault::DnsFailure,
        "refused" | "connection-refused" => Fault::ConnectionRefused,
        "disk-full" => Fault::DiskFull {
            percent: pct(Some(0))?,
        },
        "disconnect" | "disconnect-at" => Fault::DisconnectAt {
            percent: pct(Some(0))?,
        },
        "hang" => Fault::Hang,
        "delay" | "delay-output" => Fault::DelayOutput {
            delay_ms: num("MS")?,
        },
        "refuse-auth" => Fault::RefuseAuth,
        "handshake-delay" | "delay-handshake" => Fault::DelayHandshake {
            delay_ms: num("MS")?,
        },
        "reset" | "reset-connection" => Fault::ResetConnection,
        "max-startups" => Fault::MaxStartups {
            limit: u32::try_from(num("N")?).map_err(|_| bad("limit out of range".into()))?,
        },
        "rotate-host-key" => Fault::RotateHostKey,
        "comfyui-down" => Fault::ComfyuiDown,
        "comfyui-error" => Fault::ComfyuiError {
            message: arg.map(str::to_string),
        },
        "comfyui-slow" => Fault::ComfyuiSlow {
            factor: arg
                .ok_or_else(|| bad("comfyui-slow needs =FACTOR".into()))?
                .parse()
                .map_err(|_| bad(format!("comfyui-slow={}: not a number", arg.unwrap_or(""))))?,
        },
        "comfyui-hang" => Fault::ComfyuiHang,
        other => {
            return Err(FaultError::UnknownAction {
                name: other.to_string(),
            })
        }
    };
    let mut rule = FaultRule::new(fault);
    if !tool.is_empty() && tool != "*" {
        rule.matcher.tool = Some(tool.to_string());
    }
    for kv in parts {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad(format!("{kv:?}: expected KEY=VALUE")))?;
        let n = || {
            v.parse::<u64>()
                .map_err(|_| bad(format!("{k}={v}: not a number")))
        };
        match k {
            "times" => rule.odds.times = Some(n()?),
            "every" => rule.odds.every = Some(n()?),
            "after" => rule.odds.after = Some(n()?),
            "expect" => rule.expect = Some(n()?),
            "p" | "probability" => {
                rule.odds.probability = v.parse().map_err(|_| bad(format!("{k}={v}: not a number")))?
            }
            "host" => rule.matcher.host = Some(v.to_string()),
            "path" => rule.matcher.path = Some(v.to_string()),
            "cmd" | "command" => rule.matcher.command = Some(v.to_string()),
            "user" => rule.matcher.user = Some(v.to_string()),
            "instance" => rule.matcher.instance = Some(v.to_string()),
            "name" => rule.name = Some(v.to_string()),
            other => {
                return Err(bad(format!(
                    "unknown key {other:?} (times, every, after, p, host, path, cmd, user, instance, name, expect)"
                )))
            }
        }
    }
    rule.validate().map_err(invalid)?;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_flags_read_naturally() {
        let r = parse_flag("civitdl:http=404:times=1").unwrap();
        assert_eq!(r.action, Fault::Http { status: 404 });
        assert_eq!(r.matcher.tool.as_deref(), Some("civitdl"));
        assert_eq!(r.odds.times, Some(1));
        let r = parse_flag("*:stall=42/1500:p=0.5").unwrap();
        assert_eq!(
            r.action,
            Fault::StallAt {
                percent: 42,
                stall_ms: Some(1500)
            }
        );
        assert_eq!(r.matcher.tool, None);
    }

    #[test]
    fn an_unknown_action_lists_the_valid_ones() {
        let e = parse_flag("wget:explode").unwrap_err().to_string();
        assert!(
            e.contains("explode") && e.contains("drop_at") && e.contains("rotate_host_key"),
            "{e}"
        );
    }

    #[test]
    fn toml_and_json_files_parse() {
        let toml = r#"
[[rule]]
name = "first civitdl fails"
match = { tool = "civitdl" }
action = { type = "http", status = 404 }
times = 1

[[rule]]
action = { type = "stall_at", percent = 30, stall_ms = 2000 }
probability = 0.25
"#;
        let rules = parse_rules_str(toml, RuleFormat::Toml, "f.toml").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].display_name(), "first civitdl fails");
        let json = r#"{"rules": [{"match": {"tool": "wget"}, "action": {"type": "drop_at", "percent": 50}, "every": 2}]}"#;
        let rules = parse_rules_str(json, RuleFormat::Json, "f.json").unwrap();
        assert_eq!(rules[0].odds.every, Some(2));
    }

    #[test]
    fn a_bad_file_names_the_file_line_and_reason() {
        let toml = "[[rule]]\naction = { type = \"http\", status = 404 }\n\n[[rule]]\naction = { type = \"explode\" }\n";
        let e = parse_rules_str(toml, RuleFormat::Toml, "faults.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("faults.toml:5:"), "{e}");
        assert!(e.contains("explode"), "{e}");
        let json = "[\n {\"action\": {\"type\": \"drop_at\", \"percent\": 500}}\n]";
        let e = parse_rules_str(json, RuleFormat::Json, "f.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.json:"), "{e}");
        let e = parse_rules_str(
            "[[rule]]\naction = { type = \"drop_at\", percent = 101 }\n",
            RuleFormat::Toml,
            "x.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("x.toml:1:") && e.contains("percent 101"), "{e}");
    }
}
