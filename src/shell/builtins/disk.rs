//! Disk usage: `du` (allocated blocks, downloads in full, or apparent sizes with `-b`) and
//! `df` (an overlay root of about 500G whose use grows with the sandbox).

use std::collections::HashSet;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use async_trait::async_trait;

use super::common::{child, complain, errtext, human, parse_or_exit, quote, Spec};
use crate::instance::sandbox::{EntryKind, Fs as SandboxFs};
use crate::program::{Ctx, Program};

/// `du [-s] [-h] [-b] [-a] [-c] [-k|-m] [-d N] [--apparent-size] [FILE]...`.
pub struct Du;

const DU_SPEC: Spec = Spec {
    flags: "shbackmxLSl",
    with_arg: "d",
    long: &[
        ("summarize", 's', false),
        ("human-readable", 'h', false),
        ("bytes", 'b', false),
        ("all", 'a', false),
        ("total", 'c', false),
        ("max-depth", 'd', true),
        ("apparent-size", 'A', false),
    ],
};

#[derive(Clone, Copy)]
struct DuOpts {
    apparent: bool,
    unit: u64,
    human: bool,
    all: bool,
    max_depth: Option<usize>,
}

impl DuOpts {
    fn size(&self, meta: &Metadata) -> u64 {
        if self.apparent {
            meta.len()
        } else if meta.is_file() {
            // Emulated downloads are sparse on the host; on a real machine
            // their blocks are all written, so they count in full.
            (meta.blocks() * 512).max(meta.len().div_ceil(4096) * 4096)
        } else {
            meta.blocks() * 512
        }
    }

    fn show(&self, bytes: u64) -> String {
        if self.human {
            human(bytes)
        } else {
            bytes.div_ceil(self.unit).to_string()
        }
    }
}

#[async_trait]
impl Program for Du {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &DU_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let bytes = p.has('b');
        let unit = if bytes {
            1
        } else {
            match p.last_of("km") {
                Some('m') => 1 << 20,
                _ => 1024,
            }
        };
        let max_depth = if p.has('s') {
            Some(0)
        } else {
            match p.value('d') {
                Some(v) => match v.parse() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        complain(ctx, format!("invalid maximum depth {}", quote(ctx, v))).await;
                        return 1;
                    }
                },
                None => None,
            }
        };
        let o = DuOpts {
            apparent: bytes || p.has('A'),
            unit,
            human: p.has('h'),
            all: p.has('a'),
            max_depth,
        };
        let operands = if p.operands.is_empty() {
            vec![".".to_string()]
        } else {
            p.operands.clone()
        };
        let mut code = 0;
        let mut grand = 0u64;
        let mut seen = HashSet::new();
        for op in &operands {
            // An operand that is a link is followed; links below are not.
            let meta = match ctx.fs().metadata(op) {
                Ok(m) => m,
                Err(e) => {
                    let msg = format!("cannot access {}: {}", quote(ctx, op), errtext(&e));
                    complain(ctx, msg).await;
                    code = 1;
                    continue;
                }
            };
            let mut lines = Vec::new();
            let total = tree_size(ctx.fs(), op, Some(meta), 0, &o, &mut seen, &mut lines);
            grand += total;
            let text: String = lines.concat();
            if !ctx.out(text).await {
                return 1;
            }
        }
        if p.has('c') {
            ctx.out(format!("{}\ttotal\n", o.show(grand))).await;
        }
        code
    }
}

/// Sums a tree without following links, counting hard links once; pushes
/// the lines `du` prints (post-order) into `lines`. `shown` is the path as
/// printed, looked up again inside the sandbox at each step; `meta` is its
/// metadata when the caller has it already.
fn tree_size(
    fs: SandboxFs<'_>,
    shown: &str,
    meta: Option<Metadata>,
    depth: usize,
    o: &DuOpts,
    seen: &mut HashSet<(u64, u64)>,
    lines: &mut Vec<String>,
) -> u64 {
    let meta = match meta {
        Some(m) => m,
        None => match fs.symlink_metadata(shown) {
            Ok(m) => m,
            Err(_) => return 0,
        },
    };
    if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
        return 0;
    }
    let mut total = o.size(&meta);
    let print_here = o.max_depth.is_none_or(|m| depth <= m);
    if meta.is_dir() {
        let mut names: Vec<String> = fs
            .read_dir(shown)
            .map(|r| r.iter().map(|e| e.name_lossy()).collect())
            .unwrap_or_default();
        names.sort();
        for n in names {
            total += tree_size(fs, &child(shown, &n), None, depth + 1, o, seen, lines);
        }
        if print_here {
            lines.push(format!("{}\t{shown}\n", o.show(total)));
        }
    } else if depth == 0 || (o.all && print_here) {
        lines.push(format!("{}\t{shown}\n", o.show(total)));
    }
    total
}

/// `df [-h] [-T] [-k] [FILE]...`.
pub struct Df;

const DF_SPEC: Spec = Spec {
    flags: "hHTkaPil",
    with_arg: "",
    long: &[
        ("human-readable", 'h', false),
        ("print-type", 'T', false),
        ("all", 'a', false),
        ("portability", 'P', false),
    ],
};

