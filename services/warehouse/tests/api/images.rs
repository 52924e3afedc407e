//! Product pictures: only real images are kept, whole or not at all, in the product's order.

use crm_proto::warehouse as pb;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRpretend-the-rest-is-a-picture";

async fn upload(
    w: &mut Warehouse,
    product_id: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<pb::UploadProductImageResponse, tonic::Status> {
    let mut messages = vec![pb::UploadProductImageRequest {
        part: Some(pb::upload_product_image_request::Part::Image(pb::ProductImage {
            product_id: product_id.into(),
            file_name: "front.png".into(),
            content_type: content_type.into(),
            ..Default::default()
        })),
        ..Default::default()
    }];
    for piece in bytes.chunks(7) {
        messages.push(pb::UploadProductImageRequest {
            part: Some(pb::upload_product_image_request::Part::Content(piece.to_vec())),
            ..Default::default()
        });
    }
    w.upload_product_image(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn pictures_are_kept_with_their_product() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "PIC-1", "1").await;
    let first = upload(&mut w, &p.id, "image/png", PNG).await.expect("upload");
    let image = first.image.expect("image");
    assert_eq!(first.product.expect("product").image_ids, vec![image.id.clone()]);
    let second = upload(&mut w, &p.id, "image/png", PNG).await.expect("second");
    let second_id = second.image.expect("image").id;

    // Bytes that are not the declared picture, and a type that is not a picture: refused.
    assert_field_reason(
        upload(&mut w, &p.id, "image/png", b"<html><script>alert(1)</script>").await,
        Code::InvalidArgument,
        "content",
        "NOT_AN_IMAGE",
    );
    assert_field_reason(
        upload(&mut w, &p.id, "text/html", PNG).await,
        Code::InvalidArgument,
        "image.content_type",
        "NOT_ALLOWED",
    );
    assert_eq!(
        upload(&mut w, "no-such-product", "image/png", PNG)
            .await
            .expect_err("no product")
            .code(),
        Code::NotFound
    );

    let mut stream = w
        .download_product_image(pb::DownloadProductImageRequest { id: image.id.clone() })
        .await
        .expect("download")
        .into_inner();
    let mut bytes = Vec::new();
    let mut content_type = String::new();
    while let Some(m) = stream.next().await {
        let m = m.expect("piece");
        if !m.content_type.is_empty() {
            content_type = m.content_type;
        }
        bytes.extend(m.content);
    }
    assert_eq!((bytes.as_slice(), content_type.as_str()), (PNG, "image/png"));

    // Reordered by UpdateProduct; another document cannot be named.
    let now = w
        .get_product(pb::GetProductRequest { id: p.id.clone() })
        .await
        .expect("get")
        .into_inner()
        .product
        .expect("product");
    let update = |ids: Vec<String>, etag: String| pb::UpdateProductRequest {
        product: Some(pb::Product {
            id: p.id.clone(),
            image_ids: ids,
            etag,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["image_ids".into()],
        }),
    };
    assert_field_reason(
        w.update_product(update(vec!["someone-elses-file".into()], now.etag.clone()))
            .await,
        Code::InvalidArgument,
        "product.image_ids[0]",
        "UNKNOWN_IMAGE",
    );
    w.update_product(update(vec![second_id.clone(), image.id.clone()], now.etag))
        .await
        .expect("reorder");
    let listed = w
        .list_product_images(pb::ListProductImagesRequest {
            product_id: p.id.clone(),
        })
        .await
        .expect("list")
        .into_inner()
        .images;
    let order: Vec<&str> = listed.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(order, vec![second_id.as_str(), image.id.as_str()]);

    let after = w
        .delete_product_image(pb::DeleteProductImageRequest { id: image.id.clone() })
        .await
        .expect("delete")
        .into_inner()
        .product
        .expect("product");
    assert_eq!(after.image_ids, vec![second_id]);
    assert_eq!(
        w.download_product_image(pb::DownloadProductImageRequest { id: image.id })
            .await
            .expect_err("gone")
            .code(),
        Code::NotFound
    );
}
