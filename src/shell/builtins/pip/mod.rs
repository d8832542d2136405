//! `pip`/`pip3`: the venv's packages as pip 24.0 lists, shows, installs and
//! uninstalls them. `install` resolves against a small built-in index
//! ([`index`]: what ComfyUI nodes ask for), prints pip's own lines
//! (`Collecting`, `Requirement already satisfied`, `Downloading`, the bar on
//! a terminal, `Successfully installed`), takes the download's time on the
//! instance clock and records the package in the sandbox's site-packages
//! ([`site`]), so a second install finds it. Nothing is ever executed.

mod index;
mod install;
mod requirement;
mod site;

use async_trait::async_trait;

use crate::program::{Ctx, Program};
use site::SITE;

/// `pip [--version|list|freeze|show PKG|install ...|uninstall PKG...]`.
pub struct Pip;

#[async_trait]
impl Program for Pip {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let args = ctx.args().to_vec();
        let Some(pos) = args.iter().position(|a| !is_general_flag(a)) else {
            ctx.out(USAGE).await;
            return 0;
        };
        let rest = &args[pos + 1..];
        match args[pos].as_str() {
            "--version" | "-V" => {
                ctx.out(format!("pip 24.0 from {SITE}/pip (python 3.11)\n"))
                    .await;
                0
            }
            "list" => list(ctx).await,
            "freeze" => {
                let out: String = site::installed(ctx)
                    .into_iter()
                    .filter(|(n, _)| !matches!(n.as_str(), "pip" | "setuptools" | "wheel"))
                    .map(|(n, v)| format!("{n}=={v}\n"))
                    .collect();
                ctx.out(out).await;
                0
            }
            "show" => show(ctx, rest).await,
            "install" => install::install(ctx, rest).await,
            "uninstall" => uninstall(ctx, rest).await,
            "help" | "--help" | "-h" => {
                ctx.out(USAGE).await;
                0
            }
            other => {
                ctx.err(format!("ERROR: unknown command \"{other}\"\n"))
                    .await;
                1
            }
        }
    }
}

const USAGE: &str = "\nUsage:   \n  pip <command> [options]\n\nCommands:\n  install                     Install packages.\n  uninstall                   Uninstall packages.\n  freeze                      Output installed packages in requirements format.\n  list                        List installed packages.\n  show                        Show information about installed packages.\n";

/// Options pip takes before its command.
fn is_general_flag(a: &str) -> bool {
    matches!(
        a,
        "-q" | "--quiet"
            | "-v"
            | "--verbose"
            | "--no-cache-dir"
            | "--disable-pip-version-check"
            | "--no-color"
            | "--isolated"
    )
}

async fn list(ctx: &Ctx) -> i32 {
    let all = site::installed(ctx);
    let w = all.iter().map(|(n, _)| n.len()).max().unwrap_or(7).max(7);
    let v = all.iter().map(|(_, v)| v.len()).max().unwrap_or(7).max(7);
    let mut out = format!(
        "{:<w$} Version\n{} {}\n",
        "Package",
        "-".repeat(w),
        "-".repeat(v)
    );
    for (n, ver) in &all {
        out.push_str(&format!("{n:<w$} {ver}\n"));
    }
    ctx.out(out).await;
    0
}

async fn show(ctx: &Ctx, args: &[String]) -> i32 {
    let Some(name) = args.iter().find(|a| !a.starts_with('-')) else {
        ctx.err("ERROR: Please provide a package name or names.\n")
            .await;
        return 1;
    };
    match site::version_of(ctx, name) {
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

async fn uninstall(ctx: &Ctx, args: &[String]) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        ctx.err("ERROR: You must give at least one requirement to uninstall (see \"pip help uninstall\")\n")
            .await;
        return 1;
    }
    let mut out = String::new();
    for name in names {
        match site::version_of(ctx, name) {
            Some((n, v)) if site::remove(ctx, &n) => out.push_str(&format!(
                "Found existing installation: {n} {v}\nUninstalling {n}-{v}:\n  Successfully uninstalled {n}-{v}\n"
            )),
            Some((n, v)) => {
                // A package of the image: pip would remove it; removing the
                // image's torch would break the instance, so say why not.
                ctx.out(std::mem::take(&mut out)).await;
                ctx.err(format!(
                    "ERROR: Cannot uninstall {n} {v}: it is part of this instance's image\n"
                ))
                .await;
                return 1;
            }
            None => out.push_str(&format!(
                "WARNING: Skipping {name} as it is not installed.\n"
            )),
        }
    }
    ctx.out(out).await;
    0
}

#[cfg(test)]
mod tests;
