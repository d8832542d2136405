//! Test helpers: run a utility against a fresh or given instance.

use std::sync::Arc;

use crate::instance::{Instance, InstanceConfig};
use crate::program::{Ctx, Input, Output};

/// A fresh instance with a temp-dir sandbox.
pub(crate) fn instance() -> Arc<Instance> {
    Instance::create(InstanceConfig::default()).expect("instance")
}

/// Runs `argv` (looked up by `argv[0]`) in `cwd` with `stdin`; returns
/// (exit code, stdout, stderr).
pub(crate) async fn run(
    instance: &Arc<Instance>,
    cwd: &str,
    argv: &[&str],
    stdin: &[u8],
) -> (i32, String, String) {
    let program = super::lookup(argv[0]).unwrap_or_else(|| panic!("no utility {}", argv[0]));
    let (stdout, out) = Output::capture();
    let (stderr, err) = Output::capture();
    let mut ctx = Ctx {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: instance.login_env("root"),
        cwd: cwd.to_string(),
        stdin: if stdin.is_empty() {
            Input::empty()
        } else {
            Input::from_bytes(stdin.to_vec())
        },
        stdout,
        stderr,
        instance: instance.clone(),
        faults: Default::default(),
    };
    let code = program.run(&mut ctx).await;
    (code, out.text(), err.text())
}

/// Writes a file inside the instance (parents created).
pub(crate) fn put(instance: &Instance, path: &str, data: &[u8]) {
    let fs = instance.sandbox.fs("/");
    fs.create_dir_all(&super::common::dir_name(path)).unwrap();
    fs.write(path, data).unwrap();
}

/// Makes a sparse file of `len` bytes inside the instance.
pub(crate) fn sparse(instance: &Instance, path: &str, len: u64) {
    let fs = instance.sandbox.fs("/");
    fs.create_dir_all(&super::common::dir_name(path)).unwrap();
    fs.create(path).unwrap().set_len(len).unwrap();
}
