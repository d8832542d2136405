//! The instance's ComfyUI: the HTTP and WebSocket API of real ComfyUI
//! (`server.py`, `execution.py`), served on the instance's ports 18188 and
//! 8188 without a host port (the shell's `curl` and `ssh -L` tunnels reach
//! it). Its model lists are the sandbox's `$UI_HOME/models` folders, read
//! on every request; prompts are validated as ComfyUI validates them and
//! run node by node on the instance's clock (samplers step at the GPU's
//! rate), writing real PNGs to `$UI_HOME/output`.

mod executor;
mod faults;
mod folders;
mod image;
mod nodes;
mod queue;
mod routes;
mod validate;
mod ws;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, Weak};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::sync::{broadcast, Notify};

use crate::instance::services::Service;
use crate::instance::Instance;

/// The ports ComfyUI listens on unless configured otherwise: the original
/// app's 18188 (behind the instance's proxy) and ComfyUI's own 8188.
pub const DEFAULT_PORTS: [u16; 2] = [18188, 8188];

/// Sampler iterations per second for a GPU (SD 1.5 at 512x512), when the
/// instance does not set a rate.
pub fn default_it_per_s(gpu: &str) -> f64 {
    let rates = [
        ("H100", 20.0),
        ("A100", 14.0),
        ("4090", 16.0),
        ("L40", 13.0),
        ("3090", 10.0),
        ("A6000", 10.0),
        ("4080", 12.0),
        ("A10", 7.0),
        ("T4", 3.5),
    ];
    rates
        .iter()
        .find(|(name, _)| gpu.contains(name))
        .map_or(8.0, |(_, r)| *r)
}

/// One instance's ComfyUI: its queue, its history, its websocket clients.
pub(crate) struct ComfyUi {
    /// The machine it runs on (weak: the instance owns its services).
    instance: Weak<Instance>,
    queue: Mutex<queue::Queue>,
    /// Wakes the executor when a prompt is queued.
    wake: Notify,
    /// Set by `/interrupt`; the running prompt stops at its next step.
    interrupt: AtomicBool,
    /// Messages for websocket clients: (client id or everyone, message).
    events: broadcast::Sender<(Option<String>, Value)>,
    /// Prompt ids and temp names, from the instance's seed.
    rng: Mutex<ChaCha8Rng>,
    /// Sampler iterations per second.
    it_per_s: f64,
}

impl ComfyUi {
    /// A ComfyUI for `instance`, its executor started.
    pub(crate) fn start(instance: &Arc<Instance>) -> Arc<ComfyUi> {
        let gpu = instance
            .config
            .gpus
            .first()
            .map(|g| g.name.clone())
            .unwrap_or_default();
        let it_per_s = instance
            .config
            .comfyui
            .it_per_s
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or_else(|| default_it_per_s(&gpu));
        let comfy = Arc::new(ComfyUi {
            instance: Arc::downgrade(instance),
            queue: Mutex::new(queue::Queue::default()),
            wake: Notify::new(),
            interrupt: AtomicBool::new(false),
            events: broadcast::channel(1024).0,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(instance.config.seed ^ 0xc0f1)),
            it_per_s,
        });
        tokio::spawn(executor::run(Arc::downgrade(&comfy)));
        comfy
    }

    /// The service to register on a port.
    pub(crate) fn service(self: &Arc<Self>) -> Service {
        Service {
            name: "comfyui",
            router: routes::router(self.clone()),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, queue::Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A random (seeded) UUID v4.
    fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Sends `data` as a `kind` message to `client` (everyone when `None`).
    fn send(&self, client: Option<&str>, kind: &str, data: Value) {
        let _ = self.events.send((
            client.map(str::to_string),
            serde_json::json!({"type": kind, "data": data}),
        ));
    }

    /// The `status` message everyone gets when the queue changes.
    fn status(&self) {
        let remaining = self.queue().remaining();
        self.send(
            None,
            "status",
            serde_json::json!({"status": {"exec_info": {"queue_remaining": remaining}}}),
        );
    }
}

/// Milliseconds since the epoch, as ComfyUI stamps its messages.
fn timestamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
