//! What the tools' tests share: an instance in the captures' state (seed
//! 7, pinned start time, no jitter, a `/workspace`) and one run of a tool
//! through a real [`Ctx`] with captured streams and the faults as fired.

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan, Fired};
use crate::instance::{Instance, InstanceConfig};
use crate::net::{Catalog, ToolConfig};
use crate::program::{Ctx, Input, Output, Terminal};

/// An instance on `catalog` at `time_scale`, with `/workspace`.
pub(crate) fn instance(catalog: Catalog, time_scale: f64) -> Arc<Instance> {
    let config = InstanceConfig {
        seed: 7,
        time_scale,
        tools: ToolConfig {
            catalog: Arc::new(catalog),
            start_time: Some(1_795_686_415),
            jitter: 0.0,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    let inst = Instance::create(config).expect("instance");
    std::fs::create_dir_all(inst.sandbox.host_path("/workspace")).expect("/workspace");
    inst
}

/// The plan of a run where `fault` fired (as rule `f1`).
pub(crate) fn plan(fault: Option<Fault>) -> FaultPlan {
    FaultPlan {
        fired: fault
            .into_iter()
            .map(|fault| Fired {
                id: "f1".into(),
                fault,
            })
            .collect(),
        ..Default::default()
    }
}

/// One tool run.
pub(crate) struct Call<'a> {
    /// The program (`curl`, `hf`, ...).
    pub tool: &'a str,
    /// Its arguments.
    pub args: &'a [&'a str],
    /// Session variables beyond the login's.
    pub env: &'a [(&'a str, &'a str)],
    /// The faults that fired.
    pub plan: FaultPlan,
    /// A terminal this wide on stdout and stderr, or pipes.
    pub cols: Option<u16>,
    /// Bytes on stdin.
    pub stdin: Option<&'a [u8]>,
    /// How long the run may take.
    pub limit: Duration,
}

/// stdout, stderr, and the exit status (`None` when it outlived `limit`).
pub(crate) async fn run(inst: &Arc<Instance>, c: Call<'_>) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let (out, out_cap) = Output::capture();
    let (err, err_cap) = Output::capture();
    let (stdout, stderr) = match c.cols {
        Some(cols) => {
            let term = Terminal::new(cols, 24);
            (
                Output::new(Arc::new(out_cap.clone()), Some(term.clone())),
                Output::new(Arc::new(err_cap.clone()), Some(term)),
            )
        }
        None => (out, err),
    };
    let mut env = inst.login_env("root");
    for (k, v) in c.env {
        env.insert(k.to_string(), v.to_string());
    }
    let mut ctx = Ctx {
        argv: std::iter::once(c.tool.to_string())
            .chain(c.args.iter().map(|s| s.to_string()))
            .collect(),
        env,
        cwd: "/workspace".into(),
        stdin: c
            .stdin
            .map_or_else(Input::empty, |b| Input::from_bytes(b.to_vec())),
        stdout,
        stderr,
        instance: inst.clone(),
        faults: c.plan,
    };
    let program = super::lookup(c.tool).expect("tool");
    let rc = tokio::time::timeout(c.limit, program.run(&mut ctx))
        .await
        .ok();
    (out_cap.bytes(), err_cap.bytes(), rc)
}
