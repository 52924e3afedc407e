//! The tonic service. Each RPC turns its request into domain values (collecting every field
//! violation), checks the caller and the caller's scope (a record outside it is NOT_FOUND),
//! runs the store calls in one transaction, and maps failures through `crm_kit::Error`.
//!
//! - [`leads`]: leads, the pool, assignment, status, conversion through customers.
//! - [`capture`]: public web forms and the rules handing new leads to salespeople.
//! - [`pipelines`]: pipelines and their stages (a default pipeline is seeded).
//! - [`opportunities`]: opportunities, audit, status, stage history, activities.
//! - [`projects`]: projects of won deals, maintenance records, copy to an opportunity.
//! - [`documents`]: files kept with projects.
//! - [`reports`]: quotas, funnel, forecast, opportunity analysis.
//! - [`transfer`]: lead import and export as CSV.

pub mod capture;
pub mod documents;
pub mod leads;
pub mod opportunities;
pub mod pipelines;
pub mod projects;
pub mod reports;
pub mod transfer;

use std::sync::Arc;

use crm_kit::auth::{Principal, ScopeColumns, ScopeRule};
use crm_kit::db::Db;
use crm_kit::directory::Directory;
use crm_kit::errors::reason;
use crm_kit::paging::PageTokens;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_server::SalesService;
use tonic::transport::Channel;

/// The service name in permissions and data scopes.
pub const SERVICE: &str = "sales";

/// How a sales record is scoped by its owner columns.
const fn owned_by(owner: &'static str, owner_department_path: &'static str) -> ScopeRule {
    ScopeRule {
        service: SERVICE,
        columns: ScopeColumns {
            owner,
            owner_department_path,
            collaborator: None,
        },
        unowned_visible_to: &[],
    }
}

/// How leads `l` are scoped (the pool is listed on its own).
pub const LEAD_SCOPE: ScopeRule = owned_by("l.owner_id", "l.owner_department_path");

/// How opportunities `o` are scoped.
pub const OPPORTUNITY_SCOPE: ScopeRule = owned_by("o.owner_id", "o.owner_department_path");

/// How projects `p` are scoped.
pub const PROJECT_SCOPE: ScopeRule = owned_by("p.owner_id", "p.owner_department_path");

/// How weekly forecast snapshots `f` are scoped.
pub const SNAPSHOT_SCOPE: ScopeRule = owned_by("f.owner_id", "f.owner_department_path");

/// How quotas `q` are scoped: by the employee they are set for, or the department's own path.
pub const QUOTA_SCOPE: ScopeRule = owned_by("q.subject_id", "q.subject_department_path");

/// Where sales keeps its leads' and opportunities' field history: the kit's shared trail.
pub(crate) const CHANGES: crm_kit::history::Trail = crm_kit::history::Trail::SHARED;

/// The sales service's state, shared by every call.
#[derive(Clone)]
pub struct SalesApi {
    pub(crate) db: Db,
    pub(crate) directory: Directory,
    pub(crate) customers: Channel,
    pub(crate) tokens: Arc<PageTokens>,
    pub(crate) currency: String,
    /// Largest project document accepted, in bytes.
    pub(crate) max_document_bytes: usize,
    /// The country of phone numbers written without a country code.
    pub(crate) phone_region: crm_kit::phone::PhoneRegion,
}

impl std::fmt::Debug for SalesApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesApi").finish_non_exhaustive()
    }
}

