//! `python`/`python3` and `pip`/`pip3`: versions and package lists of the
//! instance's venv. Nothing is ever executed.

use async_trait::async_trait;

use crate::program::{Ctx, Program};

const PYTHON_VERSION: &str = "3.11.9";
const SITE: &str = "/venv/main/lib/python3.11/site-packages";

/// What `pip list` shows, sorted as pip sorts (case-insensitively).
const PACKAGES: &[(&str, &str)] = &[
    ("certifi", "2024.2.2"),
    ("charset-normalizer", "3.3.2"),
    ("civitdl", "2.2.0"),
    ("filelock", "3.14.0"),
    ("fsspec", "2024.5.0"),
    ("huggingface-hub", "0.34.4"),
    ("idna", "3.7"),
    ("Jinja2", "3.1.4"),
    ("numpy", "1.26.4"),
    ("pillow", "10.3.0"),
    ("pip", "24.0"),
    ("PyYAML", "6.0.1"),
    ("requests", "2.32.3"),
    ("safetensors", "0.4.3"),
    ("setuptools", "69.5.1"),
    ("torch", "2.3.0+cu121"),
    ("torchaudio", "2.3.0+cu121"),
    ("torchvision", "0.18.0+cu121"),
    ("tqdm", "4.67.1"),
    ("transformers", "4.41.2"),
    ("typing_extensions", "4.11.0"),
    ("urllib3", "2.2.1"),
    ("wheel", "0.43.0"),
];

/// `python [--version|-V|-c CODE|-m MODULE|SCRIPT]`.
pub struct Python;

#[async_trait]
impl Program for Python {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let name = ctx
            .name()
            .rsplit('/')
            .next()
            .unwrap_or("python3")
            .to_string();
        let args = ctx.args().to_vec();
        match args.first().map(String::as_str) {
            Some("--version") | Some("-V") => {
                ctx.out(format!("Python {PYTHON_VERSION}\n")).await;
                0
            }
            Some("-m") if args.get(1).is_some_and(|m| m == "pip") => {
                let mut sub = Ctx {
                    argv: std::iter::once("pip".to_string())
                        .chain(args[2..].iter().cloned())
                        .collect(),
                    env: ctx.env.clone(),
                    cwd: ctx.cwd.clone(),
                    stdin: ctx.stdin.clone(),
                    stdout: ctx.stdout.clone(),
                    stderr: ctx.stderr.clone(),
                    instance: ctx.instance.clone(),
                    faults: ctx.faults.clone(),
                };
                Pip.run(&mut sub).await
            }
            Some("-m") => {
                let m = args.get(1).cloned().unwrap_or_default();
                if m.is_empty() {
                    ctx.err("Argument expected for the -m option\n").await;
                    return 2;
                }
                ctx.err(format!("/venv/main/bin/{name}: No module named {m}\n"))
                    .await;
                1
            }
            Some(script) if !script.starts_with('-') => {
                let exists = ctx.fs().is_file(script);
                if !exists {
                    let abs = crate::instance::Sandbox::absolute(&ctx.cwd, script);
                    ctx.err(format!(
                        "/venv/main/bin/{name}: can't open file '{abs}': [Errno 2] No such file or directory\n"
                    ))
                    .await;
                    return 2;
                }
                not_supported(ctx, &name).await
            }
            _ => not_supported(ctx, &name).await,
        }
    }
}

async fn not_supported(ctx: &Ctx, name: &str) -> i32 {
    ctx.err(format!(
        "{name}: running Python code is not supported on this instance\n"
    ))
    .await;
    1
}

/// `pip [--version|list|freeze|show PKG|install PKG...]`.
pub struct Pip;

/// `pip install` arguments with each `-r FILE` replaced by the file's
/// requirement lines (comments, blanks and options dropped).
fn requirements(ctx: &Ctx, args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let file = match a.as_str() {
            "-r" | "--requirement" => it.next().cloned(),
            f if f.starts_with("--requirement=") => Some(f["--requirement=".len()..].to_string()),
            f if f.starts_with("-r") => Some(f[2..].to_string()),
            f if f.starts_with('-') => continue,
            f => {
                out.push(f.to_string());
                continue;
            }
        };
        let Some(file) = file else {
            return Err("ERROR: -r option requires 1 argument.\n".into());
        };
        let text = ctx.fs().read(&file, 1 << 20).map_err(|_| {
            format!("ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{file}'\n")
        })?;
        for line in String::from_utf8_lossy(&text).lines() {
            let req = line.split(" #").next().unwrap_or("").trim();
            if !req.is_empty() && !req.starts_with('#') && !req.starts_with('-') {
                out.push(req.to_string());
            }
        }
    }
    Ok(out)
}

fn find_package(name: &str) -> Option<(&'static str, &'static str)> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let base = name
        .split(['=', '<', '>', '!', '~', '[', ';'])
        .next()
        .unwrap_or(name)
        .trim();
    PACKAGES
        .iter()
        .copied()
        .find(|(n, _)| norm(n) == norm(base))
}

