//! Job control: `jobs`, `wait`, `disown` (bash's builtins) and `nohup`
//! (coreutils 9.1's, on PATH): what lets a job outlive its session.

use super::jobs::{JobInfo, Which};
use super::{Shell, Stdio};
use crate::instance::sandbox::OpenOptions;
use crate::program::{strerror, Input, Output};

/// `jobs`: the session's background jobs, bash's way; finished ones are
/// reported once.
pub(super) async fn jobs(sh: &mut Shell, _args: &[String], io: &Stdio) -> i32 {
    let list = sh.jobs.list();
    let mut text = String::new();
    for (i, job) in list.iter().enumerate() {
        text.push_str(&line(job, marker(i, list.len())));
    }
    sh.jobs.forget_finished();
    let _ = io.stdout.write(text).await;
    0
}

/// `+` marks the current job, `-` the one before.
fn marker(i: usize, len: usize) -> char {
    match len - i {
        1 => '+',
        2 => '-',
        _ => ' ',
    }
}

fn line(job: &JobInfo, marker: char) -> String {
    let (state, command) = match job.status {
        None => ("Running".to_string(), job.command.clone()),
        Some(0) => ("Done".to_string(), done_command(&job.command)),
        Some(n) => (format!("Exit {n}"), done_command(&job.command)),
    };
    format!("[{}]{marker}  {state:<24}{command}\n", job.number)
}

/// bash drops the trailing `&` of a finished job.
fn done_command(command: &str) -> String {
    command.trim_end_matches(" &").to_string()
}

/// A job spec: `%N`, `%%` or `%+` (the current job); `None` for anything
/// else (bash's "no such job").
fn job_spec(arg: &str) -> Option<Which> {
    match arg {
        "%%" | "%+" | "%" => Some(Which::Current),
        _ => arg
            .strip_prefix('%')
            .and_then(|n| n.parse().ok())
            .map(Which::Number),
    }
}

/// `wait [%N ...]`: until the named jobs (or all) have finished; the last
/// named one's status.
pub(super) async fn wait(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let jobs = sh.jobs.clone();
    if args.is_empty() {
        return jobs.wait(Which::All).await.unwrap_or(0);
    }
    let mut status = 0;
    for arg in args {
        status = match job_spec(arg) {
            Some(which) => match jobs.wait(which).await {
                Some(s) => s,
                None => sh.fail(io, &format!("wait: {arg}: no such job"), 127).await,
            },
            None if arg.parse::<u32>().is_ok() => {
                sh.fail(
                    io,
                    &format!("wait: pid {arg} is not a child of this shell"),
                    127,
                )
                .await
            }
            None => {
                sh.fail(
                    io,
                    &format!("wait: `{arg}': not a pid or valid job spec"),
                    2,
                )
                .await
            }
        };
    }
    status
}

/// `disown [-h] [-ar] [%N ...]`: the named jobs (the current one by
/// default) no longer end with the session; without `-h` they also leave
/// the job table.
pub(super) async fn disown(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let (mut keep_listed, mut all) = (false, false);
    let mut specs = Vec::new();
    for arg in args {
        match arg.as_str() {
            "-h" => keep_listed = true,
            "-a" | "-r" | "-ar" | "-ra" => all = true,
            "-ah" | "-ha" => (all, keep_listed) = (true, true),
            s if s.starts_with('-') && s.len() > 1 => {
                let _ = io
                    .stderr
                    .write(format!(
                        "bash: disown: {s}: invalid option\ndisown: usage: disown [-h] [-ar] [jobspec ... | pid ...]\n"
                    ))
                    .await;
                return 2;
            }
            s => specs.push(s.to_string()),
        }
    }
    if all {
        sh.jobs.disown(Which::All, keep_listed);
        return 0;
    }
    if specs.is_empty() {
        if !sh.jobs.disown(Which::Current, keep_listed) {
            return sh.fail(io, "disown: current: no such job", 1).await;
        }
        return 0;
    }
    let mut status = 0;
    for spec in specs {
        let found = job_spec(&spec).is_some_and(|w| sh.jobs.disown(w, keep_listed));
        if !found {
            status = sh
                .fail(io, &format!("disown: {spec}: no such job"), 1)
                .await;
        }
    }
    status
}

const NOHUP_TRY: &str = "Try 'nohup --help' for more information.\n";

const NOHUP_HELP: &str = "\
Usage: nohup COMMAND [ARG]...
  or:  nohup OPTION
Run COMMAND, ignoring hangup signals.

      --help        display this help and exit
      --version     output version information and exit

If standard input is a terminal, redirect it from an unreadable file.
If standard output is a terminal, append output to 'nohup.out' if possible,
'$HOME/nohup.out' otherwise.
If standard error is a terminal, redirect it to standard output.
To save output to FILE, use 'nohup COMMAND > FILE'.

NOTE: your shell may have its own version of nohup, which usually supersedes
the version described here.  Please refer to your shell's documentation
for details about the options it supports.

GNU coreutils online help: <https://www.gnu.org/software/coreutils/>
Full documentation <https://www.gnu.org/software/coreutils/nohup>
or available locally via: info '(coreutils) nohup invocation'
";

const NOHUP_VERSION: &str = "\
nohup (GNU coreutils) 9.1
Copyright (C) 2022 Free Software Foundation, Inc.
License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.

