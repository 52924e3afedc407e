//! The history kept of every customer: field-level changes (who, when, old → new) and owner
//! changes (from, to, when, by whom, why).

use crm_kit::Result;
use serde::{Deserialize, Serialize};

use super::SqlBuf;
use sqlx::AnyConnection;

/// One field's change, as stored in `customer_changes.fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// Records a change of a customer.
pub async fn record_change(
    conn: &mut AnyConnection,
    customer_id: &str,
    action: &str,
    fields: &[(&str, String, String)],
    actor: &str,
    now: i64,
) -> Result<()> {
    change_sql(customer_id, action, fields, actor, now)
        .query()
        .execute(conn)
        .await?;
    Ok(())
}

/// The statement [`record_change`] runs, for writing it together with others.
pub fn change_sql(customer_id: &str, action: &str, fields: &[(&str, String, String)], actor: &str, now: i64) -> SqlBuf {
    let stored: Vec<StoredFieldChange> = fields
        .iter()
        .map(|(f, o, n)| StoredFieldChange {
            field: (*f).to_string(),
            old: o.clone(),
            new: n.clone(),
        })
        .collect();
    let mut q =
        SqlBuf::new("INSERT INTO customer_changes (id, customer_id, action, fields, changed_by, changed_at) VALUES (");
    q.text(crm_kit::new_id())
        .push(", ")
        .text(customer_id)
        .push(", ")
        .text(action);
    q.push(", ")
        .text(serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into()));
    q.push(", ").text(actor).push(", ").int(now).push(")");
    q
}

/// Records a change of owner.
#[allow(clippy::too_many_arguments)]
pub async fn record_owner_change(
    conn: &mut AnyConnection,
    customer_id: &str,
    from_owner: &str,
    to_owner: &str,
    reason: &str,
    note: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    owner_change_sql(customer_id, from_owner, to_owner, reason, note, actor, now)
        .query()
        .execute(conn)
        .await?;
    Ok(())
}

/// The statement [`record_owner_change`] runs, for writing it together with others.
pub fn owner_change_sql(
    customer_id: &str,
    from_owner: &str,
    to_owner: &str,
    reason: &str,
    note: &str,
    actor: &str,
    now: i64,
) -> SqlBuf {
    let mut q = SqlBuf::new(
        "INSERT INTO owner_changes (id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at) VALUES (",
    );
    q.text(crm_kit::new_id()).push(", ").text(customer_id);
    q.push(", ").text(from_owner).push(", ").text(to_owner);
    q.push(", ").text(reason).push(", ").text(note);
    q.push(", ").text(actor).push(", ").int(now).push(")");
    q
}

/// A stored owner change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnerChangeRow {
    pub id: String,
    pub customer_id: String,
    pub from_owner_id: String,
    pub to_owner_id: String,
    pub reason: String,
    pub note: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// A page of owner changes, newest first, after the cursor id.
pub async fn owner_changes(
    conn: &mut AnyConnection,
    customer_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<OwnerChangeRow>> {
    let rows = sqlx::query_as::<_, OwnerChangeRow>(
        "SELECT id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at FROM owner_changes \
         WHERE customer_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(customer_id)
    .bind(before_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// A stored field-level change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: String,
    pub customer_id: String,
    pub action: String,
    pub fields: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// A page of changes, newest first, after the cursor id.
pub async fn changes(
    conn: &mut AnyConnection,
    customer_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<ChangeRow>> {
    let rows = sqlx::query_as::<_, ChangeRow>(
        "SELECT id, customer_id, action, fields, changed_by, changed_at FROM customer_changes \
         WHERE customer_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(customer_id)
    .bind(before_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Records the creation of many customers by import: one change and one owner change each.
pub async fn record_imports(
    conn: &mut AnyConnection,
    customer_ids: &[&str],
    owner: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    if crm_kit::db::backend(conn) == crm_kit::db::Backend::Postgres {
        // One statement per table, of array parameters, however many customers.
        let mut changes = crm_kit::sql::ArrayInsert::new(
            "customer_changes",
            &[
                ("id", "TEXT"),
                ("customer_id", "TEXT"),
                ("action", "TEXT"),
                ("fields", "TEXT"),
                ("changed_by", "TEXT"),
                ("changed_at", "BIGINT"),
            ],
        );
        let mut owners = crm_kit::sql::ArrayInsert::new(
            "owner_changes",
            &[
                ("id", "TEXT"),
                ("customer_id", "TEXT"),
                ("from_owner_id", "TEXT"),
                ("to_owner_id", "TEXT"),
                ("reason", "TEXT"),
                ("note", "TEXT"),
                ("changed_by", "TEXT"),
                ("changed_at", "BIGINT"),
            ],
        );
        let at = now.to_string();
        for id in customer_ids {
            changes.row(&[crm_kit::new_id().as_str(), id, "import", "[]", actor, &at]);
            owners.row(&[crm_kit::new_id().as_str(), id, "", owner, "import", "", actor, &at]);
        }
        if !changes.is_empty() {
            changes.statement().query().execute(&mut *conn).await?;
            owners.statement().query().execute(&mut *conn).await?;
        }
        return Ok(());
    }
    let per_statement = crm_kit::db::rows_per_statement(conn, 6);
    for chunk in customer_ids.chunks(per_statement) {
        let mut changes = super::SqlBuf::new(
            "INSERT INTO customer_changes (id, customer_id, action, fields, changed_by, changed_at) VALUES ",
        );
        let mut owners = super::SqlBuf::new(
            "INSERT INTO owner_changes (id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at) VALUES ",
        );
        for (i, id) in chunk.iter().enumerate() {
            let sep = if i == 0 { "(" } else { ", (" };
            changes
                .push(sep)
                .text(crm_kit::new_id())
                .push(", ")
                .text(*id)
                .push(", 'import', '[]', ")
                .text(actor)
                .push(", ")
                .int(now)
                .push(")");
            owners
                .push(sep)
                .text(crm_kit::new_id())
                .push(", ")
                .text(*id)
                .push(", '', ")
                .text(owner)
                .push(", 'import', '', ")
                .text(actor)
                .push(", ")
                .int(now)
                .push(")");
        }
        changes.query().execute(&mut *conn).await?;
        owners.query().execute(&mut *conn).await?;
    }
    Ok(())
}
