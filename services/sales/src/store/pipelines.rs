//! Pipelines and their ordered stages.

use crm_kit::Result;
use sqlx::AnyConnection;

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
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<PipelineRow>> {
    Ok(
        sqlx::query_as("SELECT id, name, is_default, version FROM pipelines ORDER BY is_default DESC, name, id")
            .fetch_all(conn)
            .await?,
    )
}

/// One pipeline (`""`: the default one).
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<PipelineRow>> {
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
pub async fn insert(conn: &mut AnyConnection, p: &PipelineRow, now: i64) -> Result<bool> {
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
pub async fn touch(conn: &mut AnyConnection, id: &str, name: &str, version: i64, now: i64) -> Result<Option<bool>> {
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
