//! Connection strings as the original app takes them:
//! `ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080`, plus `-i KEY`,
//! `-o K=V`, `-l USER`, bracketed IPv6 (`root@[2001:db8::1]`), host names and
//! `ssh://user@host:port`.
//!
//! Instance ids follow the original: the IPv4 address with dots as
//! underscores (`109_231_106_68`). The original accepted IPv4 only; here
//! IPv6 uses its compressed lowercase form with `:` as `_`
//! (`2001:db8::1` gives `2001_db8__1`), and a host name is lowercased with
//! every character outside `[a-z0-9_-]` as `_` (`gpu-1.example.com` gives
//! `gpu-1_example_com`). The port is not part of the id, as in the original.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use super::{Error, Result};

/// Where to connect.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (written bracketed or bare).
    V6(Ipv6Addr),
    /// A host name, as given.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// A parsed `ssh ...` connection string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    /// The login user (`root` when the string names none).
    pub user: String,
    /// The host.
    pub host: Host,
    /// The port (22 when the string names none).
    pub port: u16,
    /// `-i KEY`, when given.
    pub identity: Option<PathBuf>,
    /// `-o Key=Value` options, in order (keys as written).
    pub options: Vec<(String, String)>,
    /// `-L` local forwards, as written.
    pub local_forwards: Vec<String>,
}

/// ssh's flags that take no argument.
const FLAGS: &str = "46AaCfGgKkMNnqsTtVvXxYy";
/// ssh's options that take one.
const WITH_ARG: &str = "BbcDEeFIiJLlmOopQRSWw";

/// Splits like a shell: whitespace separates, single and double quotes group,
/// a backslash escapes (outside single quotes).
fn shell_words(input: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => cur.extend(chars.next()),
                        Some(c) => cur.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn parse_port(s: &str) -> std::result::Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("bad port {s:?}")),
    }
}

fn parse_host(s: &str) -> std::result::Result<Host, String> {
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner
            .parse()
            .map(Host::V6)
            .map_err(|_| format!("bad IPv6 address {inner:?}"));
    }
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Ok(Host::V4(a));
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Ok(Host::V6(a));
    }
    let valid = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && !s.starts_with(['-', '.']);
    if valid {
        Ok(Host::Name(s.to_string()))
    } else {
        Err(format!("bad host {s:?}"))
    }
}

impl SshTarget {
    /// Parses `ssh [options] [user@]host [options]`.
    pub fn parse(input: &str) -> Result<SshTarget> {
        Self::parse_inner(input).map_err(|reason| Error::Connection {
            input: input.to_string(),
            reason,
        })
    }

