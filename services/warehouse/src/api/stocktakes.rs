//! Stocktakes (盘点): a count sheet frozen for a warehouse, counts entered against it, and its
//! differences posted as one adjustment document. The count is of the goods as they were at the
//! freeze, so what moves in or out while people count is neither counted twice nor lost: the
//! adjustment is counted − book, and each line says what moved meanwhile and what is on hand
//! after (counted + moved).

use std::collections::HashMap;

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::errors::{Violations, reason};
use crm_kit::events as outbox;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Order};
use crm_kit::numbering::{NumberPattern, next_number};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::catalog::units_of;
use super::{BALANCE_SCOPE, WarehouseApi, audit, check_notes, qty};
use crate::domain::{Kind, Status, UnitError};
use crate::store;
use crate::store::documents::{DocumentRow, LineRow};
use crate::store::stocktakes::{SheetRow, StocktakeRow};

pub const STOCKTAKE: &str = "crm.warehouse.v1.Stocktake";

/// Most products named on one sheet.
const MAX_NAMED: usize = 10_000;

const STOCKTAKE_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "b.status",
        ty: FieldType::Enum(&["counting", "posted", "cancelled"]),
    },
    FieldSpec {
        name: "warehouse_id",
        column: "b.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "create_time",
        column: "b.created_at",
        ty: FieldType::Timestamp,
    },
];

fn status_of(code: &str) -> pb::StocktakeStatus {
    match code {
        "posted" => pb::StocktakeStatus::Posted,
        "cancelled" => pb::StocktakeStatus::Cancelled,
        _ => pb::StocktakeStatus::Counting,
    }
}

fn stocktake_proto(s: &StocktakeRow, sheet: &[SheetRow]) -> pb::Stocktake {
    let posted = s.status == "posted";
    pb::Stocktake {
        id: s.id.clone(),
        number: s.number.clone(),
        warehouse_id: s.warehouse_id.clone(),
        category_id: s.category_id.clone(),
        status: status_of(&s.status) as i32,
        remark: s.remark.clone(),
        counted_lines: i32::try_from(sheet.iter().filter(|l| l.counted_at > 0).count()).unwrap_or(i32::MAX),
        line_count: i32::try_from(sheet.len()).unwrap_or(i32::MAX),
        lines: sheet
            .iter()
            .map(|l| {
                let counted = l.counted_at > 0;
                let settled = posted && counted;
                let when = |v: i64, shown: bool| if shown { qty(v) } else { String::new() };
                pb::StocktakeLine {
                    product_id: l.product_id.clone(),
                    product_code: l.product_code.clone(),
                    product_name: l.product_name.clone(),
                    unit: l.unit.clone(),
                    book_quantity: qty(l.book_quantity),
                    counted_quantity: when(l.counted, counted),
                    count_time: crm_kit::time::set_to_proto(l.counted_at),
                    counted_by: l.counted_by.clone(),
                    moved_quantity: when(l.moved, settled),
                    adjustment: when(l.adjustment, settled),
                    on_hand_after: when(l.on_hand_after, settled),
                }
            })
            .collect(),
        freeze_time: crm_kit::time::set_to_proto(s.frozen_at),
        post_time: crm_kit::time::set_to_proto(s.posted_at),
        posted_by: s.posted_by.clone(),
        document_id: s.document_id.clone(),
        audit: Some(audit(s.created_at, &s.created_by, s.updated_at, &s.updated_by)),
    }
}

