//! The HTTP API through `router(state).oneshot(req)`: the original app's
//! downloads endpoints, every bad input, the admin API and its guard; and
//! the event stream over a real socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use fakessh::api::{router, AppConfig, AppState};
use fakessh::fixture::FakeInstance;
use fakessh::instance::Instance;
use fakessh::jobs::queue::{Job, JobStatus, Queue};
use fakessh::jobs::status::{StatusEntry, StatusFile};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const SSH: &str = "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080";
const LOOPBACK: &str = "127.0.0.1:50000";
const REMOTE: &str = "203.0.113.7:50000";
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

const WAN: &str = r#"# Wan 2.2 Lightning

Intro text.

## Download

```bash
# High noise
civitdl "https://civitai.com/models/1874099?modelVersionId=2169837" \
    "$UI_HOME"/models/Lora
# Low noise
wget --progress=bar:force -P "$UI_HOME"/models/Lora \
  https://huggingface.co/x/wan/resolve/main/low.safetensors
```
"#;

/// A queue, a status file and a resources directory in a temp dir.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().expect("tempdir");
        let res = dir.path().join("resources");
        std::fs::create_dir_all(res.join("loras")).unwrap();
        std::fs::write(res.join("loras/wan.md"), WAN).unwrap();
        std::fs::write(res.join("empty.md"), "# Nothing\n\n## Usage\n").unwrap();
        std::fs::write(dir.path().join("outside.md"), WAN).unwrap();
        Files { dir }
    }

    fn config(&self) -> AppConfig {
        AppConfig {
            resources: Some(self.dir.path().join("resources")),
            ..AppConfig::new(
                self.dir.path().join("download_queue.json"),
                self.dir.path().join("download_status.json"),
            )
        }
    }

    fn state(&self) -> AppState {
        AppState::new(self.config())
    }

    fn queue(&self) -> Queue {
        Queue::new(self.dir.path().join("download_queue.json"))
    }

    fn status(&self) -> StatusFile {
        StatusFile::new(self.dir.path().join("download_status.json"))
    }

    /// A job in both files, in `status`.
    fn add_job(&self, status: JobStatus) -> String {
        let mut job = Job::new(
            SSH,
            "Detail Tweaker",
            vec!["wget https://x/a.safetensors".into()],
        )
        .expect("job");
        job.status = status;
        let id = job.id.clone();
        self.queue().update(|q| q.insert(job.clone())).unwrap();
        self.status()
            .update(|s| {
                let mut entry = StatusEntry::for_job(&job);
                match status {
                    JobStatus::Failed => entry.fail("wget: ERROR 404: Not Found"),
                    other => entry.set_status(other),
                }
                s.insert(entry)
            })
            .unwrap();
        id
    }
}

fn request(method: Method, uri: &str, body: Option<Value>, peer: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let mut req = builder.body(body).unwrap();
    let addr: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

async fn send(state: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let res = tokio::time::timeout(TEST_TIMEOUT, router(state.clone()).oneshot(req))
        .await
        .expect("answered in time")
        .expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    send(state, request(Method::GET, uri, None, LOOPBACK)).await
}

async fn post(state: &AppState, uri: &str, body: Value) -> (StatusCode, Value) {
    send(state, request(Method::POST, uri, Some(body), LOOPBACK)).await
}

fn assert_error(got: &(StatusCode, Value), status: u16, needle: &str) {
    assert_eq!(got.0.as_u16(), status, "{:?}", got.1);
    assert_eq!(got.1["success"], false, "{:?}", got.1);
    let message = got.1["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message {message:?} lacks {needle:?}"
    );
}

#[tokio::test]
async fn queue_from_a_resource_makes_one_job_per_command_with_its_variant() {
    // Arrange
    let files = Files::new();
    let state = files.state();
    // Act
    let (code, body) = post(
        &state,
        "/downloads/queue",
        json!({"ssh_connection": SSH, "resources": [{"filepath": "loras/wan.md"}], "ui_home": "/workspace/ComfyUI"}),
    )
    .await;
    // Assert
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["count"], 2);
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs[0]["display_name"], "Wan 2.2 Lightning");
    assert_eq!(jobs[0]["variant_tag"], "high-noise");
    assert_eq!(jobs[1]["variant_tag"], "low-noise");
    assert_eq!(
        jobs[0]["commands"],
        json!(["civitdl \"https://civitai.com/models/1874099?modelVersionId=2169837\" \"$UI_HOME\"/models/Lora"])
    );
    assert_eq!(jobs[1]["resource_paths"], json!(["loras/wan.md"]));
    assert_eq!(jobs[0]["instance_id"], "109_231_106_68");
    assert_eq!(jobs[0]["ui_home"], "/workspace/ComfyUI");
    assert_eq!(jobs[0]["status"], "PENDING");
    assert_eq!(files.queue().load().unwrap().len(), 2);
    let status = files.status().load().unwrap();
    assert_eq!(status.len(), 2);
    assert!(status.iter().all(|e| e.status == JobStatus::Pending));
}

