//! An in-process fake instance for Rust tests, in the spirit of
//! wiremock's `MockServer`: start it on a free loopback port, point your
//! code at [`FakeInstance::connection_string`], mount faults, then assert
//! on the journal and the files left in the sandbox.
//!
//! ```
//! use fakessh::faults::{Fault, FaultRule};
//! use fakessh::fixture::FakeInstance;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gpu = FakeInstance::builder().seed(7).time_scale(0.0).start().await.unwrap();
//! gpu.mount(
//!     FaultRule::for_tool("ls")
//!         .inject(Fault::ExitCode { code: 3 })
//!         .times(1) // fires once, then behaves
//!         .expect(1), // checked when `gpu` drops
//! )
//! .unwrap();
//!
//! assert_eq!(gpu.exec("ls $UI_HOME").await.unwrap().status, Some(3));
//! assert_eq!(gpu.exec("ls $UI_HOME").await.unwrap().status, Some(0));
//! assert_eq!(gpu.ran_count("^ls "), 2);
//! # }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg};
use russh::ChannelMsg;

use crate::faults::{ArmedSnapshot, FaultError, FaultRule};
use crate::instance::{BannerMode, Instance, InstanceConfig, InstanceError};
use crate::journal::{JournalEntry, Query};
use crate::net::Catalog;
use crate::server::{self, AuthPolicy, RunningServer, ServerConfig};

/// Why a fixture could not start or run a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The instance's config was refused.
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// Binding, key files, or the like.
    #[error("fixture: {0}")]
    Io(#[from] std::io::Error),
    /// The SSH client side failed.
    #[error("fixture ssh client: {0}")]
    Ssh(#[from] russh::Error),
    /// The fixture's client key could not be made.
    #[error("fixture client key: {0}")]
    Key(#[from] russh::keys::ssh_key::Error),
    /// The instance refused the fixture's own login.
    #[error("fixture ssh client: login as {user:?} refused")]
    LoginRefused {
        /// Who tried.
        user: String,
    },
    /// A journal query that cannot run (a bad regex).
    #[error("fixture journal query: {0}")]
    Query(#[from] crate::journal::QueryError),
}

/// Builds a [`FakeInstance`]; every setting has a test-friendly default
/// (time scale 0, no banner, seed 0).
#[must_use = "a builder does nothing until `.start().await`"]
pub struct FakeInstanceBuilder {
    config: InstanceConfig,
    auth: AuthPolicy,
    connection_limits: crate::limits::ConnectionLimits,
}

impl FakeInstanceBuilder {
    /// ComfyUI's home (`$UI_HOME`).
    pub fn ui_home(mut self, path: &str) -> Self {
        self.config.ui_home = path.to_string();
        self
    }

    /// Seed for every random choice (fault odds, transfer jitter).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Simulated time: 0 = no waiting (the default here), 1 = real time.
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.config.time_scale = scale;
        self
    }

    /// Pins remote file names, sizes and failures.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.config.tools.catalog = Arc::new(catalog);
        self
    }

    /// A fault rule armed from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.config.faults.push(rule);
        self
    }

    /// Any other instance setting.
    pub fn configure(mut self, f: impl FnOnce(&mut InstanceConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Who may log in (see [`AuthPolicy`]): by default any key and any
    /// password, as a fresh rented instance lets its owner in.
    pub fn auth(mut self, auth: AuthPolicy) -> Self {
        self.auth = auth;
        self
    }

    /// Bounds on sessions and connections (see [`crate::limits`]).
    pub fn limits(mut self, limits: crate::limits::Limits) -> Self {
        self.config.limits = limits.session;
        self.connection_limits = limits.connection;
        self
    }

    /// Binds 127.0.0.1:0 and starts serving; the port is known on return.
    pub async fn start(self) -> Result<FakeInstance, FixtureError> {
        let instance = Instance::create(self.config)?;
        let dir = tempfile::Builder::new()
            .prefix("fakessh-fixture-")
            .tempdir()?;
        let client_key = PrivateKey::random(&mut rand_keys::rng(), Algorithm::Ed25519)?;
        let key_path = dir.path().join("id_ed25519");
        write_private(
            &key_path,
            client_key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)?
                .as_bytes(),
        )?;
        let server = server::start(
            instance.clone(),
            ServerConfig {
                auth: self.auth,
                limits: self.connection_limits,
                ..ServerConfig::loopback()
            },
        )
        .await?;
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("{}\n", server.known_hosts_line()))?;
        Ok(FakeInstance {
            instance,
            server: Some(server),
            client_key: Arc::new(client_key),
            key_path,
            known_hosts,
            _dir: dir,
        })
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// What one [`FakeInstance::exec`] returned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status (`None` when the connection dropped first).
    pub status: Option<u32>,
    /// Everything on stdout.
    pub stdout: Vec<u8>,
    /// Everything on stderr.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// stdout as (lossy) UTF-8.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr as (lossy) UTF-8.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// A fake instance served on a free loopback port for one test. Dropping
/// it stops the server and checks every rule's `expect` count.
pub struct FakeInstance {
    instance: Arc<Instance>,
    server: Option<RunningServer>,
    client_key: Arc<PrivateKey>,
    key_path: PathBuf,
    known_hosts: PathBuf,
    _dir: tempfile::TempDir,
}

struct TrustOnly(russh::keys::PublicKey);

impl russh::client::Handler for TrustOnly {
    type Error = russh::Error;
    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(
            matches!(key, russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } if key.key_data() == self.0.key_data()),
        )
    }
}

