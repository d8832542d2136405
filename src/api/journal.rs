//! `/__admin/journal`: the commands the fake instances ran, filtered by
//! `regex` (over the command line), `tool`, `instance` and `since` (a
//! sequence number), and emptied with `DELETE`.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiQuery;
use super::instances::InstanceFilter;
use super::{ApiError, AppState};
use crate::journal::Query;

/// `GET /__admin/journal`: `{"entries": [...], "dropped": N}`, entries
/// oldest first across instances.
pub(super) async fn query(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Json<Value>, ApiError> {
    let targets = state.instances_for(query.instance.as_deref())?;
    let mut entries = Vec::new();
    let mut dropped = 0;
    for instance in &targets {
        entries.extend(
            instance
                .journal
                .query(&query)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        );
        dropped += instance.journal.dropped();
    }
    entries.sort_by(|a, b| a.time.cmp(&b.time).then(a.seq.cmp(&b.seq)));
    Ok(Json(json!({"entries": entries, "dropped": dropped})))
}

/// `DELETE /__admin/journal[?instance=ID]`: forgets every entry.
pub(super) async fn reset(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<InstanceFilter>,
) -> Result<Json<Value>, ApiError> {
    let targets = state.instances_for(filter.instance.as_deref())?;
    for instance in &targets {
        instance.journal.reset();
    }
    state.inner.hub.nudge();
    Ok(Json(json!({"success": true, "message": "journal emptied"})))
}
