//! A department's fields and its place in the tree.
//!
//! A department's path lists the ids from the root down to it, each followed by `/`
//! (`/<root>/<child>/`), so a subtree is every path starting with its root's path.

use crm_kit::Error;
use crm_kit::errors::Violations;

/// A department's editable fields in `UpdateDepartment`.
pub const DEPARTMENT_MASK: &[&str] = &["name", "parent_id", "manager_id"];

/// Fields the server sets; naming them in a mask is refused.
pub const DEPARTMENT_SERVER_OWNED: &[&str] = &["id", "path", "employee_count", "audit", "etag"];

/// The path under which top-level departments sit.
pub const ROOT_PATH: &str = "/";

/// A department's name: required, at most 100 characters.
pub fn check_name(name: &str, v: &mut Violations) {
    super::check_text("department.name", name, true, 100, v);
}

/// The path of department `id` under the department at `parent_path`.
pub fn child_path(parent_path: &str, id: &str) -> String {
    format!("{parent_path}{id}/")
}

/// Whether the department at `path` is the one at `subtree_path` or below it.
pub fn is_within(path: &str, subtree_path: &str) -> bool {
    path.starts_with(subtree_path)
}

/// The answer when a sibling already has the name.
pub fn sibling_taken(name: &str) -> Error {
    Error::AlreadyExists {
        reason: "DEPARTMENT_NAME_TAKEN",
        message: format!("a department named {name} already exists under the same parent"),
        metadata: vec![("field".into(), "department.name".into())],
        resource: None,
    }
}
