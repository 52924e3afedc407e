//! A document store for uploads: files kept with any record (a project's contracts, an
//! expense claim's receipts, a repair's photos). A document belongs to one owner, named by a
//! kind (`project`, `expense`, `repair`) and the owner's id; its bytes are kept in pieces of
//! [`PIECE`] bytes, so a download streams without holding the file.
//!
//! An upload arrives as a client stream: [`Upload`] checks what the first message says the
//! document is (a file name, not a path; a media type) and collects the bytes against the
//! declared size and digest and the service's size limit; [`store`] writes it whole in the
//! caller's transaction or not at all. [`download`] streams the pieces back, cutting the
//! download short (never passing it off as whole) if the document is deleted meanwhile.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tokio::sync::mpsc;

use crate::csv_io::Declared;
use crate::db::{Backend, Db, Migration};
use crate::errors::{Error, Result, Violations, reason};

/// Bytes per stored piece, and per download message.
pub const PIECE: usize = 256 * 1024;

/// The media type of a document uploaded without one.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The document tables, with `$bytes` the backend's type for the bytes.
macro_rules! tables {
    ($bytes:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS crm_documents (
                id TEXT PRIMARY KEY,
                owner_kind TEXT NOT NULL,
                owner_id TEXT NOT NULL,
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                size_bytes BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                pieces BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS crm_documents_by_owner ON crm_documents (owner_kind, owner_id, created_at);
            CREATE TABLE IF NOT EXISTS crm_document_pieces (
                document_id TEXT NOT NULL,
                piece BIGINT NOT NULL,
                data ",
            $bytes,
            " NOT NULL,
                PRIMARY KEY (document_id, piece)
            );"
        )
    };
}

/// The document tables, one migration per backend (the bytes' column type differs).
pub const MIGRATIONS: [Migration; 2] = [
    Migration {
        version: 1_000_009,
        name: "kit_documents",
        sql: tables!("BLOB"),
        only_on: Some(Backend::Sqlite),
    },
    Migration {
        version: 1_000_010,
        name: "kit_documents",
        sql: tables!("BYTEA"),
        only_on: Some(Backend::Postgres),
    },
];

const COLUMNS: &str = "id, owner_kind, owner_id, file_name, content_type, description, size_bytes, sha256, pieces, created_at, created_by";

/// A stored document (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Document {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub file_name: String,
    pub content_type: String,
    pub description: String,
    pub size_bytes: i64,
    /// The SHA-256 of the bytes, 64 lowercase hex digits.
    pub sha256: String,
    pub pieces: i64,
    pub created_at: i64,
    pub created_by: String,
}

