//! Builtins that change the shell itself or find commands: `cd`, `export`,
//! `unset`, `source`/`.`, `exit`, `eval`, `exec`, `read`, `set`, `:`,
//! `sudo`, `which`, `type`, `command`, and `bash`/`sh -c`.

use super::{Origin, Shell, Stdio};
use crate::program::strerror;

/// Special commands that also exist as files on a real machine.
pub(super) const NAMES_ON_PATH: &[&str] = &["which", "sudo", "nohup"];

/// Names bash knows as builtins (for `type` and `command -v`).
const BUILTINS: &[&str] = &[
    "cd", "export", "unset", "source", ".", "exit", "logout", "eval", "exec", "read", "set", ":",
    "type", "command", "echo", "printf", "pwd", "true", "false", "test", "[", "jobs", "wait",
    "disown",
];

/// Whether bash knows `name` as a builtin (found before any PATH search).
pub(super) fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// Runs `argv` if it is a special command; `None` hands it on.
pub(super) async fn run(
    sh: &mut Shell,
    argv: &[String],
    assignments: &[(String, String)],
    io: &Stdio,
) -> Option<i32> {
    let args = &argv[1..];
    let status = match argv[0].as_str() {
        ":" => 0,
        "cd" => cd(sh, args, io).await,
        "export" => {
            for (k, v) in assignments {
                sh.set_var(k, v, false);
            }
            export(sh, args, io).await
        }
        "unset" => {
            for name in args.iter().filter(|a| !a.starts_with('-')) {
                sh.vars.remove(name);
                sh.functions.remove(name);
            }
            0
        }
        "source" | "." => source(sh, args, io).await,
        "exit" | "logout" => {
            let code = match args.first() {
                None => sh.last_status,
                Some(a) => match a.parse::<i64>() {
                    Ok(n) => (n & 255) as i32,
                    Err(_) => {
                        let _ = io
                            .stderr
                            .write(format!("bash: exit: {a}: numeric argument required\n"))
                            .await;
                        2
                    }
                },
            };
            sh.exit = Some(code);
            code
        }
        "eval" => {
            let script = args.join(" ");
            sh.depth += 1;
            let status = Box::pin(sh.run_script(&script, Origin::Exec, io)).await;
            sh.depth -= 1;
            status
        }
        "exec" => {
            if args.is_empty() {
                0
            } else {
                let status = sh.run_argv(args.to_vec(), assignments.to_vec(), io).await;
                sh.exit = Some(status);
                status
            }
        }
        "read" => read(sh, args, io).await,
        "set" => set(sh, args, io).await,
        "sudo" => return Some(sudo(sh, args, assignments, io).await),
        "nohup" => return Some(super::job_control::nohup(sh, args, assignments, io).await),
        "jobs" => super::job_control::jobs(sh, args, io).await,
        "wait" => super::job_control::wait(sh, args, io).await,
        "disown" => super::job_control::disown(sh, args, io).await,
        "which" => which(sh, args, io).await,
        "type" => type_of(sh, args, io).await,
        "command" => command(sh, args, assignments, io).await,
        "bash" | "sh" | "/bin/bash" | "/bin/sh" | "/usr/bin/bash" => bash(sh, args, io).await,
        _ => return None,
    };
    Some(status)
}

