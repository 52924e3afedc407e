//! Roles: custom roles created, changed and deleted; built-in ones listed with them; the
//! permissions a role may grant.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::time::now_micros;
use crm_kit::update::check_etag;
use crm_kit::{Error, Result};
use crm_proto::identity as pb;

use super::{IdentityApi, ROLE, convert};
use crate::domain::mask_paths;
use crate::domain::role::{ROLE_MASK, ROLE_SERVER_OWNED, check_description, check_name, definition, known_permissions};
use crate::store::{self, RoleRow};

impl IdentityApi {
    /// CreateRole: a custom role with a free name that is not a built-in role's.
    pub(super) async fn create_role(
        &self,
        caller: &Principal,
        req: pb::CreateRoleRequest,
    ) -> Result<pb::CreateRoleResponse> {
        let Some(src) = req.role.as_ref() else {
            return Err(Error::required("role"));
        };
        let mut v = Violations::new();
        let name = src.name.trim();
        check_name(name, &mut v);
        check_description(&src.description, &mut v);
        let (permissions, scopes) = definition(src, &mut v);
        v.finish()?;
        let now = now_micros();
        let row = RoleRow {
            id: crm_kit::new_id(),
            name: name.to_string(),
            description: src.description.trim().to_string(),
            permissions,
            scopes,
            built_in: 0,
            version: 1,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            employee_count: 0,
        };
        let mut tx = self.db.begin_write().await?;
        if !store::upsert_role(&mut tx, &row, false).await? {
            return Err(Error::AlreadyExists {
                reason: "ROLE_NAME_TAKEN",
                message: format!("a role named {name} exists"),
                metadata: vec![("field".into(), "role.name".into())],
                resource: None,
            });
        }
        tx.commit().await?;
        Ok(pb::CreateRoleResponse {
            role: Some(convert::role(&row)),
        })
    }

    /// UpdateRole: a custom role's masked fields, at the current etag.
    pub(super) async fn update_role(
        &self,
        caller: &Principal,
        req: pb::UpdateRoleRequest,
    ) -> Result<pb::UpdateRoleResponse> {
        let Some(src) = req.role.as_ref() else {
            return Err(Error::required("role"));
        };
        let paths = mask_paths(req.update_mask.as_ref(), ROLE_MASK, ROLE_SERVER_OWNED, "Role")?;
        let mut tx = self.db.begin_write().await?;
        let id = src.id.trim();
        if id.is_empty() {
            return Err(Error::required("role.id"));
        }
        let Some(mut row) = store::role(&mut tx, id).await? else {
            return Err(Error::not_found(ROLE, id));
        };
        if row.built_in != 0 {
            return Err(Error::precondition(
                "BUILT_IN_ROLE",
                "role.id",
                "built-in roles cannot be changed",
            ));
        }
        check_etag("role.etag", &src.etag, row.version, ROLE)?;
        let mut v = Violations::new();
        let (permissions, scopes) = definition(src, &mut v);
        for p in &paths {
            match *p {
                "description" => {
                    check_description(&src.description, &mut v);
                    row.description = src.description.trim().to_string();
                }
                "permissions" => row.permissions = permissions.clone(),
                "scopes" => row.scopes = scopes.clone(),
                _ => {}
            }
        }
        v.finish()?;
        let version = row.version;
        row.updated_at = now_micros();
        row.updated_by = caller.employee_id.clone();
        if !store::update_role(&mut tx, &row, version).await? {
            return Err(Error::stale_etag(ROLE));
        }
        let stored = store::role(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found(ROLE, id))?;
        tx.commit().await?;
        Ok(pb::UpdateRoleResponse {
            role: Some(convert::role(&stored)),
        })
    }

    /// DeleteRole: a custom role nobody holds.
    pub(super) async fn delete_role(&self, req: pb::DeleteRoleRequest) -> Result<pb::DeleteRoleResponse> {
        let id = req.id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let mut tx = self.db.begin_write().await?;
        let Some(row) = store::role(&mut tx, id).await? else {
            return Err(Error::not_found(ROLE, id));
        };
        if row.built_in != 0 {
            return Err(Error::precondition(
                "BUILT_IN_ROLE",
                "id",
                "built-in roles cannot be deleted",
            ));
        }
        if !store::delete_role(&mut tx, id).await? {
            return Err(Error::precondition(
                "ROLE_IN_USE",
                "id",
                format!(
                    "{} employees hold the role; take it from them first",
                    row.employee_count
                ),
            ));
        }
        tx.commit().await?;
        Ok(pb::DeleteRoleResponse {})
    }

    /// ListRoles: built-in roles first, then by name.
    pub(super) async fn list_roles(&self, _req: pb::ListRolesRequest) -> Result<pb::ListRolesResponse> {
        let mut conn = self.conn().await?;
        let rows = store::roles(&mut conn).await?;
        Ok(pb::ListRolesResponse {
            roles: rows.iter().map(convert::role).collect(),
        })
    }

    /// ListPermissions: every permission an RPC of a CRM service names.
    pub(super) async fn list_permissions(
        &self,
        _req: pb::ListPermissionsRequest,
    ) -> Result<pb::ListPermissionsResponse> {
        Ok(pb::ListPermissionsResponse {
            permissions: known_permissions().into_iter().map(str::to_string).collect(),
        })
    }
}
