//! REST ⇄ protobuf: builds a method's request message from the path variables, the query
//! string and the JSON body, and writes responses as JSON, both with the proto3 JSON mapping.

use base64::Engine as _;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, SerializeOptions,
    Value,
};

use crm_kit::Error;

use crate::routes::Route;

/// Resolves a dotted field path (`customer.id`; proto or JSON names) to its fields, every one
/// but the last a singular message.
pub fn field_path(message: &MessageDescriptor, path: &str) -> Result<Vec<FieldDescriptor>, String> {
    let mut fields = Vec::new();
    let mut current = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(name) = parts.next() {
        let field = current
            .get_field_by_name(name)
            .or_else(|| current.get_field_by_json_name(name))
            .ok_or_else(|| format!("{path}: {} has no field {name}", current.full_name()))?;
        if parts.peek().is_some() {
            match field.kind() {
                Kind::Message(m) if !field.is_list() && !field.is_map() => current = m,
                _ => return Err(format!("{path}: {name} is not a message field")),
            }
        }
        fields.push(field);
    }
    Ok(fields)
}

/// The request message of `route` from its path variables, query string and body.
pub fn request(
    route: &Route,
    vars: &[(String, String)],
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, Error> {
    let input = route.method.input();
    let mut message = match route.body.as_deref() {
        Some("*") => from_json(&input, body, "body")?,
        Some(field) if !route.method.is_client_streaming() => {
            let mut message = DynamicMessage::new(input.clone());
            if !body.iter().all(u8::is_ascii_whitespace) {
                let descriptor = input
                    .get_field_by_name(field)
                    .ok_or_else(|| Error::Internal(format!("body field {field} vanished")))?;
                let value = field_from_json(&descriptor, body)?;
                message.set_field(&descriptor, value);
            }
            message
        }
        _ => {
            if !body.iter().all(u8::is_ascii_whitespace) && !route.method.is_client_streaming() {
                return Err(Error::invalid(
                    "body",
                    "UNEXPECTED",
                    format!("{} {} takes no body", route.http_method, route.template.openapi_path()),
                ));
            }
            DynamicMessage::new(input.clone())
        }
    };
    for (field, value) in vars {
        set_text(&mut message, field, value, false).map_err(|e| Error::invalid(field.clone(), "MALFORMED", e))?;
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let path_fields: Vec<&str> = route.template.variables().collect();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = query_decode(key).ok_or_else(|| Error::invalid(key, "MALFORMED", "bad percent-encoding"))?;
            let value =
                query_decode(value).ok_or_else(|| Error::invalid(key.clone(), "MALFORMED", "bad percent-encoding"))?;
            if route.body.as_deref() == Some("*") {
                return Err(Error::invalid(
                    key,
                    "UNEXPECTED",
                    "this call takes its fields in the JSON body, not the query string",
                ));
            }
            if path_fields.contains(&key.as_str()) {
                return Err(Error::invalid(key, "UNEXPECTED", "is given by the path"));
            }
            if let Some(b) = route.body.as_deref()
                && (key == b || key.starts_with(&format!("{b}.")))
                && !route.method.is_client_streaming()
            {
                return Err(Error::invalid(key, "UNEXPECTED", "is given by the body"));
            }
            set_text(&mut message, &key, &value, true).map_err(|e| Error::invalid(key.clone(), "MALFORMED", e))?;
        }
    }
    Ok(message)
}

/// A message of type `descriptor` from a JSON document (empty: the default message).
pub fn from_json(descriptor: &MessageDescriptor, body: &[u8], what: &str) -> Result<DynamicMessage, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(descriptor.clone()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let message = DynamicMessage::deserialize_with_options(descriptor.clone(), &mut de, &DeserializeOptions::new())
        .map_err(|e| {
            Error::invalid(
                what,
                "MALFORMED",
                format!("is not valid JSON for {}: {e}", descriptor.name()),
            )
        })?;
    de.end()
        .map_err(|e| Error::invalid(what, "MALFORMED", format!("has trailing text: {e}")))?;
    Ok(message)
}

