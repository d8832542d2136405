//! The instance's ComfyUI from the shell, as the original app drives it
//! over SSH with the real OpenSSH client: `curl -s` to
//! `localhost:18188/queue`, `/prompt`, `/history/ID`; a workflow naming a
//! LoRA is refused before `civitdl` downloads it and runs after, leaving
//! its PNG in `$UI_HOME/output`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::TestInstance;

fn workflow(lora: &str) -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": lora, "strength_model": 0.8, "strength_clip": 0.8}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["10", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["10", 0], "seed": 1, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0], "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    })
}

/// `curl -s` of a ComfyUI path over SSH; its stdout as JSON.
async fn curl_json(gpu: &TestInstance, args: &str) -> Value {
    let ran = gpu.ssh(&format!("curl -s {args}")).await;
    assert_eq!(ran.status, 0, "curl -s {args}: {}", ran.stderr);
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", ran.stdout))
}

#[tokio::test]
async fn the_original_apps_curl_commands_queue_a_workflow_that_needs_a_fresh_download() {
    // civitai's model 123456 is the Detail Tweaker LoRA.
    let mut catalog = fakessh::net::Catalog::default();
    catalog.models.insert(
        "123456".into(),
        fakessh::net::catalog::ModelEntry {
            name: Some("Detail Tweaker LoRA".into()),
            version_id: Some(124456),
            stem: Some("add_detail".into()),
            ext: Some(".safetensors".into()),
            size: Some(3_000_000),
            ..Default::default()
        },
    );
    let config = fakessh::instance::InstanceConfig {
        time_scale: 0.0,
        tools: fakessh::net::ToolConfig {
            catalog: std::sync::Arc::new(catalog),
            ..Default::default()
        },
        ..Default::default()
    };
    let gpu = TestInstance::start_with(config, Default::default()).await;
    let ckpt =
        gpu.host_path("/workspace/ComfyUI/models/checkpoints/v1-5-pruned-emaonly.safetensors");
    std::fs::create_dir_all(ckpt.parent().unwrap()).unwrap();
    std::fs::File::create(&ckpt).unwrap().set_len(1000).unwrap();
    let queue = curl_json(&gpu, "http://localhost:18188/queue").await;
    assert_eq!(queue, json!({"queue_running": [], "queue_pending": []}));

    // The LoRA the workflow names is not there yet: ComfyUI refuses it.
    let lora = "Detail Tweaker LoRA/add_detail-mid_123456-vid_124456.safetensors";
    let body = json!({"prompt": workflow(lora)}).to_string();
    let put = gpu
        .ssh_with(&[], "cat > /tmp/prompt.json", body.as_bytes())
        .await;
    assert_eq!(put.status, 0);
    let post = "-X POST http://localhost:18188/prompt -H 'Content-Type: application/json' -d @/tmp/prompt.json";
    let refused = curl_json(&gpu, post).await;
    assert_eq!(refused["error"]["type"], "prompt_outputs_failed_validation");
    assert_eq!(
        refused["node_errors"]["10"]["errors"][0]["type"],
        "value_not_in_list"
    );
    let failed = gpu
        .ssh(&format!(
            "curl -s -f -o /dev/null -w '%{{http_code}}' {post}"
        ))
        .await;
    assert_eq!((failed.status, failed.stdout.as_str()), (22, "400"));

    // civitdl puts it in place; the same command now queues the prompt.
    let dl = gpu.ssh("civitdl 123456 $UI_HOME/models/loras").await;
    assert_eq!(dl.status, 0, "{}", dl.stderr);
    let info = curl_json(&gpu, "http://localhost:18188/object_info/LoraLoader").await;
    assert_eq!(
        info["LoraLoader"]["input"]["required"]["lora_name"][0],
        json!([lora])
    );
    let queued = curl_json(&gpu, post).await;
    let id = queued["prompt_id"]
        .as_str()
        .expect("a prompt id")
        .to_string();
    assert_eq!(queued["node_errors"], json!({}));

    // Poll as the original does, until the history has the outputs.
    let mut entry = Value::Null;
    for _ in 0..100 {
        let h = curl_json(&gpu, &format!("http://localhost:18188/history/{id}")).await;
        if let Some(e) = h.get(&id) {
            entry = e.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entry["status"]["status_str"], "success", "{entry}");
    let image = entry["outputs"]["9"]["images"][0]["filename"]
        .as_str()
        .unwrap()
        .to_string();
    let recent = curl_json(&gpu, "'http://localhost:18188/history?max_items=10'").await;
    assert!(recent.get(&id).is_some());
    let ls = gpu.ssh("ls $UI_HOME/output").await;
    assert_eq!(ls.stdout, format!("{image}\n"));
    let png = gpu
        .ssh(&format!(
            "curl -s -o /tmp/got.png 'http://localhost:18188/view?filename={image}&type=output' && wc -c < /tmp/got.png && wc -c < $UI_HOME/output/{image} && head -c 4 /tmp/got.png | tail -c 3"
        ))
        .await;
    let lines: Vec<&str> = png.stdout.lines().collect();
    assert_eq!(png.status, 0, "{}", png.stderr);
    assert_eq!(lines[0], lines[1], "served what is on disk");
    assert_eq!(lines[2], "PNG");
}

#[tokio::test]
async fn comfyui_off_or_down_refuses_as_a_closed_port_does() {
    let gpu = TestInstance::start().await;
    gpu.instance
        .faults
        .arm(fakessh::faults::parse_flag("comfyui:comfyui-down:times=1").unwrap())
        .unwrap();
    let ran = gpu.ssh("curl -sS http://localhost:18188/queue").await;
    assert_eq!(ran.status, 7);
    assert_eq!(
        ran.stderr,
        "curl: (7) Failed to connect to localhost port 18188 after 0 ms: Couldn't connect to server\n"
    );
    let ran = gpu.ssh("curl -s http://127.0.0.1:18188/queue").await;
    assert_eq!(ran.status, 0, "the rule fired once");
}
