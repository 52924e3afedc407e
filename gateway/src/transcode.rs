//! REST ⇄ protobuf: builds a method's request message from the path variables, the query
//! string and the JSON body, and writes responses as JSON, both with the proto3 JSON mapping.

use base64::Engine as _;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, SerializeOptions,
    Value,
};

use crm_kit::Error;

use crate::routes::Route;
use crm_kit::errors::reason;

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
        set_text(&mut message, field, value, false)?;
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let path_fields: Vec<&str> = route.template.variables().collect();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key =
                query_decode(key).ok_or_else(|| Error::invalid(key, reason::MALFORMED, "bad percent-encoding"))?;
            if key.split('.').any(str::is_empty) {
                let written = if key.is_empty() { pair } else { key.as_str() };
                return Err(Error::invalid(
                    written,
                    reason::MALFORMED,
                    "a query parameter is named by field names joined by dots",
                ));
            }
            let value = query_decode(value)
                .ok_or_else(|| Error::invalid(key.clone(), reason::MALFORMED, "bad percent-encoding"))?;
            if route.body.as_deref() == Some("*") {
                return Err(Error::invalid(
                    proto_path(&input, &key),
                    "UNEXPECTED",
                    "this call takes its fields in the JSON body, not the query string",
                ));
            }
            if path_fields.contains(&key.as_str()) {
                return Err(Error::invalid(
                    proto_path(&input, &key),
                    "UNEXPECTED",
                    "is given by the path",
                ));
            }
            if let Some(b) = route.body.as_deref()
                && (key == b || key.starts_with(&format!("{b}.")))
                && !route.method.is_client_streaming()
            {
                return Err(Error::invalid(
                    proto_path(&input, &key),
                    "UNEXPECTED",
                    "is given by the body",
                ));
            }
            set_text(&mut message, &key, &value, true)?;
        }
    }
    Ok(message)
}

/// A message of type `descriptor` from a JSON document (empty: the default message). A value
/// that does not decode is named by its field path in the request, as the services name
/// fields (`customer.kind`, `customer.tags[1]`); a document that is not JSON at all is named
/// `what`.
pub fn from_json(descriptor: &MessageDescriptor, body: &[u8], what: &str) -> Result<DynamicMessage, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(descriptor.clone()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let decoded = DynamicMessage::deserialize_with_options(
        descriptor.clone(),
        serde_path_to_error::Deserializer::new(&mut de, &mut track),
        &DeserializeOptions::new(),
    );
    let message = match decoded {
        Ok(message) => message,
        Err(e) if e.is_data() => {
            // Only a failure needs the document as a tree: to name an unknown field.
            let json = serde_json::from_slice(body).ok();
            return Err(violation(descriptor, &track.path(), json.as_ref(), e, what));
        }
        Err(e) => return Err(Error::invalid(what, reason::MALFORMED, format!("is not JSON: {e}"))),
    };
    de.end()
        .map_err(|e| Error::invalid(what, reason::MALFORMED, format!("has trailing text: {e}")))?;
    Ok(message)
}

/// The value of one field from a JSON document (the body of a `body: "<field>"` rule).
fn field_from_json(field: &FieldDescriptor, body: &[u8]) -> Result<Value, Error> {
    let name = field.name().to_string();
    // Parse through a one-field wrapper message so every kind uses the same JSON mapping; the
    // wrapper's key makes every failing path start with the field's proto name.
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid("body", reason::MALFORMED, format!("is not JSON: {e}")))?;
    let wrapper = serde_json::json!({ name: json });
    let parent = field.parent_message().clone();
    let mut track = serde_path_to_error::Track::new();
    let message = DynamicMessage::deserialize_with_options(
        parent.clone(),
        serde_path_to_error::Deserializer::new(&wrapper, &mut track),
        &DeserializeOptions::new(),
    )
    .map_err(|e| violation(&parent, &track.path(), Some(&wrapper), e, "body"))?;
    Ok(message.get_field(field).into_owned())
}

/// Where a JSON path leads in a message: a message's fields, a list's elements, a map's
/// values, or a value whose JSON form is not made of fields (well-known types such as
/// `Struct`, `Timestamp`, `Any`; scalars).
enum Place {
    Message(MessageDescriptor),
    List(Kind),
    Map(Kind),
    Opaque,
}

