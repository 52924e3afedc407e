// Stock reports: slow-moving and dead stock (what left each warehouse's shelves by sale or use
// in a period, the days since it last did and the days of cover, classed dead, slow or moving
// by the days and ratio chosen) and the warehouses side by side (on hand, available and value of
// each product in each, and the totals), each exported as CSV with what is on screen; and the
// CSV exports of the stock levels, the inventory journal and the loans.

import { useState } from "react";
import { Button, Card, Form, Input, InputNumber, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { problemFromError } from "../api/problem";
import { restFetch, saveFile } from "../api/rest";
import { warehouse } from "../api/client";
import { ErrorNotice } from "../ErrorNotice";
import { MovementClass, type ProductComparison, type StockMovement } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatNumber } from "../i18n/locale";
import { useCategories } from "./catalog/data";
import { useFormats, useWarehouses } from "./stock/shared";
import { isRatio, MOVEMENT_DEFAULTS, movementFilter, reportExportUrl, reportFileName, type MovementClassFilter, type MovementQuery, type ReportName } from "./stockreports/logic";

const PAGE_SIZE = 100;

/** Fetches a report's CSV and saves it as `stock-<report>.csv`. */
async function exportReport(report: ReportName, params: Parameters<typeof reportExportUrl>[1] = {}): Promise<void> {
  const response = await restFetch(reportExportUrl(report, params));
  saveFile(await response.blob(), reportFileName(report));
}

function ExportButton({ id, report, params, label }: { id: string; report: ReportName; params?: Parameters<typeof reportExportUrl>[1]; label?: string }) {
  const { t } = useI18n();
  const run = useMutation({ mutationFn: () => exportReport(report, params) });
  return (
    <Space direction="vertical">
      <Button id={id} loading={run.isPending} onClick={() => run.mutate()}>
        {label ?? t("stockreports.export")}
      </Button>
      <ErrorNotice problem={run.error ? problemFromError(run.error) : null} />
    </Space>
  );
}

const CLASS_TAGS: Record<number, { color: string; key: string }> = {
  [MovementClass.DEAD]: { color: "red", key: "stockreports.class.dead" },
  [MovementClass.SLOW]: { color: "gold", key: "stockreports.class.slow" },
  [MovementClass.MOVING]: { color: "green", key: "stockreports.class.moving" },
};

function ClassTag({ value }: { value: MovementClass }) {
  const { t } = useI18n();
  const tag = CLASS_TAGS[value];
  return tag ? <Tag color={tag.color}>{t(tag.key)}</Tag> : null;
}

