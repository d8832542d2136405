//! What a clone leaves on disk (`.git/` with HEAD, config, refs,
//! packed-refs, a sparse pack of the pack's size, `shallow`; the checked-out
//! files of a ComfyUI custom node), and reading it back for the other
//! subcommands (which branch, which remote, which commit).

use std::io;

use crate::net::git::Repo;
use crate::program::Ctx;
use crate::tools::files;

/// A clone's choices that shape its tree.
pub(super) struct Layout<'a> {
    pub(super) url: &'a str,
    pub(super) branch: &'a str,
    pub(super) single_branch: bool,
    pub(super) depth: Option<u64>,
    pub(super) pack_size: u64,
    pub(super) objects: u64,
    pub(super) unix: i64,
}

fn join(dir: &str, rel: &str) -> String {
    format!("{}/{rel}", dir.trim_end_matches('/'))
}

/// The `[core]` section `git init` writes.
const CORE: &str = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n";

/// The checked-out files of `repo` (path, content).
pub(super) fn worktree(repo: &Repo, url: &str) -> Vec<(String, String)> {
    let name = &repo.name;
    let class = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("comfyui"))
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>();
    let class = if class.is_empty() {
        "CustomNode".to_string()
    } else {
        class
    };
    let clean = url.rsplit('@').next().unwrap_or(url);
    let clean = if url.contains('@') && url.contains("://") {
        format!("{}://{clean}", url.split("://").next().unwrap_or("https"))
    } else {
        url.to_string()
    };
    let mut files = vec![
        (
            "README.md".to_string(),
            format!(
                "# {name}\n\nCustom nodes for [ComfyUI](https://github.com/comfyanonymous/ComfyUI) by {}.\n\n## Installation\n\n```bash\ncd ComfyUI/custom_nodes\ngit clone {clean}\npip install -r {name}/requirements.txt\n```\n\nRestart ComfyUI: the nodes appear under `{name}`.\n",
                repo.owner
            ),
        ),
        (
            "requirements.txt".to_string(),
            "numpy\npillow\nsafetensors\ntqdm\nhuggingface-hub\n".to_string(),
        ),
        (
            "__init__.py".to_string(),
            "from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS\n\n__all__ = [\"NODE_CLASS_MAPPINGS\", \"NODE_DISPLAY_NAME_MAPPINGS\"]\n".to_string(),
        ),
        (
            "nodes.py".to_string(),
            format!(
                "import torch\n\n\nclass {class}:\n    @classmethod\n    def INPUT_TYPES(cls):\n        return {{\"required\": {{\"image\": (\"IMAGE\",)}}}}\n\n    RETURN_TYPES = (\"IMAGE\",)\n    FUNCTION = \"run\"\n    CATEGORY = \"{name}\"\n\n    def run(self, image):\n        return (image,)\n\n\nNODE_CLASS_MAPPINGS = {{\"{class}\": {class}}}\nNODE_DISPLAY_NAME_MAPPINGS = {{\"{class}\": \"{name}\"}}\n"
            ),
        ),
        (
            "LICENSE".to_string(),
            format!(
                "MIT License\n\nCopyright (c) 2024 {}\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, sublicense, and/or sell\ncopies of the Software, and to permit persons to whom the Software is\nfurnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND.\n",
                repo.owner
            ),
        ),
    ];
    for (p, c) in &repo.files {
        files.retain(|(q, _)| q != p);
        files.push((p.clone(), c.clone()));
    }
    files
}

