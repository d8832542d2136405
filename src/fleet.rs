//! Many fake instances in one process, from one config file: each with its
//! own port, identity, GPUs, bandwidth, file tree, faults and journal.
//!
//! ```toml
//! [[instance]]
//! id = "gpu_a"
//! listen = "127.0.0.1:2222"
//! gpu = "NVIDIA A100 80GB PCIe"
//! gpus = 2
//! gpu_memory_mib = 81920
//! bandwidth = "80M"
//!
//! [[instance]]
//! id = "gpu_b"
//! listen = "127.0.0.1:2223"
//! faults = [{ match = { tool = "wget" }, action = { type = "http", status = 503 }, times = 1 }]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::faults::FaultRule;
use crate::instance::{BannerMode, Gpu, InstanceConfig};
use crate::net::Catalog;
use crate::tools::transfer::parse_rate;

/// A fleet file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct FleetError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A bandwidth as a number of bytes/s or text like `40M`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Rate {
    Number(u64),
    Text(String),
}

/// One instance of the fleet file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    listen: SocketAddr,
    hostname: Option<String>,
    ui_home: Option<String>,
    gpu: Option<String>,
    gpus: Option<u32>,
    gpu_memory_mib: Option<u32>,
    bandwidth: Option<Rate>,
    seed: Option<u64>,
    time_scale: Option<f64>,
    root: Option<PathBuf>,
    lang: Option<String>,
    banner: Option<BannerMode>,
    catalog: Option<PathBuf>,
    host_key: Option<PathBuf>,
    #[serde(default)]
    faults: Vec<FaultRule>,
    /// Replaces the command line's limits for this instance (`[instance.limits.session]`).
    limits: Option<crate::limits::Limits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    instance: Vec<Entry>,
}

/// One instance to start: its config, address and host key file.
#[derive(Debug)]
pub struct FleetMember {
    /// The instance.
    pub config: InstanceConfig,
    /// Where its SSH server listens.
    pub listen: SocketAddr,
    /// Its host key file (generated when missing), or a fresh key.
    pub host_key: Option<PathBuf>,
    /// Its own connection limits, when the fleet file sets them.
    pub connection_limits: Option<crate::limits::ConnectionLimits>,
}

