//! Project documents: files kept with a project (contracts, plans, minutes), in the kit's
//! document store under the owner kind `project`. An upload is a client stream (what the
//! document is, then its bytes), stored whole in one transaction or not at all; a download is
//! a server stream whose first message names the file.

use crm_kit::auth::Principal;
use crm_kit::documents::{self, Document, NewDocument, Upload};
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use sqlx::AnyConnection;
use tokio::sync::mpsc;

use super::{SalesApi, audit, check_notes};
use crate::store::projects::ProjectRow;
use crm_kit::errors::reason;

const DOCUMENT: &str = "crm.sales.v1.ProjectDocument";
/// The owner kind of a project's documents in the kit's document store.
const PROJECT: &str = "project";

fn document_proto(d: &Document) -> pb::ProjectDocument {
    pb::ProjectDocument {
        id: d.id.clone(),
        project_id: d.owner_id.clone(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        description: d.description.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        audit: Some(audit(d.created_at, &d.created_by, d.created_at, &d.created_by)),
    }
}

impl SalesApi {
    /// A document of a project the caller may see (NOT_FOUND otherwise, as for a missing one).
    async fn visible_document(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        id: &str,
    ) -> Result<(Document, ProjectRow)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let Some(d) = documents::load(conn, id).await?.filter(|d| d.owner_kind == PROJECT) else {
            return Err(Error::not_found(DOCUMENT, id));
        };
        match self.visible_project(conn, caller, "id", &d.owner_id).await {
            Ok(p) => Ok((d, p)),
            Err(_) => Err(Error::not_found(DOCUMENT, id)),
        }
    }

    /// UploadProjectDocument.
    pub async fn upload_project_document(
        &self,
        caller: &Principal,
        mut stream: tonic::Streaming<pb::UploadProjectDocumentRequest>,
    ) -> Result<pb::UploadProjectDocumentResponse> {
        let first = crm_kit::csv_io::first_message(&mut stream, "document").await?;
        let Some(pb::upload_project_document_request::Part::Document(src)) = first.part else {
            return Err(Error::invalid(
                "document",
                reason::REQUIRED,
                "the first message must say what the document is (project_id, file_name)",
            ));
        };
        let mut v = Violations::new();
        if src.project_id.trim().is_empty() {
            v.add("document.project_id", reason::REQUIRED, "is required");
        }
        documents::check_file_name("document.file_name", &src.file_name, &mut v);
        documents::check_content_type("document.content_type", &src.content_type, &mut v);
        check_notes("document.description", &src.description, false, 2000, &mut v);
        let upload = Upload::begin("declared", first.declared.as_ref(), self.max_document_bytes, &mut v);
        v.finish()?;
        // The project is checked before the bytes are read, so a wrong id fails fast.
        {
            let mut conn = self.conn().await?;
            let p = self
                .visible_project(&mut conn, caller, "document.project_id", &src.project_id)
                .await?;
            if p.status != "open" {
                return Err(super::projects::terminated(&p.id));
            }
        }

        let received = upload
            .read_rest(&mut stream, "document", |m: pb::UploadProjectDocumentRequest| {
                match m.part {
                    Some(pb::upload_project_document_request::Part::Content(bytes)) => Ok(Some(bytes)),
                    Some(pb::upload_project_document_request::Part::Document(_)) => Err(()),
                    None => Ok(None),
                }
            })
            .await?;
        let row = NewDocument {
            owner_kind: PROJECT,
            owner_id: &src.project_id,
            file_name: &src.file_name,
            content_type: &src.content_type,
            description: &src.description,
            created_by: &caller.employee_id,
            now: now_micros(),
        }
        .document(&received);
        // The fingerprint covers what the document is and its bytes.
        let fingerprint = pb::ProjectDocument {
            sha256: row.sha256.clone(),
            ..src
        };
        let key = RequestKey::new(
            "UploadProjectDocument",
            &caller.employee_id,
            &first.request_id,
            &fingerprint,
        )?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        // Checked again inside the transaction: the project may have been terminated meanwhile.
        let p = self
            .visible_project(&mut tx, caller, "document.project_id", &row.owner_id)
            .await?;
        if p.status != "open" {
            return Err(super::projects::terminated(&p.id));
        }
        documents::store(&mut tx, &row, &received.content).await?;
        let response = pb::UploadProjectDocumentResponse {
            document: Some(document_proto(&row)),
        };
        let response = tx.finish(response).await?;
        tracing::info!(
            document = %row.id,
            project = %row.owner_id,
            bytes = row.size_bytes,
            "project document stored"
        );
        Ok(response)
    }

    /// ListProjectDocuments.
    pub async fn list_project_documents(
        &self,
        caller: &Principal,
        req: pb::ListProjectDocumentsRequest,
    ) -> Result<pb::ListProjectDocumentsResponse> {
        let mut conn = self.conn().await?;
        let p = self
            .visible_project(&mut conn, caller, "project_id", &req.project_id)
            .await?;
        let rows = documents::list(&mut conn, PROJECT, &p.id).await?;
        Ok(pb::ListProjectDocumentsResponse {
            documents: rows.iter().map(document_proto).collect(),
        })
    }

    /// DownloadProjectDocument: the first message names the file; each carries one piece.
    pub async fn download_project_document(
        &self,
        caller: &Principal,
        req: pb::DownloadProjectDocumentRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::DownloadProjectDocumentResponse, tonic::Status>>> {
        let d = {
            let mut conn = self.conn().await?;
            self.visible_document(&mut conn, caller, &req.id).await?.0
        };
        Ok(documents::download(&self.db, d, DOCUMENT, |d, piece, content| {
            let first = piece == 0;
            pb::DownloadProjectDocumentResponse {
                file_name: if first { d.file_name.clone() } else { String::new() },
                content_type: if first { d.content_type.clone() } else { String::new() },
                size_bytes: if first { d.size_bytes } else { 0 },
                content,
            }
        }))
    }

    /// DeleteProjectDocument.
    pub async fn delete_project_document(
        &self,
        caller: &Principal,
        req: pb::DeleteProjectDocumentRequest,
    ) -> Result<pb::DeleteProjectDocumentResponse> {
        let mut tx = self.db.begin_write().await?;
        let (d, p) = self.visible_document(&mut tx, caller, &req.id).await?;
        if p.status != "open" {
            return Err(super::projects::terminated(&p.id));
        }
        documents::delete(&mut tx, &d.id).await?;
        tx.commit().await?;
        Ok(pb::DeleteProjectDocumentResponse {})
    }
}
