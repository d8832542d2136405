//! The utilities a shell finds on `PATH`: GNU-like `ls`, `find`, `cat`, ...
//! Each is a [`Program`]: it sees only its [`crate::program::Ctx`].

mod common;
mod disk;
mod files;
mod find;
mod gpu;
mod grep;
mod ls;
mod paths;
mod printf;
mod python;
mod sort;
mod system;
mod test;
#[cfg(test)]
mod testutil;
mod text;

use crate::program::Program;

/// Every utility by name, sorted.
const TABLE: &[(&str, &dyn Program)] = &[
    ("[", &test::Test),
    ("basename", &paths::Basename),
    ("cat", &text::Cat),
    ("cp", &files::Cp),
    ("date", &system::Date),
    ("df", &disk::Df),
    ("dirname", &paths::Dirname),
    ("du", &disk::Du),
    ("echo", &text::Echo),
    ("env", &system::Env),
    ("false", &system::False),
    ("find", &find::Find),
    ("grep", &grep::Grep),
    ("head", &text::Head),
    ("hostname", &system::Hostname),
    ("id", &system::Id),
    ("ln", &files::Ln),
    ("ls", &ls::Ls),
    ("mkdir", &files::Mkdir),
    ("mv", &files::Mv),
    ("nvidia-smi", &gpu::NvidiaSmi),
    ("pip", &python::Pip),
    ("pip3", &python::Pip),
    ("printf", &printf::Printf),
    ("pwd", &system::Pwd),
    ("python", &python::Python),
    ("python3", &python::Python),
    ("readlink", &paths::Readlink),
    ("realpath", &paths::Realpath),
    ("rm", &files::Rm),
    ("seq", &system::Seq),
    ("sleep", &system::Sleep),
    ("sort", &sort::Sort),
    ("tail", &text::Tail),
    ("tee", &text::Tee),
    ("test", &test::Test),
    ("touch", &files::Touch),
    ("true", &system::True),
    ("uname", &system::Uname),
    ("uniq", &sort::Uniq),
    ("wc", &text::Wc),
    ("whoami", &system::Whoami),
];

const NAMES: &[&str] = &[
    "[",
    "basename",
    "cat",
    "cp",
    "date",
    "df",
    "dirname",
    "du",
    "echo",
    "env",
    "false",
    "find",
    "grep",
    "head",
    "hostname",
    "id",
    "ln",
    "ls",
    "mkdir",
    "mv",
    "nvidia-smi",
    "pip",
    "pip3",
    "printf",
    "pwd",
    "python",
    "python3",
    "readlink",
    "realpath",
    "rm",
    "seq",
    "sleep",
    "sort",
    "tail",
    "tee",
    "test",
    "touch",
    "true",
    "uname",
    "uniq",
    "wc",
    "whoami",
];

/// The utility called `name`, if the instance has it.
pub fn lookup(name: &str) -> Option<&'static dyn Program> {
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// Names of every utility, for `which` and `compgen`.
pub fn names() -> &'static [&'static str] {
    NAMES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_table_agree() {
        let table: Vec<&str> = TABLE.iter().map(|(n, _)| *n).collect();
        assert_eq!(table, NAMES);
        assert!(lookup("ls").is_some());
        assert!(lookup("bash").is_none());
    }
}
