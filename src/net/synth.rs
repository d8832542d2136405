//! Synthetic answers for URLs and models the catalog does not pin: names,
//! digests and sizes derived from a stable hash, so every run agrees.

use super::response::ext_of;

/// Adjectives of synthetic model names.
pub(crate) const ADJ: &[&str] = &[
    "Detail",
    "Velvet",
    "Crystal",
    "Neon",
    "Golden",
    "Midnight",
    "Ethereal",
    "Vivid",
    "Silent",
    "Retro",
    "Cinematic",
    "Dreamy",
    "Pastel",
    "Gothic",
    "Solar",
    "Misty",
    "Analog",
    "Epic",
    "Soft",
    "Hyper",
];
/// Nouns of synthetic model names.
pub(crate) const NOUN: &[&str] = &[
    "Tweaker",
    "Portrait",
    "Landscape",
    "Anime",
    "Realism",
    "Ink",
    "Watercolor",
    "Pixel",
    "Lighting",
    "Fantasy",
    "Cyberpunk",
    "Sketch",
    "Armor",
    "Bloom",
    "Forest",
    "Style",
    "Mecha",
    "Noir",
    "Skin",
    "Eyes",
];

/// One entry of `list`, chosen by the hash.
pub(crate) fn pick<'a>(list: &[&'a str], h: u64) -> &'a str {
    list[(h % list.len() as u64) as usize]
}

/// `len` hex digits grown from the hash (digests, signatures).
pub(crate) fn hex(h: u64, len: usize) -> String {
    let mut s = String::new();
    let mut x = h;
    while s.len() < len {
        s.push_str(&format!("{x:016x}"));
        x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17) ^ h;
    }
    s.truncate(len);
    s
}

/// A value in `lo..hi` from the hash.
pub(crate) fn in_range(h: u64, lo: u64, hi: u64) -> u64 {
    lo + (h >> 7) % (hi - lo)
}

/// Whether Hugging Face stores a file of this name in LFS (and redirects to its CDN).
pub(crate) fn is_lfs(name: &str) -> bool {
    matches!(
        ext_of(name).as_str(),
        "safetensors"
            | "bin"
            | "ckpt"
            | "pt"
            | "pth"
            | "onnx"
            | "gguf"
            | "msgpack"
            | "h5"
            | "zip"
            | "gz"
            | "tar"
            | "npz"
    )
}

pub(crate) fn size_for(name: &str, path: &str, h: u64) -> u64 {
    let lower = path.to_ascii_lowercase();
    match ext_of(name).as_str() {
        "safetensors" | "ckpt" => {
            let lora = lower.contains("lora") || lower.contains("lycoris");
            let big = [
                "sd_xl",
                "sdxl",
                "flux",
                "checkpoint",
                "unet",
                "diffusion",
                "dreamshaper",
                "realistic",
                "v1-5",
            ]
            .iter()
            .any(|k| lower.contains(k));
            if lora {
                in_range(h, 9_000_000, 230_000_000)
            } else if big || h % 5 < 2 {
                in_range(h, 1_900_000_000, 6_900_000_000)
            } else {
                in_range(h, 9_000_000, 230_000_000)
            }
        }
        "pt" | "pth" => in_range(h, 20_000_000, 400_000_000),
        "bin" => in_range(h, 100_000_000, 2_000_000_000),
        "gguf" => in_range(h, 1_000_000_000, 8_000_000_000),
        "onnx" => in_range(h, 50_000_000, 500_000_000),
        "json" => in_range(h, 400, 6_000),
        "txt" | "md" | "yaml" | "yml" | "py" => in_range(h, 1_000, 20_000),
        "png" | "jpg" | "jpeg" | "webp" => in_range(h, 50_000, 3_000_000),
        "zip" | "gz" | "tar" | "tgz" => in_range(h, 10_000_000, 1_000_000_000),
        "html" | "" => in_range(h, 5_000, 60_000),
        _ => in_range(h, 10_000, 10_000_000),
    }
}
