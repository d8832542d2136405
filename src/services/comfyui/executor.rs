//! The prompt worker: takes queued prompts one at a time and runs them
//! node by node in ComfyUI's order, sending the websocket messages ComfyUI
//! sends (`execution_start`, `execution_cached`, `executing`, `progress`,
//! `executed`, `execution_success` / `execution_interrupted`), waiting out
//! sampler steps on the instance's clock, writing the images, and putting
//! the result in the history.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::faults::{self, Point};
use super::nodes::{self, Work};
use super::queue::Task;
use super::{image, timestamp, ComfyUi};
use crate::faults::Fault;

/// Runs until the ComfyUI is gone.
pub(super) async fn run(comfy: Weak<ComfyUi>) {
    loop {
        let Some(c) = comfy.upgrade() else { return };
        let task = c.queue().take();
        match task {
            Some(task) => {
                c.status();
                execute(&c, task).await;
                c.status();
            }
            // Idle: wait for work, but look again now and then so the
            // worker ends soon after its instance does.
            None => {
                let _ = tokio::time::timeout(Duration::from_secs(1), c.wake.notified()).await;
            }
        }
    }
}

/// How a run ended.
enum End {
    Success,
    Interrupted { node: String },
    Failed { node: String, message: String },
}

async fn execute(c: &Arc<ComfyUi>, task: Task) {
    c.interrupt.store(false, Ordering::Relaxed);
    let client = task.client_id();
    let client = client.as_deref();
    let id = task.id.clone();
    let mut messages: Vec<Value> = Vec::new();
    let note = |kind: &str, data: Value, messages: &mut Vec<Value>| {
        let mut data = data;
        data["timestamp"] = json!(timestamp());
        messages.push(json!([kind, data.clone()]));
        c.send(client, kind, data);
    };
    note("execution_start", json!({"prompt_id": id}), &mut messages);
    let order = order(&task.prompt, &task.outputs);
    let sigs = signatures(&task.prompt, &order);
    let cached: Vec<String> = {
        let q = c.queue();
        order
            .iter()
            .filter(|n| {
                q.cache
                    .get(*n)
                    .is_some_and(|(s, _)| Some(s) == sigs.get(*n))
            })
            .cloned()
            .collect()
    };
    note(
        "execution_cached",
        json!({"nodes": cached, "prompt_id": id}),
        &mut messages,
    );
    let mut outputs = Map::new();
    let mut executed = Vec::new();
    let mut end = End::Success;
    for node_id in &order {
        let node = &task.prompt[node_id];
        let Some(def) = node["class_type"].as_str().and_then(nodes::find) else {
            continue;
        };
        let sig = sigs.get(node_id).copied().unwrap_or(0);
        if cached.contains(node_id) {
            if let Some((_, Some(ui))) = c.queue().cache.get(node_id) {
                outputs.insert(node_id.clone(), ui.clone());
            }
            continue;
        }
        c.send(
            client,
            "executing",
            json!({"node": node_id, "display_node": node_id, "prompt_id": id}),
        );
        let mut slow = 1.0;
        let mut failure = None;
        for f in faults::decide(c, Point::Node, def.name) {
            match f {
                Fault::ComfyuiSlow { factor } => slow = factor,
                Fault::ComfyuiError { message } => {
                    failure = Some(message.unwrap_or_else(|| faults::OOM.into()))
                }
                Fault::ComfyuiHang => {
                    hang(c).await;
                    end = End::Interrupted {
                        node: node_id.clone(),
                    };
                }
                _ => {}
            }
        }
        if matches!(end, End::Interrupted { .. }) {
            break;
        }
        if let Some(message) = failure {
            end = End::Failed {
                node: node_id.clone(),
                message,
            };
            break;
        }
        let ui = match def.work {
            Work::Quick => None,
            Work::Sampler => {
                let steps = int_input(node, "steps", 20).clamp(1, 10_000) as u32;
                let denoise = node["inputs"]["denoise"]
                    .as_f64()
                    .unwrap_or(1.0)
                    .clamp(0.0, 1.0);
                let steps = ((steps as f64 * denoise).round() as u32).max(1);
                if !sample(c, client, &id, node_id, steps, slow).await {
                    end = End::Interrupted {
                        node: node_id.clone(),
                    };
                    break;
                }
                None
            }
            Work::Save | Work::Preview => {
                Some(save(c, &task, node_id, def.work == Work::Save).await)
            }
        };
        if let Some(ui) = &ui {
            outputs.insert(node_id.clone(), ui.clone());
            c.send(
                client,
                "executed",
                json!({"node": node_id, "display_node": node_id, "output": ui, "prompt_id": id}),
            );
        }
        c.queue().cache.insert(node_id.clone(), (sig, ui));
        executed.push(node_id.clone());
    }
    let (status_str, completed) = match &end {
        End::Success => {
            note("execution_success", json!({"prompt_id": id}), &mut messages);
            ("success", true)
        }
        End::Interrupted { node } => {
            let class = task.prompt[node]["class_type"].clone();
            note(
                "execution_interrupted",
                json!({"prompt_id": id, "node_id": node, "node_type": class, "executed": executed}),
                &mut messages,
            );
            ("error", false)
        }
        End::Failed { node, message } => {
            let class = task.prompt[node]["class_type"]
                .as_str()
                .unwrap_or("")
                .to_string();
            note(
                "execution_error",
                json!({
                    "prompt_id": id,
                    "node_id": node,
                    "node_type": class,
                    "executed": executed,
                    "exception_message": message,
                    "exception_type": faults::exception_type(message),
                    "traceback": faults::traceback(&class, message),
                    "current_inputs": task.prompt[node]["inputs"],
                    "current_outputs": {},
                }),
                &mut messages,
            );
            ("error", false)
        }
    };
    let meta: Map<String, Value> = outputs
        .keys()
        .map(|k| {
            (
                k.clone(),
                json!({"node_id": k, "display_node": k, "parent_node": null, "real_node_id": k}),
            )
        })
        .collect();
    let entry = json!({
        "prompt": task.json(),
        "outputs": outputs,
        "status": {"status_str": status_str, "completed": completed, "messages": messages},
        "meta": meta,
    });
    c.queue().done(entry);
    c.send(client, "executing", json!({"node": null, "prompt_id": id}));
}

