//! The HTTP API (`fakessh::api::router`) driven without a socket: the
//! downloads API (queue and status files in a temp dir, Markdown resources)
//! and the admin API (faults, journal, reset) over one fake instance.
//!
//! Input: requests separated by `\0`, each written like HTTP/1.1 text:
//! `METHOD PATH` on the first line, `Name: value` header lines, an empty
//! line, then the body. Requests come from a loopback peer unless an
//! `X-Fuzz-Peer: ADDR:PORT` header says otherwise. An input starting with
//! `!` goes to an API started with `--admin-token s3cret`. The files and the
//! instance's faults and journal start afresh for each input.
//!
//! Must hold: no panic; never a 5xx; every error (4xx) is the API's JSON
//! `{"success": false, "message": ..., "status": N}` with N the HTTP status;
//! every answer ends (but the event stream's).

#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Uri};
use fakessh::api::{router, AppConfig, AppState};
use fakessh::journal::JournalEntry;
use fakessh_fuzz::Confined;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

/// Requests one input may make.
const MAX_REQUESTS: usize = 8;
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

const WAN: &str = "# Wan 2.2 Lightning\n\nIntro text.\n\n## Download\n\n```bash\n\
# High noise\ncivitdl \"https://civitai.com/models/1874099?modelVersionId=2169837\" \\\n    \
\"$UI_HOME\"/models/Lora\n# Low noise\nwget --progress=bar:force -P \"$UI_HOME\"/models/Lora \\\n  \
https://huggingface.co/x/wan/resolve/main/low.safetensors\n```\n";

struct Fixture {
    rt: tokio::runtime::Runtime,
    files: tempfile::TempDir,
    confined: Confined,
    /// Without an admin token, and with `s3cret`.
    states: [AppState; 2],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let files = tempfile::tempdir().expect("temp dir");
        let res = files.path().join("resources");
        std::fs::create_dir_all(res.join("loras")).unwrap();
        std::fs::write(res.join("loras/wan.md"), WAN).unwrap();
        std::fs::write(res.join("empty.md"), "# Nothing\n\n## Usage\n").unwrap();
        std::fs::write(files.path().join("outside.md"), WAN).unwrap();
        let confined = Confined::new(fakessh_fuzz::config());
        let config = AppConfig {
            resources: Some(res),
            instances: vec![confined.instance.clone()],
            ..AppConfig::new(
                files.path().join("download_queue.json"),
                files.path().join("download_status.json"),
            )
        };
        let states = [
            AppState::new(config.clone()),
            AppState::new(AppConfig {
                admin_token: Some("s3cret".into()),
                ..config
            }),
        ];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Fixture {
            rt,
            files,
            confined,
            states,
        }
    })
}

/// One request from its text; `None` when the text is no request at all.
fn request(text: &[u8]) -> Option<Request<Body>> {
    let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let first = lines.next()?;
    let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    let uri: Uri = target.trim().parse().ok()?;
    let mut req = Request::builder().method(method).uri(uri);
    let mut peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("x-fuzz-peer") {
            peer = value.trim().parse().unwrap_or(peer);
            continue;
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) else {
            continue;
        };
        req = req.header(name, value);
    }
    let mut req = req.body(Body::from(body.to_vec())).ok()?;
    req.extensions_mut().insert(ConnectInfo(peer));
    Some(req)
}

fn journal_entry(seq: u64, command: &str) -> JournalEntry {
    serde_json::from_value(serde_json::json!({
        "seq": seq, "time": "2026-11-26T09:47:36Z", "instance": "127_0_0_1",
        "user": "root", "kind": "exec", "command": command, "faults": [],
        "exit_code": 0, "stdout_bytes": 10, "stderr_bytes": 0, "duration_ms": 3,
        "ended": "exit"
    }))
    .expect("a journal entry")
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (state, data) = match data.strip_prefix(b"!") {
        Some(rest) => (&f.states[1], rest),
        None => (&f.states[0], data),
    };
    let _ = std::fs::remove_file(f.files.path().join("download_queue.json"));
    let _ = std::fs::remove_file(f.files.path().join("download_status.json"));
    let instance = &f.confined.instance;
    instance.faults.clear();
    instance.journal.reset();
    instance
        .journal
        .record(journal_entry(0, "wget -q https://x/a.bin"));
    instance
        .journal
        .record(journal_entry(1, "civitdl 123 /tmp"));

    for text in data.split(|&b| b == 0).take(MAX_REQUESTS) {
        let Some(req) = request(text) else {
            continue;
        };
        let shown = format!("{} {}", req.method(), req.uri());
        f.rt.block_on(async {
            let res = tokio::time::timeout(ANSWER_TIMEOUT, router(state.clone()).oneshot(req))
                .await
                .unwrap_or_else(|_| panic!("{shown}: no answer in {ANSWER_TIMEOUT:?}"))
                .expect("infallible");
            let status = res.status();
            assert!(!status.is_server_error(), "{shown}: answered {status}");
            let event_stream = res
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            if event_stream {
                let mut body = res.into_body();
                let _ = tokio::time::timeout(Duration::from_millis(20), body.frame()).await;
                return;
            }
            let bytes = tokio::time::timeout(ANSWER_TIMEOUT, res.into_body().collect())
                .await
                .unwrap_or_else(|_| panic!("{shown}: the body never ended"))
                .expect("body")
                .to_bytes();
            if status.is_client_error() {
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    panic!(
                        "{shown}: {status} with a body that is not JSON: {:?}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                assert_eq!(
                    v["status"].as_u64(),
                    Some(u64::from(status.as_u16())),
                    "{shown}: {status} with body {v}"
                );
                assert_eq!(v["success"], false, "{shown}: {status} with body {v}");
            }
        });
    }
});
