// One price list: its fields, changed against its etag (only what changed is sent; a change made
// meanwhile is refused and the list reloaded), and its prices by product code: a product added
// with its price, a price changed in its row, a product removed. Those without the right to set
// prices see the same, read only.

import { useEffect, useState } from "react";
import { Button, Card, Descriptions, Form, Input, Popconfirm, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import { PriceListKind, type Price, type PriceList as PriceListMessage, type Product } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { useMoney } from "./catalog/widgets";
import { useDictionary } from "./customer/catalog";
import { newRequestId } from "./pool/importing";
import { isPrice, updateRequest, validity, valuesOf, type PriceListValues } from "./pricing/logic";
import { NEW_PRICE_LIST, PriceListFields } from "./pricing/PriceListFields";
import { KindTag, StatusTag, useCustomers } from "./pricing/widgets";
import { ProductPicker } from "./stock/shared";

const PAGE_SIZE = 100;

function Details({ list, canWrite }: { list: PriceListMessage; canWrite: boolean }) {
  const { t } = useI18n();
  const [form] = Form.useForm<PriceListValues>();
  const queryClient = useQueryClient();
  const levels = useDictionary("level");
  const customers = useCustomers(list.customerIds);
  useEffect(() => form.setFieldsValue(valuesOf(list)), [form, list]);
  const save = useMutation({
    mutationFn: async (v: PriceListValues) => {
      const request = updateRequest(list, { ...NEW_PRICE_LIST, ...v });
      if (!request) return list;
      return (await warehouse.updatePriceList(request)).priceList;
    },
    onSuccess: (saved) => {
      if (saved) queryClient.setQueryData(["priceList", list.id], { priceList: saved });
      void queryClient.invalidateQueries({ queryKey: ["priceLists"] });
    },
    onError: () => void queryClient.invalidateQueries({ queryKey: ["priceList", list.id] }),
  });
  if (!canWrite) {
    return (
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }}>
        <Descriptions.Item label={t("pricing.list.kind")}>
          <KindTag kind={list.kind} />
        </Descriptions.Item>
        <Descriptions.Item label={list.kind === PriceListKind.LEVEL ? t("pricing.list.level") : t("pricing.list.customers")}>
          {list.kind === PriceListKind.LEVEL ? levels.nameOf(list.customerLevel) : list.customerIds.map((id) => customers.get(id)?.name ?? id).join(", ")}
        </Descriptions.Item>
        <Descriptions.Item label={t("pricing.list.validity")}>{validity(list, t("pricing.list.open"))}</Descriptions.Item>
        <Descriptions.Item label={t("pricing.list.status")}>
          <StatusTag status={list.status} />
        </Descriptions.Item>
        <Descriptions.Item label={t("pricing.list.remark")}>{list.remark}</Descriptions.Item>
      </Descriptions>
    );
  }
  return (
    <Form<PriceListValues> form={form} name="price-list" layout="vertical" initialValues={valuesOf(list)} onFinish={(v) => save.mutate(v)} style={{ maxWidth: 640 }}>
      <PriceListFields kindFixed />
      <ErrorNotice problem={save.error ? problemFromError(save.error) : null} />
      <Space>
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          {t("common.save")}
        </Button>
        {save.isSuccess && <Typography.Text type="success" id="price-list-saved">{t("common.saved")}</Typography.Text>}
      </Space>
    </Form>
  );
}

function PriceCell({ price, onSave, saving, canWrite }: { price: Price; onSave: (amount: string) => void; saving: boolean; canWrite: boolean }) {
  const { t } = useI18n();
  const money = useMoney();
  const [editing, setEditing] = useState<string | null>(null);
  if (editing === null) {
    return (
      <Space>
        <span>{money(price.price)}</span>
        {canWrite && (
          <Button size="small" type="link" aria-label={t("pricing.prices.editOf", { code: price.productCode })} onClick={() => setEditing(price.price?.amount ?? "")}>
            {t("common.edit")}
          </Button>
        )}
      </Space>
    );
  }
  const ok = isPrice(editing);
  return (
    <Space>
      <Input
        size="small"
        aria-label={t("pricing.prices.priceOf", { code: price.productCode })}
        value={editing}
        status={ok ? undefined : "error"}
        onChange={(e) => setEditing(e.target.value)}
        onPressEnter={() => ok && (onSave(editing.trim()), setEditing(null))}
        style={{ width: 120 }}
        autoFocus
      />
      <Button
        size="small"
        type="primary"
        loading={saving}
        disabled={!ok}
        onClick={() => {
          onSave(editing.trim());
          setEditing(null);
        }}
      >
        {t("common.save")}
      </Button>
      <Button size="small" onClick={() => setEditing(null)}>
        {t("common.cancel")}
      </Button>
    </Space>
  );
}

