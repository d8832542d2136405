//! The SSH side of the handler: one russh connection per command, as the
//! original runs one OpenSSH process per command.
//!
//! - Key authentication from a key file; a missing or unreadable key is a
//!   [`SshError::Key`] naming the file.
//! - known_hosts checking like `StrictHostKeyChecking=yes`, or
//!   `accept-new` (unknown hosts are learned and appended to the file). A key
//!   that differs from the recorded one is [`SshError::HostKeyChanged`].
//! - [`SshClient::exec`] streams stdout and stderr, merged, to a callback and
//!   returns the exit status, or [`ExecOutcome::ConnectionLost`] when the
//!   connection ended without one (what `ssh` reports as 255).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::ChannelMsg;
use tokio::time::Instant;

use super::progress::Tool;
use crate::jobs::connection::SshTarget;

/// What `ssh` itself exits with when the connection fails.
pub const SSH_FAILURE: u32 = 255;

/// Why a command could not be run (or finished) over SSH.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SshError {
    /// The private key file is missing, unreadable or not a key.
    #[error("key file {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("{host}: name does not resolve ({reason})")]
    Dns {
        /// The host.
        host: String,
        /// The resolver's words.
        reason: String,
    },
    /// TCP connect or the SSH handshake failed (refused, reset, ...).
    #[error("connecting to {addr}: {reason}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// What happened.
        reason: String,
        /// The I/O error kind, when there was one.
        io_kind: Option<std::io::ErrorKind>,
    },
    /// Connecting took longer than the connect timeout.
    #[error("connecting to {addr}: timed out after {}s", timeout.as_secs_f64())]
    ConnectTimeout {
        /// `host:port`.
        addr: String,
        /// The limit.
        timeout: Duration,
    },
    /// The server's host key differs from the one in known_hosts.
    #[error(
        "host key for {host} port {port} has changed (known_hosts {} line {line}): \
         possible man-in-the-middle; verify the new key",
        known_hosts.display()
    )]
    HostKeyChanged {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// The line holding the old key.
        line: usize,
    },
    /// The host is not in known_hosts and accept-new is off.
    #[error("host key for {host} port {port} is not known ({}) and accept-new is off", known_hosts.display())]
    HostKeyUnknown {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The known_hosts file.
        known_hosts: PathBuf,
    },
    /// known_hosts could not be read or written.
    #[error("known_hosts {}: {reason}", path.display())]
    KnownHosts {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The server refused the key.
    #[error("authentication refused for {user}@{addr} with key {}", key.display())]
    AuthRefused {
        /// The login user.
        user: String,
        /// `host:port`.
        addr: String,
        /// The key offered.
        key: PathBuf,
    },
    /// Any other SSH protocol failure after the handshake.
    #[error("ssh to {addr}: {reason}")]
    Protocol {
        /// `host:port`.
        addr: String,
        /// What failed.
        reason: String,
    },
}

impl SshError {
    /// Whether trying again may help: refused/reset/timed-out connections
    /// and protocol breaks are transient; keys, host keys, auth and DNS are not.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SshError::Connect { .. } | SshError::ConnectTimeout { .. } | SshError::Protocol { .. }
        )
    }

    /// Whether a person must check the host key (HOST_VERIFICATION_NEEDED).
    pub fn needs_host_verification(&self) -> bool {
        matches!(
            self,
            SshError::HostKeyChanged { .. } | SshError::HostKeyUnknown { .. }
        )
    }
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    /// The remote exit status.
    Exited(u32),
    /// The connection closed without an exit status (`ssh` exits 255).
    ConnectionLost,
    /// No byte came for the stall limit; the connection was closed.
    Stalled(Duration),
    /// The command ran past the overall limit; the connection was closed.
    TimedOut(Duration),
}

/// Time limits for one command.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecLimits {
    /// Give up when no output comes for this long.
    pub stall: Option<Duration>,
    /// Give up when the command runs this long.
    pub total: Option<Duration>,
}

/// How to connect: identity, known_hosts policy, connect timeout.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// The private key used unless a connection string names its own (`-i`).
    pub key: PathBuf,
    /// The known_hosts file to check (and, with `accept_new`, to extend).
    pub known_hosts: PathBuf,
    /// Learn unknown hosts (`StrictHostKeyChecking=accept-new`).
    pub accept_new: bool,
    /// TCP connect plus SSH handshake and auth.
    pub connect_timeout: Duration,
}

/// The remote command line the original sends: `export PATH=... && cd /tmp
/// && <command>`, with ` --api-key KEY` appended to civitdl commands when a
/// key is configured.
pub fn remote_command(command: &str, civitdl_api_key: Option<&str>) -> String {
    let mut remote = format!("export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && {command}");
    if let Some(key) = civitdl_api_key.filter(|k| !k.is_empty()) {
        if Tool::from_command(command) == Some(Tool::Civitdl) {
            remote.push_str(" --api-key ");
            remote.push_str(key);
        }
    }
    remote
}

