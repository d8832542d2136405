//! The ComfyUI API in-process, through its router: shapes, validation
//! against the sandbox's model folders, a run to its history and PNG.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::instance::{Instance, InstanceConfig};

fn instance() -> Arc<Instance> {
    let inst = Instance::create(InstanceConfig {
        time_scale: 0.0,
        seed: 7,
        ..InstanceConfig::default()
    })
    .unwrap();
    crate::services::install(&inst);
    inst
}

async fn call(
    inst: &Arc<Instance>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let router = inst
        .services
        .at("127.0.0.1", 18188)
        .expect("comfyui listens")
        .router;
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn json_of(
    inst: &Arc<Instance>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, b) = call(inst, method, path, body).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn put(inst: &Arc<Instance>, path: &str, len: u64) {
    let fs = inst.sandbox.fs("/");
    fs.create_dir_all(path.rsplit_once('/').unwrap().0).unwrap();
    fs.write(path, b"").unwrap();
    fs.set_len(path, len).unwrap();
}

/// The original app's text-to-image workflow, naming `ckpt` and `lora`.
fn workflow(ckpt: &str, lora: &str) -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": lora, "strength_model": 0.8, "strength_clip": 0.8}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["10", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["10", 0], "seed": 42, "steps": 12, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0], "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    })
}

