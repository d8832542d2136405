//! git fault and subcommand tests (filled below).
