//! Shell patterns (`*`, `?`, `[...]`) for pathname expansion, `case` and
//! `${x%pattern}`. In a pattern, a backslash makes the next char literal;
//! the expander escapes quoted text that way.

use regex::Regex;

use crate::instance::Sandbox;

/// Whether `pattern` has an unescaped glob character.
pub(super) fn has_magic(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// Escapes every glob character so `text` matches only itself.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Removes the escaping backslashes from a pattern with no magic left.
pub(super) fn unescape(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The regex body for a pattern; `*` and `?` never match `/` when `path` is set.
fn to_regex_body(pattern: &str, path: bool) -> String {
    let any = if path { "[^/]" } else { "." };
    let mut re = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                re.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 1;
            }
            '*' => re.push_str(&format!("{any}*")),
            '?' => re.push_str(any),
            '[' => {
                // A bracket expression, if it closes; else a literal `[`.
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '!' || chars[j] == '^') {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    re.push_str("\\[");
                } else {
                    let mut class = String::from("[");
                    let mut k = i + 1;
                    if chars[k] == '!' || chars[k] == '^' {
                        class.push('^');
                        k += 1;
                    }
                    while k < j {
                        let c = chars[k];
                        if c == '\\' || c == '[' || (c == ']' && k > i + 1) {
                            class.push('\\');
                        }
                        class.push(c);
                        k += 1;
                    }
                    class.push(']');
                    re.push_str(&class);
                    i = j;
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re
}

/// A compiled pattern matching whole strings.
pub(super) fn compile(pattern: &str, path: bool) -> Option<Regex> {
    Regex::new(&format!("^(?s:{})$", to_regex_body(pattern, path))).ok()
}

/// Whether `text` matches the whole `pattern` (as `case` does).
pub(super) fn matches(pattern: &str, text: &str) -> bool {
    compile(pattern, false).is_some_and(|re| re.is_match(text))
}

/// Expands a pathname pattern against the sandbox, relative to `cwd`.
/// Returns the sorted matches, spelled as the pattern spelled them; empty
/// when nothing matches (the caller then keeps the word as it was).
pub(super) fn expand_path(sandbox: &Sandbox, cwd: &str, pattern: &str) -> Vec<String> {
    let fs = sandbox.fs(cwd);
    let absolute = pattern.starts_with('/');
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    // Each candidate: (spelling, virtual dir it names).
    let mut candidates: Vec<(String, String)> = vec![if absolute {
        ("/".to_string(), "/".to_string())
    } else {
        (String::new(), cwd.to_string())
    }];
    for (idx, seg) in segments.iter().enumerate() {
        let last = idx + 1 == segments.len();
        let mut next = Vec::new();
        for (spelled, virt) in &candidates {
            let join = |name: &str| {
                if spelled.is_empty() {
                    name.to_string()
                } else if spelled.ends_with('/') {
                    format!("{spelled}{name}")
                } else {
                    format!("{spelled}/{name}")
                }
            };
            if !has_magic(seg) {
                let name = unescape(seg);
                let v = Sandbox::absolute(virt, &name);
                if last {
                    if fs.exists(&v) {
                        next.push((join(&name), v));
                    }
                } else {
                    next.push((join(&name), v));
                }
                continue;
            }
            let Some(re) = compile(seg, true) else {
                continue;
            };
            let Ok(entries) = fs.read_dir(virt) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .iter()
                .map(|e| e.name_lossy())
                .filter(|n| (!n.starts_with('.') || seg.starts_with('.')) && re.is_match(n))
                .collect();
            names.sort();
            for n in names {
                if !last && !fs.is_dir(&Sandbox::absolute(virt, &n)) {
                    continue;
                }
                next.push((join(&n), Sandbox::absolute(virt, &n)));
            }
        }
        candidates = next;
        if candidates.is_empty() {
            break;
        }
    }
    if pattern.ends_with('/') {
        for c in &mut candidates {
            c.0.push('/');
        }
    }
    candidates.into_iter().map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_patterns_match_whole_strings() {
        assert!(matches("*.safetensors", "model.safetensors"));
        assert!(!matches("*.safetensors", "model.ckpt"));
        assert!(matches("[ab]?c", "axc"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "x"));
    }

    #[test]
    fn path_patterns_list_the_sandbox() {
        let sb = Sandbox::temp().unwrap();
        let fs = sb.fs("/");
        fs.create_dir_all("/m/a").unwrap();
        fs.write("/m/a/x.safetensors", b"").unwrap();
        fs.write("/m/a/y.ckpt", b"").unwrap();
        fs.write("/m/.hidden.safetensors", b"").unwrap();
        assert_eq!(
            expand_path(&sb, "/", "/m/*/*.safetensors"),
            vec!["/m/a/x.safetensors"]
        );
        assert_eq!(
            expand_path(&sb, "/m", "a/*"),
            vec!["a/x.safetensors", "a/y.ckpt"]
        );
        assert!(expand_path(&sb, "/", "/m/*.nothing").is_empty());
    }
}
