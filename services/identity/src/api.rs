//! The `IdentityService` RPCs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::token::{self, Claims};
use crm_kit::auth::{Principal, Scope};
use crm_kit::db::Db;
use crm_kit::errors::Violations;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::paging::{PageTokens, fingerprint, page_size};
use crm_kit::time::{now_micros, set_to_proto};
use crm_kit::update::{check_etag, etag};
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use crm_proto::identity::identity_service_server::IdentityService;
use sha2::Digest as _;
use sqlx::AnyConnection;

use crate::store::{self, DepartmentRow, EmployeeRow, RoleRow};
use crate::{keys, passwords, roles};
use crm_kit::errors::reason;

const EMPLOYEE: &str = "crm.identity.v1.Employee";
const DEPARTMENT: &str = "crm.identity.v1.Department";
const ROLE: &str = "crm.identity.v1.Role";

/// The reason of a revocation by a password reset.
const PASSWORD_RESET: &str = "password_reset";

/// Failed sign-ins in a row that lock an account.
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_MICROS: i64 = 15 * 60 * 1_000_000;

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
}

impl std::fmt::Debug for IdentityApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityApi").finish_non_exhaustive()
    }
}

fn audit(created_at: i64, created_by: &str, updated_at: i64, updated_by: &str) -> Option<crm_proto::common::AuditInfo> {
    Some(crm_proto::common::AuditInfo {
        create_time: set_to_proto(created_at),
        created_by: created_by.to_string(),
        update_time: set_to_proto(updated_at),
        updated_by: updated_by.to_string(),
    })
}

