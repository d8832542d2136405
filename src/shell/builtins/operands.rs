//! What the file utilities share about their operands: GNU's missing-operand
//! diagnostic, the `SOURCE... DEST` split with `-t DIR`, and the directory
//! checks made on a destination.

use std::path::Path;

use super::common::{complain, quote, Parsed};
use crate::program::Ctx;

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

/// Splits operands into sources and a destination, honouring `-t DIR`.
pub(super) fn sources_and_dest(p: &Parsed) -> Option<(Vec<String>, String, bool)> {
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
