//! The fuzzy-search index. `LIKE '%x%'` over a million rows is a full scan on both backends, so
//! every customer keeps hashed character bigrams of its name, short name, contact names and
//! phone numbers, written in the same transaction as the change. A search asks the index for
//! the customers holding all of the query's bigrams, then verifies the real substring against
//! `search_text` (hash collisions and bigrams from different fields drop out).
//!
//! Where the bigrams live differs by backend (migration 3): on PostgreSQL in the `grams`
//! array of the customer row under a GIN index, on SQLite in the `customer_grams` table (one
//! B-tree row per bigram and customer, intersected per query).

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::db::{Backend, backend};
use crm_kit::filter::{CompiledFilter, SqlValue};
use sqlx::AnyConnection;

use super::SqlBuf;
use super::contacts::ContactRow;
use super::customers::{self, CustomerRow};
use crate::domain::customer::CustomerFields;
use crate::domain::names::{self, SearchQuery};

/// The texts of one customer that search covers.
#[derive(Debug, Default, Clone)]
pub struct SearchTexts {
    pub texts: Vec<String>,
}

impl SearchTexts {
    /// The texts of a customer's fields and its primary contact (create, import).
    pub fn of(fields: &CustomerFields, contact: Option<&ContactRow>) -> SearchTexts {
        let mut texts = vec![fields.name.clone(), fields.short_name.clone()];
        texts.extend(phone_texts(&[&fields.phone, &fields.mobile]));
        if let Some(c) = contact {
            texts.push(c.name.clone());
            texts.extend(phone_texts(&[&c.mobile, &c.phone]));
        }
        texts.retain(|t| !t.is_empty());
        SearchTexts { texts }
    }

    /// The normalised text stored for substring verification: fields joined with '|', which
    /// normalisation removes from queries, so a match never spans two fields.
    pub fn search_text(&self) -> String {
        self.texts
            .iter()
            .map(|t| names::normalize_text(t))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The hashed bigrams of every text.
    pub fn grams(&self) -> Vec<i64> {
        let refs: Vec<&str> = self.texts.iter().map(String::as_str).collect();
        names::index_grams(&refs)
    }

    /// What the customer row stores for search.
    pub fn entry(&self) -> SearchEntry {
        SearchEntry {
            text: self.search_text(),
            grams: self.grams(),
        }
    }
}

/// A customer's search data as stored: the verification text and the sorted bigram hashes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SearchEntry {
    pub text: String,
    pub grams: Vec<i64>,
}

impl SearchEntry {
    /// The bigrams as a PostgreSQL array literal (`{1,2,3}`), bound as text and cast.
    pub fn grams_literal(&self) -> String {
        array_literal(&self.grams)
    }
}

fn array_literal(grams: &[i64]) -> String {
    let mut out = String::with_capacity(grams.len() * 20 + 2);
    out.push('{');
    for (i, g) in grams.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&g.to_string());
    }
    out.push('}');
    out
}

