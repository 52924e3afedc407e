//! Project documents: stored whole or not at all, read back byte for byte in pieces,
//! idempotent by request id, checked by field, scoped like their project, frozen with a
//! terminated project.

use crm_proto::sales as pb;
use pb::upload_project_document_request::Part;
use tonic::Code;

use crate::helpers::*;
use crate::projects::won_project;

/// What the document is, as the first message of an upload.
fn describe(project_id: &str, file_name: &str, request_id: &str) -> pb::UploadProjectDocumentRequest {
    pb::UploadProjectDocumentRequest {
        part: Some(Part::Document(pb::ProjectDocument {
            project_id: project_id.into(),
            file_name: file_name.into(),
            content_type: "application/pdf".into(),
            description: "Signed contract".into(),
            ..Default::default()
        })),
        request_id: request_id.into(),
        declared: None,
    }
}

/// `first` declaring `bytes` (their size and SHA-256) as what follows.
fn declaring(mut first: pb::UploadProjectDocumentRequest, bytes: &[u8]) -> pb::UploadProjectDocumentRequest {
    use sha2::Digest as _;
    first.declared = Some(crm_proto::common::UploadDeclaration {
        size_bytes: Some(i64::try_from(bytes.len()).unwrap()),
        sha256: crm_kit::idempotency::hex(&sha2::Sha256::digest(bytes)),
    });
    first
}

/// The field and reason of the first violation of an INVALID_ARGUMENT.
fn violation(status: &tonic::Status) -> (String, String) {
    use tonic_types::StatusExt as _;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad = status.get_details_bad_request().expect("BadRequest");
    (
        bad.field_violations[0].field.clone(),
        bad.field_violations[0].reason.clone(),
    )
}

/// The bytes of an upload, 100 KiB a message.
fn pieces(bytes: &[u8]) -> Vec<pb::UploadProjectDocumentRequest> {
    bytes
        .chunks(100 * 1024)
        .map(|c| pb::UploadProjectDocumentRequest {
            part: Some(Part::Content(c.to_vec())),
            ..Default::default()
        })
        .collect()
}

async fn upload(
    client: &mut Sales,
    first: pb::UploadProjectDocumentRequest,
    bytes: &[u8],
) -> Result<pb::ProjectDocument, tonic::Status> {
    let messages: Vec<_> = std::iter::once(first).chain(pieces(bytes)).collect();
    client
        .upload_project_document(tokio_stream::iter(messages))
        .await
        .map(|r| r.into_inner().document.unwrap())
}

/// The whole file and the first message's name and type.
async fn download(client: &mut Sales, id: &str) -> Result<(Vec<u8>, String, String, i64), tonic::Status> {
    let mut stream = client
        .download_project_document(pb::DownloadProjectDocumentRequest { id: id.into() })
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    let mut head = None;
    while let Some(m) = stream.message().await? {
        if head.is_none() {
            head = Some((m.file_name.clone(), m.content_type.clone(), m.size_bytes));
        } else {
            assert!(m.file_name.is_empty(), "only the first message names the file");
        }
        bytes.extend_from_slice(&m.content);
    }
    let (name, ty, size) = head.unwrap_or_default();
    Ok((bytes, name, ty, size))
}

