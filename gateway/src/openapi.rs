//! `GET /openapi.json`: an OpenAPI 3.1 document generated from the same descriptors the routes
//! come from, with the contracts' comments as descriptions, so it can never drift from what
//! the gateway serves.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, Value};
use serde_json::{Map, Value as Json, json};

use crate::routes::{Route, Routes};

/// Leading comments of every element, by file and source path.
struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    fn of(pool: &DescriptorPool) -> Comments {
        let mut map = HashMap::new();
        for file in pool.files() {
            let proto = file.file_descriptor_proto();
            if let Some(info) = &proto.source_code_info {
                for location in &info.location {
                    if let Some(text) = location.leading_comments.as_deref() {
                        let text = text
                            .lines()
                            .map(str::trim)
                            .collect::<Vec<_>>()
                            .join("\n")
                            .trim()
                            .to_string();
                        if !text.is_empty() {
                            map.insert((file.name().to_string(), location.path.clone()), text);
                        }
                    }
                }
            }
        }
        Comments(map)
    }

    fn get(&self, file: &str, path: &[i32]) -> Option<&str> {
        self.0.get(&(file.to_string(), path.to_vec())).map(String::as_str)
    }
}

/// The OpenAPI document of `routes`.
pub fn document(pool: &DescriptorPool, routes: &Routes) -> Json {
    let comments = Comments::of(pool);
    let mut schemas = Schemas {
        comments: &comments,
        done: BTreeMap::new(),
        pending: BTreeSet::new(),
    };
    let mut paths: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut operation_ids: BTreeMap<String, usize> = BTreeMap::new();
    for route in routes.all() {
        let base = format!("{}_{}", route.method.parent_service().name(), route.method.name());
        let n = operation_ids.entry(base.clone()).or_insert(0);
        *n += 1;
        let operation_id = if *n == 1 { base } else { format!("{base}{n}") };
        let operation = operation(route, operation_id, &comments, &mut schemas);
        paths
            .entry(route.template.openapi_path())
            .or_default()
            .insert(route.http_method.as_str().to_ascii_lowercase(), Json::Object(operation));
    }
    while let Some(name) = schemas.pending.pop_first() {
        if schemas.done.contains_key(&name) {
            continue;
        }
        if let Some(message) = pool.get_message_by_name(&name) {
            let schema = schemas.object(&message);
            schemas.done.insert(name, schema);
        }
    }
    schemas.done.insert(
        "Error".into(),
        json!({
            "type": "object",
            "description": "A failure: the HTTP status, the gRPC status name, a message, and the google.rpc details (BadRequest field violations, ErrorInfo reason and metadata, RetryInfo, ...).",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer", "description": "The HTTP status."},
                        "status": {"type": "string", "description": "The gRPC status name, e.g. INVALID_ARGUMENT."},
                        "message": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object", "properties": {"@type": {"type": "string"}}, "additionalProperties": true}},
                        "requestId": {"type": "string"}
                    }
                }
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CRM",
            "version": "v1",
            "description": "REST/JSON for every public RPC of the CRM's services, transcoded from the protobuf contracts with the proto3 JSON mapping (lowerCamelCase names, 64-bit integers and money amounts as strings, timestamps in RFC 3339). Sign in with POST /v1/auth/login and send the access token as `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": schemas.done,
        }
    })
}

