//! Leads, the lead pool and the follow-ups of leads.

use crm_kit::Result;
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

use super::Listed;

/// A stored lead.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeadRow {
    pub id: String,
    pub company_name: String,
    pub contact_name: String,
    pub title: String,
    pub phone: String,
    pub mobile: String,
    pub email: String,
    pub source: String,
    pub province: String,
    pub city: String,
    pub remark: String,
    pub owner_id: String,
    pub owner_department_path: String,
    pub status: String,
    pub disqualified_reason: String,
    pub converted_customer_id: String,
    pub converted_contact_id: String,
    pub converted_opportunity_id: String,
    pub converted_at: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
    pub last_follow_up_at: i64,
    pub next_follow_up_at: i64,
}

/// The columns of a [`LeadRow`] of leads `l`.
pub const COLUMNS: &str = "l.id, l.company_name, l.contact_name, l.title, l.phone, l.mobile, l.email, l.source, \
    l.province, l.city, l.remark, l.owner_id, l.owner_department_path, l.status, l.disqualified_reason, \
    l.converted_customer_id, l.converted_contact_id, l.converted_opportunity_id, l.converted_at, l.created_at, \
    l.created_by, l.updated_at, l.updated_by, l.version, l.last_follow_up_at, l.next_follow_up_at";

/// A live lead by id.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<LeadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM leads l WHERE l.id = $1 AND l.deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Inserts a lead.
pub async fn insert(conn: &mut AnyConnection, l: &LeadRow) -> Result<()> {
    insert_many(conn, std::slice::from_ref(l)).await
}

/// Inserts new leads, many rows per statement. None may belong to an employee who has left
/// (see `crm_kit::handover::require_active`; the one creating them is `created_by`).
pub async fn insert_many(conn: &mut AnyConnection, rows: &[LeadRow]) -> Result<()> {
    let mut owners: Vec<(&str, &str)> = rows
        .iter()
        .filter(|l| !l.owner_id.is_empty())
        .map(|l| (l.owner_id.as_str(), l.created_by.as_str()))
        .collect();
    owners.sort_unstable();
    owners.dedup_by_key(|(owner, _)| *owner);
    for (owner, by) in owners {
        crm_kit::handover::require_active(conn, by, "owner_id", owner).await?;
    }
    for chunk in rows.chunks(crm_kit::db::rows_per_statement(conn, 18)) {
        let mut q = SqlBuf::new(
            "INSERT INTO leads (id, company_name, contact_name, title, phone, mobile, email, source, province, city, \
             remark, owner_id, owner_department_path, status, created_at, created_by, updated_at, updated_by) VALUES ",
        );
        for (i, l) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, text) in [
                &l.id,
                &l.company_name,
                &l.contact_name,
                &l.title,
                &l.phone,
                &l.mobile,
                &l.email,
                &l.source,
                &l.province,
                &l.city,
                &l.remark,
                &l.owner_id,
                &l.owner_department_path,
                &l.status,
            ]
            .into_iter()
            .enumerate()
            {
                if j > 0 {
                    q.push(", ");
                }
                q.text(text.as_str());
            }
            q.push(", ").int(l.created_at);
            q.push(", ").text(l.created_by.clone());
            q.push(", ").int(l.updated_at);
            q.push(", ").text(l.updated_by.clone());
            q.push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes a lead's fields, owner and status if it is still at `version`; false otherwise.
pub async fn update(conn: &mut AnyConnection, l: &LeadRow, version: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE leads SET company_name = $1, contact_name = $2, title = $3, phone = $4, mobile = $5, email = $6, \
         source = $7, province = $8, city = $9, remark = $10, owner_id = $11, owner_department_path = $12, status = $13, \
         disqualified_reason = $14, converted_customer_id = $15, converted_contact_id = $16, \
         converted_opportunity_id = $17, converted_at = $18, updated_at = $19, updated_by = $20, version = version + 1 \
         WHERE id = $21 AND version = $22 AND deleted_at IS NULL",
    )
    .bind(&l.company_name)
    .bind(&l.contact_name)
    .bind(&l.title)
    .bind(&l.phone)
    .bind(&l.mobile)
    .bind(&l.email)
    .bind(&l.source)
    .bind(&l.province)
    .bind(&l.city)
    .bind(&l.remark)
    .bind(&l.owner_id)
    .bind(&l.owner_department_path)
    .bind(&l.status)
    .bind(&l.disqualified_reason)
    .bind(&l.converted_customer_id)
    .bind(&l.converted_contact_id)
    .bind(&l.converted_opportunity_id)
    .bind(l.converted_at)
    .bind(l.updated_at)
    .bind(&l.updated_by)
    .bind(&l.id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Soft-deletes a lead at `version`.
pub async fn delete(conn: &mut AnyConnection, id: &str, version: i64, now: i64, actor: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE leads SET deleted_at = $1, updated_at = $1, updated_by = $2, version = version + 1 \
         WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(actor)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The live leads a list shows: the pool's, or those with an owner.
pub fn listed(pool: bool) -> Listed {
    let own = owned(pool);
    Listed {
        select: format!("SELECT {COLUMNS} FROM leads l"),
        conditions: format!("l.deleted_at IS NULL AND {own}"),
        alias: "l",
    }
}

/// The condition that picks pooled leads `l` (or, without `pool`, owned ones).
pub fn owned(pool: bool) -> &'static str {
    if pool { "l.owner_id = ''" } else { "l.owner_id <> ''" }
}

/// A stored follow-up of a lead.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUpRow {
    pub id: String,
    pub method: String,
    pub occur_at: i64,
    pub summary: String,
    pub outcome: String,
    pub next_contact_at: i64,
    pub next_plan: String,
    pub author_id: String,
    pub created_at: i64,
}

/// Inserts a follow-up of lead `lead_id`.
pub async fn insert_follow_up(conn: &mut AnyConnection, lead_id: &str, f: &FollowUpRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO lead_follow_ups (id, lead_id, method, occur_at, summary, outcome, next_contact_at, next_plan, \
         author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&f.id)
    .bind(lead_id)
    .bind(&f.method)
    .bind(f.occur_at)
    .bind(&f.summary)
    .bind(&f.outcome)
    .bind(f.next_contact_at)
    .bind(&f.next_plan)
    .bind(&f.author_id)
    .bind(f.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest contact time and the latest next-contact time (0: none) of a lead's follow-ups.
pub async fn follow_up_times(conn: &mut AnyConnection, lead_id: &str) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT CAST(MAX(occur_at) AS BIGINT), CAST(COALESCE(MAX(next_contact_at), 0) AS BIGINT) FROM lead_follow_ups \
         WHERE lead_id = $1",
    )
    .bind(lead_id)
    .fetch_one(conn)
    .await?)
}

/// Sets a lead's last and next follow-up times.
pub async fn set_follow_up_times(conn: &mut AnyConnection, id: &str, last: i64, next: i64) -> Result<()> {
    sqlx::query("UPDATE leads SET last_follow_up_at = $1, next_follow_up_at = $2 WHERE id = $3")
        .bind(last)
        .bind(next)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The follow-ups of a lead, newest first.
pub async fn follow_ups(conn: &mut AnyConnection, lead_id: &str) -> Result<Vec<FollowUpRow>> {
    Ok(sqlx::query_as(
        "SELECT id, method, occur_at, summary, outcome, next_contact_at, next_plan, author_id, created_at \
         FROM lead_follow_ups WHERE lead_id = $1 ORDER BY occur_at DESC, id DESC",
    )
    .bind(lead_id)
    .fetch_all(conn)
    .await?)
}
