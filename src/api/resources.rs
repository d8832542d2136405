//! Resources: Markdown files under `--resources DIR` whose `Download`
//! section holds a ```bash block. Every command in it becomes one job:
//! lines ending in `\` are joined with the next, and a `#` comment naming
//! high or low noise tags the commands after it (`high-noise` /
//! `low-noise`) until the next comment.

use std::path::{Path, PathBuf};

use regex::Regex;

/// One command found in a resource, with the variant its comment gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceCommand {
    /// The shell command, continuation lines joined.
    pub command: String,
    /// `high-noise`, `low-noise` or none.
    pub variant_tag: Option<String>,
}

/// What a resource file holds for the queue.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Resource {
    /// The first level-1 heading (`# Title`), if any.
    pub title: Option<String>,
    /// The commands of the `Download` section, in order.
    pub commands: Vec<ResourceCommand>,
}

/// Why a resource path was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// The path leaves the resources directory (`..`, absolute, symlink).
    #[error("resource {0:?} is outside the resources directory")]
    Escape(String),
    /// Nothing is there.
    #[error("resource {0:?} not found")]
    NotFound(String),
    /// No file can have this name: a NUL byte, or a name too long.
    #[error("resource {0:?} is not a valid file name")]
    InvalidName(String),
    /// Something is there, but not a regular file.
    #[error("resource {0:?} is not a file")]
    NotAFile(String),
    /// The file (or the directory) could not be read.
    #[error("reading resource {path:?}: {source}")]
    Read {
        /// The path as requested.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The real path of `requested` inside `dir`, after following `..` and
/// symlinks; anything that ends up outside `dir` is [`ResourceError::Escape`].
pub fn resolve(dir: &Path, requested: &str) -> Result<PathBuf, ResourceError> {
    let read_err = |source| ResourceError::Read {
        path: requested.to_string(),
        source,
    };
    if requested.contains('\0') {
        return Err(ResourceError::InvalidName(requested.to_string()));
    }
    let root = dir.canonicalize().map_err(read_err)?;
    let joined = root.join(requested);
    // `..` may only be judged after symlinks are followed, so resolve first;
    // a missing file that would also be outside is still an escape.
    let real = match joined.canonicalize() {
        Ok(p) => p,
        // `a.md/x`: a file where a directory should be
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            if lexically_inside(&root, &joined) {
                return Err(ResourceError::NotFound(requested.to_string()));
            }
            return Err(ResourceError::Escape(requested.to_string()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidFilename => {
            return Err(ResourceError::InvalidName(requested.to_string()))
        }
        Err(e) => return Err(read_err(e)),
    };
    if !real.starts_with(&root) {
        return Err(ResourceError::Escape(requested.to_string()));
    }
    if !real.is_file() {
        return Err(ResourceError::NotAFile(requested.to_string()));
    }
    Ok(real)
}

fn lexically_inside(root: &Path, path: &Path) -> bool {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
}

/// Reads and parses the resource at `requested` under `dir`.
pub fn load(dir: &Path, requested: &str) -> Result<Resource, ResourceError> {
    let path = resolve(dir, requested)?;
    let text = std::fs::read_to_string(&path).map_err(|source| ResourceError::Read {
        path: requested.to_string(),
        source,
    })?;
    Ok(parse_markdown(&text))
}

/// A heading line: `## Text` (up to six `#`, then a space).
fn heading(line: &str) -> Option<(usize, String)> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None; // indented code, not a heading
    }
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &trimmed[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim().to_string();
    Some((level, text))
}

/// A fence opening or closing line: its marker (``` or ~~~, any longer
/// run) and info string.
fn fence(line: &str) -> Option<(String, String)> {
    let t = line.trim_start();
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = t.chars().take_while(|&c| c == ch).count();
    if n < 3 {
        return None;
    }
    Some((t[..n].to_string(), t[n..].trim().to_ascii_lowercase()))
}

fn is_shell_info(info: &str) -> bool {
    let lang = info.split([' ', '{', ',']).next().unwrap_or("");
    matches!(lang, "bash" | "sh" | "shell" | "zsh")
}

/// Parses a resource's Markdown: its title and the commands of every shell
/// block in its `Download` section (a heading whose text starts with
/// "download", any level, up to the next heading of the same or a higher
/// level).
pub fn parse_markdown(text: &str) -> Resource {
    let mut resource = Resource::default();
    let mut in_download: Option<usize> = None; // the section's heading level
    let mut open_fence: Option<(String, bool)> = None; // marker, is a shell block
    let mut block: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some((marker, shell)) = &open_fence {
            if let Some((close, info)) = fence(line) {
                if close.starts_with(marker.as_str()) && info.is_empty() {
                    if *shell && in_download.is_some() {
                        resource.commands.extend(block_commands(&block));
                    }
                    block.clear();
                    open_fence = None;
                    continue;
                }
            }
            block.push(line);
            continue;
        }
        if let Some((marker, info)) = fence(line) {
            open_fence = Some((marker, is_shell_info(&info)));
            continue;
        }
        if let Some((level, title)) = heading(line) {
            if level == 1 && resource.title.is_none() && !title.is_empty() {
                resource.title = Some(title.clone());
            }
            if in_download.is_some_and(|l| level <= l) {
                in_download = None;
            }
            if in_download.is_none() && title.to_ascii_lowercase().starts_with("download") {
                in_download = Some(level);
            }
        }
    }
    resource
}

fn variant_of(comment: &str) -> Option<String> {
    static HIGH: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static LOW: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let high = HIGH.get_or_init(|| Regex::new(r"(?i)\bhigh[\s_-]*noise").expect("regex"));
    let low = LOW.get_or_init(|| Regex::new(r"(?i)\blow[\s_-]*noise").expect("regex"));
    if high.is_match(comment) {
        Some("high-noise".into())
    } else if low.is_match(comment) {
        Some("low-noise".into())
    } else {
        None
    }
}

/// The commands of one shell block: `\` continuations joined, comments
/// setting the variant, blank lines skipped.
fn block_commands(lines: &[&str]) -> Vec<ResourceCommand> {
    let mut out = Vec::new();
    let mut variant: Option<String> = None;
    let mut pending = String::new();
    for raw in lines {
        let line = raw.trim();
        if pending.is_empty() {
            if line.is_empty() {
                continue;
            }
            if line.starts_with('#') {
                variant = variant_of(line);
                continue;
            }
        }
        let (part, continues) = match line.strip_suffix('\\') {
            Some(p) => (p.trim_end(), true),
            None => (line, false),
        };
        if !part.is_empty() {
            if !pending.is_empty() {
                pending.push(' ');
            }
            pending.push_str(part);
        }
        if !continues && !pending.is_empty() {
            out.push(ResourceCommand {
                command: std::mem::take(&mut pending),
                variant_tag: variant.clone(),
            });
        }
    }
    if !pending.is_empty() {
        out.push(ResourceCommand {
            command: pending,
            variant_tag: variant,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAN: &str = r#"# Wan 2.2 Lightning LoRA

Some text with a ```bash block that is not in the Download section:

```bash
rm -rf /
```

## Download

```bash
# High noise
civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" \
    "$UI_HOME"/models/Lora

# low-noise model
wget --progress=bar:force -P "$UI_HOME"/models/Lora \
  https://huggingface.co/x/y/resolve/main/low.safetensors
# VAE
wget -P "$UI_HOME"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors
```

```python
print("not a command")
```

### Download notes
```sh
echo nested
```

## Usage

```bash
echo "not a download"
```
"#;

    #[test]
    fn download_section_commands_are_joined_and_tagged() {
        let r = parse_markdown(WAN);
        assert_eq!(r.title.as_deref(), Some("Wan 2.2 Lightning LoRA"));
        let got: Vec<(&str, Option<&str>)> = r
            .commands
            .iter()
            .map(|c| (c.command.as_str(), c.variant_tag.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "civitdl \"https://civitai.com/models/1874099?modelVersionId=2169837\" \"$UI_HOME\"/models/Lora",
                    Some("high-noise")
                ),
                (
                    "wget --progress=bar:force -P \"$UI_HOME\"/models/Lora https://huggingface.co/x/y/resolve/main/low.safetensors",
                    Some("low-noise")
                ),
                (
                    "wget -P \"$UI_HOME\"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors",
                    None
                ),
                ("echo nested", None),
            ]
        );
    }

    #[test]
    fn no_download_section_means_no_commands() {
        let r = parse_markdown("# T\n\n## Install\n```bash\nwget x\n```\n");
        assert!(r.commands.is_empty());
        let r = parse_markdown("## Download\nNothing to see.\n");
        assert!(r.commands.is_empty());
        assert_eq!(r.title, None);
    }

    #[test]
    fn an_unclosed_fence_yields_no_commands() {
        let r = parse_markdown("## Download\n```bash\nwget a\n## Other\n");
        assert!(r.commands.is_empty(), "an unclosed block is not a block");
    }

    #[test]
    fn paths_stay_inside_the_resources_directory() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("res");
        std::fs::create_dir_all(dir.join("loras")).unwrap();
        std::fs::write(dir.join("loras/a.md"), "x").unwrap();
        std::fs::write(outer.path().join("secret.md"), "x").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret.md"), dir.join("link.md")).unwrap();

        assert!(resolve(&dir, "loras/a.md").is_ok());
        assert!(resolve(&dir, "loras/../loras/a.md").is_ok());
        for escape in [
            "../secret.md",
            "link.md",
            "/etc/passwd",
            "loras/../../secret.md",
            "../nope.md",
        ] {
            assert!(
                matches!(resolve(&dir, escape), Err(ResourceError::Escape(_))),
                "{escape}: {:?}",
                resolve(&dir, escape)
            );
        }
        assert!(matches!(
            resolve(&dir, "loras/b.md"),
            Err(ResourceError::NotFound(_))
        ));
        assert!(matches!(
            resolve(&dir, "loras"),
            Err(ResourceError::NotAFile(_))
        ));
    }

    #[test]
    fn impossible_names_are_the_clients_error_not_a_read_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "x").unwrap();
        let long = "x".repeat(300) + ".md";
        for (name, want) in [
            ("a\0.md", "InvalidName"),
            (long.as_str(), "InvalidName"),
            ("a.md/b.md", "NotFound"),
        ] {
            let got = resolve(dir.path(), name);
            let kind = match &got {
                Err(ResourceError::InvalidName(_)) => "InvalidName",
                Err(ResourceError::NotFound(_)) => "NotFound",
                _ => "other",
            };
            assert_eq!(kind, want, "{name:?}: {got:?}");
        }
    }
}
