//! Identity service API tests: the real service over gRPC on a fresh database (a SQLite file, or
//! a new PostgreSQL database when `CRM_TEST_POSTGRES_URL` is set), called with real tokens.
//!
//! Each test starts its own service with a configured signing key and administrator password,
//! so it can sign in as the administrator and mint (or forge) tokens with the same key.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

mod authorization;
mod bad_input;
mod deactivation;
mod departments;
mod first_start;
mod helpers;
mod hostile;
mod key_rotation;
mod lockout;
mod paging;
mod refresh;
mod roles;
mod token_attacks;
mod updates;
