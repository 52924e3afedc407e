//! Hostile input: control characters in names and filter values, filter values that once
//! panicked the parser, and huge lists are INVALID_ARGUMENT naming the field, on SQLite and
//! PostgreSQL alike (PostgreSQL once answered INTERNAL for a NUL it cannot store).

use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::{assert_field, spawn};

#[tokio::test]
async fn bad_filter_values_are_invalid_argument_naming_the_filter() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    for filter in [r#"create_time > "2026-01-02T00:00:中""#] {
        assert_field(
            alice
                .list_leads(pb::ListLeadsRequest {
                    filter: filter.into(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            "filter",
        );
    }
}
