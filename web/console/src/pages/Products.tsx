// Products: the catalog, searched as you type over a piece of the code, name, specification or
// barcode (the closest first, as the service ranks them), narrowed to a category and everything
// below it (the tree beside the list) and to a status; more on demand. A new product is created
// here by those who may change the catalog: its alternative units as rows, a refusal's field
// violations on the fields, a duplicate code (or name and specification) naming the product
// that has it. The search's products download as CSV, and a CSV file imports products.

import { useDeferredValue, useState } from "react";
import { Button, Drawer, Form, Input, Select, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import type { Product as ProductMessage } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { CategoryPanel } from "./catalog/Categories";
import { useCategories } from "./catalog/data";
import { createProductRequest, existingProductOf, productFilter, type ExistingProduct, type ProductStatusFilter, type ProductValues } from "./catalog/logic";
import { ProductFields, showProductViolations } from "./catalog/ProductFields";
import { DuplicateProduct, ProductStatusTag, useMoney } from "./catalog/widgets";
import { downloadProducts } from "./products/csv";

const PAGE_SIZE = 50;

function NewProduct({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<ProductValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [existing, setExisting] = useState<ExistingProduct | null>(null);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (v: ProductValues) => warehouse.createProduct(createProductRequest(v, crypto.randomUUID())),
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ["products"] });
      form.resetFields();
      onClose();
      if (answer.product) navigate(`/products/${answer.product.id}`);
    },
    onError: (e) => {
      const duplicate = existingProductOf(e);
      setExisting(duplicate);
      if (duplicate) {
        setProblem(null);
        form.setFields(duplicate.fields.map((name) => ({ name: name as keyof ProductValues, errors: [t(duplicate.reason === "DUPLICATE_PRODUCT_CODE" ? "catalog.duplicate.codeField" : "catalog.duplicate.productField")] })));
        return;
      }
      setProblem(problemFromError(e));
      showProductViolations(form, e);
    },
  });
  return (
    <Drawer title={t("catalog.products.new")} aria-label={t("catalog.products.new")} open={open} onClose={onClose} width={640} destroyOnHidden>
      <Form<ProductValues>
        form={form}
        name="new-product"
        layout="vertical"
        initialValues={{ units: [], taxRate: "", warrantyMonths: 0 }}
        onFinish={(v) => {
          setProblem(null);
          setExisting(null);
          create.mutate(v);
        }}
      >
        <ProductFields />
        {existing && <DuplicateProduct existing={existing} />}
        <ErrorNotice problem={problem} />
        <Space style={{ marginTop: 16 }}>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            {t("common.save")}
          </Button>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Drawer>
  );
}

export default function Products() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [typed, setTyped] = useState("");
  const query = useDeferredValue(typed.trim());
  const [status, setStatus] = useState<ProductStatusFilter>("active");
  const [categoryId, setCategoryId] = useState("");
  const [creating, setCreating] = useState(false);
  const categories = useCategories();
  const money = useMoney();
  const filter = productFilter(status);
  const list = useInfiniteQuery({
    queryKey: ["products", query, filter, categoryId],
    queryFn: ({ pageParam, signal }) => warehouse.listProducts({ query, filter, categoryId, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const exporting = useMutation({ mutationFn: () => downloadProducts({ query, filter, categoryId }) });
  const rows = list.data?.pages.flatMap((p) => p.products) ?? [];
  const categoryPath = new Map((categories.data?.categories ?? []).map((c) => [c.id, c.pathName || c.name]));
  return (
    <>
      <Typography.Title level={2}>{t("menu.products")}</Typography.Title>
      <div style={{ display: "flex", gap: 16, alignItems: "flex-start", flexWrap: "wrap" }}>
        <CategoryPanel selected={categoryId} onSelect={setCategoryId} />
        <div style={{ flex: 1, minWidth: 480 }}>
          <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
            <Space wrap>
              <Input.Search
                id="product-search"
                placeholder={t("catalog.products.search")}
                aria-label={t("catalog.products.search")}
                allowClear
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                style={{ width: 380, maxWidth: "100%" }}
              />
              <Select<ProductStatusFilter>
                id="product-status"
                aria-label={t("catalog.products.status")}
                value={status}
                onChange={setStatus}
                style={{ width: 160 }}
                options={[
                  { value: "active", label: t("catalog.status.active") },
                  { value: "discontinued", label: t("catalog.status.discontinued") },
                  { value: "", label: t("catalog.status.any") },
                ]}
              />
            </Space>
            <Space wrap>
              <Button id="product-export" loading={exporting.isPending} onClick={() => exporting.mutate()}>
                {t("productcsv.export")}
              </Button>
              {allows(session(), "warehouse.catalog.write") && (
                <Button id="product-import" onClick={() => navigate("/products/import")}>
                  {t("productcsv.import")}
                </Button>
              )}
              {allows(session(), "warehouse.catalog.write") && (
                <Button type="primary" onClick={() => setCreating(true)}>
                  {t("catalog.products.new")}
                </Button>
              )}
            </Space>
          </Space>
          <ErrorNotice problem={exporting.error ? problemFromError(exporting.error) : null} />
          <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
          <Table<ProductMessage>
            rowKey="id"
            loading={list.isFetching && !list.isFetchingNextPage}
            dataSource={rows}
            pagination={false}
            scroll={{ x: true }}
            locale={{ emptyText: <Typography.Text type="secondary">{t("catalog.products.empty")}</Typography.Text> }}
            columns={[
              { title: t("catalog.product.code"), key: "code", render: (_, p) => <Link to={`/products/${p.id}`} style={{ whiteSpace: "nowrap" }}>{p.code}</Link> },
              { title: t("catalog.product.name"), dataIndex: "name" },
              { title: t("catalog.product.specification"), dataIndex: "specification" },
              { title: t("catalog.product.unit"), dataIndex: "unit" },
              { title: t("catalog.product.category"), key: "category", render: (_, p) => (p.categoryId ? categoryPath.get(p.categoryId) ?? "" : "") },
              { title: t("catalog.product.brand"), dataIndex: "brand" },
              { title: t("catalog.product.salePrice"), key: "salePrice", align: "right", render: (_, p) => money(p.salePrice) },
              { title: t("catalog.product.standardCost"), key: "standardCost", align: "right", render: (_, p) => money(p.standardCost) },
              { title: t("catalog.products.status"), key: "status", render: (_, p) => <ProductStatusTag product={p} /> },
            ]}
          />
          {list.hasNextPage && (
            <div style={{ textAlign: "center", marginTop: 16 }}>
              <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                {t("common.more")}
              </Button>
            </div>
          )}
        </div>
      </div>
      <NewProduct open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