impl Place {
    fn of_kind(kind: Kind) -> Place {
        match kind {
            Kind::Message(m) if !m.full_name().starts_with("google.protobuf.") => Place::Message(m),
            _ => Place::Opaque,
        }
    }

    fn of_field(field: &FieldDescriptor) -> Place {
        if field.is_map() {
            match field.kind() {
                Kind::Message(entry) => Place::Map(entry.map_entry_value_field().kind()),
                _ => Place::Opaque,
            }
        } else if field.is_list() {
            Place::List(field.kind())
        } else {
            Place::of_kind(field.kind())
        }
    }
}

/// The INVALID_ARGUMENT for a value that did not decode at `path` (a path through the JSON
/// document, in JSON or proto names) of a `descriptor` message: the field named by its proto
/// path, dotted, with list indexes and map keys in brackets, as the services' violations name
/// them. The failure of an object as a whole is named by its first unknown key, when it has
/// one (the decoder reports unknown fields at their parent).
fn violation(
    descriptor: &MessageDescriptor,
    path: &serde_path_to_error::Path,
    json: Option<&serde_json::Value>,
    error: impl std::fmt::Display,
    root: &str,
) -> Error {
    use serde_path_to_error::Segment;
    let mut field = String::new();
    let mut place = Place::Message(descriptor.clone());
    let mut node = json;
    for segment in path {
        match segment {
            Segment::Map { key } => {
                node = node.and_then(|n| n.get(key));
                place = match place {
                    Place::Message(m) => match m.get_field_by_json_name(key).or_else(|| m.get_field_by_name(key)) {
                        Some(f) => {
                            push_name(&mut field, f.name());
                            Place::of_field(&f)
                        }
                        None => {
                            push_name(&mut field, key);
                            Place::Opaque
                        }
                    },
                    Place::Map(kind) => {
                        field.push_str(&format!("[{key}]"));
                        Place::of_kind(kind)
                    }
                    Place::List(_) | Place::Opaque => {
                        push_name(&mut field, key);
                        Place::Opaque
                    }
                };
            }
            Segment::Seq { index } => {
                node = node.and_then(|n| n.get(index));
                field.push_str(&format!("[{index}]"));
                place = match place {
                    Place::List(kind) => Place::of_kind(kind),
                    _ => Place::Opaque,
                };
            }
            Segment::Enum { .. } | Segment::Unknown => place = Place::Opaque,
        }
    }
    if let (Place::Message(m), Some(serde_json::Value::Object(object))) = (&place, node)
        && let Some(key) = object
            .keys()
            .find(|k| m.get_field_by_json_name(k).is_none() && m.get_field_by_name(k).is_none())
    {
        // A key of nothing is shown quoted, so the violation still names it.
        let key = if key.is_empty() { "\"\"" } else { key.as_str() };
        push_name(&mut field, key);
        return Error::invalid(field, reason::UNKNOWN_FIELD, format!("{} has no field {key}", m.name()));
    }
    if field.is_empty() {
        field = root.to_string();
    }
    Error::invalid(field, reason::MALFORMED, error.to_string())
}