#[tokio::test]
async fn queue_takes_path_strings_and_a_direct_command_list() {
    let files = Files::new();
    let state = files.state();
    let (code, body) = post(
        &state,
        "/downloads/queue",
        json!({"ssh_connection": SSH, "resources": ["loras/wan.md"]}),
    )
    .await;
    assert_eq!((code, body["count"].clone()), (StatusCode::OK, json!(2)));

    let (code, body) = post(
        &state,
        "/downloads/queue",
        json!({"ssh_connection": "ssh -p 2222 root@10.9.8.7", "commands": [
            "wget -P \"$UI_HOME\"/models/vae https://huggingface.co/x/y/resolve/main/vae.safetensors",
            "echo done"
        ]}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    let job = &body["jobs"][0];
    assert_eq!(job["display_name"], "vae.safetensors");
    assert_eq!(job["total_commands"], 2);
    assert_eq!(job["instance_id"], "10_9_8_7");
}

#[tokio::test]
async fn status_merges_commands_and_resource_paths_and_filters_by_instance() {
    // Arrange
    let files = Files::new();
    let state = files.state();
    post(
        &state,
        "/downloads/queue",
        json!({"ssh_connection": SSH, "resources": ["loras/wan.md"]}),
    )
    .await;
    let other = files.add_job(JobStatus::Running);
    files
        .queue()
        .update(|q| {
            q.get_mut(&other)?.instance_id = "10_0_0_9".into();
            Ok(())
        })
        .unwrap();
    files
        .status()
        .update(|s| s.modify(&other, |e| e.instance_id = "10_0_0_9".into()))
        .unwrap();
    // Act
    let (code, all) = get(&state, "/downloads/status").await;
    let (_, mine) = get(&state, "/downloads/status?instance_id=109_231_106_68").await;
    let (_, none) = get(&state, "/downloads/status?instance_id=1_2_3_4&_=123").await;
    // Assert
    assert_eq!(code, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 3, "a bare array: {all}");
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["resource_paths"], json!(["loras/wan.md"]));
    assert!(mine[0]["commands"][0]
        .as_str()
        .unwrap()
        .starts_with("civitdl "));
    assert_eq!(mine[0]["progress"], json!({}));
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn retry_puts_a_failed_job_back_to_pending_with_its_error_cleared() {
    // Arrange
    let files = Files::new();
    let state = files.state();
    let id = files.add_job(JobStatus::Failed);
    // Act
    let (code, body) = post(&state, "/downloads/retry", json!({"job_id": id})).await;
    // Assert
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let entry = files.status().load().unwrap().get(&id).unwrap().clone();
    assert_eq!(entry.status, JobStatus::Pending);
    assert_eq!(entry.error, None);
    let job = files.queue().load().unwrap().get(&id).unwrap().clone();
    assert_eq!((job.status, job.command_index), (JobStatus::Pending, 0));
}

#[tokio::test]
async fn retry_of_a_running_job_is_a_conflict() {
    let files = Files::new();
    let state = files.state();
    let id = files.add_job(JobStatus::Running);
    let got = post(&state, "/downloads/retry", json!({"job_id": id})).await;
    assert_error(&got, 409, "is running");
}

#[tokio::test]
async fn delete_removes_the_job_from_both_files() {
    let files = Files::new();
    let state = files.state();
    let id = files.add_job(JobStatus::Complete);
    let keep = files.add_job(JobStatus::Pending);
    let (code, body) = send(
        &state,
        request(
            Method::DELETE,
            &format!("/downloads/job/{id}"),
            None,
            LOOPBACK,
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(files.queue().load().unwrap().get(&id).is_err());
    assert!(files.status().load().unwrap().get(&id).is_err());
    assert!(files.queue().load().unwrap().get(&keep).is_ok());
    let again = send(
        &state,
        request(
            Method::DELETE,
            &format!("/downloads/job/{id}"),
            None,
            LOOPBACK,
        ),
    )
    .await;
    assert_error(&again, 404, "unknown job id");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_with_the_right_status() {
    let files = Files::new();
    let state = files.state();
    let raw = |method: Method, uri: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    let json_ct = Some("application/json");
    let cases: Vec<(&str, Request<Body>, u16, &str)> = vec![
        (
            "malformed JSON",
            raw(Method::POST, "/downloads/queue", json_ct, b"{\"ssh_connection\": ".to_vec()),
            400,
            "malformed JSON",
        ),
        (
            "wrong type",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": 5}"#.to_vec()),
            400,
            "invalid type",
        ),
        (
            "resources not a list",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": "a.md"}"#.to_vec()),
            400,
            "invalid type",
        ),
        (
            "resource of the wrong shape",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": [7]}"#.to_vec()),
            400,
            "resources[0]",
        ),
        (
            "unknown field",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resourcez": []}"#.to_vec()),
            400,
            "unknown field `resourcez`",
        ),
        (
            "a body over 1 MB",
            raw(Method::POST, "/downloads/queue", json_ct, {
                let mut b = br#"{"ssh_connection": ""#.to_vec();
                b.extend(std::iter::repeat_n(b'x', (1 << 20) + 10));
                b.extend(br#""}"#);
                b
            }),
            413,
            "larger than 1048576 bytes",
        ),
        (
            "not JSON",
            raw(Method::POST, "/downloads/queue", Some("text/plain"), b"ssh_connection=x".to_vec()),
            415,
            "Content-Type: application/json",
        ),
        (
            "no content type",
            raw(Method::POST, "/downloads/retry", None, br#"{"job_id": "x"}"#.to_vec()),
            415,
            "expected a JSON body",
        ),
        (
            "missing ssh_connection",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"resources": ["loras/wan.md"]}"#.to_vec()),
            400,
            "ssh_connection is required",
        ),
        (
            "an unreadable connection string",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "telnet 1.2.3.4", "resources": ["loras/wan.md"]}"#.to_vec()),
            400,
            "expected `ssh`",
        ),
        (
            "missing resources",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4"}"#.to_vec()),
            400,
            "resources (or commands) is required",
        ),
        (
            "no command found",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": ["empty.md"]}"#.to_vec()),
            400,
            "no download command found",
        ),
        (
            "a path escaping the resources directory",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": ["../outside.md"]}"#.to_vec()),
            400,
            "outside the resources directory",
        ),
        (
            "an absolute path elsewhere",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": [{"filepath": "/etc/passwd"}]}"#.to_vec()),
            400,
            "outside the resources directory",
        ),
        (
            "a missing resource",
            raw(Method::POST, "/downloads/queue", json_ct, br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": ["loras/nope.md"]}"#.to_vec()),
            400,
            "not found",
        ),
        (
            "retry without job_id",
            raw(Method::POST, "/downloads/retry", json_ct, b"{}".to_vec()),
            400,
            "job_id is required",
        ),
        (
            "retry with a numeric job_id",
            raw(Method::POST, "/downloads/retry", json_ct, br#"{"job_id": 12}"#.to_vec()),
            400,
            "invalid type",
        ),
        (
            "retry of an unknown job",
            raw(Method::POST, "/downloads/retry", json_ct, br#"{"job_id": "no-such-job"}"#.to_vec()),
            404,
            "unknown job id \"no-such-job\"",
        ),
        (
            "delete of an unknown job",
            raw(Method::DELETE, "/downloads/job/no-such-job", None, vec![]),
            404,
            "unknown job id",
        ),
        (
            "an unknown route",
            raw(Method::GET, "/downloads/nothing", None, vec![]),
            404,
            "no route for /downloads/nothing",
        ),
        (
            "a wrong method",
            raw(Method::PUT, "/downloads/status", None, vec![]),
            405,
            "method not allowed",
        ),
    ];
    for (what, req, status, needle) in cases {
        let got = send(&state, req).await;
        assert_eq!(got.0.as_u16(), status, "{what}: {}", got.1);
        assert_eq!(got.1["success"], false, "{what}: {}", got.1);
        let message = got.1["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{what}: {message:?} lacks {needle:?}"
        );
    }
    // nothing was queued by any of them
    assert!(files.queue().load().unwrap().is_empty());
}

#[tokio::test]
async fn a_corrupt_status_file_is_a_500_whose_detail_stays_in_the_log() {
    let files = Files::new();
    std::fs::write(files.status().path(), "[{\"id\": ").unwrap();
    let state = files.state();
    let got = get(&state, "/downloads/status").await;
    assert_error(&got, 500, "internal server error");
    assert!(
        !got.1.to_string().contains("download_status.json"),
        "{}",
        got.1
    );
    let (code, health) = get(&state, "/__admin/health").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health["status"], "unhealthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retry_and_delete_of_one_job_have_one_clear_outcome_and_lose_nothing() {
    // Arrange
    let files = Files::new();
    let state = files.state();
    let bystander = files.add_job(JobStatus::Failed);
    for round in 0..20 {
        let id = files.add_job(JobStatus::Failed);
        // Act
        let retry = tokio::spawn({
            let state = state.clone();
            let id = id.clone();
            async move { post(&state, "/downloads/retry", json!({"job_id": id})).await }
        });
        let delete = tokio::spawn({
            let state = state.clone();
            let uri = format!("/downloads/job/{id}");
            async move { send(&state, request(Method::DELETE, &uri, None, LOOPBACK)).await }
        });
        let (retry, delete) = (retry.await.unwrap(), delete.await.unwrap());
        // Assert: the delete always wins in the end; the retry either came
        // first (200) or found the job gone (404), never a 500.
        assert_eq!(delete.0, StatusCode::OK, "round {round}: {}", delete.1);
        assert!(
            retry.0 == StatusCode::OK || retry.0 == StatusCode::NOT_FOUND,
            "round {round}: {:?} {}",
            retry.0,
            retry.1
        );
        assert!(
            files.queue().load().unwrap().get(&id).is_err(),
            "round {round}: queue"
        );
        assert!(
            files.status().load().unwrap().get(&id).is_err(),
            "round {round}: status"
        );
    }
    let queue = files.queue().load().unwrap();
    let status = files.status().load().unwrap();
    assert_eq!((queue.len(), status.len()), (1, 1));
    assert_eq!(status.get(&bystander).unwrap().status, JobStatus::Failed);
}

// ---- admin API ----

async fn admin_state(files: &Files, token: Option<&str>) -> (FakeInstance, AppState) {
    let gpu = FakeInstance::start().await.expect("fake instance");
    let instances: Vec<Arc<Instance>> = vec![gpu.instance().clone()];
    let state = AppState::new(AppConfig {
        instances,
        admin_token: token.map(str::to_string),
        ..files.config()
    });
    (gpu, state)
}

#[tokio::test]
async fn admin_api_answers_loopback_peers_only_without_a_token() {
    let files = Files::new();
    let (gpu, state) = admin_state(&files, None).await;
    let (code, list) = get(&state, "/__admin/instances").await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], gpu.instance().config.id);
    let v6 = send(
        &state,
        request(Method::GET, "/__admin/instances", None, "[::1]:4000"),
    )
    .await;
    assert_eq!(v6.0, StatusCode::OK);

    let remote = send(
        &state,
        request(Method::GET, "/__admin/faults", None, REMOTE),
    )
    .await;
    assert_error(&remote, 403, "loopback clients only");
    let no_peer = Request::get("/__admin/journal")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&state, no_peer).await, 403, "loopback");
    // health is open to all: it is the container healthcheck
    let health = send(
        &state,
        request(Method::GET, "/__admin/health", None, REMOTE),
    )
    .await;
    assert_eq!(
        (health.0, health.1["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
}

#[tokio::test]
async fn admin_api_wants_the_bearer_token_from_everyone_when_one_is_set() {
    let files = Files::new();
    let (_gpu, state) = admin_state(&files, Some("s3cret")).await;
    let with = |auth: Option<&str>, peer: &str| {
        let mut req = request(Method::GET, "/__admin/instances", None, peer);
        if let Some(a) = auth {
            req.headers_mut()
                .insert(header::AUTHORIZATION, a.parse().unwrap());
        }
        req
    };
    let res = router(state.clone())
        .oneshot(with(None, LOOPBACK))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_error(
        &send(&state, with(Some("Bearer nope"), LOOPBACK)).await,
        401,
        "wrong admin token",
    );
    assert_error(
        &send(&state, with(Some("Basic czNjcmV0"), LOOPBACK)).await,
        401,
        "Bearer",
    );
    assert_eq!(
        send(&state, with(Some("Bearer s3cret"), REMOTE)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&state, with(Some("Bearer s3cret"), LOOPBACK)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn faults_are_armed_listed_and_disarmed_over_http() {
    // Arrange
    let files = Files::new();
    let (gpu, state) = admin_state(&files, None).await;
    let id = gpu.instance().config.id.clone();
    // Act: the short form, then a rule as JSON on one named instance
    let (code, armed) = post(
        &state,
        "/__admin/faults",
        json!({"spec": "wget:http=404:times=1"}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{armed}");
    let first = armed["armed"][0]["id"].as_str().unwrap().to_string();
    let (code, armed) = post(
        &state,
        "/__admin/faults",
        json!({"instance": id, "name": "slow civitdl", "match": {"tool": "civitdl"},
               "action": {"type": "slow", "bytes_per_s": 1000}, "probability": 0.5}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{armed}");
    // Assert
    let (_, list) = get(&state, "/__admin/faults").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["rule"]["action"],
        json!({"type": "http", "status": 404})
    );
    assert_eq!(list[1]["name"], "slow civitdl");
    assert_eq!(list[1]["instance"], id.as_str());
    assert_eq!(gpu.instance().faults.list().len(), 2);

    for (body, status, needle) in [
        (json!({"spec": "wget:explode"}), 400, "unknown fault action"),
        (json!({"spec": 4}), 400, "spec: expected a string"),
        (
            json!({"spec": "wget:http=404", "extra": 1}),
            400,
            "unknown field `extra`",
        ),
        (
            json!({"action": {"type": "http", "status": 404}, "colour": "red"}),
            400,
            "invalid fault rule",
        ),
        (
            json!({"action": {"type": "http", "status": 999}}),
            400,
            "not in 100..=599",
        ),
        (
            json!({"match": {"command": "("}, "action": {"type": "hang"}}),
            400,
            "regex",
        ),
        (
            json!({"instance": "nope", "spec": "wget:http=404"}),
            404,
            "no fake instance \"nope\"",
        ),
        (json!([1]), 400, "expected a JSON object"),
    ] {
        let got = post(&state, "/__admin/faults", body.clone()).await;
        assert_error(&got, status, needle);
    }
    assert_eq!(
        gpu.instance().faults.list().len(),
        2,
        "a refused rule arms nothing"
    );

    let del = send(
        &state,
        request(
            Method::DELETE,
            &format!("/__admin/faults/{first}"),
            None,
            LOOPBACK,
        ),
    )
    .await;
    assert_eq!(del.0, StatusCode::OK, "{}", del.1);
    let again = send(
        &state,
        request(
            Method::DELETE,
            &format!("/__admin/faults/{first}"),
            None,
            LOOPBACK,
        ),
    )
    .await;
    assert_error(&again, 404, "no fault rule");
    let all = send(
        &state,
        request(Method::DELETE, "/__admin/faults", None, LOOPBACK),
    )
    .await;
    assert_eq!(all.1["removed"], 1);
    assert!(gpu.instance().faults.list().is_empty());
}

#[tokio::test]
async fn the_journal_is_queried_and_reset_over_http() {
    // Arrange
    let files = Files::new();
    let (gpu, state) = admin_state(&files, None).await;
    gpu.exec("echo hello").await.unwrap();
    gpu.exec("whoami").await.unwrap();
    post(&state, "/__admin/faults", json!({"spec": "wget:http=500"})).await;
    // Act + Assert
    let (code, all) = get(&state, "/__admin/journal").await;
    assert_eq!(code, StatusCode::OK, "{all}");
    assert_eq!(all["entries"].as_array().unwrap().len(), 2);
    let (_, some) = get(&state, "/__admin/journal?regex=%5Eecho&since=1").await;
    assert_eq!(some["entries"].as_array().unwrap().len(), 1);
    assert_eq!(some["entries"][0]["command"], "echo hello");
    let (_, by_tool) = get(&state, "/__admin/journal?tool=whoami").await;
    assert_eq!(by_tool["entries"][0]["command"], "whoami");
    assert_error(
        &get(&state, "/__admin/journal?regex=(").await,
        400,
        "bad regex",
    );
    assert_error(
        &get(&state, "/__admin/journal?since=soon").await,
        400,
        "since",
    );
    assert_error(
        &get(&state, "/__admin/journal?colour=red").await,
        400,
        "unknown field",
    );
    assert_error(
        &get(&state, "/__admin/journal?instance=nope").await,
        404,
        "no fake instance",
    );

    let (_, list) = get(&state, "/__admin/instances").await;
    assert_eq!(list[0]["journal"]["entries"], 2);
    assert_eq!(list[0]["journal"]["tail"][1]["command"], "whoami");

    let (code, _) = send(
        &state,
        request(Method::DELETE, "/__admin/journal", None, LOOPBACK),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert!(gpu.journal().is_empty());
    gpu.exec("true").await.unwrap();
    let (code, _) = send(
        &state,
        request(Method::POST, "/__admin/reset", Some(json!({})), LOOPBACK),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert!(gpu.journal().is_empty());
    assert!(gpu.instance().faults.list().is_empty());
    // A run after a reset repeats one after start: rule ids begin again.
    let (code, armed) = post(&state, "/__admin/faults", json!({"spec": "wget:http=404"})).await;
    assert_eq!(code, StatusCode::CREATED, "{armed}");
    assert_eq!(armed["armed"][0]["id"], "f1", "{armed}");
}

// ---- over a real socket ----

/// Reads from `stream` into `seen` until `needle` appears after `from`.
async fn read_until(
    stream: &mut tokio::net::TcpStream,
    seen: &mut String,
    from: usize,
    needle: &str,
) -> usize {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 8192];
    loop {
        if let Some(i) = seen[from..].find(needle) {
            return from + i + needle.len();
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "stream ended before {needle:?}; saw:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_pushes_a_status_change_to_a_subscriber() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        use tokio::io::AsyncWriteExt;
        // Arrange
        let files = Files::new();
        let id = files.add_job(JobStatus::Pending);
        let api = fakessh::api::start(files.state(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("api starts");
        let mut stream = tokio::net::TcpStream::connect(api.local_addr())
            .await
            .unwrap();
        stream
            .write_all(
                b"GET /downloads/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
            )
            .await
            .unwrap();
        let mut seen = String::new();
        let at = read_until(&mut stream, &mut seen, 0, "event: snapshot").await;
        assert!(seen.contains("content-type: text/event-stream"), "{seen}");
        let at = read_until(&mut stream, &mut seen, at, &id).await;
        // Act: the handler (another process in real life) moves the job on
        let started = std::time::Instant::now();
        files
            .status()
            .update(|s| {
                s.modify(&id, |e| {
                    e.set_status(JobStatus::Running);
                    e.progress.insert("percent".into(), json!(61.5));
                })
            })
            .unwrap();
        // Assert: the first status event for the job carries the change
        let mut at = at;
        let entry: Value = loop {
            at = read_until(&mut stream, &mut seen, at, "event: status").await;
            let end = read_until(&mut stream, &mut seen, at, "\n\n").await;
            let data = seen[at..end]
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .expect("a data line");
            at = end;
            let entry: Value = serde_json::from_str(data).unwrap();
            if entry["id"] == id.as_str() {
                break entry;
            }
        };
        let end = at;
        assert_eq!(entry["status"], "RUNNING");
        assert_eq!(entry["progress"]["percent"], 61.5);
        assert_eq!(entry["commands"], json!(["wget https://x/a.safetensors"]));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // and a deletion is an event too
        files
            .status()
            .update(|s| s.remove(&id).map(|_| ()))
            .unwrap();
        let at = read_until(&mut stream, &mut seen, end, "event: removed").await;
        read_until(&mut stream, &mut seen, at, &id).await;
        // shutdown ends the stream instead of waiting for it
        api.shutdown().await.unwrap();
    })
    .await
    .expect("in time");
}

#[tokio::test]
async fn the_health_probe_reads_the_api_over_tcp() {
    let files = Files::new();
    let api = fakessh::api::start(files.state(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("{}/__admin/health", api.url());
    let (code, body) = fakessh::api::health::probe(&url, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    api.shutdown().await.unwrap();
    assert!(fakessh::api::health::probe(&url, Duration::from_secs(5))
        .await
        .is_err());
}
