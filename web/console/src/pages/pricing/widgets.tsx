// What the price list screens share: customers by id (read one by one, cached), the customer
// picker (searched as one types, one or several), the products picker (several, searched over
// code, name, specification or barcode), a list's kind and status as tags, and the level names.

import { useMemo, useState } from "react";
import { Select, Tag } from "antd";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { customers, warehouse } from "../../api/client";
import type { Customer } from "../../gen/crm/customers/v1/customers_pb.js";
import type { Product } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { PriceListKind, PriceListStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { productLabel } from "../stock/shared";

/** The customers with these ids (read one by one, each cached), by id. */
export function useCustomers(ids: string[]): Map<string, Customer> {
  const unique = [...new Set(ids.filter(Boolean))];
  const answers = useQueries({
    queries: unique.map((id) => ({
      queryKey: ["customer", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => customers.getCustomer({ id }, { signal }),
      staleTime: 5 * 60_000,
    })),
  });
  const byId = new Map<string, Customer>();
  for (const a of answers) if (a.data?.customer) byId.set(a.data.customer.id, a.data.customer);
  return byId;
}

function useCustomerSearch(query: string) {
  return useQuery({
    queryKey: ["customers", "pick", query],
    queryFn: ({ signal }) => customers.listCustomers({ query, pageSize: 20 }, { signal }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

/** One customer, searched by name as one types; `onCustomer` hands over the customer chosen. */
export function CustomerPicker({
  id,
  value,
  onChange,
  onCustomer,
  ariaLabel,
}: {
  id?: string;
  value?: string;
  onChange?: (id: string) => void;
  onCustomer?: (customer: Customer | undefined) => void;
  ariaLabel: string;
}) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const found = useCustomerSearch(query);
  const list = found.data?.customers ?? [];
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      showSearch
      allowClear
      filterOption={false}
      onSearch={setQuery}
      loading={found.isFetching}
      value={value || undefined}
      placeholder={t("pricing.customer.search")}
      notFoundContent={t("pricing.customer.none")}
      onChange={(v?: string) => {
        onChange?.(v ?? "");
        onCustomer?.(list.find((c) => c.id === v));
      }}
      options={list.map((c) => ({ value: c.id, label: c.name }))}
      style={{ minWidth: 280 }}
    />
  );
}

/** Several customers, searched by name as one types (the ones chosen keep their names). */
export function CustomersPicker({
  id,
  value,
  onChange,
  ariaLabel,
}: {
  id?: string;
  value?: string[];
  onChange?: (ids: string[]) => void;
  ariaLabel: string;
}) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const found = useCustomerSearch(query);
  const chosen = useCustomers(value ?? []);
  const options = useMemo(() => {
    const list = (found.data?.customers ?? []).map((c) => ({ value: c.id, label: c.name }));
    for (const id of value ?? []) if (!list.some((o) => o.value === id)) list.push({ value: id, label: chosen.get(id)?.name ?? id });
    return list;
  }, [found.data, value, chosen]);
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      mode="multiple"
      showSearch
      filterOption={false}
      onSearch={setQuery}
      loading={found.isFetching}
      value={value ?? []}
      placeholder={t("pricing.customer.search")}
      notFoundContent={t("pricing.customer.none")}
      onChange={(v: string[]) => {
        onChange?.(v);
        setQuery("");
      }}
      options={options}
      style={{ minWidth: 280 }}
    />
  );
}

/** Several products, searched as one types; `known` keeps the labels of those already chosen. */
export function ProductsPicker({
  id,
  value,
  onChange,
  known,
  ariaLabel,
}: {
  id?: string;
  value?: string[];
  onChange?: (ids: string[], products: Product[]) => void;
  known: Map<string, Product>;
  ariaLabel: string;
}) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const found = useQuery({
    queryKey: ["products", "pick", query],
    queryFn: ({ signal }) => warehouse.listProducts({ query, pageSize: 20 }, { signal }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const products = found.data?.products ?? [];
  const options = products.map((p) => ({ value: p.id, label: productLabel(p) }));
  for (const id of value ?? []) if (!options.some((o) => o.value === id)) options.push({ value: id, label: productLabel(known.get(id), id) });
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      mode="multiple"
      showSearch
      filterOption={false}
      onSearch={setQuery}
      loading={found.isFetching}
      value={value ?? []}
      placeholder={t("stock.product.search")}
      notFoundContent={t("stock.product.none")}
      onChange={(ids: string[]) => {
        const chosen = ids.map((i) => products.find((p) => p.id === i) ?? known.get(i)).filter((p): p is Product => !!p);
        onChange?.(ids, chosen);
        setQuery("");
      }}
      options={options}
      style={{ minWidth: 360 }}
    />
  );
}

export function KindTag({ kind }: { kind: PriceListKind }) {
  const { t } = useI18n();
  if (kind === PriceListKind.NAMED) return <Tag color="purple">{t("pricing.kind.named")}</Tag>;
  if (kind === PriceListKind.LEVEL) return <Tag color="blue">{t("pricing.kind.level")}</Tag>;
  return <Tag>{t("pricing.kind.default")}</Tag>;
}

export function StatusTag({ status }: { status: PriceListStatus }) {
  const { t } = useI18n();
  return status === PriceListStatus.INACTIVE ? <Tag>{t("pricing.status.inactive")}</Tag> : <Tag color="green">{t("pricing.status.active")}</Tag>;
}
