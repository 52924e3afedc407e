//! Integration tests of the customers service: each test starts the real service on port 0
//! against a fresh database (SQLite, or PostgreSQL when `CRM_TEST_POSTGRES_URL` is set) and
//! calls it with the generated gRPC client.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

mod access;
mod bad_input;
mod catalog;
mod customers;
mod deactivation;
mod duplicates;
mod follow_ups;
mod handover;
mod helpers;
mod hostile;
mod import_export;
mod import_jobs;
mod ownership;
mod search_mix;
mod server;
mod typed;
