// What the report tabs share: the figures' formats for the current language, the period picker
// (dates as the contracts write them), and the display names of the groups a report returns
// (salespeople from the directory, customers read one by one, lead sources translated).

import { useMemo } from "react";
import { DatePicker, Form } from "antd";
import { useQueries } from "@tanstack/react-query";
import { customers } from "../../api/client";
import { useDirectory } from "../../api/directory";
import type { Money } from "../../gen/crm/common/v1/common_pb.js";
import type { DateRange } from "../../gen/crm/sales/v1/sales_pb.js";
import { useI18n } from "../../i18n";
import { formatMoney, formatNumber } from "../../i18n/locale";
import { sourceKey, type Formats } from "./figures";

export function useFormats(): Formats {
  const { t, language } = useI18n();
  return useMemo(
    () => ({
      t,
      money: (m: Money | undefined) => (m && m.currencyCode ? formatMoney(language, m.amount || "0", m.currencyCode) : ""),
      count: (n: bigint | number) => formatNumber(language, Number(n)),
    }),
    [t, language],
  );
}

/** A period as the contracts take it: `YYYY-MM-DD` both ends, empty ends open. */
export type Period = Pick<DateRange, "fromDate" | "toDate">;

export const ALL_TIME: Period = { fromDate: "", toDate: "" };

/** Picks a date range, both ends optional (`id` prefixes the two inputs' ids). */
export function PeriodPicker({ id, value, onChange }: { id: string; value: Period; onChange: (p: Period) => void }) {
  const { t } = useI18n();
  return (
    <>
      <Form.Item label={t("reports.from")} htmlFor={`${id}-from`} style={{ marginBottom: 0 }}>
        <DatePicker
          id={`${id}-from`}
          format="YYYY-MM-DD"
          onChange={(_, text) => onChange({ ...value, fromDate: typeof text === "string" ? text : "" })}
        />
      </Form.Item>
      <Form.Item label={t("reports.to")} htmlFor={`${id}-to`} style={{ marginBottom: 0 }}>
        <DatePicker
          id={`${id}-to`}
          format="YYYY-MM-DD"
          onChange={(_, text) => onChange({ ...value, toDate: typeof text === "string" ? text : "" })}
        />
      </Form.Item>
    </>
  );
}

/** Display names of salespeople (the directory). */
export function useEmployeeNames(): (id: string) => string {
  const directory = useDirectory();
  const { t } = useI18n();
  return (id: string) => (id ? (directory.get(id)?.displayName ?? id) : t("reports.unassigned"));
}

/** Display names of customers, each read once (cached); the id until it arrives. */
export function useCustomerNames(ids: string[]): (id: string) => string {
  const answers = useQueries({
    queries: ids.map((id) => ({
      queryKey: ["customer", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => customers.getCustomer({ id }, { signal }),
      staleTime: 5 * 60_000,
      enabled: !!id,
    })),
  });
  const names = new Map<string, string>();
  answers.forEach((a, i) => {
    const name = a.data?.customer?.name;
    if (name) names.set(ids[i], name);
  });
  return (id: string) => names.get(id) ?? id;
}

/** Lead sources by name, in the current language. */
export function useSourceNames(): (key: string) => string {
  const { t } = useI18n();
  return (key: string) => t(sourceKey(key));
}
