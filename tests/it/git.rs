//! `git clone` over real SSH (OpenSSH client, no pty): a custom node
//! cloned into ComfyUI's custom_nodes, then the tree it left read with
//! `ls`, `cat`, `cd`, `pip install -r`, `du` and `git -C X log --oneline -1` in the same
//! session; and a private repository failing as git does without a tty.

use std::collections::BTreeMap;
use std::sync::Arc;

use fakessh::instance::InstanceConfig;
use fakessh::net::git::RepoEntry;
use fakessh::net::{Catalog, ToolConfig};
use fakessh::server::AuthPolicy;

use crate::support::TestInstance;

const URL: &str = "https://github.com/acme/ComfyUI-Test-Nodes.git";

async fn gpu() -> TestInstance {
    let catalog = Catalog {
        repos: BTreeMap::from([
            (
                URL.to_string(),
                RepoEntry {
                    objects: Some(812),
                    deltas: Some(301),
                    pack_size: Some(2_400_000),
                    subject: Some("Add the upscale node".into()),
                    ..RepoEntry::default()
                },
            ),
            (
                "https://github.com/acme/secret-nodes".to_string(),
                RepoEntry {
                    requires_auth: true,
                    ..RepoEntry::default()
                },
            ),
        ]),
        ..Catalog::default()
    };
    let config = InstanceConfig {
        seed: 3,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(catalog),
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    TestInstance::start_with(config, AuthPolicy::default()).await
}

#[tokio::test]
async fn a_cloned_custom_node_is_a_tree_the_session_can_read() {
    let gpu = gpu().await;
    let ran = gpu
        .ssh(&format!(
            "cd $UI_HOME/custom_nodes && git clone {URL} && ls ComfyUI-Test-Nodes && cat ComfyUI-Test-Nodes/requirements.txt \
             && cd ComfyUI-Test-Nodes && head -1 README.md && cat .git/HEAD && cd .. \
             && git -C ComfyUI-Test-Nodes log --oneline -1 && git -C ComfyUI-Test-Nodes rev-parse HEAD \
             && pip install -r ComfyUI-Test-Nodes/requirements.txt && du -s ComfyUI-Test-Nodes/.git/objects/pack"
        ))
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert_eq!(ran.stderr, "Cloning into 'ComfyUI-Test-Nodes'...\n");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "LICENSE",
            "README.md",
            "__init__.py",
            "nodes.py",
            "requirements.txt"
        ]
    );
    assert!(ran.stdout.contains("numpy\npillow\n"));
    assert!(ran
        .stdout
        .contains("Requirement already satisfied: numpy in /venv/main/lib/python3.11/site-packages (1.26.4)\n"));
    assert!(ran
        .stdout
        .contains("# ComfyUI-Test-Nodes\nref: refs/heads/main\n"));
    let log = lines
        .iter()
        .find(|l| l.ends_with(" Add the upscale node"))
        .expect("log line");
    let full = lines
        .iter()
        .find(|l| l.len() == 40 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .expect("rev-parse line");
    assert_eq!(&log[..7], &full[..7]);
    // The pack (2.4 MB, sparse on the host) counts in full.
    let du: u64 = lines
        .last()
        .and_then(|l| l.split('\t').next())
        .and_then(|k| k.parse().ok())
        .expect("du");
    assert!(du >= 2_340, "{du}");

    // Same seed, same bytes: a second clone of the same URL elsewhere.
    let again = gpu
        .ssh(&format!(
            "cd /tmp && git clone -q {URL} && git -C ComfyUI-Test-Nodes log --oneline -1"
        ))
        .await;
    assert_eq!(again.status, 0, "{again:?}");
    assert_eq!(again.stdout, format!("{log}\n"));
}

#[tokio::test]
async fn a_private_repo_fails_as_without_a_tty() {
    let gpu = gpu().await;
    let ran = gpu
        .ssh("cd /workspace && git clone https://github.com/acme/secret-nodes; echo rc=$?; ls secret-nodes")
        .await;
    assert_eq!(
        ran.stderr.lines().next(),
        Some("Cloning into 'secret-nodes'...")
    );
    assert!(ran.stderr.contains(
        "fatal: could not read Username for 'https://github.com': No such device or address\n"
    ));
    assert!(ran.stdout.starts_with("rc=128\n"), "{ran:?}");
    assert!(
        ran.stderr.contains("No such file or directory"),
        "the clone is removed"
    );
}

#[tokio::test]
async fn a_dropped_pack_fails_the_first_clone_and_the_retry_lands() {
    use fakessh::faults::{Fault, FaultRule};
    let gpu = gpu().await;
    gpu.instance
        .faults
        .arm(
            FaultRule::for_tool("git")
                .inject(Fault::DropAt { percent: 50 })
                .times(1),
        )
        .expect("rule");
    let cmd = format!("cd /workspace && git clone --progress {URL}");
    let failed = gpu.ssh(&cmd).await;
    assert_eq!(failed.status, 128, "{failed:?}");
    assert!(failed
        .stderr
        .contains("error: RPC failed; curl 56 Recv failure: Connection reset by peer\n"));
    assert!(failed.stderr.contains("\nfatal: early EOF\n"));
    let again = gpu
        .ssh(&format!("{cmd} && ls ComfyUI-Test-Nodes/nodes.py"))
        .await;
    assert_eq!(again.status, 0, "{again:?}");
    assert!(again
        .stderr
        .contains("Resolving deltas: 100% (301/301), done.\n"));
    assert_eq!(again.stdout, "ComfyUI-Test-Nodes/nodes.py\n");
}