/// Gathers the searchable texts of a customer from its row and contacts.
pub async fn texts_of(conn: &mut AnyConnection, customer_id: &str) -> Result<SearchTexts> {
    let base: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT name, short_name, phone, mobile FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((name, short_name, phone, mobile)) = base else {
        return Ok(SearchTexts::default());
    };
    let contacts: Vec<(String, String, String)> =
        sqlx::query_as("SELECT name, mobile, phone FROM contacts WHERE customer_id = $1 ORDER BY created_at, id")
            .bind(customer_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut texts = vec![name, short_name];
    texts.extend(phone_texts(&[&phone, &mobile]));
    for (n, m, p) in contacts {
        texts.push(n);
        texts.extend(phone_texts(&[&m, &p]));
    }
    texts.retain(|t| !t.is_empty());
    Ok(SearchTexts { texts })
}

/// The searchable forms of stored (E.164) numbers: the international and the national digits,
/// so a fragment typed either way is found (`0755 8888`, `+86 755 8888`, `0013 8000`).
fn phone_texts(numbers: &[&str]) -> Vec<String> {
    numbers
        .iter()
        .filter(|n| !n.is_empty())
        .flat_map(|n| crm_kit::phone::search_forms(n))
        .collect()
}

/// Rebuilds the search data of one customer after its name, phones or contacts changed.
pub async fn reindex(conn: &mut AnyConnection, customer_id: &str) -> Result<()> {
    let old_text: Option<String> = sqlx::query_scalar("SELECT search_text FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
    let entry = texts_of(conn, customer_id).await?.entry();
    if backend(conn) == Backend::Postgres {
        if old_text.as_deref() != Some(entry.text.as_str()) {
            sqlx::query("UPDATE customers SET search_text = $1, grams = CAST($2 AS BIGINT[]) WHERE id = $3")
                .bind(&entry.text)
                .bind(entry.grams_literal())
                .bind(customer_id)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(());
    }
    // SQLite: touch only the gram rows that changed. The old grams come from the stored search
    // text (its parts are already normalised).
    let old_parts: Vec<&str> = old_text
        .as_deref()
        .unwrap_or("")
        .split('|')
        .filter(|p| !p.is_empty())
        .collect();
    let old = names::index_grams(&old_parts);
    let new = &entry.grams;
    let gone: Vec<i64> = old.iter().copied().filter(|g| new.binary_search(g).is_err()).collect();
    let added: Vec<i64> = new.iter().copied().filter(|g| old.binary_search(g).is_err()).collect();
    for chunk in gone.chunks(crm_kit::db::rows_per_statement(conn, 1)) {
        let mut q = SqlBuf::new("DELETE FROM customer_grams WHERE customer_id = ");
        q.text(customer_id).push(" AND gram IN (");
        for (i, g) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.int(*g);
        }
        q.push(")");
        q.query().execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE customers SET search_text = $1 WHERE id = $2")
        .bind(&entry.text)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    insert_grams(conn, &[(customer_id, added.as_slice())]).await
}

/// Inserts the gram rows of new customers on SQLite (create, import); on PostgreSQL the
/// bigrams went in with the customer rows and this does nothing.
pub async fn insert_grams(conn: &mut AnyConnection, per_customer: &[(&str, &[i64])]) -> Result<()> {
    for q in gram_statements(backend(conn), per_customer) {
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The statements of [`insert_grams`] (none on PostgreSQL).
pub fn gram_statements(on: Backend, per_customer: &[(&str, &[i64])]) -> Vec<SqlBuf> {
    if on == Backend::Postgres {
        return Vec::new();
    }
    let rows: Vec<(&str, i64)> = per_customer
        .iter()
        .flat_map(|(id, grams)| grams.iter().map(move |g| (*id, *g)))
        .collect();
    rows.chunks(crm_kit::db::rows_per_statement_on(on, 2))
        .map(|chunk| {
            let mut q = SqlBuf::new("INSERT INTO customer_grams (gram, customer_id) VALUES ");
            for (i, (id, gram)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(").int(*gram).push(", ").text(*id).push(")");
            }
            q.push(" ON CONFLICT DO NOTHING");
            q
        })
        .collect()
}

/// Most bigrams one SQLite search intersects (SQLite's compound-SELECT limit is 500).
pub const MAX_INDEX_TERMS: usize = 64;

/// Appends the search predicate for `query` (on table alias `c`) to a WHERE clause being built.
/// Returns false when the query normalises to nothing (no predicate added).
pub fn push_predicate(q: &mut SqlBuf, query: &str, on: Backend) -> bool {
    let Some(parsed) = names::parse_query(query) else {
        return false;
    };
    push_index_predicate(q, &parsed, on);
    // The normalised query holds only letters and digits, so it needs no LIKE escaping.
    q.push(" AND c.search_text LIKE ")
        .text(format!("%{}%", parsed.normalized));
    true
}

/// Appends the bigram index's part of the search predicate: the customers holding every bigram
/// of the query (a superset of the matches; the substring is verified separately).
pub fn push_index_predicate(q: &mut SqlBuf, parsed: &names::SearchQuery, on: Backend) {
    if parsed.grams.is_empty() {
        return;
    }
    if on == Backend::Postgres {
        // Planned with the real array (a one-off statement), so the planner's per-bigram
        // statistics choose between the GIN index and walking the requested order.
        q.one_off();
        push_grams_all(q, &parsed.grams);
    } else {
        // One compound-SELECT term per gram, and SQLite allows 500 terms: a long query (NFKC
        // can turn one character into many) narrows by some of its grams only, which is still
        // exact because the substring is verified.
        q.push(" AND c.id IN (");
        for (i, gram) in parsed.grams.iter().take(MAX_INDEX_TERMS).enumerate() {
            if i > 0 {
                q.push(" INTERSECT ");
            }
            q.push("SELECT customer_id FROM customer_grams WHERE gram = ")
                .int(*gram);
        }
        q.push(")");
    }
}

/// PostgreSQL: `c` holds every one of `grams` (the GIN index's containment).
pub fn push_grams_all(q: &mut SqlBuf, grams: &[i64]) {
    q.push(" AND c.grams @> CAST(")
        .text(array_literal(grams))
        .push(" AS BIGINT[])");
}

/// SQLite: `c` holds `gram`.
pub fn push_gram(q: &mut SqlBuf, gram: i64) {
    q.push(" AND c.id IN (SELECT customer_id FROM customer_grams WHERE gram = ")
        .int(gram)
        .push(")");
}

/// SQLite: how many customers hold `gram`, counted up to `cap`.
pub async fn gram_count(conn: &mut AnyConnection, gram: i64, cap: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM customer_grams WHERE gram = $1 LIMIT $2)",
    )
    .bind(gram)
    .bind(cap)
    .fetch_one(conn)
    .await?)
}

/// What the statements of a ranked search share (on table alias `c`): the query, its name key,
/// the list's filter, and whether deleted customers count.
pub struct Ranked<'a> {
    pub query: &'a SearchQuery,
    /// The query's name key; empty when it has none.
    pub key: &'a str,
    /// The first string after every key that starts with `key` (byte order).
    pub key_end: &'a str,
    pub filter: Option<&'a CompiledFilter>,
    pub show_deleted: bool,
}

impl Ranked<'_> {
    /// Appends the conditions every match meets: not deleted unless asked, the substring.
    fn push_substring(&self, q: &mut SqlBuf) {
        if !self.show_deleted {
            q.push(" AND c.deleted_at IS NULL");
        }
        // The normalised query holds only letters and digits, so it needs no LIKE escaping.
        q.push(" AND c.search_text LIKE ")
            .text(format!("%{}%", self.query.normalized));
    }

    /// Appends the conditions of every ranked statement: the substring's, then the filter.
    fn push(&self, q: &mut SqlBuf) {
        self.push_substring(q);
        if let Some(f) = self.filter {
            q.push(" AND ").filter(f);
        }
    }

    fn select(scope: &ReadScope) -> SqlBuf {
        SqlBuf::read(&format!("SELECT {} FROM customers c", customers::COLUMNS), scope)
    }
}

