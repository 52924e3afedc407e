//! The gateway's REST transcoding (`crm_gateway::transcode`) for the real routes and method
//! descriptors of the contracts: a path, query string and JSON body become the
//! method's request message or a violation naming the field; what they become survives JSON
//! and protobuf and back unchanged; response bytes of any shape become JSON or an error.

#![no_main]

use std::sync::LazyLock;

use crm_gateway::routes::{Route, Routes};
use crm_gateway::transcode::{from_json, request, response_json, to_json};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage};

static TABLE: LazyLock<Routes> = LazyLock::new(|| {
    let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    Routes::from_pool(&pool).expect("routes")
});

/// Every route in a stable order.
static ROUTES: LazyLock<Vec<&'static Route>> = LazyLock::new(|| {
    let mut all: Vec<&Route> = TABLE.all().collect();
    all.sort_by_key(|r| (r.template.openapi_path(), r.http_method.to_string()));
    all
});

/// A message survives JSON and protobuf and back.
fn round_trips(message: &DynamicMessage) {
    let descriptor = message.descriptor();
    let Ok(json) = to_json(message) else { return };
    let text = serde_json::to_vec(&json).expect("JSON writes");
    let again = from_json(&descriptor, &text, "body").unwrap_or_else(|e| panic!("{json} does not read back: {e:?}"));
    assert_eq!(to_json(&again).ok().as_ref(), Some(&json), "JSON round trip");
    let wire = message.encode_to_vec();
    let decoded = DynamicMessage::decode(descriptor, wire.as_slice()).expect("protobuf reads back");
    assert_eq!(to_json(&decoded).ok().as_ref(), Some(&json), "protobuf round trip");
}

fuzz_target!(|data: &[u8]| {
    // `METHOD /path`, the query string, the body: two lines, then the rest.
    let mut lines = data.splitn(3, |c| *c == b'\n');
    let line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let body = lines.next().unwrap_or_default();
    let (method, path) = line.split_once(' ').unwrap_or(("GET", line.as_str()));

    // The route the path leads to, as the gateway finds it; else one picked by the line, its
    // variables bound to the path's last segment.
    let found = http::Method::from_bytes(method.as_bytes())
        .ok()
        .and_then(|m| TABLE.find(&m, path).ok());
    let (route, vars) = match found {
        Some((route, vars)) => (route, vars),
        None => {
            let pick = line.bytes().map(usize::from).sum::<usize>() % ROUTES.len();
            let route = ROUTES[pick];
            let value = path.rsplit('/').next().unwrap_or_default().to_string();
            let vars = route
                .template
                .variables()
                .map(|v| (v.to_string(), value.clone()))
                .collect();
            (route, vars)
        }
    };

    match request(route, &vars, Some(&query), body) {
        Ok(message) => {
            assert_eq!(message.descriptor(), route.method.input());
            round_trips(&message);
        }
        Err(crm_kit::Error::InvalidArgument(v)) => {
            assert!(!v.is_empty());
            for violation in &v {
                assert!(!violation.field.is_empty() && !violation.reason.is_empty(), "{v:?}");
            }
        }
        Err(e) => panic!("a request that does not transcode is the client's fault, not {e:?}"),
    }

    // The body as a response from the service, in protobuf.
    if let Ok(response) = DynamicMessage::decode(route.method.output(), body) {
        let _ = response_json(route, &response);
    }
});
