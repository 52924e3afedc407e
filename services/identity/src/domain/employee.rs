//! An employee's fields: logins, chosen ids, and what an update may name.

use crm_kit::Error;
use crm_kit::errors::{Violations, reason};

/// Most roles one employee holds.
pub const MAX_ROLES: usize = 50;

/// An employee's editable fields in `UpdateEmployee`.
pub const EMPLOYEE_MASK: &[&str] = &[
    "display_name",
    "email",
    "phone",
    "department_id",
    "manager_id",
    "role_ids",
];

/// Fields the server sets; naming them in a mask is refused.
pub const EMPLOYEE_SERVER_OWNED: &[&str] = &["id", "login", "status", "locked_until", "audit", "etag"];

/// The answer when the employee is no longer active.
pub fn not_active() -> Error {
    Error::precondition("NOT_ACTIVE", "id", "the employee is already deactivated")
}

/// A login: 3 to 64 letters, digits, '.', '_', '-' and '@'.
pub fn check_login(login: &str, v: &mut Violations) {
    let n = login.chars().count();
    if login.is_empty() {
        v.add("employee.login", reason::REQUIRED, "is required");
    } else if n < 3 {
        v.add("employee.login", reason::TOO_SHORT, "must be 3 to 64 characters");
    } else if n > 64 {
        v.add("employee.login", reason::TOO_LONG, "must be 3 to 64 characters");
    } else if !login
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        v.add(
            "employee.login",
            reason::MALFORMED,
            "may hold only letters, digits, '.', '_', '-' and '@'",
        );
    }
}

/// An id the caller chose for a new employee (empty: the server picks one).
pub fn check_employee_id(id: &str, v: &mut Violations) {
    if !id.is_empty()
        && (id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        v.add(
            "employee_id",
            reason::MALFORMED,
            "must be 1-64 letters, digits, '.', '_' or '-'",
        );
    }
}
