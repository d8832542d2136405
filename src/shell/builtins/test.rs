//! `test` and `[` as bash's builtins: POSIX argument-count rules first,
//! then a recursive parser for `!`, `-a`, `-o` and parentheses.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use async_trait::async_trait;

use crate::program::{Ctx, Program};

/// `test EXPR` and `[ EXPR ]`: exit 0 (true), 1 (false) or 2 (error).
pub struct Test;

#[async_trait]
impl Program for Test {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let name = ctx.name().to_string();
        let mut args: Vec<String> = ctx.args().to_vec();
        if name == "[" {
            if args.last().map(String::as_str) != Some("]") {
                ctx.err("bash: [: missing `]'\n").await;
                return 2;
            }
            args.pop();
        }
        let t = Eval { ctx, args: &args };
        match t.top() {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(msg) => {
                ctx.err(format!("bash: {name}: {msg}\n")).await;
                2
            }
        }
    }
}

struct Eval<'a> {
    ctx: &'a Ctx,
    args: &'a [String],
}

const UNARY: &[&str] = &[
    "-e", "-f", "-d", "-L", "-h", "-s", "-r", "-w", "-x", "-z", "-n", "-b", "-c", "-p", "-S", "-t",
    "-O", "-G", "-u", "-g", "-k", "-a", "-N", "-v",
];
const BINARY: &[&str] = &[
    "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef",
];

type R<T> = Result<T, String>;

