//! A civitdl exception and how `print_exc` shows it.

use super::{BOLD, RED, RESET};

/// A civitdl exception as `print_exc` shows it.
#[derive(Clone, Debug)]
pub(super) enum Failure {
    Input(Vec<String>),
    Api(u16, Vec<String>),
    Plain(String),
}

impl Failure {
    pub(super) fn render(&self, color: bool) -> String {
        let (class, kind, msgs) = match self {
            Failure::Plain(t) => {
                return if color {
                    format!("{RED}{t}{RESET}")
                } else {
                    t.clone()
                };
            }
            Failure::Input(m) => ("InputException", "Bad Inputs".to_string(), m),
            Failure::Api(code, m) => ("APIException", format!("API Status Code {code}"), m),
        };
        let mut s = if color {
            format!("{BOLD}{RED}\n{class} ({kind}):{RESET}")
        } else {
            format!("\n{class} ({kind}):")
        };
        for m in msgs {
            if color {
                s.push_str(&format!("{RED}\n         {m}{RESET}"));
            } else {
                s.push_str(&format!("\n         {m}"));
            }
        }
        s
    }
}
