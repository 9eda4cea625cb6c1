//! The spec as clients read it. poem-openapi derives the operations and
//! types; this adds what the server enforces but the derive cannot say, so
//! that a request the spec calls valid is one the server accepts (and a
//! generated client or a fuzzer can rely on it): ids are UUIDs, names have
//! their pattern, text has no NUL bytes, request bodies refuse unknown
//! fields, `run_at` and `delay_seconds` exclude each other, every error
//! status an operation can answer is listed, and the event stream is
//! described as what it is.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::string_types::QUEUE_NAME_PATTERN;

/// Text the server accepts: anything but a NUL byte (PostgreSQL text and
/// jsonb refuse it).
const NO_NUL: &str = "^[^\\u0000]*$";
/// A kind, a name: not blank, no NUL byte.
const NOT_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// A cursor: a job id, or empty for the first page.
const UUID_OR_EMPTY: &str =
    "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$";

/// Request bodies: each refuses unknown fields.
const REQUEST_BODIES: &[&str] = &[
    "EnqueueRequest",
    "EnqueueBatchRequest",
    "CreateWorkflowRequest",
    "WorkflowJobRequest",
    "RegisterWorker",
    "ClaimRequest",
    "CompleteRequest",
    "CompleteBatchRequest",
    "CompletedJob",
    "FailRequest",
    "SnoozeRequest",
    "ProgressRequest",
    "ScheduleRequest",
    "QueueLimitsPatch",
];

/// `spec` (poem-openapi's JSON) with what the server enforces added.
pub fn truthful(spec: &str) -> String {
    let mut spec: Value = serde_json::from_str(spec).expect("poem-openapi writes valid JSON");
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                patch_operation(path, method, op);
            }
        }
    }
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        patch_schemas(schemas);
    }
    let mut out = serde_json::to_string_pretty(&spec).expect("a JSON value serializes");
    out.push('\n');
    out
}

fn patch_operation(path: &str, method: &str, op: &mut Value) {
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let place = p["in"].as_str().unwrap_or_default().to_string();
            let schema = &mut p["schema"];
            match (place.as_str(), name.as_str()) {
                ("path", "id" | "node") => {
                    *schema = json!({"type": "string", "format": "uuid"});
                }
                // An empty cursor is the first page.
                ("query", "cursor") => {
                    *schema = json!({"type": "string", "pattern": UUID_OR_EMPTY});
                }
                ("path", "name") => {
                    schema["pattern"] = json!(QUEUE_NAME_PATTERN);
                }
                // An empty filter is no filter.
                ("query", "queue") => {
                    schema["pattern"] = json!("^([A-Za-z0-9_.:-]{1,128})?$");
                }
                ("query", "include") => {
                    schema["pattern"] = json!("^((args|result)(,(args|result))*)?$");
                }
                ("header", "Idempotency-Key") => {
                    schema["minLength"] = json!(1);
                    schema["maxLength"] = json!(255);
                }
                _ => no_nul(schema),
            }
        }
    }
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(stream) = responses
        .values_mut()
        .find_map(|r| r.pointer_mut("/content/text~1event-stream"))
    {
        let data = if path.starts_with("/v1/workflows") {
            "`data` a `WorkflowEvent` as JSON (the workflow's state and the whole workflow at that moment)"
        } else {
            "`data` a `JobEvent` as JSON (the job's state and progress at that moment, and the job)"
        };
        *stream = json!({"schema": {
            "type": "object",
            "description": format!("One Server-Sent Event: `event` is `state` or `progress`, {data}."),
            "properties": {
                "event": {"type": "string", "enum": ["state", "progress"]},
                "data": {"type": "string", "description": "The event's data, as JSON."},
                "id": {"type": "string"},
                "retry": {"type": "integer"}
            }
        }});
    }
    // Some generators drop range responses: list each status the operation
    // can answer as well.
    let mut explicit = vec![];
    if let Some(client) = responses.get("4XX").cloned() {
        if path.starts_with("/v1") {
            explicit.push(("400", client.clone()));
            explicit.push(("401", client.clone()));
        }
        if method != "get" {
            explicit.push(("403", client.clone()));
        }
        if matches!(method, "post" | "put" | "patch") {
            explicit.push(("413", client.clone()));
        }
    }
    if let Some(server) = responses.get("5XX").cloned() {
        explicit.push(("503", server));
    }
    for (status, response) in explicit {
        responses.entry(status).or_insert(response);
    }
}