/// An SSH client that caches loaded keys; cheap to share.
pub struct SshClient {
    config: SshConfig,
    keys: Mutex<HashMap<PathBuf, Arc<PrivateKey>>>,
    /// Serialises appends to known_hosts under accept-new.
    learn: Arc<Mutex<()>>,
}

/// What `check_server_key` found, read back after a failed handshake.
#[derive(Default)]
struct HostCheck {
    problem: Option<SshError>,
}

struct Verifier {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    accept_new: bool,
    found: Arc<Mutex<HostCheck>>,
    learn: Arc<Mutex<()>>,
}

impl Verifier {
    fn check(&self, key: &PublicKey) -> Result<bool, SshError> {
        let kh = |reason: String| SshError::KnownHosts {
            path: self.known_hosts.clone(),
            reason,
        };
        match russh::keys::check_known_hosts_path(&self.host, self.port, key, &self.known_hosts) {
            Ok(true) => Ok(true),
            Ok(false) if self.accept_new => {
                let _guard = self.learn.lock().unwrap_or_else(|e| e.into_inner());
                // Another task may have learned it meanwhile.
                match russh::keys::check_known_hosts_path(
                    &self.host,
                    self.port,
                    key,
                    &self.known_hosts,
                ) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(e) => return Err(self.classify(e, kh)),
                }
                russh::keys::known_hosts::learn_known_hosts_path(
                    &self.host,
                    self.port,
                    key,
                    &self.known_hosts,
                )
                .map_err(|e| kh(e.to_string()))?;
                tracing::info!(host = %self.host, port = self.port, "learned a new host key");
                Ok(true)
            }
            Ok(false) => Err(SshError::HostKeyUnknown {
                host: self.host.clone(),
                port: self.port,
                known_hosts: self.known_hosts.clone(),
            }),
            Err(e) => Err(self.classify(e, kh)),
        }
    }

    fn classify(&self, e: russh::keys::Error, kh: impl Fn(String) -> SshError) -> SshError {
        match e {
            russh::keys::Error::KeyChanged { line } => SshError::HostKeyChanged {
                host: self.host.clone(),
                port: self.port,
                known_hosts: self.known_hosts.clone(),
                line,
            },
            other => kh(other.to_string()),
        }
    }
}

impl russh::client::Handler for Verifier {
    type Error = russh::Error;
    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKey::new(cert.public_key().clone(), cert.comment())
            }
        };
        match self.check(&key) {
            Ok(ok) => Ok(ok),
            Err(problem) => {
                self.found.lock().unwrap_or_else(|e| e.into_inner()).problem = Some(problem);
                Ok(false)
            }
        }
    }
}

