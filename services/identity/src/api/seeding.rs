//! What a database holds from its first start: the built-in roles and, on an empty database,
//! the first department and administrator.

use std::collections::BTreeMap;

use crm_kit::Result;
use crm_kit::db::Db;
use crm_kit::time::now_micros;

use crate::domain::department::{ROOT_PATH, child_path};
use crate::store::{self, DepartmentRow, EmployeeRow, RoleRow};
use crate::{passwords, roles};

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
            path: child_path(ROOT_PATH, &department),
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
