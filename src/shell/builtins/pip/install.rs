//! `pip install`: resolve the requirements against the index, print what
//! pip 24.0 prints, wait out the downloads on the instance clock, record
//! the packages in site-packages.

use std::time::Duration;

use super::index::{self, file_name, normalize, Release};
use super::requirement::Requirement;
use super::site::{self, SITE};
use crate::program::Ctx;
use crate::shell::builtins::clock::pause;

/// What one install run decided for a package it will install.
struct Planned {
    release: Release,
    version: String,
}

/// Options of `pip install` that take a value (which is skipped).
const VALUED: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-c",
    "--constraint",
    "--target",
    "-t",
    "--prefix",
    "--root",
    "--src",
    "--timeout",
    "--retries",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--progress-bar",
    "--trusted-host",
];

/// Options of `pip install` that take none.
const FLAGS: &[&str] = &[
    "-q",
    "--quiet",
    "-v",
    "--verbose",
    "-U",
    "--upgrade",
    "--no-cache-dir",
    "--no-deps",
    "--user",
    "--break-system-packages",
    "--force-reinstall",
    "--pre",
    "--no-build-isolation",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--ignore-installed",
    "-I",
    "--no-input",
    "--no-color",
    "--prefer-binary",
    "--upgrade-strategy",
];

pub(super) async fn install(ctx: &Ctx, args: &[String]) -> i32 {
    let quiet = ctx
        .args()
        .iter()
        .any(|a| a == "-q" || a == "--quiet" || a == "-qq");
    let no_deps = args.iter().any(|a| a == "--no-deps");
    let mut wanted: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.as_str();
        if let Some(file) = a
            .strip_prefix("--requirement=")
            .or_else(|| a.strip_prefix("-r").filter(|f| !f.is_empty()))
        {
            if let Err(code) = read_requirements(ctx, file, &mut wanted).await {
                return code;
            }
        } else if a == "-r" || a == "--requirement" {
            let Some(file) = it.next() else {
                return usage(ctx, &format!("{a} option requires 1 argument")).await;
            };
            if let Err(code) = read_requirements(ctx, file, &mut wanted).await {
                return code;
            }
        } else if a == "-e" || a == "--editable" {
            ctx.err("ERROR: editable installs (-e) are not supported on this instance\n")
                .await;
            return 1;
        } else if VALUED.contains(&a) {
            it.next();
        } else if a.starts_with("--") && a.contains('=') || FLAGS.contains(&a) || a == "-qq" {
        } else if a.starts_with('-') {
            return usage(ctx, &format!("no such option: {a}")).await;
        } else {
            wanted.push(a.to_string());
        }
    }
    if wanted.is_empty() {
        ctx.err(
            "ERROR: You must give at least one requirement to install (see \"pip help install\")\n",
        )
        .await;
        return 1;
    }
    let mut log = String::new();
    let mut plan: Vec<Planned> = Vec::new();
    // Breadth first, as pip's resolver reports: each requirement, then its
    // dependencies with `(from PARENT)`.
    let mut queue: std::collections::VecDeque<(String, Option<String>)> =
        wanted.into_iter().map(|w| (w, None)).collect();
    while let Some((text, parent)) = queue.pop_front() {
        let Some(req) = Requirement::parse(&text) else {
            ctx.out(log).await;
            ctx.err(format!("ERROR: Invalid requirement: '{text}'\n"))
                .await;
            return 1;
        };
        if plan
            .iter()
            .any(|p| normalize(p.release.name) == normalize(&req.name))
        {
            continue;
        }
        let from = parent
            .as_ref()
            .map(|p| format!(" (from {p})"))
            .unwrap_or_default();
        let installed = site::version_of(ctx, &req.name);
        if let Some((_, v)) = &installed {
            if req.pinned.as_ref().is_none_or(|p| p == v) {
                log.push_str(&format!(
                    "Requirement already satisfied: {}{} in {SITE}{from} ({v})\n",
                    req.name, req.spec
                ));
                continue;
            }
        }
        let Some(release) = index::find(&req.name) else {
            ctx.out(log).await;
            ctx.err(format!(
                "ERROR: Could not find a version that satisfies the requirement {}{} (from versions: none)\nERROR: No matching distribution found for {}\n",
                req.name, req.spec, req.name
            ))
            .await;
            return 1;
        };
        let version = req
            .pinned
            .clone()
            .unwrap_or_else(|| release.version.to_string());
        let file = file_name(&release, &version);
        log.push_str(&format!("Collecting {}{}{from}\n", req.name, req.spec));
        if release.tag.is_some() {
            log.push_str(&format!(
                "  Downloading {file}.metadata ({})\n",
                size_text(metadata_size(release.name))
            ));
        } else {
            log.push_str(&format!(
                "  Downloading {file} ({})\n",
                size_text(release.size)
            ));
            log.push_str("  Preparing metadata (setup.py): started\n  Preparing metadata (setup.py): finished with status 'done'\n");
        }
        if !no_deps {
            for dep in release.requires {
                queue.push_back((dep.to_string(), Some(release.name.to_string())));
            }
        }
        plan.push(Planned { release, version });
    }
    if !quiet {
        ctx.out(std::mem::take(&mut log)).await;
    }
    if plan.is_empty() {
        return 0;
    }
    let bandwidth = (ctx.instance.config.tools.bandwidth_bytes_per_s as f64).max(1.0);
    for p in &plan {
        let file = file_name(&p.release, &p.version);
        if p.release.tag.is_some() && !quiet {
            ctx.out(format!(
                "Downloading {file} ({})\n",
                size_text(p.release.size)
            ))
            .await;
        }
        let secs = p.release.size as f64 / bandwidth;
        pause(ctx, Duration::from_secs_f64(secs.min(3600.0))).await;
        if ctx.stdout.is_tty() && !quiet {
            ctx.out(bar(p.release.size, bandwidth)).await;
        }
    }
    // Dependencies install first.
    let order: Vec<&Planned> = plan.iter().rev().collect();
    let names: Vec<&str> = order.iter().map(|p| p.release.name).collect();
    if !quiet {
        ctx.out(format!(
            "Installing collected packages: {}\n",
            names.join(", ")
        ))
        .await;
    }
    let mut done: Vec<String> = Vec::new();
    for p in order {
        if let Some((n, v)) = site::version_of(ctx, p.release.name) {
            if !quiet {
                ctx.out(format!(
                    "  Attempting uninstall: {n}\n    Found existing installation: {n} {v}\n    Uninstalling {n}-{v}:\n      Successfully uninstalled {n}-{v}\n"
                ))
                .await;
            }
            site::remove(ctx, &n);
        }
        if let Err(e) = site::add(ctx, p.release.name, &p.version) {
            ctx.err(format!(
                "ERROR: Could not install packages due to an OSError: [Errno {}] {}\n",
                e.raw_os_error().unwrap_or(5),
                crate::program::strerror(&e)
            ))
            .await;
            return 1;
        }
        done.push(format!("{}-{}", p.release.name, p.version));
    }
    done.sort_by_key(|s| s.to_ascii_lowercase());
    if !quiet {
        ctx.out(format!("Successfully installed {}\n", done.join(" ")))
            .await;
    }
    0
}

