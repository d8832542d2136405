//! The walk over one start point: depth-first, without following symlinks
//! (unless `-L`/`-H`), every entry resolved again inside the sandbox.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use super::eval::{eval, RunState, Visit};
use super::parse::{Expr, Follow, Globals};
use crate::program::Ctx;
use crate::shell::builtins::common::{errtext, quote};

/// Joins a child name onto a path as find prints it.
fn child_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// A directory entry waiting to be visited, or a directory to evaluate
/// after its children (with `-depth`). Paths are as find prints them, and
/// every look-up resolves them again inside the sandbox.
enum Item {
    Visit {
        path: String,
        depth: usize,
    },
    Post {
        path: String,
        depth: usize,
        meta: Metadata,
    },
}

/// Walks one start point; `Err` when stdout went away.
pub(super) async fn walk(
    ctx: &Ctx,
    start: &str,
    expr: &Expr,
    g: &Globals,
    st: &mut RunState,
) -> Result<i32, ()> {
    let mut code = 0;
    let fs = ctx.fs();
    let mut stack = vec![Item::Visit {
        path: start.to_string(),
        depth: 0,
    }];
    let mut seen: Vec<(u64, u64)> = Vec::new();
    while let Some(item) = stack.pop() {
        if st.quit {
            break;
        }
        let (path, depth, meta, post) = match item {
            Item::Post { path, depth, meta } => (path, depth, meta, true),
            Item::Visit { path, depth } => {
                // -H and -L follow the start point itself.
                let meta = if depth == 0 && g.follow != Follow::Never {
                    fs.metadata(&path)
                } else {
                    fs.symlink_metadata(&path)
                };
                let meta = match meta {
                    Ok(m) => m,
                    Err(e) => {
                        ctx.err(format!("find: {}: {}\n", quote(ctx, &path), errtext(&e)))
                            .await;
                        code = 1;
                        continue;
                    }
                };
                (path, depth, meta, false)
            }
        };
        // With -L, a link is replaced by what it points to (inside the sandbox).
        let (meta, link_target) = if !post && meta.file_type().is_symlink() {
            let target = fs
                .read_link(&path)
                .map(|t| t.to_string_lossy().into_owned())
                .ok();
            if g.follow == Follow::Always {
                match fs.metadata(&path) {
                    Ok(m) => (m, target),
                    Err(_) => (meta, target),
                }
            } else {
                (meta, target)
            }
        } else {
            (meta, None)
        };
        let in_range = depth >= g.mindepth;
        let descend = meta.is_dir() && g.maxdepth.is_none_or(|m| depth < m) && !post;
        if post || !g.depth_first || !descend {
            if in_range {
                st.prune = false;
                let v = Visit {
                    path: &path,
                    start,
                    meta: &meta,
                    fs,
                    depth,
                    link_target: link_target.clone(),
                };
                eval(expr, &v, st);
            }
            if st.out.len() >= 64 * 1024 && !ctx.out(std::mem::take(&mut st.out)).await {
                return Err(());
            }
            if post {
                continue;
            }
        }
        if !descend || (st.prune && !g.depth_first) {
            continue;
        }
        let id = (meta.dev(), meta.ino());
        if g.follow == Follow::Always {
            if seen.contains(&id) {
                ctx.err(format!(
                    "find: File system loop detected; {} is part of the same file system loop as {}.\n",
                    quote(ctx, &path),
                    quote(ctx, start)
                ))
                .await;
                code = 1;
                continue;
            }
            seen.push(id);
        }
        let mut names: Vec<String> = match fs.read_dir(&path) {
            Ok(r) => r.iter().map(|e| e.name_lossy()).collect(),
            Err(e) => {
                ctx.err(format!("find: {}: {}\n", quote(ctx, &path), errtext(&e)))
                    .await;
                code = 1;
                continue;
            }
        };
        names.sort();
        if g.depth_first {
            stack.push(Item::Post {
                path: path.clone(),
                depth,
                meta: meta.clone(),
            });
        }
        for name in names.into_iter().rev() {
            stack.push(Item::Visit {
                path: child_path(&path, &name),
                depth: depth + 1,
            });
        }
    }
    Ok(code)
}
