//! Bounded nesting. A stack overflow aborts the whole process (it cannot be
//! caught), so deep input must never reach a recursive parser or evaluator:
//! scripts nested deeper than the session's limit are refused before they
//! are parsed, parsers run on a stack of their own, and the evaluator's
//! recursive futures grow the stack on the heap when it runs low.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Stack a parser gets at least: brush-parser takes ~20 KiB per nesting
/// level in a debug build, so this holds several times the default limit.
const PARSER_STACK: usize = 8 << 20;

/// Stack a parser gets per allowed level of nesting, for higher limits.
const PARSER_STACK_PER_LEVEL: usize = 64 << 10;

/// When less than this is left, the evaluator moves to a fresh segment.
const RED_ZONE: usize = 256 << 10;

/// The size of each fresh segment for the evaluator.
const SEGMENT: usize = 2 << 20;

/// Parentheses open at once that a script may have (`(`, `$(`, `((`):
/// brush-parser 0.4 backtracks exponentially on unclosed parentheses after
/// `((` (26 take seconds, 40 hours), so past this the script is refused
/// before it is parsed. No real script nests parentheses this deep.
pub const MAX_PARENS: usize = 20;

/// How deeply `source` nests parentheses (see [`MAX_PARENS`]).
pub fn parens(source: &str) -> usize {
    // The same walk as `nesting`, counting only `(` levels.
    nesting_of(source, true)
}

/// How deeply `source` nests its constructs, over-approximated: `{`, `(`,
/// `$(`, `$((`, `${`, backquotes and compound keywords (`if`, `while`,
/// `until`, `for`, `case`, `select`) each open a level. Quotes are followed
/// so that brackets inside `'...'` or plain `"..."` text do not count.
pub fn nesting(source: &str) -> usize {
    nesting_of(source, false)
}

fn nesting_of(source: &str, only_parens: bool) -> usize {
    #[derive(PartialEq, Clone, Copy)]
    enum Ctx {
        Code,
        Double,
        Backquote,
    }
    let bytes = source.as_bytes();
    // Callers measure parentheses only once `nesting` has bounded the
    // stack, so counting them on the stack stays cheap.
    let level = |stack: &Vec<(Ctx, u8)>, keywords: usize| {
        if only_parens {
            stack.iter().filter(|(_, o)| *o == b'(').count()
        } else {
            stack.len() + keywords
        }
    };
    // Open levels: the context each opener started (to know what closes it).
    let mut stack: Vec<(Ctx, u8)> = Vec::new();
    let mut keywords: usize = 0;
    let mut max = 0usize;
    let mut ctx = Ctx::Code;
    let mut word = String::new();
    let mut i = 0;
    let close_word = |word: &mut String, keywords: &mut usize| {
        match word.as_str() {
            "if" | "while" | "until" | "for" | "case" | "select" => *keywords += 1,
            "fi" | "done" | "esac" => *keywords = keywords.saturating_sub(1),
            _ => {}
        }
        word.clear();
    };
    while i < bytes.len() {
        let c = bytes[i];
        let code = ctx != Ctx::Double;
        match c {
            b'\\' => {
                i += 2;
                continue;
            }
            b'\'' if code => {
                close_word(&mut word, &mut keywords);
                // Skip to the closing quote.
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' if code => {
                close_word(&mut word, &mut keywords);
                stack.push((ctx, b'"'));
                ctx = Ctx::Double;
            }
            b'"' => {
                // Closes the innermost double quote.
                while let Some((outer, opener)) = stack.pop() {
                    if opener == b'"' {
                        ctx = outer;
                        break;
                    }
                }
            }
            b'`' => {
                close_word(&mut word, &mut keywords);
                if ctx == Ctx::Backquote {
                    while let Some((outer, opener)) = stack.pop() {
                        if opener == b'`' {
                            ctx = outer;
                            break;
                        }
                    }
                } else {
                    stack.push((ctx, b'`'));
                    ctx = Ctx::Backquote;
                }
            }
            b'$' if bytes.get(i + 1) == Some(&b'(') || bytes.get(i + 1) == Some(&b'{') => {
                close_word(&mut word, &mut keywords);
                let opener = bytes[i + 1];
                stack.push((ctx, opener));
                if opener == b'(' {
                    ctx = Ctx::Code;
                }
                i += 2;
                max = max.max(level(&stack, keywords));
                continue;
            }
            b'(' | b'{' if code => {
                close_word(&mut word, &mut keywords);
                stack.push((ctx, c));
            }
            b')' | b'}' => {
                close_word(&mut word, &mut keywords);
                let want = if c == b')' { b'(' } else { b'{' };
                if stack.last().is_some_and(|(_, o)| *o == want) {
                    if let Some((outer, _)) = stack.pop() {
                        ctx = outer;
                    }
                }
            }
            c if code && (c.is_ascii_alphanumeric() || c == b'_') => word.push(c as char),
            _ => close_word(&mut word, &mut keywords),
        }
        max = max.max(level(&stack, keywords));
        i += 1;
    }
    close_word(&mut word, &mut keywords);
    max.max(level(&stack, keywords))
}