fn push_name(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

/// The proto path of a dotted field path given in JSON or proto names (a query parameter or
/// path variable), as far as it names fields; the rest is kept as written.
fn proto_path(message: &MessageDescriptor, path: &str) -> String {
    let mut out = String::new();
    let mut current = Some(message.clone());
    for name in path.split('.') {
        let field = current
            .as_ref()
            .and_then(|m| m.get_field_by_name(name).or_else(|| m.get_field_by_json_name(name)));
        push_name(&mut out, field.as_ref().map_or(name, |f| f.name()));
        current = field.and_then(|f| match Place::of_field(&f) {
            Place::Message(m) => Some(m),
            _ => None,
        });
    }
    out
}

/// `application/x-www-form-urlencoded` decoding of one query key or value.
fn query_decode(text: &str) -> Option<String> {
    crate::routes::percent_decode(&text.replace('+', " "))
}

/// Sets the field at `path` from its text form (path variables and query parameters).
/// Repeated fields take one value per occurrence when `append`. A failure names the field by
/// its proto path, an element of a repeated field by its index (`ids[2]`).
fn set_text(message: &mut DynamicMessage, path: &str, text: &str, append: bool) -> Result<(), Error> {
    let descriptor = message.descriptor();
    let named = proto_path(&descriptor, path);
    let bad = |e: String| Error::invalid(named.clone(), reason::MALFORMED, e);
    let fields = field_path(&descriptor, path).map_err(bad)?;
    let (last, parents) = fields.split_last().ok_or_else(|| bad("empty field path".into()))?;
    let mut target = message;
    for parent in parents {
        let value = target.get_field_mut(parent);
        target = match value {
            Value::Message(m) => m,
            _ => return Err(bad(format!("{path}: {} is not a message", parent.name()))),
        };
    }
    if last.is_map() {
        return Err(bad(format!(
            "{path}: map fields cannot be set from the URL; use the body"
        )));
    }
    if last.is_list() {
        if !append {
            return Err(bad(format!("{path}: a repeated field cannot be a path variable")));
        }
        let Value::List(items) = target.get_field_mut(last) else {
            return Err(bad(format!("{path}: not a list")));
        };
        let value = parse_text(last, text)
            .map_err(|e| Error::invalid(format!("{named}[{}]", items.len()), reason::MALFORMED, e))?;
        items.push(value);
    } else {
        target.set_field(last, parse_text(last, text).map_err(bad)?);
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

    /// The field and reason of the one violation of `err`.
    fn named(err: &Error) -> (&str, &str) {
        match err {
            Error::InvalidArgument(v) if v.len() == 1 => (v[0].field.as_str(), v[0].reason),
            other => panic!("not one field violation: {other:?}"),
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let err = build(http::Method::GET, "/v1/customers", Some("pageSize=ten"), "").unwrap_err();
        assert_eq!(named(&err), ("page_size", "MALFORMED"));
        let err = build(http::Method::GET, "/v1/customers", Some("nope=1"), "").unwrap_err();
        assert_eq!(named(&err).0, "nope");
        // A parameter without a name, or with an empty part, is named as it was written.
        let err = build(http::Method::GET, "/v1/customers", Some("pageSize=5&=7"), "").unwrap_err();
        assert_eq!(named(&err), ("=7", "MALFORMED"));
        for key in [".", "page_size.", "a..b"] {
            let err = build(http::Method::GET, "/v1/customers", Some(&format!("{key}=1")), "").unwrap_err();
            assert_eq!(named(&err), (key, "MALFORMED"));
        }
        let err = build(http::Method::POST, "/v1/customers", None, r#"{"name": 5"#).unwrap_err();
        assert_eq!(named(&err), ("body", "MALFORMED"));
        let err = build(http::Method::POST, "/v1/customers", None, r#"{} {}"#).unwrap_err();
        assert_eq!(named(&err), ("body", "MALFORMED"));
        let err = build(http::Method::POST, "/v1/customers", Some("requestId=x"), "{}").unwrap_err();
        assert_eq!(named(&err), ("request_id", "UNEXPECTED"));
        let err = build(http::Method::GET, "/v1/customers/c-1", None, "{}").unwrap_err();
        assert_eq!(named(&err).0, "body");
    }

    #[test]
    fn a_body_value_that_does_not_decode_is_named_by_its_proto_path() {
        let post = |body: &str| build(http::Method::POST, "/v1/customers", None, body).unwrap_err();
        // Body `*`: JSON names and proto names alike lead to the proto path.
        for (body, field) in [
            (r#"{"customer": {"kind": "CUSTOMER_KIND_ROBOT"}}"#, "customer.kind"),
            (r#"{"customer": {"name": 5}}"#, "customer.name"),
            (r#"{"customer": "Acme"}"#, "customer"),
            (
                r#"{"customer": {"region": {"province": ["x"]}}}"#,
                "customer.region.province",
            ),
            (r#"{"customer": {"levelCode": {}}}"#, "customer.level_code"),
            (r#"{"customer": {"tags": ["a", "b", 3]}}"#, "customer.tags[2]"),
            (
                r#"{"customer": {"customFields": {"colour": 5}}}"#,
                "customer.custom_fields[colour]",
            ),
            (
                r#"{"customer": {"primaryContact": {"imHandles": [{"network": "x"}, {"handle": true}]}}}"#,
                "customer.primary_contact.im_handles[1].handle",
            ),
            (r#"{"requestId": 7}"#, "request_id"),
        ] {
            assert_eq!(named(&post(body)), (field, "MALFORMED"), "{body}");
        }
        // An unknown field is named where it is, not at its parent.
        let err = post(r#"{"customer": {"name": "A", "colour": "red"}}"#);
        assert_eq!(named(&err), ("customer.colour", "UNKNOWN_FIELD"));
        assert_eq!(named(&post(r#"{"": "Acme"}"#)), ("\"\"", "UNKNOWN_FIELD"));
        assert_eq!(
            named(&post(r#"{"customer": {"": 1}}"#)),
            ("customer.\"\"", "UNKNOWN_FIELD")
        );
        let err = post(r#"{"customer": {"primaryContact": {"imHandles": [{"net": "x"}]}}}"#);
        assert_eq!(
            named(&err),
            ("customer.primary_contact.im_handles[0].net", "UNKNOWN_FIELD")
        );

        // Body of a sub-field: the path starts at that field.
        let err = build(
            http::Method::PATCH,
            "/v1/customers/c-1",
            None,
            r#"{"kind": "CUSTOMER_KIND_ROBOT"}"#,
        )
        .unwrap_err();
        assert_eq!(named(&err), ("customer.kind", "MALFORMED"));
        let err = build(
            http::Method::PUT,
            "/v1/poolPolicy",
            None,
            r#"{"levelRules": [{"levelCode": "A"}, {"ownedCap": "many"}]}"#,
        )
        .unwrap_err();
        assert_eq!(named(&err), ("policy.level_rules[1].owned_cap", "MALFORMED"));
        let err = build(http::Method::PUT, "/v1/poolPolicy", None, r#"{"lockCap": 1, "x": 2}"#).unwrap_err();
        assert_eq!(named(&err), ("policy.x", "UNKNOWN_FIELD"));
        let err = build(http::Method::PUT, "/v1/poolPolicy", None, r#"[1]"#).unwrap_err();
        assert_eq!(named(&err), ("policy", "MALFORMED"));
    }

    #[test]
    fn a_query_or_path_value_that_does_not_decode_is_named_by_its_proto_path() {
        let err = build(http::Method::GET, "/v1/customers", Some("showDeleted=maybe"), "").unwrap_err();
        assert_eq!(named(&err), ("show_deleted", "MALFORMED"));
        let err = build(
            http::Method::POST,
            "/v1/customers:import",
            Some("options.mode=IMPORT_MODE_SOMETIMES"),
            "",
        )
        .unwrap_err();
        assert_eq!(named(&err), ("options.mode", "MALFORMED"));
        let err = build(
            http::Method::PATCH,
            "/v1/customers/c-1",
            Some("customer.levelCode=A"),
            "{}",
        )
        .unwrap_err();
        assert_eq!(named(&err), ("customer.level_code", "UNEXPECTED"));
        // Path variables and query keys resolve to proto paths the same way.
        let input = routes()
            .find(&http::Method::GET, "/v1/customers")
            .unwrap()
            .0
            .method
            .input();
        assert_eq!(proto_path(&input, "pageSize"), "page_size");
        assert_eq!(proto_path(&input, "page_size"), "page_size");
        assert_eq!(proto_path(&input, "pageSize.more"), "page_size.more");
        let mut message = DynamicMessage::new(
            routes()
                .find(&http::Method::PATCH, "/v1/customers/c-1")
                .unwrap()
                .0
                .method
                .input(),
        );
        let err = set_text(&mut message, "customer.kind", "CUSTOMER_KIND_ROBOT", false).unwrap_err();
        assert_eq!(named(&err), ("customer.kind", "MALFORMED"));
        set_text(&mut message, "customer.tags", "a", true).unwrap();
        let err = set_text(&mut message, "customer.tags", "b", false).unwrap_err();
        assert_eq!(named(&err).0, "customer.tags");
    }
}
