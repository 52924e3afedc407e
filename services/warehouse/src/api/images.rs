//! Product pictures, in the kit's document store under the owner kind `product`: an upload is
//! a client stream (what the image is, then its bytes) stored whole with the product's
//! `image_ids` in one transaction, or not at all; a download is a server stream whose first
//! message names the file. Only real JPEG, PNG, WebP and GIF files are kept.

use crm_kit::auth::Principal;
use crm_kit::documents::{self, Document, NewDocument, Upload};
use crm_kit::errors::{Violations, reason};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;
use tokio::sync::mpsc;

use super::catalog::{PRODUCT, product};
use super::{WarehouseApi, audit, check_notes};
use crate::store;

pub const IMAGE: &str = "crm.warehouse.v1.ProductImage";
/// The owner kind of product pictures in the document store.
const OWNER: &str = "product";
/// The largest picture.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Most pictures of one product.
pub const MAX_IMAGES: usize = 20;

/// The media types kept, with how their files start.
fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}

fn image_proto(d: &Document) -> pb::ProductImage {
    pb::ProductImage {
        id: d.id.clone(),
        product_id: d.owner_id.clone(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        description: d.description.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        audit: Some(audit(d.created_at, &d.created_by, d.created_at, &d.created_by)),
    }
}

/// The ids of a product's pictures as stored.
fn ids_of(p: &store::catalog::ProductRow) -> Vec<String> {
    serde_json::from_str(&p.image_ids).unwrap_or_default()
}

impl WarehouseApi {
    /// A picture (NOT_FOUND for anything else in the document store).
    async fn image(&self, conn: &mut AnyConnection, id: &str) -> Result<Document> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        documents::load(conn, id)
            .await?
            .filter(|d| d.owner_kind == OWNER)
            .ok_or_else(|| Error::not_found(IMAGE, id))
    }

    /// The ids of `product_id`'s pictures in the document store.
    pub(crate) async fn stored_images(&self, conn: &mut AnyConnection, product_id: &str) -> Result<Vec<String>> {
        Ok(documents::list(conn, OWNER, product_id)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect())
    }

    pub async fn upload_product_image(
        &self,
        caller: &Principal,
        mut stream: tonic::Streaming<pb::UploadProductImageRequest>,
    ) -> Result<pb::UploadProductImageResponse> {
        let first = crm_kit::csv_io::first_message(&mut stream, "image").await?;
        let Some(pb::upload_product_image_request::Part::Image(src)) = first.part else {
            return Err(Error::invalid(
                "image",
                reason::REQUIRED,
                "the first message must say what the image is (product_id, file_name, content_type)",
            ));
        };
        let mut v = Violations::new();
        if src.product_id.trim().is_empty() {
            v.add("image.product_id", reason::REQUIRED, "is required");
        }
        documents::check_file_name("image.file_name", &src.file_name, &mut v);
        let content_type = src.content_type.trim().to_ascii_lowercase();
        if !matches!(
            content_type.as_str(),
            "image/jpeg" | "image/png" | "image/webp" | "image/gif"
        ) {
            v.add(
                "image.content_type",
                reason::NOT_ALLOWED,
                "image/jpeg, image/png, image/webp or image/gif",
            );
        }
        check_notes("image.description", &src.description, false, 500, &mut v);
        let upload = Upload::begin("declared", first.declared.as_ref(), MAX_IMAGE_BYTES, &mut v);
        v.finish()?;
        // The product is checked before the bytes are read, so a wrong id fails fast.
        {
            let mut conn = self.conn().await?;
            product(&mut conn, "image.product_id", &src.product_id).await?;
        }
        let received = upload
            .read_rest(&mut stream, "image", |m: pb::UploadProductImageRequest| match m.part {
                Some(pb::upload_product_image_request::Part::Content(bytes)) => Ok(Some(bytes)),
                Some(pb::upload_product_image_request::Part::Image(_)) => Err(()),
                None => Ok(None),
            })
            .await?;
        if !looks_like(&content_type, &received.content) {
            return Err(Error::invalid(
                "content",
                "NOT_AN_IMAGE",
                format!("the bytes are not a {content_type} file"),
            ));
        }
        let row = NewDocument {
            owner_kind: OWNER,
            owner_id: src.product_id.trim(),
            file_name: &src.file_name,
            content_type: &content_type,
            description: &src.description,
            created_by: &caller.employee_id,
            now: now_micros(),
        }
        .document(&received);
        let fingerprint = pb::ProductImage {
            sha256: row.sha256.clone(),
            ..src
        };
        let key = RequestKey::new(
            "UploadProductImage",
            &caller.employee_id,
            &first.request_id,
            &fingerprint,
        )?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let mut p = product(&mut tx, "image.product_id", &row.owner_id).await?;
        let mut ids = ids_of(&p);
        if ids.len() >= MAX_IMAGES {
            return Err(Error::precondition(
                "TOO_MANY_IMAGES",
                format!("products/{}", p.id),
                format!("a product has at most {MAX_IMAGES} pictures: delete one first"),
            ));
        }
        documents::store(&mut tx, &row, &received.content).await?;
        ids.push(row.id.clone());
        p.image_ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        p.updated_at = row.created_at;
        p.updated_by = caller.employee_id.clone();
        let version = p.version;
        if store::catalog::update_product(&mut tx, &p, version).await? != Some(true) {
            return Err(Error::stale_etag(PRODUCT));
        }
        p.version += 1;
        let response = pb::UploadProductImageResponse {
            image: Some(image_proto(&row)),
            product: Some(self.product_proto(&p)),
        };
        let response = tx.finish(response).await?;
        tracing::info!(image = %row.id, product = %row.owner_id, bytes = row.size_bytes, "product image stored");
        Ok(response)
    }

    pub async fn list_product_images(
        &self,
        _caller: &Principal,
        req: pb::ListProductImagesRequest,
    ) -> Result<pb::ListProductImagesResponse> {
        let mut conn = self.conn().await?;
        let p = product(&mut conn, "product_id", &req.product_id).await?;
        let stored = documents::list(&mut conn, OWNER, &p.id).await?;
        let images = ids_of(&p)
            .iter()
            .filter_map(|id| stored.iter().find(|d| &d.id == id))
            .map(image_proto)
            .collect();
        Ok(pb::ListProductImagesResponse { images })
    }

    pub async fn download_product_image(
        &self,
        _caller: &Principal,
        req: pb::DownloadProductImageRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::DownloadProductImageResponse, tonic::Status>>> {
        let d = {
            let mut conn = self.conn().await?;
            self.image(&mut conn, &req.id).await?
        };
        Ok(documents::download(&self.db, d, IMAGE, |d, piece, content| {
            let first = piece == 0;
            pb::DownloadProductImageResponse {
                file_name: if first { d.file_name.clone() } else { String::new() },
                content_type: if first { d.content_type.clone() } else { String::new() },
                size_bytes: if first { d.size_bytes } else { 0 },
                content,
            }
        }))
    }

    pub async fn delete_product_image(
        &self,
        caller: &Principal,
        req: pb::DeleteProductImageRequest,
    ) -> Result<pb::DeleteProductImageResponse> {
        let mut tx = self.db.begin_write().await?;
        let d = self.image(&mut tx, &req.id).await?;
        let mut p = product(&mut tx, "id", &d.owner_id).await?;
        let ids: Vec<String> = ids_of(&p).into_iter().filter(|id| *id != d.id).collect();
        documents::delete(&mut tx, &d.id).await?;
        p.image_ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        p.updated_at = now_micros();
        p.updated_by = caller.employee_id.clone();
        let version = p.version;
        if store::catalog::update_product(&mut tx, &p, version).await? != Some(true) {
            return Err(Error::stale_etag(PRODUCT));
        }
        p.version += 1;
        tx.commit().await?;
        Ok(pb::DeleteProductImageResponse {
            product: Some(self.product_proto(&p)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_pictures_pass() {
        assert!(looks_like("image/png", b"\x89PNG\r\n\x1a\nrest"));
        assert!(looks_like("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(looks_like("image/gif", b"GIF89a..."));
        assert!(looks_like("image/webp", b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(!looks_like("image/png", b"<html><script>"));
        assert!(!looks_like("image/svg+xml", b"<svg/>"));
    }
}
