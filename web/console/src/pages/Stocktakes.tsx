// Stocktakes: the count sheets of the warehouses in scope, newest first, filtered by status and
// warehouse, each with how many of its lines are counted and when it was frozen and posted; a
// new stocktake (a warehouse, and the products named, a category, or everything with stock
// there) for those who may count. A product already on an open sheet of the warehouse is
// refused, and the refusal links to that sheet.

import { useRef, useState } from "react";
import { Alert, Button, Card, Form, Input, Radio, Select, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import type { Stocktake, StocktakeStatus } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatNumber } from "../i18n/locale";
import { useCategories } from "./catalog/data";
import { FormSelect } from "./customer/FormSelect";
import { useFormats, useWarehouses } from "./stock/shared";
import {
  alreadyCountingOf,
  countProgress,
  createStocktakeRequest,
  STOCKTAKE_STATUSES,
  stocktakeFilter,
  stocktakeStatusKey,
  type StocktakeValues,
} from "./counting/logic";
import { ProductsSelect, StocktakeStatusTag } from "./counting/widgets";

const PAGE_SIZE = 50;

function NewStocktake({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<StocktakeValues>();
  const warehouses = useWarehouses();
  const categories = useCategories();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [counting, setCounting] = useState<string | null>(null);
  const requestId = useRef<string | null>(null);
  const scope = Form.useWatch("scope", form) ?? "all";
  const create = useMutation({
    mutationFn: (values: StocktakeValues) => warehouse.createStocktake(createStocktakeRequest(values, requestId.current!)),
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ["stocktakes"] });
      onDone();
      if (answer.stocktake) navigate(`/stock/stocktakes/${answer.stocktake.id}`);
    },
    onError: (e) => {
      const open = alreadyCountingOf(e);
      setCounting(open);
      const p = problemFromError(e);
      setProblem(open === null ? p : null);
      form.setFields(
        p.violations
          .map((v) => ({ name: v.field === "warehouse_id" ? "warehouseId" : v.field === "category_id" ? "categoryId" : v.field.startsWith("product_ids") ? "productIds" : "", errors: [v.description] }))
          .filter((f) => f.name) as { name: keyof StocktakeValues; errors: string[] }[],
      );
    },
    onSettled: () => {
      requestId.current = null;
    },
  });
  const submit = () => {
    if (create.isPending) return;
    requestId.current ??= crypto.randomUUID();
    void form
      .validateFields()
      .then((values) => {
        setProblem(null);
        setCounting(null);
        create.mutate(values);
      })
      .catch(() => {
        requestId.current = null;
      });
  };
  const required = [{ required: true, message: t("counting.required") }];
  const categoryOptions = (categories.data?.categories ?? []).map((c) => ({ value: c.id, label: c.pathName || c.name }));
  return (
    <Form<StocktakeValues> form={form} name="new-stocktake" layout="vertical" initialValues={{ scope: "all" }} style={{ maxWidth: 720 }}>
      <Form.Item name="warehouseId" label={t("counting.warehouse")} rules={required}>
        <FormSelect showSearch optionFilterProp="label" options={warehouses.options} />
      </Form.Item>
      <Form.Item name="scope" label={t("counting.new.scope")}>
        <Radio.Group
          options={[
            { value: "all", label: t("counting.new.scope.all") },
            { value: "products", label: t("counting.new.scope.products") },
            { value: "category", label: t("counting.new.scope.category") },
          ]}
        />
      </Form.Item>
      {scope === "products" && (
        <Form.Item name="productIds" label={t("counting.new.products")} rules={[{ required: true, type: "array", min: 1, message: t("counting.new.productsRequired") }]}>
          <ProductsSelect id="new-stocktake_productIds" ariaLabel={t("counting.new.products")} />
        </Form.Item>
      )}
      {scope === "category" && (
        <Form.Item name="categoryId" label={t("counting.new.category")} rules={required} extra={t("counting.new.categoryHint")}>
          <FormSelect showSearch optionFilterProp="label" options={categoryOptions} loading={categories.isFetching} />
        </Form.Item>
      )}
      {scope === "all" && <Typography.Paragraph type="secondary">{t("counting.new.allHint")}</Typography.Paragraph>}
      <Form.Item name="remark" label={t("counting.remark")}>
        <Input.TextArea rows={2} />
      </Form.Item>
      {counting !== null && (
        <Alert
          type="error"
          showIcon
          data-testid="already-counting"
          style={{ marginBottom: 16 }}
          message={t("counting.refused.alreadyCounting")}
          description={counting ? <Link to={`/stock/stocktakes/${counting}`}>{t("counting.refused.openSheet")}</Link> : undefined}
        />
      )}
      <ErrorNotice problem={problem} />
      <Space style={{ marginTop: 16 }}>
        <Button type="primary" onClick={submit} loading={create.isPending}>
          {t("counting.new.freeze")}
        </Button>
        <Button onClick={onDone}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}

