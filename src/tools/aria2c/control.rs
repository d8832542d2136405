//! The `.aria2` control file next to a download, in aria2's version-1
//! layout (big-endian): version, extension, info hash length (0 for
//! HTTP), piece length, total length, upload length, the bitfield of
//! finished pieces and the in-flight pieces (none). It exists while the
//! download runs and stays behind when it fails, so a rerun resumes.

use crate::program::Ctx;
use crate::tools::files;

/// aria2's piece length for HTTP downloads (1 MiB).
const PIECE: u64 = 1024 * 1024;

/// The control file of `path`.
pub(super) fn path_of(path: &str) -> String {
    format!("{path}.aria2")
}

/// The bytes of a control file for `total` bytes with the first `done` finished.
fn encode(total: u64, done: u64) -> Vec<u8> {
    let pieces = total.div_ceil(PIECE);
    let finished = if done >= total { pieces } else { done / PIECE };
    let bitfield_len = pieces.div_ceil(8);
    let mut bits = vec![0u8; bitfield_len.min(1 << 24) as usize];
    for i in 0..finished.min(bits.len() as u64 * 8) {
        bits[(i / 8) as usize] |= 0x80 >> (i % 8);
    }
    let mut v = Vec::with_capacity(40 + bits.len());
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&(PIECE as u32).to_be_bytes());
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&0u64.to_be_bytes());
    v.extend_from_slice(&(bits.len() as u32).to_be_bytes());
    v.extend_from_slice(&bits);
    v.extend_from_slice(&0u32.to_be_bytes());
    v
}

/// The finished prefix a control file records for a `total`-byte
/// download; `None` when it is unreadable or for another length.
fn decode(data: &[u8], total: u64) -> Option<u64> {
    let u32_at = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(data.get(i..i + 4)?.try_into().ok()?))
    };
    let piece = u64::from(u32_at(10)?);
    let len = u64::from_be_bytes(data.get(14..22)?.try_into().ok()?);
    if piece == 0 || len != total {
        return None;
    }
    let n = u32_at(30)? as usize;
    let bits = data.get(34..34 + n)?;
    let mut finished = 0u64;
    'outer: for b in bits {
        for k in 0..8 {
            if b & (0x80 >> k) == 0 {
                break 'outer;
            }
            finished += 1;
        }
    }
    Some(finished.saturating_mul(piece).min(total))
}

/// Writes (or rewrites) the control file of `path`.
pub(super) fn save(ctx: &Ctx, path: &str, total: u64, done: u64) {
    let _ = files::write(ctx, &path_of(path), &encode(total, done));
}

/// Whether `path` has a control file.
pub(super) fn exists(ctx: &Ctx, path: &str) -> bool {
    files::exists(ctx, &path_of(path))
}

/// What the control file of `path` says is done of `total` bytes.
pub(super) fn load(ctx: &Ctx, path: &str, total: u64) -> Option<u64> {
    decode(&files::read(ctx, &path_of(path)).ok()?, total)
}

/// Removes the control file (the download is complete).
pub(super) fn remove(ctx: &Ctx, path: &str) {
    let _ = ctx.fs().remove_file(&path_of(path));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_files_round_trip_their_finished_prefix() {
        let total = 10 * PIECE + 5;
        assert_eq!(
            decode(&encode(total, 3 * PIECE + 7), total),
            Some(3 * PIECE)
        );
        assert_eq!(decode(&encode(total, total), total), Some(total));
        assert_eq!(decode(&encode(total, 0), total), Some(0));
        assert_eq!(decode(&encode(total, 0), total + 1), None);
        assert_eq!(decode(b"junk", total), None);
    }
}
