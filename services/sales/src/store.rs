//! All SQL of the sales service. Functions take a connection or a transaction's connection,
//! so a command's writes (and its outbox or idempotency rows) commit together.

use crm_kit::Result;
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

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

pub const LEAD_COLUMNS: &str = "l.id, l.company_name, l.contact_name, l.title, l.phone, l.mobile, l.email, l.source, \
    l.province, l.city, l.remark, l.owner_id, l.owner_department_path, l.status, l.disqualified_reason, \
    l.converted_customer_id, l.converted_contact_id, l.converted_opportunity_id, l.converted_at, l.created_at, \
    l.created_by, l.updated_at, l.updated_by, l.version, l.last_follow_up_at, l.next_follow_up_at";

/// A live lead by id.
pub async fn lead(conn: &mut AnyConnection, id: &str) -> Result<Option<LeadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LEAD_COLUMNS} FROM leads l WHERE l.id = $1 AND l.deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Inserts a lead.
pub async fn insert_lead(conn: &mut AnyConnection, l: &LeadRow) -> Result<()> {
    insert_leads(conn, std::slice::from_ref(l)).await
}

/// Inserts new leads, many rows per statement. None may belong to an employee who has left
/// (see `crm_kit::handover::require_active`; the one creating them is `created_by`).
pub async fn insert_leads(conn: &mut AnyConnection, rows: &[LeadRow]) -> Result<()> {
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
pub async fn update_lead(conn: &mut AnyConnection, l: &LeadRow, version: i64) -> Result<bool> {
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
pub async fn delete_lead(conn: &mut AnyConnection, id: &str, version: i64, now: i64, actor: &str) -> Result<bool> {
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

/// Runs a built SELECT of rows of `T`.
pub async fn fetch<T>(conn: &mut AnyConnection, q: &SqlBuf) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(q.query_as::<T>().fetch_all(conn).await?)
}

/// A stage of a pipeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StageRow {
    pub id: String,
    pub pipeline_id: String,
    pub position: i64,
    pub name: String,
    pub probability: i64,
    pub time_limit_days: i64,
    pub active: i64,
}

/// A pipeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PipelineRow {
    pub id: String,
    pub name: String,
    pub is_default: i64,
    pub version: i64,
}

/// Every pipeline, the default first.
pub async fn pipelines(conn: &mut AnyConnection) -> Result<Vec<PipelineRow>> {
    Ok(
        sqlx::query_as("SELECT id, name, is_default, version FROM pipelines ORDER BY is_default DESC, name, id")
            .fetch_all(conn)
            .await?,
    )
}

/// One pipeline (`""`: the default one).
pub async fn pipeline(conn: &mut AnyConnection, id: &str) -> Result<Option<PipelineRow>> {
    let q = if id.is_empty() {
        sqlx::query_as("SELECT id, name, is_default, version FROM pipelines WHERE is_default = 1 ORDER BY id LIMIT 1")
    } else {
        sqlx::query_as("SELECT id, name, is_default, version FROM pipelines WHERE id = $1").bind(id)
    };
    Ok(q.fetch_optional(conn).await?)
}

/// The stages of a pipeline in order (with `all`, removed ones too, after the active ones).
pub async fn stages(conn: &mut AnyConnection, pipeline_id: &str, all: bool) -> Result<Vec<StageRow>> {
    Ok(sqlx::query_as(
        "SELECT id, pipeline_id, position, name, probability, time_limit_days, active FROM stages \
         WHERE pipeline_id = $1 AND (active = 1 OR $2 = 1) ORDER BY active DESC, position",
    )
    .bind(pipeline_id)
    .bind(i64::from(all))
    .fetch_all(conn)
    .await?)
}

