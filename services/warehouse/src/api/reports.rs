//! Stock reports: slow-moving and dead stock, the warehouses side by side, and every stock
//! report as CSV. Each reads through the scope of its list: a keeper sees their warehouses.

use std::collections::HashMap;

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::csv_io::ChunkWriter;
use crm_kit::errors::{Violations, reason};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::quantity::Quantity;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use tokio::sync::mpsc;

use super::{BALANCE_SCOPE, WAREHOUSE_SCOPE, WarehouseApi, qty};
use crate::store;
use crate::store::reports::{MovementRow, MovementRule};

const DAY: i64 = 86_400_000_000;
/// Most warehouses one comparison puts side by side.
const MAX_COMPARED: usize = 50;
/// Rows read per page of an export.
const EXPORT_PAGE: i32 = 500;

const MOVEMENT_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "warehouse_id",
        column: "b.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "product_id",
        column: "b.product_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "class",
        column: "b.class",
        ty: FieldType::Enum(&["dead", "slow", "moving"]),
    },
];

/// The rule of a movement report from its request's fields.
fn movement_rule(period_days: i32, dead_days: i32, slow_ratio: &str, now: i64) -> Result<MovementRule> {
    let mut v = Violations::new();
    let days = |field: &str, d: i32, default: i64, v: &mut Violations| match d {
        0 => default,
        1..=3650 => i64::from(d),
        _ => {
            v.add(field, reason::OUT_OF_RANGE, "from 1 to 3650 days");
            default
        }
    };
    let period = days("period_days", period_days, 90, &mut v);
    let dead = days("dead_days", dead_days, 180, &mut v);
    let ratio = if slow_ratio.trim().is_empty() {
        1_000
    } else {
        match Quantity::parse(slow_ratio) {
            Ok(q) if !q.is_negative() && q.storage() <= 10_000 => q.storage(),
            _ => {
                v.add("slow_ratio", reason::OUT_OF_RANGE, "a fraction from 0 to 1, e.g. 0.1");
                1_000
            }
        }
    };
    v.finish()?;
    Ok(MovementRule {
        since: now - period * DAY,
        dead_before: now - dead * DAY,
        slow_ratio: ratio,
    })
}

impl WarehouseApi {
    fn movement_proto(&self, r: &MovementRow, rule: &MovementRule, now: i64) -> pb::StockMovement {
        let since_last = if r.last_out > 0 { r.last_out } else { r.first_in };
        let period_days = (now - rule.since) / DAY;
        // On hand ÷ (outbound ÷ period days), to a tenth of a day.
        let cover = (r.outbound > 0).then(|| {
            let tenths = i128::from(r.on_hand) * i128::from(period_days) * 10 / i128::from(r.outbound);
            let tenths = i64::try_from(tenths).unwrap_or(i64::MAX);
            format!("{}.{}", tenths / 10, tenths % 10)
        });
        pb::StockMovement {
            warehouse_id: r.warehouse_id.clone(),
            product_id: r.product_id.clone(),
            product_code: r.product_code.clone(),
            product_name: r.product_name.clone(),
            unit: r.unit.clone(),
            on_hand: qty(r.on_hand),
            value: Some(self.money(r.value)),
            outbound_quantity: qty(r.outbound),
            last_outbound_time: crm_kit::time::set_to_proto(r.last_out),
            idle_days: i32::try_from(((now - since_last) / DAY).max(0)).unwrap_or(i32::MAX),
            days_of_cover: cover.unwrap_or_default(),
            class: match r.class.as_str() {
                "dead" => pb::MovementClass::Dead,
                "slow" => pb::MovementClass::Slow,
                _ => pb::MovementClass::Moving,
            } as i32,
        }
    }

