//! One keyset page of a list: the page size checked, the page token decoded for this list and
//! order, the keyset condition, `ORDER BY` and `LIMIT` added to a scoped read, and the next
//! page's token made from the last row.
//!
//! A list is ordered by a sort key (a column or expression) and then by the row id, both the
//! same way, so every row has one place however many share a key. A page reads one row more
//! than it shows: that row says whether another page follows.
//!
//! ```text
//! let keyset = Keyset::open(&tokens, Order::newest_first("l"), page_size, &page_token, &[&filter])?;
//! let mut q = SqlBuf::read("SELECT ... FROM leads l", &scope);
//! q.push(" AND l.deleted_at IS NULL");
//! let page = keyset.fetch(conn, q, |l: &LeadRow| Position::at(l.created_at, &l.id)).await?;
//! ```

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::Result;
use crate::filter::SqlValue;
use crate::paging::{PageTokenError, PageTokens, fingerprint};
use crate::sql::SqlBuf;

/// Rows on a page when the request leaves `page_size` at 0.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The most rows on one page; larger requests are coerced down.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    fn sql(self) -> &'static str {
        match self {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        }
    }

    /// The comparison that keeps the rows after a position.
    fn after(self) -> &'static str {
        match self {
            Direction::Ascending => ">",
            Direction::Descending => "<",
        }
    }
}

/// How a list is ordered: by a sort key, then by the row id for rows with equal keys, both in
/// one direction (or by the id alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    key: Option<String>,
    id: String,
    direction: Direction,
}

impl Order {
    /// By `key` (a column or SQL expression), then by the id column `id`.
    pub fn by(key: &str, id: &str, direction: Direction) -> Order {
        Order {
            key: Some(key.to_string()),
            id: id.to_string(),
            direction,
        }
    }

    /// By the id column `id` alone (ids that sort in creation order, such as UUIDv7).
    pub fn by_id(id: &str, direction: Direction) -> Order {
        Order {
            key: None,
            id: id.to_string(),
            direction,
        }
    }

    /// Newest first: `{alias}.created_at DESC, {alias}.id DESC`.
    pub fn newest_first(alias: &str) -> Order {
        Order::by(
            &format!("{alias}.created_at"),
            &format!("{alias}.id"),
            Direction::Descending,
        )
    }

    /// Appends ` ORDER BY key dir, id dir` (for reads that are not paged, such as an export
    /// that must list rows as paging would).
    pub fn push_order_by(&self, q: &mut SqlBuf) {
        let dir = self.direction.sql();
        q.push(" ORDER BY ");
        if let Some(key) = &self.key {
            q.push(key).push(" ").push(dir).push(", ");
        }
        q.push(&self.id).push(" ").push(dir);
    }

    /// Appends ` AND ...` keeping the rows after `after`.
    fn push_after(&self, q: &mut SqlBuf, after: &Position) {
        let op = self.direction.after();
        match (&self.key, &after.0) {
            // A row comparison, which both databases turn into one index range (the equivalent
            // `a < x OR (a = x AND b < y)` makes PostgreSQL filter every row before the page).
            (Some(key), Some(value)) => {
                let value = q.param(value.clone().into());
                let id = q.param(SqlValue::Text(after.1.clone()));
                q.push(&format!(" AND ({key}, {}) {op} ({value}, {id})", self.id));
            }
            _ => {
                let id = q.param(SqlValue::Text(after.1.clone()));
                q.push(&format!(" AND {} {op} {id}", self.id));
            }
        }
    }

    /// The order as a part of a page token's query fingerprint.
    fn describe(&self) -> String {
        let dir = self.direction.sql();
        match &self.key {
            Some(key) => format!("{key} {dir}, {} {dir}", self.id),
            None => format!("{} {dir}", self.id),
        }
    }
}

/// The value of a row's sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

impl From<i64> for SortValue {
    fn from(n: i64) -> Self {
        SortValue::Int(n)
    }
}

impl From<String> for SortValue {
    fn from(s: String) -> Self {
        SortValue::Text(s)
    }
}

impl From<&str> for SortValue {
    fn from(s: &str) -> Self {
        SortValue::Text(s.to_string())
    }
}

impl From<&String> for SortValue {
    fn from(s: &String) -> Self {
        SortValue::Text(s.clone())
    }
}

impl From<SortValue> for SqlValue {
    fn from(v: SortValue) -> Self {
        match v {
            SortValue::Int(n) => SqlValue::Int(n),
            SortValue::Text(s) => SqlValue::Text(s),
        }
    }
}

/// Where a row stands in its list: its sort key's value (none in a list ordered by id alone)
/// and its id. A page token carries the position of the page's last row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position(Option<SortValue>, String);

impl Position {
    /// A row with sort key `key` and id `id`.
    pub fn at(key: impl Into<SortValue>, id: &str) -> Position {
        Position(Some(key.into()), id.to_string())
    }