async fn documents(client: &mut Sales, project_id: &str) -> Vec<pb::ProjectDocument> {
    client
        .list_project_documents(pb::ListProjectDocumentsRequest {
            project_id: project_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .documents
}

/// Rows in the document tables, counted directly.
async fn stored(app: &TestApp) -> (i64, i64) {
    let db = crm_kit::db::Db::connect(&app.sales_database_url, 1).await.unwrap();
    let count = |table: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    (count("crm_documents").await, count("crm_document_pieces").await)
}

/// 600 KiB of varied bytes (every byte value, no pattern at piece boundaries).
fn contract() -> Vec<u8> {
    (0..600 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_stored_whole_and_read_back_byte_for_byte() {
    let app = spawn().await;
    let project = won_project(&app, "alice", "Rollout").await;
    let mut alice = app.sales_as("alice").await;
    let bytes = contract();

    let doc = upload(&mut alice, describe(&project.id, "contract.pdf", "doc-1"), &bytes)
        .await
        .unwrap();
    assert_eq!(doc.size_bytes, 600 * 1024);
    assert_eq!(doc.file_name, "contract.pdf");
    assert_eq!(doc.content_type, "application/pdf");
    assert_eq!(doc.description, "Signed contract");
    let digest: String = <sha2::Sha256 as sha2::Digest>::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(doc.sha256, digest);
    // 600 KiB in pieces of 256 KiB.
    assert_eq!(stored(&app).await, (1, 3));

    let (back, name, ty, size) = download(&mut alice, &doc.id).await.unwrap();
    assert!(back == bytes, "the download differs from the upload");
    assert_eq!(
        (name.as_str(), ty.as_str(), size),
        ("contract.pdf", "application/pdf", 600 * 1024)
    );

    // A retry with the same id and bytes is the same document; other bytes under that id are
    // refused; nothing more is stored either way.
    let again = upload(&mut alice, describe(&project.id, "contract.pdf", "doc-1"), &bytes)
        .await
        .unwrap();
    assert_eq!(again.id, doc.id);
    assert_reason(
        upload(
            &mut alice,
            describe(&project.id, "contract.pdf", "doc-1"),
            b"other bytes",
        )
        .await,
        Code::AlreadyExists,
        "REQUEST_ID_REUSED",
    );
    assert_eq!(stored(&app).await, (1, 3));

    // A second document (no type given) lists first, newest first.
    let mut first = describe(&project.id, "Minutes 2026-12.txt", "");
    if let Some(Part::Document(d)) = &mut first.part {
        d.content_type.clear();
    }
    let notes = upload(&mut alice, first, b"kick-off held").await.unwrap();
    assert_eq!(notes.content_type, "application/octet-stream");
    let listed = documents(&mut alice, &project.id).await;
    assert_eq!(
        listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [notes.id.as_str(), doc.id.as_str()]
    );

    // Deleting removes the document and its bytes.
    alice
        .delete_project_document(pb::DeleteProjectDocumentRequest { id: doc.id.clone() })
        .await
        .unwrap();
    assert_eq!(download(&mut alice, &doc.id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(stored(&app).await, (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_by_field_and_store_nothing() {
    let app = spawn().await;
    let project = won_project(&app, "alice", "Refusals").await;
    let mut alice = app.sales_as("alice").await;

    assert_field(
        upload(&mut alice, describe(&project.id, "", ""), b"x").await,
        Code::InvalidArgument,
        "document.file_name",
    );
    assert_field(
        upload(&mut alice, describe(&project.id, "../../etc/passwd", ""), b"x").await,
        Code::InvalidArgument,
        "document.file_name",
    );
    let mut bad_type = describe(&project.id, "a.pdf", "");
    if let Some(Part::Document(d)) = &mut bad_type.part {
        d.content_type = "pdf".into();
    }
    assert_field(
        upload(&mut alice, bad_type, b"x").await,
        Code::InvalidArgument,
        "document.content_type",
    );
    assert_field(
        upload(&mut alice, describe(&project.id, "empty.pdf", ""), b"").await,
        Code::InvalidArgument,
        "content",
    );
    assert_field(
        upload(&mut alice, describe("", "a.pdf", ""), b"x").await,
        Code::InvalidArgument,
        "document.project_id",
    );
    // Bytes before the description.
    let bytes_first = pieces(b"x").remove(0);
    assert_field(
        upload(&mut alice, bytes_first, b"y").await,
        Code::InvalidArgument,
        "document",
    );
    // One byte over the limit (20 MiB by default).
    let too_big = vec![7u8; 20 * 1024 * 1024 + 1];
    assert_field(
        upload(&mut alice, describe(&project.id, "huge.bin", ""), &too_big).await,
        Code::InvalidArgument,
        "content",
    );
    assert_eq!(
        upload(&mut alice, describe("no-such-project", "a.pdf", ""), b"x")
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(stored(&app).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_midway_leaves_nothing_behind() {
    let app = spawn().await;
    let project = won_project(&app, "alice", "Cut off").await;
    let mut alice = app.sales_as("alice").await;
    let contract = contract();
    let first = declaring(describe(&project.id, "partial.pdf", ""), &contract);

    // The client goes away after half the file, and its stream still ends cleanly (as a
    // stream can when the sender's task is aborted): the declared size tells.
    let messages: Vec<_> = std::iter::once(first.clone())
        .chain(pieces(&contract).into_iter().take(3))
        .collect();
    let status = alice
        .upload_project_document(tokio_stream::iter(messages))
        .await
        .unwrap_err();
    assert_eq!(
        violation(&status),
        ("declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH".into())
    );
    assert_eq!(stored(&app).await, (0, 0));

    // The same with the client's task aborted midway: whether the stream is cancelled or ends
    // cleanly, nothing is stored.
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tx.send(first.clone()).await.unwrap();
    for piece in pieces(&contract).into_iter().take(3) {
        tx.send(piece).await.unwrap();
    }
    let mut client = alice.clone();
    let call = tokio::spawn(async move {
        client
            .upload_project_document(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    call.abort();
    let _ = call.await;
    drop(tx);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stored(&app).await, (0, 0));

    // The whole size but other bytes: the digest tells.
    let mut altered = contract.clone();
    altered[1000] ^= 1;
    let status = upload(&mut alice, first.clone(), &altered).await.unwrap_err();
    assert_eq!(
        violation(&status),
        ("declared.sha256".into(), "DECLARED_SHA256_MISMATCH".into())
    );
    // More than declared.
    let mut longer = contract.clone();
    longer.push(0);
    let status = upload(&mut alice, first.clone(), &longer).await.unwrap_err();
    assert_eq!(
        violation(&status),
        ("declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH".into())
    );
    // Declarations that cannot be right are refused before any byte is read.
    let mut bad = first.clone();
    bad.declared.as_mut().unwrap().sha256 = "not a digest".into();
    let status = upload(&mut alice, bad, &contract).await.unwrap_err();
    assert_eq!(violation(&status), ("declared.sha256".into(), "MALFORMED".into()));
    let mut bad = first.clone();
    bad.declared.as_mut().unwrap().size_bytes = Some(1 << 40);
    let status = upload(&mut alice, bad, &contract).await.unwrap_err();
    assert_eq!(violation(&status), ("declared.size_bytes".into(), "TOO_LARGE".into()));
    assert_eq!(stored(&app).await, (0, 0));
    assert!(documents(&mut alice, &project.id).await.is_empty());

    // What was declared arrives: stored, with the declared digest.
    let doc = upload(&mut alice, first.clone(), &contract).await.unwrap();
    assert_eq!(doc.sha256, first.declared.unwrap().sha256);
    assert_eq!(doc.size_bytes, 600 * 1024);
    assert_eq!(stored(&app).await.0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_follow_their_projects_scope_and_freeze_with_it() {
    let app = spawn().await;
    let project = won_project(&app, "alice", "Scoped").await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    let mut boss = app.sales_as(MANAGER).await;
    let doc = upload(&mut alice, describe(&project.id, "plan.pdf", ""), b"the plan")
        .await
        .unwrap();

    // Another salesperson sees nothing of it, as if it did not exist.
    assert_eq!(
        bob.list_project_documents(pb::ListProjectDocumentsRequest {
            project_id: project.id.clone(),
        })
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
    assert_eq!(download(&mut bob, &doc.id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        bob.delete_project_document(pb::DeleteProjectDocumentRequest { id: doc.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        upload(&mut bob, describe(&project.id, "mine.pdf", ""), b"x")
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    // The manager's scope covers the team.
    assert_eq!(download(&mut boss, &doc.id).await.unwrap().0, b"the plan");

    // A terminated project keeps its documents readable but takes no changes.
    alice
        .set_project_status(pb::SetProjectStatusRequest {
            id: project.id.clone(),
            status: pb::ProjectStatus::Terminated as i32,
        })
        .await
        .unwrap();
    assert_reason(
        upload(&mut alice, describe(&project.id, "late.pdf", ""), b"x").await,
        Code::FailedPrecondition,
        "PROJECT_TERMINATED",
    );
    assert_reason(
        alice
            .delete_project_document(pb::DeleteProjectDocumentRequest { id: doc.id.clone() })
            .await,
        Code::FailedPrecondition,
        "PROJECT_TERMINATED",
    );
    assert_eq!(download(&mut alice, &doc.id).await.unwrap().0, b"the plan");
    assert_eq!(stored(&app).await, (1, 1));
}

/// A database whose documents were stored before they moved into the kit's document store
/// (the service's schema up to version 11): starting the service moves each one, bytes and
/// all, and the old tables go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_stored_before_the_kit_store_are_moved_into_it_whole() {
    let url = crm_kit::testing::fresh_database("sales_docs_move").await.url;
    let db = crm_kit::db::Db::connect(&url, 1).await.unwrap();
    let before: Vec<_> = crm_sales::MIGRATIONS
        .iter()
        .copied()
        .filter(|m| m.version <= 11)
        .collect();
    crm_kit::service::migrate(&db, &before).await.unwrap();
    let bytes = contract();
    sqlx::query(
        "INSERT INTO project_documents (id, project_id, file_name, content_type, description, size_bytes, sha256, pieces, created_at, created_by) \
         VALUES ('d1', 'p1', 'plan.pdf', 'application/pdf', 'Plan', $1, 'abc', 3, 1, 'alice')",
    )
    .bind(i64::try_from(bytes.len()).unwrap())
    .execute(&db.pool)
    .await
    .unwrap();
    for (i, piece) in bytes.chunks(256 * 1024).enumerate() {
        sqlx::query("INSERT INTO project_document_pieces (document_id, piece, data) VALUES ('d1', $1, $2)")
            .bind(i64::try_from(i).unwrap())
            .bind(piece.to_vec())
            .execute(&db.pool)
            .await
            .unwrap();
    }

    db.migrate(crm_sales::MIGRATIONS).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let moved = crm_kit::documents::load(&mut conn, "d1").await.unwrap().expect("moved");
    assert_eq!(
        (
            moved.owner_kind.as_str(),
            moved.owner_id.as_str(),
            moved.file_name.as_str()
        ),
        ("project", "p1", "plan.pdf")
    );
    assert_eq!(
        (moved.size_bytes, moved.pieces),
        (i64::try_from(bytes.len()).unwrap(), 3)
    );
    let mut back = Vec::new();
    for piece in 0..moved.pieces {
        let data: Vec<u8> =
            sqlx::query_scalar("SELECT data FROM crm_document_pieces WHERE document_id = 'd1' AND piece = $1")
                .bind(piece)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        back.extend(data);
    }
    assert_eq!(back, bytes, "the bytes moved unchanged");
    drop(conn);
    assert!(
        sqlx::query("SELECT 1 FROM project_documents")
            .fetch_optional(&db.pool)
            .await
            .is_err(),
        "the old table is gone"
    );
}
