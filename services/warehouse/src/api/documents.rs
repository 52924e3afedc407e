//! Stock documents: created as drafts (or created and posted in one step), posted whole or not
//! at all, received (transfers in transit), cancelled while drafts. A posted document is never
//! changed: another document undoes it.

use std::collections::HashMap;

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::errors::{Violations, reason};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Order};
use crm_kit::numbering::{NumberPattern, next_number};
use crm_kit::quantity::Quantity;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::catalog::units_of;
use super::posting::{LEG_LENT, Posting};
use super::{DOCUMENT_SCOPE, WarehouseApi, audit, check_notes, check_text, qty};
use crate::domain::{self, Direction, Kind, Status, UnitError};
use crate::store;
use crate::store::documents::{DocumentRow, LineRow};
use crate::store::stock::LedgerRow;

pub const DOCUMENT: &str = "crm.warehouse.v1.StockDocument";

const DOCUMENT_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "kind",
        column: "d.kind",
        ty: FieldType::Enum(domain::KIND_CODES),
    },
    FieldSpec {
        name: "status",
        column: "d.status",
        ty: FieldType::Enum(domain::STATUS_CODES),
    },
    FieldSpec {
        name: "warehouse_id",
        column: "d.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "to_warehouse_id",
        column: "d.to_warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "reference",
        column: "d.reference",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "counterparty_id",
        column: "d.counterparty_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "create_time",
        column: "d.created_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "post_time",
        column: "NULLIF(d.posted_at, 0)",
        ty: FieldType::Timestamp,
    },
];

impl WarehouseApi {
    fn document_proto(&self, d: &DocumentRow, lines: &[LineRow], ledger: &[LedgerRow]) -> pb::StockDocument {
        let kind = Kind::of_code(&d.kind);
        pb::StockDocument {
            id: d.id.clone(),
            number: d.number.clone(),
            kind: kind.map_or(0, |k| k.proto as i32),
            status: Status::of_code(&d.status).proto() as i32,
            warehouse_id: d.warehouse_id.clone(),
            to_warehouse_id: d.to_warehouse_id.clone(),
            in_transit: d.in_transit == 1,
            reference: d.reference.clone(),
            counterparty_id: d.counterparty_id.clone(),
            courier: d.courier.clone(),
            tracking_number: d.tracking_number.clone(),
            remark: d.remark.clone(),
            lines: lines
                .iter()
                .map(|l| {
                    // What the line moved: its first movement (out of its source for an outbound,
                    // a transfer or a loan; onto the shelves for an inbound).
                    let moved = ledger.iter().find(|e| e.line_no == l.line_no);
                    let given = (l.cost_given == 1).then(|| self.money(l.unit_cost));
                    pb::StockDocumentLine {
                        line_no: i32::try_from(l.line_no).unwrap_or(i32::MAX),
                        product_id: l.product_id.clone(),
                        quantity: qty(l.quantity),
                        unit: l.unit.clone(),
                        stock_quantity: qty(l.stock_quantity),
                        unit_cost: moved.map(|e| self.money(e.unit_cost)).or(given),
                        value: moved.map(|e| self.money(e.value.abs())),
                        reservation_id: l.reservation_id.clone(),
                        source_line_id: l.source_line_id.clone(),
                        remark: l.remark.clone(),
                        serial_numbers: l.serial_numbers(),
                        lot: l.lot.clone(),
                    }
                })
                .collect(),
            post_time: crm_kit::time::set_to_proto(d.posted_at),
            posted_by: d.posted_by.clone(),
            receive_time: crm_kit::time::set_to_proto(d.received_at),
            audit: Some(audit(d.created_at, &d.created_by, d.updated_at, &d.updated_by)),
            counterparty_kind: domain::counterparty_of(&d.counterparty_kind) as i32,
            sample: d.sample == 1,
            due_date: d.due_date.clone(),
            cancel_reason: d.cancel_reason.clone(),
        }
    }

