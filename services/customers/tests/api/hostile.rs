//! Hostile input: values that once panicked the filter parser, search queries long enough to
//! break SQLite's compound-SELECT limit, huge lists and control characters are all refused
//! with INVALID_ARGUMENT naming the field, on SQLite and PostgreSQL alike.

use crm_proto::customers as pb;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::{assert_field, company, create, spawn};

/// A value with a multi-byte character where the seconds belong: the parser once sliced it by
/// bytes and panicked ("byte index 8 is not a char boundary"), which the client saw as
/// CANCELLED.
const SLICED_TIMESTAMP: &str = r#"create_time > "2026-01-02T00:00:中""#;

fn list(filter: &str, query: &str) -> pb::ListCustomersRequest {
    pb::ListCustomersRequest {
        filter: filter.into(),
        query: query.into(),
        ..Default::default()
    }
}

async fn export(client: &mut crate::helpers::Client, filter: &str, query: &str) -> Result<usize, tonic::Status> {
    let mut stream = client
        .export_customers(pb::ExportCustomersRequest {
            filter: filter.into(),
            query: query.into(),
            order_by: String::new(),
        })
        .await?
        .into_inner();
    let mut bytes = 0;
    while let Some(chunk) = stream.next().await {
        bytes += chunk?.csv_chunk.len();
    }
    Ok(bytes)
}

#[tokio::test]
async fn a_timestamp_with_a_multibyte_character_is_invalid_argument_not_a_panic() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    create(&mut alice, company("Panic Probe Ltd")).await;

    assert_field(
        alice.list_customers(list(SLICED_TIMESTAMP, "")).await,
        Code::InvalidArgument,
        "filter",
    );
    assert_field(
        export(&mut alice, SLICED_TIMESTAMP, "").await,
        Code::InvalidArgument,
        "filter",
    );
    assert_field(
        alice
            .create_saved_filter(pb::CreateSavedFilterRequest {
                saved_filter: Some(pb::SavedFilter {
                    name: "Sliced".into(),
                    filter: SLICED_TIMESTAMP.into(),
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "saved_filter.filter",
    );
    // The service is still serving on the same connection.
    let page = alice
        .list_customers(list("", "Panic Probe"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.customers.len(), 1);
}

#[tokio::test]
async fn control_characters_in_filter_values_are_invalid_argument() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    for filter in ["name = \"a\0b\"", "name : \"\0\"", "level_code = \"A\u{1b}\""] {
        let status = assert_field(
            alice.list_customers(list(filter, "")).await,
            Code::InvalidArgument,
            "filter",
        );
        assert!(status.message().contains("control character"), "{filter:?}: {status:?}");
    }
    assert_field(
        export(&mut alice, "name = \"\0\"", "").await,
        Code::InvalidArgument,
        "filter",
    );
    assert_field(
        alice.list_customers(list("", "ab\0c")).await,
        Code::InvalidArgument,
        "query",
    );
}

/// 3,000 random letters: well over 500 distinct pairs, which once made one compound-SELECT
/// term each and failed on SQLite.
fn random_letters(n: usize) -> String {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + u8::try_from(state % 26).unwrap_or(0))
        })
        .collect()
}

/// `n` characters whose every adjacent pair is distinct: consecutive CJK ideographs that are
/// already simplified (folding leaves them as they are).
fn distinct_pairs(n: usize) -> String {
    (0..n)
        .map(|i| char::from_u32(0x4E00 + 2 * u32::try_from(i).unwrap_or(0)).unwrap())
        .collect()
}

