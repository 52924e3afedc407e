//! The catalog in and out as CSV: ImportProducts (a client stream of the file) checks each row
//! exactly as CreateProduct would and writes each batch's good rows in one transaction, reporting
//! every bad row (row, column, reason) without stopping the rest; ExportProducts streams what a
//! product list shows, in the columns the import reads.

use std::collections::HashMap;

use crm_kit::auth::Principal;
use crm_kit::csv_io::{self, Parsed, Row, Upload};
use crm_kit::errors::{FieldViolation, Violations, reason};
use crm_kit::idempotency::RequestKey;
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::quantity::Quantity;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use tokio::sync::mpsc;

use super::WarehouseApi;
use super::catalog::{PRODUCT_FILTER, category_proto, moved_changes, units_of};
use crate::store;
use crate::store::catalog::{ProductRow, Search};

/// The columns an import reads and an export writes (the export adds `id` first).
pub const COLUMNS: &[&str] = &[
    "code",
    "name",
    "specification",
    "unit",
    "units",
    "category",
    "barcode",
    "brand",
    "sale_price",
    "tax_rate",
    "standard_cost",
    "status",
    "tracking",
    "warranty_months",
    "remark",
];

/// Rows per write batch (one transaction).
const BATCH: usize = 500;
/// Most row errors returned (the failed count stays exact beyond it).
const MAX_ERRORS: usize = 10_000;
/// Products read per export page.
const EXPORT_PAGE: i32 = 500;

/// The product fields a CSV column sets.
fn fields_of(column: &str) -> &'static [&'static str] {
    match column {
        "code" => &["code"],
        "name" => &["name"],
        "specification" => &["specification"],
        "unit" => &["unit"],
        "units" => &["units"],
        "category" => &["category_id"],
        "barcode" => &["barcode"],
        "brand" => &["brand"],
        "sale_price" => &["sale_price"],
        "tax_rate" => &["tax_rate"],
        "standard_cost" => &["standard_cost"],
        "status" => &["status"],
        "tracking" => &["tracking"],
        "warranty_months" => &["warranty_months"],
        "remark" => &["remark"],
        _ => &[],
    }
}

/// The CSV column of a product field violation (`product.units[0].factor` → `units`).
fn column_of(field: &str) -> &'static str {
    let f = field.strip_prefix("product.").unwrap_or(field);
    let f = f.split(['.', '[']).next().unwrap_or(f);
    COLUMNS
        .iter()
        .copied()
        .find(|c| fields_of(c).contains(&f))
        .unwrap_or("row")
}

/// Alternative units from a cell, `box=12;case=144`.
fn parse_units(cell: &str) -> std::result::Result<Vec<pb::UnitConversion>, String> {
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            let (name, factor) = u
                .split_once(['=', '＝'])
                .ok_or_else(|| format!("{u} is not name=factor, e.g. box=12"))?;
            Ok(pb::UnitConversion {
                name: name.trim().to_string(),
                factor: factor.trim().to_string(),
            })
        })
        .collect()
}

/// An enum cell by its code, its enum name with or without the prefix, or its words.
fn code_of(cell: &str, prefix: &str) -> String {
    let t = crm_kit::text::normalize(cell);
    let t = t.strip_prefix(prefix).unwrap_or(&t);
    t.to_lowercase().replace([' ', '-'], "_")
}

/// Counts and row errors of an import.
#[derive(Default)]
struct Tally {
    response: pb::ImportProductsResponse,
}

impl Tally {
    fn fail(&mut self, row: i64, problems: Vec<(String, String)>) {
        self.response.failed += 1;
        for (field, reason) in problems {
            if self.response.errors.len() < MAX_ERRORS {
                self.response.errors.push(pb::ProductImportError { row, field, reason });
            }
        }
    }
}

/// A row checked: the product it describes and which of its fields the row sets.
struct Checked {
    number: i64,
    product: pb::Product,
    fields: Vec<&'static str>,
}