export default function Stocktakes() {
  const { t, language } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [status, setStatus] = useState<StocktakeStatus | 0>(0);
  const [warehouseId, setWarehouseId] = useState("");
  const [params, setParams] = useSearchParams();
  const creating = params.get("new") === "1";
  const setCreating = (open: boolean) => setParams(open ? { new: "1" } : {}, { replace: true });
  const filter = stocktakeFilter({ status: status || undefined, warehouseId });
  const list = useInfiniteQuery({
    queryKey: ["stocktakes", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listStocktakes({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.stocktakes) ?? [];
  // The list carries no lines: each sheet's progress is read from the sheet itself (cached).
  const sheets = useQueries({
    queries: rows.map((s) => ({
      queryKey: ["stocktake", s.id],
      queryFn: ({ signal }: { signal: AbortSignal }) => warehouse.getStocktake({ id: s.id }, { signal }),
      staleTime: 30_000,
    })),
  });
  const progressOf = new Map<string, { counted: number; total: number }>();
  for (const a of sheets) if (a.data?.stocktake) progressOf.set(a.data.stocktake.id, countProgress(a.data.stocktake.lines));
  return (
    <>
      <Typography.Title level={2}>{t("menu.stocktakes")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Space wrap>
          <Select<StocktakeStatus | 0>
            id="stocktake-status"
            aria-label={t("counting.status")}
            value={status}
            onChange={setStatus}
            style={{ width: 180 }}
            options={[{ value: 0, label: t("counting.anyStatus") }, ...STOCKTAKE_STATUSES.map((s) => ({ value: s, label: t(stocktakeStatusKey(s)) }))]}
          />
          <Select
            id="stocktake-warehouse"
            aria-label={t("counting.warehouse")}
            value={warehouseId}
            onChange={setWarehouseId}
            showSearch
            optionFilterProp="label"
            style={{ minWidth: 240 }}
            options={[{ value: "", label: t("counting.anyWarehouse") }, ...warehouses.options]}
          />
        </Space>
        {allows(session(), "warehouse.stocktake.write") && !creating && (
          <Button type="primary" onClick={() => setCreating(true)}>
            {t("counting.new")}
          </Button>
        )}
      </Space>
      {creating && (
        <Card title={t("counting.new")} style={{ marginBottom: 24 }} data-testid="new-stocktake">
          <NewStocktake onDone={() => setCreating(false)} />
        </Card>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<Stocktake>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("counting.empty")}</Typography.Text> }}
        columns={[
          { title: t("counting.number"), key: "number", render: (_, s) => <Link to={`/stock/stocktakes/${s.id}`}>{s.number}</Link> },
          { title: t("counting.warehouse"), key: "warehouse", render: (_, s) => warehouses.nameOf(s.warehouseId) },
          { title: t("counting.status"), key: "status", render: (_, s) => <StocktakeStatusTag status={s.status} /> },
          {
            title: t("counting.progress"),
            key: "progress",
            align: "right",
            render: (_, s) => {
              const p = progressOf.get(s.id);
              return p ? t("counting.progress.value", { counted: formatNumber(language, p.counted), total: formatNumber(language, p.total) }) : "";
            },
          },
          { title: t("counting.freezeTime"), key: "freeze", render: (_, s) => f.time(s.freezeTime) },
          { title: t("counting.postTime"), key: "post", render: (_, s) => f.time(s.postTime) },
          { title: t("counting.remark"), dataIndex: "remark" },
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
