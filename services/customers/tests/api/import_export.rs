//! CSV import (good rows kept, bad rows reported, duplicate modes) and export.

use crm_proto::customers as pb;
use tokio_stream::StreamExt;

use crate::helpers::{Client, company, create, list_all, spawn};

pub(crate) async fn import(
    client: &mut Client,
    options: pb::ImportOptions,
    csv: &str,
    chunk: usize,
) -> Result<pb::ImportCustomersResponse, tonic::Status> {
    let mut messages = vec![pb::ImportCustomersRequest {
        part: Some(pb::import_customers_request::Part::Options(options)),
    }];
    for piece in csv.as_bytes().chunks(chunk) {
        messages.push(pb::ImportCustomersRequest {
            part: Some(pb::import_customers_request::Part::CsvChunk(piece.to_vec())),
        });
    }
    client
        .import_customers(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn bad_rows_are_listed_and_every_good_row_is_kept() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    create(&mut alice, company("Existing Customer Ltd")).await;
    let csv = "\u{feff}客户名称,类型,手机,邮箱,级别,联系人,联系人手机\n\
        深圳市甲科技有限公司,company,,a@example.com,A,张三,13800000001\n\
        ,company,,,,,\n\
        Bad Email Co,company,,not-an-email,,,\n\
        个人客户王五,individual,13800000002,,,,\n\
        Unknown Level Co,company,,,Z,,\n\
        \"Quoted, Name Ltd\",company,,,B,,\n\
        Existing Customer,company,,,,,\n\
        Too Few Columns Ltd,company\n\
        Bad Mobile Person,individual,12345,,,,\n\
        深圳市甲科技,company,,,,,\n";
    let mapping = [
        ("客户名称", "name"),
        ("类型", "kind"),
        ("手机", "mobile"),
        ("邮箱", "email"),
        ("级别", "level_code"),
        ("联系人", "contact.name"),
        ("联系人手机", "contact.mobile"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let options = pb::ImportOptions {
        mode: pb::ImportMode::Skip as i32,
        column_mapping: mapping,
        ..Default::default()
    };
    // Small chunks split rows and multi-byte characters across messages.
    let result = import(&mut alice, options, csv, 7).await.unwrap();
    assert_eq!(result.created, 3, "{result:?}");
    assert_eq!(
        result.skipped, 2,
        "existing customer and the in-file duplicate are skipped: {result:?}"
    );
    assert_eq!(result.failed, 5, "{result:?}");
    let rows: Vec<(i64, &str)> = result.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(
        rows,
        [(2, "客户名称"), (3, "邮箱"), (5, "级别"), (8, "row"), (9, "手机")],
        "{:?}",
        result.errors
    );
    assert!(result.errors[2].reason.contains("level"), "{:?}", result.errors[2]);

    let all = list_all(&mut alice, "", "", "name", 50).await;
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Existing Customer Ltd",
            "Quoted, Name Ltd",
            "个人客户王五",
            "深圳市甲科技有限公司"
        ]
    );
    let jia = all.iter().find(|c| c.name == "深圳市甲科技有限公司").unwrap();
    assert_eq!(jia.primary_contact.as_ref().unwrap().name, "张三");
    assert_eq!(jia.owner_id, "alice");
    // Imported rows are searchable by contact name and mobile.
    assert_eq!(list_all(&mut alice, "", "张三", "", 10).await.len(), 1);
    assert_eq!(list_all(&mut alice, "", "3800000001", "", 10).await.len(), 1);
    let history = alice
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: jia.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.owner_changes[0].reason, pb::OwnerChangeReason::Import as i32);
}

