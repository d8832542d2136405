//! `snapshot_download`: the repo's file list (`repo_info`), filtered by
//! `--include`/`--exclude` (or the files named), each file through
//! `hf_hub_download` under the outer `Fetching N files` bar (tqdm position
//! 0; the file bars take position 1), then the snapshot folder's path.

use super::download::{join, py_path, repo_folder};
use super::errors::{Failure, HubClass};
use super::Run;
use crate::net::hub::Repo;
use crate::tools::{files, tqdm};

/// `fnmatch.fnmatch`: `*` (slashes too), `?`, `[seq]`, `[!seq]`.
pub(super) fn fnmatch(name: &str, pat: &str) -> bool {
    fn go(n: &[char], p: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&n[i..], &p[1..])),
            Some('?') => !n.is_empty() && go(&n[1..], &p[1..]),
            Some('[') => {
                let Some(end) = p.iter().skip(1).position(|c| *c == ']').map(|e| e + 1) else {
                    return n.first() == Some(&'[') && go(&n[1..], &p[1..]);
                };
                let Some(c) = n.first() else { return false };
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some('!') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= *c && *c <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == *c;
                        i += 1;
                    }
                }
                hit != neg && go(&n[1..], &p[end + 1..])
            }
            Some(x) => n.first() == Some(x) && go(&n[1..], &p[1..]),
        }
    }
    let n: Vec<char> = name.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    go(&n, &p)
}

/// `filter_repo_objects`: a pattern ending in `/` means the whole folder.
fn keep(path: &str, allow: &[String], ignore: &[String]) -> bool {
    let norm = |p: &String| {
        if p.ends_with('/') {
            format!("{p}*")
        } else {
            p.clone()
        }
    };
    let allowed = allow.is_empty() || allow.iter().any(|p| fnmatch(path, &norm(p)));
    allowed && !ignore.iter().any(|p| fnmatch(path, &norm(p)))
}

/// The outer `Fetching N files` bar (`unit="it"`, no unit scaling).
struct FetchBar {
    total: usize,
    n: usize,
    start: f64,
    last: f64,
    ncols: Option<usize>,
    prev_len: usize,
}

impl FetchBar {
    fn line(&self, now: f64) -> String {
        let elapsed = now - self.start;
        let desc = format!("Fetching {} files", self.total);
        let rate = (elapsed > 0.0 && self.n > 0).then(|| self.n as f64 / elapsed);
        let rate_fmt = match rate {
            Some(r) if r < 1.0 => format!("{:5.2}s/it", 1.0 / r),
            Some(r) => format!("{r:5.2}it/s"),
            None => "?it/s".into(),
        };
        let el = tqdm::format_interval(elapsed);
        if self.total == 0 {
            return format!("{desc}: {}it [{el}, {rate_fmt}]", self.n);
        }
        let remaining = match rate {
            Some(r) => tqdm::format_interval((self.total - self.n.min(self.total)) as f64 / r),
            None => "?".into(),
        };
        let frac = self.n as f64 / self.total as f64;
        let l_bar = format!("{desc}: {:3.0}%|", frac * 100.0);
        let r_bar = format!("| {}/{} [{el}<{remaining}, {rate_fmt}]", self.n, self.total);
        let cells = match self.ncols {
            Some(c) => c
                .saturating_sub(l_bar.chars().count() + r_bar.chars().count())
                .max(1),
            None => 10,
        };
        format!("{l_bar}{}{r_bar}", tqdm::bar_cells(frac, cells))
    }

    fn frame(&mut self, now: f64) -> String {
        let line = self.line(now);
        let len = line.chars().count();
        let pad = self.prev_len.saturating_sub(len);
        self.prev_len = len;
        format!("\r{line}{}", " ".repeat(pad))
    }
}