    pub async fn list_stock_movement(
        &self,
        caller: &Principal,
        req: pb::ListStockMovementRequest,
    ) -> Result<pb::ListStockMovementResponse> {
        let now = now_micros();
        let rule = movement_rule(req.period_days, req.dead_days, &req.slow_ratio, now)?;
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::by("b.warehouse_id", "b.product_id", Direction::Ascending),
            req.page_size,
            &req.page_token,
            MOVEMENT_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::reports::movement(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
            rule,
        )
        .await?;
        Ok(pb::ListStockMovementResponse {
            rows: page.rows.iter().map(|r| self.movement_proto(r, &rule, now)).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn compare_warehouses(
        &self,
        caller: &Principal,
        req: pb::CompareWarehousesRequest,
    ) -> Result<pb::CompareWarehousesResponse> {
        let mut v = Violations::new();
        let named = crm_kit::text::distinct_list(
            &mut v,
            "warehouse_ids",
            &req.warehouse_ids,
            crm_kit::text::ListRule {
                max_items: MAX_COMPARED,
                max_chars: 64,
                skip_empty: true,
            },
        );
        v.finish()?;
        let keyset = Keyset::open(
            &self.tokens,
            Order::by("p.code_key", "p.id", Direction::Ascending),
            req.page_size,
            &req.page_token,
            &[&named.join(","), req.category_id.trim()],
        )?;
        let mut conn = self.conn().await?;
        // The warehouses compared: those named (each must be in scope) or every one in scope.
        let scope = ReadScope::of(caller, &WAREHOUSE_SCOPE);
        let mut warehouses = Vec::new();
        if named.is_empty() {
            let all = Keyset::open(
                &self.tokens,
                Order::by("w.code_key", "w.id", Direction::Ascending),
                i32::try_from(MAX_COMPARED).unwrap_or(50),
                "",
                &[],
            )?;
            warehouses = store::warehouses::page(&mut conn, &scope, &all).await?.rows;
        } else {
            for (i, id) in named.iter().enumerate() {
                let w = store::warehouses::visible(&mut conn, &scope, id)
                    .await?
                    .ok_or_else(|| {
                        Error::invalid(
                            format!("warehouse_ids[{i}]"),
                            "UNKNOWN_WAREHOUSE",
                            format!("no warehouse {id}"),
                        )
                    })?;
                warehouses.push(w);
            }
            warehouses.sort_by(|a, b| a.code_key.cmp(&b.code_key));
        }
        let ids: Vec<String> = warehouses.iter().map(|w| w.id.clone()).collect();
        let under = match req.category_id.trim() {
            "" => None,
            id => Some(
                store::catalog::category(&mut conn, id)
                    .await?
                    .ok_or_else(|| Error::invalid("category_id", "UNKNOWN_CATEGORY", format!("no category {id}")))?
                    .path,
            ),
        };
        let page = if ids.is_empty() {
            crm_kit::listing::Page {
                rows: Vec::new(),
                next_page_token: String::new(),
            }
        } else {
            store::reports::compared_products(&mut conn, &ids, under.as_deref(), &keyset).await?
        };
        let products: Vec<&str> = page.rows.iter().map(|p| p.id.as_str()).collect();
        let balances: HashMap<(String, String), (i64, i64, i64)> =
            store::reports::compared_balances(&mut conn, &ids, &products)
                .await?
                .into_iter()
                .map(|(w, p, on_hand, reserved, value)| ((w, p), (on_hand, reserved, value)))
                .collect();
        let rows = page
            .rows
            .iter()
            .map(|p| {
                let mut total = (0, 0, 0);
                let cells = ids
                    .iter()
                    .map(|w| {
                        let (on_hand, reserved, value) =
                            balances.get(&(w.clone(), p.id.clone())).copied().unwrap_or((0, 0, 0));
                        total = (total.0 + on_hand, total.1 + on_hand - reserved, total.2 + value);
                        pb::WarehouseStock {
                            warehouse_id: w.clone(),
                            on_hand: qty(on_hand),
                            available: qty(on_hand - reserved),
                            value: Some(self.money(value)),
                        }
                    })
                    .collect();
                pb::ProductComparison {
                    product_id: p.id.clone(),
                    product_code: p.code.clone(),
                    product_name: p.name.clone(),
                    unit: p.unit.clone(),
                    warehouses: cells,
                    total_on_hand: qty(total.0),
                    total_available: qty(total.1),
                    total_value: Some(self.money(total.2)),
                }
            })
            .collect();
        Ok(pb::CompareWarehousesResponse {
            warehouse_ids: ids,
            products: rows,
            next_page_token: page.next_page_token,
        })
    }

    pub async fn export_stock_report(
        &self,
        caller: &Principal,
        req: pb::ExportStockReportRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::ExportStockReportResponse, tonic::Status>>> {
        let report = match pb::StockReport::try_from(req.report) {
            Ok(pb::StockReport::Unspecified) | Err(_) => {
                return Err(Error::invalid(
                    "report",
                    if req.report == 0 {
                        reason::REQUIRED
                    } else {
                        reason::UNKNOWN_ENUM_VALUE
                    },
                    "LEVELS, JOURNAL, MOVEMENT, COMPARISON or LOANS",
                ));
            }
            Ok(r) => r,
        };
        // Fail fast on a bad request, before the stream starts: the first page is read now.
        let mut first = String::new();
        let first_chunk = self.report_page(caller, report, &req, &mut first, true).await?;
        let (tx, rx) = mpsc::channel(8);
        let api = self.clone();
        let caller = caller.clone();
        let producer = tx.clone();
        crm_kit::serve::spawn_stream("ExportStockReport", tx, async move {
            let send = |bytes: Vec<u8>| async {
                producer
                    .send(Ok(pb::ExportStockReportResponse { csv_chunk: bytes }))
                    .await
                    .is_ok()
            };
            if !send(first_chunk).await {
                return Ok(());
            }
            let mut token = first;
            while !token.is_empty() {
                let bytes = api.report_page(&caller, report, &req, &mut token, false).await?;
                if !send(bytes).await {
                    return Ok(());
                }
            }
            Ok(())
        });
        Ok(rx)
    }

    /// One page of a report as CSV (with its header when `header`), read through the report's
    /// own list (its scope and filter); `token` is the page to read and becomes the next one
    /// (empty after the last).
    async fn report_page(
        &self,
        caller: &Principal,
        report: pb::StockReport,
        req: &pb::ExportStockReportRequest,
        token: &mut String,
        header: bool,
    ) -> Result<Vec<u8>> {
        let amount = |m: Option<&crm_proto::common::Money>| m.map(|m| m.amount.clone()).unwrap_or_default();
        let time = |t: Option<&prost_types::Timestamp>| {
            t.map(|t| crm_kit::time::format_rfc3339(t.seconds * 1_000_000 + i64::from(t.nanos / 1_000)))
                .unwrap_or_default()
        };
        let page_token = std::mem::take(token);
        let (columns, rows, next): (Vec<String>, Vec<Vec<String>>, String) = match report {
            pb::StockReport::Levels => {
                let r = self
                    .list_stock_levels(
                        caller,
                        pb::ListStockLevelsRequest {
                            page_size: EXPORT_PAGE,
                            page_token,
                            filter: req.filter.clone(),
                        },
                    )
                    .await?;
                let columns = [
                    "warehouse_id",
                    "product_id",
                    "product_code",
                    "product_name",
                    "unit",
                    "on_hand",
                    "reserved",
                    "available",
                    "in_transit",
                    "on_loan",
                    "average_cost",
                    "value",
                    "safety_minimum",
                    "safety_maximum",
                ];
                let rows = r
                    .levels
                    .iter()
                    .map(|l| {
                        vec![
                            l.warehouse_id.clone(),
                            l.product_id.clone(),
                            l.product_code.clone(),
                            l.product_name.clone(),
                            l.unit.clone(),
                            l.on_hand.clone(),
                            l.reserved.clone(),
                            l.available.clone(),
                            l.in_transit.clone(),
                            l.on_loan.clone(),
                            amount(l.average_cost.as_ref()),
                            amount(l.value.as_ref()),
                            l.safety_minimum.clone(),
                            l.safety_maximum.clone(),
                        ]
                    })
                    .collect();
                (columns.map(String::from).to_vec(), rows, r.next_page_token)
            }
            pb::StockReport::Journal => {
                let r = self
                    .list_ledger_entries(
                        caller,
                        pb::ListLedgerEntriesRequest {
                            page_size: EXPORT_PAGE,
                            page_token,
                            filter: req.filter.clone(),
                        },
                    )
                    .await?;
                let columns = [
                    "post_time",
                    "document_number",
                    "kind",
                    "line_no",
                    "warehouse_id",
                    "product_id",
                    "bucket",
                    "quantity",
                    "value",
                    "unit_cost",
                    "quantity_after",
                    "value_after",
                    "posted_by",
                ];
                let rows = r
                    .entries
                    .iter()
                    .map(|e| {
                        vec![
                            time(e.post_time.as_ref()),
                            e.document_number.clone(),
                            e.kind()
                                .as_str_name()
                                .trim_start_matches("DOCUMENT_KIND_")
                                .to_lowercase(),
                            e.line_no.to_string(),
                            e.warehouse_id.clone(),
                            e.product_id.clone(),
                            e.bucket().as_str_name().trim_start_matches("BUCKET_").to_lowercase(),
                            e.quantity.clone(),
                            amount(e.value.as_ref()),
                            amount(e.unit_cost.as_ref()),
                            e.quantity_after.clone(),
                            amount(e.value_after.as_ref()),
                            e.posted_by.clone(),
                        ]
                    })
                    .collect();
                (columns.map(String::from).to_vec(), rows, r.next_page_token)
            }
            pb::StockReport::Movement => {
                let r = self
                    .list_stock_movement(
                        caller,
                        pb::ListStockMovementRequest {
                            page_size: EXPORT_PAGE,
                            page_token,
                            filter: req.filter.clone(),
                            period_days: req.period_days,
                            dead_days: req.dead_days,
                            slow_ratio: req.slow_ratio.clone(),
                        },
                    )
                    .await?;
                let columns = [
                    "warehouse_id",
                    "product_id",
                    "product_code",
                    "product_name",
                    "unit",
                    "on_hand",
                    "value",
                    "outbound_quantity",
                    "last_outbound_time",
                    "idle_days",
                    "days_of_cover",
                    "class",
                ];
                let rows = r
                    .rows
                    .iter()
                    .map(|m| {
                        vec![
                            m.warehouse_id.clone(),
                            m.product_id.clone(),
                            m.product_code.clone(),
                            m.product_name.clone(),
                            m.unit.clone(),
                            m.on_hand.clone(),
                            amount(m.value.as_ref()),
                            m.outbound_quantity.clone(),
                            time(m.last_outbound_time.as_ref()),
                            m.idle_days.to_string(),
                            m.days_of_cover.clone(),
                            m.class()
                                .as_str_name()
                                .trim_start_matches("MOVEMENT_CLASS_")
                                .to_lowercase(),
                        ]
                    })
                    .collect();
                (columns.map(String::from).to_vec(), rows, r.next_page_token)
            }
            pb::StockReport::Comparison => {
                let r = self
                    .compare_warehouses(
                        caller,
                        pb::CompareWarehousesRequest {
                            warehouse_ids: req.warehouse_ids.clone(),
                            category_id: req.category_id.clone(),
                            page_size: EXPORT_PAGE,
                            page_token,
                        },
                    )
                    .await?;
                let mut columns: Vec<String> = ["product_id", "product_code", "product_name", "unit"]
                    .map(String::from)
                    .to_vec();
                for w in &r.warehouse_ids {
                    columns.push(format!("{w} on_hand"));
                    columns.push(format!("{w} available"));
                    columns.push(format!("{w} value"));
                }
                columns.extend(["total_on_hand", "total_available", "total_value"].map(String::from));
                let rows = r
                    .products
                    .iter()
                    .map(|p| {
                        let mut row = vec![
                            p.product_id.clone(),
                            p.product_code.clone(),
                            p.product_name.clone(),
                            p.unit.clone(),
                        ];
                        for w in &p.warehouses {
                            row.extend([w.on_hand.clone(), w.available.clone(), amount(w.value.as_ref())]);
                        }
                        row.extend([
                            p.total_on_hand.clone(),
                            p.total_available.clone(),
                            amount(p.total_value.as_ref()),
                        ]);
                        row
                    })
                    .collect();
                (columns, rows, r.next_page_token)
            }
            pb::StockReport::Loans => {
                let r = self
                    .list_loans(
                        caller,
                        pb::ListLoansRequest {
                            page_size: EXPORT_PAGE,
                            page_token,
                            filter: req.filter.clone(),
                        },
                    )
                    .await?;
                let columns = [
                    "document_number",
                    "lend_time",
                    "warehouse_id",
                    "product_id",
                    "counterparty_kind",
                    "counterparty_id",
                    "sample",
                    "quantity",
                    "returned",
                    "sold",
                    "outstanding",
                    "outstanding_value",
                    "due_date",
                    "overdue",
                    "serial_numbers",
                    "lot",
                ];
                let rows = r
                    .loans
                    .iter()
                    .map(|l| {
                        vec![
                            l.document_number.clone(),
                            time(l.lend_time.as_ref()),
                            l.warehouse_id.clone(),
                            l.product_id.clone(),
                            l.counterparty_kind()
                                .as_str_name()
                                .trim_start_matches("COUNTERPARTY_KIND_")
                                .to_lowercase(),
                            l.counterparty_id.clone(),
                            l.sample.to_string(),
                            l.quantity.clone(),
                            l.returned.clone(),
                            l.sold.clone(),
                            l.outstanding.clone(),
                            amount(l.outstanding_value.as_ref()),
                            l.due_date.clone(),
                            l.overdue.to_string(),
                            l.serial_numbers.join(";"),
                            l.lot.clone(),
                        ]
                    })
                    .collect();
                (columns.map(String::from).to_vec(), rows, r.next_page_token)
            }
            pb::StockReport::Unspecified => return Err(Error::required("report")),
        };
        let mut writer = ChunkWriter::new(columns)?;
        if !header {
            // Only the first page carries the header.
            writer.take()?;
        }
        for row in rows {
            writer.row(row)?;
        }
        *token = next;
        writer.take()
    }
}
