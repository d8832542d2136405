//! `seq`: number sequences with GNU's widths and separators.

use async_trait::async_trait;

use super::common::{complain, opt_error, quote};
use crate::program::{Ctx, Program};

/// `seq [-s SEP] [-w] [FIRST [INCREMENT]] LAST`.
pub struct Seq;

#[async_trait]
impl Program for Seq {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        // Negative numbers are operands, not options.
        let mut sep = "\n".to_string();
        let mut equal = false;
        let mut nums = Vec::new();
        let args = ctx.args().to_vec();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let is_num = a.parse::<f64>().is_ok();
            if !is_num && a.starts_with("-s") {
                sep = if a.len() > 2 {
                    a[2..].to_string()
                } else {
                    i += 1;
                    args.get(i).cloned().unwrap_or_default()
                };
            } else if a == "-w" {
                equal = true;
            } else if !is_num && a.starts_with('-') && a.len() > 1 {
                let e = super::common::OptError::Invalid(a.chars().nth(1).unwrap_or('-'));
                return opt_error(ctx, e, 1).await;
            } else {
                nums.push(a.clone());
            }
            i += 1;
        }
        if nums.is_empty() || nums.len() > 3 {
            let msg = if nums.is_empty() {
                "missing operand".to_string()
            } else {
                format!("extra operand {}", quote(ctx, &nums[3]))
            };
            complain(ctx, msg).await;
            ctx.err("Try 'seq --help' for more information.\n").await;
            return 1;
        }
        let mut vals = Vec::new();
        for n in &nums {
            match n.parse::<f64>() {
                Ok(v) if v.is_finite() => vals.push(v),
                _ => {
                    let msg = format!("invalid floating point argument: {}", quote(ctx, n));
                    complain(ctx, msg).await;
                    ctx.err("Try 'seq --help' for more information.\n").await;
                    return 1;
                }
            }
        }
        let (first, step, last) = match vals.as_slice() {
            [l] => (1.0, 1.0, *l),
            [f, l] => (*f, 1.0, *l),
            [f, s, l] => (*f, *s, *l),
            _ => unreachable!("checked above"),
        };
        if step == 0.0 {
            let msg = format!("invalid Zero increment value: {}", quote(ctx, &nums[1]));
            complain(ctx, msg).await;
            ctx.err("Try 'seq --help' for more information.\n").await;
            return 1;
        }
        // Precision comes from FIRST and INCREMENT, as GNU does.
        let operands_for_precision: &[String] = match nums.len() {
            3 => &nums[..2],
            2 => &nums[..1],
            _ => &[],
        };
        let decimals = operands_for_precision
            .iter()
            .map(|n| n.split_once('.').map(|(_, f)| f.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let fmt = |v: f64| format!("{v:.decimals$}");
        let width = if equal {
            fmt(first).len().max(fmt(last).len())
        } else {
            0
        };
        let mut out = String::new();
        let mut k = 0u64;
        loop {
            let v = first + step * k as f64;
            if (step > 0.0 && v > last + 1e-9) || (step < 0.0 && v < last - 1e-9) {
                break;
            }
            if k > 0 {
                out.push_str(&sep);
            }
            let s = fmt(v);
            if equal && s.len() < width {
                let (sign, body) = s.strip_prefix('-').map(|b| ("-", b)).unwrap_or(("", &s));
                out.push_str(&format!("{sign}{}{body}", "0".repeat(width - s.len())));
            } else {
                out.push_str(&s);
            }
            k += 1;
            if out.len() > 64 * 1024 && !ctx.out(std::mem::take(&mut out)).await {
                return 1;
            }
        }
        if k > 0 {
            out.push('\n');
        }
        ctx.out(out).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};

    #[tokio::test]
    async fn seq_counts() {
        let i = instance();
        assert_eq!(run(&i, "/", &["seq", "3"], b"").await.1, "1\n2\n3\n");
        assert_eq!(
            run(&i, "/", &["seq", "2", "2", "7"], b"").await.1,
            "2\n4\n6\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "-s", ",", "3"], b"").await.1,
            "1,2,3\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "-w", "8", "10"], b"").await.1,
            "08\n09\n10\n"
        );
        assert_eq!(
            run(&i, "/", &["seq", "0", "0.5", "1"], b"").await.1,
            "0.0\n0.5\n1.0\n"
        );
        assert_eq!(run(&i, "/", &["seq", "3", "1"], b"").await.1, "");
        assert_eq!(
            run(&i, "/", &["seq", "3", "-1", "1"], b"").await.1,
            "3\n2\n1\n"
        );
    }
}
