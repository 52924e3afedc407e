//! What posting a stock document writes, in the caller's transaction: for each line the
//! balance change (decided by a conditional update), the cost it carries (moving average), the
//! ledger lines, and the events. Any refusal returns an error and the caller's transaction
//! rolls back: a document posts whole or not at all.
//!
//! Balances are locked in one global order (warehouse, product) before any changes, so two
//! postings touching the same balances in different orders wait for each other instead of
//! deadlocking.

use std::collections::{BTreeSet, HashMap};

use crm_kit::events as outbox;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::qty;
use crate::domain::{self, Direction, Kind};
use crate::store;
use crate::store::documents::{DocumentRow, LineRow};
use crate::store::stock::{BalanceRow, LedgerRow, Take};
use crate::store::tracking::{Mover, Place};

/// Which movement of a line a ledger line is.
pub(crate) const LEG_OUT: &str = "out";
pub(crate) const LEG_IN: &str = "in";
pub(crate) const LEG_TRANSIT_IN: &str = "transit_in";
pub(crate) const LEG_TRANSIT_OUT: &str = "transit_out";
/// A loan: off the shelves, onto loan; and back: off loan, onto the shelves. Neither is an
/// inbound or an outbound of the company's stock (a loan's sale is: `out` of the loan bucket).
pub(crate) const LEG_LEND: &str = "lend";
pub(crate) const LEG_LENT: &str = "lent";
pub(crate) const LEG_UNLEND: &str = "unlend";
pub(crate) const LEG_BACK: &str = "back";

/// A posting in progress.
pub(crate) struct Posting<'a> {
    pub doc: &'a DocumentRow,
    pub lines: &'a [LineRow],
    /// Whether the document's (source) warehouse allows negative stock.
    pub allow_negative: bool,
    pub currency: &'a str,
    pub by: &'a str,
    pub now: i64,
    /// Product standard costs, for inbound lines that name no cost.
    pub standard_costs: HashMap<String, i64>,
    /// The tracking (serial or lot) of the lines' tracked products.
    tracking: HashMap<String, String>,
    /// A loan's return or sale: the loan's document line, whose units come back.
    pub origin: Option<(String, i64)>,
    /// An outbound document's new values and remembered costs per balance, written in one
    /// statement after its lines instead of one per line (its balances are locked, or SQLite's
    /// one writer holds them, so nothing else changes them meanwhile).
    deferred: Option<HashMap<(String, String), (i64, i64)>>,
    ledger: Vec<LedgerRow>,
    below_safety: Vec<pb::StockBelowSafety>,
}

