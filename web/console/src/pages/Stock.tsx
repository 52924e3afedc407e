// Stock: what every warehouse in scope holds of each product (on hand, reserved, available, in
// transit, its average cost and value, its safety stock), filtered by warehouse and to what is
// under its safety minimum, more on demand; the safety stock set from a row by those who manage
// warehouses; the reservations, filtered by status, each active one releasable; and what is on
// hand per lot of lot-tracked products, filtered by warehouse and product (by default only lots
// with something on hand). The tab is kept in the address (`?tab=reservations`).

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Switch, Table, Tabs, Tag, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import { ReservationStatus, type LotLevel, type Reservation, type StockLevel } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formCellOf, levelFilter, lotFilter, reservationFilter, reservationStatusKey, RESERVATION_STATUSES } from "./stock/logic";
import { ProductPicker, productLabel, useFormats, useProducts, useWarehouses } from "./stock/shared";

const PAGE_SIZE = 50;

const levelKey = (l: StockLevel) => `${l.warehouseId}/${l.productId}`;

interface SafetyValues {
  minimum?: string;
  maximum?: string;
}

function SafetyModal({ level, onClose }: { level: StockLevel; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<SafetyValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (v: SafetyValues) =>
      warehouse.setSafetyStock({
        warehouseId: level.warehouseId,
        productId: level.productId,
        minimum: (v.minimum ?? "").trim() || "0",
        maximum: (v.maximum ?? "").trim() || "0",
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
      onClose();
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      form.setFields(
        p.violations.flatMap((v) => {
          const cell = formCellOf(v.field);
          return cell ? [{ name: cell as [keyof SafetyValues], errors: [v.description] }] : [];
        }),
      );
    },
  });
  return (
    <Modal
      open
      title={t("stock.safety.title", { product: `${level.productCode} ${level.productName}` })}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      confirmLoading={save.isPending}
      onOk={() => void form.validateFields().then((v) => save.mutate(v))}
    >
      <Form<SafetyValues> form={form} name="safety" layout="vertical" initialValues={{ minimum: level.safetyMinimum, maximum: level.safetyMaximum }}>
        <Form.Item name="minimum" label={t("stock.safety.minimum")} extra={t("stock.safety.hint", { unit: level.unit })}>
          <Input inputMode="decimal" />
        </Form.Item>
        <Form.Item name="maximum" label={t("stock.safety.maximum")}>
          <Input inputMode="decimal" />
        </Form.Item>
      </Form>
      <ErrorNotice problem={problem} />
    </Modal>
  );
}

