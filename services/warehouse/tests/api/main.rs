//! Integration tests of the warehouse service: each test starts identity and the warehouse on
//! fresh databases (SQLite, or PostgreSQL when `CRM_TEST_POSTGRES_URL` is set) and calls it over
//! gRPC.

// These tests check the database directly.
#![allow(clippy::disallowed_methods)]

mod catalog;
mod catalog_csv;
mod concurrency;
mod documents;
mod helpers;
mod hostile;
mod images;
mod loans;
mod prices;
mod reports;
mod stocktakes;
mod tracking;
mod valuation;
