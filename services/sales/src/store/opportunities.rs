//! Opportunities with their stage history (visits) and their activities.

use crm_kit::Result;
use sqlx::AnyConnection;

use super::Listed;

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

/// The columns of an [`OpportunityRow`] of opportunities `o` (see [`FROM`]).
pub const COLUMNS: &str = "o.id, o.subject, o.customer_id, o.contact_id, o.owner_id, \
    o.owner_department_path, o.pipeline_id, o.stage_id, o.probability, o.currency, o.expected_amount, o.expected_cost, \
    o.start_date, o.planned_close_date, o.actual_close_date, o.forecast_category, o.competitor, o.remark, o.status, \
    o.lost_reason, o.audited, o.converted_to, o.stage_entered_at, o.lead_id, o.closed_at, o.created_at, o.created_by, \
    o.updated_at, o.updated_by, o.version, COALESCE(s.time_limit_days, 0) AS time_limit_days";

/// The FROM clause matching [`COLUMNS`].
pub const FROM: &str = "opportunities o LEFT JOIN stages s ON s.id = o.stage_id";

/// The opportunities a list shows: all, or (with `stuck_only`) those stuck in their stage at
/// `now`.
pub fn listed(stuck_only: bool, now: i64) -> Listed {
    Listed {
        select: format!("SELECT {COLUMNS} FROM {FROM}"),
        conditions: if stuck_only {
            crate::domain::stuck_sql(now)
        } else {
            "1 = 1".into()
        },
        alias: "o",
    }
}

/// One opportunity.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<OpportunityRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM {FROM} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Inserts an opportunity and opens its first stage visit.
pub async fn insert(conn: &mut AnyConnection, o: &OpportunityRow) -> Result<()> {
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
pub async fn update(conn: &mut AnyConnection, o: &OpportunityRow, version: i64, previous_stage: &str) -> Result<bool> {
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
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool> {
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

/// Records that an opportunity became `converted_to` (`project:<id>`), unless it already became
/// something; false then.
pub async fn set_converted_to(conn: &mut AnyConnection, id: &str, converted_to: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE opportunities SET converted_to = $1, version = version + 1 WHERE id = $2 AND converted_to = ''",
    )
    .bind(converted_to)
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
