//! The utilities a shell finds on `PATH`: GNU-like `ls`, `find`, `cat`, ...
//! Each is a [`Program`]: it sees only its [`crate::program::Ctx`].

use crate::program::Program;

/// The utility called `name`, if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    let _ = name;
    None
}

/// Names of every utility, for `which` and `compgen`.
pub fn names() -> &'static [&'static str] {
    &[]
}