/// One stage by id.
pub async fn stage(conn: &mut AnyConnection, id: &str) -> Result<Option<StageRow>> {
    Ok(sqlx::query_as(
        "SELECT id, pipeline_id, position, name, probability, time_limit_days, active FROM stages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Inserts a pipeline.
pub async fn insert_pipeline(conn: &mut AnyConnection, p: &PipelineRow, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO pipelines (id, name, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(p.is_default)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Renames a pipeline at `version` (bumping it): `None` when it changed meanwhile,
/// `Some(false)` when another pipeline has the name.
pub async fn touch_pipeline(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    version: i64,
    now: i64,
) -> Result<Option<bool>> {
    let r = sqlx::query(
        "UPDATE pipelines SET name = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
    )
    .bind(name)
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 1 => Ok(Some(true)),
        Ok(_) => Ok(None),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(Some(false)),
        Err(e) => Err(e.into()),
    }
}

/// Writes a stage (insert, or update in place when its id exists).
pub async fn upsert_stage(conn: &mut AnyConnection, s: &StageRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO stages (id, pipeline_id, position, name, probability, time_limit_days, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET position = excluded.position, \
         name = excluded.name, probability = excluded.probability, time_limit_days = excluded.time_limit_days, \
         active = excluded.active",
    )
    .bind(&s.id)
    .bind(&s.pipeline_id)
    .bind(s.position)
    .bind(&s.name)
    .bind(s.probability)
    .bind(s.time_limit_days)
    .bind(s.active)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many open opportunities stand in a stage.
pub async fn open_in_stage(conn: &mut AnyConnection, stage_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM opportunities WHERE stage_id = $1 AND status = 'open'",
        )
        .bind(stage_id)
        .fetch_one(conn)
        .await?,
    )
}

/// A stored opportunity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpportunityRow {
    pub id: String,
    pub subject: String,
    pub customer_id: String,
    pub contact_id: String,
    pub owner_id: String,
    pub owner_department_path: String,
    pub pipeline_id: String,
    pub stage_id: String,
    pub probability: i64,
    pub currency: String,
    pub expected_amount: i64,
    pub expected_cost: i64,
    pub start_date: String,
    pub planned_close_date: String,
    pub actual_close_date: String,
    pub forecast_category: String,
    pub competitor: String,
    pub remark: String,
    pub status: String,
    pub lost_reason: String,
    pub audited: i64,
    pub converted_to: String,
    pub stage_entered_at: i64,
    pub lead_id: String,
    pub closed_at: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
    /// The current stage's time limit (joined).
    pub time_limit_days: i64,
}

pub const OPPORTUNITY_COLUMNS: &str = "o.id, o.subject, o.customer_id, o.contact_id, o.owner_id, \
    o.owner_department_path, o.pipeline_id, o.stage_id, o.probability, o.currency, o.expected_amount, o.expected_cost, \
    o.start_date, o.planned_close_date, o.actual_close_date, o.forecast_category, o.competitor, o.remark, o.status, \
    o.lost_reason, o.audited, o.converted_to, o.stage_entered_at, o.lead_id, o.closed_at, o.created_at, o.created_by, \
    o.updated_at, o.updated_by, o.version, COALESCE(s.time_limit_days, 0) AS time_limit_days";

/// The FROM clause matching [`OPPORTUNITY_COLUMNS`].
pub const OPPORTUNITY_FROM: &str = "opportunities o LEFT JOIN stages s ON s.id = o.stage_id";

/// One opportunity.
pub async fn opportunity(conn: &mut AnyConnection, id: &str) -> Result<Option<OpportunityRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {OPPORTUNITY_COLUMNS} FROM {OPPORTUNITY_FROM} WHERE o.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Inserts an opportunity and opens its first stage visit.
pub async fn insert_opportunity(conn: &mut AnyConnection, o: &OpportunityRow) -> Result<()> {
    // Never for an employee who has left (the lead's owner, for a converted lead).
    crm_kit::handover::require_active(conn, &o.created_by, "owner_id", &o.owner_id).await?;
    sqlx::query(
        "INSERT INTO opportunities (id, subject, customer_id, contact_id, owner_id, owner_department_path, pipeline_id, \
         stage_id, probability, currency, expected_amount, expected_cost, start_date, planned_close_date, \
         forecast_category, competitor, remark, status, stage_entered_at, lead_id, created_at, created_by, updated_at, \
         updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
         $21, $22, $21, $22)",
    )
    .bind(&o.id)
    .bind(&o.subject)
    .bind(&o.customer_id)
    .bind(&o.contact_id)
    .bind(&o.owner_id)
    .bind(&o.owner_department_path)
    .bind(&o.pipeline_id)
    .bind(&o.stage_id)
    .bind(o.probability)
    .bind(&o.currency)
    .bind(o.expected_amount)
    .bind(o.expected_cost)
    .bind(&o.start_date)
    .bind(&o.planned_close_date)
    .bind(&o.forecast_category)
    .bind(&o.competitor)
    .bind(&o.remark)
    .bind(&o.status)
    .bind(o.stage_entered_at)
    .bind(&o.lead_id)
    .bind(o.created_at)
    .bind(&o.created_by)
    .execute(&mut *conn)
    .await?;
    enter_stage(conn, &o.id, &o.stage_id, o.stage_entered_at, &o.created_by).await
}

/// Writes an opportunity's fields if it is still at `version`; false otherwise. A stage
/// different from `previous_stage` closes the current visit and opens one in the new stage.
pub async fn update_opportunity(
    conn: &mut AnyConnection,
    o: &OpportunityRow,
    version: i64,
    previous_stage: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE opportunities SET subject = $1, contact_id = $2, owner_id = $3, owner_department_path = $4, stage_id = $5, \
         probability = $6, expected_amount = $7, expected_cost = $8, start_date = $9, planned_close_date = $10, \
         actual_close_date = $11, forecast_category = $12, competitor = $13, remark = $14, status = $15, lost_reason = $16, \
         audited = $17, stage_entered_at = $18, closed_at = $19, updated_at = $20, updated_by = $21, version = version + 1 \
         WHERE id = $22 AND version = $23",
    )
    .bind(&o.subject)
    .bind(&o.contact_id)
    .bind(&o.owner_id)
    .bind(&o.owner_department_path)
    .bind(&o.stage_id)
    .bind(o.probability)
    .bind(o.expected_amount)
    .bind(o.expected_cost)
    .bind(&o.start_date)
    .bind(&o.planned_close_date)
    .bind(&o.actual_close_date)
    .bind(&o.forecast_category)
    .bind(&o.competitor)
    .bind(&o.remark)
    .bind(&o.status)
    .bind(&o.lost_reason)
    .bind(o.audited)
    .bind(o.stage_entered_at)
    .bind(o.closed_at)
    .bind(o.updated_at)
    .bind(&o.updated_by)
    .bind(&o.id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    if o.stage_id != previous_stage {
        sqlx::query("UPDATE stage_visits SET left_at = $1 WHERE opportunity_id = $2 AND left_at = 0")
            .bind(o.stage_entered_at)
            .bind(&o.id)
            .execute(&mut *conn)
            .await?;
        enter_stage(conn, &o.id, &o.stage_id, o.stage_entered_at, &o.updated_by).await?;
    }
    Ok(true)
}

async fn enter_stage(conn: &mut AnyConnection, opportunity_id: &str, stage_id: &str, at: i64, by: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO stage_visits (id, opportunity_id, stage_id, entered_at, moved_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(crm_kit::new_id())
    .bind(opportunity_id)
    .bind(stage_id)
    .bind(at)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    // The furthest stage reached only grows with moves.
    sqlx::query(
        "UPDATE opportunities SET reached_position = (SELECT s.position FROM stages s WHERE s.id = $1) \
         WHERE id = $2 AND reached_position < (SELECT s.position FROM stages s WHERE s.id = $1)",
    )
    .bind(stage_id)
    .bind(opportunity_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Recomputes the furthest stage each opportunity of `pipeline_id` reached, after its stages
/// were renumbered.
pub async fn recompute_reached(conn: &mut AnyConnection, pipeline_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE opportunities SET reached_position = COALESCE((SELECT MAX(s.position) FROM stage_visits v \
         JOIN stages s ON s.id = v.stage_id WHERE v.opportunity_id = opportunities.id), 0) WHERE pipeline_id = $1",
    )
    .bind(pipeline_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an opportunity with its activities and stage history.
pub async fn delete_opportunity(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    for sql in [
        "DELETE FROM activities WHERE opportunity_id = $1",
        "DELETE FROM stage_visits WHERE opportunity_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    let r = sqlx::query("DELETE FROM opportunities WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// One stay in a stage, with the stage's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub stage_id: String,
    pub stage_name: String,
    pub entered_at: i64,
    pub left_at: i64,
    pub moved_by: String,
}

/// The stage history of an opportunity, oldest first.
pub async fn visits(conn: &mut AnyConnection, opportunity_id: &str) -> Result<Vec<VisitRow>> {
    Ok(sqlx::query_as(
        "SELECT v.stage_id, COALESCE(s.name, '') AS stage_name, v.entered_at, v.left_at, v.moved_by \
         FROM stage_visits v LEFT JOIN stages s ON s.id = v.stage_id WHERE v.opportunity_id = $1 ORDER BY v.entered_at, v.id",
    )
    .bind(opportunity_id)
    .fetch_all(conn)
    .await?)
}

/// A stored activity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: String,
    pub opportunity_id: String,
    pub sequence: i64,
    pub method: String,
    pub activity_at: i64,
    pub summary: String,
    pub stage_id: String,
    pub probability: i64,
    pub expected_amount: i64,
    pub expected_cost: i64,
    pub planned_close_date: String,
    pub completed: i64,
    pub completed_at: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

const ACTIVITY_COLUMNS: &str = "id, opportunity_id, sequence, method, activity_at, summary, stage_id, probability, \
    expected_amount, expected_cost, planned_close_date, completed, completed_at, created_at, created_by, updated_at, \
    updated_by, version";

/// The activities of an opportunity in order.
pub async fn activities(conn: &mut AnyConnection, opportunity_id: &str) -> Result<Vec<ActivityRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE opportunity_id = $1 ORDER BY sequence"
    ))
    .bind(opportunity_id)
    .fetch_all(conn)
    .await?)
}

/// One activity.
pub async fn activity(conn: &mut AnyConnection, id: &str) -> Result<Option<ActivityRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Inserts an activity as the next of its opportunity (its sequence is set here).
pub async fn insert_activity(conn: &mut AnyConnection, a: &mut ActivityRow) -> Result<()> {
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(sequence), 0) + 1 AS BIGINT) FROM activities WHERE opportunity_id = $1",
    )
    .bind(&a.opportunity_id)
    .fetch_one(&mut *conn)
    .await?;
    a.sequence = next;
    sqlx::query(&format!(
        "INSERT INTO activities ({ACTIVITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18)"
    ))
    .bind(&a.id)
    .bind(&a.opportunity_id)
    .bind(a.sequence)
    .bind(&a.method)
    .bind(a.activity_at)
    .bind(&a.summary)
    .bind(&a.stage_id)
    .bind(a.probability)
    .bind(a.expected_amount)
    .bind(a.expected_cost)
    .bind(&a.planned_close_date)
    .bind(a.completed)
    .bind(a.completed_at)
    .bind(a.created_at)
    .bind(&a.created_by)
    .bind(a.updated_at)
    .bind(&a.updated_by)
    .bind(a.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an activity at `version`; false when it changed meanwhile or is completed (a
/// completed activity is frozen; completing it is this write's last chance to change it).
pub async fn update_activity(conn: &mut AnyConnection, a: &ActivityRow, version: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE activities SET method = $1, activity_at = $2, summary = $3, stage_id = $4, probability = $5, \
         expected_amount = $6, expected_cost = $7, planned_close_date = $8, completed = $9, completed_at = $10, \
         updated_at = $11, updated_by = $12, version = version + 1 WHERE id = $13 AND version = $14 AND completed = 0",
    )
    .bind(&a.method)
    .bind(a.activity_at)
    .bind(&a.summary)
    .bind(&a.stage_id)
    .bind(a.probability)
    .bind(a.expected_amount)
    .bind(a.expected_cost)
    .bind(&a.planned_close_date)
    .bind(a.completed)
    .bind(a.completed_at)
    .bind(a.updated_at)
    .bind(&a.updated_by)
    .bind(&a.id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes an activity.
pub async fn delete_activity(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM activities WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A stored quota.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRow {
    pub period: String,
    pub subject_id: String,
    pub is_department: i64,
    pub currency: String,
    pub amount: i64,
    /// The department path of the employee, or of the department, the quota is set for.
    pub subject_department_path: String,
}

/// Sets a quota.
pub async fn upsert_quota(conn: &mut AnyConnection, q: &QuotaRow, now: i64, actor: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO quotas (period, subject_id, is_department, currency, amount, updated_at, updated_by, \
         subject_department_path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (period, subject_id, is_department) DO UPDATE SET \
         currency = excluded.currency, amount = excluded.amount, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by, subject_department_path = excluded.subject_department_path",
    )
    .bind(&q.period)
    .bind(&q.subject_id)
    .bind(q.is_department)
    .bind(&q.currency)
    .bind(q.amount)
    .bind(now)
    .bind(actor)
    .bind(&q.subject_department_path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Quotas in `scope` whose period starts with `prefix`.
pub async fn quotas(conn: &mut AnyConnection, scope: &crm_kit::auth::ReadScope, prefix: &str) -> Result<Vec<QuotaRow>> {
    let mut q = SqlBuf::read(
        "SELECT q.period, q.subject_id, q.is_department, q.currency, q.amount, q.subject_department_path FROM quotas q",
        scope,
    );
    q.push(" AND q.period LIKE ")
        .text(format!("{}%", crm_kit::filter::like_escape(prefix)))
        .push(" ESCAPE '\\' ORDER BY q.period, q.is_department, q.subject_id");
    fetch(conn, &q).await
}
