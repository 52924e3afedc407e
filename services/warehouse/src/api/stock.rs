//! Reservations, stock levels, the inventory journal, stock value and the audit.

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::errors::{Violations, reason};
use crm_kit::events as outbox;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;

use super::catalog::{product, units_of};
use super::posting::below_safety;
use super::{BALANCE_SCOPE, JOURNAL_SCOPE, WarehouseApi, audit, check_text, qty};
use crate::domain::{self, Kind, UnitError};
use crate::store;
use crate::store::stock::{BalanceRow, LedgerRow, LevelRow, ReservationRow};

pub const RESERVATION: &str = "crm.warehouse.v1.Reservation";
pub const STOCK_LEVEL: &str = "crm.warehouse.v1.StockLevel";

const RESERVATION_FILTER: &[FieldSpec] = &[
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
        name: "reference",
        column: "b.reference",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "status",
        column: "b.status",
        ty: FieldType::Enum(&["active", "consumed", "released"]),
    },
    FieldSpec {
        name: "create_time",
        column: "b.created_at",
        ty: FieldType::Timestamp,
    },
];

const LEVEL_FILTER: &[FieldSpec] = &[
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
        name: "below_safety",
        column: "CASE WHEN b.safety_min > 0 AND b.on_hand - b.reserved < b.safety_min THEN 1 ELSE 0 END",
        ty: FieldType::Bool,
    },
];

const JOURNAL_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "warehouse_id",
        column: "l.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "product_id",
        column: "l.product_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "document_id",
        column: "l.document_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "kind",
        column: "l.kind",
        ty: FieldType::Enum(domain::KIND_CODES),
    },
    FieldSpec {
        name: "bucket",
        column: "l.bucket",
        ty: FieldType::Enum(&["stock", "transit", "loan"]),
    },
    FieldSpec {
        name: "post_time",
        column: "l.posted_at",
        ty: FieldType::Timestamp,
    },
];

fn reservation_proto(r: &ReservationRow) -> pb::Reservation {
    pb::Reservation {
        id: r.id.clone(),
        warehouse_id: r.warehouse_id.clone(),
        product_id: r.product_id.clone(),
        quantity: qty(r.quantity),
        consumed: qty(r.consumed),
        open_quantity: qty(r.quantity - r.consumed - r.released),
        reference: r.reference.clone(),
        status: match r.status.as_str() {
            "consumed" => pb::ReservationStatus::Consumed,
            "released" => pb::ReservationStatus::Released,
            _ => pb::ReservationStatus::Active,
        } as i32,
        audit: Some(audit(r.created_at, &r.created_by, r.updated_at, &r.updated_by)),
    }
}

impl WarehouseApi {
    fn level_proto(&self, l: &LevelRow) -> pb::StockLevel {
        let b = &l.balance;
        let optional = |v: i64| if v > 0 { qty(v) } else { String::new() };
        pb::StockLevel {
            warehouse_id: b.warehouse_id.clone(),
            product_id: b.product_id.clone(),
            product_code: l.product_code.clone(),
            product_name: l.product_name.clone(),
            unit: l.unit.clone(),
            on_hand: qty(b.on_hand),
            reserved: qty(b.reserved),
            available: qty(b.on_hand - b.reserved),
            in_transit: qty(b.transit_quantity),
            on_loan: qty(b.loan_quantity),
            average_cost: Some(self.money(domain::average_cost(b.on_hand, b.value).unwrap_or(b.last_unit_cost))),
            value: Some(self.money(b.value)),
            safety_minimum: optional(b.safety_min),
            safety_maximum: optional(b.safety_max),
            update_time: crm_kit::time::set_to_proto(b.updated_at),
        }
    }

    fn entry_proto(&self, e: &LedgerRow, number: &str) -> pb::LedgerEntry {
        pb::LedgerEntry {
            id: e.id.clone(),
            document_id: e.document_id.clone(),
            document_number: number.to_string(),
            kind: Kind::of_code(&e.kind).map_or(0, |k| k.proto as i32),
            line_no: i32::try_from(e.line_no).unwrap_or(i32::MAX),
            warehouse_id: e.warehouse_id.clone(),
            product_id: e.product_id.clone(),
            bucket: match e.bucket.as_str() {
                "transit" => pb::Bucket::Transit,
                "loan" => pb::Bucket::Loan,
                _ => pb::Bucket::Stock,
            } as i32,
            quantity: qty(e.quantity),
            value: Some(self.money(e.value)),
            unit_cost: Some(self.money(e.unit_cost)),
            quantity_after: qty(e.quantity_after),
            value_after: Some(self.money(e.value_after)),
            post_time: crm_kit::time::set_to_proto(e.posted_at),
            posted_by: e.posted_by.clone(),
        }
    }

