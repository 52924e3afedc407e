//! The REST routes, read from the contracts: every CRM method with a `google.api.http` option
//! becomes one route (plus its `additional_bindings`). Nothing here names a service or a path;
//! a new annotated RPC is a new route on the next build.

use std::collections::BTreeMap;

use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A fixed segment.
    Literal(String),
    /// `*`: any one segment.
    Any,
    /// `**`: the rest of the path (only last).
    Rest,
}

/// A variable of a path template: the request field it fills and the segments it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    field: String,
    pattern: Vec<Segment>,
}

/// A parsed `google.api.http` path template, e.g. `/v1/customers/{id}:assign`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    verb: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Segment(Segment),
    Variable(Variable),
}

impl Template {
    /// Parses the template syntax of `google/api/http.proto`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| format!("template {text:?} does not start with '/'"))?;
        // The verb follows the last ':' outside braces.
        let mut depth = 0usize;
        let mut verb_at = None;
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ':' if depth == 0 => verb_at = Some(i),
                _ => {}
            }
        }
        let (path, verb) = match verb_at {
            Some(i) => (&rest[..i], Some(rest[i + 1..].to_string())),
            None => (rest, None),
        };
        let mut parts = Vec::new();
        let mut chars = path;
        while !chars.is_empty() {
            if let Some(inner) = chars.strip_prefix('{') {
                let end = inner
                    .find('}')
                    .ok_or_else(|| format!("template {text:?}: unclosed variable"))?;
                let (field, pattern) = match inner[..end].split_once('=') {
                    Some((f, p)) => (f, p.split('/').map(segment).collect::<Vec<_>>()),
                    None => (&inner[..end], vec![Segment::Any]),
                };
                parts.push(Part::Variable(Variable {
                    field: field.to_string(),
                    pattern,
                }));
                chars = &inner[end + 1..];
            } else {
                let end = chars.find('/').unwrap_or(chars.len());
                parts.push(Part::Segment(segment(&chars[..end])));
                chars = &chars[end..];
            }
            chars = chars.strip_prefix('/').unwrap_or(chars);
        }
        Ok(Template { parts, verb })
    }

    /// The path variables and their values when `path` (without query) matches.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        let rest = match &self.verb {
            Some(verb) => rest.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            None => rest,
        };
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut at = 0usize;
        let mut bound = Vec::new();
        for (i, part) in self.parts.iter().enumerate() {
            let last = i + 1 == self.parts.len();
            match part {
                Part::Segment(s) => {
                    let taken = take(s, &segments[at.min(segments.len())..], last)?;
                    at += taken;
                }
                Part::Variable(v) => {
                    let start = at;
                    for (j, s) in v.pattern.iter().enumerate() {
                        let last_of_all = last && j + 1 == v.pattern.len();
                        at += take(s, &segments[at.min(segments.len())..], last_of_all)?;
                    }
                    let raw = segments[start..at].join("/");
                    bound.push((v.field.clone(), percent_decode(&raw)?));
                }
            }
        }
        (at == segments.len()).then_some(bound)
    }

    /// The template in OpenAPI's path syntax: `/v1/customers/{id}:assign`, with each
    /// variable under its [`parameter_name`] (`{customer_id}` for the field `customer.id`).
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            out.push('/');
            match part {
                Part::Segment(s) => out.push_str(&segment_text(s)),
                Part::Variable(v) => {
                    out.push('{');
                    out.push_str(&parameter_name(&v.field));
                    out.push('}');
                }
            }
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }

    /// The fields bound by path variables.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(v) => Some(v.field.as_str()),
            Part::Segment(_) => None,
        })
    }

    /// How specific the template is, for ordering matches: a verb, then more literal segments,
    /// first.
    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Segment(Segment::Literal(_))))
            .count();
        (self.verb.is_some(), literals, self.parts.len())
    }
}

/// The name of the path parameter that fills `field`: the field path with `_` for `.`
/// (`customer.id` → `customer_id`), since common tools build paths with a format string in
/// which a dotted name reads as an attribute.
pub fn parameter_name(field: &str) -> String {
    field.replace('.', "_")
}

fn segment(text: &str) -> Segment {
    match text {
        "*" => Segment::Any,
        "**" => Segment::Rest,
        other => Segment::Literal(other.to_string()),
    }
}

fn segment_text(s: &Segment) -> String {
    match s {
        Segment::Literal(l) => l.clone(),
        Segment::Any => "*".into(),
        Segment::Rest => "**".into(),
    }
}

