//! What a command line runs, read from its text alone: the journal's
//! queries by tool and the session-depth fault rules ask the same question
//! of a line before (or without) the shell parsing it.

/// Whether `command` runs `program` somewhere: as a word of its own, or a
/// path ending in it (`/usr/bin/wget`), split at blanks, quotes and the
/// shell's operators.
pub fn runs_program(command: &str, program: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || ";&|()`\"'".contains(c))
        .any(|w| {
            w == program
                || w.strip_suffix(program)
                    .is_some_and(|dir| dir.ends_with('/'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_a_word_or_the_end_of_a_path() {
        assert!(runs_program("cd /tmp && wget -q URL", "wget"));
        assert!(runs_program("/usr/bin/wget URL", "wget"));
        assert!(runs_program("bash -c \"civitdl 123 /x\"", "civitdl"));
        assert!(runs_program("(wget a)|tee log", "wget"));
        assert!(runs_program(
            "export P=x && cd /tmp && civitdl 1 /x",
            "civitdl"
        ));
        assert!(!runs_program("echo wgetx", "wget"));
        assert!(!runs_program("cat /tmp/xwget", "wget"));
    }
}