    /// A product's empty level in a warehouse it never moved in.
    fn empty_level(&self, warehouse_id: &str, p: &store::catalog::ProductRow) -> pb::StockLevel {
        self.level_proto(&LevelRow {
            balance: BalanceRow {
                warehouse_id: warehouse_id.to_string(),
                product_id: p.id.clone(),
                ..BalanceRow::default()
            },
            product_code: p.code.clone(),
            product_name: p.name.clone(),
            unit: p.unit.clone(),
        })
    }

    pub async fn reserve_stock(
        &self,
        caller: &Principal,
        mut req: pb::ReserveStockRequest,
    ) -> Result<pb::ReserveStockResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ReserveStock", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let q = super::positive_quantity("quantity", &req.quantity, &mut v);
        check_text("unit", &req.unit, false, 20, &mut v);
        check_text("reference", &req.reference, false, 100, &mut v);
        if req.product_id.trim().is_empty() {
            v.add("product_id", reason::REQUIRED, "is required");
        }
        v.finish()?;
        let q = q.ok_or_else(|| Error::required("quantity"))?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let w = self
            .open_warehouse(&mut tx, caller, "warehouse_id", &req.warehouse_id)
            .await?;
        let p = product(&mut tx, "product_id", &req.product_id).await?;
        let stock = match units_of(&p).to_stock(q, &req.unit) {
            Ok(s) => s.storage(),
            Err(UnitError::Unknown { unit, known }) => {
                return Err(Error::invalid(
                    "unit",
                    "UNKNOWN_UNIT",
                    format!("{} has no unit {unit}: use one of {}", p.code, known.join(", ")),
                ));
            }
            Err(UnitError::Conversion(e)) => return Err(Error::invalid("quantity", e.reason(), e.to_string())),
        };
        let now = now_micros();
        let pairs = [(w.id.clone(), p.id.clone())];
        store::stock::ensure(&mut tx, &pairs).await?;
        let Some(after) = store::stock::reserve(&mut tx, &w.id, &p.id, stock, now).await? else {
            let b = store::stock::balance(&mut tx, &w.id, &p.id).await?.unwrap_or_default();
            return Err(Error::FailedPrecondition {
                reason: "INSUFFICIENT_STOCK",
                message: format!(
                    "{} of product {} requested, warehouse {} has {} on hand, {} available",
                    qty(stock),
                    p.id,
                    w.id,
                    qty(b.on_hand),
                    qty(b.on_hand - b.reserved)
                ),
                subject: format!("warehouses/{}/stock/{}", w.id, p.id),
                metadata: vec![
                    ("field".into(), "quantity".into()),
                    ("product_id".into(), p.id.clone()),
                    ("warehouse_id".into(), w.id.clone()),
                    ("on_hand".into(), qty(b.on_hand)),
                    ("available".into(), qty(b.on_hand - b.reserved)),
                    ("requested".into(), qty(stock)),
                ],
            });
        };
        let r = ReservationRow {
            id: crm_kit::new_id(),
            warehouse_id: w.id.clone(),
            product_id: p.id.clone(),
            quantity: stock,
            consumed: 0,
            released: 0,
            reference: req.reference.trim().to_string(),
            status: "active".into(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
        };
        store::stock::insert_reservation(&mut tx, &r).await?;
        let available = after.on_hand - after.reserved;
        if after.safety_min > 0 && available < after.safety_min && available + stock >= after.safety_min {
            let alert = below_safety(&after);
            outbox::append(&mut tx, &format!("{}/{}", w.id, p.id), &alert).await?;
        }
        let response = pb::ReserveStockResponse {
            reservation: Some(reservation_proto(&r)),
        };
        tx.finish(response).await
    }