fn patch_schemas(schemas: &mut Map<String, Value>) {
    for name in REQUEST_BODIES {
        if let Some(schema) = schemas.get_mut(*name) {
            schema["additionalProperties"] = json!(false);
            if let Some(example) = schema.get_mut("example").and_then(Value::as_object_mut) {
                example.retain(|_, v| !v.is_null());
            }
            let required: Vec<String> = schema["required"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                for (name, prop) in props.iter_mut() {
                    no_nul(prop);
                    // An optional field may also be null: the same as absent.
                    // (Not said of a reference to an enum or an object,
                    // which generators cannot combine with null.)
                    if !required.contains(name)
                        && prop.get("$ref").is_none()
                        && prop.get("allOf").is_none()
                    {
                        prop["nullable"] = json!(true);
                    }
                }
            }
        }
    }
    let set = |schemas: &mut Map<String, Value>, pointer: &str, key: &str, value: Value| {
        if let Some(s) = schemas_pointer(schemas, pointer) {
            s[key] = value;
        }
    };
    for pointer in [
        "EnqueueRequest/properties/kind",
        "ScheduleRequest/properties/kind",
        "ScheduleRequest/properties/cron",
    ] {
        set(schemas, pointer, "pattern", json!(NOT_BLANK));
    }
    for pointer in [
        "EnqueueRequest/properties/args",
        "ScheduleRequest/properties/args",
        "Schedule/properties/args",
        "Job/properties/args",
        "ClaimedJob/properties/args",
    ] {
        set(schemas, pointer, "type", json!("object"));
    }
    // Optional, so null is accepted: a string with the enum's pattern,
    // since a reference cannot be marked nullable, and generators make a
    // tangle of a nullable inline enum.
    set(
        schemas,
        "ScheduleRequest/properties",
        "catch_up",
        json!({
            "type": "string",
            "pattern": "^(latest|none)$",
            "nullable": true,
            "description": "Ticks missed while no node ran: `latest` (default, enqueue the latest) or `none`."
        }),
    );
    set(
        schemas,
        "ScheduleRequest/properties/priority",
        "minimum",
        json!(-32768),
    );
    set(
        schemas,
        "ScheduleRequest/properties/priority",
        "maximum",
        json!(32767),
    );
    for (pointer, value) in [
        ("WorkflowJobRequest/properties/kind", json!(NOT_BLANK)),
        ("WorkflowJobRequest/properties/ref", json!(NOT_BLANK)),
        (
            "WorkflowJobRequest/properties/depends_on/items",
            json!(NOT_BLANK),
        ),
        ("CreateWorkflowRequest/properties/name", json!(NOT_BLANK)),
    ] {
        set(schemas, pointer, "pattern", value);
    }
    set(
        schemas,
        "WorkflowJobRequest/properties/depends_on/items",
        "maxLength",
        json!(255),
    );
    set(
        schemas,
        "WorkflowJobRequest/properties/args",
        "type",
        json!("object"),
    );
    for name in ["EnqueueRequest", "WorkflowJobRequest"] {
        set(
            schemas,
            &format!("{name}/properties/priority"),
            "minimum",
            json!(-32768),
        );
        set(
            schemas,
            &format!("{name}/properties/priority"),
            "maximum",
            json!(32767),
        );
        set(
            schemas,
            name,
            "not",
            json!({
                "required": ["run_at", "delay_seconds"],
                "properties": {"run_at": {"type": "string"}, "delay_seconds": {"type": "number"}}
            }),
        );
    }
    set(
        schemas,
        "RegisterWorker/properties/name",
        "pattern",
        json!(NOT_BLANK),
    );
    for pointer in [
        "RegisterWorker/properties/kinds/items",
        "ClaimRequest/properties/kinds/items",
    ] {
        set(schemas, pointer, "pattern", json!(NOT_BLANK));
        set(schemas, pointer, "maxLength", json!(255));
    }
    for pointer in [
        "RegisterWorker/properties/queues/items",
        "ClaimRequest/properties/queue",
    ] {
        set(schemas, pointer, "pattern", json!(QUEUE_NAME_PATTERN));
    }
}

/// The schema at `Name/properties/field/...` under components/schemas.
fn schemas_pointer<'a>(
    schemas: &'a mut Map<String, Value>,
    pointer: &str,
) -> Option<&'a mut Value> {
    let (name, rest) = pointer.split_once('/').unwrap_or((pointer, ""));
    let schema = schemas.get_mut(name)?;
    if rest.is_empty() {
        Some(schema)
    } else {
        schema.pointer_mut(&format!("/{rest}"))
    }
}

/// A plain string (no pattern, no format) may not hold a NUL byte; so may
/// the items of an array of them.
fn no_nul(schema: &mut Value) {
    if schema["type"] == "array" {
        no_nul(&mut schema["items"]);
        return;
    }
    if schema["type"] == "string"
        && schema.get("pattern").is_none()
        && schema.get("format").is_none()
    {
        schema["pattern"] = json!(NO_NUL);
    }
}

/// The methods the spec allows on each path template, for the `Allow`
/// header of a 405.
pub fn allowed_methods(template: &str) -> Option<&'static str> {
    static ALLOWED: OnceLock<HashMap<String, String>> = OnceLock::new();
    ALLOWED
        .get_or_init(|| {
            let spec: Value =
                serde_json::from_str(&super::spec_json()).expect("the spec is valid JSON");
            let mut allowed = HashMap::new();
            if let Some(paths) = spec["paths"].as_object() {
                for (path, item) in paths {
                    let methods: Vec<String> = item
                        .as_object()
                        .map(|m| m.keys().map(|k| k.to_uppercase()).collect())
                        .unwrap_or_default();
                    allowed.insert(path.clone(), methods.join(", "));
                }
            }
            allowed
        })
        .get(template)
        .map(String::as_str)
}
