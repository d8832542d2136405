//! Parsing with brush-parser, and bash's own wording for syntax errors.

use brush_parser::{ast, ParseError, ParserOptions, TokenizerError};

/// Where a script came from, which decides how bash words its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `ssh host 'CMD'`: bash runs it as `bash -c`.
    Exec,
    /// A line typed at the interactive prompt.
    Interactive,
    /// A file read by `source` (its path).
    File,
}

/// A script bash would refuse, with the lines bash prints for it.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// The message lines, each without its trailing newline.
    pub lines: Vec<String>,
}

/// Parses a whole script into brush-parser's AST. A script nested deeper
/// than `max_nesting` is refused unparsed (the parser recurses per level),
/// and a panic inside the parser is a syntax error, not a lost session.
pub fn parse(
    source: &str,
    origin: Origin,
    file: &str,
    max_nesting: usize,
) -> Result<ast::Program, SyntaxError> {
    let depth = super::depth::nesting(source);
    let refused = if depth > max_nesting {
        Some(max_nesting)
    } else if super::depth::parens(source) > super::depth::MAX_PARENS {
        Some(super::depth::MAX_PARENS)
    } else {
        None
    };
    if let Some(limit) = refused {
        return Err(SyntaxError {
            lines: vec![format!(
                "{}maximum nesting level exceeded ({limit})",
                prefix(origin, file, 1)
            )],
        });
    }
    let options = ParserOptions {
        // extglob is off in a non-interactive bash, and `!(` must mean negation.
        enable_extended_globbing: false,
        ..ParserOptions::default()
    };
    let parsed = super::depth::on_parser_stack(depth, || {
        let mut parser =
            brush_parser::Parser::new(std::io::Cursor::new(source.as_bytes()), &options);
        parser.parse_program()
    });
    match parsed {
        Ok(result) => result.map_err(|e| describe(&e, source, origin, file)),
        Err(panic) => {
            // brush-parser 0.4 panics on some input (an fd number past
            // i32, as in `echo 2147483648>&1`): bash calls that a bad
            // redirection target; anything else is reported plainly.
            tracing::warn!("parser panicked on a {} byte script: {panic}", source.len());
            Err(SyntaxError {
                lines: vec![format!(
                    "{}syntax error: unparsable input",
                    prefix(origin, file, 1)
                )],
            })
        }
    }
}

fn prefix(origin: Origin, file: &str, line: usize) -> String {
    match origin {
        Origin::Exec => format!("bash: -c: line {line}: "),
        Origin::Interactive => "bash: ".to_string(),
        Origin::File => format!("{file}: line {line}: "),
    }
}

fn describe(e: &ParseError, source: &str, origin: Origin, file: &str) -> SyntaxError {
    let last_line = source.lines().count().max(1);
    let eof_line = if source.ends_with('\n') {
        last_line + 1
    } else {
        last_line
    };
    let unexpected_eof = |quote: &str, line: usize| SyntaxError {
        lines: vec![
            format!(
                "{}unexpected EOF while looking for matching `{quote}'",
                prefix(origin, file, line)
            ),
            format!(
                "{}syntax error: unexpected end of file",
                prefix(origin, file, eof_line.max(line) + 1)
            ),
        ],
    };
    match e {
        ParseError::Tokenizing { inner, position } => {
            let line = position.as_ref().map(|p| p.line).unwrap_or(last_line);
            match inner {
                TokenizerError::UnterminatedSingleQuote(p) => unexpected_eof("'", p.line),
                TokenizerError::UnterminatedDoubleQuote(p) => unexpected_eof("\"", p.line),
                TokenizerError::UnterminatedBackquote(p) => unexpected_eof("`", p.line),
                TokenizerError::UnterminatedCommandSubstitution => unexpected_eof(")", line),
                TokenizerError::UnterminatedVariable | TokenizerError::UnterminatedExpansion => {
                    unexpected_eof("}", line)
                }
                TokenizerError::FailedDecoding => SyntaxError {
                    lines: vec![format!(
                        "{}syntax error: invalid byte sequence in input",
                        prefix(origin, file, line)
                    )],
                },
                other => SyntaxError {
                    lines: vec![format!(
                        "{}syntax error: {other}",
                        prefix(origin, file, line)
                    )],
                },
            }
        }
        ParseError::ParsingAtEndOfInput => SyntaxError {
            lines: vec![format!(
                "{}syntax error: unexpected end of file",
                prefix(origin, file, eof_line)
            )],
        },
        ParseError::ParsingNear(pos) => {
            let token = token_at(source, pos.index);
            let line_text = source.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
            let mut lines = vec![format!(
                "{}syntax error near unexpected token `{token}'",
                prefix(origin, file, pos.line)
            )];
            if origin != Origin::Interactive {
                lines.push(format!("{}`{line_text}'", prefix(origin, file, pos.line)));
            }
            SyntaxError { lines }
        }
    }
}

