//! Shared pieces: size units and the error texts several tools share
//! (requests/urllib3 exceptions, curl-style messages, disk full).

use super::cursor::Literal;
use super::{ErrorKind, Event};

/// `1.05M` (SI, tqdm's `unit_scale`), `2.8MiB` (binary), `216.00K` with
/// `binary` deciding what a bare `K`/`M`/`G` means. Trailing `B`/`iB` is
/// accepted. `None` when it is not a size.
pub(crate) fn parse_size(text: &str, binary: bool) -> Option<u64> {
    let t = text.trim();
    let explicit_binary = t.ends_with("iB");
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, ""),
    };
    let value: f64 = num.parse().ok()?;
    let base: f64 = if binary || explicit_binary {
        1024.0
    } else {
        1000.0
    };
    let exp = match unit {
        "" => 0,
        "k" | "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        "P" => 5,
        _ => return None,
    };
    Some((value * base.powi(exp)).round() as u64)
}

/// A percentage as a tool printed it (`42`, up to three digits), within
/// 0..=100 as [`super::Progress::percent`] promises: tqdm prints past 100
/// when a transfer outgrows its total, and a garbled line may say `765%`.
pub(crate) fn percent(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|p| p.is_finite())
        .map(|p| p.clamp(0.0, 100.0))
}

/// A bound on message length, so one huge line never becomes a huge event.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 1000;
    let s = s.trim();
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

static NO_SPACE: Literal = Literal::new("No space left on device");
static QUOTA: Literal = Literal::new("Disk quota exceeded");

/// Errors any tool may print: disk full.
pub(crate) fn common_error(line: &str) -> Option<Event> {
    // on every line of most tools: prebuilt searchers
    if NO_SPACE.is_in(line) || QUOTA.is_in(line) {
        return Some(Event::error(ErrorKind::DiskFull, None, clip(line)));
    }
    None
}

/// The class of a Python requests/urllib3 or OS error line, when it is one.
pub(crate) fn python_network_kind(line: &str) -> Option<ErrorKind> {
    let kind = if line.contains("No space left on device") {
        ErrorKind::DiskFull
    } else if line.contains("NameResolutionError")
        || line.contains("Name or service not known")
        || line.contains("Temporary failure in name resolution")
        || line.contains("nodename nor servname")
    {
        ErrorKind::Dns
    } else if line.contains("Connection refused") {
        ErrorKind::Refused
    } else if line.contains("ConnectTimeoutError")
        || line.contains("ReadTimeoutError")
        || line.contains("timed out")
    {
        ErrorKind::Timeout
    } else if line.contains("ChunkedEncodingError")
        || line.contains("IncompleteRead")
        || line.contains("Connection broken")
        || line.contains("Connection reset")
        || line.contains("RemoteDisconnected")
        || line.contains("ProtocolError")
    {
        ErrorKind::Read
    } else if line.contains("Max retries exceeded")
        || line.contains("NewConnectionError")
        || line.contains("SSLError")
        || line.contains("Network is unreachable")
        || line.contains("No route to host")
    {
        ErrorKind::Network
    } else {
        return None;
    };
    Some(kind)
}

/// The class of a libcurl-style message (`Could not resolve host`, ...),
/// shared by curl and git.
pub(crate) fn curl_message_kind(msg: &str) -> Option<ErrorKind> {
    let kind = if msg.contains("Could not resolve host") || msg.contains("Could not resolve proxy")
    {
        ErrorKind::Dns
    } else if msg.contains("Couldn't connect to server") || msg.contains("Connection refused") {
        ErrorKind::Refused
    } else if msg.contains("timed out") {
        ErrorKind::Timeout
    } else if msg.contains("No space left on device") {
        ErrorKind::DiskFull
    } else if msg.contains("transfer closed")
        || msg.contains("early EOF")
        || msg.contains("RPC failed")
        || msg.contains("Recv failure")
        || msg.contains("Connection reset")
    {
        ErrorKind::Read
    } else if msg.contains("SSL") || msg.contains("certificate") {
        ErrorKind::Network
    } else {
        return None;
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_each_tools_base() {
        assert_eq!(parse_size("1.05M", false), Some(1_050_000));
        assert_eq!(parse_size("216.00K", true), Some(221_184));
        assert_eq!(parse_size("2.8MiB", false), Some(2_936_013));
        assert_eq!(parse_size("0B", false), Some(0));
        assert_eq!(parse_size("1840k", true), Some(1_884_160));
        assert_eq!(parse_size("35", false), Some(35));
        assert_eq!(parse_size("--.-", false), None);
        assert_eq!(parse_size("3.00", false), Some(3));
    }
}
