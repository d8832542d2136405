//! What a browser page (and a slow or greedy client) can make the HTTP API
//! do: cross-site changes, DNS rebinding, bad names, slow heads and bodies,
//! too many connections. Over a real socket on 127.0.0.1:0 where the
//! socket matters, through `router(state).oneshot(req)` where it does not.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use fakessh::api::{router, AppConfig, AppState, HttpLimits, RunningApi};
use fakessh::faults::{Fault, FaultRule};
use fakessh::fixture::FakeInstance;
use fakessh::jobs::queue::Queue;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The queue and status files in a temp dir, and a fake instance with a
/// fault armed and one journal entry, so a reset is visible.
struct Setup {
    dir: tempfile::TempDir,
    gpu: FakeInstance,
}

impl Setup {
    async fn new() -> anyhow::Result<Setup> {
        let gpu = FakeInstance::start().await?;
        gpu.mount(
            FaultRule::for_tool("wget")
                .inject(Fault::Http { status: 404 })
                .named("wget 404s"),
        )?;
        gpu.exec("true").await?;
        Ok(Setup {
            dir: tempfile::tempdir()?,
            gpu,
        })
    }

    fn config(&self) -> AppConfig {
        AppConfig {
            instances: vec![self.gpu.instance().clone()],
            ..AppConfig::new(
                self.dir.path().join("download_queue.json"),
                self.dir.path().join("download_status.json"),
            )
        }
    }

    async fn start(&self, config: AppConfig) -> anyhow::Result<RunningApi> {
        Ok(fakessh::api::start(AppState::new(config), "127.0.0.1:0".parse()?).await?)
    }

    /// Whether the fault and the journal entry are still there.
    fn untouched(&self) -> bool {
        !self.gpu.instance().faults.list().is_empty() && !self.gpu.journal().is_empty()
    }

    fn queued(&self) -> usize {
        Queue::new(self.dir.path().join("download_queue.json"))
            .load()
            .map(|q| q.len())
            .unwrap_or(0)
    }
}

