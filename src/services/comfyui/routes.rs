//! ComfyUI's HTTP routes (`server.py`), each also under `/api`, as the
//! real server registers them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::faults::{self, Point};
use super::nodes::{self, Input};
use super::queue::Task;
use super::{folders, validate, ws, ComfyUi};

type C = State<Arc<ComfyUi>>;

/// The largest file `/view` serves (it is read whole).
const MAX_VIEW: u64 = 32 << 20;

/// The most prompts waiting at once; more are refused with 503.
const MAX_PENDING: usize = 10_000;

/// The routes, at `/` and under `/api`.
pub(super) fn router(comfy: Arc<ComfyUi>) -> Router {
    let routes = Router::new()
        .route("/ws", get(ws::handler))
        .route("/system_stats", get(system_stats))
        .route("/object_info", get(object_info))
        .route("/object_info/{class}", get(object_info_one))
        .route("/models", get(model_types))
        .route("/models/{folder}", get(models))
        .route("/embeddings", get(embeddings))
        .route("/prompt", get(prompt_info).post(post_prompt))
        .route("/queue", get(get_queue).post(post_queue))
        .route("/interrupt", post(interrupt))
        .route("/history", get(history).post(post_history))
        .route("/history/{id}", get(history_one))
        .route("/view", get(view))
        .with_state(comfy.clone());
    Router::new()
        .nest("/api", routes.clone())
        .merge(routes)
        .layer(axum::middleware::from_fn_with_state(comfy, bent))
}

/// A `comfyui_hang` on this request: it is never answered.
async fn bent(State(c): C, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let what = format!("{} {}", req.method(), req.uri().path());
    if faults::decide(&c, Point::Request, &what).contains(&crate::faults::Fault::ComfyuiHang) {
        std::future::pending::<()>().await;
    }
    next.run(req).await
}

/// A file lister for the node specs, reading the sandbox now.
fn lister(comfy: &ComfyUi) -> impl Fn(Input) -> Vec<String> {
    let instance = comfy.instance.upgrade();
    move |input| {
        let Some(instance) = &instance else {
            return Vec::new();
        };
        let fs = instance.sandbox.fs("/");
        let home = &instance.config.ui_home;
        match input {
            Input::Model(folder) => folders::models(&fs, home, folder),
            Input::Uploaded => folders::input_images(&fs, home),
            _ => Vec::new(),
        }
    }
}

/// Runs `f` with the file lister on a blocking thread (it reads the disk).
async fn with_files<T: Send + 'static>(
    comfy: &Arc<ComfyUi>,
    f: impl FnOnce(&dyn Fn(Input) -> Vec<String>) -> T + Send + 'static,
) -> T {
    let files = lister(comfy);
    tokio::task::spawn_blocking(move || f(&files))
        .await
        .expect("a file listing does not panic")
}

async fn system_stats(State(c): C) -> Json<Value> {
    let Some(i) = c.instance.upgrade() else {
        return Json(json!({}));
    };
    let ram_total = i.config.ram_mib * 1024 * 1024;
    let devices: Vec<Value> = i
        .config
        .gpus
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let total = u64::from(g.memory_mib) * 1024 * 1024;
            json!({
                "name": format!("cuda:{n} {} : cudaMallocAsync", g.name),
                "type": "cuda",
                "index": n,
                "vram_total": total,
                "vram_free": total - total / 20,
                "torch_vram_total": 0,
                "torch_vram_free": 0,
            })
        })
        .collect();
    Json(json!({
        "system": {
            "os": "posix",
            "ram_total": ram_total,
            "ram_free": ram_total - ram_total / 8,
            "comfyui_version": "0.3.44",
            "python_version": "3.11.9 (main, Apr  6 2024, 17:59:24) [GCC 11.4.0]",
            "pytorch_version": "2.3.0+cu121",
            "embedded_python": false,
            "argv": ["main.py", "--listen", "127.0.0.1", "--port", "18188"],
        },
        "devices": devices,
    }))
}

async fn object_info(State(c): C) -> Json<Value> {
    let all = with_files(&c, |files| {
        nodes::NODES
            .iter()
            .map(|n| (n.name.to_string(), nodes::info(n, files)))
            .collect::<Map<String, Value>>()
    })
    .await;
    Json(Value::Object(all))
}

async fn object_info_one(State(c): C, Path(class): Path<String>) -> Json<Value> {
    let one = with_files(&c, move |files| {
        let mut out = Map::new();
        if let Some(n) = nodes::find(&class) {
            out.insert(class, nodes::info(n, files));
        }
        out
    })
    .await;
    Json(Value::Object(one))
}

async fn model_types() -> Json<Value> {
    Json(json!(folders::FOLDERS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()))
}

async fn models(State(c): C, Path(folder): Path<String>) -> Response {
    if !folders::is_folder(&folder) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let files = with_files(&c, move |files| files(Input::Model(leak_folder(&folder)))).await;
    Json(json!(files)).into_response()
}

/// The `'static` name of a known folder (the node specs hold `'static`
/// folder names; `folder` was checked by [`folders::is_folder`]).
fn leak_folder(folder: &str) -> &'static str {
    folders::FOLDERS
        .iter()
        .map(|(n, _)| *n)
        .find(|n| *n == folder)
        .unwrap_or("checkpoints")
}

async fn embeddings(State(c): C) -> Json<Value> {
    let files = with_files(&c, |files| files(Input::Model("embeddings"))).await;
    let stems: Vec<String> = files
        .into_iter()
        .map(|f| match f.rsplit_once('.') {
            Some((stem, _)) => stem.to_string(),
            None => f,
        })
        .collect();
    Json(json!(stems))
}

