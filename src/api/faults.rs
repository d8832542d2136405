//! `/__admin/faults`: list, arm and disarm fault rules on the fake
//! instances at run time.
//!
//! `POST` takes a [`FaultRule`] as JSON (`{"match": {"tool": "wget"},
//! "action": {"type": "http", "status": 404}, "times": 1}`) or the short
//! form `{"spec": "wget:http=404:times=1"}`; either may carry
//! `"instance": "ID"`. Without it the rule is armed on every instance.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::error::{ApiJson, ApiPath, ApiQuery};
use super::instances::InstanceFilter;
use super::{ApiError, AppState};
use crate::faults::{parse_flag, FaultError, FaultRule};

/// `GET /__admin/faults[?instance=ID]`: every armed rule with its instance,
/// id, name and hit counts.
pub(super) async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<InstanceFilter>,
) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for instance in state.instances_for(filter.instance.as_deref())? {
        for armed in instance.faults.list() {
            let mut v = serde_json::to_value(armed).map_err(ApiError::internal)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert("instance".into(), json!(instance.config.id));
            }
            out.push(v);
        }
    }
    Ok(Json(Value::Array(out)))
}

fn rule_from(mut body: Map<String, Value>) -> Result<(FaultRule, Option<String>), ApiError> {
    let instance = match body.remove("instance") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::BadRequest("instance: expected a string".into())),
    };
    let rule = match body.remove("spec") {
        Some(Value::String(spec)) => {
            if let Some(other) = body.keys().next() {
                return Err(ApiError::BadRequest(format!(
                    "unknown field `{other}` next to `spec` (expected only `spec` and `instance`)"
                )));
            }
            parse_flag(&spec).map_err(|e| ApiError::BadRequest(e.to_string()))?
        }
        Some(_) => return Err(ApiError::BadRequest("spec: expected a string".into())),
        None => serde_json::from_value::<FaultRule>(Value::Object(body))
            .map_err(|e| ApiError::BadRequest(format!("invalid fault rule: {e}")))?,
    };
    rule.validate()
        .map_err(|e| ApiError::BadRequest(format!("invalid fault rule: {e}")))?;
    Ok((rule, instance))
}

/// `POST /__admin/faults`: 201 with the ids armed, per instance.
pub(super) async fn arm(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::BadRequest(
            "expected a JSON object: a fault rule or {\"spec\": \"TOOL:ACTION[:K=V]\"}".into(),
        ));
    };
    let (rule, instance) = rule_from(body)?;
    let targets = state.instances_for(instance.as_deref())?;
    if targets.is_empty() {
        return Err(ApiError::NotFound(
            "no fake instance runs in this process".into(),
        ));
    }
    // The same rule everywhere: one that does not compile (a bad regex)
    // fails on the first instance, before anything is armed.
    let mut armed = Vec::new();
    for target in &targets {
        let id = target.faults.arm(rule.clone()).map_err(|e| match e {
            FaultError::NotFound(_) => ApiError::internal(e),
            other => ApiError::BadRequest(other.to_string()),
        })?;
        armed.push(json!({"instance": target.config.id, "id": id}));
    }
    state.inner.hub.nudge();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "name": rule.display_name(),
            "rule": rule,
            "armed": armed,
        })),
    ))
}

/// `DELETE /__admin/faults/{id}[?instance=ID]`: 404 when no instance has
/// it, 400 when several do and none is named.
pub(super) async fn disarm(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(filter): ApiQuery<InstanceFilter>,
) -> Result<Json<Value>, ApiError> {
    let targets = state.instances_for(filter.instance.as_deref())?;
    let holders: Vec<_> = targets
        .iter()
        .filter(|i| i.faults.list().iter().any(|f| f.id == id))
        .collect();
    let instance = match holders.as_slice() {
        [] => return Err(ApiError::NotFound(format!("no fault rule with id {id:?}"))),
        [one] => *one,
        _ => {
            return Err(ApiError::BadRequest(format!(
                "several instances have a rule {id:?}; name one with ?instance=ID"
            )))
        }
    };
    let removed = instance
        .faults
        .disarm(&id)
        .map_err(|_| ApiError::NotFound(format!("no fault rule with id {id:?}")))?;
    state.inner.hub.nudge();
    Ok(Json(json!({
        "success": true,
        "instance": instance.config.id,
        "removed": removed,
    })))
}

/// `DELETE /__admin/faults[?instance=ID]`: disarms every rule.
pub(super) async fn clear(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<InstanceFilter>,
) -> Result<Json<Value>, ApiError> {
    let targets = state.instances_for(filter.instance.as_deref())?;
    let mut count = 0;
    for instance in &targets {
        count += instance.faults.list().len();
        instance.faults.clear();
    }
    state.inner.hub.nudge();
    Ok(Json(json!({"success": true, "removed": count})))
}