function Levels() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [warehouseId, setWarehouseId] = useState("");
  const [belowSafety, setBelowSafety] = useState(false);
  const [editing, setEditing] = useState<StockLevel | null>(null);
  const filter = levelFilter(warehouseId, belowSafety);
  const list = useInfiniteQuery({
    queryKey: ["stockLevels", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listStockLevels({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.levels) ?? [];
  const canSetSafety = allows(session(), "warehouse.warehouse.write");
  const qty = (q: string, unit: string) => (q ? `${f.qty(q)} ${unit}` : "");
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          id="stock-warehouse"
          aria-label={t("stock.warehouse")}
          value={warehouseId}
          onChange={setWarehouseId}
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 240 }}
          options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
        />
        <Space>
          <Switch id="stock-below-safety" checked={belowSafety} onChange={setBelowSafety} />
          <label htmlFor="stock-below-safety">{t("stock.belowSafety")}</label>
        </Space>
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<StockLevel>
        rowKey={levelKey}
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("stock.levels.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.warehouse"), key: "warehouse", render: (_, l) => warehouses.nameOf(l.warehouseId) },
          { title: t("stock.product.code"), dataIndex: "productCode" },
          { title: t("stock.product.name"), dataIndex: "productName" },
          { title: t("stock.unit"), dataIndex: "unit" },
          { title: t("stock.onHand"), key: "onHand", align: "right", render: (_, l) => <span data-cell="on-hand">{f.qty(l.onHand)}</span> },
          { title: t("stock.reserved"), key: "reserved", align: "right", render: (_, l) => f.qty(l.reserved) },
          { title: t("stock.available"), key: "available", align: "right", render: (_, l) => f.qty(l.available) },
          { title: t("stock.inTransit"), key: "inTransit", align: "right", render: (_, l) => f.qty(l.inTransit) },
          { title: t("stock.averageCost"), key: "averageCost", align: "right", render: (_, l) => f.money(l.averageCost) },
          { title: t("stock.value"), key: "value", align: "right", render: (_, l) => f.money(l.value) },
          {
            title: t("stock.safety.label"),
            key: "safety",
            render: (_, l) =>
              l.safetyMinimum || l.safetyMaximum ? (
                <span>
                  {qty(l.safetyMinimum, l.unit) || "–"} / {qty(l.safetyMaximum, l.unit) || "–"}
                </span>
              ) : (
                <Typography.Text type="secondary">{t("stock.safety.none")}</Typography.Text>
              ),
          },
          ...(canSetSafety
            ? [
                {
                  title: t("common.actions"),
                  key: "actions",
                  render: (_: unknown, l: StockLevel) => (
                    <Button size="small" onClick={() => setEditing(l)} aria-label={t("stock.safety.setFor", { product: l.productCode, warehouse: warehouses.nameOf(l.warehouseId) })}>
                      {t("stock.safety.set")}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
      {editing && <SafetyModal level={editing} onClose={() => setEditing(null)} />}
    </>
  );
}

function Reservations() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<ReservationStatus | 0>(ReservationStatus.ACTIVE);
  const [warehouseId, setWarehouseId] = useState("");
  const filter = reservationFilter({ status: status || undefined, warehouseId });
  const list = useInfiniteQuery({
    queryKey: ["reservations", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listReservations({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.reservations) ?? [];
  const products = useProducts(rows.map((r) => r.productId));
  const release = useMutation({
    mutationFn: (id: string) => warehouse.releaseReservation({ id, requestId: crypto.randomUUID() }),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["reservations"] });
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
    },
  });
  const canRelease = allows(session(), "warehouse.reservation.write");
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select<ReservationStatus | 0>
          id="reservation-status"
          aria-label={t("stock.reservation.status")}
          value={status}
          onChange={setStatus}
          style={{ width: 180 }}
          options={[{ value: 0, label: t("stock.anyStatus") }, ...RESERVATION_STATUSES.map((s) => ({ value: s, label: t(reservationStatusKey(s)) }))]}
        />
        <Select
          id="reservation-warehouse"
          aria-label={t("stock.warehouse")}
          value={warehouseId}
          onChange={setWarehouseId}
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 240 }}
          options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
        />
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : release.error ? problemFromError(release.error) : null} />
      <Table<Reservation>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("stock.reservations.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.warehouse"), key: "warehouse", render: (_, r) => warehouses.nameOf(r.warehouseId) },
          { title: t("stock.product"), key: "product", render: (_, r) => productLabel(products.get(r.productId), r.productId) },
          { title: t("stock.reservation.reference"), dataIndex: "reference" },
          { title: t("stock.reservation.quantity"), key: "quantity", align: "right", render: (_, r) => f.qty(r.quantity) },
          { title: t("stock.reservation.consumed"), key: "consumed", align: "right", render: (_, r) => f.qty(r.consumed) },
          { title: t("stock.reservation.open"), key: "open", align: "right", render: (_, r) => f.qty(r.openQuantity) },
          { title: t("stock.unit"), key: "unit", render: (_, r) => products.get(r.productId)?.unit ?? "" },
          { title: t("stock.reservation.status"), key: "status", render: (_, r) => <Tag>{t(reservationStatusKey(r.status))}</Tag> },
          { title: t("stock.reservation.created"), key: "created", render: (_, r) => f.time(r.audit?.createTime) },
          { title: t("stock.reservation.id"), key: "id", render: (_, r) => <Typography.Text copyable={{ text: r.id }}>{r.id.slice(-8)}</Typography.Text> },
          ...(canRelease
            ? [
                {
                  title: t("common.actions"),
                  key: "actions",
                  render: (_: unknown, r: Reservation) =>
                    r.status === ReservationStatus.ACTIVE ? (
                      <Popconfirm title={t("stock.reservation.releaseConfirm")} onConfirm={() => release.mutate(r.id)} okText={t("stock.reservation.release")} cancelText={t("common.cancel")}>
                        <Button size="small" loading={release.isPending && release.variables === r.id}>
                          {t("stock.reservation.release")}
                        </Button>
                      </Popconfirm>
                    ) : null,
                },
              ]
            : []),
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

function Lots() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [warehouseId, setWarehouseId] = useState("");
  const [productId, setProductId] = useState("");
  const [onHandOnly, setOnHandOnly] = useState(true);
  const filter = lotFilter({ warehouseId, productId, onHandOnly });
  const list = useInfiniteQuery({
    queryKey: ["lots", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listLots({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.lots) ?? [];
  const products = useProducts(rows.map((l) => l.productId));
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          id="lots-warehouse"
          aria-label={t("stock.warehouse")}
          value={warehouseId}
          onChange={setWarehouseId}
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 240 }}
          options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
        />
        <ProductPicker id="lots-product" ariaLabel={t("stock.product")} value={productId} onChange={setProductId} allowClear />
        <Space>
          <Switch id="lots-on-hand" checked={onHandOnly} onChange={setOnHandOnly} />
          <label htmlFor="lots-on-hand">{t("serials.lots.onHandOnly")}</label>
        </Space>
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<LotLevel>
        rowKey={(l) => `${l.warehouseId}/${l.productId}/${l.lot}`}
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("serials.lots.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.warehouse"), key: "warehouse", render: (_, l) => warehouses.nameOf(l.warehouseId) },
          { title: t("stock.product"), key: "product", render: (_, l) => productLabel(products.get(l.productId), l.productId) },
          { title: t("serials.lot"), dataIndex: "lot" },
          { title: t("stock.onHand"), key: "onHand", align: "right", render: (_, l) => <span data-cell="lot-on-hand">{f.qty(l.onHand)}</span> },
          { title: t("stock.unit"), key: "unit", render: (_, l) => products.get(l.productId)?.unit ?? "" },
          { title: t("serials.updated"), key: "updated", render: (_, l) => f.time(l.updateTime) },
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

const TABS = ["levels", "reservations", "lots"] as const;

export default function Stock() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const wanted = params.get("tab");
  const tab = TABS.find((x) => x === wanted) ?? "levels";
  return (
    <>
      <Typography.Title level={2}>{t("menu.stock")}</Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams({ tab: key }, { replace: true })}
        destroyOnHidden
        items={[
          { key: "levels", label: t("stock.tab.levels"), children: <Levels /> },
          { key: "reservations", label: t("stock.tab.reservations"), children: <Reservations /> },
          { key: "lots", label: t("stock.tab.lots"), children: <Lots /> },
        ]}
      />
    </>
  );
}