impl WarehouseApi {
    pub async fn import_products(
        &self,
        caller: &Principal,
        mut stream: tonic::Streaming<pb::ImportProductsRequest>,
    ) -> Result<pb::ImportProductsResponse> {
        let first = csv_io::first_message(&mut stream, "options").await?;
        let mut options = match first.part {
            Some(pb::import_products_request::Part::Options(options)) => options,
            None => pb::ProductImportOptions::default(),
            Some(pb::import_products_request::Part::CsvChunk(_)) => {
                return Err(Error::invalid(
                    "options",
                    reason::REQUIRED,
                    "the first message must carry the import options",
                ));
            }
        };
        let mut v = Violations::new();
        let mode = match pb::ProductImportMode::try_from(options.mode) {
            Ok(pb::ProductImportMode::Unspecified | pb::ProductImportMode::Skip) => pb::ProductImportMode::Skip,
            Ok(m) => m,
            Err(_) => {
                v.add("options.mode", reason::UNKNOWN_ENUM_VALUE, "SKIP, UPDATE or FAIL");
                pb::ProductImportMode::Skip
            }
        };
        let mapping: HashMap<String, String> = options.column_mapping.clone().into_iter().collect();
        csv_io::check_mapping("options.column_mapping", &mapping, COLUMNS, &mut v);
        let declared = csv_io::Declared::parse("options.declared", options.declared.as_ref(), &mut v);
        v.finish()?;
        let request_id = std::mem::take(&mut options.request_id);
        let key = RequestKey::new("ImportProducts", &caller.employee_id, &request_id, &options)?;
        // A finished import asked again answers as it did; one cut off meets its written rows
        // as existing products (skipped, updated or failed by the mode).
        if let Some(k) = &key {
            let mut conn = self.conn().await?;
            if let Some(done) = k.replay::<pb::ImportProductsResponse>(&mut conn).await? {
                return Ok(done);
            }
        }
        let categories = {
            let mut conn = self.conn().await?;
            let all = store::catalog::categories(&mut conn).await?;
            all.iter()
                .map(|c| {
                    let p = category_proto(c, &all);
                    (crm_kit::text::fold_key(&p.path_name), c.id.clone())
                })
                .collect::<HashMap<String, String>>()
        };
        let mut upload = Upload::start(
            COLUMNS,
            mapping,
            BATCH,
            stream,
            |m: pb::ImportProductsRequest| match m.part {
                Some(pb::import_products_request::Part::CsvChunk(bytes)) => Some(bytes),
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
                    if !h.contains_key("code") {
                        return Err(Error::invalid(
                            "options.column_mapping",
                            "CODE_COLUMN_MISSING",
                            "no column maps to code; map the SKU column to \"code\"",
                        ));
                    }
                    headers = Some(h);
                }
                Parsed::Ignored(columns) => tally.response.ignored_columns = columns,
                Parsed::Rows(rows) => {
                    let headers = headers
                        .as_ref()
                        .ok_or_else(|| Error::Internal("rows before the header".into()))?;
                    let column = |c: &str| headers.get(c).cloned().unwrap_or_else(|| c.to_string());
                    let mut checked = Vec::with_capacity(rows.len());
                    for row in &rows {
                        match self.check_row(caller, row, &categories) {
                            Ok(c) => checked.push(c),
                            Err(problems) => {
                                tally.fail(row.number, problems.into_iter().map(|(c, r)| (column(&c), r)).collect())
                            }
                        }
                    }
                    self.import_batch(caller, mode, checked, &column, &mut tally).await?;
                }
            }
        }
        upload.finish().await?;
        if headers.is_none() {
            return Err(csv_io::empty_file());
        }
        let mut response = tally.response;
        response.errors.sort_by_key(|e| e.row);
        crm_kit::metrics::import_rows(
            "warehouse",
            "products",
            u64::try_from(response.created + response.updated).unwrap_or(0),
            u64::try_from(response.failed).unwrap_or(0),
        );
        if let Some(k) = &key {
            let mut tx = self.db.begin_write().await?;
            k.record(&mut tx, &response).await?;
            tx.commit().await?;
        }
        tracing::info!(
            created = response.created,
            updated = response.updated,
            skipped = response.skipped,
            failed = response.failed,
            "product import finished"
        );
        Ok(response)
    }

    /// A row as the product it describes (the cells it has), or its problems by column.
    fn check_row(
        &self,
        caller: &Principal,
        row: &Row,
        categories: &HashMap<String, String>,
    ) -> std::result::Result<Checked, Vec<(String, String)>> {
        if let Some(p) = &row.problem {
            return Err(vec![("row".into(), p.clone())]);
        }
        let mut problems = Vec::new();
        let mut product = pb::Product {
            code: row.get("code").into(),
            name: row.get("name").into(),
            specification: row.get("specification").into(),
            unit: row.get("unit").into(),
            barcode: row.get("barcode").into(),
            brand: row.get("brand").into(),
            tax_rate: row.get("tax_rate").trim_end_matches('%').into(),
            remark: row.get("remark").into(),
            ..Default::default()
        };
        let money = |cell: &str| {
            Some(crm_proto::common::Money {
                currency_code: String::new(),
                amount: crm_kit::text::normalize(cell),
            })
        };
        product.sale_price = money(row.get("sale_price"));
        product.standard_cost = money(row.get("standard_cost"));
        match parse_units(row.get("units")) {
            Ok(units) => product.units = units,
            Err(e) => problems.push(("units".to_string(), e)),
        }
        let category = row.get("category");
        if !category.is_empty() {
            match categories.get(&crm_kit::text::fold_key(category)) {
                Some(id) => product.category_id = id.clone(),
                None => problems.push((
                    "category".to_string(),
                    format!("no category {category}: give its path as the catalog shows it, e.g. Electronics / Phones"),
                )),
            }
        }
        let status = row.get("status");
        if !status.is_empty() {
            match code_of(status, "PRODUCT_STATUS_").as_str() {
                "active" => product.status = pb::ProductStatus::Active as i32,
                "discontinued" => product.status = pb::ProductStatus::Discontinued as i32,
                _ => problems.push(("status".into(), format!("{status} is not active or discontinued"))),
            }
        }
        let tracking = row.get("tracking");
        if !tracking.is_empty() {
            match code_of(tracking, "TRACKING_").as_str() {
                "none" => product.tracking = pb::Tracking::None as i32,
                "serial" => product.tracking = pb::Tracking::Serial as i32,
                "lot" => product.tracking = pb::Tracking::Lot as i32,
                _ => problems.push(("tracking".into(), format!("{tracking} is not none, serial or lot"))),
            }
        }
        let warranty = row.get("warranty_months");
        if !warranty.is_empty() {
            match crm_kit::text::normalize(warranty).parse::<i32>() {
                Ok(m) => product.warranty_months = m,
                Err(_) => problems.push((
                    "warranty_months".into(),
                    format!("{warranty} is not a whole number of months"),
                )),
            }
        }
        // The fields the row sets: its non-empty cells, and the code (a new product's name and
        // unit are required when it is written).
        let mut fields: Vec<&'static str> = Vec::new();
        for column in COLUMNS {
            if *column == "code" || !row.get(column).is_empty() {
                fields.extend(fields_of(column));
            }
        }
        // Checked as CreateProduct checks it.
        let mut v = Violations::new();
        let mut scratch = self.new_product_row(caller, 0);
        self.apply(&mut scratch, &product, &fields, &mut v);
        if let Err(Error::InvalidArgument(list)) = v.finish() {
            for FieldViolation { field, description, .. } in list {
                problems.push((column_of(&field).to_string(), description));
            }
        }
        if problems.is_empty() {
            Ok(Checked {
                number: row.number,
                product,
                fields,
            })
        } else {
            Err(problems)
        }
    }

    /// Writes one batch of checked rows in one transaction: new codes created, existing ones
    /// skipped, updated or failed by `mode`; a row that collides with another product (an
    /// active one with its name and specification, or an earlier row of the file) fails.
    async fn import_batch(
        &self,
        caller: &Principal,
        mode: pb::ProductImportMode,
        rows: Vec<Checked>,
        column: &(dyn Fn(&str) -> String + Sync),
        tally: &mut Tally,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        for r in rows {
            let code_key = crm_kit::text::fold_key(&r.product.code);
            let existing = store::catalog::colliding(&mut tx, &code_key, None, "")
                .await?
                .map(|(p, _)| p);
            let (mut row, creating) = match existing {
                Some(_) if mode == pb::ProductImportMode::Skip => {
                    tally.response.skipped += 1;
                    continue;
                }
                Some(p) if mode == pb::ProductImportMode::Fail => {
                    tally.fail(
                        r.number,
                        vec![(
                            column("code"),
                            format!("product {} already has the code {}", p.id, p.code),
                        )],
                    );
                    continue;
                }
                Some(p) => (p, false),
                None => (self.new_product_row(caller, now), true),
            };
            let before = row.clone();
            let mut fields = r.fields.clone();
            if creating {
                for required in ["name", "unit"] {
                    if !fields.contains(&required) {
                        fields.push(required);
                    }
                }
            }
            let mut v = Violations::new();
            let category = self.apply(&mut row, &r.product, &fields, &mut v);
            if !creating {
                moved_changes(&before, &row, &mut v);
            }
            if let Err(Error::InvalidArgument(list)) = v.finish() {
                tally.fail(
                    r.number,
                    list.into_iter()
                        .map(|FieldViolation { field, description, .. }| (column(column_of(&field)), description))
                        .collect(),
                );
                continue;
            }
            row.category_path = match category {
                Some(id) => store::catalog::category(&mut tx, &id)
                    .await?
                    .map(|c| c.path)
                    .unwrap_or_default(),
                None => before.category_path.clone(),
            };
            if let Some(Error::AlreadyExists { message, .. }) = self.collision(&mut tx, &row).await? {
                tally.fail(r.number, vec![(column("name"), message)]);
                continue;
            }
            if creating {
                store::catalog::insert_product(&mut tx, &row).await?;
                tally.response.created += 1;
            } else {
                row.updated_at = now;
                row.updated_by = caller.employee_id.clone();
                store::catalog::update_product(&mut tx, &row, before.version).await?;
                tally.response.updated += 1;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// ExportProducts: the products a list with this search and filter shows, as CSV chunks.
    pub async fn export_products(
        &self,
        _caller: &Principal,
        req: pb::ExportProductsRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::ExportProductsResponse, tonic::Status>>> {
        // Fail fast on a bad filter or search, before the stream starts.
        crm_kit::filter::compile(PRODUCT_FILTER, &req.filter, 1)?;
        crm_kit::text::search_query("query", &req.query)?;
        let (tx, rx) = mpsc::channel(8);
        let api = self.clone();
        let producer = tx.clone();
        crm_kit::serve::spawn_stream(
            "ExportProducts",
            tx,
            async move { api.export_into(&req, &producer).await },
        );
        Ok(rx)
    }

    async fn export_into(
        &self,
        req: &pb::ExportProductsRequest,
        tx: &mpsc::Sender<std::result::Result<pb::ExportProductsResponse, tonic::Status>>,
    ) -> Result<()> {
        let header: Vec<&str> = std::iter::once("id").chain(COLUMNS.iter().copied()).collect();
        let mut writer = csv_io::ChunkWriter::new(header)?;
        let query = crm_kit::text::search_query("query", &req.query)?;
        let search = Search {
            key: crm_kit::text::fold_key(&query),
            typed: query.clone(),
        };
        let order = if search.key.is_empty() {
            Order::by("p.code_key", "p.id", Direction::Ascending)
        } else {
            Order::by(store::catalog::SEARCH_ORDER, "p.id", Direction::Ascending)
        };
        let shape = [req.filter.as_str(), search.key.as_str(), req.category_id.trim()];
        let filter = crm_kit::filter::compile(PRODUCT_FILTER, &req.filter, 1)?;
        let (under, categories) = {
            let mut conn = self.conn().await?;
            let all = store::catalog::categories(&mut conn).await?;
            let under =
                match req.category_id.trim() {
                    "" => None,
                    id => Some(all.iter().find(|c| c.id == id).map(|c| c.path.clone()).ok_or_else(|| {
                        Error::invalid("category_id", "UNKNOWN_CATEGORY", format!("no category {id}"))
                    })?),
                };
            let names: HashMap<String, String> = all
                .iter()
                .map(|c| (c.id.clone(), category_proto(c, &all).path_name))
                .collect();
            (under, names)
        };
        let mut page_token = String::new();
        loop {
            let keyset = Keyset::open(&self.tokens, order.clone(), EXPORT_PAGE, &page_token, &shape)?;
            let mut conn = self.conn().await?;
            let page = store::catalog::page(&mut conn, filter.as_ref(), under.as_deref(), &search, &keyset).await?;
            drop(conn);
            for p in &page.rows {
                self.export_row(&mut writer, p, &categories)?;
            }
            crm_kit::metrics::export_rows("warehouse", "products", page.rows.len() as u64);
            let bytes = writer.take()?;
            if !bytes.is_empty()
                && tx
                    .send(Ok(pb::ExportProductsResponse { csv_chunk: bytes }))
                    .await
                    .is_err()
            {
                return Ok(());
            }
            if page.next_page_token.is_empty() {
                return Ok(());
            }
            page_token = page.next_page_token;
        }
    }

    fn export_row(
        &self,
        writer: &mut csv_io::ChunkWriter,
        p: &ProductRow,
        categories: &HashMap<String, String>,
    ) -> Result<()> {
        let units = units_of(p)
            .alternatives
            .iter()
            .map(|(name, factor)| format!("{name}={}", factor.to_wire()))
            .collect::<Vec<_>>()
            .join(";");
        let amount = |v: i64| crm_kit::money::to_wire(crm_kit::money::from_storage(v));
        writer.row([
            p.id.as_str(),
            &p.code,
            &p.name,
            &p.specification,
            &p.unit,
            &units,
            categories.get(&p.category_id).map_or("", String::as_str),
            &p.barcode,
            &p.brand,
            &amount(p.sale_price),
            &Quantity::from_storage(p.tax_rate).to_wire(),
            &amount(p.standard_cost),
            &p.status,
            &p.tracking,
            &p.warranty_months.to_string(),
            &p.remark,
        ])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cells_read_names_and_factors() {
        let units = parse_units("box=12; case＝144").expect("units");
        assert_eq!(
            units
                .iter()
                .map(|u| (u.name.as_str(), u.factor.as_str()))
                .collect::<Vec<_>>(),
            vec![("box", "12"), ("case", "144")]
        );
        assert!(parse_units("box 12").is_err());
        assert!(parse_units("").expect("none").is_empty());
    }

    #[test]
    fn violations_name_their_column() {
        assert_eq!(column_of("product.units[0].factor"), "units");
        assert_eq!(column_of("product.category_id"), "category");
        assert_eq!(column_of("product.sale_price.amount"), "sale_price");
        assert_eq!(column_of("product.code"), "code");
    }
}
