// Serial numbers: one unit of a product looked up by its number (where it is now: on the shelves
// of a warehouse, on its way to one, on loan or gone, and every move it made, oldest first, each
// linking to its document), and the serial numbers in scope, filtered by product, warehouse and
// state, more on demand. The lookup is kept in the address (`?product=…&serial=…`), so a
// document's serial numbers link to it.

import { useState } from "react";
import { Button, Card, Descriptions, Form, Input, Select, Space, Table, Tag, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { SerialState, type Product, type SerialMove, type SerialNumber } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { serialFilter, serialStateKey, serialStateName, SERIAL_STATES } from "./stock/logic";
import { ProductPicker, productLabel, useFormats, useProducts, useWarehouses } from "./stock/shared";

const PAGE_SIZE = 100;

const STATE_COLORS: Record<number, string> = {
  [SerialState.STOCK]: "green",
  [SerialState.TRANSIT]: "gold",
  [SerialState.LOAN]: "cyan",
  [SerialState.GONE]: "default",
};

/** A serial's state as a tag (`stock`, `transit`, `loan`, `gone`). */
function StateTag({ state }: { state: SerialState }) {
  const { t } = useI18n();
  return (
    <Tag color={STATE_COLORS[state]} data-state={serialStateName(state)}>
      {t(serialStateKey(state))}
    </Tag>
  );
}

/** A move's document kind (`delivery`) in words, the kind as sent when the console knows no words for it. */
function useKindText() {
  const { t } = useI18n();
  return (kind: string) => {
    const key = `stock.kind.${kind}`;
    const text = t(key);
    return text === key ? kind : text;
  };
}

function Lookup({ productId, serial, onLookup }: { productId: string; serial: string; onLookup: (productId: string, serial: string) => void }) {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const kindText = useKindText();
  const [chosen, setChosen] = useState<Product | undefined>();
  const [pickedId, setPickedId] = useState(productId);
  const [typed, setTyped] = useState(serial);
  const products = useProducts([productId]);
  const found = useQuery({
    queryKey: ["serialNumber", productId, serial],
    queryFn: ({ signal }) => warehouse.getSerialNumber({ productId, serialNumber: serial }, { signal }),
    enabled: !!productId && !!serial,
    retry: false,
  });
  const s = found.data?.serialNumber;
  const product = products.get(productId) ?? chosen;
  return (
    <Card title={t("serials.lookup.title")} style={{ marginBottom: 24 }} data-testid="serial-lookup">
      <Form
        layout="inline"
        name="serial-lookup"
        onFinish={() => {
          if (pickedId && typed.trim()) onLookup(pickedId, typed.trim());
        }}
        style={{ rowGap: 8, marginBottom: 16 }}
      >
        <Form.Item label={t("stock.product")} htmlFor="serial-lookup-product">
          <ProductPicker
            id="serial-lookup-product"
            ariaLabel={t("stock.product")}
            value={pickedId}
            known={product}
            onChange={setPickedId}
            onProduct={setChosen}
            style={{ width: 320 }}
          />
        </Form.Item>
        <Form.Item label={t("serials.serialNumber")} htmlFor="serial-lookup-serial">
          <Input id="serial-lookup-serial" value={typed} onChange={(e) => setTyped(e.target.value)} style={{ width: 240 }} autoComplete="off" />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" disabled={!pickedId || !typed.trim()} loading={found.isFetching}>
            {t("serials.lookup.find")}
          </Button>
        </Form.Item>
      </Form>
      {found.error && <ErrorNotice problem={problemFromError(found.error)} />}
      {s && (
        <>
          <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t("stock.product")}>{productLabel(product, s.productId)}</Descriptions.Item>
            <Descriptions.Item label={t("serials.serialNumber")}>
              <span data-testid="serial-number">{s.serialNumber}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t("serials.state")}>
              <span data-testid="serial-state">
                <StateTag state={s.state} />
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t("serials.where")}>
              <span data-testid="serial-where">{t(`serials.where.${serialStateName(s.state) || "never"}`, { warehouse: warehouses.nameOf(s.warehouseId) })}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t("serials.lastDocument")}>
              {s.documentId ? <Link to={`/stock/documents/${s.documentId}`}>{s.moves.find((m) => m.documentId === s.documentId)?.documentNumber || s.documentId}</Link> : ""}
            </Descriptions.Item>
            <Descriptions.Item label={t("serials.updated")}>{f.time(s.updateTime)}</Descriptions.Item>
          </Descriptions>
          <Typography.Title level={4}>{t("serials.history")}</Typography.Title>
          <Table<SerialMove>
            rowKey={(m) => `${m.documentId}/${m.lineNo}/${m.state}/${m.warehouseId}`}
            dataSource={s.moves}
            pagination={false}
            scroll={{ x: true }}
            size="middle"
            data-testid="serial-history"
            columns={[
              { title: t("serials.move.time"), key: "time", render: (_, m) => f.time(m.moveTime) },
              { title: t("serials.move.document"), key: "document", render: (_, m) => <Link to={`/stock/documents/${m.documentId}`}>{m.documentNumber}</Link> },
              { title: t("stock.document.kind"), key: "kind", render: (_, m) => kindText(m.kind) },
              { title: t("stock.warehouse"), key: "warehouse", render: (_, m) => warehouses.nameOf(m.warehouseId) },
              { title: t("serials.move.state"), key: "state", render: (_, m) => <StateTag state={m.state} /> },
              { title: t("serials.move.by"), key: "by", render: (_, m) => <EmployeeName id={m.movedBy} /> },
            ]}
          />
        </>
      )}
    </Card>
  );
}