/// How many of `segments` the template segment takes (None: no match).
fn take(s: &Segment, segments: &[&str], last: bool) -> Option<usize> {
    match s {
        Segment::Literal(l) => (segments.first()? == l).then_some(1),
        Segment::Any => (!segments.first()?.is_empty()).then_some(1),
        Segment::Rest => last.then_some(segments.len()),
    }
}

/// Decodes `%XX` escapes; None for malformed escapes or text that is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Path variables bound by a match: field path and value.
pub type Bindings = Vec<(String, String)>;

/// One REST route.
#[derive(Debug, Clone)]
pub struct Route {
    pub http_method: http::Method,
    pub template: Template,
    /// `*` (the whole request), a field name, or None (no body: every non-path field is a query
    /// parameter).
    pub body: Option<String>,
    /// The response field that is the HTTP body; None: the whole response.
    pub response_body: Option<String>,
    pub method: MethodDescriptor,
    /// `/package.Service/Method`.
    pub grpc_path: String,
    /// The owning service's short name: the second part of the package (`crm.customers.v1`).
    pub service: String,
    /// The access rule from the contract.
    pub access: &'static crm_proto::MethodAccess,
}

/// Every route, grouped by HTTP method, most specific first.
#[derive(Debug, Clone)]
pub struct Routes {
    by_method: BTreeMap<String, Vec<Route>>,
}

impl Routes {
    /// Reads every `google.api.http` rule of the `crm.*` services in `pool`.
    pub fn from_pool(pool: &DescriptorPool) -> Result<Routes, String> {
        let http_ext = pool
            .get_extension_by_name("google.api.http")
            .ok_or("the descriptor set lacks google.api.http")?;
        let mut by_method: BTreeMap<String, Vec<Route>> = BTreeMap::new();
        for service in pool.services().filter(|s| s.full_name().starts_with("crm.")) {
            let owner = service.package_name().split('.').nth(1).unwrap_or_default().to_string();
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&http_ext) {
                    continue;
                }
                let grpc_path = format!("/{}/{}", service.full_name(), method.name());
                let access = crm_proto::method_access(&grpc_path)
                    .ok_or_else(|| format!("{grpc_path} is not in the access table"))?;
                let Value::Message(rule) = options.get_extension(&http_ext).into_owned() else {
                    return Err(format!("{grpc_path}: google.api.http is not a message"));
                };
                let mut rules = vec![rule.clone()];
                if let Some(Value::List(more)) = rule.get_field_by_name("additional_bindings").map(|v| v.into_owned()) {
                    rules.extend(more.into_iter().filter_map(|v| match v {
                        Value::Message(m) => Some(m),
                        _ => None,
                    }));
                }
                for rule in rules {
                    let route = route_of(&rule, &method, &grpc_path, &owner, access)?;
                    by_method
                        .entry(route.http_method.as_str().to_string())
                        .or_default()
                        .push(route);
                }
            }
        }
        for routes in by_method.values_mut() {
            routes.sort_by_key(|r| std::cmp::Reverse(r.template.specificity()));
        }
        Ok(Routes { by_method })
    }

    /// The route for a request and its bound path variables. `Err(allowed)` when the path exists
    /// under other methods only.
    pub fn find(&self, method: &http::Method, path: &str) -> Result<(&Route, Bindings), Vec<String>> {
        if let Some(routes) = self.by_method.get(method.as_str()) {
            for route in routes {
                if let Some(vars) = route.template.matches(path) {
                    return Ok((route, vars));
                }
            }
        }
        let allowed = self
            .by_method
            .iter()
            .filter(|(_, routes)| routes.iter().any(|r| r.template.matches(path).is_some()))
            .map(|(m, _)| m.clone())
            .collect();
        Err(allowed)
    }

    /// Every route, for the OpenAPI document.
    pub fn all(&self) -> impl Iterator<Item = &Route> {
        self.by_method.values().flatten()
    }
}

