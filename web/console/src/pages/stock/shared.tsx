// What the stock screens share: the warehouses in scope (one cached read), products by id (read
// one by one, cached), the product picker (searched as one types over code, name, specification
// or barcode), the serial numbers input (typed, scanned or pasted), and the formats of
// quantities and money for the current language.

import { useMemo, useState } from "react";
import { Select, Tag } from "antd";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { warehouse } from "../../api/client";
import type { Money } from "../../gen/crm/common/v1/common_pb.js";
import { DocumentStatus, type Product, type Warehouse } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { formatMoney, formatTime } from "../../i18n/locale";
import { cleanSerials, formatQuantity, statusKey } from "./logic";

/** Every warehouse in the caller's scope, by code. */
export function useWarehouses() {
  const list = useQuery({
    queryKey: ["warehouses", "all"],
    queryFn: async ({ signal }) => {
      const all: Warehouse[] = [];
      let pageToken = "";
      do {
        const page = await warehouse.listWarehouses({ pageSize: 200, pageToken }, { signal });
        all.push(...page.warehouses);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return all;
    },
    staleTime: 60_000,
  });
  const all = list.data ?? [];
  const byId = new Map(all.map((w) => [w.id, w]));
  return {
    list,
    all,
    nameOf: (id: string) => {
      const w = byId.get(id);
      return w ? `${w.code} ${w.name}` : id;
    },
    options: all.map((w) => ({ value: w.id, label: `${w.code} ${w.name}` })),
  };
}

/** The products with these ids (read one by one, each cached), by id. */
export function useProducts(ids: string[]): Map<string, Product> {
  const unique = [...new Set(ids.filter(Boolean))];
  const answers = useQueries({
    queries: unique.map((id) => ({
      queryKey: ["product", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => warehouse.getProduct({ id }, { signal }),
      staleTime: 5 * 60_000,
    })),
  });
  const byId = new Map<string, Product>();
  for (const a of answers) if (a.data?.product) byId.set(a.data.product.id, a.data.product);
  return byId;
}

export const productLabel = (p: Product | undefined, id = "") => (p ? `${p.code} ${p.name}${p.specification ? ` (${p.specification})` : ""}` : id);

/** Choose a product by searching ListProducts' `query`; `onProduct` hands over the product chosen. */
export function ProductPicker({
  id,
  value,
  onChange,
  onProduct,
  ariaLabel,
  known,
  allowClear,
  style,
}: {
  id?: string;
  value?: string;
  onChange?: (id: string) => void;
  onProduct?: (product: Product | undefined) => void;
  ariaLabel: string;
  /** The product already chosen (its label shown before any search). */
  known?: Product;
  allowClear?: boolean;
  style?: React.CSSProperties;
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
  const options = useMemo(() => {
    const list = products.map((p) => ({ value: p.id, label: productLabel(p) }));
    if (known && !list.some((o) => o.value === known.id)) list.unshift({ value: known.id, label: productLabel(known) });
    return list;
  }, [products, known]);
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      showSearch
      allowClear={allowClear}
      filterOption={false}
      onSearch={setQuery}
      loading={found.isFetching}
      value={value || undefined}
      placeholder={t("stock.product.search")}
      notFoundContent={t("stock.product.none")}
      onChange={(v?: string) => {
        onChange?.(v ?? "");
        onProduct?.(products.find((p) => p.id === v) ?? (known?.id === v ? known : undefined));
      }}
      options={options}
      style={{ minWidth: 240, ...style }}
    />
  );
}

/**
 * Serial numbers, one per unit: typed (Enter or a space ends one), scanned (a scanner types and
 * presses Enter) or pasted as a list split by commas, spaces or new lines; repeats are dropped.
 * With `choices`, only those may be picked (the units still out on a loan).
 */
export function SerialNumbersInput({
  id,
  value,
  onChange,
  ariaLabel,
  placeholder,
  choices,
  status,
}: {
  id?: string;
  value?: string[];
  onChange?: (serials: string[]) => void;
  ariaLabel: string;
  placeholder?: string;
  choices?: string[];
  status?: "error" | "warning";
}) {
  const { t } = useI18n();
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      mode={choices ? "multiple" : "tags"}
      tokenSeparators={choices ? undefined : [",", " ", "\n", "\r", "\t", ";"]}
      value={value ?? []}
      onChange={(v: string[]) => onChange?.(cleanSerials(v))}
      options={(choices ?? []).map((s) => ({ value: s, label: s }))}
      open={choices ? undefined : false}
      placeholder={placeholder ?? t("serials.input.placeholder")}
      notFoundContent={null}
      allowClear
      status={status}
      style={{ width: "100%" }}
    />
  );
}

export function useFormats() {
  const { language } = useI18n();
  return useMemo(
    () => ({
      qty: (q: string) => formatQuantity(language, q),
      money: (m: Money | undefined) => (m && m.currencyCode ? formatMoney(language, m.amount || "0", m.currencyCode) : ""),
      time: (at: Timestamp | undefined) => (at ? formatTime(language, timestampDate(at)) : ""),
    }),
    [language],
  );
}

const STATUS_COLORS: Record<number, string> = {
  [DocumentStatus.DRAFT]: "default",
  [DocumentStatus.IN_TRANSIT]: "gold",
  [DocumentStatus.POSTED]: "green",
  [DocumentStatus.CANCELLED]: "red",
};

export function DocumentStatusTag({ status }: { status: DocumentStatus }) {
  const { t } = useI18n();
  return <Tag color={STATUS_COLORS[status]}>{t(statusKey(status))}</Tag>;
}
