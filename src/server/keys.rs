//! Host keys: loaded from an OpenSSH private key file, or generated
//! (ed25519) and saved with mode 0600 when the file does not exist.

use std::path::Path;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

/// Why a host key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file exists but is not a usable private key.
    #[error("host key {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file could not be written.
    #[error("host key {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A fresh ed25519 key.
pub fn generate() -> PrivateKey {
    // Ed25519 generation cannot fail with a working OS RNG.
    PrivateKey::random(&mut rand_keys::rng(), Algorithm::Ed25519).expect("ed25519 key generation")
}

/// Loads the key at `path`, or generates one and saves it there (0600).
pub fn load_or_generate(path: &Path) -> Result<PrivateKey, KeyError> {
    let shown = path.display().to_string();
    if path.exists() {
        return russh::keys::load_secret_key(path, None).map_err(|e| KeyError::Invalid {
            path: shown,
            reason: e.to_string(),
        });
    }
    let key = generate();
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| KeyError::Invalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    write_private(path, text.as_bytes()).map_err(|source| KeyError::Io {
        path: shown,
        source,
    })?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// The `SHA256:...` fingerprint OpenSSH prints for a key.
pub fn fingerprint(key: &russh::keys::PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A known_hosts line for this key at `[host]:port`.
pub fn known_hosts_line(key: &PrivateKey, host: &str, port: u16) -> String {
    let public = key.public_key().to_openssh().unwrap_or_default();
    if port == 22 {
        format!("{host} {public}")
    } else {
        format!("[{host}]:{port} {public}")
    }
}
