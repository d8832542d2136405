//! civitdl's command line as its argparse parser reads it, merged with the
//! defaults of `~/.config/civitdl/config.json`; and its usage and help texts.

use crate::tools::transfer::decimal_amount;

/// The usage lines argparse prints before `--help` and before an error.
pub(super) const USAGE: &str = include_str!("usage.txt");

/// The rest of `civitdl --help`, after the usage lines.
pub(super) const HELP_BODY: &str = include_str!("help.txt");

/// Parsed command line (after merging with the config defaults).
#[derive(Clone, Debug)]
pub(super) struct Options {
    pub(super) sources: Vec<String>,
    pub(super) root: String,
    pub(super) max_images: u32,
    pub(super) api_key: Option<String>,
    pub(super) prompt_key: bool,
    pub(super) with_prompt: bool,
    pub(super) without_model: bool,
    pub(super) limit_rate: u64,
    pub(super) retry_count: u32,
    pub(super) pause_time: f64,
    pub(super) cache_mode: String,
    pub(super) model_overwrite: bool,
    pub(super) color: bool,
}

/// What the command line asks for.
pub(super) enum Parsed {
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

/// How argparse names an option in its errors.
fn display_name(long: &str) -> String {
    match long {
        "--sorter" => "-s/--sorter".into(),
        "--max-images" => "-i/--max-images".into(),
        "--api-key" => "-k/--api-key".into(),
        l => l.into(),
    }
}

/// The command line as given, before type checks and defaults.
#[derive(Default)]
struct Raw {
    /// Sources, then the root directory.
    positional: Vec<String>,
    /// Options argparse does not know, for its error.
    unknown: Vec<String>,
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

/// The command line merged with the config `defaults`, or what to print instead.
pub(super) fn parse_args(args: &[String], defaults: &serde_json::Value) -> Parsed {
    match read(args) {
        Ok(raw) => merge(raw, defaults),
        Err(early) => early,
    }
}

/// The options and arguments as given; `Err` for what ends parsing early
/// (`--help`, `--version`, an ambiguous option, a missing value).
fn read(args: &[String]) -> Result<Raw, Parsed> {
    let mut raw = Raw::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positional || a == "-" || !a.starts_with('-') || a.len() < 2 {
            raw.positional.push(a.clone());
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
                            raw.unknown.push(a.clone());
                            continue;
                        }
                        _ => {
                            let list: Vec<&str> = cands.iter().map(|c| **c).collect();
                            return Err(Parsed::Error(format!(
                                "ambiguous option: {n} could match {}",
                                list.join(", ")
                            )));
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
                    raw.unknown.push(a.clone());
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
                        return Err(Parsed::Error(format!(
                            "argument {}: expected one argument",
                            display_name(&name)
                        )))
                    }
                },
            }
        } else {
            None
        };
        match name.as_str() {
            "--help" => return Err(Parsed::Help),
            "--version" => return Err(Parsed::Version),
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
    Ok(raw)
}

/// `raw` type-checked as argparse converts values, then merged with the
/// config `defaults`.
fn merge(raw: Raw, defaults: &serde_json::Value) -> Parsed {
    let Raw {
        mut positional,
        unknown,
        ..
    } = raw;
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
pub(super) fn parse_rate(s: &str) -> u64 {
    decimal_amount(s.trim()).map_or(0, |v| v as u64)
}

/// The config file civitdl writes on its first run.
pub(super) const DEFAULT_CONFIG: &str = r#"{
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
    fn limit_rates_are_decimal() {
        assert_eq!(parse_rate("5M"), 5_000_000);
        assert_eq!(parse_rate("500K"), 500_000);
    }
}
