//! A fake instance on a free loopback port, and the real clients to drive it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use fakessh::instance::{Instance, InstanceConfig};
use fakessh::server::{self, AuthPolicy, RunningServer, ServerConfig};

/// How long any one client run may take before the test fails.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The repo's test-only keys.
pub fn key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys")
        .join(name)
}

/// A fake instance served on 127.0.0.1:0, with a known_hosts file that
/// holds its host key and a private copy (mode 0600) of the client key.
pub struct TestInstance {
    pub instance: Arc<Instance>,
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

/// What a client run printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestInstance {
    pub async fn start() -> Self {
        Self::start_with(InstanceConfig::default(), AuthPolicy::default()).await
    }

    pub async fn start_with(config: InstanceConfig, auth: AuthPolicy) -> Self {
        Self::start_limited(config, auth, Default::default()).await
    }

    /// As [`start_with`], with these connection limits.
    pub async fn start_limited(
        config: InstanceConfig,
        auth: AuthPolicy,
        limits: fakessh::limits::ConnectionLimits,
    ) -> Self {
        let instance = Instance::create(config).expect("instance");
        let host_key =
            russh::keys::load_secret_key(key_path("test_host_ed25519"), None).expect("host key");
        let server = server::start(
            instance.clone(),
            ServerConfig {
                auth,
                host_key,
                limits,
                ..ServerConfig::loopback()
            },
        )
        .await
        .expect("server starts");
        let dir = tempfile::tempdir().expect("tempdir");
        // git does not keep 0600, and OpenSSH refuses a readable private key.
        let key = dir.path().join("id_ed25519");
        std::fs::copy(key_path("test_client_ed25519"), &key).expect("copy key");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::write(
            dir.path().join("known_hosts"),
            format!("{}\n", server.known_hosts_line()),
        )
        .expect("known_hosts");
        TestInstance {
            instance,
            server,
            dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("id_ed25519")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// The original handler's ssh invocation, up to the user@host.
    pub fn ssh_args(&self) -> Vec<String> {
        vec![
            "-p".into(),
            self.port().to_string(),
            "-i".into(),
            self.client_key().display().to_string(),
            "-o".into(),
            "ConnectTimeout=10".into(),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.known_hosts().display()),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ]
    }

    /// Runs `ssh [extra] root@127.0.0.1 REMOTE` with the real OpenSSH client.
    pub async fn ssh_with(&self, extra: &[&str], remote: &str, stdin: &[u8]) -> Ran {
        let mut cmd = tokio::process::Command::new("ssh");
        // The OpenSSH client's default config sends LANG and LC_*; keep the
        // instance's own (unset) locale so output does not depend on the host.
        for (k, _) in std::env::vars().filter(|(k, _)| k == "LANG" || k.starts_with("LC_")) {
            cmd.env_remove(k);
        }
        cmd.args(self.ssh_args())
            .args(extra)
            .arg("root@127.0.0.1")
            // An empty command means "no command": a shell.
            .args((!remote.is_empty()).then_some(remote))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .expect("ssh runs (is openssh-client installed?)");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = input.write_all(&data).await;
        });
        let out = tokio::time::timeout(CLIENT_TIMEOUT, child.wait_with_output())
            .await
            .expect("ssh finished in time")
            .expect("ssh output");
        Ran {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `ssh root@127.0.0.1 REMOTE`, no pty, empty stdin.
    pub async fn ssh(&self, remote: &str) -> Ran {
        self.ssh_with(&[], remote, b"").await
    }

    /// The host path of a file inside the instance.
    pub fn host_path(&self, virt: &str) -> PathBuf {
        self.instance.sandbox.host_path(virt)
    }

    /// Waits (bounded) until the server holds no channel task.
    pub async fn channels_drain(&self) -> usize {
        for _ in 0..200 {
            if self.server.open_channels() == 0 {
                return 0;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.server.open_channels()
    }
}

/// The Python interpreter with paramiko and pexpect (made by scripts/test).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("FAKESSH_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python test environment: run ./scripts/test once (it makes target/test-venv with paramiko and pexpect)"
    );
    venv
}

/// Runs a script from tests/py with arguments; returns what it printed.
pub async fn run_python(script: &str, args: &[String]) -> Ran {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(script);
    let out = tokio::time::timeout(
        CLIENT_TIMEOUT,
        tokio::process::Command::new(python())
            .arg(path)
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python finished in time")
    .expect("python runs");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A russh client that trusts the test host key only.
pub struct RusshClient {
    expected: russh::keys::PublicKey,
}

impl russh::client::Handler for RusshClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(
            matches!(key, russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } if key.key_data() == self.expected.key_data()),
        )
    }
}

/// What a russh exec returned, in arrival order.
#[derive(Debug, Default)]
pub struct RusshRan {
    pub status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub saw_eof: bool,
    pub saw_close: bool,
}

impl TestInstance {
    /// Connects and logs in with russh's client and the test key.
    pub async fn russh(&self) -> russh::client::Handle<RusshClient> {
        let config = Arc::new(russh::client::Config {
            nodelay: true,
            ..Default::default()
        });
        let expected = self.server.host_key().public_key().clone();
        let mut handle =
            russh::client::connect(config, self.server.local_addr(), RusshClient { expected })
                .await
                .expect("russh connects");
        let key = russh::keys::load_secret_key(key_path("test_client_ed25519"), None)
            .expect("client key");
        let auth = handle
            .authenticate_publickey(
                "root",
                russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), None),
            )
            .await
            .expect("auth request");
        assert!(auth.success(), "russh login refused");
        handle
    }
}

/// Runs one exec on a fresh channel and reads until the channel closes.
pub async fn russh_exec(handle: &russh::client::Handle<RusshClient>, command: &str) -> RusshRan {
    let mut channel = handle.channel_open_session().await.expect("channel opens");
    channel.exec(true, command).await.expect("exec sent");
    let mut ran = RusshRan::default();
    let read = async {
        while let Some(msg) = channel.wait().await {
            match msg {
                russh::ChannelMsg::Data { data } => ran.stdout.extend_from_slice(&data),
                russh::ChannelMsg::ExtendedData { data, ext: 1 } => {
                    ran.stderr.extend_from_slice(&data)
                }
                russh::ChannelMsg::ExitStatus { exit_status } => ran.status = Some(exit_status),
                russh::ChannelMsg::Eof => ran.saw_eof = true,
                russh::ChannelMsg::Close => {
                    ran.saw_close = true;
                    break;
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(CLIENT_TIMEOUT, read)
        .await
        .expect("channel closed in time");
    ran
}
