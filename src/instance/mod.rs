//! The fake machine: who it is (id, hostname, GPUs), its environment, and
//! its sandboxed file tree. One `Instance` outlives connections, so files
//! made by one session are seen by the next.

pub mod detached;
pub mod disk;
mod layout;
pub mod sandbox;
pub mod services;

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub use sandbox::Sandbox;

use crate::faults::FaultSet;
use crate::journal::Journal;

/// When the vast.ai-like welcome banner is printed (on stderr).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BannerMode {
    /// Never.
    Off,
    /// For interactive shells only (the default, as on real instances).
    Shell,
    /// For shells and every exec as well.
    Always,
}

/// One GPU as `nvidia-smi` shows it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Gpu {
    /// Product name, e.g. `NVIDIA GeForce RTX 4090`.
    pub name: String,
    /// Memory in MiB.
    pub memory_mib: u32,
}

/// Everything that makes one fake instance what it is.
#[derive(Clone, Debug)]
pub struct InstanceConfig {
    /// Instance id (the original derives it from the IP: `127_0_0_1`).
    pub id: String,
    /// The machine's hostname, shown in prompts and by `hostname`.
    pub hostname: String,
    /// The GPUs `nvidia-smi` lists.
    pub gpus: Vec<Gpu>,
    /// CPUs (`nproc`, `lscpu`).
    pub cpus: u32,
    /// System memory in MiB (`free`).
    pub ram_mib: u64,
    /// ComfyUI's home, exported as `$UI_HOME`.
    pub ui_home: String,
    /// `LANG` for sessions; unset by default, as on the real images.
    pub lang: Option<String>,
    /// Extra environment variables for every session.
    pub extra_env: BTreeMap<String, String>,
    /// When the welcome banner is printed.
    pub banner: BannerMode,
    /// Keep the file tree here instead of a temp dir.
    pub root: Option<PathBuf>,
    /// Seed for every random choice the instance makes.
    pub seed: u64,
    /// Simulated time: 1 = real time, 0 = no waiting.
    pub time_scale: f64,
    /// What the emulated tools need: bandwidth, catalog, pinned start time.
    pub tools: crate::net::ToolConfig,
    /// Fault rules armed at start.
    pub faults: Vec<crate::faults::FaultRule>,
    /// Journal entries kept in memory.
    pub journal_capacity: usize,
    /// What one session may make the instance do.
    pub limits: crate::limits::SessionLimits,
    /// Also append the journal to this JSONL file.
    pub journal_file: Option<PathBuf>,
    /// The instance's ComfyUI (ports, sampler rate).
    pub comfyui: services::ComfyUiConfig,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig {
            id: "127_0_0_1".into(),
            hostname: "C.4242424".into(),
            gpus: vec![Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                memory_mib: 24564,
            }],
            // A typical rented RTX 4090 box.
            cpus: 16,
            ram_mib: 64 * 1024,
            ui_home: "/workspace/ComfyUI".into(),
            lang: None,
            extra_env: BTreeMap::new(),
            banner: BannerMode::Shell,
            root: None,
            seed: 0,
            time_scale: 1.0,
            tools: crate::net::ToolConfig::default(),
            faults: Vec::new(),
            journal_capacity: crate::journal::DEFAULT_CAPACITY,
            limits: crate::limits::SessionLimits::default(),
            journal_file: None,
            comfyui: services::ComfyUiConfig::default(),
        }
    }
}

/// A running fake machine: its config and its file tree.
pub struct Instance {
    /// What the instance was made from.
    pub config: InstanceConfig,
    /// The file tree mapped to `/`.
    pub sandbox: Sandbox,
    /// Fault rules armed on this instance (changed at run time too).
    pub faults: FaultSet,
    /// Every command run here.
    pub journal: Journal,
    /// Jobs that outlived their sessions (`nohup cmd &`, `disown`).
    pub detached: Arc<detached::Detached>,
    /// When the machine booted (Unix seconds): a few hours before it was
    /// made, varying by seed, as a rented machine is up before you log in.
    pub booted_at: i64,
    /// Its own network services (portal, ComfyUI) by loopback port.
    pub services: services::Services,
}

/// Why an instance could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// The file tree could not be set up.
    #[error("instance file tree: {0}")]
    Tree(#[from] io::Error),
    /// A fault rule was refused (nothing was armed).
    #[error(transparent)]
    Fault(#[from] crate::faults::FaultError),
    /// The journal file could not be opened.
    #[error("journal file {path}: {source}")]
    JournalFile {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
}

impl Instance {
    /// Creates the instance: checks its faults and journal file, then seeds
    /// its file tree (idempotent on a kept root). Nothing is half-applied:
    /// an invalid rule refuses the whole instance.
    pub fn create(config: InstanceConfig) -> Result<Arc<Self>, InstanceError> {
        let faults = FaultSet::new(config.seed);
        faults.arm_all(config.faults.clone())?;
        let mut journal = Journal::new(config.journal_capacity);
        if let Some(path) = &config.journal_file {
            journal = journal
                .with_file(path)
                .map_err(|source| InstanceError::JournalFile {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        let sandbox = match &config.root {
            Some(dir) => Sandbox::at(dir)?,
            None => Sandbox::temp()?,
        };
        sandbox.disk().set_limit(config.limits.max_disk_bytes);
        layout::seed(&sandbox, &config)?;
        let detached = detached::Detached::new(
            config.limits.max_detached,
            config.limits.detached_steps_per_sec,
        );
        let made = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let booted_at = made - 7_200 - (config.seed % 86_400) as i64;
        Ok(Arc::new(Instance {
            booted_at,
            config,
            sandbox,
            faults,
            journal,
            detached,
            services: services::Services::default(),
        }))
    }

    /// The environment a login of `user` starts with.
    pub fn login_env(&self, user: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("HOME".into(), home_dir(user));
        env.insert("USER".into(), user.into());
        env.insert("LOGNAME".into(), user.into());
        env.insert("SHELL".into(), "/bin/bash".into());
        env.insert(
            "PATH".into(),
            "/venv/main/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        );
        env.insert("UI_HOME".into(), self.config.ui_home.clone());
        env.insert("HOSTNAME".into(), self.config.hostname.clone());
        env.insert("VAST_CONTAINERLABEL".into(), self.config.hostname.clone());
        if let Some(lang) = &self.config.lang {
            env.insert("LANG".into(), lang.clone());
        }
        for (k, v) in &self.config.extra_env {
            env.insert(k.clone(), v.clone());
        }
        env
    }

    /// The welcome banner a login prints on stderr.
    pub fn banner(&self) -> String {
        let gpus = match self.config.gpus.as_slice() {
            [] => "no GPU".to_string(),
            [g, rest @ ..] => format!("{}x {}", rest.len() + 1, g.name),
        };
        format!(
            "\nWelcome to your vast.ai container! This session is running in `tmux`.\n\
             To disconnect without closing your processes, press ctrl+b, release, then d.\n\
             To disable auto-tmux, run `touch ~/.no_auto_tmux` and reconnect. See also https://tmuxcheatsheet.com/\n\
             Instance {} ({gpus}), ComfyUI in {}\n\n",
            self.config.hostname, self.config.ui_home
        )
    }
}

/// The home directory of `user` on an instance: `/root` for root,
/// `/home/USER` for anyone else (there is no passwd file to ask).
pub fn home_dir(user: &str) -> String {
    if user == "root" {
        "/root".to_string()
    } else {
        format!("/home/{user}")
    }
}