async fn finished(inst: &Arc<Instance>, id: &str) -> Value {
    for _ in 0..200 {
        let (_, h) = json_of(inst, "GET", &format!("/history/{id}"), None).await;
        if let Some(entry) = h.get(id) {
            return entry.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("prompt {id} never finished");
}

#[tokio::test]
async fn loader_options_are_the_files_on_disk_now() {
    let inst = instance();
    let (s, info) = json_of(&inst, "GET", "/object_info/LoraLoader", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        info["LoraLoader"]["input"]["required"]["lora_name"],
        json!([[]])
    );
    assert_eq!(info["LoraLoader"]["output"], json!(["MODEL", "CLIP"]));
    put(
        &inst,
        "/workspace/ComfyUI/models/loras/Detail Tweaker LoRA/add_detail.safetensors",
        1000,
    );
    put(&inst, "/workspace/ComfyUI/models/loras/notes.txt", 10);
    let (_, info) = json_of(&inst, "GET", "/api/object_info/LoraLoader", None).await;
    assert_eq!(
        info["LoraLoader"]["input"]["required"]["lora_name"],
        json!([["Detail Tweaker LoRA/add_detail.safetensors"]])
    );
    let (_, files) = json_of(&inst, "GET", "/models/loras", None).await;
    assert_eq!(files, json!(["Detail Tweaker LoRA/add_detail.safetensors"]));
    let (s, _) = call(&inst, "GET", "/models/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, all) = json_of(&inst, "GET", "/object_info", None).await;
    assert!(all["KSampler"]["input"]["required"]["sampler_name"][0]
        .as_array()
        .unwrap()
        .contains(&json!("euler")));
    let (_, stats) = json_of(&inst, "GET", "/system_stats", None).await;
    assert_eq!(stats["devices"][0]["type"], "cuda");
    assert_eq!(
        stats["devices"][0]["vram_total"],
        json!(24564u64 * 1024 * 1024)
    );
}

#[tokio::test]
async fn a_missing_model_fails_validation_then_passes_once_it_is_downloaded() {
    let inst = instance();
    put(
        &inst,
        "/workspace/ComfyUI/models/checkpoints/v1-5-pruned-emaonly.safetensors",
        1000,
    );
    let wf = workflow("v1-5-pruned-emaonly.safetensors", "add_detail.safetensors");
    let (s, refused) = json_of(&inst, "POST", "/prompt", Some(json!({"prompt": wf}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["type"], "prompt_outputs_failed_validation");
    assert_eq!(
        refused["error"]["message"],
        "Prompt outputs failed validation"
    );
    let e = &refused["node_errors"]["10"];
    assert_eq!(e["class_type"], "LoraLoader");
    assert_eq!(e["dependent_outputs"], json!(["9"]));
    assert_eq!(e["errors"][0]["type"], "value_not_in_list");
    assert_eq!(
        e["errors"][0]["details"],
        "lora_name: 'add_detail.safetensors' not in []"
    );
    put(
        &inst,
        "/workspace/ComfyUI/models/loras/add_detail.safetensors",
        1000,
    );
    let (s, ok) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": wf, "client_id": "c1"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["number"], json!(0));
    assert_eq!(ok["node_errors"], json!({}));
    let id = ok["prompt_id"].as_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let entry = finished(&inst, &id).await;
    assert_eq!(entry["status"]["status_str"], "success");
    assert_eq!(entry["status"]["completed"], true);
    assert_eq!(entry["prompt"][1], json!(id));
    let kinds: Vec<&str> = entry["status"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[0].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["execution_start", "execution_cached", "execution_success"]
    );
    let image = &entry["outputs"]["9"]["images"][0];
    assert_eq!(
        image,
        &json!({"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"})
    );
    // The PNG is in the output folder and /view serves it.
    let on_disk = inst
        .sandbox
        .fs("/")
        .read("/workspace/ComfyUI/output/ComfyUI_00001_.png", 1 << 20)
        .unwrap();
    let (s, served) = call(
        &inst,
        "GET",
        "/view?filename=ComfyUI_00001_.png&subfolder=&type=output",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(served, on_disk);
    assert!(served.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (s, _) = call(&inst, "GET", "/view?filename=../../etc/passwd", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The same prompt again: everything cached, the next image number.
    let (_, again) = json_of(&inst, "POST", "/prompt", Some(json!({"prompt": wf}))).await;
    let entry = finished(&inst, again["prompt_id"].as_str().unwrap()).await;
    let cached = &entry["status"]["messages"][1][1]["nodes"];
    assert_eq!(cached.as_array().unwrap().len(), 8, "{cached}");
    assert_eq!(
        entry["outputs"]["9"]["images"][0]["filename"],
        "ComfyUI_00001_.png"
    );
    let (_, h) = json_of(&inst, "GET", "/history?max_items=1", None).await;
    assert_eq!(h.as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_nodes_no_outputs_and_bad_bodies_answer_as_comfyui_does() {
    let inst = instance();
    let (s, r) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        r["error"],
        json!({"type": "invalid_prompt", "message": "Cannot execute because node NoSuchNode does not exist.", "details": "Node ID '#1'", "extra_info": {}})
    );
    let (_, r) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": {"1": {"class_type": "EmptyLatentImage", "inputs": {}}}})),
    )
    .await;
    assert_eq!(r["error"]["type"], "prompt_no_outputs");
    let (_, r) = json_of(&inst, "POST", "/prompt", Some(json!({}))).await;
    assert_eq!(r, json!({"error": "no prompt", "node_errors": []}));
    let (s, _) = call(&inst, "GET", "/history?max_items=x", None).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let (_, q) = json_of(&inst, "GET", "/queue", None).await;
    assert_eq!(q, json!({"queue_running": [], "queue_pending": []}));
    let (_, p) = json_of(&inst, "GET", "/prompt", None).await;
    assert_eq!(p, json!({"exec_info": {"queue_remaining": 0}}));
    // A prompt that links to itself is refused, not followed forever.
    let (s, _) = json_of(&inst, "POST", "/prompt", Some(json!({"prompt": {"9": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "x"}}}}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// An instance with the models the workflow names, and `rules` armed.
fn ready(time_scale: f64, rules: Vec<crate::faults::FaultRule>) -> Arc<Instance> {
    let inst = Instance::create(InstanceConfig {
        time_scale,
        seed: 7,
        faults: rules,
        comfyui: crate::instance::services::ComfyUiConfig {
            ports: vec![18188],
            it_per_s: Some(10.0),
        },
        ..InstanceConfig::default()
    })
    .unwrap();
    crate::services::install(&inst);
    put(
        &inst,
        "/workspace/ComfyUI/models/checkpoints/m.safetensors",
        10,
    );
    put(&inst, "/workspace/ComfyUI/models/loras/l.safetensors", 10);
    inst
}

fn rule(spec: &str) -> crate::faults::FaultRule {
    crate::faults::parse_flag(spec).unwrap()
}

#[tokio::test]
async fn a_node_that_raises_ends_the_prompt_with_execution_error() {
    let inst = ready(0.0, vec![rule("comfyui:comfyui-error:cmd=^KSampler$")]);
    let (_, ok) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": workflow("m.safetensors", "l.safetensors")})),
    )
    .await;
    let entry = finished(&inst, ok["prompt_id"].as_str().unwrap()).await;
    assert_eq!(entry["status"]["status_str"], "error");
    assert_eq!(entry["status"]["completed"], false);
    let last = entry["status"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last[0], "execution_error");
    assert_eq!(last[1]["node_type"], "KSampler");
    assert_eq!(last[1]["exception_type"], "torch.OutOfMemoryError");
    assert!(last[1]["exception_message"]
        .as_str()
        .unwrap()
        .starts_with("CUDA out of memory."));
    assert!(last[1]["traceback"][0]
        .as_str()
        .unwrap()
        .contains("execution.py"));
    assert_eq!(entry["outputs"], json!({}));
    let service: Vec<_> = inst
        .journal
        .entries()
        .into_iter()
        .filter(|e| e.kind == crate::journal::EntryKind::Service)
        .collect();
    assert_eq!(service.len(), 1);
    assert_eq!(service[0].command, "comfyui KSampler");
    assert_eq!(service[0].faults, vec!["f1".to_string()]);
}

#[tokio::test]
async fn a_hung_node_runs_until_interrupted_and_a_hung_request_never_answers() {
    let inst = ready(
        0.0,
        vec![
            rule("comfyui:comfyui-hang:cmd=^VAEDecode$:times=1"),
            rule("comfyui:comfyui-hang:cmd=^GET /system_stats$"),
        ],
    );
    let (_, ok) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": workflow("m.safetensors", "l.safetensors")})),
    )
    .await;
    let id = ok["prompt_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, q) = json_of(&inst, "GET", "/queue", None).await;
    assert_eq!(q["queue_running"][0][1], json!(id), "{q}");
    let (s, _) = call(&inst, "POST", "/interrupt", None).await;
    assert_eq!(s, StatusCode::OK);
    let entry = finished(&inst, &id).await;
    let last = entry["status"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last[0], "execution_interrupted");
    assert_eq!(last[1]["node_type"], "VAEDecode");
    let hung = tokio::time::timeout(
        Duration::from_millis(300),
        call(&inst, "GET", "/system_stats", None),
    )
    .await;
    assert!(hung.is_err(), "the hung request is never answered");
    let (s, _) = call(&inst, "GET", "/queue", None).await;
    assert_eq!(s, StatusCode::OK, "other requests still are");
}

#[tokio::test]
async fn comfyui_slow_slows_the_sampler_on_the_instance_clock() {
    // 12 steps at 10 it/s, time scale 1: 0.1 s a step; three times slower: 0.3 s.
    assert_eq!(super::executor::step_secs(1.0, 1.0, 10.0), 0.1);
    assert!((super::executor::step_secs(1.0, 3.0, 10.0) - 0.3).abs() < 1e-9);
    assert_eq!(
        super::executor::step_secs(0.0, 3.0, 10.0),
        0.0,
        "time scale 0 never waits"
    );
    let inst = ready(0.0, vec![rule("comfyui:comfyui-slow=3:cmd=^KSampler$")]);
    let (_, ok) = json_of(
        &inst,
        "POST",
        "/prompt",
        Some(json!({"prompt": workflow("m.safetensors", "l.safetensors")})),
    )
    .await;
    let entry = finished(&inst, ok["prompt_id"].as_str().unwrap()).await;
    assert_eq!(entry["status"]["status_str"], "success");
    let bent: Vec<String> = inst
        .journal
        .entries()
        .into_iter()
        .filter(|e| e.kind == crate::journal::EntryKind::Service)
        .map(|e| e.command)
        .collect();
    assert_eq!(bent, ["comfyui KSampler"]);
    assert!(
        crate::faults::parse_flag("comfyui:comfyui-slow=0.5").is_err(),
        "a factor below 1 is refused"
    );
}

#[tokio::test]
async fn load_image_needs_the_image_uploaded_to_the_input_folder() {
    let inst = instance();
    let wf = json!({"prompt": {
        "1": {"class_type": "LoadImage", "inputs": {"image": "cat.png"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "edit/cat"}}
    }});
    let (s, refused) = json_of(&inst, "POST", "/prompt", Some(wf.clone())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["node_errors"]["1"]["errors"][0]["details"],
        "image: 'cat.png' not in []"
    );
    // As scp or SFTP would put it there.
    let fs = inst.sandbox.fs("/");
    fs.create_dir_all("/workspace/ComfyUI/input").unwrap();
    fs.write(
        "/workspace/ComfyUI/input/cat.png",
        &super::image::png(8, 8, 1, ""),
    )
    .unwrap();
    let (_, info) = json_of(&inst, "GET", "/object_info/LoadImage", None).await;
    assert_eq!(
        info["LoadImage"]["input"]["required"]["image"],
        json!([["cat.png"], {"image_upload": true}])
    );
    let (s, ok) = json_of(&inst, "POST", "/prompt", Some(wf)).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    let entry = finished(&inst, ok["prompt_id"].as_str().unwrap()).await;
    assert_eq!(
        entry["outputs"]["2"]["images"][0],
        json!({"filename": "cat_00001_.png", "subfolder": "edit", "type": "output"})
    );
    assert!(fs.is_file("/workspace/ComfyUI/output/edit/cat_00001_.png"));
}

#[tokio::test]
async fn view_refuses_a_file_too_big_to_read_whole() {
    let inst = instance();
    // Sparse: it costs the disk nothing, and must not cost the server's RAM.
    put(&inst, "/workspace/ComfyUI/output/huge.png", 1 << 30);
    let (s, _) = call(&inst, "GET", "/view?filename=huge.png&type=output", None).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
}