/// The root filesystem's size (500 GiB) and what the image itself takes.
const ROOT_SIZE: u64 = 500 * 1024 * 1024 * 1024;
const IMAGE_USED: u64 = 38 * 1024 * 1024 * 1024 + 420 * 1024 * 1024;
const SHM_SIZE: u64 = 16 * 1024 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Fs {
    source: &'static str,
    kind: &'static str,
    size: u64,
    used: u64,
    mount: &'static str,
}

/// Apparent bytes under the sandbox root: downloads count in full even
/// when their files are sparse.
fn sandbox_bytes(fs: SandboxFs<'_>) -> u64 {
    let mut total = 0;
    let mut stack = vec!["/".to_string()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = child(&dir, &e.name_lossy());
            match e.kind {
                EntryKind::Dir => stack.push(path),
                EntryKind::File => {
                    if let Ok(m) = fs.symlink_metadata(&path) {
                        total += m.len();
                    }
                }
                EntryKind::Symlink | EntryKind::Other => {}
            }
        }
    }
    total
}

/// Whether a `disk_full` fault is armed and has fires left.
fn disk_full_armed(ctx: &Ctx) -> bool {
    ctx.instance.faults.list().iter().any(|a| {
        matches!(a.rule.action, crate::faults::Fault::DiskFull { .. })
            && a.rule.odds.times.is_none_or(|t| a.fired < t)
    })
}

