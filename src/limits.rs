//! What one client may make the server do: bounds on a session's shell and
//! on connections, with defaults that no ordinary pipeline reaches.
//!
//! A client may fail its own session, never the process: every bound here
//! turns into the message bash or the kernel prints when it runs out
//! (`bash: fork: retry: Resource temporarily unavailable`, `xrealloc: cannot
//! allocate`), never into a crash, a stuck core or a host filled up.
//! [`SessionLimits`] travel with the instance (flags, fleet files, fixtures);
//! [`ConnectionLimits`] with the server that accepts connections.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Every limit, as a `--limits` file holds them: `[session]` and
/// `[connection]` tables, each key optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bounds on each session's shell.
    pub session: SessionLimits,
    /// Bounds on connections.
    pub connection: ConnectionLimits,
}

/// A limits file or `--limit` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("limits: {0}")]
pub struct LimitsError(String);

impl Limits {
    /// Reads a TOML limits file's text.
    pub fn from_toml(text: &str) -> Result<Self, LimitsError> {
        toml::from_str(text).map_err(|e| LimitsError(e.to_string()))
    }

    /// Applies one `KEY=VALUE` (`max_processes=64`, or with its table,
    /// `connection.login_grace=30s`).
    pub fn set(&mut self, assignment: &str) -> Result<(), LimitsError> {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| LimitsError(format!("{assignment:?}: expected KEY=VALUE")))?;
        let (key, value) = (key.trim(), value.trim());
        let mut doc = toml::Value::try_from(&*self).map_err(|e| LimitsError(e.to_string()))?;
        let tables = doc
            .as_table_mut()
            .ok_or_else(|| LimitsError("not a table".into()))?;
        let (table, field) = match key.split_once('.') {
            Some((t, f)) => (t.to_string(), f),
            None => {
                let owner = ["session", "connection"].into_iter().find(|t| {
                    tables
                        .get(*t)
                        .and_then(|v| v.as_table())
                        .is_some_and(|v| v.contains_key(key))
                });
                match owner {
                    Some(t) => (t.to_string(), key),
                    None => return Err(LimitsError(format!("unknown limit {key:?}"))),
                }
            }
        };
        let parsed = match value.parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => toml::Value::String(value.to_string()),
        };
        tables
            .get_mut(&table)
            .and_then(|t| t.as_table_mut())
            .ok_or_else(|| LimitsError(format!("unknown limits table {table:?}")))?
            .insert(field.to_string(), parsed);
        *self = doc
            .try_into()
            .map_err(|e: toml::de::Error| LimitsError(format!("{key}={value}: {e}")))?;
        Ok(())
    }
}

/// Bounds on one session's shell and the programs it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionLimits {
    /// Nesting of a script's constructs (`{`, `(`, `$(`, `if`, ...) and of
    /// arithmetic: deeper input is refused before it is parsed.
    pub max_nesting: usize,
    /// Calls in progress at once (functions, `source`, `bash -c`, `$(..)`).
    pub max_call_depth: u32,
    /// Bytes of one expanded word, variable value or here-document.
    pub max_word_bytes: usize,
    /// Bytes a command substitution `$(..)` may capture.
    pub max_capture_bytes: usize,
    /// Bytes of shell variables one session holds at once, across its
    /// subshells and jobs: its memory, as far as the client controls it.
    pub max_session_bytes: usize,
    /// Processes (background jobs and pipeline stages) alive at once in one
    /// session, as `ulimit -u` bounds a user.
    pub max_processes: usize,
    /// Width or precision of one `printf` field.
    pub max_printf_field: usize,
    /// Real bytes the instance's files may take on the host disk, a quota
    /// shared by its sessions (`No space left on device` past it). Emulated
    /// downloads are sparse and cost nothing against it.
    pub max_disk_bytes: u64,
    /// Jobs that may outlive their sessions at once on the instance
    /// (`nohup cmd &`, `disown`); past it a job ends with its session.
    pub max_detached: usize,
    /// Commands and writes a second that an instance's detached jobs run
    /// together once their sessions are gone: a busy loop left behind costs
    /// a sliver of a core. Simulated transfers wait on their clock instead.
    pub detached_steps_per_sec: u32,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_nesting: 128,
            max_call_depth: 100,
            max_word_bytes: 16 << 20,
            max_capture_bytes: 64 << 20,
            max_session_bytes: 256 << 20,
            max_processes: 256,
            max_printf_field: 1 << 20,
            max_disk_bytes: 4 << 30,
            max_detached: 16,
            detached_steps_per_sec: 2000,
        }
    }
}

/// Bounds on connections, as OpenSSH's `MaxStartups`, `LoginGraceTime` and
/// `ClientAliveInterval` bound sshd.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// Connections that have not logged in yet (`MaxStartups`).
    pub max_unauthenticated: usize,
    /// Time to log in before the connection is dropped (`LoginGraceTime`).
    #[serde(with = "humantime_serde_secs")]
    pub login_grace: Duration,
    /// Drops a connection that sent nothing for this long (off by default).
    #[serde(with = "humantime_serde_opt")]
    pub idle_timeout: Option<Duration>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            max_unauthenticated: 100,
            login_grace: Duration::from_secs(120),
            idle_timeout: None,
        }
    }
}

/// Durations in files as `"120s"`, `"2m"` (humantime).
mod humantime_serde_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Optional durations in files; absent or `"off"` is `None`.
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_str("off"),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        if text == "off" || text.is_empty() {
            return Ok(None);
        }
        humantime::parse_duration(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_from_toml_with_defaults_for_the_rest() {
        let s: SessionLimits = toml::from_str("max_processes = 8").unwrap();
        assert_eq!(s.max_processes, 8);
        assert_eq!(s.max_nesting, SessionLimits::default().max_nesting);
        let c: ConnectionLimits =
            toml::from_str("login_grace = \"5s\"\nidle_timeout = \"1m\"").unwrap();
        assert_eq!(c.login_grace, Duration::from_secs(5));
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(60)));
    }

    #[test]
    fn single_limits_are_set_by_name_with_or_without_their_table() {
        let mut l = Limits::default();
        l.set("max_processes=8").unwrap();
        l.set("connection.login_grace=30s").unwrap();
        l.set("idle_timeout=5m").unwrap();
        assert_eq!(l.session.max_processes, 8);
        assert_eq!(l.connection.login_grace, Duration::from_secs(30));
        assert_eq!(l.connection.idle_timeout, Some(Duration::from_secs(300)));
        assert!(l
            .set("max_procs=1")
            .unwrap_err()
            .to_string()
            .contains("max_procs"));
        assert!(l.set("max_processes=lots").is_err());
    }

    #[test]
    fn unknown_limit_names_are_refused() {
        let e = toml::from_str::<SessionLimits>("max_procs = 8").unwrap_err();
        assert!(e.to_string().contains("max_procs"), "{e}");
    }
}