/// Writes the whole clone into `dir` (which exists).
pub(super) fn write_clone(ctx: &Ctx, dir: &str, repo: &Repo, l: &Layout) -> io::Result<()> {
    let git = join(dir, ".git");
    for d in [
        "refs/heads",
        "refs/tags",
        "refs/remotes/origin",
        "objects/pack",
        "objects/info",
        "info",
        "logs/refs/heads",
        "logs/refs/remotes/origin",
        "branches",
        "hooks",
    ] {
        files::create_dir_all(ctx, &join(&git, d))?;
    }
    let head = repo.commit(l.branch);
    let w = |rel: &str, text: &str| files::write(ctx, &join(&git, rel), text.as_bytes());
    w("HEAD", &format!("ref: refs/heads/{}\n", l.branch))?;
    w(
        "description",
        "Unnamed repository; edit this file 'description' to name the repository.\n",
    )?;
    let fetch = if l.single_branch {
        format!("+refs/heads/{0}:refs/remotes/origin/{0}", l.branch)
    } else {
        "+refs/heads/*:refs/remotes/origin/*".to_string()
    };
    w(
        "config",
        &format!(
            "{CORE}[remote \"origin\"]\n\turl = {}\n\tfetch = {fetch}\n[branch \"{1}\"]\n\tremote = origin\n\tmerge = refs/heads/{1}\n",
            l.url, l.branch
        ),
    )?;
    let mut branches: Vec<&String> = if l.single_branch {
        repo.branches.iter().filter(|b| *b == l.branch).collect()
    } else {
        repo.branches.iter().collect()
    };
    branches.sort();
    let mut packed = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    for b in branches {
        packed.push_str(&format!("{} refs/remotes/origin/{b}\n", repo.commit(b)));
    }
    w("packed-refs", &packed)?;
    w(&format!("refs/heads/{}", l.branch), &format!("{head}\n"))?;
    if !l.single_branch {
        w(
            "refs/remotes/origin/HEAD",
            &format!("ref: refs/remotes/origin/{}\n", repo.default_branch),
        )?;
    }
    if l.depth.is_some() {
        w("shallow", &format!("{head}\n"))?;
    }
    w(
        "info/exclude",
        "# git ls-files --others --exclude-from=.git/info/exclude\n# Lines that start with '#' are comments.\n# For a project mostly in C, the following would be a good set of\n# exclude patterns (uncomment them if you want to use them):\n# *.[oa]\n# *~\n",
    )?;
    let log = format!(
        "0000000000000000000000000000000000000000 {head} root <root@{}> {} +0000\tclone: from {}\n",
        ctx.instance.config.hostname, l.unix, l.url
    );
    w("logs/HEAD", &log)?;
    w(&format!("logs/refs/heads/{}", l.branch), &log)?;
    let pack = crate::net::git::pack_name(&repo.key, l.pack_size);
    let pack_dir = join(&git, "objects/pack");
    files::create_sized(
        ctx,
        &join(&pack_dir, &format!("pack-{pack}.pack")),
        l.pack_size,
    )?;
    files::create_sized(
        ctx,
        &join(&pack_dir, &format!("pack-{pack}.idx")),
        1072 + l.objects.saturating_mul(28),
    )?;
    files::create_sized(
        ctx,
        &join(&pack_dir, &format!("pack-{pack}.rev")),
        64 + l.objects.saturating_mul(4),
    )?;
    let tree = worktree(repo, l.url);
    files::write(ctx, &join(&git, "index"), &index_bytes(tree.len()))?;
    for (path, text) in &tree {
        let p = join(dir, path);
        if let Some((parent, _)) = p.rsplit_once('/') {
            files::create_dir_all(ctx, parent)?;
        }
        files::write(ctx, &p, text.as_bytes())?;
    }
    Ok(())
}

/// A `.git/index` of the right look (`DIRC`, version 2, entry count).
fn index_bytes(entries: usize) -> Vec<u8> {
    let mut v = b"DIRC".to_vec();
    v.extend_from_slice(&2u32.to_be_bytes());
    v.extend_from_slice(&(entries as u32).to_be_bytes());
    v.resize(12 + entries * 72 + 20, 0);
    v
}

/// A repository found from the working directory.
pub(super) struct Found {
    /// The work tree's top (`/workspace/x`).
    pub(super) top: String,
    /// Its `.git` directory.
    pub(super) git: String,
}