impl<'a> Posting<'a> {
    pub fn new(
        doc: &'a DocumentRow,
        lines: &'a [LineRow],
        allow_negative: bool,
        currency: &'a str,
        by: &'a str,
        now: i64,
        standard_costs: HashMap<String, i64>,
    ) -> Posting<'a> {
        Posting {
            doc,
            lines,
            allow_negative,
            currency,
            by,
            now,
            standard_costs,
            tracking: HashMap::new(),
            origin: None,
            deferred: None,
            ledger: Vec::with_capacity(lines.len() * 2),
            below_safety: Vec::new(),
        }
    }

    fn kind(&self) -> Result<Kind> {
        Kind::of_code(&self.doc.kind).ok_or_else(|| Error::Internal(format!("unknown kind {}", self.doc.kind)))
    }

    /// Posts a draft: inbound onto the shelves, outbound off them, a transfer out of its source
    /// and into its destination or into transit.
    pub async fn post(mut self, conn: &mut AnyConnection) -> Result<Vec<LedgerRow>> {
        let kind = self.kind()?;
        let mut pairs = BTreeSet::new();
        for l in self.lines {
            pairs.insert((self.doc.warehouse_id.clone(), l.product_id.clone()));
            if kind.direction == Direction::Transfer {
                pairs.insert((self.doc.to_warehouse_id.clone(), l.product_id.clone()));
            }
        }
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        store::stock::ensure(conn, &pairs).await?;
        store::stock::lock(conn, &pairs).await?;
        self.load_tracking(conn).await?;
        let w = self.doc.warehouse_id.clone();
        let mut taken = HashMap::new();
        if kind.direction == Direction::Outbound {
            self.deferred = Some(HashMap::new());
            taken = self.take_all(conn).await?;
        }
        for (i, l) in self.lines.iter().enumerate() {
            match kind.direction {
                Direction::Inbound => {
                    let cost = self.inbound_cost(conn, l).await?;
                    self.put(conn, &w, l, cost, LEG_IN).await?;
                    self.track(conn, i, l, None, at(STOCK, &w), None, LEG_IN).await?;
                }
                Direction::Outbound => {
                    match taken.remove(&l.product_id) {
                        Some(after) => {
                            let how = if self.allow_negative {
                                Take::Negative
                            } else {
                                Take::Available
                            };
                            self.took(conn, l, LEG_OUT, how, after).await?;
                        }
                        None => {
                            self.take(conn, i, l, LEG_OUT).await?;
                        }
                    }
                    self.track(conn, i, l, Some(at(STOCK, &w)), at(GONE, &w), None, LEG_OUT)
                        .await?;
                }
                Direction::Loan => {
                    let value = self.take(conn, i, l, LEG_LEND).await?;
                    self.lent(conn, &w, l, l.stock_quantity, value, LEG_LENT).await?;
                    self.track(conn, i, l, Some(at(STOCK, &w)), at(LOAN, &w), None, LEG_LENT)
                        .await?;
                }
                Direction::LoanReturn | Direction::LoanSale => {
                    return Err(Error::Internal("a loan is settled by settle_loan".into()));
                }
                Direction::Adjustment if l.stock_quantity > 0 => {
                    let cost = self.adjustment_cost(conn, l).await?;
                    self.put(conn, &w, l, cost, LEG_IN).await?;
                    self.track(conn, i, l, None, at(STOCK, &w), None, LEG_IN).await?;
                }
                Direction::Adjustment => {
                    let loss = LineRow {
                        quantity: -l.quantity,
                        stock_quantity: -l.stock_quantity,
                        ..l.clone()
                    };
                    self.take(conn, i, &loss, LEG_OUT).await?;
                    self.track(conn, i, &loss, Some(at(STOCK, &w)), at(GONE, &w), None, LEG_OUT)
                        .await?;
                }
                Direction::Transfer => {
                    let value = self.take(conn, i, l, LEG_OUT).await?;
                    let to = self.doc.to_warehouse_id.clone();
                    if self.doc.in_transit == 1 {
                        self.transit(conn, &to, l, l.stock_quantity, value, LEG_TRANSIT_IN)
                            .await?;
                        self.track(conn, i, l, Some(at(STOCK, &w)), at(TRANSIT, &to), None, LEG_TRANSIT_IN)
                            .await?;
                    } else {
                        self.put(conn, &to, l, Cost::Value(value), LEG_IN).await?;
                        self.track(conn, i, l, Some(at(STOCK, &w)), at(STOCK, &to), None, LEG_IN)
                            .await?;
                    }
                }
            }
        }
        if let Some(values) = self.deferred.take() {
            let rows: Vec<(String, String, i64, i64)> =
                values.into_iter().map(|((w, p), (v, c))| (w, p, v, c)).collect();
            store::stock::set_values(conn, &rows).await?;
        }
        store::stock::append(conn, &self.ledger).await?;
        let products: Vec<&str> = self.lines.iter().map(|l| l.product_id.as_str()).collect();
        store::catalog::mark_moved(conn, &products).await?;
        self.publish(conn, kind, false).await?;
        Ok(self.ledger)
    }

    /// Receives a transfer in transit: out of transit, onto the destination's shelves, at the
    /// value each line left its source with.
    pub async fn receive(mut self, conn: &mut AnyConnection) -> Result<Vec<LedgerRow>> {
        let kind = self.kind()?;
        let sent = store::stock::document_lines(conn, &self.doc.id).await?;
        let to = self.doc.to_warehouse_id.clone();
        let pairs: Vec<(String, String)> = self
            .lines
            .iter()
            .map(|l| (to.clone(), l.product_id.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        store::stock::lock(conn, &pairs).await?;
        self.load_tracking(conn).await?;
        for (i, l) in self.lines.iter().enumerate() {
            let value = sent
                .iter()
                .find(|s| s.line_no == l.line_no && s.leg == LEG_TRANSIT_IN)
                .map(|s| s.value)
                .ok_or_else(|| Error::Internal(format!("line {} of {} never left", l.line_no, self.doc.id)))?;
            self.transit(conn, &to, l, -l.stock_quantity, -value, LEG_TRANSIT_OUT)
                .await?;
            self.put(conn, &to, l, Cost::Value(value), LEG_IN).await?;
            let origin = (self.doc.id.as_str(), l.line_no);
            self.track(conn, i, l, Some(at(TRANSIT, &to)), at(STOCK, &to), Some(origin), LEG_IN)
                .await?;
        }
        store::stock::append(conn, &self.ledger).await?;
        self.publish(conn, kind, true).await?;
        Ok(self.ledger)
    }

    /// The cost of an inbound line: as given (quantity as entered × cost per entered unit), or
    /// for a customer return the current average, or the product's standard cost.
    async fn inbound_cost(&self, conn: &mut AnyConnection, l: &LineRow) -> Result<Cost> {
        if l.cost_given == 1 {
            return domain::line_value(l.quantity, l.unit_cost)
                .map(Cost::Value)
                .ok_or_else(|| too_large(l));
        }
        if self.doc.kind == "customer_return"
            && let Some(b) = store::stock::balance(conn, &self.doc.warehouse_id, &l.product_id).await?
            && let Some(avg) =
                domain::average_cost(b.on_hand, b.value).or((b.last_unit_cost > 0).then_some(b.last_unit_cost))
        {
            return Ok(Cost::PerUnit(avg));
        }
        Ok(Cost::PerUnit(
            self.standard_costs.get(&l.product_id).copied().unwrap_or(0),
        ))
    }

    /// The cost of a stocktake's gain: the balance's average, else its last cost, else the
    /// product's standard cost.
    async fn adjustment_cost(&self, conn: &mut AnyConnection, l: &LineRow) -> Result<Cost> {
        if let Some(b) = store::stock::balance(conn, &self.doc.warehouse_id, &l.product_id).await?
            && let Some(avg) =
                domain::average_cost(b.on_hand, b.value).or((b.last_unit_cost > 0).then_some(b.last_unit_cost))
        {
            return Ok(Cost::PerUnit(avg));
        }
        Ok(Cost::PerUnit(
            self.standard_costs.get(&l.product_id).copied().unwrap_or(0),
        ))
    }

    /// Puts a line's quantity onto the shelves of `warehouse_id`.
    async fn put(
        &mut self,
        conn: &mut AnyConnection,
        warehouse_id: &str,
        l: &LineRow,
        cost: Cost,
        leg: &str,
    ) -> Result<()> {
        let value = match cost {
            Cost::Value(v) => v,
            Cost::PerUnit(c) => domain::line_value(l.stock_quantity, c).ok_or_else(|| too_large(l))?,
        };
        if value.abs() > super::MAX_LINE_VALUE * 10_000 || l.stock_quantity.abs() > super::MAX_LINE_UNITS * 10_000 {
            return Err(too_large(l));
        }
        let after = store::stock::put(conn, warehouse_id, &l.product_id, l.stock_quantity, value, self.now).await?;
        let last = domain::remembered_cost(after.on_hand, after.value, after.last_unit_cost);
        if last != after.last_unit_cost {
            store::stock::set_value(conn, warehouse_id, &l.product_id, after.value, last).await?;
        }
        self.record(
            l,
            leg,
            warehouse_id,
            "stock",
            l.stock_quantity,
            value,
            &after,
            after.on_hand,
            after.value,
        );
        Ok(())
    }

    /// Takes a line's quantity off the shelves of the document's warehouse (from its
    /// reservation when it names one); returns the value it carries.
    async fn take(&mut self, conn: &mut AnyConnection, index: usize, l: &LineRow, leg: &str) -> Result<i64> {
        let warehouse_id = self.doc.warehouse_id.clone();
        let q = l.stock_quantity;
        let how = if !l.reservation_id.is_empty() {
            let consumed = store::stock::consume_reservation(
                conn,
                &l.reservation_id,
                &warehouse_id,
                &l.product_id,
                q,
                self.now,
                self.by,
            )
            .await?;
            if consumed.is_none() {
                return Err(Error::precondition(
                    "RESERVATION_NOT_ENOUGH",
                    format!("reservations/{}", l.reservation_id),
                    format!(
                        "line {}: reservation {} is not an active reservation of this product in this warehouse holding {}",
                        l.line_no,
                        l.reservation_id,
                        qty(q)
                    ),
                ));
            }
            Take::Reserved
        } else if self.allow_negative {
            Take::Negative
        } else {
            Take::Available
        };
        let Some(after) = store::stock::take(conn, &warehouse_id, &l.product_id, q, how, self.now).await? else {
            let now = store::stock::balance(conn, &warehouse_id, &l.product_id)
                .await?
                .unwrap_or_default();
            return Err(insufficient(index, l, &warehouse_id, &now));
        };
        self.took(conn, l, leg, how, after).await
    }

    /// An outbound document's lines taken in one statement, by product, when each names a
    /// different product and none ships from a reservation (else none: each line takes its
    /// own). A line that finds too little refuses the posting as its own take would.
    async fn take_all(&self, conn: &mut AnyConnection) -> Result<HashMap<String, BalanceRow>> {
        let mut quantities = Vec::with_capacity(self.lines.len());
        let mut seen = std::collections::HashSet::with_capacity(self.lines.len());
        for l in self.lines {
            if !l.reservation_id.is_empty() || !seen.insert(l.product_id.as_str()) {
                return Ok(HashMap::new());
            }
            quantities.push((l.product_id.as_str(), l.stock_quantity));
        }
        let w = &self.doc.warehouse_id;
        let rows = store::stock::take_many(conn, w, &quantities, self.allow_negative, self.now).await?;
        let mut taken: HashMap<String, BalanceRow> = rows.into_iter().map(|b| (b.product_id.clone(), b)).collect();
        if let Some((index, l)) = self
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| !taken.contains_key(&l.product_id))
        {
            let now = store::stock::balance(conn, w, &l.product_id).await?.unwrap_or_default();
            return Err(insufficient(index, l, w, &now));
        }
        taken.shrink_to_fit();
        Ok(taken)
    }

    /// What a take of a line's quantity leads to, given the balance as the take left it: the
    /// cost it carries (returned), the balance's new value, its ledger line, the alert.
    async fn took(
        &mut self,
        conn: &mut AnyConnection,
        l: &LineRow,
        leg: &str,
        how: Take,
        mut after: BalanceRow,
    ) -> Result<i64> {
        let warehouse_id = self.doc.warehouse_id.clone();
        let q = l.stock_quantity;
        let key = (warehouse_id.clone(), l.product_id.clone());
        if let Some((value, last)) = self.deferred.as_ref().and_then(|d| d.get(&key)) {
            // An earlier line of this document took from this balance: its value is not
            // written yet.
            after.value = *value;
            after.last_unit_cost = *last;
        }
        let before_on_hand = after.on_hand + q;
        let cost =
            domain::outbound_cost(before_on_hand, after.value, after.last_unit_cost, q).ok_or_else(|| too_large(l))?;
        let value = after.value - cost;
        let last = domain::remembered_cost(after.on_hand, value, after.last_unit_cost);
        match self.deferred.as_mut() {
            Some(d) => {
                d.insert(key, (value, last));
            }
            None => store::stock::set_value(conn, &warehouse_id, &l.product_id, value, last).await?,
        }
        self.record(l, leg, &warehouse_id, "stock", -q, -cost, &after, after.on_hand, value);
        // Falling below the safety minimum (once per crossing: available was at or above it).
        let available = after.on_hand - after.reserved;
        let before = available + if how == Take::Reserved { 0 } else { q };
        if after.safety_min > 0 && available < after.safety_min && before >= after.safety_min {
            self.below_safety.push(below_safety(&after));
        }
        Ok(cost)
    }

    /// Moves `quantity` worth `value` onto (positive) or off (negative) loan at `warehouse_id`.
    async fn lent(
        &mut self,
        conn: &mut AnyConnection,
        warehouse_id: &str,
        l: &LineRow,
        quantity: i64,
        value: i64,
        leg: &str,
    ) -> Result<()> {
        let after = store::stock::move_loan(conn, warehouse_id, &l.product_id, quantity, value, self.now)
            .await?
            .ok_or_else(|| Error::Internal(format!("loan of {} at {warehouse_id} is short", l.product_id)))?;
        self.record(
            l,
            leg,
            warehouse_id,
            "loan",
            quantity,
            value,
            &after,
            after.loan_quantity,
            after.loan_value,
        );
        Ok(())
    }

    /// Settles the single line of a loan's return or sale: off loan at `value`, and back onto
    /// the shelves (a return) or out of the company's stock (a sale).
    pub async fn settle_loan(mut self, conn: &mut AnyConnection, value: i64) -> Result<Vec<LedgerRow>> {
        let kind = self.kind()?;
        let l = self
            .lines
            .first()
            .ok_or_else(|| Error::Internal("a loan settles one line".into()))?;
        let w = self.doc.warehouse_id.clone();
        let pairs = [(w.clone(), l.product_id.clone())];
        store::stock::lock(conn, &pairs).await?;
        self.load_tracking(conn).await?;
        let origin = self.origin.clone();
        let origin = origin.as_ref().map(|(d, n)| (d.as_str(), *n));
        match kind.direction {
            Direction::LoanReturn => {
                self.lent(conn, &w, l, -l.stock_quantity, -value, LEG_UNLEND).await?;
                self.put(conn, &w, l, Cost::Value(value), LEG_BACK).await?;
                self.track(conn, 0, l, Some(at(LOAN, &w)), at(STOCK, &w), origin, LEG_BACK)
                    .await?;
            }
            Direction::LoanSale => {
                self.lent(conn, &w, l, -l.stock_quantity, -value, LEG_OUT).await?;
                self.track(conn, 0, l, Some(at(LOAN, &w)), at(GONE, &w), origin, LEG_OUT)
                    .await?;
            }
            _ => return Err(Error::Internal(format!("{} does not settle a loan", kind.code))),
        }
        store::stock::append(conn, &self.ledger).await?;
        Ok(self.ledger)
    }

    /// Moves a line's quantity into (positive) or out of (negative) transit towards
    /// `warehouse_id`.
    async fn transit(
        &mut self,
        conn: &mut AnyConnection,
        warehouse_id: &str,
        l: &LineRow,
        quantity: i64,
        value: i64,
        leg: &str,
    ) -> Result<()> {
        let after = store::stock::move_transit(conn, warehouse_id, &l.product_id, quantity, value, self.now)
            .await?
            .ok_or_else(|| Error::Internal(format!("transit of {} at {warehouse_id} is short", l.product_id)))?;
        self.record(
            l,
            leg,
            warehouse_id,
            "transit",
            quantity,
            value,
            &after,
            after.transit_quantity,
            after.transit_value,
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        l: &LineRow,
        leg: &str,
        warehouse_id: &str,
        bucket: &str,
        quantity: i64,
        value: i64,
        after: &BalanceRow,
        quantity_after: i64,
        value_after: i64,
    ) {
        let unit_cost = domain::average_cost(quantity.abs(), value.abs()).unwrap_or(0);
        self.ledger.push(LedgerRow {
            id: crm_kit::new_id(),
            document_id: self.doc.id.clone(),
            line_no: l.line_no,
            leg: leg.to_string(),
            kind: self.doc.kind.clone(),
            warehouse_id: warehouse_id.to_string(),
            product_id: l.product_id.clone(),
            bucket: bucket.to_string(),
            quantity,
            value,
            unit_cost,
            quantity_after,
            value_after,
            balance_seq: after.seq,
            posted_at: after.updated_at,
            posted_by: self.by.to_string(),
        });
    }

    /// The events of the posting, in its transaction.
    async fn publish(&self, conn: &mut AnyConnection, kind: Kind, arrived: bool) -> Result<()> {
        let d = self.doc;
        let lines: HashMap<i64, &LineRow> = self.lines.iter().map(|l| (l.line_no, l)).collect();
        let wanted = |leg: &str| -> Vec<pb::MovedLine> {
            self.ledger
                .iter()
                .filter(|e| e.leg == leg)
                .map(|e| {
                    let line = lines.get(&e.line_no);
                    pb::MovedLine {
                        line_no: i32::try_from(e.line_no).unwrap_or(i32::MAX),
                        product_id: e.product_id.clone(),
                        quantity: qty(e.quantity.abs()),
                        source_line_id: line.map(|l| l.source_line_id.clone()).unwrap_or_default(),
                        value: Some(crm_kit::money::Money::from_storage(self.currency, e.value.abs()).to_proto()),
                        serial_numbers: line.map(|l| l.serial_numbers()).unwrap_or_default(),
                        lot: line.map(|l| l.lot.clone()).unwrap_or_default(),
                    }
                })
                .collect()
        };
        match (kind.direction, kind.code) {
            // The stocktake publishes its own event (StocktakePosted) with the counts; a loan's
            // return or sale its LoanSettled.
            (Direction::Adjustment | Direction::LoanReturn | Direction::LoanSale, _) => {}
            (Direction::Loan, _) => {
                let e = pb::LoanedOut {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    warehouse_id: d.warehouse_id.clone(),
                    counterparty_kind: d.counterparty_kind.clone(),
                    counterparty_id: d.counterparty_id.clone(),
                    sample: d.sample == 1,
                    due_date: d.due_date.clone(),
                    lines: wanted(LEG_LENT),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
            (Direction::Inbound, "customer_return") => {
                let e = pb::ReturnReceived {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    warehouse_id: d.warehouse_id.clone(),
                    reference: d.reference.clone(),
                    counterparty_id: d.counterparty_id.clone(),
                    lines: wanted(LEG_IN),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
            (Direction::Inbound, code) => {
                let e = pb::GoodsReceived {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    warehouse_id: d.warehouse_id.clone(),
                    kind: code.to_string(),
                    reference: d.reference.clone(),
                    counterparty_id: d.counterparty_id.clone(),
                    lines: wanted(LEG_IN),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
            (Direction::Outbound, "delivery") => {
                let e = pb::ShipmentPosted {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    warehouse_id: d.warehouse_id.clone(),
                    reference: d.reference.clone(),
                    counterparty_id: d.counterparty_id.clone(),
                    courier: d.courier.clone(),
                    tracking_number: d.tracking_number.clone(),
                    lines: wanted(LEG_OUT),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
            (Direction::Outbound, code) => {
                let e = pb::StockIssued {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    warehouse_id: d.warehouse_id.clone(),
                    kind: code.to_string(),
                    reference: d.reference.clone(),
                    lines: wanted(LEG_OUT),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
            (Direction::Transfer, _) => {
                let e = pb::TransferPosted {
                    document_id: d.id.clone(),
                    number: d.number.clone(),
                    from_warehouse_id: d.warehouse_id.clone(),
                    to_warehouse_id: d.to_warehouse_id.clone(),
                    arrived: arrived || d.in_transit == 0,
                    lines: wanted(if arrived { LEG_IN } else { LEG_OUT }),
                };
                outbox::append(conn, &d.id, &e).await?;
            }
        }
        for alert in &self.below_safety {
            outbox::append(conn, &format!("{}/{}", alert.warehouse_id, alert.product_id), alert).await?;
        }
        Ok(())
    }
}

/// What an inbound line costs.
#[derive(Debug, Clone, Copy)]
enum Cost {
    /// The line's whole value.
    Value(i64),
    /// Per stock unit.
    PerUnit(i64),
}

/// The alert of a balance that fell below its safety minimum.
pub(crate) fn below_safety(b: &BalanceRow) -> pb::StockBelowSafety {
    let available = b.on_hand - b.reserved;
    pb::StockBelowSafety {
        warehouse_id: b.warehouse_id.clone(),
        product_id: b.product_id.clone(),
        available: qty(available),
        minimum: qty(b.safety_min),
        maximum: qty(b.safety_max),
        to_maximum: qty((b.safety_max.max(b.safety_min) - available).max(0)),
    }
}

/// The refusal of an outbound line that would take more than there is.
pub(crate) fn insufficient(index: usize, l: &LineRow, warehouse_id: &str, now: &BalanceRow) -> Error {
    Error::FailedPrecondition {
        reason: "INSUFFICIENT_STOCK",
        message: format!(
            "line {}: {} of product {} requested, warehouse {} has {} on hand, {} available",
            l.line_no,
            qty(l.stock_quantity),
            l.product_id,
            warehouse_id,
            qty(now.on_hand),
            qty(now.on_hand - now.reserved)
        ),
        subject: format!("warehouses/{warehouse_id}/stock/{}", l.product_id),
        metadata: vec![
            ("field".into(), format!("document.lines[{index}].quantity")),
            ("product_id".into(), l.product_id.clone()),
            ("warehouse_id".into(), warehouse_id.to_string()),
            ("on_hand".into(), qty(now.on_hand)),
            ("available".into(), qty(now.on_hand - now.reserved)),
            ("requested".into(), qty(l.stock_quantity)),
        ],
    }
}

fn too_large(l: &LineRow) -> Error {
    Error::invalid(
        format!("document.lines[{}]", l.line_no - 1),
        crm_kit::errors::reason::OUT_OF_RANGE,
        format!(
            "the line moves more than a line may ({} units, {} in value)",
            super::MAX_LINE_UNITS,
            super::MAX_LINE_VALUE
        ),
    )
}

/// Where a line's tracked units are, for [`Posting::track`].
const STOCK: &str = "stock";
const TRANSIT: &str = "transit";
const LOAN: &str = "loan";
const GONE: &str = "gone";

impl Posting<'_> {
    /// Loads the tracking of the lines' products (those tracked by serial or lot).
    async fn load_tracking(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let ids: Vec<&str> = self.lines.iter().map(|l| l.product_id.as_str()).collect();
        self.tracking = store::catalog::products(conn, &ids)
            .await?
            .into_iter()
            .filter(|p| p.tracking != "none")
            .map(|p| (p.id, p.tracking))
            .collect();
        Ok(())
    }

    /// Moves a line's tracked units from `from` (`None`: into the company's stock from outside)
    /// to `to`: serials each by a conditional update from where they must be (`origin`: and put
    /// there by that document line), a lot's shelves by a conditional take and a put. Anything
    /// not where it must be refuses the whole posting.
    #[allow(clippy::too_many_arguments)]
    async fn track(
        &self,
        conn: &mut AnyConnection,
        index: usize,
        l: &LineRow,
        from: Option<Place<'_>>,
        to: Place<'_>,
        origin: Option<(&str, i64)>,
        leg: &str,
    ) -> Result<()> {
        let Some(tracking) = self.tracking.get(&l.product_id) else {
            return Ok(());
        };
        let quantity = l.stock_quantity.abs();
        let untracked = match tracking.as_str() {
            "lot" => l.lot.is_empty(),
            _ => {
                i64::try_from(l.serial_numbers().len())
                    .ok()
                    .and_then(|n| n.checked_mul(10_000))
                    != Some(quantity)
            }
        };
        if untracked {
            // The product's tracking changed after the draft was written (it cannot once stock moved).
            return Err(Error::FailedPrecondition {
                reason: "TRACKING_CHANGED",
                message: format!(
                    "line {}: product {} is tracked by {tracking} now and the line does not name its units: \
                     cancel the draft and write it again",
                    l.line_no, l.product_id
                ),
                subject: format!("stockDocuments/{}", self.doc.id),
                metadata: vec![("field".into(), format!("document.lines[{index}]"))],
            });
        }
        let m = Mover {
            document_id: &self.doc.id,
            line_no: l.line_no,
            leg,
            kind: &self.doc.kind,
            by: self.by,
            now: self.now,
        };
        if tracking == "lot" {
            let key = crm_kit::text::fold(&l.lot);
            if let Some(f) = from.filter(|f| f.state == STOCK)
                && !store::tracking::take_lot(conn, f.warehouse_id, &l.product_id, &key, quantity, self.now).await?
            {
                let there = store::tracking::lot_on_hand(conn, f.warehouse_id, &l.product_id, &key).await?;
                return Err(Error::FailedPrecondition {
                    reason: "INSUFFICIENT_LOT",
                    message: format!(
                        "line {}: {} of lot {} of product {} requested, warehouse {} has {} of it",
                        l.line_no,
                        qty(quantity),
                        l.lot,
                        l.product_id,
                        f.warehouse_id,
                        qty(there)
                    ),
                    subject: format!("warehouses/{}/stock/{}", f.warehouse_id, l.product_id),
                    metadata: vec![
                        ("field".into(), format!("document.lines[{index}].lot")),
                        ("lot".into(), l.lot.clone()),
                        ("on_hand".into(), qty(there)),
                        ("requested".into(), qty(quantity)),
                    ],
                });
            }
            if to.state == STOCK {
                store::tracking::put_lot(conn, to.warehouse_id, &l.product_id, (&key, &l.lot), quantity, self.now)
                    .await?;
            }
            return Ok(());
        }
        let typed = l.serial_numbers();
        let serials: Vec<(String, String)> = typed.iter().map(|s| (crm_kit::text::fold(s), s.clone())).collect();
        let keys: Vec<String> = serials.iter().map(|(k, _)| k.clone()).collect();
        let done = match from {
            None => store::tracking::receive(conn, &l.product_id, &serials, to, m).await?,
            Some(f) => store::tracking::shift(conn, &l.product_id, &keys, f, origin, to, m).await?,
        };
        if done.len() == keys.len() {
            return Ok(());
        }
        let done: std::collections::HashSet<&str> = done.iter().map(String::as_str).collect();
        let (j, (key, serial)) = serials
            .iter()
            .enumerate()
            .find(|(_, (k, _))| !done.contains(k.as_str()))
            .ok_or_else(|| Error::Internal("a serial both moved and not".into()))?;
        let now = store::tracking::find(conn, &l.product_id, std::slice::from_ref(key)).await?;
        let where_now = match now.first() {
            None => "it never came in".to_string(),
            Some(s) => match s.state.as_str() {
                STOCK => format!("it is in stock at warehouse {}", s.warehouse_id),
                TRANSIT => format!("it is on its way to warehouse {}", s.warehouse_id),
                LOAN => format!("it is on loan from warehouse {}", s.warehouse_id),
                _ => format!("it left warehouse {} by document {}", s.warehouse_id, s.document_id),
            },
        };
        let mut metadata = vec![
            ("field".into(), format!("document.lines[{index}].serial_numbers[{j}]")),
            ("serial_number".into(), serial.clone()),
            ("product_id".into(), l.product_id.clone()),
        ];
        if let Some(s) = now.first() {
            metadata.push(("state".into(), s.state.clone()));
            metadata.push(("warehouse_id".into(), s.warehouse_id.clone()));
        }
        let (reason, message) = match from {
            None => (
                "SERIAL_IN_STOCK",
                format!(
                    "line {}: serial {serial} of product {} cannot come in: {where_now}",
                    l.line_no, l.product_id
                ),
            ),
            Some(f) => (
                "SERIAL_NOT_IN_STOCK",
                format!(
                    "line {}: serial {serial} of product {} is not {} warehouse {}: {where_now}",
                    l.line_no,
                    l.product_id,
                    match f.state {
                        TRANSIT => "on its way to",
                        LOAN => "on this loan from",
                        _ => "in stock at",
                    },
                    f.warehouse_id
                ),
            ),
        };
        Err(Error::FailedPrecondition {
            reason,
            message,
            subject: format!("products/{}/serialNumbers/{serial}", l.product_id),
            metadata,
        })
    }
}

/// A place of tracked units.
fn at<'w>(state: &'static str, warehouse_id: &'w str) -> Place<'w> {
    Place { state, warehouse_id }
}