/// Runs a recursive parser, on input nested at most `levels` deep, on a
/// stack of its own, and turns a panic inside it (a bug of the parser's)
/// into `Err` with its message.
pub fn on_parser_stack<R>(levels: usize, f: impl FnOnce() -> R) -> Result<R, String> {
    let levels = levels.min(1 << 16);
    // What the input may need: it runs where it is when that much is left
    // (most words and commands nest a level or two), else on a fresh stack.
    let needed = (levels + 4).saturating_mul(PARSER_STACK_PER_LEVEL);
    let size = levels
        .saturating_mul(PARSER_STACK_PER_LEVEL)
        .max(PARSER_STACK);
    stacker::maybe_grow(needed, size, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_text(&p))
    })
}

/// The message of a caught panic.
pub fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// A future whose polls run with enough stack: nested evaluation polls
/// nested futures, one frame chain per level.
pub struct GrowStack<F>(Pin<Box<F>>);

impl<F: Future> GrowStack<F> {
    /// Wraps `fut`.
    pub fn new(fut: F) -> Self {
        GrowStack(Box::pin(fut))
    }
}

impl<F: Future> Future for GrowStack<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.0.as_mut();
        stacker::maybe_grow(RED_ZONE, SEGMENT, move || inner.poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_substitutions_and_keywords() {
        assert_eq!(nesting("echo a"), 0);
        assert_eq!(nesting("{ { echo a; }; }"), 2);
        assert_eq!(nesting("echo $(echo $(echo a))"), 2);
        assert_eq!(nesting("echo $((1 + (2)))"), 3);
        assert_eq!(nesting("if true; then while :; do :; done; fi"), 2);
        assert_eq!(nesting("echo \"$(echo \"$(echo a)\")\""), 4);
        assert_eq!(nesting("echo `echo a`"), 1);
    }

    #[test]
    fn parentheses_are_counted_on_their_own() {
        assert_eq!(parens("echo $(( (1 + 2) * 3 ))"), 3);
        assert_eq!(parens("{ { (echo a) } }"), 1);
        assert_eq!(parens(&format!("{}1))", "(".repeat(40))), 40);
    }

    #[test]
    fn quoted_text_does_not_nest() {
        assert_eq!(nesting("echo '((((((((((({{{{{{'"), 0);
        assert_eq!(nesting("echo \"((((((((\""), 1);
        assert_eq!(nesting("echo \\(\\(\\("), 0);
        assert_eq!(nesting("grep -E 'if|for|while' f"), 0);
    }

    #[test]
    fn hostile_nesting_is_measured_in_linear_time() {
        let src = format!("{}echo a;{}", "{ ".repeat(100_000), " }".repeat(100_000));
        assert_eq!(nesting(&src), 100_000);
        let src = "$(".repeat(100_000);
        assert_eq!(nesting(&src), 100_000);
    }

    #[test]
    fn a_parser_panic_becomes_an_error() {
        let r: Result<(), String> = on_parser_stack(1, || panic!("boom"));
        assert_eq!(r.unwrap_err(), "boom");
    }
}
