//! Loans and samples: lent goods stay the company's, tracked per borrower until they come back
//! or are sold; never more comes back than went out.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

fn lend(warehouse_id: &str, borrower: &str, lines: Vec<pb::StockDocumentLine>) -> pb::CreateStockDocumentRequest {
    let mut req = posted(pb::DocumentKind::LoanOut, warehouse_id, lines);
    let doc = req.document.as_mut().expect("doc");
    doc.counterparty_id = borrower.into();
    doc.counterparty_kind = pb::CounterpartyKind::Customer as i32;
    doc.due_date = "2020-01-31".into();
    req
}

async fn loans_of(w: &mut Warehouse, borrower: &str) -> Vec<pb::Loan> {
    w.list_loans(pb::ListLoansRequest {
        filter: format!("counterparty_id = \"{borrower}\" AND status = \"open\""),
        ..Default::default()
    })
    .await
    .expect("loans")
    .into_inner()
    .loans
}

#[tokio::test]
async fn lent_goods_are_tracked_until_returned_or_sold() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "LOAN-1", "1").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(
        &mut w,
        pb::DocumentKind::Opening,
        &wh.id,
        vec![costed(&p.id, "10", "3")],
    )
    .await;

    let out = w
        .create_stock_document(lend(&wh.id, "customer-7", vec![line(&p.id, "6")]))
        .await
        .expect("lend")
        .into_inner()
        .document
        .expect("doc");
    assert!(out.number.starts_with("WH-LN-"));
    assert_eq!(amt(out.lines[0].value.as_ref()), "18");
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!(
        (l.on_hand.as_str(), l.on_loan.as_str()),
        ("4", "6"),
        "lent goods leave the shelves"
    );
    let open = loans_of(&mut w, "customer-7").await;
    assert_eq!(open.len(), 1);
    let loan = &open[0];
    assert_eq!((loan.outstanding.as_str(), loan.overdue), ("6", true));
    assert_eq!(amt(loan.outstanding_value.as_ref()), "18");

    // Two come back, at the value they left with; one is kept as a sale.
    let back = w
        .return_loan(pb::ReturnLoanRequest {
            id: loan.id.clone(),
            quantity: "2".into(),
            remark: "unused".into(),
            request_id: "return-1".into(),
            serial_numbers: Vec::new(),
        })
        .await
        .expect("return")
        .into_inner();
    assert_eq!(back.loan.as_ref().expect("loan").outstanding, "4");
    assert_eq!(amt(back.document.as_ref().expect("doc").lines[0].value.as_ref()), "6");
    // Retried: nothing more comes back.
    w.return_loan(pb::ReturnLoanRequest {
        id: loan.id.clone(),
        quantity: "2".into(),
        remark: "unused".into(),
        request_id: "return-1".into(),
        serial_numbers: Vec::new(),
    })
    .await
    .expect("replayed");
    w.sell_loan(pb::SellLoanRequest {
        id: loan.id.clone(),
        quantity: "1".into(),
        reference: "SO-1".into(),
        request_id: "sell-1".into(),
        serial_numbers: Vec::new(),
    })
    .await
    .expect("sell");
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!((l.on_hand.as_str(), l.on_loan.as_str()), ("6", "3"));
    // Never more than is out.
    let status = assert_reason(
        w.return_loan(pb::ReturnLoanRequest {
            id: loan.id.clone(),
            quantity: "4".into(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "LOAN_NOT_OUT",
    );
    use tonic_types::StatusExt;
    assert_eq!(
        status.get_details_error_info().expect("info").metadata["outstanding"],
        "3"
    );
    // The rest comes back (no quantity: all that is out), closing the loan.
    let closed = w
        .return_loan(pb::ReturnLoanRequest {
            id: loan.id.clone(),
            request_id: "return-2".into(),
            ..Default::default()
        })
        .await
        .expect("return the rest")
        .into_inner()
        .loan
        .expect("loan");
    assert_eq!(
        (closed.status, closed.outstanding.as_str()),
        (pb::LoanStatus::Closed as i32, "0")
    );
    assert_eq!(
        amt(closed.outstanding_value.as_ref()),
        "0",
        "nothing of its value is left out"
    );
    assert!(loans_of(&mut w, "customer-7").await.is_empty());
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!(
        (l.on_hand.as_str(), l.on_loan.as_str(), amt(l.value.as_ref()).as_str()),
        ("9", "0", "27")
    );
    let audit = audit_clean(&mut w).await;
    assert_eq!(
        (
            audit.inbound_quantity.as_str(),
            audit.outbound_quantity.as_str(),
            audit.on_loan_quantity.as_str()
        ),
        ("10", "1", "0"),
        "only the sale left the company's stock"
    );

    // A loan names its borrower; returns and sales come from the loan, not a document.
    let mut nobody = lend(&wh.id, "", vec![line(&p.id, "1")]);
    nobody.document.as_mut().expect("doc").counterparty_kind = 0;
    let status = assert_field_reason(
        w.create_stock_document(nobody).await,
        Code::InvalidArgument,
        "document.counterparty_id",
        "REQUIRED",
    );
    assert_field(
        Err::<(), _>(status),
        Code::InvalidArgument,
        "document.counterparty_kind",
    );
    assert_field_reason(
        w.create_stock_document(posted(pb::DocumentKind::LoanReturn, &wh.id, vec![line(&p.id, "1")]))
            .await,
        Code::InvalidArgument,
        "document.kind",
        "NOT_ALLOWED",
    );
    // Lending more than is on the shelves is refused like any outbound.
    assert_reason(
        w.create_stock_document(lend(&wh.id, "customer-8", vec![line(&p.id, "10")]))
            .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_STOCK",
    );
}