impl Run<'_> {
    /// The repo_info call: its failure, if any.
    async fn repo_info(&mut self, repo: Option<&Repo>) -> Result<(), Failure> {
        let kind = format!("{}s", self.d.repo_type);
        let url = format!(
            "{}/api/{kind}/{}/revision/{}",
            self.endpoint.trim_end_matches('/'),
            self.d.repo_id,
            self.d.revision
        );
        if self.offline {
            return Err(Failure::Offline {
                what: String::new(),
            });
        }
        self.tool.latency(0.1, 0.4).await;
        if let Some(f) = self.network_failure(&url, 1) {
            return Err(f);
        }
        if let Some(status) = self.tool.remote.http_status(1).filter(|s| *s != 429) {
            let class = if status == 404 || status == 401 {
                HubClass::RepoNotFound
            } else {
                HubClass::Other
            };
            return Err(Failure::Http {
                status,
                class,
                url,
                server: None,
            });
        }
        if repo.is_none() {
            return Err(Failure::Http {
                status: 404,
                class: HubClass::RepoNotFound,
                url,
                server: None,
            });
        }
        Ok(())
    }

    /// `repo_info` failed: an existing snapshot folder or a non-empty
    /// `--local-dir` is returned, else the error goes up.
    async fn snapshot_offline(&mut self, e: Failure) -> Result<Option<String>, Failure> {
        let ctx = self.tool.ctx;
        let storage = join(
            &self.cache_dir(),
            &repo_folder(&self.d.repo_type, &self.d.repo_id),
        );
        let rev = self.d.revision.clone();
        let commit = if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(rev.clone())
        } else {
            files::read(ctx, &join(&storage, &format!("refs/{rev}")))
                .ok()
                .map(|b| String::from_utf8_lossy(&b).to_string())
        };
        match &self.d.local_dir {
            None => {
                if let Some(c) = commit {
                    let folder = join(&storage, &format!("snapshots/{c}"));
                    if files::is_dir(ctx, &folder) {
                        return Ok(Some(folder));
                    }
                }
            }
            Some(dir) => {
                let dir = py_path(dir);
                let non_empty = ctx
                    .fs()
                    .read_dir(&dir)
                    .map(|v| !v.is_empty())
                    .unwrap_or(false);
                if files::is_dir(ctx, &dir) && non_empty {
                    let abs = files::absolute(ctx, &dir);
                    let abs = ctx.fs().canonical(&abs).unwrap_or(abs);
                    let msg = format!(
                        "Returning existing local_dir `{dir}` as remote repo cannot be accessed in `snapshot_download` ({}).\n",
                        super::errors::head_error_text(&e)
                    );
                    self.tool.io.err(msg).await;
                    return Ok(Some(abs));
                }
            }
        }
        Err(Failure::Api(Box::new(e)))
    }

    /// Every selected file, then the snapshot folder.
    pub(super) async fn snapshot(
        &mut self,
        repo: Option<&Repo>,
    ) -> Result<Option<String>, Failure> {
        if let Err(e) = self.repo_info(repo).await {
            return self.snapshot_offline(e).await;
        }
        let Some(repo) = repo else { return Ok(None) };
        let (allow, ignore) = if self.d.filenames.is_empty() {
            (self.d.include.clone(), self.d.exclude.clone())
        } else {
            (self.d.filenames.clone(), Vec::new())
        };
        let wanted: Vec<String> = repo
            .files
            .iter()
            .map(|f| f.path.clone())
            .filter(|p| keep(p, &allow, &ignore))
            .collect();
        let now = self.tool.clock.now();
        let mut bar = FetchBar {
            total: wanted.len(),
            n: 0,
            start: now,
            last: now,
            ncols: self.ncols,
            prev_len: 0,
        };
        if self.bars {
            let f = bar.frame(now);
            self.tool.io.err(f).await;
        }
        self.nested = self.bars;
        for path in &wanted {
            match self.download_file(Some(repo), path).await {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.nested = false;
                    return Err(e);
                }
            }
            bar.n += 1;
            let now = self.tool.clock.now();
            if self.bars && now - bar.last >= tqdm::MININTERVAL {
                bar.last = now;
                let f = bar.frame(now);
                self.tool.io.err(f).await;
            }
        }
        self.nested = false;
        if self.bars {
            let mut f = bar.frame(self.tool.clock.now());
            f.push('\n');
            self.tool.io.err(f).await;
        }
        let ctx = self.tool.ctx;
        Ok(Some(match &self.d.local_dir {
            Some(dir) => {
                let abs = files::absolute(ctx, &py_path(dir));
                ctx.fs().canonical(&abs).unwrap_or(abs)
            }
            None => {
                let storage = join(
                    &self.cache_dir(),
                    &repo_folder(&self.d.repo_type, &self.d.repo_id),
                );
                let commit = repo.commit.clone();
                join(&storage, &format!("snapshots/{commit}"))
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_fnmatch() {
        assert!(fnmatch("unet/model.safetensors", "*.safetensors"));
        assert!(fnmatch("a.json", "?.json"));
        assert!(fnmatch("v2.bin", "v[0-9].bin"));
        assert!(!fnmatch("a.json", "*.bin"));
        assert!(keep("vae/x.bin", &["vae/".into()], &[]));
        assert!(!keep("vae/x.bin", &[], &["*.bin".into()]));
    }
}
