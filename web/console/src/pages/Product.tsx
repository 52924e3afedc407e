// A product: its fields (with how its units are told apart), an edit that sends only what changed (against the etag it read: a
// change someone made meanwhile is said, and the product reloaded), discontinuing it or
// offering it again, and its stock in each warehouse in the caller's scope.

import { useState } from "react";
import { Alert, Button, Descriptions, Drawer, Form, Popconfirm, Result, Space, Spin, Table, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Link, useParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { ProductStatus, type Product as ProductMessage, type StockLevel } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatTime } from "../i18n/locale";
import { useCategories, useWarehouses } from "./catalog/data";
import { formatDecimal } from "./catalog/format";
import { isDiscontinued, isStale, productValues, statusRequest, trackingKey, trimDecimal, updateProductRequest, type ProductValues } from "./catalog/logic";
import { ProductFields, showProductViolations } from "./catalog/ProductFields";
import { ProductStatusTag, useMoney } from "./catalog/widgets";

/** What a refused change says: someone else's change (reload), or the service's message. */
function Refusal({ error, onReload }: { error: unknown; onReload: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  if (isStale(error)) {
    return (
      <Alert
        type="warning"
        showIcon
        role="alert"
        data-testid="stale"
        message={t("catalog.stale")}
        action={
          <Button size="small" onClick={onReload}>
            {t("catalog.reload")}
          </Button>
        }
        style={{ marginBottom: 16 }}
      />
    );
  }
  return <ErrorNotice problem={problemFromError(error)} />;
}

function EditProduct({ product, onClose }: { product: ProductMessage; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<ProductValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [stale, setStale] = useState<unknown>(null);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async (v: ProductValues) => {
      const request = updateProductRequest(product, v);
      return request ? (await warehouse.updateProduct(request)).product : product;
    },
    onSuccess: (saved) => {
      if (saved) queryClient.setQueryData(["product", product.id], { product: saved });
      void queryClient.invalidateQueries({ queryKey: ["products"] });
      onClose();
    },
    onError: (e) => {
      if (isStale(e)) {
        setStale(e);
        setProblem(null);
        return;
      }
      setProblem(problemFromError(e));
      showProductViolations(form, e);
    },
  });
  return (
    <Drawer title={t("catalog.product.edit")} aria-label={t("catalog.product.edit")} open onClose={onClose} width={640} destroyOnHidden>
      <Form<ProductValues>
        form={form}
        name="edit-product"
        layout="vertical"
        initialValues={productValues(product)}
        onFinish={(v) => {
          setProblem(null);
          setStale(null);
          save.mutate(v);
        }}
      >
        <ProductFields />
        <Refusal
          error={stale}
          onReload={() => {
            void queryClient.invalidateQueries({ queryKey: ["product", product.id] });
            onClose();
          }}
        />
        <ErrorNotice problem={problem} />
        <Space style={{ marginTop: 16 }}>
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            {t("common.save")}
          </Button>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Drawer>
  );
}

