//! Integration tests of the sales service: each test starts identity, customers and sales on
//! fresh databases (SQLite, or PostgreSQL when `CRM_TEST_POSTGRES_URL` is set) and calls them
//! over gRPC.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

mod capture;
mod deactivation;
mod documents;
mod handover;
mod helpers;
mod history;
mod hostile;
mod leads;
mod opportunities;
mod projects;
mod reports;
mod transfer;
