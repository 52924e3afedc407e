//! Document numbers against real databases (SQLite, or PostgreSQL with `CRM_TEST_POSTGRES_URL`):
//! concurrent creates never share a number, a rolled-back create gives its number back, and a
//! new period starts again at 1.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;

use crm_kit::db::{Db, Migration};
use crm_kit::numbering::{self, NumberPattern};
use crm_kit::testing::fresh_database;

/// The documents being numbered: a UNIQUE number, as a service keeps it.
const ORDERS: Migration = Migration {
    version: 1,
    name: "orders",
    only_on: None,
    sql: "CREATE TABLE orders (id BIGINT PRIMARY KEY, number TEXT NOT NULL UNIQUE)",
};

async fn database(prefix: &str) -> Db {
    let url = fresh_database(prefix).await.url;
    let db = Db::connect(&url, 16).await.expect("connect");
    db.migrate(&[ORDERS, numbering::MIGRATION]).await.expect("migrate");
    db
}

const DAY: (i64, u32, u32) = (2026, 11, 22);

/// Creates one order dated `date` in its own transaction, committing unless `rollback`.
async fn create(db: &Db, id: i64, pattern: &NumberPattern, date: (i64, u32, u32), rollback: bool) -> String {
    let mut tx = db.begin_write().await.expect("begin");
    let number = numbering::next_number(&mut tx, "order", pattern, date)
        .await
        .expect("number");
    sqlx::query("INSERT INTO orders (id, number) VALUES ($1, $2)")
        .bind(id)
        .bind(&number)
        .execute(&mut *tx)
        .await
        .expect("the number is new");
    if rollback {
        tx.rollback().await.expect("rollback");
    } else {
        tx.commit().await.expect("commit");
    }
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_get_consecutive_numbers_without_repeats() {
    let db = database("numbers_race").await;
    let pattern = NumberPattern::parse("pattern", "SO-{YYYY}{MM}{DD}-{SEQ:4}").unwrap();
    const TASKS: i64 = 12;
    const EACH: i64 = 20;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let (db, pattern) = (db.clone(), pattern.clone());
        handles.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for i in 0..EACH {
                // Every fifth create of a task fails after taking its number.
                let rollback = i % 5 == 4;
                let number = create(&db, t * 1000 + i, &pattern, DAY, rollback).await;
                if !rollback {
                    numbers.push(number);
                }
            }
            numbers
        }));
    }
    let mut committed = Vec::new();
    for h in handles {
        committed.extend(h.await.expect("task"));
    }
    let unique: BTreeSet<&String> = committed.iter().collect();
    assert_eq!(unique.len(), committed.len(), "a number was handed out twice");
    // Rolled-back creates gave their numbers back: the committed ones are 1..=n with no gap.
    let n = committed.len();
    assert_eq!(n as i64, TASKS * EACH * 4 / 5);
    let expected: BTreeSet<String> = (1..=n as i64).map(|i| format!("SO-20261122-{i:04}")).collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), expected);
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT number) FROM orders")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, n);
}

#[tokio::test]
async fn each_period_and_kind_counts_on_its_own() {
    let db = database("numbers_periods").await;
    let daily = NumberPattern::parse("pattern", "SO-{YYYY}{MM}{DD}-{SEQ:4}").unwrap();
    assert_eq!(create(&db, 1, &daily, DAY, false).await, "SO-20261122-0001");
    assert_eq!(create(&db, 2, &daily, DAY, false).await, "SO-20261122-0002");
    assert_eq!(create(&db, 3, &daily, (2026, 11, 23), false).await, "SO-20261123-0001");
    assert_eq!(create(&db, 4, &daily, DAY, false).await, "SO-20261122-0003");
    // Another pattern (a changed setting) around the same counter place keeps counting.
    let shorter = NumberPattern::parse("pattern", "SO-{YYYY}{MM}{DD}-{SEQ:2}").unwrap();
    assert_eq!(create(&db, 5, &shorter, DAY, false).await, "SO-20261122-04");
    // Another kind has its own counter.
    let quotes = NumberPattern::parse("pattern", "QT-{YYYY}{MM}{DD}-{SEQ:4}").unwrap();
    let mut tx = db.begin_write().await.unwrap();
    let other = numbering::next_number(&mut tx, "quote", &quotes, DAY).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(other, "QT-20261122-0001");
}