/// The operator or word starting at char index `index`, as bash names it.
fn token_at(source: &str, index: usize) -> String {
    let rest: String = source.chars().skip(index).collect();
    let rest = rest.trim_start();
    const OPS: &[&str] = &[
        ";;&", ";;", ";&", "&&", "||", ">>", "<<", "<&", ">&", "<>", ">|", "|&", ";", "&", "|",
        "(", ")", "<", ">",
    ];
    for op in OPS {
        if rest.starts_with(op) {
            return (*op).to_string();
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !";&|()<>".contains(*c))
        .collect();
    if word.is_empty() {
        "newline".to_string()
    } else {
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unterminated_quote_reads_like_bash() {
        let e = parse("echo \"abc", Origin::Exec, "", 128).unwrap_err();
        assert_eq!(
            e.lines[0],
            "bash: -c: line 1: unexpected EOF while looking for matching `\"'"
        );
        assert!(e.lines[1].contains("syntax error: unexpected end of file"));
    }

    #[test]
    fn stray_operator_names_the_token() {
        let e = parse("echo a ;; echo b", Origin::Exec, "", 128).unwrap_err();
        assert_eq!(
            e.lines[0],
            "bash: -c: line 1: syntax error near unexpected token `;;'"
        );
        assert_eq!(e.lines[1], "bash: -c: line 1: `echo a ;; echo b'");
    }

    #[test]
    fn ordinary_commands_parse() {
        parse(
            "export PATH=\"/venv/main/bin:$PATH\" && cd /tmp && civitdl \"x\" \"$UI_HOME\"/models/Lora 2>&1",
            Origin::Exec,
            "",
            128,
        )
        .unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let src = format!("{}echo a;{}", "{ ".repeat(400), " }".repeat(400));
        let e = parse(&src, Origin::Exec, "", 128).unwrap_err();
        assert_eq!(
            e.lines,
            ["bash: -c: line 1: maximum nesting level exceeded (128)"]
        );
        let ok = format!("{}echo a;{}", "{ ".repeat(128), " }".repeat(128));
        parse(&ok, Origin::Exec, "", 128).unwrap();
    }

    #[test]
    fn every_construct_at_the_limit_parses_without_overflow() {
        for (open, close) in [
            ("{ ", " }"),
            ("(", ")"),
            ("$(echo ", ")"),
            ("\"$(echo ", ")\""),
            ("if true; then ", "; fi"),
            ("${a:-", "}"),
        ] {
            let src = format!("echo {}a{}", open.repeat(128), close.repeat(128));
            // Errors are fine; an overflow would abort the test binary.
            let _ = parse(&src, Origin::Exec, "", 128);
        }
    }

    #[test]
    fn a_huge_fd_number_is_an_error_not_a_panic() {
        let e = parse("echo 2147483648>&1", Origin::Exec, "", 128);
        assert!(e.is_ok() || e.unwrap_err().lines[0].contains("syntax error"));
    }
}
