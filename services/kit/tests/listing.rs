//! Keyset pages against real databases (SQLite, or PostgreSQL with `CRM_TEST_POSTGRES_URL`):
//! paging through a list whose sort key repeats shows every row once, in order, and the last
//! page carries no token.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

use crm_kit::auth::ReadScope;
use crm_kit::db::{Db, Migration};
use crm_kit::listing::{Direction, Keyset, Order, Position};
use crm_kit::paging::PageTokens;
use crm_kit::sql::SqlBuf;
use crm_kit::testing::fresh_database;

const TASKS: Migration = Migration {
    version: 1,
    name: "tasks",
    only_on: None,
    sql: "CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, due_at BIGINT NOT NULL, done BIGINT NOT NULL)",
};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Task {
    id: String,
    title: String,
    due_at: i64,
}

/// Twelve tasks, three to a due time and two to a title, and one that is done.
async fn database(prefix: &str) -> Db {
    let url = fresh_database(prefix).await.url;
    let db = Db::connect(&url, 2).await.expect("connect");
    db.migrate(&[TASKS]).await.expect("migrate");
    for i in 0..13i64 {
        sqlx::query("INSERT INTO tasks (id, title, due_at, done) VALUES ($1, $2, $3, $4)")
            .bind(format!("t{:02}", (i * 7) % 13))
            .bind(format!("title {}", i / 2))
            .bind(1_000 * (i / 3))
            .bind(i64::from(i == 12))
            .execute(&db.pool)
            .await
            .expect("insert");
    }
    db
}

/// Every page of the open tasks in `order`, `size` rows at a time.
async fn pages(
    db: &Db,
    tokens: &PageTokens,
    order: &Order,
    size: i32,
    position: impl Fn(&Task) -> Position + Copy,
) -> Vec<Vec<Task>> {
    let mut conn = db.pool.acquire().await.expect("connection");
    let mut token = String::new();
    let mut out = Vec::new();
    loop {
        let keyset = Keyset::open(tokens, order.clone(), size, &token, &["open tasks"]).expect("open");
        let mut q = SqlBuf::read(
            "SELECT id, title, due_at FROM tasks",
            &ReadScope::everything("a test's own table"),
        );
        q.push(" AND done = 0");
        let page = keyset.fetch(&mut conn, q, position).await.expect("page");
        assert!(page.rows.len() <= keyset.size() as usize);
        out.push(page.rows);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn sorted(mut tasks: Vec<Task>, key: impl Fn(&Task) -> (Option<i64>, Option<String>), descending: bool) -> Vec<Task> {
    tasks.sort_by(|a, b| (key(a), &a.id).cmp(&(key(b), &b.id)));
    if descending {
        tasks.reverse();
    }
    tasks
}

#[tokio::test]
async fn pages_through_ties_show_every_row_once_in_order() {
    let db = database("listing_ties").await;
    let tokens = PageTokens::new(b"secret");
    let by_due = |t: &Task| Position::at(t.due_at, &t.id);
    let by_title = |t: &Task| Position::at(&t.title, &t.id);
    let by_id = |t: &Task| Position::at_id(&t.id);
    let everything = pages(&db, &tokens, &Order::by_id("id", Direction::Ascending), 500, by_id)
        .await
        .concat();
    assert_eq!(everything.len(), 12);

    for size in [1, 2, 3, 4, 5, 12] {
        for direction in [Direction::Ascending, Direction::Descending] {
            let descending = direction == Direction::Descending;
            let shown = pages(&db, &tokens, &Order::by("due_at", "id", direction), size, by_due).await;
            let want = sorted(everything.clone(), |t| (Some(t.due_at), None), descending);
            assert_eq!(shown.concat(), want, "by due_at {direction:?}, {size} a page");
            assert_eq!(shown.len(), 12usize.div_ceil(size as usize), "no empty last page");

            let shown = pages(&db, &tokens, &Order::by("title", "id", direction), size, by_title).await;
            let want = sorted(everything.clone(), |t| (None, Some(t.title.clone())), descending);
            assert_eq!(shown.concat(), want, "by title {direction:?}, {size} a page");

            let shown = pages(&db, &tokens, &Order::by_id("id", direction), size, by_id).await;
            let want = sorted(everything.clone(), |_| (None, None), descending);
            assert_eq!(shown.concat(), want, "by id {direction:?}, {size} a page");
        }
    }
}

#[tokio::test]
async fn a_page_ending_exactly_at_the_last_row_has_no_token() {
    let db = database("listing_last").await;
    let tokens = PageTokens::new(b"secret");
    let mut conn = db.pool.acquire().await.expect("connection");
    let read = || {
        let mut q = SqlBuf::read(
            "SELECT id, title, due_at FROM tasks",
            &ReadScope::everything("a test's own table"),
        );
        q.push(" AND done = 0");
        q
    };
    let order = Order::by("due_at", "id", Direction::Descending);
    let position = |t: &Task| Position::at(t.due_at, &t.id);
    let keyset = Keyset::open(&tokens, order.clone(), 12, "", &[]).expect("open");
    let page = keyset.fetch(&mut conn, read(), position).await.expect("page");
    assert_eq!(page.rows.len(), 12);
    assert_eq!(page.next_page_token, "");

    let keyset = Keyset::open(&tokens, order.clone(), 11, "", &[]).expect("open");
    let page = keyset.fetch(&mut conn, read(), position).await.expect("page");
    assert_eq!(page.rows.len(), 11);
    let keyset = Keyset::open(&tokens, order, 11, &page.next_page_token, &[]).expect("second page");
    let last = keyset.fetch(&mut conn, read(), position).await.expect("page");
    assert_eq!(last.rows.len(), 1);
    assert_eq!(last.next_page_token, "");
}
