//! `fakessh bench --comfyui`: the instance's ComfyUI through `ssh -L`.
//! A `fakessh serve` child at time scale 0; over one direct-tcpip tunnel,
//! prompts queued and run to their history one after another (each with
//! its own seed, so nothing is cached); then 100 tunnels held open at once
//! and the server's RSS before and while they are.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use russh::keys::PrivateKey;
use russh::ChannelMsg;
use serde_json::{json, Value};

use super::{login, rss_kib, start_fakessh, AnyHost, BenchArgs};

/// Tunnels held at once for the memory row.
const TUNNELS: usize = 100;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// An HTTP/1.1 client over a new tunnel to `localhost:8188`.
async fn tunnel(handle: &russh::client::Handle<AnyHost>, n: u32) -> anyhow::Result<Sender> {
    let channel = handle
        .channel_open_direct_tcpip("localhost", 8188, "127.0.0.1", 40000 + n)
        .await
        .context("the tunnel opens")?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(channel.into_stream())).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn call(
    s: &mut Sender,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost:8188")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            body.map(Value::to_string).unwrap_or_default(),
        )))?;
    s.ready().await?;
    let resp = s.send_request(req).await?;
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Runs `exec` on the server and waits for its end.
async fn exec(handle: &russh::client::Handle<AnyHost>, command: &str) -> anyhow::Result<()> {
    let mut channel = handle.channel_open_session().await?;
    channel.exec(true, command).await?;
    while let Some(msg) = channel.wait().await {
        if let ChannelMsg::Close = msg {
            break;
        }
    }
    Ok(())
}

fn workflow(seed: u64) -> Value {
    json!({"prompt": {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["4", 0], "seed": seed, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0], "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "bench", "images": ["8", 0]}}
    }})
}

/// Runs the benchmark and prints its table.
pub(super) async fn run(args: &BenchArgs, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let server = start_fakessh(&["--time-scale".into(), "0".into()])?;
    let handle = login(server.addr, key).await?;
    exec(
        &handle,
        "mkdir -p $UI_HOME/models/checkpoints && touch $UI_HOME/models/checkpoints/m.safetensors",
    )
    .await?;
    let mut s = tunnel(&handle, 0).await?;
    let prompts = args.cycles.max(10);
    let started = Instant::now();
    for i in 0..prompts {
        let queued = call(&mut s, "POST", "/prompt", Some(&workflow(i as u64))).await?;
        let Some(id) = queued["prompt_id"].as_str().map(str::to_string) else {
            bail!("the prompt was refused: {queued}");
        };
        loop {
            let h = call(&mut s, "GET", &format!("/history/{id}"), None).await?;
            if h.get(&id).is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    let per_s = prompts as f64 / started.elapsed().as_secs_f64();
    let pid = server.child.id();
    let idle = rss_kib(pid);
    let mut held = Vec::new();
    for n in 0..TUNNELS {
        let mut t = tunnel(&handle, n as u32 + 1).await?;
        call(&mut t, "GET", "/queue", None).await?;
        held.push(t);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = rss_kib(pid);
    drop(held);
    println!("fakessh bench --comfyui: ComfyUI over ssh -L, time scale 0");
    println!("{:<44} {:>12}", "row", "value");
    println!(
        "{:<44} {:>12.1}",
        format!("prompts/s over one tunnel ({prompts}, 20 steps)"),
        per_s
    );
    println!(
        "{:<44} {:>12.1}",
        "server RSS MiB, one tunnel",
        idle as f64 / 1024.0
    );
    println!(
        "{:<44} {:>12.1}",
        format!("server RSS MiB, {TUNNELS} more tunnels held"),
        busy as f64 / 1024.0
    );
    println!(
        "{:<44} {:>12.1}",
        "KiB per held tunnel",
        busy.saturating_sub(idle) as f64 / TUNNELS as f64
    );
    Ok(())
}
