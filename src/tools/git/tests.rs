//! `git` through a real [`Ctx`]: every tool-depth fault in git's own
//! words and exit codes, the clone's options, the tree it leaves, and the
//! subcommands run on it.

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan};
use crate::instance::{Instance, InstanceConfig};
use crate::net::git::RepoEntry;
use crate::net::{Catalog, ToolConfig};
use crate::tools::test_run;

const URL: &str = "https://github.com/acme/ComfyUI-Test.git";
const DIR: &str = "/workspace/ComfyUI-Test";
const PRIVATE: &str = "https://github.com/acme/ComfyUI-Private";

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    c.repos.insert(
        URL.into(),
        RepoEntry {
            branches: vec!["dev".into()],
            objects: Some(500),
            deltas: Some(200),
            pack_reused: Some(400),
            pack_size: Some(1_000_000),
            rate_bytes_per_s: Some(1_000_000.0),
            subject: Some("Add the test node".into()),
            ..RepoEntry::default()
        },
    );
    c.repos.insert(
        "file:///srv/none".into(),
        RepoEntry {
            missing: true,
            ..RepoEntry::default()
        },
    );
    c.repos.insert(
        PRIVATE.into(),
        RepoEntry {
            requires_auth: true,
            ..RepoEntry::default()
        },
    );
    c
}

struct Ran {
    out: String,
    err: String,
    rc: Option<i32>,
    plan: FaultPlan,
}

/// One instance; commands run in it one after the other.
struct Machine {
    inst: Arc<Instance>,
}

impl Machine {
    fn new() -> Self {
        Machine {
            inst: test_run::instance(catalog(), 0.0),
        }
    }

    async fn run_full(
        &self,
        args: &[&str],
        fault: Option<Fault>,
        tty: bool,
        env: &[(&str, &str)],
        limit: Duration,
    ) -> Ran {
        let plan = test_run::plan(fault);
        // git prints `\e[K` only with a TERM that is not dumb.
        let mut all = vec![("TERM", "xterm")];
        all.extend_from_slice(env);
        let call = test_run::Call {
            tool: "git",
            args,
            env: &all,
            plan: plan.clone(),
            cols: tty.then_some(80),
            stdin: None,
            limit,
        };
        let (out, err, rc) = test_run::run(&self.inst, call).await;
        Ran {
            out: String::from_utf8_lossy(&out).into_owned(),
            err: String::from_utf8_lossy(&err).into_owned(),
            rc,
            plan,
        }
    }

    async fn run(&self, args: &[&str]) -> Ran {
        self.run_full(args, None, false, &[], Duration::from_secs(20))
            .await
    }

    async fn fault(&self, args: &[&str], fault: Fault) -> Ran {
        self.run_full(args, Some(fault), false, &[], Duration::from_secs(20))
            .await
    }

    fn exists(&self, path: &str) -> bool {
        self.inst.sandbox.host_path(path).exists()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.inst.sandbox.host_path(path)).unwrap_or_default()
    }

    fn size(&self, path: &str) -> Option<u64> {
        std::fs::metadata(self.inst.sandbox.host_path(path))
            .ok()
            .map(|m| m.len())
    }
}

