//! The instance's own network services (its portal on 8080; ComfyUI to
//! come), each an HTTP router on a port of the instance's loopback. They
//! never bind a host port: the shell's `curl` calls a router in-process, and
//! an SSH `direct-tcpip` channel (`ssh -L`) is served by the same router
//! over the channel's byte stream. The routers are built by the layer above
//! ([`crate::services`]) and registered here, where every layer can reach
//! them through the instance.

use std::collections::BTreeMap;
use std::sync::RwLock;

use axum::Router;

/// The routers listening on the instance's loopback ports.
#[derive(Default)]
pub struct Services {
    by_port: RwLock<BTreeMap<u16, Service>>,
}

/// One service: its name (for the portal and the journal) and its router.
#[derive(Clone)]
pub struct Service {
    /// What it is (`portal`, `comfyui`).
    pub name: &'static str,
    /// Its HTTP routes.
    pub router: Router,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.ports()).finish()
    }
}

impl Services {
    /// Listens on `port` with `service` (replacing what was there).
    pub fn listen(&self, port: u16, service: Service) {
        self.by_port
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(port, service);
    }

    /// Stops listening on `port`.
    pub fn close(&self, port: u16) {
        self.by_port
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&port);
    }

    /// The service on `port` of a loopback `host`, if one listens there.
    pub fn at(&self, host: &str, port: u16) -> Option<Service> {
        if !is_loopback(host) {
            return None;
        }
        self.by_port
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&port)
            .cloned()
    }

    /// The ports with a service, and each one's name.
    pub fn ports(&self) -> Vec<(u16, &'static str)> {
        self.by_port
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(p, s)| (*p, s.name))
            .collect()
    }
}

/// How the instance's ComfyUI runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ComfyUiConfig {
    /// The loopback ports it listens on; empty turns it off.
    pub ports: Vec<u16>,
    /// Sampler iterations per second; `None` picks the GPU's typical rate.
    pub it_per_s: Option<f64>,
}

impl Default for ComfyUiConfig {
    fn default() -> Self {
        ComfyUiConfig {
            ports: vec![18188, 8188],
            it_per_s: None,
        }
    }
}

/// Whether `host` names the instance itself as its loopback does.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host == "0.0.0.0"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_answer_on_loopback_names_only() {
        let s = Services::default();
        s.listen(
            8080,
            Service {
                name: "portal",
                router: Router::new(),
            },
        );
        for host in [
            "localhost",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(s.at(host, 8080).is_some(), "{host}");
        }
        for host in ["10.0.0.1", "civitai.com", "localhost.evil"] {
            assert!(s.at(host, 8080).is_none(), "{host}");
        }
        assert!(s.at("localhost", 8188).is_none());
        assert_eq!(s.ports(), vec![(8080, "portal")]);
        s.close(8080);
        assert!(s.ports().is_empty());
    }
}