    fn parse_inner(input: &str) -> std::result::Result<SshTarget, String> {
        let words = shell_words(input)?;
        let mut args = words.iter().map(String::as_str);
        match args.next() {
            Some(w) if w == "ssh" || w.ends_with("/ssh") => {}
            Some(w) => return Err(format!("expected `ssh`, found {w:?}")),
            None => return Err("empty".into()),
        }
        let (mut user, mut port, mut identity) = (None, None, None);
        let (mut options, mut local_forwards) = (Vec::new(), Vec::new());
        let mut destination: Option<&str> = None;
        while let Some(arg) = args.next() {
            let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
                if destination.is_some() {
                    return Err(format!("unexpected argument {arg:?} (a remote command?)"));
                }
                destination = Some(arg);
                continue;
            };
            // -4v, -p22, -p 22, -oKey=V
            for (i, c) in flags.char_indices() {
                if FLAGS.contains(c) {
                    continue;
                }
                if !WITH_ARG.contains(c) {
                    return Err(format!("unknown option -{c}"));
                }
                let rest = &flags[i + c.len_utf8()..];
                let value = if rest.is_empty() {
                    args.next().ok_or(format!("option -{c} needs a value"))?
                } else {
                    rest
                };
                match c {
                    'p' => port = Some(parse_port(value)?),
                    'l' => user = Some(value.to_string()),
                    'i' => identity = Some(PathBuf::from(value)),
                    'L' => local_forwards.push(value.to_string()),
                    'o' => {
                        let (k, v) = value
                            .split_once('=')
                            .or_else(|| value.split_once(' '))
                            .ok_or(format!("option -o {value:?}: expected Key=Value"))?;
                        let (k, v) = (k.trim(), v.trim());
                        match k.to_ascii_lowercase().as_str() {
                            "port" => port = Some(parse_port(v)?),
                            "user" => user = Some(v.to_string()),
                            "identityfile" => identity = Some(PathBuf::from(v)),
                            _ => {}
                        }
                        options.push((k.to_string(), v.to_string()));
                    }
                    _ => {}
                }
                break;
            }
        }
        let dest = destination.ok_or("no destination (user@host)")?;
        let (dest, url_port) = match dest.strip_prefix("ssh://") {
            Some(rest) => {
                let rest = rest.trim_end_matches('/');
                // [v6]:port, host:port
                match rest.rsplit_once(':') {
                    Some((h, p)) if !h.ends_with(':') && (h.ends_with(']') || !h.contains(':')) => {
                        (h, Some(parse_port(p)?))
                    }
                    _ => (rest, None),
                }
            }
            None => (dest, None),
        };
        let (dest_user, host) = match dest.rsplit_once('@') {
            Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
            Some(_) => return Err("empty user before @".into()),
            None => (None, dest),
        };
        Ok(SshTarget {
            // the destination's user wins over -l, as in OpenSSH
            user: dest_user.or(user).unwrap_or_else(|| "root".to_string()),
            host: parse_host(host)?,
            port: url_port.or(port).unwrap_or(22),
            identity,
            options,
            local_forwards,
        })
    }

    /// The instance id the original app derives (see the module docs).
    pub fn instance_id(&self) -> String {
        match &self.host {
            Host::V4(a) => a.to_string().replace('.', "_"),
            Host::V6(a) => a.to_string().replace([':', '.'], "_"),
            Host::Name(n) => n
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect(),
        }
    }

    /// `host:port` for a socket connect (`[v6]:port` for IPv6).
    pub fn address(&self) -> String {
        match &self.host {
            Host::V6(a) => format!("[{a}]:{}", self.port),
            h => format!("{h}:{}", self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_originals_connection_string() {
        let t =
            SshTarget::parse("ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080").unwrap();
        assert_eq!(t.user, "root");
        assert_eq!(t.host, Host::V4(Ipv4Addr::new(109, 231, 106, 68)));
        assert_eq!(t.port, 44686);
        assert_eq!(t.local_forwards, ["8080:localhost:8080"]);
        assert_eq!(t.instance_id(), "109_231_106_68");
        assert_eq!(t.address(), "109.231.106.68:44686");
    }

    #[test]
    fn parses_keys_options_ipv6_and_names() {
        let t = SshTarget::parse(
            "ssh -i '/home/me/my key' -o StrictHostKeyChecking=yes -oConnectTimeout=10 -p2222 ubuntu@[2001:DB8::1]",
        )
        .unwrap();
        assert_eq!(t.identity, Some(PathBuf::from("/home/me/my key")));
        assert_eq!(t.options[0], ("StrictHostKeyChecking".into(), "yes".into()));
        assert_eq!(t.options[1], ("ConnectTimeout".into(), "10".into()));
        assert_eq!((t.user.as_str(), t.port), ("ubuntu", 2222));
        assert_eq!(t.instance_id(), "2001_db8__1");
        assert_eq!(t.address(), "[2001:db8::1]:2222");

        let t = SshTarget::parse("ssh -4 -o Port=2200 -l admin GPU-1.Example.com").unwrap();
        assert_eq!(t.host, Host::Name("GPU-1.Example.com".into()));
        assert_eq!((t.user.as_str(), t.port), ("admin", 2200));
        assert_eq!(t.instance_id(), "gpu-1_example_com");

        let t = SshTarget::parse("ssh ssh://root@[::1]:2022").unwrap();
        assert_eq!(
            (t.address(), t.instance_id()),
            ("[::1]:2022".to_string(), "__1".to_string())
        );
        let t = SshTarget::parse("ssh root@::1").unwrap();
        assert_eq!(t.host, Host::V6(Ipv6Addr::LOCALHOST));
        let t = SshTarget::parse("ssh 10.0.0.1").unwrap();
        assert_eq!((t.user.as_str(), t.port), ("root", 22));
    }

    #[test]
    fn bad_strings_are_errors_that_say_why() {
        for (input, why) in [
            ("", "empty"),
            ("scp root@1.2.3.4", "expected `ssh`"),
            ("ssh -p", "needs a value"),
            ("ssh -p 0 root@1.2.3.4", "bad port"),
            ("ssh -p 70000 root@1.2.3.4", "bad port"),
            ("ssh -Z root@1.2.3.4", "unknown option -Z"),
            ("ssh root@1.2.3.4 ls", "unexpected argument"),
            ("ssh -p 22", "no destination"),
            ("ssh root@[zz::1]", "bad IPv6"),
            ("ssh root@bad/host", "bad host"),
            ("ssh 'root@1.2.3.4", "unterminated"),
        ] {
            let err = SshTarget::parse(input).unwrap_err().to_string();
            assert!(err.contains(why), "{input:?}: {err}");
        }
    }
}
