//! curl over real SSH: downloads through the OpenSSH client, then the
//! files they left, seen with `ls -l`, `du`, `cat` and `wc` in the same
//! session; the same seed gives the same bytes.

use std::sync::Arc;

use fakessh::instance::InstanceConfig;
use fakessh::net::catalog::FileEntry;
use fakessh::net::{Catalog, ToolConfig};
use fakessh::server::AuthPolicy;

use crate::support::TestInstance;

const LORA: &str = "https://files.example/loras/add_detail.safetensors";
const JSON: &str = "https://files.example/config.json";

async fn instance() -> TestInstance {
    let mut catalog = Catalog::default();
    catalog.files.insert(
        LORA.into(),
        FileEntry {
            size: Some(3_000_000),
            rate_bytes_per_s: Some(5_000_000.0),
            ..FileEntry::default()
        },
    );
    catalog.files.insert(
        JSON.into(),
        FileEntry {
            size: Some(200),
            ..FileEntry::default()
        },
    );
    let config = InstanceConfig {
        seed: 7,
        time_scale: 0.0,
        tools: ToolConfig {
            catalog: Arc::new(catalog),
            start_time: Some(1_795_686_415),
            jitter: 0.0,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    TestInstance::start_with(config, AuthPolicy::default()).await
}

#[tokio::test]
async fn curl_over_ssh_leaves_files_that_ls_du_and_cat_see() {
    let gpu = instance().await;
    let ran = gpu
        .ssh(&format!(
            "cd /workspace && curl -fsSL --create-dirs -o ComfyUI/models/loras/a.safetensors {LORA} && \
             curl -sS -O {JSON} && ls -l ComfyUI/models/loras/a.safetensors && \
             du -k ComfyUI/models/loras/a.safetensors && cat config.json; \
             curl -s {JSON} | wc -c; curl -s {LORA} | wc -c"
        ))
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert!(ran.stderr.is_empty(), "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[0].contains(" 3000000 "), "{}", ran.stdout);
    assert!(lines[0].ends_with("ComfyUI/models/loras/a.safetensors"));
    assert!(
        lines[1].starts_with("2932\t") || lines[1].starts_with("2936\t"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("{\"name\":\"config.json\""),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3].trim(), "200");
    assert_eq!(lines[4].trim(), "3000000");
    let again = gpu.ssh(&format!("curl -s {JSON}")).await;
    assert_eq!(
        format!("{}\n", again.stdout.trim_end()),
        format!("{}\n", lines[2])
    );
}

#[tokio::test]
async fn curl_over_ssh_prints_the_meter_and_curls_errors() {
    let gpu = instance().await;
    let ran = gpu
        .ssh(&format!("cd /workspace && curl -o m.bin {LORA}"))
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    assert!(ran.stderr.starts_with("  % Total    % Received % Xferd"));
    let last = ran.stderr.rsplit('\r').next().unwrap_or_default();
    assert!(
        last.starts_with("100 2929k  100 2929k    0     0 "),
        "{}",
        ran.stderr
    );
    assert!(last.ends_with('\n'));
    let ran = gpu
        .ssh_with(
            &[],
            "curl -sS -X POST http://localhost:18189/prompt -H 'Content-Type: application/json' -d @-; echo rc=$?",
            b"{\"prompt\": {}}",
        )
        .await;
    assert_eq!(
        ran.stderr,
        "curl: (7) Failed to connect to localhost port 18189 after 0 ms: Couldn't connect to server\n"
    );
    assert_eq!(ran.stdout, "rc=7\n");
    // ComfyUI's own port answers, as ComfyUI does an empty prompt.
    let ran = gpu
        .ssh_with(
            &[],
            "curl -sS -X POST http://localhost:18188/prompt -H 'Content-Type: application/json' -d @-; echo; echo rc=$?",
            b"{\"prompt\": {}}",
        )
        .await;
    assert!(
        ran.stdout.contains("\"prompt_no_outputs\""),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.ends_with("rc=0\n"));
    let ran = gpu.ssh("curl --foo; echo rc=$?").await;
    assert_eq!(ran.stdout, "rc=2\n");
    assert!(ran.stderr.starts_with("curl: option --foo: is unknown\n"));
}
