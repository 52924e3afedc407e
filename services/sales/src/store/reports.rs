//! Quotas, the aggregates behind the reports (each over the rows of a caller's scope) and the
//! weekly forecast snapshots.

use std::collections::BTreeMap;

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::db::Db;
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

use super::fetch;
use crate::domain;

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
pub async fn quotas(conn: &mut AnyConnection, scope: &ReadScope, prefix: &str) -> Result<Vec<QuotaRow>> {
    let mut q = SqlBuf::read(
        "SELECT q.period, q.subject_id, q.is_department, q.currency, q.amount, q.subject_department_path FROM quotas q",
        scope,
    );
    q.push(" AND q.period LIKE ")
        .text(format!("{}%", crm_kit::filter::like_escape(prefix)))
        .push(" ESCAPE '\\' ORDER BY q.period, q.is_department, q.subject_id");
    fetch(conn, &q).await
}

/// `CAST(COALESCE(SUM(expr), 0) AS BIGINT)`: a sum both databases hand back as a 64-bit
/// integer (PostgreSQL sums BIGINT as NUMERIC), zero over no rows.
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

/// `AND o.created_at >= from AND o.created_at < to` for the bounds given.
fn push_bounds(q: &mut SqlBuf, from: Option<i64>, to: Option<i64>) {
    if let Some(f) = from {
        q.push(" AND o.created_at >= ").int(f);
    }
    if let Some(t) = to {
        q.push(" AND o.created_at < ").int(t);
    }
}

/// One cell of the funnel: status, stage id, furthest stage position reached, count,
/// expected amount, weighted amount, how many are stuck.
pub type FunnelCell = (String, String, i64, i64, i64, i64, i64);

/// One pass over the deals of `pipeline_id` created within `[from, to)`, by status, stage and
/// how far they got: a few rows per stage, whatever the number of deals.
pub async fn funnel(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    pipeline_id: &str,
    (from, to): (Option<i64>, Option<i64>),
    currency: &str,
    now: i64,
) -> Result<Vec<FunnelCell>> {
    let mut q = SqlBuf::read(
        &format!(
            "SELECT o.status, o.stage_id, CAST(o.reached_position AS BIGINT), CAST(COUNT(*) AS BIGINT), {}, {}, {} \
             FROM opportunities o LEFT JOIN stages s ON s.id = o.stage_id",
            sum("o.expected_amount"),
            sum(&domain::weighted_sql("o.expected_amount", "o.probability", currency)),
            sum(&format!("CASE WHEN {} THEN 1 ELSE 0 END", domain::stuck_sql(now))),
        ),
        scope,
    );
    q.push(" AND o.pipeline_id = ").text(pipeline_id);
    push_bounds(&mut q, from, to);
    q.push(" GROUP BY o.status, o.stage_id, o.reached_position");
    fetch(conn, &q).await
}

