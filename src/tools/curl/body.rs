//! What a body holds. Binary files are zeros (the content of the sparse
//! file a download leaves, so `curl URL | sha256sum` and `curl -o f URL;
//! sha256sum f` agree); text types (JSON, HTML, plain text, YAML) of up to
//! [`MAX_TEXT`] bytes are plausible text of exactly their size, derived
//! from the file name, the same on stdout and in the file.

/// The largest body synthesized as text; bigger ones are zeros.
const MAX_TEXT: u64 = 4 * 1024 * 1024;

const WORDS: &[&str] = &[
    "model",
    "weights",
    "checkpoint",
    "lora",
    "detail",
    "prompt",
    "sampler",
    "steps",
    "seed",
    "latent",
    "vae",
    "clip",
    "unet",
    "scheduler",
    "euler",
    "karras",
    "denoise",
    "cfg",
    "width",
    "height",
    "batch",
    "node",
    "workflow",
    "image",
    "output",
    "input",
    "tensor",
    "float16",
];

/// The kind of text a content type stands for.
fn kind(ctype: &str) -> Option<&'static str> {
    let c = ctype.to_ascii_lowercase();
    if c.contains("json") {
        Some("json")
    } else if c.contains("html") {
        Some("html")
    } else if c.starts_with("text/") || c.contains("yaml") || c.contains("xml") {
        Some("plain")
    } else {
        None
    }
}

/// Words, deterministic from `seed`, until `len` bytes.
fn words(seed: u64, len: usize, lines: bool) -> String {
    let mut s = String::with_capacity(len + 16);
    let mut h = seed | 1;
    let mut n = 0usize;
    while s.len() < len {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        if n > 0 {
            s.push(if lines && n.is_multiple_of(12) {
                '\n'
            } else {
                ' '
            });
        }
        s.push_str(WORDS[(h % WORDS.len() as u64) as usize]);
        n += 1;
    }
    s.truncate(len);
    s
}

/// `head`, filler, `tail` in exactly `size` bytes (the filler shrinks; a
/// body too small for the frame is filler alone).
fn framed(head: &str, tail: &str, seed: u64, size: usize) -> Vec<u8> {
    let frame = head.len() + tail.len();
    if size < frame {
        return words(seed, size, false).into_bytes();
    }
    let mut s = String::with_capacity(size);
    s.push_str(head);
    s.push_str(&words(seed, size - frame, false));
    s.push_str(tail);
    s.into_bytes()
}

/// The body of a text file `name` of `size` bytes, `None` for binary types or big files.
pub(super) fn text(name: &str, ctype: &str, size: u64) -> Option<Vec<u8>> {
    let kind = kind(ctype)?;
    if size > MAX_TEXT {
        return None;
    }
    let n = size as usize;
    let seed = crate::net::fnv1a(&[name.as_bytes()]);
    let stem = name.split('?').next().unwrap_or(name);
    let stem: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    Some(match kind {
        "json" => framed(
            &format!("{{\"name\":\"{stem}\",\"text\":\""),
            "\"}\n",
            seed,
            n,
        ),
        "html" => framed(
            &format!("<!DOCTYPE html>\n<html><head><title>{stem}</title></head><body><p>"),
            "</p></body></html>\n",
            seed,
            n,
        ),
        _ => {
            let mut t = words(seed, n, true).into_bytes();
            if let Some(last) = t.last_mut() {
                *last = b'\n';
            }
            t
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bodies_have_their_exact_size_and_binary_ones_none() {
        for n in [0u64, 1, 5, 40, 1000, 100_000] {
            for t in ["application/json", "text/html", "text/plain"] {
                assert_eq!(text("config.json", t, n).unwrap().len() as u64, n);
            }
        }
        let j = String::from_utf8(text("config.json", "application/json", 200).unwrap()).unwrap();
        assert!(j.starts_with("{\"name\":\"config.json\",\"text\":\"") && j.ends_with("\"}\n"));
        assert_eq!(j.matches('\n').count(), 1);
        assert!(text("a.bin", "application/octet-stream", 10).is_none());
        assert!(text("a.txt", "text/plain", MAX_TEXT + 1).is_none());
    }
}
