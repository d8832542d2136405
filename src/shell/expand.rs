//! Word expansion: quotes, escapes, `~`, `$VAR`, `${VAR:-x}` and friends,
//! `$(...)`, `$((...))`, field splitting and pathname expansion.

use brush_parser::word::{self, Parameter, ParameterExpr, ParameterTestType, SpecialParameter};
use brush_parser::word::{WordPiece, WordPieceWithSource};
use brush_parser::ParserOptions;
use futures::future::BoxFuture;
use futures::FutureExt;

use super::{glob, Origin, Shell, Stdio};
use crate::program::Output;

/// An expansion bash refuses (`bad substitution`, `${x:?msg}`).
#[derive(Debug)]
pub(super) struct ExpandError(pub String);

/// A field being built: its text, its glob pattern (quoted parts escaped),
/// and whether it exists even if empty (`""` does, an empty `$x` does not).
#[derive(Default, Clone)]
struct Field {
    text: String,
    pattern: String,
    magic: bool,
    exists: bool,
}

#[derive(Default)]
struct Fields {
    done: Vec<Field>,
    cur: Field,
}

impl Fields {
    fn push_literal(&mut self, s: &str, quoted: bool) {
        self.cur.text.push_str(s);
        if quoted {
            self.cur.pattern.push_str(&glob::escape(s));
            self.cur.exists = true;
        } else {
            self.cur.pattern.push_str(s);
            if glob::has_magic(s) {
                self.cur.magic = true;
            }
            if !s.is_empty() {
                self.cur.exists = true;
            }
        }
    }

    /// Adds an expansion's result; unquoted results are split on IFS
    /// whitespace and their glob chars stay active.
    fn push_expansion(&mut self, s: &str, quoted: bool) {
        if quoted {
            self.push_literal(s, true);
            return;
        }
        let starts_ws = s.starts_with([' ', '\t', '\n']);
        let ends_ws = s.ends_with([' ', '\t', '\n']);
        let parts: Vec<&str> = s
            .split([' ', '\t', '\n'])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            if starts_ws {
                self.split();
            }
            return;
        }
        for (i, p) in parts.iter().enumerate() {
            if i > 0 || starts_ws {
                self.split();
            }
            self.push_literal(p, false);
        }
        if ends_ws {
            self.split();
        }
    }

    fn split(&mut self) {
        let f = std::mem::take(&mut self.cur);
        if f.exists {
            self.done.push(f);
        }
    }

    fn finish(mut self) -> Vec<Field> {
        self.split();
        self.done
    }
}

fn word_options() -> ParserOptions {
    ParserOptions {
        enable_extended_globbing: false,
        ..ParserOptions::default()
    }
}

impl Shell {
    /// Expands a word into fields (split and globbed), as for arguments.
    pub(super) async fn expand_fields(
        &mut self,
        raw: &str,
        io: &Stdio,
    ) -> Result<Vec<String>, ExpandError> {
        let fields = self.expand_word(raw, false, io).await?;
        let mut out = Vec::new();
        for f in fields.finish() {
            self.check_word_size(f.text.len())?;
            if f.magic {
                let matches = glob::expand_path(&self.instance.sandbox, &self.cwd, &f.pattern);
                if !matches.is_empty() {
                    out.extend(matches);
                    continue;
                }
            }
            out.push(f.text);
        }
        Ok(out)
    }

    /// Expands a word into one string, with no splitting or globbing (as for
    /// assignments, redirection targets, here-strings and `case` words).
    pub(super) async fn expand_string(
        &mut self,
        raw: &str,
        io: &Stdio,
    ) -> Result<String, ExpandError> {
        let fields = self.expand_word(raw, true, io).await?;
        Ok(fields.cur.text)
    }

    /// Parses and expands one word into fields, refusing a word past the
    /// session's limit; `quoted` as inside double quotes (no splitting).
    async fn expand_word(
        &mut self,
        raw: &str,
        quoted: bool,
        io: &Stdio,
    ) -> Result<Fields, ExpandError> {
        let pieces = parse_word(raw, self.instance.config.limits.max_nesting)?;
        let mut fields = Fields::default();
        self.expand_pieces(&pieces, quoted, &mut fields, io).await?;
        self.check_word_size(fields.cur.text.len())?;
        Ok(fields)
    }

