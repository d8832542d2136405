//! `sort` and `uniq`: the two line filters pipelines lean on most.

use async_trait::async_trait;

use super::common::{complain, open_input, parse_or_exit, quote, Lines, Spec};
use crate::program::{strerror, Ctx, Program};

/// The most input `sort` holds in memory (it must see every line).
const MAX_SORT_BYTES: usize = 64 * 1024 * 1024;

/// `sort [-r] [-n] [-u] [-f] [-k N] [-t SEP] [FILE...]`.
pub struct Sort;

const SORT_SPEC: Spec = Spec {
    flags: "rnufh",
    with_arg: "kto",
    long: &[
        ("reverse", 'r', false),
        ("numeric-sort", 'n', false),
        ("unique", 'u', false),
        ("ignore-case", 'f', false),
        ("human-numeric-sort", 'h', false),
        ("key", 'k', true),
        ("field-separator", 't', true),
        ("output", 'o', true),
    ],
};

/// The leading number of a line, as `sort -n` reads it (0 when none).
fn leading_number(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || *c == '.' || (*i == 0 && *c == '-'))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

/// `-h`: 1.5G > 900M.
fn human_number(s: &str) -> f64 {
    let t = s.trim_start();
    let n = leading_number(t);
    let unit = t
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
        .chars()
        .next();
    let pow = match unit {
        Some('K' | 'k') => 1,
        Some('M') => 2,
        Some('G') => 3,
        Some('T') => 4,
        Some('P') => 5,
        _ => 0,
    };
    n * 1024f64.powi(pow)
}

fn key_of(line: &str, field: Option<usize>, sep: Option<char>) -> &str {
    let Some(field) = field else { return line };
    let parts: Vec<&str> = match sep {
        Some(c) => line.split(c).collect(),
        None => line.split_whitespace().collect(),
    };
    parts.get(field.saturating_sub(1)).copied().unwrap_or("")
}

#[async_trait]
impl Program for Sort {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &SORT_SPEC, 2).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let field = match p.value('k') {
            None => None,
            Some(k) => match k
                .split([',', '.'])
                .next()
                .and_then(|f| f.parse::<usize>().ok())
            {
                Some(f) if f > 0 => Some(f),
                _ => {
                    complain(
                        ctx,
                        format!(
                            "sort: invalid number at field start: invalid count at start of {}",
                            quote(ctx, k)
                        ),
                    )
                    .await;
                    return 2;
                }
            },
        };
        let sep = p.value('t').and_then(|t| t.chars().next());
        let files = if p.operands.is_empty() {
            vec!["-".to_string()]
        } else {
            p.operands.clone()
        };
        let mut lines: Vec<String> = Vec::new();
        let mut total = 0usize;
        for f in &files {
            let src = match open_input(ctx, f).await {
                Ok(s) => s,
                Err(e) => {
                    complain(ctx, format!("sort: cannot read: {f}: {}", strerror(&e))).await;
                    return 2;
                }
            };
            let mut reader = Lines::new(src);
            loop {
                match reader.next(ctx).await {
                    Ok(Some(l)) => {
                        total += l.len();
                        if total > MAX_SORT_BYTES {
                            complain(ctx, "sort: memory exhausted").await;
                            return 2;
                        }
                        let mut s = String::from_utf8_lossy(&l).into_owned();
                        if s.ends_with('\n') {
                            s.pop();
                        }
                        lines.push(s);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        complain(ctx, format!("sort: read failed: {f}: {}", strerror(&e))).await;
                        return 2;
                    }
                }
            }
        }
        let (numeric, human, fold) = (p.has('n'), p.has('h'), p.has('f'));
        lines.sort_by(|a, b| {
            let (ka, kb) = (key_of(a, field, sep), key_of(b, field, sep));
            let ord = if human {
                human_number(ka).total_cmp(&human_number(kb))
            } else if numeric {
                leading_number(ka).total_cmp(&leading_number(kb))
            } else if fold {
                ka.to_lowercase().cmp(&kb.to_lowercase())
            } else {
                ka.cmp(kb)
            };
            // Last-resort comparison of whole lines, as GNU sort does.
            ord.then_with(|| a.cmp(b))
        });
        if p.has('r') {
            lines.reverse();
        }
        if p.has('u') {
            lines.dedup_by(|a, b| key_of(a, field, sep) == key_of(b, field, sep));
        }
        let mut text = String::with_capacity(total);
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        if let Some(out) = p.value('o') {
            if let Err(e) = ctx.fs().write(out, text.as_bytes()) {
                complain(ctx, format!("sort: open failed: {out}: {}", strerror(&e))).await;
                return 2;
            }
            return 0;
        }
        ctx.out(text).await;
        0
    }
}