#[tokio::test]
async fn update_and_fail_modes() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Mode Test Ltd")).await;
    let csv = "name,remark,region.city\nMode Test Limited,updated by import,Madrid\nFresh Row Ltd,,\n";
    let result = import(
        &mut alice,
        pb::ImportOptions {
            mode: pb::ImportMode::Update as i32,
            ..Default::default()
        },
        csv,
        1024,
    )
    .await
    .unwrap();
    assert_eq!((result.created, result.updated, result.failed), (1, 1, 0), "{result:?}");
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.remark, "updated by import");
    assert_eq!(got.region.unwrap().city, "Madrid");
    assert_eq!(got.name, "Mode Test Ltd", "the name key matched; the stored name stays");

    let csv = "name\nMode Test Ltd\nAnother Fresh Ltd\n";
    let result = import(
        &mut alice,
        pb::ImportOptions {
            mode: pb::ImportMode::Fail as i32,
            ..Default::default()
        },
        csv,
        1024,
    )
    .await
    .unwrap();
    assert_eq!((result.created, result.failed), (1, 1), "{result:?}");
    assert!(result.errors[0].reason.contains(&c.id));

    // A file without a name column is refused as a whole.
    let status = import(&mut alice, pb::ImportOptions::default(), "nombre\nX\n", 1024)
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let status = import(
        &mut alice,
        pb::ImportOptions {
            column_mapping: [("a".to_string(), "colour".to_string())].into(),
            ..Default::default()
        },
        "a\nb\n",
        1024,
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

/// Batches of an import are written two at a time; a duplicate pair split across batches still
/// resolves in file order: the earlier row creates, the later one updates (or is skipped).
#[tokio::test]
async fn duplicates_across_batches_resolve_in_file_order() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut csv = String::from("name,remark\n");
    for i in 0..2500 {
        match i {
            10 => csv.push_str("Split Pair Trading Ltd,from row 11\n"),
            1500 => csv.push_str("Split Pair Trading Co.,from row 1501\n"),
            2400 => csv.push_str("SPLIT PAIR TRADING,from row 2401\n"),
            _ => csv.push_str(&format!("Batch Filler {i} Ltd,\n")),
        }
    }
    let result = import(
        &mut alice,
        pb::ImportOptions {
            mode: pb::ImportMode::Update as i32,
            ..Default::default()
        },
        &csv,
        64 * 1024,
    )
    .await
    .unwrap();
    assert_eq!(
        (result.created, result.updated, result.failed),
        (2498, 2, 0),
        "{result:?}"
    );
    let pair = list_all(&mut alice, "", "split pair", "", 50).await;
    assert_eq!(pair.len(), 1, "one customer for the three rows");
    assert_eq!(pair[0].name, "Split Pair Trading Ltd", "the first row created it");
    assert_eq!(
        pair[0].remark, "from row 2401",
        "the last row's update is the last word"
    );

    let csv = csv.replace("Batch Filler", "Second File");
    let result = import(&mut alice, pb::ImportOptions::default(), &csv, 64 * 1024)
        .await
        .unwrap();
    assert_eq!(
        (result.created, result.skipped, result.failed),
        (2497, 3, 0),
        "{result:?}"
    );
    let all = list_all(&mut alice, "", "", "", 1000).await;
    assert_eq!(all.len(), 2498 + 2497, "every customer exactly once");
}

