// The inventory journal: every ledger line in scope, newest first, filtered by warehouse,
// product, kind of document and a range of posting times; each line names its document (a
// link), the bucket it moved (on the shelves or in transit), its signed quantity and value, and
// what the bucket held after it.

import { useState } from "react";
import { Button, DatePicker, Form, Select, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import type { Dayjs } from "dayjs";
import { Link } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import type { DocumentKind, LedgerEntry } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { bucketKey, endOfMinute, isNegative, KINDS, kindKey, ledgerFilter } from "./stock/logic";
import { ProductPicker, productLabel, useFormats, useProducts, useWarehouses } from "./stock/shared";

const PAGE_SIZE = 100;

export default function StockJournal() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [warehouseId, setWarehouseId] = useState("");
  const [productId, setProductId] = useState("");
  const [kind, setKind] = useState<DocumentKind | 0>(0);
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const from = range?.[0]?.second(0).millisecond(0).toDate();
  const to = range?.[1] ? endOfMinute(range[1].toDate()) : undefined;
  const filter = ledgerFilter({ warehouseId, productId, kind: kind || undefined, from, to });
  const list = useInfiniteQuery({
    queryKey: ["ledger", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listLedgerEntries({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.entries) ?? [];
  const products = useProducts(rows.map((e) => e.productId));
  const signed = (q: string) => <span style={{ color: isNegative(q) ? "#cf1322" : undefined }}>{f.qty(q)}</span>;
  return (
    <>
      <Typography.Title level={2}>{t("menu.stockJournal")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          id="journal-warehouse"
          aria-label={t("stock.warehouse")}
          value={warehouseId}
          onChange={setWarehouseId}
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 240 }}
          options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
        />
        <ProductPicker id="journal-product" ariaLabel={t("stock.product")} value={productId} onChange={setProductId} allowClear />
        <Select<DocumentKind | 0>
          id="journal-kind"
          aria-label={t("stock.document.kind")}
          value={kind}
          onChange={setKind}
          style={{ width: 200 }}
          options={[{ value: 0, label: t("stock.anyKind") }, ...KINDS.map((k) => ({ value: k, label: t(kindKey(k)) }))]}
        />
        <Form.Item label={t("stock.journal.period")} htmlFor="journal-from" style={{ marginBottom: 0 }}>
          <DatePicker.RangePicker
            id={{ start: "journal-from", end: "journal-to" }}
            showTime={{ format: "HH:mm" }}
            format="YYYY-MM-DD HH:mm"
            placeholder={[t("stock.journal.from"), t("stock.journal.to")]}
            value={range}
            onChange={(v) => setRange(v)}
            allowEmpty={[true, true]}
          />
        </Form.Item>
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<LedgerEntry>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("stock.journal.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.document.postTime"), key: "postTime", render: (_, e) => f.time(e.postTime) },
          {
            title: t("stock.document.number"),
            key: "document",
            render: (_, e) => (
              <Link to={`/stock/documents/${e.documentId}`} style={{ whiteSpace: "nowrap" }}>
                {e.documentNumber}
                {e.lineNo ? ` #${e.lineNo}` : ""}
              </Link>
            ),
          },
          { title: t("stock.document.kind"), key: "kind", render: (_, e) => t(kindKey(e.kind)) },
          { title: t("stock.warehouse"), key: "warehouse", render: (_, e) => warehouses.nameOf(e.warehouseId) },
          { title: t("stock.product"), key: "product", render: (_, e) => productLabel(products.get(e.productId), e.productId) },
          { title: t("stock.journal.bucket"), key: "bucket", render: (_, e) => t(bucketKey(e.bucket)) },
          { title: t("stock.journal.quantity"), key: "quantity", align: "right", render: (_, e) => signed(e.quantity) },
          { title: t("stock.unit"), key: "unit", render: (_, e) => products.get(e.productId)?.unit ?? "" },
          { title: t("stock.journal.unitCost"), key: "unitCost", align: "right", render: (_, e) => f.money(e.unitCost) },
          { title: t("stock.journal.value"), key: "value", align: "right", render: (_, e) => f.money(e.value) },
          { title: t("stock.journal.quantityAfter"), key: "quantityAfter", align: "right", render: (_, e) => f.qty(e.quantityAfter) },
          { title: t("stock.journal.valueAfter"), key: "valueAfter", align: "right", render: (_, e) => f.money(e.valueAfter) },
        ]}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
    </>
  );
}
