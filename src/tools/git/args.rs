//! `git clone`'s command line, read as parse-options reads it: long
//! options with `=VALUE` or the next word, bundled short switches, `--`,
//! and the real usage errors (exit 129).

/// `git clone -h`, also printed after a usage error.
pub(super) const CLONE_USAGE: &str = include_str!("clone_usage.txt");

/// The options of one `git clone`.
#[derive(Debug, Default)]
pub(super) struct CloneOpts {
    pub(super) quiet: bool,
    /// `Some(true)` for `--progress`, `Some(false)` for `--no-progress`.
    pub(super) progress: Option<bool>,
    /// `--depth` as written (checked when the clone starts).
    pub(super) depth: Option<String>,
    pub(super) branch: Option<String>,
    pub(super) single_branch: Option<bool>,
    pub(super) no_checkout: bool,
    pub(super) url: String,
    pub(super) dir: Option<String>,
}

/// What the command line asks for.
pub(super) enum Parsed {
    /// Clone with these options.
    Run(CloneOpts),
    /// Print this on stdout (`-h`) and exit with the code.
    Out(String, i32),
    /// Print this on stderr and exit with the code.
    Err(String, i32),
}

/// Long options that take a value.
const WITH_VALUE: &[&str] = &[
    "depth",
    "branch",
    "filter",
    "jobs",
    "config",
    "shallow-since",
    "shallow-exclude",
    "server-option",
    "reference",
    "template",
    "separate-git-dir",
    "upload-pack",
];

/// Long options this emulation takes without acting on them (they change
/// nothing a clone of the fake internet shows).
const IGNORED: &[&str] = &[
    "verbose",
    "no-verbose",
    "recursive",
    "recurse-submodules",
    "no-recurse-submodules",
    "shallow-submodules",
    "no-shallow-submodules",
    "no-tags",
    "tags",
    "remote-submodules",
    "also-filter-submodules",
    "reject-shallow",
    "no-reject-shallow",
    "no-hardlinks",
    "hardlinks",
    "local",
    "no-local",
    "shared",
    "dissociate",
    "sparse",
];

fn unknown(what: &str, name: &str) -> Parsed {
    Parsed::Err(
        format!("error: unknown {what} `{name}'\n{CLONE_USAGE}"),
        129,
    )
}

/// Reads `git clone ARGS`.
pub(super) fn parse(args: &[String]) -> Parsed {
    let mut o = CloneOpts::default();
    let mut pos: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_pos = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_pos || a == "-" || !a.starts_with('-') {
            pos.push(a.clone());
            continue;
        }
        if a == "--" {
            only_pos = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let value = if WITH_VALUE.contains(&name) {
                match inline {
                    Some(v) => Some(v),
                    None if i < args.len() => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => {
                        return Parsed::Err(
                            format!("error: option `{name}' requires a value\n"),
                            129,
                        )
                    }
                }
            } else {
                None
            };
            match name {
                "help" => return Parsed::Out(CLONE_USAGE.to_string(), 129),
                "quiet" => o.quiet = true,
                "no-quiet" => o.quiet = false,
                "progress" => o.progress = Some(true),
                "no-progress" => o.progress = Some(false),
                "depth" => o.depth = value,
                "branch" => o.branch = value,
                "single-branch" => o.single_branch = Some(true),
                "no-single-branch" => o.single_branch = Some(false),
                "no-checkout" => o.no_checkout = true,
                "checkout" => o.no_checkout = false,
                "bare" | "mirror" | "origin" | "separate-git-dir" | "reference" => {
                    return Parsed::Err(format!("git clone --{name}: not emulated by fakessh\n"), 1)
                }
                n if WITH_VALUE.contains(&n) || IGNORED.contains(&n) => {}
                n => return unknown("option", n),
            }
            continue;
        }
        // Bundled short switches: -qb main, -bmain.
        let shorts: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < shorts.len() {
            let c = shorts[j];
            j += 1;
            match c {
                'q' => o.quiet = true,
                'v' | 'l' | 's' | 'n' => o.no_checkout |= c == 'n',
                'h' => return Parsed::Out(CLONE_USAGE.to_string(), 129),
                'b' | 'j' | 'c' | 'o' | 'u' => {
                    let rest: String = shorts[j..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Parsed::Err(format!("error: switch `{c}' requires a value\n"), 129);
                    };
                    match c {
                        'b' => o.branch = Some(value),
                        'o' | 'u' => {
                            return Parsed::Err(
                                format!("git clone -{c}: not emulated by fakessh\n"),
                                1,
                            )
                        }
                        _ => {}
                    }
                    j = shorts.len();
                }
                other => return unknown("switch", &other.to_string()),
            }
        }
    }
    let mut pos = pos.into_iter();
    let Some(url) = pos.next() else {
        return Parsed::Err(
            format!("fatal: You must specify a repository to clone.\n\n{CLONE_USAGE}"),
            129,
        );
    };
    o.url = url;
    o.dir = pos.next();
    if pos.next().is_some() {
        return Parsed::Err(format!("fatal: Too many arguments.\n\n{CLONE_USAGE}"), 129);
    }
    Parsed::Run(o)
}

/// `git_url_basename`: the directory a clone of `url` lands in
/// (`https://github.com/a/b.git/` -> `b`).
pub(super) fn humanish(url: &str) -> String {
    let mut s = url.trim_end_matches('/');
    s = s.strip_suffix("/.git").unwrap_or(s);
    s = s.trim_end_matches('/');
    let start = s.rfind(['/', ':']).map(|i| i + 1).unwrap_or(0);
    let mut name = &s[start..];
    name = name.strip_suffix(".git").unwrap_or(name);
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_and_positionals() {
        let Parsed::Run(o) = p(&["--depth", "1", "-b", "dev", "--progress", "u", "d"]) else {
            panic!("run")
        };
        assert_eq!(o.depth.as_deref(), Some("1"));
        assert_eq!(o.branch.as_deref(), Some("dev"));
        assert_eq!((o.url.as_str(), o.dir.as_deref()), ("u", Some("d")));
        let Parsed::Run(o) = p(&["-qbmain", "--depth=3", "u"]) else {
            panic!("run")
        };
        assert!(o.quiet && o.branch.as_deref() == Some("main"));
        assert!(
            matches!(p(&["--foo", "u"]), Parsed::Err(e, 129) if e.starts_with("error: unknown option `foo'\nusage: git clone"))
        );
        assert!(matches!(p(&[]), Parsed::Err(e, 129) if e.starts_with("fatal: You must specify")));
        assert!(
            matches!(p(&["a", "b", "c"]), Parsed::Err(e, 129) if e.starts_with("fatal: Too many"))
        );
    }

    #[test]
    fn directory_names_follow_the_url() {
        assert_eq!(
            humanish("https://github.com/a/ComfyUI-Manager.git"),
            "ComfyUI-Manager"
        );
        assert_eq!(humanish("https://github.com/a/b/"), "b");
        assert_eq!(humanish("file:///srv/git/wget-src/.git"), "wget-src");
        assert_eq!(humanish("git@github.com:a/b.git"), "b");
    }
}
