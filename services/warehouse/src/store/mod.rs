//! All SQL of the warehouse service. Functions take a connection or a transaction's
//! connection, so a posting's ledger lines, balances, document status and outbox rows commit
//! together.
//!
//! - [`catalog`]: categories and products, product search.
//! - [`warehouses`]: warehouses and keepers.
//! - [`documents`]: stock documents and their lines.
//! - [`loans`]: loans and samples, per line, until returned or sold.
//! - [`stock`]: balances (changed by conditional updates only), the append-only ledger,
//!   reservations, stock levels, values as of a time, the audit.
//! - [`stocktakes`]: stocktakes and their count sheets.

// The service's SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

pub mod catalog;
pub mod documents;
pub mod loans;
pub mod stock;
pub mod stocktakes;
pub mod warehouses;
