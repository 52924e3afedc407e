//! Project documents: files kept with a project (contracts, plans, minutes). An upload is a
//! client stream (what the document is, then its bytes), stored whole in one transaction or
//! not at all, in pieces so a download streams without holding the file; a download is a
//! server stream whose first message names the file.

use crm_kit::auth::Principal;
use crm_kit::csv_io::Declared;
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use super::{SalesApi, audit, check_notes};
use crate::store;
use crate::store::documents::DocumentRow;
use crate::store::projects::ProjectRow;
use crm_kit::errors::reason;

const DOCUMENT: &str = "crm.sales.v1.ProjectDocument";
/// Bytes per stored piece, and per download message.
const PIECE: usize = 256 * 1024;
/// The type a document without one is kept as.
const OCTET_STREAM: &str = "application/octet-stream";

fn document_proto(d: &DocumentRow) -> pb::ProjectDocument {
    pb::ProjectDocument {
        id: d.id.clone(),
        project_id: d.project_id.clone(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        description: d.description.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        audit: Some(audit(d.created_at, &d.created_by, d.created_at, &d.created_by)),
    }
}

/// Checks a file name: a name, not a path, printable, at most 255 characters.
fn check_file_name(field: &str, name: &str, v: &mut Violations) {
    let t = name.trim();
    if t.is_empty() {
        v.add(field, reason::REQUIRED, "is required");
    } else if t.chars().count() > 255 {
        v.add(field, reason::TOO_LONG, "must be at most 255 characters");
    } else if t.contains(['/', '\\']) || t.chars().any(char::is_control) || t == "." || t == ".." {
        v.add(
            field,
            reason::MALFORMED,
            "must be a file name without folders or control characters",
        );
    }
}

/// Checks a media type: `type/subtype` of token characters, optionally with parameters.
fn check_content_type(field: &str, value: &str, v: &mut Violations) {
    let t = value.trim();
    if t.is_empty() {
        return;
    }
    let essence = t.split(';').next().unwrap_or("").trim();
    let token = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c));
    let ok = t.len() <= 255
        && !t.chars().any(char::is_control)
        && essence.split_once('/').is_some_and(|(a, b)| token(a) && token(b));
    if !ok {
        v.add(field, reason::MALFORMED, "must be a media type such as application/pdf");
    }
}

impl SalesApi {
    /// A document of a project the caller may see (NOT_FOUND otherwise, as for a missing one).
    async fn visible_document(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        id: &str,
    ) -> Result<(DocumentRow, ProjectRow)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let Some(d) = store::documents::load(conn, id).await? else {
            return Err(Error::not_found(DOCUMENT, id));
        };
        match self.visible_project(conn, caller, "id", &d.project_id).await {
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
        check_file_name("document.file_name", &src.file_name, &mut v);
        check_content_type("document.content_type", &src.content_type, &mut v);
        check_notes("document.description", &src.description, false, 2000, &mut v);
        let mut declared = Declared::parse("declared", first.declared.as_ref(), &mut v);
        let max = self.max_document_bytes;
        if declared.size().is_some_and(|size| size > max as u64) {
            v.add(
                "declared.size_bytes",
                "TOO_LARGE",
                format!("a document may be at most {max} bytes"),
            );
        }
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

        let mut content = Vec::new();
        while let Some(message) = stream.next().await {
            let message = message.map_err(|e| Error::invalid("content", "STREAM_ERROR", e.message().to_string()))?;
            match message.part {
                Some(pb::upload_project_document_request::Part::Content(bytes)) => {
                    if content.len() + bytes.len() > max {
                        return Err(Error::invalid(
                            "content",
                            "TOO_LARGE",
                            format!("a document may be at most {max} bytes"),
                        ));
                    }
                    declared.receive(&bytes)?;
                    content.extend_from_slice(&bytes);
                }
                Some(pb::upload_project_document_request::Part::Document(_)) => {
                    return Err(Error::invalid(
                        "document",
                        "REPEATED",
                        "only the first message says what the document is",
                    ));
                }
                None => {}
            }
        }
        // A stream can end cleanly although its sender went away midway: only what was
        // declared tells a whole document from one cut off.
        declared.finish()?;
        if content.is_empty() {
            return Err(Error::invalid("content", "EMPTY", "the document has no bytes"));
        }
        let sha256 = crm_kit::idempotency::hex(&Sha256::digest(&content));

        let now = now_micros();
        let content_type = match src.content_type.trim() {
            "" => OCTET_STREAM.to_string(),
            t => t.to_string(),
        };
        let row = DocumentRow {
            id: crm_kit::new_id(),
            project_id: src.project_id.trim().to_string(),
            file_name: src.file_name.trim().to_string(),
            content_type,
            description: src.description.trim().to_string(),
            size_bytes: i64::try_from(content.len()).unwrap_or(i64::MAX),
            sha256,
            pieces: i64::try_from(content.len().div_ceil(PIECE)).unwrap_or(i64::MAX),
            created_at: now,
            created_by: caller.employee_id.clone(),
        };
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
            .visible_project(&mut tx, caller, "document.project_id", &row.project_id)
            .await?;
        if p.status != "open" {
            return Err(super::projects::terminated(&p.id));
        }
        store::documents::insert(&mut tx, &row).await?;
        for (i, piece) in content.chunks(PIECE).enumerate() {
            store::documents::insert_piece(&mut tx, &row.id, i64::try_from(i).unwrap_or(i64::MAX), piece).await?;
        }
        let response = pb::UploadProjectDocumentResponse {
            document: Some(document_proto(&row)),
        };
        let response = tx.finish(response).await?;
        tracing::info!(
            document = %row.id,
            project = %row.project_id,
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
        let rows = store::documents::of_project(&mut conn, &p.id).await?;
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
        let (tx, rx) = mpsc::channel(4);
        let db = self.db.clone();
        tokio::spawn(async move {
            for piece in 0..d.pieces {
                let message = match store::documents::piece(&db, &d.id, piece).await {
                    Ok(Some(content)) => Ok(pb::DownloadProjectDocumentResponse {
                        file_name: if piece == 0 { d.file_name.clone() } else { String::new() },
                        content_type: if piece == 0 {
                            d.content_type.clone()
                        } else {
                            String::new()
                        },
                        size_bytes: if piece == 0 { d.size_bytes } else { 0 },
                        content,
                    }),
                    // Deleted while it was being read: the download is cut short, never
                    // passed off as whole.
                    Ok(None) => Err(Error::not_found(DOCUMENT, &d.id).into()),
                    Err(e) => Err(e.into()),
                };
                let failed = message.is_err();
                if tx.send(message).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(rx)
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
        store::documents::delete(&mut tx, &d.id).await?;
        tx.commit().await?;
        Ok(pb::DeleteProjectDocumentResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_media_types_are_checked() {
        let mut v = Violations::new();
        check_file_name("f", "plan v2.pdf", &mut v);
        check_content_type("t", "application/pdf", &mut v);
        check_content_type("t", "text/plain; charset=utf-8", &mut v);
        check_content_type("t", "", &mut v);
        assert!(v.finish().is_ok());
        for bad in ["", "../etc/passwd", "a\\b", "..", "bad\nname"] {
            let mut v = Violations::new();
            check_file_name("f", bad, &mut v);
            assert!(v.finish().is_err(), "{bad:?}");
        }
        for bad in ["pdf", "application/", "/pdf", "text/pl ain", "a/\nb"] {
            let mut v = Violations::new();
            check_content_type("t", bad, &mut v);
            assert!(v.finish().is_err(), "{bad:?}");
        }
    }
}
