//! Compound commands: groups, subshells, `if`, `for`, `while`/`until`,
//! `case` and `((...))`.

use brush_parser::ast::CompoundCommand;

use super::{arith, glob, Shell, Stdio};

impl Shell {
    /// Runs one compound command with its redirections already applied.
    pub(super) async fn run_compound(&mut self, c: &CompoundCommand, io: &Stdio) -> i32 {
        match c {
            CompoundCommand::BraceGroup(g) => self.run_list(&g.list, io).await,
            CompoundCommand::Subshell(s) => {
                let mut sub = self.clone();
                sub.run_list(&s.list, io).await
            }
            CompoundCommand::IfClause(i) => {
                if self.run_list(&i.condition, io).await == 0 {
                    return self.run_list(&i.then, io).await;
                }
                for e in i.elses.iter().flatten() {
                    match &e.condition {
                        Some(cond) => {
                            if self.run_list(cond, io).await == 0 {
                                return self.run_list(&e.body, io).await;
                            }
                        }
                        None => return self.run_list(&e.body, io).await,
                    }
                }
                0
            }
            CompoundCommand::ForClause(f) => {
                let mut values = Vec::new();
                for w in f.values.iter().flatten() {
                    match self.expand_fields(&w.value, io).await {
                        Ok(v) => values.extend(v),
                        Err(e) => return self.fail(io, &e.0, 1).await,
                    }
                }
                let mut status = 0;
                for v in values {
                    self.set_var(&f.variable_name, &v, false);
                    status = self.run_list(&f.body.list, io).await;
                    if self.exit.is_some() {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                status
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                let until = matches!(c, CompoundCommand::UntilClause(_));
                let mut status = 0;
                loop {
                    let cond = self.run_list(&w.0, io).await;
                    if (cond == 0) == until || self.exit.is_some() {
                        break;
                    }
                    status = self.run_list(&w.1.list, io).await;
                    if self.exit.is_some() {
                        break;
                    }
                    // Let Ctrl-C and other sessions in, even in a busy loop.
                    tokio::task::yield_now().await;
                }
                status
            }
            CompoundCommand::CaseClause(cc) => {
                let value = match self.expand_string(&cc.value.value, io).await {
                    Ok(v) => v,
                    Err(e) => return self.fail(io, &e.0, 1).await,
                };
                for item in &cc.cases {
                    for p in &item.patterns {
                        let pat = match self.expand_pattern(&p.value, io).await {
                            Ok(p) => p,
                            Err(e) => return self.fail(io, &e.0, 1).await,
                        };
                        if glob::matches(&pat, &value) {
                            return match &item.cmd {
                                Some(list) => self.run_list(list, io).await,
                                None => 0,
                            };
                        }
                    }
                }
                0
            }
            CompoundCommand::Arithmetic(a) => {
                let text = match self.expand_string(&a.expr.value, io).await {
                    Ok(t) => t,
                    Err(e) => return self.fail(io, &e.0, 1).await,
                };
                match arith::arith(self, &text) {
                    Ok(v) => i32::from(v == 0),
                    Err(e) => self.fail(io, &format!("{}: {e}", text.trim()), 1).await,
                }
            }
            _ => {
                self.fail(
                    io,
                    "this compound command is not supported on this instance",
                    2,
                )
                .await
            }
        }
    }
}
