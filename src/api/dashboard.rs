//! The dashboard at `/`: one HTML page, its script and its style sheet,
//! embedded in the binary. The page carries the current status (and, for
//! admin peers, the fake instances) so it renders at once, then follows
//! `/downloads/events`.

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::downloads::snapshot;
use super::{auth, instances, AppState};
use crate::jobs::blocking;

const PAGE: &str = include_str!("assets/dashboard.html");
const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");

/// JSON safe inside a `<script>` element (no `</script>`, no `<!--`).
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `GET /`.
pub(super) async fn page(State(state): State<AppState>, req: Request) -> Response {
    let admin = auth::check(&state, req.headers(), auth::peer(req.extensions())).is_ok();
    let st = state.clone();
    let status = match blocking(move || snapshot(&st, None)).await {
        Ok(list) => Value::Array(list),
        Err(e) => {
            // The page still loads; the event stream reports the problem.
            tracing::warn!("dashboard: {e}");
            Value::Array(Vec::new())
        }
    };
    let fakes = if admin {
        instances::summaries(&state)
    } else {
        Value::Null
    };
    let html = PAGE
        .replace("__INITIAL_STATUS__", &script_json(&status))
        .replace("__INITIAL_INSTANCES__", &script_json(&fakes));
    ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response()
}

/// `GET /dashboard.js`.
pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// `GET /dashboard.css`.
pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}
