//! The subcommands people run on a fresh clone: `log`, `rev-parse`,
//! `status`, `pull`/`fetch`, `remote`, `branch`, `checkout`/`switch`. They
//! read the clone's `.git` (branch, origin URL, refs) and ask the catalog for
//! the repository's history, so every answer is deterministic.

use super::tree::{find, Found};
use super::Git;
use crate::net::git::{Commit, Repo};

const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[m";

/// git's advice on entering a detached HEAD.
const DETACHED: &str = "You are in 'detached HEAD' state. You can look around, make experimental\nchanges and commit them, and you can discard any commits you make in this\nstate without impacting any branches by switching back to a branch.\n\nIf you want to create a new branch to retain commits you create, you may\ndo so (now or later) by using -c with the switch command. Example:\n\n  git switch -c <new-branch-name>\n\nOr undo this operation with:\n\n  git switch -\n\nTurn off this advice by setting config variable advice.detachedHead to false\n";

/// `ambiguous argument` as git words it (exit 128).
fn ambiguous(arg: &str) -> String {
    format!("fatal: ambiguous argument '{arg}': unknown revision or path not in the working tree.\nUse '--' to separate paths from revisions, like this:\n'git <command> [<revision>...] -- [<file>...]'\n")
}

/// The 7-character abbreviation (whatever a ref file holds).
fn abbreviated(hash: &str) -> String {
    hash.chars().take(7).collect()
}

fn date_default(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%a %b %-d %H:%M:%S %Y +0000").to_string())
        .unwrap_or_default()
}

fn date_iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S +0000").to_string())
        .unwrap_or_default()
}

