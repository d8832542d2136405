//! URLs as the tools see them: `scheme://host[:port]/path?query`.

/// A parsed `scheme://host[:port]/path?query` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// Lower-case scheme (`http`, `https`).
    pub scheme: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (the scheme's default when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses an absolute URL; `None` when it has no `scheme://host`.
    pub fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (hostport, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
        let default_port = match scheme.as_str() {
            "https" => 443,
            "ftp" => 21,
            _ => 80,
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, p) = h.split_once(']')?;
            (
                h.to_string(),
                p.strip_prefix(':').and_then(|p| p.parse().ok()),
            )
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            path,
        })
    }

    /// Whether the host is a literal IP address.
    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }

    /// The last path component, query included (`128713?type=Model`), as wget names files.
    pub fn file_name(&self) -> String {
        let (path, query) = match self.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.path.as_str(), None),
        };
        let last = path.rsplit('/').next().unwrap_or("");
        let base = if last.is_empty() { "index.html" } else { last };
        match query {
            Some(q) => format!("{base}?{q}"),
            None => base.to_string(),
        }
    }

    /// The path without its query.
    pub(crate) fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("/")
    }
}