/// The bigram condition that narrows a probe of the index.
#[derive(Debug, Clone, Copy)]
pub enum Narrowing<'a> {
    /// PostgreSQL: the customers holding every one of these bigrams (the GIN index intersects
    /// their lists; planned with the real array so its per-bigram statistics apply).
    Every(&'a [i64]),
    /// SQLite: the customers holding this bigram (a superset of the matches).
    One(i64),
}

/// The ids of up to `limit` matches in `scope` narrowed by `by` (the filter does not apply).
pub async fn probe(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    by: Narrowing<'_>,
    when: &Ranked<'_>,
    limit: i64,
) -> Result<Vec<String>> {
    let mut q = SqlBuf::read("SELECT c.id FROM customers c", scope);
    match by {
        Narrowing::Every(grams) => {
            q.one_off();
            push_grams_all(&mut q, grams);
        }
        Narrowing::One(gram) => push_gram(&mut q, gram),
    }
    when.push_substring(&mut q);
    q.push(" LIMIT ").int(limit);
    Ok(q.scalar::<String>().fetch_all(conn).await?)
}

/// The ids and name keys of the matches among `ids` in `scope`.
pub async fn name_keys(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    ids: &[String],
    when: &Ranked<'_>,
) -> Result<Vec<(String, String)>> {
    let mut q = SqlBuf::read("SELECT c.id, c.name_key FROM customers c", scope);
    q.push(" AND ").in_texts("c.id", ids.iter().map(String::as_str));
    when.push(&mut q);
    Ok(q.query_as().fetch_all(conn).await?)
}

/// The customers `ids` in `scope`, in no particular order.
pub async fn rows_of(conn: &mut AnyConnection, scope: &ReadScope, ids: &[&str]) -> Result<Vec<CustomerRow>> {
    let mut q = Ranked::select(scope);
    q.push(" AND ").in_texts("c.id", ids.iter().copied());
    customers::fetch(conn, &q).await
}

/// Up to `limit` matches in `scope` whose name key is the query's, newest first below `before`.
pub async fn exact_names(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    when: &Ranked<'_>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let mut q = Ranked::select(scope);
    q.push(" AND c.name_key = ").text(when.key);
    when.push(&mut q);
    if let Some(id) = before {
        q.push(" AND c.id < ").text(id);
    }
    q.push(" ORDER BY c.id DESC LIMIT ").int(limit);
    customers::fetch(conn, &q).await
}

/// Up to `limit` matches in `scope` whose name key starts with the query's (and is longer), by
/// name key and id after `after` (a name key and id).
pub async fn prefixed_names(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    when: &Ranked<'_>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let mut q = Ranked::select(scope);
    q.push(" AND c.name_key > ")
        .text(when.key)
        .push(" AND c.name_key < ")
        .text(when.key_end);
    when.push(&mut q);
    if let Some((key, id)) = after {
        let k = q.param(SqlValue::Text(key.to_string()));
        let id = q.param(SqlValue::Text(id.to_string()));
        q.push(&format!(" AND (c.name_key, c.id) > ({k}, {id})"));
    }
    q.push(" ORDER BY c.name_key, c.id LIMIT ").int(limit);
    customers::fetch(conn, &q).await
}