impl Eval<'_> {
    fn top(&self) -> R<bool> {
        let a: Vec<&str> = self.args.iter().map(String::as_str).collect();
        match a.len() {
            0 => Ok(false),
            1 => Ok(!a[0].is_empty()),
            2 => self.two(a[0], a[1]),
            3 => self.three(a[0], a[1], a[2]),
            4 if a[0] == "!" => self.three(a[1], a[2], a[3]).map(|b| !b),
            4 if a[0] == "(" && a[3] == ")" => self.two(a[1], a[2]),
            _ => {
                let mut pos = 0;
                let v = self.or(&a, &mut pos)?;
                if pos < a.len() {
                    return Err("too many arguments".into());
                }
                Ok(v)
            }
        }
    }

    fn two(&self, a: &str, b: &str) -> R<bool> {
        if a == "!" {
            return Ok(b.is_empty());
        }
        if UNARY.contains(&a) {
            return self.unary(a, b);
        }
        Err(format!("{a}: unary operator expected"))
    }

    fn three(&self, a: &str, b: &str, c: &str) -> R<bool> {
        if BINARY.contains(&b) {
            return self.binary(a, b, c);
        }
        if b == "-a" {
            return Ok(!a.is_empty() && !c.is_empty());
        }
        if b == "-o" {
            return Ok(!a.is_empty() || !c.is_empty());
        }
        if a == "!" {
            return self.two(b, c).map(|v| !v);
        }
        if a == "(" && c == ")" {
            return Ok(!b.is_empty());
        }
        Err(format!("{b}: binary operator expected"))
    }

    fn or(&self, a: &[&str], pos: &mut usize) -> R<bool> {
        let mut v = self.and(a, pos)?;
        while a.get(*pos) == Some(&"-o") {
            *pos += 1;
            let r = self.and(a, pos)?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&self, a: &[&str], pos: &mut usize) -> R<bool> {
        let mut v = self.term(a, pos)?;
        while a.get(*pos) == Some(&"-a") {
            *pos += 1;
            let r = self.term(a, pos)?;
            v = v && r;
        }
        Ok(v)
    }

    fn term(&self, a: &[&str], pos: &mut usize) -> R<bool> {
        let Some(&t) = a.get(*pos) else {
            return Err("argument expected".into());
        };
        if t == "!" {
            *pos += 1;
            return self.term(a, pos).map(|v| !v);
        }
        if t == "(" {
            *pos += 1;
            let v = self.or(a, pos)?;
            if a.get(*pos) != Some(&")") {
                return Err("`)' expected".into());
            }
            *pos += 1;
            return Ok(v);
        }
        if let (Some(&op), Some(&rhs)) = (a.get(*pos + 1), a.get(*pos + 2)) {
            if BINARY.contains(&op) {
                *pos += 3;
                return self.binary(t, op, rhs);
            }
        }
        if UNARY.contains(&t) {
            if let Some(&arg) = a.get(*pos + 1) {
                *pos += 2;
                return self.unary(t, arg);
            }
        }
        *pos += 1;
        Ok(!t.is_empty())
    }

    fn unary(&self, op: &str, arg: &str) -> R<bool> {
        match op {
            "-z" => return Ok(arg.is_empty()),
            "-n" => return Ok(!arg.is_empty()),
            "-t" => return Ok(false),
            "-v" => return Ok(self.ctx.env.contains_key(arg)),
            _ => {}
        }
        if arg.is_empty() {
            return Ok(false);
        }
        if op == "-L" || op == "-h" {
            return Ok(self
                .ctx
                .fs()
                .symlink_metadata(arg)
                .is_ok_and(|m| m.file_type().is_symlink()));
        }
        let Ok(meta) = self.ctx.fs().metadata(arg) else {
            return Ok(false);
        };
        let mode = meta.permissions().mode();
        Ok(match op {
            "-e" | "-a" | "-O" | "-G" | "-r" | "-w" | "-N" => true,
            "-f" => meta.is_file(),
            "-d" => meta.is_dir(),
            "-s" => meta.len() > 0,
            "-x" => meta.is_dir() || mode & 0o111 != 0,
            "-u" => mode & 0o4000 != 0,
            "-g" => mode & 0o2000 != 0,
            "-k" => mode & 0o1000 != 0,
            _ => false,
        })
    }

    fn binary(&self, a: &str, op: &str, b: &str) -> R<bool> {
        match op {
            "=" | "==" => Ok(a == b),
            "!=" => Ok(a != b),
            "<" => Ok(a < b),
            ">" => Ok(a > b),
            "-nt" | "-ot" | "-ef" => {
                let ma = self.ctx.fs().metadata(a).ok();
                let mb = self.ctx.fs().metadata(b).ok();
                Ok(match (op, ma, mb) {
                    ("-nt", Some(x), Some(y)) => x.mtime() > y.mtime(),
                    ("-nt", Some(_), None) => true,
                    ("-ot", Some(x), Some(y)) => x.mtime() < y.mtime(),
                    ("-ot", None, Some(_)) => true,
                    ("-ef", Some(x), Some(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
                    _ => false,
                })
            }
            _ => {
                let x = int(a)?;
                let y = int(b)?;
                Ok(match op {
                    "-eq" => x == y,
                    "-ne" => x != y,
                    "-lt" => x < y,
                    "-le" => x <= y,
                    "-gt" => x > y,
                    _ => x >= y,
                })
            }
        }
    }
}

fn int(s: &str) -> R<i64> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| format!("{s}: integer expression expected"))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, put, run};

    async fn t(args: &[&str]) -> (i32, String, String) {
        let i = instance();
        put(&i, "/tmp/file", b"x");
        put(&i, "/tmp/empty", b"");
        i.sandbox.fs("/").symlink("/tmp/file", "/tmp/link").unwrap();
        run(&i, "/tmp", args, b"").await
    }

    #[tokio::test]
    async fn file_tests() {
        assert_eq!(t(&["test", "-e", "/workspace/ComfyUI"]).await.0, 0);
        assert_eq!(t(&["test", "-e", "/workspace/nope"]).await.0, 1);
        assert_eq!(t(&["test", "-f", "file"]).await.0, 0);
        assert_eq!(t(&["test", "-d", "file"]).await.0, 1);
        assert_eq!(t(&["test", "-d", "/tmp"]).await.0, 0);
        assert_eq!(t(&["test", "-L", "link"]).await.0, 0);
        assert_eq!(t(&["test", "-h", "file"]).await.0, 1);
        assert_eq!(t(&["test", "-f", "link"]).await.0, 0);
        assert_eq!(t(&["test", "-s", "empty"]).await.0, 1);
        assert_eq!(t(&["test", "-s", "file"]).await.0, 0);
        assert_eq!(t(&["test", "-x", "/tmp"]).await.0, 0);
        assert_eq!(t(&["test", "-e", ""]).await.0, 1);
    }

    #[tokio::test]
    async fn strings_numbers_and_logic() {
        assert_eq!(t(&["test"]).await.0, 1);
        assert_eq!(t(&["test", "x"]).await.0, 0);
        assert_eq!(t(&["test", ""]).await.0, 1);
        assert_eq!(t(&["test", "-z", ""]).await.0, 0);
        assert_eq!(t(&["test", "-n", ""]).await.0, 1);
        assert_eq!(t(&["[", "a", "=", "a", "]"]).await.0, 0);
        assert_eq!(t(&["[", "a", "==", "b", "]"]).await.0, 1);
        assert_eq!(t(&["[", "a", "!=", "b", "]"]).await.0, 0);
        assert_eq!(t(&["[", "10", "-gt", "9", "]"]).await.0, 0);
        assert_eq!(
            t(&["[", "1", "-eq", "2", "-o", "3", "-le", "3", "]"])
                .await
                .0,
            0
        );
        assert_eq!(
            t(&["[", "!", "-e", "nope", "-a", "-f", "file", "]"])
                .await
                .0,
            0
        );
        assert_eq!(
            t(&["[", "(", "-f", "file", ")", "-a", "!", "(", "x", "=", "y", ")", "]"])
                .await
                .0,
            0
        );
        assert_eq!(t(&["test", "!", "x"]).await.0, 1);
        assert_eq!(t(&["test", "-f"]).await.0, 0);
    }

    #[tokio::test]
    async fn error_shapes() {
        assert_eq!(
            t(&["[", "-e", "x"]).await,
            (2, String::new(), "bash: [: missing `]'\n".into())
        );
        assert_eq!(
            t(&["test", "a", "-eq", "1"]).await,
            (
                2,
                String::new(),
                "bash: test: a: integer expression expected\n".into()
            )
        );
        assert_eq!(
            t(&["[", "a", "b", "]"]).await.2,
            "bash: [: a: unary operator expected\n"
        );
        assert_eq!(
            t(&["[", "a", "b", "c", "]"]).await.2,
            "bash: [: b: binary operator expected\n"
        );
        assert_eq!(
            t(&["test", "a", "b", "c", "d", "e"]).await.2,
            "bash: test: too many arguments\n"
        );
    }
}