/// Seconds one sampler step takes at time `scale`, `slow` times slower
/// than `it_per_s` (0 at scale 0: nothing waits).
pub(super) fn step_secs(scale: f64, slow: f64, it_per_s: f64) -> f64 {
    if scale > 0.0 && scale.is_finite() && it_per_s > 0.0 {
        scale * slow / it_per_s
    } else {
        0.0
    }
}

/// A hung node: waits until `/interrupt` (or the instance is gone).
async fn hang(c: &ComfyUi) {
    loop {
        if c.interrupt.swap(false, Ordering::Relaxed) || c.instance.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Steps a sampler (`slow` times slower); `false` when interrupted.
async fn sample(
    c: &ComfyUi,
    client: Option<&str>,
    id: &str,
    node: &str,
    steps: u32,
    slow: f64,
) -> bool {
    let scale = c.instance.upgrade().map_or(0.0, |i| i.config.time_scale);
    let per_step = step_secs(scale, slow, c.it_per_s);
    for step in 1..=steps {
        if per_step > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(per_step.min(60.0))).await;
        } else if step % 64 == 0 {
            // At time scale 0 a long run still lets others in.
            tokio::task::yield_now().await;
        }
        if c.interrupt.swap(false, Ordering::Relaxed) {
            return false;
        }
        c.send(
            client,
            "progress",
            json!({"value": step, "max": steps, "prompt_id": id, "node": node}),
        );
    }
    true
}

/// Writes a save or preview node's images; its UI output.
async fn save(c: &ComfyUi, task: &Task, node_id: &str, keep: bool) -> Value {
    let Some(instance) = c.instance.upgrade() else {
        return json!({"images": []});
    };
    let (width, height, batch) = latent_size(&task.prompt, node_id);
    let (dir_type, prefix) = if keep {
        let p = task.prompt[node_id]["inputs"]["filename_prefix"]
            .as_str()
            .unwrap_or("ComfyUI");
        ("output", sanitize(p))
    } else {
        let letters: String = c
            .uuid()
            .simple()
            .to_string()
            .chars()
            .filter(|ch| ch.is_ascii_lowercase())
            .take(5)
            .collect();
        ("temp", format!("ComfyUI_temp_{letters}"))
    };
    let (subfolder, stem) = match prefix.rsplit_once('/') {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => (String::new(), prefix.clone()),
    };
    let seed = seed_of(&task.prompt) ^ instance.config.seed;
    let prompt_text = Value::Object(task.prompt.clone()).to_string();
    let ui_home = instance.config.ui_home.clone();
    let images = tokio::task::spawn_blocking(move || {
        let fs = instance.sandbox.fs("/");
        let dir = if subfolder.is_empty() {
            format!("{ui_home}/{dir_type}")
        } else {
            format!("{ui_home}/{dir_type}/{subfolder}")
        };
        let _ = fs.create_dir_all(&dir);
        let first = next_counter(&fs, &dir, &stem);
        let mut images = Vec::new();
        for (counter, i) in (first..).zip(0..batch) {
            let name = format!("{stem}_{counter:05}_.png");
            let bytes = image::png(width, height, seed.wrapping_add(u64::from(i)), &prompt_text);
            if fs.write(&format!("{dir}/{name}"), &bytes).is_ok() {
                images.push(json!({"filename": name, "subfolder": subfolder, "type": dir_type}));
            }
        }
        images
    })
    .await
    .unwrap_or_default();
    json!({"images": images})
}