/// The id `offset` places below `before` (or below the newest customer) in `scope`, read from
/// the primary key's index alone.
pub async fn id_below(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    before: Option<&str>,
    offset: i64,
) -> Result<Option<String>> {
    let mut q = SqlBuf::read("SELECT c.id FROM customers c", scope);
    if let Some(b) = before {
        q.push(" AND c.id < ").text(b);
    }
    q.push(" ORDER BY c.id DESC LIMIT 1 OFFSET ").int(offset);
    Ok(q.scalar::<String>().fetch_optional(conn).await?)
}

/// Which customers below `before` a read of the rest class covers.
#[derive(Debug, Clone, Copy)]
pub enum Stretch<'a> {
    /// Those from this id up (every one when None), walked newest first.
    Walk(Option<&'a str>),
    /// Those below this id, found through the bigram index.
    Indexed(&'a str, Backend),
}

/// Up to `limit` matches in `scope` whose name key does not start with the query's, newest
/// first below `before`, within `stretch`.
pub async fn other_names(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    when: &Ranked<'_>,
    before: Option<&str>,
    stretch: Stretch<'_>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let mut q = Ranked::select(scope);
    if !when.key.is_empty() {
        q.push(" AND NOT (c.name_key >= ")
            .text(when.key)
            .push(" AND c.name_key < ")
            .text(when.key_end)
            .push(")");
    }
    when.push(&mut q);
    if let Some(b) = before {
        q.push(" AND c.id < ").text(b);
    }
    match stretch {
        Stretch::Walk(Some(low)) => {
            q.push(" AND c.id >= ").text(low);
        }
        Stretch::Walk(None) => {}
        Stretch::Indexed(low, on) => {
            q.push(" AND c.id < ").text(low);
            push_index_predicate(&mut q, when.query, on);
        }
    }
    q.push(" ORDER BY c.id DESC LIMIT ").int(limit);
    customers::fetch(conn, &q).await
}

/// Close-match candidates come from every owner's customers, as exact duplicates do.
const DUPLICATE_SEARCH: crm_kit::auth::ReadScope =
    crm_kit::auth::ReadScope::everything("duplicate detection spans every owner");

/// Customers sharing the most bigrams with `texts` (candidates for close matches).
pub async fn similar_candidates(conn: &mut AnyConnection, texts: &[&str], limit: i64) -> Result<Vec<String>> {
    let grams = names::index_grams(texts);
    if grams.is_empty() {
        return Ok(Vec::new());
    }
    if backend(conn) == Backend::Postgres {
        let mut q = SqlBuf::read("SELECT c.id FROM customers c", &DUPLICATE_SEARCH);
        q.push(" AND c.grams && CAST(");
        let wanted = q.param(crm_kit::filter::SqlValue::Text(array_literal(&grams)));
        q.push(&format!(
            "{wanted} AS BIGINT[]) ORDER BY (SELECT COUNT(*) FROM unnest(c.grams) AS g(v) \
             WHERE g.v = ANY(CAST({wanted} AS BIGINT[]))) DESC, c.id LIMIT "
        ))
        .int(limit);
        return Ok(q.scalar::<String>().fetch_all(conn).await?);
    }
    let mut q = SqlBuf::read("SELECT g.customer_id FROM customer_grams g", &DUPLICATE_SEARCH);
    q.push(" AND g.gram IN (");
    for (i, gram) in grams.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.int(*gram);
    }
    q.push(") GROUP BY g.customer_id ORDER BY COUNT(*) DESC, g.customer_id LIMIT ")
        .int(limit);
    Ok(q.scalar::<String>().fetch_all(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_search_stays_within_the_compound_select_limit() {
        // 200 characters that NFKC unfolds into 18 letters each (U+FDFA), and 3,000 distinct
        // pairs: neither asks SQLite for more than MAX_INDEX_TERMS intersected selects.
        let wide = "\u{FDFA}".repeat(crm_kit::text::MAX_SEARCH_QUERY_CHARS);
        let many: String = (0..3000u32).map(|i| char::from_u32(0x4E00 + i).unwrap()).collect();
        for query in [wide.as_str(), many.as_str()] {
            let mut q = SqlBuf::read("SELECT c.id FROM customers c", &DUPLICATE_SEARCH);
            assert!(push_predicate(&mut q, query, Backend::Sqlite));
            let terms = q.sql.matches("SELECT customer_id FROM customer_grams").count();
            assert!((1..=MAX_INDEX_TERMS).contains(&terms), "{terms} terms");
            assert!(q.sql.matches(" INTERSECT ").count() < 500);
        }
    }
}
