// The price list screens' rules: the list's filter from the chosen kind and status, a form's
// values as a PriceList and the update mask of what changed, and a list's validity as a range.

import type { PriceList } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { PriceListKind, PriceListStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";

/** The price list form's values (dates as YYYY-MM-DD, empty for none). */
export interface PriceListValues {
  name: string;
  kind: PriceListKind;
  customerLevel: string;
  customerIds: string[];
  validFrom: string;
  validUntil: string;
  status: PriceListStatus;
  remark: string;
}

export type KindFilter = "" | "level" | "named";
export type StatusFilter = "" | "active" | "inactive";

/** ListPriceLists' filter for a kind and a status ("" = any). */
export function priceListFilter(kind: KindFilter, status: StatusFilter): string {
  const terms: string[] = [];
  if (kind) terms.push(`kind = "${kind}"`);
  if (status) terms.push(`status = "${status}"`);
  return terms.join(" AND ");
}

/** A form's values as the PriceList fields the service reads: a level list names no customers, a named one no level. */
export function priceListOf(v: PriceListValues) {
  const level = v.kind === PriceListKind.LEVEL;
  return {
    name: v.name.trim(),
    kind: v.kind,
    customerLevel: level ? v.customerLevel : "",
    customerIds: level ? [] : [...v.customerIds],
    validFrom: v.validFrom,
    validUntil: v.validUntil,
    status: v.status || PriceListStatus.ACTIVE,
    remark: v.remark.trim(),
  };
}

/** The form's values of a price list. */
export function valuesOf(p: PriceList): PriceListValues {
  return {
    name: p.name,
    kind: p.kind,
    customerLevel: p.customerLevel,
    customerIds: [...p.customerIds],
    validFrom: p.validFrom,
    validUntil: p.validUntil,
    status: p.status,
    remark: p.remark,
  };
}

const MASK_FIELDS = {
  name: "name",
  customerLevel: "customer_level",
  customerIds: "customer_ids",
  validFrom: "valid_from",
  validUntil: "valid_until",
  status: "status",
  remark: "remark",
} as const;

/** UpdatePriceList's request for what changed (null when nothing did), against the list's etag. */
export function updateRequest(p: PriceList, v: PriceListValues) {
  const next = priceListOf({ ...v, kind: p.kind });
  const paths: string[] = [];
  for (const [field, path] of Object.entries(MASK_FIELDS) as [keyof typeof MASK_FIELDS, string][]) {
    const before = p[field];
    const after = next[field];
    const same = Array.isArray(before) && Array.isArray(after) ? before.join("\n") === after.join("\n") : before === after;
    if (!same) paths.push(path);
  }
  if (paths.length === 0) return null;
  return { priceList: { ...next, id: p.id, etag: p.etag }, updateMask: { paths } };
}

/** A list's validity: from and until ("" until: open-ended). */
export function validity(p: { validFrom: string; validUntil: string }, open: string): string {
  return `${p.validFrom || "…"} – ${p.validUntil || open}`;
}

/** Whether a decimal string is a price the service takes (digits, an optional '.' and decimals). */
export function isPrice(s: string): boolean {
  return /^\d+(\.\d+)?$/.test(s.trim());
}
