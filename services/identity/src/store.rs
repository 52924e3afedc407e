//! All SQL of the identity service.

// The service's SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::like_escape;
use crm_kit::listing::{Direction, Keyset, Order, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// Employee status values.
pub const ACTIVE: &str = "active";
pub const DEACTIVATED: &str = "deactivated";

/// A stored employee.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmployeeRow {
    pub id: String,
    pub login: String,
    pub login_key: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub department_id: String,
    pub manager_id: String,
    pub status: String,
    pub password_hash: String,
    pub failed_sign_ins: i64,
    pub locked_until: i64,
    pub password_changed_at: i64,
    pub deactivated_at: i64,
    pub successor_id: String,
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    /// The department's path (read with the employee; not a column of employees).
    #[sqlx(default)]
    pub department_path: String,
}

const EMPLOYEE_COLUMNS: &str = "e.id, e.login, e.login_key, e.display_name, e.email, e.phone, e.department_id, \
    e.manager_id, e.status, e.password_hash, e.failed_sign_ins, e.locked_until, e.password_changed_at, e.deactivated_at, \
    e.successor_id, e.version, e.created_at, e.created_by, e.updated_at, e.updated_by, \
    CAST(COALESCE((SELECT d.path FROM departments d WHERE d.id = e.department_id), '') AS TEXT) AS department_path";

/// One employee by id.
pub async fn employee(conn: &mut AnyConnection, id: &str) -> Result<Option<EmployeeRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {EMPLOYEE_COLUMNS} FROM employees e WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// One employee by login (without regard to case).
pub async fn employee_by_login(conn: &mut AnyConnection, login: &str) -> Result<Option<EmployeeRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EMPLOYEE_COLUMNS} FROM employees e WHERE e.login_key = $1"
    ))
    .bind(login.to_lowercase())
    .fetch_optional(conn)
    .await?)
}

/// The order employees are listed in: by login, then id.
pub fn employee_order() -> Order {
    Order::by("e.login_key", "e.id", Direction::Ascending)
}

/// The page `keyset` asks for (in [`employee_order`]) of the employees matching an optional
/// compiled filter and substring query.
pub async fn employees_page(
    conn: &mut AnyConnection,
    filter: Option<&crm_kit::filter::CompiledFilter>,
    query: &str,
    keyset: &Keyset<'_>,
) -> Result<Page<EmployeeRow>> {
    let mut q = SqlBuf::read(
        &format!("SELECT {EMPLOYEE_COLUMNS} FROM employees e"),
        &ReadScope::everything("the employee directory has no data scope"),
    );
    if let Some(f) = filter {
        q.push(" AND (").filter(f).push(")");
    }
    if !query.is_empty() {
        let p = q.param(crm_kit::filter::SqlValue::Text(format!(
            "%{}%",
            like_escape(&query.to_lowercase())
        )));
        q.push(&format!(
            " AND (e.login_key LIKE {p} ESCAPE '\\' OR LOWER(e.display_name) LIKE {p} ESCAPE '\\')"
        ));
    }
    keyset
        .fetch(conn, q, |e: &EmployeeRow| Position::at(&e.login_key, &e.id))
        .await
}

/// Inserts an employee; false when the login is taken.
pub async fn insert_employee(conn: &mut AnyConnection, e: &EmployeeRow) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO employees (id, login, login_key, display_name, email, phone, department_id, manager_id, status, \
         password_hash, failed_sign_ins, locked_until, password_changed_at, deactivated_at, successor_id, version, \
         created_at, created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, $11, 0, '', 1, $12, $13, $12, $13)",
    )
    .bind(&e.id)
    .bind(&e.login)
    .bind(&e.login_key)
    .bind(&e.display_name)
    .bind(&e.email)
    .bind(&e.phone)
    .bind(&e.department_id)
    .bind(&e.manager_id)
    .bind(&e.status)
    .bind(&e.password_hash)
    .bind(e.password_changed_at)
    .bind(e.created_at)
    .bind(&e.created_by)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(r)
}