impl FakeInstance {
    /// A builder with test defaults (time scale 0, banner off).
    pub fn builder() -> FakeInstanceBuilder {
        FakeInstanceBuilder {
            config: InstanceConfig {
                time_scale: 0.0,
                banner: BannerMode::Off,
                ..InstanceConfig::default()
            },
            auth: AuthPolicy::default(),
            connection_limits: crate::limits::ConnectionLimits::default(),
        }
    }

    /// An instance with the defaults.
    pub async fn start() -> Result<FakeInstance, FixtureError> {
        Self::builder().start().await
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server runs until drop")
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.server().local_addr()
    }

    /// The port served.
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The connection string the original app stores: `ssh -p PORT root@127.0.0.1`.
    pub fn connection_string(&self) -> String {
        format!("ssh -p {} root@{}", self.port(), self.addr().ip())
    }

    /// The known_hosts line for this instance's host key.
    pub fn known_hosts_line(&self) -> String {
        self.server().known_hosts_line()
    }

    /// A known_hosts file holding that line.
    pub fn known_hosts_path(&self) -> &Path {
        &self.known_hosts
    }

    /// A private key (mode 0600) the instance accepts.
    pub fn client_key_path(&self) -> &Path {
        &self.key_path
    }

    /// Connections the server holds open right now (handshaking or logged in).
    pub fn open_connections(&self) -> usize {
        self.server().open_connections()
    }

    /// The instance itself: config, sandbox, faults, journal.
    pub fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// Arms a fault rule now, for the rest of the instance's life (its
    /// `expect` is checked when the instance drops).
    pub fn mount(&self, rule: FaultRule) -> Result<Mounted, FaultError> {
        let id = self.instance.faults.arm(rule)?;
        Ok(Mounted {
            id,
            instance: self.instance.clone(),
        })
    }

    /// Arms a fault rule until the returned guard drops, which removes it
    /// and checks its `expect` (wiremock's `mount_as_scoped`).
    pub fn mount_as_scoped(&self, rule: FaultRule) -> Result<MountGuard, FaultError> {
        Ok(MountGuard(Some(self.mount(rule)?)))
    }