#[async_trait]
impl Program for Pip {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args: Vec<String> = ctx
            .args()
            .iter()
            .filter(|a| {
                !matches!(
                    a.as_str(),
                    "-q" | "--quiet" | "--no-cache-dir" | "-U" | "--upgrade"
                )
            })
            .cloned()
            .collect();
        match args.first().map(String::as_str) {
            Some("--version") | Some("-V") => {
                ctx.out(format!("pip 24.0 from {SITE}/pip (python 3.11)\n"))
                    .await;
                0
            }
            Some("list") => {
                let w = PACKAGES
                    .iter()
                    .map(|(n, _)| n.len())
                    .max()
                    .unwrap_or(7)
                    .max(7);
                let v = PACKAGES
                    .iter()
                    .map(|(_, v)| v.len())
                    .max()
                    .unwrap_or(7)
                    .max(7);
                let mut out = format!(
                    "{:<w$} Version\n{} {}\n",
                    "Package",
                    "-".repeat(w),
                    "-".repeat(v)
                );
                for (n, ver) in PACKAGES {
                    out.push_str(&format!("{n:<w$} {ver}\n"));
                }
                ctx.out(out).await;
                0
            }
            Some("freeze") => {
                let out: String = PACKAGES
                    .iter()
                    .filter(|(n, _)| !matches!(*n, "pip" | "setuptools" | "wheel"))
                    .map(|(n, v)| format!("{n}=={v}\n"))
                    .collect();
                ctx.out(out).await;
                0
            }
            Some("show") => {
                let Some(name) = args.get(1) else {
                    ctx.err("ERROR: Please provide a package name or names.\n")
                        .await;
                    return 1;
                };
                match find_package(name) {
                    Some((n, v)) => {
                        ctx.out(format!(
                            "Name: {n}\nVersion: {v}\nSummary: \nHome-page: \nAuthor: \nAuthor-email: \nLicense: \nLocation: {SITE}\nRequires: \nRequired-by: \n"
                        ))
                        .await;
                        0
                    }
                    None => {
                        ctx.err(format!("WARNING: Package(s) not found: {name}\n"))
                            .await;
                        1
                    }
                }
            }
            Some("install") => {
                let pkgs = match requirements(ctx, &args[1..]) {
                    Ok(p) => p,
                    Err(msg) => {
                        ctx.err(msg).await;
                        return 1;
                    }
                };
                let pkgs: Vec<&String> = pkgs.iter().collect();
                if pkgs.is_empty() {
                    ctx.err("ERROR: You must give at least one requirement to install (see \"pip help install\")\n")
                        .await;
                    return 1;
                }
                let mut out = String::new();
                for p in pkgs {
                    match find_package(p) {
                        Some((n, v)) => out.push_str(&format!(
                            "Requirement already satisfied: {} in {SITE} ({v})\n",
                            p.split(['=', '<', '>']).next().unwrap_or(n)
                        )),
                        None => {
                            ctx.out(out).await;
                            ctx.err(format!(
                                "ERROR: Could not find a version that satisfies the requirement {p} (from versions: none)\nERROR: No matching distribution found for {p}\n"
                            ))
                            .await;
                            return 1;
                        }
                    }
                }
                ctx.out(out).await;
                0
            }
            None => {
                ctx.out("\nUsage:   \n  pip <command> [options]\n").await;
                0
            }
            Some(other) => {
                ctx.err(format!("ERROR: unknown command \"{other}\"\n"))
                    .await;
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn versions() {
        let i = instance();
        assert_eq!(
            run(&i, "/", &["python", "--version"], b"").await,
            (0, "Python 3.11.9\n".into(), String::new())
        );
        assert_eq!(
            run(&i, "/", &["python3", "-V"], b"").await.1,
            "Python 3.11.9\n"
        );
        assert_eq!(
            run(&i, "/", &["pip", "--version"], b"").await.1,
            "pip 24.0 from /venv/main/lib/python3.11/site-packages/pip (python 3.11)\n"
        );
        assert_eq!(
            run(&i, "/", &["python3", "-m", "pip", "--version"], b"")
                .await
                .0,
            0
        );
    }

    #[tokio::test]
    async fn code_is_never_run() {
        let i = instance();
        let r = run(
            &i,
            "/",
            &["python3", "-c", "import os; os.system('id')"],
            b"",
        )
        .await;
        assert_eq!(r.0, 1);
        assert!(r.1.is_empty());
        let r = run(&i, "/tmp", &["python3", "x.py"], b"").await;
        assert_eq!(
            r,
            (2, String::new(), "/venv/main/bin/python3: can't open file '/tmp/x.py': [Errno 2] No such file or directory\n".into())
        );
    }

    #[tokio::test]
    async fn pip_lists_packages() {
        let i = instance();
        let r = run(&i, "/", &["pip", "list"], b"").await;
        assert!(r
            .1
            .starts_with("Package            Version\n------------------ "));
        assert!(r.1.contains("\ncivitdl            2.2.0\n"));
        let r = run(&i, "/", &["pip3", "freeze"], b"").await;
        assert!(r.1.contains("torch==2.3.0+cu121\n"));
        let r = run(&i, "/", &["pip", "install", "civitdl"], b"").await;
        assert_eq!(r.0, 0);
        let r = run(&i, "/", &["pip", "install", "nosuchpkg"], b"").await;
        assert_eq!(r.0, 1);
    }
}
