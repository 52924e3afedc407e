//! Ownership: who owns a customer, caps, the re-claim cooldown, reclaim locks, collaborators,
//! and the customers the reclaim rules select.

use crm_kit::Result;
use crm_kit::listing::{Direction, Keyset, Order, Page, Position};
use crm_kit::time::DAY_MICROS;
use sqlx::AnyConnection;

use super::SqlBuf;
use super::customers::{COLUMNS, CustomerRow};
use crate::domain::pool::PoolPolicy;

/// Serialises ownership changes of one owner: the row is touched first in the transaction, so
/// a concurrent change for the same owner waits (PostgreSQL row lock; SQLite holds the write
/// lock anyway) and then sees the committed counts.
pub async fn guard_owner(conn: &mut AnyConnection, owner_id: &str, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO owner_guards (owner_id, touched_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(owner_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE owner_guards SET touched_at = $1 WHERE owner_id = $2")
        .bind(now)
        .bind(owner_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many live customers an employee owns: in all, and of one level.
pub async fn owned_counts(conn: &mut AnyConnection, owner_id: &str, level_code: &str) -> Result<(i64, i64)> {
    let (total, of_level): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN level_code = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM customers WHERE owner_id = $1 AND deleted_at IS NULL",
    )
    .bind(owner_id)
    .bind(level_code)
    .fetch_one(conn)
    .await?;
    Ok((total, of_level))
}

/// How many customers an owner has locked against reclaim.
pub async fn locked_count(conn: &mut AnyConnection, owner_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND reclaim_locked = 1 AND deleted_at IS NULL",
    )
    .bind(owner_id)
    .fetch_one(conn)
    .await?)
}

/// When `employee_id` last released `customer_id`, if ever.
pub async fn released_at(conn: &mut AnyConnection, customer_id: &str, employee_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT released_at FROM pool_releases WHERE customer_id = $1 AND employee_id = $2")
            .bind(customer_id)
            .bind(employee_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Remembers that `employee_id` released `customer_id` now.
pub async fn remember_release(conn: &mut AnyConnection, customer_id: &str, employee_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO pool_releases (customer_id, employee_id, released_at) VALUES ($1, $2, $3) \
         ON CONFLICT (customer_id, employee_id) DO UPDATE SET released_at = excluded.released_at",
    )
    .bind(customer_id)
    .bind(employee_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a customer from `from_owner` to `to_owner` ('' = pool) in department
/// `to_department_path` if it still belongs to `from_owner` and is live; false when someone else
/// got there first.
#[allow(clippy::too_many_arguments)]
pub async fn change_owner(
    conn: &mut AnyConnection,
    id: &str,
    from_owner: &str,
    to_owner: &str,
    to_department_path: &str,
    actor: &str,
    now: i64,
) -> Result<bool> {
    let owned_since = if to_owner.is_empty() { 0 } else { now };
    let r = sqlx::query(
        "UPDATE customers SET owner_id = $1, owned_since = $2, reclaim_locked = CASE WHEN $1 = owner_id THEN reclaim_locked ELSE 0 END, \
         updated_at = $3, updated_by = $4, version = version + 1, owner_department_path = $7 \
         WHERE id = $5 AND owner_id = $6 AND deleted_at IS NULL",
    )
    .bind(to_owner)
    .bind(owned_since)
    .bind(now)
    .bind(actor)
    .bind(id)
    .bind(from_owner)
    .bind(if to_owner.is_empty() { "" } else { to_department_path })
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets or clears the reclaim lock.
pub async fn set_lock(conn: &mut AnyConnection, id: &str, locked: bool, actor: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE customers SET reclaim_locked = $1, updated_at = $2, updated_by = $3, version = version + 1 WHERE id = $4")
        .bind(i64::from(locked))
        .bind(now)
        .bind(actor)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the collaborators of a customer.
pub async fn set_collaborators(conn: &mut AnyConnection, id: &str, employees: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM customer_collaborators WHERE customer_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for e in employees {
        sqlx::query(
            "INSERT INTO customer_collaborators (customer_id, employee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(e)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether `employee_id` collaborates on `customer_id`.
pub async fn is_collaborator(conn: &mut AnyConnection, customer_id: &str, employee_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM customer_collaborators WHERE customer_id = $1 AND employee_id = $2",
    )
    .bind(customer_id)
    .bind(employee_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Appends the reclaim rules as a predicate on `c`: owned, unlocked, live customers whose
/// follow-up or order clock (counted from when they were taken, if later) passes its limit
/// before `horizon`.
pub fn push_reclaim_predicate(q: &mut SqlBuf, policy: &PoolPolicy, horizon: i64) -> bool {
    let ruled: Vec<&str> = policy.level_rules.iter().map(|r| r.level_code.as_str()).collect();
    let mut rules: Vec<(Option<&str>, &crate::domain::pool::LevelRule)> = policy
        .level_rules
        .iter()
        .map(|r| (Some(r.level_code.as_str()), r))
        .collect();
    rules.push((None, &policy.default_rule));
    let mut any = false;
    q.push(" AND c.owner_id <> '' AND c.reclaim_locked = 0 AND c.deleted_at IS NULL AND (");
    for (level, rule) in rules {
        let mut parts = Vec::new();
        if rule.no_follow_up_days > 0 {
            parts.push((
                "CASE WHEN c.last_follow_up_at > c.owned_since THEN c.last_follow_up_at ELSE c.owned_since END",
                rule.no_follow_up_days,
            ));
        }
        if rule.no_order_days > 0 {
            parts.push((
                "CASE WHEN c.last_order_at > c.owned_since THEN c.last_order_at ELSE c.owned_since END",
                rule.no_order_days,
            ));
        }
        if parts.is_empty() {
            continue;
        }
        if any {
            q.push(" OR ");
        }
        any = true;
        q.push("(");
        match level {
            Some(l) => {
                q.push("c.level_code = ").text(l);
            }
            None => {
                q.not_in_texts("c.level_code", ruled.iter().copied());
            }
        }
        q.push(" AND (");
        for (i, (clock, days)) in parts.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push(clock).push(" < ").int(horizon - i64::from(*days) * DAY_MICROS);
        }
        q.push("))");
    }
    if !any {
        q.push("1 = 0");
    }
    q.push(")");
    any
}

/// When and by which rule an owned customer falls due, under the policy.
pub fn due(policy: &PoolPolicy, c: &CustomerRow) -> Option<(&'static str, i64)> {
    let rule = policy.rule_for(&c.fields.level_code);
    let mut best: Option<(&'static str, i64)> = None;
    if rule.no_follow_up_days > 0 {
        let t = c.last_follow_up_at.max(c.owned_since) + i64::from(rule.no_follow_up_days) * DAY_MICROS;
        best = Some(("no_follow_up", t));
    }
    if rule.no_order_days > 0 {
        let t = c.last_order_at.max(c.owned_since) + i64::from(rule.no_order_days) * DAY_MICROS;
        if best.is_none_or(|(_, b)| t < b) {
            best = Some(("no_order", t));
        }
    }
    best
}

/// The order reclaim candidates are listed in: by id.
pub fn reclaim_order() -> Order {
    Order::by_id("c.id", Direction::Ascending)
}

/// The page `keyset` asks for (in [`reclaim_order`]) of the customers the rules select before
/// `horizon`.
pub async fn reclaim_candidates_page(
    conn: &mut AnyConnection,
    policy: &PoolPolicy,
    horizon: i64,
    scope: &crm_kit::auth::ReadScope,
    keyset: &Keyset<'_>,
) -> Result<Page<CustomerRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM customers c"), scope);
    push_reclaim_predicate(&mut q, policy, horizon);
    keyset.fetch(conn, q, |c: &CustomerRow| Position::at_id(&c.id)).await
}

/// A batch of the customers the rules select before `horizon`, by id after `after_id`.
pub async fn reclaim_candidates(
    conn: &mut AnyConnection,
    policy: &PoolPolicy,
    horizon: i64,
    scope: &crm_kit::auth::ReadScope,
    after_id: &str,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM customers c"), scope);
    q.push(" AND c.id > ").text(after_id);
    push_reclaim_predicate(&mut q, policy, horizon);
    q.push(" ORDER BY c.id LIMIT ").int(limit);
    super::customers::fetch(conn, &q).await
}