    /// The wire form of a document with its lines and what they moved.
    pub(crate) fn document_of(&self, d: &DocumentRow, lines: &[LineRow], ledger: &[LedgerRow]) -> pb::StockDocument {
        self.document_proto(d, lines, ledger)
    }

    /// A document the caller reaches: NOT_FOUND otherwise.
    async fn visible_document(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<DocumentRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        store::documents::visible(conn, &ReadScope::of(caller, &DOCUMENT_SCOPE), id)
            .await?
            .ok_or_else(|| Error::not_found(DOCUMENT, id))
    }

    /// The document as stored, with its lines and what they moved.
    async fn full_document(&self, conn: &mut AnyConnection, d: &DocumentRow) -> Result<pb::StockDocument> {
        let lines = store::documents::lines(conn, &d.id).await?;
        let ledger = store::stock::document_lines(conn, &d.id).await?;
        Ok(self.document_proto(d, &lines, &ledger))
    }

    pub async fn create_stock_document(
        &self,
        caller: &Principal,
        mut req: pb::CreateStockDocumentRequest,
    ) -> Result<pb::CreateStockDocumentResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateStockDocument", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.document.as_ref() else {
            return Err(Error::required("document"));
        };
        if req.post {
            caller.require("warehouse.document.post")?;
        }
        let mut v = Violations::new();
        let kind = match Kind::of_proto(src.kind) {
            Some(k) => Some(k),
            None => {
                let why = if src.kind == 0 {
                    reason::REQUIRED
                } else {
                    reason::UNKNOWN_ENUM_VALUE
                };
                v.add(
                    "document.kind",
                    why,
                    "a document kind such as OPENING, DELIVERY or TRANSFER",
                );
                None
            }
        };
        match kind.map(|k| k.direction) {
            Some(Direction::Adjustment) => v.add(
                "document.kind",
                reason::NOT_ALLOWED,
                "stocktake adjustments are posted by PostStocktake from a counted sheet",
            ),
            Some(Direction::LoanReturn | Direction::LoanSale) => v.add(
                "document.kind",
                reason::NOT_ALLOWED,
                "a loan comes back by ReturnLoan and becomes a sale by SellLoan",
            ),
            _ => {}
        }
        let loan = kind.is_some_and(|k| k.direction == Direction::Loan);
        let counterparty_kind = match pb::CounterpartyKind::try_from(src.counterparty_kind) {
            Ok(k) => domain::counterparty_code(k).unwrap_or(""),
            Err(_) => {
                v.add(
                    "document.counterparty_kind",
                    reason::UNKNOWN_ENUM_VALUE,
                    "CUSTOMER, EMPLOYEE or SUPPLIER",
                );
                ""
            }
        };
        if loan {
            if src.counterparty_id.trim().is_empty() {
                v.add(
                    "document.counterparty_id",
                    reason::REQUIRED,
                    "a loan names its borrower",
                );
            }
            if !matches!(counterparty_kind, "customer" | "employee") {
                v.add(
                    "document.counterparty_kind",
                    reason::REQUIRED,
                    "a loan goes to a CUSTOMER or an EMPLOYEE",
                );
            }
            if !src.due_date.trim().is_empty() && crm_kit::time::parse_date(src.due_date.trim()).is_none() {
                v.add("document.due_date", reason::MALFORMED, "must be a date YYYY-MM-DD");
            }
        } else {
            if src.sample {
                v.add("document.sample", reason::NOT_ALLOWED, "only loans are samples");
            }
            if !src.due_date.trim().is_empty() {
                v.add("document.due_date", reason::NOT_ALLOWED, "only loans are due back");
            }
        }
        for (field, value, max) in [
            ("document.reference", &src.reference, 100),
            ("document.counterparty_id", &src.counterparty_id, 64),
            ("document.courier", &src.courier, 100),
            ("document.tracking_number", &src.tracking_number, 100),
        ] {
            check_text(field, value, false, max, &mut v);
        }
        check_notes("document.remark", &src.remark, false, 2000, &mut v);
        if src.lines.is_empty() {
            v.add("document.lines", reason::REQUIRED, "a document moves at least one line");
        } else if src.lines.len() > self.max_document_lines {
            v.add(
                "document.lines",
                reason::TOO_MANY,
                format!("at most {} lines per document", self.max_document_lines),
            );
        }
        let transfer = kind.is_some_and(|k| k.direction == Direction::Transfer);
        if transfer {
            if src.to_warehouse_id.trim().is_empty() {
                v.add(
                    "document.to_warehouse_id",
                    reason::REQUIRED,
                    "a transfer names its destination",
                );
            } else if src.to_warehouse_id.trim() == src.warehouse_id.trim() {
                v.add(
                    "document.to_warehouse_id",
                    reason::NOT_ALLOWED,
                    "a transfer goes to another warehouse",
                );
            }
        } else if !src.to_warehouse_id.trim().is_empty() {
            v.add(
                "document.to_warehouse_id",
                reason::NOT_ALLOWED,
                "only transfers have a destination",
            );
        }
        if src.in_transit && !transfer {
            v.add("document.in_transit", reason::NOT_ALLOWED, "only transfers travel");
        }
        let inbound = kind.is_some_and(|k| k.direction == Direction::Inbound);
        let delivery_like = kind.is_some_and(|k| k.direction == Direction::Outbound);
        // Lines, before anything is read: quantities, costs, texts.
        let mut parsed: Vec<(Option<Quantity>, Option<i64>)> = Vec::with_capacity(src.lines.len());
        if src.lines.len() <= self.max_document_lines {
            for (i, l) in src.lines.iter().enumerate() {
                let at = format!("document.lines[{i}]");
                if l.product_id.trim().is_empty() {
                    v.add(format!("{at}.product_id"), reason::REQUIRED, "is required");
                }
                let q = super::positive_quantity(&format!("{at}.quantity"), &l.quantity, &mut v);
                check_text(&format!("{at}.unit"), &l.unit, false, 20, &mut v);
                let cost = self.amount(&format!("{at}.unit_cost"), l.unit_cost.as_ref(), &mut v);
                if cost.is_some() && !inbound {
                    v.add(
                        format!("{at}.unit_cost"),
                        reason::NOT_ALLOWED,
                        "only inbound lines name a cost: an outbound carries the moving-average cost",
                    );
                }
                if !l.reservation_id.trim().is_empty() && !delivery_like {
                    v.add(
                        format!("{at}.reservation_id"),
                        reason::NOT_ALLOWED,
                        "only outbound lines ship from a reservation",
                    );
                }
                check_text(&format!("{at}.reservation_id"), &l.reservation_id, false, 64, &mut v);
                check_text(&format!("{at}.source_line_id"), &l.source_line_id, false, 64, &mut v);
                check_notes(&format!("{at}.remark"), &l.remark, false, 500, &mut v);
                check_text(&format!("{at}.lot"), &l.lot, false, 100, &mut v);
                if l.serial_numbers.len() > MAX_LINE_SERIALS {
                    v.add(
                        format!("{at}.serial_numbers"),
                        reason::TOO_MANY,
                        format!("at most {MAX_LINE_SERIALS} serial numbers per line: split the line"),
                    );
                } else {
                    for (j, serial) in l.serial_numbers.iter().enumerate() {
                        check_text(&format!("{at}.serial_numbers[{j}]"), serial, true, 100, &mut v);
                    }
                }
                parsed.push((q, cost));
            }
        }
        v.finish()?;
        let kind = kind.ok_or_else(|| Error::required("document.kind"))?;

        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let warehouse = self
            .open_warehouse(&mut tx, caller, "document.warehouse_id", &src.warehouse_id)
            .await?;
        if transfer {
            // The destination need not be kept by the sender; it must exist and be open.
            let to = store::warehouses::visible(
                &mut tx,
                &ReadScope::everything("a transfer's destination is checked to exist, not to be kept by the sender"),
                src.to_warehouse_id.trim(),
            )
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "document.to_warehouse_id",
                    "UNKNOWN_WAREHOUSE",
                    format!("no warehouse {}", src.to_warehouse_id.trim()),
                )
            })?;
            if to.status != "active" {
                return Err(super::warehouses::closed(&to));
            }
        }
        // Products and units.
        let ids: Vec<&str> = src.lines.iter().map(|l| l.product_id.trim()).collect();
        let products: HashMap<String, store::catalog::ProductRow> = store::catalog::products(&mut tx, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let id = crm_kit::new_id();
        let mut lines = Vec::with_capacity(src.lines.len());
        let mut v = Violations::new();
        let mut serials_seen: HashMap<(String, String), usize> = HashMap::new();
        for (i, (l, (q, cost))) in src.lines.iter().zip(parsed).enumerate() {
            let at = format!("document.lines[{i}]");
            let Some(p) = products.get(l.product_id.trim()) else {
                v.add(
                    format!("{at}.product_id"),
                    "UNKNOWN_PRODUCT",
                    format!("no product {}", l.product_id.trim()),
                );
                continue;
            };
            let Some(q) = q else { continue };
            let units = units_of(p);
            let stock = match units.to_stock(q, &l.unit) {
                Ok(s) => s,
                Err(UnitError::Unknown { unit, known }) => {
                    v.add(
                        format!("{at}.unit"),
                        "UNKNOWN_UNIT",
                        format!("{} has no unit {unit}: use one of {}", p.code, known.join(", ")),
                    );
                    continue;
                }
                Err(UnitError::Conversion(e)) => {
                    v.add(format!("{at}.quantity"), e.reason(), e.to_string());
                    continue;
                }
            };
            let Some((serials, lot)) = tracked_units(&at, i, p, l, stock, &mut serials_seen, &mut v) else {
                continue;
            };
            lines.push(LineRow {
                document_id: id.clone(),
                line_no: i64::try_from(i).unwrap_or(i64::MAX) + 1,
                product_id: p.id.clone(),
                quantity: q.storage(),
                unit: if l.unit.trim().is_empty() {
                    p.unit.clone()
                } else {
                    l.unit.trim().to_string()
                },
                stock_quantity: stock.storage(),
                unit_cost: cost.unwrap_or(0),
                cost_given: i64::from(cost.is_some()),
                value: 0,
                reservation_id: l.reservation_id.trim().to_string(),
                source_line_id: l.source_line_id.trim().to_string(),
                remark: l.remark.trim().to_string(),
                serials,
                lot,
            });
        }
        v.finish()?;
        let now = now_micros();
        let (numbering, pattern) = kind.number_pattern();
        let pattern = NumberPattern::parse("number", pattern)?;
        let day = crm_kit::time::civil_from_days(now.div_euclid(86_400_000_000));
        let doc = DocumentRow {
            id,
            number: next_number(&mut tx, numbering, &pattern, day).await?,
            kind: kind.code.to_string(),
            status: Status::Draft.code().to_string(),
            warehouse_id: warehouse.id.clone(),
            to_warehouse_id: src.to_warehouse_id.trim().to_string(),
            in_transit: i64::from(src.in_transit),
            reference: src.reference.trim().to_string(),
            counterparty_id: src.counterparty_id.trim().to_string(),
            courier: src.courier.trim().to_string(),
            tracking_number: src.tracking_number.trim().to_string(),
            remark: src.remark.trim().to_string(),
            posted_at: 0,
            posted_by: String::new(),
            received_at: 0,
            received_by: String::new(),
            cancel_reason: String::new(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
            counterparty_kind: counterparty_kind.to_string(),
            sample: i64::from(src.sample && loan),
            due_date: if loan {
                src.due_date.trim().to_string()
            } else {
                String::new()
            },
        };
        store::documents::insert(&mut tx, &doc, &lines).await?;
        let (doc, ledger) = if req.post {
            self.post_draft(&mut tx, caller, doc, &lines, warehouse.allow_negative == 1, &products)
                .await?
        } else {
            (doc, Vec::new())
        };
        let response = pb::CreateStockDocumentResponse {
            document: Some(self.document_proto(&doc, &lines, &ledger)),
        };
        tx.finish(response).await
    }

    /// Posts a draft in `conn`'s transaction: its status moves first (so of two concurrent
    /// postings of one document the second finds it posted), then the balances and ledger.
    pub(crate) async fn post_draft(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        mut doc: DocumentRow,
        lines: &[LineRow],
        allow_negative: bool,
        products: &HashMap<String, store::catalog::ProductRow>,
    ) -> Result<(DocumentRow, Vec<LedgerRow>)> {
        let to = if doc.in_transit == 1 {
            Status::InTransit
        } else {
            Status::Posted
        };
        domain::DOCUMENT.check(Status::of_code(&doc.status), to, &format!("stockDocuments/{}", doc.id))?;
        let now = now_micros();
        if !store::documents::set_status(conn, &doc.id, &doc.status, to.code(), now, &caller.employee_id).await? {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the document changed meanwhile; read it again".into(),
            });
        }
        doc.status = to.code().to_string();
        doc.posted_at = now;
        doc.posted_by = caller.employee_id.clone();
        let costs = products.iter().map(|(id, p)| (id.clone(), p.standard_cost)).collect();
        let ledger = Posting::new(
            &doc,
            lines,
            allow_negative,
            &self.currency,
            &caller.employee_id,
            now,
            costs,
        )
        .post(conn)
        .await?;
        if doc.kind == "loan_out" {
            // Each line is tracked until it comes back or is sold, at the value it left with.
            let loans: Vec<store::loans::LoanRow> = ledger
                .iter()
                .filter(|e| e.leg == LEG_LENT)
                .map(|e| store::loans::LoanRow {
                    id: crm_kit::new_id(),
                    document_id: doc.id.clone(),
                    line_no: e.line_no,
                    warehouse_id: doc.warehouse_id.clone(),
                    product_id: e.product_id.clone(),
                    counterparty_kind: doc.counterparty_kind.clone(),
                    counterparty_id: doc.counterparty_id.clone(),
                    sample: doc.sample,
                    quantity: e.quantity,
                    returned: 0,
                    sold: 0,
                    value_out: e.value,
                    due_date: doc.due_date.clone(),
                    status: "open".into(),
                    created_at: now,
                    created_by: caller.employee_id.clone(),
                    updated_at: now,
                    updated_by: caller.employee_id.clone(),
                })
                .collect();
            store::loans::insert(conn, &loans).await?;
        }
        Ok((doc, ledger))
    }

    pub async fn get_stock_document(
        &self,
        caller: &Principal,
        req: pb::GetStockDocumentRequest,
    ) -> Result<pb::GetStockDocumentResponse> {
        let mut conn = self.conn().await?;
        let d = self.visible_document(&mut conn, caller, "id", &req.id).await?;
        Ok(pb::GetStockDocumentResponse {
            document: Some(self.full_document(&mut conn, &d).await?),
        })
    }

    pub async fn list_stock_documents(
        &self,
        caller: &Principal,
        req: pb::ListStockDocumentsRequest,
    ) -> Result<pb::ListStockDocumentsResponse> {
        let order = Order::newest_first("d");
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            order,
            req.page_size,
            &req.page_token,
            DOCUMENT_FILTER,
            &req.filter,
        )?;
        let scope = ReadScope::of(caller, &DOCUMENT_SCOPE);
        let mut conn = self.conn().await?;
        let page = store::documents::page(&mut conn, &scope, filter.as_ref(), &keyset).await?;
        Ok(pb::ListStockDocumentsResponse {
            documents: page.rows.iter().map(|d| self.document_proto(d, &[], &[])).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn post_stock_document(
        &self,
        caller: &Principal,
        mut req: pb::PostStockDocumentRequest,
    ) -> Result<pb::PostStockDocumentResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("PostStockDocument", &caller.employee_id, &request_id, &req)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let doc = self.visible_document(&mut tx, caller, "id", &req.id).await?;
        let status = Status::of_code(&doc.status);
        // Posting a posted document changes nothing.
        if status == Status::Posted || status == Status::InTransit {
            let response = pb::PostStockDocumentResponse {
                document: Some(self.full_document(&mut tx, &doc).await?),
            };
            return tx.finish(response).await;
        }
        domain::DOCUMENT.check(status, Status::Posted, &format!("stockDocuments/{}", doc.id))?;
        let warehouse = self
            .open_warehouse(&mut tx, caller, "id", &doc.warehouse_id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::not_found(DOCUMENT, &doc.id),
                e => e,
            })?;
        let lines = store::documents::lines(&mut tx, &doc.id).await?;
        let ids: Vec<&str> = lines.iter().map(|l| l.product_id.as_str()).collect();
        let products = store::catalog::products(&mut tx, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let (doc, ledger) = self
            .post_draft(&mut tx, caller, doc, &lines, warehouse.allow_negative == 1, &products)
            .await?;
        let response = pb::PostStockDocumentResponse {
            document: Some(self.document_proto(&doc, &lines, &ledger)),
        };
        tx.finish(response).await
    }

    pub async fn receive_transfer(
        &self,
        caller: &Principal,
        mut req: pb::ReceiveTransferRequest,
    ) -> Result<pb::ReceiveTransferResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ReceiveTransfer", &caller.employee_id, &request_id, &req)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let mut doc = self.visible_document(&mut tx, caller, "id", &req.id).await?;
        if doc.kind != "transfer" {
            return Err(Error::precondition(
                "NOT_A_TRANSFER",
                format!("stockDocuments/{}", doc.id),
                "only a transfer is received",
            ));
        }
        let status = Status::of_code(&doc.status);
        if status == Status::Posted {
            let response = pb::ReceiveTransferResponse {
                document: Some(self.full_document(&mut tx, &doc).await?),
            };
            return tx.finish(response).await;
        }
        if status != Status::InTransit {
            return Err(Error::precondition(
                "NOT_IN_TRANSIT",
                format!("stockDocuments/{}", doc.id),
                format!(
                    "the transfer is {}: only a transfer in transit is received",
                    status.code()
                ),
            ));
        }
        // The receiver keeps the destination.
        self.open_warehouse(&mut tx, caller, "id", &doc.to_warehouse_id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::PermissionDenied {
                    permission: format!("warehouse.document.post on warehouse {}", doc.to_warehouse_id),
                },
                e => e,
            })?;
        let now = now_micros();
        if !store::documents::set_status(
            &mut tx,
            &doc.id,
            Status::InTransit.code(),
            Status::Posted.code(),
            now,
            &caller.employee_id,
        )
        .await?
        {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the transfer changed meanwhile; read it again".into(),
            });
        }
        doc.status = Status::Posted.code().into();
        doc.received_at = now;
        doc.received_by = caller.employee_id.clone();
        let lines = store::documents::lines(&mut tx, &doc.id).await?;
        Posting::new(
            &doc,
            &lines,
            false,
            &self.currency,
            &caller.employee_id,
            now,
            HashMap::new(),
        )
        .receive(&mut tx)
        .await?;
        let response = pb::ReceiveTransferResponse {
            document: Some(self.full_document(&mut tx, &doc).await?),
        };
        tx.finish(response).await
    }

    pub async fn cancel_stock_document(
        &self,
        caller: &Principal,
        req: pb::CancelStockDocumentRequest,
    ) -> Result<pb::CancelStockDocumentResponse> {
        let mut v = Violations::new();
        check_text("reason", &req.reason, false, 500, &mut v);
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut doc = self.visible_document(&mut tx, caller, "id", &req.id).await?;
        let status = Status::of_code(&doc.status);
        if status == Status::Cancelled {
            let document = self.full_document(&mut tx, &doc).await?;
            tx.commit().await?;
            return Ok(pb::CancelStockDocumentResponse {
                document: Some(document),
            });
        }
        domain::DOCUMENT.check(status, Status::Cancelled, &format!("stockDocuments/{}", doc.id))?;
        let now = now_micros();
        if !store::documents::set_status(
            &mut tx,
            &doc.id,
            &doc.status,
            Status::Cancelled.code(),
            now,
            &caller.employee_id,
        )
        .await?
        {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the document changed meanwhile; read it again".into(),
            });
        }
        store::documents::set_cancel_reason(&mut tx, &doc.id, req.reason.trim()).await?;
        doc.cancel_reason = req.reason.trim().to_string();
        doc.status = Status::Cancelled.code().into();
        doc.updated_at = now;
        doc.updated_by = caller.employee_id.clone();
        let document = self.full_document(&mut tx, &doc).await?;
        tx.commit().await?;
        Ok(pb::CancelStockDocumentResponse {
            document: Some(document),
        })
    }
}

