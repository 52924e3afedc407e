//! The history kept of every customer: field-level changes (who, when, old → new) and owner
//! changes (from, to, when, by whom, why).

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::history::{Changes, Trail};
use crm_kit::listing::{Direction, Keyset, Order, Page, Position};

use super::SqlBuf;
use sqlx::AnyConnection;

pub use crm_kit::history::ChangeRow;

/// Field-level changes of customers (the kit's trail shape, under the customers' own table).
pub const CHANGES: Trail = Trail::new("customer_changes", "customer_id");

/// Records a change of a customer.
pub async fn record_change(
    conn: &mut AnyConnection,
    customer_id: &str,
    action: &str,
    fields: &[(&str, String, String)],
    actor: &str,
    now: i64,
) -> Result<()> {
    CHANGES
        .record(conn, customer_id, action, &Changes::from(fields), actor, now)
        .await
}

/// The statement [`record_change`] runs, for writing it together with others.
pub fn change_sql(customer_id: &str, action: &str, fields: &[(&str, String, String)], actor: &str, now: i64) -> SqlBuf {
    CHANGES.statement(customer_id, action, &Changes::from(fields), actor, now)
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

/// The order owner changes are listed in: newest first (their ids sort by time).
pub fn owner_change_order() -> Order {
    Order::by_id("id", Direction::Descending)
}

/// The page `keyset` asks for (in [`owner_change_order`]) of a customer's owner changes.
pub async fn owner_changes(
    conn: &mut AnyConnection,
    customer_id: &str,
    keyset: &Keyset<'_>,
) -> Result<Page<OwnerChangeRow>> {
    let mut q = SqlBuf::read(
        "SELECT id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at FROM owner_changes",
        &ReadScope::everything("the owner changes of a customer the caller's scoped read found"),
    );
    q.push(" AND customer_id = ").text(customer_id);
    keyset.fetch(conn, q, |c: &OwnerChangeRow| Position::at_id(&c.id)).await
}

/// Records the creation of many customers by import: one change and one owner change each.
pub async fn record_imports(
    conn: &mut AnyConnection,
    customer_ids: &[&str],
    owner: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    CHANGES.record_many(conn, customer_ids, "import", actor, now).await?;
    if crm_kit::db::backend(conn) == crm_kit::db::Backend::Postgres {
        // One statement of array parameters, however many customers.
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
            owners.row(&[crm_kit::new_id().as_str(), id, "", owner, "import", "", actor, &at]);
        }
        if !owners.is_empty() {
            owners.statement().query().execute(&mut *conn).await?;
        }
        return Ok(());
    }
    let per_statement = crm_kit::db::rows_per_statement(conn, 6);
    for chunk in customer_ids.chunks(per_statement) {
        let mut owners = super::SqlBuf::new(
            "INSERT INTO owner_changes (id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at) VALUES ",
        );
        for (i, id) in chunk.iter().enumerate() {
            let sep = if i == 0 { "(" } else { ", (" };
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
        owners.query().execute(&mut *conn).await?;
    }
    Ok(())
}
