//! Pipelines and their ordered stages, each with a default win probability and an optional time
//! limit. A default pipeline is seeded on the first start.

use crm_kit::auth::Principal;
use crm_kit::db::Db;
use crm_kit::errors::Violations;
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use sqlx::AnyConnection;

use super::{SalesApi, check_text};
use crate::store;
use crate::store::pipelines::{PipelineRow, StageRow};
use crm_kit::errors::reason;

const PIPELINE: &str = "crm.sales.v1.Pipeline";

/// The stages of the seeded pipeline: name, probability, days allowed.
const DEFAULT_STAGES: &[(&str, i64, i64)] = &[
    ("Initial contact", 10, 14),
    ("Needs analysis", 25, 21),
    ("Proposal", 50, 21),
    ("Negotiation", 75, 14),
    ("Contract", 90, 7),
];

/// Creates the default pipeline unless a pipeline exists.
pub async fn seed_default(db: &Db) -> Result<()> {
    let mut tx = db.begin_write().await?;
    if store::pipelines::load(&mut tx, "").await?.is_some() {
        return Ok(());
    }
    let now = now_micros();
    let row = PipelineRow {
        id: crm_kit::new_id(),
        name: "Sales".into(),
        is_default: 1,
        version: 1,
    };
    if store::pipelines::insert(&mut tx, &row, now).await? {
        for (i, (name, probability, days)) in DEFAULT_STAGES.iter().enumerate() {
            store::pipelines::upsert_stage(
                &mut tx,
                &StageRow {
                    id: crm_kit::new_id(),
                    pipeline_id: row.id.clone(),
                    position: i as i64 + 1,
                    name: (*name).into(),
                    probability: *probability,
                    time_limit_days: *days,
                    active: 1,
                },
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(pipeline = %row.id, "default pipeline created");
    }
    Ok(())
}

/// The wire form of a pipeline with its active stages.
pub(crate) async fn pipeline_proto(conn: &mut AnyConnection, p: &PipelineRow) -> Result<pb::Pipeline> {
    let stages = store::pipelines::stages(conn, &p.id, false).await?;
    Ok(pb::Pipeline {
        id: p.id.clone(),
        name: p.name.clone(),
        stages: stages.iter().map(stage_proto).collect(),
        is_default: p.is_default == 1,
        etag: etag(p.version),
    })
}

fn stage_proto(s: &StageRow) -> pb::Stage {
    pb::Stage {
        id: s.id.clone(),
        name: s.name.clone(),
        probability: s.probability as i32,
        time_limit_days: s.time_limit_days as i32,
    }
}

/// Most stages of one pipeline.
const MAX_STAGES: usize = 50;

/// Checks the stages sent: at least one, names unique, probabilities 0-100, limits ≥ 0.
fn check_stages(stages: &[pb::Stage], v: &mut Violations) {
    if stages.is_empty() {
        v.add("pipeline.stages", reason::REQUIRED, "a pipeline has at least one stage");
    }
    if stages.len() > MAX_STAGES {
        v.add(
            "pipeline.stages",
            reason::TOO_MANY,
            format!("a pipeline has at most {MAX_STAGES} stages"),
        );
        return;
    }
    let mut names = std::collections::HashSet::new();
    for (i, s) in stages.iter().enumerate() {
        let field = format!("pipeline.stages[{i}]");
        check_text(&format!("{field}.name"), &s.name, true, 60, v);
        if !names.insert(s.name.trim().to_lowercase()) {
            v.add(
                format!("{field}.name"),
                reason::DUPLICATE,
                "stage names are unique within a pipeline",
            );
        }
        if !crate::domain::valid_probability(s.probability) {
            v.add(format!("{field}.probability"), reason::OUT_OF_RANGE, "must be 0-100");
        }
        if s.time_limit_days < 0 {
            v.add(
                format!("{field}.time_limit_days"),
                reason::OUT_OF_RANGE,
                "must be 0 (no limit) or more",
            );
        }
    }
}

impl SalesApi {
    pub async fn create_pipeline(
        &self,
        _caller: &Principal,
        req: pb::CreatePipelineRequest,
    ) -> Result<pb::CreatePipelineResponse> {
        let Some(src) = req.pipeline else {
            return Err(Error::required("pipeline"));
        };
        let mut v = Violations::new();
        check_text("pipeline.name", &src.name, true, 60, &mut v);
        check_stages(&src.stages, &mut v);
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let row = PipelineRow {
            id: crm_kit::new_id(),
            name: src.name.trim().to_string(),
            is_default: 0,
            version: 1,
        };
        if !store::pipelines::insert(&mut tx, &row, now_micros()).await? {
            return Err(Error::invalid(
                "pipeline.name",
                reason::DUPLICATE,
                format!("a pipeline named {} exists", row.name),
            ));
        }
        for (i, s) in src.stages.iter().enumerate() {
            store::pipelines::upsert_stage(
                &mut tx,
                &StageRow {
                    id: crm_kit::new_id(),
                    pipeline_id: row.id.clone(),
                    position: i as i64 + 1,
                    name: s.name.trim().to_string(),
                    probability: i64::from(s.probability),
                    time_limit_days: i64::from(s.time_limit_days),
                    active: 1,
                },
            )
            .await?;
        }
        let pipeline = pipeline_proto(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(pb::CreatePipelineResponse {
            pipeline: Some(pipeline),
        })
    }

    pub async fn list_pipelines(
        &self,
        _caller: &Principal,
        _req: pb::ListPipelinesRequest,
    ) -> Result<pb::ListPipelinesResponse> {
        let mut conn = self.conn().await?;
        let mut pipelines = Vec::new();
        for p in store::pipelines::all(&mut conn).await? {
            pipelines.push(pipeline_proto(&mut conn, &p).await?);
        }
        Ok(pb::ListPipelinesResponse { pipelines })
    }

    pub async fn update_pipeline(
        &self,
        _caller: &Principal,
        req: pb::UpdatePipelineRequest,
    ) -> Result<pb::UpdatePipelineResponse> {
        let Some(src) = req.pipeline.as_ref() else {
            return Err(Error::required("pipeline"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            &["name", "stages"],
            &["id", "is_default", "etag"],
            "Pipeline",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let Some(mut row) = store::pipelines::load(&mut tx, src.id.trim())
            .await?
            .filter(|_| !src.id.trim().is_empty())
        else {
            return Err(Error::not_found(PIPELINE, src.id.trim()));
        };
        check_etag("pipeline.etag", &src.etag, row.version, PIPELINE)?;
        let mut v = Violations::new();
        if paths.contains(&"name") {
            check_text("pipeline.name", &src.name, true, 60, &mut v);
            row.name = src.name.trim().to_string();
        }
        if paths.contains(&"stages") {
            check_stages(&src.stages, &mut v);
        }
        v.finish()?;
        if paths.contains(&"stages") {
            let current = store::pipelines::stages(&mut tx, &row.id, false).await?;
            for (i, s) in src.stages.iter().enumerate() {
                if !s.id.is_empty() && !current.iter().any(|c| c.id == s.id) {
                    return Err(Error::invalid(
                        format!("pipeline.stages[{i}].id"),
                        "UNKNOWN_STAGE",
                        format!("{} is not a stage of this pipeline", s.id),
                    ));
                }
            }
            for gone in current.iter().filter(|c| !src.stages.iter().any(|s| s.id == c.id)) {
                let open = store::opportunities::open_in_stage(&mut tx, &gone.id).await?;
                if open > 0 {
                    return Err(Error::precondition(
                        "STAGE_IN_USE",
                        format!("stages/{}", gone.id),
                        format!(
                            "{open} open opportunities stand in stage {}; move them first",
                            gone.name
                        ),
                    ));
                }
                store::pipelines::upsert_stage(
                    &mut tx,
                    &StageRow {
                        active: 0,
                        ..gone.clone()
                    },
                )
                .await?;
            }
            for (i, s) in src.stages.iter().enumerate() {
                store::pipelines::upsert_stage(
                    &mut tx,
                    &StageRow {
                        id: if s.id.is_empty() {
                            crm_kit::new_id()
                        } else {
                            s.id.clone()
                        },
                        pipeline_id: row.id.clone(),
                        position: i as i64 + 1,
                        name: s.name.trim().to_string(),
                        probability: i64::from(s.probability),
                        time_limit_days: i64::from(s.time_limit_days),
                        active: 1,
                    },
                )
                .await?;
            }
            // A stage that moved changes how far the deals that stood in it got.
            let renumbered = src
                .stages
                .iter()
                .enumerate()
                .any(|(i, s)| current.iter().any(|c| c.id == s.id && c.position != i as i64 + 1));
            if renumbered {
                store::opportunities::recompute_reached(&mut tx, &row.id).await?;
            }
        }
        match store::pipelines::touch(&mut tx, &row.id, &row.name, row.version, now_micros()).await? {
            Some(true) => {}
            None => return Err(Error::stale_etag(PIPELINE)),
            Some(false) => {
                return Err(Error::invalid(
                    "pipeline.name",
                    reason::DUPLICATE,
                    format!("a pipeline named {} exists", row.name),
                ));
            }
        }
        row.version += 1;
        let pipeline = pipeline_proto(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(pb::UpdatePipelineResponse {
            pipeline: Some(pipeline),
        })
    }
}
