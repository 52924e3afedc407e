//! Ranked search: the pages of a `query` without an `order_by`.
//!
//! Results come the way a salesperson looks for a customer: the exact name first (compared
//! without its legal form, as duplicates are), then names that start with the query (in name
//! order), then every other customer holding the query anywhere (newest first). The set is
//! always exactly the customers whose `search_text` contains the normalised query; only the
//! order is ranked.
//!
//! The plan depends on how common the query is, because no single plan is fast for both:
//! - **Rare** (at most [`PROBE`] customers hold it): the bigram index names every match, the
//!   page is ranked from their ids and keys, and only the page's rows are read.
//! - **Common**: the exact names are read by key, the prefix class walks the `name_key` index
//!   from the query, and the rest walks the customers newest first, which a common piece fills
//!   within a few hundred rows. A walk reads at most [`WINDOW`] customers per page; where the
//!   matches are clustered (an import sorted by the piece) the remainder comes from the index.
//!
//! Scope, filters and deleted customers apply inside every plan: each statement starts from the
//! caller's [`ReadScope`](crm_kit::auth::ReadScope).

use std::cmp::Ordering;

use crm_kit::Result;
use crm_kit::auth::{Principal, ReadScope};
use crm_kit::db::Backend;
use crm_kit::filter::CompiledFilter;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::scope;
use crate::domain::names::{self, SearchQuery};
use crate::store::customers::CustomerRow;
use crate::store::search::{self, Narrowing, Ranked, Stretch};

/// Most matches a query may have to be planned as rare.
pub const PROBE: usize = 2_000;

/// Most customers one page's walk of the rest reads before asking the index.
pub const WINDOW: i64 = 10_000;

/// The probe counts matches over every owner; the page itself is read in the caller's scope.
const PROBE_SCOPE: ReadScope = ReadScope::everything("counting a query's matches to plan it; pages are read in scope");

/// The rank classes, in page order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Class {
    /// The name, without its legal form, is the query.
    Exact = 0,
    /// The name starts with the query.
    Prefix = 1,
    /// The query is anywhere else (name, short name, contact, phone numbers).
    Rest = 2,
}

/// Where a ranked page ends: the class, name key and id of its last row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankCursor {
    c: Class,
    k: String,
    id: String,
}

/// What a ranked search compares: the normalised query and its name key.
pub struct Ranking {
    parsed: SearchQuery,
    key: String,
    /// The first string after every key that starts with `key` (byte order).
    key_end: String,
}

impl Ranking {
    /// The ranking of `query`; None when it normalises to nothing.
    pub fn of(query: &str) -> Option<Ranking> {
        let parsed = names::parse_query(query)?;
        let key = names::name_key(query);
        let key_end = format!("{key}\u{10FFFF}");
        Some(Ranking { parsed, key, key_end })
    }

    /// The class of a matching customer with this name key.
    pub fn class(&self, name_key: &str) -> Class {
        if self.key.is_empty() {
            Class::Rest
        } else if name_key == self.key {
            Class::Exact
        } else if name_key.starts_with(&self.key) {
            Class::Prefix
        } else {
            Class::Rest
        }
    }
}

/// Orders two ranked rows: by class, then name key and id within prefixes, newest first
/// elsewhere.
fn rank_order(a: (Class, &str, &str), b: (Class, &str, &str)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| match a.0 {
        Class::Prefix => (a.1, a.2).cmp(&(b.1, b.2)),
        Class::Exact | Class::Rest => b.2.cmp(a.2),
    })
}

/// What a ranked search asks besides its page: the query's ranking, and the conditions every
/// ranked statement shares (not deleted unless asked, the substring, the filter).
pub struct Conditions<'a> {
    pub ranking: &'a Ranking,
    pub filter: Option<&'a CompiledFilter>,
    pub show_deleted: bool,
}