    /// A word past the session's limit is where bash runs out of memory: it
    /// prints `xrealloc: cannot allocate` and the shell exits 2.
    fn check_word_size(&mut self, len: usize) -> Result<(), ExpandError> {
        let limit = self.instance.config.limits.max_word_bytes;
        if len <= limit && !self.memory.would_exceed(len) {
            return Ok(());
        }
        self.exit = Some(2);
        Err(ExpandError(format!(
            "xrealloc: cannot allocate {} bytes",
            len.saturating_add(1)
        )))
    }

    /// Expands a word into a pattern (quoted parts escaped), for `case`.
    pub(super) async fn expand_pattern(
        &mut self,
        raw: &str,
        io: &Stdio,
    ) -> Result<String, ExpandError> {
        let fields = self.expand_word(raw, false, io).await?;
        let parts: Vec<String> = fields.finish().into_iter().map(|f| f.pattern).collect();
        Ok(parts.join(" "))
    }

    fn expand_pieces<'a>(
        &'a mut self,
        pieces: &'a [WordPieceWithSource],
        quoted: bool,
        fields: &'a mut Fields,
        io: &'a Stdio,
    ) -> BoxFuture<'a, Result<(), ExpandError>> {
        async move {
            for p in pieces {
                match &p.piece {
                    WordPiece::Text(s) => fields.push_literal(s, quoted),
                    WordPiece::SingleQuotedText(s) => fields.push_literal(s, true),
                    WordPiece::AnsiCQuotedText(s) => fields.push_literal(&ansi_c(s), true),
                    WordPiece::EscapeSequence(s) => {
                        let lit = unescape_backslash(s, quoted);
                        fields.push_literal(&lit, true)
                    }
                    WordPiece::DoubleQuotedSequence(inner)
                    | WordPiece::GettextDoubleQuotedSequence(inner) => {
                        fields.cur.exists = true;
                        self.expand_pieces(inner, true, fields, io).await?;
                    }
                    WordPiece::TildeExpansion(t) => {
                        use brush_parser::word::TildeExpr;
                        let s = match t {
                            TildeExpr::Home => self.var("HOME").unwrap_or("/root").to_string(),
                            TildeExpr::UserHome(u) if u == "root" => "/root".into(),
                            TildeExpr::UserHome(u) => format!("/home/{u}"),
                            TildeExpr::WorkingDir => self.cwd.clone(),
                            TildeExpr::OldWorkingDir => {
                                self.var("OLDPWD").unwrap_or("").to_string()
                            }
                            _ => "~".into(),
                        };
                        fields.push_literal(&s, true);
                    }
                    WordPiece::ParameterExpansion(expr) => {
                        let v = self.expand_parameter(expr, io).await?;
                        fields.push_expansion(&v, quoted);
                    }
                    WordPiece::CommandSubstitution(cmd)
                    | WordPiece::BackquotedCommandSubstitution(cmd) => {
                        let out = self.command_substitution(cmd, io).await;
                        fields.push_expansion(&out, quoted);
                    }
                    WordPiece::ArithmeticExpression(expr) => {
                        let text = self.expand_string(&expr.value, io).await?;
                        let v = super::arith::arith(self, &text)
                            .map_err(|e| ExpandError(format!("{}: {e}", expr.value.trim())))?;
                        fields.push_expansion(&v.to_string(), quoted);
                    }
                }
            }
            Ok(())
        }
        .boxed()
    }

    async fn command_substitution(&mut self, cmd: &str, io: &Stdio) -> String {
        let limit = self.instance.config.limits.max_capture_bytes;
        let (out, cap) = Output::capture_limited(limit);
        let sub_io = Stdio {
            stdin: io.stdin.clone(),
            stdout: out,
            stderr: io.stderr.clone(),
        };
        let mut sub = self.clone();
        sub.depth += 1;
        let status = if sub.depth > self.instance.config.limits.max_call_depth {
            let _ = io
                .stderr
                .write("bash: maximum nesting level exceeded\n")
                .await;
            1
        } else {
            Box::pin(sub.run_script(cmd, Origin::Exec, &sub_io)).await
        };
        self.last_status = status;
        if cap.overflowed() {
            // bash runs out of memory here and dies; so does this shell.
            let _ = io
                .stderr
                .write(format!(
                    "bash: xrealloc: cannot allocate {} bytes\n",
                    limit + 1
                ))
                .await;
            self.exit = Some(2);
            self.last_status = 2;
            return String::new();
        }
        let mut text = cap.text();
        while text.ends_with('\n') {
            text.pop();
        }
        text
    }

    fn param_value(&self, p: &Parameter) -> Option<String> {
        match p {
            Parameter::Named(n) => match n.as_str() {
                "RANDOM" => Some((rand::random::<u16>() % 32768).to_string()),
                _ => self.var(n).map(str::to_string),
            },
            Parameter::Positional(0) => Some("bash".into()),
            Parameter::Positional(_) => None,
            Parameter::Special(s) => Some(match s {
                SpecialParameter::LastExitStatus => self.last_status.to_string(),
                SpecialParameter::ProcessId => self.pid.to_string(),
                SpecialParameter::ShellName => "bash".into(),
                SpecialParameter::PositionalParameterCount => "0".into(),
                SpecialParameter::AllPositionalParameters { .. } => String::new(),
                SpecialParameter::CurrentOptionFlags => "hB".into(),
                SpecialParameter::LastBackgroundProcessId => return None,
            }),
            Parameter::NamedWithIndex { name, index } => {
                if index == "0" || index == "@" || index == "*" {
                    self.var(name).map(str::to_string)
                } else {
                    None
                }
            }
            Parameter::NamedWithAllIndices { name, .. } => self.var(name).map(str::to_string),
        }
    }

    fn param_name(p: &Parameter) -> String {
        match p {
            Parameter::Named(n) => n.clone(),
            Parameter::Positional(n) => n.to_string(),
            Parameter::Special(_) => "?".into(),
            Parameter::NamedWithIndex { name, .. }
            | Parameter::NamedWithAllIndices { name, .. } => name.clone(),
        }
    }

    async fn expand_parameter(
        &mut self,
        expr: &ParameterExpr,
        io: &Stdio,
    ) -> Result<String, ExpandError> {
        let unset_or_null = |v: &Option<String>, t: &ParameterTestType| match t {
            ParameterTestType::UnsetOrNull => v.as_deref().is_none_or(str::is_empty),
            ParameterTestType::Unset => v.is_none(),
        };
        Ok(match expr {
            ParameterExpr::Parameter { parameter, .. } => {
                self.param_value(parameter).unwrap_or_default()
            }
            ParameterExpr::UseDefaultValues {
                parameter,
                test_type,
                default_value,
                ..
            } => {
                let v = self.param_value(parameter);
                if unset_or_null(&v, test_type) {
                    self.expand_string(default_value.as_deref().unwrap_or(""), io)
                        .await?
                } else {
                    v.unwrap_or_default()
                }
            }
            ParameterExpr::AssignDefaultValues {
                parameter,
                test_type,
                default_value,
                ..
            } => {
                let v = self.param_value(parameter);
                if unset_or_null(&v, test_type) {
                    let d = self
                        .expand_string(default_value.as_deref().unwrap_or(""), io)
                        .await?;
                    self.set_var(&Self::param_name(parameter), &d, false);
                    d
                } else {
                    v.unwrap_or_default()
                }
            }
            ParameterExpr::IndicateErrorIfNullOrUnset {
                parameter,
                test_type,
                error_message,
                ..
            } => {
                let v = self.param_value(parameter);
                if unset_or_null(&v, test_type) {
                    let msg = match error_message {
                        Some(m) => self.expand_string(m, io).await?,
                        None => "parameter null or not set".into(),
                    };
                    return Err(ExpandError(format!(
                        "{}: {msg}",
                        Self::param_name(parameter)
                    )));
                }
                v.unwrap_or_default()
            }
            ParameterExpr::UseAlternativeValue {
                parameter,
                test_type,
                alternative_value,
                ..
            } => {
                let v = self.param_value(parameter);
                if unset_or_null(&v, test_type) {
                    String::new()
                } else {
                    self.expand_string(alternative_value.as_deref().unwrap_or(""), io)
                        .await?
                }
            }
            ParameterExpr::ParameterLength { parameter, .. } => self
                .param_value(parameter)
                .map(|v| v.chars().count())
                .unwrap_or(0)
                .to_string(),
            ParameterExpr::RemoveSmallestSuffixPattern {
                parameter, pattern, ..
            }
            | ParameterExpr::RemoveLargestSuffixPattern {
                parameter, pattern, ..
            }
            | ParameterExpr::RemoveSmallestPrefixPattern {
                parameter, pattern, ..
            }
            | ParameterExpr::RemoveLargestPrefixPattern {
                parameter, pattern, ..
            } => {
                let v = self.param_value(parameter).unwrap_or_default();
                let pat = self
                    .expand_pattern(pattern.as_deref().unwrap_or(""), io)
                    .await?;
                let Some(re) = glob::compile(&pat, false) else {
                    return Ok(v);
                };
                let bounds: Vec<usize> = v
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(std::iter::once(v.len()))
                    .collect();
                match expr {
                    ParameterExpr::RemoveSmallestSuffixPattern { .. } => bounds
                        .iter()
                        .rev()
                        .find(|&&i| re.is_match(&v[i..]))
                        .map(|&i| v[..i].to_string()),
                    ParameterExpr::RemoveLargestSuffixPattern { .. } => bounds
                        .iter()
                        .find(|&&i| re.is_match(&v[i..]))
                        .map(|&i| v[..i].to_string()),
                    ParameterExpr::RemoveSmallestPrefixPattern { .. } => bounds
                        .iter()
                        .find(|&&i| re.is_match(&v[..i]))
                        .map(|&i| v[i..].to_string()),
                    _ => bounds
                        .iter()
                        .rev()
                        .find(|&&i| re.is_match(&v[..i]))
                        .map(|&i| v[i..].to_string()),
                }
                .unwrap_or(v)
            }
            ParameterExpr::ReplaceSubstring {
                parameter,
                pattern,
                replacement,
                ..
            } => {
                let v = self.param_value(parameter).unwrap_or_default();
                let pat = self.expand_string(pattern, io).await?;
                let rep = self
                    .expand_string(replacement.as_deref().unwrap_or(""), io)
                    .await?;
                if pat.is_empty() {
                    v
                } else {
                    v.replace(&pat, &rep)
                }
            }
            _ => return Err(ExpandError("bad substitution".into())),
        })
    }
}