fn date_strict(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `%ar`: `3 days ago`, `5 months ago`, `2 years, 1 month ago`.
fn relative(t: i64, now: i64) -> String {
    let d = (now - t).max(0);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("{n} {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let ago = |s: String| format!("{s} ago");
    match d {
        d if d < 90 => ago(plural(d, "second")),
        d if d < 90 * 60 => ago(plural((d + 30) / 60, "minute")),
        d if d < 36 * 3600 => ago(plural((d + 1800) / 3600, "hour")),
        d if d < 14 * 86400 => ago(plural((d + 43200) / 86400, "day")),
        d if d < 70 * 86400 => ago(plural((d + 302_400) / 604_800, "week")),
        d if d < 365 * 86400 => ago(plural((d + 1_296_000) / 2_592_000, "month")),
        d => {
            let years = d / 31_536_000;
            let months = (d - years * 31_536_000 + 1_296_000) / 2_592_000;
            if months > 0 && years < 5 {
                ago(format!(
                    "{}, {}",
                    plural(years, "year"),
                    plural(months, "month")
                ))
            } else {
                ago(plural(years, "year"))
            }
        }
    }
}

/// Where `hash` sits in `repo`'s history: (branch, commits back from its
/// head). A shallow clone's history ends at its `edge`.
fn locate(repo: &Repo, hash: &str, edge: &str) -> Option<(String, u64)> {
    if hash.len() < 4 {
        return None;
    }
    let depth = if edge.is_empty() {
        repo.history_len()
    } else {
        1000
    };
    for b in &repo.branches {
        for i in 0..depth {
            let c = repo.commit_at(b, i);
            if c.hash.starts_with(hash) {
                return Some((b.clone(), i));
            }
            if !edge.is_empty() && c.hash == edge {
                break;
            }
        }
    }
    None
}

/// The clone's state as the porcelain needs it.
struct State {
    found: Found,
    branch: Option<String>,
    head: String,
    url: String,
    repo: Option<Repo>,
}

impl Git<'_> {
    /// The repository here, or git's `not a git repository` (exit 128).
    async fn state(&mut self) -> Result<State, i32> {
        let ctx = self.tool.ctx;
        let Some(found) = find(ctx) else {
            self.say("fatal: not a git repository (or any of the parent directories): .git\n")
                .await;
            return Err(128);
        };
        let branch = found.branch(ctx);
        let head = found.head(ctx).unwrap_or_default();
        let url = found.origin_url(ctx).unwrap_or_default();
        let repo = ctx.instance.config.tools.catalog.repo(&url);
        Ok(State {
            found,
            branch,
            head,
            url,
            repo,
        })
    }

    /// Commits from HEAD back (at most `max`).
    fn history(&self, st: &State, max: u64) -> Vec<Commit> {
        let ctx = self.tool.ctx;
        let Some(repo) = &st.repo else {
            return vec![Commit {
                hash: st.head.clone(),
                subject: "Initial commit".into(),
                time: 1_704_067_200,
            }];
        };
        let shallow = st.found.read(ctx, "shallow");
        let edge = shallow.lines().next().map(str::trim).unwrap_or("");
        let Some((branch, first)) = locate(repo, &st.head, edge) else {
            return vec![Commit {
                hash: st.head.clone(),
                subject: repo.subject.clone(),
                time: repo.commit_time(&repo.default_branch),
            }];
        };
        let len = if edge.is_empty() {
            repo.history_len()
        } else {
            locate(repo, edge, "")
                .filter(|(b, _)| *b == branch)
                .map(|(_, i)| i + 1)
                .unwrap_or(first + 1)
        };
        (first..len.max(first + 1))
            .take(usize::try_from(max).unwrap_or(usize::MAX))
            .map(|i| repo.commit_at(&branch, i))
            .collect()
    }

    /// The refs that point at `hash`, as `--decorate` lists them.
    fn decorations(&self, st: &State, hash: &str) -> Vec<(String, &'static str)> {
        let ctx = self.tool.ctx;
        let mut v = Vec::new();
        let locals = st.found.local_branches(ctx);
        if let Some(b) = &st.branch {
            if st.head == hash {
                v.push((format!("HEAD -> {b}"), "head"));
            }
        } else if st.head == hash {
            v.push(("HEAD".to_string(), "head"));
        }
        for b in &locals {
            if Some(b) != st.branch.as_ref()
                && st.found.resolve(ctx, &format!("refs/heads/{b}")).as_deref() == Some(hash)
            {
                v.push((b.clone(), "local"));
            }
        }
        let origin_head = st.found.read(ctx, "refs/remotes/origin/HEAD");
        let origin_head = origin_head.trim().strip_prefix("ref: refs/remotes/origin/");
        for b in st.found.remote_branches(ctx) {
            if st
                .found
                .resolve(ctx, &format!("refs/remotes/origin/{b}"))
                .as_deref()
                == Some(hash)
            {
                v.push((format!("origin/{b}"), "remote"));
                if origin_head == Some(b.as_str()) {
                    v.push(("origin/HEAD".to_string(), "remote"));
                }
            }
        }
        v
    }

    /// ` (HEAD -> main, origin/main)`, coloured on a tty.
    fn decorate(&self, st: &State, hash: &str, color: bool) -> String {
        let d = self.decorations(st, hash);
        if d.is_empty() {
            return String::new();
        }
        if !color {
            let names: Vec<&str> = d.iter().map(|(n, _)| n.as_str()).collect();
            return format!(" ({})", names.join(", "));
        }
        let mut s = format!("{YELLOW} ({RESET}");
        for (i, (name, kind)) in d.iter().enumerate() {
            if i > 0 {
                s.push_str(&format!("{YELLOW}, {RESET}"));
            }
            match (*kind, name.strip_prefix("HEAD -> ")) {
                ("head", Some(b)) => s.push_str(&format!(
                    "\x1b[1;36mHEAD{RESET}{YELLOW} -> {RESET}\x1b[1;32m{b}{RESET}"
                )),
                ("head", None) => s.push_str(&format!("\x1b[1;36mHEAD{RESET}")),
                ("local", _) => s.push_str(&format!("\x1b[1;32m{name}{RESET}")),
                _ => s.push_str(&format!("\x1b[1;31m{name}{RESET}")),
            }
        }
        s.push_str(&format!("{YELLOW}){RESET}"));
        s
    }

    /// Expands a `--format` string for one commit.
    fn format_commit(&self, st: &State, c: &Commit, fmt: &str) -> String {
        let (an, ae) = self.author(st);
        let now = self.tool.clock.unix() as i64;
        let mut out = String::new();
        let mut chars = fmt.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch != '%' {
                out.push(ch);
                continue;
            }
            let mut code = String::new();
            if let Some(&n) = chars.peek() {
                chars.next();
                code.push(n);
                if matches!(n, 'a' | 'c') {
                    if let Some(&m) = chars.peek() {
                        chars.next();
                        code.push(m);
                    }
                }
            }
            let tree = crate::net::git::pack_name(&c.hash, 0);
            match code.as_str() {
                "H" => out.push_str(&c.hash),
                "h" => out.push_str(&abbreviated(&c.hash)),
                "T" => out.push_str(&tree),
                "t" => out.push_str(&abbreviated(&tree)),
                "s" => out.push_str(&c.subject),
                "B" => out.push_str(&format!("{}\n", c.subject)),
                "b" | "P" | "p" => {}
                "n" => out.push('\n'),
                "%" => out.push('%'),
                "d" => out.push_str(&self.decorate(st, &c.hash, false)),
                "D" => {
                    let d = self.decorate(st, &c.hash, false);
                    out.push_str(d.trim_start_matches(" (").trim_end_matches(')'));
                }
                "an" | "cn" => out.push_str(&an),
                "ae" | "ce" => out.push_str(&ae),
                "ad" | "cd" => out.push_str(&date_default(c.time)),
                "ai" | "ci" => out.push_str(&date_iso(c.time)),
                "aI" | "cI" => out.push_str(&date_strict(c.time)),
                "at" | "ct" => out.push_str(&c.time.to_string()),
                "ar" | "cr" => out.push_str(&relative(c.time, now)),
                other => {
                    out.push('%');
                    out.push_str(other);
                }
            }
        }
        out
    }

    fn author(&self, st: &State) -> (String, String) {
        match &st.repo {
            Some(r) => (
                r.owner.clone(),
                format!("{}@users.noreply.github.com", r.owner),
            ),
            None => ("root".into(), "root@localhost".into()),
        }
    }

    /// Whether `arg` names HEAD's commit (HEAD, a branch, origin/branch).
    fn names_head(&self, st: &State, arg: &str) -> Option<String> {
        let ctx = self.tool.ctx;
        let arg = arg.strip_suffix("^{commit}").unwrap_or(arg);
        if arg == "HEAD" || arg == "@" {
            return Some(st.head.clone());
        }
        for r in [
            format!("refs/heads/{arg}"),
            format!("refs/remotes/{arg}"),
            arg.to_string(),
        ] {
            if let Some(h) = st.found.resolve(ctx, &r) {
                return Some(h);
            }
        }
        if arg.len() >= 4 && arg.chars().all(|c| c.is_ascii_hexdigit()) && st.head.starts_with(arg)
        {
            return Some(st.head.clone());
        }
        None
    }

    /// `git log [--oneline] [-N|-n N|--max-count=N] [--format=F|--pretty=F] [REV]`.
    pub(super) async fn log(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let mut max = u64::MAX;
        let mut oneline = false;
        let mut fmt: Option<(String, bool)> = None;
        let mut decorate = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            i += 1;
            if let Some(n) = a.strip_prefix("--max-count=") {
                max = n.parse().unwrap_or(max);
            } else if a == "-n" {
                max = args.get(i).and_then(|n| n.parse().ok()).unwrap_or(max);
                i += 1;
            } else if let Some(n) = a.strip_prefix("-n").filter(|n| !n.is_empty()) {
                max = n.parse().unwrap_or(max);
            } else if a.len() > 1
                && a.starts_with('-')
                && a[1..].chars().all(|c| c.is_ascii_digit())
            {
                max = a[1..].parse().unwrap_or(u64::MAX);
            } else if a == "--oneline" {
                oneline = true;
            } else if let Some(f) = a
                .strip_prefix("--format=")
                .or_else(|| a.strip_prefix("--pretty=tformat:"))
            {
                fmt = Some((f.to_string(), true));
            } else if let Some(f) = a.strip_prefix("--pretty=format:") {
                fmt = Some((f.to_string(), false));
            } else if a == "--pretty=oneline" {
                fmt = Some(("%H%d %s".into(), true));
            } else if a == "--no-decorate" {
                decorate = Some(false);
            } else if a == "--decorate" || a.starts_with("--decorate=") {
                decorate = Some(true);
            } else if matches!(
                a,
                "--all" | "--no-color" | "--color" | "--first-parent" | "--no-merges" | "--"
            ) {
            } else if a.starts_with('-') {
                self.say(format!("fatal: unrecognized argument: {a}\n"))
                    .await;
                return 128;
            } else if self.names_head(&st, a).is_none() {
                self.say(ambiguous(a)).await;
                return 128;
            }
        }
        let tty = self.tool.ctx.stdout.is_tty();
        let deco = decorate.unwrap_or(tty);
        let commits = self.history(&st, max);
        let mut out = String::new();
        for (k, c) in commits.iter().enumerate() {
            let d = if deco {
                self.decorate(&st, &c.hash, tty)
            } else {
                String::new()
            };
            if let Some((f, terminated)) = &fmt {
                if k > 0 && !terminated {
                    out.push('\n');
                }
                out.push_str(&self.format_commit(&st, c, f));
                if *terminated {
                    out.push('\n');
                }
            } else if oneline {
                let h = abbreviated(&c.hash);
                if tty {
                    out.push_str(&format!("{YELLOW}{h}{RESET}{d} {}\n", c.subject));
                } else {
                    out.push_str(&format!("{h}{d} {}\n", c.subject));
                }
            } else {
                if k > 0 {
                    out.push('\n');
                }
                let (an, ae) = self.author(&st);
                let head = if tty {
                    format!("{YELLOW}commit {}{RESET}{d}", c.hash)
                } else {
                    format!("commit {}{d}", c.hash)
                };
                out.push_str(&format!(
                    "{head}\nAuthor: {an} <{ae}>\nDate:   {}\n\n    {}\n",
                    date_default(c.time),
                    c.subject
                ));
            }
        }
        self.tool.io.out(out).await;
        0
    }

    /// `git rev-parse [--short|--abbrev-ref|--show-toplevel|--git-dir|--is-inside-work-tree] [REV...]`.
    pub(super) async fn rev_parse(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let mut short = false;
        let mut abbrev = false;
        let mut out = String::new();
        for a in args {
            match a.as_str() {
                "--short" => short = true,
                "--abbrev-ref" => abbrev = true,
                "--verify" | "-q" | "--quiet" => {}
                "--show-toplevel" => out.push_str(&format!("{}\n", st.found.top)),
                "--git-dir" => out.push_str(".git\n"),
                "--is-inside-work-tree" => out.push_str("true\n"),
                "--is-shallow-repository" => {
                    let s = !st.found.read(self.tool.ctx, "shallow").trim().is_empty();
                    out.push_str(if s { "true\n" } else { "false\n" });
                }
                rev => {
                    let Some(h) = self.names_head(&st, rev) else {
                        self.tool.io.out(format!("{out}{rev}\n")).await;
                        self.say(ambiguous(rev)).await;
                        return 128;
                    };
                    if abbrev {
                        let name = if rev == "HEAD" || rev == "@" {
                            st.branch.clone().unwrap_or_else(|| "HEAD".into())
                        } else {
                            rev.to_string()
                        };
                        out.push_str(&format!("{name}\n"));
                    } else if short {
                        out.push_str(&format!("{}\n", abbreviated(&h)));
                    } else {
                        out.push_str(&format!("{h}\n"));
                    }
                }
            }
        }
        self.tool.io.out(out).await;
        0
    }

    /// How far `branch` is behind `origin/branch` (`None`: no such remote branch).
    fn behind(&self, st: &State, branch: &str) -> Option<u64> {
        let ctx = self.tool.ctx;
        let remote = st
            .found
            .resolve(ctx, &format!("refs/remotes/origin/{branch}"))?;
        let local = st.found.resolve(ctx, &format!("refs/heads/{branch}"))?;
        if local == remote {
            return Some(0);
        }
        let repo = st.repo.as_ref()?;
        let edge = st.found.read(ctx, "shallow");
        let edge = edge.lines().next().unwrap_or("").trim().to_string();
        match locate(repo, &local, &edge) {
            Some((b, i)) if b == branch => Some(i),
            _ => Some(0),
        }
    }

    /// `Your branch is up to date with 'origin/B'.` (or behind it) when B tracks origin.
    fn tracking(&self, st: &State, branch: &str) -> Option<String> {
        Some(match self.behind(st, branch)? {
            0 => format!("Your branch is up to date with 'origin/{branch}'.\n"),
            n => format!(
                "Your branch is behind 'origin/{branch}' by {n} commit{}, and can be fast-forwarded.\n  (use \"git pull\" to update your local branch)\n",
                if n == 1 { "" } else { "s" }
            ),
        })
    }

    /// `git status [-s|--short|--porcelain|-b]`: always clean.
    pub(super) async fn status(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let short = args
            .iter()
            .any(|a| matches!(a.as_str(), "-s" | "--short" | "--porcelain" | "-sb" | "-bs"));
        let with_branch = args
            .iter()
            .any(|a| matches!(a.as_str(), "-b" | "--branch" | "-sb" | "-bs"));
        let b = st.branch.clone().unwrap_or_else(|| "HEAD".into());
        let text = if short {
            if with_branch {
                match self.tracking(&st, &b) {
                    Some(_) => format!("## {b}...origin/{b}\n"),
                    None => format!("## {b}\n"),
                }
            } else {
                String::new()
            }
        } else {
            let head = match &st.branch {
                Some(b) => format!("On branch {b}\n"),
                None => format!("HEAD detached at {}\n", abbreviated(&st.head)),
            };
            let track = st
                .branch
                .as_deref()
                .and_then(|b| self.tracking(&st, b))
                .map(|t| format!("{t}\n"))
                .unwrap_or_default();
            format!("{head}{track}nothing to commit, working tree clean\n")
        };
        self.tool.io.out(text).await;
        0
    }

    /// `git pull` / `git fetch`: the remote is asked (faults apply), nothing is new.
    pub(super) async fn pull(&mut self, fetch_only: bool) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        if let Err(code) = self.reach(&st.url).await {
            return code;
        }
        if fetch_only {
            return 0;
        }
        let ctx = self.tool.ctx;
        let Some(b) = st.branch.clone() else {
            self.say("You are not currently on a branch.\nPlease specify which branch you want to merge with.\nSee git-pull(1) for details.\n\n    git pull <remote> <branch>\n\n")
                .await;
            return 1;
        };
        let behind = self.behind(&st, &b).unwrap_or(0);
        let remote = st.found.resolve(ctx, &format!("refs/remotes/origin/{b}"));
        match remote.filter(|_| behind > 0) {
            None => {
                self.tool.io.out("Already up to date.\n").await;
            }
            Some(to) => {
                if st
                    .found
                    .write(ctx, &format!("refs/heads/{b}"), &format!("{to}\n"))
                    .is_err()
                {
                    return self.fatal("unable to write new index file").await;
                }
                let n = behind.min(40) * 3;
                self.tool
                    .io
                    .out(format!(
                        "Updating {}..{}\nFast-forward\n nodes.py | {} {}{}\n 1 file changed, {} insertions(+), {} deletions(-)\n",
                        abbreviated(&st.head),
                        abbreviated(&to),
                        2 * n,
                        "+".repeat(n as usize),
                        "-".repeat(n as usize),
                        n,
                        n
                    ))
                    .await;
            }
        }
        0
    }

    /// `git remote [-v|get-url origin]`.
    pub(super) async fn remote_cmd(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let text = match args.first().map(String::as_str) {
            None => "origin\n".to_string(),
            Some("-v" | "--verbose") => {
                format!("origin\t{0} (fetch)\norigin\t{0} (push)\n", st.url)
            }
            Some("get-url") => match args.get(1).map(String::as_str) {
                Some("origin") => format!("{}\n", st.url),
                Some(other) => {
                    self.say(format!("error: No such remote '{other}'\n")).await;
                    return 2;
                }
                None => {
                    self.say("usage: git remote get-url [--push] [--all] <name>\n")
                        .await;
                    return 129;
                }
            },
            Some("show") => "origin\n".to_string(),
            Some(other) => {
                self.say(format!("git remote {other}: not emulated by fakessh\n"))
                    .await;
                return 1;
            }
        };
        self.tool.io.out(text).await;
        0
    }

    /// `git branch [-a|-r|--show-current]`.
    pub(super) async fn branch(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let ctx = self.tool.ctx;
        let tty = ctx.stdout.is_tty();
        let mut all = false;
        let mut remotes = false;
        for a in args {
            match a.as_str() {
                "-a" | "--all" => all = true,
                "-r" | "--remotes" => remotes = true,
                "--show-current" => {
                    let b = st
                        .branch
                        .clone()
                        .map(|b| format!("{b}\n"))
                        .unwrap_or_default();
                    self.tool.io.out(b).await;
                    return 0;
                }
                "-l" | "--list" | "--no-color" | "-v" | "-vv" => {}
                other => {
                    self.say(format!("git branch {other}: not emulated by fakessh\n"))
                        .await;
                    return 1;
                }
            }
        }
        let mut out = String::new();
        if !remotes {
            for b in st.found.local_branches(ctx) {
                let current = st.branch.as_deref() == Some(b.as_str());
                match (current, tty) {
                    (true, true) => out.push_str(&format!("* \x1b[32m{b}{RESET}\n")),
                    (true, false) => out.push_str(&format!("* {b}\n")),
                    (false, _) => out.push_str(&format!("  {b}\n")),
                }
            }
        }
        if all || remotes {
            let prefix = if all { "remotes/" } else { "" };
            let paint = |s: String| {
                if tty {
                    format!("\x1b[31m{s}{RESET}")
                } else {
                    s
                }
            };
            let origin_head = st.found.read(ctx, "refs/remotes/origin/HEAD");
            if let Some(h) = origin_head.trim().strip_prefix("ref: refs/remotes/") {
                out.push_str(&format!(
                    "  {} -> {h}\n",
                    paint(format!("{prefix}origin/HEAD"))
                ));
            }
            for b in st.found.remote_branches(ctx) {
                out.push_str(&format!("  {}\n", paint(format!("{prefix}origin/{b}"))));
            }
        }
        self.tool.io.out(out).await;
        0
    }

    /// `git checkout BRANCH` / `git switch BRANCH` (and `-b NEW`).
    pub(super) async fn checkout(&mut self, args: &[String], switch: bool) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let ctx = self.tool.ctx;
        let mut create = false;
        let mut target = None;
        for a in args {
            match a.as_str() {
                "-b" | "-c" | "-B" | "-C" => create = true,
                "-q" | "--quiet" | "--" => {}
                o if o.starts_with('-') => {
                    self.say(format!(
                        "error: unknown switch `{}'\n",
                        o.trim_start_matches('-')
                    ))
                    .await;
                    return 129;
                }
                o => target = target.or(Some(o.to_string())),
            }
        }
        let Some(b) = target else {
            if switch {
                self.say("fatal: missing branch or commit argument\n").await;
                return 128;
            }
            return 0;
        };
        let local = st.found.resolve(ctx, &format!("refs/heads/{b}"));
        let remote = st.found.resolve(ctx, &format!("refs/remotes/origin/{b}"));
        if create {
            if local.is_some() {
                self.say(format!("fatal: a branch named '{b}' already exists\n"))
                    .await;
                return 128;
            }
            if self.set_branch(&st, &b, &st.head, false).is_err() {
                return self.fatal("unable to write new index file").await;
            }
            self.say(format!("Switched to a new branch '{b}'\n")).await;
            return 0;
        }
        if st.branch.as_deref() == Some(b.as_str()) {
            self.say(format!("Already on '{b}'\n")).await;
            if let Some(t) = self.tracking(&st, &b) {
                self.tool.io.out(t).await;
            }
            return 0;
        }
        match (local, remote) {
            (Some(h), _) => {
                if self.set_branch(&st, &b, &h, false).is_err() {
                    return self.fatal("unable to write new index file").await;
                }
                self.say(format!("Switched to branch '{b}'\n")).await;
                if let Some(t) = self.tracking(&st, &b) {
                    self.tool.io.out(t).await;
                }
                0
            }
            (None, Some(h)) => {
                if self.set_branch(&st, &b, &h, true).is_err() {
                    return self.fatal("unable to write new index file").await;
                }
                self.tool
                    .io
                    .out(format!("branch '{b}' set up to track 'origin/{b}'.\n"))
                    .await;
                self.say(format!("Switched to a new branch '{b}'\n")).await;
                0
            }
            (None, None) if !switch => match st.repo.as_ref().and_then(|r| {
                let edge = st.found.read(ctx, "shallow");
                let (br, i) = locate(r, &b, edge.lines().next().unwrap_or("").trim())?;
                Some(r.commit_at(&br, i))
            }) {
                Some(c) => {
                    if st
                        .found
                        .write(ctx, "HEAD", &format!("{}\n", c.hash))
                        .is_err()
                    {
                        return self.fatal("unable to write new index file").await;
                    }
                    self.say(format!(
                        "Note: switching to '{b}'.\n\n{DETACHED}\nHEAD is now at {} {}\n",
                        abbreviated(&c.hash),
                        c.subject
                    ))
                    .await;
                    0
                }
                None => {
                    self.say(format!(
                        "error: pathspec '{b}' did not match any file(s) known to git\n"
                    ))
                    .await;
                    1
                }
            },
            (None, None) => {
                if switch {
                    self.say(format!("fatal: invalid reference: {b}\n")).await;
                    return 128;
                }
                self.say(format!(
                    "error: pathspec '{b}' did not match any file(s) known to git\n"
                ))
                .await;
                1
            }
        }
    }

    /// `git reset [--hard|--soft|--mixed] [REV]`: the branch (or detached
    /// HEAD) moves to a commit of the history; the tree is always clean.
    pub(super) async fn reset(&mut self, args: &[String]) -> i32 {
        let st = match self.state().await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let ctx = self.tool.ctx;
        let mut hard = false;
        let mut rev = "HEAD".to_string();
        for a in args {
            match a.as_str() {
                "--hard" => hard = true,
                "--soft" | "--mixed" | "-q" | "--quiet" | "--" => {}
                o if o.starts_with('-') => {
                    self.say(format!(
                        "error: unknown option `{}'\n",
                        o.trim_start_matches('-')
                    ))
                    .await;
                    return 129;
                }
                o => rev = o.to_string(),
            }
        }
        let edge = st.found.read(ctx, "shallow");
        let edge = edge.lines().next().unwrap_or("").trim().to_string();
        let target = self.names_head(&st, &rev).unwrap_or_else(|| rev.clone());
        let found = st.repo.as_ref().and_then(|r| {
            let (b, i) = locate(r, &target, &edge)?;
            Some(r.commit_at(&b, i))
        });
        let Some(c) = found else {
            self.say(ambiguous(&rev)).await;
            return 128;
        };
        let written = match &st.branch {
            Some(b) => st
                .found
                .write(ctx, &format!("refs/heads/{b}"), &format!("{}\n", c.hash)),
            None => st.found.write(ctx, "HEAD", &format!("{}\n", c.hash)),
        };
        if written.is_err() {
            return self.fatal("unable to write new index file").await;
        }
        if hard {
            self.tool
                .io
                .out(format!(
                    "HEAD is now at {} {}\n",
                    abbreviated(&c.hash),
                    c.subject
                ))
                .await;
        }
        0
    }

    /// Points HEAD at `refs/heads/B` (created at `hash`, tracking origin when asked).
    fn set_branch(&self, st: &State, b: &str, hash: &str, track: bool) -> std::io::Result<()> {
        let ctx = self.tool.ctx;
        st.found
            .write(ctx, &format!("refs/heads/{b}"), &format!("{hash}\n"))?;
        if track {
            let mut cfg = st.found.read(ctx, "config");
            cfg.push_str(&format!(
                "[branch \"{b}\"]\n\tremote = origin\n\tmerge = refs/heads/{b}\n"
            ));
            st.found.write(ctx, "config", &cfg)?;
        }
        st.found
            .write(ctx, "HEAD", &format!("ref: refs/heads/{b}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates_read_as_git_prints_them() {
        assert_eq!(relative(0, 30), "30 seconds ago");
        assert_eq!(relative(0, 3 * 86400), "3 days ago");
        assert_eq!(relative(0, 400 * 86400), "1 year, 1 month ago");
        assert_eq!(
            date_default(1_795_686_415),
            "Thu Nov 26 09:46:55 2026 +0000"
        );
    }
}
