//! Employees: create, get, list, update, and an administrator's password reset.

use std::collections::BTreeSet;

use crm_kit::auth::Principal;
use crm_kit::errors::{Violations, reason};
use crm_kit::fields::{Email, Phone};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::listing::{Keyset, Page};
use crm_kit::time::now_micros;
use crm_kit::update::check_etag;
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use sqlx::AnyConnection;

use super::{EMPLOYEE, IdentityApi, convert};
use crate::domain::credentials::{PASSWORD_RESET, check_password};
use crate::domain::employee::{EMPLOYEE_MASK, EMPLOYEE_SERVER_OWNED, MAX_ROLES, check_employee_id, check_login};
use crate::domain::{check_text, mask_paths};
use crate::passwords;
use crate::store::{self, EmployeeRow};

const EMPLOYEE_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "department_id",
        column: "e.department_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "manager_id",
        column: "e.manager_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "status",
        column: "e.status",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "login",
        column: "e.login_key",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "display_name",
        column: "e.display_name",
        ty: FieldType::Text,
    },
];

impl IdentityApi {
    /// Checks department, manager and roles named by an employee; violations name the field.
    async fn check_employee_refs(
        &self,
        conn: &mut AnyConnection,
        e: &pb::Employee,
        self_id: &str,
        v: &mut Violations,
    ) -> Result<()> {
        if !e.department_id.trim().is_empty() && store::department(conn, e.department_id.trim()).await?.is_none() {
            v.add(
                "employee.department_id",
                "UNKNOWN_DEPARTMENT",
                format!("department {} does not exist", e.department_id.trim()),
            );
        }
        let manager = e.manager_id.trim();
        if !manager.is_empty() {
            if manager == self_id {
                v.add("employee.manager_id", "SELF", "an employee cannot be their own manager");
            } else if store::employee(conn, manager)
                .await?
                .is_none_or(|m| m.status != store::ACTIVE)
            {
                v.add(
                    "employee.manager_id",
                    "UNKNOWN_EMPLOYEE",
                    format!("{manager} is not an active employee"),
                );
            }
        }
        if e.role_ids.len() > MAX_ROLES {
            v.add(
                "employee.role_ids",
                reason::TOO_MANY,
                format!("an employee holds at most {MAX_ROLES} roles"),
            );
            return Ok(());
        }
        let mut seen = BTreeSet::new();
        for (i, r) in e.role_ids.iter().enumerate() {
            if !seen.insert(r.as_str()) {
                v.add(
                    format!("employee.role_ids[{i}]"),
                    reason::DUPLICATE,
                    format!("{r} is named twice"),
                );
            } else if store::role(conn, r).await?.is_none() {
                v.add(
                    format!("employee.role_ids[{i}]"),
                    "UNKNOWN_ROLE",
                    format!("role {r} does not exist"),
                );
            }
        }
        Ok(())
    }