async fn clone_with(fault: Fault) -> (Machine, Ran) {
    let m = Machine::new();
    let r = m
        .run_full(
            &["clone", "--progress", URL],
            Some(fault),
            false,
            &[],
            Duration::from_secs(20),
        )
        .await;
    (m, r)
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn git_http_404_is_githubs_repository_not_found() {
    let m = Machine::new();
    let r = m.fault(&["clone", URL], Fault::Http { status: 404 }).await;
    assert_eq!(r.rc, Some(128));
    assert_eq!(
        r.err,
        format!("Cloning into 'ComfyUI-Test'...\nremote: Repository not found.\nfatal: repository '{URL}/' not found\n")
    );
    assert!(!m.exists(DIR), "the half-made clone is removed");
}

#[tokio::test]
async fn git_http_401_cannot_ask_for_a_username() {
    let m = Machine::new();
    let r = m.fault(&["clone", URL], Fault::Http { status: 401 }).await;
    assert_eq!(r.rc, Some(128));
    assert!(r.err.ends_with(
        "fatal: could not read Username for 'https://github.com': No such device or address\n"
    ));
}

#[tokio::test]
async fn git_http_403_and_5xx_are_the_requested_url_returned_error() {
    for status in [403, 500, 502, 503] {
        let m = Machine::new();
        let r = m.fault(&["clone", URL], Fault::Http { status }).await;
        assert_eq!(r.rc, Some(128), "{status}");
        assert!(r.err.ends_with(&format!(
            "fatal: unable to access '{URL}/': The requested URL returned error: {status}\n"
        )));
        assert!(!m.exists(DIR));
    }
}

#[tokio::test]
async fn git_drop_is_an_rpc_failure_and_early_eof() {
    let (m, r) = clone_with(Fault::DropAt { percent: 50 }).await;
    assert_eq!(r.rc, Some(128));
    assert!(
        r.err.contains("Receiving objects:  49% (245/500)"),
        "{}",
        r.err
    );
    assert!(r
        .err
        .contains("error: RPC failed; curl 56 Recv failure: Connection reset by peer\nerror: "));
    assert!(r.err.ends_with(
        " bytes of body are still expected\nfetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output\n"
    ));
    assert!(!r.err.contains(", done.\nResolving"));
    assert!(!m.exists(DIR));
}

#[tokio::test]
async fn git_stall_waits_and_a_forever_stall_never_ends() {
    let (m, r) = clone_with(Fault::StallAt {
        percent: 50,
        stall_ms: Some(30_000),
    })
    .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    // 1 MB in 1 s plus 30 s of nothing: the average rate falls to ~31 KiB/s.
    assert!(
        r.err
            .contains("Receiving objects: 100% (500/500), 976.56 KiB | 31.00 KiB/s, done."),
        "{}",
        r.err
    );
    assert!(m.exists(&format!("{DIR}/README.md")));

    let m = Machine::new();
    let r = m
        .run_full(
            &["clone", URL],
            Some(Fault::StallAt {
                percent: 50,
                stall_ms: None,
            }),
            false,
            &[],
            Duration::from_millis(500),
        )
        .await;
    assert_eq!(r.rc, None, "git has no low-speed limit: it waits");
}

#[tokio::test]
async fn git_slow_caps_the_rate() {
    let (_, r) = clone_with(Fault::Slow {
        bytes_per_s: 100_000,
    })
    .await;
    assert_eq!(r.rc, Some(0));
    assert!(
        r.err
            .contains("Receiving objects: 100% (500/500), 976.56 KiB | 97.00 KiB/s, done."),
        "{}",
        r.err
    );
}

#[tokio::test]
async fn git_dns_failure_and_refusal_are_unable_to_access() {
    let m = Machine::new();
    let r = m.fault(&["clone", URL], Fault::DnsFailure).await;
    assert_eq!(r.rc, Some(128));
    assert_eq!(
        r.err,
        format!("Cloning into 'ComfyUI-Test'...\nfatal: unable to access '{URL}/': Could not resolve host: github.com\n")
    );
    let r = m.fault(&["clone", URL], Fault::ConnectionRefused).await;
    assert_eq!(r.rc, Some(128));
    let tail = r
        .err
        .split("github.com port 443 after ")
        .nth(1)
        .unwrap_or("");
    assert!(
        tail.ends_with(" ms: Couldn't connect to server\n"),
        "{}",
        r.err
    );
    assert!(r.err.contains(&format!(
        "fatal: unable to access '{URL}/': Failed to connect to "
    )));
    assert!(!m.exists(DIR));
}

#[tokio::test]
async fn git_disk_full_is_a_write_error() {
    let (m, r) = clone_with(Fault::DiskFull { percent: 50 }).await;
    assert_eq!(r.rc, Some(128));
    assert!(r.err.ends_with(
        "fatal: write error: No space left on device\nfatal: fetch-pack: invalid index-pack output\n"
    ));
    assert!(!m.exists(DIR));
}

#[tokio::test]
async fn git_disconnect_stops_mid_pack() {
    let (m, r) = clone_with(Fault::DisconnectAt { percent: 40 }).await;
    assert!(r.plan.session.disconnect_requested());
    assert!(!r.err.contains("done.\nResolving"));
    let last = r.err.rsplit('\r').find(|s| !s.is_empty()).unwrap_or("");
    assert_eq!(last, "Receiving objects:  40% (200/500)");
    assert!(!m.exists(DIR));
}

// ---------------------------------------------------------------- clone

#[tokio::test]
async fn a_clone_leaves_a_custom_node_and_its_git_dir() {
    let m = Machine::new();
    let r = m.run(&["clone", URL]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (Some(0), "Cloning into 'ComfyUI-Test'...\n")
    );
    assert!(m
        .read(&format!("{DIR}/README.md"))
        .starts_with("# ComfyUI-Test\n"));
    assert!(m
        .read(&format!("{DIR}/__init__.py"))
        .contains("NODE_CLASS_MAPPINGS"));
    assert!(m.read(&format!("{DIR}/nodes.py")).contains("class Test:"));
    assert!(m
        .read(&format!("{DIR}/requirements.txt"))
        .contains("numpy\n"));
    assert!(m.exists(&format!("{DIR}/LICENSE")));
    assert_eq!(
        m.read(&format!("{DIR}/.git/HEAD")),
        "ref: refs/heads/main\n"
    );
    let cfg = m.read(&format!("{DIR}/.git/config"));
    assert!(cfg.contains(&format!(
        "\turl = {URL}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
    )));
    assert!(cfg.contains("[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n"));
    let packed = m.read(&format!("{DIR}/.git/packed-refs"));
    assert!(
        packed.contains(" refs/remotes/origin/dev\n")
            && packed.contains(" refs/remotes/origin/main\n")
    );
    let pack_dir = m
        .inst
        .sandbox
        .host_path(&format!("{DIR}/.git/objects/pack"));
    let pack = std::fs::read_dir(pack_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".pack"))
        .expect("a pack");
    assert_eq!(pack.metadata().unwrap().len(), 1_000_000);
    assert!(!m.exists(&format!("{DIR}/.git/shallow")));
}