/// The value of one field from a JSON document (the body of a `body: "<field>"` rule).
fn field_from_json(field: &FieldDescriptor, body: &[u8]) -> Result<Value, Error> {
    let name = field.name().to_string();
    // Parse through a one-field wrapper message so every kind uses the same JSON mapping.
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid("body", "MALFORMED", format!("is not JSON: {e}")))?;
    let wrapper = serde_json::json!({ name.clone(): json });
    let parent = field.parent_message().clone();
    let message = DynamicMessage::deserialize_with_options(parent.clone(), wrapper, &DeserializeOptions::new())
        .map_err(|e| Error::invalid("body", "MALFORMED", format!("is not valid JSON for {name}: {e}")))?;
    Ok(message.get_field(field).into_owned())
}

/// `application/x-www-form-urlencoded` decoding of one query key or value.
fn query_decode(text: &str) -> Option<String> {
    crate::routes::percent_decode(&text.replace('+', " "))
}

/// Sets the field at `path` from its text form (path variables and query parameters).
/// Repeated fields take one value per occurrence when `append`.
fn set_text(message: &mut DynamicMessage, path: &str, text: &str, append: bool) -> Result<(), String> {
    let fields = field_path(&message.descriptor(), path)?;
    let (last, parents) = fields.split_last().ok_or("empty field path")?;
    let mut target = message;
    for parent in parents {
        let value = target.get_field_mut(parent);
        target = match value {
            Value::Message(m) => m,
            _ => return Err(format!("{path}: {} is not a message", parent.name())),
        };
    }
    if last.is_map() {
        return Err(format!("{path}: map fields cannot be set from the URL; use the body"));
    }
    let value = parse_text(last, text)?;
    if last.is_list() {
        if !append {
            return Err(format!("{path}: a repeated field cannot be a path variable"));
        }
        match target.get_field_mut(last) {
            Value::List(items) => items.push(value),
            _ => return Err(format!("{path}: not a list")),
        }
    } else {
        target.set_field(last, value);
    }
    Ok(())
}