impl Found {
    /// A file of `.git`, as text (empty when missing).
    pub(super) fn read(&self, ctx: &Ctx, rel: &str) -> String {
        files::read(ctx, &join(&self.git, rel))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Writes a file of `.git`.
    pub(super) fn write(&self, ctx: &Ctx, rel: &str, text: &str) -> io::Result<()> {
        let p = join(&self.git, rel);
        if let Some((parent, _)) = p.rsplit_once('/') {
            files::create_dir_all(ctx, parent)?;
        }
        files::write(ctx, &p, text.as_bytes())
    }

    /// HEAD's branch, `None` when detached.
    pub(super) fn branch(&self, ctx: &Ctx) -> Option<String> {
        self.read(ctx, "HEAD")
            .trim()
            .strip_prefix("ref: refs/heads/")
            .map(String::from)
    }

    /// The commit HEAD is at.
    pub(super) fn head(&self, ctx: &Ctx) -> Option<String> {
        let head = self.read(ctx, "HEAD");
        let head = head.trim();
        match head.strip_prefix("ref: ") {
            Some(r) => self.resolve(ctx, r),
            None => (!head.is_empty()).then(|| head.to_string()),
        }
    }

    /// A ref's commit (loose, then packed).
    pub(super) fn resolve(&self, ctx: &Ctx, r: &str) -> Option<String> {
        let loose = self.read(ctx, r);
        if !loose.trim().is_empty() {
            return Some(loose.trim().to_string());
        }
        self.packed(ctx)
            .into_iter()
            .find(|(_, name)| name == r)
            .map(|(h, _)| h)
    }

    /// `packed-refs` as (commit, ref) pairs.
    pub(super) fn packed(&self, ctx: &Ctx) -> Vec<(String, String)> {
        self.read(ctx, "packed-refs")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
            .filter_map(|l| l.split_once(' '))
            .map(|(h, r)| (h.to_string(), r.to_string()))
            .collect()
    }

    /// Local branches (sorted).
    pub(super) fn local_branches(&self, ctx: &Ctx) -> Vec<String> {
        let mut v = Vec::new();
        list_refs(ctx, &join(&self.git, "refs/heads"), "", &mut v);
        v.sort();
        v
    }

    /// Remote-tracking branches of origin (sorted, without HEAD).
    pub(super) fn remote_branches(&self, ctx: &Ctx) -> Vec<String> {
        let mut v: Vec<String> = self
            .packed(ctx)
            .into_iter()
            .filter_map(|(_, r)| r.strip_prefix("refs/remotes/origin/").map(String::from))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// `remote.origin.url` from the repository's config.
    pub(super) fn origin_url(&self, ctx: &Ctx) -> Option<String> {
        super::config::Ini::parse(&self.read(ctx, "config")).get("remote.origin.url")
    }
}

fn list_refs(ctx: &Ctx, dir: &str, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = ctx.fs().read_dir(dir) else {
        return;
    };
    for e in entries {
        let name = e.name_lossy();
        let full = format!("{prefix}{name}");
        if e.kind == crate::instance::sandbox::EntryKind::Dir {
            if out.len() < 10_000 {
                list_refs(ctx, &join(dir, &name), &format!("{full}/"), out);
            }
        } else {
            out.push(full);
        }
    }
}

/// The repository the working directory is in (`.git` here or above).
pub(super) fn find(ctx: &Ctx) -> Option<Found> {
    let mut dir = files::absolute(ctx, ".");
    loop {
        let git = join(&dir, ".git");
        if files::is_dir(ctx, &git) && files::exists(ctx, &join(&git, "HEAD")) {
            return Some(Found { top: dir, git });
        }
        match dir.rsplit_once('/') {
            Some(("", _)) if dir != "/" => dir = "/".into(),
            Some((parent, _)) if !parent.is_empty() => dir = parent.to_string(),
            _ => return None,
        }
    }
}