/// Checks a file name: a name, not a path, printable, at most 255 characters.
pub fn check_file_name(field: &str, name: &str, v: &mut Violations) {
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

/// Checks a media type: `type/subtype` of token characters, optionally with parameters (empty
/// is allowed: the document is kept as [`OCTET_STREAM`]).
pub fn check_content_type(field: &str, value: &str, v: &mut Violations) {
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

/// The bytes of one upload as they arrive, checked against the declared size and digest and
/// the largest document the service accepts.
#[derive(Debug)]
pub struct Upload {
    declared: Declared,
    max_bytes: usize,
    content: Vec<u8>,
}

impl Upload {
    /// Reads the declaration at `declared_field` (see [`Declared::parse`]); a declared size
    /// over `max_bytes` is a violation before any byte is read.
    pub fn begin(
        declared_field: &str,
        declaration: Option<&crm_proto::common::UploadDeclaration>,
        max_bytes: usize,
        v: &mut Violations,
    ) -> Upload {
        let declared = Declared::parse(declared_field, declaration, v);
        if declared.size().is_some_and(|size| size > max_bytes as u64) {
            v.add(
                format!("{declared_field}.size_bytes"),
                reason::TOO_LARGE,
                format!("a document may be at most {max_bytes} bytes"),
            );
        }
        Upload {
            declared,
            max_bytes,
            content: Vec::new(),
        }
    }

    /// Adds the next bytes (field `content`): more than the limit or than declared fails at once.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<()> {
        if self.content.len() + bytes.len() > self.max_bytes {
            return Err(Error::invalid(
                "content",
                reason::TOO_LARGE,
                format!("a document may be at most {} bytes", self.max_bytes),
            ));
        }
        self.declared.receive(bytes)?;
        self.content.extend_from_slice(bytes);
        Ok(())
    }

    /// Reads the rest of `stream` (the messages after the first) into the upload and finishes
    /// it: `piece` says what each message carries, its bytes (`Some`), or nothing (`None`, an
    /// empty message); a message that says again what the document is (`Err`) fails the upload
    /// on `header_field`. A stream can end cleanly although its sender went away midway: only
    /// what was declared tells a whole document from one cut off.
    pub async fn read_rest<M>(
        mut self,
        stream: &mut tonic::Streaming<M>,
        header_field: &str,
        piece: impl Fn(M) -> std::result::Result<Option<Vec<u8>>, ()>,
    ) -> Result<Received> {
        use tokio_stream::StreamExt;
        while let Some(message) = stream.next().await {
            let message = message.map_err(|e| Error::invalid("content", "STREAM_ERROR", e.message().to_string()))?;
            match piece(message) {
                Ok(Some(bytes)) => self.receive(&bytes)?,
                Ok(None) => {}
                Err(()) => {
                    return Err(Error::invalid(
                        header_field,
                        "REPEATED",
                        format!("only the first message says what the {header_field} is"),
                    ));
                }
            }
        }
        self.finish()
    }

    /// At the stream's clean end: the bytes, when they are what was declared and not empty.
    pub fn finish(self) -> Result<Received> {
        self.declared.finish()?;
        if self.content.is_empty() {
            return Err(Error::invalid("content", reason::EMPTY, "the document has no bytes"));
        }
        let sha256 = crate::idempotency::hex(&Sha256::digest(&self.content));
        Ok(Received {
            content: self.content,
            sha256,
        })
    }
}

/// An upload's bytes, whole.
#[derive(Debug, Clone)]
pub struct Received {
    pub content: Vec<u8>,
    /// Their SHA-256, 64 lowercase hex digits.
    pub sha256: String,
}

/// What a new document is.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub owner_kind: &'a str,
    pub owner_id: &'a str,
    pub file_name: &'a str,
    /// Empty: [`OCTET_STREAM`].
    pub content_type: &'a str,
    pub description: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

impl NewDocument<'_> {
    /// The document these bytes would be stored as (a fresh id, trimmed texts).
    pub fn document(&self, received: &Received) -> Document {
        let size = received.content.len();
        Document {
            id: crate::new_id(),
            owner_kind: self.owner_kind.to_string(),
            owner_id: self.owner_id.trim().to_string(),
            file_name: self.file_name.trim().to_string(),
            content_type: match self.content_type.trim() {
                "" => OCTET_STREAM.to_string(),
                t => t.to_string(),
            },
            description: self.description.trim().to_string(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            sha256: received.sha256.clone(),
            pieces: i64::try_from(size.div_ceil(PIECE)).unwrap_or(i64::MAX),
            created_at: self.now,
            created_by: self.created_by.to_string(),
        }
    }
}

/// Stores `document` (from [`NewDocument::document`]) with its bytes on `conn`, the caller's
/// transaction, so it is kept whole or not at all.
pub async fn store(conn: &mut AnyConnection, document: &Document, content: &[u8]) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO crm_documents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&document.id)
    .bind(&document.owner_kind)
    .bind(&document.owner_id)
    .bind(&document.file_name)
    .bind(&document.content_type)
    .bind(&document.description)
    .bind(document.size_bytes)
    .bind(&document.sha256)
    .bind(document.pieces)
    .bind(document.created_at)
    .bind(&document.created_by)
    .execute(&mut *conn)
    .await?;
    for (i, piece) in content.chunks(PIECE).enumerate() {
        sqlx::query("INSERT INTO crm_document_pieces (document_id, piece, data) VALUES ($1, $2, $3)")
            .bind(&document.id)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(piece.to_vec())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The document `id` (of any owner: the caller checks the owner is visible).
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Document>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM crm_documents WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The documents of one owner, newest first.
pub async fn list(conn: &mut AnyConnection, owner_kind: &str, owner_id: &str) -> Result<Vec<Document>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM crm_documents WHERE owner_kind = $1 AND owner_id = $2 \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(owner_kind)
    .bind(owner_id)
    .fetch_all(conn)
    .await?)
}

/// Deletes the document `id` and its bytes, on the caller's transaction.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM crm_document_pieces WHERE document_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM crm_documents WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Streams the pieces of `document`, each turned into a message by `message(index, bytes)`
/// (the first usually also names the file). A piece gone meanwhile (the document was deleted)
/// ends the stream with NOT_FOUND of `resource`, so a cut download is never passed off as
/// whole.
pub fn download<M, F>(
    db: &Db,
    document: Document,
    resource: &'static str,
    message: F,
) -> mpsc::Receiver<std::result::Result<M, tonic::Status>>
where
    M: Send + 'static,
    F: Fn(&Document, i64, Vec<u8>) -> M + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let db = db.clone();
    tokio::spawn(async move {
        for piece in 0..document.pieces {
            let data: std::result::Result<Option<Vec<u8>>, sqlx::Error> =
                sqlx::query_scalar("SELECT data FROM crm_document_pieces WHERE document_id = $1 AND piece = $2")
                    .bind(&document.id)
                    .bind(piece)
                    .fetch_optional(&db.pool)
                    .await;
            let next = match data {
                Ok(Some(content)) => Ok(message(&document, piece, content)),
                Ok(None) => Err(Error::not_found(resource, &document.id).into()),
                Err(e) => Err(Error::from(e).into()),
            };
            let failed = next.is_err();
            if tx.send(next).await.is_err() || failed {
                return;
            }
        }
    });
    rx
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

    #[test]
    fn an_upload_over_the_limit_or_empty_is_refused() {
        let mut v = Violations::new();
        let mut upload = Upload::begin("declared", None, 4, &mut v);
        assert!(v.finish().is_ok());
        upload.receive(b"abc").unwrap();
        assert!(upload.receive(b"de").is_err());
        let empty = Upload::begin("declared", None, 4, &mut Violations::new());
        assert!(empty.finish().is_err());
        let mut whole = Upload::begin("declared", None, 1 << 20, &mut Violations::new());
        whole.receive(b"hello").unwrap();
        let received = whole.finish().unwrap();
        assert_eq!(
            received.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let doc = NewDocument {
            owner_kind: "project",
            owner_id: " p1 ",
            file_name: " a.txt ",
            content_type: "",
            description: "",
            created_by: "e1",
            now: 7,
        }
        .document(&received);
        assert_eq!((doc.owner_id.as_str(), doc.file_name.as_str()), ("p1", "a.txt"));
        assert_eq!(
            (doc.content_type.as_str(), doc.pieces, doc.size_bytes),
            (OCTET_STREAM, 1, 5)
        );
    }
}