fn employee_proto(e: &EmployeeRow, role_ids: Vec<String>, now: i64) -> pb::Employee {
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

fn department_proto(d: &DepartmentRow) -> pb::Department {
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

fn scope_proto(s: Scope) -> i32 {
    match s {
        Scope::Own => pb::DataScope::Own as i32,
        Scope::Department => pb::DataScope::Department as i32,
        Scope::DepartmentTree => pb::DataScope::DepartmentTree as i32,
        Scope::All => pb::DataScope::All as i32,
    }
}

fn role_scopes(r: &RoleRow) -> BTreeMap<String, Scope> {
    serde_json::from_str::<BTreeMap<String, String>>(&r.scopes)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Scope::parse(&v).map(|s| (k, s)))
        .collect()
}

fn role_permissions(r: &RoleRow) -> Vec<String> {
    serde_json::from_str(&r.permissions).unwrap_or_default()
}

fn role_proto(r: &RoleRow) -> pb::Role {
    pb::Role {
        id: r.id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        permissions: role_permissions(r),
        scopes: role_scopes(r)
            .into_iter()
            .map(|(service, s)| pb::ServiceScope {
                service,
                scope: scope_proto(s),
            })
            .collect(),
        built_in: r.built_in != 0,
        employee_count: r.employee_count,
        audit: audit(r.created_at, &r.created_by, r.updated_at, &r.updated_by),
        etag: etag(r.version),
    }
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

fn hash_refresh(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn bad_credentials() -> Error {
    Error::unauthenticated("INVALID_CREDENTIALS", "wrong login or password")
}

fn locked(until: i64) -> Error {
    Error::Unauthenticated {
        reason: "ACCOUNT_LOCKED",
        message: format!(
            "the account is locked after {LOCK_AFTER_FAILURES} failed sign-ins until {}",
            crm_kit::time::format_rfc3339(until)
        ),
        metadata: vec![("unlock_time".into(), crm_kit::time::format_rfc3339(until))],
    }
}

fn check_password(field: &str, password: &str, v: &mut Violations) {
    let n = password.chars().count();
    if n < passwords::MIN_LENGTH {
        v.add(
            field,
            "TOO_SHORT",
            format!("must be at least {} characters", passwords::MIN_LENGTH),
        );
    } else if n > passwords::MAX_LENGTH {
        v.add(
            field,
            reason::TOO_LONG,
            format!("must be at most {} characters", passwords::MAX_LENGTH),
        );
    }
}

fn check_login(login: &str, v: &mut Violations) {
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

/// Single-line text: required or not, at most `max` characters, no control characters.
fn check_text(field: &str, value: &str, required: bool, max: usize, v: &mut Violations) {
    crm_kit::text::check(v, field, value, required, max, crm_kit::text::Lines::Single);
}

/// A description: as [`check_text`], with line breaks and tabs.
fn check_notes(field: &str, value: &str, required: bool, max: usize, v: &mut Violations) {
    crm_kit::text::check(v, field, value, required, max, crm_kit::text::Lines::Multi);
}

/// Most roles one employee holds.
const MAX_ROLES: usize = 50;
/// Most permission patterns one role grants.
const MAX_PERMISSIONS: usize = 500;

fn check_email(field: &str, email: &str, v: &mut Violations) {
    if email.is_empty() {
        return;
    }
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        });
    if !ok {
        v.add(field, reason::MALFORMED, "is not an e-mail address");
    }
}

fn check_phone(field: &str, phone: &str, v: &mut Violations) {
    if phone.is_empty() {
        return;
    }
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits) || !phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        v.add(
            field,
            reason::MALFORMED,
            "must be 5 to 20 digits with optional + - ( ) and spaces",
        );
    }
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

/// An employee's editable fields in `UpdateEmployee`.
const EMPLOYEE_MASK: &[&str] = &[
    "display_name",
    "email",
    "phone",
    "department_id",
    "manager_id",
    "role_ids",
];
fn not_active() -> Error {
    Error::precondition("NOT_ACTIVE", "id", "the employee is already deactivated")
}

/// Fields the server sets; naming them in a mask is refused.
const EMPLOYEE_SERVER_OWNED: &[&str] = &["id", "login", "status", "locked_until", "audit", "etag"];

fn mask_paths<'a>(
    mask: Option<&'a prost_types::FieldMask>,
    editable: &[&str],
    server_owned: &[&str],
    resource: &str,
) -> Result<Vec<&'a str>> {
    let mut v = Violations::new();
    let paths = crm_kit::update::mask_paths(
        mask.map_or(&[][..], |m| &m.paths),
        editable,
        server_owned,
        resource,
        &mut v,
    );
    v.finish()?;
    Ok(paths)
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
        }
    }

    /// Refreshes `verifier`'s keys after a rotation, so tokens signed with the new key are
    /// accepted here at once (its own refetch is rate-limited).
    pub fn with_verifier(mut self, verifier: Arc<crm_kit::auth::Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }

    /// Access and refresh tokens for `e`, the refresh token starting or continuing `family`.
    async fn issue(&self, conn: &mut AnyConnection, e: &EmployeeRow, family: &str) -> Result<pb::Tokens> {
        let roles = store::roles_of(conn, &e.id).await?;
        let (perms, scopes) = effective(&roles);
        let dpath = store::department(conn, &e.department_id)
            .await?
            .map(|d| d.path)
            .unwrap_or_default();
        let now_s = crm_kit::time::now_seconds();
        // Verifiers refuse tokens issued at or before the second of a revocation: a token
        // issued later in that same second (a reset password's first sign-in) says the next.
        let issued_at = match store::revoked_at(conn, &e.id).await? {
            Some(at) => now_s.max(at.div_euclid(1_000_000) + 1),
            None => now_s,
        };
        let claims = Claims {
            iss: crm_kit::auth::ISSUER.into(),
            aud: vec![crm_kit::auth::AUDIENCE.into()],
            sub: e.id.clone(),
            iat: issued_at,
            nbf: now_s,
            exp: now_s + self.access_ttl_seconds,
            jti: crm_kit::new_id(),
            name: e.display_name.clone(),
            dept: e.department_id.clone(),
            dpath,
            roles: roles.iter().map(|r| r.name.clone()).collect(),
            perms,
            scopes: scopes.into_iter().map(|(k, s)| (k, s.as_str().to_string())).collect(),
        };
        let (kid, key) = keys::current(conn).await?;
        let access = token::sign(&claims, &kid, &key);
        let refresh = random_token();
        let now = now_micros();
        let refresh_expires = now + self.refresh_ttl_seconds * 1_000_000;
        store::insert_refresh(conn, &hash_refresh(&refresh), &e.id, family, now, refresh_expires).await?;
        Ok(pb::Tokens {
            access_token: access,
            access_token_expire_time: set_to_proto(claims.exp * 1_000_000),
            refresh_token: refresh,
            refresh_token_expire_time: set_to_proto(refresh_expires),
            token_type: "Bearer".into(),
        })
    }

    async fn sign_in(&self, req: pb::SignInRequest) -> Result<pb::SignInResponse> {
        let mut v = Violations::new();
        // Bounded and free of control characters before it reaches the database (PostgreSQL
        // refuses NUL, which would surface as INTERNAL).
        v.take(crm_kit::text::required(
            "login",
            &req.login,
            254,
            crm_kit::text::Lines::Single,
        ));
        if req.password.is_empty() {
            v.add("password", reason::REQUIRED, "is required");
        } else if req.password.chars().count() > passwords::MAX_LENGTH {
            v.add(
                "password",
                reason::TOO_LONG,
                format!("must be at most {} characters", passwords::MAX_LENGTH),
            );
        }
        v.finish()?;
        let mut conn = self.conn().await?;
        let Some(e) = store::employee_by_login(&mut conn, req.login.trim()).await? else {
            // Same work, same answer as a wrong password: logins cannot be probed.
            let _ = passwords::verify(req.password, passwords::DECOY.into()).await;
            return Err(bad_credentials());
        };
        let now = now_micros();
        if e.locked_until > now {
            return Err(locked(e.locked_until));
        }
        drop(conn);
        let good = passwords::verify(req.password, e.password_hash.clone()).await;
        let mut tx = self.db.begin_write().await?;
        if !good {
            let until = store::record_failed_sign_in(&mut tx, &e.id, LOCK_AFTER_FAILURES, now + LOCK_MICROS).await?;
            tx.commit().await?;
            if until > now {
                if until == now + LOCK_MICROS {
                    tracing::warn!(employee = %e.id, "account locked after repeated failed sign-ins");
                }
                return Err(locked(until));
            }
            return Err(bad_credentials());
        }
        if e.status != store::ACTIVE {
            return Err(Error::unauthenticated(
                "ACCOUNT_DEACTIVATED",
                "the account is deactivated",
            ));
        }
        // Failures running alongside this sign-in may have locked the account since it was
        // read: the right password must not get past a lock, however the guesses are timed.
        if !store::clear_failed_sign_ins(&mut tx, &e.id, now).await? {
            let until = store::employee(&mut tx, &e.id).await?.map_or(0, |e| e.locked_until);
            return Err(locked(until));
        }
        let tokens = self.issue(&mut tx, &e, &crm_kit::new_id()).await?;
        let role_ids = store::role_ids_of(&mut tx, &e.id).await?;
        tx.commit().await?;
        tracing::info!(employee = %e.id, "signed in");
        Ok(pb::SignInResponse {
            tokens: Some(tokens),
            employee: Some(employee_proto(&e, role_ids, now)),
        })
    }

    async fn refresh_token(&self, req: pb::RefreshTokenRequest) -> Result<pb::RefreshTokenResponse> {
        if req.refresh_token.trim().is_empty() {
            return Err(Error::required("refresh_token"));
        }
        let refused =
            || Error::unauthenticated("INVALID_REFRESH_TOKEN", "the refresh token is not valid; sign in again");
        let now = now_micros();
        let mut tx = self.db.begin_write().await?;
        let Some(t) = store::refresh_by_hash(&mut tx, &hash_refresh(req.refresh_token.trim())).await? else {
            return Err(refused());
        };
        if t.revoked_at != 0 || t.expires_at <= now {
            return Err(refused());
        }
        if t.used_at != 0 || !store::use_refresh(&mut tx, &t.id, now).await? {
            // A used token again: someone holds a copy. End the whole sign-in.
            store::revoke_family(&mut tx, &t.family_id, now).await?;
            tx.commit().await?;
            tracing::warn!(employee = %t.employee_id, "refresh token reused; the sign-in is revoked");
            return Err(Error::unauthenticated(
                "REFRESH_TOKEN_REUSED",
                "the refresh token was already used; sign in again",
            ));
        }
        let Some(e) = store::employee(&mut tx, &t.employee_id)
            .await?
            .filter(|e| e.status == store::ACTIVE)
        else {
            return Err(refused());
        };
        let tokens = self.issue(&mut tx, &e, &t.family_id).await?;
        tx.commit().await?;
        Ok(pb::RefreshTokenResponse { tokens: Some(tokens) })
    }

    async fn sign_out(&self, req: pb::SignOutRequest) -> Result<pb::SignOutResponse> {
        if req.refresh_token.trim().is_empty() {
            return Err(Error::required("refresh_token"));
        }
        let mut tx = self.db.begin_write().await?;
        // An unknown token signs nobody out, and says nothing about whether it existed.
        if let Some(t) = store::refresh_by_hash(&mut tx, &hash_refresh(req.refresh_token.trim())).await? {
            store::revoke_family(&mut tx, &t.family_id, now_micros()).await?;
        }
        tx.commit().await?;
        Ok(pb::SignOutResponse {})
    }

    async fn get_key_set(&self, _req: pb::GetKeySetRequest) -> Result<pb::GetKeySetResponse> {
        let mut conn = self.conn().await?;
        let keys = store::signing_keys(&mut conn, now_micros() - keys::RETIRED_KEPT_MICROS).await?;
        Ok(pb::GetKeySetResponse {
            keys: keys
                .into_iter()
                .map(|k| pb::SigningKey {
                    kid: k.kid,
                    algorithm: token::ALGORITHM.into(),
                    public_key: k.public_key,
                    create_time: set_to_proto(k.created_at),
                    retire_time: set_to_proto(k.retired_at),
                })
                .collect(),
            issuer: crm_kit::auth::ISSUER.into(),
            audience: crm_kit::auth::AUDIENCE.into(),
        })
    }

    async fn list_revocations(&self, _req: pb::ListRevocationsRequest) -> Result<pb::ListRevocationsResponse> {
        let mut conn = self.conn().await?;
        let revocations = keys::revocations(&mut conn).await?;
        Ok(pb::ListRevocationsResponse {
            revocations: revocations
                .into_iter()
                .map(|r| pb::Revocation {
                    employee_id: r.employee_id,
                    revoke_time: Some(prost_types::Timestamp {
                        seconds: r.before,
                        nanos: 0,
                    }),
                    reason: if r.deactivated {
                        crm_kit::auth::DEACTIVATED.into()
                    } else {
                        PASSWORD_RESET.into()
                    },
                })
                .collect(),
        })
    }

    /// Puts a revocation committed here in force in this replica's own verifier at once.
    async fn revocations_changed(&self) {
        if let Some(verifier) = &self.verifier {
            verifier.refresh_revocations().await;
        }
    }

    async fn rotate_signing_key(
        &self,
        caller: &Principal,
        _req: pb::RotateSigningKeyRequest,
    ) -> Result<pb::RotateSigningKeyResponse> {
        let key = token::generate_key();
        let row = keys::row_of(&key, now_micros());
        let mut tx = self.db.begin_write().await?;
        store::install_key(&mut tx, &row).await?;
        tx.commit().await?;
        if let Some(verifier) = &self.verifier {
            verifier.prefetch().await;
        }
        tracing::info!(kid = %row.kid, by = %caller.employee_id, "signing key rotated");
        Ok(pb::RotateSigningKeyResponse {
            key: Some(pb::SigningKey {
                kid: row.kid,
                algorithm: token::ALGORITHM.into(),
                public_key: row.public_key,
                create_time: set_to_proto(row.created_at),
                retire_time: None,
            }),
        })
    }

    async fn load_employee(&self, conn: &mut AnyConnection, field: &str, id: &str) -> Result<EmployeeRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        store::employee(conn, id)
            .await?
            .ok_or_else(|| Error::not_found(EMPLOYEE, id))
    }

    async fn get_current_employee(
        &self,
        caller: &Principal,
        _req: pb::GetCurrentEmployeeRequest,
    ) -> Result<pb::GetCurrentEmployeeResponse> {
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "employee", &caller.employee_id).await?;
        let roles = store::roles_of(&mut conn, &e.id).await?;
        let (permissions, scopes) = effective(&roles);
        Ok(pb::GetCurrentEmployeeResponse {
            employee: Some(employee_proto(
                &e,
                roles.iter().map(|r| r.id.clone()).collect(),
                now_micros(),
            )),
            permissions,
            scopes: scopes
                .into_iter()
                .map(|(service, s)| pb::ServiceScope {
                    service,
                    scope: scope_proto(s),
                })
                .collect(),
        })
    }

    async fn change_password(
        &self,
        caller: &Principal,
        req: pb::ChangePasswordRequest,
    ) -> Result<pb::ChangePasswordResponse> {
        let mut v = Violations::new();
        if req.old_password.is_empty() {
            v.add("old_password", reason::REQUIRED, "is required");
        }
        check_password("new_password", &req.new_password, &mut v);
        if !req.old_password.is_empty() && req.old_password == req.new_password {
            v.add("new_password", "UNCHANGED", "must differ from the old password");
        }
        v.finish()?;
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "employee", &caller.employee_id).await?;
        drop(conn);
        // The old password is a password guess like a sign-in: it counts towards the lockout,
        // so a stolen access token cannot be used to guess the password without limit.
        let now = now_micros();
        if e.locked_until > now {
            return Err(locked(e.locked_until));
        }
        if !passwords::verify(req.old_password, e.password_hash.clone()).await {
            let mut tx = self.db.begin_write().await?;
            let until = store::record_failed_sign_in(&mut tx, &e.id, LOCK_AFTER_FAILURES, now + LOCK_MICROS).await?;
            tx.commit().await?;
            if until > now {
                return Err(locked(until));
            }
            return Err(Error::invalid(
                "old_password",
                "WRONG_PASSWORD",
                "is not the current password",
            ));
        }
        let hash = passwords::hash(req.new_password).await?;
        let mut tx = self.db.begin_write().await?;
        store::set_password(&mut tx, &e.id, &hash, now, &caller.employee_id).await?;
        store::revoke_employee_tokens(&mut tx, &e.id, now).await?;
        tx.commit().await?;
        Ok(pb::ChangePasswordResponse {})
    }

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

    async fn create_employee(
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
        check_email("employee.email", src.email.trim(), &mut v);
        check_phone("employee.phone", src.phone.trim(), &mut v);
        if src.department_id.trim().is_empty() {
            v.add("employee.department_id", reason::REQUIRED, "is required");
        }
        check_password("password", &password, &mut v);
        let id = req.employee_id.trim();
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
            email: src.email.trim().to_string(),
            phone: src.phone.trim().to_string(),
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
            employee: Some(employee_proto(
                &stored,
                store::role_ids_of(&mut tx, &row.id).await?,
                now,
            )),
        };
        tx.finish(response).await
    }

    async fn get_employee(&self, req: pb::GetEmployeeRequest) -> Result<pb::GetEmployeeResponse> {
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "id", &req.id).await?;
        let roles = store::role_ids_of(&mut conn, &e.id).await?;
        Ok(pb::GetEmployeeResponse {
            employee: Some(employee_proto(&e, roles, now_micros())),
        })
    }

    async fn list_employees(&self, req: pb::ListEmployeesRequest) -> Result<pb::ListEmployeesResponse> {
        let limit = page_size(req.page_size, 50, 500)?;
        crm_kit::text::search_query("query", &req.query)?;
        let fp = fingerprint(&[&req.filter, &req.query]);
        let after: Option<(String, String)> = if req.page_token.is_empty() {
            None
        } else {
            Some(self.tokens.decode(&fp, &req.page_token)?)
        };
        let filter = crm_kit::filter::compile(EMPLOYEE_FILTER, &req.filter, 1)?;
        let mut conn = self.conn().await?;
        let mut rows = store::employees_page(
            &mut conn,
            filter.as_ref(),
            req.query.trim(),
            after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            limit,
        )
        .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => self.tokens.encode(&fp, &(last.login_key.clone(), last.id.clone())),
            _ => String::new(),
        };
        let now = now_micros();
        let ids: Vec<&str> = rows.iter().map(|e| e.id.as_str()).collect();
        let mut roles = store::role_ids_of_many(&mut conn, &ids).await?;
        let employees = rows
            .iter()
            .map(|e| employee_proto(e, roles.remove(&e.id).unwrap_or_default(), now))
            .collect();
        Ok(pb::ListEmployeesResponse {
            employees,
            next_page_token,
        })
    }

    async fn update_employee(
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
                    check_email("employee.email", src.email.trim(), &mut v);
                    row.email = src.email.trim().to_string();
                }
                "phone" => {
                    check_phone("employee.phone", src.phone.trim(), &mut v);
                    row.phone = src.phone.trim().to_string();
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
            employee: Some(employee_proto(&stored, roles, now)),
        })
    }

    /// Checks a handover's leaver and successor: the leaver exists (active unless `leaving`
    /// is being decided by the caller), the successor is someone else and active.
    async fn handover_parties(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        successor_id: &str,
    ) -> Result<(EmployeeRow, EmployeeRow)> {
        let e = self.load_employee(conn, "id", id).await?;
        let successor = successor_id.trim();
        let mut v = Violations::new();
        let mut found = None;
        if successor.is_empty() {
            v.add(
                "successor_id",
                reason::REQUIRED,
                "is required: someone takes over the records",
            );
        } else if successor == e.id {
            v.add("successor_id", "SELF", "must be someone other than the leaver");
        } else {
            match store::employee(conn, successor).await? {
                Some(s) if s.status == store::ACTIVE => found = Some(s),
                _ => v.add(
                    "successor_id",
                    "UNKNOWN_EMPLOYEE",
                    format!("{successor} is not an active employee"),
                ),
            }
        }
        v.finish()?;
        let successor = found.ok_or_else(|| Error::required("successor_id"))?;
        Ok((e, successor))
    }

    async fn department_path(&self, conn: &mut AnyConnection, department_id: &str) -> Result<String> {
        Ok(store::department(conn, department_id)
            .await?
            .map(|d| d.path)
            .unwrap_or_default())
    }

    async fn deactivate_employee(
        &self,
        caller: &Principal,
        req: pb::DeactivateEmployeeRequest,
    ) -> Result<pb::DeactivateEmployeeResponse> {
        if req.dry_run {
            let mut conn = self.conn().await?;
            let (e, _) = self.handover_parties(&mut conn, &req.id, &req.successor_id).await?;
            if e.status != store::ACTIVE {
                return Err(not_active());
            }
            let counts = crate::handover::count(&mut conn, &self.handover_peers, &e.id, true).await?;
            let roles = store::role_ids_of(&mut conn, &e.id).await?;
            return Ok(pb::DeactivateEmployeeResponse {
                employee: Some(employee_proto(&e, roles, now_micros())),
                handover_id: String::new(),
                counts,
            });
        }
        let counts = {
            let mut conn = self.conn().await?;
            crate::handover::count(&mut conn, &self.handover_peers, req.id.trim(), false).await?
        };
        let mut tx = self.db.begin_write().await?;
        let (e, successor) = self.handover_parties(&mut tx, &req.id, &req.successor_id).await?;
        if e.id == caller.employee_id {
            return Err(Error::precondition(
                "SELF_DEACTIVATION",
                "id",
                "you cannot deactivate yourself",
            ));
        }
        let now = now_micros();
        if !store::deactivate(&mut tx, &e.id, &successor.id, now, &caller.employee_id).await? {
            return Err(not_active());
        }
        store::revoke_employee_tokens(&mut tx, &e.id, now).await?;
        store::revoke_access(&mut tx, &e.id, now, crm_kit::auth::DEACTIVATED).await?;
        let handover_id = crm_kit::new_id();
        let successor_department_path = self.department_path(&mut tx, &successor.department_id).await?;
        crm_kit::events::append_at(
            &mut tx,
            &e.id,
            &pb::EmployeeDeactivated {
                employee_id: e.id.clone(),
                successor_id: successor.id.clone(),
                successor_department_path,
                handover_id: handover_id.clone(),
                requested_by: caller.employee_id.clone(),
            },
            now,
        )
        .await?;
        let stored = self.load_employee(&mut tx, "id", &e.id).await?;
        let roles = store::role_ids_of(&mut tx, &e.id).await?;
        tx.commit().await?;
        self.revocations_changed().await;
        tracing::info!(employee = %e.id, successor = %successor.id, handover = %handover_id, by = %caller.employee_id, "employee deactivated");
        Ok(pb::DeactivateEmployeeResponse {
            employee: Some(employee_proto(&stored, roles, now)),
            handover_id,
            counts,
        })
    }

    async fn hand_over_employee(
        &self,
        caller: &Principal,
        req: pb::HandOverEmployeeRequest,
    ) -> Result<pb::HandOverEmployeeResponse> {
        let mut conn = self.conn().await?;
        let (e, successor) = self.handover_parties(&mut conn, &req.id, &req.successor_id).await?;
        if e.status != store::ACTIVE {
            // A leaver's records were handed over when they were deactivated.
            return Err(not_active());
        }
        let counts = crate::handover::count(&mut conn, &self.handover_peers, &e.id, req.dry_run).await?;
        if req.dry_run {
            return Ok(pb::HandOverEmployeeResponse {
                handover_id: String::new(),
                counts,
            });
        }
        let successor_department_path = self.department_path(&mut conn, &successor.department_id).await?;
        drop(conn);
        let mut tx = self.db.begin_write().await?;
        let handover_id = crm_kit::new_id();
        crm_kit::events::append(
            &mut tx,
            &e.id,
            &pb::HandoverRequested {
                handover_id: handover_id.clone(),
                employee_id: e.id.clone(),
                successor_id: successor.id.clone(),
                successor_department_path,
                requested_by: caller.employee_id.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(employee = %e.id, successor = %successor.id, handover = %handover_id, by = %caller.employee_id, "handover requested");
        Ok(pb::HandOverEmployeeResponse { handover_id, counts })
    }

    async fn reset_password(
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

    async fn create_department(
        &self,
        caller: &Principal,
        req: pb::CreateDepartmentRequest,
    ) -> Result<pb::CreateDepartmentResponse> {
        let Some(src) = req.department.as_ref() else {
            return Err(Error::required("department"));
        };
        let mut v = Violations::new();
        check_text("department.name", &src.name, true, 100, &mut v);
        let mut tx = self.db.begin_write().await?;
        let parent = src.parent_id.trim();
        let parent_path = if parent.is_empty() {
            String::from("/")
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
            path: format!("{parent_path}{id}/"),
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
            department: Some(department_proto(&row)),
        })
    }

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

    async fn update_department(
        &self,
        caller: &Principal,
        req: pb::UpdateDepartmentRequest,
    ) -> Result<pb::UpdateDepartmentResponse> {
        let Some(src) = req.department.as_ref() else {
            return Err(Error::required("department"));
        };
        let paths = mask_paths(
            req.update_mask.as_ref(),
            &["name", "parent_id", "manager_id"],
            &["id", "path", "employee_count", "audit", "etag"],
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
                    check_text("department.name", &src.name, true, 100, &mut v);
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
                        row.path = format!("/{}/", row.id);
                    } else {
                        match store::department(&mut tx, parent).await? {
                            None => v.add(
                                "department.parent_id",
                                "UNKNOWN_DEPARTMENT",
                                format!("department {parent} does not exist"),
                            ),
                            Some(p) if p.path.starts_with(&old_path) => v.add(
                                "department.parent_id",
                                "CYCLE",
                                "a department cannot move under itself or its sub-departments",
                            ),
                            Some(p) => {
                                row.parent_id = p.id.clone();
                                row.path = format!("{}{}/", p.path, row.id);
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
            department: Some(department_proto(&stored)),
        })
    }

    async fn delete_department(&self, req: pb::DeleteDepartmentRequest) -> Result<pb::DeleteDepartmentResponse> {
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

    fn role_definition(src: &pb::Role, v: &mut Violations) -> (String, String) {
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

    async fn create_role(&self, caller: &Principal, req: pb::CreateRoleRequest) -> Result<pb::CreateRoleResponse> {
        let Some(src) = req.role.as_ref() else {
            return Err(Error::required("role"));
        };
        let mut v = Violations::new();
        let name = src.name.trim();
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
        check_notes("role.description", &src.description, false, 500, &mut v);
        let (permissions, scopes) = Self::role_definition(src, &mut v);
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
            role: Some(role_proto(&row)),
        })
    }

    async fn update_role(&self, caller: &Principal, req: pb::UpdateRoleRequest) -> Result<pb::UpdateRoleResponse> {
        let Some(src) = req.role.as_ref() else {
            return Err(Error::required("role"));
        };
        let paths = mask_paths(
            req.update_mask.as_ref(),
            &["description", "permissions", "scopes"],
            &["id", "name", "built_in", "employee_count", "audit", "etag"],
            "Role",
        )?;
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
        let (permissions, scopes) = Self::role_definition(src, &mut v);
        for p in &paths {
            match *p {
                "description" => {
                    check_notes("role.description", &src.description, false, 500, &mut v);
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
            role: Some(role_proto(&stored)),
        })
    }

    async fn delete_role(&self, req: pb::DeleteRoleRequest) -> Result<pb::DeleteRoleResponse> {
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
}

fn sibling_taken(name: &str) -> Error {
    Error::AlreadyExists {
        reason: "DEPARTMENT_NAME_TAKEN",
        message: format!("a department named {name} already exists under the same parent"),
        metadata: vec![("field".into(), "department.name".into())],
        resource: None,
    }
}

/// Writes the built-in roles and, on an empty database, the first department and administrator.
/// Returns the generated administrator password when one was generated.
pub async fn seed(db: &Db, admin_login: &str, admin_password: Option<&str>) -> Result<Option<String>> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    for r in roles::BUILT_IN {
        let permissions: Vec<&str> = r.permissions.to_vec();
        let scopes: BTreeMap<&str, &str> = r.scopes.iter().map(|(s, sc)| (*s, sc.as_str())).collect();
        let row = RoleRow {
            id: r.name.into(),
            name: r.name.into(),
            description: r.description.into(),
            permissions: serde_json::to_string(&permissions).unwrap_or_default(),
            scopes: serde_json::to_string(&scopes).unwrap_or_default(),
            built_in: 1,
            version: 1,
            created_at: now,
            created_by: "system".into(),
            updated_at: now,
            updated_by: "system".into(),
            employee_count: 0,
        };
        store::upsert_role(&mut tx, &row, true).await?;
    }
    if store::any_employee(&mut tx).await? {
        tx.commit().await?;
        return Ok(None);
    }
    let department = crm_kit::new_id();
    store::insert_department(
        &mut tx,
        &DepartmentRow {
            path: format!("/{department}/"),
            id: department.clone(),
            parent_id: String::new(),
            name: "Company".into(),
            manager_id: String::new(),
            version: 1,
            created_at: now,
            created_by: "system".into(),
            updated_at: now,
            updated_by: "system".into(),
            employee_count: 0,
        },
    )
    .await?;
    let (password, generated) = match admin_password.filter(|p| !p.is_empty()) {
        Some(p) => (p.to_string(), None),
        None => {
            let p = passwords::generate();
            (p.clone(), Some(p))
        }
    };
    let row = EmployeeRow {
        id: crm_kit::new_id(),
        login: admin_login.to_string(),
        login_key: admin_login.to_lowercase(),
        display_name: "Administrator".into(),
        email: String::new(),
        phone: String::new(),
        department_id: department,
        manager_id: String::new(),
        status: store::ACTIVE.into(),
        password_hash: passwords::hash(password).await?,
        failed_sign_ins: 0,
        locked_until: 0,
        password_changed_at: now,
        deactivated_at: 0,
        successor_id: String::new(),
        version: 1,
        created_at: now,
        created_by: "system".into(),
        updated_at: now,
        updated_by: "system".into(),
        department_path: String::new(),
    };
    store::insert_employee(&mut tx, &row).await?;
    store::set_roles(&mut tx, &row.id, &["admin".to_string()]).await?;
    tx.commit().await?;
    Ok(generated)
}

impl IdentityApi {
    async fn issue_service_token(&self, req: pb::IssueServiceTokenRequest) -> Result<pb::IssueServiceTokenResponse> {
        let mut conn = self.conn().await?;
        crate::handover::issue_service_token(&mut conn, &self.service_secret, &req).await
    }

    async fn list_departments(&self, _req: pb::ListDepartmentsRequest) -> Result<pb::ListDepartmentsResponse> {
        let mut conn = self.conn().await?;
        let rows = store::departments(&mut conn).await?;
        Ok(pb::ListDepartmentsResponse {
            departments: rows.iter().map(department_proto).collect(),
        })
    }

    async fn list_roles(&self, _req: pb::ListRolesRequest) -> Result<pb::ListRolesResponse> {
        let mut conn = self.conn().await?;
        let rows = store::roles(&mut conn).await?;
        Ok(pb::ListRolesResponse {
            roles: rows.iter().map(role_proto).collect(),
        })
    }

    async fn list_permissions(&self, _req: pb::ListPermissionsRequest) -> Result<pb::ListPermissionsResponse> {
        Ok(pb::ListPermissionsResponse {
            permissions: known_permissions().into_iter().map(str::to_string).collect(),
        })
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
