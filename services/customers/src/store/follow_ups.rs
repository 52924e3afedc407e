//! Follow-ups (every contact with a customer), managers' comments, and the customer's
//! last/next follow-up times they move.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::listing::{Direction, Keyset, Order, Page, Position};
use sqlx::AnyConnection;

/// A stored follow-up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUpRow {
    pub id: String,
    pub customer_id: String,
    pub contact_id: String,
    pub method: String,
    pub occurred_at: i64,
    pub summary: String,
    pub outcome: String,
    pub next_contact_at: i64,
    pub next_plan: String,
    pub author_id: String,
    pub check_in_at: i64,
    pub check_in_latitude: String,
    pub check_in_longitude: String,
    pub check_in_address: String,
    pub created_at: i64,
}

/// A stored comment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: String,
    pub follow_up_id: String,
    pub author_id: String,
    pub text: String,
    pub created_at: i64,
}

const SELECT: &str = "SELECT id, customer_id, contact_id, method, occurred_at, summary, outcome, next_contact_at, next_plan, \
    author_id, check_in_at, check_in_latitude, check_in_longitude, check_in_address, created_at FROM follow_ups";

/// Inserts a follow-up.
pub async fn insert(conn: &mut AnyConnection, f: &FollowUpRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO follow_ups (id, customer_id, contact_id, method, occurred_at, summary, outcome, next_contact_at, next_plan, \
         author_id, check_in_at, check_in_latitude, check_in_longitude, check_in_address, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&f.id)
    .bind(&f.customer_id)
    .bind(&f.contact_id)
    .bind(&f.method)
    .bind(f.occurred_at)
    .bind(&f.summary)
    .bind(&f.outcome)
    .bind(f.next_contact_at)
    .bind(&f.next_plan)
    .bind(&f.author_id)
    .bind(f.check_in_at)
    .bind(&f.check_in_latitude)
    .bind(&f.check_in_longitude)
    .bind(&f.check_in_address)
    .bind(f.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the customer's last follow-up time forward, and takes the next contact time of the
/// newest follow-up.
pub async fn apply_to_customer(conn: &mut AnyConnection, f: &FollowUpRow) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET next_follow_up_at = CASE WHEN $1 >= last_follow_up_at THEN $2 ELSE next_follow_up_at END, \
         last_follow_up_at = CASE WHEN $1 > last_follow_up_at THEN $1 ELSE last_follow_up_at END WHERE id = $3",
    )
    .bind(f.occurred_at)
    .bind(f.next_contact_at)
    .bind(&f.customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One follow-up.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<FollowUpRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The order follow-ups are listed in: the latest contact first.
pub fn order() -> Order {
    Order::by("occurred_at", "id", Direction::Descending)
}

/// The page `keyset` asks for (in [`order`]) of a customer's follow-ups.
pub async fn page(conn: &mut AnyConnection, customer_id: &str, keyset: &Keyset<'_>) -> Result<Page<FollowUpRow>> {
    let mut q = super::SqlBuf::read(
        SELECT,
        &ReadScope::everything("the follow-ups of a customer the caller's scoped read found"),
    );
    q.push(" AND customer_id = ").text(customer_id);
    keyset
        .fetch(conn, q, |f: &FollowUpRow| Position::at(f.occurred_at, &f.id))
        .await
}

/// Comments of several follow-ups, oldest first.
pub async fn comments(conn: &mut AnyConnection, follow_up_ids: &[&str]) -> Result<Vec<CommentRow>> {
    if follow_up_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = super::SqlBuf::read(
        "SELECT id, follow_up_id, author_id, text, created_at FROM follow_up_comments",
        &ReadScope::everything("comments of follow-ups read in scope"),
    );
    q.push(" AND ")
        .in_texts("follow_up_id", follow_up_ids.iter().copied())
        .push(" ORDER BY created_at, id");
    Ok(q.query_as().fetch_all(conn).await?)
}

/// Adds a comment.
pub async fn insert_comment(conn: &mut AnyConnection, c: &CommentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO follow_up_comments (id, follow_up_id, author_id, text, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&c.id)
    .bind(&c.follow_up_id)
    .bind(&c.author_id)
    .bind(&c.text)
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}