impl WarehouseApi {
    /// A stocktake of a warehouse the caller keeps: NOT_FOUND otherwise.
    async fn visible_stocktake(&self, conn: &mut AnyConnection, caller: &Principal, id: &str) -> Result<StocktakeRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        store::stocktakes::visible(conn, &ReadScope::of(caller, &BALANCE_SCOPE), id)
            .await?
            .ok_or_else(|| Error::not_found(STOCKTAKE, id))
    }

    async fn full_stocktake(&self, conn: &mut AnyConnection, s: &StocktakeRow) -> Result<pb::Stocktake> {
        let sheet = store::stocktakes::sheet(conn, &s.id).await?;
        Ok(stocktake_proto(s, &sheet))
    }

    pub async fn create_stocktake(
        &self,
        caller: &Principal,
        mut req: pb::CreateStocktakeRequest,
    ) -> Result<pb::CreateStocktakeResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateStocktake", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let named = crm_kit::text::distinct_list(
            &mut v,
            "product_ids",
            &req.product_ids,
            crm_kit::text::ListRule {
                max_items: MAX_NAMED,
                max_chars: 64,
                skip_empty: true,
            },
        );
        check_notes("remark", &req.remark, false, 2000, &mut v);
        if !named.is_empty() && !req.category_id.trim().is_empty() {
            v.add(
                "category_id",
                reason::NOT_ALLOWED,
                "name products or a category, not both",
            );
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let w = self
            .open_warehouse(&mut tx, caller, "warehouse_id", &req.warehouse_id)
            .await?;
        if !named.is_empty() {
            let ids: Vec<&str> = named.iter().map(String::as_str).collect();
            let found = store::catalog::products(&mut tx, &ids).await?;
            let mut v = Violations::new();
            for (i, id) in req.product_ids.iter().enumerate() {
                match found.iter().find(|f| f.id == id.trim()) {
                    None if !id.trim().is_empty() => v.add(
                        format!("product_ids[{i}]"),
                        "UNKNOWN_PRODUCT",
                        format!("no product {}", id.trim()),
                    ),
                    Some(p) if p.tracking != "none" => v.add(
                        format!("product_ids[{i}]"),
                        reason::NOT_ALLOWED,
                        format!(
                            "{} is tracked by {}: a sheet counts totals, so its differences are posted by \
                             OTHER_INBOUND and OTHER_OUTBOUND documents naming the {}",
                            p.code,
                            if p.tracking == "serial" { "serial number" } else { "lot" },
                            if p.tracking == "serial" {
                                "serial numbers"
                            } else {
                                "lots"
                            }
                        ),
                    ),
                    _ => {}
                }
            }
            v.finish()?;
        }
        let under = match req.category_id.trim() {
            "" => None,
            id => Some(
                store::catalog::category(&mut tx, id)
                    .await?
                    .ok_or_else(|| Error::invalid("category_id", "UNKNOWN_CATEGORY", format!("no category {id}")))?
                    .path,
            ),
        };
        let now = now_micros();
        let pattern = NumberPattern::parse("number", "WH-ST-{YYYY}{MM}{DD}-{SEQ:4}")?;
        let day = crm_kit::time::civil_from_days(now.div_euclid(86_400_000_000));
        let row = StocktakeRow {
            id: crm_kit::new_id(),
            number: next_number(&mut tx, "stocktake", &pattern, day).await?,
            warehouse_id: w.id.clone(),
            category_id: req.category_id.trim().to_string(),
            status: "counting".into(),
            remark: req.remark.trim().to_string(),
            document_id: String::new(),
            frozen_at: now,
            posted_at: 0,
            posted_by: String::new(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
        };
        store::stocktakes::insert(&mut tx, &row).await?;
        match store::stocktakes::freeze(&mut tx, &row.id, &w.id, &named, under.as_deref()).await? {
            Ok(0) => {
                return Err(Error::invalid(
                    if named.is_empty() {
                        "warehouse_id"
                    } else {
                        "product_ids"
                    },
                    reason::EMPTY,
                    "nothing to count: no product of the sheet has stock in the warehouse",
                ));
            }
            Ok(_) => {}
            Err(other) => {
                return Err(Error::FailedPrecondition {
                    reason: "ALREADY_COUNTING",
                    message: if other.is_empty() {
                        "another stocktake of this warehouse is counting some of these products".into()
                    } else {
                        format!("stocktake {other} of this warehouse is counting some of these products")
                    },
                    subject: format!("stocktakes/{other}"),
                    metadata: vec![("stocktake_id".into(), other)],
                });
            }
        }
        let response = pb::CreateStocktakeResponse {
            stocktake: Some(self.full_stocktake(&mut tx, &row).await?),
        };
        tx.finish(response).await
    }

    pub async fn get_stocktake(
        &self,
        caller: &Principal,
        req: pb::GetStocktakeRequest,
    ) -> Result<pb::GetStocktakeResponse> {
        let mut conn = self.conn().await?;
        let s = self.visible_stocktake(&mut conn, caller, &req.id).await?;
        Ok(pb::GetStocktakeResponse {
            stocktake: Some(self.full_stocktake(&mut conn, &s).await?),
        })
    }

    pub async fn list_stocktakes(
        &self,
        caller: &Principal,
        req: pb::ListStocktakesRequest,
    ) -> Result<pb::ListStocktakesResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::newest_first("b"),
            req.page_size,
            &req.page_token,
            STOCKTAKE_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::stocktakes::page(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListStocktakesResponse {
            stocktakes: page
                .rows
                .iter()
                .map(|s| pb::Stocktake {
                    counted_lines: i32::try_from(s.counted_count).unwrap_or(i32::MAX),
                    line_count: i32::try_from(s.line_count).unwrap_or(i32::MAX),
                    ..stocktake_proto(&s.stocktake, &[])
                })
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn record_counts(
        &self,
        caller: &Principal,
        mut req: pb::RecordCountsRequest,
    ) -> Result<pb::RecordCountsResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("RecordCounts", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        if req.counts.is_empty() {
            v.add("counts", reason::REQUIRED, "at least one count");
        } else if req.counts.len() > MAX_NAMED {
            v.add(
                "counts",
                reason::TOO_MANY,
                format!("at most {MAX_NAMED} counts per call"),
            );
        }
        let mut parsed = Vec::with_capacity(req.counts.len());
        if req.counts.len() <= MAX_NAMED {
            for (i, c) in req.counts.iter().enumerate() {
                if c.product_id.trim().is_empty() {
                    v.add(format!("counts[{i}].product_id"), reason::REQUIRED, "is required");
                }
                let field = format!("counts[{i}].counted_quantity");
                if c.counted_quantity.trim().is_empty() {
                    v.add(&field, reason::REQUIRED, "is required (0 when none was found)");
                    parsed.push(None);
                } else {
                    parsed.push(Some(super::non_negative_quantity(&field, &c.counted_quantity, &mut v)));
                }
            }
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let s = self.visible_stocktake(&mut tx, caller, &req.id).await?;
        if s.status != "counting" {
            return Err(not_counting(&s));
        }
        let ids: Vec<&str> = req.counts.iter().map(|c| c.product_id.trim()).collect();
        let products: HashMap<String, store::catalog::ProductRow> = store::catalog::products(&mut tx, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let now = now_micros();
        let mut v = Violations::new();
        for (i, (c, q)) in req.counts.iter().zip(parsed).enumerate() {
            let Some(q) = q else { continue };
            let Some(p) = products.get(c.product_id.trim()) else {
                v.add(
                    format!("counts[{i}].product_id"),
                    "NOT_ON_SHEET",
                    "this product is not on the sheet",
                );
                continue;
            };
            let stock = match units_of(p).to_stock(q, &c.unit) {
                Ok(s) => s,
                Err(UnitError::Unknown { unit, known }) => {
                    v.add(
                        format!("counts[{i}].unit"),
                        "UNKNOWN_UNIT",
                        format!("{} has no unit {unit}: use one of {}", p.code, known.join(", ")),
                    );
                    continue;
                }
                Err(UnitError::Conversion(e)) => {
                    v.add(format!("counts[{i}].counted_quantity"), e.reason(), e.to_string());
                    continue;
                }
            };
            if !store::stocktakes::count(&mut tx, &s.id, &p.id, stock.storage(), now, &caller.employee_id).await? {
                v.add(
                    format!("counts[{i}].product_id"),
                    "NOT_ON_SHEET",
                    "this product is not on the sheet",
                );
            }
        }
        v.finish()?;
        let response = pb::RecordCountsResponse {
            stocktake: Some(self.full_stocktake(&mut tx, &s).await?),
        };
        tx.finish(response).await
    }

    pub async fn post_stocktake(
        &self,
        caller: &Principal,
        mut req: pb::PostStocktakeRequest,
    ) -> Result<pb::PostStocktakeResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("PostStocktake", &caller.employee_id, &request_id, &req)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let mut s = self.visible_stocktake(&mut tx, caller, &req.id).await?;
        match s.status.as_str() {
            "posted" => {
                let response = pb::PostStocktakeResponse {
                    stocktake: Some(self.full_stocktake(&mut tx, &s).await?),
                };
                return tx.finish(response).await;
            }
            "counting" => {}
            _ => return Err(not_counting(&s)),
        }
        let w = self.open_warehouse(&mut tx, caller, "id", &s.warehouse_id).await?;
        let sheet = store::stocktakes::sheet(&mut tx, &s.id).await?;
        let counted: Vec<&SheetRow> = sheet.iter().filter(|l| l.counted_at > 0).collect();
        if counted.is_empty() {
            return Err(Error::precondition(
                "NOTHING_COUNTED",
                format!("stocktakes/{}", s.id),
                "no line of the sheet has been counted",
            ));
        }
        // The balances are locked before they are read, so what moved meanwhile is exactly what
        // the posting sees.
        let pairs: Vec<(String, String)> = counted.iter().map(|l| (w.id.clone(), l.product_id.clone())).collect();
        let mut pairs = pairs;
        pairs.sort();
        store::stock::ensure(&mut tx, &pairs).await?;
        store::stock::lock(&mut tx, &pairs).await?;
        let now = now_micros();
        let document_id = crm_kit::new_id();
        let mut lines = Vec::new();
        let mut differences = Vec::with_capacity(counted.len());
        for l in &counted {
            let on_hand = store::stock::balance(&mut tx, &w.id, &l.product_id)
                .await?
                .map_or(0, |b| b.on_hand);
            let moved = on_hand - l.book_quantity;
            let adjustment = l.counted - l.book_quantity;
            store::stocktakes::settle_line(&mut tx, &s.id, &l.product_id, moved, adjustment, on_hand + adjustment)
                .await?;
            differences.push(pb::stocktake_posted::Difference {
                product_id: l.product_id.clone(),
                book_quantity: qty(l.book_quantity),
                counted_quantity: qty(l.counted),
                moved_quantity: qty(moved),
                adjustment: qty(adjustment),
            });
            if adjustment != 0 {
                lines.push(LineRow {
                    document_id: document_id.clone(),
                    line_no: i64::try_from(lines.len()).unwrap_or(i64::MAX) + 1,
                    product_id: l.product_id.clone(),
                    quantity: adjustment,
                    unit: l.unit.clone(),
                    stock_quantity: adjustment,
                    unit_cost: 0,
                    cost_given: 0,
                    value: 0,
                    reservation_id: String::new(),
                    source_line_id: String::new(),
                    remark: String::new(),
                    serials: "[]".into(),
                    lot: String::new(),
                });
            }
        }
        let posted_document = if lines.is_empty() {
            String::new()
        } else {
            let kind = Kind::of_code("stocktake").ok_or_else(|| Error::Internal("no stocktake kind".into()))?;
            let (numbering, pattern) = kind.number_pattern();
            let pattern = NumberPattern::parse("number", pattern)?;
            let day = crm_kit::time::civil_from_days(now.div_euclid(86_400_000_000));
            let doc = DocumentRow {
                id: document_id.clone(),
                number: next_number(&mut tx, numbering, &pattern, day).await?,
                kind: kind.code.to_string(),
                status: Status::Draft.code().into(),
                warehouse_id: w.id.clone(),
                to_warehouse_id: String::new(),
                in_transit: 0,
                reference: s.number.clone(),
                counterparty_id: String::new(),
                courier: String::new(),
                tracking_number: String::new(),
                remark: format!("stocktake {}", s.number),
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
                counterparty_kind: String::new(),
                sample: 0,
                due_date: String::new(),
            };
            store::documents::insert(&mut tx, &doc, &lines).await?;
            let ids: Vec<&str> = lines.iter().map(|l| l.product_id.as_str()).collect();
            let products = store::catalog::products(&mut tx, &ids)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
            self.post_draft(&mut tx, caller, doc, &lines, w.allow_negative == 1, &products)
                .await?;
            document_id
        };
        if !store::stocktakes::close(&mut tx, &s.id, "posted", &posted_document, now, &caller.employee_id).await? {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the stocktake changed meanwhile; read it again".into(),
            });
        }
        s.status = "posted".into();
        s.document_id = posted_document.clone();
        s.posted_at = now;
        s.posted_by = caller.employee_id.clone();
        s.updated_at = now;
        s.updated_by = caller.employee_id.clone();
        let event = pb::StocktakePosted {
            stocktake_id: s.id.clone(),
            number: s.number.clone(),
            warehouse_id: s.warehouse_id.clone(),
            document_id: posted_document,
            lines: differences,
        };
        outbox::append(&mut tx, &s.id, &event).await?;
        let response = pb::PostStocktakeResponse {
            stocktake: Some(self.full_stocktake(&mut tx, &s).await?),
        };
        tx.finish(response).await
    }

    pub async fn cancel_stocktake(
        &self,
        caller: &Principal,
        req: pb::CancelStocktakeRequest,
    ) -> Result<pb::CancelStocktakeResponse> {
        let mut tx = self.db.begin_write().await?;
        let mut s = self.visible_stocktake(&mut tx, caller, &req.id).await?;
        match s.status.as_str() {
            "cancelled" => {}
            "counting" => {
                let now = now_micros();
                if !store::stocktakes::close(&mut tx, &s.id, "cancelled", "", now, &caller.employee_id).await? {
                    return Err(Error::Aborted {
                        reason: "CONCURRENT_CHANGE",
                        message: "the stocktake changed meanwhile; read it again".into(),
                    });
                }
                s.status = "cancelled".into();
                s.updated_at = now;
                s.updated_by = caller.employee_id.clone();
            }
            _ => return Err(not_counting(&s)),
        }
        let stocktake = self.full_stocktake(&mut tx, &s).await?;
        tx.commit().await?;
        Ok(pb::CancelStocktakeResponse {
            stocktake: Some(stocktake),
        })
    }
}

fn not_counting(s: &StocktakeRow) -> Error {
    Error::precondition(
        "STOCKTAKE_NOT_COUNTING",
        format!("stocktakes/{}", s.id),
        format!(
            "stocktake {} is {}: only an open sheet takes counts, posts or cancels",
            s.number, s.status
        ),
    )
}
