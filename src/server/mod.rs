//! The SSH server: a TCP listener whose connections russh serves with a
//! [`SessionHandler`](session::SessionHandler) each. [`start`] binds before
//! it returns, so the address is known at once (port 0 picks a free port).

pub mod auth;
mod channel;
mod context;
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

use crate::faults::{Depth, Fault, Invocation};
use crate::instance::Instance;
use crate::limits::ConnectionLimits;
use startups::Startups;

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

/// The first wait after a failed accept; it doubles up to the max.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Leaves the startups table when dropped.
struct Leave(Arc<Startups>, u64);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave(self.1);
    }
}

/// Decrements a counter when dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
    let main_config = Arc::new(russh_config(config.host_key.clone(), &config.limits));
    // Served instead when a rotate_host_key fault fires: another key, as
    // after a reinstall.
    let rotated_config = Arc::new(russh_config(keys::generate(), &config.limits));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let connections = Arc::new(AtomicUsize::new(0));
    let channels = Arc::new(AtomicUsize::new(0));
    let auth = Arc::new(config.auth.clone());
    let accept_task = tokio::spawn(accept_loop(Acceptor {
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

/// What the accept loop serves with, made once by [`start`].
struct Acceptor {
    listener: TcpListener,
    /// The server's settings, then the same with another host key (served
    /// when a rotate_host_key fault fires).
    configs: [Arc<russh::server::Config>; 2],
    instance: Arc<Instance>,
    auth: Arc<AuthPolicy>,
    limits: ConnectionLimits,
    shutdown: watch::Receiver<bool>,
    /// Connections open, shared with [`RunningServer`].
    connections: Arc<AtomicUsize>,
    /// Session channels running, shared with [`RunningServer`].
    channels: Arc<AtomicUsize>,
}

/// Accepts connections until shutdown, each served in its own task.
async fn accept_loop(acceptor: Acceptor) {
    let Acceptor {
        listener,
        configs: [config, rotated_config],
        instance,
        auth,
        limits,
        mut shutdown,
        connections,
        channels,
    } = acceptor;
    let local = listener.local_addr().ok();
    // Connections not yet authenticated (MaxStartups, and the fault of that name).
    let starting = Arc::new(AtomicUsize::new(0));
    let startups = Startups::new(limits.max_unauthenticated);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let (socket, peer) = tokio::select! {
            _ = shutdown.changed() => {
                // Jobs that outlived their sessions go with the server.
                instance.detached.end_all();
                break;
            }
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = ACCEPT_BACKOFF_MIN;
                    pair
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning,
                    // longer each time it fails again.
                    tracing::warn!("accept failed: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
        };
        if connections.load(Ordering::Relaxed) >= limits.max_connections {
            // Closed before the banner, as sshd does past its limits.
            tracing::warn!(%peer, "connection refused: too many connections");
            drop(socket);
            continue;
        }
        let ticket = startups.admit();
        let startups = startups.clone();
        let fired = instance.faults.decide(
            Depth::Connection,
            &Invocation {
                instance: &instance.config.id,
                ..Invocation::default()
            },
        );
        let mut delay = None;
        let mut refuse_auth = false;
        let mut rotate = false;
        let mut drop_now = false;
        for f in &fired {
            match f.fault {
                Fault::ResetConnection => drop_now = true,
                Fault::MaxStartups { limit } => {
                    drop_now |= starting.load(Ordering::Relaxed) >= limit as usize
                }
                Fault::DelayHandshake { delay_ms } => delay = Some(Duration::from_millis(delay_ms)),
                Fault::RefuseAuth => refuse_auth = true,
                Fault::RotateHostKey => rotate = true,
                _ => {}
            }
        }
        if drop_now {
            // Linger 0 turns the close into a reset, before any banner.
            tracing::info!(%peer, faults = ?fired.iter().map(|f| &f.id).collect::<Vec<_>>(), "fault: connection reset");
            let _ = socket.set_zero_linger();
            drop(socket);
            continue;
        }
        let (login_tx, login_rx) = tokio::sync::oneshot::channel();
        let grace = limits.login_grace;
        let handler = session::SessionHandler {
            refuse_auth,
            starting: Some(starting.clone()),
            instance: instance.clone(),
            auth: auth.clone(),
            peer: Some(peer),
            local,
            active_channels: channels.clone(),
            open_here: Arc::new(AtomicUsize::new(0)),
            user: String::new(),
            key_fingerprint: None,
            on_login: Some(login_tx),
        };
        let config = if rotate {
            rotated_config.clone()
        } else {
            config.clone()
        };
        let mut shutdown = shutdown.clone();
        let connections = connections.clone();
        starting.fetch_add(1, Ordering::Relaxed);
        connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            // Counted from accept, so a flood is seen before any handshake.
            let _open = Counted(connections);
            let _waiting = Leave(startups, ticket.id);
            let evicted = ticket.evicted;
            let deadline = tokio::time::Instant::now() + grace;
            let serve = async {
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                let _ = socket.set_nodelay(true);
                // A client that never sends its version line is bounded
                // by the grace time too.
                let started = tokio::select! {
                    started = tokio::time::timeout_at(
                        deadline,
                        russh::server::run_stream(config, socket, handler),
                    ) => started,
                    _ = evicted.notified() => return,
                };
                let Ok(started) = started else {
                    tracing::info!(%peer, "login grace time over before the handshake");
                    return;
                };
                match started {
                    Ok(session) => {
                        let handle = session.handle();
                        tokio::pin!(session);
                        let mut login = std::pin::pin!(login_rx);
                        let mut logged_in = false;
                        let grace_timer = tokio::time::sleep_until(deadline);
                        tokio::pin!(grace_timer);
                        loop {
                            tokio::select! {
                                result = &mut session => {
                                    if let Err(e) = result {
                                        tracing::debug!(%peer, "connection ended: {e}");
                                    }
                                    return;
                                }
                                r = &mut login, if !logged_in => {
                                    // A dropped sender (no login yet) keeps the timer.
                                    logged_in = r.is_ok();
                                    if logged_in {
                                        _waiting.0.leave(_waiting.1);
                                    } else {
                                        login.set(tokio::sync::oneshot::channel().1);
                                    }
                                }
                                _ = evicted.notified(), if !logged_in => {
                                    let _ = handle
                                        .disconnect(russh::Disconnect::TooManyConnections, "Too many connections not logged in".into(), "en".into())
                                        .await;
                                    return;
                                }
                                _ = &mut grace_timer, if !logged_in => {
                                    tracing::info!(%peer, "login grace time over");
                                    let _ = handle
                                        .disconnect(russh::Disconnect::ByApplication, "Timeout before authentication".into(), "en".into())
                                        .await;
                                    return;
                                }
                                _ = shutdown.changed() => {
                                    let _ = handle
                                        .disconnect(russh::Disconnect::ByApplication, "server shutting down".into(), "en".into())
                                        .await;
                                    return;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::debug!(%peer, "handshake failed: {e}"),
                }
            };
            serve.await;
        });
    }
}
