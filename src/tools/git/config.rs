//! git's config files (`~/.gitconfig`, `.git/config`) read and written as
//! git writes them: `[section]` / `[section "sub"]` headers and tab-indented
//! `key = value` lines; and `git config` over them.

use crate::program::Ctx;
use crate::tools::files;

/// One config file's sections, in file order.
#[derive(Debug, Default)]
pub(super) struct Ini {
    sections: Vec<(String, Vec<(String, String)>)>,
}

/// `a.b.c` -> (`a "b"` header name, `c`); `a.c` -> (`a`, `c`).
fn split_key(key: &str) -> Option<(String, String)> {
    let (head, name) = key.rsplit_once('.')?;
    if head.is_empty() || name.is_empty() {
        return None;
    }
    let section = match head.split_once('.') {
        Some((s, sub)) => format!("{} \"{sub}\"", s.to_ascii_lowercase()),
        None => head.to_ascii_lowercase(),
    };
    Some((section, name.to_ascii_lowercase()))
}

/// A header line's section name (`remote "origin"`).
fn header(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?;
    Some(match inner.split_once(' ') {
        Some((s, sub)) => format!("{} {}", s.to_ascii_lowercase(), sub.trim()),
        None => inner.to_ascii_lowercase(),
    })
}

impl Ini {
    /// Parses a config file's text (comments and junk lines are dropped).
    pub(super) fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if let Some(h) = header(t) {
                ini.sections.push((h, Vec::new()));
            } else if let Some((_, entries)) = ini.sections.last_mut() {
                let (k, v) = t.split_once('=').unwrap_or((t, "true"));
                entries.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        ini
    }

    /// The last value of `key`.
    pub(super) fn get(&self, key: &str) -> Option<String> {
        let (s, k) = split_key(key)?;
        self.sections
            .iter()
            .filter(|(name, _)| *name == s)
            .flat_map(|(_, e)| e.iter())
            .filter(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
            .next_back()
    }

    /// Sets `key` (replacing its last value, or appending).
    pub(super) fn set(&mut self, key: &str, value: &str) -> bool {
        let Some((s, k)) = split_key(key) else {
            return false;
        };
        if let Some(e) = self
            .sections
            .iter_mut()
            .rev()
            .flat_map(|(name, e)| if *name == s { Some(e) } else { None })
            .flat_map(|e| e.iter_mut().rev())
            .find(|(name, _)| *name == k)
        {
            e.1 = value.to_string();
            return true;
        }
        match self.sections.iter_mut().rev().find(|(name, _)| *name == s) {
            Some((_, e)) => e.push((k, value.to_string())),
            None => self.sections.push((s, vec![(k, value.to_string())])),
        }
        true
    }

    /// Removes `key`; whether it was there.
    pub(super) fn unset(&mut self, key: &str) -> bool {
        let Some((s, k)) = split_key(key) else {
            return false;
        };
        let mut found = false;
        for (name, e) in &mut self.sections {
            if *name == s {
                let before = e.len();
                e.retain(|(n, _)| *n != k);
                found |= e.len() != before;
            }
        }
        found
    }

    /// `section.key=value` lines, as `git config --list` prints them.
    pub(super) fn list(&self) -> String {
        let mut out = String::new();
        for (s, entries) in &self.sections {
            let prefix = match s.split_once(' ') {
                Some((a, sub)) => format!("{a}.{}", sub.trim_matches('"')),
                None => s.clone(),
            };
            for (k, v) in entries {
                out.push_str(&format!("{prefix}.{k}={v}\n"));
            }
        }
        out
    }

    /// The file text, as git writes it.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        for (s, entries) in &self.sections {
            if entries.is_empty() {
                continue;
            }
            out.push_str(&format!("[{s}]\n"));
            for (k, v) in entries {
                out.push_str(&format!("\t{k} = {v}\n"));
            }
        }
        out
    }
}

/// `git config [--global|--local] [--get|--list|--unset] KEY [VALUE]`;
/// `git_dir` is the repository's `.git` when the command runs in one.
pub(super) async fn run(ctx: &Ctx, args: &[String], git_dir: Option<String>) -> i32 {
    let mut global = false;
    let mut action = "";
    let mut rest: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "--global" => global = true,
            "--local" | "--system" => {}
            "--get" | "--list" | "-l" | "--unset" | "--get-all" => action = a.as_str(),
            "--add" | "--replace-all" | "--bool" | "--int" => {}
            o if o.starts_with('-') => {
                ctx.err(format!(
                    "error: unknown option `{}'\n",
                    o.trim_start_matches('-')
                ))
                .await;
                return 129;
            }
            o => rest.push(o),
        }
    }
    let home = ctx
        .env
        .get("HOME")
        .cloned()
        .unwrap_or_else(|| "/root".into());
    let global_path = format!("{}/.gitconfig", home.trim_end_matches('/'));
    let read = |p: &str| {
        files::read(ctx, p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let reading = rest.len() < 2 && action != "--unset";
    let path = match (global, &git_dir) {
        (true, _) => global_path.clone(),
        (false, Some(g)) => format!("{g}/config"),
        // Reading outside a repository sees the user's config, as git does.
        (false, None) if reading => global_path.clone(),
        (false, None) => {
            ctx.err("fatal: not in a git directory\n").await;
            return 128;
        }
    };
    // Without --global a read sees the user's file, then the repository's.
    let text = if !global && reading && path != global_path {
        format!("{}\n{}", read(&global_path), read(&path))
    } else {
        read(&path)
    };
    let mut ini = Ini::parse(&text);
    let key = rest.first().copied().unwrap_or("");
    if matches!(action, "--list" | "-l") {
        ctx.out(ini.list()).await;
        return 0;
    }
    if key.is_empty() {
        ctx.err("error: no action specified\n").await;
        return 129;
    }
    if split_key(key).is_none() {
        ctx.err(format!("error: key does not contain a section: {key}\n"))
            .await;
        return 1;
    }
    let write = |ini: &Ini| files::write(ctx, &path, ini.render().as_bytes());
    match (action, rest.get(1)) {
        ("--unset", _) => {
            if !ini.unset(key) {
                return 5;
            }
            if write(&ini).is_err() {
                ctx.err(format!(
                    "error: could not lock config file {path}: No such file or directory\n"
                ))
                .await;
                return 255;
            }
            0
        }
        ("", Some(value)) => {
            ini.set(key, value);
            if write(&ini).is_err() {
                ctx.err(format!(
                    "error: could not lock config file {path}: No such file or directory\n"
                ))
                .await;
                return 255;
            }
            0
        }
        _ => match ini.get(key) {
            Some(v) => {
                ctx.out(format!("{v}\n")).await;
                0
            }
            None => 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_land_in_their_sections() {
        let mut ini = Ini::parse("[user]\n\tname = A\n");
        ini.set("user.email", "a@b");
        ini.set("user.name", "B");
        ini.set("remote.origin.url", "https://x/y");
        assert_eq!(
            ini.render(),
            "[user]\n\tname = B\n\temail = a@b\n[remote \"origin\"]\n\turl = https://x/y\n"
        );
        assert_eq!(ini.get("remote.origin.url").as_deref(), Some("https://x/y"));
        assert!(ini.list().contains("remote.origin.url=https://x/y\n"));
        assert!(ini.unset("user.email"));
        assert_eq!(ini.get("user.email"), None);
    }
}
