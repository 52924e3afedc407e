//! The catalog as CSV: each row checked as CreateProduct checks it, bad rows reported by row and
//! column without stopping the rest, existing codes skipped, updated or failed; the export
//! writes what the import reads.

use crm_proto::warehouse as pb;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::*;

async fn import(
    w: &mut Warehouse,
    mode: pb::ProductImportMode,
    csv: &str,
) -> Result<pb::ImportProductsResponse, tonic::Status> {
    let mut messages = vec![pb::ImportProductsRequest {
        part: Some(pb::import_products_request::Part::Options(pb::ProductImportOptions {
            mode: mode as i32,
            ..Default::default()
        })),
    }];
    // In small pieces, as a file arrives.
    for piece in csv.as_bytes().chunks(37) {
        messages.push(pb::ImportProductsRequest {
            part: Some(pb::import_products_request::Part::CsvChunk(piece.to_vec())),
        });
    }
    w.import_products(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

async fn export(w: &mut Warehouse, query: &str) -> String {
    let mut stream = w
        .export_products(pb::ExportProductsRequest {
            query: query.into(),
            ..Default::default()
        })
        .await
        .expect("export")
        .into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend(chunk.expect("chunk").csv_chunk);
    }
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn imported_rows_are_checked_one_by_one() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let phones = w
        .create_category(pb::CreateCategoryRequest {
            name: "Phones".into(),
            ..Default::default()
        })
        .await
        .expect("category")
        .into_inner()
        .category
        .expect("category");
    let existing = product(&mut w, "KEEP-1", "5").await;
    let csv = "code,name,specification,unit,units,category,sale_price,tax_rate,tracking,colour\n\
        P-100,Desk phone,black,pcs,box=10,Phones,99.50,13%,serial,black\n\
        P-101,Cable,2m,pcs,box=ten,,5,13,,red\n\
        ,Nameless,,pcs,,,1,0,,\n\
        P-102,Charger,,pcs,,Tablets,-1,130,,\n\
        KEEP-1,Renamed,,pcs,,,1,0,,\n\
        ｐ-103,Headset,,pcs,,phones,12,6,lot,\n\
        P-104,Desk phone,black,pcs,,,1,0,,\n";
    let r = import(&mut w, pb::ProductImportMode::Skip, csv).await.expect("import");
    assert_eq!((r.created, r.skipped, r.failed), (2, 1, 4), "{r:?}");
    assert_eq!(r.ignored_columns, vec!["colour"]);
    let errors: Vec<(i64, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    for want in [
        (2, "units"),
        (3, "code"),
        (4, "category"),
        (4, "sale_price"),
        (4, "tax_rate"),
        (7, "name"),
    ] {
        assert!(errors.contains(&want), "{want:?} not in {:?}", r.errors);
    }
    let listed = w
        .list_products(pb::ListProductsRequest {
            query: "P-100".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .products;
    let p = &listed[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.category_id.as_str(),
            p.tax_rate.as_str(),
            p.tracking()
        ),
        ("Desk phone", phones.id.as_str(), "13", pb::Tracking::Serial)
    );
    assert_eq!(amt(p.sale_price.as_ref()), "99.5");
    assert_eq!(p.units[0].factor, "10");
    // Skipped: the existing product is as it was.
    let kept = w
        .get_product(pb::GetProductRequest {
            id: existing.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .product
        .expect("product");
    assert_eq!(kept.name, existing.name);

    // Updated by code; failed by code.
    let r = import(
        &mut w,
        pb::ProductImportMode::Update,
        "code,name,brand\nKEEP-1,Renamed lamp,Acme\n",
    )
    .await
    .expect("update");
    assert_eq!((r.updated, r.failed), (1, 0), "{r:?}");
    let kept = w
        .get_product(pb::GetProductRequest {
            id: existing.id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .product
        .expect("product");
    assert_eq!(
        (kept.name.as_str(), kept.brand.as_str(), kept.unit.as_str()),
        ("Renamed lamp", "Acme", "pcs")
    );
    let r = import(
        &mut w,
        pb::ProductImportMode::Fail,
        "code,name,unit\nkeep-1,Again,pcs\n",
    )
    .await
    .expect("fail mode");
    assert_eq!((r.failed, r.errors[0].field.as_str()), (1, "code"));

    // A file without a code column is refused whole.
    let status = import(&mut w, pb::ProductImportMode::Skip, "name,unit\nX,pcs\n")
        .await
        .expect_err("no code column");
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_export_reads_back_into_the_import() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let csv = "code,name,specification,unit,units,sale_price,tax_rate,standard_cost,remark\n\
        E-1,\"Lamp, desk\",40W,pcs,box=12;case=144,25,13,9.5,\"two\nlines\"\n\
        E-2,灯泡,E27,pcs,,3,9,1.25,\n";
    let r = import(&mut w, pb::ProductImportMode::Skip, csv).await.expect("import");
    assert_eq!(r.created, 2, "{r:?}");
    let out = export(&mut w, "").await;
    assert!(
        out.starts_with("id,code,name,specification,unit,units,category"),
        "{out}"
    );
    assert!(out.contains("\"Lamp, desk\""), "{out}");
    assert!(out.contains("box=12;case=144"), "{out}");
    assert!(out.contains("灯泡"), "{out}");
    // Imported again in update mode, nothing changes and nothing fails.
    let r = import(&mut w, pb::ProductImportMode::Update, &out)
        .await
        .expect("reimport");
    assert_eq!(
        (r.updated, r.failed, r.ignored_columns.clone()),
        (2, 0, vec!["id".to_string()]),
        "{r:?}"
    );
    assert_eq!(export(&mut w, "").await, out);
    let one = export(&mut w, "灯泡").await;
    assert_eq!(one.lines().count(), 2, "{one}");
}