impl Conditions<'_> {
    /// The conditions as the store's ranked statements take them.
    fn ranked(&self) -> Ranked<'_> {
        Ranked {
            query: &self.ranking.parsed,
            key: &self.ranking.key,
            key_end: &self.ranking.key_end,
            filter: self.filter,
            show_deleted: self.show_deleted,
        }
    }
}

/// One ranked page: up to `limit` rows after `cursor`, in rank order, each with its cursor.
pub async fn page(
    conn: &mut AnyConnection,
    on: Backend,
    caller: &Principal,
    when: &Conditions<'_>,
    cursor: Option<&RankCursor>,
    limit: usize,
) -> Result<Vec<(CustomerRow, RankCursor)>> {
    let ranking = when.ranking;
    let rows = match probe(conn, on, when).await? {
        Some(ids) => rare_page(conn, caller, when, &ids, cursor, limit).await?,
        None => common_page(conn, on, caller, when, cursor, limit).await?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let c = ranking.class(&row.name_key);
            let cursor = RankCursor {
                c,
                k: row.name_key.clone(),
                id: row.id.clone(),
            };
            (row, cursor)
        })
        .collect())
}

/// The ids of every match when there are at most [`PROBE`] of them; None for a common query
/// (or one too short for bigrams).
async fn probe(conn: &mut AnyConnection, on: Backend, when: &Conditions<'_>) -> Result<Option<Vec<String>>> {
    let grams = &when.ranking.parsed.grams;
    if grams.is_empty() {
        return Ok(None);
    }
    let by = if on == Backend::Postgres {
        Narrowing::Every(grams)
    } else {
        // SQLite: the rarest bigram's list is a superset of the matches. A list is counted only
        // up to PROBE + 1 entries, so common bigrams cost little.
        let mut rarest: Option<(i64, i64)> = None;
        for &gram in grams.iter().take(search::MAX_INDEX_TERMS) {
            let n = search::gram_count(conn, gram, PROBE as i64 + 1).await?;
            if rarest.is_none_or(|(_, m)| n < m) {
                rarest = Some((gram, n));
            }
            if n <= 64 {
                break;
            }
        }
        match rarest {
            Some((gram, n)) if n <= PROBE as i64 => Narrowing::One(gram),
            _ => return Ok(None),
        }
    };
    let ids = search::probe(conn, &PROBE_SCOPE, by, &when.ranked(), PROBE as i64 + 1).await?;
    Ok((ids.len() <= PROBE).then_some(ids))
}

/// A rare query's page: rank every match in scope by its key, then read the page's rows.
async fn rare_page(
    conn: &mut AnyConnection,
    caller: &Principal,
    when: &Conditions<'_>,
    ids: &[String],
    cursor: Option<&RankCursor>,
    limit: usize,
) -> Result<Vec<CustomerRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = search::name_keys(conn, &scope(caller), ids, &when.ranked()).await?;
    let mut ranked: Vec<(Class, String, String)> = found
        .into_iter()
        .map(|(id, key)| (when.ranking.class(&key), key, id))
        .filter(|(c, k, id)| {
            cursor.is_none_or(|at| rank_order((*c, k, id), (at.c, &at.k, &at.id)) == Ordering::Greater)
        })
        .collect();
    ranked.sort_by(|a, b| rank_order((a.0, &a.1, &a.2), (b.0, &b.1, &b.2)));
    ranked.truncate(limit);
    let page_ids: Vec<&str> = ranked.iter().map(|(_, _, id)| id.as_str()).collect();
    let mut rows = search::rows_of(conn, &scope(caller), &page_ids).await?;
    let position = |id: &str| page_ids.iter().position(|p| *p == id).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| position(&r.id));
    Ok(rows)
}

