//! The command lines of `hf` and `huggingface-cli` (huggingface_hub 0.34's
//! argparse: options between positionals, `--opt=value`, unique prefixes,
//! `nargs="*"` for `--include`/`--exclude`, usage errors with exit 2) and of
//! `hf` 2.x (typer: the same options, its own error box).

/// What `download` was asked for.
#[derive(Clone, Debug, Default)]
pub(super) struct Download {
    /// `org/name`.
    pub repo_id: String,
    /// Files named on the command line.
    pub filenames: Vec<String>,
    /// `model`, `dataset` or `space`.
    pub repo_type: String,
    /// `--revision` (`main` by default).
    pub revision: String,
    /// `--include` globs.
    pub include: Vec<String>,
    /// `--exclude` globs.
    pub exclude: Vec<String>,
    /// `--cache-dir`.
    pub cache_dir: Option<String>,
    /// `--local-dir`.
    pub local_dir: Option<String>,
    /// `--force-download`.
    pub force: bool,
    /// `--token`.
    pub token: Option<String>,
    /// `--quiet`.
    pub quiet: bool,
}

/// The outcome of parsing `download`'s arguments.
pub(super) enum Parsed {
    /// Run it.
    Run(Box<Download>),
    /// `-h`/`--help`.
    Help,
    /// A usage error: the message after `error: `, and whether it is the
    /// top-level parser's (unrecognized arguments) rather than download's.
    Error(String, bool),
}

/// An option of `download`: its name and whether it takes a value.
struct Opt {
    name: &'static str,
    value: Arity,
}

#[derive(Clone, Copy, PartialEq)]
enum Arity {
    Flag,
    One,
    Many,
}

const OPTS: &[Opt] = &[
    Opt {
        name: "--help",
        value: Arity::Flag,
    },
    Opt {
        name: "--repo-type",
        value: Arity::One,
    },
    Opt {
        name: "--revision",
        value: Arity::One,
    },
    Opt {
        name: "--include",
        value: Arity::Many,
    },
    Opt {
        name: "--exclude",
        value: Arity::Many,
    },
    Opt {
        name: "--cache-dir",
        value: Arity::One,
    },
    Opt {
        name: "--local-dir",
        value: Arity::One,
    },
    Opt {
        name: "--force-download",
        value: Arity::Flag,
    },
    Opt {
        name: "--token",
        value: Arity::One,
    },
    Opt {
        name: "--quiet",
        value: Arity::Flag,
    },
    Opt {
        name: "--max-workers",
        value: Arity::One,
    },
    // huggingface-cli only (deprecated there, still accepted).
    Opt {
        name: "--local-dir-use-symlinks",
        value: Arity::One,
    },
    Opt {
        name: "--resume-download",
        value: Arity::Flag,
    },
];

/// Whether `name` is one of `huggingface-cli download`'s extra options.
fn cli_only(name: &str) -> bool {
    matches!(name, "--local-dir-use-symlinks" | "--resume-download")
}

