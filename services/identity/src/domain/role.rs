//! Roles: names, the permission patterns and data scopes they grant, and what the roles an
//! employee holds add up to.

use std::collections::{BTreeMap, BTreeSet};

use crm_kit::auth::Scope;
use crm_kit::errors::{Violations, reason};
use crm_proto::identity as pb;

use crate::roles;
use crate::store::RoleRow;

/// Most permission patterns one role grants.
pub const MAX_PERMISSIONS: usize = 500;

/// A custom role's editable fields in `UpdateRole`.
pub const ROLE_MASK: &[&str] = &["description", "permissions", "scopes"];

/// Fields the server sets; naming them in a mask is refused.
pub const ROLE_SERVER_OWNED: &[&str] = &["id", "name", "built_in", "employee_count", "audit", "etag"];

/// A custom role's name: at most 64 lower-case letters, digits and `_`, not a built-in role's.
pub fn check_name(name: &str, v: &mut Violations) {
    if name.is_empty() {
        v.add("role.name", reason::REQUIRED, "is required");
    } else if name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        v.add(
            "role.name",
            reason::MALFORMED,
            "must be at most 64 lower-case letters, digits and _",
        );
    } else if roles::built_in(name).is_some() {
        v.add("role.name", "BUILT_IN", format!("{name} is a built-in role"));
    }
}

/// A role's description: optional, at most 500 characters.
pub fn check_description(description: &str, v: &mut Violations) {
    super::check_notes("role.description", description, false, 500, v);
}

/// Every permission an RPC of a CRM service names.
pub fn known_permissions() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = crm_proto::METHOD_ACCESS
        .iter()
        .map(|m| m.permission)
        .filter(|p| !p.is_empty())
        .collect();
    set.into_iter().collect()
}

/// A permission pattern: `<service>.<resource>.<action>` (or `*`) matching some permission.
fn check_permission_pattern(field: &str, pattern: &str, v: &mut Violations) {
    let shape_ok = pattern == "*"
        || (pattern.split('.').count() == 3
            && pattern
                .split('.')
                .all(|s| s == "*" || (!s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))));
    if !shape_ok {
        v.add(
            field,
            reason::MALFORMED,
            "must be <service>.<resource>.<action>, a segment may be *",
        );
    } else if !known_permissions()
        .iter()
        .any(|p| crm_kit::auth::permission_matches(pattern, p))
    {
        v.add(
            field,
            "UNKNOWN_PERMISSION",
            format!("{pattern} matches no permission of any service"),
        );
    }
}

/// A role's scopes from the wire, by service (`*` for every service not named).
fn scopes_from_proto(scopes: &[pb::ServiceScope], v: &mut Violations) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, s) in scopes.iter().enumerate() {
        let field = format!("role.scopes[{i}]");
        let service = s.service.trim();
        if service != "*" && (service.is_empty() || !service.chars().all(|c| c.is_ascii_lowercase() || c == '_')) {
            v.add(
                format!("{field}.service"),
                reason::MALFORMED,
                "must be a service name such as customers, or *",
            );
        }
        let scope = match pb::DataScope::try_from(s.scope) {
            Ok(pb::DataScope::Own) => Scope::Own,
            Ok(pb::DataScope::Department) => Scope::Department,
            Ok(pb::DataScope::DepartmentTree) => Scope::DepartmentTree,
            Ok(pb::DataScope::All) => Scope::All,
            _ => {
                v.add(
                    format!("{field}.scope"),
                    reason::UNKNOWN_ENUM_VALUE,
                    "must be OWN, DEPARTMENT, DEPARTMENT_TREE or ALL",
                );
                continue;
            }
        };
        if out.insert(service.to_string(), scope.as_str().to_string()).is_some() {
            v.add(
                format!("{field}.service"),
                reason::DUPLICATE,
                format!("{service} is named twice"),
            );
        }
    }
    out
}

/// A role's permissions and scopes from the wire, as stored (JSON).
pub fn definition(src: &pb::Role, v: &mut Violations) -> (String, String) {
    if src.permissions.len() > MAX_PERMISSIONS {
        v.add(
            "role.permissions",
            reason::TOO_MANY,
            format!("a role grants at most {MAX_PERMISSIONS} permissions"),
        );
        return (String::new(), String::new());
    }
    for (i, p) in src.permissions.iter().enumerate() {
        check_permission_pattern(&format!("role.permissions[{i}]"), p.trim(), v);
    }
    let permissions: BTreeSet<&str> = src.permissions.iter().map(|p| p.trim()).collect();
    let scopes = scopes_from_proto(&src.scopes, v);
    (
        serde_json::to_string(&permissions).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&scopes).unwrap_or_else(|_| "{}".into()),
    )
}

/// A stored role's scopes, by service.
pub fn role_scopes(r: &RoleRow) -> BTreeMap<String, Scope> {
    serde_json::from_str::<BTreeMap<String, String>>(&r.scopes)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Scope::parse(&v).map(|s| (k, s)))
        .collect()
}

/// A stored role's permission patterns.
pub fn role_permissions(r: &RoleRow) -> Vec<String> {
    serde_json::from_str(&r.permissions).unwrap_or_default()
}

/// What the roles held add up to: every permission, and per service the widest scope (a role's
/// `*` scope counts for every service it does not name).
pub fn effective(roles: &[RoleRow]) -> (Vec<String>, BTreeMap<String, Scope>) {
    let permissions: BTreeSet<String> = roles.iter().flat_map(role_permissions).collect();
    let per_role: Vec<BTreeMap<String, Scope>> = roles.iter().map(role_scopes).collect();
    let services: BTreeSet<&String> = per_role.iter().flat_map(|m| m.keys()).collect();
    let mut scopes = BTreeMap::new();
    for service in services {
        let widest = per_role
            .iter()
            .filter_map(|m| m.get(service).or_else(|| m.get("*")))
            .max()
            .copied();
        if let Some(s) = widest {
            scopes.insert(service.clone(), s);
        }
    }
    (permissions.into_iter().collect(), scopes)
}
