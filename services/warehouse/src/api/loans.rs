//! Loans and samples (借出 / 样品): goods lent to a customer or an employee leave the shelves
//! onto loan (LOAN_OUT, posted like any document), and each line is tracked until it comes back
//! (ReturnLoan: a LOAN_RETURN document, back onto the shelves it left) or the borrower keeps it
//! (SellLoan: a LOAN_SALE document, out of the company's stock), each at its share of the value
//! it left with. Never more comes back or is sold than is out: a conditional update decides.

use crm_kit::auth::{Principal, ReadScope};
use std::collections::HashMap;

use crm_kit::errors::{Violations, reason};
use crm_kit::events as outbox;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Order};
use crm_kit::numbering::{NumberPattern, next_number};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;

use super::posting::Posting;
use super::{BALANCE_SCOPE, WarehouseApi, check_notes, check_text, qty};
use crate::domain::{self, Kind, Status};
use crate::store;
use crate::store::documents::{DocumentRow, LineRow};
use crate::store::loans::{ListedLoan, LoanRow};
use crate::store::tracking::Place;

pub const LOAN: &str = "crm.warehouse.v1.Loan";

const LOAN_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "counterparty_id",
        column: "b.counterparty_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "counterparty_kind",
        column: "b.counterparty_kind",
        ty: FieldType::Enum(&["customer", "employee", "supplier"]),
    },
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
        name: "status",
        column: "b.status",
        ty: FieldType::Enum(&["open", "closed"]),
    },
    FieldSpec {
        name: "sample",
        column: "b.sample",
        ty: FieldType::Bool,
    },
    FieldSpec {
        name: "due_date",
        column: "NULLIF(b.due_date, '')",
        ty: FieldType::Date,
    },
];

impl WarehouseApi {
    fn loan_proto(&self, l: &LoanRow, number: &str, lot: &str, serial_numbers: Vec<String>) -> pb::Loan {
        let outstanding = l.quantity - l.returned - l.sold;
        let today = {
            let (y, m, d) = crm_kit::time::civil_from_days(now_micros().div_euclid(86_400_000_000));
            crm_kit::time::format_date(y, m, d)
        };
        pb::Loan {
            id: l.id.clone(),
            document_id: l.document_id.clone(),
            document_number: number.to_string(),
            line_no: i32::try_from(l.line_no).unwrap_or(i32::MAX),
            warehouse_id: l.warehouse_id.clone(),
            product_id: l.product_id.clone(),
            counterparty_kind: domain::counterparty_of(&l.counterparty_kind) as i32,
            counterparty_id: l.counterparty_id.clone(),
            sample: l.sample == 1,
            quantity: qty(l.quantity),
            returned: qty(l.returned),
            sold: qty(l.sold),
            outstanding: qty(outstanding),
            outstanding_value: Some(self.money(l.value_out)),
            due_date: l.due_date.clone(),
            overdue: outstanding > 0 && !l.due_date.is_empty() && l.due_date < today,
            status: if l.status == "closed" {
                pb::LoanStatus::Closed
            } else {
                pb::LoanStatus::Open
            } as i32,
            lend_time: crm_kit::time::set_to_proto(l.created_at),
            serial_numbers,
            lot: lot.to_string(),
        }
    }

