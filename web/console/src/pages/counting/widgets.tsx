// What the stocktake and loan screens share: a stocktake's status as a tag, and a picker of
// several products searched as one types (ListProducts' `query`: code, name, specification or
// barcode), which keeps the labels of those already chosen.

import { useMemo, useState } from "react";
import { Select, Tag } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { warehouse } from "../../api/client";
import { StocktakeStatus, type Product } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { productLabel } from "../stock/shared";
import { stocktakeStatusKey } from "./logic";

const STATUS_COLORS: Record<number, string> = {
  [StocktakeStatus.COUNTING]: "gold",
  [StocktakeStatus.POSTED]: "green",
  [StocktakeStatus.CANCELLED]: "default",
};

export function StocktakeStatusTag({ status }: { status: StocktakeStatus }) {
  const { t } = useI18n();
  return (
    <Tag color={STATUS_COLORS[status]} data-testid="stocktake-status">
      {t(stocktakeStatusKey(status))}
    </Tag>
  );
}

/** Choose several products by searching for them. */
export function ProductsSelect({ id, value, onChange, ariaLabel }: { id?: string; value?: string[]; onChange?: (ids: string[]) => void; ariaLabel: string }) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const [known, setKnown] = useState<Map<string, Product>>(new Map());
  const found = useQuery({
    queryKey: ["products", "pick", query],
    queryFn: ({ signal }) => warehouse.listProducts({ query, pageSize: 20 }, { signal }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const products = found.data?.products;
  const options = useMemo(() => {
    const list = (products ?? []).map((p) => ({ value: p.id, label: productLabel(p) }));
    for (const id of value ?? []) {
      const p = known.get(id);
      if (p && !list.some((o) => o.value === id)) list.unshift({ value: id, label: productLabel(p) });
    }
    return list;
  }, [products, known, value]);
  return (
    <Select
      id={id}
      mode="multiple"
      aria-label={ariaLabel}
      showSearch
      filterOption={false}
      onSearch={setQuery}
      loading={found.isFetching}
      value={value ?? []}
      placeholder={t("counting.new.productsPlaceholder")}
      notFoundContent={t("counting.new.noProducts")}
      onChange={(ids: string[]) => {
        const next = new Map(known);
        for (const p of products ?? []) if (ids.includes(p.id)) next.set(p.id, p);
        setKnown(next);
        onChange?.(ids);
      }}
      options={options}
      style={{ width: "100%" }}
    />
  );
}