/// The option `word` names (exactly or as a unique prefix, as argparse's
/// `allow_abbrev`), or the ambiguity error.
fn find_opt(word: &str, cli: bool) -> Result<Option<&'static Opt>, String> {
    let opts: Vec<&Opt> = OPTS.iter().filter(|o| cli || !cli_only(o.name)).collect();
    if let Some(o) = opts.iter().find(|o| o.name == word) {
        return Ok(Some(o));
    }
    let matches: Vec<&&Opt> = opts.iter().filter(|o| o.name.starts_with(word)).collect();
    match matches.len() {
        0 => Ok(None),
        1 => Ok(Some(matches[0])),
        _ => Err(format!(
            "ambiguous option: {word} could match {}",
            matches
                .iter()
                .map(|o| o.name)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Parses `download`'s arguments (after the word `download`).
pub(super) fn parse_download(args: &[String], cli: bool) -> Parsed {
    let mut d = Download {
        repo_type: "model".into(),
        revision: "main".into(),
        ..Download::default()
    };
    let mut positionals: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_positionals = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positionals || !a.starts_with('-') || a == "-" {
            positionals.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positionals = true;
            continue;
        }
        if a == "-h" {
            return Parsed::Help;
        }
        let (word, inline) = match a.split_once('=') {
            Some((w, v)) if w.starts_with("--") => (w.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let opt = match find_opt(&word, cli) {
            Ok(Some(o)) => o,
            Ok(None) => {
                unknown.push(a.clone());
                continue;
            }
            Err(e) => return Parsed::Error(e, false),
        };
        let mut values: Vec<String> = Vec::new();
        match opt.value {
            Arity::Flag => {
                if inline.is_some() {
                    return Parsed::Error(
                        format!(
                            "argument {}: ignored explicit argument '{}'",
                            opt.name,
                            inline.unwrap_or_default()
                        ),
                        false,
                    );
                }
            }
            Arity::One => match inline {
                Some(v) => values.push(v),
                None => match args.get(i) {
                    Some(v) if !v.starts_with('-') || v == "-" => {
                        values.push(v.clone());
                        i += 1;
                    }
                    _ => {
                        return Parsed::Error(
                            format!("argument {}: expected one argument", opt.name),
                            false,
                        )
                    }
                },
            },
            Arity::Many => {
                if let Some(v) = inline {
                    values.push(v);
                } else {
                    while let Some(v) = args.get(i).filter(|v| !v.starts_with('-')) {
                        values.push(v.clone());
                        i += 1;
                    }
                }
            }
        }
        let one = values.first().cloned().unwrap_or_default();
        match opt.name {
            "--help" => return Parsed::Help,
            "--repo-type" => {
                if !matches!(one.as_str(), "model" | "dataset" | "space") {
                    return Parsed::Error(
                        format!("argument --repo-type: invalid choice: '{one}' (choose from 'model', 'dataset', 'space')"),
                        false,
                    );
                }
                d.repo_type = one;
            }
            "--revision" => d.revision = one,
            "--include" => d.include = values,
            "--exclude" => d.exclude = values,
            "--cache-dir" => d.cache_dir = Some(one),
            "--local-dir" => d.local_dir = Some(one),
            "--force-download" => d.force = true,
            "--token" => d.token = Some(one),
            "--quiet" => d.quiet = true,
            "--max-workers" if one.trim().parse::<i64>().is_err() => {
                return Parsed::Error(
                    format!("argument --max-workers: invalid int value: '{one}'"),
                    false,
                );
            }
            "--local-dir-use-symlinks" if !matches!(one.as_str(), "auto" | "True" | "False") => {
                return Parsed::Error(
                    format!("argument --local-dir-use-symlinks: invalid choice: '{one}' (choose from 'auto', 'True', 'False')"),
                    false,
                );
            }
            _ => {}
        }
    }
    let mut pos = positionals.into_iter();
    let Some(repo) = pos.next() else {
        return Parsed::Error(
            "the following arguments are required: repo_id".into(),
            false,
        );
    };
    d.repo_id = repo;
    d.filenames = pos.collect();
    if !unknown.is_empty() {
        return Parsed::Error(
            format!("unrecognized arguments: {}", unknown.join(" ")),
            true,
        );
    }
    Parsed::Run(Box::new(d))
}

/// argparse's usage block: `usage: PROG PARTS...`, wrapped at 78 columns
/// with the continuation lines under the first part and the positionals
/// on lines of their own (`HelpFormatter._format_usage`).
pub(super) fn usage(prog: &str, parts: &[&str], positionals: &[&str]) -> String {
    const WIDTH: usize = 78;
    let prefix = "usage: ";
    let one_line = std::iter::once(prog)
        .chain(parts.iter().copied())
        .chain(positionals.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    if prefix.len() + one_line.len() <= WIDTH {
        return format!("{prefix}{one_line}\n");
    }
    let indent = " ".repeat(prefix.len() + prog.len() + 1);
    let get_lines = |parts: &[&str], first: bool| -> Vec<String> {
        let mut lines = Vec::new();
        let mut line: Vec<&str> = Vec::new();
        let mut len = if first {
            prefix.len() - 1
        } else {
            indent.len() - 1
        };
        for part in parts {
            if len + 1 + part.len() > WIDTH && !line.is_empty() {
                lines.push(format!("{indent}{}", line.join(" ")));
                line.clear();
                len = indent.len() - 1;
            }
            line.push(part);
            len += part.len() + 1;
        }
        if !line.is_empty() {
            lines.push(format!("{indent}{}", line.join(" ")));
        }
        if first {
            if let Some(l) = lines.first_mut() {
                *l = l[indent.len()..].to_string();
            }
        }
        lines
    };
    let head: Vec<&str> = std::iter::once(prog).chain(parts.iter().copied()).collect();
    let mut lines = get_lines(&head, true);
    lines.extend(get_lines(positionals, false));
    format!("{prefix}{}\n", lines.join("\n"))
}

/// `download`'s usage for `prog` (`hf` or `huggingface-cli`).
pub(super) fn download_usage(program: &str) -> String {
    let prog = format!("{program} <command> [<args>] download");
    let mut parts = vec![
        "[-h]",
        "[--repo-type {model,dataset,space}]",
        "[--revision REVISION]",
        "[--include [INCLUDE ...]]",
        "[--exclude [EXCLUDE ...]]",
        "[--cache-dir CACHE_DIR]",
        "[--local-dir LOCAL_DIR]",
    ];
    if program == "huggingface-cli" {
        parts.push("[--local-dir-use-symlinks {auto,True,False}]");
    }
    parts.extend(["[--force-download]"]);
    if program == "huggingface-cli" {
        parts.push("[--resume-download]");
    }
    parts.extend([
        "[--token TOKEN]",
        "[--quiet]",
        "[--max-workers MAX_WORKERS]",
    ]);
    usage(&prog, &parts, &["repo_id", "[filenames ...]"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse_download(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            false,
        )
    }

    #[test]
    fn options_mix_with_positionals_and_abbreviate() {
        let Parsed::Run(d) = p(&["org/m", "--local", "d", "a.bin", "--include", "*.json", "x"])
        else {
            panic!("parse")
        };
        assert_eq!(d.repo_id, "org/m");
        assert_eq!(d.filenames, ["a.bin"]);
        assert_eq!(d.local_dir.as_deref(), Some("d"));
        assert_eq!(d.include, ["*.json", "x"]);
        assert!(matches!(p(&[]), Parsed::Error(e, false) if e.contains("required: repo_id")));
        assert!(
            matches!(p(&["a/b", "--foo"]), Parsed::Error(e, true) if e == "unrecognized arguments: --foo")
        );
        assert!(
            matches!(p(&["a/b", "--re"]), Parsed::Error(e, _) if e.starts_with("ambiguous option"))
        );
        assert!(
            matches!(p(&["a/b", "--repo-type", "x"]), Parsed::Error(e, _) if e.contains("invalid choice"))
        );
    }

    #[test]
    fn usage_wraps_like_argparse() {
        let u = download_usage("hf");
        assert!(u.starts_with("usage: hf <command> [<args>] download [-h]"));
        assert!(u.lines().all(|l| l.len() <= 78), "{u}");
        assert!(u.trim_end().ends_with("repo_id [filenames ...]"));
    }
}
