//! `validate_prompt` as ComfyUI's `execution.py` does it: every output node
//! is checked with its inputs, recursively through its links; errors keep
//! ComfyUI's types, messages and details (`value_not_in_list` for a model
//! file that is not on disk, `required_input_missing`, ...), and a prompt
//! whose outputs all fail is refused with `prompt_outputs_failed_validation`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::nodes::{self, Input};

/// A prompt that may run: the outputs to execute, and the errors of any
/// outputs that will be skipped.
pub(super) struct Valid {
    pub outputs: Vec<String>,
    pub node_errors: Value,
}

/// A refused prompt: ComfyUI's `error` and `node_errors`.
pub(super) struct Refused {
    pub error: Value,
    pub node_errors: Value,
}

/// Validates `prompt`; `files` lists a file combo's choices.
pub(super) fn validate(
    prompt: &Map<String, Value>,
    files: &dyn Fn(Input) -> Vec<String>,
) -> Result<Valid, Refused> {
    let invalid = |message: String, id: &str| Refused {
        error: json!({"type": "invalid_prompt", "message": message, "details": format!("Node ID '#{id}'"), "extra_info": {}}),
        node_errors: json!({}),
    };
    let mut outputs = Vec::new();
    for (id, node) in prompt {
        let Some(class) = node.get("class_type").and_then(Value::as_str) else {
            return Err(invalid(
                "Cannot execute because a node is missing the class_type property.".into(),
                id,
            ));
        };
        let Some(def) = nodes::find(class) else {
            return Err(invalid(
                format!("Cannot execute because node {class} does not exist."),
                id,
            ));
        };
        if def.output_node {
            outputs.push(id.clone());
        }
    }
    if outputs.is_empty() {
        return Err(Refused {
            error: json!({"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}),
            node_errors: json!([]),
        });
    }
    let mut validated: BTreeMap<String, (bool, Vec<Value>)> = BTreeMap::new();
    let mut good = Vec::new();
    let mut failed: Vec<(String, Vec<Value>)> = Vec::new();
    let mut node_errors = Map::new();
    for o in &outputs {
        let (ok, reasons) = inputs(prompt, o, &mut validated, files, 0);
        if ok {
            good.push(o.clone());
            continue;
        }
        failed.push((o.clone(), reasons));
        for (id, (ok, reasons)) in &validated {
            if *ok || reasons.is_empty() {
                continue;
            }
            let entry = node_errors.entry(id.clone()).or_insert_with(|| {
                json!({"errors": reasons, "dependent_outputs": [], "class_type": prompt[id]["class_type"]})
            });
            if let Some(deps) = entry["dependent_outputs"].as_array_mut() {
                deps.push(json!(o));
            }
        }
    }
    if good.is_empty() {
        let details: Vec<String> = failed
            .iter()
            .flat_map(|(_, rs)| rs.iter())
            .map(|r| {
                format!(
                    "{}: {}",
                    r["message"].as_str().unwrap_or(""),
                    r["details"].as_str().unwrap_or("")
                )
            })
            .collect();
        return Err(Refused {
            error: json!({"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": details.join("\n"), "extra_info": {}}),
            node_errors: Value::Object(node_errors),
        });
    }
    Ok(Valid {
        outputs: good,
        node_errors: Value::Object(node_errors),
    })
}

/// `validate_inputs` for node `id`; memoized in `validated`.
fn inputs(
    prompt: &Map<String, Value>,
    id: &str,
    validated: &mut BTreeMap<String, (bool, Vec<Value>)>,
    files: &dyn Fn(Input) -> Vec<String>,
    depth: usize,
) -> (bool, Vec<Value>) {
    if let Some(v) = validated.get(id) {
        return v.clone();
    }
    // A cycle or a chain deeper than any real graph: refuse, never recurse
    // without bound on client input.
    if depth > 256 {
        return (
            false,
            vec![
                json!({"type": "exception_during_inner_validation", "message": "Exception when validating inner node", "details": "maximum recursion depth exceeded", "extra_info": {}}),
            ],
        );
    }
    validated.insert(id.to_string(), (false, Vec::new()));
    let node = &prompt[id];
    let def = node["class_type"].as_str().and_then(nodes::find);
    let Some(def) = def else {
        let r = (
            false,
            vec![
                json!({"type": "exception_during_inner_validation", "message": "Exception when validating inner node", "details": format!("'{id}'"), "extra_info": {}}),
            ],
        );
        validated.insert(id.to_string(), r.clone());
        return r;
    };
    let given = node
        .get("inputs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut valid = true;
    for (name, input) in def.required {
        let info = nodes::input_spec(*input, files);
        let Some(val) = given.get(*name) else {
            errors.push(json!({"type": "required_input_missing", "message": "Required input is missing", "details": name, "extra_info": {"input_name": name}}));
            continue;
        };
        if let Some(link) = val.as_array() {
            let target = link.first().and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_i64().map(|i| i.to_string()))
            });
            let slot = link.get(1).and_then(Value::as_u64);
            let (Some(target), Some(slot), 2) = (target, slot, link.len()) else {
                errors.push(json!({"type": "bad_linked_input", "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]", "details": name, "extra_info": {"input_name": name, "input_config": info, "received_value": val}}));
                continue;
            };
            let Some(upstream) = prompt
                .get(&target)
                .and_then(|n| n["class_type"].as_str())
                .and_then(nodes::find)
            else {
                valid = false;
                validated.insert(target.clone(), (false, vec![json!({"type": "exception_during_inner_validation", "message": "Exception when validating inner node", "details": format!("'{target}'"), "extra_info": {"input_name": name, "input_config": info, "linked_node": val}})]));
                continue;
            };
            let received = upstream.outputs.get(slot as usize).copied().unwrap_or("*");
            if let Input::Link(want) = input {
                if received != *want {
                    errors.push(json!({"type": "return_type_mismatch", "message": "Return type mismatch between linked nodes", "details": format!("{name}, received_type({received}) mismatch input_type({want})"), "extra_info": {"input_name": name, "input_config": info, "received_type": received, "linked_node": val}}));
                    continue;
                }
            }
            if !inputs(prompt, &target, validated, files, depth + 1).0 {
                valid = false;
            }
            continue;
        }
        if let Some(e) = widget_error(name, *input, val, &info, files) {
            errors.push(e);
        }
    }
    let r = (errors.is_empty() && valid, errors);
    validated.insert(id.to_string(), r.clone());
    r
}