/// A common query's page: each class in turn from where the cursor stands.
async fn common_page(
    conn: &mut AnyConnection,
    on: Backend,
    caller: &Principal,
    when: &Conditions<'_>,
    cursor: Option<&RankCursor>,
    limit: usize,
) -> Result<Vec<CustomerRow>> {
    let ranked = when.ranked();
    let from = cursor.map_or(Class::Exact, |c| c.c);
    let after = |class: Class| cursor.filter(|c| c.c == class);
    let mut rows = Vec::new();
    let has_key = !when.ranking.key.is_empty();

    if has_key && from <= Class::Exact {
        let before = after(Class::Exact).map(|c| c.id.as_str());
        let room = remaining(limit, &rows);
        rows.extend(search::exact_names(conn, &scope(caller), &ranked, before, room).await?);
    }
    if has_key && from <= Class::Prefix && rows.len() < limit {
        let after = after(Class::Prefix).map(|c| (c.k.as_str(), c.id.as_str()));
        let room = remaining(limit, &rows);
        rows.extend(search::prefixed_names(conn, &scope(caller), &ranked, after, room).await?);
    }
    if rows.len() < limit {
        let before = after(Class::Rest).map(|c| c.id.as_str());
        rows.extend(rest(conn, on, caller, when, before, limit - rows.len()).await?);
    }
    Ok(rows)
}

/// The rest class, newest first below `before`: a bounded walk, then the index for what the
/// walk did not reach.
async fn rest(
    conn: &mut AnyConnection,
    on: Backend,
    caller: &Principal,
    when: &Conditions<'_>,
    before: Option<&str>,
    limit: usize,
) -> Result<Vec<CustomerRow>> {
    let ranked = when.ranked();
    // The lower end of the walk: the WINDOW-th customer below `before` (ids alone, read from
    // the primary key's index).
    let low = search::id_below(conn, &PROBE_SCOPE, before, WINDOW - 1).await?;
    let walk = Stretch::Walk(low.as_deref());
    let mut rows = search::other_names(conn, &scope(caller), &ranked, before, walk, limit as i64).await?;
    if let Some(low) = low.as_deref()
        && rows.len() < limit
    {
        let indexed = Stretch::Indexed(low, on);
        let more = (limit - rows.len()) as i64;
        rows.extend(search::other_names(conn, &scope(caller), &ranked, before, indexed, more).await?);
    }
    Ok(rows)
}

fn remaining(limit: usize, rows: &[CustomerRow]) -> i64 {
    (limit - rows.len().min(limit)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_name_key() {
        let r = Ranking::of("深圳市腾飞").unwrap();
        assert_eq!(r.class("深圳市腾飞"), Class::Exact);
        assert_eq!(r.class("深圳市腾飞科技"), Class::Prefix);
        assert_eq!(r.class("广州深圳市腾飞"), Class::Rest);
        // The legal form does not count: the exact name without it is exact.
        let r = Ranking::of("腾飞科技有限公司").unwrap();
        assert_eq!(r.class(&names::name_key("腾飞科技有限公司")), Class::Exact);
    }

    #[test]
    fn prefix_keys_lie_between_the_key_and_its_end() {
        let r = Ranking::of("ab").unwrap();
        for k in ["ab", "abc", "ab9", "ab深"] {
            assert!(k >= r.key.as_str() && k < r.key_end.as_str(), "{k}");
        }
        for k in ["a", "aa", "b", "ac"] {
            assert!(!(k >= r.key.as_str() && k < r.key_end.as_str()), "{k}");
        }
    }

    #[test]
    fn the_rank_order_puts_prefixes_by_key_and_the_rest_newest_first() {
        let mut rows = [
            (Class::Rest, "x", "01"),
            (Class::Prefix, "abz", "05"),
            (Class::Rest, "y", "09"),
            (Class::Exact, "ab", "02"),
            (Class::Prefix, "abc", "07"),
        ];
        rows.sort_by(|a, b| rank_order(*a, *b));
        let ids: Vec<&str> = rows.iter().map(|r| r.2).collect();
        assert_eq!(ids, ["02", "07", "05", "09", "01"]);
    }
}