export default function SerialNumbers() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [params, setParams] = useSearchParams();
  const lookupProduct = params.get("product") ?? "";
  const lookupSerial = params.get("serial") ?? "";
  const [productId, setProductId] = useState("");
  const [warehouseId, setWarehouseId] = useState("");
  const [state, setState] = useState<SerialState | 0>(0);
  const filter = serialFilter({ productId, warehouseId, state: state || undefined });
  const list = useInfiniteQuery({
    queryKey: ["serialNumbers", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listSerialNumbers({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.serialNumbers) ?? [];
  const products = useProducts(rows.map((s) => s.productId));
  const lookup = (product: string, serial: string) => setParams({ product, serial }, { replace: true });
  return (
    <>
      <Typography.Title level={2}>{t("menu.serialNumbers")}</Typography.Title>
      <Lookup key={`${lookupProduct}/${lookupSerial}`} productId={lookupProduct} serial={lookupSerial} onLookup={lookup} />
      <Typography.Title level={3}>{t("serials.list.title")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16 }}>
        <ProductPicker id="serials-product" ariaLabel={t("stock.product")} value={productId} onChange={setProductId} allowClear />
        <Select
          id="serials-warehouse"
          aria-label={t("stock.warehouse")}
          value={warehouseId}
          onChange={setWarehouseId}
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 240 }}
          options={[{ value: "", label: t("stock.anyWarehouse") }, ...warehouses.options]}
        />
        <Select<SerialState | 0>
          id="serials-state"
          aria-label={t("serials.state")}
          value={state}
          onChange={setState}
          style={{ minWidth: 180 }}
          options={[{ value: 0, label: t("serials.anyState") }, ...SERIAL_STATES.map((s) => ({ value: s, label: t(serialStateKey(s)) }))]}
        />
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<SerialNumber>
        rowKey={(s) => `${s.productId}/${s.serialNumber}`}
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        data-testid="serials-list"
        locale={{ emptyText: <Typography.Text type="secondary">{t("serials.list.empty")}</Typography.Text> }}
        columns={[
          { title: t("stock.product"), key: "product", render: (_, s) => productLabel(products.get(s.productId), s.productId) },
          {
            title: t("serials.serialNumber"),
            key: "serial",
            render: (_, s) => (
              <Button type="link" style={{ padding: 0, height: "auto" }} onClick={() => lookup(s.productId, s.serialNumber)}>
                {s.serialNumber}
              </Button>
            ),
          },
          { title: t("serials.state"), key: "state", render: (_, s) => <StateTag state={s.state} /> },
          { title: t("stock.warehouse"), key: "warehouse", render: (_, s) => warehouses.nameOf(s.warehouseId) },
          { title: t("serials.lastDocument"), key: "document", render: (_, s) => (s.documentId ? <Link to={`/stock/documents/${s.documentId}`}>{t("serials.openDocument")}</Link> : "") },
          { title: t("serials.updated"), key: "updated", render: (_, s) => f.time(s.updateTime) },
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