/// The error a widget value gets, if any.
fn widget_error(
    name: &str,
    input: Input,
    val: &Value,
    info: &Value,
    files: &dyn Fn(Input) -> Vec<String>,
) -> Option<Value> {
    let convert = |kind: &str| json!({"type": "invalid_input_type", "message": format!("Failed to convert an input value to a {kind} value"), "details": format!("{name}, {val}, invalid literal"), "extra_info": {"input_name": name, "input_config": info, "received_value": val}});
    let range = |v: f64, min: f64, max: f64| {
        if v < min {
            Some(
                json!({"type": "value_smaller_than_min", "message": format!("Value {v} smaller than min of {min}"), "details": name, "extra_info": {"input_name": name, "input_config": info, "received_value": val}}),
            )
        } else if v > max {
            Some(
                json!({"type": "value_bigger_than_max", "message": format!("Value {v} bigger than max of {max}"), "details": name, "extra_info": {"input_name": name, "input_config": info, "received_value": val}}),
            )
        } else {
            None
        }
    };
    match input {
        Input::Int { min, max, .. } => {
            let v = val
                .as_f64()
                .or_else(|| val.as_str().and_then(|s| s.trim().parse().ok()));
            match v {
                Some(v) => range(v.trunc(), min as f64, max as f64),
                None => Some(convert("INT")),
            }
        }
        Input::Float { min, max, .. } => {
            let v = val
                .as_f64()
                .or_else(|| val.as_str().and_then(|s| s.trim().parse().ok()));
            match v {
                Some(v) => range(v, min, max),
                None => Some(convert("FLOAT")),
            }
        }
        Input::Text { .. } => None,
        Input::Link(_) => Some(
            json!({"type": "required_input_missing", "message": "Required input is missing", "details": name, "extra_info": {"input_name": name}}),
        ),
        Input::Model(_) | Input::Uploaded | Input::Combo(_) => {
            let options: Vec<String> = match input {
                Input::Combo(o) => o.iter().map(|s| s.to_string()).collect(),
                _ => files(input),
            };
            let text = val
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| val.to_string());
            if options.contains(&text) {
                return None;
            }
            // Python's repr of the list, or its length when long.
            let (list, config) = if options.len() > 20 {
                (format!("(list of length {})", options.len()), Value::Null)
            } else {
                let items: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
                (format!("[{}]", items.join(", ")), info.clone())
            };
            Some(
                json!({"type": "value_not_in_list", "message": "Value not in list", "details": format!("{name}: '{text}' not in {list}"), "extra_info": {"input_name": name, "input_config": config, "received_value": val}}),
            )
        }
    }
}