#[tokio::test]
async fn progress_shows_on_a_tty_or_with_progress_only() {
    let m = Machine::new();
    let r = m
        .run_full(
            &["clone", URL, "a"],
            None,
            true,
            &[],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(r.rc, Some(0));
    assert!(r
        .err
        .contains("remote: Enumerating objects: 500, done.\x1b[K\n"));
    assert!(r
        .err
        .contains("remote: Counting objects: 100% (100/100), done.\x1b[K\n"));
    assert!(r.err.contains("pack-reused 400 (from 1)\x1b[K\n"));
    assert!(r.err.contains("Resolving deltas: 100% (200/200), done.\n"));
    let r = m.run(&["clone", "--progress", URL, "b"]).await;
    assert!(r
        .err
        .contains("remote: Enumerating objects: 500, done.        \n"));
    let r = m
        .run_full(
            &["clone", "-q", URL, "c"],
            None,
            true,
            &[],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!((r.rc, r.err.as_str()), (Some(0), ""));
    // --progress wins over -q (only `Cloning into` goes).
    let r = m.run(&["clone", "-q", "--progress", URL, "d"]).await;
    assert!(
        r.err.starts_with("remote: Enumerating objects: 500, done."),
        "{}",
        r.err
    );
}

#[tokio::test]
async fn depth_one_is_a_smaller_shallow_pack() {
    let m = Machine::new();
    let r = m.run(&["clone", "--progress", "--depth", "1", URL]).await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
    assert!(
        r.err.contains("remote: Enumerating objects: 41, done."),
        "{}",
        r.err
    );
    assert!(r
        .err
        .contains("remote: Total 41 (delta 0), reused 24 (delta 0), pack-reused 0 (from 0)"));
    assert!(!r.err.contains("Resolving deltas"));
    let head = m.read(&format!("{DIR}/.git/refs/heads/main"));
    assert_eq!(m.read(&format!("{DIR}/.git/shallow")), head);
    assert!(m
        .read(&format!("{DIR}/.git/config"))
        .contains("fetch = +refs/heads/main:refs/remotes/origin/main\n"));
    assert!(!m
        .read(&format!("{DIR}/.git/packed-refs"))
        .contains("origin/dev"));
    let r = m.run(&["clone", "--depth", "0", URL, "x"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (Some(128), "fatal: depth 0 is not a positive number\n")
    );
}

#[tokio::test]
async fn branches_are_chosen_or_missing() {
    let m = Machine::new();
    let r = m.run(&["clone", "-b", "dev", URL]).await;
    assert_eq!(r.rc, Some(0));
    assert_eq!(m.read(&format!("{DIR}/.git/HEAD")), "ref: refs/heads/dev\n");
    let r = m.run(&["clone", "-b", "nope", URL, "x"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (
            Some(128),
            "Cloning into 'x'...\nfatal: Remote branch nope not found in upstream origin\n"
        )
    );
    let r = m
        .run(&["clone", "--single-branch", "-b", "nope", URL, "x"])
        .await;
    assert!(r.err.contains("warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin\n"));
    assert!(!m.exists("/workspace/x"));
}

#[tokio::test]
async fn a_private_repo_needs_credentials() {
    let m = Machine::new();
    let r = m.run(&["clone", PRIVATE]).await;
    assert_eq!(r.rc, Some(128));
    assert_eq!(r.err, "Cloning into 'ComfyUI-Private'...\nfatal: could not read Username for 'https://github.com': No such device or address\n");
    let r = m
        .run_full(
            &["clone", PRIVATE],
            None,
            false,
            &[("GIT_TERMINAL_PROMPT", "0")],
            Duration::from_secs(20),
        )
        .await;
    assert!(r
        .err
        .ends_with("'https://github.com': terminal prompts disabled\n"));
    let r = m
        .run(&[
            "clone",
            "https://x:ghp_token@github.com/acme/ComfyUI-Private",
        ])
        .await;
    assert_eq!(r.rc, Some(0), "{}", r.err);
}

#[tokio::test]
async fn destination_and_url_errors() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let r = m.run(&["clone", URL]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (Some(128), "fatal: destination path 'ComfyUI-Test' already exists and is not an empty directory.\n")
    );
    let r = m.run(&["clone", "file:///srv/none"]).await;
    assert!(r.err.starts_with("Cloning into 'none'...\nfatal: '/srv/none' does not appear to be a git repository\nfatal: Could not read from remote repository.\n"));
    let r = m.run(&["clone", "git@github.com:acme/x.git"]).await;
    assert!(r
        .err
        .contains("git@github.com: Permission denied (publickey).\n"));
    assert_eq!(r.rc, Some(128));
    let r = m.run(&["clone", "/srv/nowhere", "y"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (
            Some(128),
            "fatal: repository '/srv/nowhere' does not exist\n"
        )
    );
    let r = m.run(&["clone", "ComfyUI-Test", "copy"]).await;
    assert_eq!(r.rc, Some(1));
    assert!(r
        .err
        .ends_with("not emulated by fakessh (use a file:// or https:// URL)\n"));
    assert!(!m.exists("/workspace/copy"));
    let r = m.run(&["clone"]).await;
    assert_eq!(r.rc, Some(129));
    assert!(r
        .err
        .starts_with("fatal: You must specify a repository to clone.\n\nusage: git clone"));
    let r = m.run(&["clone", "--bogus", URL]).await;
    assert_eq!(r.rc, Some(129));
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let (a, b) = (Machine::new(), Machine::new());
    let ra = a
        .run(&["clone", "--progress", "https://github.com/x/ComfyUI-Any"])
        .await;
    let rb = b
        .run(&["clone", "--progress", "https://github.com/x/ComfyUI-Any"])
        .await;
    assert_eq!(ra.err, rb.err);
    assert_eq!(
        a.read("/workspace/ComfyUI-Any/.git/refs/heads/main"),
        b.read("/workspace/ComfyUI-Any/.git/refs/heads/main")
    );
}

// ---------------------------------------------------------------- porcelain

#[tokio::test]
async fn subcommands_on_a_clone() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let d = "ComfyUI-Test";
    let head = m
        .read(&format!("{DIR}/.git/refs/heads/main"))
        .trim()
        .to_string();
    let r = m.run(&["-C", d, "log", "--oneline", "-1"]).await;
    assert_eq!(r.out, format!("{} Add the test node\n", &head[..7]));
    let r = m.run(&["-C", d, "log", "-1", "--format=%H"]).await;
    assert_eq!(r.out, format!("{head}\n"));
    let r = m.run(&["-C", d, "log", "-1"]).await;
    assert!(r.out.starts_with(&format!(
        "commit {head}\nAuthor: acme <acme@users.noreply.github.com>\nDate:   "
    )));
    assert!(r.out.ends_with("\n\n    Add the test node\n"));
    assert_eq!(
        m.run(&["-C", d, "rev-parse", "HEAD"]).await.out,
        format!("{head}\n")
    );
    assert_eq!(
        m.run(&["-C", d, "rev-parse", "--abbrev-ref", "HEAD"])
            .await
            .out,
        "main\n"
    );
    assert_eq!(
        m.run(&["-C", d, "status"]).await.out,
        "On branch main\nYour branch is up to date with 'origin/main'.\n\nnothing to commit, working tree clean\n"
    );
    assert_eq!(m.run(&["-C", d, "pull"]).await.out, "Already up to date.\n");
    assert_eq!(
        m.run(&["-C", d, "remote", "-v"]).await.out,
        format!("origin\t{URL} (fetch)\norigin\t{URL} (push)\n")
    );
    assert_eq!(m.run(&["-C", d, "branch"]).await.out, "* main\n");
    let r = m.run(&["-C", d, "checkout", "dev"]).await;
    assert_eq!(r.out, "branch 'dev' set up to track 'origin/dev'.\n");
    assert_eq!(r.err, "Switched to a new branch 'dev'\n");
    assert_eq!(m.run(&["-C", d, "branch"]).await.out, "* dev\n  main\n");
    let r = m.run(&["-C", d, "checkout", "nope"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (
            Some(1),
            "error: pathspec 'nope' did not match any file(s) known to git\n"
        )
    );
    let r = m.run(&["-C", d, "log", "--oneline", "-1"]).await;
    assert_ne!(
        r.out,
        format!("{} Add the test node\n", &head[..7]),
        "dev has its own head"
    );
}

#[tokio::test]
async fn pull_reaches_the_remote_through_faults() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let r = m
        .run_full(
            &["-C", "ComfyUI-Test", "pull"],
            Some(Fault::DnsFailure),
            false,
            &[],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(r.rc, Some(128));
    assert_eq!(
        r.err,
        format!("fatal: unable to access '{URL}/': Could not resolve host: github.com\n")
    );
}

#[tokio::test]
async fn outside_a_repo_and_unknown_commands() {
    let m = Machine::new();
    for cmd in ["status", "log", "pull", "rev-parse", "branch"] {
        let r = m.run(&[cmd]).await;
        assert_eq!(r.rc, Some(128), "{cmd}");
        assert_eq!(
            r.err,
            "fatal: not a git repository (or any of the parent directories): .git\n"
        );
    }
    let r = m.run(&["foo"]).await;
    assert_eq!((r.rc, r.err.as_str()), (Some(1), "git: 'foo' is not a git command. See 'git --help'.\n\nThe most similar command is\n\thook\n"));
    let r = m.run(&["stat"]).await;
    assert!(r
        .err
        .ends_with("The most similar commands are\n\tstatus\n\tstage\n\tstash\n"));
    let r = m.run(&["commit", "-m", "x"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (Some(1), "git: 'commit' is not emulated by fakessh\n")
    );
    assert_eq!(m.run(&["--version"]).await.out, "git version 2.47.3\n");
    let r = m.run(&["-C", "/nonexistent", "status"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (
            Some(128),
            "fatal: cannot change to '/nonexistent': No such file or directory\n"
        )
    );
    assert_eq!(m.run(&[]).await.rc, Some(1));
}

#[tokio::test]
async fn global_config_lives_in_the_home_gitconfig() {
    let m = Machine::new();
    assert_eq!(
        m.run(&["config", "--global", "user.name", "Ada"]).await.rc,
        Some(0)
    );
    assert_eq!(
        m.run(&["config", "--global", "user.email", "ada@example.org"])
            .await
            .rc,
        Some(0)
    );
    assert_eq!(
        m.read("/root/.gitconfig"),
        "[user]\n\tname = Ada\n\temail = ada@example.org\n"
    );
    assert_eq!(
        m.run(&["config", "--global", "user.name"]).await.out,
        "Ada\n"
    );
    assert_eq!(
        m.run(&["config", "--global", "--get", "user.nope"])
            .await
            .rc,
        Some(1)
    );
    let r = m.run(&["config", "--global", "foo", "bar"]).await;
    assert_eq!(
        (r.rc, r.err.as_str()),
        (Some(1), "error: key does not contain a section: foo\n")
    );
    assert!(m
        .run(&["config", "--global", "--list"])
        .await
        .out
        .contains("user.email=ada@example.org\n"));
    let _ = m.size("/root/.gitconfig");
}

#[tokio::test]
async fn a_failing_pack_request_is_an_rpc_error() {
    let m = Machine::new();
    let mut c = catalog();
    c.files.insert(
        format!("{URL}/git-upload-pack"),
        crate::net::catalog::FileEntry {
            status: Some(500),
            ..Default::default()
        },
    );
    let config = InstanceConfig {
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(c),
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let m2 = Machine {
        inst: Instance::create(config).expect("instance"),
    };
    std::fs::create_dir_all(m2.inst.sandbox.host_path("/workspace")).unwrap();
    let r = m2.run(&["clone", URL]).await;
    assert_eq!(r.rc, Some(128));
    assert!(r.err.ends_with(
        "error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500\nfatal: expected 'packfile'\n"
    ));
    assert!(!m2.exists(DIR));
    assert!(!m.exists(DIR));
}

#[tokio::test]
async fn garbage_refs_and_huge_pins_never_panic() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let refs = m
        .inst
        .sandbox
        .host_path(&format!("{DIR}/.git/refs/heads/main"));
    std::fs::write(&refs, "é\n").unwrap();
    for args in [
        &["-C", "ComfyUI-Test", "log", "--oneline"][..],
        &["-C", "ComfyUI-Test", "log", "--format=%h %t %H"],
        &["-C", "ComfyUI-Test", "rev-parse", "--short", "HEAD"],
        &["-C", "ComfyUI-Test", "status"],
        &["-C", "ComfyUI-Test", "branch", "-a"],
    ] {
        assert!(m.run(args).await.rc.is_some());
    }
    std::fs::write(
        m.inst.sandbox.host_path(&format!("{DIR}/.git/HEAD")),
        "ééééééééé\n",
    )
    .unwrap();
    assert_eq!(m.run(&["-C", "ComfyUI-Test", "status"]).await.rc, Some(0));

    let mut c = catalog();
    c.repos.insert(
        "https://github.com/acme/huge".into(),
        RepoEntry {
            objects: Some(u64::MAX),
            deltas: Some(u64::MAX),
            compressed: Some(u64::MAX),
            pack_size: Some(u64::MAX),
            ..RepoEntry::default()
        },
    );
    let big = Machine {
        inst: Instance::create(InstanceConfig {
            time_scale: 0.0,
            tools: ToolConfig {
                catalog: Arc::new(c),
                ..ToolConfig::default()
            },
            ..InstanceConfig::default()
        })
        .expect("instance"),
    };
    std::fs::create_dir_all(big.inst.sandbox.host_path("/workspace")).unwrap();
    let r = big
        .run(&[
            "clone",
            "--progress",
            "--depth=99999999999999999999999",
            "https://github.com/acme/huge",
        ])
        .await;
    assert_eq!(r.rc, Some(128));
    let r = big
        .run_full(
            &["clone", "-q", "https://github.com/acme/huge"],
            None,
            false,
            &[],
            Duration::from_secs(60),
        )
        .await;
    assert!(r.rc.is_some(), "{}", r.err);
}

#[tokio::test]
async fn reads_without_global_see_the_users_and_the_repos_config() {
    let m = Machine::new();
    assert_eq!(
        m.run(&["config", "--global", "user.name", "Ada"]).await.rc,
        Some(0)
    );
    assert_eq!(m.run(&["config", "user.name"]).await.out, "Ada\n");
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let r = m
        .run(&["-C", "ComfyUI-Test", "config", "remote.origin.url"])
        .await;
    assert_eq!(r.out, format!("{URL}\n"));
    assert_eq!(
        m.run(&["-C", "ComfyUI-Test", "config", "user.name"])
            .await
            .out,
        "Ada\n"
    );
    assert_eq!(m.run(&["config", "user.name", "Bob"]).await.rc, Some(128));
}

#[tokio::test]
async fn checking_out_an_older_commit_detaches_head() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let d = "ComfyUI-Test";
    let log = m.run(&["-C", d, "log", "--oneline", "-3"]).await.out;
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    let (old, subject) = lines[2].split_once(' ').unwrap();
    let r = m.run(&["-C", d, "checkout", old]).await;
    assert_eq!(r.rc, Some(0));
    assert!(r.err.starts_with(&format!(
        "Note: switching to '{old}'.\n\nYou are in 'detached HEAD' state."
    )));
    assert!(r
        .err
        .ends_with(&format!("\nHEAD is now at {old} {subject}\n")));
    assert_eq!(
        m.run(&["-C", d, "status"]).await.out,
        format!("HEAD detached at {old}\nnothing to commit, working tree clean\n")
    );
    assert_eq!(
        m.run(&["-C", d, "log", "--oneline", "-1"]).await.out,
        format!("{}\n", lines[2])
    );
    let r = m.run(&["-C", d, "checkout", "main"]).await;
    assert_eq!(r.err, "Switched to branch 'main'\n");
    assert_eq!(r.out, "Your branch is up to date with 'origin/main'.\n");
    let r = m.run(&["-C", d, "checkout", "deadbeef"]).await;
    assert_eq!(r.rc, Some(1));
    assert_eq!(
        m.run(&["-C", d, "submodule", "update", "--init", "--recursive"])
            .await
            .rc,
        Some(0)
    );
    assert_eq!(m.run(&["submodule", "update"]).await.rc, Some(128));
}

#[tokio::test]
async fn reset_hard_moves_the_branch_to_a_commit_of_the_history() {
    let m = Machine::new();
    assert_eq!(m.run(&["clone", URL]).await.rc, Some(0));
    let d = "ComfyUI-Test";
    let log = m.run(&["-C", d, "log", "--oneline", "-2"]).await.out;
    let second = log.lines().nth(1).unwrap().to_string();
    let (h, _) = second.split_once(' ').unwrap();
    let r = m.run(&["-C", d, "reset", "--hard", h]).await;
    assert_eq!(
        (r.rc, r.out.clone()),
        (Some(0), format!("HEAD is now at {second}\n"))
    );
    assert_eq!(
        m.run(&["-C", d, "log", "--oneline", "-1"]).await.out,
        format!("{second}\n")
    );
    assert_eq!(
        m.run(&["-C", d, "status"]).await.out,
        "On branch main\nYour branch is behind 'origin/main' by 1 commit, and can be fast-forwarded.\n  (use \"git pull\" to update your local branch)\n\nnothing to commit, working tree clean\n"
    );
    let r = m.run(&["-C", d, "pull"]).await;
    assert!(r.out.starts_with(&format!("Updating {h}..")), "{}", r.out);
    assert!(
        r.out.contains("\nFast-forward\n nodes.py | 6 +++---\n"),
        "{}",
        r.out
    );
    assert_eq!(m.run(&["-C", d, "pull"]).await.out, "Already up to date.\n");
    let r = m.run(&["-C", d, "reset", "--hard", "nope"]).await;
    assert_eq!(r.rc, Some(128));
    assert!(r
        .err
        .starts_with("fatal: ambiguous argument 'nope': unknown revision"));
}
