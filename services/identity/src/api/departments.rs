//! The department tree: create, update (rename, move, new manager), delete, list.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::time::now_micros;
use crm_kit::update::check_etag;
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use sqlx::AnyConnection;

use super::{DEPARTMENT, IdentityApi, convert};
use crate::domain::department::{
    DEPARTMENT_MASK, DEPARTMENT_SERVER_OWNED, ROOT_PATH, check_name, child_path, is_within, sibling_taken,
};
use crate::domain::mask_paths;
use crate::store::{self, DepartmentRow};

impl IdentityApi {
    /// Checks a department's manager: empty, or an active employee.
    async fn check_manager(&self, conn: &mut AnyConnection, manager: &str, v: &mut Violations) -> Result<()> {
        let manager = manager.trim();
        if !manager.is_empty()
            && store::employee(conn, manager)
                .await?
                .is_none_or(|m| m.status != store::ACTIVE)
        {
            v.add(
                "department.manager_id",
                "UNKNOWN_EMPLOYEE",
                format!("{manager} is not an active employee"),
            );
        }
        Ok(())
    }

    /// CreateDepartment: at the top, or under an existing parent; siblings' names differ.
    pub(super) async fn create_department(
        &self,
        caller: &Principal,
        req: pb::CreateDepartmentRequest,
    ) -> Result<pb::CreateDepartmentResponse> {
        let Some(src) = req.department.as_ref() else {
            return Err(Error::required("department"));
        };
        let mut v = Violations::new();
        check_name(&src.name, &mut v);
        let mut tx = self.db.begin_write().await?;
        let parent = src.parent_id.trim();
        let parent_path = if parent.is_empty() {
            String::from(ROOT_PATH)
        } else {
            match store::department(&mut tx, parent).await? {
                Some(p) => p.path,
                None => {
                    v.add(
                        "department.parent_id",
                        "UNKNOWN_DEPARTMENT",
                        format!("department {parent} does not exist"),
                    );
                    String::new()
                }
            }
        };
        self.check_manager(&mut tx, &src.manager_id, &mut v).await?;
        v.finish()?;
        let id = crm_kit::new_id();
        let now = now_micros();
        let row = DepartmentRow {
            path: child_path(&parent_path, &id),
            id,
            parent_id: parent.to_string(),
            name: src.name.trim().to_string(),
            manager_id: src.manager_id.trim().to_string(),
            version: 1,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            employee_count: 0,
        };
        if !store::insert_department(&mut tx, &row).await? {
            return Err(sibling_taken(&row.name));
        }
        tx.commit().await?;
        Ok(pb::CreateDepartmentResponse {
            department: Some(convert::department(&row)),
        })
    }

    /// UpdateDepartment: the masked fields, at the current etag. A move takes the subtree with
    /// it (announced as `DepartmentMoved`) and may not go under the department itself.
    pub(super) async fn update_department(
        &self,
        caller: &Principal,
        req: pb::UpdateDepartmentRequest,
    ) -> Result<pb::UpdateDepartmentResponse> {
        let Some(src) = req.department.as_ref() else {
            return Err(Error::required("department"));
        };
        let paths = mask_paths(
            req.update_mask.as_ref(),
            DEPARTMENT_MASK,
            DEPARTMENT_SERVER_OWNED,
            "Department",
        )?;
        let mut tx = self.db.begin_write().await?;
        let id = src.id.trim();
        if id.is_empty() {
            return Err(Error::required("department.id"));
        }
        let Some(mut row) = store::department(&mut tx, id).await? else {
            return Err(Error::not_found(DEPARTMENT, id));
        };
        check_etag("department.etag", &src.etag, row.version, DEPARTMENT)?;
        let old_path = row.path.clone();
        let version = row.version;
        let mut v = Violations::new();
        for p in &paths {
            match *p {
                "name" => {
                    check_name(&src.name, &mut v);
                    row.name = src.name.trim().to_string();
                }
                "manager_id" => {
                    self.check_manager(&mut tx, &src.manager_id, &mut v).await?;
                    row.manager_id = src.manager_id.trim().to_string();
                }
                "parent_id" => {
                    let parent = src.parent_id.trim();
                    if parent.is_empty() {
                        row.parent_id = String::new();
                        row.path = child_path(ROOT_PATH, &row.id);
                    } else {
                        match store::department(&mut tx, parent).await? {
                            None => v.add(
                                "department.parent_id",
                                "UNKNOWN_DEPARTMENT",
                                format!("department {parent} does not exist"),
                            ),
                            Some(p) if is_within(&p.path, &old_path) => v.add(
                                "department.parent_id",
                                "CYCLE",
                                "a department cannot move under itself or its sub-departments",
                            ),
                            Some(p) => {
                                row.parent_id = p.id.clone();
                                row.path = child_path(&p.path, &row.id);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        v.finish()?;
        row.updated_at = now_micros();
        row.updated_by = caller.employee_id.clone();
        match store::update_department(&mut tx, &row, &old_path, version).await? {
            None => return Err(Error::stale_etag(DEPARTMENT)),
            Some(false) => return Err(sibling_taken(&row.name)),
            Some(true) => {}
        }
        if row.path != old_path {
            crm_kit::events::append(
                &mut tx,
                &row.id,
                &pb::DepartmentMoved {
                    department_id: row.id.clone(),
                    old_path: old_path.clone(),
                    new_path: row.path.clone(),
                },
            )
            .await?;
        }
        let stored = store::department(&mut tx, &row.id)
            .await?
            .ok_or_else(|| Error::not_found(DEPARTMENT, &row.id))?;
        tx.commit().await?;
        Ok(pb::UpdateDepartmentResponse {
            department: Some(convert::department(&stored)),
        })
    }

    /// DeleteDepartment: only one without sub-departments or employees.
    pub(super) async fn delete_department(
        &self,
        req: pb::DeleteDepartmentRequest,
    ) -> Result<pb::DeleteDepartmentResponse> {
        let id = req.id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let mut tx = self.db.begin_write().await?;
        if store::department(&mut tx, id).await?.is_none() {
            return Err(Error::not_found(DEPARTMENT, id));
        }
        if !store::delete_department(&mut tx, id).await? {
            return Err(Error::precondition(
                "DEPARTMENT_IN_USE",
                "id",
                "the department has sub-departments or employees; move them first",
            ));
        }
        tx.commit().await?;
        Ok(pb::DeleteDepartmentResponse {})
    }

    /// ListDepartments: every department, parents before children.
    pub(super) async fn list_departments(
        &self,
        _req: pb::ListDepartmentsRequest,
    ) -> Result<pb::ListDepartmentsResponse> {
        let mut conn = self.conn().await?;
        let rows = store::departments(&mut conn).await?;
        Ok(pb::ListDepartmentsResponse {
            departments: rows.iter().map(convert::department).collect(),
        })
    }
}