fn route_of(
    rule: &DynamicMessage,
    method: &MethodDescriptor,
    grpc_path: &str,
    service: &str,
    access: &'static crm_proto::MethodAccess,
) -> Result<Route, String> {
    let text = |name: &str| {
        rule.get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
    };
    let (http_method, template) = if let Some(t) = text("get") {
        (http::Method::GET, t)
    } else if let Some(t) = text("post") {
        (http::Method::POST, t)
    } else if let Some(t) = text("put") {
        (http::Method::PUT, t)
    } else if let Some(t) = text("patch") {
        (http::Method::PATCH, t)
    } else if let Some(t) = text("delete") {
        (http::Method::DELETE, t)
    } else {
        return Err(format!("{grpc_path}: google.api.http names no method and path"));
    };
    let template = Template::parse(&template).map_err(|e| format!("{grpc_path}: {e}"))?;
    let input = method.input();
    for field in template.variables() {
        crate::transcode::field_path(&input, field).map_err(|e| format!("{grpc_path}: path variable {e}"))?;
    }
    let body = text("body");
    if let Some(b) = body.as_deref().filter(|b| *b != "*") {
        input
            .get_field_by_name(b)
            .ok_or_else(|| format!("{grpc_path}: body field {b} does not exist"))?;
    }
    let response_body = text("response_body");
    if let Some(b) = &response_body {
        method
            .output()
            .get_field_by_name(b)
            .ok_or_else(|| format!("{grpc_path}: response_body field {b} does not exist"))?;
    }
    Ok(Route {
        http_method,
        template,
        body,
        response_body,
        method: method.clone(),
        grpc_path: grpc_path.to_string(),
        service: service.to_string(),
        access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(t: &str, path: &str) -> Option<Vec<(String, String)>> {
        Template::parse(t).unwrap().matches(path)
    }

    #[test]
    fn templates_bind_variables_and_verbs() {
        assert_eq!(vars("/v1/customers", "/v1/customers"), Some(vec![]));
        assert_eq!(
            vars("/v1/customers/{id}", "/v1/customers/abc"),
            Some(vec![("id".into(), "abc".into())])
        );
        assert_eq!(vars("/v1/customers/{id}", "/v1/customers"), None);
        assert_eq!(vars("/v1/customers/{id}", "/v1/customers/a/b"), None);
        assert_eq!(vars("/v1/customers/{id}", "/v1/customers/"), None);
        assert_eq!(
            vars("/v1/customers/{id}:assign", "/v1/customers/x%2Fy:assign"),
            Some(vec![("id".into(), "x/y".into())])
        );
        assert_eq!(vars("/v1/customers/{id}:assign", "/v1/customers/x:claim"), None);
        assert_eq!(vars("/v1/customers:export", "/v1/customers:export"), Some(vec![]));
        assert_eq!(vars("/v1/customers", "/v1/customers:export"), None);
        assert_eq!(
            vars("/v1/{name=customers/*}/contacts", "/v1/customers/7/contacts"),
            Some(vec![("name".into(), "customers/7".into())])
        );
        assert_eq!(
            vars("/v1/files/{path=**}", "/v1/files/a/b/c"),
            Some(vec![("path".into(), "a/b/c".into())])
        );
        assert_eq!(vars("/v1/customers/{id}", "/v1/customers/%zz"), None);
    }

    #[test]
    fn openapi_paths_keep_variables_and_verbs() {
        let t = Template::parse("/v1/dictionaries/{entry.dictionary}/entries/{entry.code}").unwrap();
        assert_eq!(
            t.openapi_path(),
            "/v1/dictionaries/{entry_dictionary}/entries/{entry_code}"
        );
        assert_eq!(
            t.variables().collect::<Vec<_>>(),
            ["entry.dictionary", "entry.code"],
            "the router still fills the dotted fields"
        );
        let t = Template::parse("/v1/customers/{id}:merge").unwrap();
        assert_eq!(t.openapi_path(), "/v1/customers/{id}:merge");
    }

    #[test]
    fn every_annotated_contract_method_has_a_route_and_none_clash() {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let routes = Routes::from_pool(&pool).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for route in routes.all() {
            let key = (route.http_method.to_string(), route.template.openapi_path());
            assert!(seen.insert(key.clone()), "two routes at {key:?}");
        }
        let (route, vars) = routes
            .find(&http::Method::PATCH, "/v1/customers/c-1")
            .expect("update route");
        assert_eq!(route.grpc_path, "/crm.customers.v1.CustomersService/UpdateCustomer");
        assert_eq!(vars, vec![("customer.id".to_string(), "c-1".to_string())]);
        let (route, _) = routes.find(&http::Method::GET, "/v1/customers:export").unwrap();
        assert_eq!(route.method.name(), "ExportCustomers");
        assert_eq!(
            routes.find(&http::Method::PUT, "/v1/customers/c-1").unwrap_err(),
            vec!["DELETE".to_string(), "GET".to_string(), "PATCH".to_string()]
        );
    }
}