    pub async fn release_reservation(
        &self,
        caller: &Principal,
        mut req: pb::ReleaseReservationRequest,
    ) -> Result<pb::ReleaseReservationResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ReleaseReservation", &caller.employee_id, &request_id, &req)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let id = req.id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let r = store::stock::visible_reservation(&mut tx, &ReadScope::of(caller, &BALANCE_SCOPE), id)
            .await?
            .ok_or_else(|| Error::not_found(RESERVATION, id))?;
        let now = now_micros();
        let r = match store::stock::release_reservation(&mut tx, &r.id, now, &caller.employee_id).await? {
            Some(released) => {
                let freed = released.quantity - released.consumed;
                let pairs = [(released.warehouse_id.clone(), released.product_id.clone())];
                store::stock::lock(&mut tx, &pairs).await?;
                if freed > 0
                    && !store::stock::unreserve(&mut tx, &released.warehouse_id, &released.product_id, freed, now)
                        .await?
                {
                    return Err(Error::Internal(format!(
                        "reservation {} held more than its balance",
                        released.id
                    )));
                }
                released
            }
            // Consumed or released already: nothing is held; the reservation as it stands.
            None => r,
        };
        let response = pb::ReleaseReservationResponse {
            reservation: Some(reservation_proto(&r)),
        };
        tx.finish(response).await
    }

    pub async fn list_reservations(
        &self,
        caller: &Principal,
        req: pb::ListReservationsRequest,
    ) -> Result<pb::ListReservationsResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::newest_first("b"),
            req.page_size,
            &req.page_token,
            RESERVATION_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::stock::reservations(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListReservationsResponse {
            reservations: page.rows.iter().map(reservation_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn get_stock_level(
        &self,
        caller: &Principal,
        req: pb::GetStockLevelRequest,
    ) -> Result<pb::GetStockLevelResponse> {
        let mut conn = self.conn().await?;
        let w = self
            .kept_warehouse(&mut conn, caller, "warehouse_id", &req.warehouse_id)
            .await?;
        let scope = ReadScope::of(caller, &BALANCE_SCOPE);
        let level = match store::stock::level(&mut conn, &scope, &w.id, req.product_id.trim()).await? {
            Some(l) => self.level_proto(&l),
            None => {
                let p = product(&mut conn, "product_id", &req.product_id).await?;
                self.empty_level(&w.id, &p)
            }
        };
        Ok(pb::GetStockLevelResponse { level: Some(level) })
    }

    pub async fn list_stock_levels(
        &self,
        caller: &Principal,
        req: pb::ListStockLevelsRequest,
    ) -> Result<pb::ListStockLevelsResponse> {
        let order = Order::by("b.warehouse_id", "b.product_id", Direction::Ascending);
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            order,
            req.page_size,
            &req.page_token,
            LEVEL_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::stock::levels(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListStockLevelsResponse {
            levels: page.rows.iter().map(|l| self.level_proto(l)).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn list_ledger_entries(
        &self,
        caller: &Principal,
        req: pb::ListLedgerEntriesRequest,
    ) -> Result<pb::ListLedgerEntriesResponse> {
        let order = Order::by("l.posted_at", "l.id", Direction::Descending);
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            order,
            req.page_size,
            &req.page_token,
            JOURNAL_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::stock::journal(
            &mut conn,
            &ReadScope::of(caller, &JOURNAL_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListLedgerEntriesResponse {
            entries: page
                .rows
                .iter()
                .map(|r| self.entry_proto(&r.line, &r.document_number))
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn get_stock_value(
        &self,
        caller: &Principal,
        req: pb::GetStockValueRequest,
    ) -> Result<pb::GetStockValueResponse> {
        let as_of = match req.as_of.as_ref() {
            Some(t) => Some(crm_kit::time::from_proto("as_of", t)?),
            None => None,
        };
        if let Some(at) = as_of {
            // The closed days before it are summed once, for every later question.
            let mut tx = self.db.begin_write().await?;
            let days = store::stock::sum_closed_days(&mut tx, at, now_micros()).await?;
            tx.commit().await?;
            if days > 0 {
                tracing::info!(days, "stock value: closed days summed");
            }
        }
        let mut conn = self.conn().await?;
        if !req.warehouse_id.trim().is_empty() {
            self.kept_warehouse(&mut conn, caller, "warehouse_id", &req.warehouse_id)
                .await?;
        }
        let rows = store::stock::values(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            req.warehouse_id.trim(),
            as_of,
        )
        .await?;
        let total = rows.iter().map(|(_, s, t, l)| s + t + l).sum();
        Ok(pb::GetStockValueResponse {
            warehouses: rows
                .iter()
                .map(|(w, s, t, l)| pb::WarehouseValue {
                    warehouse_id: w.clone(),
                    stock_value: Some(self.money(*s)),
                    in_transit_value: Some(self.money(*t)),
                    on_loan_value: Some(self.money(*l)),
                })
                .collect(),
            total: Some(self.money(total)),
            as_of: Some(crm_kit::time::to_proto(as_of.unwrap_or_else(now_micros))),
        })
    }

    pub async fn audit_stock(&self, caller: &Principal, _req: pb::AuditStockRequest) -> Result<pb::AuditStockResponse> {
        let scope = ReadScope::of(caller, &BALANCE_SCOPE);
        // One read transaction, so the balances and the ledger are compared at one moment.
        let mut tx = store::stock::snapshot(&self.db).await?;
        let (balances, ledger_lines, differing) = store::stock::audit(&mut tx, &scope).await?;
        let (inbound, outbound) = store::stock::flows(&mut tx, &scope).await?;
        let (on_hand, in_transit, on_loan) = store::stock::held(&mut tx, &scope).await?;
        let reservations = store::stock::reservation_mismatches(&mut tx, &scope).await?;
        let mut tracking = Vec::new();
        for (what, rows) in [
            ("serials", store::tracking::serial_mismatches(&mut tx, &scope).await?),
            ("lots", store::tracking::lot_mismatches(&mut tx, &scope).await?),
        ] {
            tracking.extend(
                rows.into_iter().map(|(p, w, on_hand, tracked)| {
                    format!("{p}@{w}: on hand {}, {what} {}", qty(on_hand), qty(tracked))
                }),
            );
        }
        tx.rollback().await?;
        let mismatches = differing
            .iter()
            .flat_map(|a| {
                let mut out = Vec::new();
                if a.on_hand != a.ledger_stock || a.value != a.ledger_stock_value {
                    out.push(pb::AuditMismatch {
                        warehouse_id: a.warehouse_id.clone(),
                        product_id: a.product_id.clone(),
                        bucket: pb::Bucket::Stock as i32,
                        balance_quantity: qty(a.on_hand),
                        ledger_quantity: qty(a.ledger_stock),
                        balance_value: Some(self.money(a.value)),
                        ledger_value: Some(self.money(a.ledger_stock_value)),
                    });
                }
                if a.loan_quantity != a.ledger_loan || a.loan_value != a.ledger_loan_value {
                    out.push(pb::AuditMismatch {
                        warehouse_id: a.warehouse_id.clone(),
                        product_id: a.product_id.clone(),
                        bucket: pb::Bucket::Loan as i32,
                        balance_quantity: qty(a.loan_quantity),
                        ledger_quantity: qty(a.ledger_loan),
                        balance_value: Some(self.money(a.loan_value)),
                        ledger_value: Some(self.money(a.ledger_loan_value)),
                    });
                }
                if a.transit_quantity != a.ledger_transit || a.transit_value != a.ledger_transit_value {
                    out.push(pb::AuditMismatch {
                        warehouse_id: a.warehouse_id.clone(),
                        product_id: a.product_id.clone(),
                        bucket: pb::Bucket::Transit as i32,
                        balance_quantity: qty(a.transit_quantity),
                        ledger_quantity: qty(a.ledger_transit),
                        balance_value: Some(self.money(a.transit_value)),
                        ledger_value: Some(self.money(a.ledger_transit_value)),
                    });
                }
                out
            })
            .collect();
        Ok(pb::AuditStockResponse {
            balances,
            ledger_lines,
            mismatches,
            inbound_quantity: qty(inbound),
            outbound_quantity: qty(outbound),
            on_hand_quantity: qty(on_hand),
            in_transit_quantity: qty(in_transit),
            on_loan_quantity: qty(on_loan),
            tracking_mismatches: tracking,
            reservation_mismatches: reservations
                .iter()
                .map(|(w, p, reserved, held)| {
                    format!(
                        "warehouse {w} product {p}: reserved {} but active reservations hold {}",
                        qty(*reserved),
                        qty(*held)
                    )
                })
                .collect(),
        })
    }

    pub async fn set_safety_stock(
        &self,
        caller: &Principal,
        req: pb::SetSafetyStockRequest,
    ) -> Result<pb::SetSafetyStockResponse> {
        let mut v = Violations::new();
        let min = super::non_negative_quantity("minimum", &req.minimum, &mut v);
        let max = super::non_negative_quantity("maximum", &req.maximum, &mut v);
        if !max.is_zero() && max < min {
            v.add("maximum", reason::OUT_OF_RANGE, "must be at least the minimum");
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let w = self
            .open_warehouse(&mut tx, caller, "warehouse_id", &req.warehouse_id)
            .await?;
        let p = product(&mut tx, "product_id", &req.product_id).await?;
        let pairs = [(w.id.clone(), p.id.clone())];
        store::stock::ensure(&mut tx, &pairs).await?;
        store::stock::set_safety(&mut tx, &w.id, &p.id, min.storage(), max.storage()).await?;
        let level = store::stock::level(&mut tx, &ReadScope::of(caller, &BALANCE_SCOPE), &w.id, &p.id)
            .await?
            .ok_or_else(|| Error::not_found(STOCK_LEVEL, format!("{}/{}", w.id, p.id)))?;
        tx.commit().await?;
        Ok(pb::SetSafetyStockResponse {
            level: Some(self.level_proto(&level)),
        })
    }
}