/// Reads a fleet file; every instance starts from `base` (the command
/// line's settings) and overrides what it names.
pub fn load(path: &Path, base: &InstanceConfig) -> Result<Vec<FleetMember>, FleetError> {
    let name = path.display().to_string();
    let err = |line: usize, reason: String| FleetError {
        file: name.clone(),
        line,
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(0, e.to_string()))?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        err(line, e.message().to_string())
    })?;
    if file.instance.is_empty() {
        return Err(err(1, "no [[instance]] in the fleet file".into()));
    }
    let line_of = |i: usize| {
        text.match_indices("[[instance]]")
            .nth(i)
            .map(|(o, _)| text[..o].matches('\n').count() + 1)
            .unwrap_or(1)
    };
    let mut seen = std::collections::HashSet::new();
    let mut members = Vec::new();
    for (i, e) in file.instance.into_iter().enumerate() {
        let line = line_of(i);
        if !seen.insert(e.id.clone()) {
            return Err(err(line, format!("instance id {:?} is used twice", e.id)));
        }
        let mut config = base.clone();
        config.id = e.id.clone();
        config.hostname = e.hostname.unwrap_or_else(|| format!("C.{}", 1000 + i));
        if let Some(home) = e.ui_home {
            if !home.starts_with('/') {
                return Err(err(line, format!("ui_home {home:?} must be absolute")));
            }
            config.ui_home = home;
        }
        if e.gpu.is_some() || e.gpus.is_some() || e.gpu_memory_mib.is_some() {
            let model = base.gpus.first().cloned().unwrap_or(Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                memory_mib: 24564,
            });
            let gpu = Gpu {
                name: e.gpu.unwrap_or(model.name),
                memory_mib: e.gpu_memory_mib.unwrap_or(model.memory_mib),
            };
            config.gpus = vec![gpu; e.gpus.unwrap_or(1) as usize];
        }
        if let Some(rate) = e.bandwidth {
            config.tools.bandwidth_bytes_per_s = match rate {
                Rate::Number(n) if n > 0 => n,
                Rate::Number(_) => return Err(err(line, "bandwidth must be > 0".into())),
                Rate::Text(t) => parse_rate(&t).map_err(|r| err(line, r))?,
            };
        }
        if let Some(seed) = e.seed {
            config.seed = seed;
        }
        if let Some(scale) = e.time_scale {
            if !(scale >= 0.0 && scale.is_finite()) {
                return Err(err(line, format!("time_scale {scale} must be >= 0")));
            }
            config.time_scale = scale;
        }
        if let Some(root) = e.root {
            config.root = Some(root);
        }
        if let Some(lang) = e.lang {
            config.lang = Some(lang);
        }
        if let Some(banner) = e.banner {
            config.banner = banner;
        }
        if let Some(catalog) = e.catalog {
            let c = Catalog::load(&catalog)
                .map_err(|x| err(line, format!("catalog {}: {x}", catalog.display())))?;
            config.tools.catalog = Arc::new(c);
        }
        for rule in &e.faults {
            rule.validate()
                .map_err(|r| err(line, format!("fault {}: {r}", rule.display_name())))?;
        }
        config.faults.extend(e.faults);
        let connection_limits = e.limits.map(|l| {
            config.limits = l.session;
            l.connection
        });
        members.push(FleetMember {
            config,
            listen: e.listen,
            host_key: e.host_key,
            connection_limits,
        });
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn instances_override_the_base_config() {
        let (_d, path) = write(
            "[[instance]]\nid = \"a\"\nlisten = \"127.0.0.1:0\"\ngpus = 2\ngpu = \"NVIDIA A100\"\nbandwidth = \"80M\"\n\n[[instance]]\nid = \"b\"\nlisten = \"127.0.0.1:0\"\nbandwidth = 1000\nfaults = [{ match = { tool = \"wget\" }, action = { type = \"http\", status = 503 }, times = 1 }]\n",
        );
        let fleet = load(&path, &InstanceConfig::default()).unwrap();
        assert_eq!(fleet.len(), 2);
        assert_eq!(fleet[0].config.gpus.len(), 2);
        assert_eq!(fleet[0].config.gpus[0].name, "NVIDIA A100");
        assert_eq!(fleet[0].config.tools.bandwidth_bytes_per_s, 80_000_000);
        assert_eq!(fleet[1].config.tools.bandwidth_bytes_per_s, 1000);
        assert_eq!(fleet[1].config.faults.len(), 1);
        assert_ne!(fleet[0].config.hostname, fleet[1].config.hostname);
    }

    #[test]
    fn an_instance_may_have_limits_of_its_own() {
        let (_d, path) = write(
            "[[instance]]\nid = \"a\"\nlisten = \"127.0.0.1:0\"\n[instance.limits.session]\nmax_processes = 8\n[instance.limits.connection]\nlogin_grace = \"5s\"\n\n[[instance]]\nid = \"b\"\nlisten = \"127.0.0.1:0\"\n",
        );
        let fleet = load(&path, &InstanceConfig::default()).unwrap();
        assert_eq!(fleet[0].config.limits.max_processes, 8);
        let grace = fleet[0].connection_limits.as_ref().unwrap().login_grace;
        assert_eq!(grace, std::time::Duration::from_secs(5));
        assert_eq!(
            fleet[1].config.limits,
            crate::limits::SessionLimits::default()
        );
        assert!(fleet[1].connection_limits.is_none());
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let (_d, path) = write("[[instance]]\nid = \"a\"\nlisten = \"127.0.0.1:0\"\n\n[[instance]]\nid = \"a\"\nlisten = \"127.0.0.1:0\"\n");
        let e = load(&path, &InstanceConfig::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("fleet.toml:5:") && e.contains("used twice"),
            "{e}"
        );
        let (_d, path) = write("[[instance]]\nid = \"a\"\nlisten = \"nope\"\n");
        let e = load(&path, &InstanceConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("fleet.toml:3:"), "{e}");
        let (_d, path) =
            write("[[instance]]\nid = \"a\"\nlisten = \"127.0.0.1:0\"\ncolour = \"red\"\n");
        assert!(load(&path, &InstanceConfig::default())
            .unwrap_err()
            .to_string()
            .contains("colour"));
    }
}