#[async_trait]
impl Program for Df {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &DF_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let instance = ctx.instance.clone();
        let data = tokio::task::spawn_blocking(move || sandbox_bytes(instance.sandbox.fs("/")))
            .await
            .unwrap_or(0);
        // A disk that is full for the tools is full for df too: an armed
        // `disk_full` rule that can still fire, or the quota reached.
        let disk = ctx.instance.sandbox.disk();
        let full = disk.used() >= disk.limit() || disk_full_armed(ctx);
        let used = if full {
            ROOT_SIZE
        } else {
            (IMAGE_USED + data).min(ROOT_SIZE)
        };
        let all = [
            Fs {
                source: "overlay",
                kind: "overlay",
                size: ROOT_SIZE,
                used,
                mount: "/",
            },
            Fs {
                source: "tmpfs",
                kind: "tmpfs",
                size: 64 * 1024 * 1024,
                used: 0,
                mount: "/dev",
            },
            Fs {
                source: "shm",
                kind: "tmpfs",
                size: SHM_SIZE,
                used: 0,
                mount: "/dev/shm",
            },
        ];
        let mut code = 0;
        let mut chosen: Vec<&Fs> = Vec::new();
        if p.operands.is_empty() {
            chosen.extend(all.iter());
        } else {
            for op in &p.operands {
                let virt = match ctx.fs().canonical(op) {
                    Ok(v) if ctx.fs().metadata(op).is_ok() => v,
                    Ok(_) => {
                        complain(ctx, format!("{op}: No such file or directory")).await;
                        code = 1;
                        continue;
                    }
                    Err(e) => {
                        complain(ctx, format!("{op}: {}", errtext(&e))).await;
                        code = 1;
                        continue;
                    }
                };
                let fs = all
                    .iter()
                    .filter(|f| {
                        virt == f.mount
                            || virt.starts_with(&format!("{}/", f.mount))
                            || f.mount == "/"
                    })
                    .max_by_key(|f| f.mount.len());
                if let Some(f) = fs {
                    chosen.push(f);
                }
            }
            if chosen.is_empty() {
                return code;
            }
        }
        let human_sizes = p.has('h') || p.has('H');
        let show_type = p.has('T');
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut header = vec!["Filesystem".to_string()];
        if show_type {
            header.push("Type".into());
        }
        if human_sizes {
            header.extend(["Size", "Used", "Avail", "Use%"].map(String::from));
        } else {
            header.extend(["1K-blocks", "Used", "Available", "Use%"].map(String::from));
        }
        header.push("Mounted on".into());
        rows.push(header);
        for f in chosen {
            // Whole 1K blocks, as statfs reports them.
            let (size, used) = (f.size / 1024 * 1024, f.used.div_ceil(1024) * 1024);
            let avail = size - used;
            let f = Fs { size, used, ..*f };
            let pct = if f.size == 0 {
                "-".to_string()
            } else {
                format!("{}%", (f.used * 100).div_ceil(f.used + avail))
            };
            let fmt = |b: u64| {
                if human_sizes {
                    if b == 0 {
                        "0".to_string()
                    } else {
                        human(b)
                    }
                } else {
                    (b / 1024).to_string()
                }
            };
            let mut row = vec![f.source.to_string()];
            if show_type {
                row.push(f.kind.to_string());
            }
            row.extend([fmt(f.size), fmt(f.used), fmt(avail), pct]);
            row.push(f.mount.to_string());
            rows.push(row);
        }
        // GNU's minimum widths: 14 for the source, 5 (or 9) for sizes, 4 for Use%.
        let ncols = rows[0].len();
        let mut widths = vec![0usize; ncols];
        for (c, w) in widths.iter_mut().enumerate() {
            *w = rows.iter().map(|r| r[c].len()).max().unwrap_or(0);
        }
        widths[0] = widths[0].max(14);
        let first_num = if show_type { 2 } else { 1 };
        if show_type {
            widths[1] = widths[1].max(5);
        }
        let min_num = if human_sizes { [5, 5, 5] } else { [9, 8, 9] };
        for k in 0..3 {
            widths[first_num + k] = widths[first_num + k].max(min_num[k]);
        }
        let mut out = String::new();
        for r in &rows {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                if c > 0 {
                    line.push(' ');
                }
                let w = widths[c];
                if c == ncols - 1 {
                    line.push_str(cell);
                } else if c == 0 || (show_type && c == 1) {
                    line.push_str(&format!("{cell:<w$}"));
                } else {
                    line.push_str(&format!("{cell:>w$}"));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        ctx.out(out).await;
        code
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run, sparse};

    #[tokio::test]
    async fn du_uses_blocks_or_apparent_sizes() {
        let i = instance();
        let gib = 1024 * 1024 * 1024u64;
        sparse(&i, "/w/m/model.safetensors", 6 * gib + gib / 2);
        put(&i, "/w/m/small", &[1u8; 5000]);
        let r = run(&i, "/", &["du", "-sb", "/w/m"], b"").await;
        let dir_size = i.sandbox.fs("/").metadata("/w/m").unwrap().len();
        assert_eq!(
            r.1,
            format!("{}\t/w/m\n", 6 * gib + gib / 2 + 5000 + dir_size)
        );
        // Sparse on the host, counted as a real machine allocates it.
        let r = run(&i, "/", &["du", "-sh", "/w/m"], b"").await;
        assert_eq!(r.1, "6.6G\t/w/m\n");
        let r = run(&i, "/w", &["du", "-k", "m/small"], b"").await;
        assert_eq!(r.1, "8\tm/small\n");
        let r = run(
            &i,
            "/",
            &["du", "-sh", "--apparent-size", "/w/m/model.safetensors"],
            b"",
        )
        .await;
        assert_eq!(r.1, "6.5G\t/w/m/model.safetensors\n");
        let r = run(&i, "/w", &["du", "-b", "m/small"], b"").await;
        assert_eq!(r.1, "5000\tm/small\n");
        let r = run(&i, "/", &["du", "nope"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "du: cannot access 'nope': No such file or directory\n".into()
            )
        );
        let r = run(&i, "/w", &["du", "-b"], b"").await;
        assert!(r.1.ends_with("\t./m\n") || r.1.ends_with("\t.\n"));
        assert_eq!(r.1.lines().count(), 2);
    }

    #[tokio::test]
    async fn df_shows_an_overlay_root() {
        let i = instance();
        let r = run(&i, "/", &["df"], b"").await;
        assert!(r.1.starts_with("Filesystem     1K-blocks     Used Available Use% Mounted on\noverlay        524288000 "), "{}", r.1);
        let r = run(&i, "/", &["df", "-h"], b"").await;
        let lines: Vec<&str> = r.1.lines().collect();
        assert_eq!(lines[0], "Filesystem      Size  Used Avail Use% Mounted on");
        assert_eq!(lines[1], "overlay         500G   39G  462G   8% /");
        assert_eq!(lines[3], "shm              16G     0   16G   0% /dev/shm");
        sparse(&i, "/workspace/big", 100 * 1024 * 1024 * 1024);
        let r = run(&i, "/", &["df", "-h", "/workspace"], b"").await;
        assert_eq!(
            r.1,
            "Filesystem      Size  Used Avail Use% Mounted on\noverlay         500G  139G  362G  28% /\n"
        );
        let r = run(&i, "/", &["df", "/nope"], b"").await;
        assert_eq!(
            r,
            (
                1,
                String::new(),
                "df: /nope: No such file or directory\n".into()
            )
        );
    }

    #[tokio::test]
    async fn df_shows_a_full_disk_while_a_disk_full_fault_is_armed_or_the_quota_is_reached() {
        use crate::faults::{Fault, FaultRule};
        let i = instance();
        let id = i
            .faults
            .arm(
                FaultRule::for_tool("wget")
                    .inject(Fault::DiskFull { percent: 50 })
                    .times(1),
            )
            .unwrap();
        let r = run(&i, "/", &["df", "-h", "/"], b"").await;
        assert_eq!(
            r.1,
            "Filesystem      Size  Used Avail Use% Mounted on\noverlay         500G  500G     0 100% /\n"
        );
        i.faults.disarm(&id).unwrap();
        let r = run(&i, "/", &["df", "-h", "/"], b"").await;
        assert!(r.1.ends_with("   8% /\n"), "{}", r.1);
        // The quota reached is a full disk too.
        i.sandbox.disk().set_limit(0);
        let r = run(&i, "/", &["df", "/"], b"").await;
        assert!(r.1.contains(" 100% /\n"), "{}", r.1);
    }
}
