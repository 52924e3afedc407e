//! Identity service API tests.
