// Stock value: what each warehouse in scope holds (on the shelves and in transit to it) and the
// total, now or as of a chosen time (later postings never change an earlier time's figures);
// and the audit, which recomputes every balance from the ledger: "every balance equals its
// ledger" when nothing differs, else each mismatch, with the inbound, outbound, on-hand and
// in-transit totals (stock units summed over products: a check of conservation), and the shelves
// whose serial numbers or lots do not add up to their on-hand.

import { useState } from "react";
import { Alert, Button, Card, DatePicker, Descriptions, Form, Space, Table, Typography } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Dayjs } from "dayjs";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import type { AuditMismatch, WarehouseValue } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatNumber } from "../i18n/locale";
import { bucketKey } from "./stock/logic";
import { productLabel, useFormats, useProducts, useWarehouses } from "./stock/shared";

function Value() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [asOf, setAsOf] = useState<Dayjs | null>(null);
  const at = asOf ? asOf.second(59).millisecond(999).toDate() : undefined;
  const value = useQuery({
    queryKey: ["stockValue", at?.toISOString() ?? "now"],
    queryFn: ({ signal }) => warehouse.getStockValue({ asOf: at ? timestampFromDate(at) : undefined }, { signal }),
    placeholderData: keepPreviousData,
  });
  const v = value.data;
  return (
    <Card title={t("stock.value.title")} style={{ marginBottom: 24 }}>
      <Space wrap style={{ marginBottom: 16 }}>
        <Form.Item label={t("stock.value.asOf")} htmlFor="value-as-of" style={{ marginBottom: 0 }}>
          <DatePicker id="value-as-of" showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" value={asOf} onChange={setAsOf} placeholder={t("stock.value.now")} />
        </Form.Item>
        {v?.asOf && <Typography.Text type="secondary">{t("stock.value.at", { time: f.time(v.asOf) })}</Typography.Text>}
      </Space>
      <ErrorNotice problem={value.error ? problemFromError(value.error) : null} />
      <Table<WarehouseValue>
        rowKey="warehouseId"
        loading={value.isFetching}
        dataSource={v?.warehouses ?? []}
        pagination={false}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("stock.value.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.warehouse"), key: "warehouse", render: (_, w) => warehouses.nameOf(w.warehouseId) },
          { title: t("stock.value.stock"), key: "stock", align: "right", render: (_, w) => f.money(w.stockValue) },
          { title: t("stock.value.inTransit"), key: "inTransit", align: "right", render: (_, w) => f.money(w.inTransitValue) },
        ]}
        summary={() =>
          v?.total ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>
                <strong>{t("stock.value.total")}</strong>
              </Table.Summary.Cell>
              <Table.Summary.Cell index={1} colSpan={2} align="right">
                <strong data-testid="stock-value-total">{f.money(v.total)}</strong>
              </Table.Summary.Cell>
            </Table.Summary.Row>
          ) : null
        }
      />
    </Card>
  );
}

function Audit() {
  const { t, language } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const audit = useQuery({
    queryKey: ["stockAudit"],
    queryFn: ({ signal }) => warehouse.auditStock({}, { signal }),
  });
  const a = audit.data;
  const products = useProducts(a?.mismatches.map((m) => m.productId) ?? []);
  const clean = a && a.mismatches.length === 0 && a.reservationMismatches.length === 0 && a.trackingMismatches.length === 0;
  return (
    <Card
      title={t("stock.audit.title")}
      extra={
        <Button onClick={() => void audit.refetch()} loading={audit.isFetching}>
          {t("stock.audit.run")}
        </Button>
      }
    >
      <ErrorNotice problem={audit.error ? problemFromError(audit.error) : null} />
      {a && (
        <>
          {clean ? (
            <Alert
              type="success"
              showIcon
              data-testid="audit-result"
              message={t("stock.audit.clean")}
              description={t("stock.audit.compared", { balances: formatNumber(language, Number(a.balances)), lines: formatNumber(language, Number(a.ledgerLines)) })}
              style={{ marginBottom: 16 }}
            />
          ) : (
            <Alert
              type="error"
              showIcon
              data-testid="audit-result"
              message={t("stock.audit.mismatches", { count: formatNumber(language, a.mismatches.length + a.reservationMismatches.length + a.trackingMismatches.length) })}
              description={t("stock.audit.compared", { balances: formatNumber(language, Number(a.balances)), lines: formatNumber(language, Number(a.ledgerLines)) })}
              style={{ marginBottom: 16 }}
            />
          )}
          <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t("stock.audit.balances")}>{formatNumber(language, Number(a.balances))}</Descriptions.Item>
            <Descriptions.Item label={t("stock.audit.ledgerLines")}>{formatNumber(language, Number(a.ledgerLines))}</Descriptions.Item>
            <Descriptions.Item label={t("stock.audit.inbound")}>{f.qty(a.inboundQuantity)}</Descriptions.Item>
            <Descriptions.Item label={t("stock.audit.outbound")}>{f.qty(a.outboundQuantity)}</Descriptions.Item>
            <Descriptions.Item label={t("stock.audit.onHand")}>{f.qty(a.onHandQuantity)}</Descriptions.Item>
            <Descriptions.Item label={t("stock.audit.inTransit")}>{f.qty(a.inTransitQuantity)}</Descriptions.Item>
          </Descriptions>
          <Typography.Paragraph type="secondary">{t("stock.audit.unitsHint")}</Typography.Paragraph>
          {a.mismatches.length > 0 && (
            <Table<AuditMismatch>
              rowKey={(m) => `${m.warehouseId}/${m.productId}/${m.bucket}`}
              dataSource={a.mismatches}
              pagination={false}
              size="small"
              columns={[
                { title: t("stock.warehouse"), key: "warehouse", render: (_, m) => warehouses.nameOf(m.warehouseId) },
                { title: t("stock.product"), key: "product", render: (_, m) => productLabel(products.get(m.productId), m.productId) },
                { title: t("stock.journal.bucket"), key: "bucket", render: (_, m) => t(bucketKey(m.bucket)) },
                { title: t("stock.audit.balanceQuantity"), key: "bq", align: "right", render: (_, m) => f.qty(m.balanceQuantity) },
                { title: t("stock.audit.ledgerQuantity"), key: "lq", align: "right", render: (_, m) => f.qty(m.ledgerQuantity) },
                { title: t("stock.audit.balanceValue"), key: "bv", align: "right", render: (_, m) => f.money(m.balanceValue) },
                { title: t("stock.audit.ledgerValue"), key: "lv", align: "right", render: (_, m) => f.money(m.ledgerValue) },
              ]}
            />
          )}
          {a.reservationMismatches.length > 0 && (
            <Alert type="warning" showIcon message={t("stock.audit.reservationMismatches")} description={<ul>{a.reservationMismatches.map((r) => <li key={r}>{r}</li>)}</ul>} />
          )}
          {a.trackingMismatches.length > 0 && (
            <Alert
              type="warning"
              showIcon
              data-testid="tracking-mismatches"
              message={t("stock.audit.trackingMismatches")}
              description={<ul>{a.trackingMismatches.map((r) => <li key={r}>{r}</li>)}</ul>}
              style={{ marginTop: 16 }}
            />
          )}
        </>
      )}
    </Card>
  );
}

export default function StockValue() {
  const { t } = useI18n();
  return (
    <>
      <Typography.Title level={2}>{t("menu.stockValue")}</Typography.Title>
      <Value />
      <Audit />
    </>
  );
}