    /// A row of a list ordered by id alone.
    pub fn at_id(id: &str) -> Position {
        Position(None, id.to_string())
    }

    /// The sort key's value.
    pub fn key(&self) -> Option<&SortValue> {
        self.0.as_ref()
    }

    /// The row id.
    pub fn id(&self) -> &str {
        &self.1
    }
}

/// One page of rows and the token of the next (empty on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next_page_token: String,
}

/// The page a request asks for: how many rows, in which order, after which row. Page tokens
/// are bound to the order and to the list's shape (filter, query, caller...), so a token is
/// good only for the list that issued it.
#[derive(Debug)]
pub struct Keyset<'t> {
    tokens: &'t PageTokens,
    fingerprint: String,
    order: Order,
    size: u32,
    after: Option<Position>,
}

impl<'t> Keyset<'t> {
    /// Checks `page_size` (0 for the default, coerced down to the maximum) and decodes
    /// `page_token` (empty for the first page) as a token of the list `shape` in `order`.
    pub fn open(
        tokens: &'t PageTokens,
        order: Order,
        page_size: i32,
        page_token: &str,
        shape: &[&str],
    ) -> Result<Keyset<'t>> {
        let size = crate::paging::page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let described = order.describe();
        let mut parts: Vec<&str> = Vec::with_capacity(shape.len() + 1);
        parts.extend_from_slice(shape);
        parts.push(&described);
        let fingerprint = fingerprint(&parts);
        let after = if page_token.is_empty() {
            None
        } else {
            let after: Position = tokens.decode(&fingerprint, page_token)?;
            if after.0.is_some() != order.key.is_some() {
                return Err(PageTokenError::Malformed.into());
            }
            Some(after)
        };
        Ok(Keyset {
            tokens,
            fingerprint,
            order,
            size,
            after,
        })
    }

    /// [`Keyset::open`] for a list filtered by an AIP-160 `filter` over `fields` (the filter is
    /// the list's shape, so a token is good only under the filter it was issued with), with the
    /// filter compiled: what every filtered list's handler starts with.
    pub fn open_filtered(
        tokens: &'t PageTokens,
        order: Order,
        page_size: i32,
        page_token: &str,
        fields: &[crate::filter::FieldSpec],
        filter: &str,
    ) -> Result<(Keyset<'t>, Option<crate::filter::CompiledFilter>)> {
        let keyset = Keyset::open(tokens, order, page_size, page_token, &[filter])?;
        let compiled = crate::filter::compile(fields, filter, 1)?;
        Ok((keyset, compiled))
    }

    /// Rows on a full page.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Rows to read for a page: one more than it shows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// The position of the previous page's last row (none on the first page).
    pub fn after(&self) -> Option<&Position> {
        self.after.as_ref()
    }

    /// Appends to a read (whose `WHERE` conditions so far end its text) the keyset condition,
    /// `ORDER BY` and `LIMIT` [`Keyset::fetch_limit`].
    pub fn push(&self, q: &mut SqlBuf) {
        if let Some(after) = &self.after {
            self.order.push_after(q, after);
        }
        self.order.push_order_by(q);
        // A literal, so the planner sees how few rows are wanted.
        q.push(&format!(" LIMIT {}", self.fetch_limit()));
    }

    /// Runs the read `q` (see [`Keyset::push`]) and returns the page; `position` gives a row's
    /// place in the order.
    pub async fn fetch<T>(
        &self,
        conn: &mut AnyConnection,
        mut q: SqlBuf,
        position: impl Fn(&T) -> Position,
    ) -> Result<Page<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        self.push(&mut q);
        let rows = q.query_as::<T>().fetch_all(conn).await?;
        Ok(self.page(rows, position))
    }

    /// The page of `rows` read in this order, at most [`Keyset::fetch_limit`] of them.
    pub fn page<T>(&self, mut rows: Vec<T>, position: impl Fn(&T) -> Position) -> Page<T> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => self.tokens.encode(&self.fingerprint, &position(last)),
            _ => String::new(),
        };
        Page { rows, next_page_token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ReadScope;
    use crate::errors::Error;

    fn tokens() -> PageTokens {
        PageTokens::new(b"secret")
    }

    fn refused_field(r: Result<Keyset<'_>>) -> String {
        match r {
            Err(Error::InvalidArgument(list)) => list[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    fn read() -> SqlBuf {
        SqlBuf::read("SELECT id FROM t", &ReadScope::everything("test"))
    }

    #[test]
    fn first_page_orders_and_reads_one_row_more() {
        let tokens = tokens();
        let k = Keyset::open(&tokens, Order::newest_first("t"), 2, "", &[]).unwrap();
        let mut q = read();
        k.push(&mut q);
        assert_eq!(
            q.sql,
            "SELECT id FROM t WHERE 1 = 1 ORDER BY t.created_at DESC, t.id DESC LIMIT 3"
        );
        assert!(q.params.is_empty());
    }

    #[test]
    fn later_pages_start_after_the_last_row() {
        let tokens = tokens();
        let order = Order::by("t.name", "t.id", Direction::Ascending);
        let k = Keyset::open(&tokens, order.clone(), 2, "", &["f"]).unwrap();
        let page = k.page(vec![("b", "1"), ("b", "2"), ("c", "3")], |r| Position::at(r.0, r.1));
        assert_eq!(page.rows, [("b", "1"), ("b", "2")]);
        let next = Keyset::open(&tokens, order, 2, &page.next_page_token, &["f"]).unwrap();
        assert_eq!(next.after(), Some(&Position::at("b", "2")));
        let mut q = read();
        next.push(&mut q);
        assert_eq!(
            q.sql,
            "SELECT id FROM t WHERE 1 = 1 AND (t.name, t.id) > ($1, $2) ORDER BY t.name ASC, t.id ASC LIMIT 3"
        );
        assert_eq!(q.params, [SqlValue::Text("b".into()), SqlValue::Text("2".into())]);

        let by_id = Order::by_id("id", Direction::Descending);
        let k = Keyset::open(&tokens, by_id.clone(), 1, "", &[]).unwrap();
        let token = k.page(vec!["9", "8"], |r| Position::at_id(r)).next_page_token;
        let k = Keyset::open(&tokens, by_id, 1, &token, &[]).unwrap();
        let mut q = read();
        k.push(&mut q);
        assert_eq!(
            q.sql,
            "SELECT id FROM t WHERE 1 = 1 AND id < $1 ORDER BY id DESC LIMIT 2"
        );
    }

    #[test]
    fn the_last_page_has_no_token() {
        let tokens = tokens();
        let k = Keyset::open(&tokens, Order::newest_first("t"), 2, "", &[]).unwrap();
        let position = |r: &(i64, &str)| Position::at(r.0, r.1);
        assert_eq!(k.page(vec![(2, "b"), (1, "a")], position).next_page_token, "");
        assert_eq!(k.page(vec![(1, "a")], position).next_page_token, "");
        assert_eq!(k.page(Vec::new(), position).next_page_token, "");
        assert_ne!(k.page(vec![(3, "c"), (2, "b"), (1, "a")], position).next_page_token, "");
    }

    #[test]
    fn tokens_are_refused_when_altered_or_for_another_list() {
        let tokens = tokens();
        let order = Order::newest_first("t");
        let k = Keyset::open(&tokens, order.clone(), 1, "", &["a = 1"]).unwrap();
        let token = k
            .page(vec![(2, "b"), (1, "a")], |r: &(i64, &str)| Position::at(r.0, r.1))
            .next_page_token;
        assert!(Keyset::open(&tokens, order.clone(), 1, &token, &["a = 1"]).is_ok());

        let mut altered = token.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            refused_field(Keyset::open(&tokens, order.clone(), 1, &altered, &["a = 1"])),
            "page_token"
        );
        assert_eq!(
            refused_field(Keyset::open(
                &PageTokens::new(b"other"),
                order.clone(),
                1,
                &token,
                &["a = 1"]
            )),
            "page_token"
        );
        // Another filter, or the same filter in another order.
        assert_eq!(
            refused_field(Keyset::open(&tokens, order, 1, &token, &["a = 2"])),
            "page_token"
        );
        let ascending = Order::by("t.created_at", "t.id", Direction::Ascending);
        assert_eq!(
            refused_field(Keyset::open(&tokens, ascending, 1, &token, &["a = 1"])),
            "page_token"
        );
        assert_eq!(
            refused_field(Keyset::open(&tokens, Order::newest_first("t"), 1, "garbage!!", &[])),
            "page_token"
        );
    }

    #[test]
    fn page_sizes_follow_the_paging_rule() {
        let tokens = tokens();
        let order = Order::newest_first("t");
        assert_eq!(Keyset::open(&tokens, order.clone(), 0, "", &[]).unwrap().size(), 50);
        assert_eq!(
            Keyset::open(&tokens, order.clone(), 100_000, "", &[]).unwrap().size(),
            500
        );
        assert_eq!(refused_field(Keyset::open(&tokens, order, -1, "", &[])), "page_size");
    }

    #[test]
    fn unpaged_reads_take_the_same_order() {
        let mut q = read();
        Order::by("(CASE WHEN a > 0 THEN a ELSE b END)", "t.id", Direction::Ascending).push_order_by(&mut q);
        assert_eq!(
            q.sql,
            "SELECT id FROM t WHERE 1 = 1 ORDER BY (CASE WHEN a > 0 THEN a ELSE b END) ASC, t.id ASC"
        );
    }
}