Written by Jim Meyering.
";

/// `nohup COMMAND [ARG]...`: runs COMMAND ignoring the hang-up, with
/// coreutils' terminal handling (`nohup.out`, its messages, status 125 for
/// its own failures, 126/127 when COMMAND cannot run). As a background job
/// (`nohup cmd &`) it outlives the session.
pub(super) async fn nohup(
    sh: &mut Shell,
    args: &[String],
    assignments: &[(String, String)],
    io: &Stdio,
) -> i32 {
    let mut args = args;
    match args.first().map(String::as_str) {
        None => {
            let _ = io
                .stderr
                .write(format!("nohup: missing operand\n{NOHUP_TRY}"))
                .await;
            return 125;
        }
        Some("--help") => {
            let _ = io.stdout.write(NOHUP_HELP).await;
            return 0;
        }
        Some("--version") => {
            let _ = io.stdout.write(NOHUP_VERSION).await;
            return 0;
        }
        Some("--") => args = &args[1..],
        Some(opt) if opt.starts_with("--") => {
            let _ = io
                .stderr
                .write(format!("nohup: unrecognized option '{opt}'\n{NOHUP_TRY}"))
                .await;
            return 125;
        }
        Some(opt) if opt.starts_with('-') && opt.len() > 1 => {
            let c = opt.chars().nth(1).unwrap_or('-');
            let _ = io
                .stderr
                .write(format!("nohup: invalid option -- '{c}'\n{NOHUP_TRY}"))
                .await;
            return 125;
        }
        Some(_) => {}
    }
    let Some(name) = args.first() else {
        let _ = io
            .stderr
            .write(format!("nohup: missing operand\n{NOHUP_TRY}"))
            .await;
        return 125;
    };
    let ignoring_input = io.stdin.is_tty();
    let redirecting_stdout = io.stdout.is_tty();
    let redirecting_stderr = io.stderr.is_tty();
    let mut run = io.clone();
    if ignoring_input {
        run.stdin = Input::empty();
        if !redirecting_stdout && !redirecting_stderr {
            let _ = io.stderr.write("nohup: ignoring input\n").await;
        }
    }
    if redirecting_stdout {
        let (out, file) = match open_nohup_out(sh) {
            Ok(opened) => opened,
            Err(msg) => {
                let _ = io.stderr.write(msg).await;
                return 125;
            }
        };
        let what = if ignoring_input {
            "ignoring input and appending output to"
        } else {
            "appending output to"
        };
        let _ = io.stderr.write(format!("nohup: {what} '{file}'\n")).await;
        run.stdout = out;
    }
    if redirecting_stderr {
        if !redirecting_stdout {
            let what = if ignoring_input {
                "ignoring input and redirecting stderr to stdout"
            } else {
                "redirecting stderr to stdout"
            };
            let _ = io.stderr.write(format!("nohup: {what}\n")).await;
        }
        run.stderr = run.stdout.clone();
    }
    // nohup execs a program: builtins and functions of the shell are not.
    if !name.contains('/') && sh.search_path(name).is_none() {
        let _ = run
            .stderr
            .write(format!(
                "nohup: failed to run command '{name}': No such file or directory\n"
            ))
            .await;
        return 127;
    }
    sh.run_argv(args.to_vec(), assignments.to_vec(), &run).await
}

/// Opens `nohup.out` for appending (mode 0600) in the working directory,
/// else in `$HOME`: the stream and the name nohup reports.
fn open_nohup_out(sh: &Shell) -> Result<(Output, String), String> {
    let options = || OpenOptions::new().append(true).create(true).mode(0o600);
    let fs = sh.instance.sandbox.fs(&sh.cwd);
    let here = match fs.open("nohup.out", options()) {
        Ok(f) => return Ok((Output::file(f), "nohup.out".into())),
        Err(e) => e,
    };
    let mut msg = format!("nohup: failed to open 'nohup.out': {}\n", strerror(&here));
    if let Some(home) = sh.var("HOME").map(str::to_string) {
        let path = format!("{}/nohup.out", home.trim_end_matches('/'));
        match fs.open(&path, options()) {
            Ok(f) => return Ok((Output::file(f), path)),
            Err(e) => msg.push_str(&format!(
                "nohup: failed to open '{path}': {}\n",
                strerror(&e)
            )),
        }
    }
    Err(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_lines_read_as_bash_prints_them() {
        let running = JobInfo {
            number: 1,
            command: "sleep 100 &".into(),
            status: None,
        };
        assert_eq!(
            line(&running, '+'),
            "[1]+  Running                 sleep 100 &\n"
        );
        let done = JobInfo {
            number: 2,
            command: "true &".into(),
            status: Some(0),
        };
        assert_eq!(line(&done, '-'), "[2]-  Done                    true\n");
        let failed = JobInfo {
            status: Some(3),
            ..done
        };
        assert_eq!(line(&failed, ' '), "[2]   Exit 3                  true\n");
    }

    #[test]
    fn job_specs() {
        assert_eq!(job_spec("%1"), Some(Which::Number(1)));
        assert_eq!(job_spec("%%"), Some(Which::Current));
        assert_eq!(job_spec("12"), None);
        assert_eq!(job_spec("%x"), None);
    }
}