impl SshClient {
    /// A client; checks that the default key loads (a clear error naming
    /// the file when it does not).
    pub fn new(config: SshConfig) -> Result<SshClient, SshError> {
        let client = SshClient {
            config,
            keys: Mutex::new(HashMap::new()),
            learn: Arc::new(Mutex::new(())),
        };
        client.key(&client.config.key.clone())?;
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &SshConfig {
        &self.config
    }

    fn key(&self, path: &Path) -> Result<Arc<PrivateKey>, SshError> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = keys.get(path) {
            return Ok(k.clone());
        }
        let err = |reason: String| SshError::Key {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => err("no such file".into()),
            _ => err(e.to_string()),
        })?;
        let key = russh::keys::decode_secret_key(&text, None).map_err(|e| err(e.to_string()))?;
        let key = Arc::new(key);
        keys.insert(path.to_path_buf(), key.clone());
        Ok(key)
    }

    /// Runs `remote` on `target` (already the full remote command line),
    /// feeding every chunk of stdout and stderr, in arrival order, to
    /// `on_output`.
    pub async fn exec(
        &self,
        target: &SshTarget,
        remote: &str,
        limits: ExecLimits,
        mut on_output: impl FnMut(&[u8]) + Send,
    ) -> Result<ExecOutcome, SshError> {
        let key_path = target
            .identity
            .clone()
            .unwrap_or_else(|| self.config.key.clone());
        let key = self.key(&key_path)?;
        let host = target.host.to_string();
        let addr = match &target.host {
            crate::jobs::connection::Host::V6(a) => format!("[{a}]:{}", target.port),
            _ => format!("{host}:{}", target.port),
        };
        let timeout = self.config.connect_timeout;
        let handle =
            tokio::time::timeout(timeout, self.connect(target, &host, &addr, key, &key_path))
                .await
                .map_err(|_| SshError::ConnectTimeout {
                    addr: addr.clone(),
                    timeout,
                })??;
        let proto = |e: russh::Error| SshError::Protocol {
            addr: addr.clone(),
            reason: e.to_string(),
        };
        let mut channel = handle.channel_open_session().await.map_err(proto)?;
        channel.exec(true, remote).await.map_err(proto)?;
        let started = Instant::now();
        let mut status = None;
        let outcome = loop {
            let now = Instant::now();
            let mut deadline: Option<(Instant, ExecOutcome)> = None;
            if let Some(total) = limits.total {
                deadline = Some((started + total, ExecOutcome::TimedOut(total)));
            }
            if let Some(stall) = limits.stall {
                let at = now + stall;
                if deadline.is_none_or(|(d, _)| at < d) {
                    deadline = Some((at, ExecOutcome::Stalled(stall)));
                }
            }
            let msg = match deadline {
                Some((at, outcome)) => match tokio::time::timeout_at(at, channel.wait()).await {
                    Ok(msg) => msg,
                    Err(_) => break outcome,
                },
                None => channel.wait().await,
            };
            match msg {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    on_output(&data)
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
                Some(ChannelMsg::ExitSignal { .. }) => status = status.or(Some(SSH_FAILURE)),
                Some(ChannelMsg::Close) | None => {
                    break match status {
                        Some(s) => ExecOutcome::Exited(s),
                        None => ExecOutcome::ConnectionLost,
                    }
                }
                Some(_) => {}
            }
        };
        // A stalled or timed-out command: closing the connection ends it.
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            handle.disconnect(russh::Disconnect::ByApplication, "", "en"),
        )
        .await;
        Ok(outcome)
    }

    async fn connect(
        &self,
        target: &SshTarget,
        host: &str,
        addr: &str,
        key: Arc<PrivateKey>,
        key_path: &Path,
    ) -> Result<russh::client::Handle<Verifier>, SshError> {
        let ip: std::net::IpAddr = match &target.host {
            crate::jobs::connection::Host::V4(a) => (*a).into(),
            crate::jobs::connection::Host::V6(a) => (*a).into(),
            crate::jobs::connection::Host::Name(name) => {
                let mut found = tokio::net::lookup_host((name.as_str(), target.port))
                    .await
                    .map_err(|e| SshError::Dns {
                        host: name.clone(),
                        reason: e.to_string(),
                    })?;
                found
                    .next()
                    .ok_or_else(|| SshError::Dns {
                        host: name.clone(),
                        reason: "no addresses".into(),
                    })?
                    .ip()
            }
        };
        let config = Arc::new(russh::client::Config {
            nodelay: true,
            ..Default::default()
        });
        let found = Arc::new(Mutex::new(HostCheck::default()));
        let verifier = Verifier {
            host: host.to_string(),
            port: target.port,
            known_hosts: self.config.known_hosts.clone(),
            accept_new: self.config.accept_new,
            found: found.clone(),
            learn: self.learn.clone(),
        };
        let connected = russh::client::connect(config, (ip, target.port), verifier).await;
        let mut handle = match connected {
            Ok(h) => h,
            Err(e) => {
                if let Some(problem) = found
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .problem
                    .take()
                {
                    return Err(problem);
                }
                let io_kind = match &e {
                    russh::Error::IO(io) => Some(io.kind()),
                    _ => None,
                };
                return Err(SshError::Connect {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                    io_kind,
                });
            }
        };
        let hash = match key.algorithm() {
            russh::keys::Algorithm::Rsa { .. } => handle
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten(),
            _ => None,
        };
        let auth = handle
            .authenticate_publickey(&target.user, PrivateKeyWithHashAlg::new(key, hash))
            .await
            .map_err(|e| SshError::Connect {
                addr: addr.to_string(),
                reason: e.to_string(),
                io_kind: None,
            })?;
        if !auth.success() {
            return Err(SshError::AuthRefused {
                user: target.user.clone(),
                addr: addr.to_string(),
                key: key_path.to_path_buf(),
            });
        }
        Ok(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_command_is_the_originals_and_only_civitdl_gets_the_api_key() {
        assert_eq!(
            remote_command("wget -P /x https://h/f", Some("k")),
            "export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && wget -P /x https://h/f"
        );
        assert_eq!(
            remote_command("civitdl 123 /x", Some("k")),
            "export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && civitdl 123 /x --api-key k"
        );
        assert!(!remote_command("civitdl 123 /x", None).contains("--api-key"));
    }

    #[test]
    fn a_missing_key_file_is_an_error_naming_it() {
        let err = SshClient::new(SshConfig {
            key: "/nonexistent/id_ed25519".into(),
            known_hosts: "/nonexistent/known_hosts".into(),
            accept_new: false,
            connect_timeout: Duration::from_secs(1),
        })
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "key file /nonexistent/id_ed25519: no such file"
        );
    }
}
