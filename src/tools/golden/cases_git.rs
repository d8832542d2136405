//! The git_* captures and how to reproduce them. The success captures
//! cloned a local `file://` repository of wget's source (54643 objects,
//! 23178 deltas, a 29.89 MiB pack at about 36 MiB/s): [`wget_repo`] pins
//! it in the catalog.

use super::cases::{case, sized, Case};
use crate::net::git::RepoEntry;
use crate::net::Catalog;

/// The repository the success captures cloned.
pub const WGET_REPO: &str = "file:///srv/git/wget-src";

/// Pins [`WGET_REPO`] with the capture's object counts and pack.
pub fn wget_repo(c: &mut Catalog) {
    c.repos.insert(
        WGET_REPO.into(),
        RepoEntry {
            default_branch: Some("master".into()),
            branches: vec!["master".into(), "1.21.x".into()],
            objects: Some(54_643),
            deltas: Some(23_178),
            compressed: Some(20_858),
            reused: Some(54_634),
            reused_deltas: Some(23_170),
            pack_reused: Some(0),
            pack_size: Some(31_340_000),
            rate_bytes_per_s: Some(37_900_000.0),
            subject: Some("* NEWS: Announce 1.25.0".into()),
            ..RepoEntry::default()
        },
    );
}

/// Every git_* capture.
pub fn cases() -> Vec<Case> {
    vec![
        case("git_tty", &["clone", WGET_REPO, "wget-src"])
            .tty(100)
            .env("TERM", "xterm")
            .patch(wget_repo),
        case("git_notty", &["clone", WGET_REPO, "wget-src2"]).patch(wget_repo),
        case(
            "git_notty_progress",
            &["clone", "--progress", WGET_REPO, "wget-src3"],
        )
        .patch(wget_repo),
        case("git_exists", &["clone", WGET_REPO, "wget-src"])
            .patch(wget_repo)
            .setup(|i| sized(i, "/workspace/wget-src/README", 100)),
        case("git_404", &["clone", "S/404/repo.git"]).patch(|c| {
            c.repos.insert(
                "http://localhost:8765/404/repo.git".into(),
                RepoEntry {
                    missing: true,
                    ..RepoEntry::default()
                },
            );
        }),
        // /workspace already holds the instance's ComfyUI.
        case(
            "git_dns",
            &["clone", "https://github.invalid/comfyanonymous/ComfyUI.git"],
        )
        .dir("/tmp"),
        case("git_refused", &["clone", "http://127.0.0.1:1/x.git"]),
    ]
}
