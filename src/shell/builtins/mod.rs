//! The utilities a shell finds on `PATH`: GNU-like `ls`, `find`, `cat`, ...
//! Each is a [`Program`]: it sees only its [`crate::program::Ctx`].

mod cat;
mod clock;
mod common;
mod cp;
mod disk;
mod echo;
mod find;
mod gpu;
mod grep;
mod head_tail;
mod identity;
mod ln;
mod ls;
mod lscpu;
mod mkdir;
mod mv;
mod operands;
mod paths;
mod pip;
mod printf;
mod process;
mod ps;
mod python;
mod rm;
mod seq;
mod sort;
mod sysinfo;
mod tee;
mod test;
#[cfg(test)]
mod testutil;
mod touch;
mod wc;

use crate::program::Program;
/// The `drwxr-xr-x` column of `ls -l` (SFTP's long names show the same).
pub use ls::mode_text;

/// Every utility by name, sorted.
const TABLE: &[(&str, &dyn Program)] = &[
    ("[", &test::Test),
    ("basename", &paths::Basename),
    ("cat", &cat::Cat),
    ("cp", &cp::Cp),
    ("date", &clock::Date),
    ("df", &disk::Df),
    ("dirname", &paths::Dirname),
    ("du", &disk::Du),
    ("echo", &echo::Echo),
    ("env", &process::Env),
    ("false", &process::False),
    ("find", &find::Find),
    ("grep", &grep::Grep),
    ("head", &head_tail::Head),
    ("hostname", &identity::Hostname),
    ("id", &identity::Id),
    ("ln", &ln::Ln),
    ("ls", &ls::Ls),
    ("lscpu", &lscpu::Lscpu),
    ("mkdir", &mkdir::Mkdir),
    ("mv", &mv::Mv),
    ("nvidia-smi", &gpu::NvidiaSmi),
    ("nproc", &sysinfo::Nproc),
    ("free", &sysinfo::Free),
    ("uptime", &sysinfo::Uptime),
    ("ps", &ps::Ps),
    ("top", &ps::Top),
    ("pip", &pip::Pip),
    ("pip3", &pip::Pip),
    ("printf", &printf::Printf),
    ("pwd", &process::Pwd),
    ("python", &python::Python),
    ("python3", &python::Python),
    ("readlink", &paths::Readlink),
    ("realpath", &paths::Realpath),
    ("rm", &rm::Rm),
    ("seq", &seq::Seq),
    ("sleep", &clock::Sleep),
    ("sort", &sort::Sort),
    ("tail", &head_tail::Tail),
    ("tee", &tee::Tee),
    ("test", &test::Test),
    ("touch", &touch::Touch),
    ("true", &process::True),
    ("uname", &identity::Uname),
    ("uniq", &sort::Uniq),
    ("wc", &wc::Wc),
    ("whoami", &identity::Whoami),
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
    "lscpu",
    "mkdir",
    "mv",
    "nvidia-smi",
    "nproc",
    "free",
    "uptime",
    "ps",
    "top",
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

    /// Another session swaps a directory for a link to a host directory over
    /// and over while the utilities read, list and walk through it: nothing
    /// of the host ever shows, because every step resolves inside the root.
    #[tokio::test]
    async fn a_directory_swapped_for_a_link_never_leads_out() {
        use super::testutil::{instance, put, run};
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        let i = instance();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("d")).unwrap();
        std::fs::write(outside.path().join("d/f"), "host secret\n").unwrap();
        // Relative to the root's host path, `d` would lead to the outside
        // directory if the host kernel followed it; absolute host paths too.
        let host_target = outside.path().join("d").to_string_lossy().into_owned();
        put(&i, "/tmp/r/d/f", b"inside\n");
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (i, stop) = (i.clone(), stop.clone());
            std::thread::spawn(move || {
                let fs = i.sandbox.fs("/");
                while !stop.load(Ordering::Relaxed) {
                    let _ = fs.rename("/tmp/r/d", "/tmp/r/real");
                    let _ = fs.symlink(&host_target, "/tmp/r/d");
                    std::thread::yield_now();
                    let _ = fs.remove_file("/tmp/r/d");
                    let _ = fs.rename("/tmp/r/real", "/tmp/r/d");
                }
            })
        };
        let commands: &[&[&str]] = &[
            &["cat", "/tmp/r/d/f"],
            &["head", "-n", "1", "/tmp/r/d/f"],
            &["grep", "-r", "secret", "/tmp/r"],
            &["find", "-L", "/tmp/r", "-name", "f"],
            &["ls", "-lR", "/tmp/r"],
            &["du", "-ab", "/tmp/r"],
            &["cp", "-r", "/tmp/r/d", "/tmp/copy"],
            &["wc", "-c", "/tmp/r/d/f"],
        ];
        for _ in 0..150 {
            for argv in commands {
                let r = run(&i, "/", argv, b"").await;
                assert!(!r.1.contains("host secret"), "{argv:?}: {}", r.1);
                // The host file's size (12 bytes) in du or wc.
                let host_size = |l: &str| l.starts_with("12\t") || l.starts_with("12 ");
                assert!(!r.1.lines().any(host_size), "{argv:?}: {}", r.1);
            }
            let r = run(&i, "/", &["grep", "-r", "secret", "/tmp/copy"], b"").await;
            assert_eq!(r.1, "", "a copy holds host data");
            let _ = run(&i, "/", &["rm", "-rf", "/tmp/copy"], b"").await;
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(outside.path().join("d/f").exists());
    }
}
