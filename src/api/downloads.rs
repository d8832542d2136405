//! The original app's downloads API: queue jobs (from Markdown resources or
//! a direct command list), read statuses, retry and delete jobs. Every
//! change goes through the library's locked, atomic file stores.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::{ApiJson, ApiPath, ApiQuery};
use super::resources::{self, ResourceError};
use super::{ApiError, AppState};
use crate::jobs::blocking;
use crate::jobs::connection::SshTarget;
use crate::jobs::queue::{Job, JobStatus};
use crate::jobs::status::StatusEntry;
use crate::jobs::store::Records;

/// `POST /downloads/queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueRequest {
    ssh_connection: Option<String>,
    /// `[{"filepath": "loras/x.md"} | "loras/x.md"]`; one job per command.
    resources: Option<Vec<Value>>,
    /// The direct form: these commands, in order, as one job.
    commands: Option<Vec<String>>,
    ui_home: Option<String>,
    /// The direct form's name (else derived from its first command).
    display_name: Option<String>,
    /// The direct form's variant.
    variant_tag: Option<String>,
}

fn resource_path(value: &Value, index: usize) -> Result<String, ApiError> {
    let path = match value {
        Value::String(s) => Some(s.as_str()),
        Value::Object(map) => map.get("filepath").and_then(Value::as_str),
        _ => None,
    };
    match path.map(str::trim) {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(ApiError::BadRequest(format!(
            "resources[{index}]: expected a path string or {{\"filepath\": \"...\"}}"
        ))),
    }
}

fn name_from_command(command: &str) -> String {
    let url_file = command
        .split_whitespace()
        .rev()
        .map(|w| w.trim_matches(['"', '\'']))
        .filter(|w| w.contains("://"))
        .filter_map(|w| {
            w.split(['?', '#'])
                .next()?
                .rsplit('/')
                .find(|s| !s.is_empty())
        })
        .next();
    match url_file {
        Some(name) => name.to_string(),
        None => command.chars().take(60).collect(),
    }
}

/// Queues jobs: one per resource command, plus one for `commands`.
pub(super) async fn queue(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<QueueRequest>,
) -> Result<Json<Value>, ApiError> {
    let ssh = req
        .ssh_connection
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("ssh_connection is required".into()))?
        .to_string();
    SshTarget::parse(&ssh)?;
    let resources = req.resources.unwrap_or_default();
    let commands: Vec<String> = req
        .commands
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if resources.is_empty() && commands.is_empty() {
        return Err(ApiError::BadRequest(
            "resources (or commands) is required".into(),
        ));
    }
    let paths = resources
        .iter()
        .enumerate()
        .map(|(i, v)| resource_path(v, i))
        .collect::<Result<Vec<_>, _>>()?;
    let ui_home = req.ui_home.filter(|u| !u.trim().is_empty());

    let st = state.clone();
    let jobs = blocking(move || {
        let mut jobs = Vec::new();
        if !paths.is_empty() {
            let dir = st.inner.resources.as_deref().ok_or_else(|| {
                ApiError::BadRequest(
                    "this server has no resources directory (--resources); send `commands` instead"
                        .into(),
                )
            })?;
            for path in &paths {
                let resource = resources::load(dir, path).map_err(|e| match e {
                    ResourceError::Read { .. } => ApiError::internal(e),
                    other => ApiError::BadRequest(other.to_string()),
                })?;
                let title = resource.title.clone().unwrap_or_else(|| {
                    std::path::Path::new(path)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.clone())
                });
                for found in resource.commands {
                    let mut job = Job::new(&ssh, &title, vec![found.command])?;
                    job.ui_home = ui_home.clone();
                    job.resource_paths = vec![path.clone()];
                    job.variant_tag = found.variant_tag;
                    jobs.push(job);
                }
            }
        }
        if !commands.is_empty() {
            let name = req
                .display_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| name_from_command(&commands[0]));
            let mut job = Job::new(&ssh, &name, commands)?;
            job.ui_home = ui_home.clone();
            job.variant_tag = req.variant_tag.clone();
            jobs.push(job);
        }
        if jobs.is_empty() {
            return Err(ApiError::BadRequest(
                "no download command found (a resource needs a ```bash block in its Download section)"
                    .into(),
            ));
        }
        let _guard = st.lock_jobs();
        st.inner.queue.update(|queue| {
            for job in &jobs {
                queue.insert(job.clone())?;
            }
            Ok(())
        })?;
        st.inner.status.update(|status| {
            for job in &jobs {
                status.upsert(StatusEntry::for_job(job));
            }
            Ok(())
        })?;
        Ok(jobs)
    })
    .await?;
    let count = jobs.len();
    Ok(Json(json!({
        "success": true,
        "message": format!("queued {count} job{}", if count == 1 { "" } else { "s" }),
        "jobs": jobs,
        "count": count,
    })))
}