/// One scalar, enum or well-known-type value from text.
fn parse_text(field: &FieldDescriptor, text: &str) -> Result<Value, String> {
    let bad = |what: &str| format!("{text:?} is not {what}");
    Ok(match field.kind() {
        Kind::String => Value::String(text.to_string()),
        Kind::Bool => match text {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(bad("true or false")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(text.parse().map_err(|_| bad("a 32-bit integer"))?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(text.parse().map_err(|_| bad("a 64-bit integer"))?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(text.parse().map_err(|_| bad("an unsigned 32-bit integer"))?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(text.parse().map_err(|_| bad("an unsigned 64-bit integer"))?),
        Kind::Float => Value::F32(text.parse().map_err(|_| bad("a number"))?),
        Kind::Double => Value::F64(text.parse().map_err(|_| bad("a number"))?),
        Kind::Bytes => {
            let engine = base64::engine::general_purpose::STANDARD;
            let url = base64::engine::general_purpose::URL_SAFE;
            let bytes = engine
                .decode(text)
                .or_else(|_| url.decode(text))
                .map_err(|_| bad("base64"))?;
            Value::Bytes(bytes.into())
        }
        Kind::Enum(e) => {
            if let Some(v) = e.get_value_by_name(text) {
                Value::EnumNumber(v.number())
            } else if let Ok(n) = text.parse::<i32>()
                && e.get_value(n).is_some()
            {
                Value::EnumNumber(n)
            } else {
                let names: Vec<String> = e.values().map(|v| v.name().to_string()).collect();
                return Err(format!("{text:?} is not one of {}", names.join(", ")));
            }
        }
        Kind::Message(m) => {
            // Well-known types (Timestamp, Duration, FieldMask, wrappers) have a JSON string
            // form; read the text through it.
            let json = match m.full_name() {
                "google.protobuf.BoolValue" => serde_json::Value::Bool(text == "true"),
                _ => serde_json::Value::String(text.to_string()),
            };
            let message = DynamicMessage::deserialize_with_options(m.clone(), json, &DeserializeOptions::new())
                .map_err(|e| format!("{text:?} is not a {}: {e}", m.name()))?;
            Value::Message(message)
        }
    })
}

/// How responses are written: every field present (defaults included), 64-bit integers as
/// strings, enum names, lowerCamelCase names.
pub fn serialize_options() -> SerializeOptions {
    SerializeOptions::new().skip_default_fields(false)
}

/// A message as JSON.
pub fn to_json(message: &DynamicMessage) -> Result<serde_json::Value, Error> {
    message
        .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        .map_err(|e| {
            Error::Internal(format!(
                "cannot write {} as JSON: {e}",
                message.descriptor().full_name()
            ))
        })
}

/// The HTTP body of a unary response: the whole message, or its `response_body` field.
pub fn response_json(route: &Route, message: &DynamicMessage) -> Result<Vec<u8>, Error> {
    let Some(field) = &route.response_body else {
        // The common case, written straight into the buffer.
        let mut out = Vec::with_capacity(512);
        message
            .serialize_with_options(&mut serde_json::Serializer::new(&mut out), &serialize_options())
            .map_err(|e| {
                Error::Internal(format!(
                    "cannot write {} as JSON: {e}",
                    message.descriptor().full_name()
                ))
            })?;
        return Ok(out);
    };
    let json = to_json(message)?;
    let name = route
        .method
        .output()
        .get_field_by_name(field)
        .map(|f| f.json_name().to_string())
        .unwrap_or_else(|| field.clone());
    let json = json.get(&name).cloned().unwrap_or(serde_json::Value::Null);
    serde_json::to_vec(&json).map_err(|e| Error::Internal(e.to_string()))
}

/// The value of a top-level integer `page_size` field, if the request has one.
pub fn page_size(message: &DynamicMessage) -> Option<i64> {
    let field = message.descriptor().get_field_by_name("page_size")?;
    match message.get_field(&field).as_ref() {
        Value::I32(n) => Some(i64::from(*n)),
        Value::I64(n) => Some(*n),
        Value::U32(n) => Some(i64::from(*n)),
        Value::U64(n) => Some(i64::try_from(*n).unwrap_or(i64::MAX)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Routes;
    use prost_reflect::DescriptorPool;

    fn routes() -> Routes {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        Routes::from_pool(&pool).unwrap()
    }

    fn build(method: http::Method, path: &str, query: Option<&str>, body: &str) -> Result<serde_json::Value, Error> {
        let routes = routes();
        let (route, vars) = routes.find(&method, path).expect("route");
        let message = request(route, &vars, query, body.as_bytes())?;
        Ok(to_json(&message).unwrap())
    }

    #[test]
    fn path_query_and_body_fill_one_request() {
        let json = build(
            http::Method::PATCH,
            "/v1/customers/c-1",
            Some("updateMask=name,phone"),
            r#"{"name":"Acme","phone":"123"}"#,
        )
        .unwrap();
        assert_eq!(json["customer"]["id"], "c-1");
        assert_eq!(json["customer"]["name"], "Acme");
        assert_eq!(json["updateMask"], "name,phone");

        let json = build(
            http::Method::GET,
            "/v1/customers",
            Some("page_size=5&filter=level_code%20%3D%20%22A%22&query=a+b"),
            "",
        )
        .unwrap();
        assert_eq!(json["pageSize"], 5);
        assert_eq!(json["filter"], "level_code = \"A\"");
        assert_eq!(json["query"], "a b");
    }

    #[test]
    fn bad_input_names_the_field() {
        let err = build(http::Method::GET, "/v1/customers", Some("pageSize=ten"), "").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(v) if v[0].field == "pageSize"),
            "{err:?}"
        );
        let err = build(http::Method::GET, "/v1/customers", Some("nope=1"), "").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(v) if v[0].field == "nope"),
            "{err:?}"
        );
        let err = build(http::Method::POST, "/v1/customers", None, r#"{"name": 5"#).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(v) if v[0].field == "body"),
            "{err:?}"
        );
        let err = build(http::Method::POST, "/v1/customers", Some("name=x"), "{}").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(v) if v[0].field == "name"),
            "{err:?}"
        );
        let err = build(http::Method::GET, "/v1/customers/c-1", None, "{}").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(v) if v[0].field == "body"),
            "{err:?}"
        );
    }
}
