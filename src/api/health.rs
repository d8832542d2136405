//! `fakessh health --url URL`: a plain HTTP/1.1 GET over TCP, for container
//! healthchecks in images without curl.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Why a health probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The URL is not `http://HOST[:PORT][/PATH]`.
    #[error("health URL {0:?}: expected http://HOST[:PORT][/PATH]")]
    Url(String),
    /// Connecting, writing or reading failed.
    #[error("health probe {url}: {source}")]
    Io {
        /// The URL probed.
        url: String,
        /// Why.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("health probe {0}: no answer in time")]
    Timeout(String),
    /// The answer is not HTTP.
    #[error("health probe {url}: not an HTTP response: {line:?}")]
    NotHttp {
        /// The URL probed.
        url: String,
        /// The first line received.
        line: String,
    },
}

/// Splits `http://host:port/path` into (host, port, path).
fn split_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (authority.to_string(), 80),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((host, port, path.to_string()))
}

/// GETs `url` and returns the status code and the body.
pub async fn probe(url: &str, timeout: Duration) -> Result<(u16, String), ProbeError> {
    let (host, port, path) = split_url(url).ok_or_else(|| ProbeError::Url(url.to_string()))?;
    let io = |source| ProbeError::Io {
        url: url.to_string(),
        source,
    };
    let work = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(io)?;
        let host_header = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: fakessh-health\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        Ok::<_, ProbeError>(raw)
    };
    let raw = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ProbeError::Timeout(url.to_string()))??;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let line = head.lines().next().unwrap_or("");
    let code = line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| ProbeError::NotHttp {
            url: url.to_string(),
            line: line.to_string(),
        })?;
    Ok((code, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/__admin/health"),
            Some(("127.0.0.1".into(), 8080, "/__admin/health".into()))
        );
        assert_eq!(
            split_url("http://api"),
            Some(("api".into(), 80, "/".into()))
        );
        assert_eq!(
            split_url("http://[::1]:9/x"),
            Some(("::1".into(), 9, "/x".into()))
        );
        assert_eq!(split_url("https://x/"), None);
        assert_eq!(split_url("http://:80/"), None);
        assert_eq!(split_url("http://h:notaport/"), None);
    }
}
