//! Integration tests of the gateway: identity, customers and the gateway run on port 0 over
//! fresh databases (SQLite, or PostgreSQL when `CRM_TEST_POSTGRES_URL` is set); the tests call
//! the gateway over HTTP/1.1 as a browser or script would (REST and gRPC-Web) and the services
//! directly over gRPC.

mod connections;
mod console;
mod helpers;
mod matrix;
mod rest;
mod scope;
mod scope_matrix;