fn operation(route: &Route, operation_id: String, comments: &Comments, schemas: &mut Schemas<'_>) -> Map<String, Json> {
    let method = &route.method;
    let file = method.parent_file();
    let mut description = comments.get(file.name(), method.path()).unwrap_or_default().to_string();
    if !route.access.permission.is_empty() {
        description.push_str(&format!("\n\nRequires permission `{}`.", route.access.permission));
    } else if !route.access.public {
        description.push_str("\n\nAny signed-in employee.");
    }
    let input = method.input();
    let path_fields: Vec<&str> = route.template.variables().collect();
    let mut parameters = Vec::new();
    for field in &path_fields {
        let schema = crate::transcode::field_path(&input, field)
            .ok()
            .and_then(|f| f.last().map(|f| schemas.field(f)))
            .unwrap_or_else(|| json!({"type": "string"}));
        parameters.push(json!({
            "name": crate::routes::parameter_name(field),
            "in": "path",
            "required": true,
            "schema": schema,
            "description": format!("The request field `{field}`."),
        }));
    }
    if route.body.as_deref() != Some("*") {
        let skip: BTreeSet<String> = path_fields
            .iter()
            .map(|s| s.to_string())
            .chain(route.body.iter().filter(|_| !method.is_client_streaming()).cloned())
            .collect();
        query_parameters(&input, "", 0, &skip, schemas, &mut parameters);
    }
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id));
    op.insert("tags".into(), json!([route.service]));
    op.insert("summary".into(), json!(first_sentence(&description)));
    op.insert("description".into(), json!(description.trim()));
    if !parameters.is_empty() {
        op.insert("parameters".into(), Json::Array(parameters));
    }
    if let Some(body) = &route.body {
        let schema = if method.is_client_streaming() {
            // The body is the file: CSV for an import, any file for an upload.
            let file_type = if body.ends_with("csv_chunk") {
                "text/csv"
            } else {
                "application/octet-stream"
            };
            Some((file_type, json!({"type": "string", "format": "binary"})))
        } else if body == "*" {
            Some(("application/json", schemas.reference(&input)))
        } else {
            input
                .get_field_by_name(body)
                .map(|f| ("application/json", schemas.field(&f)))
        };
        if let Some((content_type, schema)) = schema {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {content_type: {"schema": schema}}}),
            );
        }
    }
    let output = method.output();
    let (content_type, schema) = match &route.response_body {
        Some(field) if method.is_server_streaming() => (
            crate::rest::stream_content_type(route),
            output
                .get_field_by_name(field)
                .map(|f| match f.kind() {
                    Kind::Bytes => json!({"type": "string", "format": "binary"}),
                    _ => schemas.field(&f),
                })
                .unwrap_or_else(|| json!({})),
        ),
        Some(field) => (
            "application/json",
            output
                .get_field_by_name(field)
                .map(|f| schemas.field(&f))
                .unwrap_or_else(|| json!({})),
        ),
        None if method.is_server_streaming() => ("application/x-ndjson", schemas.reference(&output)),
        None => ("application/json", schemas.reference(&output)),
    };
    op.insert(
        "responses".into(),
        json!({
            "200": {"description": "OK", "content": {content_type: {"schema": schema}}},
            "default": {"description": "A failure", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }),
    );
    if route.access.public {
        op.insert("security".into(), json!([]));
    } else if !route.access.permission.is_empty() {
        op.insert("x-crm-permission".into(), json!(route.access.permission));
    }
    op
}

/// Query parameters for the scalar fields of `message` (nested singular messages as dotted
/// names, two levels deep).
fn query_parameters(
    message: &MessageDescriptor,
    prefix: &str,
    depth: usize,
    skip: &BTreeSet<String>,
    schemas: &mut Schemas<'_>,
    out: &mut Vec<Json>,
) {
    for field in message.fields() {
        let name = format!("{prefix}{}", field.name());
        if skip.contains(&name) || field.is_map() {
            continue;
        }
        match field.kind() {
            Kind::Message(m) if !is_well_known_scalar(m.full_name()) => {
                if !field.is_list() && depth < 2 {
                    query_parameters(&m, &format!("{name}."), depth + 1, skip, schemas, out);
                }
            }
            _ => {
                let mut p = json!({"name": name, "in": "query", "schema": schemas.field(&field)});
                if let Some(d) = schemas.description(&field) {
                    p["description"] = json!(d);
                }
                // Required only where every enclosing message is sent: at the top level.
                if depth == 0 && field_behaviors(&field).iter().any(|b| b == "REQUIRED") {
                    p["required"] = json!(true);
                }
                out.push(p);
            }
        }
    }
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(i) => line[..=i].to_string(),
        None => line.to_string(),
    }
}

/// Well-known types written as one JSON value (a string, number or boolean), which a query
/// parameter can carry.
fn is_well_known_scalar(name: &str) -> bool {
    well_known(name)
        .is_some_and(|schema| schema["type"] != "object" && schema["type"] != "array" && schema.get("type").is_some())
}

struct Schemas<'a> {
    comments: &'a Comments,
    done: BTreeMap<String, Json>,
    pending: BTreeSet<String>,
}