function Prices({ list, canWrite }: { list: PriceListMessage; canWrite: boolean }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [productId, setProductId] = useState("");
  const [product, setProduct] = useState<Product | undefined>();
  const [amount, setAmount] = useState("");
  const prices = useInfiniteQuery({
    queryKey: ["prices", list.id],
    queryFn: ({ pageParam, signal }) => warehouse.listPrices({ priceListId: list.id, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const set = useMutation({
    mutationFn: (change: { prices?: { productId: string; amount: string }[]; remove?: string[] }) =>
      warehouse.setPrices({
        priceListId: list.id,
        prices: (change.prices ?? []).map((p) => ({ productId: p.productId, price: { currencyCode: "", amount: p.amount } })),
        removeProductIds: change.remove ?? [],
        requestId: newRequestId(),
      }),
    onSuccess: (answer) => {
      if (answer.priceList) queryClient.setQueryData(["priceList", list.id], { priceList: answer.priceList });
      void queryClient.invalidateQueries({ queryKey: ["prices", list.id] });
      void queryClient.invalidateQueries({ queryKey: ["priceLists"] });
    },
  });
  const rows = prices.data?.pages.flatMap((p) => p.prices) ?? [];
  const priceOk = isPrice(amount);
  return (
    <>
      {canWrite && (
        <Space wrap style={{ marginBottom: 16 }}>
          <ProductPicker id="price-product" ariaLabel={t("pricing.prices.product")} value={productId} onChange={setProductId} onProduct={setProduct} known={product} style={{ width: 360 }} />
          <Input
            id="price-amount"
            aria-label={t("pricing.prices.price")}
            placeholder={t("pricing.prices.price")}
            value={amount}
            status={amount && !priceOk ? "error" : undefined}
            onChange={(e) => setAmount(e.target.value)}
            style={{ width: 140 }}
          />
          <Button
            id="price-add"
            type="primary"
            disabled={!productId || !priceOk}
            loading={set.isPending}
            onClick={() =>
              set.mutate(
                { prices: [{ productId, amount: amount.trim() }] },
                {
                  onSuccess: () => {
                    setProductId("");
                    setProduct(undefined);
                    setAmount("");
                  },
                },
              )
            }
          >
            {t("pricing.prices.add")}
          </Button>
        </Space>
      )}
      <ErrorNotice problem={set.error ? problemFromError(set.error) : prices.error ? problemFromError(prices.error) : null} />
      <Table<Price>
        id="prices"
        rowKey="productId"
        size="middle"
        loading={prices.isFetching && !prices.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <Typography.Text type="secondary">{t("pricing.prices.empty")}</Typography.Text> }}
        columns={[
          { title: t("catalog.product.code"), key: "code", render: (_, p) => <Link to={`/products/${p.productId}`}>{p.productCode}</Link> },
          { title: t("catalog.product.name"), dataIndex: "productName" },
          {
            title: t("pricing.prices.price"),
            key: "price",
            render: (_, p) => <PriceCell price={p} canWrite={canWrite} saving={set.isPending} onSave={(a) => set.mutate({ prices: [{ productId: p.productId, amount: a }] })} />,
          },
          ...(canWrite
            ? [
                {
                  title: t("pricing.prices.actions"),
                  key: "remove",
                  render: (_: unknown, p: Price) => (
                    <Popconfirm title={t("pricing.prices.removeConfirm", { code: p.productCode })} okText={t("pricing.prices.remove")} cancelText={t("common.cancel")} onConfirm={() => set.mutate({ remove: [p.productId] })}>
                      <Button size="small" danger aria-label={t("pricing.prices.removeOf", { code: p.productCode })}>
                        {t("pricing.prices.remove")}
                      </Button>
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
      {prices.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void prices.fetchNextPage()} loading={prices.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
    </>
  );
}

export default function PriceList() {
  const { t } = useI18n();
  const { priceListId = "" } = useParams();
  const canWrite = allows(session(), "warehouse.price.write");
  const got = useQuery({
    queryKey: ["priceList", priceListId],
    queryFn: ({ signal }) => warehouse.getPriceList({ id: priceListId }, { signal }),
  });
  const list = got.data?.priceList;
  return (
    <>
      <Space style={{ marginBottom: 8 }}>
        <Link to="/price-lists">{t("pricing.lists.back")}</Link>
      </Space>
      <Typography.Title level={2}>
        <Space>
          {list?.name ?? t("menu.priceLists")}
          {list && <KindTag kind={list.kind} />}
          {list && <StatusTag status={list.status} />}
        </Space>
      </Typography.Title>
      <ErrorNotice problem={got.error ? problemFromError(got.error) : null} />
      {list && (
        <>
          <Card title={t("pricing.list.details")} style={{ marginBottom: 24 }}>
            <Details list={list} canWrite={canWrite} />
          </Card>
          <Card title={t("pricing.prices.title")}>
            <Prices list={list} canWrite={canWrite} />
          </Card>
        </>
      )}
    </>
  );
}