/// `uniq [-c] [-d] [-u] [-i] [INPUT]`: collapses adjacent repeats.
pub struct Uniq;

const UNIQ_SPEC: Spec = Spec {
    flags: "cdui",
    with_arg: "",
    long: &[
        ("count", 'c', false),
        ("repeated", 'd', false),
        ("unique", 'u', false),
        ("ignore-case", 'i', false),
    ],
};

#[async_trait]
impl Program for Uniq {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let p = match parse_or_exit(ctx, &UNIQ_SPEC, 1).await {
            Ok(p) => p,
            Err(c) => return c,
        };
        let input = p.operands.first().cloned().unwrap_or_else(|| "-".into());
        let src = match open_input(ctx, &input).await {
            Ok(s) => s,
            Err(e) => {
                complain(ctx, format!("uniq: {input}: {}", strerror(&e))).await;
                return 1;
            }
        };
        let (count, dups, uniques, fold) = (p.has('c'), p.has('d'), p.has('u'), p.has('i'));
        let mut reader = Lines::new(src);
        let mut current: Option<(String, u64)> = None;
        let same = |a: &str, b: &str| {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let emit = |line: &str, n: u64| -> Option<String> {
            if (dups && n < 2) || (uniques && n > 1) {
                return None;
            }
            Some(if count {
                format!("{n:>7} {line}\n")
            } else {
                format!("{line}\n")
            })
        };
        loop {
            let next = match reader.next(ctx).await {
                Ok(l) => l,
                Err(e) => {
                    complain(ctx, format!("uniq: {input}: {}", strerror(&e))).await;
                    return 1;
                }
            };
            let Some(raw) = next else { break };
            let mut line = String::from_utf8_lossy(&raw).into_owned();
            if line.ends_with('\n') {
                line.pop();
            }
            match &mut current {
                Some((prev, n)) if same(prev, &line) => *n += 1,
                _ => {
                    if let Some((prev, n)) = current.take() {
                        if let Some(out) = emit(&prev, n) {
                            if !ctx.out(out).await {
                                return 1;
                            }
                        }
                    }
                    current = Some((line, 1));
                }
            }
        }
        if let Some((prev, n)) = current {
            if let Some(out) = emit(&prev, n) {
                ctx.out(out).await;
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::run;
    use crate::instance::{Instance, InstanceConfig};

    #[tokio::test]
    async fn sort_orders_lines_numbers_and_keys() {
        let gpu = Instance::create(InstanceConfig::default()).unwrap();
        let (code, out, _) = run(&gpu, "/", &["sort"], b"b\na\nc\n").await;
        assert_eq!((code, out.as_str()), (0, "a\nb\nc\n"));
        let (_, out, _) = run(&gpu, "/", &["sort", "-n", "-r"], b"10\n9\n100\n").await;
        assert_eq!(out, "100\n10\n9\n");
        let (_, out, _) = run(
            &gpu,
            "/",
            &["sort", "-t", "|", "-k", "2", "-n"],
            b"a|30\nb|4\n",
        )
        .await;
        assert_eq!(out, "b|4\na|30\n");
        let (_, out, _) = run(&gpu, "/", &["sort", "-h"], b"1.5G\n900M\n2K\n").await;
        assert_eq!(out, "2K\n900M\n1.5G\n");
    }

    #[tokio::test]
    async fn uniq_counts_adjacent_repeats() {
        let gpu = Instance::create(InstanceConfig::default()).unwrap();
        let (code, out, _) = run(&gpu, "/", &["uniq", "-c"], b"a\na\nb\na\n").await;
        assert_eq!(code, 0);
        assert_eq!(out, "      2 a\n      1 b\n      1 a\n");
    }
}