impl Schemas<'_> {
    fn reference(&mut self, message: &MessageDescriptor) -> Json {
        if let Some(inline) = well_known(message.full_name()) {
            return inline;
        }
        if !self.done.contains_key(message.full_name()) {
            self.pending.insert(message.full_name().to_string());
        }
        json!({"$ref": format!("#/components/schemas/{}", message.full_name())})
    }

    fn description(&self, field: &FieldDescriptor) -> Option<String> {
        self.comments
            .get(field.parent_file().name(), field.path())
            .map(str::to_string)
    }

    fn object(&mut self, message: &MessageDescriptor) -> Json {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in message.fields() {
            let mut schema = self.field(&field);
            let behaviors = field_behaviors(&field);
            if behaviors.iter().any(|b| b == "OUTPUT_ONLY") {
                schema["readOnly"] = json!(true);
            }
            if behaviors.iter().any(|b| b == "REQUIRED") {
                required.push(field.json_name().to_string());
            }
            if let Some(d) = self.description(&field) {
                schema["description"] = json!(d);
            }
            properties.insert(field.json_name().to_string(), schema);
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if let Some(d) = self.comments.get(message.parent_file().name(), message.path()) {
            schema["description"] = json!(d);
        }
        schema
    }

    fn field(&mut self, field: &FieldDescriptor) -> Json {
        if field.is_map()
            && let Kind::Message(entry) = field.kind()
        {
            let value = entry.map_entry_value_field();
            return json!({"type": "object", "additionalProperties": self.single(&value)});
        }
        let single = self.single(field);
        if field.is_list() {
            json!({"type": "array", "items": single})
        } else {
            single
        }
    }

    fn single(&mut self, field: &FieldDescriptor) -> Json {
        match field.kind() {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({"type": "integer", "format": "int32"}),
            Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "format": "uint32", "minimum": 0}),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({"type": "string", "format": "int64"}),
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64"}),
            Kind::Float => json!({"type": "number", "format": "float"}),
            Kind::Double => json!({"type": "number", "format": "double"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Enum(e) => {
                let names: Vec<String> = e.values().map(|v| v.name().to_string()).collect();
                json!({"type": "string", "enum": names})
            }
            Kind::Message(m) => self.reference(&m),
        }
    }
}

fn field_behaviors(field: &FieldDescriptor) -> Vec<String> {
    let options = field.options();
    let Some(ext) = field.parent_pool().get_extension_by_name("google.api.field_behavior") else {
        return Vec::new();
    };
    if !options.has_extension(&ext) {
        return Vec::new();
    }
    let Kind::Enum(kind) = ext.kind() else {
        return Vec::new();
    };
    match options.get_extension(&ext).as_ref() {
        Value::List(values) => values
            .iter()
            .filter_map(|v| v.as_enum_number())
            .filter_map(|n| kind.get_value(n).map(|v| v.name().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Inline schemas of the well-known types with a special JSON form.
fn well_known(name: &str) -> Option<Json> {
    Some(match name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"}),
        "google.protobuf.FieldMask" => {
            json!({"type": "string", "description": "Comma-separated field paths, e.g. `name,phone`."})
        }
        "google.protobuf.Struct" => json!({"type": "object", "additionalProperties": true}),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({"type": "array", "items": {}}),
        "google.protobuf.Empty" => json!({"type": "object"}),
        "google.protobuf.Any" => {
            json!({"type": "object", "properties": {"@type": {"type": "string"}}, "additionalProperties": true})
        }
        "google.protobuf.StringValue" => json!({"type": ["string", "null"]}),
        "google.protobuf.BytesValue" => json!({"type": ["string", "null"], "format": "byte"}),
        "google.protobuf.BoolValue" => json!({"type": ["boolean", "null"]}),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({"type": ["integer", "null"]}),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => json!({"type": ["string", "null"]}),
        "google.protobuf.FloatValue" | "google.protobuf.DoubleValue" => json!({"type": ["number", "null"]}),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_covers_every_route_with_resolvable_schemas() {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let routes = Routes::from_pool(&pool).unwrap();
        let doc = document(&pool, &routes);
        let paths = doc["paths"].as_object().unwrap();
        let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(operations, routes.all().count());
        let get = &doc["paths"]["/v1/customers/{id}"]["get"];
        assert_eq!(get["operationId"], "CustomersService_GetCustomer");
        assert_eq!(get["x-crm-permission"], "customers.customer.read");
        assert_eq!(get["parameters"][0]["in"], "path");
        let login = &doc["paths"]["/v1/auth/login"]["post"];
        assert_eq!(login["security"], json!([]));
        // Every $ref points at a schema in the document.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        let customer = &schemas["crm.customers.v1.Customer"];
        assert_eq!(customer["type"], "object");
        assert_eq!(customer["properties"]["ownedSince"]["format"], "date-time");
        assert_eq!(customer["properties"]["ownerId"]["readOnly"], true);
    }
}