async fn cd(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let args: Vec<&String> = args.iter().filter(|a| *a != "-L" && *a != "-P").collect();
    if args.len() > 1 {
        return sh.fail(io, "cd: too many arguments", 1).await;
    }
    let target = match args.first().map(|s| s.as_str()) {
        None | Some("~") => match sh.var("HOME") {
            Some(h) => h.to_string(),
            None => return sh.fail(io, "cd: HOME not set", 1).await,
        },
        Some("-") => match sh.var("OLDPWD") {
            Some(o) => {
                let o = o.to_string();
                let _ = io.stdout.write(format!("{o}\n")).await;
                o
            }
            None => return sh.fail(io, "cd: OLDPWD not set", 1).await,
        },
        Some(t) => t.to_string(),
    };
    let logical = crate::instance::Sandbox::absolute(&sh.cwd, &target);
    // `cd ""` stays where it is, as bash's does.
    let probe = if target.is_empty() { "." } else { &target };
    match sh.instance.sandbox.fs(&sh.cwd).metadata(probe) {
        Ok(m) if m.is_dir() => {
            let old = std::mem::replace(&mut sh.cwd, logical.clone());
            sh.set_var("OLDPWD", &old, true);
            sh.set_var("PWD", &logical, true);
            0
        }
        Ok(_) => {
            sh.fail(io, &format!("cd: {target}: Not a directory"), 1)
                .await
        }
        Err(e) => {
            sh.fail(io, &format!("cd: {target}: {}", strerror(&e)), 1)
                .await
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

async fn export(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let mut status = 0;
    let mut unexport = false;
    let names: Vec<&String> = args
        .iter()
        .filter(|a| match a.as_str() {
            "-n" => {
                unexport = true;
                false
            }
            "-p" | "-f" | "--" => false,
            _ => true,
        })
        .collect();
    if names.is_empty() {
        let mut text = String::new();
        for (k, v) in sh.vars.iter().filter(|(_, v)| v.exported) {
            text.push_str(&format!(
                "declare -x {k}=\"{}\"\n",
                v.value.as_str().replace('"', "\\\"")
            ));
        }
        let _ = io.stdout.write(text).await;
        return 0;
    }
    for arg in names {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg.as_str(), None),
        };
        if !valid_name(name) {
            let _ = io
                .stderr
                .write(format!("bash: export: `{arg}': not a valid identifier\n"))
                .await;
            status = 1;
            continue;
        }
        if unexport {
            if let Some(v) = sh.vars.get_mut(name) {
                v.exported = false;
            }
            continue;
        }
        let value = value
            .map(str::to_string)
            .or_else(|| sh.var(name).map(str::to_string))
            .unwrap_or_default();
        sh.set_var(name, &value, true);
    }
    status
}

async fn source(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let Some(file) = args.first() else {
        let _ = io
            .stderr
            .write("bash: source: filename argument required\nsource: usage: source filename [arguments]\n")
            .await;
        return 2;
    };
    match sh.instance.sandbox.fs(&sh.cwd).metadata(file) {
        Ok(m) if m.is_dir() => {
            return sh
                .fail(io, &format!("source: {file}: is a directory"), 1)
                .await
        }
        Ok(m) if m.len() > 1024 * 1024 => {
            return sh
                .fail(io, &format!("{file}: file too large to source"), 1)
                .await
        }
        Ok(_) => {}
        Err(e) => return sh.fail(io, &format!("{file}: {}", strerror(&e)), 1).await,
    }
    let text = match sh.instance.sandbox.fs(&sh.cwd).read(file, 1024 * 1024) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::FBIG.raw_os_error()) => {
            return sh
                .fail(io, &format!("{file}: file too large to source"), 1)
                .await
        }
        Err(e) => return sh.fail(io, &format!("{file}: {}", strerror(&e)), 1).await,
    };
    if sh.depth > 64 {
        return sh
            .fail(io, &format!("{file}: maximum nesting level exceeded"), 1)
            .await;
    }
    sh.depth += 1;
    let status = Box::pin(sh.run_script(&text, Origin::File, io)).await;
    sh.depth -= 1;
    status
}