/** The product's stock in each warehouse in scope. */
function StockByWarehouse({ product }: { product: ProductMessage }) {
  const { t, language } = useI18n();
  const money = useMoney();
  const warehouses = useWarehouses();
  const levels = useInfiniteQuery({
    queryKey: ["stockLevels", "product", product.id],
    queryFn: ({ pageParam, signal }) =>
      warehouse.listStockLevels({ filter: `product_id = "${product.id.replace(/["\\]/g, "")}"`, pageSize: 100, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const rows = levels.data?.pages.flatMap((p) => p.levels) ?? [];
  const byId = new Map((warehouses.data ?? []).map((w) => [w.id, w]));
  const qty = (v: string) => (v ? `${formatDecimal(language, v)}` : "");
  return (
    <section aria-labelledby="stock-title" style={{ marginTop: 24 }}>
      <Typography.Title level={3} id="stock-title">
        {t("catalog.stock.title")}
      </Typography.Title>
      <ErrorNotice problem={levels.error ? problemFromError(levels.error) : null} />
      <Table<StockLevel>
        rowKey="warehouseId"
        loading={levels.isFetching && !levels.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("catalog.stock.empty")}</Typography.Text> }}
        columns={[
          {
            title: t("catalog.stock.warehouse"),
            key: "warehouse",
            render: (_, l) => {
              const w = byId.get(l.warehouseId);
              return w ? `${w.code} ${w.name}` : l.warehouseId;
            },
          },
          { title: t("catalog.stock.onHand"), key: "onHand", align: "right", render: (_, l) => qty(l.onHand) },
          { title: t("catalog.stock.reserved"), key: "reserved", align: "right", render: (_, l) => qty(l.reserved) },
          { title: t("catalog.stock.available"), key: "available", align: "right", render: (_, l) => qty(l.available) },
          { title: t("catalog.stock.inTransit"), key: "inTransit", align: "right", render: (_, l) => qty(l.inTransit) },
          { title: t("catalog.stock.averageCost"), key: "averageCost", align: "right", render: (_, l) => money(l.averageCost) },
          { title: t("catalog.stock.value"), key: "value", align: "right", render: (_, l) => money(l.value) },
        ]}
      />
      {rows.length > 0 && (
        <Typography.Text type="secondary" style={{ display: "block", marginTop: 8 }}>
          {t("catalog.stock.unitNote", { unit: product.unit })}
        </Typography.Text>
      )}
      {levels.hasNextPage && (
        <Button style={{ marginTop: 16 }} onClick={() => void levels.fetchNextPage()} loading={levels.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
    </section>
  );
}

export default function Product() {
  const { productId = "" } = useParams();
  const { t, language } = useI18n();
  const queryClient = useQueryClient();
  const money = useMoney();
  const categories = useCategories();
  const [editing, setEditing] = useState(false);
  const me = session();
  const answer = useQuery({
    queryKey: ["product", productId],
    queryFn: ({ signal }) => warehouse.getProduct({ id: productId }, { signal }),
  });
  const status = useMutation({
    mutationFn: ({ product, next }: { product: ProductMessage; next: ProductStatus }) => warehouse.updateProduct(statusRequest(product, next)),
    onSuccess: (saved) => {
      if (saved.product) queryClient.setQueryData(["product", productId], { product: saved.product });
      void queryClient.invalidateQueries({ queryKey: ["products"] });
    },
  });
  const product = answer.data?.product;
  if (answer.isLoading) return <Spin />;
  if (!product) {
    return answer.error ? (
      <>
        <ErrorNotice problem={problemFromError(answer.error)} />
        <Link to="/products">{t("common.back")}</Link>
      </>
    ) : (
      <Result status="404" title={t("common.notFound")} />
    );
  }
  const canWrite = allows(me, "warehouse.catalog.write");
  const category = categories.data?.categories.find((c) => c.id === product.categoryId);
  const time = (at: Timestamp | undefined) => (at ? formatTime(language, timestampDate(at)) : "");
  const discontinued = isDiscontinued(product);
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} wrap>
        <Space align="center" wrap>
          <Typography.Title level={2} style={{ margin: 0 }}>
            {product.code} {product.name}
          </Typography.Title>
          <span data-testid="product-status">
            <ProductStatusTag product={product} />
          </span>
        </Space>
        {canWrite && (
          <Space>
            <Button type="primary" onClick={() => setEditing(true)}>
              {t("common.edit")}
            </Button>
            <Popconfirm
              title={discontinued ? t("catalog.product.reactivateConfirm") : t("catalog.product.discontinueConfirm")}
              okText={discontinued ? t("catalog.product.reactivate") : t("catalog.product.discontinue")}
              cancelText={t("common.cancel")}
              onConfirm={() => status.mutate({ product, next: discontinued ? ProductStatus.ACTIVE : ProductStatus.DISCONTINUED })}
            >
              <Button loading={status.isPending}>{discontinued ? t("catalog.product.reactivate") : t("catalog.product.discontinue")}</Button>
            </Popconfirm>
          </Space>
        )}
      </Space>
      <div style={{ marginTop: 16 }}>
        <Refusal error={status.error} onReload={() => void answer.refetch().then(() => status.reset())} />
      </div>
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginTop: 16 }}>
        <Descriptions.Item label={t("catalog.product.code")}>{product.code}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.name")}>{product.name}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.specification")}>{product.specification}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.unit")}>{product.unit}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.units")}>
          <span data-testid="product-units">
            {product.units.map((u) => t("catalog.product.unitExample", { unit: u.name, factor: trimDecimal(u.factor), stock: product.unit })).join("; ")}
          </span>
        </Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.category")}>{category?.pathName ?? ""}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.barcode")}>{product.barcode}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.brand")}>{product.brand}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.salePrice")}>{money(product.salePrice)}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.taxRate")}>{product.taxRate ? `${formatDecimal(language, product.taxRate)}%` : ""}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.standardCost")}>{money(product.standardCost)}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.warrantyMonths")}>{product.warrantyMonths ? formatDecimal(language, String(product.warrantyMonths)) : ""}</Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.tracking")}>
          <span data-testid="product-tracking">{t(trackingKey(product.tracking))}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.remark")} span={2}>
          {product.remark}
        </Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.created")}>
          {time(product.audit?.createTime)} <EmployeeName id={product.audit?.createdBy} />
        </Descriptions.Item>
        <Descriptions.Item label={t("catalog.product.updated")}>
          {time(product.audit?.updateTime)} <EmployeeName id={product.audit?.updatedBy} />
        </Descriptions.Item>
      </Descriptions>
      {allows(me, "warehouse.stock.read") && <StockByWarehouse product={product} />}
      {editing && <EditProduct product={product} onClose={() => setEditing(false)} />}
    </>
  );
}
