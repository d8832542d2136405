//! `/__admin/instances`, `/__admin/reset` and `/__admin/health`: the fake
//! instances of this process, resetting them, and whether the API can read
//! its files.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiQuery;
use super::{ApiError, AppState};
use crate::instance::Instance;
use crate::jobs::blocking;

/// Journal entries shown per instance in summaries.
const JOURNAL_TAIL: usize = 10;

fn summary(instance: &Instance) -> Value {
    let entries = instance.journal.entries();
    let tail = &entries[entries.len().saturating_sub(JOURNAL_TAIL)..];
    json!({
        "id": instance.config.id,
        "hostname": instance.config.hostname,
        "ui_home": instance.config.ui_home,
        "gpus": instance.config.gpus,
        "faults": instance.faults.list(),
        "journal": {
            "entries": entries.len(),
            "dropped": instance.journal.dropped(),
            "tail": tail,
        },
    })
}

/// Every instance's summary: id, hostname, GPUs, armed faults with hit
/// counts, journal size and its last entries.
pub(super) fn summaries(state: &AppState) -> Value {
    Value::Array(state.inner.instances.iter().map(|i| summary(i)).collect())
}

/// `GET /__admin/instances`.
pub(super) async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(summaries(&state))
}

/// `?instance=ID` on admin routes: one instance, else all of them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InstanceFilter {
    pub(super) instance: Option<String>,
}

/// `POST /__admin/reset[?instance=ID]`: disarms every fault (ids start at
/// `f1` again, the odds' RNG is reseeded) and empties the journal.
pub(super) async fn reset(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<InstanceFilter>,
) -> Result<Json<Value>, ApiError> {
    let targets = state.instances_for(filter.instance.as_deref())?;
    for instance in &targets {
        instance.faults.reset();
        instance.journal.reset();
    }
    state.inner.hub.nudge();
    Ok(Json(json!({
        "success": true,
        "message": format!("reset {} instance(s): faults disarmed, journal emptied", targets.len()),
    })))
}

/// `GET /__admin/health`: 200 `{"status": "ok"}` when both files read,
/// else 503 naming the problem. Open to every peer (it tells nothing else),
/// so it can serve as a container healthcheck.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    let instances = state.inner.instances.len();
    let st = state.clone();
    let checked = blocking(move || {
        st.inner.queue.load()?;
        st.inner.status.load()?;
        Ok(())
    })
    .await;
    match checked {
        Ok(()) => Json(json!({"status": "ok", "instances": instances})).into_response(),
        Err(e) => {
            let detail = match &e {
                ApiError::Internal(d) => d.clone(),
                other => other.to_string(),
            };
            tracing::warn!("health: {detail}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unhealthy", "message": detail, "instances": instances})),
            )
                .into_response()
        }
    }
}