impl SalesApi {
    /// The service over a migrated database.
    pub fn new(db: Db, config: &crate::Config) -> Result<Self> {
        let customers = tonic::transport::Endpoint::from_shared(config.customers_url.clone())
            .map_err(|e| Error::Internal(format!("customers address {:?}: {e}", config.customers_url)))?
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(10))
            .connect_lazy();
        // Opportunities, quotas and reports are kept in the base currency (other currencies
        // wait for the finance service's exchange rates).
        let currency = config.service.base_currency()?;
        Ok(SalesApi {
            db,
            directory: Directory::new(&config.service.identity_url)?,
            customers,
            phone_region: config.default_phone_region,
            tokens: Arc::new(PageTokens::new(config.service.page_token_secret.as_bytes())),
            currency,
            max_document_bytes: config.max_document_bytes,
        })
    }

    /// A pooled connection.
    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }

    /// The department path of the employee who is to own a record, checked to be active and
    /// (for someone other than the caller) in the caller's scope.
    pub(crate) async fn owner_path(&self, caller: &Principal, field: &str, owner: &str) -> Result<String> {
        let path = self.directory.department_of(caller, field, owner).await?;
        if owner != caller.employee_id && !caller.covers(SERVICE, owner, &path) {
            return Err(Error::invalid(
                field,
                "OUT_OF_SCOPE",
                format!("{owner} is outside your data scope"),
            ));
        }
        Ok(path)
    }
}

pub(crate) use crm_kit::text::{check_notes, check_text};
pub(crate) use crm_kit::time::audit_info as audit;

/// Checks a `YYYY-MM-DD` date (empty allowed unless `required`).
pub(crate) fn check_date(field: &str, value: &str, required: bool, v: &mut crm_kit::errors::Violations) {
    let t = value.trim();
    if t.is_empty() {
        if required {
            v.add(field, reason::REQUIRED, "is required");
        }
    } else if crm_kit::time::parse_date(t).is_none() {
        v.add(field, reason::MALFORMED, "must be a date YYYY-MM-DD");
    }
}