/// The most serial numbers one line names.
pub(crate) const MAX_LINE_SERIALS: usize = 10_000;

/// A line's serial numbers (JSON) and lot, checked against its product's tracking: a serial
/// product names one distinct number per unit (never twice in a document), a lot product one
/// lot, any other product neither. `None` (with the violations added) when they do not fit.
fn tracked_units(
    at: &str,
    index: usize,
    p: &store::catalog::ProductRow,
    l: &pb::StockDocumentLine,
    stock: Quantity,
    seen: &mut HashMap<(String, String), usize>,
    v: &mut Violations,
) -> Option<(String, String)> {
    let lot = crm_kit::text::normalize(l.lot.trim());
    let serials: Vec<String> = l
        .serial_numbers
        .iter()
        .map(|s| crm_kit::text::normalize(s.trim()))
        .collect();
    let before = v.len();
    match p.tracking.as_str() {
        "serial" => {
            let units = stock.storage();
            if serials.is_empty() {
                v.add(
                    format!("{at}.serial_numbers"),
                    reason::REQUIRED,
                    format!("{} is tracked by serial number: name one per unit", p.code),
                );
            } else if i64::try_from(serials.len()).ok().and_then(|n| n.checked_mul(10_000)) != Some(units) {
                v.add(
                    format!("{at}.serial_numbers"),
                    "SERIAL_COUNT_MISMATCH",
                    format!(
                        "{} serial numbers for {} units of {}: name one per unit",
                        serials.len(),
                        qty(units),
                        p.code
                    ),
                );
            }
            for (j, serial) in serials.iter().enumerate() {
                let key = crm_kit::text::fold(serial);
                if let Some(first) = seen.insert((p.id.clone(), key), index) {
                    v.add(
                        format!("{at}.serial_numbers[{j}]"),
                        reason::DUPLICATE,
                        format!(
                            "serial {serial} of {} is already on line {} of this document",
                            p.code,
                            first + 1
                        ),
                    );
                }
            }
            if !lot.is_empty() {
                v.add(
                    format!("{at}.lot"),
                    reason::NOT_ALLOWED,
                    format!("{} is tracked by serial number, not by lot", p.code),
                );
            }
        }
        "lot" => {
            if lot.is_empty() {
                v.add(
                    format!("{at}.lot"),
                    reason::REQUIRED,
                    format!("{} is tracked by lot: name the lot", p.code),
                );
            }
            if !serials.is_empty() {
                v.add(
                    format!("{at}.serial_numbers"),
                    reason::NOT_ALLOWED,
                    format!("{} is tracked by lot, not by serial number", p.code),
                );
            }
        }
        _ => {
            if !serials.is_empty() {
                v.add(
                    format!("{at}.serial_numbers"),
                    reason::NOT_ALLOWED,
                    format!("{} is not tracked by serial number", p.code),
                );
            }
            if !lot.is_empty() {
                v.add(
                    format!("{at}.lot"),
                    reason::NOT_ALLOWED,
                    format!("{} is not tracked by lot", p.code),
                );
            }
        }
    }
    (v.len() == before).then(|| (serde_json::to_string(&serials).unwrap_or_else(|_| "[]".into()), lot))
}