/// `GET /downloads/status` parameters (others, like a cache buster, are ignored).
#[derive(Debug, Deserialize)]
pub(super) struct StatusQuery {
    instance_id: Option<String>,
}

/// Status entries with their job's `commands` and `resource_paths` merged
/// in, in the status file's order; `instance` filters by instance id.
pub(super) fn merged(
    queue: &Records<Job>,
    status: &Records<StatusEntry>,
    instance: Option<&str>,
) -> Vec<Value> {
    for e in status.errors() {
        tracing::warn!("status file: {e}");
    }
    status
        .iter()
        .filter(|e| instance.is_none_or(|id| e.instance_id == id))
        .filter_map(|entry| {
            let mut value = serde_json::to_value(entry).ok()?;
            let obj: &mut Map<String, Value> = value.as_object_mut()?;
            let job = queue.get(&entry.id).ok();
            obj.insert(
                "commands".into(),
                json!(job.map(|j| j.commands.clone()).unwrap_or_default()),
            );
            obj.insert(
                "resource_paths".into(),
                json!(job.map(|j| j.resource_paths.clone()).unwrap_or_default()),
            );
            Some(value)
        })
        .collect()
}

/// Reads both files and merges them (blocking).
pub(super) fn snapshot(state: &AppState, instance: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let status = state.inner.status.load()?;
    let queue = state.inner.queue.load()?;
    Ok(merged(&queue, &status, instance))
}

/// `GET /downloads/status[?instance_id=ID]`: a bare array.
pub(super) async fn status(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let entries = blocking(move || snapshot(&state, q.instance_id.as_deref())).await?;
    Ok(Json(entries))
}

/// `POST /downloads/retry`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetryRequest {
    job_id: Option<String>,
}

/// Puts a finished job back to PENDING from its first command, error and
/// progress cleared. 404 for an unknown id, 409 while it runs.
pub(super) async fn retry(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RetryRequest>,
) -> Result<Json<Value>, ApiError> {
    let id = req
        .job_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("job_id is required".into()))?;
    let entry = blocking(move || {
        let _guard = state.lock_jobs();
        let job = state.inner.queue.update(|queue| {
            let job = queue.get(&id)?;
            if job.status == JobStatus::Running {
                return Ok(Err(ApiError::Conflict(format!(
                    "job {id} is running; wait for it to end"
                ))));
            }
            Ok(Ok(queue.retry(&id)?.clone()))
        })??;
        let entry = state.inner.status.update(|status| {
            let entry = match status.get_mut(&job.id) {
                Ok(entry) => entry,
                Err(_) => {
                    status.upsert(StatusEntry::for_job(&job));
                    status.get_mut(&job.id)?
                }
            };
            entry.set_status(JobStatus::Pending);
            entry.total_commands = job.total_commands;
            Ok(entry.clone())
        })?;
        Ok::<_, ApiError>(entry)
    })
    .await?;
    Ok(Json(json!({
        "success": true,
        "message": format!("job {} queued again", entry.id),
        "job": entry,
    })))
}

/// `DELETE /downloads/job/{id}`: removes the job from both files; 404 when
/// neither has it.
pub(super) async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let removed = id.clone();
    blocking(move || {
        let _guard = state.lock_jobs();
        let from_queue = state.inner.queue.update(|queue| Ok(queue.remove(&id)))?;
        let from_status = state.inner.status.update(|status| Ok(status.remove(&id)))?;
        match (from_queue, from_status) {
            (
                Err(crate::jobs::Error::UnknownJob { .. }),
                Err(crate::jobs::Error::UnknownJob { .. }),
            ) => Err(ApiError::NotFound(format!("unknown job id {id:?}"))),
            _ => Ok(()),
        }
    })
    .await?;
    Ok(Json(json!({
        "success": true,
        "message": format!("job {removed} deleted"),
    })))
}
