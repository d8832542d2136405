//! `git clone`: the destination check, `Cloning into 'DIR'...`, the
//! transport (DNS, connect, `info/refs`, through `Remote` so faults apply),
//! the server's sideband phases, `Receiving objects` on the simulated link
//! with git's throughput, `Resolving deltas`, the checkout, and every
//! failure in git's own words (exit 128, the half-made clone removed).

use super::args::{humanish, CloneOpts};
use super::progress::{next_step, server_phase, sideband, Progress};
use super::tree::{write_clone, Layout};
use super::Git;
use crate::net::git::{PackStats, Repo};
use crate::net::response::{FailKind, Resolution};
use crate::net::Url;
use crate::tools::files;

/// How the transfer ended badly.
enum Broke {
    /// Already reported; exit with this code.
    Exit(i32),
    /// The session went away (a disconnect, a reader gone).
    Gone,
}

const NO_REPO_HINT: &str =
    "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";

impl Git<'_> {
    /// Asks the remote at `url` for its refs (`git pull`, `git fetch`):
    /// the same failures as a clone's first request.
    pub(super) async fn reach(&mut self, url: &str) -> Result<(), i32> {
        let shown = format!("{}/", url.trim_end_matches('/'));
        if url.starts_with("http://") || url.starts_with("https://") {
            return match self.connect(url, &shown).await {
                Ok(_) => Ok(()),
                Err(Broke::Exit(c)) => Err(c),
                Err(Broke::Gone) => Err(128),
            };
        }
        if let Some(path) = url.strip_prefix("file://") {
            if self
                .tool
                .ctx
                .instance
                .config
                .tools
                .catalog
                .repo(url)
                .is_none()
            {
                self.say(format!(
                    "fatal: '{path}' does not appear to be a git repository\n{NO_REPO_HINT}"
                ))
                .await;
                return Err(128);
            }
        }
        Ok(())
    }

    /// The whole `git clone`.
    pub(super) async fn clone(&mut self, o: CloneOpts) -> i32 {
        let depth = match o.depth.as_deref().map(str::parse::<i64>) {
            None => None,
            Some(Ok(d)) if d > 0 => Some(d as u64),
            Some(_) => {
                let d = o.depth.clone().unwrap_or_default();
                return self
                    .fatal(&format!("depth {d} is not a positive number"))
                    .await;
            }
        };
        // `get_repo_path`: a local path is checked before anything else.
        if !o.url.contains("://") && !is_scp_like(&o.url) {
            if files::exists(self.tool.ctx, &o.url) {
                // A clone of a local path copies a real repository: not modelled.
                self.say("git clone of a local path: not emulated by fakessh (use a file:// or https:// URL)\n")
                    .await;
                return 1;
            }
            return self
                .fatal(&format!("repository '{}' does not exist", o.url))
                .await;
        }
        let dir = o.dir.clone().unwrap_or_else(|| humanish(&o.url));
        if dir.is_empty() {
            return self
                .fatal("No directory name could be guessed.\nPlease specify a directory on the command line")
                .await;
        }
        let ctx = self.tool.ctx;
        let abs = files::absolute(ctx, &dir);
        let existed = files::exists(ctx, &abs);
        if existed {
            let empty = files::is_dir(ctx, &abs)
                && ctx
                    .fs()
                    .read_dir(&abs)
                    .map(|e| e.is_empty())
                    .unwrap_or(false);
            if !empty {
                return self
                    .fatal(&format!(
                        "destination path '{dir}' already exists and is not an empty directory."
                    ))
                    .await;
            }
        }
        if let Err(e) = files::create_dir_all(ctx, &abs) {
            let msg = crate::program::strerror(&e);
            return self
                .fatal(&format!("could not create work tree dir '{dir}': {msg}"))
                .await;
        }
        if !o.quiet {
            self.say(format!("Cloning into '{dir}'...\n")).await;
        }
        let code = match self.transfer(&o, depth, &abs).await {
            Ok(()) => return 0,
            Err(Broke::Exit(code)) => code,
            Err(Broke::Gone) => 128,
        };
        // git removes what it made (`remove_junk`), on die() and on signals.
        if existed {
            if let Ok(entries) = ctx.fs().read_dir(&abs) {
                for e in entries {
                    let p = format!("{abs}/{}", e.name_lossy());
                    let _ = ctx.fs().remove_dir_all(&p);
                }
            }
        } else {
            let _ = ctx.fs().remove_dir_all(&abs);
        }
        code
    }

    /// `fatal: MSG` and 128, as a [`Broke`].
    async fn die(&mut self, msg: &str) -> Broke {
        Broke::Exit(self.fatal(msg).await)
    }

    /// From the first request to the checked-out tree.
    async fn transfer(
        &mut self,
        o: &CloneOpts,
        depth: Option<u64>,
        abs: &str,
    ) -> Result<(), Broke> {
        let url = o.url.as_str();
        let shown = format!("{}/", url.trim_end_matches('/'));
        let repo = if let Some(path) = url.strip_prefix("file://") {
            match self.tool.ctx.instance.config.tools.catalog.repo(url) {
                Some(r) => r,
                None => {
                    self.say(format!(
                        "fatal: '{path}' does not appear to be a git repository\n{NO_REPO_HINT}"
                    ))
                    .await;
                    return Err(Broke::Exit(128));
                }
            }
        } else if url.starts_with("http://") || url.starts_with("https://") {
            self.connect(url, &shown).await?
        } else if url.starts_with("ssh://") || is_scp_like(url) {
            let host = ssh_host(url);
            self.tool.latency(0.05, 0.2).await;
            self.say(format!(
                "{host}: Permission denied (publickey).\n{NO_REPO_HINT}"
            ))
            .await;
            return Err(Broke::Exit(128));
        } else if url.contains("://") {
            let scheme = url.split("://").next().unwrap_or("");
            return Err(self
                .die(&format!("Unable to find remote helper for '{scheme}'"))
                .await);
        } else {
            // clone() turned local paths away before.
            return Err(Broke::Exit(1));
        };
        let single = o.single_branch.unwrap_or(depth.is_some());
        let branch = o
            .branch
            .clone()
            .unwrap_or_else(|| repo.default_branch.clone());
        if !repo.has_branch(&branch) {
            if single {
                self.say(format!(
                    "warning: Could not find remote branch {branch} to clone.\n"
                ))
                .await;
            }
            return Err(self
                .die(&format!(
                    "Remote branch {branch} not found in upstream origin"
                ))
                .await);
        }
        let stats = match depth {
            Some(d) => repo.full.shallow(d),
            None => repo.full.clone(),
        };
        // `transport_set_verbosity`: --progress wins even over -q.
        let progress = o
            .progress
            .unwrap_or_else(|| !o.quiet && self.tool.ctx.stderr.is_tty());
        if url.starts_with("http") {
            // The pack comes in the answer to `POST URL/git-upload-pack`.
            let pack_url = format!("{}/git-upload-pack", url.trim_end_matches('/'));
            let status = self
                .tool
                .remote
                .fetch(&pack_url, 1, has_credentials(url), 1)
                .status;
            if !(200..300).contains(&status) {
                self.say(format!(
                    "error: RPC failed; HTTP {status} curl 22 The requested URL returned error: {status}\nfatal: expected 'packfile'\n"
                ))
                .await;
                return Err(Broke::Exit(128));
            }
        }
        self.server(&stats, progress).await?;
        self.receive(&repo, &stats, progress, url.starts_with("http"))
            .await?;
        self.resolve(&stats, progress).await?;
        let layout = Layout {
            url,
            branch: &branch,
            single_branch: single,
            depth,
            pack_size: stats.pack_size,
            objects: stats.objects,
            unix: self.tool.clock.unix() as i64,
        };
        if write_clone(self.tool.ctx, abs, &repo, &layout).is_err() {
            self.say(
                "fatal: unable to checkout working tree\nwarning: Clone succeeded, but checkout failed.\nYou can inspect what was checked out with 'git status'\nand retry with 'git restore --source=HEAD :/'\n\n",
            )
            .await;
            return Err(Broke::Exit(128));
        }
        Ok(())
    }

    /// DNS, TCP and `GET URL/info/refs?service=git-upload-pack`, with
    /// git-remote-http's messages for each failure.
    async fn connect(&mut self, url: &str, shown: &str) -> Result<Repo, Broke> {
        let Some(u) = Url::parse(url) else {
            return Err(self
                .die(&format!(
                    "unable to access '{shown}': URL rejected: Malformed input to a URL function"
                ))
                .await);
        };
        let remote = self.tool.remote;
        if remote.resolve(&u.host, 1) == Resolution::Unknown {
            self.tool.latency(0.01, 0.05).await;
            return Err(self
                .die(&format!(
                    "unable to access '{shown}': Could not resolve host: {}",
                    u.host
                ))
                .await);
        }
        if remote.refused(&u.host, u.port, 1) {
            let loopback = u.host == "localhost" || u.host.starts_with("127.") || u.host == "::1";
            let ms = if loopback {
                0
            } else {
                self.tool.link(None, 0).latency(8.0, 120.0) as u64
            };
            self.tool.pause(ms as f64 / 1000.0).await;
            return Err(self
                .die(&format!(
                    "unable to access '{shown}': Failed to connect to {} port {} after {ms} ms: Couldn't connect to server",
                    u.host, u.port
                ))
                .await);
        }
        self.tool.latency(0.05, 0.3).await;
        let base = url.trim_end_matches('/');
        let refs = format!("{base}/info/refs?service=git-upload-pack");
        let authorized = has_credentials(url);
        let status = remote.fetch(&refs, 1, authorized, 0).status;
        let repo = self.tool.ctx.instance.config.tools.catalog.repo(url);
        let status = match (&repo, status) {
            (_, s) if !(200..400).contains(&s) => s,
            (None, _) => 404,
            (Some(r), _) if r.requires_auth && !authorized => 401,
            _ => 200,
        };
        let github = u.host == "github.com";
        match (status, repo) {
            (200, Some(r)) => Ok(r),
            (404, _) | (200, None) => {
                if github {
                    self.say("remote: Repository not found.\n").await;
                }
                Err(self.die(&format!("repository '{shown}' not found")).await)
            }
            (401, _) if authorized => {
                if github {
                    self.say("remote: Invalid username or token. Password authentication is not supported for Git operations.\n").await;
                }
                Err(self
                    .die(&format!("Authentication failed for '{shown}'"))
                    .await)
            }
            (401, _) => {
                let prompt_off = self
                    .tool
                    .ctx
                    .env
                    .get("GIT_TERMINAL_PROMPT")
                    .is_some_and(|v| v == "0" || v.eq_ignore_ascii_case("false"));
                let why = if prompt_off {
                    "terminal prompts disabled"
                } else {
                    "No such device or address"
                };
                let origin = match url.split_once("://") {
                    Some((s, rest)) => {
                        let hostport = rest.split('/').next().unwrap_or("");
                        format!("{s}://{}", hostport.rsplit('@').next().unwrap_or(hostport))
                    }
                    None => url.to_string(),
                };
                Err(self
                    .die(&format!("could not read Username for '{origin}': {why}"))
                    .await)
            }
            (s, _) => Err(self
                .die(&format!(
                    "unable to access '{shown}': The requested URL returned error: {s}"
                ))
                .await),
        }
    }

    /// The server's side: enumerating, counting and compressing (shown as
    /// `remote:` lines only with progress).
    async fn server(&mut self, s: &PackStats, progress: bool) -> Result<(), Broke> {
        let suffix = self.suffix();
        let phases = [
            (
                s.objects as f64 / 400_000.0,
                format!("Enumerating objects: {}, done.\n", s.objects),
            ),
            (
                s.counted as f64 / 250_000.0,
                server_phase("Counting objects", s.counted),
            ),
            (
                s.compressed as f64 / 60_000.0,
                if s.compressed > 0 {
                    server_phase("Compressing objects", s.compressed)
                } else {
                    String::new()
                },
            ),
        ];
        for (secs, text) in phases {
            if !self.tool.pause(secs).await {
                return Err(Broke::Gone);
            }
            if progress && !text.is_empty() {
                self.say(sideband(&text, suffix)).await;
            }
        }
        Ok(())
    }

    /// `remote: Total N (delta D), reused R (delta d), pack-reused P (from B)`.
    fn total_line(s: &PackStats) -> String {
        format!(
            "Total {} (delta {}), reused {} (delta {}), pack-reused {} (from {})\n",
            s.objects,
            s.total_deltas,
            s.reused,
            s.reused_deltas,
            s.pack_reused,
            u8::from(s.from_bitmap)
        )
    }

    /// The pack on the simulated link: `Receiving objects` frames at each
    /// percent and timer tick, drops, stalls, a full disk, a cut session.
    async fn receive(
        &mut self,
        repo: &Repo,
        s: &PackStats,
        progress: bool,
        http: bool,
    ) -> Result<(), Broke> {
        let remote = self.tool.remote;
        let size = s.pack_size.max(1);
        let total = s.objects.max(1);
        let fail = if http {
            remote.body_fail(size, 1, None)
        } else {
            None
        };
        let mut stall = remote.body_stall(size, 1);
        let disk_full = remote.disk_full_at(size);
        let hangup = remote.disconnect_at(size);
        let rate = remote.rate(repo.rate);
        let mut link = self.tool.link(rate, 0);
        let slice = (size as f64 / link.rate() / 20_000.0).max(0.25);
        let start = self.tool.clock.now();
        let mut p = Progress::new("Receiving objects", total, start, self.cols());
        let suffix = self.suffix();
        let mut total_sent = false;
        let early_total = size < 256 * 1024;
        let bytes_at = |n: u64| (u128::from(n) * u128::from(size) / u128::from(total)) as u64;
        let objects_at = |b: u64| (u128::from(b) * u128::from(total) / u128::from(size)) as u64;
        p.throughput(0, start);
        let mut got = 0u64;
        let mut shown = 0u64;
        if remote.at_progress(0, size) {
            return Err(Broke::Gone);
        }
        loop {
            let target_n = if shown == 0 {
                1
            } else {
                next_step(shown, total)
            };
            let mut limit = bytes_at(target_n).max(got + 1).min(size);
            for at in [fail.map(|f| f.1), stall.map(|x| x.0), disk_full, hangup]
                .into_iter()
                .flatten()
            {
                if at >= got && at < limit {
                    limit = at.max(got);
                }
            }
            if limit > got {
                let want = limit - got;
                let n = link.bytes_in(slice).clamp(1, want);
                let dt = link.secs_for(n);
                if !self.tool.pause(dt).await {
                    return Err(Broke::Gone);
                }
                got += n;
            }
            let now = self.tool.clock.now();
            if progress {
                if let Some(f) = p.throughput(got, now) {
                    self.say(f).await;
                }
                let n = objects_at(got).min(total);
                if n > shown || (shown == 0 && got > 0) {
                    shown = n.max(1);
                    if progress && !total_sent && shown >= total {
                        total_sent = true;
                        self.say(sideband(&Self::total_line(s), suffix)).await;
                    }
                    if let Some(f) = p.show(shown, now) {
                        self.say(f).await;
                    }
                    if early_total && !total_sent {
                        total_sent = true;
                        self.say(sideband(&Self::total_line(s), suffix)).await;
                    }
                }
            } else {
                shown = objects_at(got).max(1);
            }
            if remote.at_progress(got, size) {
                return Err(Broke::Gone);
            }
            if got >= size {
                break;
            }
            if let Some((_, secs)) = stall.filter(|(at, _)| got >= *at) {
                stall = None;
                match secs {
                    Some(secs) => {
                        if !self.tool.pause(secs).await {
                            return Err(Broke::Gone);
                        }
                    }
                    // No low-speed limit: git waits as long as the server does.
                    None => loop {
                        if !self.tool.pause(3600.0).await {
                            return Err(Broke::Gone);
                        }
                    },
                }
            }
            if disk_full.is_some_and(|at| got >= at) {
                self.say("fatal: write error: No space left on device\nfatal: fetch-pack: invalid index-pack output\n")
                    .await;
                return Err(Broke::Exit(128));
            }
            if let Some((kind, _)) = fail.filter(|(_, at)| got >= *at) {
                let curl = match kind {
                    FailKind::Reset => "curl 56 Recv failure: Connection reset by peer",
                    _ => "curl 18 transfer closed with outstanding read data remaining",
                };
                let left = ((size - got) % 65_516).max(1);
                self.say(format!(
                    "error: RPC failed; {curl}\nerror: {left} bytes of body are still expected\nfetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output\n"
                ))
                .await;
                return Err(Broke::Exit(128));
            }
        }
        if progress {
            let now = self.tool.clock.now();
            p.throughput(size, now);
            if let Some(f) = p.stop(now) {
                self.say(f).await;
            }
        }
        Ok(())
    }

    /// `Resolving deltas`: index-pack's second pass, a few thousand deltas a second.
    async fn resolve(&mut self, s: &PackStats, progress: bool) -> Result<(), Broke> {
        if s.deltas == 0 {
            return Ok(());
        }
        let per_delta = 1.0 / 6_000.0;
        let start = self.tool.clock.now();
        let mut p = Progress::new("Resolving deltas", s.deltas, start, self.cols());
        if progress {
            if let Some(f) = p.show(0, start) {
                self.say(f).await;
            }
        }
        let mut n = 0u64;
        while n < s.deltas {
            let next = next_step(n, s.deltas);
            let secs = (next - n) as f64 * per_delta;
            // A timer tick inside the step redraws at the count reached then.
            let t0 = self.tool.clock.now();
            let tick_at = (((t0 - start) + 1e-9).floor() + 1.0) + start;
            if progress && tick_at < t0 + secs {
                let part = ((tick_at - t0) / secs).clamp(0.0, 1.0);
                let mid = n + (((next - n) as f64) * part) as u64;
                if !self.tool.pause(tick_at - t0).await {
                    return Err(Broke::Gone);
                }
                if let Some(f) = p.show(mid.max(n), tick_at) {
                    self.say(f).await;
                }
                if !self.tool.pause(t0 + secs - tick_at).await {
                    return Err(Broke::Gone);
                }
            } else if !self.tool.pause(secs).await {
                return Err(Broke::Gone);
            }
            n = next;
            if progress {
                let now = self.tool.clock.now();
                if let Some(f) = p.show(n, now) {
                    self.say(f).await;
                }
            }
        }
        if progress {
            let now = self.tool.clock.now();
            if let Some(f) = p.stop(now) {
                self.say(f).await;
            }
        }
        Ok(())
    }
}

/// `user:token@` in the URL: credentials come with the request.
fn has_credentials(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or("").contains('@'))
        .unwrap_or(false)
}

/// `git@github.com:org/repo.git`: scp-like syntax (ssh).
fn is_scp_like(url: &str) -> bool {
    match url.find(':') {
        Some(i) => !url[..i].contains('/') && !url.contains("://") && i > 0,
        None => false,
    }
}

/// The `user@host` an ssh URL names (`git@github.com`).
fn ssh_host(url: &str) -> String {
    let rest = url.strip_prefix("ssh://").unwrap_or(url);
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    rest[..end].to_string()
}
