//! `-w FORMAT` (`src/tool_writeout.c`): `%{variable}`, `%%`, and the
//! backslash escapes `\n`, `\r`, `\t`; written to stdout after the transfer.

/// What a finished transfer reports to `-w`.
#[derive(Clone, Debug, Default)]
pub(super) struct Report {
    pub(super) http_code: u16,
    pub(super) size_download: u64,
    pub(super) size_header: u64,
    pub(super) url_effective: String,
    pub(super) time_total: f64,
    pub(super) filename_effective: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) num_redirects: u32,
    pub(super) redirect_url: Option<String>,
    pub(super) exitcode: i32,
    pub(super) errormsg: Option<String>,
    pub(super) remote_ip: String,
    pub(super) remote_port: u16,
}

/// The text `format` expands to; unknown variables are warned about (the
/// second value, one warning line each) and expand to nothing.
pub(super) fn expand(format: &str, r: &Report) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut warnings = Vec::new();
    let mut rest = format;
    let speed = if r.time_total > 0.0 {
        (r.size_download as f64 / r.time_total) as u64
    } else {
        0
    };
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("%{") {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                let value = match name {
                    "http_code" | "response_code" => Some(format!("{:03}", r.http_code)),
                    "size_download" => Some(r.size_download.to_string()),
                    "size_header" => Some(r.size_header.to_string()),
                    "url_effective" | "url" => Some(r.url_effective.clone()),
                    "time_total" => Some(format!("{:.6}", r.time_total)),
                    "time_namelookup" | "time_connect" | "time_appconnect" | "time_pretransfer"
                    | "time_starttransfer" | "time_redirect" => Some(format!("{:.6}", 0.0)),
                    "filename_effective" => Some(r.filename_effective.clone().unwrap_or_default()),
                    "content_type" => Some(r.content_type.clone().unwrap_or_default()),
                    "num_redirects" => Some(r.num_redirects.to_string()),
                    "redirect_url" => Some(r.redirect_url.clone().unwrap_or_default()),
                    "exitcode" => Some(r.exitcode.to_string()),
                    "errormsg" => Some(r.errormsg.clone().unwrap_or_default()),
                    "speed_download" => Some(speed.to_string()),
                    "remote_ip" => Some(r.remote_ip.clone()),
                    "remote_port" => Some(r.remote_port.to_string()),
                    "scheme" => Some(
                        r.url_effective
                            .split("://")
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase(),
                    ),
                    "method" => Some("GET".into()),
                    _ => None,
                };
                match value {
                    Some(v) => out.push_str(&v),
                    None => {
                        warnings.push(format!("curl: unknown --write-out variable: '{name}'\n"))
                    }
                }
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix('\\') {
            let mut chars = after.chars();
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
            rest = chars.as_str();
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_escapes_expand() {
        let r = Report {
            http_code: 200,
            size_download: 3000,
            url_effective: "http://x/a".into(),
            time_total: 1.5,
            filename_effective: Some("a".into()),
            ..Report::default()
        };
        let (s, w) = expand(
            "%{http_code} %{size_download} %{url_effective} %{time_total} %{filename_effective}\\n%{nope}%%",
            &r,
        );
        assert_eq!(s, "200 3000 http://x/a 1.500000 a\n%");
        assert_eq!(w, vec!["curl: unknown --write-out variable: 'nope'\n"]);
    }
}