#[tokio::test]
async fn export_streams_the_callers_view_as_csv() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    for i in 0..1205 {
        let mut c = company(&format!("Export {i:04}"));
        c.level_code = if i % 5 == 0 { "A".into() } else { "C".into() };
        if i == 3 {
            c.primary_contact = Some(pb::Contact {
                name: "Quote \"Me\", Please".into(),
                ..Default::default()
            });
        }
        create(&mut alice, c).await;
    }
    create(&mut bob, company("Bob Private Ltd")).await;
    let mut stream = alice
        .export_customers(pb::ExportCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap().csv_chunk);
    }
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "id");
    assert_eq!(&header[1], "name");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1205, "bob's customer is out of alice's scope");
    assert_eq!(&records[3][1], "Export 0003");
    let contact_col = header.iter().position(|h| h == "contact.name").unwrap();
    assert_eq!(&records[3][contact_col], "Quote \"Me\", Please");

    let mut filtered = alice
        .export_customers(pb::ExportCustomersRequest {
            filter: r#"level_code = "A""#.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = filtered.next().await {
        bytes.extend(chunk.unwrap().csv_chunk);
    }
    assert_eq!(csv::Reader::from_reader(bytes.as_slice()).records().count(), 241);
    let status = alice
        .export_customers(pb::ExportCustomersRequest {
            filter: "nonsense >".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn a_declared_import_is_kept_only_when_what_arrived_is_what_was_declared() {
    use sha2::Digest as _;
    use tonic_types::StatusExt as _;
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut csv = String::from("name,kind\n");
    for i in 0..1000 {
        csv.push_str(&format!("Declared Customer {i:04},company\n"));
    }
    let declared = |csv: &str| pb::ImportOptions {
        declared: Some(crm_proto::common::UploadDeclaration {
            size_bytes: Some(i64::try_from(csv.len()).unwrap()),
            sha256: crm_kit::idempotency::hex(&sha2::Sha256::digest(csv.as_bytes())),
        }),
        ..Default::default()
    };
    let violation = |status: tonic::Status| {
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        let bad = status.get_details_bad_request().expect("BadRequest");
        (
            bad.field_violations[0].field.clone(),
            bad.field_violations[0].reason.clone(),
        )
    };

    // A stream that ends cleanly after 600 whole rows of a declared 1,000: refused, nothing
    // kept (the batch is the last one, written only once the end matches).
    let cut = csv.match_indices('\n').nth(600).unwrap().0 + 1;
    let status = import(&mut alice, declared(&csv), &csv[..cut], 4096).await.unwrap_err();
    assert_eq!(
        violation(status),
        ("options.declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH".into())
    );
    // Exactly a full batch of whole rows, declared as more: refused too.
    let mut longer = csv.clone();
    longer.push_str("One More Ltd,company\n");
    let status = import(&mut alice, declared(&longer), &csv, 4096).await.unwrap_err();
    assert_eq!(
        violation(status),
        ("options.declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH".into())
    );
    // The declared size with other bytes.
    let altered = csv.replacen("0999", "0998", 1);
    let status = import(&mut alice, declared(&csv), &altered, 4096).await.unwrap_err();
    assert_eq!(
        violation(status),
        ("options.declared.sha256".into(), "DECLARED_SHA256_MISMATCH".into())
    );
    assert!(list_all(&mut alice, "", "", "", 100).await.is_empty());

    // What was declared arrives: every row kept.
    let done = import(&mut alice, declared(&csv), &csv, 4096).await.unwrap();
    assert_eq!(done.created, 1000, "{:?}", done.errors);
}

/// A customer as an export row, from what ListCustomers shows.
fn export_record(c: &pb::Customer) -> Vec<String> {
    let region = c.region.clone().unwrap_or_default();
    let contact = c.primary_contact.clone().unwrap_or_default();
    let kind = if c.kind == pb::CustomerKind::Individual as i32 {
        "individual"
    } else {
        "company"
    };
    let status = match pb::CustomerStatus::try_from(c.status).unwrap_or_default() {
        pb::CustomerStatus::Active => "active",
        pb::CustomerStatus::Dormant => "dormant",
        pb::CustomerStatus::Lost => "lost",
        _ => "potential",
    };
    let created = c
        .audit
        .as_ref()
        .and_then(|a| a.create_time)
        .map(|t| crm_kit::time::format_rfc3339(t.seconds * 1_000_000))
        .unwrap_or_default();
    [
        &c.id,
        &c.name,
        kind,
        &c.short_name,
        &c.tax_id,
        &c.industry_code,
        &c.type_code,
        &c.level_code,
        &c.source_code,
        status,
        &c.category_id,
        &c.scale,
        &c.phone,
        &c.mobile,
        &c.email,
        &c.website,
        &c.address,
        &region.country,
        &region.province,
        &region.city,
        &region.district,
        &c.remark,
        &c.tags.join(";"),
        &contact.name,
        &contact.title,
        &contact.mobile,
        &contact.phone,
        &contact.email,
        &c.owner_id,
        &created,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn exported_records(client: &mut Client, req: pb::ExportCustomersRequest) -> (usize, Vec<Vec<String>>) {
    let mut stream = client.export_customers(req).await.unwrap().into_inner();
    let mut bytes = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap().csv_chunk);
        chunks += 1;
    }
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap().len(), 30);
    let records = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (chunks, records)
}

#[tokio::test]
async fn an_export_of_many_chunks_is_what_listing_shows_in_scope() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    let mut csv = String::from(
        "name,kind,level_code,status,phone,mobile,email,tags,remark,region.city,contact.name,contact.title,contact.mobile\n",
    );
    for i in 0..2600 {
        let individual = i % 7 == 0;
        csv.push_str(&format!(
            "\"Export, \"\"Many\"\" {i:05}{}\",{},{},{},{},{},{},{},\"{}\",{},{},\"{}\",{}\n",
            if individual { " 个人" } else { " 有限公司" },
            if individual { "individual" } else { "company" },
            ["A", "B", "C"][i % 3],
            ["active", "dormant", "", "lost"][i % 4],
            if i % 5 == 0 {
                format!("0755 {:04} {:04}", i, i)
            } else {
                String::new()
            },
            if individual {
                format!("139 {:04} {:04}", i / 10_000, i % 10_000)
            } else {
                String::new()
            },
            if i % 3 == 0 {
                format!("c{i}@example.com")
            } else {
                String::new()
            },
            if i % 4 == 0 { "vip;重点" } else { "" },
            if i % 6 == 0 {
                "line one\nline two, \"quoted\""
            } else {
                ""
            },
            ["深圳市", "Madrid", ""][i % 3],
            if i % 2 == 0 {
                format!("联系人 {i}")
            } else {
                String::new()
            },
            if i % 4 == 0 { "Director, Sales" } else { "" },
            if i % 2 == 0 {
                format!("138 {:04} {:04}", i / 10_000, i % 10_000)
            } else {
                String::new()
            },
        ));
    }
    let result = import(&mut alice, pb::ImportOptions::default(), &csv, 64 * 1024)
        .await
        .unwrap();
    assert_eq!(
        result.created,
        2600,
        "{:?}",
        &result.errors[..result.errors.len().min(3)]
    );
    // Bob's customers are out of Alice's scope, except the one he shares with her.
    for i in 0..3 {
        let c = create(&mut bob, company(&format!("Export, \"Many\" Bob {i}"))).await;
        if i == 1 {
            bob.share_customer(pb::ShareCustomerRequest {
                id: c.id,
                collaborator_ids: vec!["alice".into()],
            })
            .await
            .unwrap();
        }
    }

    for (filter, query, order_by) in [
        ("", "", ""),
        (r#"level_code = "A""#, "", "create_time desc"),
        ("", "Many 01", "level_code"),
    ] {
        let listed: Vec<Vec<String>> = list_all(&mut alice, filter, query, order_by, 500)
            .await
            .iter()
            .map(export_record)
            .collect();
        let (chunks, exported) = exported_records(
            &mut alice,
            pb::ExportCustomersRequest {
                filter: filter.into(),
                query: query.into(),
                order_by: order_by.into(),
            },
        )
        .await;
        assert!(!listed.is_empty());
        assert_eq!(exported.len(), listed.len(), "{filter} {query} {order_by}");
        for (e, l) in exported.iter().zip(&listed) {
            assert_eq!(e, l, "{filter} {query} {order_by}");
        }
        if filter.is_empty() && query.is_empty() {
            assert_eq!(listed.len(), 2601);
            assert!(chunks > 1, "{chunks} chunk(s) for {} rows", listed.len());
        }
    }
}

#[tokio::test]
async fn columns_that_map_to_no_field_are_named_in_the_answer() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    // "colour" is no field and "mobil" a misspelt one: their values are not imported, and the
    // answer says so instead of dropping them unseen.
    let csv = "name,colour,mobil,,email\nIgnored Columns Ltd,blue,13800000009,,ic@example.com\n";
    let result = import(&mut alice, pb::ImportOptions::default(), csv, 64).await.unwrap();
    assert_eq!((result.created, result.failed), (1, 0), "{result:?}");
    assert_eq!(result.ignored_columns, ["colour", "mobil"], "{result:?}");
    // With a mapping, a column it leaves out is named too.
    let mapping = [("name", "name")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let csv = "name,email\nMapped Columns Ltd,mc@example.com\n";
    let options = pb::ImportOptions {
        column_mapping: mapping,
        ..Default::default()
    };
    let result = import(&mut alice, options, csv, 64).await.unwrap();
    assert_eq!(result.ignored_columns, ["email"], "{result:?}");
}