/// An answer read off the socket: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends `head` (without `Connection` and `Content-Length`) and `body` on
/// a new connection and reads the answer to its end.
async fn send(addr: SocketAddr, head: &str, body: impl AsRef<[u8]>) -> anyhow::Result<Answer> {
    let body = body.as_ref();
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!(
        "{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await?;
    let text = read_to_close(&mut stream).await?;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok(Answer { status, body })
}

/// Everything the server sends until it closes (a reset counts as closed).
async fn read_to_close(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e.into()),
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

#[tokio::test]
async fn a_cross_origin_form_post_to_reset_is_refused_and_resets_nothing() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange
        let setup = Setup::new().await?;
        let api = setup.start(setup.config()).await?;
        let host = format!("Host: {}", api.local_addr());
        // Act: what <form method=post action=http://127.0.0.1:PORT/__admin/reset> sends
        let form = send(
            api.local_addr(),
            &format!(
                "POST /__admin/reset HTTP/1.1\r\n{host}\r\nOrigin: http://evil.example\r\n\
                 Content-Type: application/x-www-form-urlencoded"
            ),
            "a=1",
        )
        .await?;
        // an older browser's form: no Origin, no Sec-Fetch-Site, still no JSON
        let plain = send(
            api.local_addr(),
            &format!("POST /__admin/reset HTTP/1.1\r\n{host}\r\nContent-Type: text/plain"),
            "x",
        )
        .await?;
        // Assert
        assert_eq!(form.status, 403, "{form:?}");
        assert!(form.message().contains("cross-origin"), "{form:?}");
        assert_eq!(plain.status, 415, "{plain:?}");
        assert!(plain.message().contains("application/json"), "{plain:?}");
        assert!(setup.untouched(), "a refused request reset the instance");
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn sec_fetch_site_cross_site_or_same_site_is_refused() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let setup = Setup::new().await?;
        let api = setup.start(setup.config()).await?;
        for site in ["cross-site", "same-site"] {
            let got = send(
                api.local_addr(),
                &format!(
                    "POST /__admin/reset HTTP/1.1\r\nHost: {}\r\nSec-Fetch-Site: {site}\r\n\
                     Content-Type: application/json",
                    api.local_addr()
                ),
                "{}",
            )
            .await?;
            assert_eq!(got.status, 403, "{site}: {got:?}");
            assert!(got.message().contains("Sec-Fetch-Site"), "{got:?}");
        }
        assert!(setup.untouched());
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_json_post_from_the_dashboard_or_a_program_on_loopback_still_works() -> anyhow::Result<()>
{
    tokio::time::timeout(TEST_TIMEOUT, async {
        let setup = Setup::new().await?;
        let api = setup.start(setup.config()).await?;
        let addr = api.local_addr();
        // what the dashboard's own fetch sends
        let queued = send(
            addr,
            &format!(
                "POST /downloads/queue HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
                 Sec-Fetch-Site: same-origin\r\nContent-Type: application/json"
            ),
            r#"{"ssh_connection": "ssh -p 2222 root@127.0.0.1", "commands": ["wget https://x/a.bin"]}"#,
        )
        .await?;
        assert_eq!(queued.status, 200, "{queued:?}");
        assert_eq!(setup.queued(), 1);
        // what curl sends: no Origin, a loopback Host
        let reset = send(
            addr,
            &format!(
                "POST /__admin/reset HTTP/1.1\r\nHost: localhost:{}\r\n\
                 Content-Type: application/json",
                addr.port()
            ),
            "",
        )
        .await?;
        assert_eq!(reset.status, 200, "{reset:?}");
        assert!(setup.gpu.instance().faults.list().is_empty());
        assert!(setup.gpu.journal().is_empty());
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_foreign_host_is_refused_without_a_token_and_served_with_one() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange
        let setup = Setup::new().await?;
        let open = setup.start(setup.config()).await?;
        let guarded = setup
            .start(AppConfig {
                admin_token: Some("s3cret".into()),
                ..setup.config()
            })
            .await?;
        // Act / Assert: a rebinding page reads nothing and changes nothing
        for (method, path) in [
            ("GET", "/__admin/instances"),
            ("GET", "/downloads/status"),
            ("GET", "/"),
        ] {
            let got = send(
                open.local_addr(),
                &format!("{method} {path} HTTP/1.1\r\nHost: evil.example"),
                "",
            )
            .await?;
            assert_eq!(got.status, 403, "{path}: {got:?}");
            assert!(got.message().contains("DNS rebinding"), "{got:?}");
        }
        // the healthcheck answers whatever the name
        let health = send(
            open.local_addr(),
            "GET /__admin/health HTTP/1.1\r\nHost: fakessh-api:8080",
            "",
        )
        .await?;
        assert_eq!(health.status, 200, "{health:?}");
        // with a token, the name is the operator's business
        let with_token = send(
            guarded.local_addr(),
            "GET /__admin/instances HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer s3cret",
            "",
        )
        .await?;
        assert_eq!(with_token.status, 200, "{with_token:?}");
        let reset = send(
            guarded.local_addr(),
            "POST /__admin/reset HTTP/1.1\r\nHost: gpu-box.lan:8080\r\n\
             Authorization: Bearer s3cret\r\nContent-Type: application/json",
            "{}",
        )
        .await?;
        assert_eq!(reset.status, 200, "{reset:?}");
        open.shutdown().await?;
        guarded.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_nul_byte_or_bad_utf8_in_a_name_is_the_clients_error() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange
        let setup = Setup::new().await?;
        let resources = setup.dir.path().join("resources");
        std::fs::create_dir_all(&resources)?;
        std::fs::write(
            resources.join("a.md"),
            "# A\n\n## Download\n\n```bash\nwget https://x/a\n```\n",
        )?;
        let api = setup
            .start(AppConfig {
                resources: Some(resources),
                ..setup.config()
            })
            .await?;
        let addr = api.local_addr();
        let json = format!("Host: {addr}\r\nContent-Type: application/json");
        // Act / Assert
        let cases = [
            (
                "POST /downloads/queue",
                br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": ["a\u0000.md"]}"#
                    .as_slice(),
                400,
                "not a valid file name",
            ),
            (
                "POST /downloads/queue",
                br#"{"ssh_connection": "ssh root@1.2.3.4", "resources": ["a.md/b.md"]}"#.as_slice(),
                400,
                "not found",
            ),
            (
                "POST /downloads/retry",
                br#"{"job_id": "a\u0000b"}"#.as_slice(),
                404,
                "unknown job id",
            ),
            (
                "DELETE /downloads/job/a%00b",
                b"".as_slice(),
                404,
                "unknown job id",
            ),
            (
                "DELETE /__admin/faults/a%00b",
                b"".as_slice(),
                404,
                "no fault rule",
            ),
            (
                "GET /__admin/journal?instance=a%00b",
                b"".as_slice(),
                404,
                "no fake instance",
            ),
            ("DELETE /downloads/job/%FF%FE", b"".as_slice(), 400, "UTF-8"),
            ("DELETE /__admin/faults/%C3", b"".as_slice(), 400, "UTF-8"),
            (
                "POST /downloads/queue",
                b"{\"ssh_connection\": \"\x01\xff\"}".as_slice(),
                400,
                "malformed JSON",
            ),
        ];
        for (line, body, status, needle) in cases {
            let got = send(addr, &format!("{line} HTTP/1.1\r\n{json}"), body).await?;
            assert_eq!(got.status, status, "{line} {body:?}: {got:?}");
            assert!(got.message().contains(needle), "{line} {body:?}: {got:?}");
        }
        assert_eq!(setup.queued(), 0);
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_half_a_header_is_cut_off_while_others_are_served() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange: a short header timeout
        let setup = Setup::new().await?;
        let timeout = Duration::from_millis(500);
        let api = setup
            .start(AppConfig {
                limits: HttpLimits {
                    header_timeout: timeout,
                    ..HttpLimits::default()
                },
                ..setup.config()
            })
            .await?;
        let addr = api.local_addr();
        let started = Instant::now();
        let mut slow = TcpStream::connect(addr).await?;
        slow.write_all(b"GET /downloads/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")
            .await?;
        // Act: another client is served meanwhile
        let normal = send(
            addr,
            &format!("GET /downloads/status HTTP/1.1\r\nHost: {addr}"),
            "",
        )
        .await?;
        assert_eq!(normal.status, 200, "{normal:?}");
        assert!(
            started.elapsed() < timeout,
            "served only after {:?}",
            started.elapsed()
        );
        // Assert: the slow one is disconnected, without an answer to its request
        let rest = read_to_close(&mut slow).await?;
        let waited = started.elapsed();
        assert!(waited >= timeout, "cut off after {waited:?}");
        assert!(waited < timeout * 10, "cut off only after {waited:?}");
        assert!(!rest.contains("200 OK"), "{rest:?}");
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_still_trickling_in_at_its_deadline_is_a_408() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let setup = Setup::new().await?;
        let timeout = Duration::from_millis(300);
        let api = setup
            .start(AppConfig {
                limits: HttpLimits {
                    body_timeout: timeout,
                    ..HttpLimits::default()
                },
                ..setup.config()
            })
            .await?;
        let mut stream = TcpStream::connect(api.local_addr()).await?;
        let started = Instant::now();
        stream
            .write_all(
                format!(
                    "POST /downloads/queue HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
                     Content-Length: 100\r\n\r\n{{\"ssh_",
                    api.local_addr()
                )
                .as_bytes(),
            )
            .await?;
        let text = read_to_close(&mut stream).await?;
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("did not arrive within 300ms"), "{text}");
        let waited = started.elapsed();
        assert!(waited >= timeout && waited < timeout * 10, "{waited:?}");
        assert_eq!(setup.queued(), 0);
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_outlives_the_header_and_body_timeouts() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange
        let setup = Setup::new().await?;
        let timeout = Duration::from_millis(200);
        let api = setup
            .start(AppConfig {
                limits: HttpLimits {
                    header_timeout: timeout,
                    body_timeout: timeout,
                    ..HttpLimits::default()
                },
                ..setup.config()
            })
            .await?;
        let addr = api.local_addr();
        let mut events = TcpStream::connect(addr).await?;
        events
            .write_all(format!("GET /downloads/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut seen = String::new();
        let mut buf = [0u8; 8192];
        while !seen.contains("event: snapshot") {
            let n = events.read(&mut buf).await?;
            anyhow::ensure!(n > 0, "stream ended early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        // Act: a change well after both timeouts
        tokio::time::sleep(timeout * 3).await;
        let queued = send(
            addr,
            &format!(
                "POST /downloads/queue HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json"
            ),
            r#"{"ssh_connection": "ssh root@1.2.3.4", "commands": ["wget https://x/late.bin"]}"#,
        )
        .await?;
        assert_eq!(queued.status, 200, "{queued:?}");
        // Assert: the stream is still open and carries it
        while !seen.contains("late.bin") {
            let n = events.read(&mut buf).await?;
            anyhow::ensure!(n > 0, "the event stream was cut: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_one_closes() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        // Arrange: room for one connection
        let setup = Setup::new().await?;
        let api = setup
            .start(AppConfig {
                limits: HttpLimits {
                    max_connections: 1,
                    ..HttpLimits::default()
                },
                ..setup.config()
            })
            .await?;
        let addr = api.local_addr();
        // the first connection is being served once a request on it is answered
        let mut first = TcpStream::connect(addr).await?;
        first
            .write_all(format!("GET /downloads/status HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut buf = [0u8; 4096];
        anyhow::ensure!(
            first.read(&mut buf).await? > 0,
            "no answer on the first connection"
        );
        // Act: a second client is not served while the first stays
        let head = format!("GET /downloads/status HTTP/1.1\r\nHost: {addr}");
        let second = tokio::spawn(async move { send(addr, &head, "").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!second.is_finished(), "served past the cap");
        drop(first);
        // Assert: and is once it goes
        let got = second.await??;
        assert_eq!(got.status, 200, "{got:?}");
        api.shutdown().await?;
        Ok(())
    })
    .await?
}

// ---- the guard alone, without a socket ----

fn request(method: Method, uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(Body::from(body.to_string())).unwrap();
    let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

async fn answer(state: &AppState, req: Request<Body>) -> (u16, Value) {
    let res = router(state.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_guard_judges_origin_host_and_content_type_as_a_browser_would() -> anyhow::Result<()> {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let setup = Setup::new().await?;
        let state = AppState::new(setup.config());
        let json = ("content-type", "application/json; charset=utf-8");
        let host = ("host", "127.0.0.1:8080");
        let cases: Vec<(&str, Request<Body>, u16)> = vec![
            (
                "same origin",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[host, ("origin", "http://127.0.0.1:8080"), json],
                    "{}",
                ),
                400,
            ),
            (
                "same origin, default port",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[
                        ("host", "localhost"),
                        ("origin", "http://LOCALHOST:80"),
                        json,
                    ],
                    "{}",
                ),
                400,
            ),
            (
                "another port on localhost",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[host, ("origin", "http://127.0.0.1:3000"), json],
                    "{}",
                ),
                403,
            ),
            (
                "the same host and port over https (a TLS proxy in front)",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[host, ("origin", "https://127.0.0.1:8080"), json],
                    "{}",
                ),
                400,
            ),
            (
                "a wrong method (nothing to guard)",
                request(Method::PUT, "/downloads/status", &[host], "x"),
                405,
            ),
            (
                "a sandboxed page",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[host, ("origin", "null"), json],
                    "{}",
                ),
                403,
            ),
            (
                "an origin without a host to compare",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[("origin", "http://127.0.0.1:8080"), json],
                    "{}",
                ),
                403,
            ),
            (
                "Sec-Fetch-Site none (typed by the user)",
                request(
                    Method::POST,
                    "/downloads/retry",
                    &[host, ("sec-fetch-site", "none"), json],
                    "{}",
                ),
                400,
            ),
            (
                "a body-less POST without a type",
                request(Method::POST, "/__admin/reset", &[host], ""),
                415,
            ),
            (
                "a multipart form",
                request(
                    Method::POST,
                    "/downloads/queue",
                    &[host, ("content-type", "multipart/form-data; boundary=x")],
                    "--x--",
                ),
                415,
            ),
            (
                "a body-less DELETE without a type",
                request(Method::DELETE, "/downloads/job/nope", &[host], ""),
                404,
            ),
            (
                "a DELETE with a text body",
                request(
                    Method::DELETE,
                    "/downloads/job/nope",
                    &[
                        host,
                        ("content-length", "1"),
                        ("content-type", "text/plain"),
                    ],
                    "x",
                ),
                415,
            ),
            (
                "a GET from another site (cannot read the answer)",
                request(
                    Method::GET,
                    "/downloads/status",
                    &[
                        host,
                        ("origin", "http://evil.example"),
                        ("sec-fetch-site", "cross-site"),
                    ],
                    "",
                ),
                200,
            ),
            (
                "an IPv6 loopback host",
                request(
                    Method::GET,
                    "/downloads/status",
                    &[("host", "[::1]:8080")],
                    "",
                ),
                200,
            ),
            (
                "a rebinding name",
                request(
                    Method::GET,
                    "/downloads/status",
                    &[("host", "127.0.0.1.evil.example")],
                    "",
                ),
                403,
            ),
            (
                "a malformed host",
                request(
                    Method::GET,
                    "/downloads/status",
                    &[("host", "127.0.0.1:80:80")],
                    "",
                ),
                400,
            ),
        ];
        for (what, req, want) in cases {
            let (status, body) = answer(&state, req).await;
            assert_eq!(status, want, "{what}: {body}");
            if want >= 400 {
                assert_eq!(body["success"], false, "{what}: {body}");
            }
        }
        assert!(setup.untouched());
        Ok(())
    })
    .await?
}