async fn read(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let mut got_newline = false;
    while line.len() < 1024 * 1024 {
        match io.stdin.read(&mut byte).await {
            Ok(1) if byte[0] == b'\n' => {
                got_newline = true;
                break;
            }
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    if sh.memory.would_exceed(text.len()) {
        // The session's variables are full: bash would be out of memory.
        let msg = format!("bash: xrealloc: cannot allocate {} bytes\n", text.len() + 1);
        let _ = io.stderr.write(msg).await;
        sh.exit = Some(2);
        return 2;
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if names.is_empty() {
        sh.set_var("REPLY", &text, false);
    } else {
        for (i, name) in names.iter().enumerate() {
            let value = if i + 1 == names.len() {
                words.join(" ")
            } else if words.is_empty() {
                String::new()
            } else {
                words.remove(0).to_string()
            };
            if i + 1 == names.len() {
                words.clear();
            }
            sh.set_var(name, &value, false);
        }
    }
    if got_newline || !line.is_empty() {
        0
    } else {
        1
    }
}

async fn set(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    if args.is_empty() {
        let mut text = String::new();
        for (k, v) in &sh.vars {
            text.push_str(&format!("{k}={}\n", shell_quote(v.value.as_str())));
        }
        let _ = io.stdout.write(text).await;
        return 0;
    }
    // Options are accepted, but this shell does not change its behaviour for
    // them; say so once on stderr rather than pretend.
    let unsupported: Vec<&String> = args
        .iter()
        .filter(|a| a.starts_with('-') || a.starts_with('+'))
        .filter(|a| {
            !matches!(
                a.as_str(),
                "-e" | "+e" | "-u" | "+u" | "-x" | "+x" | "-o" | "+o"
            )
        })
        .collect();
    if !unsupported.is_empty() {
        let _ = io
            .stderr
            .write(format!("bash: set: {}: invalid option\n", unsupported[0]))
            .await;
        return 2;
    }
    0
}

fn shell_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=,".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

async fn sudo(
    sh: &mut Shell,
    args: &[String],
    assignments: &[(String, String)],
    io: &Stdio,
) -> i32 {
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "-E" | "-H" | "-n" | "-S" | "-i" | "-s" => rest = &rest[1..],
            "-u" | "-g" => rest = rest.get(2..).unwrap_or(&[]),
            "--" => {
                rest = &rest[1..];
                break;
            }
            s if s.starts_with('-') => {
                let _ = io
                    .stderr
                    .write(format!(
                        "sudo: invalid option -- '{}'\nusage: sudo -h | -K | -k | -V\n",
                        s.trim_start_matches('-')
                    ))
                    .await;
                return 1;
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        let _ = io
            .stderr
            .write("usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABknS] [-g group] [-h host] [-p prompt] [-u user]\n")
            .await;
        return 1;
    }
    let mut argv = rest.to_vec();
    // `sudo VAR=x cmd` sets VAR for cmd.
    let mut env = assignments.to_vec();
    while argv.len() > 1
        && argv[0].contains('=')
        && valid_name(argv[0].split('=').next().unwrap_or(""))
    {
        let a = argv.remove(0);
        let (k, v) = a.split_once('=').unwrap_or((&a, ""));
        env.push((k.to_string(), v.to_string()));
    }
    if BUILTINS.contains(&argv[0].as_str())
        && !["echo", "printf", "pwd", "true", "false", "test", "["].contains(&argv[0].as_str())
    {
        return sh
            .fail(io, &format!("sudo: {}: command not found", argv[0]), 1)
            .await
            .min(1);
    }
    sh.run_argv(argv, env, io).await
}

async fn which(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let mut status = 0;
    let mut text = String::new();
    for name in args.iter().filter(|a| !a.starts_with('-')) {
        let found = if name.contains('/') {
            sh.find_program(name).await.ok().map(|_| name.clone())
        } else {
            sh.search_path(name)
        };
        match found {
            Some(p) => text.push_str(&format!("{p}\n")),
            None => status = 1,
        }
    }
    let _ = io.stdout.write(text).await;
    if args.is_empty() {
        1
    } else {
        status
    }
}

async fn type_of(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let mut status = 0;
    for name in args.iter().filter(|a| !a.starts_with('-')) {
        let line = if BUILTINS.contains(&name.as_str()) {
            format!("{name} is a shell builtin\n")
        } else if sh.functions.contains_key(name) {
            format!("{name} is a function\n")
        } else if let Some(p) = sh.search_path(name) {
            format!("{name} is {p}\n")
        } else {
            let _ = io
                .stderr
                .write(format!("bash: type: {name}: not found\n"))
                .await;
            status = 1;
            continue;
        };
        let _ = io.stdout.write(line).await;
    }
    status
}

async fn command(
    sh: &mut Shell,
    args: &[String],
    assignments: &[(String, String)],
    io: &Stdio,
) -> i32 {
    match args.first().map(String::as_str) {
        Some("-v") | Some("-V") => {
            let mut status = 0;
            for name in &args[1..] {
                if BUILTINS.contains(&name.as_str()) || sh.functions.contains_key(name) {
                    let _ = io.stdout.write(format!("{name}\n")).await;
                } else if let Some(p) = sh.search_path(name) {
                    let _ = io.stdout.write(format!("{p}\n")).await;
                } else {
                    status = 1;
                }
            }
            status
        }
        Some(_) => sh.run_argv(args.to_vec(), assignments.to_vec(), io).await,
        None => 0,
    }
}

async fn bash(sh: &mut Shell, args: &[String], io: &Stdio) -> i32 {
    let mut i = 0;
    let mut script: Option<String> = None;
    while i < args.len() {
        let a = &args[i];
        if a == "--version" {
            let _ = io
                .stdout
                .write("GNU bash, version 5.1.16(1)-release (x86_64-pc-linux-gnu)\nCopyright (C) 2020 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>\n\nThis is free software; you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n")
                .await;
            return 0;
        }
        if a.starts_with('-') && a.contains('c') && !a.starts_with("--") {
            match args.get(i + 1) {
                Some(s) => {
                    script = Some(s.clone());
                    break;
                }
                None => {
                    let _ = io
                        .stderr
                        .write("bash: -c: option requires an argument\n")
                        .await;
                    return 2;
                }
            }
        }
        if !a.starts_with('-') {
            // `bash FILE`: run the file.
            let mut sub = sh.clone();
            sub.depth += 1;
            let status = source(&mut sub, &args[i..i + 1], io).await;
            return sub.exit.unwrap_or(status);
        }
        i += 1;
    }
    let script = match script {
        Some(s) => s,
        None => match io.stdin.read_to_end(1024 * 1024).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return sh.fail(io, &format!("stdin: {e}"), 1).await,
        },
    };
    let mut sub = sh.clone();
    sub.depth += 1;
    if sub.depth > 64 {
        return sh.fail(io, "maximum nesting level exceeded", 1).await;
    }
    let status = Box::pin(sub.run_script(&script, Origin::Exec, io)).await;
    sub.exit.unwrap_or(status)
}
