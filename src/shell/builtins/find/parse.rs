//! `find`'s expression language: tests, operators and actions parsed into
//! an `Expr` tree by precedence (`,` < `-o` < `-a` < `!`), with the
//! global options (`-maxdepth`, `-depth`, ...) gathered on the way.

/// A parsed expression: operators over tests and actions.
#[derive(Debug, Clone)]
pub(super) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Comma(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Name {
        pat: String,
        fold: bool,
    },
    Path {
        pat: String,
        fold: bool,
    },
    Type(Vec<char>),
    Size {
        cmp: std::cmp::Ordering,
        n: u64,
        unit: u64,
    },
    Empty,
    Const(bool),
    Print {
        nul: bool,
    },
    Printf(Vec<u8>),
    Prune,
    Quit,
}

impl Expr {
    /// Whether any action (`-print`, `-printf`, `-quit`) appears; without
    /// one, find adds `-print`.
    pub(super) fn has_action(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Comma(a, b) => {
                a.has_action() || b.has_action()
            }
            Expr::Not(a) => a.has_action(),
            Expr::Print { .. } | Expr::Printf(_) | Expr::Quit => true,
            _ => false,
        }
    }
}

/// The options that act on the whole walk rather than on one file.
#[derive(Default)]
pub(super) struct Globals {
    pub(super) maxdepth: Option<usize>,
    pub(super) mindepth: usize,
    pub(super) depth_first: bool,
    pub(super) follow: Follow,
}

/// Which symlinks the walk follows: none (`-P`), the start points (`-H`),
/// or all (`-L`).
#[derive(Default, Clone, Copy, PartialEq)]
pub(super) enum Follow {
    #[default]
    Never,
    StartPoints,
    Always,
}

/// A recursive-descent parser over the expression's words.
pub(super) struct Parser<'a> {
    pub(super) toks: &'a [String],
    pub(super) pos: usize,
    pub(super) globals: Globals,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn arg(&mut self, pred: &str) -> PResult<String> {
        self.pos += 1;
        match self.toks.get(self.pos) {
            Some(a) => {
                self.pos += 1;
                Ok(a.clone())
            }
            None => Err(format!("missing argument to `{pred}'")),
        }
    }

    /// Parses a whole expression: the lowest precedence, `,`.
    pub(super) fn comma(&mut self) -> PResult<Expr> {
        let mut left = self.or()?;
        while self.peek() == Some(",") {
            self.pos += 1;
            let right = self.or()?;
            left = Expr::Comma(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("-o") | Some("-or")) {
            self.pos += 1;
            if self.peek().is_none() || self.peek() == Some(")") {
                return Err("invalid expression; you have used a binary operator '-o' with nothing after it.".into());
            }
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut left = self.not()?;
        loop {
            match self.peek() {
                Some("-a") | Some("-and") => {
                    self.pos += 1;
                    if self.peek().is_none() {
                        return Err("invalid expression; you have used a binary operator '-a' with nothing after it.".into());
                    }
                }
                None | Some("-o") | Some("-or") | Some(")") | Some(",") => return Ok(left),
                _ => {}
            }
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn not(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Some("!") | Some("-not")) {
            self.pos += 1;
            let e = self.not()?;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("invalid expression".into());
        };
        match tok.as_str() {
            "(" => {
                self.pos += 1;
                if self.peek() == Some(")") {
                    return Err("invalid expression; empty parentheses are not allowed.".into());
                }
                let e = self.comma()?;
                if self.peek() != Some(")") {
                    return Err("invalid expression; I was expecting to find a ')' somewhere but did not see one.".into());
                }
                self.pos += 1;
                Ok(e)
            }
            ")" => Err("invalid expression; you have too many ')'".into()),
            "-o" | "-or" | "-a" | "-and" => Err(format!(
                "invalid expression; you have used a binary operator '{tok}' with nothing before it."
            )),
            "-name" | "-iname" => {
                let pat = self.arg(&tok)?;
                Ok(Expr::Name {
                    pat,
                    fold: tok == "-iname",
                })
            }
            "-path" | "-wholename" | "-ipath" | "-iwholename" => {
                let pat = self.arg(&tok)?;
                Ok(Expr::Path {
                    pat,
                    fold: tok.starts_with("-i"),
                })
            }
            "-type" | "-xtype" => {
                let v = self.arg(&tok)?;
                let mut kinds = Vec::new();
                for part in v.split(',') {
                    match part {
                        "f" | "d" | "l" | "b" | "c" | "p" | "s" => {
                            kinds.push(part.chars().next().unwrap_or('f'))
                        }
                        "" => return Err(format!("Arguments to {tok} should contain at least one letter")),
                        _ => return Err(format!("Unknown argument to {tok}: {part}")),
                    }
                }
                Ok(Expr::Type(kinds))
            }
            "-size" => {
                let v = self.arg(&tok)?;
                parse_size(&v).ok_or_else(|| format!("invalid -size type `{v}'"))
            }
            "-empty" => {
                self.pos += 1;
                Ok(Expr::Empty)
            }
            "-true" | "-false" => {
                self.pos += 1;
                Ok(Expr::Const(tok == "-true"))
            }
            "-print" | "-print0" => {
                self.pos += 1;
                Ok(Expr::Print {
                    nul: tok == "-print0",
                })
            }
            "-printf" => {
                let f = self.arg(&tok)?;
                Ok(Expr::Printf(f.into_bytes()))
            }
            "-prune" => {
                self.pos += 1;
                Ok(Expr::Prune)
            }
            "-quit" => {
                self.pos += 1;
                Ok(Expr::Quit)
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.arg(&tok)?;
                let n: usize = v.parse().map_err(|_| {
                    format!("Expected a positive decimal integer argument to {tok}, but got `{v}'")
                })?;
                if tok == "-maxdepth" {
                    self.globals.maxdepth = Some(n);
                } else {
                    self.globals.mindepth = n;
                }
                Ok(Expr::Const(true))
            }
            "-depth" | "-d" => {
                self.pos += 1;
                self.globals.depth_first = true;
                Ok(Expr::Const(true))
            }
            "-follow" => {
                self.pos += 1;
                self.globals.follow = Follow::Always;
                Ok(Expr::Const(true))
            }
            "-xdev" | "-mount" | "-noleaf" | "-ignore_readdir_race" => {
                self.pos += 1;
                Ok(Expr::Const(true))
            }
            t if t.starts_with('-') => Err(format!("unknown predicate `{t}'")),
            t => Err(format!("paths must precede expression: `{t}'")),
        }
    }
}

fn parse_size(v: &str) -> Option<Expr> {
    let (cmp, rest) = match v.chars().next()? {
        '+' => (std::cmp::Ordering::Greater, &v[1..]),
        '-' => (std::cmp::Ordering::Less, &v[1..]),
        _ => (std::cmp::Ordering::Equal, v),
    };
    let (num, unit) = match rest.chars().last()? {
        'c' => (&rest[..rest.len() - 1], 1),
        'w' => (&rest[..rest.len() - 1], 2),
        'b' => (&rest[..rest.len() - 1], 512),
        'k' => (&rest[..rest.len() - 1], 1024),
        'M' => (&rest[..rest.len() - 1], 1 << 20),
        'G' => (&rest[..rest.len() - 1], 1 << 30),
        c if c.is_ascii_digit() => (rest, 512),
        _ => return None,
    };
    Some(Expr::Size {
        cmp,
        n: num.parse().ok()?,
        unit,
    })
}