    /// Every command the instance ran, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.instance.journal.entries()
    }

    /// Commands whose line matches `regex`; an invalid regex is an error.
    pub fn ran(&self, regex: &str) -> Result<Vec<JournalEntry>, FixtureError> {
        Ok(self.instance.journal.query(&Query {
            regex: Some(regex.to_string()),
            ..Query::default()
        })?)
    }

    /// How many commands matched `regex`, for assertions.
    ///
    /// # Panics
    /// On an invalid regex, with the regex's error (see [`Self::ran`]).
    pub fn ran_count(&self, regex: &str) -> usize {
        self.ran(regex).unwrap_or_else(|e| panic!("{e}")).len()
    }

    /// The host path of a path inside the instance.
    pub fn path(&self, virt: &str) -> PathBuf {
        self.instance.sandbox.host_path(virt)
    }

    /// Reads a file of the instance's tree (up to 1 GiB), as a session would:
    /// links inside resolve within the root.
    pub fn read_file(&self, virt: &str) -> std::io::Result<Vec<u8>> {
        self.instance.sandbox.fs("/").read(virt, 1 << 30)
    }

    /// Runs `command` over a real SSH connection (russh's client), as
    /// `ssh root@host 'command'` would, and collects its output.
    pub async fn exec(&self, command: &str) -> Result<ExecOutput, FixtureError> {
        self.exec_as("root", command).await
    }

    /// Runs `command` as `user` (`ssh user@host 'command'`).
    pub async fn exec_as(&self, user: &str, command: &str) -> Result<ExecOutput, FixtureError> {
        let config = Arc::new(russh::client::Config {
            nodelay: true,
            ..Default::default()
        });
        let trust = TrustOnly(self.server().host_key().public_key().clone());
        let mut handle = russh::client::connect(config, self.addr(), trust).await?;
        let auth = handle
            .authenticate_publickey(
                user,
                PrivateKeyWithHashAlg::new(self.client_key.clone(), None),
            )
            .await?;
        if !auth.success() {
            return Err(FixtureError::LoginRefused { user: user.into() });
        }
        let mut channel = handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        let mut out = ExecOutput::default();
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        Ok(out)
    }

    /// Stops the server and returns the journal; expectations are checked
    /// as on drop.
    pub async fn shutdown(mut self) -> Vec<JournalEntry> {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        self.journal()
    }
}

/// A fault rule mounted on a [`FakeInstance`]: its id, how often it has
/// fired, and a way to take it down.
#[derive(Clone)]
pub struct Mounted {
    id: String,
    instance: Arc<Instance>,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mounted").field("id", &self.id).finish()
    }
}

impl Mounted {
    /// The rule's id (what `DELETE /__admin/faults/{id}` takes).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Times the rule fired so far (0 once it is removed).
    pub fn hits(&self) -> u64 {
        self.snapshot().map_or(0, |s| s.fired)
    }

    /// Times a run matched the rule, fired or not.
    pub fn matched(&self) -> u64 {
        self.snapshot().map_or(0, |s| s.matched)
    }

    /// The rule as it stands, while it is armed.
    pub fn snapshot(&self) -> Option<ArmedSnapshot> {
        self.instance.faults.get(&self.id)
    }

    /// Takes the rule down now; its last counts.
    pub fn remove(&self) -> Result<ArmedSnapshot, FaultError> {
        self.instance.faults.disarm(&self.id)
    }
}

/// A rule armed until this guard drops ([`FakeInstance::mount_as_scoped`]).
/// Dropping it removes the rule and panics (outside a panic already) when
/// its `expect` count was not met.
#[must_use = "the rule is removed when the guard drops"]
#[derive(Debug)]
pub struct MountGuard(Option<Mounted>);

impl std::ops::Deref for MountGuard {
    type Target = Mounted;

    fn deref(&self) -> &Mounted {
        self.0.as_ref().expect("present until drop")
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        let Some(mounted) = self.0.take() else {
            return;
        };
        let Ok(last) = mounted.remove() else {
            return; // removed already
        };
        if let Some(unmet) = last.unmet_expectation() {
            if !std::thread::panicking() {
                panic!("fakessh: {unmet}");
            }
        }
    }
}

impl Drop for FakeInstance {
    fn drop(&mut self) {
        // Signal only: awaiting in Drop would block the runtime.
        if let Some(server) = &self.server {
            server.stop();
        }
        let unmet = self.instance.faults.unmet_expectations();
        if unmet.is_empty() {
            return;
        }
        let mut report = String::from("fakessh: fault expectations not met:\n");
        for line in &unmet {
            report.push_str(&format!("  - {line}\n"));
        }
        report.push_str("commands run:\n");
        for e in self.journal() {
            report.push_str(&format!(
                "  {} [{}] {} -> {:?} faults={:?}\n",
                e.seq, e.kind, e.command, e.exit_code, e.faults
            ));
        }
        if std::thread::panicking() {
            tracing::warn!("{report}");
        } else {
            panic!("{report}");
        }
    }
}