crm_kit::rpcs! {
    impl SalesService for SalesApi;
    public: [
        capture_lead(pb::CaptureLeadRequest) -> pb::CaptureLeadResponse;
    ]
    signed_in: [
    create_lead(pb::CreateLeadRequest) -> pb::CreateLeadResponse;
    get_lead(pb::GetLeadRequest) -> pb::GetLeadResponse;
    list_leads(pb::ListLeadsRequest) -> pb::ListLeadsResponse;
    update_lead(pb::UpdateLeadRequest) -> pb::UpdateLeadResponse;
    delete_lead(pb::DeleteLeadRequest) -> pb::DeleteLeadResponse;
    assign_lead(pb::AssignLeadRequest) -> pb::AssignLeadResponse;
    claim_lead(pb::ClaimLeadRequest) -> pb::ClaimLeadResponse;
    release_lead(pb::ReleaseLeadRequest) -> pb::ReleaseLeadResponse;
    set_lead_status(pb::SetLeadStatusRequest) -> pb::SetLeadStatusResponse;
    convert_lead(pb::ConvertLeadRequest) -> pb::ConvertLeadResponse;
    create_lead_follow_up(pb::CreateLeadFollowUpRequest) -> pb::CreateLeadFollowUpResponse;
    list_lead_follow_ups(pb::ListLeadFollowUpsRequest) -> pb::ListLeadFollowUpsResponse;
    create_pipeline(pb::CreatePipelineRequest) -> pb::CreatePipelineResponse;
    list_pipelines(pb::ListPipelinesRequest) -> pb::ListPipelinesResponse;
    update_pipeline(pb::UpdatePipelineRequest) -> pb::UpdatePipelineResponse;
    create_opportunity(pb::CreateOpportunityRequest) -> pb::CreateOpportunityResponse;
    get_opportunity(pb::GetOpportunityRequest) -> pb::GetOpportunityResponse;
    list_opportunities(pb::ListOpportunitiesRequest) -> pb::ListOpportunitiesResponse;
    update_opportunity(pb::UpdateOpportunityRequest) -> pb::UpdateOpportunityResponse;
    delete_opportunity(pb::DeleteOpportunityRequest) -> pb::DeleteOpportunityResponse;
    audit_opportunity(pb::AuditOpportunityRequest) -> pb::AuditOpportunityResponse;
    set_opportunity_status(pb::SetOpportunityStatusRequest) -> pb::SetOpportunityStatusResponse;
    list_stage_history(pb::ListStageHistoryRequest) -> pb::ListStageHistoryResponse;
    create_activity(pb::CreateActivityRequest) -> pb::CreateActivityResponse;
    list_activities(pb::ListActivitiesRequest) -> pb::ListActivitiesResponse;
    update_activity(pb::UpdateActivityRequest) -> pb::UpdateActivityResponse;
    complete_activity(pb::CompleteActivityRequest) -> pb::CompleteActivityResponse;
    delete_activity(pb::DeleteActivityRequest) -> pb::DeleteActivityResponse;
    set_quota(pb::SetQuotaRequest) -> pb::SetQuotaResponse;
    list_quotas(pb::ListQuotasRequest) -> pb::ListQuotasResponse;
    get_funnel(pb::GetFunnelRequest) -> pb::GetFunnelResponse;
    get_forecast(pb::GetForecastRequest) -> pb::GetForecastResponse;
    get_opportunity_analysis(pb::GetOpportunityAnalysisRequest) -> pb::GetOpportunityAnalysisResponse;
    get_lead_conversion(pb::GetLeadConversionRequest) -> pb::GetLeadConversionResponse;
    get_project_analysis(pb::GetProjectAnalysisRequest) -> pb::GetProjectAnalysisResponse;
    take_forecast_snapshot(pb::TakeForecastSnapshotRequest) -> pb::TakeForecastSnapshotResponse;
    list_forecast_snapshots(pb::ListForecastSnapshotsRequest) -> pb::ListForecastSnapshotsResponse;
    create_project(pb::CreateProjectRequest) -> pb::CreateProjectResponse;
    get_project(pb::GetProjectRequest) -> pb::GetProjectResponse;
    list_projects(pb::ListProjectsRequest) -> pb::ListProjectsResponse;
    update_project(pb::UpdateProjectRequest) -> pb::UpdateProjectResponse;
    set_project_status(pb::SetProjectStatusRequest) -> pb::SetProjectStatusResponse;
    copy_project_to_opportunity(pb::CopyProjectToOpportunityRequest) -> pb::CopyProjectToOpportunityResponse;
    create_maintenance_record(pb::CreateMaintenanceRecordRequest) -> pb::CreateMaintenanceRecordResponse;
    list_maintenance_records(pb::ListMaintenanceRecordsRequest) -> pb::ListMaintenanceRecordsResponse;
    complete_maintenance_record(pb::CompleteMaintenanceRecordRequest) -> pb::CompleteMaintenanceRecordResponse;
    delete_maintenance_record(pb::DeleteMaintenanceRecordRequest) -> pb::DeleteMaintenanceRecordResponse;
    create_web_form(pb::CreateWebFormRequest) -> pb::CreateWebFormResponse;
    list_web_forms(pb::ListWebFormsRequest) -> pb::ListWebFormsResponse;
    set_web_form_active(pb::SetWebFormActiveRequest) -> pb::SetWebFormActiveResponse;
    get_assignment_rules(pb::GetAssignmentRulesRequest) -> pb::GetAssignmentRulesResponse;
    update_assignment_rules(pb::UpdateAssignmentRulesRequest) -> pb::UpdateAssignmentRulesResponse;
    list_project_documents(pb::ListProjectDocumentsRequest) -> pb::ListProjectDocumentsResponse;
    list_lead_changes(pb::ListLeadChangesRequest) -> pb::ListLeadChangesResponse;
    list_opportunity_changes(pb::ListOpportunityChangesRequest) -> pb::ListOpportunityChangesResponse;
    delete_project_document(pb::DeleteProjectDocumentRequest) -> pb::DeleteProjectDocumentResponse;
    import_leads(tonic::Streaming<pb::ImportLeadsRequest>) -> pb::ImportLeadsResponse;
    upload_project_document(tonic::Streaming<pb::UploadProjectDocumentRequest>) -> pb::UploadProjectDocumentResponse;
    ]
    server_streaming: [
        export_leads(pb::ExportLeadsRequest) -> pb::ExportLeadsResponse as ExportLeadsStream;
        download_project_document(pb::DownloadProjectDocumentRequest) -> pb::DownloadProjectDocumentResponse as DownloadProjectDocumentStream;
    ]
}
