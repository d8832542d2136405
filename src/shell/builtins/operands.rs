//! What the file utilities share about their operands: GNU's missing-operand
//! diagnostic, the `SOURCE... DEST` split with `-t DIR`, and the directory
//! checks made on a destination.

use std::path::Path;

use super::common::{base_name, child, complain, quote, Parsed};
use crate::program::Ctx;

/// GNU's `missing operand` diagnostic with its `--help` hint; returns 1.
pub(super) async fn missing_operand(ctx: &Ctx, after: Option<&str>) -> i32 {
    let msg = match after {
        None => "missing operand".to_string(),
        Some(f) => format!("missing destination file operand after {}", quote(ctx, f)),
    };
    complain(ctx, msg).await;
    ctx.err(format!(
        "Try '{} --help' for more information.\n",
        ctx.name()
    ))
    .await;
    1
}

/// The `SOURCE... DEST` form of `cp` and `mv`, checked as GNU does: each
/// source with the path it goes to (inside DEST when DEST is a directory).
/// `Err` holds the exit status after the diagnostic.
pub(super) async fn source_targets(ctx: &Ctx, p: &Parsed) -> Result<Vec<(String, String)>, i32> {
    let Some((srcs, dest, into)) = sources_and_dest(p) else {
        return Err(missing_operand(ctx, None).await);
    };
    if srcs.is_empty() {
        return Err(missing_operand(ctx, Some(&dest)).await);
    }
    let dest_is_dir = !p.has('T') && (into || is_dir(ctx, &dest));
    if srcs.len() > 1 && !dest_is_dir {
        let msg = format!("target {} is not a directory", quote(ctx, &dest));
        complain(ctx, msg).await;
        return Err(1);
    }
    let target = |s: &str| {
        if dest_is_dir {
            child(&dest, &base_name(s))
        } else {
            dest.clone()
        }
    };
    Ok(srcs
        .into_iter()
        .map(|s| {
            let t = target(&s);
            (s, t)
        })
        .collect())
}

/// Splits operands into sources and a destination, honouring `-t DIR`.
fn sources_and_dest(p: &Parsed) -> Option<(Vec<String>, String, bool)> {
    if let Some(t) = p.value('t') {
        return Some((p.operands.clone(), t.to_string(), true));
    }
    let (dest, srcs) = p.operands.split_last()?;
    Some((srcs.to_vec(), dest.clone(), false))
}

/// Whether a path names an existing directory (following links).
pub(super) fn is_dir(ctx: &Ctx, path: &str) -> bool {
    ctx.fs().is_dir(path)
}

/// Whether instance path `inner` is `outer` or lies below it.
pub(super) fn is_within(inner: &str, outer: &str) -> bool {
    Path::new(inner).starts_with(outer)
}
