//! One SSH connection: authentication and channel requests. Each session
//! channel gets its own task (see `channel`), so a slow command never
//! blocks the connection's loop.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};

use super::auth::{self, AuthPolicy};
use super::channel;
use super::context::ChannelContext;
use super::keys::fingerprint;
use crate::instance::Instance;

/// The per-connection russh handler.
pub(super) struct SessionHandler {
    pub(super) instance: Arc<Instance>,
    pub(super) auth: Arc<AuthPolicy>,
    pub(super) peer: Option<SocketAddr>,
    pub(super) local: Option<SocketAddr>,
    pub(super) active_channels: Arc<AtomicUsize>,
    /// Channels open on this connection, against [`super::MAX_CHANNELS_PER_CONNECTION`].
    pub(super) open_here: Arc<AtomicUsize>,
    pub(super) user: String,
    pub(super) key_fingerprint: Option<String>,
    /// A refuse_auth fault fired for this connection.
    pub(super) refuse_auth: bool,
    /// The server's count of unauthenticated connections; this one leaves
    /// it on login or when dropped.
    pub(super) starting: Option<Arc<AtomicUsize>>,
    /// Told when the client logs in (ends the login grace timer).
    pub(super) on_login: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for SessionHandler {
    fn drop(&mut self) {
        self.leave_starting();
    }
}

impl russh::server::Handler for SessionHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(self.decide(false))
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.decide(!self.refuse_auth && self.auth.allows_key(offer.public_key)))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let ok = !self.refuse_auth && self.auth.allows_key(key.public_key);
        if ok {
            self.logged_in(user, Some(key.public_key));
        }
        Ok(self.decide(ok))
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let ok = !self.refuse_auth && self.auth.allows_password(password);
        if ok {
            self.logged_in(user, None);
        }
        Ok(self.decide(ok))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.open_here.load(std::sync::atomic::Ordering::Relaxed)
            >= super::MAX_CHANNELS_PER_CONNECTION
        {
            tracing::warn!(peer = ?self.peer, "too many channels on one connection; refused");
            reply
                .reject(russh::ChannelOpenFailure::ResourceShortage)
                .await;
            return Ok(());
        }
        // Counted before the task runs: a burst of opens must see it.
        self.open_here
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.active_channels
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        reply.accept().await;
        let cx = ChannelContext {
            instance: self.instance.clone(),
            user: self.user.clone(),
            peer: self.peer,
            local: self.local,
            active: self.active_channels.clone(),
            open_here: self.open_here.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            handle: session.handle(),
        };
        tokio::spawn(channel::run(channel, cx));
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let cx = ChannelContext {
            instance: self.instance.clone(),
            user: self.user.clone(),
            peer: self.peer,
            local: self.local,
            active: self.active_channels.clone(),
            open_here: self.open_here.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            handle: session.handle(),
        };
        super::forward::open(channel, reply, cx, host_to_connect, port_to_connect).await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        tracing::info!(
            user = %self.user,
            peer = ?self.peer,
            key = self.key_fingerprint.as_deref().unwrap_or("-"),
            bytes = data.len(),
            "exec"
        );
        session.channel_success(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "sftp" {
            tracing::info!(user = %self.user, peer = ?self.peer, "subsystem sftp");
            return session.channel_success(channel);
        }
        tracing::info!(subsystem = name, "subsystem refused");
        session.channel_failure(channel)?;
        // The channel task is waiting for exec or shell; end it cleanly.
        session.close(channel)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }
}

impl SessionHandler {
    /// Accepts, or rejects listing the methods still worth trying.
    fn decide(&self, ok: bool) -> Auth {
        if ok {
            Auth::Accept
        } else {
            Auth::Reject {
                proceed_with_methods: Some(auth::methods()),
                partial_success: false,
            }
        }
    }

    fn leave_starting(&mut self) {
        if let Some(counter) = self.starting.take() {
            counter.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn logged_in(&mut self, user: &str, key: Option<&PublicKey>) {
        self.leave_starting();
        if let Some(tx) = self.on_login.take() {
            let _ = tx.send(());
        }
        self.user = user.to_string();
        self.key_fingerprint = key.map(fingerprint);
        tracing::debug!(user, peer = ?self.peer, key = ?self.key_fingerprint, "authenticated");
    }
}
