//! Git repositories of the fake internet: what a clone of any URL finds.
//!
//! Every `https://`, `http://` or `file://` URL names a repository that
//! exists, deterministically (a ComfyUI custom node: README, requirements,
//! `__init__.py`, `nodes.py`, LICENSE), with object counts and a pack size
//! derived from a stable hash of the URL. The catalog's `repos` map pins
//! entries for tests, by URL (`.git`, a trailing `/` and credentials do not
//! matter):
//! ```json
//! { "repos": { "https://github.com/acme/ComfyUI-Private": { "requires_auth": true },
//!              "https://github.com/acme/gone": { "missing": true },
//!              "file:///srv/git/wget-src": { "objects": 54643, "deltas": 23178,
//!                "compressed": 20858, "pack_size": 31341000, "branches": ["master"] } } }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fnv1a;
use super::synth::{hex, in_range, pick, ADJ, NOUN};
use super::Catalog;

/// A pinned repository.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepoEntry {
    /// The repository does not exist (404).
    pub missing: bool,
    /// Cloning needs credentials (a private repository: 401 without them).
    pub requires_auth: bool,
    /// The branch HEAD points at (`main` when absent).
    pub default_branch: Option<String>,
    /// Every branch (the default branch is added when missing).
    pub branches: Vec<String>,
    /// Objects in a full clone's pack.
    pub objects: Option<u64>,
    /// Deltas in that pack (`Resolving deltas`).
    pub deltas: Option<u64>,
    /// Objects the server compresses (`Compressing objects`).
    pub compressed: Option<u64>,
    /// Objects reused from existing packs (`reused R`).
    pub reused: Option<u64>,
    /// Deltas among the reused objects (`reused R (delta d)`).
    pub reused_deltas: Option<u64>,
    /// Objects sent verbatim from a bitmapped pack (`pack-reused P`).
    pub pack_reused: Option<u64>,
    /// Size of the full pack in bytes.
    pub pack_size: Option<u64>,
    /// The server's rate in bytes/s (the instance bandwidth when absent).
    pub rate_bytes_per_s: Option<f64>,
    /// Subject of the head commit.
    pub subject: Option<String>,
    /// Extra files of the checked-out tree (path -> content).
    pub files: BTreeMap<String, String>,
}

/// What the server reports for one pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackStats {
    /// `Enumerating objects: N` and `Total N`.
    pub objects: u64,
    /// `Counting objects: 100% (c/c)` (objects not reused from a bitmap).
    pub counted: u64,
    /// `Compressing objects: 100% (k/k)`.
    pub compressed: u64,
    /// `Total N (delta d)`.
    pub total_deltas: u64,
    /// `reused R`.
    pub reused: u64,
    /// `reused R (delta d)`.
    pub reused_deltas: u64,
    /// `pack-reused P`.
    pub pack_reused: u64,
    /// Whether a bitmapped pack served them (`(from 1)`).
    pub from_bitmap: bool,
    /// `Resolving deltas: 100% (D/D)` (0: no such phase).
    pub deltas: u64,
    /// Pack size in bytes.
    pub pack_size: u64,
}

/// A repository as a clone finds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Repo {
    /// The URL without credentials, trailing `/` or `.git`.
    pub key: String,
    /// The repository's name (`ComfyUI-Impact-Pack`).
    pub name: String,
    /// Its owner (`ltdrdata`), or the host for a bare path.
    pub owner: String,
    /// Cloning needs credentials.
    pub requires_auth: bool,
    /// HEAD's branch.
    pub default_branch: String,
    /// Every branch, the default first.
    pub branches: Vec<String>,
    /// A full clone's pack.
    pub full: PackStats,
    /// The server's rate in bytes/s, when pinned.
    pub rate: Option<f64>,
    /// Subject of every branch's head commit.
    pub subject: String,
    /// Extra files of the tree.
    pub files: BTreeMap<String, String>,
}

/// One commit of a repository's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// 40 hex digits.
    pub hash: String,
    /// The subject line.
    pub subject: String,
    /// Author and commit time (Unix seconds, +0000).
    pub time: i64,
}

