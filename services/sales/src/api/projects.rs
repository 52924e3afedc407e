//! Projects: project-type business made of an audited, won opportunity. A project keeps the
//! opportunity's stage, probability and amounts, adds actual cost and sales, partners and
//! maintenance records (in order, frozen once complete), can be terminated and re-opened, and
//! can be copied into a new opportunity when the customer asks for more.

use crm_kit::auth::Principal;
use crm_kit::auth::ReadScope;
use crm_kit::errors::Violations;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Position};
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use sqlx::AnyConnection;

use super::opportunities::opportunity_proto;
use super::{SERVICE, SalesApi, audit, check_notes, check_text};
use crate::domain::{self, money};
use crate::store;
use crate::store::opportunities::OpportunityRow;
use crate::store::projects::{MaintenanceRecordRow, ProjectRow};
use crm_kit::errors::reason;

pub const PROJECT: &str = "crm.sales.v1.Project";
const RECORD: &str = "crm.sales.v1.MaintenanceRecord";

/// Where projects keep what scope predicates look at.
pub use super::PROJECT_SCOPE;

const PROJECT_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "p.status",
        ty: FieldType::Enum(&["open", "terminated"]),
    },
    FieldSpec {
        name: "customer_id",
        column: "p.customer_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "owner_id",
        column: "p.owner_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "create_time",
        column: "p.created_at",
        ty: FieldType::Timestamp,
    },
];

fn partners_of(p: &ProjectRow) -> Vec<String> {
    serde_json::from_str(&p.partners).unwrap_or_default()
}

pub(crate) fn project_proto(p: &ProjectRow) -> pb::Project {
    let m = |v: i64| Some(money(&p.currency, v));
    pb::Project {
        id: p.id.clone(),
        opportunity_id: p.opportunity_id.clone(),
        name: p.name.clone(),
        customer_id: p.customer_id.clone(),
        contact_id: p.contact_id.clone(),
        owner_id: p.owner_id.clone(),
        stage_id: p.stage_id.clone(),
        probability: p.probability as i32,
        expected_amount: m(p.expected_amount),
        expected_cost: m(p.expected_cost),
        actual_cost: m(p.actual_cost),
        actual_sales: m(p.actual_sales),
        actual_profit: m(p.actual_sales - p.actual_cost),
        partners: partners_of(p),
        remark: p.remark.clone(),
        status: if p.status == "terminated" {
            pb::ProjectStatus::Terminated
        } else {
            pb::ProjectStatus::Open
        } as i32,
        audit: Some(audit(p.created_at, &p.created_by, p.updated_at, &p.updated_by)),
        etag: etag(p.version),
    }
}

fn record_proto(r: &MaintenanceRecordRow) -> pb::MaintenanceRecord {
    pb::MaintenanceRecord {
        id: r.id.clone(),
        project_id: r.project_id.clone(),
        sequence: r.sequence as i32,
        method: domain::method_of(&r.method) as i32,
        record_time: crm_kit::time::set_to_proto(r.record_at),
        summary: r.summary.clone(),
        completed: r.completed == 1,
        complete_time: crm_kit::time::set_to_proto(r.completed_at),
        audit: Some(audit(r.created_at, &r.created_by, r.updated_at, &r.updated_by)),
    }
}

impl SalesApi {
    pub(crate) async fn visible_project(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<ProjectRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        match store::projects::load(conn, id).await? {
            Some(p) if caller.covers(SERVICE, &p.owner_id, &p.owner_department_path) => Ok(p),
            _ => Err(Error::not_found(PROJECT, id)),
        }
    }