    /// CreateEmployee: idempotent by request id; the login and a chosen id must be free.
    pub(super) async fn create_employee(
        &self,
        caller: &Principal,
        mut req: pb::CreateEmployeeRequest,
    ) -> Result<pb::CreateEmployeeResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let password = std::mem::take(&mut req.password);
        let key = crm_kit::idempotency::RequestKey::new("CreateEmployee", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.employee.as_ref() else {
            return Err(Error::required("employee"));
        };
        let mut v = Violations::new();
        let login = src.login.trim();
        check_login(login, &mut v);
        check_text("employee.display_name", &src.display_name, true, 100, &mut v);
        let email = Email::parse_optional(&mut v, "employee.email", &src.email);
        let phone = Phone::parse_optional(&mut v, "employee.phone", &src.phone, self.phone_region);
        if src.department_id.trim().is_empty() {
            v.add("employee.department_id", reason::REQUIRED, "is required");
        }
        check_password("password", &password, &mut v);
        let id = req.employee_id.trim();
        check_employee_id(id, &mut v);
        {
            let mut conn = self.conn().await?;
            self.check_employee_refs(&mut conn, src, "", &mut v).await?;
        }
        v.finish()?;
        let hash = passwords::hash(password).await?;
        let now = now_micros();
        let row = EmployeeRow {
            id: if id.is_empty() {
                crm_kit::new_id()
            } else {
                id.to_string()
            },
            login: login.to_string(),
            login_key: login.to_lowercase(),
            display_name: src.display_name.trim().to_string(),
            email: email.map(Email::into_inner).unwrap_or_default(),
            phone: phone.map(|p| p.typed().to_string()).unwrap_or_default(),
            department_id: src.department_id.trim().to_string(),
            manager_id: src.manager_id.trim().to_string(),
            status: store::ACTIVE.into(),
            password_hash: hash,
            failed_sign_ins: 0,
            locked_until: 0,
            password_changed_at: now,
            deactivated_at: 0,
            successor_id: String::new(),
            version: 1,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            department_path: String::new(),
        };
        let mut tx = match self.db.begin_command(key).await? {
            crm_kit::idempotency::Begun::Replayed(done) => return Ok(done),
            crm_kit::idempotency::Begun::Fresh(tx) => tx,
        };
        if !id.is_empty() && store::employee(&mut tx, id).await?.is_some() {
            return Err(Error::AlreadyExists {
                reason: "EMPLOYEE_ID_TAKEN",
                message: format!("an employee with id {id} exists"),
                metadata: vec![("field".into(), "employee_id".into())],
                resource: None,
            });
        }
        if !store::insert_employee(&mut tx, &row).await? {
            return Err(Error::AlreadyExists {
                reason: "LOGIN_TAKEN",
                message: format!("the login {login} is taken"),
                metadata: vec![("field".into(), "employee.login".into())],
                resource: None,
            });
        }
        store::set_roles(&mut tx, &row.id, &src.role_ids).await?;
        let stored = self.load_employee(&mut tx, "employee.id", &row.id).await?;
        let response = pb::CreateEmployeeResponse {
            employee: Some(convert::employee(
                &stored,
                store::role_ids_of(&mut tx, &row.id).await?,
                now,
            )),
        };
        tx.finish(response).await
    }

