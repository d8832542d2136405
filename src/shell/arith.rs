//! Evaluates `$((...))` and `((...))`: a tokenizer and a recursive-descent
//! parser over integers, variables, `+ - * / %`, comparisons, `&& ||`, `!`
//! and parentheses, with bash's error texts.

use super::Shell;

/// Evaluates `$((...))`: integers, variables, `+ - * / %`, comparisons,
/// `&& ||`, `!` and parentheses.
pub(super) fn arith(shell: &Shell, text: &str) -> Result<i64, String> {
    let tokens = arith_tokens(text)?;
    let mut p = Arith {
        tokens,
        pos: 0,
        depth: 0,
        shell,
    };
    let v = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(format!(
            "syntax error in expression (error token is \"{}\")",
            p.tokens[p.pos..].join(" ")
        ));
    }
    Ok(v)
}

fn arith_tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let s: String = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            i += s.chars().count();
            out.push(s);
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two.as_str()) {
                out.push(two);
                i += 2;
            } else if "+-*/%()<>!".contains(c) {
                out.push(c.to_string());
                i += 1;
            } else {
                return Err(format!(
                    "syntax error: invalid arithmetic operator (error token is \"{c}\")"
                ));
            }
        }
    }
    Ok(out)
}

/// bash's `MAX_EXPR_RECURSION_LEVEL`.
const MAX_ARITH_RECURSION: usize = 1024;

struct Arith<'a> {
    tokens: Vec<String>,
    pos: usize,
    depth: usize,
    shell: &'a Shell,
}

impl Arith<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<i64, String> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = i64::from(v != 0 || r != 0);
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<i64, String> {
        let mut v = self.cmp()?;
        while self.eat("&&") {
            let r = self.cmp()?;
            v = i64::from(v != 0 && r != 0);
        }
        Ok(v)
    }
    fn cmp(&mut self) -> Result<i64, String> {
        let mut v = self.sum()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("==" | "!=" | "<" | ">" | "<=" | ">=")) => op.to_string(),
                _ => return Ok(v),
            };
            self.pos += 1;
            let r = self.sum()?;
            v = i64::from(match op.as_str() {
                "==" => v == r,
                "!=" => v != r,
                "<" => v < r,
                ">" => v > r,
                "<=" => v <= r,
                _ => v >= r,
            });
        }
    }
    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                v = v.wrapping_add(self.product()?);
            } else if self.eat("-") {
                v = v.wrapping_sub(self.product()?);
            } else {
                return Ok(v);
            }
        }
    }
    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("*" | "/" | "%")) => op.to_string(),
                _ => return Ok(v),
            };
            self.pos += 1;
            let r = self.unary()?;
            if op != "*" && r == 0 {
                return Err("division by 0 (error token is \"0\")".into());
            }
            v = match op.as_str() {
                "*" => v.wrapping_mul(r),
                "/" => v.wrapping_div(r),
                _ => v.wrapping_rem(r),
            };
        }
    }
    fn unary(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_ARITH_RECURSION {
            return Err(format!(
                "expression recursion level exceeded (error token is \"{}\")",
                self.tokens[self.pos.min(self.tokens.len().saturating_sub(1))..].join("")
            ));
        }
        // Each level is a few frames: grow the stack rather than overflow.
        let v = stacker::maybe_grow(64 << 10, 1 << 20, || self.unary_inner());
        self.depth -= 1;
        v
    }

    fn unary_inner(&mut self) -> Result<i64, String> {
        if self.eat("-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("!") {
            return Ok(i64::from(self.unary()? == 0));
        }
        if self.eat("(") {
            let v = self.or()?;
            if !self.eat(")") {
                return Err("missing `)'".into());
            }
            return Ok(v);
        }
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("syntax error: operand expected".into());
        };
        self.pos += 1;
        if tok.starts_with(|c: char| c.is_ascii_digit()) {
            return tok
                .parse::<i64>()
                .map_err(|_| format!("value too great for base (error token is \"{tok}\")"));
        }
        if tok.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            let v = self.shell.var(&tok).unwrap_or("0").trim().to_string();
            return Ok(v.parse::<i64>().unwrap_or(0));
        }
        Err(format!(
            "syntax error: operand expected (error token is \"{tok}\")"
        ))
    }
}