    pub async fn create_project(
        &self,
        caller: &Principal,
        mut req: pb::CreateProjectRequest,
    ) -> Result<pb::CreateProjectResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateProject", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        check_text("name", &req.name, false, 200, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let mut o = self
            .visible_opportunity(&mut tx, caller, "opportunity_id", &req.opportunity_id)
            .await?;
        if o.status != "won" || o.audited != 1 {
            return Err(Error::precondition(
                "NOT_AUDITED_AND_WON",
                format!("opportunities/{}", o.id),
                "only an audited, won opportunity becomes a project",
            ));
        }
        if !o.converted_to.is_empty() {
            return Err(Error::AlreadyExists {
                reason: "ALREADY_CONVERTED",
                message: format!("the opportunity already became {}", o.converted_to),
                metadata: vec![("converted_to".into(), o.converted_to.clone())],
                resource: None,
            });
        }
        let now = now_micros();
        let row = ProjectRow {
            id: crm_kit::new_id(),
            opportunity_id: o.id.clone(),
            name: if req.name.trim().is_empty() {
                o.subject.clone()
            } else {
                req.name.trim().to_string()
            },
            customer_id: o.customer_id.clone(),
            contact_id: o.contact_id.clone(),
            owner_id: o.owner_id.clone(),
            owner_department_path: o.owner_department_path.clone(),
            stage_id: o.stage_id.clone(),
            probability: o.probability,
            currency: o.currency.clone(),
            expected_amount: o.expected_amount,
            expected_cost: o.expected_cost,
            actual_cost: 0,
            actual_sales: 0,
            partners: "[]".into(),
            remark: String::new(),
            status: "open".into(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
        };
        store::projects::insert(&mut tx, &row).await?;
        // The approval of what became a project stands from now on.
        if !store::opportunities::set_converted_to(&mut tx, &o.id, &format!("project:{}", row.id)).await? {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the opportunity changed meanwhile; retry".into(),
            });
        }
        o.converted_to = format!("project:{}", row.id);
        let response = pb::CreateProjectResponse {
            project: Some(project_proto(&row)),
        };
        tx.finish(response).await
    }

    pub async fn get_project(&self, caller: &Principal, req: pb::GetProjectRequest) -> Result<pb::GetProjectResponse> {
        let mut conn = self.conn().await?;
        let p = self.visible_project(&mut conn, caller, "id", &req.id).await?;
        Ok(pb::GetProjectResponse {
            project: Some(project_proto(&p)),
        })
    }

    pub async fn list_projects(
        &self,
        caller: &Principal,
        req: pb::ListProjectsRequest,
    ) -> Result<pb::ListProjectsResponse> {
        let listed = store::projects::listed();
        let shape = [req.filter.as_str(), ""];
        let keyset = Keyset::open(&self.tokens, listed.order(), req.page_size, &req.page_token, &shape)?;
        let filter = crm_kit::filter::compile(PROJECT_FILTER, &req.filter, 1)?;
        let scope = ReadScope::of(caller, &PROJECT_SCOPE);
        let mut conn = self.conn().await?;
        let page = store::page(
            &mut conn,
            &listed,
            &scope,
            filter.as_ref(),
            &keyset,
            |p: &ProjectRow| Position::at(p.created_at, &p.id),
        )
        .await?;
        Ok(pb::ListProjectsResponse {
            projects: page.rows.iter().map(project_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn update_project(
        &self,
        caller: &Principal,
        req: pb::UpdateProjectRequest,
    ) -> Result<pb::UpdateProjectResponse> {
        let Some(src) = req.project.as_ref() else {
            return Err(Error::required("project"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            &[
                "name",
                "contact_id",
                "actual_cost",
                "actual_sales",
                "partners",
                "remark",
            ],
            &[
                "id",
                "opportunity_id",
                "customer_id",
                "owner_id",
                "stage_id",
                "probability",
                "expected_amount",
                "expected_cost",
                "actual_profit",
                "status",
                "audit",
                "etag",
            ],
            "Project",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut p = self.visible_project(&mut tx, caller, "project.id", &src.id).await?;
        check_etag("project.etag", &src.etag, p.version, PROJECT)?;
        if p.status != "open" {
            return Err(terminated(&p.id));
        }
        let version = p.version;
        let mut v = Violations::new();
        for path in &paths {
            let field = format!("project.{path}");
            match *path {
                "name" => {
                    check_text(&field, &src.name, true, 200, &mut v);
                    p.name = src.name.trim().to_string();
                }
                "contact_id" => p.contact_id = src.contact_id.trim().to_string(),
                "actual_cost" => p.actual_cost = self.amount(&field, src.actual_cost.as_ref(), &mut v),
                "actual_sales" => p.actual_sales = self.amount(&field, src.actual_sales.as_ref(), &mut v),
                "partners" => {
                    let partners = crm_kit::text::distinct_list(
                        &mut v,
                        &field,
                        &src.partners,
                        crm_kit::text::ListRule {
                            max_items: 50,
                            max_chars: 200,
                            skip_empty: true,
                        },
                    );
                    p.partners = serde_json::to_string(&partners).unwrap_or_else(|_| "[]".into());
                }
                "remark" => {
                    check_notes(&field, &src.remark, false, 2000, &mut v);
                    p.remark = src.remark.trim().to_string();
                }
                _ => {}
            }
        }
        v.finish()?;
        p.updated_at = now_micros();
        p.updated_by = caller.employee_id.clone();
        if !store::projects::update(&mut tx, &p, version).await? {
            return Err(Error::stale_etag(PROJECT));
        }
        p.version += 1;
        tx.commit().await?;
        Ok(pb::UpdateProjectResponse {
            project: Some(project_proto(&p)),
        })
    }

    pub async fn set_project_status(
        &self,
        caller: &Principal,
        req: pb::SetProjectStatusRequest,
    ) -> Result<pb::SetProjectStatusResponse> {
        let to = match pb::ProjectStatus::try_from(req.status).unwrap_or(pb::ProjectStatus::Unspecified) {
            pb::ProjectStatus::Open => "open",
            pb::ProjectStatus::Terminated => "terminated",
            pb::ProjectStatus::Unspecified => {
                return Err(Error::invalid("status", reason::REQUIRED, "OPEN or TERMINATED"));
            }
        };
        let mut tx = self.db.begin_write().await?;
        let mut p = self.visible_project(&mut tx, caller, "id", &req.id).await?;
        if p.status == to {
            return Err(Error::precondition(
                "STATUS_NOT_ALLOWED",
                format!("projects/{}", p.id),
                "the project already has this status",
            ));
        }
        let version = p.version;
        p.status = to.to_string();
        p.updated_at = now_micros();
        p.updated_by = caller.employee_id.clone();
        if !store::projects::update(&mut tx, &p, version).await? {
            return Err(Error::stale_etag(PROJECT));
        }
        p.version += 1;
        tx.commit().await?;
        Ok(pb::SetProjectStatusResponse {
            project: Some(project_proto(&p)),
        })
    }

    pub async fn copy_project_to_opportunity(
        &self,
        caller: &Principal,
        mut req: pb::CopyProjectToOpportunityRequest,
    ) -> Result<pb::CopyProjectToOpportunityResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CopyProjectToOpportunity", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        check_text("subject", &req.subject, false, 200, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let p = self.visible_project(&mut tx, caller, "id", &req.id).await?;
        let pipeline = store::pipelines::load(&mut tx, "")
            .await?
            .ok_or_else(|| Error::Internal("no default pipeline".into()))?;
        let first = store::pipelines::stages(&mut tx, &pipeline.id, false)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("the default pipeline has no stage".into()))?;
        let now = now_micros();
        let o = OpportunityRow {
            id: crm_kit::new_id(),
            subject: if req.subject.trim().is_empty() {
                p.name.clone()
            } else {
                req.subject.trim().to_string()
            },
            customer_id: p.customer_id.clone(),
            contact_id: p.contact_id.clone(),
            owner_id: caller.employee_id.clone(),
            owner_department_path: caller.department_path.clone(),
            pipeline_id: pipeline.id,
            stage_id: first.id,
            probability: first.probability,
            currency: p.currency.clone(),
            expected_amount: p.expected_amount,
            expected_cost: p.expected_cost,
            start_date: String::new(),
            planned_close_date: String::new(),
            actual_close_date: String::new(),
            forecast_category: "pipeline".into(),
            competitor: String::new(),
            remark: format!("copied from project {}", p.id),
            status: "open".into(),
            lost_reason: String::new(),
            audited: 0,
            converted_to: String::new(),
            stage_entered_at: now,
            lead_id: String::new(),
            closed_at: 0,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
            time_limit_days: first.time_limit_days,
        };
        store::opportunities::insert(&mut tx, &o).await?;
        let response = pb::CopyProjectToOpportunityResponse {
            opportunity: Some(opportunity_proto(&o, now)),
        };
        tx.finish(response).await
    }

    async fn visible_record(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        id: &str,
    ) -> Result<(MaintenanceRecordRow, ProjectRow)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let Some(r) = store::projects::record(conn, id).await? else {
            return Err(Error::not_found(RECORD, id));
        };
        match self.visible_project(conn, caller, "id", &r.project_id).await {
            Ok(p) => Ok((r, p)),
            Err(_) => Err(Error::not_found(RECORD, id)),
        }
    }

    pub async fn create_maintenance_record(
        &self,
        caller: &Principal,
        req: pb::CreateMaintenanceRecordRequest,
    ) -> Result<pb::CreateMaintenanceRecordResponse> {
        let Some(src) = req.record else {
            return Err(Error::required("record"));
        };
        let mut v = Violations::new();
        check_notes("record.summary", &src.summary, true, 4000, &mut v);
        let method = pb::ActivityMethod::try_from(src.method).unwrap_or(pb::ActivityMethod::Other);
        let now = now_micros();
        let at = match &src.record_time {
            Some(t) => crm_kit::time::from_proto("record.record_time", t).unwrap_or_else(|_| {
                v.add("record.record_time", reason::MALFORMED, "not a valid time");
                now
            }),
            None => now,
        };
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let p = self
            .visible_project(&mut tx, caller, "record.project_id", &src.project_id)
            .await?;
        if p.status != "open" {
            return Err(terminated(&p.id));
        }
        let mut r = MaintenanceRecordRow {
            id: crm_kit::new_id(),
            project_id: p.id.clone(),
            sequence: 0,
            method: domain::method_code(method).to_string(),
            record_at: at,
            summary: src.summary.trim().to_string(),
            completed: 0,
            completed_at: 0,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
        };
        store::projects::insert_record(&mut tx, &mut r).await?;
        tx.commit().await?;
        Ok(pb::CreateMaintenanceRecordResponse {
            record: Some(record_proto(&r)),
        })
    }

    pub async fn list_maintenance_records(
        &self,
        caller: &Principal,
        req: pb::ListMaintenanceRecordsRequest,
    ) -> Result<pb::ListMaintenanceRecordsResponse> {
        let mut conn = self.conn().await?;
        let p = self
            .visible_project(&mut conn, caller, "project_id", &req.project_id)
            .await?;
        let rows = store::projects::records(&mut conn, &p.id).await?;
        Ok(pb::ListMaintenanceRecordsResponse {
            records: rows.iter().map(record_proto).collect(),
        })
    }

    pub async fn complete_maintenance_record(
        &self,
        caller: &Principal,
        req: pb::CompleteMaintenanceRecordRequest,
    ) -> Result<pb::CompleteMaintenanceRecordResponse> {
        let mut tx = self.db.begin_write().await?;
        let (mut r, p) = self.visible_record(&mut tx, caller, &req.id).await?;
        if p.status != "open" {
            return Err(terminated(&p.id));
        }
        if r.completed == 1 {
            return Err(Error::precondition(
                "RECORD_COMPLETED",
                format!("maintenanceRecords/{}", r.id),
                "a completed record is frozen; delete it and add a new one",
            ));
        }
        if let Some((id, sequence)) = store::projects::earlier_open_record(&mut tx, &p.id, r.sequence).await? {
            return Err(Error::precondition(
                "EARLIER_RECORD_OPEN",
                format!("maintenanceRecords/{id}"),
                format!("record {id} (number {sequence}) must be completed first"),
            ));
        }
        let now = now_micros();
        if !store::projects::complete_record(&mut tx, &r.id, now, &caller.employee_id).await? {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the record changed meanwhile; reload it".into(),
            });
        }
        tx.commit().await?;
        r.completed = 1;
        r.completed_at = now;
        r.updated_at = now;
        r.updated_by = caller.employee_id.clone();
        Ok(pb::CompleteMaintenanceRecordResponse {
            record: Some(record_proto(&r)),
        })
    }

    pub async fn delete_maintenance_record(
        &self,
        caller: &Principal,
        req: pb::DeleteMaintenanceRecordRequest,
    ) -> Result<pb::DeleteMaintenanceRecordResponse> {
        let mut tx = self.db.begin_write().await?;
        let (r, p) = self.visible_record(&mut tx, caller, &req.id).await?;
        if p.status != "open" {
            return Err(terminated(&p.id));
        }
        store::projects::delete_record(&mut tx, &r.id).await?;
        tx.commit().await?;
        Ok(pb::DeleteMaintenanceRecordResponse {})
    }
}

pub(crate) fn terminated(id: &str) -> Error {
    Error::precondition(
        "PROJECT_TERMINATED",
        format!("projects/{id}"),
        "the project is terminated; re-open it first",
    )
}
