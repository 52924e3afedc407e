//! Lead import (good rows kept, each bad row reported, owners fixed, pooled or by the rules)
//! and export (the caller's scope or the pool, filtered, read back by import).

use crm_proto::sales as pb;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::*;

fn options(owner: &str, mapping: &[(&str, &str)]) -> pb::ImportLeadsOptions {
    pb::ImportLeadsOptions {
        column_mapping: mapping
            .iter()
            .map(|(h, f)| ((*h).to_string(), (*f).to_string()))
            .collect(),
        owner_id: owner.into(),
        ..Default::default()
    }
}

/// Imports `csv` sent in pieces of `chunk` bytes after the options.
pub(crate) async fn import(
    client: &mut Sales,
    options: pb::ImportLeadsOptions,
    csv: &str,
    chunk: usize,
) -> Result<pb::ImportLeadsResponse, tonic::Status> {
    let mut messages = vec![pb::ImportLeadsRequest {
        part: Some(pb::import_leads_request::Part::Options(options)),
    }];
    for piece in csv.as_bytes().chunks(chunk) {
        messages.push(pb::ImportLeadsRequest {
            part: Some(pb::import_leads_request::Part::CsvChunk(piece.to_vec())),
        });
    }
    client
        .import_leads(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

/// Every lead the client sees (owned, or the pool), newest first.
async fn all_leads(client: &mut Sales, pool: bool, filter: &str) -> Vec<pb::Lead> {
    let mut leads = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_leads(pb::ListLeadsRequest {
                page_size: 500,
                page_token,
                filter: filter.into(),
                pool,
            })
            .await
            .unwrap()
            .into_inner();
        leads.extend(page.leads);
        if page.next_page_token.is_empty() {
            return leads;
        }
        page_token = page.next_page_token;
    }
}

/// The records of an export, header first.
async fn export(client: &mut Sales, req: pb::ExportLeadsRequest) -> Vec<Vec<String>> {
    let mut stream = client.export_leads(req).await.unwrap().into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap().csv_chunk);
    }
    let text = String::from_utf8(bytes).unwrap();
    // The fields here hold no quotes, commas or line breaks except where a test says so.
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_keeps_every_good_row_and_reports_each_bad_one() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mapping = [
        ("公司", "company_name"),
        ("联系人", "contact_name"),
        ("手机", "mobile"),
        ("邮箱", "email"),
        ("来源", "source"),
        ("省份", "province"),
    ];
    let csv = "\u{feff}公司,联系人,手机,邮箱,来源,省份,备注\n\
               Good One Ltd,Wang,13800000001,,referral,广东,ignored\n\
               ,Nobody,13800000002,,,广东,\n\
               No Contact Ltd,,,,,,\n\
               Bad Mail Ltd,Zhao,,not-an-email,,,\n\
               Bad Source Ltd,Qian,13800000005,,billboard,,\n\
               Short Row Ltd,Sun\n\
               \n\
               Good Two Ltd,Li,,li@example.com,LEAD_SOURCE_EVENT,浙江,\n\
               Good Three Ltd,Zhou,+86 138 0000 0008,,,,\n";
    let mut opts = options("", &mapping);
    opts.request_id = "import-1".into();
    // Pieces of 7 bytes split the UTF-8 headers and the rows anywhere.
    let done = import(&mut alice, opts.clone(), csv, 7).await.unwrap();
    assert_eq!((done.created, done.failed), (3, 5), "{done:?}");
    let errors: Vec<(i64, &str)> = done.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(
        errors,
        [(2, "公司"), (3, "联系人"), (4, "邮箱"), (5, "来源"), (6, "row")],
        "{:?}",
        done.errors
    );
    assert!(done.errors[3].reason.contains("billboard"), "{:?}", done.errors[3]);
    assert!(done.errors[4].reason.contains("columns"), "{:?}", done.errors[4]);
    // The mapping leaves 备注 (remarks) out: the answer names it, so nothing is dropped unseen.
    assert_eq!(done.ignored_columns, ["备注"], "{done:?}");

    let mine = all_leads(&mut alice, false, "").await;
    let mut names: Vec<&str> = mine.iter().map(|l| l.company_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Good One Ltd", "Good Three Ltd", "Good Two Ltd"]);
    let by_name = |name: &str| mine.iter().find(|l| l.company_name == name).unwrap();
    assert_eq!(by_name("Good One Ltd").source, pb::LeadSource::Referral as i32);
    assert_eq!(by_name("Good One Ltd").province, "广东");
    assert_eq!(by_name("Good Two Ltd").source, pb::LeadSource::Event as i32);
    // A row without a source gets the import's default (IMPORT).
    assert_eq!(by_name("Good Three Ltd").source, pb::LeadSource::Import as i32);
    assert!(
        mine.iter()
            .all(|l| l.owner_id == "alice" && l.status == pb::LeadStatus::New as i32)
    );

    // The same request again answers the same and imports nothing more.
    let again = import(&mut alice, opts, csv, 64).await.unwrap();
    assert_eq!(again, done);
    assert_eq!(all_leads(&mut alice, false, "").await.len(), 3);

    // Bad options change nothing.
    assert_field(
        import(&mut alice, options("", &[("Farbe", "colour")]), csv, 64).await,
        Code::InvalidArgument,
        "options.column_mapping[Farbe]",
    );
    assert_reason(
        import(&mut alice, options("", &[]), "name,mobile\nX,1\n", 64).await,
        Code::InvalidArgument,
        "COMPANY_NAME_COLUMN_MISSING",
    );
    assert_reason(
        import(&mut alice, options("", &[]), "", 64).await,
        Code::InvalidArgument,
        "MALFORMED_CSV",
    );
    // Giving the leads to someone else is a manager's assignment.
    assert_eq!(
        import(
            &mut alice,
            options("bob", &[]),
            "company_name,mobile\nFor Bob Ltd,1\n",
            64
        )
        .await
        .unwrap_err()
        .code(),
        Code::PermissionDenied
    );
    let chunk_first = alice
        .import_leads(tokio_stream::iter(vec![pb::ImportLeadsRequest {
            part: Some(pb::import_leads_request::Part::CsvChunk(b"company_name\nX\n".to_vec())),
        }]))
        .await;
    assert_field(chunk_first, Code::InvalidArgument, "options");
    assert_eq!(all_leads(&mut alice, false, "").await.len(), 3);
    assert!(all_leads(&mut alice, true, "").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_leads_go_to_the_pool_an_employee_or_by_source_under_the_rules() {
    let app = spawn().await;
    let mut boss = app.sales_as(MANAGER).await;
    let mut alice = app.sales_as("alice").await;
    let assignee = |id: &str, sources: &[pb::LeadSource], capacity: i32| pb::Assignee {
        employee_id: id.into(),
        sources: sources.iter().map(|s| *s as i32).collect(),
        capacity,
        ..Default::default()
    };
    let rules = |assignees: Vec<pb::Assignee>| pb::UpdateAssignmentRulesRequest {
        rules: Some(pb::AssignmentRules {
            enabled: true,
            mode: pb::AssignmentMode::BySource as i32,
            assignees,
        }),
    };
    // By source, every assignee takes a source, and only real ones.
    assert_field(
        boss.update_assignment_rules(rules(vec![assignee("alice", &[], 0)]))
            .await,
        Code::InvalidArgument,
        "rules.assignees[0].sources",
    );
    let mut unknown = assignee("alice", &[pb::LeadSource::Referral], 0);
    unknown.sources.push(99);
    assert_field(
        boss.update_assignment_rules(rules(vec![unknown])).await,
        Code::InvalidArgument,
        "rules.assignees[0].sources[1]",
    );
    // alice takes referrals up to 2 open leads; bob takes events and campaigns.
    let stored = boss
        .update_assignment_rules(rules(vec![
            assignee("alice", &[pb::LeadSource::Referral], 2),
            assignee("bob", &[pb::LeadSource::Event, pb::LeadSource::Campaign], 0),
        ]))
        .await
        .unwrap()
        .into_inner()
        .rules
        .unwrap();
    assert_eq!(stored.mode, pb::AssignmentMode::BySource as i32);
    assert_eq!(
        stored.assignees[1].sources,
        [pb::LeadSource::Event as i32, pb::LeadSource::Campaign as i32]
    );

    // One import, owners row by row: the third referral finds alice at her capacity (the
    // rows before it in the same file count), and nobody takes "other".
    let csv = "company_name,contact_name,source\n\
               Ref A,a,referral\n\
               Evt B,b,event\n\
               Ref C,c,referral\n\
               Camp D,d,campaign\n\
               Ref E,e,referral\n\
               Other F,f,other\n";
    let done = import(&mut boss, options("auto", &[]), csv, 16).await.unwrap();
    assert_eq!((done.created, done.failed), (6, 0), "{done:?}");
    let owner = |leads: &[pb::Lead], name: &str| {
        leads
            .iter()
            .find(|l| l.company_name == name)
            .map(|l| l.owner_id.clone())
    };
    let owned = all_leads(&mut boss, false, "").await;
    let pooled = all_leads(&mut boss, true, "").await;
    assert_eq!(owner(&owned, "Ref A").as_deref(), Some("alice"));
    assert_eq!(owner(&owned, "Ref C").as_deref(), Some("alice"));
    assert_eq!(owner(&owned, "Evt B").as_deref(), Some("bob"));
    assert_eq!(owner(&owned, "Camp D").as_deref(), Some("bob"));
    assert_eq!(owner(&pooled, "Ref E").as_deref(), Some(""));
    assert_eq!(owner(&pooled, "Other F").as_deref(), Some(""));

    // A single new lead follows the same rules.
    let mut evt = lead("Evt G");
    evt.source = pb::LeadSource::Event as i32;
    assert_eq!(create_lead(&mut boss, evt, "auto").await.owner_id, "bob");

    // A manager imports for bob; a salesperson into the pool.
    let done = import(
        &mut boss,
        options("bob", &[]),
        "company_name,email\nFor Bob Ltd,x@example.com\n",
        64,
    )
    .await
    .unwrap();
    assert_eq!(done.created, 1);
    let done = import(
        &mut alice,
        options("pool", &[]),
        "company_name,email\nPooled Ltd,p@example.com\n",
        64,
    )
    .await
    .unwrap();
    assert_eq!(done.created, 1);
    let pooled = all_leads(&mut boss, true, "").await;
    assert_eq!(owner(&pooled, "Pooled Ltd").as_deref(), Some(""));
    let owned = all_leads(&mut boss, false, "").await;
    assert_eq!(owner(&owned, "For Bob Ltd").as_deref(), Some("bob"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_under_round_robin_share_the_leads_evenly() {
    let app = spawn().await;
    let mut boss = app.sales_as(MANAGER).await;
    boss.update_assignment_rules(pb::UpdateAssignmentRulesRequest {
        rules: Some(pb::AssignmentRules {
            enabled: true,
            mode: pb::AssignmentMode::RoundRobin as i32,
            assignees: ["alice", "bob"]
                .iter()
                .map(|id| pb::Assignee {
                    employee_id: (*id).into(),
                    ..Default::default()
                })
                .collect(),
        }),
    })
    .await
    .unwrap();
    // Four imports of 251 rows at once. Each batch takes the rules' lock and ends on the one
    // who started it, so the next batch starts on the other: 126 + 125 + 126 + 125 each. Two
    // batches reading the same turn would both start on the same salesperson.
    let mut tasks = Vec::new();
    for n in 0..4 {
        let mut client = app.sales_as(MANAGER).await;
        tasks.push(tokio::spawn(async move {
            let mut csv = String::from("company_name,mobile\n");
            for i in 0..251 {
                csv.push_str(&format!("Race {n}-{i} Ltd,1380000{i:04}\n"));
            }
            import(&mut client, options("auto", &[]), &csv, 4096).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().created, 251);
    }
    let owned = all_leads(&mut boss, false, "").await;
    assert_eq!(owned.len(), 1004);
    let alice = owned.iter().filter(|l| l.owner_id == "alice").count();
    assert_eq!((alice, owned.len() - alice), (502, 502));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_streams_the_callers_leads_or_the_pool_and_reads_back_in() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    // 1,205 leads: more than one import batch and more than two export pages.
    let mut csv = String::from("company_name,contact_name,source,province\n");
    for i in 0..1205 {
        let source = if i % 5 == 0 { "campaign" } else { "referral" };
        csv.push_str(&format!("Export {i:04} Ltd,Contact {i},{source},广东\n"));
    }
    let done = import(&mut alice, options("", &[]), &csv, 64 * 1024).await.unwrap();
    assert_eq!((done.created, done.failed), (1205, 0));
    create_lead(&mut bob, lead("Bob Private Ltd"), "").await;
    create_lead(&mut bob, lead("Pool Ltd"), "pool").await;

    let records = export(&mut alice, pb::ExportLeadsRequest::default()).await;
    assert_eq!(records[0][..3], ["id", "company_name", "contact_name"]);
    let rows = &records[1..];
    assert_eq!(rows.len(), 1205, "bob's leads are out of alice's scope");
    // Newest first: the last row imported is the first exported.
    assert_eq!(rows[0][1], "Export 1204 Ltd");
    let source_col = records[0].iter().position(|h| h == "source").unwrap();
    let owner_col = records[0].iter().position(|h| h == "owner_id").unwrap();
    assert!(rows.iter().all(|r| r[owner_col] == "alice"));

    let campaigns = export(
        &mut alice,
        pb::ExportLeadsRequest {
            filter: r#"source = "campaign""#.into(),
            pool: false,
        },
    )
    .await;
    assert_eq!(campaigns.len() - 1, 241);
    assert!(campaigns[1..].iter().all(|r| r[source_col] == "campaign"));
    let pool = export(
        &mut alice,
        pb::ExportLeadsRequest {
            filter: String::new(),
            pool: true,
        },
    )
    .await;
    assert_eq!(pool.len(), 2);
    assert_eq!(pool[1][1], "Pool Ltd");
    let status = alice
        .export_leads(pb::ExportLeadsRequest {
            filter: "nonsense >".into(),
            pool: false,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // The export file imports as it is: id, owner, status and time columns are not import
    // fields and are ignored.
    let text: String = campaigns.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
    let back = import(&mut bob, options("", &[]), &text, 1000).await.unwrap();
    assert_eq!((back.created, back.failed), (241, 0), "{back:?}");
    let bobs = all_leads(&mut bob, false, r#"source = "campaign""#).await;
    assert_eq!(bobs.len(), 241);
    assert!(
        bobs.iter()
            .all(|l| l.province == "广东" && l.contact_name.starts_with("Contact "))
    );
}

/// An upload that breaks off after its first batch was written, retried whole with the same
/// request id: the rows written stay, the rows received only in part are not taken for the
/// end of the file, the rest are written on the retry, and none is written twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_import_retried_with_its_request_id_writes_each_row_once() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mut csv = String::from("company_name,contact_name\n");
    let mut cut = 0;
    for i in 0..1500 {
        if i == 1200 {
            cut = csv.len();
        }
        // One bad row in the part written first, one in the rest.
        let company = if i == 10 || i == 1300 {
            String::new()
        } else {
            format!("Resumed {i:04} Ltd")
        };
        csv.push_str(&format!("{company},Contact {i}\n"));
    }
    let mut opts = options("", &[]);
    opts.request_id = "resume-1".into();
    // (A first call, so the service has migrated its database before it is read directly.)
    assert!(all_leads(&mut alice, false, "").await.is_empty());
    let db = crm_kit::db::Db::connect(&app.sales_database_url, 1).await.unwrap();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };

    // The first 1,200 rows and half of the next arrive, then the stream breaks (a message
    // over the service's size limit).
    let mut messages = vec![pb::ImportLeadsRequest {
        part: Some(pb::import_leads_request::Part::Options(opts.clone())),
    }];
    for piece in csv.as_bytes()[..cut + 8].chunks(4096) {
        messages.push(pb::ImportLeadsRequest {
            part: Some(pb::import_leads_request::Part::CsvChunk(piece.to_vec())),
        });
    }
    messages.push(pb::ImportLeadsRequest {
        part: Some(pb::import_leads_request::Part::CsvChunk(vec![b'x'; 5 * 1024 * 1024])),
    });
    let broken = alice.import_leads(tokio_stream::iter(messages)).await;
    assert_eq!(broken.unwrap_err().code(), Code::InvalidArgument);
    // The first batch (rows 1-1,000, one of them bad) is kept; the rows after it, received
    // only in part, are not imported as if the file ended there.
    assert_eq!(count("SELECT CAST(COUNT(*) AS BIGINT) FROM leads").await, 999);
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM leads WHERE company_name LIKE 'Resumed 1%'").await,
        0
    );

    // The retry sends the whole file again and answers as one whole import would have.
    let done = import(&mut alice, opts.clone(), &csv, 64 * 1024).await.unwrap();
    assert_eq!((done.created, done.failed), (1498, 2), "{:?}", done.errors);
    assert_eq!(done.errors.iter().map(|e| e.row).collect::<Vec<_>>(), [11, 1301]);
    assert_eq!(count("SELECT CAST(COUNT(*) AS BIGINT) FROM leads").await, 1498);
    assert_eq!(
        count("SELECT CAST(COUNT(DISTINCT company_name) AS BIGINT) FROM leads").await,
        1498
    );
    // Once whole, the request answers from its record.
    assert_eq!(import(&mut alice, opts, &csv, 64 * 1024).await.unwrap(), done);
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM lead_import_progress").await,
        0
    );
}

/// `options` declaring `csv` (its size and SHA-256) as the file that follows.
fn declaring(mut options: pb::ImportLeadsOptions, csv: &str) -> pb::ImportLeadsOptions {
    use sha2::Digest as _;
    options.declared = Some(crm_proto::common::UploadDeclaration {
        size_bytes: Some(i64::try_from(csv.len()).unwrap()),
        sha256: crm_kit::idempotency::hex(&sha2::Sha256::digest(csv.as_bytes())),
    });
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_import_that_ends_short_fails_before_its_last_batch_is_written() {
    use tonic_types::StatusExt as _;
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mut csv = String::from("company_name,contact_name\n");
    let mut boundaries = Vec::new();
    for i in 0..2500 {
        if i % 500 == 0 {
            boundaries.push(csv.len());
        }
        csv.push_str(&format!("Declared {i:04} Ltd,Contact {i}\n"));
    }
    let (at_1000, at_1500) = (boundaries[2], boundaries[3]);
    let mut opts = declaring(options("", &[]), &csv);
    opts.request_id = "declared-1".into();
    let field = |status: tonic::Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let bad = status.get_details_bad_request().expect("BadRequest");
        (
            bad.field_violations[0].field.clone(),
            bad.field_violations[0].reason.clone(),
        )
    };
    let size_mismatch = (
        "options.declared.size_bytes".to_string(),
        "DECLARED_SIZE_MISMATCH".to_string(),
    );

    // Exactly one batch of whole rows arrives and the stream ends cleanly: without the
    // declaration that would read as a file of 1,000 rows. The batch is the last one, so it
    // waits for the end, and the end does not match: nothing is written.
    let short = import(&mut alice, opts.clone(), &csv[..at_1000], 4096).await;
    assert_eq!(field(short.unwrap_err()), size_mismatch);
    assert!(all_leads(&mut alice, false, "").await.is_empty());

    // A longer part: the first batch is written as it arrives and stays written; the batch
    // after it is not.
    let short = import(&mut alice, opts.clone(), &csv[..at_1500], 4096).await;
    assert_eq!(field(short.unwrap_err()), size_mismatch);
    assert_eq!(all_leads(&mut alice, false, "").await.len(), 1000);

    // Other bytes of the same size: refused at the end by the digest.
    let altered = csv.replacen("Declared 2499", "Declared 2498", 1);
    let status = import(&mut alice, opts.clone(), &altered, 64 * 1024).await.unwrap_err();
    assert_eq!(
        field(status),
        (
            "options.declared.sha256".to_string(),
            "DECLARED_SHA256_MISMATCH".to_string()
        )
    );
    assert_eq!(all_leads(&mut alice, false, "").await.len(), 2000);

    // The retry of the declared file with its request id writes the rest, each row once.
    let done = import(&mut alice, opts.clone(), &csv, 64 * 1024).await.unwrap();
    assert_eq!((done.created, done.failed), (2500, 0), "{:?}", done.errors);
    let leads = all_leads(&mut alice, false, "").await;
    let names: std::collections::HashSet<_> = leads.iter().map(|l| l.company_name.clone()).collect();
    assert_eq!((leads.len(), names.len()), (2500, 2500));
}
