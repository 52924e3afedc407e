//! Lead import (client stream of CSV) and export (server stream of CSV).
//!
//! Import checks each row exactly as CreateLead would, writes each batch's good rows in one
//! transaction with multi-row inserts, and reports each bad row (row, column, reason) without
//! stopping the rest. The owner of the imported leads is chosen once for the file (the caller,
//! the pool, another employee) or per row by the assignment rules.

use std::collections::HashMap;

use crm_kit::auth::Principal;
use crm_kit::csv_io::{self, Parsed, Row, Upload};
use crm_kit::errors::{FieldViolation, Violations};
use crm_kit::idempotency::RequestKey;
use crm_kit::listing::{Keyset, Position};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use tokio::sync::mpsc;

use super::SalesApi;
use super::capture::Assigner;
use super::leads::{LEAD_FILTER, new_lead, validate_lead};
use crate::domain;
use crate::store;
use crate::store::leads::LeadRow;
use crm_kit::errors::reason;

/// Fields an import column can map to, in export order: a lead's editable fields.
pub const IMPORT_FIELDS: &[&str] = super::leads::EDITABLE;

/// Rows per write batch (one transaction).
const BATCH: usize = 1000;
/// Most row errors returned (the failed count stays exact beyond it).
const MAX_ERRORS: usize = 100_000;
/// Leads read per export page.
const EXPORT_PAGE: i32 = 500;
/// New rows after which an import refreshes the planner's statistics of the leads table.
const STATISTICS_AFTER: i64 = 10_000;

/// Who gets the leads of an import.
enum Owner {
    /// One owner for every row (empty: the pool).
    Fixed { id: String, department_path: String },
    /// Whom the assignment rules pick, row by row.
    Rules,
}

/// A lead source from a CSV cell: its code (`phone_inquiry`), its enum name with or without
/// the prefix (`LEAD_SOURCE_PHONE_INQUIRY`, `PHONE_INQUIRY`), or the words (`phone inquiry`).
fn parse_source(value: &str) -> Option<pb::LeadSource> {
    let t = value.trim();
    let name = t.strip_prefix("LEAD_SOURCE_").unwrap_or(t);
    let code = name.to_lowercase().replace([' ', '-'], "_");
    match code.as_str() {
        "" | "unspecified" => None,
        "other" => Some(pb::LeadSource::Other),
        c => Some(domain::source_of(c)).filter(|s| *s != pb::LeadSource::Other),
    }
}

/// Checks one CSV row like CreateLead, reporting violations by CSV column.
fn validate_row(
    row: &Row,
    default_source: pb::LeadSource,
    created_by: &str,
    now: i64,
    headers: &HashMap<&'static str, String>,
    region: crm_kit::phone::PhoneRegion,
) -> std::result::Result<LeadRow, Vec<(String, String)>> {
    let column = |field: &str| headers.get(field).cloned().unwrap_or_else(|| field.to_string());
    if let Some(p) = &row.problem {
        return Err(vec![("row".into(), p.clone())]);
    }
    let mut errors = Vec::new();
    let source = match row.get("source") {
        "" => default_source,
        given => parse_source(given).unwrap_or_else(|| {
            errors.push((
                column("source"),
                format!(
                    "{given} is not a lead source; use event, phone_inquiry, referral, website_form, campaign, import or other"
                ),
            ));
            default_source
        }),
    };
    let src = pb::Lead {
        company_name: row.get("company_name").into(),
        contact_name: row.get("contact_name").into(),
        title: row.get("title").into(),
        phone: row.get("phone").into(),
        mobile: row.get("mobile").into(),
        email: row.get("email").into(),
        source: source as i32,
        province: row.get("province").into(),
        city: row.get("city").into(),
        remark: row.get("remark").into(),
        ..Default::default()
    };
    let mut lead = new_lead(created_by, now);
    if let Err(Error::InvalidArgument(list)) = validate_lead(&src, &mut lead, "", region) {
        for FieldViolation { field, description, .. } in list {
            errors.push((column(&field), description));
        }
    }
    if errors.is_empty() { Ok(lead) } else { Err(errors) }
}

