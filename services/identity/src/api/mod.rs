//! The `IdentityService` RPCs. Each one checks its request with the rules in [`crate::domain`]
//! (collecting every field violation), calls the store, and returns `crm_kit::Error`, which the
//! kit maps to `Status`.
//!
//! - [`sessions`]: sign-in with lockout, refresh-token rotation, sign-out, and the signed-in
//!   employee's own profile and password.
//! - [`employees`]: create, get, list, update, password reset.
//! - [`handover`]: deactivation and handover of a leaver's records to a successor.
//! - [`departments`], [`roles`]: the department tree and the roles.
//! - [`keys`]: the published key set and revocations, key rotation, service tokens.
//! - [`seeding`]: the built-in roles and the first administrator.
//! - [`convert`]: rows → wire messages.

pub mod convert;
pub mod departments;
pub mod employees;
pub mod handover;
pub mod keys;
pub mod roles;
pub mod seeding;
pub mod sessions;

use std::sync::Arc;

use crm_kit::db::Db;
use crm_kit::paging::PageTokens;
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use crm_proto::identity::identity_service_server::IdentityService;
use sqlx::AnyConnection;

use crate::store::{self, EmployeeRow};

pub use crate::domain::credentials::{LOCK_AFTER_FAILURES, LOCK_MICROS};
pub use crate::domain::role::{effective, known_permissions};
pub use seeding::seed;

/// The resource type named in errors about employees.
const EMPLOYEE: &str = "crm.identity.v1.Employee";
/// The resource type named in errors about departments.
const DEPARTMENT: &str = "crm.identity.v1.Department";
/// The resource type named in errors about roles.
const ROLE: &str = "crm.identity.v1.Role";

/// The identity service.
#[derive(Clone)]
pub struct IdentityApi {
    db: Db,
    tokens: Arc<PageTokens>,
    access_ttl_seconds: i64,
    refresh_ttl_seconds: i64,
    /// The service's own token verifier, told about a new key as soon as it is installed.
    verifier: Option<Arc<crm_kit::auth::Verifier>>,
    /// The secret services present for their tokens.
    service_secret: String,
    /// The services asked for handover counts.
    handover_peers: Vec<String>,
    /// The country of phone numbers written without a country code.
    phone_region: crm_kit::phone::PhoneRegion,
}

impl std::fmt::Debug for IdentityApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityApi").finish_non_exhaustive()
    }
}

impl IdentityApi {
    /// The service over a migrated database.
    pub fn new(db: Db, config: &crate::Config) -> Self {
        IdentityApi {
            db,
            tokens: Arc::new(PageTokens::new(config.service.page_token_secret.as_bytes())),
            access_ttl_seconds: i64::try_from(config.access_token_minutes.max(1)).unwrap_or(15) * 60,
            refresh_ttl_seconds: i64::try_from(config.refresh_token_days.max(1)).unwrap_or(30) * 86_400,
            verifier: None,
            service_secret: config.service.service_secret.clone(),
            handover_peers: config
                .handover_peers
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            phone_region: config.default_phone_region,
        }
    }

    /// Refreshes `verifier`'s keys after a rotation, so tokens signed with the new key are
    /// accepted here at once (its own refetch is rate-limited).
    pub fn with_verifier(mut self, verifier: Arc<crm_kit::auth::Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// A pooled connection.
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }

    /// Puts a revocation committed here in force in this replica's own verifier at once.
    async fn revocations_changed(&self) {
        if let Some(verifier) = &self.verifier {
            verifier.refresh_revocations().await;
        }
    }

    /// Loads an employee by id; `field` is named when the id is missing.
    async fn load_employee(&self, conn: &mut AnyConnection, field: &str, id: &str) -> Result<EmployeeRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        store::employee(conn, id)
            .await?
            .ok_or_else(|| Error::not_found(EMPLOYEE, id))
    }

    /// The path of a department, or "" when there is none.
    async fn department_path(&self, conn: &mut AnyConnection, department_id: &str) -> Result<String> {
        Ok(store::department(conn, department_id)
            .await?
            .map(|d| d.path)
            .unwrap_or_default())
    }
}

// Access to each method is decided by the kit's auth layer from the contract's `access` option;
// the public methods need no caller (sign-in) or check what they need themselves.
crm_kit::rpcs! {
    impl IdentityService for IdentityApi;
    public: [
        sign_in(pb::SignInRequest) -> pb::SignInResponse;
        refresh_token(pb::RefreshTokenRequest) -> pb::RefreshTokenResponse;
        sign_out(pb::SignOutRequest) -> pb::SignOutResponse;
        get_key_set(pb::GetKeySetRequest) -> pb::GetKeySetResponse;
        list_revocations(pb::ListRevocationsRequest) -> pb::ListRevocationsResponse;
        get_employee(pb::GetEmployeeRequest) -> pb::GetEmployeeResponse;
        list_employees(pb::ListEmployeesRequest) -> pb::ListEmployeesResponse;
        issue_service_token(pb::IssueServiceTokenRequest) -> pb::IssueServiceTokenResponse;
        list_departments(pb::ListDepartmentsRequest) -> pb::ListDepartmentsResponse;
        delete_department(pb::DeleteDepartmentRequest) -> pb::DeleteDepartmentResponse;
        list_roles(pb::ListRolesRequest) -> pb::ListRolesResponse;
        delete_role(pb::DeleteRoleRequest) -> pb::DeleteRoleResponse;
        list_permissions(pb::ListPermissionsRequest) -> pb::ListPermissionsResponse;
    ]
    signed_in: [
        rotate_signing_key(pb::RotateSigningKeyRequest) -> pb::RotateSigningKeyResponse;
        get_current_employee(pb::GetCurrentEmployeeRequest) -> pb::GetCurrentEmployeeResponse;
        change_password(pb::ChangePasswordRequest) -> pb::ChangePasswordResponse;
        create_employee(pb::CreateEmployeeRequest) -> pb::CreateEmployeeResponse;
        update_employee(pb::UpdateEmployeeRequest) -> pb::UpdateEmployeeResponse;
        deactivate_employee(pb::DeactivateEmployeeRequest) -> pb::DeactivateEmployeeResponse;
        hand_over_employee(pb::HandOverEmployeeRequest) -> pb::HandOverEmployeeResponse;
        reset_password(pb::ResetPasswordRequest) -> pb::ResetPasswordResponse;
        create_department(pb::CreateDepartmentRequest) -> pb::CreateDepartmentResponse;
        update_department(pb::UpdateDepartmentRequest) -> pb::UpdateDepartmentResponse;
        create_role(pb::CreateRoleRequest) -> pb::CreateRoleResponse;
        update_role(pb::UpdateRoleRequest) -> pb::UpdateRoleResponse;
    ]
    server_streaming: []
}
