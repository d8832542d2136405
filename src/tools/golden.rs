//! Structural comparison of tool output with the real tools' captures.
//!
//! [`shape`] turns a byte stream into its shape: lines (split on `\n`, with
//! `\r\n` read as `\n` so pty and non-pty output compare alike), each line's
//! `\r` segments, and each segment with dates, IPs, numbers, bars and tqdm
//! rates replaced by width-preserving placeholders. Consecutive identical
//! shapes collapse into one, so a transfer that takes one more frame or dot
//! row still compares equal; a different stream, field width, unit layout,
//! colour code or line structure does not. [`compare`] reports the first
//! difference. Both are reused by the SSH-level golden tests, and so is
//! [`cases`], the captures as data.

use std::sync::OnceLock;

use regex::Regex;

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("golden regex"))
}

/// Removes a capture harness's trailing `[exit=N]` line.
pub fn strip_exit_marker(text: &str) -> &str {
    static R: OnceLock<Regex> = OnceLock::new();
    match re(&R, r"\[exit=\d+\]\r?\n?$").find(text) {
        Some(m) => &text[..m.start()],
        None => text,
    }
}

/// The shape of one `\r`/`\n` segment.
pub fn segment_shape(seg: &str) -> String {
    static DATE: OnceLock<Regex> = OnceLock::new();
    static IP: OnceLock<Regex> = OnceLock::new();
    static TQDM_RATE: OnceLock<Regex> = OnceLock::new();
    static TQDM_BAR: OnceLock<Regex> = OnceLock::new();
    static WGET_BAR: OnceLock<Regex> = OnceLock::new();
    static NUM: OnceLock<Regex> = OnceLock::new();
    static RETR_RATE: OnceLock<Regex> = OnceLock::new();
    static TOTAL_TIME: OnceLock<Regex> = OnceLock::new();
    static GID: OnceLock<Regex> = OnceLock::new();
    // A tqdm bar under a tty fills the line: its cell count follows the
    // rate's text, the line width does not. Without a tty it is 10 cells.
    let tty_width = re(&TQDM_BAR, TQDM_BAR_RE)
        .find(seg)
        .filter(|m| m.as_str().chars().count() != 12)
        .map(|_| seg.trim_end().chars().count());
    // aria2's gids are random per run: only where they stand counts.
    let s = re(&GID, r"GID#[0-9a-f]{16}\b|#[0-9a-f]{6}\b|^[0-9a-f]{6}\|").replace_all(
        seg,
        |c: &regex::Captures| {
            let m = &c[0];
            if m.starts_with("GID#") {
                "GID#<GID16>".to_string()
            } else if m.starts_with('#') {
                "#<GID>".to_string()
            } else {
                "<GID>|".to_string()
            }
        },
    );
    let s = re(&DATE, r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").replace_all(&s, "<DATE>");
    let s = re(&IP, r"\b\d{1,3}(?:\.\d{1,3}){3}\b").replace_all(&s, "<IP>");
    // tqdm rates are not fixed-width and vary run to run; the erase padding after them too.
    let s = re(
        &TQDM_RATE,
        r"(?:\?|\d+(?:\.\d+)?[kMGT]?)(s/)?(iB|B|it)(/s)?\] *$",
    )
    .replace_all(&s, "<RATE>$2]");
    let s = re(&TQDM_BAR, TQDM_BAR_RE).replace_all(&s, |c: &regex::Captures| match tty_width {
        Some(_) => "|BAR|".to_string(),
        None => format!("|{}|", "B".repeat(c[0].chars().count() - 2)),
    });
    let s = re(&WGET_BAR, r"\[[=>+< ]+\]").replace_all(&s, |c: &regex::Captures| {
        format!("[{}]", "B".repeat(c[0].chars().count() - 2))
    });
    // wget's `(977 KB/s)` and `in 0.04s` are printed with value-dependent widths.
    let s = re(&RETR_RATE, r"\(\d+(?:\.\d+)? [KMGT]?B/s\)").replace_all(&s, "(<RATE>)");
    let s = re(&TOTAL_TIME, r" in \d+(?:\.\d+)?(?:s|m \d+s|h \d+m \d+s) \(")
        .replace_all(&s, " in <TIME> (");
    let s = re(&NUM, r" *\d+(?:\.\d+)?[KMGTk]?")
        .replace_all(&s, |c: &regex::Captures| "#".repeat(c[0].len()));
    match tty_width {
        Some(w) => format!("{s}{{width {w}}}"),
        None => s.into_owned(),
    }
}

const TQDM_BAR_RE: &str = r"\|[█▏▎▍▌▋▊▉ ]+\|";

/// The shape of a whole stream: one entry per line, each the collapsed list
/// of its segments' shapes; consecutive identical lines collapse too.
pub fn shape(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let text = strip_exit_marker(&text);
    let mut lines: Vec<String> = Vec::new();
    let parts: Vec<&str> = text.split('\n').collect();
    for (i, line) in parts.iter().enumerate() {
        let mut segs: Vec<String> = Vec::new();
        for seg in line.split('\r') {
            let sh = segment_shape(seg);
            if segs.last() != Some(&sh) {
                segs.push(sh);
            }
        }
        let mut joined = segs.join("⏎");
        if i + 1 < parts.len() {
            joined.push('↵');
        }
        if lines.last() != Some(&joined) {
            lines.push(joined);
        }
    }
    lines
}

/// Compares two streams by shape; `Err` holds a readable report of the first difference.
pub fn compare(expected: &[u8], actual: &[u8]) -> Result<(), String> {
    let (e, a) = (shape(expected), shape(actual));
    if e == a {
        return Ok(());
    }
    let i = e.iter().zip(a.iter()).take_while(|(x, y)| x == y).count();
    let ctx = |v: &[String]| {
        v.iter()
            .skip(i.saturating_sub(2))
            .take(5)
            .map(|l| format!("    {l:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Err(format!(
        "shapes differ at line {i} (expected {} lines, got {}):\n  expected:\n{}\n  actual:\n{}",
        e.len(),
        a.len(),
        ctx(&e),
        ctx(&a)
    ))
}

pub mod cases;
mod cases_aria;
mod cases_curl;
mod cases_git;
mod cases_hf;
pub mod every;

#[cfg(test)]
mod tests;
