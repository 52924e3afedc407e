//! Stored rows → wire messages.

use crm_kit::auth::Scope;
use crm_kit::time::set_to_proto;
use crm_kit::update::etag;
use crm_proto::identity as pb;

use crate::domain::role::{role_permissions, role_scopes};
use crate::store::{self, DepartmentRow, EmployeeRow, RoleRow};

fn audit(created_at: i64, created_by: &str, updated_at: i64, updated_by: &str) -> Option<crm_proto::common::AuditInfo> {
    Some(crm_kit::time::audit_info(
        created_at, created_by, updated_at, updated_by,
    ))
}

/// An employee on the wire, given the roles they hold; the lock shows while it lasts at `now`.
pub(super) fn employee(e: &EmployeeRow, role_ids: Vec<String>, now: i64) -> pb::Employee {
    let department_path = e.department_path.clone();
    pb::Employee {
        id: e.id.clone(),
        login: e.login.clone(),
        display_name: e.display_name.clone(),
        email: e.email.clone(),
        phone: e.phone.clone(),
        department_id: e.department_id.clone(),
        manager_id: e.manager_id.clone(),
        role_ids,
        status: if e.status == store::ACTIVE {
            pb::EmployeeStatus::Active as i32
        } else {
            pb::EmployeeStatus::Deactivated as i32
        },
        locked_until: if e.locked_until > now {
            set_to_proto(e.locked_until)
        } else {
            None
        },
        audit: audit(e.created_at, &e.created_by, e.updated_at, &e.updated_by),
        etag: etag(e.version),
        department_path,
    }
}

/// A department on the wire.
pub(super) fn department(d: &DepartmentRow) -> pb::Department {
    pb::Department {
        id: d.id.clone(),
        parent_id: d.parent_id.clone(),
        name: d.name.clone(),
        manager_id: d.manager_id.clone(),
        path: d.path.clone(),
        employee_count: d.employee_count,
        audit: audit(d.created_at, &d.created_by, d.updated_at, &d.updated_by),
        etag: etag(d.version),
    }
}

/// A data scope on the wire.
pub(super) fn scope(s: Scope) -> i32 {
    match s {
        Scope::Own => pb::DataScope::Own as i32,
        Scope::Department => pb::DataScope::Department as i32,
        Scope::DepartmentTree => pb::DataScope::DepartmentTree as i32,
        Scope::All => pb::DataScope::All as i32,
    }
}

/// A role on the wire.
pub(super) fn role(r: &RoleRow) -> pb::Role {
    pb::Role {
        id: r.id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        permissions: role_permissions(r),
        scopes: role_scopes(r)
            .into_iter()
            .map(|(service, s)| pb::ServiceScope {
                service,
                scope: scope(s),
            })
            .collect(),
        built_in: r.built_in != 0,
        employee_count: r.employee_count,
        audit: audit(r.created_at, &r.created_by, r.updated_at, &r.updated_by),
        etag: etag(r.version),
    }
}