function Movement() {
  const { t, language } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [typed, setTyped] = useState<MovementQuery>(MOVEMENT_DEFAULTS);
  const ratioOk = isRatio(typed.slowRatio);
  const [q, setQ] = useState<MovementQuery>(MOVEMENT_DEFAULTS);
  const change = (next: Partial<MovementQuery>) => {
    const value = { ...typed, ...next };
    setTyped(value);
    if (isRatio(value.slowRatio) && value.periodDays > 0 && value.deadDays > 0) setQ(value);
  };
  const filter = movementFilter(q);
  const list = useInfiniteQuery({
    queryKey: ["stockMovement", filter, q.periodDays, q.deadDays, q.slowRatio],
    queryFn: ({ pageParam, signal }) =>
      warehouse.listStockMovement(
        { filter, periodDays: q.periodDays, deadDays: q.deadDays, slowRatio: q.slowRatio.trim(), pageSize: PAGE_SIZE, pageToken: pageParam },
        { signal },
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.rows) ?? [];
  return (
    <>
      <Form layout="vertical">
        <Space wrap align="start">
          <Form.Item label={t("stockreports.periodDays")} htmlFor="movement-period">
            <InputNumber id="movement-period" min={1} max={3650} value={typed.periodDays} onChange={(v) => change({ periodDays: v ?? 0 })} />
          </Form.Item>
          <Form.Item label={t("stockreports.deadDays")} htmlFor="movement-dead">
            <InputNumber id="movement-dead" min={1} max={3650} value={typed.deadDays} onChange={(v) => change({ deadDays: v ?? 0 })} />
          </Form.Item>
          <Form.Item
            label={t("stockreports.slowRatio")}
            htmlFor="movement-ratio"
            validateStatus={ratioOk ? undefined : "error"}
            help={ratioOk ? t("stockreports.slowRatioHint") : t("stockreports.slowRatioBad")}
          >
            <Input id="movement-ratio" value={typed.slowRatio} onChange={(e) => change({ slowRatio: e.target.value })} style={{ width: 120 }} />
          </Form.Item>
          <Form.Item label={t("stockreports.class")} htmlFor="movement-class">
            <Select<MovementClassFilter>
              id="movement-class"
              value={typed.movementClass}
              onChange={(v) => change({ movementClass: v })}
              style={{ width: 160 }}
              options={[
                { value: "", label: t("stockreports.class.any") },
                { value: "dead", label: t("stockreports.class.dead") },
                { value: "slow", label: t("stockreports.class.slow") },
                { value: "moving", label: t("stockreports.class.moving") },
              ]}
            />
          </Form.Item>
          <Form.Item label={t("stockreports.warehouse")} htmlFor="movement-warehouse">
            <Select
              id="movement-warehouse"
              allowClear
              showSearch
              optionFilterProp="label"
              placeholder={t("stockreports.allWarehouses")}
              value={typed.warehouseId || undefined}
              onChange={(v?: string) => change({ warehouseId: v ?? "" })}
              options={warehouses.options}
              style={{ width: 260 }}
            />
          </Form.Item>
          <Form.Item label=" ">
            <ExportButton
              id="movement-export"
              report="MOVEMENT"
              params={{ filter, periodDays: q.periodDays, deadDays: q.deadDays, slowRatio: q.slowRatio.trim() }}
            />
          </Form.Item>
        </Space>
      </Form>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<StockMovement>
        id="movement-rows"
        rowKey={(r) => `${r.warehouseId}:${r.productId}`}
        size="middle"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("stockreports.movement.empty")}</Typography.Text> }}
        columns={[
          { title: t("stockreports.warehouse"), key: "warehouse", render: (_, r) => warehouses.nameOf(r.warehouseId) },
          { title: t("catalog.product.code"), dataIndex: "productCode" },
          { title: t("catalog.product.name"), dataIndex: "productName" },
          { title: t("catalog.product.unit"), dataIndex: "unit" },
          { title: t("stockreports.onHand"), key: "onHand", align: "right", render: (_, r) => f.qty(r.onHand) },
          { title: t("stockreports.value"), key: "value", align: "right", render: (_, r) => f.money(r.value) },
          { title: t("stockreports.outbound"), key: "outbound", align: "right", render: (_, r) => f.qty(r.outboundQuantity) },
          { title: t("stockreports.lastOutbound"), key: "last", render: (_, r) => (r.lastOutboundTime ? f.time(r.lastOutboundTime) : t("stockreports.never")) },
          { title: t("stockreports.idleDays"), key: "idle", align: "right", render: (_, r) => formatNumber(language, r.idleDays) },
          { title: t("stockreports.daysOfCover"), key: "cover", align: "right", render: (_, r) => (r.daysOfCover ? f.qty(r.daysOfCover) : "—") },
          { title: t("stockreports.class"), key: "class", render: (_, r) => <ClassTag value={r.class} /> },
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

function Comparison() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const categories = useCategories();
  const [warehouseIds, setWarehouseIds] = useState<string[]>([]);
  const [categoryId, setCategoryId] = useState("");
  const list = useInfiniteQuery({
    queryKey: ["warehouseComparison", warehouseIds, categoryId],
    queryFn: ({ pageParam, signal }) => warehouse.compareWarehouses({ warehouseIds, categoryId, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const compared = list.data?.pages[0]?.warehouseIds ?? [];
  const rows = list.data?.pages.flatMap((p) => p.products) ?? [];
  const categoryOptions = (categories.data?.categories ?? []).map((c) => ({ value: c.id, label: c.pathName || c.name }));
  return (
    <>
      <Form layout="vertical">
        <Space wrap align="start">
          <Form.Item label={t("stockreports.warehouses")} htmlFor="compare-warehouses">
            <Select
              id="compare-warehouses"
              mode="multiple"
              allowClear
              optionFilterProp="label"
              placeholder={t("stockreports.allWarehouses")}
              value={warehouseIds}
              onChange={setWarehouseIds}
              options={warehouses.options}
              style={{ minWidth: 320 }}
            />
          </Form.Item>
          <Form.Item label={t("catalog.product.category")} htmlFor="compare-category">
            <Select
              id="compare-category"
              allowClear
              showSearch
              optionFilterProp="label"
              placeholder={t("stockreports.allCategories")}
              value={categoryId || undefined}
              onChange={(v?: string) => setCategoryId(v ?? "")}
              options={categoryOptions}
              style={{ width: 280 }}
            />
          </Form.Item>
          <Form.Item label=" ">
            <ExportButton id="compare-export" report="COMPARISON" params={{ warehouseIds, categoryId }} />
          </Form.Item>
        </Space>
      </Form>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<ProductComparison>
        id="compare-rows"
        rowKey="productId"
        size="middle"
        bordered
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("stockreports.compare.empty")}</Typography.Text> }}
        columns={[
          { title: t("catalog.product.code"), dataIndex: "productCode", fixed: "left" },
          { title: t("catalog.product.name"), dataIndex: "productName" },
          { title: t("catalog.product.unit"), dataIndex: "unit" },
          ...compared.map((id, i) => ({
            title: warehouses.nameOf(id),
            key: `w${i}`,
            children: [
              { title: t("stockreports.onHand"), key: `w${i}-on`, align: "right" as const, render: (_: unknown, p: ProductComparison) => f.qty(p.warehouses[i]?.onHand ?? "") },
              { title: t("stockreports.available"), key: `w${i}-av`, align: "right" as const, render: (_: unknown, p: ProductComparison) => f.qty(p.warehouses[i]?.available ?? "") },
              { title: t("stockreports.value"), key: `w${i}-va`, align: "right" as const, render: (_: unknown, p: ProductComparison) => f.money(p.warehouses[i]?.value) },
            ],
          })),
          {
            title: t("stockreports.total"),
            key: "total",
            children: [
              { title: t("stockreports.onHand"), key: "t-on", align: "right" as const, render: (_: unknown, p: ProductComparison) => <strong>{f.qty(p.totalOnHand)}</strong> },
              { title: t("stockreports.available"), key: "t-av", align: "right" as const, render: (_: unknown, p: ProductComparison) => <strong>{f.qty(p.totalAvailable)}</strong> },
              { title: t("stockreports.value"), key: "t-va", align: "right" as const, render: (_: unknown, p: ProductComparison) => <strong>{f.money(p.totalValue)}</strong> },
            ],
          },
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

export default function WarehouseReports() {
  const { t } = useI18n();
  return (
    <>
      <Typography.Title level={2}>{t("menu.stockReports")}</Typography.Title>
      <Tabs
        items={[
          { key: "movement", label: t("stockreports.tab.movement"), children: <Movement /> },
          { key: "comparison", label: t("stockreports.tab.comparison"), children: <Comparison /> },
        ]}
      />
      <Card title={t("stockreports.other")} style={{ marginTop: 24 }}>
        <Space wrap align="start">
          <ExportButton id="export-levels" report="LEVELS" label={t("stockreports.export.levels")} />
          <ExportButton id="export-journal" report="JOURNAL" label={t("stockreports.export.journal")} />
          <ExportButton id="export-loans" report="LOANS" label={t("stockreports.export.loans")} />
        </Space>
      </Card>
    </>
  );
}
