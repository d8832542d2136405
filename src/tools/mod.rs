//! The emulated download tools (`civitdl`, `wget`), as the real programs
//! print them, on a simulated clock.

use crate::program::Program;

/// Settings every tool run reads: simulated time, bandwidth, catalog.
#[derive(Clone, Debug, Default)]
pub struct ToolConfig {}

/// The tool called `name`, if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    let _ = name;
    None
}

/// Names of every tool, for `which`.
pub fn names() -> &'static [&'static str] {
    &[]
}