/// Whose open and won deals a forecast covers.
#[derive(Debug, Clone, Copy)]
pub enum ForecastSubject<'a> {
    /// One employee's.
    Employee(&'a str),
    /// Those of everyone in a department and the departments below it.
    Department(&'a str),
}

/// One cell of a forecast: planned close month (`YYYY-MM`), forecast category (`closed` for
/// won deals), count, expected amount, weighted amount.
pub type ForecastCell = (String, String, i64, i64, i64);

/// The open and won deals of `subject` planned to close within `from_date..=to_date` (empty:
/// open end), summed by close month and category.
pub async fn forecast(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    subject: ForecastSubject<'_>,
    (from_date, to_date): (&str, &str),
    currency: &str,
) -> Result<Vec<ForecastCell>> {
    let mut q = SqlBuf::read(
        &format!(
            "SELECT SUBSTR(o.planned_close_date, 1, 7), \
             CASE WHEN o.status = 'won' THEN 'closed' ELSE o.forecast_category END, \
             CAST(COUNT(*) AS BIGINT), {}, {} FROM opportunities o",
            sum("o.expected_amount"),
            sum(&domain::weighted_sql("o.expected_amount", "o.probability", currency)),
        ),
        scope,
    );
    q.push(" AND o.status IN ('open', 'won') AND o.planned_close_date <> ''");
    if !from_date.is_empty() {
        q.push(" AND o.planned_close_date >= ").text(from_date);
    }
    if !to_date.is_empty() {
        q.push(" AND o.planned_close_date <= ").text(to_date);
    }
    match subject {
        ForecastSubject::Department(id) => {
            q.push(" AND o.owner_department_path LIKE ")
                .text(format!("%/{}/%", crm_kit::filter::like_escape(id)))
                .push(" ESCAPE '\\'");
        }
        ForecastSubject::Employee(id) => {
            q.push(" AND o.owner_id = ").text(id);
        }
    }
    q.push(" GROUP BY 1, 2");
    fetch(conn, &q).await
}

/// Sums over a group of opportunities, added up by the database.
#[derive(Debug, Default, Clone, sqlx::FromRow)]
pub struct Tally {
    pub key: String,
    pub count: i64,
    pub cost: i64,
    pub sales: i64,
    pub weighted: i64,
    pub won: i64,
    pub lost: i64,
    pub won_amount: i64,
    pub won_cycle_micros: i64,
}

/// The SELECT list of a [`Tally`] of opportunities `o` grouped by `key`.
fn tally_select(key: &str, currency: &str) -> String {
    format!(
        "SELECT {key} AS key, CAST(COUNT(*) AS BIGINT) AS count, {} AS cost, {} AS sales, {} AS weighted, \
         {} AS won, {} AS lost, {} AS won_amount, {} AS won_cycle_micros",
        sum("o.expected_cost"),
        sum("o.expected_amount"),
        sum(&domain::weighted_sql("o.expected_amount", "o.probability", currency)),
        sum("CASE WHEN o.status = 'won' THEN 1 ELSE 0 END"),
        sum("CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END"),
        sum("CASE WHEN o.status = 'won' THEN o.expected_amount ELSE 0 END"),
        sum("CASE WHEN o.status = 'won' AND o.closed_at > o.created_at THEN o.closed_at - o.created_at ELSE 0 END"),
    )
}

/// [`Tally`]s of the opportunities created within `[from, to)` (in `stage_id` unless empty),
/// one per customer (`by_customer`) or per owner.
pub async fn opportunity_tallies(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    by_customer: bool,
    stage_id: &str,
    (from, to): (Option<i64>, Option<i64>),
    currency: &str,
) -> Result<Vec<Tally>> {
    let key = if by_customer { "o.customer_id" } else { "o.owner_id" };
    let mut q = SqlBuf::read(&format!("{} FROM opportunities o", tally_select(key, currency)), scope);
    if !stage_id.is_empty() {
        q.push(" AND o.stage_id = ").text(stage_id);
    }
    push_bounds(&mut q, from, to);
    q.push(&format!(" GROUP BY {key}"));
    fetch(conn, &q).await
}

/// Owned live leads created within `[from, to)` per owner (or, `by_source`, per source code),
/// in key order: key, leads, converted, disqualified.
pub async fn lead_conversion(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    by_source: bool,
    (from, to): (Option<i64>, Option<i64>),
) -> Result<Vec<(String, i64, i64, i64)>> {
    let key = if by_source { "l.source" } else { "l.owner_id" };
    let mut q = SqlBuf::read(
        &format!(
            "SELECT {key}, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.status = 'converted' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.status = 'disqualified' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM leads l"
        ),
        scope,
    );
    q.push(" AND l.deleted_at IS NULL AND l.owner_id <> ''");
    if let Some(f) = from {
        q.push(" AND l.created_at >= ").int(f);
    }
    if let Some(t) = to {
        q.push(" AND l.created_at < ").int(t);
    }
    q.push(&format!(" GROUP BY {key} ORDER BY {key}"));
    Ok(q.query_as().fetch_all(conn).await?)
}

/// One group of projects: key, count, expected cost, expected sales, weighted amount, actual
/// cost, actual sales.
pub type ProjectSums = (String, i64, i64, i64, i64, i64, i64);

/// The projects created within `[from, to)`, summed per customer (`by_customer`) or per owner.
/// A project's expected side is its opportunity's figures; the actual side is its own.
pub async fn project_sums(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    by_customer: bool,
    (from, to): (Option<i64>, Option<i64>),
    currency: &str,
) -> Result<Vec<ProjectSums>> {
    let key = if by_customer { "p.customer_id" } else { "p.owner_id" };
    let mut q = SqlBuf::read(
        &format!(
            "SELECT {key}, CAST(COUNT(*) AS BIGINT), {}, {}, {}, {}, {} FROM projects p",
            sum("p.expected_cost"),
            sum("p.expected_amount"),
            sum(&domain::weighted_sql("p.expected_amount", "p.probability", currency)),
            sum("p.actual_cost"),
            sum("p.actual_sales"),
        ),
        scope,
    );
    if let Some(f) = from {
        q.push(" AND p.created_at >= ").int(f);
    }
    if let Some(t) = to {
        q.push(" AND p.created_at < ").int(t);
    }
    q.push(&format!(" GROUP BY {key}"));
    fetch(conn, &q).await
}

/// One owner's open and won deals of one close month and category: owner, owner's department
/// path, planned close month (`YYYY-MM`), category (`closed` for won deals), count, expected
/// amount, weighted amount.
pub type OwnerForecast = (String, String, String, String, i64, i64, i64);

/// Every owner's open and won deals with a planned close date, summed by close month and
/// category (all of them, whatever anyone's scope: a snapshot is read through its own scope).
pub async fn forecast_by_owner(conn: &mut AnyConnection, currency: &str) -> Result<Vec<OwnerForecast>> {
    Ok(sqlx::query_as(&format!(
        "SELECT o.owner_id, MAX(o.owner_department_path), SUBSTR(o.planned_close_date, 1, 7), \
         CASE WHEN o.status = 'won' THEN 'closed' ELSE o.forecast_category END, CAST(COUNT(*) AS BIGINT), {}, {} \
         FROM opportunities o WHERE o.status IN ('open', 'won') AND o.planned_close_date <> '' GROUP BY o.owner_id, 3, 4",
        sum("o.expected_amount"),
        sum(&domain::weighted_sql("o.expected_amount", "o.probability", currency)),
    ))
    .fetch_all(conn)
    .await?)
}

/// One snapshot row's key: owner, close month, category.
pub type SnapshotKey = (String, String, String);
/// One snapshot row's figures: owner's department path, count, expected, weighted.
pub type SnapshotCell = (String, i64, i64, i64);

/// Replaces the snapshot of `week` with `cells`, taken at `now`.
pub async fn replace_snapshot(
    conn: &mut AnyConnection,
    week: &str,
    cells: &BTreeMap<SnapshotKey, SnapshotCell>,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM forecast_snapshots WHERE week = $1")
        .bind(week)
        .execute(&mut *conn)
        .await?;
    for ((owner, period, category), (path, count, expected, weighted)) in cells {
        sqlx::query(
            "INSERT INTO forecast_snapshots (week, owner_id, owner_department_path, period, category, opportunity_count, \
             expected_amount, weighted_amount, taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(week)
        .bind(owner)
        .bind(path)
        .bind(period)
        .bind(category)
        .bind(count)
        .bind(expected)
        .bind(weighted)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether a snapshot of `week` exists.
pub async fn snapshot_taken(db: &Db, week: &str) -> Result<bool> {
    let taken: Option<String> = sqlx::query_scalar("SELECT week FROM forecast_snapshots WHERE week = $1 LIMIT 1")
        .bind(week)
        .fetch_optional(&db.pool)
        .await?;
    Ok(taken.is_some())
}

/// One row of the snapshots: week, period, category, count, expected, weighted.
pub type SnapshotRow = (String, String, String, i64, i64, i64);

/// The snapshot rows in `scope` (of `subject` when given, with periods starting with
/// `period_prefix`), summed over owners, by week, period and category.
pub async fn snapshots(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    subject: Option<ForecastSubject<'_>>,
    period_prefix: &str,
) -> Result<Vec<SnapshotRow>> {
    let mut q = SqlBuf::read(
        "SELECT f.week, f.period, f.category, CAST(SUM(f.opportunity_count) AS BIGINT), \
         CAST(SUM(f.expected_amount) AS BIGINT), CAST(SUM(f.weighted_amount) AS BIGINT) FROM forecast_snapshots f",
        scope,
    );
    match subject {
        Some(ForecastSubject::Department(id)) => {
            q.push(" AND f.owner_department_path LIKE ")
                .text(format!("%/{}/%", crm_kit::filter::like_escape(id)))
                .push(" ESCAPE '\\'");
        }
        Some(ForecastSubject::Employee(id)) => {
            q.push(" AND f.owner_id = ").text(id);
        }
        None => {}
    }
    if !period_prefix.is_empty() {
        q.push(" AND f.period LIKE ")
            .text(format!("{}%", crm_kit::filter::like_escape(period_prefix)))
            .push(" ESCAPE '\\'");
    }
    q.push(" GROUP BY f.week, f.period, f.category ORDER BY f.week, f.period, f.category");
    Ok(q.query_as().fetch_all(conn).await?)
}