/// `https://user:pw@Host/a/b.git/` -> `https://host/a/b`.
pub fn repo_key(url: &str) -> String {
    let mut u = url.trim().trim_end_matches('/').to_string();
    if let Some((scheme, rest)) = u.split_once("://") {
        let (auth_host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let host = auth_host.rsplit('@').next().unwrap_or(auth_host);
        u = format!(
            "{}://{}{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase(),
            path
        );
    }
    let u = u.strip_suffix(".git").unwrap_or(&u).trim_end_matches('/');
    u.to_string()
}

const SUBJECTS: &[&str] = &[
    "Update README.md",
    "Fix loading of models from extra_model_paths",
    "Add support for SDXL and Flux models",
    "Bump version",
    "Update requirements.txt",
    "Fix typo in node description",
    "Add example workflow",
    "Refactor nodes and fix device handling",
];

/// The pack's file name stem (`pack-HASH.pack`): 40 hex digits.
pub fn pack_name(key: &str, size: u64) -> String {
    hex(
        fnv1a(&[b"git-pack", key.as_bytes(), &size.to_le_bytes()]),
        40,
    )
}

/// `x * num / den` without overflow (saturating at `u64::MAX`).
fn frac(x: u64, num: u64, den: u64) -> u64 {
    (u128::from(x) * u128::from(num) / u128::from(den.max(1))).min(u128::from(u64::MAX)) as u64
}

impl PackStats {
    /// The pack of a full clone, synthesized from `h` unless pinned.
    fn full(e: &RepoEntry, h: u64, bitmap: bool) -> PackStats {
        let objects = e.objects.unwrap_or_else(|| in_range(h, 60, 6000)).max(3);
        let deltas = e
            .deltas
            .unwrap_or_else(|| frac(objects, in_range(h >> 3, 25, 50), 100))
            .min(objects);
        let pack_reused = e.pack_reused.unwrap_or(if bitmap {
            frac(objects, in_range(h >> 5, 70, 90), 100)
        } else {
            0
        });
        let counted = objects.saturating_sub(pack_reused).max(1);
        let compressed = e
            .compressed
            .unwrap_or_else(|| frac(counted, in_range(h >> 9, 30, 60), 100))
            .min(counted);
        let reused = e
            .reused
            .unwrap_or_else(|| frac(counted, in_range(h >> 11, 60, 99), 100))
            .min(counted);
        let total_deltas = if bitmap {
            frac(deltas, counted, objects)
        } else {
            deltas
        };
        let reused_deltas = e
            .reused_deltas
            .unwrap_or_else(|| frac(total_deltas, in_range(h >> 13, 80, 99), 100))
            .min(total_deltas);
        let pack_size = e
            .pack_size
            .unwrap_or_else(|| objects.saturating_mul(in_range(h >> 17, 700, 9000)));
        PackStats {
            objects,
            counted,
            compressed,
            total_deltas,
            reused,
            reused_deltas,
            pack_reused,
            from_bitmap: bitmap,
            deltas,
            pack_size,
        }
    }

    /// The pack of a `--depth N` clone: the head trees only, no deltas
    /// worth resolving, nothing reused from a bitmap.
    pub fn shallow(&self, depth: u64) -> PackStats {
        let per = (self.objects / 12).max(5);
        let objects = per.saturating_mul(depth.clamp(1, 20)).min(self.objects);
        let compressed = frac(objects, 9, 10);
        let avg = self.pack_size / self.objects.max(1);
        PackStats {
            objects,
            counted: objects,
            compressed,
            total_deltas: 0,
            reused: frac(objects, 6, 10),
            reused_deltas: 0,
            pack_reused: 0,
            from_bitmap: false,
            deltas: 0,
            pack_size: frac(objects.saturating_mul(avg.max(200)), 3, 2),
        }
    }
}

impl Repo {
    /// The head commit of `branch` (40 hex digits).
    pub fn commit(&self, branch: &str) -> String {
        hex(
            fnv1a(&[b"git-commit", self.key.as_bytes(), branch.as_bytes()]),
            40,
        )
    }

    /// Unix time of `branch`'s head commit (2024-2025).
    pub fn commit_time(&self, branch: &str) -> i64 {
        let h = fnv1a(&[b"git-time", self.key.as_bytes(), branch.as_bytes()]);
        1_704_067_200 + (h % 63_000_000) as i64
    }

    /// The `i`-th commit back from `branch`'s head (0 = the head).
    pub fn commit_at(&self, branch: &str, i: u64) -> Commit {
        if i == 0 {
            return Commit {
                hash: self.commit(branch),
                subject: self.subject.clone(),
                time: self.commit_time(branch),
            };
        }
        let h = fnv1a(&[
            b"git-commit",
            self.key.as_bytes(),
            branch.as_bytes(),
            &i.to_le_bytes(),
        ]);
        Commit {
            hash: hex(h, 40),
            subject: pick(SUBJECTS, h >> 7).to_string(),
            time: self.commit_time(branch) - (i as i64) * 3600 * (2 + (h % 70) as i64),
        }
    }

    /// How many commits a full clone's history has.
    pub fn history_len(&self) -> u64 {
        (self.full.objects / 20).clamp(1, 2000)
    }

    /// Whether `branch` exists.
    pub fn has_branch(&self, branch: &str) -> bool {
        self.branches.iter().any(|b| b == branch)
    }
}

impl Catalog {
    /// The repository at `url`, `None` when there is none (404).
    pub fn repo(&self, url: &str) -> Option<Repo> {
        let key = repo_key(url);
        let pinned = self
            .repos
            .iter()
            .find(|(k, _)| repo_key(k) == key)
            .map(|(_, e)| e.clone());
        let e = pinned.unwrap_or_default();
        if e.missing {
            return None;
        }
        let (scheme, rest) = key.split_once("://").unwrap_or(("", key.as_str()));
        let mut parts = rest.split('/').filter(|p| !p.is_empty());
        let host = parts.next().unwrap_or("").to_string();
        let segs: Vec<&str> = parts.collect();
        let hosted = matches!(host.as_str(), "github.com" | "gitlab.com" | "bitbucket.org");
        // A hosting site has no repository at `/owner` alone.
        if hosted && segs.len() < 2 {
            return None;
        }
        let name = segs.last().copied().unwrap_or(host.as_str()).to_string();
        let owner = match segs.len() {
            0 | 1 => host.clone(),
            n => segs[n - 2].to_string(),
        };
        let h = fnv1a(&[b"git-repo", key.as_bytes()]);
        let default_branch = e.default_branch.clone().unwrap_or_else(|| {
            if h.is_multiple_of(5) {
                "master".into()
            } else {
                "main".into()
            }
        });
        let mut branches = vec![default_branch.clone()];
        for b in &e.branches {
            if !branches.contains(b) {
                branches.push(b.clone());
            }
        }
        let bitmap = scheme != "file" && hosted;
        let subject = e.subject.clone().unwrap_or_else(|| {
            let s = pick(SUBJECTS, h >> 23);
            if h.is_multiple_of(3) {
                format!(
                    "Merge pull request #{} from {}/{}",
                    in_range(h >> 29, 2, 400),
                    pick(ADJ, h >> 31).to_ascii_lowercase(),
                    pick(NOUN, h >> 37).to_ascii_lowercase()
                )
            } else {
                s.to_string()
            }
        });
        Some(Repo {
            key,
            name,
            owner,
            requires_auth: e.requires_auth,
            default_branch,
            branches,
            full: PackStats::full(&e, h, bitmap),
            rate: e.rate_bytes_per_s,
            subject,
            files: e.files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_credentials_slashes_and_dot_git() {
        assert_eq!(
            repo_key("https://u:t@GitHub.com/a/B.git/"),
            "https://github.com/a/B"
        );
        assert_eq!(repo_key("file:///srv/x"), "file:///srv/x");
    }

    #[test]
    fn any_repo_is_deterministic_and_pins_apply() {
        let mut c = Catalog::default();
        let a = c.repo("https://github.com/a/b").unwrap();
        assert_eq!(Some(a.clone()), c.repo("https://github.com/a/b.git"));
        assert!(a.full.pack_reused > 0 && a.full.counted < a.full.objects);
        assert!(c.repo("https://github.com/a").is_none());
        c.repos.insert(
            "https://github.com/a/b.git".into(),
            RepoEntry {
                missing: true,
                ..RepoEntry::default()
            },
        );
        assert!(c.repo("https://github.com/a/b").is_none());
        let s = a.full.shallow(1);
        assert!(s.objects < a.full.objects && s.deltas == 0);
    }
}
