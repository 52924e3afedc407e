//! CSV import (client stream); the export is in [`super::export`].
//!
//! Import parses the CSV on a blocking thread fed by the stream, hands rows over in batches,
//! validates each row exactly as CreateCustomer would, and writes each batch's good rows in one
//! transaction with multi-row inserts. A bad row is reported (row, column, reason) and never
//! stops the rest. Duplicates follow the chosen mode: skip, update, or fail.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crm_kit::auth::Principal;
use crm_kit::csv_io::{self, Parsed, Row as CsvRow, Upload};
use crm_kit::errors::{FieldViolation, Violations};
use crm_kit::idempotency::RequestKey;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::customers as pb;

use super::{CustomersApi, SERVICE, is_manager, may_manage};
use crate::domain::customer::CustomerFields;
use crate::domain::names;
use crate::store::contacts::{self as contact_store, ContactRow};
use crate::store::customers::{self as store, CustomerRow, InsertError};
use crate::store::{catalog, history, imports, search};
use crm_kit::errors::reason;

/// The resource type of import jobs in errors.
const IMPORT_JOB: &str = "crm.customers.v1.ImportJob";

/// Fields an import column can map to (also the export header).
pub const IMPORT_FIELDS: &[&str] = &[
    "name",
    "kind",
    "short_name",
    "tax_id",
    "industry_code",
    "type_code",
    "level_code",
    "source_code",
    "status",
    "category_id",
    "scale",
    "phone",
    "mobile",
    "email",
    "website",
    "address",
    "region.country",
    "region.province",
    "region.city",
    "region.district",
    "remark",
    "tags",
    "contact.name",
    "contact.title",
    "contact.mobile",
    "contact.phone",
    "contact.email",
];

/// Rows per write batch (one transaction).
const BATCH: usize = 1000;
/// Batches of one import written at the same time (validation of the next one overlaps them).
const IMPORT_WRITERS: usize = 2;
/// The GIN indexes an import fills (PostgreSQL), merged when it ends: see
/// `Db::merge_pending_index_entries`.
const SEARCH_INDEXES: &[&str] = &["customers_grams"];
/// New rows after which an import first refreshes the table's planner statistics.
const STATISTICS_AFTER: i64 = 10_000;
/// How often an import that waits for its file looks for a cancel.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// Most row errors returned (the failed count stays exact beyond it).
const MAX_ERRORS: usize = 100_000;

/// Codes and categories a row may use, loaded once per import.
struct References {
    codes: HashMap<&'static str, HashSet<String>>,
    leaf_categories: HashSet<String>,
}

/// A row that passed validation.
struct GoodRow {
    number: i64,
    fields: CustomerFields,
    /// The normalised name and the duplicate keys, computed once.
    name_key: String,
    keys: [Option<String>; 3],
    contact: Option<ContactRow>,
    /// Import fields present with a non-empty value (what an update may change).
    present: Vec<&'static str>,
}

/// What every batch of one import shares.
struct ImportRun {
    caller: Principal,
    mode: pb::ImportMode,
    /// The import's request_id (empty: none), carried by its events.
    request_id: String,
    /// When the import started: a customer the importer created since then is one of its own
    /// rows (kept as a time, not a set of ids, so memory does not grow with the file).
    started_at: i64,
}

#[derive(Default)]
struct Tally {
    created: i64,
    updated: i64,
    skipped: i64,
    failed: i64,
    errors: Vec<pb::ImportRowError>,
    /// The file's columns that map to no field.
    ignored: Vec<String>,
}

impl Tally {
    /// Adds the counts and errors of one written batch.
    fn absorb(&mut self, other: Tally) {
        self.created += other.created;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
        let room = MAX_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }

    fn fail(&mut self, row: i64, field: &str, reason: impl Into<String>) {
        self.failed += 1;
        self.note(row, field, reason);
    }

    fn note(&mut self, row: i64, field: &str, reason: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(pb::ImportRowError {
                row,
                field: field.to_string(),
                reason: reason.into(),
            });
        }
    }
}

