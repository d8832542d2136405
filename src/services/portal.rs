//! The instance portal on port 8080: a small page listing the instance's
//! services and how to reach them (what `ssh -L 8080:localhost:8080`
//! shows in a browser), and the same list as JSON at `/services`.

use std::sync::{Arc, Weak};

use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};

use crate::instance::Instance;

/// The portal's routes.
/// The instance is held weakly: it owns its services.
pub fn router(instance: Arc<Instance>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/services", get(list))
        .with_state(Arc::downgrade(&instance))
}

/// The services as `[{port, name}]`.
async fn list(State(instance): State<Weak<Instance>>) -> impl IntoResponse {
    let Some(instance) = instance.upgrade() else {
        return Json(Vec::new());
    };
    let services: Vec<serde_json::Value> = instance
        .services
        .ports()
        .into_iter()
        .map(|(port, name)| serde_json::json!({ "port": port, "name": name }))
        .collect();
    Json(services)
}

async fn page(State(instance): State<Weak<Instance>>) -> Html<String> {
    let Some(instance) = instance.upgrade() else {
        return Html(String::new());
    };
    let id = escape(&instance.config.id);
    let rows: String = instance
        .services
        .ports()
        .into_iter()
        .map(|(port, name)| {
            format!(
                "<tr><td>{name}</td><td>{port}</td><td><code>ssh -L {port}:localhost:{port} root@HOST</code></td></tr>\n"
            )
        })
        .collect();
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Instance {id}</title></head>\n<body><h1>Instance {id}</h1>\n<table><tr><th>Service</th><th>Port</th><th>Tunnel</th></tr>\n{rows}</table></body></html>\n"
    ))
}

/// HTML-escapes text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