/// Writes an employee's editable fields if `version` is still current; false otherwise.
pub async fn update_employee(conn: &mut AnyConnection, e: &EmployeeRow, version: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE employees SET display_name = $1, email = $2, phone = $3, department_id = $4, manager_id = $5, \
         version = version + 1, updated_at = $6, updated_by = $7 WHERE id = $8 AND version = $9",
    )
    .bind(&e.display_name)
    .bind(&e.email)
    .bind(&e.phone)
    .bind(&e.department_id)
    .bind(&e.manager_id)
    .bind(e.updated_at)
    .bind(&e.updated_by)
    .bind(&e.id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts a failed sign-in; the fifth in a row locks the account until `lock_until` (and starts
/// the count again). Returns the account's lock time after this failure (in the past when it is
/// not locked), so a failure racing the one that locked it is answered as locked too.
pub async fn record_failed_sign_in(
    conn: &mut AnyConnection,
    id: &str,
    lock_after: i64,
    lock_until: i64,
) -> Result<i64> {
    let (_failed, locked): (i64, i64) = sqlx::query_as(
        "UPDATE employees SET \
           locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3 ELSE locked_until END, \
           failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 ELSE failed_sign_ins + 1 END \
         WHERE id = $1 RETURNING failed_sign_ins, locked_until",
    )
    .bind(id)
    .bind(lock_after)
    .bind(lock_until)
    .fetch_one(conn)
    .await?;
    Ok(locked)
}

/// Clears the failure count after a good sign-in, unless the account is locked at `now` (by
/// failures that raced this sign-in past its first look at the lock). False when it is locked.
pub async fn clear_failed_sign_ins(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE employees SET failed_sign_ins = 0 WHERE id = $1 AND locked_until <= $2")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets a new password hash, clears any lock, and bumps the version.
pub async fn set_password(conn: &mut AnyConnection, id: &str, hash: &str, now: i64, actor: &str) -> Result<()> {
    sqlx::query(
        "UPDATE employees SET password_hash = $1, password_changed_at = $2, failed_sign_ins = 0, locked_until = 0, \
         version = version + 1, updated_at = $2, updated_by = $3 WHERE id = $4",
    )
    .bind(hash)
    .bind(now)
    .bind(actor)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deactivates an active employee; false when they were not active.
pub async fn deactivate(conn: &mut AnyConnection, id: &str, successor: &str, now: i64, actor: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE employees SET status = $1, deactivated_at = $2, successor_id = $3, version = version + 1, \
         updated_at = $2, updated_by = $4 WHERE id = $5 AND status = $6",
    )
    .bind(DEACTIVATED)
    .bind(now)
    .bind(successor)
    .bind(actor)
    .bind(id)
    .bind(ACTIVE)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether any employee exists (first start seeds an administrator when none does).
pub async fn any_employee(conn: &mut AnyConnection) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM employees LIMIT 1) x")
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// A stored role.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub permissions: String,
    pub scopes: String,
    pub built_in: i64,
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub employee_count: i64,
}

const ROLE_SELECT: &str = "SELECT r.id, r.name, r.description, r.permissions, r.scopes, r.built_in, r.version, r.created_at, \
    r.created_by, r.updated_at, r.updated_by, \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM employee_roles er WHERE er.role_id = r.id) AS employee_count FROM roles r";

/// Every role, built-in first, then by name.
pub async fn roles(conn: &mut AnyConnection) -> Result<Vec<RoleRow>> {
    Ok(
        sqlx::query_as(&format!("{ROLE_SELECT} ORDER BY r.built_in DESC, r.name"))
            .fetch_all(conn)
            .await?,
    )
}

/// One role.
pub async fn role(conn: &mut AnyConnection, id: &str) -> Result<Option<RoleRow>> {
    Ok(sqlx::query_as(&format!("{ROLE_SELECT} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The roles an employee holds.
pub async fn roles_of(conn: &mut AnyConnection, employee_id: &str) -> Result<Vec<RoleRow>> {
    Ok(sqlx::query_as(&format!(
        "{ROLE_SELECT} WHERE r.id IN (SELECT role_id FROM employee_roles WHERE employee_id = $1) ORDER BY r.name"
    ))
    .bind(employee_id)
    .fetch_all(conn)
    .await?)
}

/// Role ids of an employee.
pub async fn role_ids_of(conn: &mut AnyConnection, employee_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT role_id FROM employee_roles WHERE employee_id = $1 ORDER BY role_id")
            .bind(employee_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Role ids of several employees at once (a page of them), by employee.
pub async fn role_ids_of_many(
    conn: &mut AnyConnection,
    employee_ids: &[&str],
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    if employee_ids.is_empty() {
        return Ok(out);
    }
    // In chunks: SQLite through the Any driver takes a bounded number of parameters.
    for chunk in employee_ids.chunks(200) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT employee_id, role_id FROM employee_roles WHERE employee_id IN ({}) ORDER BY employee_id, role_id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (employee, role) in q.fetch_all(&mut *conn).await? {
            out.entry(employee).or_default().push(role);
        }
    }
    Ok(out)
}

/// Replaces an employee's roles.
pub async fn set_roles(conn: &mut AnyConnection, employee_id: &str, role_ids: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM employee_roles WHERE employee_id = $1")
        .bind(employee_id)
        .execute(&mut *conn)
        .await?;
    for role in role_ids {
        sqlx::query("INSERT INTO employee_roles (employee_id, role_id) VALUES ($1, $2)")
            .bind(employee_id)
            .bind(role)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a role, or (built-in roles at start-up) rewrites its definition. False when a custom
/// role with the name exists.
pub async fn upsert_role(conn: &mut AnyConnection, r: &RoleRow, overwrite: bool) -> Result<bool> {
    if overwrite {
        let n = sqlx::query(
            "UPDATE roles SET description = $1, permissions = $2, scopes = $3, built_in = 1 WHERE id = $4 \
             AND (description <> $1 OR permissions <> $2 OR scopes <> $3 OR built_in <> 1)",
        )
        .bind(&r.description)
        .bind(&r.permissions)
        .bind(&r.scopes)
        .bind(&r.id)
        .execute(&mut *conn)
        .await?;
        if n.rows_affected() == 1 || role(conn, &r.id).await?.is_some() {
            return Ok(true);
        }
    }
    let result = sqlx::query(
        "INSERT INTO roles (id, name, description, permissions, scopes, built_in, version, created_at, created_by, \
         updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $7, $8)",
    )
    .bind(&r.id)
    .bind(&r.name)
    .bind(&r.description)
    .bind(&r.permissions)
    .bind(&r.scopes)
    .bind(r.built_in)
    .bind(r.created_at)
    .bind(&r.created_by)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(result)
}

/// Writes a custom role's definition if `version` is current.
pub async fn update_role(conn: &mut AnyConnection, r: &RoleRow, version: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE roles SET description = $1, permissions = $2, scopes = $3, version = version + 1, updated_at = $4, \
         updated_by = $5 WHERE id = $6 AND version = $7 AND built_in = 0",
    )
    .bind(&r.description)
    .bind(&r.permissions)
    .bind(&r.scopes)
    .bind(r.updated_at)
    .bind(&r.updated_by)
    .bind(&r.id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// Deletes a custom role nobody holds; false otherwise.
pub async fn delete_role(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM roles WHERE id = $1 AND built_in = 0 AND NOT EXISTS (SELECT 1 FROM employee_roles WHERE role_id = $1)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// A stored department.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepartmentRow {
    pub id: String,
    pub parent_id: String,
    pub name: String,
    pub manager_id: String,
    pub path: String,
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub employee_count: i64,
}

const DEPARTMENT_SELECT: &str = "SELECT d.id, d.parent_id, d.name, d.manager_id, d.path, d.version, d.created_at, \
    d.created_by, d.updated_at, d.updated_by, \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM employees e WHERE e.department_id = d.id AND e.status = 'active') AS employee_count \
    FROM departments d";

/// Every department, parents before children.
pub async fn departments(conn: &mut AnyConnection) -> Result<Vec<DepartmentRow>> {
    Ok(sqlx::query_as(&format!("{DEPARTMENT_SELECT} ORDER BY d.path"))
        .fetch_all(conn)
        .await?)
}

/// One department.
pub async fn department(conn: &mut AnyConnection, id: &str) -> Result<Option<DepartmentRow>> {
    Ok(sqlx::query_as(&format!("{DEPARTMENT_SELECT} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Inserts a department; false when a sibling has the name.
pub async fn insert_department(conn: &mut AnyConnection, d: &DepartmentRow) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO departments (id, parent_id, name, manager_id, path, version, created_at, created_by, updated_at, \
         updated_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $6, $7)",
    )
    .bind(&d.id)
    .bind(&d.parent_id)
    .bind(&d.name)
    .bind(&d.manager_id)
    .bind(&d.path)
    .bind(d.created_at)
    .bind(&d.created_by)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(r)
}

/// Writes a department (and moves its subtree's paths when its path changed) if `version` is
/// current. `Ok(None)` on a stale version; `Ok(Some(false))` when a sibling has the name.
pub async fn update_department(
    conn: &mut AnyConnection,
    d: &DepartmentRow,
    old_path: &str,
    version: i64,
) -> Result<Option<bool>> {
    let r = sqlx::query(
        "UPDATE departments SET parent_id = $1, name = $2, manager_id = $3, path = $4, version = version + 1, \
         updated_at = $5, updated_by = $6 WHERE id = $7 AND version = $8",
    )
    .bind(&d.parent_id)
    .bind(&d.name)
    .bind(&d.manager_id)
    .bind(&d.path)
    .bind(d.updated_at)
    .bind(&d.updated_by)
    .bind(&d.id)
    .bind(version)
    .execute(&mut *conn)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 0 => return Ok(None),
        Ok(_) => {}
        Err(e) if crm_kit::errors::is_unique_violation(&e) => return Ok(Some(false)),
        Err(e) => return Err(e.into()),
    }
    if d.path != old_path {
        sqlx::query("UPDATE departments SET path = $1 || SUBSTR(path, CAST($2 AS INTEGER)) WHERE path LIKE $3 ESCAPE '\\' AND id <> $4")
            .bind(&d.path)
            .bind(i64::try_from(old_path.len()).unwrap_or(i64::MAX) + 1)
            .bind(format!("{}%", like_escape(old_path)))
            .bind(&d.id)
            .execute(conn)
            .await?;
    }
    Ok(Some(true))
}

/// Deletes a department with no sub-departments and no employees; false otherwise.
pub async fn delete_department(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM departments WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM departments c WHERE c.parent_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM employees e WHERE e.department_id = $1)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// A stored refresh token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshRow {
    pub id: String,
    pub employee_id: String,
    pub family_id: String,
    pub expires_at: i64,
    pub used_at: i64,
    pub revoked_at: i64,
}

/// Stores a refresh token's hash.
pub async fn insert_refresh(
    conn: &mut AnyConnection,
    hash: &str,
    employee_id: &str,
    family_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, token_hash, employee_id, family_id, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crm_kit::new_id())
    .bind(hash)
    .bind(employee_id)
    .bind(family_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A refresh token by its hash.
pub async fn refresh_by_hash(conn: &mut AnyConnection, hash: &str) -> Result<Option<RefreshRow>> {
    Ok(sqlx::query_as(
        "SELECT id, employee_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await?)
}

/// Marks a refresh token used, if nobody used it first.
pub async fn use_refresh(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let n = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at = 0 AND revoked_at = 0")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(n.rows_affected() == 1)
}

/// Revokes every live token of a sign-in.
pub async fn revoke_family(conn: &mut AnyConnection, family_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at = 0")
        .bind(now)
        .bind(family_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every live token of an employee.
pub async fn revoke_employee_tokens(conn: &mut AnyConnection, employee_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE employee_id = $2 AND revoked_at = 0")
        .bind(now)
        .bind(employee_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Voids every access token of `employee_id` issued until `at` (microseconds), for `reason`
/// (`deactivated`, `password_reset`); a later revocation replaces an earlier one.
pub async fn revoke_access(conn: &mut AnyConnection, employee_id: &str, at: i64, reason: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO revocations (employee_id, revoked_at, reason) VALUES ($1, $2, $3) \
         ON CONFLICT (employee_id) DO UPDATE SET revoked_at = excluded.revoked_at, reason = excluded.reason",
    )
    .bind(employee_id)
    .bind(at)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// A revocation: whose tokens, issued until when (microseconds), why.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevocationRow {
    pub employee_id: String,
    pub revoked_at: i64,
    pub reason: String,
}

/// The revocations made after `since` (microseconds).
pub async fn revocations_since(conn: &mut AnyConnection, since: i64) -> Result<Vec<RevocationRow>> {
    Ok(sqlx::query_as(
        "SELECT employee_id, revoked_at, reason FROM revocations WHERE revoked_at > $1 ORDER BY employee_id",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// When the tokens of `employee_id` were last revoked (microseconds), if ever.
pub async fn revoked_at(conn: &mut AnyConnection, employee_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT revoked_at FROM revocations WHERE employee_id = $1")
            .bind(employee_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// A stored signing key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: i64,
}

/// The current key and the keys retired after `retired_since`, newest first.
pub async fn signing_keys(conn: &mut AnyConnection, retired_since: i64) -> Result<Vec<KeyRow>> {
    Ok(sqlx::query_as(
        "SELECT kid, private_key, public_key, created_at, retired_at FROM signing_keys \
         WHERE retired_at = 0 OR retired_at > $1 ORDER BY retired_at = 0 DESC, created_at DESC",
    )
    .bind(retired_since)
    .fetch_all(conn)
    .await?)
}

/// Whether a key with `kid` was ever installed (current or retired).
pub async fn key_known(conn: &mut AnyConnection, kid: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM signing_keys WHERE kid = $1")
        .bind(kid)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Makes `key` the current key, retiring the one before.
pub async fn install_key(conn: &mut AnyConnection, key: &KeyRow) -> Result<()> {
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at = 0 AND kid <> $2")
        .bind(key.created_at)
        .bind(&key.kid)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, private_key, public_key, created_at, retired_at) VALUES ($1, $2, $3, $4, 0) \
         ON CONFLICT (kid) DO UPDATE SET retired_at = 0",
    )
    .bind(&key.kid)
    .bind(&key.private_key)
    .bind(&key.public_key)
    .bind(key.created_at)
    .execute(conn)
    .await?;
    Ok(())
}