/// Counts and row errors of an import.
#[derive(Default)]
struct Tally {
    created: i64,
    failed: i64,
    errors: Vec<pb::ImportRowError>,
    /// The file's columns that map to no field.
    ignored: Vec<String>,
}

impl Tally {
    fn fail(&mut self, row: i64, problems: Vec<(String, String)>) {
        self.failed += 1;
        for (field, reason) in problems {
            if self.errors.len() < MAX_ERRORS {
                self.errors.push(pb::ImportRowError { row, field, reason });
            }
        }
    }
}

/// How many data rows an earlier, cut-off attempt of this import request wrote (0: none); the
/// same request id with other options is refused.
async fn progress(conn: &mut sqlx::AnyConnection, key: &RequestKey) -> Result<i64> {
    match store::imports::progress(conn, key).await? {
        None => Ok(0),
        Some((fingerprint, done)) => key.check(&fingerprint).map(|()| done),
    }
}

/// The wire form of one export row, in the header's order.
const EXPORT_HEADER: &[&str] = &[
    "id",
    "company_name",
    "contact_name",
    "title",
    "phone",
    "mobile",
    "email",
    "source",
    "province",
    "city",
    "remark",
    "owner_id",
    "status",
    "create_time",
];

impl SalesApi {
    /// ImportLeads.
    pub async fn import_leads(
        &self,
        caller: &Principal,
        mut stream: tonic::Streaming<pb::ImportLeadsRequest>,
    ) -> Result<pb::ImportLeadsResponse> {
        let first = csv_io::first_message(&mut stream, "options").await?;
        // An empty first message (a REST upload without options) means the default options.
        let mut options = match first.part {
            Some(pb::import_leads_request::Part::Options(options)) => options,
            None => pb::ImportLeadsOptions::default(),
            Some(pb::import_leads_request::Part::CsvChunk(_)) => {
                return Err(Error::invalid(
                    "options",
                    reason::REQUIRED,
                    "the first message must carry the import options",
                ));
            }
        };
        let mut v = Violations::new();
        let default_source = match pb::LeadSource::try_from(options.default_source) {
            Ok(pb::LeadSource::Unspecified) => pb::LeadSource::Import,
            Ok(s) => s,
            Err(_) => {
                v.add(
                    "options.default_source",
                    reason::UNKNOWN_ENUM_VALUE,
                    format!("{} is not a lead source", options.default_source),
                );
                pb::LeadSource::Import
            }
        };
        let mapping: HashMap<String, String> = options.column_mapping.clone().into_iter().collect();
        csv_io::check_mapping("options.column_mapping", &mapping, IMPORT_FIELDS, &mut v);
        let declared = csv_io::Declared::parse("options.declared", options.declared.as_ref(), &mut v);
        v.finish()?;
        let request_id = std::mem::take(&mut options.request_id);
        let key = RequestKey::new("ImportLeads", &caller.employee_id, &request_id, &options)?;
        // With a request id, a retry of an import that was cut off writes only the rows its
        // committed batches did not.
        let mut rows_done = 0;
        if let Some(k) = &key {
            let mut conn = self.conn().await?;
            if let Some(done) = k.replay::<pb::ImportLeadsResponse>(&mut conn).await? {
                return Ok(done);
            }
            rows_done = progress(&mut conn, k).await?;
        }
        let owner = match options.owner_id.trim() {
            "" => Owner::Fixed {
                id: caller.employee_id.clone(),
                department_path: caller.department_path.clone(),
            },
            super::leads::POOL => Owner::Fixed {
                id: String::new(),
                department_path: String::new(),
            },
            super::leads::AUTO => Owner::Rules,
            other => {
                if other != caller.employee_id {
                    caller.require("sales.lead.assign")?;
                }
                Owner::Fixed {
                    department_path: self.owner_path(caller, "options.owner_id", other).await?,
                    id: other.to_string(),
                }
            }
        };

        let mut upload = Upload::start(
            IMPORT_FIELDS,
            mapping,
            BATCH,
            stream,
            |m: pb::ImportLeadsRequest| match m.part {
                Some(pb::import_leads_request::Part::CsvChunk(bytes)) => Some(bytes),
                _ => None,
            },
            declared,
        );
        let mut tally = Tally::default();
        let mut headers: Option<HashMap<&'static str, String>> = None;
        while let Some(parsed) = upload.next().await {
            match parsed {
                Parsed::Fatal(message) => return Err(upload.fatal(message).await),
                Parsed::Header(h) => {
                    if !h.contains_key("company_name") {
                        return Err(Error::invalid(
                            "options.column_mapping",
                            "COMPANY_NAME_COLUMN_MISSING",
                            "no column maps to company_name; map the company (or person) name column to \"company_name\"",
                        ));
                    }
                    headers = Some(h);
                }
                Parsed::Ignored(columns) => tally.ignored = columns,
                Parsed::Rows(rows) => {
                    let headers = headers
                        .as_ref()
                        .ok_or_else(|| Error::Internal("rows before the header".into()))?;
                    let now = now_micros();
                    let mut good = Vec::with_capacity(rows.len());
                    for row in &rows {
                        match validate_row(
                            row,
                            default_source,
                            &caller.employee_id,
                            now,
                            headers,
                            self.phone_region,
                        ) {
                            // Written by an earlier attempt of this request: counted, not again.
                            Ok(_) if row.number <= rows_done => tally.created += 1,
                            Ok(lead) => {
                                tally.created += 1;
                                good.push(lead);
                            }
                            Err(problems) => tally.fail(row.number, problems),
                        }
                    }
                    let last = rows.last().map_or(0, |r| r.number);
                    self.import_batch(&owner, &mut good, key.as_ref().map(|k| (k, last)))
                        .await?;
                }
            }
        }
        upload.finish().await?;
        if headers.is_none() {
            return Err(csv_io::empty_file());
        }
        // The lists and the export plan their pages by the table's size: keep it current after
        // a large import instead of waiting for autovacuum.
        if tally.created >= STATISTICS_AFTER {
            self.db.refresh_statistics(&["leads"]).await?;
        }
        tally.errors.sort_by_key(|e| e.row);
        crm_kit::metrics::import_rows(
            "sales",
            "leads",
            u64::try_from(tally.created).unwrap_or(0),
            u64::try_from(tally.failed).unwrap_or(0),
        );
        let response = pb::ImportLeadsResponse {
            created: tally.created,
            failed: tally.failed,
            errors: tally.errors,
            ignored_columns: tally.ignored,
        };
        if let Some(k) = &key {
            let mut tx = self.db.begin_write().await?;
            k.record(&mut tx, &response).await?;
            store::imports::clear_progress(&mut tx, k).await?;
            tx.commit().await?;
        }
        tracing::info!(
            created = response.created,
            failed = response.failed,
            "lead import finished"
        );
        Ok(response)
    }