    pub async fn list_loans(&self, caller: &Principal, req: pb::ListLoansRequest) -> Result<pb::ListLoansResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::newest_first("b"),
            req.page_size,
            &req.page_token,
            LOAN_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::loans::page(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        // The serials still out, for the page's loans at once.
        let documents: Vec<&str> = page.rows.iter().map(|r| r.loan.document_id.as_str()).collect();
        let mut out: HashMap<(String, i64), Vec<String>> = HashMap::new();
        for s in store::tracking::on_loan(&mut conn, &documents).await? {
            out.entry((s.document_id, s.line_no)).or_default().push(s.serial);
        }
        Ok(pb::ListLoansResponse {
            loans: page
                .rows
                .iter()
                .map(|r| {
                    let serials = out
                        .remove(&(r.loan.document_id.clone(), r.loan.line_no))
                        .unwrap_or_default();
                    self.loan_proto(&r.loan, &r.document_number, &r.lot, serials)
                })
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn return_loan(
        &self,
        caller: &Principal,
        mut req: pb::ReturnLoanRequest,
    ) -> Result<pb::ReturnLoanResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ReturnLoan", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        check_notes("remark", &req.remark, false, 500, &mut v);
        let quantity = self.settled_quantity(&req.quantity, &req.serial_numbers, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let (loan, document) = self
            .settle(
                &mut tx,
                caller,
                &req.id,
                quantity,
                &req.serial_numbers,
                false,
                req.remark.trim(),
            )
            .await?;
        let response = pb::ReturnLoanResponse {
            loan: Some(loan),
            document: Some(document),
        };
        tx.finish(response).await
    }

    pub async fn sell_loan(&self, caller: &Principal, mut req: pb::SellLoanRequest) -> Result<pb::SellLoanResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("SellLoan", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        check_text("reference", &req.reference, false, 100, &mut v);
        let quantity = self.settled_quantity(&req.quantity, &req.serial_numbers, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let (loan, document) = self
            .settle(
                &mut tx,
                caller,
                &req.id,
                quantity,
                &req.serial_numbers,
                true,
                req.reference.trim(),
            )
            .await?;
        let response = pb::SellLoanResponse {
            loan: Some(loan),
            document: Some(document),
        };
        tx.finish(response).await
    }

    /// The quantity to settle (`None`: everything still out): as given, or the count of the
    /// serial numbers named (which it must equal when both are given).
    fn settled_quantity(&self, quantity: &str, serials: &[String], v: &mut Violations) -> Option<i64> {
        let mut keys = std::collections::HashSet::new();
        for (j, serial) in serials.iter().enumerate() {
            check_text(&format!("serial_numbers[{j}]"), serial, true, 100, v);
            if !keys.insert(crm_kit::text::fold(serial)) {
                v.add(
                    format!("serial_numbers[{j}]"),
                    reason::DUPLICATE,
                    format!("serial {} is named twice", serial.trim()),
                );
            }
        }
        let counted = (!serials.is_empty()).then(|| i64::try_from(serials.len()).unwrap_or(i64::MAX / 10_000) * 10_000);
        if quantity.trim().is_empty() {
            return counted;
        }
        let q = super::positive_quantity("quantity", quantity, v).map(|q| q.storage());
        if let (Some(q), Some(c)) = (q, counted)
            && q != c
        {
            v.add(
                "quantity",
                "SERIAL_COUNT_MISMATCH",
                format!("{} units for {} serial numbers", qty(q), serials.len()),
            );
        }
        q
    }

    /// Returns or sells `quantity` of loan `id` (everything still out when `None`), in `conn`'s
    /// transaction: the loan row decides (never more than is out), then the document posts.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
        &self,
        conn: &mut sqlx::AnyConnection,
        caller: &Principal,
        id: &str,
        quantity: Option<i64>,
        serial_numbers: &[String],
        sold: bool,
        note: &str,
    ) -> Result<(pb::Loan, pb::StockDocument)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let ListedLoan {
            loan,
            document_number,
            lot,
        } = store::loans::visible(conn, &ReadScope::of(caller, &BALANCE_SCOPE), id)
            .await?
            .ok_or_else(|| Error::not_found(LOAN, id))?;
        let w = self.open_warehouse(conn, caller, "id", &loan.warehouse_id).await?;
        let outstanding = loan.quantity - loan.returned - loan.sold;
        let q = quantity.unwrap_or(outstanding);
        let products = store::catalog::products(conn, &[loan.product_id.as_str()]).await?;
        let product = products
            .first()
            .ok_or_else(|| Error::Internal(format!("loan {} of a product that is gone", loan.id)))?;
        let on_loan = Place {
            state: "loan",
            warehouse_id: &loan.warehouse_id,
        };
        // A serial product's units: those named, else the first still out.
        let serials: Vec<String> = if product.tracking != "serial" {
            if !serial_numbers.is_empty() {
                return Err(Error::invalid(
                    "serial_numbers",
                    reason::NOT_ALLOWED,
                    format!("{} is not tracked by serial number", product.code),
                ));
            }
            Vec::new()
        } else if !serial_numbers.is_empty() {
            serial_numbers.iter().map(|s| crm_kit::text::normalize(s)).collect()
        } else {
            if q % 10_000 != 0 {
                return Err(Error::invalid(
                    "quantity",
                    reason::NOT_ALLOWED,
                    format!("{} is counted in whole units by serial number", product.code),
                ));
            }
            let out =
                store::tracking::of_line(conn, &loan.product_id, on_loan, &loan.document_id, loan.line_no).await?;
            out.into_iter()
                .take(usize::try_from(q / 10_000).unwrap_or(usize::MAX))
                .map(|s| s.serial)
                .collect()
        };
        let now = now_micros();
        let Some(after) = (if q > 0 {
            store::loans::settle(conn, &loan.id, q, sold, now, &caller.employee_id).await?
        } else {
            None
        }) else {
            return Err(Error::FailedPrecondition {
                reason: "LOAN_NOT_OUT",
                message: format!(
                    "{} requested, {} of loan {} is still out",
                    qty(q),
                    qty(outstanding),
                    loan.id
                ),
                subject: format!("loans/{}", loan.id),
                metadata: vec![
                    ("field".into(), "quantity".into()),
                    ("outstanding".into(), qty(outstanding)),
                    ("requested".into(), qty(q)),
                ],
            });
        };
        // Its share of the value still out (all of it when the last goes).
        let out_before = after.quantity - after.returned - after.sold + q;
        let value = domain::outbound_cost(out_before, after.value_out, 0, q)
            .ok_or_else(|| Error::Internal(format!("value of loan {}", loan.id)))?;
        store::loans::set_value_out(conn, &loan.id, after.value_out - value).await?;
        let kind = Kind::of_code(if sold { "loan_sale" } else { "loan_return" })
            .ok_or_else(|| Error::Internal("loan kinds".into()))?;
        let (numbering, pattern) = kind.number_pattern();
        let pattern = NumberPattern::parse("number", pattern)?;
        let day = crm_kit::time::civil_from_days(now.div_euclid(86_400_000_000));
        let doc = DocumentRow {
            id: crm_kit::new_id(),
            number: next_number(conn, numbering, &pattern, day).await?,
            kind: kind.code.to_string(),
            status: Status::Posted.code().into(),
            warehouse_id: w.id.clone(),
            to_warehouse_id: String::new(),
            in_transit: 0,
            reference: if sold && !note.is_empty() {
                note.to_string()
            } else {
                document_number.clone()
            },
            counterparty_id: loan.counterparty_id.clone(),
            courier: String::new(),
            tracking_number: String::new(),
            remark: if sold { String::new() } else { note.to_string() },
            posted_at: now,
            posted_by: caller.employee_id.clone(),
            received_at: 0,
            received_by: String::new(),
            cancel_reason: String::new(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
            counterparty_kind: loan.counterparty_kind.clone(),
            sample: loan.sample,
            due_date: String::new(),
        };
        let products = store::catalog::products(conn, &[loan.product_id.as_str()]).await?;
        let unit = products.first().map(|p| p.unit.clone()).unwrap_or_default();
        let lines = [LineRow {
            document_id: doc.id.clone(),
            line_no: 1,
            product_id: loan.product_id.clone(),
            quantity: q,
            unit,
            stock_quantity: q,
            unit_cost: 0,
            cost_given: 0,
            value: 0,
            reservation_id: String::new(),
            source_line_id: loan.id.clone(),
            remark: String::new(),
            serials: serde_json::to_string(&serials).unwrap_or_else(|_| "[]".into()),
            lot: lot.clone(),
        }];
        store::documents::insert(conn, &doc, &lines).await?;
        let mut posting = Posting::new(
            &doc,
            &lines,
            false,
            &self.currency,
            &caller.employee_id,
            now,
            Default::default(),
        );
        posting.origin = Some((loan.document_id.clone(), loan.line_no));
        let ledger = posting.settle_loan(conn, value).await?;
        let event = pb::LoanSettled {
            loan_id: loan.id.clone(),
            document_id: doc.id.clone(),
            number: doc.number.clone(),
            warehouse_id: w.id.clone(),
            counterparty_id: loan.counterparty_id.clone(),
            product_id: loan.product_id.clone(),
            quantity: qty(q),
            sold,
            outstanding: qty(after.quantity - after.returned - after.sold),
        };
        outbox::append(conn, &loan.id, &event).await?;
        let settled = LoanRow {
            value_out: after.value_out - value,
            ..after
        };
        let document = self.document_of(&doc, &lines, &ledger);
        let still_out = store::tracking::of_line(conn, &loan.product_id, on_loan, &loan.document_id, loan.line_no)
            .await?
            .into_iter()
            .map(|s| s.serial)
            .collect();
        Ok((self.loan_proto(&settled, &document_number, &lot, still_out), document))
    }
}
