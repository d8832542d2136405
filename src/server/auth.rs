//! Who may log in: by default any key and any password, as a test double
//! should; `--authorized-keys` and `--password` restrict.

use std::path::Path;

use russh::keys::PublicKey;
use russh::{MethodKind, MethodSet};

/// The methods offered to clients, in the server's config and again with
/// every rejection: keys and passwords, nothing interactive.
pub(super) fn methods() -> MethodSet {
    MethodSet::from(&[MethodKind::PublicKey, MethodKind::Password][..])
}

/// The login policy of a server.
#[derive(Clone, Debug, Default)]
pub struct AuthPolicy {
    /// When set, only these public keys log in.
    pub authorized_keys: Option<Vec<PublicKey>>,
    /// When set, only this password logs in.
    pub password: Option<String>,
}

/// An authorized_keys file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("authorized keys {path}: {reason}")]
pub struct AuthorizedKeysError {
    /// The file.
    pub path: String,
    /// What is wrong (line numbers are 1-based).
    pub reason: String,
}

impl AuthPolicy {
    /// Reads an OpenSSH authorized_keys file (options before the key are allowed).
    pub fn read_authorized_keys(path: &Path) -> Result<Vec<PublicKey>, AuthorizedKeysError> {
        let err = |reason: String| AuthorizedKeysError {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut keys = Vec::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = line
                .parse::<russh::keys::ssh_key::authorized_keys::Entry>()
                .map_err(|e| err(format!("line {}: {e}", no + 1)))?;
            keys.push(entry.public_key().clone());
        }
        if keys.is_empty() {
            return Err(err("no keys in file".into()));
        }
        Ok(keys)
    }

    /// Whether any restriction is set (then unlisted methods are refused).
    fn restricted(&self) -> bool {
        self.authorized_keys.is_some() || self.password.is_some()
    }

    /// Whether `key` may log in.
    pub fn allows_key(&self, key: &PublicKey) -> bool {
        match &self.authorized_keys {
            Some(keys) => keys.iter().any(|k| k.key_data() == key.key_data()),
            None => !self.restricted(),
        }
    }

    /// Whether `password` may log in.
    pub fn allows_password(&self, password: &str) -> bool {
        match &self.password {
            Some(p) => p == password,
            None => !self.restricted(),
        }
    }
}
