//! The instance's own services, as routers registered on its loopback
//! ports ([`crate::instance::services`]): the portal page on 8080 that
//! lists them, and ComfyUI on 18188 and 8188 ([`comfyui`]). The server installs
//! them when it starts serving an instance; `ssh -L` tunnels and the
//! shell's `curl` reach them without a host port.

pub mod comfyui;
pub mod portal;

use std::sync::Arc;

use crate::instance::services::Service;
use crate::instance::Instance;

/// The portal's port, where rented instances serve their landing page.
pub const PORTAL_PORT: u16 = 8080;

/// Registers the instance's services on their ports. Must run inside a
/// tokio runtime (ComfyUI's worker is a task).
pub fn install(instance: &Arc<Instance>) {
    if !instance.config.comfyui.ports.is_empty() {
        let comfy = comfyui::ComfyUi::start(instance);
        for port in &instance.config.comfyui.ports {
            instance.services.listen(*port, comfy.service());
        }
    }
    instance.services.listen(
        PORTAL_PORT,
        Service {
            name: "portal",
            router: portal::router(instance.clone()),
        },
    );
}
