//! The SSH server: a TCP listener whose connections russh serves with a
//! [`SessionHandler`](session::SessionHandler) each. [`start`] binds before
//! it returns, so the address is known at once (port 0 picks a free port).
//!
//! `accept` admits connections (limits, connection faults, login grace);
//! `session` authenticates (`auth`) and opens channels; each channel runs
//! in `channel` (exec, shell) or `sftp`, both on the shared `context`.

mod accept;
pub mod auth;
mod channel;
mod context;
mod forward;
pub mod keys;
mod session;
mod sftp;
mod sink;
mod startups;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::SshId;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::AuthPolicy;

use crate::instance::Instance;
use crate::limits::ConnectionLimits;

/// What the server listens on and whom it lets in.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The host key clients see.
    pub host_key: PrivateKey,
    /// Who may log in.
    pub auth: AuthPolicy,
    /// How many connections, and for how long before and after login.
    pub limits: ConnectionLimits,
}

impl ServerConfig {
    /// Loopback, a free port, a fresh host key, any key or password.
    pub fn loopback() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            host_key: keys::generate(),
            auth: AuthPolicy::default(),
            limits: ConnectionLimits::default(),
        }
    }
}

/// A running server; dropping it does not stop it, [`RunningServer::shutdown`] does.
pub struct RunningServer {
    local_addr: SocketAddr,
    host_key: PrivateKey,
    shutdown: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
    connections: Arc<AtomicUsize>,
    channels: Arc<AtomicUsize>,
}

impl RunningServer {
    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's host key.
    pub fn host_key(&self) -> &PrivateKey {
        &self.host_key
    }

    /// A known_hosts line for this server, as OpenSSH writes it.
    pub fn known_hosts_line(&self) -> String {
        keys::known_hosts_line(
            &self.host_key,
            &self.local_addr.ip().to_string(),
            self.local_addr.port(),
        )
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Session channels whose task is still running.
    pub fn open_channels(&self) -> usize {
        self.channels.load(Ordering::Relaxed)
    }

    /// Stops accepting, disconnects every client, and waits for the listener task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept_task.await;
    }

    /// Waits until the listener stops (it runs until shutdown).
    pub async fn wait(&mut self) {
        let _ = (&mut self.accept_task).await;
    }

    /// Asks the server to stop without waiting.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// russh's settings for one host key.
fn russh_config(host_key: PrivateKey, limits: &ConnectionLimits) -> russh::server::Config {
    russh::server::Config {
        server_id: SshId::Standard("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10".into()),
        methods: auth::methods(),
        // OpenSSH probes with `none` first; russh's default 1 s penalty
        // would slow every login.
        auth_rejection_time: Duration::from_millis(50),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        nodelay: true,
        inactivity_timeout: limits.idle_timeout,
        ..Default::default()
    }
}

/// The most session channels one connection may hold open at once.
pub const MAX_CHANNELS_PER_CONNECTION: usize = 1024;

/// Binds and starts serving `instance`.
pub async fn start(
    instance: Arc<Instance>,
    config: ServerConfig,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    crate::shell::install_programs(&instance)?;
    crate::services::install(&instance);
    let main_config = Arc::new(russh_config(config.host_key.clone(), &config.limits));
    // Served instead when a rotate_host_key fault fires: another key, as
    // after a reinstall.
    let rotated_config = Arc::new(russh_config(keys::generate(), &config.limits));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let connections = Arc::new(AtomicUsize::new(0));
    let channels = Arc::new(AtomicUsize::new(0));
    let auth = Arc::new(config.auth.clone());
    let accept_task = tokio::spawn(accept::accept_loop(accept::Acceptor {
        listener,
        configs: [main_config, rotated_config],
        instance,
        auth,
        limits: config.limits.clone(),
        shutdown: shutdown_rx,
        connections: connections.clone(),
        channels: channels.clone(),
    }));
    Ok(RunningServer {
        local_addr,
        host_key: config.host_key,
        shutdown,
        accept_task,
        connections,
        channels,
    })
}