/// Splits a word into its pieces, refusing nesting past `max_nesting` (the
/// word parser recurses per `${`/`$(` level) and surviving its panics.
fn parse_word(raw: &str, max_nesting: usize) -> Result<Vec<WordPieceWithSource>, ExpandError> {
    if let Some(plain) = plain_word(raw) {
        return Ok(plain);
    }
    let depth = super::depth::nesting(raw);
    if depth > max_nesting {
        return Err(ExpandError(format!(
            "maximum nesting level exceeded ({max_nesting})"
        )));
    }
    if super::depth::parens(raw) > super::depth::MAX_PARENS {
        return Err(ExpandError(format!(
            "maximum nesting level exceeded ({})",
            super::depth::MAX_PARENS
        )));
    }
    super::depth::on_parser_stack(depth, || word::parse(raw, &word_options()))
        .map_err(|_| ExpandError(format!("{raw}: bad substitution")))?
        .map_err(|_| ExpandError(format!("{raw}: bad substitution")))
}

/// A word with nothing to expand or unquote (`echo`, `-rf`, `d/etc/f`) is
/// one piece of text: the parser would say the same, at a greater cost.
fn plain_word(raw: &str) -> Option<Vec<WordPieceWithSource>> {
    let special = |c: char| matches!(c, '$' | '`' | '\\' | '\'' | '"' | '~' | '{' | '}');
    (!raw.is_empty() && !raw.contains(special)).then(|| {
        vec![WordPieceWithSource {
            piece: word::WordPiece::Text(raw.to_string()),
            start_index: 0,
            end_index: raw.len(),
        }]
    })
}

/// `\x` outside quotes is `x`; inside double quotes only `\$ \` \" \\` and
/// newline lose their backslash.
fn unescape_backslash(s: &str, in_double_quotes: bool) -> String {
    let rest = s.strip_prefix('\\').unwrap_or(s);
    if in_double_quotes && !rest.starts_with(['$', '`', '"', '\\', '\n']) {
        return s.to_string();
    }
    if rest == "\n" {
        return String::new();
    }
    rest.to_string()
}

/// The contents of `$'...'` with its C escapes applied.
fn ansi_c(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('e') | Some('E') => out.push('\x1b'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_what_the_parser_makes_of_them() {
        for raw in [
            "echo",
            "-rf",
            "d/etc/hostname",
            "a*b?[c]",
            "x=1",
            "%N",
            "a:b",
            "é",
        ] {
            let fast = plain_word(raw).expect("plain");
            let parsed = word::parse(raw, &word_options()).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{parsed:?}"), "{raw}");
        }
        for raw in ["", "$x", "~", "a\\b", "'q'", "\"q\"", "`c`", "{a,b}"] {
            assert!(plain_word(raw).is_none(), "{raw}");
        }
    }
}