fn parse_kind(value: &str, default: &'static str) -> Option<&'static str> {
    match value.trim().to_lowercase().as_str() {
        "" => Some(default),
        "company" | "公司" | "企业" | "empresa" => Some("company"),
        "individual" | "person" | "个人" | "particular" => Some("individual"),
        _ => None,
    }
}

fn parse_status(value: &str) -> Option<i32> {
    Some(match value.trim().to_lowercase().as_str() {
        "" | "potential" | "潜在" => pb::CustomerStatus::Potential as i32,
        "active" | "活跃" | "成交" => pb::CustomerStatus::Active as i32,
        "dormant" | "休眠" => pb::CustomerStatus::Dormant as i32,
        "lost" | "流失" => pb::CustomerStatus::Lost as i32,
        _ => return None,
    })
}

/// Validates one CSV row like CreateCustomer, reporting violations by CSV column.
fn validate_row(
    row: &CsvRow,
    default_kind: &'static str,
    refs: &References,
    headers: &HashMap<&'static str, String>,
    region: crm_kit::phone::PhoneRegion,
) -> std::result::Result<GoodRow, Vec<(String, String)>> {
    let column = |field: &str| headers.get(field).cloned().unwrap_or_else(|| field.to_string());
    if let Some(p) = &row.problem {
        return Err(vec![("row".into(), p.clone())]);
    }
    let get = |f: &str| row.get(f);
    let mut errors: Vec<(String, String)> = Vec::new();
    let kind = parse_kind(get("kind"), default_kind).unwrap_or_else(|| {
        errors.push((
            column("kind"),
            format!("{} is not a kind; use company or individual", get("kind")),
        ));
        default_kind
    });
    let status = parse_status(get("status")).unwrap_or_else(|| {
        errors.push((
            column("status"),
            format!(
                "{} is not a status; use potential, active, dormant or lost",
                get("status")
            ),
        ));
        0
    });
    let src = pb::Customer {
        kind: if kind == "company" {
            pb::CustomerKind::Company as i32
        } else {
            pb::CustomerKind::Individual as i32
        },
        name: get("name").into(),
        short_name: get("short_name").into(),
        tax_id: get("tax_id").into(),
        industry_code: get("industry_code").into(),
        type_code: get("type_code").into(),
        level_code: get("level_code").into(),
        source_code: get("source_code").into(),
        status,
        category_id: get("category_id").into(),
        scale: get("scale").into(),
        phone: get("phone").into(),
        mobile: get("mobile").into(),
        email: get("email").into(),
        website: get("website").into(),
        address: get("address").into(),
        region: Some(pb::Region {
            country: get("region.country").into(),
            province: get("region.province").into(),
            city: get("region.city").into(),
            district: get("region.district").into(),
        }),
        remark: get("remark").into(),
        tags: get("tags")
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        ..Default::default()
    };
    let mut v = Violations::new();
    let fields = CustomerFields::from_create(&src, region, &mut v);
    fields.check_whole(&mut v);
    let has_contact = [
        "contact.name",
        "contact.mobile",
        "contact.phone",
        "contact.email",
        "contact.title",
    ]
    .iter()
    .any(|f| !get(f).is_empty());
    let contact = has_contact.then(|| {
        let c = pb::Contact {
            name: get("contact.name").into(),
            title: get("contact.title").into(),
            mobile: get("contact.mobile").into(),
            phone: get("contact.phone").into(),
            email: get("contact.email").into(),
            ..Default::default()
        };
        super::contacts::contact_from_proto(&c, "contact", region, &mut v)
    });
    if let Err(Error::InvalidArgument(list)) = v.finish() {
        for FieldViolation { field, description, .. } in list {
            let f = field.strip_prefix("customer.").unwrap_or(&field);
            errors.push((column(f), description));
        }
    }
    for (dictionary, field, code) in fields.dictionary_codes() {
        if !refs.codes.get(dictionary).is_some_and(|set| set.contains(code)) {
            let f = field.strip_prefix("customer.").unwrap_or(field);
            errors.push((
                column(f),
                format!("{code} is not an enabled code of the {dictionary} dictionary"),
            ));
        }
    }
    if !fields.category_id.is_empty() && !refs.leaf_categories.contains(&fields.category_id) {
        errors.push((
            column("category_id"),
            format!("category {} does not exist or has sub-categories", fields.category_id),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let present = IMPORT_FIELDS.iter().copied().filter(|f| !get(f).is_empty()).collect();
    let name_key = names::name_key(&fields.name);
    Ok(GoodRow {
        number: row.number,
        keys: keys(&fields, &name_key),
        name_key,
        fields,
        contact,
        present,
    })
}

/// Validates a batch like [`validate_row`] on the CPU pool, split across the cores (phone
/// parsing and name normalisation are the costly part); bad rows go to the tally.
async fn validate_batch(
    mut rows: Vec<CsvRow>,
    default_kind: &'static str,
    refs: &Arc<References>,
    headers: &Arc<HashMap<&'static str, String>>,
    region: crm_kit::phone::PhoneRegion,
    tally: &mut Tally,
) -> Result<Vec<GoodRow>> {
    let per_job = rows.len().div_ceil(crm_kit::cpu::capacity()).max(1);
    let mut jobs = Vec::new();
    while !rows.is_empty() {
        let rest = rows.split_off(per_job.min(rows.len()));
        let chunk = std::mem::replace(&mut rows, rest);
        let (refs, headers) = (refs.clone(), headers.clone());
        jobs.push(tokio::spawn(crm_kit::cpu::run(move || {
            chunk
                .iter()
                .map(|row| (row.number, validate_row(row, default_kind, &refs, &headers, region)))
                .collect::<Vec<_>>()
        })));
    }
    let mut good = Vec::new();
    for job in jobs {
        let checked = job
            .await
            .map_err(|e| Error::Internal(format!("import validation: {e}")))??;
        for (number, outcome) in checked {
            match outcome {
                Ok(g) => good.push(g),
                Err(errors) => {
                    tally.failed += 1;
                    for (field, reason) in errors {
                        tally.note(number, &field, reason);
                    }
                }
            }
        }
    }
    Ok(good)
}

/// What an import waits for next.
enum Next {
    /// The oldest batch in flight was written.
    Written(Result<Tally>),
    /// The parser's next header or batch; `None` at the end of the file.
    Parsed(Option<Parsed>),
    /// Time to look for a cancel.
    Tick,
}

/// Batches being written, oldest first, each with its duplicate keys.
type InFlight = VecDeque<(tokio::task::JoinHandle<Result<Tally>>, HashSet<String>)>;

/// Completes when the oldest batch in flight is written (never while none is); the batch
/// stays in the queue for the caller to remove.
async fn front_written(in_flight: &mut InFlight) -> Result<Tally> {
    match in_flight.front_mut() {
        Some((task, _)) => task
            .await
            .map_err(|e| Error::Internal(format!("import batch writer: {e}")))?,
        None => std::future::pending().await,
    }
}

/// Waits for a batch writer, turning a panic into an internal error.
async fn join_batch(task: tokio::task::JoinHandle<Result<Tally>>) -> Result<Tally> {
    task.await
        .map_err(|e| Error::Internal(format!("import batch writer: {e}")))?
}

/// The duplicate keys of a row: (company name key, tax id, individual mobile).
fn keys(f: &CustomerFields, name_key: &str) -> [Option<String>; 3] {
    [
        (f.kind == "company").then(|| format!("n:{name_key}")),
        (!f.tax_id.is_empty()).then(|| format!("t:{}", f.tax_id)),
        (f.kind == "individual" && !f.mobile.is_empty()).then(|| format!("m:{}", f.mobile)),
    ]
}

impl CustomersApi {
    /// ImportCustomers.
    pub async fn import_customers(
        &self,
        caller: &Principal,
        mut stream: tonic::Streaming<pb::ImportCustomersRequest>,
    ) -> Result<pb::ImportCustomersResponse> {
        let first = csv_io::first_message(&mut stream, "options").await?;
        // An empty first message (a REST upload without options) means the default options.
        let mut options = match first.part {
            Some(pb::import_customers_request::Part::Options(options)) => options,
            None => pb::ImportOptions::default(),
            Some(pb::import_customers_request::Part::CsvChunk(_)) => {
                return Err(Error::invalid(
                    "options",
                    reason::REQUIRED,
                    "the first message must carry the import options",
                ));
            }
        };
        let mut v = Violations::new();
        let mode = match pb::ImportMode::try_from(options.mode) {
            Ok(pb::ImportMode::Unspecified) | Ok(pb::ImportMode::Skip) => pb::ImportMode::Skip,
            Ok(m) => m,
            Err(_) => {
                v.add(
                    "options.mode",
                    reason::UNKNOWN_ENUM_VALUE,
                    format!("{} is not an import mode", options.mode),
                );
                pb::ImportMode::Skip
            }
        };
        let default_kind = match pb::CustomerKind::try_from(options.default_kind) {
            Ok(pb::CustomerKind::Individual) => "individual",
            Ok(_) => "company",
            Err(_) => {
                v.add(
                    "options.default_kind",
                    reason::UNKNOWN_ENUM_VALUE,
                    format!("{} is not a customer kind", options.default_kind),
                );
                "company"
            }
        };
        let mapping: HashMap<String, String> = options.column_mapping.clone().into_iter().collect();
        csv_io::check_mapping("options.column_mapping", &mapping, IMPORT_FIELDS, &mut v);
        let declared = csv_io::Declared::parse("options.declared", options.declared.as_ref(), &mut v);
        let request_id = std::mem::take(&mut options.request_id);
        let key = RequestKey::new("ImportCustomers", &caller.employee_id, &request_id, &options)?;
        v.finish()?;
        if let Some(k) = &key {
            let mut conn = self.conn().await?;
            if let Some(done) = k.replay::<pb::ImportCustomersResponse>(&mut conn).await? {
                return Ok(done);
            }
        }

        let bytes_declared = declared
            .size()
            .map_or(0, |size| i64::try_from(size).unwrap_or(i64::MAX));
        let refs = Arc::new(self.import_references().await?);
        // An import with a request_id is a job others can follow and cancel.
        let job = match &key {
            Some(_) => {
                let id = request_id.trim().to_string();
                let mut tx = self.db.begin_write().await?;
                let mine = imports::start(
                    &mut tx,
                    &id,
                    &caller.employee_id,
                    &caller.department_path,
                    bytes_declared,
                    now_micros(),
                )
                .await?;
                tx.commit().await?;
                if !mine {
                    return Err(Error::precondition(
                        "REQUEST_ID_IN_USE",
                        "options.request_id",
                        "another employee's import has this request_id; choose another one",
                    ));
                }
                Some(id)
            }
            None => None,
        };
        let upload = Upload::start(
            IMPORT_FIELDS,
            mapping,
            BATCH,
            stream,
            |m: pb::ImportCustomersRequest| match m.part {
                Some(pb::import_customers_request::Part::CsvChunk(bytes)) => Some(bytes),
                _ => None,
            },
            declared,
        );
        let run = Arc::new(ImportRun {
            caller: caller.clone(),
            mode,
            request_id: job.clone().unwrap_or_default(),
            started_at: now_micros(),
        });
        let mut progress = imports::Progress::default();
        let outcome = self
            .import_rows(&run, upload, &refs, default_kind, job.as_deref(), &mut progress)
            .await;
        let (mut tally, cancelled) = match outcome {
            Ok(done) => done,
            Err(e) => {
                if let Some(id) = &job {
                    self.end_job(id, "failed", progress, &e.to_string()).await;
                }
                return Err(e);
            }
        };
        tally.errors.sort_by_key(|e| e.row);
        crm_kit::metrics::import_rows(
            "customers",
            "customers",
            u64::try_from(tally.created + tally.updated + tally.skipped).unwrap_or(0),
            u64::try_from(tally.failed).unwrap_or(0),
        );
        let response = pb::ImportCustomersResponse {
            created: tally.created,
            updated: tally.updated,
            skipped: tally.skipped,
            failed: tally.failed,
            errors: tally.errors,
            cancelled,
            ignored_columns: tally.ignored,
        };
        // A cancelled import is not a done request: a retry with the same request_id imports
        // the file again (the rows written before meet themselves as duplicates).
        if let Some(k) = &key
            && !cancelled
        {
            let mut tx = self.db.begin_write().await?;
            k.record(&mut tx, &response).await?;
            tx.commit().await?;
        }
        if let Some(id) = &job {
            progress.created = response.created;
            progress.updated = response.updated;
            progress.skipped = response.skipped;
            progress.failed = response.failed;
            self.end_job(id, if cancelled { "cancelled" } else { "succeeded" }, progress, "")
                .await;
        }
        tracing::info!(
            created = response.created,
            updated = response.updated,
            skipped = response.skipped,
            failed = response.failed,
            cancelled,
            "import finished"
        );
        Ok(response)
    }

    /// Reads the upload batch by batch and writes the good rows; answers the tally and whether
    /// the import was cancelled. `progress` follows the batches (the job's counts).
    async fn import_rows(
        &self,
        run: &Arc<ImportRun>,
        mut upload: Upload,
        refs: &Arc<References>,
        default_kind: &'static str,
        job: Option<&str>,
        progress: &mut imports::Progress,
    ) -> Result<(Tally, bool)> {
        let mut tally = Tally::default();
        let mut headers: Arc<HashMap<&'static str, String>> = Arc::default();
        let mut analyzed_at = 0i64;
        let mut cancelled = false;
        // Batches being written, oldest first, each with its duplicate keys. Validation of the
        // next batch overlaps their writes; a batch sharing a key with one in flight waits for
        // it, so the earlier row of a file always wins.
        let mut in_flight = InFlight::new();
        // A job looks for a cancel whenever a batch is written, and at this pace while the
        // file is slow to arrive.
        let mut ticker = tokio::time::interval(CANCEL_POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = tokio::select! {
                biased;
                written = front_written(&mut in_flight) => Next::Written(written),
                parsed = upload.next() => Next::Parsed(parsed),
                _ = ticker.tick(), if job.is_some() => Next::Tick,
            };
            let parsed = match next {
                Next::Written(written) => {
                    in_flight.pop_front();
                    tally.absorb(written?);
                    None
                }
                Next::Tick => None,
                Next::Parsed(None) => break,
                Next::Parsed(Some(parsed)) => Some(parsed),
            };
            match parsed {
                None => {}
                Some(Parsed::Fatal(message)) => return Err(upload.fatal(message).await),
                Some(Parsed::Header(h)) => {
                    if !h.contains_key("name") {
                        return Err(Error::invalid(
                            "options.column_mapping",
                            "NAME_COLUMN_MISSING",
                            "no column maps to name; map the customer name column to \"name\"",
                        ));
                    }
                    headers = Arc::new(h);
                }
                Some(Parsed::Ignored(columns)) => tally.ignored = columns,
                Some(Parsed::Rows(rows)) => {
                    progress.rows_read += i64::try_from(rows.len()).unwrap_or(0);
                    let good =
                        validate_batch(rows, default_kind, refs, &headers, self.phone_region, &mut tally).await?;
                    let batch_keys: HashSet<String> =
                        good.iter().flat_map(|r| r.keys.iter().flatten().cloned()).collect();
                    while in_flight.len() >= IMPORT_WRITERS
                        || in_flight.iter().any(|(_, keys)| !keys.is_disjoint(&batch_keys))
                    {
                        let Some((task, _)) = in_flight.pop_front() else { break };
                        tally.absorb(join_batch(task).await?);
                    }
                    let (api, run) = (self.clone(), run.clone());
                    let task = tokio::spawn(async move {
                        let mut tally = Tally::default();
                        api.import_batch(&run, good, &mut tally).await?;
                        Ok(tally)
                    });
                    in_flight.push_back((task, batch_keys));
                    // Keep the planner's picture of the growing table current (duplicate probes
                    // of later batches, and every query after the import): at 10,000 new rows,
                    // then whenever the rows added since the last refresh reach that count again.
                    if tally.created >= analyzed_at.max(STATISTICS_AFTER / 2) * 2 {
                        self.db
                            .refresh_statistics(&["customers", "contacts", "customer_changes", "owner_changes"])
                            .await?;
                        self.db.merge_pending_index_entries(SEARCH_INDEXES).await;
                        analyzed_at = tally.created;
                    }
                }
            }
            if let Some(id) = job {
                progress.created = tally.created;
                progress.updated = tally.updated;
                progress.skipped = tally.skipped;
                progress.failed = tally.failed;
                progress.bytes_received = i64::try_from(upload.received_bytes()).unwrap_or(i64::MAX);
                let mut tx = self.db.begin_write().await?;
                cancelled = imports::advance(&mut tx, id, *progress, now_micros()).await?;
                tx.commit().await?;
                if cancelled {
                    break;
                }
            }
        }
        for (task, _) in in_flight {
            tally.absorb(join_batch(task).await?);
        }
        // What the committed batches wrote is searched at once, by index alone.
        self.db.merge_pending_index_entries(SEARCH_INDEXES).await;
        if cancelled {
            upload.abandon();
            return Ok((tally, true));
        }
        progress.bytes_received = i64::try_from(upload.received_bytes()).unwrap_or(i64::MAX);
        upload.finish().await?;
        if headers.is_empty() && tally.failed == 0 && tally.created == 0 {
            return Err(csv_io::empty_file());
        }
        Ok((tally, false))
    }

    /// Ends an import job; a failure to record it is logged (the import's own outcome stands).
    async fn end_job(&self, request_id: &str, state: &str, progress: imports::Progress, error: &str) {
        let ended = async {
            let mut tx = self.db.begin_write().await?;
            imports::end(&mut tx, request_id, state, progress, error, now_micros()).await?;
            tx.commit().await
        };
        if let Err(e) = ended.await {
            tracing::warn!(request_id, error = %e, "import job not recorded as ended");
        }
    }

    async fn import_references(&self) -> Result<References> {
        let mut conn = self.conn().await?;
        let mut codes = HashMap::new();
        for d in ["industry", "customer_type", "level", "source"] {
            let set = catalog::entries(&mut conn, d, false)
                .await?
                .into_iter()
                .map(|e| e.code)
                .collect();
            codes.insert(d, set);
        }
        let leaf_categories = catalog::categories(&mut conn)
            .await?
            .into_iter()
            .filter(|c| c.child_count == 0)
            .map(|c| c.id)
            .collect();
        Ok(References { codes, leaf_categories })
    }

    /// Writes one batch: new rows in bulk, duplicates per the mode. Rows repeating a key seen
    /// earlier in the same batch wait for a second pass, when the first one is stored.
    async fn import_batch(&self, run: &ImportRun, rows: Vec<GoodRow>, tally: &mut Tally) -> Result<()> {
        let mut pending = rows;
        while !pending.is_empty() {
            let mut batch_keys: HashSet<String> = HashSet::new();
            let mut now_rows = Vec::new();
            let mut later = Vec::new();
            for r in pending {
                let ks: Vec<String> = r.keys.iter().flatten().cloned().collect();
                if ks.iter().any(|k| batch_keys.contains(k)) {
                    later.push(r);
                } else {
                    batch_keys.extend(ks);
                    now_rows.push(r);
                }
            }
            self.import_pass(run, now_rows, tally).await?;
            pending = later;
        }
        Ok(())
    }

    async fn import_pass(&self, run: &ImportRun, rows: Vec<GoodRow>, tally: &mut Tally) -> Result<()> {
        let caller = &run.caller;
        let mut tx = self.db.begin_write().await?;
        // Imported customers belong to the caller, who must not have left meanwhile.
        crm_kit::handover::require_active(&mut tx, &caller.employee_id, "owner_id", &caller.employee_id).await?;
        let existing = existing_duplicates(&mut tx, &rows).await?;
        let mut by_key: HashMap<String, &CustomerRow> = HashMap::new();
        for e in &existing {
            for k in keys(&e.fields, &e.name_key).into_iter().flatten() {
                by_key.entry(k).or_insert(e);
            }
        }
        let now = now_micros();
        let mut new_rows: Vec<(GoodRow, CustomerRow)> = Vec::new();
        for r in rows {
            match r.keys.iter().flatten().find_map(|k| by_key.get(k).copied()) {
                Some(dup) => self.import_over(&mut tx, run, &r, dup, tally, now).await?,
                None => {
                    let mut row = self.new_row(
                        r.fields.clone(),
                        &caller.employee_id,
                        caller.department_path.clone(),
                        &caller.employee_id,
                        now,
                    );
                    row.name_key = r.name_key.clone();
                    new_rows.push((r, row));
                }
            }
        }
        let customers: Vec<CustomerRow> = new_rows.iter().map(|(_, c)| c.clone()).collect();
        let mut contacts = Vec::new();
        let mut entries = Vec::with_capacity(new_rows.len());
        for (r, c) in &new_rows {
            let contact = r
                .contact
                .clone()
                .map(|k| k.into_primary_of(&c.id, &caller.employee_id, now));
            entries.push(search::SearchTexts::of(&c.fields, contact.as_ref()).entry());
            contacts.extend(contact);
        }
        match store::insert_many(&mut tx, &customers, &entries).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                // A concurrent writer created one of these customers; redo the rows one by one.
                drop(tx);
                for (r, _) in new_rows {
                    Box::pin(self.import_pass(run, vec![r], tally)).await?;
                }
                return Ok(());
            }
            Err(InsertError::Other(e)) => return Err(e),
        }
        contact_store::insert_many(&mut tx, &contacts).await?;
        let ids: Vec<&str> = customers.iter().map(|c| c.id.as_str()).collect();
        history::record_imports(&mut tx, &ids, &caller.employee_id, &caller.employee_id, now).await?;
        // One event for the batch, in its transaction: other services learn of every imported
        // customer without one outbox row per customer.
        if let Some(first) = customers.first() {
            let event = pb::CustomersImported {
                customers: customers
                    .iter()
                    .map(|c| pb::CustomerCreated {
                        customer_id: c.id.clone(),
                        name: c.fields.name.clone(),
                        owner_id: c.owner_id.clone(),
                    })
                    .collect(),
                request_id: run.request_id.clone(),
            };
            crm_kit::events::append_at(&mut tx, &first.id, &event, now).await?;
        }
        tx.commit().await?;
        tally.created += i64::try_from(customers.len()).unwrap_or(0);
        Ok(())
    }

    /// A row of the file that duplicates `dup`, per the import's mode: refused (fail), merged
    /// into it when the caller may manage it (update), or skipped.
    async fn import_over(
        &self,
        tx: &mut sqlx::AnyConnection,
        run: &ImportRun,
        r: &GoodRow,
        dup: &CustomerRow,
        tally: &mut Tally,
        now: i64,
    ) -> Result<()> {
        let caller = &run.caller;
        match run.mode {
            pb::ImportMode::Fail => {
                let in_this_import = dup.created_by == caller.employee_id && dup.created_at >= run.started_at;
                let earlier = if in_this_import {
                    ", an earlier row of this file"
                } else {
                    ""
                };
                tally.fail(
                    r.number,
                    "name",
                    format!("duplicates customer {} ({}){earlier}", dup.fields.name, dup.id),
                );
            }
            pb::ImportMode::Update if !may_manage(caller, dup) => {
                let owner = if dup.owner_id.is_empty() {
                    "the public pool"
                } else {
                    &dup.owner_id
                };
                tally.fail(
                    r.number,
                    "name",
                    format!(
                        "duplicates customer {} ({}) owned by {owner}; only its owner or a manager may update it",
                        dup.fields.name, dup.id
                    ),
                );
            }
            pb::ImportMode::Update => {
                let mut fields = dup.fields.clone();
                merge_present(&mut fields, &r.fields, &r.present);
                let changes = CustomerFields::diff(&dup.fields, &fields);
                if changes.is_empty() {
                    tally.skipped += 1;
                    return Ok(());
                }
                match store::update_fields(tx, &dup.id, dup.version, &fields, &caller.employee_id, now).await {
                    Ok(true) => {
                        history::record_change(tx, &dup.id, "import_update", &changes, &caller.employee_id, now)
                            .await?;
                        search::reindex(tx, &dup.id).await?;
                        tally.updated += 1;
                    }
                    Ok(false) | Err(InsertError::Duplicate) => tally.fail(
                        r.number,
                        "name",
                        format!(
                            "customer {} changed meanwhile or the update would duplicate another customer",
                            dup.id
                        ),
                    ),
                    Err(InsertError::Other(e)) => return Err(e),
                }
            }
            _ => tally.skipped += 1,
        }
        Ok(())
    }

    /// GetImportJob.
    pub async fn get_import_job(
        &self,
        caller: &Principal,
        req: pb::GetImportJobRequest,
    ) -> Result<pb::GetImportJobResponse> {
        let job = self.visible_job(caller, &req.request_id).await?;
        Ok(pb::GetImportJobResponse {
            job: Some(job_to_proto(&job, now_micros())),
        })
    }

    /// CancelImport: raises the job's cancel flag; the import stops after its current batch.
    pub async fn cancel_import(
        &self,
        caller: &Principal,
        req: pb::CancelImportRequest,
    ) -> Result<pb::CancelImportResponse> {
        let mut job = self.visible_job(caller, &req.request_id).await?;
        if job.state == "running" {
            let mut tx = self.db.begin_write().await?;
            imports::request_cancel(&mut tx, &job.request_id, now_micros()).await?;
            tx.commit().await?;
            let mut conn = self.conn().await?;
            job = imports::get(&mut conn, &job.request_id)
                .await?
                .ok_or_else(|| Error::not_found(IMPORT_JOB, &job.request_id))?;
        }
        Ok(pb::CancelImportResponse {
            job: Some(job_to_proto(&job, now_micros())),
        })
    }

    /// The job of `request_id` when the caller may see it: the importer's own, or one of an
    /// importer the caller manages. Anyone else gets NOT_FOUND, as for a customer out of scope.
    async fn visible_job(&self, caller: &Principal, request_id: &str) -> Result<imports::ImportJobRow> {
        let id = request_id.trim();
        if id.is_empty() {
            return Err(Error::required("request_id"));
        }
        let mut conn = self.conn().await?;
        match imports::get(&mut conn, id).await? {
            Some(job)
                if job.employee_id == caller.employee_id
                    || (is_manager(caller) && caller.covers(SERVICE, &job.employee_id, &job.department_path)) =>
            {
                Ok(job)
            }
            _ => Err(Error::not_found(IMPORT_JOB, id)),
        }
    }
}

/// The wire form of a job; the time left is estimated from the bytes still to come at the rate
/// the file has arrived so far.
fn job_to_proto(job: &imports::ImportJobRow, now: i64) -> pb::ImportJob {
    let state = match job.state.as_str() {
        "running" => pb::ImportJobState::Running,
        "succeeded" => pb::ImportJobState::Succeeded,
        "failed" => pb::ImportJobState::Failed,
        "cancelled" => pb::ImportJobState::Cancelled,
        _ => pb::ImportJobState::Unspecified,
    };
    let elapsed = job.updated_at.saturating_sub(job.started_at);
    let estimated_seconds_left =
        (state == pb::ImportJobState::Running && job.bytes_declared > 0 && job.bytes_received > 0 && elapsed > 0).then(
            || {
                let left = (job.bytes_declared - job.bytes_received).max(0) as f64;
                let rate = job.bytes_received as f64 / elapsed as f64;
                // Measured up to the last update; the time since then has been spent already.
                let since = now.saturating_sub(job.updated_at) as f64;
                ((left / rate - since) / 1e6).max(0.0).ceil() as i64
            },
        );
    pb::ImportJob {
        request_id: job.request_id.clone(),
        state: state as i32,
        employee_id: job.employee_id.clone(),
        rows_read: job.rows_read,
        created: job.created,
        updated: job.updated,
        skipped: job.skipped,
        failed: job.failed,
        bytes_received: job.bytes_received,
        bytes_declared: job.bytes_declared,
        estimated_seconds_left,
        error_message: job.error_message.clone(),
        cancel_requested: job.cancel_requested != 0,
        start_time: crm_kit::time::set_to_proto(job.started_at),
        update_time: crm_kit::time::set_to_proto(job.updated_at),
        end_time: crm_kit::time::set_to_proto(job.ended_at),
    }
}

/// Copies the fields a row actually carries onto an existing customer (update mode).
fn merge_present(target: &mut CustomerFields, src: &CustomerFields, present: &[&'static str]) {
    for f in present {
        match *f {
            "kind" => target.kind = src.kind,
            "short_name" => target.short_name.clone_from(&src.short_name),
            "tax_id" => target.tax_id.clone_from(&src.tax_id),
            "industry_code" => target.industry_code.clone_from(&src.industry_code),
            "type_code" => target.type_code.clone_from(&src.type_code),
            "level_code" => target.level_code.clone_from(&src.level_code),
            "source_code" => target.source_code.clone_from(&src.source_code),
            "status" => target.status = src.status,
            "category_id" => target.category_id.clone_from(&src.category_id),
            "scale" => target.scale.clone_from(&src.scale),
            "phone" => {
                target.phone.clone_from(&src.phone);
                target.phone_typed.clone_from(&src.phone_typed);
            }
            "mobile" => {
                target.mobile.clone_from(&src.mobile);
                target.mobile_typed.clone_from(&src.mobile_typed);
            }
            "email" => target.email.clone_from(&src.email),
            "website" => target.website.clone_from(&src.website),
            "address" => target.address.clone_from(&src.address),
            "region.country" => target.country.clone_from(&src.country),
            "region.province" => target.province.clone_from(&src.province),
            "region.city" => target.city.clone_from(&src.city),
            "region.district" => target.district.clone_from(&src.district),
            "remark" => target.remark.clone_from(&src.remark),
            "tags" => target.tags.clone_from(&src.tags),
            _ => {}
        }
    }
}

/// The customers already stored that rows of an import batch collide with: by company name
/// key, tax id or individual's mobile.
async fn existing_duplicates(conn: &mut sqlx::AnyConnection, rows: &[GoodRow]) -> Result<Vec<CustomerRow>> {
    let name_keys: Vec<&str> = rows
        .iter()
        .filter(|r| r.fields.kind == "company")
        .map(|r| r.name_key.as_str())
        .collect();
    let tax_ids: Vec<&str> = rows
        .iter()
        .map(|r| r.fields.tax_id.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let mobiles: Vec<&str> = rows
        .iter()
        .filter(|r| r.fields.kind == "individual")
        .map(|r| r.fields.mobile.as_str())
        .filter(|m| !m.is_empty())
        .collect();
    store::colliding(conn, &name_keys, &tax_ids, &mobiles).await
}
