//! The `fakessh` command line: parses flags, builds configs, calls the library.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

mod bench;

use fakessh::instance::{BannerMode, Gpu, Instance, InstanceConfig};
use fakessh::server::{self, AuthPolicy, ServerConfig};

/// A fake cloud GPU instance over real SSH, for testing model-download pipelines.
#[derive(Parser)]
#[command(name = "fakessh", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a fake instance over SSH.
    Serve(Box<ServeArgs>),
    /// Measure handshakes per second and idle-session memory (vs sshd when installed).
    Bench(bench::BenchArgs),
    /// Print a tool's emulated output locally, without SSH: `fakessh emit wget URL`.
    Emit(Box<EmitArgs>),
    /// Parse a download tool's output (stdin) into JSON-line events.
    Parse(ParseArgs),
    /// Run the download queue's jobs on their instances over SSH.
    Handler(Box<fakessh::client::handler::cli::HandlerArgs>),
    /// Serve the downloads API, the admin API and the dashboard over HTTP.
    Api(ApiArgs),
    /// GET a health URL; exit 0 when it answers 2xx (a container healthcheck).
    Health(HealthArgs),
}

#[derive(Args)]
struct ApiArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FAKESSH_API_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    http: HttpArgs,
}

/// The files and access rules of the HTTP API.
#[derive(Args)]
struct HttpArgs {
    /// The queue file (download_queue.json).
    #[arg(long, env = "FAKESSH_QUEUE", default_value = "download_queue.json")]
    queue: PathBuf,
    /// The status file (download_status.json).
    #[arg(long, env = "FAKESSH_STATUS", default_value = "download_status.json")]
    status: PathBuf,
    /// Directory of Markdown resources that POST /downloads/queue may name.
    #[arg(long, env = "FAKESSH_RESOURCES")]
    resources: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` on /__admin (else loopback only).
    #[arg(long, env = "FAKESSH_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Time an HTTP client has to send a request's head (and an idle
    /// kept-alive connection stays open), e.g. 10s or 500ms.
    #[arg(long, env = "FAKESSH_HTTP_HEADER_TIMEOUT", default_value_t = fakessh::api::HttpLimits::DEFAULT_HEADER_TIMEOUT.into())]
    http_header_timeout: humantime::Duration,
    /// Time an HTTP client has to send a request's body once its head is in.
    #[arg(long, env = "FAKESSH_HTTP_BODY_TIMEOUT", default_value_t = fakessh::api::HttpLimits::DEFAULT_BODY_TIMEOUT.into())]
    http_body_timeout: humantime::Duration,
    /// HTTP connections served at once (more wait in the listen backlog).
    #[arg(long, env = "FAKESSH_HTTP_MAX_CONNECTIONS", default_value_t = fakessh::api::HttpLimits::DEFAULT_MAX_CONNECTIONS)]
    http_max_connections: usize,
}

#[derive(Args)]
struct HealthArgs {
    /// The URL to GET.
    #[arg(
        long,
        env = "FAKESSH_HEALTH_URL",
        default_value = "http://127.0.0.1:8080/__admin/health"
    )]
    url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

#[derive(Args)]
struct ParseArgs {
    /// civitdl, wget, curl, hf, git, aria2c, or auto (from --command, else the output).
    #[arg(long, default_value = "auto")]
    tool: String,
    /// The command that produced the log, to pick the parser.
    #[arg(long)]
    command: Option<String>,
}

#[derive(Args)]
struct EmitArgs {
    #[command(flatten)]
    instance: InstanceArgs,
    /// The tool: civitdl or wget.
    tool: String,
    /// The tool's own arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Serve many instances from a fleet file (TOML `[[instance]]` entries);
    /// the other instance flags are their defaults.
    #[arg(long, env = "FAKESSH_FLEET")]
    fleet: Option<PathBuf>,
    /// Also serve the HTTP API and dashboard here, with the admin API for
    /// these instances (their faults and journals).
    #[arg(long, env = "FAKESSH_HTTP_LISTEN")]
    http_listen: Option<SocketAddr>,
    #[command(flatten)]
    http: HttpArgs,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FAKESSH_LISTEN", default_value = "127.0.0.1:2222")]
    listen: SocketAddr,
    /// Host key (OpenSSH format); generated (ed25519, mode 0600) if missing.
    /// Without it, a fresh key is made for each run.
    #[arg(long, env = "FAKESSH_HOST_KEY")]
    host_key: Option<PathBuf>,
    /// Only let in the keys in this authorized_keys file.
    #[arg(long, env = "FAKESSH_AUTHORIZED_KEYS")]
    authorized_keys: Option<PathBuf>,
    /// Only let in this password.
    #[arg(long, env = "FAKESSH_PASSWORD")]
    password: Option<String>,
    #[command(flatten)]
    instance: InstanceArgs,
}

/// What makes an instance: identity, environment, tree, time and tools.
#[derive(Args)]
struct InstanceArgs {
    /// Instance id (the original app uses the IP with dots as underscores).
    #[arg(long, env = "FAKESSH_INSTANCE_ID", default_value = "127_0_0_1")]
    instance_id: String,
    /// Hostname shown by `hostname` and in the prompt.
    #[arg(long, env = "FAKESSH_HOSTNAME", default_value = "C.4242424")]
    hostname: String,
    /// ComfyUI's home, exported as $UI_HOME.
    #[arg(long, env = "FAKESSH_UI_HOME", default_value = "/workspace/ComfyUI")]
    ui_home: String,
    /// GPU model shown by nvidia-smi.
    #[arg(long, env = "FAKESSH_GPU", default_value = "NVIDIA GeForce RTX 4090")]
    gpu: String,
    /// Number of GPUs.
    #[arg(long, env = "FAKESSH_GPUS", default_value_t = 1)]
    gpus: u32,
    /// Memory per GPU in MiB.
    #[arg(long, env = "FAKESSH_GPU_MEMORY_MIB", default_value_t = 24564)]
    gpu_memory_mib: u32,
    /// CPUs the instance has (`nproc`).
    #[arg(long, env = "FAKESSH_CPUS", default_value_t = 16)]
    cpus: u32,
    /// System memory in MiB (`free`).
    #[arg(long, env = "FAKESSH_RAM_MIB", default_value_t = 65536)]
    ram_mib: u64,
    /// The instance's ComfyUI: `on` (ports 18188 and 8188), `off`, or the
    /// ports it listens on (`18188,8188`).
    #[arg(long, env = "FAKESSH_COMFYUI", default_value = "on", value_parser = parse_comfyui)]
    comfyui: ComfyUiPorts,
    /// ComfyUI sampler iterations per second (default: the GPU's typical rate).
    #[arg(long, env = "FAKESSH_COMFYUI_IT_PER_S")]
    comfyui_it_per_s: Option<f64>,
    /// When to print the welcome banner (on stderr).
    #[arg(long, env = "FAKESSH_BANNER", value_enum, default_value = "shell")]
    banner: BannerMode,
    /// Keep the file tree in DIR (default: a temp dir removed on exit).
    #[arg(long, env = "FAKESSH_ROOT")]
    root: Option<PathBuf>,
    /// LANG for sessions (unset by default, as on real instances).
    #[arg(long, env = "FAKESSH_LANG")]
    lang: Option<String>,
    /// Extra environment for every session, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Seed for every random choice.
    #[arg(long, env = "FAKESSH_SEED", default_value_t = 0)]
    seed: u64,
    /// Simulated time: 1 = real time, 0 = no waiting.
    #[arg(long, env = "FAKESSH_TIME_SCALE", default_value_t = 1.0)]
    time_scale: f64,
    /// Download bandwidth per transfer, bytes/s with an optional K/M/G suffix (e.g. 40M).
    #[arg(long, env = "FAKESSH_BANDWIDTH", default_value = "40M", value_parser = fakessh::tools::transfer::parse_rate)]
    bandwidth: u64,
    /// Relative jitter of the transfer rate (0.05 = ±5%).
    #[arg(long, env = "FAKESSH_JITTER", default_value_t = 0.05)]
    jitter: f64,
    /// A catalog file (JSON) pinning remote file names, sizes and failures.
    #[arg(long, env = "FAKESSH_CATALOG")]
    catalog: Option<PathBuf>,
    /// Pin the tools' wall clock at this Unix time (seconds), for golden output.
    #[arg(long, env = "FAKESSH_START_TIME")]
    start_time: Option<i64>,
    /// Fault rules to arm at start (TOML, or JSON for *.json).
    #[arg(long, env = "FAKESSH_FAULTS")]
    faults: Option<PathBuf>,
    /// A fault rule in short form, e.g. `civitdl:http=404:times=1` (repeatable).
    #[arg(long = "fail", value_name = "TOOL:ACTION[:KEY=VALUE]")]
    fail: Vec<String>,
    /// Append every journal entry to this JSONL file.
    #[arg(long, env = "FAKESSH_JOURNAL")]
    journal: Option<PathBuf>,
    /// Journal entries kept in memory (oldest dropped).
    #[arg(long, env = "FAKESSH_JOURNAL_CAPACITY", default_value_t = fakessh::journal::DEFAULT_CAPACITY)]
    journal_capacity: usize,
    /// Session and connection limits from a TOML file (`[session]`, `[connection]`).
    #[arg(long, env = "FAKESSH_LIMITS")]
    limits: Option<PathBuf>,
    /// One limit, e.g. `max_processes=64` or `connection.login_grace=30s`
    /// (repeatable, applied after --limits).
    #[arg(long = "limit", value_name = "KEY=VALUE")]
    limit: Vec<String>,
}

/// The limits from `--limits` and `--limit`, checked before anything listens.
fn limits(args: &InstanceArgs) -> anyhow::Result<fakessh::limits::Limits> {
    let mut limits = match &args.limits {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--limits {}", path.display()))?;
            fakessh::limits::Limits::from_toml(&text)
                .with_context(|| format!("--limits {}", path.display()))?
        }
        None => fakessh::limits::Limits::default(),
    };
    for one in &args.limit {
        limits.set(one).with_context(|| format!("--limit {one}"))?;
    }
    Ok(limits)
}

/// Raises the soft open-files limit to the hard one: each connection costs
/// a descriptor, and the default soft limit (1024) is a handful of clients.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!("cannot raise the open-files limit: {e}");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bench = matches!(cli.command, Command::Bench(_));
    let rust_log = std::env::var(tracing_subscriber::EnvFilter::DEFAULT_ENV).ok();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(bench, rust_log.as_deref()))
        .with_writer(std::io::stderr)
        .init();
    raise_fd_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fakessh: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fakessh: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The log filter: `RUST_LOG` when it parses, else fakessh at info. A bench
/// serves its own load in-process, and its servers' lines (one per
/// connection, exec and subsystem) would drown its table: for a bench they
/// stay at warn, whatever `RUST_LOG` asks for everything else, unless it
/// names `fakessh::server` itself.
fn log_filter(bench: bool, rust_log: Option<&str>) -> tracing_subscriber::EnvFilter {
    let default = if bench {
        "fakessh=warn,russh=warn"
    } else {
        "fakessh=info,russh=warn"
    };
    let filter = rust_log
        .and_then(|s| tracing_subscriber::EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| default.into());
    if bench && !rust_log.is_some_and(|s| s.contains("fakessh::server")) {
        let quiet = "fakessh::server=warn".parse().expect("a valid directive");
        return filter.add_directive(quiet);
    }
    filter
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Bench(args) => bench::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Handler(args) => Ok(fakessh::client::handler::cli::run(*args).await?),
        Command::Parse(args) => {
            // Locked once; `cli::run` reads in 1 MiB blocks and buffers
            // its output, so stdout's line buffering never flushes per event.
            let (stdin, stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
            fakessh::client::progress::cli::run(
                &args.tool,
                args.command.as_deref(),
                stdin,
                stdout,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Api(args) => api(args).await,
        Command::Health(args) => {
            let timeout = std::time::Duration::from_secs(args.timeout);
            let (code, body) = fakessh::api::health::probe(&args.url, timeout).await?;
            println!("{code} {}", body.trim());
            Ok(if (200..300).contains(&code) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Emit(args) => {
            let instance = Instance::create(instance_config(&args.instance)?)
                .context("creating the instance's file tree")?;
            let code = fakessh::tools::emit::emit(&args.tool, args.args, instance).await;
            Ok(ExitCode::from(code.clamp(0, 255) as u8))
        }
    }
}

fn instance_config(args: &InstanceArgs) -> anyhow::Result<InstanceConfig> {
    let mut extra_env = BTreeMap::new();
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv:?}: expected KEY=VALUE");
        };
        extra_env.insert(k.to_string(), v.to_string());
    }
    if !(args.time_scale >= 0.0 && args.time_scale.is_finite()) {
        bail!("--time-scale {}: must be a number >= 0", args.time_scale);
    }
    if !args.ui_home.starts_with('/') {
        bail!("--ui-home {:?}: must be an absolute path", args.ui_home);
    }
    if !(0.0..1.0).contains(&args.jitter) {
        bail!("--jitter {}: must be in 0..1", args.jitter);
    }
    let catalog = match &args.catalog {
        Some(path) => fakessh::net::Catalog::load(path)
            .with_context(|| format!("catalog {}", path.display()))?,
        None => fakessh::net::Catalog::default(),
    };
    let tools = fakessh::net::ToolConfig {
        bandwidth_bytes_per_s: args.bandwidth,
        jitter: args.jitter,
        catalog: std::sync::Arc::new(catalog),
        start_time: args.start_time,
        ..fakessh::net::ToolConfig::default()
    };
    let mut faults = match &args.faults {
        Some(path) => fakessh::faults::parse_rules_file(path)?,
        None => Vec::new(),
    };
    for spec in &args.fail {
        faults.push(fakessh::faults::parse_flag(spec).with_context(|| format!("--fail {spec}"))?);
    }
    Ok(InstanceConfig {
        tools,
        faults,
        journal_capacity: args.journal_capacity,
        journal_file: args.journal.clone(),
        id: args.instance_id.clone(),
        hostname: args.hostname.clone(),
        gpus: (0..args.gpus)
            .map(|_| Gpu {
                name: args.gpu.clone(),
                memory_mib: args.gpu_memory_mib,
            })
            .collect(),
        cpus: args.cpus,
        ram_mib: args.ram_mib,
        comfyui: fakessh::instance::services::ComfyUiConfig {
            ports: args.comfyui.0.clone(),
            it_per_s: args.comfyui_it_per_s,
        },
        ui_home: args.ui_home.clone(),
        lang: args.lang.clone(),
        extra_env,
        banner: args.banner,
        root: args.root.clone(),
        seed: args.seed,
        time_scale: args.time_scale,
        limits: limits(args)?.session,
    })
}

/// The ports `--comfyui` names.
#[derive(Clone, Debug)]
struct ComfyUiPorts(Vec<u16>);

fn parse_comfyui(text: &str) -> Result<ComfyUiPorts, String> {
    match text {
        "on" => Ok(ComfyUiPorts(
            fakessh::services::comfyui::DEFAULT_PORTS.to_vec(),
        )),
        "off" => Ok(ComfyUiPorts(Vec::new())),
        ports => ports
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("not a port: {p} (use on, off or PORT,PORT)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ComfyUiPorts),
    }
}

/// The API's config from its flags, checked before anything listens.
fn http_config(
    args: HttpArgs,
    instances: Vec<std::sync::Arc<Instance>>,
) -> anyhow::Result<fakessh::api::AppConfig> {
    if let Some(dir) = &args.resources {
        anyhow::ensure!(
            dir.is_dir(),
            "--resources {}: not a directory",
            dir.display()
        );
    }
    let limits = fakessh::api::HttpLimits {
        header_timeout: args.http_header_timeout.into(),
        body_timeout: args.http_body_timeout.into(),
        max_connections: args.http_max_connections,
    };
    anyhow::ensure!(
        !limits.header_timeout.is_zero() && !limits.body_timeout.is_zero(),
        "--http-header-timeout and --http-body-timeout must be more than 0"
    );
    anyhow::ensure!(
        limits.max_connections > 0,
        "--http-max-connections must be at least 1"
    );
    Ok(fakessh::api::AppConfig {
        resources: args.resources,
        admin_token: args.admin_token,
        instances,
        limits,
        ..fakessh::api::AppConfig::new(args.queue, args.status)
    })
}

async fn api(args: ApiArgs) -> anyhow::Result<ExitCode> {
    let config = http_config(args.http, Vec::new())?;
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    let running = fakessh::api::start(fakessh::api::AppState::new(config), args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    println!("listening on {}", running.local_addr());
    std::io::stdout().flush()?;
    tokio::select! {
        _ = int.recv() => tracing::info!("interrupted; shutting down"),
        _ = term.recv() => tracing::info!("terminated; shutting down"),
    }
    running.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Everything is checked before any port is bound: no half-started fleet.
    let base = instance_config(&args.instance)?;
    let members = match &args.fleet {
        Some(path) => fakessh::fleet::load(path, &base)?,
        None => vec![fakessh::fleet::FleetMember {
            config: base,
            listen: args.listen,
            host_key: args.host_key.clone(),
            connection_limits: None,
        }],
    };
    let connection_limits = limits(&args.instance)?.connection;
    let mut auth = AuthPolicy::default();
    if let Some(path) = &args.authorized_keys {
        auth.authorized_keys = Some(AuthPolicy::read_authorized_keys(path)?);
    }
    auth.password = args.password.clone();
    let mut planned = Vec::new();
    for m in members {
        let host_key = match &m.host_key {
            Some(path) => server::keys::load_or_generate(path)?,
            None => server::keys::generate(),
        };
        let id = m.config.id.clone();
        let instance = Instance::create(m.config).with_context(|| format!("instance {id}"))?;
        planned.push((
            instance,
            ServerConfig {
                listen: m.listen,
                host_key,
                auth: auth.clone(),
                limits: m
                    .connection_limits
                    .clone()
                    .unwrap_or_else(|| connection_limits.clone()),
            },
        ));
    }
    // Handlers go in before the address is announced: a SIGTERM sent as
    // soon as the line appears must still shut down cleanly.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let instances: Vec<_> = planned.iter().map(|(i, _)| i.clone()).collect();
    let http = match args.http_listen {
        Some(addr) => Some((addr, http_config(args.http, instances)?)),
        None => None,
    };
    let mut running = Vec::new();
    for (instance, config) in planned {
        let listen = config.listen;
        let server = server::start(instance.clone(), config)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        running.push((instance, server));
    }
    let api = match http {
        Some((addr, config)) => Some(
            fakessh::api::start(fakessh::api::AppState::new(config), addr)
                .await
                .with_context(|| format!("listening on {addr}"))?,
        ),
        None => None,
    };
    {
        let mut out = std::io::stdout().lock();
        for (instance, server) in &running {
            if args.fleet.is_some() {
                writeln!(
                    out,
                    "listening on {} id={}",
                    server.local_addr(),
                    instance.config.id
                )?;
            } else {
                writeln!(out, "listening on {}", server.local_addr())?;
            }
            tracing::info!(
                root = %instance.sandbox.root().display(),
                host_key = %server::keys::fingerprint(server.host_key().public_key()),
                "serving instance {}",
                instance.config.id
            );
        }
        if let Some(api) = &api {
            writeln!(out, "http on {}", api.local_addr())?;
        }
        out.flush()?;
    }
    tokio::select! {
        _ = int.recv() => tracing::info!("interrupted; shutting down"),
        _ = term.recv() => tracing::info!("terminated; shutting down"),
    }
    if let Some(api) = api {
        api.shutdown().await?;
    }
    for (instance, server) in running {
        server.shutdown().await;
        // The journal file is written by a thread of its own: let it catch up.
        instance.journal.flush();
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a server line and a handler line at info leave on the log.
    fn logged(bench: bool, rust_log: Option<&str>) -> String {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(bench, rust_log))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "fakessh::server::session", "exec");
            tracing::info!(target: "fakessh::client::handler", "retrying");
        });
        let text = buf.lock().unwrap().clone();
        String::from_utf8(text).unwrap()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_bench_keeps_its_servers_quiet_even_under_rust_log() {
        for rust_log in [None, Some("info"), Some("fakessh=debug")] {
            let text = logged(true, rust_log);
            assert!(!text.contains("exec"), "{rust_log:?}: {text}");
        }
        assert!(logged(true, Some("info")).contains("retrying"));
        assert!(logged(true, Some("fakessh::server=info")).contains("exec"));
    }

    #[test]
    fn serve_logs_every_exec_at_info_as_before() {
        assert!(logged(false, None).contains("exec"));
        assert!(logged(false, Some("info")).contains("exec"));
        assert!(!logged(false, Some("warn")).contains("exec"));
    }
}
