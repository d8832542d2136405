//! What the fuzz targets share: a fake instance with tight limits whose
//! file tree sits next to canary files, so a target can check after each
//! input that nothing left the sandbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fakessh::instance::{Instance, InstanceConfig};
use fakessh::limits::SessionLimits;

/// Limits small enough that one input cannot take long or use much memory,
/// large enough that ordinary scripts run.
pub fn small_limits() -> SessionLimits {
    SessionLimits {
        // brush-parser 0.4 backtracks exponentially on unclosed `(` after
        // `((` (about x2 per paren: `"(" * 26 + "1))"` takes seconds): past
        // ~20 the shell target only finds that hang again. Raise this once
        // the shell guards against it (tests/it/fuzz_regressions.rs).
        max_nesting: 20,
        max_call_depth: 16,
        max_word_bytes: 64 << 10,
        max_capture_bytes: 256 << 10,
        max_session_bytes: 4 << 20,
        max_processes: 16,
        max_printf_field: 4096,
        max_disk_bytes: 64 << 20,
        ..SessionLimits::default()
    }
}

/// The config every target's instance starts from: no waiting (time scale
/// 0), a fixed seed, small limits.
pub fn config() -> InstanceConfig {
    InstanceConfig {
        time_scale: 0.0,
        seed: 7,
        journal_capacity: 64,
        limits: small_limits(),
        ..InstanceConfig::default()
    }
}

const CANARY_TEXT: &[u8] = b"outside the sandbox: never touched\n";

/// An instance whose root is `<temp>/root`, beside a canary file and a
/// canary directory. Dropping it removes the whole temp dir.
pub struct Confined {
    /// The instance (its programs installed on `PATH`).
    pub instance: Arc<Instance>,
    dir: tempfile::TempDir,
}

impl Confined {
    /// A fresh instance from `config` (its `root` is replaced).
    pub fn new(mut config: InstanceConfig) -> Confined {
        let dir = tempfile::Builder::new()
            .prefix("fakessh-fuzz-")
            .tempdir()
            .expect("temp dir");
        std::fs::write(dir.path().join("canary"), CANARY_TEXT).expect("canary");
        std::fs::create_dir(dir.path().join("canary_dir")).expect("canary dir");
        std::fs::write(dir.path().join("canary_dir/file"), CANARY_TEXT).expect("canary");
        config.root = Some(dir.path().join("root"));
        let instance = Instance::create(config).expect("instance");
        fakessh::shell::install_programs(&instance).expect("programs on PATH");
        Confined { instance, dir }
    }

    /// The host directory holding the root and the canaries.
    pub fn outside(&self) -> &Path {
        self.dir.path()
    }

    /// Panics when anything outside the root changed: a file appeared
    /// beside it, or a canary was changed, removed or replaced.
    pub fn assert_confined(&self) {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["canary", "canary_dir", "root"],
            "a file appeared or vanished outside the sandbox root"
        );
        for file in [PathBuf::from("canary"), PathBuf::from("canary_dir/file")] {
            let path = self.dir.path().join(&file);
            let meta = std::fs::symlink_metadata(&path).expect("canary exists");
            assert!(meta.is_file(), "canary {file:?} was replaced");
            assert_eq!(
                std::fs::read(&path).expect("canary readable"),
                CANARY_TEXT,
                "canary {file:?} was written"
            );
        }
        let inside: Vec<_> = std::fs::read_dir(self.dir.path().join("canary_dir"))
            .expect("canary dir")
            .collect();
        assert_eq!(inside.len(), 1, "a file appeared in the canary dir");
    }
}

/// A [`Confined`] instance renewed every `every` uses, so a long run's
/// file tree stays small while most inputs still find the seeded layout.
pub struct Renewed {
    every: u32,
    uses: u32,
    make: fn() -> InstanceConfig,
    current: Option<Confined>,
}

impl Renewed {
    /// Renews after `every` uses; `make` gives each new instance's config.
    pub const fn new(every: u32, make: fn() -> InstanceConfig) -> Renewed {
        Renewed {
            every,
            uses: 0,
            make,
            current: None,
        }
    }

    /// The instance for the next input.
    pub fn get(&mut self) -> &Confined {
        if self.uses >= self.every {
            self.current = None;
            self.uses = 0;
        }
        self.uses += 1;
        let make = self.make;
        self.current.get_or_insert_with(|| Confined::new(make()))
    }
}

/// Splits `data` at the first `sep`: (before, after); after is empty when
/// there is none.
pub fn split_at_byte(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Lets a panic raised inside one of `crates` (matched in its source path,
/// e.g. `"/brush-parser-"`) unwind instead of aborting at once, because
/// fakessh catches it on purpose: brush-parser 0.4 panics on some scripts
/// (`echo 2147483648>&1`) and the shell turns that into a syntax error.
/// Every other panic aborts, as libFuzzer wants; so does one of these that
/// nobody catches (libfuzzer-sys aborts when the target unwinds).
/// Call it from the target (libfuzzer-sys installs its hook before the first
/// input); only the first call does anything.
pub fn tolerate_caught_panics_from(crates: &'static [&'static str]) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if !crates.iter().any(|c| file.contains(c)) {
                aborting(info);
            }
        }));
    });
}