async fn prompt_info(State(c): C) -> Json<Value> {
    Json(json!({"exec_info": {"queue_remaining": c.queue().remaining()}}))
}

/// aiohttp's answer to a body that is not JSON.
fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "500 Internal Server Error\n\nServer got itself in trouble",
    )
        .into_response()
}

async fn post_prompt(State(c): C, body: Bytes) -> Response {
    let Ok(data) = serde_json::from_slice::<Value>(&body) else {
        return server_error();
    };
    let Some(prompt) = data.get("prompt") else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no prompt", "node_errors": []})),
        )
            .into_response();
    };
    let Some(prompt) = prompt.as_object().cloned() else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"type": "invalid_prompt", "message": "Cannot execute because the prompt is not an object.", "details": "", "extra_info": {}}, "node_errors": {}}))).into_response();
    };
    let checked = {
        let prompt = prompt.clone();
        with_files(&c, move |files| validate::validate(&prompt, files)).await
    };
    let valid = match checked {
        Ok(v) => v,
        Err(refused) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": refused.error, "node_errors": refused.node_errors})),
            )
                .into_response();
        }
    };
    let mut extra = data.get("extra_data").cloned().unwrap_or_else(|| json!({}));
    if !extra.is_object() {
        extra = json!({});
    }
    if let Some(client) = data.get("client_id") {
        extra["client_id"] = client.clone();
    }
    let id = c.uuid().to_string();
    let number = {
        let mut q = c.queue();
        if q.pending.len() >= MAX_PENDING {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": {"type": "queue_full", "message": format!("{MAX_PENDING} prompts are already waiting"), "details": "", "extra_info": {}}, "node_errors": {}})),
            )
                .into_response();
        }
        let number = match data.get("number").and_then(Value::as_f64) {
            Some(n) => n,
            None => {
                let n = q.next_number;
                q.next_number += 1;
                if data.get("front").and_then(Value::as_bool) == Some(true) {
                    -(n as f64)
                } else {
                    n as f64
                }
            }
        };
        q.put(Task {
            number,
            id: id.clone(),
            prompt,
            extra,
            outputs: valid.outputs,
        });
        number
    };
    c.status();
    c.wake.notify_one();
    Json(json!({"prompt_id": id, "number": super::queue::number(number), "node_errors": valid.node_errors})).into_response()
}

async fn get_queue(State(c): C) -> Json<Value> {
    Json(c.queue().snapshot())
}

async fn post_queue(State(c): C, body: Bytes) -> Response {
    let Ok(data) = serde_json::from_slice::<Value>(&body) else {
        return server_error();
    };
    {
        let mut q = c.queue();
        if data.get("clear").and_then(Value::as_bool) == Some(true) {
            q.pending.clear();
        }
        if let Some(ids) = data.get("delete").and_then(Value::as_array) {
            let ids: Vec<&str> = ids.iter().filter_map(Value::as_str).collect();
            q.pending.retain(|t| !ids.contains(&t.id.as_str()));
        }
    }
    c.status();
    StatusCode::OK.into_response()
}

async fn interrupt(State(c): C) -> StatusCode {
    if c.queue().running.is_some() {
        c.interrupt
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    StatusCode::OK
}

#[derive(Deserialize)]
struct HistoryQuery {
    max_items: Option<String>,
}

async fn history(State(c): C, Query(q): Query<HistoryQuery>) -> Response {
    let max = match q.max_items.as_deref().map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        // int() of a bad value raises: aiohttp answers 500.
        Some(Err(_)) => return server_error(),
    };
    Json(c.queue().history(None, max)).into_response()
}

async fn history_one(State(c): C, Path(id): Path<String>) -> Json<Value> {
    Json(c.queue().history(Some(&id), None))
}

async fn post_history(State(c): C, body: Bytes) -> Response {
    let Ok(data) = serde_json::from_slice::<Value>(&body) else {
        return server_error();
    };
    let mut q = c.queue();
    if data.get("clear").and_then(Value::as_bool) == Some(true) {
        q.forget(None);
    }
    if let Some(ids) = data.get("delete").and_then(Value::as_array) {
        let ids: Vec<String> = ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        q.forget(Some(&ids));
    }
    StatusCode::OK.into_response()
}

#[derive(Deserialize)]
struct ViewQuery {
    filename: Option<String>,
    subfolder: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn view(State(c): C, Query(q): Query<ViewQuery>) -> Response {
    let Some(filename) = q.filename else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if filename.is_empty() || filename.starts_with('/') || filename.contains("..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let kind = q.kind.unwrap_or_else(|| "output".into());
    if !matches!(kind.as_str(), "output" | "input" | "temp") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let subfolder = q.subfolder.unwrap_or_default();
    if subfolder.starts_with('/') || subfolder.split('/').any(|p| p == "..") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(instance) = c.instance.upgrade() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let base = filename.rsplit('/').next().unwrap_or(&filename).to_string();
    let dir = format!("{}/{kind}", instance.config.ui_home);
    let path = if subfolder.is_empty() {
        format!("{dir}/{base}")
    } else {
        format!("{dir}/{subfolder}/{base}")
    };
    let read = tokio::task::spawn_blocking(move || instance.sandbox.fs("/").read(&path, MAX_VIEW))
        .await
        .ok();
    let bytes = match read {
        Some(Ok(bytes)) => bytes,
        // Read whole into memory, so bounded: a sparse file of gigabytes
        // costs the client's disk nothing and must not cost the server's RAM.
        Some(Err(e)) if e.raw_os_error() == Some(rustix::io::Errno::FBIG.raw_os_error()) => {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mime = match base
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("filename=\"{base}\"")),
        ],
        bytes,
    )
        .into_response()
}
