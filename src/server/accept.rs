//! The accept loop: each TCP connection is checked against the limits and
//! the connection-depth faults, then served by russh with a
//! [`SessionHandler`] in its own task, bounded by the login grace time
//! until it logs in, and ended at shutdown.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::auth::AuthPolicy;
use super::session::SessionHandler;
use super::startups::{Startups, Ticket};
use crate::faults::{Depth, Fault, Invocation};
use crate::instance::Instance;
use crate::limits::ConnectionLimits;

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

/// What the accept loop serves with, made once by [`super::start`].
pub(super) struct Acceptor {
    pub listener: TcpListener,
    /// The server's settings, then the same with another host key (served
    /// when a rotate_host_key fault fires).
    pub configs: [Arc<russh::server::Config>; 2],
    pub instance: Arc<Instance>,
    pub auth: Arc<AuthPolicy>,
    pub limits: ConnectionLimits,
    pub shutdown: watch::Receiver<bool>,
    /// Connections open, shared with [`super::RunningServer`].
    pub connections: Arc<AtomicUsize>,
    /// Session channels running, shared with [`super::RunningServer`].
    pub channels: Arc<AtomicUsize>,
}

/// Accepts connections until shutdown, each served in its own task.
pub(super) async fn accept_loop(acceptor: Acceptor) {
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
        let faults = connection_faults(&instance, &starting);
        if faults.reset {
            // Linger 0 turns the close into a reset, before any banner.
            tracing::info!(%peer, faults = ?faults.fired, "fault: connection reset");
            let _ = socket.set_zero_linger();
            drop(socket);
            continue;
        }
        let (login_tx, login_rx) = oneshot::channel();
        let grace = limits.login_grace;
        let handler = SessionHandler {
            refuse_auth: faults.refuse_auth,
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
        let config = if faults.rotate {
            rotated_config.clone()
        } else {
            config.clone()
        };
        let shutdown = shutdown.clone();
        let connections = connections.clone();
        starting.fetch_add(1, Ordering::Relaxed);
        connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(serve_connection(Connection {
            socket,
            peer,
            config,
            handler,
            delay: faults.delay,
            grace,
            login_rx,
            ticket,
            startups,
            shutdown,
            connections,
        }));
    }
}

/// The connection-depth faults that fired for one new connection.
struct ConnectionFaults {
    /// Ids of the rules that fired (for the log).
    fired: Vec<String>,
    /// Reset the connection before the banner.
    reset: bool,
    delay: Option<Duration>,
    refuse_auth: bool,
    /// Serve the other host key.
    rotate: bool,
}

/// Decides the connection-depth faults; `starting` is how many
/// connections wait for login (a max_startups fault resets past its limit).
fn connection_faults(instance: &Instance, starting: &AtomicUsize) -> ConnectionFaults {
    let fired = instance.faults.decide(
        Depth::Connection,
        &Invocation {
            instance: &instance.config.id,
            ..Invocation::default()
        },
    );
    let mut faults = ConnectionFaults {
        fired: fired.iter().map(|f| f.id.clone()).collect(),
        reset: false,
        delay: None,
        refuse_auth: false,
        rotate: false,
    };
    for f in &fired {
        match f.fault {
            Fault::ResetConnection => faults.reset = true,
            Fault::MaxStartups { limit } => {
                faults.reset |= starting.load(Ordering::Relaxed) >= limit as usize
            }
            Fault::DelayHandshake { delay_ms } => {
                faults.delay = Some(Duration::from_millis(delay_ms))
            }
            Fault::RefuseAuth => faults.refuse_auth = true,
            Fault::RotateHostKey => faults.rotate = true,
            _ => {}
        }
    }
    faults
}

/// One accepted connection, handed to its own task.
struct Connection {
    socket: TcpStream,
    peer: SocketAddr,
    config: Arc<russh::server::Config>,
    handler: SessionHandler,
    /// A delay_handshake fault's wait before the banner.
    delay: Option<Duration>,
    /// The login grace time.
    grace: Duration,
    /// Fires when the client logs in.
    login_rx: oneshot::Receiver<()>,
    /// Its place among the connections waiting for login.
    ticket: Ticket,
    startups: Arc<Startups>,
    shutdown: watch::Receiver<bool>,
    /// The server's count of open connections, already raised for this one.
    connections: Arc<AtomicUsize>,
}

/// Serves one connection: the handshake and login within the grace time
/// (or until a newer connection evicts it), then until it ends or the
/// server shuts down.
async fn serve_connection(conn: Connection) {
    let Connection {
        socket,
        peer,
        config,
        handler,
        delay,
        grace,
        login_rx,
        ticket,
        startups,
        mut shutdown,
        connections,
    } = conn;
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
}