    /// Writes one batch of checked leads with their owners, in one transaction, with (for a
    /// request with an id) how far the file is written: through data row `last`.
    async fn import_batch(&self, owner: &Owner, leads: &mut [LeadRow], done: Option<(&RequestKey, i64)>) -> Result<()> {
        if leads.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().await?;
        match owner {
            Owner::Fixed { id, department_path } => {
                for lead in leads.iter_mut() {
                    lead.owner_id.clone_from(id);
                    lead.owner_department_path.clone_from(department_path);
                }
            }
            Owner::Rules => {
                let mut rules = Assigner::load(&mut tx).await?;
                let mut active: HashMap<String, bool> = HashMap::new();
                for lead in leads.iter_mut() {
                    let Some((id, path)) = rules.pick(&lead.province, &lead.source) else {
                        continue;
                    };
                    // One who has left meanwhile gets nothing; the lead waits in the pool.
                    let ok = match active.get(&id) {
                        Some(ok) => *ok,
                        None => {
                            let ok = crm_kit::handover::active_guarded(&mut tx, &id).await?;
                            active.insert(id.clone(), ok);
                            ok
                        }
                    };
                    if ok {
                        lead.owner_id = id;
                        lead.owner_department_path = path;
                    }
                }
                rules.save(&mut tx).await?;
            }
        }
        store::leads::insert_many(&mut tx, leads).await?;
        if let Some((k, last)) = done {
            store::imports::save_progress(&mut tx, k, last).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// ExportLeads: the caller's leads (or the pool) matching a filter, as CSV chunks.
    pub async fn export_leads(
        &self,
        caller: &Principal,
        req: pb::ExportLeadsRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::ExportLeadsResponse, tonic::Status>>> {
        // Fail fast on a bad filter, before the stream starts.
        crm_kit::filter::compile(LEAD_FILTER, &req.filter, 1)?;
        let (tx, rx) = mpsc::channel(8);
        let api = self.clone();
        let caller = caller.clone();
        let producer = tx.clone();
        crm_kit::serve::spawn_stream("ExportLeads", tx, async move {
            api.export_into(&caller, &req, &producer).await
        });
        Ok(rx)
    }

    async fn export_into(
        &self,
        caller: &Principal,
        req: &pb::ExportLeadsRequest,
        tx: &mpsc::Sender<std::result::Result<pb::ExportLeadsResponse, tonic::Status>>,
    ) -> Result<()> {
        let mut writer = csv_io::ChunkWriter::new(EXPORT_HEADER)?;
        let listed = store::leads::listed(req.pool);
        let shape = [req.filter.as_str(), store::leads::owned(req.pool)];
        let filter = crm_kit::filter::compile(LEAD_FILTER, &req.filter, 1)?;
        let scope = super::leads::lead_list_scope(caller, req.pool);
        let mut page_token = String::new();
        loop {
            let keyset = Keyset::open(&self.tokens, listed.order(), EXPORT_PAGE, &page_token, &shape)?;
            let mut conn = self.conn().await?;
            let page = store::page(&mut conn, &listed, &scope, filter.as_ref(), &keyset, |l: &LeadRow| {
                Position::at(l.created_at, &l.id)
            })
            .await?;
            // Back to the pool before waiting on a slow client.
            drop(conn);
            for l in &page.rows {
                let created = crm_kit::time::format_rfc3339(l.created_at);
                writer.row([
                    l.id.as_str(),
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
                    &l.status,
                    &created,
                ])?;
            }
            crm_kit::metrics::export_rows("sales", "leads", page.rows.len() as u64);
            let bytes = writer.take()?;
            if !bytes.is_empty() && tx.send(Ok(pb::ExportLeadsResponse { csv_chunk: bytes })).await.is_err() {
                // The caller went away.
                return Ok(());
            }
            if page.next_page_token.is_empty() {
                return Ok(());
            }
            page_token = page.next_page_token;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_read_by_code_enum_name_or_words() {
        assert_eq!(parse_source("referral"), Some(pb::LeadSource::Referral));
        assert_eq!(
            parse_source("LEAD_SOURCE_PHONE_INQUIRY"),
            Some(pb::LeadSource::PhoneInquiry)
        );
        assert_eq!(parse_source("Phone inquiry"), Some(pb::LeadSource::PhoneInquiry));
        assert_eq!(parse_source("website-form"), Some(pb::LeadSource::WebsiteForm));
        assert_eq!(parse_source("other"), Some(pb::LeadSource::Other));
        assert_eq!(parse_source("billboard"), None);
        assert_eq!(parse_source("unspecified"), None);
    }
}
