//! Where civitdl puts things: directory names by its rule 1, joined paths,
//! and the hex digests it names and records files by.

use crate::net::fnv1a;

/// `DirName.replace_with_rule_1`: `< > : " / \ | ? *` -> `( ) , - & & & . &`, spaces collapsed.
pub(super) fn dir_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            '<' => '(',
            '>' => ')',
            ':' => ',',
            '"' => '-',
            '/' | '\\' | '|' | '*' => '&',
            '?' => '.',
            c => c,
        })
        .collect();
    let collapsed = mapped
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match collapsed.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => collapsed,
    }
}

/// `dir/name`, without doubling a trailing slash.
pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `len` hex digits grown from `seed` (upper case for the hashes civitdl records).
pub(super) fn hex_digest(seed: u64, len: usize, upper: bool) -> String {
    let mut s = String::new();
    let mut x = seed;
    while s.len() < len {
        x = fnv1a(&[&x.to_le_bytes()]);
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(len);
    if upper {
        s.to_ascii_uppercase()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_follow_rule_1() {
        assert_eq!(dir_name("A/B: C?  *x*"), "A&B, C. &x&");
    }
}