async fn read_requirements(ctx: &Ctx, file: &str, into: &mut Vec<String>) -> Result<(), i32> {
    let data = match ctx.fs().read(file, 1 << 20) {
        Ok(d) => d,
        Err(_) => {
            ctx.err(format!(
                "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{file}'\n"
            ))
            .await;
            return Err(1);
        }
    };
    for line in String::from_utf8_lossy(&data).lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        into.push(line.to_string());
    }
    Ok(())
}

async fn usage(ctx: &Ctx, why: &str) -> i32 {
    ctx.err(format!(
        "\nUsage:   \n  pip install [options] <requirement specifier> [package-index-options] ...\n  pip install [options] -r <requirements file> [package-index-options] ...\n  pip install [options] [-e] <vcs project url> ...\n  pip install [options] [-e] <local project path> ...\n  pip install [options] <archive url/path> ...\n\n{why}\n"
    ))
    .await;
    2
}

/// pip's `format_size`.
fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b > 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b > 10e3 {
        format!("{} kB", (b / 1e3) as u64)
    } else if b > 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

/// A wheel's metadata file size: a few kB, stable per project.
fn metadata_size(name: &str) -> u64 {
    let h = name
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    1_500 + h % 24_000
}

/// rich's finished download bar, as pip draws it on a terminal.
fn bar(size: u64, rate: f64) -> String {
    let (div, unit) = if size as f64 >= 1e6 {
        (1e6, "MB")
    } else {
        (1e3, "kB")
    };
    let amount = size as f64 / div;
    let speed = if rate >= 1e6 {
        format!("{:.1} MB/s", rate / 1e6)
    } else {
        format!("{:.1} kB/s", rate / 1e3)
    };
    format!(
        "\x1b[2K   \x1b[90m{}\x1b[0m \x1b[32m{amount:.1}/{amount:.1} {unit}\x1b[0m \x1b[31m{speed}\x1b[0m eta \x1b[36m0:00:00\x1b[0m\n",
        "\u{2501}".repeat(40)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_pip_prints_them() {
        assert_eq!(size_text(62_500_000), "62.5 MB");
        assert_eq!(size_text(43_200), "43 kB");
        assert_eq!(size_text(5_200), "5.2 kB");
        assert_eq!(size_text(900), "900 bytes");
    }
}
