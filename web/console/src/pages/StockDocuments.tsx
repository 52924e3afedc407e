// Stock documents: the documents of the warehouses in scope, newest first, filtered by kind,
// status and warehouse, each linking to its page, more on demand; a new document (saved as a
// draft or posted at once, its form above the list, opened from `?new=1` too) for those who
// may write them.

import { useState } from "react";
import { Button, Card, Select, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import type { DocumentKind, DocumentStatus, StockDocument } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { DocumentForm } from "./stock/DocumentForm";
import { DOCUMENT_STATUSES, documentFilter, KINDS, kindKey, statusKey } from "./stock/logic";
import { DocumentStatusTag, useFormats, useWarehouses } from "./stock/shared";

const PAGE_SIZE = 50;

export default function StockDocuments() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [kind, setKind] = useState<DocumentKind | 0>(0);
  const [status, setStatus] = useState<DocumentStatus | 0>(0);
  const [warehouseId, setWarehouseId] = useState("");
  const [params, setParams] = useSearchParams();
  const creating = params.get("new") === "1";
  const setCreating = (open: boolean) => setParams(open ? { new: "1" } : {}, { replace: true });
  const filter = documentFilter({ kind: kind || undefined, status: status || undefined, warehouseId });
  const list = useInfiniteQuery({
    queryKey: ["stockDocuments", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listStockDocuments({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.documents) ?? [];
  return (
    <>
      <Typography.Title level={2}>{t("menu.stockDocuments")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Space wrap>
          <Select<DocumentKind | 0>
            id="document-kind"
            aria-label={t("stock.document.kind")}
            value={kind}
            onChange={setKind}
            style={{ width: 200 }}
            options={[{ value: 0, label: t("stock.anyKind") }, ...KINDS.map((k) => ({ value: k, label: t(kindKey(k)) }))]}
          />
          <Select<DocumentStatus | 0>
            id="document-status"
            aria-label={t("stock.document.status")}
            value={status}
            onChange={setStatus}
            style={{ width: 160 }}
            options={[{ value: 0, label: t("stock.anyStatus") }, ...DOCUMENT_STATUSES.map((s) => ({ value: s, label: t(statusKey(s)) }))]}
          />
          <Select
            id="document-warehouse"
            aria-label={t("stock.warehouse")}
            value={warehouseId}
            onChange={setWarehouseId}
            showSearch
            optionFilterProp="label"
            style={{ minWidth: 240 }}
            options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
          />
        </Space>
        {allows(session(), "warehouse.document.write") && !creating && (
          <Button type="primary" onClick={() => setCreating(true)}>
            {t("stock.document.new")}
          </Button>
        )}
      </Space>
      {creating && (
        <Card title={t("stock.document.new")} style={{ marginBottom: 24 }} data-testid="new-document">
          <DocumentForm onDone={() => setCreating(false)} />
        </Card>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<StockDocument>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("stock.documents.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.document.number"), key: "number", render: (_, d) => <Link to={`/stock/documents/${d.id}`}>{d.number}</Link> },
          { title: t("stock.document.kind"), key: "kind", render: (_, d) => t(kindKey(d.kind)) },
          { title: t("stock.document.status"), key: "status", render: (_, d) => <DocumentStatusTag status={d.status} /> },
          { title: t("stock.warehouse"), key: "warehouse", render: (_, d) => warehouses.nameOf(d.warehouseId) },
          { title: t("stock.document.to"), key: "to", render: (_, d) => (d.toWarehouseId ? warehouses.nameOf(d.toWarehouseId) : "") },
          { title: t("stock.document.reference"), dataIndex: "reference" },
          { title: t("stock.document.postTime"), key: "postTime", render: (_, d) => f.time(d.postTime) },
          { title: t("stock.document.created"), key: "created", render: (_, d) => f.time(d.audit?.createTime) },
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