    /// GetEmployee.
    pub(super) async fn get_employee(&self, req: pb::GetEmployeeRequest) -> Result<pb::GetEmployeeResponse> {
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "id", &req.id).await?;
        let roles = store::role_ids_of(&mut conn, &e.id).await?;
        Ok(pb::GetEmployeeResponse {
            employee: Some(convert::employee(&e, roles, now_micros())),
        })
    }

    /// ListEmployees: in login order, filtered and matched by a substring query.
    pub(super) async fn list_employees(&self, req: pb::ListEmployeesRequest) -> Result<pb::ListEmployeesResponse> {
        let shape = [req.filter.as_str(), req.query.as_str()];
        let keyset = Keyset::open(
            &self.tokens,
            store::employee_order(),
            req.page_size,
            &req.page_token,
            &shape,
        )?;
        crm_kit::text::search_query("query", &req.query)?;
        let filter = crm_kit::filter::compile(EMPLOYEE_FILTER, &req.filter, 1)?;
        let mut conn = self.conn().await?;
        let Page { rows, next_page_token } =
            store::employees_page(&mut conn, filter.as_ref(), req.query.trim(), &keyset).await?;
        let now = now_micros();
        let ids: Vec<&str> = rows.iter().map(|e| e.id.as_str()).collect();
        let mut roles = store::role_ids_of_many(&mut conn, &ids).await?;
        let employees = rows
            .iter()
            .map(|e| convert::employee(e, roles.remove(&e.id).unwrap_or_default(), now))
            .collect();
        Ok(pb::ListEmployeesResponse {
            employees,
            next_page_token,
        })
    }

    /// UpdateEmployee: the masked fields, at the current etag; a department change is announced
    /// as `EmployeeMoved`.
    pub(super) async fn update_employee(
        &self,
        caller: &Principal,
        req: pb::UpdateEmployeeRequest,
    ) -> Result<pb::UpdateEmployeeResponse> {
        let Some(src) = req.employee.as_ref() else {
            return Err(Error::required("employee"));
        };
        let paths = mask_paths(
            req.update_mask.as_ref(),
            EMPLOYEE_MASK,
            EMPLOYEE_SERVER_OWNED,
            "Employee",
        )?;
        let mut tx = self.db.begin_write().await?;
        let mut row = self.load_employee(&mut tx, "employee.id", &src.id).await?;
        check_etag("employee.etag", &src.etag, row.version, EMPLOYEE)?;
        let version = row.version;
        let before_department = row.department_id.clone();
        let mut v = Violations::new();
        let mut named = pb::Employee::default();
        let mut set_roles = false;
        for p in &paths {
            match *p {
                "display_name" => {
                    check_text("employee.display_name", &src.display_name, true, 100, &mut v);
                    row.display_name = src.display_name.trim().to_string();
                }
                "email" => {
                    let email = Email::parse_optional(&mut v, "employee.email", &src.email);
                    row.email = email.map(Email::into_inner).unwrap_or_default();
                }
                "phone" => {
                    let phone = Phone::parse_optional(&mut v, "employee.phone", &src.phone, self.phone_region);
                    row.phone = phone.map(|p| p.typed().to_string()).unwrap_or_default();
                }
                "department_id" => {
                    if src.department_id.trim().is_empty() {
                        v.add("employee.department_id", reason::REQUIRED, "is required");
                    }
                    named.department_id = src.department_id.clone();
                    row.department_id = src.department_id.trim().to_string();
                }
                "manager_id" => {
                    named.manager_id = src.manager_id.clone();
                    row.manager_id = src.manager_id.trim().to_string();
                }
                "role_ids" => {
                    named.role_ids = src.role_ids.clone();
                    set_roles = true;
                }
                _ => {}
            }
        }
        self.check_employee_refs(&mut tx, &named, &row.id, &mut v).await?;
        v.finish()?;
        let now = now_micros();
        row.updated_at = now;
        row.updated_by = caller.employee_id.clone();
        let moved_from = (paths.contains(&"department_id")).then(|| before_department.clone());
        if !store::update_employee(&mut tx, &row, version).await? {
            return Err(Error::stale_etag(EMPLOYEE));
        }
        if let Some(from) = moved_from.filter(|from| *from != row.department_id) {
            let department_path = self.department_path(&mut tx, &row.department_id).await?;
            crm_kit::events::append_at(
                &mut tx,
                &row.id,
                &pb::EmployeeMoved {
                    employee_id: row.id.clone(),
                    from_department_id: from,
                    to_department_id: row.department_id.clone(),
                    department_path,
                },
                now,
            )
            .await?;
        }
        if set_roles {
            store::set_roles(&mut tx, &row.id, &src.role_ids).await?;
        }
        let stored = self.load_employee(&mut tx, "employee.id", &row.id).await?;
        let roles = store::role_ids_of(&mut tx, &row.id).await?;
        tx.commit().await?;
        Ok(pb::UpdateEmployeeResponse {
            employee: Some(convert::employee(&stored, roles, now)),
        })
    }

    /// ResetPassword: an administrator sets a new password; the old tokens stop working.
    pub(super) async fn reset_password(
        &self,
        caller: &Principal,
        req: pb::ResetPasswordRequest,
    ) -> Result<pb::ResetPasswordResponse> {
        let mut v = Violations::new();
        check_password("new_password", &req.new_password, &mut v);
        v.finish()?;
        let e = {
            let mut conn = self.conn().await?;
            self.load_employee(&mut conn, "id", &req.id).await?
        };
        let hash = passwords::hash(req.new_password).await?;
        let now = now_micros();
        let mut tx = self.db.begin_write().await?;
        store::set_password(&mut tx, &e.id, &hash, now, &caller.employee_id).await?;
        store::revoke_employee_tokens(&mut tx, &e.id, now).await?;
        // Whoever held the old password may hold a token too: it stops working everywhere.
        // (A deactivated employee's deactivation stays the reason their tokens are refused.)
        if e.status == store::ACTIVE {
            store::revoke_access(&mut tx, &e.id, now, PASSWORD_RESET).await?;
        }
        tx.commit().await?;
        self.revocations_changed().await;
        tracing::info!(employee = %e.id, by = %caller.employee_id, "password reset");
        Ok(pb::ResetPasswordResponse {})
    }
}
