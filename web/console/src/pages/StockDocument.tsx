// A stock document: its header (kind, status, warehouses, what it refers to, who posted it and
// when) and its lines (the quantity as entered with its unit, the stock quantity, and once
// posted the cost per stock unit and the value the line moved, with the serial numbers or lot it
// moves, each serial linking to its history); by status, post a draft or
// cancel it with a reason, and receive a transfer in transit. Posting and receiving carry a
// request id made once per attempt, so a double click posts once.

import { useRef, useState } from "react";
import { Alert, Button, Descriptions, Form, Input, Modal, Space, Spin, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { DocumentStatus, type StockDocument as Doc, type StockDocumentLine } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { kindKey, statusKey, shortageLine, shortageOf, shortageSentence, takesCost, takesReservation, trackingRefusalOf, trackingSentence } from "./stock/logic";
import { DocumentStatusTag, productLabel, useFormats, useProducts, useWarehouses } from "./stock/shared";

/** A mutation's request id: made at the first click of an attempt, kept until it settles. */
function useRequestId() {
  const id = useRef<string | null>(null);
  return {
    take: () => (id.current ??= crypto.randomUUID()),
    done: () => {
      id.current = null;
    },
  };
}

export default function StockDocument() {
  const { documentId = "" } = useParams();
  const { t, language } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const queryClient = useQueryClient();
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState("");
  const doc = useQuery({
    queryKey: ["stockDocument", documentId],
    queryFn: ({ signal }) => warehouse.getStockDocument({ id: documentId }, { signal }),
  });
  const d = doc.data?.document;
  const products = useProducts(d?.lines.map((l) => l.productId) ?? []);
  const postId = useRequestId();
  const receiveId = useRequestId();
  const changed = (answer: { document?: Doc }) => {
    if (answer.document) queryClient.setQueryData(["stockDocument", documentId], { ...doc.data, document: answer.document });
    void queryClient.invalidateQueries({ queryKey: ["stockDocuments"] });
    void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
    void queryClient.invalidateQueries({ queryKey: ["ledger"] });
  };
  const post = useMutation({
    mutationFn: (requestId: string) => warehouse.postStockDocument({ id: documentId, requestId }),
    onSuccess: changed,
    onSettled: postId.done,
  });
  const receive = useMutation({
    mutationFn: (requestId: string) => warehouse.receiveTransfer({ id: documentId, requestId }),
    onSuccess: changed,
    onSettled: receiveId.done,
  });
  const cancel = useMutation({
    mutationFn: () => warehouse.cancelStockDocument({ id: documentId, reason: reason.trim() }),
    onSuccess: (answer) => {
      changed(answer);
      setCancelling(false);
    },
  });

  if (doc.isPending) return <Spin />;
  if (!d) return <ErrorNotice problem={doc.error ? problemFromError(doc.error) : null} />;

  const me = session();
  const canPost = allows(me, "warehouse.document.post");
  const canWrite = allows(me, "warehouse.document.write");
  const shortage = shortageOf(post.error);
  const shortLine = shortage ? shortageLine(shortage) : -1;
  const shortText = shortage
    ? shortageSentence(t, language, shortage, {
        product: productLabel(products.get(shortage.productId), shortage.productId),
        unit: products.get(shortage.productId)?.unit,
        warehouse: warehouses.nameOf(shortage.warehouseId),
      })
    : "";
  const tracked = shortage ? null : trackingRefusalOf(post.error);
  const trackedLine = tracked ? shortageLine({ ...tracked, available: "" }) : -1;
  const trackedText = tracked
    ? trackingSentence(t, language, tracked, { warehouse: warehouses.nameOf(tracked.warehouseId), unit: products.get(d.lines[trackedLine]?.productId ?? "")?.unit })
    : "";
  const posted = d.status === DocumentStatus.POSTED || d.status === DocumentStatus.IN_TRANSIT;
  const lineError = (l: StockDocumentLine, i: number) =>
    shortage && (shortLine === i || (shortLine < 0 && l.productId === shortage.productId)) ? shortText : tracked && trackedLine === i ? trackedText : "";
  const hasSerials = d.lines.some((l) => l.serialNumbers.length > 0);
  const hasLots = d.lines.some((l) => l.lot);

  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} wrap>
        <Typography.Title level={2}>
          {d.number} <DocumentStatusTag status={d.status} />
        </Typography.Title>
        <Space wrap>
          {d.status === DocumentStatus.DRAFT && canPost && (
            <Button type="primary" loading={post.isPending} onClick={() => !post.isPending && post.mutate(postId.take())}>
              {t("stock.document.post")}
            </Button>
          )}
          {d.status === DocumentStatus.DRAFT && canWrite && <Button onClick={() => setCancelling(true)}>{t("stock.document.cancel")}</Button>}
          {d.status === DocumentStatus.IN_TRANSIT && canPost && (
            <Button type="primary" loading={receive.isPending} onClick={() => !receive.isPending && receive.mutate(receiveId.take())}>
              {t("stock.document.receive")}
            </Button>
          )}
          <Link to="/stock/documents">{t("common.back")}</Link>
        </Space>
      </Space>
      {shortage ? (
        <Alert type="error" showIcon message={t("stock.shortage.title")} description={shortLine >= 0 ? t("stock.line.numbered", { n: String(shortLine + 1), text: shortText }) : shortText} style={{ marginBottom: 16 }} />
      ) : tracked ? (
        <Alert
          type="error"
          showIcon
          message={t("serials.refused.title")}
          description={trackedLine >= 0 ? t("stock.line.numbered", { n: String(trackedLine + 1), text: trackedText }) : `${trackedText} ${tracked.message}`}
          style={{ marginBottom: 16 }}
        />
      ) : (
        <ErrorNotice problem={post.error ? problemFromError(post.error) : null} />
      )}
      <ErrorNotice problem={receive.error ? problemFromError(receive.error) : null} />
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 24 }}>
        <Descriptions.Item label={t("stock.document.kind")}>{t(kindKey(d.kind))}</Descriptions.Item>
        <Descriptions.Item label={t("stock.document.status")}>
          <span data-testid="document-status">{t(statusKey(d.status))}</span>
        </Descriptions.Item>
        <Descriptions.Item label={d.toWarehouseId ? t("stock.document.from") : t("stock.warehouse")}>{warehouses.nameOf(d.warehouseId)}</Descriptions.Item>
        {!!d.toWarehouseId && <Descriptions.Item label={t("stock.document.to")}>{warehouses.nameOf(d.toWarehouseId)}</Descriptions.Item>}
        {!!d.toWarehouseId && <Descriptions.Item label={t("stock.document.inTransit")}>{d.inTransit ? t("stock.yes") : t("stock.no")}</Descriptions.Item>}
        <Descriptions.Item label={t("stock.document.reference")}>{d.reference}</Descriptions.Item>
        {!!d.counterpartyId && <Descriptions.Item label={t("stock.document.counterparty")}>{d.counterpartyId}</Descriptions.Item>}
        {!!d.courier && <Descriptions.Item label={t("stock.document.courier")}>{d.courier}</Descriptions.Item>}
        {!!d.trackingNumber && <Descriptions.Item label={t("stock.document.trackingNumber")}>{d.trackingNumber}</Descriptions.Item>}
        <Descriptions.Item label={t("stock.document.created")}>
          {f.time(d.audit?.createTime)} · <EmployeeName id={d.audit?.createdBy} />
        </Descriptions.Item>
        {!!d.postTime && (
          <Descriptions.Item label={t("stock.document.postTime")}>
            {f.time(d.postTime)} · <EmployeeName id={d.postedBy} />
          </Descriptions.Item>
        )}
        {!!d.receiveTime && <Descriptions.Item label={t("stock.document.receiveTime")}>{f.time(d.receiveTime)}</Descriptions.Item>}
        {!!d.remark && <Descriptions.Item label={t("stock.document.remark")}>{d.remark}</Descriptions.Item>}
      </Descriptions>
      <Typography.Title level={4}>{t("stock.document.lines")}</Typography.Title>
      <Table<StockDocumentLine>
        rowKey="lineNo"
        dataSource={d.lines}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        columns={[
          { title: "#", dataIndex: "lineNo" },
          {
            title: t("stock.product"),
            key: "product",
            render: (_, l, i) => (
              <>
                {productLabel(products.get(l.productId), l.productId)}
                {lineError(l, i) && (
                  <Typography.Paragraph type="danger" style={{ margin: 0 }}>
                    {lineError(l, i)}
                  </Typography.Paragraph>
                )}
              </>
            ),
          },
          { title: t("stock.line.quantityEntered"), key: "quantity", align: "right", render: (_, l) => `${f.qty(l.quantity)} ${l.unit}` },
          { title: t("stock.line.stockQuantity"), key: "stockQuantity", align: "right", render: (_, l) => (l.stockQuantity ? `${f.qty(l.stockQuantity)} ${products.get(l.productId)?.unit ?? ""}` : "") },
          {
            title: posted ? t("stock.line.costPerStockUnit") : t("stock.line.unitCostEntered"),
            key: "unitCost",
            align: "right",
            render: (_, l) => (posted || takesCost(d.kind) ? f.money(l.unitCost) : ""),
          },
          { title: t("stock.value"), key: "value", align: "right", render: (_, l) => (posted ? f.money(l.value) : "") },
          ...(takesReservation(d.kind) ? [{ title: t("stock.line.reservationId"), key: "reservation", render: (_: unknown, l: StockDocumentLine) => l.reservationId }] : []),
          ...(hasSerials
            ? [
                {
                  title: t("serials.serialNumbers"),
                  key: "serials",
                  render: (_: unknown, l: StockDocumentLine) => (
                    <Space size={[4, 4]} wrap data-cell="serials">
                      {l.serialNumbers.map((sn) => (
                        <Tag key={sn} style={{ marginInlineEnd: 0 }}>
                          <Link to={`/stock/serials?product=${encodeURIComponent(l.productId)}&serial=${encodeURIComponent(sn)}`}>{sn}</Link>
                        </Tag>
                      ))}
                    </Space>
                  ),
                },
              ]
            : []),
          ...(hasLots ? [{ title: t("serials.lot"), key: "lot", render: (_: unknown, l: StockDocumentLine) => <span data-cell="lot">{l.lot}</span> }] : []),
          { title: t("stock.document.remark"), dataIndex: "remark" },
        ]}
      />
      <Modal
        open={cancelling}
        title={t("stock.document.cancelTitle", { number: d.number })}
        okText={t("stock.document.cancel")}
        cancelText={t("common.back")}
        onCancel={() => setCancelling(false)}
        confirmLoading={cancel.isPending}
        onOk={() => cancel.mutate()}
      >
        <Form layout="vertical" name="cancel-document">
          <Form.Item label={t("stock.document.cancelReason")} htmlFor="cancel-reason">
            <Input.TextArea id="cancel-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
          </Form.Item>
        </Form>
        <ErrorNotice problem={cancel.error ? problemFromError(cancel.error) : null} />
      </Modal>
    </>
  );
}