/// The counter after the highest `STEM_NNNNN_.png` in `dir`.
fn next_counter(fs: &crate::instance::sandbox::Fs<'_>, dir: &str, stem: &str) -> u32 {
    let prefix = format!("{stem}_");
    fs.read_dir(dir)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let name = e.name_lossy();
                    let digits = name
                        .strip_prefix(&prefix)?
                        .strip_suffix("_.png")?
                        .to_string();
                    digits.parse::<u32>().ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
        .saturating_add(1)
}

/// A filename prefix with no way out of its folder.
fn sanitize(prefix: &str) -> String {
    let parts: Vec<&str> = prefix
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    if parts.is_empty() {
        "ComfyUI".into()
    } else {
        parts.join("/")
    }
}

/// Width, height and batch of the latent upstream of `node` (512x512x1
/// when there is none), bounded.
fn latent_size(prompt: &Map<String, Value>, node: &str) -> (u32, u32, u32) {
    let mut stack = vec![node.to_string()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) || seen.len() > 10_000 {
            continue;
        }
        let n = &prompt[&id];
        if n["class_type"] == "EmptyLatentImage" {
            let w = int_input(n, "width", 512).clamp(16, 2048) as u32;
            let h = int_input(n, "height", 512).clamp(16, 2048) as u32;
            let b = int_input(n, "batch_size", 1).clamp(1, 16) as u32;
            return (w, h, b);
        }
        if let Some(inputs) = n["inputs"].as_object() {
            for v in inputs.values() {
                if let Some(up) = link_target(v) {
                    stack.push(up);
                }
            }
        }
    }
    (512, 512, 1)
}

/// The first sampler seed in the prompt (0 when none).
fn seed_of(prompt: &Map<String, Value>) -> u64 {
    prompt
        .values()
        .find_map(|n| n["inputs"]["seed"].as_u64())
        .unwrap_or(0)
}

fn int_input(node: &Value, name: &str, default: i64) -> i64 {
    let v = &node["inputs"][name];
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .unwrap_or(default)
}

/// The node a `[id, slot]` link points at.
fn link_target(v: &Value) -> Option<String> {
    let a = v.as_array().filter(|a| a.len() == 2)?;
    a[0].as_str()
        .map(str::to_string)
        .or_else(|| a[0].as_i64().map(|i| i.to_string()))
}

/// Every node the outputs need, dependencies first, each once.
fn order(prompt: &Map<String, Value>, outputs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for o in outputs {
        // Iterative post-order: (node, its inputs pushed yet).
        let mut stack = vec![(o.clone(), false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                if !out.contains(&id) {
                    out.push(id);
                }
                continue;
            }
            if !seen.insert(id.clone()) || !prompt.contains_key(&id) {
                continue;
            }
            stack.push((id.clone(), true));
            if let Some(inputs) = prompt[&id]["inputs"].as_object() {
                for v in inputs.values().rev() {
                    if let Some(up) = link_target(v) {
                        stack.push((up, false));
                    }
                }
            }
        }
    }
    out
}

/// Each node's signature: its class and widget values, and its inputs'
/// signatures (a node whose signature is unchanged is cached).
fn signatures(
    prompt: &Map<String, Value>,
    order: &[String],
) -> std::collections::BTreeMap<String, u64> {
    let mut sigs = std::collections::BTreeMap::new();
    for id in order {
        let node = &prompt[id];
        let mut h = DefaultHasher::new();
        node["class_type"].to_string().hash(&mut h);
        if let Some(inputs) = node["inputs"].as_object() {
            for (k, v) in inputs {
                k.hash(&mut h);
                match link_target(v) {
                    Some(up) => {
                        sigs.get(&up).copied().unwrap_or(0u64).hash(&mut h);
                        v[1].to_string().hash(&mut h);
                    }
                    None => v.to_string().hash(&mut h),
                }
            }
        }
        sigs.insert(id.clone(), h.finish());
    }
    sigs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_run_first_and_prefixes_stay_in_their_folder() {
        let prompt: Map<String, Value> = serde_json::from_str(
            r#"{"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
                "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
                "3": {"class_type": "KSampler", "inputs": {"model": ["4", 0], "latent_image": ["5", 0]}},
                "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}},
                "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 640, "height": 384, "batch_size": 2}}}"#,
        )
        .unwrap();
        let o = order(&prompt, &["9".into()]);
        assert_eq!(o.last().map(String::as_str), Some("9"));
        let pos = |id: &str| o.iter().position(|x| x == id).unwrap();
        assert!(pos("4") < pos("3") && pos("5") < pos("3") && pos("3") < pos("8"));
        assert_eq!(latent_size(&prompt, "9"), (640, 384, 2));
        assert_eq!(sanitize("../../etc/x"), "etc/x");
        assert_eq!(sanitize("/"), "ComfyUI");
        let a = signatures(&prompt, &o);
        let mut changed = prompt.clone();
        changed["5"]["inputs"]["width"] = json!(512);
        let b = signatures(&changed, &o);
        assert_eq!(a["4"], b["4"], "an unchanged loader is cached");
        assert_ne!(a["9"], b["9"], "a change upstream reruns what follows");
    }
}