#[tokio::test]
async fn search_queries_are_bounded_and_the_longest_accepted_one_works() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let max = crm_kit::text::MAX_SEARCH_QUERY_CHARS;

    let long = random_letters(3000);
    let status = assert_field(
        alice.list_customers(list("", &long)).await,
        Code::InvalidArgument,
        "query",
    );
    assert!(status.message().contains(&max.to_string()), "{status:?}");
    assert_field(export(&mut alice, "", &long).await, Code::InvalidArgument, "query");
    assert_field(
        alice.list_customers(list("", &random_letters(max + 1))).await,
        Code::InvalidArgument,
        "query",
    );

    // The longest accepted query, all pairs distinct, finds the customer whose name it is.
    let query = distinct_pairs(max);
    let normalized = crm_customers::domain::names::normalize_text(&query);
    assert_eq!(normalized.chars().count(), max, "folding keeps every character");
    assert_eq!(crm_customers::domain::names::bigrams(&normalized).len(), max - 1);
    let named = create(&mut alice, company(&query)).await;
    create(&mut alice, company("Other Ltd")).await;
    let found = alice.list_customers(list("", &query)).await.unwrap().into_inner();
    assert_eq!(
        found.customers.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [named.id.as_str()]
    );
    assert!(export(&mut alice, "", &query).await.unwrap() > 0);
    // As many random letters as accepted works too.
    alice.list_customers(list("", &random_letters(max))).await.unwrap();
}

#[tokio::test]
async fn huge_lists_are_refused_by_their_count() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let tags: Vec<String> = (0..200_000).map(|i| format!("t{i}")).collect();
    let status = assert_field(
        alice
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    tags: tags.clone(),
                    ..company("Many Tags Ltd")
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer.tags",
    );
    assert!(status.message().contains("at most 50"), "{status:?}");

    let c = create(&mut alice, company("Shared Widely Ltd")).await;
    let status = assert_field(
        alice
            .share_customer(pb::ShareCustomerRequest {
                id: c.id.clone(),
                collaborator_ids: tags,
            })
            .await,
        Code::InvalidArgument,
        "collaborator_ids",
    );
    assert!(status.message().contains("at most 50"), "{status:?}");

    // A huge map of bad keys is one TOO_MANY, not a violation per entry (details that large
    // would not even fit in the response's trailers).
    let custom_fields: std::collections::BTreeMap<String, String> =
        (0..200_000).map(|i| (format!("bad key {i}"), String::new())).collect();
    let status = assert_field(
        alice
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    custom_fields,
                    ..company("Many Fields Ltd")
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer.custom_fields",
    );
    let bad = tonic_types::StatusExt::get_details_bad_request(&status).expect("details");
    assert_eq!(bad.field_violations.len(), 1, "{:?}", &bad.field_violations[..2]);

    // Duplicates within the limit are kept once, in order.
    let tagged = create(
        &mut alice,
        pb::Customer {
            tags: vec!["vip".into(), " north ".into(), "vip".into()],
            ..company("Tagged Ltd")
        },
    )
    .await;
    assert_eq!(tagged.tags, ["vip", "north"]);
}

#[tokio::test]
async fn control_characters_in_customer_texts_are_refused_and_notes_keep_line_breaks() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let created = |customer: pb::Customer| pb::CreateCustomerRequest {
        customer: Some(customer),
        ..Default::default()
    };
    assert_field(
        alice.create_customer(created(company("Nul\0 Ltd"))).await,
        Code::InvalidArgument,
        "customer.name",
    );
    assert_field(
        alice
            .create_customer(created(pb::Customer {
                tags: vec!["ok".into(), "b\0d".into()],
                ..company("Tag Nul Ltd")
            }))
            .await,
        Code::InvalidArgument,
        "customer.tags[1]",
    );
    assert_field(
        alice
            .create_customer(created(pb::Customer {
                remark: "line\0".into(),
                ..company("Remark Nul Ltd")
            }))
            .await,
        Code::InvalidArgument,
        "customer.remark",
    );
    let kept = create(
        &mut alice,
        pb::Customer {
            remark: "first line\nsecond\tline".into(),
            ..company("Remark Lines Ltd")
        },
    )
    .await;
    assert_eq!(kept.remark, "first line\nsecond\tline");
}
