// The price check: what a customer pays for products on a day, and where each price comes from:
// a list naming the customer, else a list for the customer's level (read from the customer),
// else the product's default sale price.

import { useState } from "react";
import { DatePicker, Form, Space, Table, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import type { Dayjs } from "dayjs";
import { Link } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import type { CustomerPrice, Product } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { useMoney } from "./catalog/widgets";
import { useDictionary } from "./customer/catalog";
import { KindTag, CustomerPicker, ProductsPicker, useCustomers } from "./pricing/widgets";
import { productLabel } from "./stock/shared";

export default function PriceCheck() {
  const { t } = useI18n();
  const money = useMoney();
  const levels = useDictionary("level");
  const [customerId, setCustomerId] = useState("");
  const [day, setDay] = useState<Dayjs | null>(null);
  const [productIds, setProductIds] = useState<string[]>([]);
  const [known, setKnown] = useState<Map<string, Product>>(new Map());
  const customer = useCustomers([customerId]).get(customerId);
  const date = day ? day.format("YYYY-MM-DD") : "";
  const ready = !!customer && productIds.length > 0;
  const prices = useQuery({
    queryKey: ["customerPrices", customerId, customer?.levelCode ?? "", date, productIds],
    queryFn: ({ signal }) =>
      warehouse.getCustomerPrices({ customerId, customerLevel: customer?.levelCode ?? "", date, productIds }, { signal }),
    enabled: ready,
  });
  return (
    <>
      <Typography.Title level={2}>{t("menu.priceCheck")}</Typography.Title>
      <Form layout="vertical" style={{ maxWidth: 900 }}>
        <Space wrap align="start">
          <Form.Item label={t("pricing.check.customer")} htmlFor="check-customer">
            <CustomerPicker id="check-customer" ariaLabel={t("pricing.check.customer")} value={customerId} onChange={setCustomerId} />
          </Form.Item>
          <Form.Item label={t("pricing.check.date")} htmlFor="check-date" extra={t("pricing.check.dateHint")}>
            <DatePicker id="check-date" format="YYYY-MM-DD" value={day} onChange={setDay} />
          </Form.Item>
        </Space>
        {customer && (
          <Typography.Paragraph id="check-level">
            {t("pricing.check.level", { level: customer.levelCode ? levels.nameOf(customer.levelCode) : t("pricing.check.noLevel") })}
          </Typography.Paragraph>
        )}
        <Form.Item label={t("pricing.check.products")} htmlFor="check-products">
          <ProductsPicker
            id="check-products"
            ariaLabel={t("pricing.check.products")}
            value={productIds}
            known={known}
            onChange={(ids, products) => {
              setProductIds(ids);
              setKnown(new Map(products.map((p) => [p.id, p])));
            }}
          />
        </Form.Item>
      </Form>
      <ErrorNotice problem={prices.error ? problemFromError(prices.error) : null} />
      {prices.data?.date && <Typography.Paragraph type="secondary">{t("pricing.check.on", { date: prices.data.date })}</Typography.Paragraph>}
      <Table<CustomerPrice>
        id="check-prices"
        rowKey="productId"
        loading={prices.isFetching}
        dataSource={ready ? (prices.data?.prices ?? []) : []}
        pagination={false}
        locale={{ emptyText: <Typography.Text type="secondary">{t("pricing.check.empty")}</Typography.Text> }}
        columns={[
          { title: t("pricing.prices.product"), key: "product", render: (_, p) => productLabel(known.get(p.productId), p.productId) },
          { title: t("pricing.prices.price"), key: "price", align: "right", render: (_, p) => money(p.price) },
          {
            title: t("pricing.check.from"),
            key: "from",
            render: (_, p) =>
              p.priceListId ? (
                <Space>
                  <Link to={`/price-lists/${p.priceListId}`}>{p.priceListName}</Link>
                  <KindTag kind={p.kind} />
                </Space>
              ) : (
                <Tag>{t("pricing.check.default")}</Tag>
              ),
          },
        ]}
      />
    </>
  );
}
